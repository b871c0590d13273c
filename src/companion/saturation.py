"""The saturation penalty of Nayebi & Ganguli (2017), eq. (6)-(8).

``penalty = lam * sum_l sum_i phi_c(h_i^l)``: ``h^l`` are the pre-activations of layer ``l``
(the readout included) and ``phi_c`` is the complementary function (7) of the layer's
nonlinearity, the distance of ``z`` to the nearest region where ``phi'(z) = 0``:

* ReLU: ``max(0, z)`` (the ReLU itself);
* sigmoid: ``sigma(z) (1 - sigma(z))`` (the paper's choice, ``|sigma'(z)|``);
* linear: ``z`` (the paper's "stronger penalty f(z) = z" on the CNN's last layer);
* none: 0 (a layer left unpenalized, e.g. to test whether the readout penalty matters).
"""
from __future__ import annotations

COMPLEMENTARY = ("relu", "sigmoid", "linear", "none")
REDUCTIONS = ("sum", "mean")


def complementary(kind: str, z):
    """``phi_c(z)`` elementwise, for a TensorFlow tensor ``z``."""
    import tensorflow as tf

    z = tf.convert_to_tensor(z)
    if kind == "relu":
        return tf.nn.relu(z)
    if kind == "sigmoid":
        s = tf.sigmoid(z)
        return s * (1.0 - s)
    if kind == "linear":
        return z
    if kind == "none":
        return tf.zeros_like(z)
    raise ValueError(f"unknown nonlinearity {kind!r}; choose one of {list(COMPLEMENTARY)}")


def penalty(preactivations, kinds, reduction: str = "sum"):
    """Eq. (8) without ``lam``, averaged over the batch.

    ``preactivations``: list of tensors ``(batch, ...)``, one per layer; ``kinds``: the
    nonlinearity of each layer. ``reduction="sum"`` sums over the units of a layer as eq. (8)
    writes it; ``"mean"`` averages over them (the paper does not say which it used).
    """
    import tensorflow as tf

    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {list(REDUCTIONS)}, not {reduction!r}")
    if len(preactivations) != len(kinds):
        raise ValueError(f"{len(preactivations)} layers of pre-activations but {len(kinds)} kinds")
    total = 0.0
    for h, kind in zip(preactivations, kinds):
        c = tf.reshape(complementary(kind, h), [tf.shape(h)[0], -1])
        per_example = tf.reduce_sum(c, axis=1) if reduction == "sum" else tf.reduce_mean(c, axis=1)
        total += tf.reduce_mean(per_example)
    return total


def annealed_lambda(step, lam_max: float, lam_step: float):
    """``min(lam_max, step * lam_step)``: lambda after ``step`` annealing steps, from 0."""
    import tensorflow as tf

    if lam_max < 0 or lam_step < 0:
        raise ValueError(f"lam_max and lam_step must be >= 0, got {lam_max}, {lam_step}")
    return tf.minimum(tf.cast(lam_max, tf.float32), tf.cast(step, tf.float32) * lam_step)
