import numpy as np
import pytest
from scipy import stats

from companion import spheres


def test_samples_lie_on_the_sphere_and_are_uniform():
    rng = np.random.default_rng(0)
    x = spheres.sample(20000, 5, 1.3, rng)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.3)
    # a coordinate of a uniform point on S^{d-1}: x_1^2 / r^2 ~ Beta(1/2, (d-1)/2)
    assert stats.kstest((x[:, 0] / 1.3) ** 2, stats.beta(0.5, 2.0).cdf).pvalue > 0.01
    xs, ys = spheres.labelled_sample(1000, 7, rng)
    np.testing.assert_allclose(np.linalg.norm(xs, axis=1), np.where(ys == 1, 1.3, 1.0), rtol=1e-6)


def test_clt_error_rate_matches_monte_carlo_where_measurable():
    rng = np.random.default_rng(1)
    d = 500
    alphas = rng.normal(0.99, 0.2, size=d)  # mean inside [1/R^2, 1], many alphas outside
    predicted = spheres.clt_error_rate(alphas)
    measured = spheres.monte_carlo_error_rate(alphas, 200000, rng)
    assert 1e-3 < measured < 0.5  # about a thousand errors: a 3% statistical error
    assert predicted == pytest.approx(measured, rel=0.15)
    assert spheres.clt_error_rate(np.full(d, 0.9)) < 1e-40  # perfect alphas: a vanishing estimate


def test_cap_threshold_gives_the_measure():
    rng = np.random.default_rng(2)
    t = spheres.cap_threshold(0.1, 10)
    x = spheres.sample(200000, 10, 1.0, rng)
    assert np.mean(x[:, 0] >= t) == pytest.approx(0.1, abs=0.003)


def test_cap_distance_against_brute_force_nearest_points_in_3d():
    rng = np.random.default_rng(3)
    t = spheres.cap_threshold(0.2, 3)
    cap = spheres.sample(200000, 3, 1.0, rng)
    cap = cap[cap[:, 0] >= t]  # about 40,000 points of the cap
    points = spheres.sample(3000, 3, 1.0, rng)  # standard error of the mean about 0.01
    nearest = np.array([np.sqrt(np.min(2 - 2 * cap @ p)) for p in points])
    assert spheres.cap_distance(0.2, 3) == pytest.approx(nearest.mean(), abs=0.03)


def test_cap_distance_approaches_the_gaussian_estimate_in_high_dimension():
    """For large d, x_1 ~ N(0, 1/d) and the distance to the cap is about max(t - x_1, 0)."""
    d, p = 2000, 1e-3
    t = stats.norm.isf(p) / np.sqrt(d)
    gaussian = stats.norm.expect(lambda u: max(t - u, 0.0), scale=1 / np.sqrt(d))
    assert spheres.cap_distance(p, d) == pytest.approx(gaussian, rel=0.05)


def test_fraction_needed_falls_with_dimension():
    fractions = [spheres.fraction_needed(1e-14, d) for d in (500, 1000, 3000, 5000)]
    assert fractions == sorted(fractions, reverse=True) and fractions[-1] < fractions[0]
    with pytest.raises(ValueError):
        spheres.sample(3, 0, 1.0, np.random.default_rng(0))
