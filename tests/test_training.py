"""The shared epoch loop and adversarial training."""

import numpy as np
import pytest

from companion import attacks, evaluation, models, reproducibility, training
from companion.papers.saturating_networks import saturation
from companion.papers.smooth_codes import experiments, penalties


def test_run_epochs_averages_over_examples_and_keeps_last_values():
    import tensorflow as tf

    x = np.arange(10, dtype=np.float32)
    y = np.zeros(10, np.int32)

    @tf.function
    def step(xb, yb, t):
        return {"mean_x": tf.reduce_mean(xb), "t": t}

    for per_call in (1, 2, 16):  # batches of 3, 3, 3 and a last one of 1
        h = training.run_epochs(
            step,
            x,
            y,
            epochs=2,
            batch_size=3,
            seed=0,
            last=("t",),
            evaluate=lambda: {"probe": 1.0},
            steps_per_call=per_call,
        )
        np.testing.assert_allclose(h["mean_x"], [4.5, 4.5], rtol=1e-6)  # weighted by batch size
        assert h["t"] == [4, 8] and h["probe"] == [1.0, 1.0]
    for bad in ({"epochs": 0}, {"steps_per_call": 0}):
        with pytest.raises(ValueError, match="epochs, batch_size and steps_per_call"):
            training.run_epochs(step, x, y, **{"epochs": 1, "batch_size": 3, "seed": 0, **bad})


def test_steps_in_one_call_are_the_steps_one_by_one():
    """A step whose result depends on the order of the minibatches and on t: several steps per
    call give what NumPy gives taking the same minibatches one at a time."""
    import tensorflow as tf

    x = np.random.default_rng(1).uniform(size=(23, 2)).astype(np.float32)
    y = np.arange(23, dtype=np.int32) % 3
    state = tf.Variable(0.0)

    @tf.function
    def step(xb, yb, t):
        state.assign(0.5 * state + tf.reduce_sum(xb) * tf.cast(t, tf.float32) + tf.cast(tf.reduce_sum(yb), tf.float32))
        return {"state": state.value()}

    expected, s, t, rng = [], 0.0, 0, np.random.default_rng(7)
    for _ in range(3):
        order = rng.permutation(23)
        for start in range(0, 23, 4):
            t += 1
            s = 0.5 * s + x[order[start : start + 4]].sum() * t + y[order[start : start + 4]].sum()
        expected.append(s)
    for per_call in (1, 3, 16):
        state.assign(0.0)
        h = training.run_epochs(step, x, y, epochs=3, batch_size=4, seed=7, last=("state",), steps_per_call=per_call)
        np.testing.assert_allclose(h["state"], expected, rtol=1e-5)


def test_adam_in_chunks_reaches_the_same_weights(monkeypatch):
    """fit_adam with the saturation penalty (which reads the batch size and t): one step per call
    and 16 per call train the same network."""
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(300, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, size=300)
    weights = []
    for per_call in (1, 16):
        monkeypatch.setattr(training, "STEPS_PER_CALL", per_call)
        reproducibility.seed_everything(0)
        model = models.mlp("sigmoid", 16)
        training.fit_adam(
            model,
            x,
            y,
            2,
            32,
            penalty=saturation.SaturationPenalty(models.SATURATION_KINDS["sigmoid_mlp"], 1.0, 0.1, reduction="mean"),
        )
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_robust_training_at_eps_zero_is_standard_training():
    """PGD replacement at eps = 0 and the smoothness penalty with c1 = c2 = 0 are two more routes
    to plain Adam on the CE."""
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(64, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 10, size=64)
    weights = []
    for fit in (
        lambda m: training.fit_adam(m, x, y, 1, 32),
        lambda m: training.fit_adam(m, x, y, 1, 32, adversarial=training.PgdReplacement(0.0, 3)),
        lambda m: training.fit_adam(m, x, y, 1, 32, penalty=penalties.SmoothnessPenalty(0.0, 0.0)),
    ):
        reproducibility.seed_everything(0)
        model = models.cifar_cnn()
        fit(model)
        weights.append(model.get_weights())
    for other in weights[1:]:
        for a, b in zip(weights[0], other):
            np.testing.assert_allclose(a, b, atol=1e-6)


def _toy(n: int, rng):
    """Two features in [0, 1]: x0 predicts y 90% of the time with a wide margin; x1 predicts it
    always but only 0.05 from 0.5 (a non-robust feature in Ilyas et al.'s sense)."""
    y = rng.integers(0, 2, size=n)
    sign = np.where(rng.uniform(size=n) < 0.9, 2 * y - 1, 1 - 2 * y)
    x0 = 0.5 + sign * rng.uniform(0.2, 0.4, size=n)
    x1 = 0.5 + 0.05 * (2 * y - 1)
    return np.stack([x0, x1], 1).astype(np.float32), y


def test_l2_adversarial_training_trades_the_non_robust_feature_for_the_robust_one():
    import keras

    rng = np.random.default_rng(1)
    x, y = _toy(2000, rng)
    x_test, y_test = _toy(500, rng)
    robust = {}
    for eps in (0.0, 0.15):
        reproducibility.seed_everything(0)
        inp = keras.Input((2,))
        model = keras.Model(inp, keras.layers.Dense(2)(keras.layers.Dense(16, activation="relu")(inp)))
        training.fit_adam(model, x, y, 30, 50, 1e-2, adversarial=training.PgdReplacement(eps, 5))
        x_adv = attacks.pgd(model, x_test, y_test, eps=0.15, steps=20, step_size=0.03, norm="l2").x
        robust[eps] = (evaluation.accuracy(model, x_test, y_test), evaluation.accuracy(model, x_adv, y_test))
    assert robust[0.0][0] > 0.97 and robust[0.0][1] < 0.2  # uses x1: exact, and broken by eps 0.15
    assert 0.8 < robust[0.15][0] < 0.95 and robust[0.15][1] > 0.8  # uses x0: ~90%, and robust


def test_small_resnet_penultimate_layer():
    reproducibility.seed_everything(0)
    model = models.small_resnet(widths=(4, 8), features=32)
    x = np.random.default_rng(0).uniform(size=(3, 32, 32, 3)).astype(np.float32)
    assert model(x).shape == (3, 10)
    assert experiments.penultimate(model, x).shape == (3, 32)


def test_fgsm_adversarial_step_is_the_interpolated_loss_in_numpy():
    """One step of fit_adam with FGSM (loss (4) of Nayebi & Ganguli) on a softmax regression:
    the loss and the updated weights against NumPy's gradients and Adam's first step."""
    import keras

    rng = np.random.default_rng(3)
    x = rng.uniform(size=(8, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=8).astype(np.int32)
    reproducibility.seed_everything(0)
    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(3)(inp))
    w, b = [v.astype(np.float64) for v in model.get_weights()]
    eps, alpha, lr = 0.1, 0.3, 0.01
    history = training.fit_adam(model, x, y, 1, 8, lr, adversarial=training.FgsmInterpolation(eps, alpha))

    onehot = np.eye(3)[y]

    def ce_and_grads(xs):
        z = xs @ w + b
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        d = (p - onehot) / len(xs)  # d mean CE / d logits
        return -np.mean(np.log(p[np.arange(len(xs)), y])), d @ w.T, xs.T @ d, d.sum(0)

    ce, g_x, g_w, g_b = ce_and_grads(x.astype(np.float64))
    x_adv = np.clip(x + eps * np.sign(g_x), 0, 1)
    ce_adv, _, g_w_adv, g_b_adv = ce_and_grads(x_adv)
    np.testing.assert_allclose(history["loss"][0], alpha * ce + (1 - alpha) * ce_adv, rtol=1e-5)
    for before, after, g in (
        (w, model.get_weights()[0], alpha * g_w + (1 - alpha) * g_w_adv),
        (b, model.get_weights()[1], alpha * g_b + (1 - alpha) * g_b_adv),
    ):
        step = lr * g / (np.abs(g) + 1e-7 / np.sqrt(1 - 0.999))  # Adam's first step
        np.testing.assert_allclose(after, before - step, rtol=0, atol=1e-6)
