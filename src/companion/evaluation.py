"""Evaluation shared by the chapters: predictions, accuracy (clean and under attack), input
gradients and the share of them that vanish, and a layer's activations. Inputs ``x`` are
``(n, ...)`` float arrays and labels ``y`` ``(n,)`` integers throughout."""

from __future__ import annotations

import numpy as np

from companion import attacks


def predict_logits(model, x, batch_size: int = 1000) -> np.ndarray:
    """Logits ``(n, classes)`` in batches, without the Keras progress bar."""
    return np.concatenate(
        [np.asarray(model(x[i : i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
    )


def batch_accuracy(logits, y):
    """Share of a batch whose top logit is the label (a float32 tensor), for training steps."""
    import tensorflow as tf

    return tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32), y), tf.float32))


def accuracy(model, x, y, batch_size: int = 1000) -> float:
    """Share of ``x`` whose top logit is the label ``y``."""
    return logits_accuracy(predict_logits(model, x, batch_size), y)


def logits_accuracy(logits, y) -> float:
    """Share of the rows of ``logits`` ``(n, classes)`` whose top entry is the label ``y``."""
    return float(np.mean(np.argmax(logits, axis=1) == np.asarray(y)))


SMALLEST_NORMAL_FLOAT32 = float(np.finfo(np.float32).tiny)
UNTARGETED_LOSSES = ("cross_entropy", "clipped_cross_entropy", "logit_margin")


def input_gradients(model, x, y, *, loss: str = "cross_entropy", batch_size: int = 500) -> np.ndarray:
    """:func:`companion.attacks.input_gradient` over batches: a NumPy array like ``x``."""
    return np.concatenate(
        [
            np.asarray(attacks.input_gradient(model, x[i : i + batch_size], y[i : i + batch_size], loss))
            for i in range(0, len(x), batch_size)
        ]
    )


def zero_gradient_share(gradients, below: float = 0.0) -> float:
    """Share of the examples of ``gradients`` ``(n, ...)`` whose every entry is exactly zero, or,
    with ``below > 0``, of magnitude below ``below``."""
    g = np.abs(np.reshape(gradients, (len(gradients), -1)))
    return float(np.mean(np.all(g == 0, axis=1) if below == 0 else np.all(g < below, axis=1)))


def gradient_shares(model, x, y) -> dict:
    """Shares of inputs whose float32 input gradient is exactly zero, or below the smallest
    normal float32 everywhere, for each loss of :data:`UNTARGETED_LOSSES` (the two ways of
    writing the cross-entropy and the logit margin): ``{loss: {"zero", "subnormal"}}``."""
    out = {}
    for loss in UNTARGETED_LOSSES:
        g = input_gradients(model, x, y, loss=loss)
        out[loss] = {"zero": zero_gradient_share(g), "subnormal": zero_gradient_share(g, SMALLEST_NORMAL_FLOAT32)}
    return out


def fgsm_accuracy(model, x, y, eps: float, loss: str) -> float:
    """Accuracy under FGSM with a cross-entropy or the stabilized logit-margin gradient."""
    return accuracy(model, attacks.batched(attacks.fgsm, model, x, y, eps=eps, loss=loss, batch_size=500).x, y)


def pgd_examples(model, x, y, *, eps: float, steps: int, **settings) -> np.ndarray:
    """:func:`companion.attacks.pgd` in batches of 500 with step size ``2.5 eps / steps``: the
    adversarial inputs ``(n, ...)``; ``settings`` go to the attack (loss, norm, restarts, ...)."""
    step = 2.5 * eps / max(steps, 1)
    return attacks.batched(attacks.pgd, model, x, y, eps=eps, steps=steps, step_size=step, batch_size=500, **settings).x


# fmt: off
def pgd_accuracy(model, x, y, eps: float, steps: int, restarts: int = 1, seed: int = 0, loss: str = "logit_margin",
                 norm: str = "linf") -> float:
    # fmt: on
    """Accuracy under PGD (:func:`pgd_examples`: ``loss``, ``norm``; an example counts as fooled
    if any iterate fools the model)."""
    x_adv = pgd_examples(model, x, y, eps=eps, steps=steps, restarts=restarts, loss=loss, seed=seed, norm=norm)
    return accuracy(model, x_adv, y)


def transfer_accuracy(source, targets: list, x, y, eps: float, steps: int) -> list[float]:
    """Accuracy of each model of ``targets`` on the same PGD examples, crafted once on ``source``
    (a black-box attack: no gradient of a target is used); the last iterate, which transfers
    better than the first to fool the source."""
    x_adv = pgd_examples(source, x, y, eps=eps, steps=steps, loss="logit_margin", until_fooled=False)
    return [accuracy(target, x_adv, y) for target in targets]


def activations(probe, x, batch_size: int = 500) -> np.ndarray:
    """``probe(x)`` in batches, each example flattened: ``(n, units)`` (``probe``: a Keras model
    from the inputs to one layer's output)."""
    return np.concatenate(
        [
            np.asarray(probe(x[i : i + batch_size], training=False)).reshape(len(x[i : i + batch_size]), -1)
            for i in range(0, len(x), batch_size)
        ]
    )
