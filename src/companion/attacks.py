"""Adversarial attacks: batched, compiled, working on logits. The one loss that goes through the
softmax's probabilities, ``"clipped_cross_entropy"``, is there to show what that costs.

Every attack is called ``attack(model, x, y_or_target, *, hyperparameters)`` with ``x`` ``(n, ...)``
float inputs and ``(n,)`` integer labels, and returns an :class:`Adversarial`: the adversarial
inputs ``x`` ``(n, ...)`` and what the attack knows of each example (``(n,)`` arrays, ``None``
where the attack does not measure it). :func:`batched` runs any of them over batches.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import log_softmax


@dataclass(frozen=True)
class Adversarial:
    """What every attack returns. ``x``: ``(n, ...)`` float32 adversarial inputs; per example:

    * ``success`` ``(n,)`` bool: the model's label is the target (targeted attacks) or no longer
      the true label (untargeted) at ``x``; for :func:`targeted_gradient_ascent`, the target's
      temperature-scaled probability reached ``p_stop``, its goal;
    * ``steps`` ``(n,)`` int: the updates (or optimizer iterations) the example took;
    * ``distance`` ``(n,)`` float: ``||x - x_0||_2`` where the attack succeeded, ``inf`` elsewhere;
    * ``confidence`` ``(n,)`` float: the final probability of the target class.
    """

    x: np.ndarray
    success: np.ndarray | None = None
    steps: np.ndarray | None = None
    distance: np.ndarray | None = None
    confidence: np.ndarray | None = None

    FIELDS = ("x", "success", "steps", "distance", "confidence")

    @classmethod
    def concatenate(cls, parts: list) -> Adversarial:
        """One result from the results of consecutive batches."""
        return cls(
            *(
                None if getattr(parts[0], f) is None else np.concatenate([getattr(p, f) for p in parts])
                for f in cls.FIELDS
            )
        )


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


def targeted_gradient_ascent(
    model,
    x,
    target,
    *,
    temperature: float,
    step: float = 1.0,
    p_stop: float = 0.95,
    max_steps: int = 5000,
    bounds: tuple = (0.0, 255.0),
):
    """Tanay & Griffin's targeted attack: ``x <- clip(x + step * g / ||g||)`` until ``p_l >= p_stop``.

    ``g`` is the input gradient of ``log p_l(x)`` with ``p = softmax(logits / temperature)``; it
    has the direction of the gradient of ``p_l`` that the paper uses, without its underflow.
    ``x``: ``(n, ...)`` inputs, ``target``: ``(n,)`` labels ``l``. Returns an :class:`Adversarial`
    with ``confidence`` the final ``p_l``, ``success`` where it reached ``p_stop``, and ``steps``
    the updates each image took (``max_steps`` where it never reached ``p_stop``).
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
            lambda i, xb, s, any_active: tf.logical_and(i < max_steps, any_active),
            body,
            (tf.constant(0), x0, tf.zeros([x0.shape[0]], tf.int32), tf.constant(True)),
        )
        return xb, tf.exp(log_p(xb)), steps

    x_adv, p, steps = (t.numpy() for t in run(x))
    return Adversarial(x_adv, success=p >= p_stop, steps=steps, confidence=p)


LOSSES = ("cross_entropy", "clipped_cross_entropy", "logit_margin", "target_log_probability")
PROBABILITY_EPSILON = 1e-7  # Keras' backend.epsilon(), the clip of its probability-space loss


def attack_loss(logits, y, loss: str = "cross_entropy"):
    """Per-example loss an attack ascends, from logits ``(n, k)`` and labels ``(n,)``.

    ``"cross_entropy"``: the softmax cross-entropy from the logits.
    ``"clipped_cross_entropy"``: the same loss computed the way Keras' ``categorical_crossentropy``
    computed it from a softmax output through Keras 2.1 (2017), and still does when handed
    probabilities it cannot trace back to logits: ``-log clip(softmax(z)_y, 1e-7, 1 - 1e-7)``. Its
    gradient is exactly zero once ``softmax(z)_y`` rounds above ``1 - 1e-7``, from a logit margin of
    about 18 (:func:`vanishing_margin`). ``"logit_margin"``: ``max_{j != y} z_j - z_y``,
    whose gradient does not vanish when the softmax saturates (a stabilized gradient).
    ``"target_log_probability"``: ``log softmax(z)_y`` with ``y`` the *target* class; ascending it
    is a targeted attack.
    """
    import tensorflow as tf

    if loss == "cross_entropy":
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    if loss == "clipped_cross_entropy":
        p = tf.gather(tf.nn.softmax(logits), y, batch_dims=1)
        return -tf.math.log(tf.clip_by_value(p, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON))
    if loss == "logit_margin":
        true = tf.gather(logits, y, batch_dims=1)
        others = logits - 1e30 * tf.one_hot(y, tf.shape(logits)[1], dtype=logits.dtype)
        return tf.reduce_max(others, axis=1) - true
    if loss == "target_log_probability":
        return -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    raise ValueError(f"unknown attack loss {loss!r}; choose one of {list(LOSSES)}")


def vanishing_margin(classes: int = 10, loss: str = "cross_entropy") -> float:
    """The smallest logit margin ``m`` (true logit ``m``, the others 0) at which the float32
    gradient of ``loss`` (a cross-entropy of :func:`attack_loss`) with respect to the logits is
    exactly zero, found by bisection to 0.01. For ``"cross_entropy"``: where every wrong-class
    probability ``e^-m / (1 + (k-1) e^-m)`` underflows; about 87.3 (``-ln`` of the smallest normal
    float32) on CPUs that flush subnormals to zero, up to about 104 where they do not. For
    ``"clipped_cross_entropy"``: where ``softmax(z)_y`` rounds above the clip ``1 - 1e-7``, about
    ``ln((k-1) / 1e-7)``, 18 for ten classes."""
    import tensorflow as tf

    def vanishes(m: float) -> bool:
        z = tf.constant([[m] + [0.0] * (classes - 1)], tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(z)
            value = attack_loss(z, tf.constant([0]), loss)
        return not np.any(tape.gradient(value, z).numpy())

    lo, hi = 0.0, 1000.0
    if not vanishes(hi):
        raise RuntimeError(f"the gradient of {loss} does not vanish even at margin 1000")
    while hi - lo > 0.01:
        lo, hi = (lo, (lo + hi) / 2) if vanishes((lo + hi) / 2) else ((lo + hi) / 2, hi)
    return hi


def input_gradient(model, x, y, loss: str = "cross_entropy"):
    """Input gradient of an :func:`attack_loss` at ``x`` ``(n, ...)``; a tensor like ``x``.

    For the cross-entropy from logits it vanishes exactly in float32 once every wrong-class
    probability underflows (a logit margin beyond about 87 to 104); for the clipped cross-entropy
    from a margin of about 18 (:func:`vanishing_margin`).
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(np.asarray(x, np.float32))
    y = tf.convert_to_tensor(np.asarray(y, np.int32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = attack_loss(model(x, training=False), y, loss)
    return tape.gradient(value, x)


def fgsm(model, x, y, *, eps: float, bounds: tuple = (0.0, 1.0), loss: str = "cross_entropy"):
    """Fast gradient sign method: ``clip(x + eps * sign(grad_x loss(model(x), y)))``.

    ``x``: ``(n, ...)`` float inputs, ``y``: ``(n,)`` labels; ``loss`` as in :func:`attack_loss`
    (``"logit_margin"`` gives FGSM with a stabilized gradient). Returns an :class:`Adversarial`
    with ``x`` only.
    """
    import tensorflow as tf

    if eps < 0:
        raise ValueError(f"eps must be >= 0, not {eps}")
    x = tf.convert_to_tensor(np.asarray(x, np.float32))
    return Adversarial(tf.clip_by_value(x + eps * tf.sign(input_gradient(model, x, y, loss)), *bounds).numpy())


def l2_norm(v):
    """Per-example L2 norm of ``v`` ``(n, ...)``, shaped ``(n, 1, ...)`` for broadcasting."""
    import tensorflow as tf

    return tf.sqrt(tf.reduce_sum(v * v, axis=list(range(1, len(v.shape))), keepdims=True))


def project(xa, x0, eps: float, norm: str = "linf", bounds: tuple = (0.0, 1.0)):
    """``xa`` moved into the ``norm`` ball of radius ``eps`` around ``x0`` and into ``bounds``."""
    import tensorflow as tf

    d = xa - x0
    if norm == "linf":
        d = tf.clip_by_value(d, -eps, eps)
    else:
        d = d * tf.minimum(1.0, eps / tf.maximum(l2_norm(d), 1e-12))
    return tf.clip_by_value(x0 + d, *bounds)


# fmt: off
def pgd_ascent(model, x0, y, start, *, eps: float, steps: int, step_size: float, loss: str = "cross_entropy",
               norm: str = "linf", bounds: tuple = (0.0, 1.0)):
    # fmt: on
    """The PGD iterations as tensor code, usable inside a ``tf.function`` (e.g. a training step):
    ``steps`` ascent steps on :func:`attack_loss` from ``start``, each projected by :func:`project`.
    Tensors ``x0``, ``start``: ``(n, ...)``, ``y``: ``(n,)``; returns the final ``(n, ...)``."""
    import tensorflow as tf

    xa = project(start, x0, eps, norm, bounds)
    for _ in tf.range(steps):
        with tf.GradientTape() as tape:
            tape.watch(xa)
            value = attack_loss(model(xa, training=False), y, loss)
        g = tape.gradient(value, xa)
        direction = tf.sign(g) if norm == "linf" else g / tf.maximum(l2_norm(g), 1e-12)
        xa = project(xa + step_size * direction, x0, eps, norm, bounds)
    return xa


# fmt: off
def pgd_until_fooled(model, x0, y, start, *, eps: float, steps: int, step_size: float, loss: str = "cross_entropy",
                     norm: str = "linf", bounds: tuple = (0.0, 1.0)):
    # fmt: on
    """:func:`pgd_ascent`, except that each example stops at the first iterate the model
    misclassifies (its logits come with the gradient's forward pass, so the check is free), and
    the later steps are computed for the others only. Examples never fooled end where
    :func:`pgd_ascent` ends them. Tensors ``x0``, ``start``: ``(n, ...)``, ``y``: ``(n,)``;
    returns ``(n, ...)``."""
    import tensorflow as tf

    xa = project(start, x0, eps, norm, bounds)
    moving = tf.range(tf.shape(x0)[0])

    def body(i, out, xa, x0, y, moving):
        with tf.GradientTape() as tape:
            tape.watch(xa)
            logits = model(xa, training=False)
            value = attack_loss(logits, y, loss)
        g = tape.gradient(value, xa)
        fooled = tf.not_equal(tf.argmax(logits, 1, output_type=tf.int32), y)
        out = tf.tensor_scatter_nd_update(out, tf.boolean_mask(moving, fooled)[:, None], tf.boolean_mask(xa, fooled))
        keep = tf.logical_not(fooled)
        xa, g, x0, y, moving = (tf.boolean_mask(t, keep) for t in (xa, g, x0, y, moving))
        direction = tf.sign(g) if norm == "linf" else g / tf.maximum(l2_norm(g), 1e-12)
        return i + 1, out, project(xa + step_size * direction, x0, eps, norm, bounds), x0, y, moving

    anywhere = tf.TensorShape([None] + list(x0.shape[1:]))
    _, out, xa, _, _, moving = tf.while_loop(
        lambda i, out, xa, x0, y, moving: tf.logical_and(i < steps, tf.size(moving) > 0),
        body,
        (tf.constant(0, steps.dtype if hasattr(steps, "dtype") else tf.int32), xa, xa, x0, y, moving),
        shape_invariants=(
            tf.TensorShape([]),
            xa.shape,
            anywhere,
            anywhere,
            tf.TensorShape([None]),
            tf.TensorShape([None]),
        ),
    )
    return tf.tensor_scatter_nd_update(out, moving[:, None], xa)


# Compiled attack graphs. Tracing one costs about a second per network, and the chapters attack
# many networks of one architecture (the synthesis chapter measures 22 networks of 7), so a graph
# is traced once per architecture, for a *template*: a copy of the first model of that
# architecture, into which each model's weights are copied before every run. The same operations
# then run on the same numbers, so the results are those of the model's own graph. A model whose
# config does not pin its computation down (a subclassed one) gets graphs of its own, kept while
# it lives.
_GRAPHS_BY_MODEL: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_GRAPHS_BY_ARCHITECTURE: dict = {}


def architecture(model) -> str | None:
    """A text that two Keras functional (or ``Sequential``) models share exactly when their layers,
    wiring, shapes and dtypes are the same: the model's config with every layer's name replaced by
    its position. ``None`` for other models (a subclassed model's config need not describe what
    its ``call`` computes)."""
    import json

    if type(model).__name__ not in ("Functional", "Sequential"):
        return None
    # a Sequential model's input layer is not among its layers: it is named through its input
    inputs = [getattr(getattr(t, "_keras_history", None), "operation", None) for t in model.inputs]
    names = [layer.name for layer in model.layers] + [layer.name for layer in inputs if layer is not None]
    position = {name: f"#{i}" for i, name in enumerate(names)}
    position[model.name] = "#model"

    def canonical(value, key=None):
        if isinstance(value, dict):
            return {k: canonical(v, k) for k, v in value.items()}
        if isinstance(value, list | tuple):
            if key in ("keras_history", "input_layers", "output_layers") and value and isinstance(value[0], str):
                return [position.get(value[0], value[0]), *(canonical(v) for v in value[1:])]
            return [canonical(v, key if key in ("input_layers", "output_layers") else None) for v in value]
        return position.get(value, value) if key == "name" and isinstance(value, str) else value

    try:
        config = model.get_config()
    except Exception:  # a layer that cannot describe itself: graphs of the model's own
        return None
    return json.dumps(canonical(config), sort_keys=True, default=str)


@dataclass(frozen=True)
class _WithWeights:
    """A graph traced for ``template``, run with ``model``'s weights copied into the template."""

    graph: object
    template: object
    model: object

    def __call__(self, *args):
        for target, source in zip(self.template.weights, self.model.weights, strict=True):
            target.assign(source)
        return self.graph(*args)


def _compiled(model, key: tuple, build):
    """The compiled graph ``build(m)`` for ``model`` and ``key``: traced once per
    :func:`architecture` and ``key`` (``m`` is then the architecture's template), or once per
    model and ``key`` for a model of no readable architecture (``m`` is the model). Attacking
    the same model, or another of its architecture, again (other settings, other batches) does
    not trace it again."""
    import keras

    spec = architecture(model)
    if spec is None:
        graphs = _GRAPHS_BY_MODEL.setdefault(model, {})
        if key not in graphs:
            graphs[key] = build(model)
        return graphs[key]
    if spec not in _GRAPHS_BY_ARCHITECTURE:
        _GRAPHS_BY_ARCHITECTURE[spec] = (keras.models.clone_model(model), {})
    template, graphs = _GRAPHS_BY_ARCHITECTURE[spec]
    if key not in graphs:
        graphs[key] = build(template)
    return _WithWeights(graphs[key], template, model)


def _compiled_pgd(model, loss: str, norm: str, bounds: tuple, until_fooled: bool):
    """The compiled PGD run for ``model`` and one (loss, norm, bounds, early stop or not): budget,
    steps and step size are tensor arguments."""
    import tensorflow as tf

    ascent = pgd_until_fooled if until_fooled else pgd_ascent

    def build(model):
        @tf.function(jit_compile=False, reduce_retracing=True)
        def run(x0, y, start, eps, steps, step_size):
            xa = ascent(
                model, x0, y, start, eps=eps, steps=steps, step_size=step_size, loss=loss, norm=norm, bounds=bounds
            )
            logits = model(xa, training=False)
            fooled = tf.not_equal(tf.argmax(logits, 1, output_type=tf.int32), y)
            return xa, fooled, attack_loss(logits, y, loss)

        return run

    return _compiled(model, ("pgd", loss, norm, bounds, until_fooled), build)


def pgd(
    model,
    x,
    y,
    *,
    eps: float,
    steps: int,
    step_size: float,
    restarts: int = 1,
    loss: str = "cross_entropy",
    norm: str = "linf",
    bounds: tuple = (0.0, 1.0),
    seed: int = 0,
    until_fooled: bool = True,
):
    """Projected gradient ascent on ``loss`` within the ``norm`` ball of radius ``eps``.

    ``norm="linf"`` steps by ``step_size * sign(g)``; ``"l2"`` by ``step_size * g / ||g||``.
    ``until_fooled``: an example stops at the first iterate the model misclassifies
    (:func:`pgd_until_fooled`: the adversarial example found is kept, and the steps go to the
    others); ``False`` runs every step on every example (for transfer, where the last iterate
    is the stronger one). Each restart after the first starts from a uniform random point of the
    ball (the first starts at ``x``). Per example, the result is the first restart that fools the
    model, else the one with the highest final loss. Each run is one compiled graph.
    ``x``: ``(n, ...)``, ``y``: ``(n,)``. Returns an :class:`Adversarial` with ``success``
    where the result fools the model.
    """
    import tensorflow as tf

    if norm not in ("linf", "l2"):
        raise ValueError(f"norm must be 'linf' or 'l2', not {norm!r}")
    if eps < 0 or steps < 0 or step_size < 0 or restarts < 1:
        raise ValueError(
            f"need eps, steps, step_size >= 0 and restarts >= 1, got {eps}, {steps}, {step_size}, {restarts}"
        )
    if loss not in LOSSES:
        raise ValueError(f"unknown attack loss {loss!r}; choose one of {list(LOSSES)}")
    x0 = tf.convert_to_tensor(np.asarray(x, np.float32))
    y = tf.convert_to_tensor(np.asarray(y, np.int32))
    shape = [-1] + [1] * (len(x0.shape) - 1)
    compiled = _compiled_pgd(model, loss, norm, tuple(bounds), until_fooled)
    settings = (tf.constant(eps, tf.float32), tf.constant(steps, tf.int32), tf.constant(step_size, tf.float32))

    rng = np.random.default_rng(seed)
    best, best_fooled, best_loss = None, None, None
    for r in range(restarts):
        if r == 0:
            start = x0
        elif norm == "linf":
            start = x0 + rng.uniform(-eps, eps, size=x0.shape).astype(np.float32)
        else:
            direction = rng.normal(size=x0.shape).astype(np.float32)
            direction /= np.linalg.norm(direction.reshape(len(direction), -1), axis=1).reshape(shape)
            radius = eps * rng.uniform(size=(x0.shape[0],)) ** (1.0 / np.prod(x0.shape[1:]))
            start = x0 + direction * radius.reshape(shape).astype(np.float32)
        if best is None:
            best, best_fooled, best_loss = (t.numpy() for t in compiled(x0, y, start, *settings))
            continue
        # a later start can only replace an example not fooled yet: attack just those (the
        # random starts are drawn for every example all the same, so the result does not change)
        todo = np.flatnonzero(~best_fooled)
        if len(todo) == 0:
            break
        xa, fooled, value = (
            t.numpy() for t in compiled(tf.gather(x0, todo), tf.gather(y, todo), tf.gather(start, todo), *settings)
        )
        better = fooled | (value > best_loss[todo])
        best[todo[better]], best_fooled[todo[better]], best_loss[todo[better]] = (
            xa[better],
            fooled[better],
            value[better],
        )
    return Adversarial(best, success=best_fooled)


def spsa(
    model,
    x,
    y,
    *,
    eps: float,
    steps: int,
    samples: int = 64,
    delta: float = 0.01,
    learning_rate: float = 0.01,
    bounds: tuple = (0.0, 1.0),
    seed: int = 0,
):
    """A gradient-free L-inf attack (SPSA, Uesato et al. 2018) on the logit margin.

    Each step estimates the gradient of :func:`attack_loss` (``"logit_margin"``) from ``samples``
    pairs of evaluations at ``x +- delta * v`` with Rademacher ``v``, takes an Adam step on it
    and projects onto the ``eps`` ball. It uses only the model's outputs, never its gradients.
    An image stops moving once the model misclassifies it (the first adversarial example found is
    kept, and the remaining steps are spent on the others); ``v`` is drawn for every image at every
    step all the same, so an image's path does not depend on which others are still moving.
    ``x``: ``(n, ...)``, ``y``: ``(n,)``. Returns an :class:`Adversarial` with ``x`` only.
    """
    import tensorflow as tf

    if eps < 0 or steps < 0 or samples < 1 or delta <= 0:
        raise ValueError(f"need eps, steps >= 0, samples >= 1, delta > 0; got {eps}, {steps}, {samples}, {delta}")
    x0 = np.asarray(x, np.float32)
    y = np.asarray(y, np.int32)
    n, dims = x0.shape[0], list(x0.shape[1:])
    tf_seed = tf.constant([seed, 0], tf.int32)

    @tf.function(jit_compile=False, reduce_retracing=True)
    def fooled_now(xa, ya):
        return tf.not_equal(tf.argmax(model(xa, training=False), 1, output_type=tf.int32), ya)

    @tf.function(jit_compile=False, reduce_retracing=True)
    def step(xa, start, ya, m, v, u, t):
        both = tf.concat([xa[None] + delta * u, xa[None] - delta * u], axis=0)
        flat = tf.reshape(both, [-1] + dims)
        losses = tf.reshape(
            attack_loss(model(flat, training=False), tf.tile(ya, [2 * samples]), "logit_margin"), [2, samples, -1]
        )
        diff = (losses[0] - losses[1]) / (2 * delta)
        g = tf.reduce_mean(tf.reshape(diff, [samples, -1] + [1] * len(dims)) * u, axis=0)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        tf_t = tf.cast(t, tf.float32)
        update = learning_rate * (m / (1 - 0.9**tf_t)) / (tf.sqrt(v / (1 - 0.999**tf_t)) + 1e-8)
        return tf.clip_by_value(tf.clip_by_value(xa + update, start - eps, start + eps), *bounds), m, v

    xa, m, v = x0.copy(), np.zeros_like(x0), np.zeros_like(x0)
    moving = np.arange(n)
    for t in range(1, steps + 1):
        moving = moving[~fooled_now(xa[moving], y[moving]).numpy()]
        if len(moving) == 0:
            break
        signs = tf.random.stateless_uniform([samples, n] + dims, seed=tf_seed + [0, t], maxval=2, dtype=tf.int32)
        u = tf.cast(2 * tf.gather(signs, moving, axis=1) - 1, tf.float32)
        new = step(xa[moving], x0[moving], y[moving], m[moving], v[moving], u, tf.constant(t, tf.int64))
        xa[moving], m[moving], v[moving] = (t_.numpy() for t_ in new)
    return Adversarial(xa)


def _deepfool_graph(model, bounds, candidates):
    import tensorflow as tf

    def build(model):
        @tf.function(jit_compile=False, reduce_retracing=True)
        def run(x0, y, steps, overshoot, refine_steps):
            pixel_axes = list(range(1, len(x0.shape)))

            def size_of(v):
                return tf.sqrt(tf.reduce_sum(tf.square(v), axis=pixel_axes))

            def per_image(v):  # (n,) -> (n, 1, ...), to scale or select images
                return tf.reshape(v, [-1] + [1] * len(pixel_axes))

            # each step linearizes only the images still classified as ``y`` at the last look
            # (``left``, their indices): one that has crossed stays where it is, so a few slow
            # images do not keep the whole batch in the loop
            r_total, left = tf.zeros_like(x0), tf.range(tf.shape(x0)[0])
            for _ in tf.range(steps):
                tf.autograph.experimental.set_loop_options(shape_invariants=[(left, tf.TensorShape([None]))])
                y_left = tf.gather(y, left)
                xa = tf.gather(x0, left) + (1.0 + overshoot) * tf.gather(r_total, left)
                if bounds is not None:
                    xa = tf.clip_by_value(xa, *bounds)
                with tf.GradientTape(persistent=True) as tape:
                    tape.watch(xa)
                    logits = model(xa, training=False)
                    classes = logits.shape[1]
                    diffs = logits - tf.gather(logits, y_left, batch_dims=1)[:, None]  # z_j - z_y
                    others = diffs - 1e30 * tf.one_hot(y_left, classes)
                    k = classes - 1 if candidates is None else min(candidates, classes - 1)
                    chosen = tf.gather(diffs, tf.math.top_k(others, k).indices, batch_dims=1)  # (m, k)
                    columns = tf.unstack(chosen, num=k, axis=1)
                active = tf.equal(tf.argmax(logits, 1, output_type=tf.int32), y_left)
                if not tf.reduce_any(active):
                    break
                grads = tf.stack([tape.gradient(c, xa) for c in columns], axis=1)  # (m, k, ...)
                del tape
                if bounds is not None:  # a pixel at a bound moves only inwards: linearize in the others
                    at_low = tf.logical_and(xa[:, None] <= bounds[0], grads < 0)
                    at_high = tf.logical_and(xa[:, None] >= bounds[1], grads > 0)
                    grads = tf.where(tf.logical_or(at_low, at_high), tf.zeros_like(grads), grads)
                norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[a + 1 for a in pixel_axes]))
                nearest = tf.argmin(tf.abs(chosen) / tf.maximum(norms, 1e-12), axis=1, output_type=tf.int32)
                w = tf.gather(grads, nearest, batch_dims=1)
                f = tf.gather(chosen, nearest, batch_dims=1)
                scale = tf.abs(f) / tf.maximum(tf.reduce_sum(tf.square(w), axis=pixel_axes), 1e-24)
                step = tf.boolean_mask(w * per_image(scale), active)
                left = tf.boolean_mask(left, active)
                r_total = tf.tensor_scatter_nd_add(r_total, left[:, None], step)
            xa = x0 + (1.0 + overshoot) * r_total
            if bounds is not None:
                xa = tf.clip_by_value(xa, *bounds)
            fooled = tf.not_equal(tf.argmax(model(xa, training=False), 1, output_type=tf.int32), y)
            # the last linearization may overshoot far past the boundary: bisect the segment
            # x0 -> xa for a nearer point that is still misclassified
            lo, hi = tf.zeros(tf.shape(y), x0.dtype), tf.ones(tf.shape(y), x0.dtype)
            for _ in tf.range(refine_steps):
                mid = (lo + hi) / 2
                wrong = tf.not_equal(
                    tf.argmax(model(x0 + per_image(mid) * (xa - x0), training=False), 1, output_type=tf.int32), y
                )
                hi, lo = tf.where(wrong, mid, hi), tf.where(wrong, lo, mid)
            xa = tf.where(per_image(fooled), x0 + per_image(hi) * (xa - x0), xa)
            size = size_of(xa - x0)
            return xa, tf.where(fooled, size, tf.fill(tf.shape(size), float("inf")))

        return run

    return _compiled(model, ("deepfool", bounds, candidates), build)


def deepfool(
    model,
    x,
    y,
    *,
    steps: int = 50,
    overshoot: float = 0.02,
    bounds: tuple | None = (0.0, 1.0),
    candidates: int | None = None,
    refine_steps: int = 0,
    batch_size: int = 500,
):
    """Minimal-L2 attack (DeepFool, Moosavi-Dezfooli et al. 2016) on the logits.

    Each step linearizes every ``z_j - z_y`` at the current point, steps to the nearest of those
    hyperplanes, and stops for an image once its label has changed; the sum of the steps is
    scaled by ``1 + overshoot`` to cross the boundary. For a linear model the first step lands
    on the nearest boundary, so the distance is exact up to the overshoot. With ``bounds``, a
    pixel at a bound whose gradient points outwards is left out of the linearization (else the
    clipped steps stall); ``bounds=None`` leaves the pixels unclipped. ``candidates`` limits each
    step to the classes with the highest logits other than ``y`` (one gradient each; all by
    default), as the DeepFool paper did for ImageNet. ``refine_steps`` > 0 then bisects the
    segment from ``x`` to the result that many times for the nearest point on it that is still
    misclassified (forward passes only): where a step has overshot far past the boundary, as on
    saturated networks whose small gradients make the linearization reach too far, this
    tightens the distance. ``x``: ``(n, ...)``, ``y``: ``(n,)``.

    Returns an :class:`Adversarial`: ``distance`` ``(n,)`` is ``||x_adv - x||_2`` where the label
    changed (0 where ``x`` was already misclassified) and ``inf`` where it did not within
    ``steps``, an upper bound on the distance to the nearest error; ``success`` where it is finite.
    """
    import tensorflow as tf

    if steps < 1 or overshoot < 0 or refine_steps < 0 or (candidates is not None and candidates < 1):
        raise ValueError(
            f"need steps >= 1, overshoot >= 0, refine_steps >= 0 and candidates >= 1 (or None), "
            f"got {steps}, {overshoot}, {refine_steps}, {candidates}"
        )
    run = _deepfool_graph(model, None if bounds is None else tuple(bounds), candidates)
    x, y = np.asarray(x, np.float32), np.asarray(y, np.int32)
    parts = [
        run(
            tf.convert_to_tensor(x[i : i + batch_size]),
            tf.convert_to_tensor(y[i : i + batch_size]),
            tf.constant(steps, tf.int32),
            tf.constant(overshoot, tf.float32),
            tf.constant(refine_steps, tf.int32),
        )
        for i in range(0, len(x), batch_size)
    ]
    distance = np.concatenate([p[1].numpy() for p in parts])
    return Adversarial(np.concatenate([p[0].numpy() for p in parts]), success=np.isfinite(distance), distance=distance)


def batched(attack, model, x, y, *, batch_size: int = 1000, **hyperparameters) -> Adversarial:
    """``attack(model, x_batch, y_batch, **hyperparameters)`` over batches of ``batch_size`` of
    ``x`` ``(n, ...)``, ``y`` ``(n,)``: one :class:`Adversarial` for all ``n``."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, not {batch_size}")
    return Adversarial.concatenate(
        [
            attack(model, x[i : i + batch_size], y[i : i + batch_size], **hyperparameters)
            for i in range(0, len(x), batch_size)
        ]
    )


def targeted_adam(model, x, target, *, steps: int, learning_rate: float = 0.01, bounds: tuple = (0.0, 1.0)):
    """Iterative targeted attack: Adam on the cross-entropy to ``target``, inputs clipped to
    ``bounds``; an image stops moving once the model assigns it to ``target``.

    Adam updates each coordinate on its own, so one batched run equals separate runs per image.
    ``x``: ``(n, ...)``, ``target``: ``(n,)``. Returns an :class:`Adversarial` with ``success``
    and ``steps`` (the updates each image took).
    """
    import keras
    import tensorflow as tf

    x0 = tf.convert_to_tensor(np.asarray(x, np.float32))
    t = tf.convert_to_tensor(np.asarray(target, np.int32))
    if t.shape != (x0.shape[0],):
        raise ValueError(f"target must have shape ({x0.shape[0]},), got {t.shape}")
    xv = tf.Variable(x0)
    opt = keras.optimizers.Adam(learning_rate)
    shape = [-1] + [1] * (len(x0.shape) - 1)

    @tf.function(jit_compile=False)
    def run():
        taken = tf.zeros([x0.shape[0]], tf.int32)
        for _ in tf.range(steps):
            logits = model(xv, training=False)
            active = tf.not_equal(tf.argmax(logits, 1, output_type=tf.int32), t)
            if not tf.reduce_any(active):
                break
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(
                    tf.nn.sparse_softmax_cross_entropy_with_logits(labels=t, logits=model(xv, training=False))
                )
            g = tape.gradient(loss, xv) * tf.reshape(tf.cast(active, tf.float32), shape)
            opt.apply_gradients([(g, xv)])
            xv.assign(tf.clip_by_value(xv, *bounds))
            taken += tf.cast(active, tf.int32)
        return taken

    taken = run().numpy()
    x_adv = xv.numpy()
    success = np.argmax(np.asarray(model(x_adv, training=False)), axis=1) == np.asarray(target)
    return Adversarial(x_adv, success=success, steps=taken)


def targeted_lbfgs(model, x, target, *, max_iterations: int, bounds: tuple = (0.0, 1.0)):
    """Second-order targeted attack: L-BFGS-B (box ``bounds``) on the cross-entropy to
    ``target``, one image at a time, stopped as soon as the model assigns it to ``target``.

    Returns an :class:`Adversarial` with ``success`` and ``steps`` (L-BFGS iterations).
    """
    import tensorflow as tf
    from scipy.optimize import minimize

    x = np.asarray(x, np.float32)
    target = np.asarray(target, np.int32)
    shape = (1,) + x.shape[1:]

    @tf.function(jit_compile=False)
    def value_and_grad(v, label):
        with tf.GradientTape() as tape:
            tape.watch(v)
            logits = model(tf.reshape(v, shape), training=False)
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[label], logits=logits)[0]
        return loss, tape.gradient(loss, v), tf.argmax(logits[0], output_type=tf.int32)

    out, success, iterations = np.empty_like(x), np.zeros(len(x), bool), np.zeros(len(x), int)
    for i in range(len(x)):
        state = {"best": x[i].ravel().astype(np.float64), "hit": False, "calls": 0}

        def fun(v, label=target[i], state=state):
            loss, grad, top = value_and_grad(tf.constant(v, tf.float32), tf.constant(label))
            if int(top) == label and not state["hit"]:
                state["hit"], state["best"] = True, v.copy()
            return float(loss), grad.numpy().astype(np.float64)

        def stop_when_fooled(intermediate_result, state=state):
            state["calls"] += 1
            if state["hit"]:
                raise StopIteration

        res = minimize(
            fun,
            x[i].ravel().astype(np.float64),
            jac=True,
            method="L-BFGS-B",
            bounds=[bounds] * x[i].size,
            callback=stop_when_fooled,
            options={"maxiter": max_iterations},
        )
        final = state["best"] if state["hit"] else res.x
        out[i] = final.reshape(x.shape[1:])
        iterations[i] = state["calls"]
        success[i] = state["hit"]
    return Adversarial(out, success=success, steps=iterations)
