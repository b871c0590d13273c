"""Adversarial spheres (Gilmer et al. 2018): two concentric spheres, the quadratic network's
analytic error rate, the optimal cap bound, and the manifold attack.

Points are rows ``(n, d)``; class 0 is the inner sphere (radius 1), class 1 the outer one
(radius ``R``, 1.3 in the paper). A model returns one logit per point, positive for "outer".
"""
from __future__ import annotations

import numpy as np
from scipy import integrate, special, stats

from .reproducibility import perturb_initial_weights

R_OUTER = 1.3


def sample(n: int, d: int, radius: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniform on the sphere of ``radius`` in ``d`` dimensions: ``(n, d)``."""
    if n < 0 or d < 1 or radius <= 0:
        raise ValueError(f"need n >= 0, d >= 1 and radius > 0, got {n}, {d}, {radius}")
    z = rng.standard_normal((n, d))
    return radius * z / np.linalg.norm(z, axis=1, keepdims=True)


def labelled_sample(n: int, d: int, rng: np.random.Generator, r_outer: float = R_OUTER):
    """``n`` points, each on the inner or the outer sphere with probability 1/2: ``(x, y)``."""
    y = rng.integers(0, 2, n)
    x = sample(n, d, 1.0, rng) * np.where(y == 1, r_outer, 1.0)[:, None]
    return x.astype(np.float32), y.astype(np.float32)


def clt_error_rate(alphas) -> float:
    """Proposition 4.1: the inner-sphere error rate of the boundary ``sum alpha_i z_i^2 = 1``.

    With ``mu = sum(alpha_i - 1)`` and ``sigma^2 = 2 sum(alpha_i - 1)^2`` (the paper prints
    ``sigma = 2 sum ...``, without the square), ``P ~= 1 - Phi(-mu / sigma)``. Computed with
    the normal survival function so that tiny rates (1e-11 and below) keep their digits.
    """
    a = np.asarray(alphas, np.float64) - 1.0
    sigma = np.sqrt(2.0 * np.sum(a * a))
    if sigma == 0:
        return float(np.sum(a) > 0)
    return float(stats.norm.sf(-np.sum(a) / sigma))


def monte_carlo_error_rate(alphas, n: int, rng: np.random.Generator, batch: int = 100000) -> float:
    """Share of ``n`` uniform inner-sphere points with ``sum alpha_i z_i^2 > 1``."""
    alphas = np.asarray(alphas, np.float64)
    errors, done = 0, 0
    while done < n:
        z = sample(min(batch, n - done), len(alphas), 1.0, rng)
        errors += int(np.sum(z * z @ alphas > 1.0))
        done += len(z)
    return errors / n


def _first_coordinate_tail(t: float, d: int) -> float:
    """``P(x_1 >= t)`` for ``x`` uniform on the unit sphere in ``d`` dimensions."""
    if t <= -1:
        return 1.0
    if t >= 1:
        return 0.0
    half = 0.5 * special.betainc((d - 1) / 2, 0.5, 1 - t * t)
    return half if t >= 0 else 1.0 - half


def cap_threshold(error_rate: float, d: int) -> float:
    """The ``t`` for which the cap ``{x_1 >= t}`` has measure ``error_rate`` on the unit sphere."""
    if not 0 < error_rate < 1:
        raise ValueError(f"error_rate must lie in (0, 1), got {error_rate}")
    from scipy.optimize import brentq

    return brentq(lambda t: _first_coordinate_tail(t, d) - error_rate, -1.0, 1.0, xtol=1e-14)


def cap_distance(error_rate: float, d: int) -> float:
    """Theorem 5.1's optimum: the mean L2 distance from a uniform point of the unit sphere to a
    cap of measure ``error_rate``, the error set that is farthest on average.

    Exact: the nearest point of the cap lies in the plane of ``x`` and the pole, at the chord
    ``2 sin((arccos x_1 - arccos t) / 2)``; we integrate it against the density of ``x_1``.
    """
    t = cap_threshold(error_rate, d)
    log_norm = special.betaln(0.5, (d - 1) / 2)

    def integrand(u):
        chord = 2.0 * np.sin(max(np.arccos(u) - np.arccos(t), 0.0) / 2.0)
        return chord * np.exp((d - 3) / 2 * np.log1p(-u * u) - log_norm)

    spread = 12.0 / np.sqrt(d)  # the density of x_1 is negligible beyond ~12 standard deviations
    lo = max(-1.0, min(t, 0.0) - spread)
    value, _ = integrate.quad(integrand, lo, t, limit=200, points=[0.0] if lo < 0 < t else None)
    return float(value)


def fraction_needed(error_rate: float, d: int, r_outer: float = R_OUTER) -> float:
    """Figure 4: the smallest ``k / d`` for which a model thresholding ``sum_{i <= k} x_i^2``
    (threshold chosen best) reaches ``error_rate`` on both spheres, by the CLT of Prop. 4.1.

    For ``x`` on a sphere of radius ``r``, ``sum_{i<=k} x_i^2 ~ r^2 (k/d) (1 + sqrt(2/k) Z)``
    roughly; the best threshold equalises the two spheres' error rates.
    """
    z = stats.norm.isf(error_rate)
    for k in range(1, d + 1):
        # the inner sphere's sum must stay below b and the outer's above it, each with prob 1 - p
        inner_top = (k / d) * (1 + z * np.sqrt(2.0 / k * (1 - k / d)))
        outer_bottom = r_outer ** 2 * (k / d) * (1 - z * np.sqrt(2.0 / k * (1 - k / d)))
        if inner_top <= outer_bottom:
            return k / d
    return 1.0


# --- networks ----------------------------------------------------------------------------------

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

    x = keras.Input((d,))
    h = layers.Dense(hidden, use_bias=False, name="W")(x)
    s = layers.Lambda(lambda v: keras.ops.sum(v * v, axis=1, keepdims=True), name="sum_of_squares")(h)
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
    return np.sort(-w * s ** 2 / b)


def perfect_alphas(alphas, r_outer: float = R_OUTER) -> np.ndarray:
    """Which ``alpha_i`` lie in ``[1 / R^2, 1]``; all of them do iff the model makes no error."""
    a = np.asarray(alphas)
    return (a >= 1 / r_outer ** 2) & (a <= 1)


# --- training ----------------------------------------------------------------------------------

def train(model, d: int, steps: int, batch_size: int = 50, learning_rate: float = 1e-4,
          train_size: int | None = None, seed: int = 0, log_every: int = 0, on_log=None,
          steps_per_call: int = 100) -> list:
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

    @tf.function(jit_compile=True, input_signature=[tf.TensorSpec([None, batch_size, d], tf.float32),
                                                     tf.TensorSpec([None, batch_size], tf.float32)])
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


def error_rates(model, d: int, n: int, rng, r_outer: float = R_OUTER, batch: int = 10000,
                which: tuple = ("inner", "outer")) -> dict:
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
        errors, done = 0, 0
        while done < n:
            x = sample(min(batch, n - done), d, radius, rng).astype(np.float32)
            logit = np.asarray(model(x, training=False)).ravel()
            errors += int(np.sum((logit > 0) != label))
            done += len(x)
        if errors == 0:
            upper = 3.0 / n
        elif errors == n:
            upper = 1.0
        else:
            upper = float(stats.beta.ppf(0.95, errors + 1, n - errors))
        out[name] = {"errors": errors, "rate": errors / n, "upper_95": upper}
    return out


# --- attacks -----------------------------------------------------------------------------------

def manifold_attack(model, x, steps: int, step_size: float, stop_at_first_error: bool = True,
                    stay_on_sphere: bool = True):
    """PGD that stays on the data manifold: ascend the loss of the true class (inner points push
    the logit up, outer points down) by normalized gradient steps, projecting back to ``||x||``.

    ``stop_at_first_error=True`` gives the nearest-error variant (each point stops at its first
    misclassification); ``False`` the worst-case variant (all ``steps``). ``x``: ``(n, d)`` points
    of either sphere; the label is read from the norm. ``stay_on_sphere=False`` drops the
    projection: the walk then leaves the manifold. Returns ``(x_adv, fooled)``.
    """
    import tensorflow as tf

    x0 = tf.convert_to_tensor(np.asarray(x, np.float32))
    radius = tf.norm(x0, axis=1, keepdims=True)
    outer = tf.cast(radius[:, 0] > (1 + R_OUTER) / 2, tf.float32)
    direction = 1.0 - 2.0 * outer  # +1: push the logit up (inner points), -1: down (outer points)

    def is_fooled(logit):
        return tf.not_equal(tf.cast(logit > 0, tf.float32), outer)

    @tf.function(jit_compile=False)
    def run():
        xa = x0
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                tape.watch(xa)
                logit = model(xa, training=False)[:, 0]
                objective = tf.reduce_sum(direction * logit)
            g = tape.gradient(objective, xa)
            active = tf.ones_like(outer, tf.bool)
            if stop_at_first_error:
                active = tf.logical_not(is_fooled(logit))
                if not tf.reduce_any(active):  # every point has stopped: the rest changes nothing
                    break
            moved = xa + step_size * g / tf.maximum(tf.norm(g, axis=1, keepdims=True), 1e-12)
            if stay_on_sphere:
                moved = radius * moved / tf.norm(moved, axis=1, keepdims=True)
            xa = tf.where(active[:, None], moved, xa)
        return xa, is_fooled(model(xa, training=False)[:, 0])

    xa, fooled = run()
    return xa.numpy(), fooled.numpy()


# --- experiments -------------------------------------------------------------------------------

def nearest_other_class(model, x, steps: int, step_size: float):
    """Off the manifold: from inner-sphere points ``x``, normalized gradient steps that raise the
    logit anywhere in space, each stopped at its first point classified as outer. Returns
    ``(x_adv, found)``; the distances and norms of ``x_adv`` are what the paper reports."""
    return manifold_attack(model, x, steps, step_size, stop_at_first_error=True, stay_on_sphere=False)


def plane_predictions(model, u, v, extent: float, resolution: int) -> np.ndarray:
    """Logits on the plane spanned by orthonormal ``u, v`` (``(d,)``): ``(resolution, resolution)``
    over ``[-extent, extent]^2``, rows along ``v``."""
    t = np.linspace(-extent, extent, resolution)
    a, b = np.meshgrid(t, t)
    points = (a.reshape(-1, 1) * u + b.reshape(-1, 1) * v).astype(np.float32)
    logits = np.concatenate([np.asarray(model(points[i:i + 20000], training=False)).ravel()
                             for i in range(0, len(points), 20000)])
    return logits.reshape(resolution, resolution)


def orthonormal(u, v=None, rng=None):
    """``u`` normalized, and ``v`` (random when None) made orthogonal to it and normalized."""
    u = np.asarray(u, np.float64) / np.linalg.norm(u)
    v = rng.standard_normal(u.shape) if v is None else np.asarray(v, np.float64)
    v = v - (v @ u) * u
    return u, v / np.linalg.norm(v)


def accuracy_by_norm(model, d: int, norms, n: int, rng, boundary: float = (1 + R_OUTER) / 2) -> np.ndarray:
    """Figure 2 (left): for points uniform on spheres of each norm, the share classified on the
    same side as the max-margin boundary (inner below ``boundary``, outer above)."""
    out = []
    for r in norms:
        logit = np.asarray(model(sample(n, d, r, rng).astype(np.float32), training=False)).ravel()
        out.append(float(np.mean((logit > 0) == (r > boundary))))
    return np.array(out)


def perfect_initialization(d: int, hidden: int, r_outer: float = R_OUTER,
                           p_inner: float = 0.0016, p_outer: float = 0.9994):
    """A quadratic network with every ``alpha_i`` equal to one correct value, scaled so that the
    sigmoid gives ``p_inner`` on the inner sphere and ``p_outer`` on the outer one (as in the
    paper), i.e. ``w, b`` solving ``w + b = logit(p_inner)``, ``w R^2 + b = logit(p_outer)``
    for ``W`` with orthonormal rows (``hidden >= d``)."""
    from scipy.special import logit

    model = quadratic_net(d, hidden)
    w = (logit(p_outer) - logit(p_inner)) / (r_outer ** 2 - 1)
    b = logit(p_inner) - w
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((hidden, d)))
    model.get_layer("W").set_weights([q.T.astype("float32")])  # W^T W = I: y = w ||x||^2 + b
    model.get_layer("readout").set_weights([np.array([[w]], "float32"), np.array([b], "float32")])
    return model


def trained(kind: str, d: int, steps: int, train_size: int = 0, seed: int = 0, width: int = 1000,
            depth: int = 2, learning_rate: float = 1e-4):
    """A cached sphere network: ``kind`` ``"relu"`` (``width``, ``depth``) or ``"quadratic"``
    (``width`` hidden units), trained ``steps`` Adam steps (``learning_rate``) online
    (``train_size=0``) or on a fixed set. Returns ``(model, {})``."""
    from . import cache

    if kind not in ("relu", "quadratic"):
        raise ValueError(f"kind must be 'relu' or 'quadratic', not {kind!r}")
    parts = {"experiment": "spheres", "kind": kind, "d": d, "steps": steps, "train_size": train_size,
             "seed": seed, "width": width, "depth": depth, "learning_rate": learning_rate,
             "code": cache.code_fingerprint(relu_net, quadratic_net, train, labelled_sample, sample)}

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


def worst_loss_and_errors(model, d: int, n: int, steps: int, step_size: float, rng) -> tuple:
    """Worst-case manifold attack from ``n`` points: mean loss of the attacked points and the
    share of them that end misclassified."""
    x, y = labelled_sample(n, d, rng)
    x_adv, fooled = manifold_attack(model, x, steps, step_size, stop_at_first_error=False)
    logit = np.asarray(model(x_adv, training=False), np.float64).ravel()
    return float(np.mean(np.logaddexp(0, logit) - y * logit)), float(np.mean(fooled))


def tradeoff_point(model, d: int, n_eval: int, n_points: int, steps: int, step_size: float, rng,
                   max_rate: float = 0.5):
    """Figure 5: inner-sphere error rate (``n_eval`` samples) and mean distance to the nearest
    error found by the nearest-error manifold attack from ``n_points`` inner points (points
    where no error was found count at the distance the attack had walked). Returns ``(rate,
    mean distance, share of points where an error was found)``.

    Theorem 5.1 speaks of small error sets, so a snapshot whose rate is 0 or at least
    ``max_rate`` is not attacked: its distance and share are NaN. Its attack points are drawn
    all the same, so that the later snapshots see the same random numbers either way."""
    rate = error_rates(model, d, n_eval, rng, which=("inner",))["inner"]["rate"]
    x = sample(n_points, d, 1.0, rng).astype(np.float32)
    if not 0 < rate < max_rate:
        return rate, float("nan"), float("nan")
    x_adv, fooled = manifold_attack(model, x, steps, step_size)
    dist = np.linalg.norm(x_adv - x, axis=1)
    return rate, float(dist.mean()), float(fooled.mean())


def first_error_step(steps, error_share) -> float:
    """The first logged training step at which any attacked point ended misclassified, or nan.
    ``steps``, ``error_share``: ``(k,)``, as the perfect-initialization run logs them."""
    hit = np.flatnonzero(np.asarray(error_share) > 0)
    return float(np.asarray(steps)[hit[0]]) if hit.size else float("nan")


def near_in_steps(step: float, paper_step: float = 1000, factor: float = 3.0) -> bool:
    """Within ``factor`` of the paper's step count either way ("adversarial examples can once
    again be found after 1000 training steps"); nan (never) fails."""
    return bool(np.isfinite(step) and paper_step / factor <= step <= paper_step * factor)


# --- rules of the sections 3-5 claims ----------------------------------------------------------

def clt_agrees(predicted: float, measured: float, n: int) -> bool:
    """The CLT error rate within 3 standard errors (plus 10%) of a Monte Carlo estimate from
    ``n`` samples."""
    return bool(abs(predicted - measured) <= 3 * np.sqrt(measured * (1 - measured) / n) + 0.1 * measured)


def errors_reappear(avg_loss, worst_loss, error_share) -> bool:
    """From a perfect start: the average loss falls, the worst-case loss rises, and some attacked
    point ends misclassified. Each argument: ``(k,)`` over the logged steps."""
    return bool(avg_loss[-1] < avg_loss[0] and worst_loss[-1] > worst_loss[0] and np.max(error_share) > 0)


def near_cap(ratios, band: tuple = (0.5, 1.2)) -> bool:
    """The median of distance / optimal cap distance over the snapshots lies in ``band``."""
    return bool(len(ratios)) and band[0] <= float(np.median(ratios)) <= band[1]
