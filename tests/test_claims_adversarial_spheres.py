"""The verdict rules of the adversarial-spheres chapter (papers/adversarial_spheres/claims.py), each
on an input that passes and one that fails, worked out by hand."""

import numpy as np
import pytest

from companion import profiles
from companion.papers.adversarial_spheres import claims


def test_judged_runs_by_profile():
    verdicts = {
        p: claims.judged_runs(profiles.settings("adversarial_spheres", p, {})) for p in ("ci", "quick", "paper")
    }
    assert verdicts == {"ci": (False, False, False), "quick": (True, False, False), "paper": (True, True, True)}


def test_trained_network_claims_need_the_papers_million_steps():
    assert claims.trained_as_long(1_000_000) and claims.trained_as_long(2_000_000)
    assert not claims.trained_as_long(10_000)  # the quick profile's ReLU network
    assert not claims.trained_as_long(999_999)


def test_judged_only_at_the_papers_dimension_with_enough_training():
    assert claims.judged(d=500, relu_steps=10000)
    assert claims.judged(d=500, relu_steps=1000000)
    assert not claims.judged(d=500, relu_steps=9999)  # too short
    assert not claims.judged(d=50, relu_steps=10000)  # not the paper's d
    # the profiles as they are: ci's tiny runs are not judged, quick and paper are
    settings = {p: profiles.settings("adversarial_spheres", p, {}) for p in ("ci", "quick", "paper")}
    verdicts = {p: claims.judged(d=s.d, relu_steps=s.relu_steps) for p, s in settings.items()}
    assert verdicts == {"ci": False, "quick": True, "paper": True}


def test_judged_takes_its_settings_by_keyword():
    with pytest.raises(TypeError):
        claims.judged(500, 10000)


def test_no_errors_on_either_sphere():
    clean = {"inner": {"errors": 0, "rate": 0.0}, "outer": {"errors": 0, "rate": 0.0}}
    assert claims.no_errors(clean)
    assert not claims.no_errors({**clean, "outer": {"errors": 1, "rate": 5e-8}})
    assert not claims.no_errors({**clean, "inner": {"errors": 20000, "rate": 1.0}})


def test_every_alpha_correct_on_the_interval_one_over_r_squared_to_one():
    # 1 / 1.3^2 = 0.5917...: both ends belong to the interval
    assert claims.every_alpha_correct([0.592, 0.8, 1.0])
    assert not claims.every_alpha_correct([0.591, 0.8, 1.0])  # one alpha below 1/R^2
    assert not claims.every_alpha_correct([0.6, 0.8, 1.001])  # one above 1
    assert not claims.every_alpha_correct([0.6, np.nan])  # an undefined alpha is not a correct one
    assert claims.every_alpha_correct([0.26, 1.0], r_outer=2.0)  # 1/R^2 = 0.25


def test_correct_alphas_mean_no_error_on_either_sphere():
    """What the rule stands for, by hand: with every alpha in [1/R^2, 1], sum alpha_i x_i^2 is at
    most 1 on the inner sphere and at least 1 on the outer one (radius R = 1.3); an alpha above 1
    misclassifies the inner sphere's point on that axis."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2000, 8))
    inner = z / np.linalg.norm(z, axis=1, keepdims=True)
    good = rng.uniform(1 / 1.3**2, 1.0, 8)
    assert claims.every_alpha_correct(good)
    assert np.all(inner**2 @ good <= 1) and np.all((1.3 * inner) ** 2 @ good >= 1)
    bad = np.array([0.7] * 7 + [1.1])
    assert not claims.every_alpha_correct(bad)
    assert np.eye(8)[7] ** 2 @ bad > 1  # e_8 lies on the inner sphere and is classified outer


def test_clt_rate_tiny_below_one_in_a_million():
    assert claims.clt_rate_tiny(1e-11)  # the paper's model
    assert claims.clt_rate_tiny(9.9e-7)
    assert not claims.clt_rate_tiny(1e-6)  # not below
    assert not claims.clt_rate_tiny(0.96)  # the ci run's fixed-set model
    assert not claims.clt_rate_tiny(float("nan"))
    assert claims.clt_rate_tiny(1e-3, below=1e-2)


def test_clt_agrees_within_three_standard_errors_plus_ten_percent():
    # n = 10,000 at 0.5: 3 s.e. = 3 * 0.005 = 0.015, plus 10% = 0.05: within 0.065
    assert claims.clt_agrees(0.56, 0.5, 10000)
    assert claims.clt_agrees(0.44, 0.5, 10000)
    assert not claims.clt_agrees(0.57, 0.5, 10000)
    assert not claims.clt_agrees(0.43, 0.5, 10000)


def test_errors_reappear_needs_all_three():
    assert claims.errors_reappear([0.0011, 0.0009], [0.001, 0.5], [0.0, 0.25])
    assert not claims.errors_reappear([0.0011, 0.0012], [0.001, 0.5], [0.0, 0.25])  # average rose
    assert not claims.errors_reappear([0.0011, 0.0009], [0.5, 0.001], [0.0, 0.25])  # worst case fell
    assert not claims.errors_reappear([0.0011, 0.0009], [0.001, 0.5], [0.0, 0.0])  # never fooled


def test_near_in_steps_within_a_factor_three_of_1000():
    assert claims.near_in_steps(1000) and claims.near_in_steps(334) and claims.near_in_steps(3000)
    assert not claims.near_in_steps(333) and not claims.near_in_steps(3001)
    assert not claims.near_in_steps(float("nan"))


def test_near_cap_median_in_the_band():
    assert claims.near_cap([0.2, 0.76, 3.0])  # median 0.76
    assert not claims.near_cap([0.2, 0.4, 3.0])  # median 0.4
    assert not claims.near_cap([1.3, 1.4])  # median 1.35
    assert not claims.near_cap([])  # no snapshot
