"""Attacks against analytic answers on a linear softmax model."""

import numpy as np
import pytest
from linear_models_tf import linear_model
from scipy.special import softmax

from companion import attacks


def test_temperature_gives_the_requested_median():
    logits = np.random.default_rng(0).normal(scale=4, size=(501, 10))
    t = attacks.temperature_for_median_confidence(logits, 0.95)
    top = softmax(logits / t, axis=1).max(axis=1)
    assert np.median(top) == pytest.approx(0.95, abs=1e-8)
    with pytest.raises(ValueError, match="median"):
        attacks.temperature_for_median_confidence(logits, 0.05)


def test_one_step_matches_the_analytic_gradient():
    rng = np.random.default_rng(1)
    W, c = rng.normal(size=(5, 3)), rng.normal(size=3)
    x = rng.uniform(0.2, 0.8, size=(4, 5))
    target = np.array([0, 1, 2, 0])
    t = 2.0
    found = attacks.targeted_gradient_ascent(
        linear_model(W, c), x, target, temperature=t, step=0.01, p_stop=0.999, max_steps=1, bounds=(0, 1)
    )
    x1, steps = found.x, found.steps
    p = softmax((x @ W + c) / t, axis=1)
    grad = (W[:, target].T - p @ W.T) / t  # d log p_l / dx for a linear softmax
    expected = np.clip(x + 0.01 * grad / np.linalg.norm(grad, axis=1, keepdims=True), 0, 1)
    np.testing.assert_allclose(x1, expected, atol=1e-6)
    assert steps.tolist() == [1, 1, 1, 1]


def test_runs_until_the_target_probability_is_reached():
    rng = np.random.default_rng(2)
    W, c = rng.normal(size=(5, 3)), np.zeros(3)
    x = rng.uniform(-1, 1, size=(6, 5))
    target = np.array([0, 1, 2, 0, 1, 2])
    found = attacks.targeted_gradient_ascent(
        linear_model(W, c), x, target, temperature=1.0, step=0.05, p_stop=0.9, bounds=(-50, 50)
    )
    x_adv, p, steps = found.x, found.confidence, found.steps
    assert found.success.all()
    p_numpy = softmax(x_adv @ W, axis=1)[np.arange(6), target]
    np.testing.assert_allclose(p, p_numpy, rtol=1e-5)
    assert np.all(p >= 0.9) and np.all(steps < 5000)
    # stopped at the first step past 0.9: one step less had not reached it
    assert np.all(np.linalg.norm(x_adv - x, axis=1) <= 0.05 * steps + 1e-5)


def test_target_shape_is_checked():
    W = np.ones((2, 2))
    with pytest.raises(ValueError, match="target must have shape"):
        attacks.targeted_gradient_ascent(linear_model(W, np.zeros(2)), np.ones((3, 2)), [0, 1], temperature=1.0)


def test_iterative_targeted_attacks_fool_alinear_model():
    rng = np.random.default_rng(3)
    W, c = rng.normal(size=(8, 4)), np.zeros(4)
    model = linear_model(W, c)
    x = rng.uniform(0.4, 0.6, size=(6, 8))
    logits = x @ W
    target = (np.argmax(logits, 1) + 1) % 4
    for x_adv, success in (
        (r.x, r.success)
        for r in (
            attacks.targeted_adam(model, x, target, steps=500, learning_rate=0.05),
            attacks.targeted_lbfgs(model, x, target, max_iterations=100),
        )
    ):
        predicted = np.argmax(x_adv @ W, axis=1)  # checked in NumPy, independently of TensorFlow
        np.testing.assert_array_equal(success, predicted == target)
        assert success.all() and x_adv.min() >= 0 and x_adv.max() <= 1


def test_cross_entropy_gradient_vanishes_beyond_float32_range():
    """At a logit margin of 200 every wrong-class probability underflows: the gradient is exactly 0."""
    W = np.array([[200.0, 0.0, 0.0], [0.0, 1.0, 2.0]])
    x, y = np.array([[1.0, 0.0], [0.1, 0.0]]), np.array([0, 0])
    g = attacks.input_gradient(linear_model(W, np.zeros(3)), x, y).numpy()
    assert np.all(g[0] == 0) and np.any(g[1] != 0)  # margin 20 at the second input: not yet


def _numpy_linf_pgd(W, c, x, y, eps, steps, step_size, until_fooled=False):
    """A second implementation: PGD on the cross-entropy of a linear softmax model, in NumPy;
    with ``until_fooled`` an example stops once the model misclassifies it."""
    xa = x.copy()
    for _ in range(steps):
        z = xa @ W + c
        moving = z.argmax(1) == y if until_fooled else np.ones(len(y), bool)
        p = softmax(z, axis=1)
        p[np.arange(len(y)), y] -= 1
        g = p @ W.T  # d CE / dx
        stepped = np.clip(np.clip(xa + step_size * np.sign(g), x - eps, x + eps), 0, 1)
        xa = np.where(moving[:, None], stepped, xa)
    return xa


def test_pgd_and_fgsm_agree_with_a_numpy_implementation():
    rng = np.random.default_rng(4)
    W, c = rng.normal(size=(8, 4)), rng.normal(size=4)
    x = rng.uniform(0.2, 0.8, size=(40, 8))
    y = np.argmax(x @ W + c, axis=1)
    y[::4] = (y[::4] + 1) % 4  # some start misclassified
    model = linear_model(W, c)
    for until_fooled in (True, False):
        ours = attacks.pgd(model, x, y, eps=0.1, steps=7, step_size=0.03, until_fooled=until_fooled)
        theirs = _numpy_linf_pgd(W, c, x, y, 0.1, 7, 0.03, until_fooled)
        np.testing.assert_allclose(ours.x, theirs, atol=1e-5)
        np.testing.assert_array_equal(ours.success, np.argmax(theirs @ W + c, axis=1) != y)
        fooled_early = np.argmax(_numpy_linf_pgd(W, c, x, y, 0.1, 3, 0.03) @ W + c, axis=1) != y
        assert 0 < fooled_early.sum() < len(y), "the test needs examples fooled before the last step"
    np.testing.assert_allclose(
        attacks.fgsm(model, x, y, eps=0.1).x, _numpy_linf_pgd(W, c, x, y, 0.1, 1, 0.1), atol=1e-5
    )


def _correctly_classified(seed: int, n: int, low: float, high: float):
    """A linear softmax model on 8 inputs and 4 classes, and ``n`` inputs uniform in
    [low, high] labelled with its own predictions: ``(W, x, y, model)``."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(8, 4))
    x = rng.uniform(low, high, size=(n, 8))
    return W, x, np.argmax(x @ W, axis=1), linear_model(W, np.zeros(4))


def test_pgd_stays_in_its_ball_and_restarts_never_hurt():
    W, x, y, model = _correctly_classified(5, 20, 0.2, 0.8)
    for norm, measure in (("linf", lambda d: np.abs(d).max(axis=1)), ("l2", lambda d: np.linalg.norm(d, axis=1))):
        one = attacks.pgd(model, x, y, eps=0.05, steps=10, step_size=0.01, norm=norm, loss="logit_margin").x
        many = attacks.pgd(
            model, x, y, eps=0.05, steps=10, step_size=0.01, norm=norm, restarts=4, loss="logit_margin"
        ).x
        for adv in (one, many):
            assert np.all(measure(adv - x) <= 0.05 + 1e-5) and adv.min() >= 0 and adv.max() <= 1
        fooled = lambda a: np.argmax(a @ W, axis=1) != y  # noqa: E731
        assert np.all(fooled(many) >= fooled(one))


def test_pgd_restarts_keep_what_the_first_start_fooled_and_never_lower_the_loss():
    W, x, y, model = _correctly_classified(6, 200, 0.2, 0.8)
    margin = lambda a: attacks.attack_loss(model(a.astype(np.float32)), y, "logit_margin").numpy()  # noqa: E731
    fooled = lambda a: np.argmax(a @ W, axis=1) != y  # noqa: E731
    for norm in ("linf", "l2"):
        one = attacks.pgd(model, x, y, eps=0.03, steps=3, step_size=0.01, norm=norm, loss="logit_margin").x
        many = attacks.pgd(model, x, y, eps=0.03, steps=3, step_size=0.01, norm=norm, restarts=3, loss="logit_margin").x
        first = fooled(one)
        assert 0 < first.sum() < len(x), "the test needs some examples fooled by the first start and some not"
        np.testing.assert_array_equal(many[first], one[first])
        rest = ~first & ~fooled(many)
        assert np.all(margin(many)[rest] >= margin(one)[rest] - 1e-6)


def test_logit_margin_gradient_survives_softmax_saturation():
    W = np.array([[200.0, 0.0, 0.0], [0.0, 1.0, 2.0]])
    x, y = np.array([[1.0, 0.5]]), np.array([0])  # logits (200, 0.5, 1): class 2 is the runner-up
    model = linear_model(W, np.zeros(3))
    assert np.all(attacks.input_gradient(model, x, y).numpy() == 0)
    g = attacks.input_gradient(model, x, y, loss="logit_margin").numpy()
    np.testing.assert_allclose(g, [[-200.0, 2.0]])  # d(z_2 - z_0)/dx: the analytic value
    with pytest.raises(ValueError, match="unknown attack loss"):
        attacks.pgd(model, x, y, eps=0.1, steps=1, step_size=0.1, loss="hinge")


def test_spsa_estimates_the_gradient_without_using_it():
    """On a linear model SPSA's ascent direction agrees in sign with the analytic margin gradient."""
    W, x, y, model = _correctly_classified(6, 10, 0.3, 0.7)
    adv = attacks.spsa(model, x, y, eps=0.02, steps=1, samples=256, delta=0.01, learning_rate=0.01).x
    step = adv - x
    analytic = attacks.input_gradient(model, x, y, loss="logit_margin").numpy()
    moved = np.abs(step) > 1e-6
    assert np.mean(np.sign(step[moved]) == np.sign(analytic[moved])) > 0.9
    strong = attacks.spsa(model, x, y, eps=0.3, steps=50, samples=32, learning_rate=0.02).x
    assert np.abs(strong - x).max() <= 0.3 + 1e-6
    assert np.mean(np.argmax(strong @ W, axis=1) != y) > 0.5  # it does find adversarial examples


def test_spsa_leaves_an_image_alone_once_it_is_misclassified():
    W, x, y, model = _correctly_classified(6, 40, 0.3, 0.7)
    wrong = np.arange(len(y)) % 2 == 0
    labels = np.where(wrong, (y + 1) % 4, y)  # half the images start misclassified
    adv = attacks.spsa(model, x, labels, eps=0.3, steps=30, samples=32, learning_rate=0.02).x
    np.testing.assert_array_equal(adv[wrong], x[wrong].astype(np.float32))
    assert np.all(np.abs(adv[~wrong] - x[~wrong]).max(axis=1) > 0.01)  # the others moved


def test_vanishing_margin_lies_between_the_float32_underflow_limits():
    m = attacks.vanishing_margin()
    normal, subnormal = (
        -np.log(float(v)) for v in (np.finfo(np.float32).tiny, np.finfo(np.float32).smallest_subnormal)
    )
    assert normal - 0.05 <= m <= subnormal + 1.0
    import tensorflow as tf

    z = tf.constant([[m - 0.5] + [0.0] * 9])
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = attacks.attack_loss(z, tf.constant([0]))
    assert np.any(tape.gradient(loss, z).numpy())  # just below it the gradient lives


def test_clipped_cross_entropy_vanishes_where_the_softmax_rounds_past_the_clip():
    """Analytic threshold: softmax(z)_y = 1 / (1 + 9 e^-m) rounds above 1 - 1e-7 (float32
    0.99999988) when 9 e^-m is below about 9e-8, i.e. m > ln(1e8) = 18.4 (within float32's
    spacing of 6e-8 near 1)."""
    m = attacks.vanishing_margin(loss="clipped_cross_entropy")
    assert np.log(9 / 1.2e-7) - 0.3 <= m <= np.log(9 / 6e-8) + 0.3
    import tensorflow as tf

    def logit_gradient(margin, loss):
        z = tf.constant([[margin, 1.0, -2.0] + [0.0] * 7])
        with tf.GradientTape() as tape:
            tape.watch(z)
            value = attacks.attack_loss(z, tf.constant([0]), loss)
        return tape.gradient(value, z).numpy()

    # below the clip the two cross-entropies are one function: the same gradient
    for margin in (0.0, 3.0, 10.0):
        np.testing.assert_allclose(
            logit_gradient(margin, "clipped_cross_entropy"),
            logit_gradient(margin, "cross_entropy"),
            rtol=1e-4,
            atol=1e-9,
        )
    # past it the clipped gradient is exactly zero where the logits' one still lives
    assert not np.any(logit_gradient(30.0, "clipped_cross_entropy"))
    assert np.any(logit_gradient(30.0, "cross_entropy"))


def test_pgd_traces_once_per_model_and_loss():
    """Other budgets, step counts and batches reuse the compiled graph; results are unchanged."""
    W, x, y, model = _correctly_classified(7, 30, 0.2, 0.8)
    first = attacks.pgd(model, x, y, eps=0.05, steps=10, step_size=0.01, loss="logit_margin").x
    attacks.pgd(model, x[:7], y[:7], eps=0.2, steps=3, step_size=0.05, loss="logit_margin")
    again = attacks.pgd(model, x, y, eps=0.05, steps=10, step_size=0.01, loss="logit_margin").x
    graph = attacks._compiled_pgd(model, "logit_margin", "linf", (0.0, 1.0), True).graph
    assert graph.experimental_get_tracing_count() <= 2  # at most once more for a new batch shape
    np.testing.assert_array_equal(first, again)


def test_models_of_one_architecture_share_a_graph_and_keep_their_own_results():
    """A graph traced for one linear model, run for another of other weights, gives what the
    other's graph traced afresh gives; DeepFool's distances stay the closed form for both."""
    W, x, y, model = _correctly_classified(8, 30, 0.2, 0.8)
    other_W = -W[:, ::-1]
    other = linear_model(other_W, np.full(4, 0.1))
    assert attacks.architecture(model) == attacks.architecture(other) is not None
    assert attacks.architecture(model) != attacks.architecture(linear_model(W[:5], np.zeros(4)))
    settings = dict(eps=0.05, steps=10, step_size=0.01, loss="logit_margin")
    attacks._GRAPHS_BY_ARCHITECTURE.clear()  # the other tests' linear models share this one's
    attacks.pgd(model, x, y, **settings)
    other_y = np.argmax(x @ other_W + 0.1, axis=1)
    shared = attacks.pgd(other, x, other_y, **settings).x
    graph = attacks._compiled_pgd(other, "logit_margin", "linf", (0.0, 1.0), True).graph
    assert graph is attacks._compiled_pgd(model, "logit_margin", "linf", (0.0, 1.0), True).graph
    assert graph.experimental_get_tracing_count() == 1
    attacks._GRAPHS_BY_ARCHITECTURE.clear()
    np.testing.assert_array_equal(shared, attacks.pgd(other, x, other_y, **settings).x)
    for weights, c, labels, net in ((W, np.zeros(4), y, model), (other_W, np.full(4, 0.1), other_y, other)):
        found = attacks.deepfool(net, x, labels, steps=5, overshoot=0.02, bounds=None)
        np.testing.assert_allclose(found.distance, 1.02 * _linear_min_distance(weights, c, x)[1], rtol=1e-4)


def _linear_min_distance(W, c, x):
    """Analytic L2 distance from each row of ``x`` to the nearest boundary of ``argmax(x W + c)``."""
    z = x @ W + c
    y = z.argmax(1)
    rows = np.arange(len(x))
    d = np.full(len(x), np.inf)
    for j in range(W.shape[1]):
        normal = W[:, j][None] - W[:, y].T
        with np.errstate(divide="ignore", invalid="ignore"):
            dj = (z[rows, y] - z[:, j]) / np.linalg.norm(normal, axis=1)
        d = np.minimum(d, np.where(y == j, np.inf, dj))
    return y, d


def test_deepfool_finds_the_nearest_linear_boundary():
    rng = np.random.default_rng(4)
    W, c = rng.normal(size=(6, 4)), rng.normal(size=4)
    x = rng.normal(size=(200, 6))
    y, d = _linear_min_distance(W, c, x)
    model = linear_model(W, c)
    found = attacks.deepfool(model, x, y, steps=5, overshoot=0.02, bounds=None, batch_size=64)
    x_adv, distance = found.x, found.distance
    assert found.success.all()
    np.testing.assert_allclose(distance, 1.02 * d, rtol=1e-4)
    np.testing.assert_allclose(distance, np.linalg.norm(x_adv - x, axis=1), rtol=1e-5)
    assert np.all(np.argmax(x_adv @ W + c, axis=1) != y)
    # already misclassified: distance 0, image unchanged
    wrong = (y + 1) % 4
    same = attacks.deepfool(model, x[:5], wrong[:5], bounds=None)
    x_same, zero = same.x, same.distance
    assert np.all(zero == 0) and np.allclose(x_same, x[:5])
    # bisection takes back the overshoot, staying on the misclassified side
    found = attacks.deepfool(model, x, y, steps=5, overshoot=0.5, bounds=None, refine_steps=12)
    x_ref, refined = found.x, found.distance
    assert np.all(refined >= d * (1 - 1e-5)) and np.all(refined <= d * (1 + 1.5 / 2**12 + 1e-5))
    assert np.all(np.argmax(x_ref @ W + c, axis=1) != y)


def test_deepfool_in_bounds_is_never_nearer_than_the_free_boundary():
    """Within [0, 1] the nearest error can only be farther than without bounds; DeepFool keeps
    its images inside and still crosses (pixels at a bound are linearized out)."""
    rng = np.random.default_rng(5)
    W, c = rng.normal(size=(8, 3)), rng.normal(size=3)
    x = rng.uniform(0, 1, size=(100, 8))
    x[:, :3] = 0.0  # pixels on the lower bound, as MNIST's background is
    y, d = _linear_min_distance(W, c, x)
    found = attacks.deepfool(linear_model(W, c), x, y, steps=50, overshoot=0.02)
    x_adv, distance, fooled = found.x, found.distance, found.success
    np.testing.assert_array_equal(fooled, np.isfinite(distance))
    assert fooled.mean() > 0.9
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert np.all(distance[fooled] >= d[fooled] - 1e-5)
    assert np.all(np.argmax(x_adv[fooled] @ W + c, axis=1) != y[fooled])
    with pytest.raises(ValueError, match="candidates"):
        attacks.deepfool(linear_model(W, c), x, y, candidates=0)


def test_attacks_take_hyperparameters_by_name_and_batch_to_the_same_result():
    """One convention: hyperparameters are keyword-only, every attack returns an Adversarial, and
    batched() over batches of 7 gives what one call on all 20 gives, field by field."""
    W, x, y, model = _correctly_classified(7, 20, 0.3, 0.7)
    with pytest.raises(TypeError):
        attacks.fgsm(model, x, y, 0.1)
    with pytest.raises(TypeError):
        attacks.pgd(model, x, y, 0.1, 5, 0.03)
    for attack, settings in (
        (attacks.fgsm, dict(eps=0.1)),
        (attacks.pgd, dict(eps=0.1, steps=5, step_size=0.03, loss="logit_margin")),
        (attacks.deepfool, dict(steps=5, bounds=None)),
    ):
        whole = attack(model, x, y, **settings)
        parts = attacks.batched(attack, model, x, y, batch_size=7, **settings)
        assert isinstance(whole, attacks.Adversarial) and isinstance(parts, attacks.Adversarial)
        for field in attacks.Adversarial.FIELDS:
            a, b = getattr(whole, field), getattr(parts, field)
            assert (a is None) == (b is None), (attack.__name__, field)
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=f"{attack.__name__}.{field}")
    with pytest.raises(ValueError, match="batch_size"):
        attacks.batched(attacks.fgsm, model, x, y, batch_size=0, eps=0.1)
