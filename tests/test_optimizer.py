"""The fused Adam against Kingma & Ba's update written in NumPy, and against Keras' Adam."""

import numpy as np
import pytest

from companion.optimizer import Adam


def numpy_adam(w, gradients, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Kingma & Ba's Algorithm 1 with epsilon added to sqrt(v_hat) / sqrt(1 - beta_2^t), as
    Keras does; float64. ``gradients``: one array per step."""
    w, m, v = w.astype(np.float64), np.zeros_like(w, np.float64), np.zeros_like(w, np.float64)
    for t, g in enumerate(gradients, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        w = w - lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (np.sqrt(v) + epsilon)
    return w


def _gradients(shape, steps, seed=0):
    rng = np.random.default_rng(seed)  # of mixed scales, so that epsilon matters for a few
    return [(rng.normal(size=shape) * 10.0 ** rng.integers(-8, 1, size=shape)).astype(np.float32) for _ in range(steps)]


def test_adam_is_kingma_and_ba_in_numpy():
    import tensorflow as tf

    w0 = np.random.default_rng(1).normal(size=(7, 5)).astype(np.float32)
    grads = _gradients(w0.shape, 30)
    w = tf.Variable(w0)
    opt = Adam([w], learning_rate=0.01)

    @tf.function
    def step(g):
        opt.apply([g])

    for g in grads:
        step(tf.constant(g))
    expected = numpy_adam(w0, grads, 0.01)
    np.testing.assert_allclose(w.numpy(), expected, rtol=0, atol=1e-5 * 0.01 * 30)  # per step: float32 rounding of ~lr
    assert int(opt.iterations.numpy()) == 30
    assert not np.allclose(w.numpy(), w0, atol=1e-3)  # it moved: 30 steps of about lr each


def test_adam_matches_keras_adam_on_a_keras_model():
    import keras
    import tensorflow as tf

    from companion import models

    keras.utils.set_random_seed(0)
    ours, theirs = models.mlp("sigmoid", 16), models.mlp("sigmoid", 16)
    start = ours.get_weights()
    theirs.set_weights(start)
    mine, keras_adam = Adam(ours.trainable_variables, 1e-3), keras.optimizers.Adam(1e-3)
    for t in range(20):
        grads = [tf.constant(_gradients(v.shape, 1, seed=t)[0]) for v in ours.trainable_variables]
        mine.apply(grads)
        keras_adam.apply_gradients(zip(grads, theirs.trainable_variables))
    for a, b, a0 in zip(ours.get_weights(), theirs.get_weights(), start):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)  # 20 steps of about 1e-3: rounding apart
        assert np.max(np.abs(a - a0)) > 1e-3  # and both moved


def test_adam_rejects_bad_input():
    import tensorflow as tf

    w = tf.Variable(np.zeros(3, np.float32))
    for bad in ({"learning_rate": 0.0}, {"beta_1": 1.0}, {"beta_2": -0.1}, {"epsilon": 0.0}):
        with pytest.raises(ValueError, match="Adam needs"):
            Adam([w], **bad)
    opt = Adam([w])
    with pytest.raises(ValueError, match="2 gradients for 1 variables"):
        opt.apply([tf.zeros(3), tf.zeros(3)])
    with pytest.raises(ValueError, match="no gradient for"):
        opt.apply([None])
