"""Each verdict rule of the claims added or reworked for the papers' own words, on inputs that make
it pass and inputs that make it fail (the rules, not the networks)."""

import numpy as np
import pytest

from companion.papers.adversarial_spheres import claims as spheres_claims
from companion.papers.adversarial_spheres import experiments
from companion.papers.boundary_tilting import claims as tilting_claims
from companion.papers.saturating_networks import claims as saturating_claims
from companion.papers.smooth_codes import claims as smooth_claims
from companion.papers.stabilized_gradients import claims as stabilized_claims
from companion.papers.synthesis import claims as synthesis_claims


@pytest.mark.parametrize(
    "errors, overfit_ok, high_wins",
    [
        ({"LeNet-low": (0.1, 1.6), "LeNet-high": (1.1, 1.2)}, True, True),  # the paper's picture
        ({"LeNet-low": (0.1, 1.6), "LeNet-high": (0.2, 1.2)}, False, True),  # high overfits by 1 point
        ({"LeNet-low": (1.5, 1.6), "LeNet-high": (1.0, 1.3)}, False, True),  # low's gap is the smaller
        ({"LeNet-low": (0.1, 1.2), "LeNet-high": (1.5, 1.6)}, True, False),  # high is the less accurate
    ],
)
def test_lenet_rules(errors, overfit_ok, high_wins):
    assert tilting_claims.less_overfitted(errors) is overfit_ok
    assert tilting_claims.high_beats_low(errors) is high_wins


@pytest.mark.parametrize(
    "success, steps, limit, passed",
    [
        ([True] * 5, [1, 2, 3, 2, 40], 10, True),  # median 2
        ([True] * 4, [12, 15, 9, 30], 10, False),  # median 13.5
        ([True, False, True], [1, 300, 1], 10, False),  # one pair not fooled
        ([], [], 10, False),  # nothing attacked
        ([True, True], [1, 2], 3, True),  # L-BFGS: "within 1-2 iterations"
    ],
)
def test_fooled_within(success, steps, limit, passed):
    assert saturating_claims.fooled_within(success, steps, limit) is passed


@pytest.mark.parametrize(
    "success, steps_run, expected",
    [
        ([False, False], 30_000_000, (True, True)),  # unfooled after as long a run as the paper's
        ([False, False], 3000, (True, False)),  # unfooled, but the run is too short to judge
        ([True, False], 3000, (False, True)),  # fooled sooner than the paper: contradicts it
    ],
)
def test_three_to_seven_rule(success, steps_run, expected):
    assert saturating_claims.still_unfooled(np.array(success), steps_run) == expected


@pytest.mark.parametrize(
    "passed, steps_run, judged", [(True, 1000, True), (True, 100, False), (False, 100, True), (False, 1000, True)]
)
def test_a_failing_attack_is_judged_only_at_the_papers_length(passed, steps_run, judged):
    assert saturating_claims.judged_at_length(passed, steps_run, paper_steps=1000) is judged


def test_near_paper_successes_is_the_rows_five_plus_or_minus_five():
    assert saturating_claims.near_paper_successes(10) and saturating_claims.near_paper_successes(0)
    assert not saturating_claims.near_paper_successes(11) and not saturating_claims.near_paper_successes(89)


@pytest.mark.parametrize(
    "with_, without, passed", [(0.050, 0.040, True), (0.120, 0.040, False), (float("nan"), 0.04, False)]
)
def test_jacobian_unrelated(with_, without, passed):
    assert smooth_claims.jacobian_unrelated(with_, without) is passed


def test_most_robust_cell():
    rows = [(0.0, 0.0, "-", 1.5, 0.02), (0.01, 0.0, "-", 1.4, 0.05), (0.0, 1.0, "frobenius", 1.3, 0.12)]
    assert smooth_claims.most_robust(rows) == (0.01, 0.0, "-")  # the Frobenius row is ours, left out
    rows.append((0.0, 1.0, "logit_column_sums", 1.3, 0.07))
    assert smooth_claims.most_robust(rows) == (0.0, 1.0, "logit_column_sums")


def test_orders_below_and_standard_model_steep():
    assert smooth_claims.orders_below(np.array([1e-5, 1e-6]), np.array([1e2, 1.0])) == pytest.approx(7)
    assert smooth_claims.standard_model_also_steep(1.9, 2.0, 1.2)  # most of the robust margin
    assert not smooth_claims.standard_model_also_steep(1.3, 2.0, 1.2)  # barely above the CNN
    assert not smooth_claims.standard_model_also_steep(1.9, 1.1, 1.2)  # the robust one is not steep


@pytest.mark.parametrize(
    "share, first, near",
    [([0, 0, 0.1, 0.3], 600.0, True), ([0, 0, 0, 0], float("nan"), False), ([0.2, 0.3, 0.3, 0.3], 200.0, False)],
)
def test_errors_reappear_after_about_1000_steps(share, first, near):
    steps = np.array([200, 400, 600, 800])
    assert (
        np.isnan(experiments.first_error_step(steps, share))
        if np.isnan(first)
        else experiments.first_error_step(steps, share) == first
    )
    assert spheres_claims.near_in_steps(experiments.first_error_step(steps, share)) is near


def test_logit_column_sums_penalize_what_softmax_column_sums_cannot():
    """The softmax's column sums vanish identically; the logits' do not, and equal the norm of the
    gradient of the summed logits (checked against a finite difference)."""
    import keras
    import tensorflow as tf

    from companion import models
    from companion.papers.smooth_codes import penalties

    keras.utils.set_random_seed(0)
    model = models.cifar_cnn()
    probe = keras.Model(model.input, [model.get_layer("penultimate").output, model.output])
    x = tf.random.uniform((4, 32, 32, 3), seed=1)
    _, softmax_term, _ = penalties.smoothness_penalties(model, probe, x, "column_sums")
    _, logit_term, _ = penalties.smoothness_penalties(model, probe, x, "logit_column_sums")
    assert float(softmax_term) < 1e-6 < float(logit_term)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(probe(x, training=True)[1], axis=1)
    g = tape.gradient(total, x)
    direction = tf.random.normal(x.shape, seed=2)
    direction /= tf.norm(direction)  # a step of 0.01 in all: few ReLU kinks crossed
    h = 1e-2
    f = lambda v: float(tf.reduce_sum(probe(v, training=True)[1]))  # noqa: E731
    finite = (f(x + h * direction) - f(x - h * direction)) / (2 * h)
    assert finite == pytest.approx(float(tf.reduce_sum(g * direction)), rel=1e-2, abs=1e-3)
    expected = float(tf.reduce_mean(tf.norm(tf.reshape(g, (4, -1)), axis=1)))
    assert float(logit_term) == pytest.approx(expected, rel=1e-4)


# --- the rules that were written inline in the chapters, now functions ---------------------------


@pytest.mark.parametrize(
    "rule, passes, fails",
    [
        (lambda a: tilting_claims.tilts_only_when_weak(*a), ([78, 75], [1, 1]), ([78, 40], [1, 1])),
        (lambda a: tilting_claims.tilts_only_when_weak(*a), ([78, 75], [1, 1]), ([78, 75], [1, 50])),
        (tilting_claims.trend_on_every_pair, [0.95, 0.9], [0.95, 0.7]),
        (tilting_claims.trend_on_every_pair, [0.95], []),
        (tilting_claims.minimum_inside, [3.0, 1.0, 2.0], [1.0, 1.0, 2.0]),
        (tilting_claims.larger_perturbations, 1.3, 0.9),
        (tilting_claims.larger_perturbations, 1.3, float("nan")),
        (lambda a: saturating_claims.higher_in_every_layer(*a), ([5, 6, 7], [1, 2, 3]), ([5, 1, 7], [1, 2, 3])),
        (lambda a: saturating_claims.fewer_directions(*a), ([1, 1, 2], [3, 4, 2]), ([3, 3], [2, 3])),
        (saturating_claims.always_fooled, [1.0, 1.0], [1.0, 0.99]),
        (saturating_claims.mostly_unfooled, 0.2, 0.6),
        (stabilized_claims.gradient_mostly_zero, [0.1, 0.8], [0.1, 0.4]),
        (lambda a: stabilized_claims.below_paper_figure(*a), (80.0, 94.43), (92.0, 94.43)),
        (stabilized_claims.all_fall_to_zero, [0.0, 0.03], [0.0, 0.3]),
        (lambda a: spheres_claims.clt_agrees(*a), (0.10, 0.101, 100000), (0.10, 0.2, 100000)),
        (lambda a: spheres_claims.errors_reappear(*a), ([1, 0.5], [1, 2], [0, 0.1]), ([1, 0.5], [1, 0.9], [0, 0.1])),
        (lambda a: spheres_claims.errors_reappear(*a), ([1, 0.5], [1, 2], [0, 0.1]), ([1, 0.5], [1, 2], [0, 0])),
        (spheres_claims.near_cap, [0.8, 0.9, 1.3], [2.0, 2.5]),
        (spheres_claims.near_cap, [0.8, 0.9, 1.3], []),
        (lambda a: smooth_claims.rises(*a), (1.03, 1.5), (1.5, 1.03)),
        (lambda a: smooth_claims.within_spread(*a), ([1.21, 1.2, 1.2], 0.3), ([1.2, 1.6], 0.3)),
        (smooth_claims.identical_and_above_one, [1.50, 1.52, 1.49, 1.51], [1.50, 1.52, 1.49, 1.70]),
        (smooth_claims.identical_and_above_one, [1.50, 1.52, 1.49, 1.51], [0.90, 0.92, 0.91, 0.93]),
        (smooth_claims.differ, [1.8, 1.95, 2.1], [1.8, 1.85, 1.9]),
        (lambda a: smooth_claims.tells_apart_more(*a), (0.3, 0.1), (0.1, 0.3)),
        (lambda a: synthesis_claims.prediction_holds(*a), (-0.7, -1), (0.7, -1)),
        (lambda a: synthesis_claims.prediction_holds(*a), (0.6, +1), (0.4, +1)),
        (lambda a: synthesis_claims.prediction_holds(*a), (0.6, +1), (float("nan"), +1)),
        (synthesis_claims.rises_everywhere, [0.1, 0.2, 0.05], [0.1, -0.2, 0.05]),
    ],
)
def test_each_rule_passes_and_fails(rule, passes, fails):
    assert rule(passes) is True
    assert rule(fails) is False


def test_collapse_needs_its_premise():
    assert stabilized_claims.robustness_collapses(20.0, 90.0) == (True, True)
    assert stabilized_claims.robustness_collapses(80.0, 90.0) == (False, True)
    assert stabilized_claims.robustness_collapses(2.0, 5.0)[1] is False  # nothing to break: premise absent


def test_layer_rules_reject_mismatched_layers():
    with pytest.raises(ValueError, match="as many"):
        saturating_claims.higher_in_every_layer([1, 2], [1])


def test_jacobian_comparison_one_cell_and_a_grid():
    one = [
        (0.0, 0.0, "-", 1.3, 0.05),
        (0.0, 1.0, "frobenius", 1.3, 0.03),
        (0.0, 1.0, "column_sums", 1.3, 0.05),
        (0.0, 1.0, "logit_column_sums", 1.3, 0.05),
    ]
    text, pairs = smooth_claims.jacobian_comparison(one)
    assert text == "frobenius 3.0%; column_sums 5.0%; logit_column_sums 5.0% vs 5.0% without"
    assert pairs == [(0.05, 0.05)]
    grid = one + [
        (0.01, 0.0, "-", 1.2, 0.04),
        (0.01, 3.0, "logit_column_sums", 1.2, 0.10),
        (0.0, 3.0, "logit_column_sums", 1.2, 0.06),
    ]
    text, pairs = smooth_claims.jacobian_comparison(grid)
    assert sorted(pairs) == [(0.05, 0.05), (0.06, 0.05), (0.10, 0.04)]  # every cell, none overwritten
    assert "logit_column_sums 6.0 points over 3 cells" in text
    assert not all(smooth_claims.jacobian_unrelated(*p) for p in pairs)  # the 6-point cell fails
