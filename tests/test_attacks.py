"""Attacks against analytic answers on a linear softmax model."""
import numpy as np
import pytest
from scipy.special import softmax

from companion import attacks, reproducibility


def test_temperature_gives_the_requested_median():
    logits = np.random.default_rng(0).normal(scale=4, size=(501, 10))
    t = attacks.temperature_for_median_confidence(logits, 0.95)
    top = softmax(logits / t, axis=1).max(axis=1)
    assert np.median(top) == pytest.approx(0.95, abs=1e-8)
    with pytest.raises(ValueError, match="median"):
        attacks.temperature_for_median_confidence(logits, 0.05)


def _linear_model(W, c):
    reproducibility.import_tensorflow()
    import keras

    layer = keras.layers.Dense(W.shape[1])
    model = keras.Sequential([keras.Input((W.shape[0],)), layer])
    layer.set_weights([W.astype("float32"), c.astype("float32")])
    return model


def test_one_step_matches_the_analytic_gradient():
    rng = np.random.default_rng(1)
    W, c = rng.normal(size=(5, 3)), rng.normal(size=3)
    x = rng.uniform(0.2, 0.8, size=(4, 5))
    target = np.array([0, 1, 2, 0])
    t = 2.0
    x1, _, steps = attacks.targeted_gradient_ascent(_linear_model(W, c), x, target, t, step=0.01,
                                                    p_stop=0.999, max_steps=1, bounds=(0, 1))
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
    x_adv, p, steps = attacks.targeted_gradient_ascent(_linear_model(W, c), x, target, 1.0,
                                                       step=0.05, p_stop=0.9, bounds=(-50, 50))
    p_numpy = softmax(x_adv @ W, axis=1)[np.arange(6), target]
    np.testing.assert_allclose(p, p_numpy, rtol=1e-5)
    assert np.all(p >= 0.9) and np.all(steps < 5000)
    # stopped at the first step past 0.9: one step less had not reached it
    assert np.all(np.linalg.norm(x_adv - x, axis=1) <= 0.05 * steps + 1e-5)


def test_target_shape_is_checked():
    W = np.ones((2, 2))
    with pytest.raises(ValueError, match="target must have shape"):
        attacks.targeted_gradient_ascent(_linear_model(W, np.zeros(2)), np.ones((3, 2)), [0, 1], 1.0)
