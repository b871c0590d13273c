"""Adversarial attacks: batched, compiled, working on logits (never a softmax's gradient)."""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import log_softmax


def temperature_for_median_confidence(logits, median: float = 0.95) -> float:
    """Softmax temperature ``t`` at which the median of ``max softmax(logits / t)`` is ``median``.

    ``logits``: ``(n, k)``. The median top probability falls monotonically as ``t`` grows.
    """
    logits = np.asarray(logits, np.float64)
    k = logits.shape[1]
    if not 1.0 / k < median < 1.0:
        raise ValueError(f"median must lie in (1/{k}, 1), got {median}")

    def gap(log_t):
        top = np.exp(np.max(log_softmax(logits / np.exp(log_t), axis=1), axis=1))
        return np.median(top) - median

    lo, hi = -20.0, 20.0
    if gap(lo) < 0 or gap(hi) > 0:
        raise ValueError("no temperature in [e^-20, e^20] reaches that median confidence")
    return float(np.exp(brentq(gap, lo, hi, xtol=1e-10)))


def targeted_gradient_ascent(model, x, target, temperature: float, step: float = 1.0,
                             p_stop: float = 0.95, max_steps: int = 5000,
                             bounds: tuple = (0.0, 255.0)):
    """Tanay & Griffin's targeted attack: ``x <- clip(x + step * g / ||g||)`` until ``p_l >= p_stop``.

    ``g`` is the input gradient of ``log p_l(x)`` with ``p = softmax(logits / temperature)``; it
    has the direction of the gradient of ``p_l`` that the paper uses, without its underflow.
    ``x``: ``(n, ...)`` inputs, ``target``: ``(n,)`` labels ``l``. Returns ``(x_adv, p_l, steps)``
    with ``p_l`` ``(n,)`` the final target probabilities and ``steps`` ``(n,)`` the updates
    each image took (``max_steps`` where it never reached ``p_stop``).
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(np.asarray(x, np.float32))
    target = tf.convert_to_tensor(np.asarray(target, np.int32))
    if target.shape != (x.shape[0],):
        raise ValueError(f"target must have shape ({x.shape[0]},), got {target.shape}")
    axes = list(range(1, len(x.shape)))
    low, high = (float(v) for v in bounds)

    def log_p(xb):
        logits = model(xb, training=False) / temperature
        return tf.gather(tf.nn.log_softmax(logits), target, batch_dims=1)

    @tf.function(jit_compile=False)
    def run(x0):
        def body(i, xb, steps, _):
            with tf.GradientTape() as tape:
                tape.watch(xb)
                lp = log_p(xb)
            g = tape.gradient(lp, xb)
            norm = tf.sqrt(tf.reduce_sum(g * g, axis=axes, keepdims=True))
            active = lp < np.log(p_stop)
            mask = tf.reshape(tf.cast(active, xb.dtype), [-1] + [1] * len(axes))
            moved = tf.clip_by_value(xb + step * g / tf.maximum(norm, 1e-30), low, high)
            xb = mask * moved + (1.0 - mask) * xb
            return i + 1, xb, steps + tf.cast(active, tf.int32), tf.reduce_any(active)

        _, xb, steps, _ = tf.while_loop(
            lambda i, xb, s, any_active: tf.logical_and(i < max_steps, any_active), body,
            (tf.constant(0), x0, tf.zeros([x0.shape[0]], tf.int32), tf.constant(True)))
        return xb, tf.exp(log_p(xb)), steps

    x_adv, p, steps = run(x)
    return x_adv.numpy(), p.numpy(), steps.numpy()


def _cross_entropy_gradient(model, x, y):
    """Input gradient of the cross-entropy computed from the logits; ``x`` ``(n, ...)``."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=model(x, training=False))
    return tape.gradient(loss, x)


def fgsm(model, x, y, eps: float, bounds: tuple = (0.0, 1.0)):
    """Fast gradient sign method: ``clip(x + eps * sign(grad_x CE(model(x), y)))``.

    ``x``: ``(n, ...)`` float inputs, ``y``: ``(n,)`` labels. The cross-entropy is computed from
    the logits (``from_logits``), as Keras and TensorFlow do it. Returns a NumPy array.
    """
    import tensorflow as tf

    if eps < 0:
        raise ValueError(f"eps must be >= 0, not {eps}")
    x = tf.convert_to_tensor(np.asarray(x, np.float32))
    y = tf.convert_to_tensor(np.asarray(y, np.int32))
    g = _cross_entropy_gradient(model, x, y)
    return tf.clip_by_value(x + eps * tf.sign(g), *bounds).numpy()
