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

from dataclasses import dataclass

from companion import models

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


@dataclass(frozen=True)
class SaturationPenalty:
    """The penalty term of the training loss, ``lam_t * penalty`` (eq. 8), for
    :func:`companion.training.fit_adam`: ``lam_t = min(lam_max, t * lam_step)`` after ``t``
    minibatches (one annealing step is one minibatch). ``kinds``: the complementary function of
    each pre-activation layer, readout last. Logs ``penalty`` (without ``lam``) and ``lam`` (its
    value at the epoch's end)."""

    kinds: tuple
    lam_max: float
    lam_step: float
    reduction: str = "sum"
    last = ("lam",)

    def forward(self, model):
        probe = models.preactivation_model(model)
        kinds = tuple(self.kinds)
        if len(kinds) != len(probe.outputs):
            raise ValueError(f"{len(kinds)} saturation kinds for {len(probe.outputs)} layers")

        def run(xb, t):
            outs = probe(xb, training=True)
            pen = penalty(outs, kinds, self.reduction)
            lam = annealed_lambda(t, self.lam_max, self.lam_step)
            return outs[-1], [lam * pen], {"penalty": pen, "lam": lam}

        return run


ACTIVATIONS = ("sigmoid", "relu", "linear")
TINY_DERIVATIVE = 1e-30


def local_derivatives(h, kind: str):
    """``phi'(h)`` elementwise, as TensorFlow's backpropagation computes it in float32.

    For the sigmoid that is ``y (1 - y)`` from the rounded output ``y``: exactly 0 once
    ``sigmoid(h)`` rounds to 1 (``h`` above about 17), but only ``~e^h`` on the "off" side.
    """
    import keras
    import tensorflow as tf

    if kind not in ACTIVATIONS:
        raise ValueError(f"unknown nonlinearity {kind!r}; choose one of {list(ACTIVATIONS)}")
    h = tf.convert_to_tensor(h, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(h)
        y = keras.activations.get(kind)(h)
    return tape.gradient(y, h)


def sigmoid_thresholds(tiny: float = TINY_DERIVATIVE, step: float = 0.001) -> dict:
    """Where float32 backpropagation through a sigmoid stops: the smallest ``h > 0`` from which
    ``sigmoid'(h)`` is exactly 0 (``"on"``), and the largest ``h < 0`` below which it is under
    ``tiny`` (``"off_tiny"``) or exactly 0 (``"off_zero"``), to ``step``."""
    import numpy as np

    h = np.arange(-150.0, 150.0, step, dtype=np.float32)
    d = local_derivatives(h, "sigmoid").numpy()
    return {
        "on": float(h[(h > 0) & (d == 0)].min()),
        "off_tiny": float(h[(h < 0) & (d < tiny)].max()),
        "off_zero": float(h[(h < 0) & (d == 0)].max()),
    }


def layer_saturation(model, x, kinds, tiny: float = TINY_DERIVATIVE, batch_size: int = 1000) -> dict:
    """How saturated each pre-activation layer of ``model`` is on each image of ``x``.

    ``kinds``: the nonlinearity after each pre-activation layer, readout last (the readout's
    own derivative is taken as ``kinds[-1]``'s even where the model outputs logits).
    Returns ``{"zero", "tiny", "median_abs_h"}``, each ``(n, layers)``: the share of a layer's
    units whose float32 local derivative is exactly 0, the share below ``tiny`` (0 included),
    and the median ``|h|`` over the layer's units.
    """
    import numpy as np

    probe = models.preactivation_model(model)
    if len(probe.outputs) != len(kinds):
        raise ValueError(f"{len(probe.outputs)} pre-activation layers but {len(kinds)} kinds")

    def unit_stats(h, kind):  # three (batch,) arrays for one layer
        h = np.asarray(h).reshape(len(h), -1)
        d = local_derivatives(h, kind).numpy()
        return np.mean(d == 0, axis=1), np.mean(d < tiny, axis=1), np.median(np.abs(h), axis=1)

    batches = []  # each (layers, 3, batch)
    for start in range(0, len(x), batch_size):
        pre = probe(np.asarray(x[start : start + batch_size], np.float32), training=False)
        pre = pre if isinstance(pre, (list, tuple)) else [pre]
        batches.append(np.array([unit_stats(h, kind) for h, kind in zip(pre, kinds)]))
    stats = np.concatenate(batches, axis=2)
    return {key: stats[:, i, :].T for i, key in enumerate(("zero", "tiny", "median_abs_h"))}
