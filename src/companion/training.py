"""Training loops: SGD through Keras' ``fit`` (:func:`fit_sgd`), and Adam on a loss made of
terms (:func:`fit_adam`: the clean cross-entropy, an adversarial term, a paper's penalty), both
looping over minibatches with :func:`run_epochs`. Losses take logits (``from_logits=True``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion import evaluation
from companion.optimizer import Adam
from companion.reproducibility import perturb_initial_weights


def fit_sgd(model, x, y, x_test, y_test, epochs: int, batch_size: int, learning_rate: float, momentum: float) -> dict:
    """Train with SGD + momentum on the cross-entropy; returns per-epoch errors (fractions).

    ``x``: ``(n, ...)`` float32 inputs, ``y``: ``(n,)`` integer labels. The history holds
    ``train_error`` (running error over each epoch, as MatConvNet reports it) and
    ``test_error`` (on ``x_test`` after each epoch), lists of length ``epochs``.
    """
    import keras

    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}")
    perturb_initial_weights(model)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate, momentum=momentum),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=False,
    )
    h = model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=(x_test, y_test), shuffle=True, verbose=0)
    return {
        "train_error": [1.0 - a for a in h.history["accuracy"]],
        "test_error": [1.0 - a for a in h.history["val_accuracy"]],
    }


STEPS_PER_CALL = 16


def run_epochs(
    step,
    x,
    y,
    epochs: int,
    batch_size: int,
    seed: int,
    last: tuple = (),
    evaluate=None,
    steps_per_call: int | None = None,
) -> dict:
    """The epoch loop the training functions share.

    Each epoch visits ``x``, ``y`` in a fresh random order (``numpy`` generator seeded with
    ``seed``) in minibatches; ``step(xb, yb, t)``, a ``tf.function`` (``t`` = minibatch count
    from 1, int64), returns a dict of scalar batch means. Up to ``steps_per_call`` (default
    :data:`STEPS_PER_CALL`) full minibatches go to TensorFlow in one call, a loop over them in
    one graph: the same steps in the same order, each on a minibatch of the same static shape
    (so the same kernels and the same weights as one call per step), without paying the ~2 ms
    of a call from Python on every step. History: per epoch, each value averaged over the
    epoch's examples, except the keys in ``last`` (their value at the epoch's last minibatch),
    then the entries of ``evaluate()`` if given.
    """
    import tensorflow as tf

    steps_per_call = STEPS_PER_CALL if steps_per_call is None else steps_per_call
    if epochs < 1 or batch_size < 1 or steps_per_call < 1:
        raise ValueError(
            f"epochs, batch_size and steps_per_call must be >= 1, got {epochs}, {batch_size}, {steps_per_call}"
        )
    first = min(batch_size, len(x))
    keys = tuple(
        step.get_concrete_function(
            tf.TensorSpec((first,) + tuple(x.shape[1:]), tf.float32),
            tf.TensorSpec([first], tf.int32),
            tf.TensorSpec([], tf.int64),
        ).structured_outputs
    )

    @tf.function(jit_compile=False)
    def steps(xs, ys, t0):  # xs: (k, batch, ...), a static shape, as one step would see it
        logs = {key: tf.TensorArray(tf.float32, size=xs.shape[0]) for key in keys}
        for i in tf.range(xs.shape[0]):
            out = step(xs[i], ys[i], t0 + tf.cast(i, tf.int64) + 1)
            logs = {key: logs[key].write(i, tf.cast(out[key], tf.float32)) for key in keys}
        return {key: log.stack() for key, log in logs.items()}

    rng = np.random.default_rng(seed)
    history: dict = {}
    t = 0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        batches = [order[i : i + batch_size] for i in range(0, len(x), batch_size)]
        full = len(x) // batch_size
        chunks = [batches[i : min(i + steps_per_call, full)] for i in range(0, full, steps_per_call)]
        chunks += [batches[full:]] if full < len(batches) else []  # the last, smaller minibatch
        sums: dict = {}
        for chunk in chunks:
            idx = np.stack(chunk)
            out = steps(tf.constant(x[idx]), tf.constant(y[idx], tf.int32), tf.constant(t, tf.int64))
            t += len(chunk)
            for key, values in out.items():
                for value in values.numpy():
                    sums[key] = float(value) if key in last else sums.get(key, 0.0) + float(value) * idx.shape[1]
        for key, total in sums.items():
            history.setdefault(key, []).append(total if key in last else total / len(x))
        for key, value in (evaluate() if evaluate else {}).items():
            history.setdefault(key, []).append(value)
    return history


@dataclass(frozen=True)
class FgsmInterpolation:
    """The adversarial term of Goodfellow et al.'s (and Nayebi & Ganguli's loss (4)):
    ``alpha CE(x) + (1 - alpha) CE(FGSM_eps(x))``, FGSM on the current model, pixels in [0, 1]."""

    eps: float
    alpha: float

    def __post_init__(self):
        if self.eps < 0 or not 0 <= self.alpha <= 1:
            raise ValueError(f"need eps >= 0 and alpha in [0, 1], got {self.eps}, {self.alpha}")


@dataclass(frozen=True)
class PgdReplacement:
    """Madry et al.'s adversarial training, as the Robustness library trains its CIFAR-10 models:
    each minibatch is replaced by L2 PGD examples of radius ``eps`` (``steps`` steps of size
    ``2.5 eps / steps`` on the cross-entropy, from the clean images, with the model in inference
    mode). ``eps = 0`` or ``steps = 0`` leaves the minibatch as it is."""

    eps: float
    steps: int

    def __post_init__(self):
        if self.eps < 0 or self.steps < 0:
            raise ValueError(f"eps and steps must be >= 0, got {self.eps}, {self.steps}")

    def replace(self, model, xb, yb):
        import tensorflow as tf

        from companion.attacks import pgd_ascent

        if self.eps == 0 or self.steps == 0:
            return xb
        return tf.stop_gradient(
            pgd_ascent(
                model, xb, yb, xb, eps=self.eps, steps=self.steps, step_size=2.5 * self.eps / self.steps, norm="l2"
            )
        )


def fit_adam(
    model,
    x,
    y,
    epochs: int,
    batch_size: int,
    learning_rate: float = 1e-3,
    *,
    penalty=None,
    adversarial: FgsmInterpolation | PgdReplacement | None = None,
    seed: int = 0,
    x_test=None,
    y_test=None,
) -> dict:
    """Adam on a loss made of terms: the cross-entropy of the (clean) minibatch, a paper's
    ``penalty``, and an ``adversarial`` term.

    ``penalty`` (e.g. Nayebi & Ganguli's saturation penalty, Schaeffer et al.'s smoothness
    penalties) has ``forward(model)``, which returns ``f(xb, t) -> (logits, terms, logs)``: the
    logits of minibatch ``xb`` ``(b, ...)`` after ``t`` minibatches, the weighted terms added to
    the cross-entropy one after the other, and scalars to log; its ``last`` names the logs kept
    at their epoch-end value (the others are averaged). ``adversarial``: :class:`FgsmInterpolation`
    (one backward pass gives FGSM's input gradient and the clean term's weight gradient) or
    :class:`PgdReplacement`. ``x``: ``(n, ...)`` float32, ``y``: ``(n,)``. Returns per-epoch lists:
    ``loss``, ``cross_entropy``, the penalty's logs, the running ``train_accuracy`` and, with a
    test set, ``test_accuracy``. (FGSM with a penalty, a pairing no chapter uses, adds the gradient
    of the weighted penalty, ``grad(lam * pen)``; the loop before the regrouping added
    ``lam * grad(pen)``, equal up to rounding.)
    """
    import keras
    import tensorflow as tf

    forward = penalty.forward(model) if penalty is not None else None
    fgsm = adversarial if isinstance(adversarial, FgsmInterpolation) else None
    perturb_initial_weights(model)
    optimizer = Adam(model.trainable_variables, learning_rate)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(jit_compile=False)
    def step(xb, yb, t):
        weights = model.trainable_variables
        if isinstance(adversarial, PgdReplacement):
            xb = adversarial.replace(model, xb, yb)
        with tf.GradientTape(persistent=fgsm is not None) as tape:
            if fgsm is not None:
                tape.watch(xb)
            logits, terms, logs = forward(xb, t) if forward else (model(xb, training=True), [], {})
            cross = ce(yb, logits)
            loss = cross
            for term in terms:
                loss = loss + term
            pen = sum(terms[1:], terms[0]) if terms else None
        if fgsm is None:
            grads = tape.gradient(loss, weights)
        else:
            g_x, *grads_clean = tape.gradient(cross, [xb] + weights)
            x_adv = tf.stop_gradient(tf.clip_by_value(xb + fgsm.eps * tf.sign(g_x), 0.0, 1.0))
            with tf.GradientTape() as adv_tape:
                adv_cross = ce(yb, model(x_adv, training=True))
            grads_adv = adv_tape.gradient(adv_cross, weights)
            grads = [fgsm.alpha * gc + (1 - fgsm.alpha) * ga for gc, ga in zip(grads_clean, grads_adv)]
            loss = fgsm.alpha * cross + (1 - fgsm.alpha) * adv_cross
            if pen is not None:
                grads = [g + gp for g, gp in zip(grads, tape.gradient(pen, weights))]
                loss = loss + pen
        optimizer.apply(grads)
        return {"loss": loss, "cross_entropy": cross, **logs, "train_accuracy": evaluation.batch_accuracy(logits, yb)}

    evaluate = None if x_test is None else (lambda: {"test_accuracy": evaluation.accuracy(model, x_test, y_test)})
    return run_epochs(step, x, y, epochs, batch_size, seed, last=getattr(penalty, "last", ()), evaluate=evaluate)
