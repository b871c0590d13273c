"""The networks of Gilmer et al. (2018) on the concentric spheres: the ReLU and quadratic
architectures, their online training (fresh points every step), their error rates, and the
cached trained networks.

Points are rows ``(n, d)``; class 0 is the inner sphere (radius 1), class 1 the outer one
(radius ``R``). A model returns one logit per point, positive for "outer".
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from companion.papers.adversarial_spheres.theory import R_OUTER, labelled_sample, sample, sample_batches
from companion.reproducibility import perturb_initial_weights


def relu_net(d: int, width: int = 1000, depth: int = 2):
    """The paper's ReLU network: ``depth`` hidden layers of ``width`` with batch norm, one logit."""
    import keras
    from keras import layers

    x = keras.Input((d,))
    h = x
    for i in range(depth):
        h = layers.ReLU()(layers.BatchNormalization()(layers.Dense(width, name=f"h{i + 1}")(h)))
    return keras.Model(x, layers.Dense(1, name="logit")(h), name=f"relu_h{width}_d{depth}")


def network(name: str, d: int):
    """A fresh network from its name, as the paper's Figure 5 labels them and as the models name
    themselves: ``"quad_h<hidden>"`` or ``"relu_h<width>_d<depth>"``."""
    import re

    quad = re.fullmatch(r"quad_h(\d+)", name)
    relu = re.fullmatch(r"relu_h(\d+)_d(\d+)", name)
    if quad:
        return quadratic_net(d, int(quad.group(1)))
    if relu:
        return relu_net(d, int(relu.group(1)), int(relu.group(2)))
    raise ValueError(f"unknown network {name!r}: use 'quad_h<hidden>' or 'relu_h<width>_d<depth>'")


def quadratic_net(d: int, hidden: int = 1000):
    """The quadratic network (eq. 1): ``y(x) = w 1^T (W x)^2 + b``, ``W`` ``(hidden, d)``."""
    import keras
    from keras import layers

    from companion import keras_layers

    x = keras.Input((d,))
    h = layers.Dense(hidden, use_bias=False, name="W")(x)
    s = keras_layers.SumOfSquares(name="sum_of_squares")(h)
    # w starts at 1 (the paper does not say): a random sign would start half the networks with a
    # logit that falls with the norm, which Adam at lr 1e-4 takes many thousand steps to undo.
    readout = layers.Dense(1, kernel_initializer="ones", name="readout")
    return keras.Model(x, readout(s), name=f"quad_h{hidden}")


def quadratic_alphas(model) -> np.ndarray:
    """The ``alpha_i`` of eq. (2): the boundary ``y = 0`` is ``sum_i alpha_i z_i^2 = 1`` with
    ``z = V^T x`` for the eigenvectors ``V`` of ``w W^T W``; ``alpha_i = -w s_i^2 / b`` with
    ``s`` the singular values of ``W`` (zeros where ``hidden < d``). Sorted, shape ``(d,)``."""
    W = model.get_layer("W").kernel.numpy().astype(np.float64)  # (d, hidden)
    w, b = (v.numpy().astype(np.float64).ravel()[0] for v in model.get_layer("readout").weights)
    s = np.linalg.svd(W, compute_uv=False)
    s = np.concatenate([s, np.zeros(W.shape[0] - len(s))])
    return np.sort(-w * s**2 / b)


def train(
    model,
    d: int,
    steps: int,
    batch_size: int = 50,
    learning_rate: float = 1e-4,
    train_size: int | None = None,
    seed: int = 0,
    log_every: int = 0,
    on_log=None,
    steps_per_call: int = 100,
) -> list:
    """Adam on the sigmoid cross-entropy, online (fresh samples every step, ``train_size=None``)
    or on a fixed training set of ``train_size`` points. ``on_log(step, model)`` is called every
    ``log_every`` steps; its results are returned as a list.

    Batches are drawn in NumPy as before, ``steps_per_call`` at a time, and one compiled call runs
    them all (the same steps in the same order; XLA compiles the loop, so the weights agree with
    one step per call to float32 rounding), so the per-step cost of calling TensorFlow from
    Python is paid once per call.
    """
    import keras
    import tensorflow as tf

    if steps_per_call < 1:
        raise ValueError(f"steps_per_call must be >= 1, not {steps_per_call}")
    perturb_initial_weights(model)
    rng = np.random.default_rng(seed)
    fixed = labelled_sample(train_size, d, rng) if train_size else None
    opt = keras.optimizers.Adam(learning_rate)
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function(
        jit_compile=True,
        input_signature=[
            tf.TensorSpec([None, batch_size, d], tf.float32),
            tf.TensorSpec([None, batch_size], tf.float32),
        ],
    )
    def run(xs, ys):  # xs: (steps, batch, d)
        for i in tf.range(tf.shape(xs)[0]):
            with tf.GradientTape() as tape:
                loss = loss_fn(ys[i][:, None], model(xs[i], training=True))
            opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))

    def batch():
        if fixed is None:
            return labelled_sample(batch_size, d, rng)
        idx = rng.integers(0, train_size, batch_size)
        return fixed[0][idx], fixed[1][idx]

    logging = bool(log_every and on_log is not None)
    logs = []
    done = 0
    while done < steps:
        chunk = min(steps_per_call, steps - done)
        if logging:
            chunk = min(chunk, log_every - done % log_every)
        xs, ys = zip(*(batch() for _ in range(chunk)))
        run(tf.constant(np.stack(xs)), tf.constant(np.stack(ys)))
        done += chunk
        if logging and done % log_every == 0:
            logs.append(on_log(done, model))
    return logs


def error_rates(
    model, d: int, n: int, rng, r_outer: float = R_OUTER, batch: int = 10000, which: tuple = ("inner", "outer")
) -> dict:
    """Errors on ``n`` uniform points of each sphere in ``which``: counts, and the rates with
    their one-sided 95% upper bounds (``3 / n`` when no error is seen, the rule of three;
    Clopper-Pearson else)."""
    unknown = set(which) - {"inner", "outer"}
    if unknown:
        raise ValueError(f"which names the spheres 'inner' and 'outer', not {sorted(unknown)}")
    out = {}
    for name, radius, label in (("inner", 1.0, 0), ("outer", r_outer, 1)):
        if name not in which:
            continue
        errors = 0
        for x in sample_batches(n, d, radius, rng, batch):
            errors += int(np.sum((np.asarray(model(x, training=False)).ravel() > 0) != label))
        if errors == 0:
            upper = 3.0 / n
        elif errors == n:
            upper = 1.0
        else:
            upper = float(stats.beta.ppf(0.95, errors + 1, n - errors))
        out[name] = {"errors": errors, "rate": errors / n, "upper_95": upper}
    return out


def accuracy_by_norm(model, d: int, norms, n: int, rng, boundary: float = (1 + R_OUTER) / 2) -> np.ndarray:
    """Figure 2 (left): for points uniform on spheres of each norm, the share classified on the
    same side as the max-margin boundary (inner below ``boundary``, outer above)."""
    out = []
    for r in norms:
        logit = np.asarray(model(sample(n, d, r, rng).astype(np.float32), training=False)).ravel()
        out.append(float(np.mean((logit > 0) == (r > boundary))))
    return np.array(out)


def perfect_initialization(
    d: int, hidden: int, r_outer: float = R_OUTER, p_inner: float = 0.0016, p_outer: float = 0.9994
):
    """A quadratic network with every ``alpha_i`` equal to one correct value, scaled so that the
    sigmoid gives ``p_inner`` on the inner sphere and ``p_outer`` on the outer one (as in the
    paper), i.e. ``w, b`` solving ``w + b = logit(p_inner)``, ``w R^2 + b = logit(p_outer)``
    for ``W`` with orthonormal rows (``hidden >= d``)."""
    from scipy.special import logit

    model = quadratic_net(d, hidden)
    w = (logit(p_outer) - logit(p_inner)) / (r_outer**2 - 1)
    b = logit(p_inner) - w
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((hidden, d)))
    model.get_layer("W").set_weights([q.T.astype("float32")])  # W^T W = I: y = w ||x||^2 + b
    model.get_layer("readout").set_weights([np.array([[w]], "float32"), np.array([b], "float32")])
    return model


def _trained_parts(kind, d, steps, train_size, seed, width, depth, learning_rate) -> dict:
    """The cache key's parts of :func:`trained` (all its arguments)."""
    from companion import cache, keras_layers

    if kind not in ("relu", "quadratic"):
        raise ValueError(f"kind must be 'relu' or 'quadratic', not {kind!r}")
    return {
        "experiment": "spheres",
        "kind": kind,
        "d": d,
        "steps": steps,
        "train_size": train_size,
        "seed": seed,
        "width": width,
        "depth": depth,
        "learning_rate": learning_rate,
        "code": cache.code_fingerprint(
            relu_net, quadratic_net, keras_layers.SumOfSquares, train, labelled_sample, sample
        ),
    }


def is_trained(*args, **kwargs) -> bool:
    """Whether the cache holds :func:`trained` ``(*args, **kwargs)``."""
    import inspect

    from companion import cache

    bound = inspect.signature(trained).bind(*args, **kwargs)
    bound.apply_defaults()
    return cache.contains("spheres", _trained_parts(**bound.arguments))


def trained(
    kind: str,
    d: int,
    steps: int,
    train_size: int = 0,
    seed: int = 0,
    width: int = 1000,
    depth: int = 2,
    learning_rate: float = 1e-4,
):
    """A cached sphere network: ``kind`` ``"relu"`` (``width``, ``depth``) or ``"quadratic"``
    (``width`` hidden units), trained ``steps`` Adam steps (``learning_rate``) online
    (``train_size=0``) or on a fixed set. Returns ``(model, {})``."""
    from companion import cache

    parts = _trained_parts(kind, d, steps, train_size, seed, width, depth, learning_rate)

    def fit():
        import keras

        keras.utils.set_random_seed(seed)
        model = relu_net(d, width, depth) if kind == "relu" else quadratic_net(d, width)
        train(model, d, steps, learning_rate=learning_rate, train_size=train_size or None, seed=seed)
        return model, {}

    return cache.cached_model("spheres", parts, fit)


def mean_loss(model, d: int, n: int, rng) -> float:
    """Average sigmoid cross-entropy on ``n`` fresh points."""
    x, y = labelled_sample(n, d, rng)
    logit = np.asarray(model(x, training=False), np.float64).ravel()
    return float(np.mean(np.logaddexp(0, logit) - y * logit))
