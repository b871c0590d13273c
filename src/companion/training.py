"""Training loops. Losses take logits (``from_logits=True``)."""
from __future__ import annotations

import numpy as np

from .optimizer import Adam
from .reproducibility import perturb_initial_weights


def fit_sgd(model, x, y, x_test, y_test, epochs: int, batch_size: int, learning_rate: float,
            momentum: float) -> dict:
    """Train with SGD + momentum on the cross-entropy; returns per-epoch errors (fractions).

    ``x``: ``(n, ...)`` float32 inputs, ``y``: ``(n,)`` integer labels. The history holds
    ``train_error`` (running error over each epoch, as MatConvNet reports it) and
    ``test_error`` (on ``x_test`` after each epoch), lists of length ``epochs``.
    """
    import keras

    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}")
    perturb_initial_weights(model)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate, momentum=momentum),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=False)
    h = model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=(x_test, y_test),
                  shuffle=True, verbose=0)
    return {"train_error": [1.0 - a for a in h.history["accuracy"]],
            "test_error": [1.0 - a for a in h.history["val_accuracy"]]}


def predict_logits(model, x, batch_size: int = 1000) -> np.ndarray:
    """Logits ``(n, classes)`` in batches, without the Keras progress bar."""
    return np.concatenate([np.asarray(model(x[i:i + batch_size], training=False))
                           for i in range(0, len(x), batch_size)])


def batch_accuracy(logits, y):
    """Share of a batch whose top logit is the label (a float32 tensor), for training steps."""
    import tensorflow as tf

    return tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32), y), tf.float32))


STEPS_PER_CALL = 16


def run_epochs(step, x, y, epochs: int, batch_size: int, seed: int, last: tuple = (),
               evaluate=None, steps_per_call: int | None = None) -> dict:
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
        raise ValueError(f"epochs, batch_size and steps_per_call must be >= 1, "
                         f"got {epochs}, {batch_size}, {steps_per_call}")
    first = min(batch_size, len(x))
    keys = tuple(step.get_concrete_function(
        tf.TensorSpec((first,) + tuple(x.shape[1:]), tf.float32), tf.TensorSpec([first], tf.int32),
        tf.TensorSpec([], tf.int64)).structured_outputs)

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
        batches = [order[i:i + batch_size] for i in range(0, len(x), batch_size)]
        full = len(x) // batch_size
        chunks = [batches[i:min(i + steps_per_call, full)] for i in range(0, full, steps_per_call)]
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


def fit_adam(model, x, y, epochs: int, batch_size: int, learning_rate: float = 1e-3, *,
             saturation: dict | None = None, adversarial: dict | None = None, seed: int = 0,
             x_test=None, y_test=None) -> dict:
    """Adam on the cross-entropy, optionally with Nayebi & Ganguli's extra terms.

    ``saturation = dict(kinds, lam_max, lam_step, reduction)`` adds ``lam_t * penalty`` (eq. 8)
    with ``lam_t = min(lam_max, t * lam_step)`` after ``t`` minibatches: one annealing step is
    one minibatch. ``adversarial = dict(eps, alpha)`` trains on the interpolated loss (4),
    ``alpha CE(x) + (1 - alpha) CE(FGSM_eps(x))``, with FGSM on the current model.
    ``x``: ``(n, 28, 28, 1)`` float32, ``y``: ``(n,)``. Returns per-epoch lists: ``loss``,
    ``cross_entropy``, ``penalty``, ``lam`` (at the epoch's end), ``train_accuracy`` (running)
    and, with a test set, ``test_accuracy``.
    """
    import keras
    import tensorflow as tf

    from . import saturation as sat

    probe = None
    if saturation is not None:
        from .models import preactivation_model

        probe = preactivation_model(model)
        kinds, reduction = tuple(saturation["kinds"]), saturation.get("reduction", "sum")
        if len(kinds) != len(probe.outputs):
            raise ValueError(f"{len(kinds)} saturation kinds for {len(probe.outputs)} layers")
    perturb_initial_weights(model)
    optimizer = Adam(model.trainable_variables, learning_rate)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(jit_compile=False)
    def step(xb, yb, t):
        weights = model.trainable_variables
        with tf.GradientTape(persistent=adversarial is not None) as tape:
            if adversarial is not None:
                tape.watch(xb)
            if probe is not None:
                outs = probe(xb, training=True)
                logits = outs[-1]
                pen = sat.penalty(outs, kinds, reduction)
                lam = sat.annealed_lambda(t, saturation["lam_max"], saturation["lam_step"])
            else:
                logits = model(xb, training=True)
                pen, lam = tf.constant(0.0), tf.constant(0.0)
            cross = ce(yb, logits)
            loss = cross + lam * pen
        if adversarial is None:
            grads = tape.gradient(loss, weights)
        else:  # one backward pass gives FGSM's input gradient and the clean term's weight gradient
            alpha = adversarial["alpha"]
            g_x, *g_clean = tape.gradient(cross, [xb] + weights)
            g_pen = tape.gradient(pen, weights) if probe is not None else [0.0] * len(weights)
            x_adv = tf.stop_gradient(tf.clip_by_value(xb + adversarial["eps"] * tf.sign(g_x), 0.0, 1.0))
            with tf.GradientTape() as adv_tape:
                adv_cross = ce(yb, model(x_adv, training=True))
            g_adv = adv_tape.gradient(adv_cross, weights)
            grads = [alpha * gc + (1 - alpha) * ga + lam * gp for gc, ga, gp in zip(g_clean, g_adv, g_pen)]
            loss = alpha * cross + (1 - alpha) * adv_cross + lam * pen
        optimizer.apply(grads)
        return {"loss": loss, "cross_entropy": cross, "penalty": pen, "lam": lam,
                "train_accuracy": batch_accuracy(logits, yb)}

    evaluate = None if x_test is None else (lambda: {"test_accuracy": accuracy(model, x_test, y_test)})
    return run_epochs(step, x, y, epochs, batch_size, seed, last=("lam",), evaluate=evaluate)


def accuracy(model, x, y, batch_size: int = 1000) -> float:
    """Share of ``x`` whose top logit is the label ``y``."""
    return logits_accuracy(predict_logits(model, x, batch_size), y)


def logits_accuracy(logits, y) -> float:
    """Share of the rows of ``logits`` ``(n, classes)`` whose top entry is the label ``y``."""
    return float(np.mean(np.argmax(logits, axis=1) == np.asarray(y)))


JACOBIAN_NORMS = ("frobenius", "column_sums", "logit_column_sums")


def smoothness_penalties(model, probe, xb, jacobian: str, with_jacobian: bool = True):
    """The two extra terms of Schaeffer et al.'s loss (1) on a batch ``xb``:

    * ``||offdiag C||_F`` with ``C`` the covariance over the batch of the penultimate activations
      (``probe(xb)`` returns them);
    * the Frobenius norm of the Jacobian of the softmax outputs ``f(x)`` with respect to ``x``,
      averaged over the batch: exactly (``"frobenius"``, 10 vector-Jacobian products) or of its
      column sums (``"column_sums"``, the gradient of ``sum_i f_i``, which the paper used).
      Since ``sum_i f_i = 1``, the column sums vanish identically: that variant penalizes nothing.
      ``"logit_column_sums"`` takes the column sums of the logits' Jacobian instead, where they
      do not vanish (the other reading of the paper's ``f``).
    ``with_jacobian=False`` skips the Jacobian (its term is then 0). Returns
    ``(covariance_term, jacobian_term, logits)``.
    """
    import tensorflow as tf

    if jacobian not in JACOBIAN_NORMS:
        raise ValueError(f"jacobian must be one of {JACOBIAN_NORMS}, not {jacobian!r}")
    with tf.GradientTape(persistent=jacobian == "frobenius") as tape:
        tape.watch(xb)
        hidden, logits = probe(xb, training=True)
        probs = tf.nn.softmax(logits)
        summed = tf.reduce_sum(logits if jacobian == "logit_column_sums" else probs, axis=1)
    if not with_jacobian:
        jac_term = tf.constant(0.0)
    elif jacobian == "frobenius":
        jac = tape.batch_jacobian(probs, xb)  # (batch, 10, 32, 32, 3)
        jac_term = tf.reduce_mean(tf.sqrt(tf.reduce_sum(tf.square(jac), axis=[1, 2, 3, 4]) + 1e-20))
    else:
        g = tape.gradient(summed, xb)
        jac_term = tf.reduce_mean(tf.sqrt(tf.reduce_sum(tf.square(g), axis=[1, 2, 3]) + 1e-20))
    return offdiagonal_covariance_norm(hidden), jac_term, logits


def offdiagonal_covariance_norm(hidden):
    """``||offdiag C||_F`` for the covariance ``C`` ``(units, units)`` over the batch of
    ``hidden`` ``(batch, units)``, without forming ``C``: ``||C||_F^2`` is the squared Frobenius
    norm of the batch Gram matrix ``H_c H_c^T`` ``(batch, batch)``, and the diagonal of ``C`` is
    the column sums of ``H_c^2`` (``H_c`` centred). 8x fewer multiplies than ``C`` for a batch
    of 128 and 1000 units; no cancellation to fear, since a covariance of rank below the batch
    size keeps most of its Frobenius norm off the diagonal."""
    import tensorflow as tf

    centred = hidden - tf.reduce_mean(hidden, axis=0, keepdims=True)
    gram = tf.matmul(centred, centred, transpose_b=True)
    diagonal = tf.reduce_sum(tf.square(centred), axis=0)
    off_squared = tf.reduce_sum(tf.square(gram)) - tf.reduce_sum(tf.square(diagonal))
    scale = tf.cast(tf.shape(hidden)[0] - 1, hidden.dtype)
    return tf.sqrt(tf.maximum(off_squared, 0.0) / scale ** 2 + 1e-20)


def fit_smooth(model, x, y, epochs: int, batch_size: int, learning_rate: float = 1e-3,
               c1: float = 0.0, c2: float = 0.0, jacobian: str = "frobenius", seed: int = 0) -> dict:
    """Adam on ``CE + c1 ||offdiag C||_F + c2 ||J||_F`` (Schaeffer et al. eq. 1); the penalties
    come from :func:`smoothness_penalties` and are only computed when their coefficient is
    nonzero. ``x``: ``(n, 32, 32, 3)``, ``y``: ``(n,)``. Returns per-epoch means of ``loss``,
    ``covariance``, ``jacobian`` and the running ``train_accuracy``."""
    import keras
    import tensorflow as tf

    if c1 < 0 or c2 < 0:
        raise ValueError(f"c1 and c2 must be >= 0, got {c1}, {c2}")
    probe = keras.Model(model.input, [model.get_layer("penultimate").output, model.output])
    perturb_initial_weights(model)
    optimizer = Adam(model.trainable_variables, learning_rate)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(jit_compile=False)
    def step(xb, yb, t):
        with tf.GradientTape() as tape:
            if c1 or c2:
                cov, jac, logits = smoothness_penalties(model, probe, xb, jacobian, with_jacobian=c2 > 0)
            else:
                logits = model(xb, training=True)
                cov, jac = tf.constant(0.0), tf.constant(0.0)
            loss = ce(yb, logits) + c1 * cov + c2 * jac
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads)
        return {"loss": loss, "covariance": cov, "jacobian": jac, "train_accuracy": batch_accuracy(logits, yb)}

    return run_epochs(step, x, y, epochs, batch_size, seed)


def fit_robust(model, x, y, epochs: int, batch_size: int, eps: float, attack_steps: int,
               learning_rate: float = 1e-3, seed: int = 0) -> dict:
    """Adversarial training (Madry et al.) against L2 PGD, as the Robustness library trains its
    CIFAR-10 models: each minibatch is replaced by PGD examples of radius ``eps`` (``attack_steps``
    steps of size ``2.5 eps / attack_steps`` on the cross-entropy, from the clean images, with the
    model in inference mode), then Adam steps on their cross-entropy. ``eps = 0`` is standard
    training. ``x``: ``(n, ...)`` in [0, 1], ``y``: ``(n,)``. Returns per-epoch ``loss`` (on the
    adversarial batches) and the running ``train_accuracy`` on them."""
    import keras
    import tensorflow as tf

    from .attacks import pgd_ascent

    if eps < 0 or attack_steps < 0:
        raise ValueError(f"eps and attack_steps must be >= 0, got {eps}, {attack_steps}")
    perturb_initial_weights(model)
    optimizer = Adam(model.trainable_variables, learning_rate)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    step_size = 2.5 * eps / max(attack_steps, 1)

    @tf.function(jit_compile=False)
    def step(xb, yb, t):
        if eps > 0 and attack_steps > 0:
            xb = tf.stop_gradient(pgd_ascent(model, xb, yb, xb, eps, attack_steps, step_size, norm="l2"))
        with tf.GradientTape() as tape:
            logits = model(xb, training=True)
            loss = ce(yb, logits)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads)
        return {"loss": loss, "train_accuracy": batch_accuracy(logits, yb)}

    return run_epochs(step, x, y, epochs, batch_size, seed)
