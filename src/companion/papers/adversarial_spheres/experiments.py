"""The experiments of Gilmer et al. (2018) on the concentric spheres: the manifold attack, the
slices and sweeps of Sections 3 to 5, and the chapter's measurements one call per cell. The
networks and their training are in :mod:`~companion.papers.adversarial_spheres.networks`, the
closed forms in :mod:`~companion.papers.adversarial_spheres.theory`.

Points are rows ``(n, d)``; class 0 is the inner sphere (radius 1), class 1 the outer one
(radius ``R``, 1.3 in the paper). A model returns one logit per point, positive for "outer".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from companion import parallel
from companion.display import Table
from companion.papers.adversarial_spheres import networks
from companion.papers.adversarial_spheres.theory import (
    R_OUTER,
    cap_distance,
    clt_error_rate,
    labelled_sample,
    monte_carlo_error_rate,
    sample,
    wrong_alphas,
)

# --- attacks -----------------------------------------------------------------------------------


def manifold_attack(
    model, x, steps: int, step_size: float, stop_at_first_error: bool = True, stay_on_sphere: bool = True
):
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
    logits = np.concatenate(
        [np.asarray(model(points[i : i + 20000], training=False)).ravel() for i in range(0, len(points), 20000)]
    )
    return logits.reshape(resolution, resolution)


def orthonormal(u, v=None, rng=None):
    """``u`` normalized, and ``v`` (random when None) made orthogonal to it and normalized."""
    u = np.asarray(u, np.float64) / np.linalg.norm(u)
    v = rng.standard_normal(u.shape) if v is None else np.asarray(v, np.float64)
    v = v - (v @ u) * u
    return u, v / np.linalg.norm(v)


def worst_loss_and_errors(model, d: int, n: int, steps: int, step_size: float, rng) -> tuple:
    """Worst-case manifold attack from ``n`` points: mean loss of the attacked points and the
    share of them that end misclassified."""
    x, y = labelled_sample(n, d, rng)
    x_adv, fooled = manifold_attack(model, x, steps, step_size, stop_at_first_error=False)
    logit = np.asarray(model(x_adv, training=False), np.float64).ravel()
    return float(np.mean(np.logaddexp(0, logit) - y * logit)), float(np.mean(fooled))


def tradeoff_point(model, d: int, n_eval: int, n_points: int, steps: int, step_size: float, rng, max_rate: float = 0.5):
    """Figure 5: inner-sphere error rate (``n_eval`` samples) and mean distance to the nearest
    error found by the nearest-error manifold attack from ``n_points`` inner points (points
    where no error was found count at the distance the attack had walked). Returns ``(rate,
    mean distance, share of points where an error was found)``.

    Theorem 5.1 speaks of small error sets, so a snapshot whose rate is 0 or at least
    ``max_rate`` is not attacked: its distance and share are NaN. Its attack points are drawn
    all the same, so that the later snapshots see the same random numbers either way."""
    rate = networks.error_rates(model, d, n_eval, rng, which=("inner",))["inner"]["rate"]
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


def mean_where(values, mask, *, every: bool = False) -> float:
    """The mean of ``values[mask]`` (both ``(n,)``); nan when ``mask`` selects no point or, with
    ``every=True``, when it leaves any point out (a mean over some points only is not judged)."""
    mask = np.asarray(mask, bool)
    if not (mask.all() if every else mask.any()):
        return float("nan")
    return float(np.asarray(values)[mask].mean())


@dataclass(frozen=True)
class NearestErrors:
    """Section 3's three attacks from the same ``n`` inner-sphere points. Each field is ``(n,)``
    except ``x_worst`` ``(n, d)``."""

    x_worst: np.ndarray  # the points after the worst-case manifold attack
    fooled: np.ndarray  # the nearest-error manifold attack found an error
    dist: np.ndarray  # how far the nearest-error attack walked
    fooled_worst: np.ndarray  # misclassified after the worst-case attack
    found_off: np.ndarray  # a point classified as outer was found off the manifold
    dist_off: np.ndarray  # its distance from the starting point
    norm_off: np.ndarray  # its norm

    def report(self) -> str:
        """Three lines: how often each attack succeeded, and the mean distances (and norm) where
        it did (nan where it never did)."""
        n = len(self.fooled)
        return (
            f"nearest error on the inner sphere: found for {self.fooled.sum()} of {n} points, "
            f"mean distance {mean_where(self.dist, self.fooled):.3f}\n"
            f"worst-case attack: {self.fooled_worst.sum()} of {n} points end misclassified\n"
            f"nearest point classified as outer: found for {self.found_off.sum()}, mean distance "
            f"{mean_where(self.dist_off, self.found_off):.4f}, "
            f"mean norm {mean_where(self.norm_off, self.found_off):.3f}"
        )


def nearest_errors(model, x0, *, steps: int, step_size: float) -> NearestErrors:
    """Section 3: from inner-sphere points ``x0`` ``(n, d)``, the nearest-error and the worst-case
    manifold attacks and the search for the nearest point classified as outer (off the manifold),
    each ``steps`` normalized gradient steps of ``step_size``."""
    x_near, fooled = manifold_attack(model, x0, steps, step_size)
    dist = np.linalg.norm(x_near - x0, axis=1)
    x_worst, fooled_worst = manifold_attack(model, x0, steps, step_size, stop_at_first_error=False)
    x_off, found_off = nearest_other_class(model, x0, steps, step_size)
    dist_off, norm_off = np.linalg.norm(x_off - x0, axis=1), np.linalg.norm(x_off, axis=1)
    return NearestErrors(x_worst, fooled, dist, fooled_worst, found_off, dist_off, norm_off)


def slice_planes(x0, x_worst, rng) -> list:
    """Figure 1's three planes, ``(title, u, v)`` with ``u, v`` orthonormal ``(d,)``: two random
    directions; a random one and the attacked point that moved farthest; the two that moved
    farthest. ``x0``, ``x_worst``: ``(n, d)`` before and after the worst-case attack. Draws three
    standard normal ``(d,)`` vectors from ``rng``."""
    d = x0.shape[1]
    worst = x_worst[np.argmax(np.linalg.norm(x_worst - x0, axis=1))]
    return [
        ("two random directions", *orthonormal(rng.standard_normal(d), None, rng)),
        ("random and adversarial", *orthonormal(worst, None, rng)),
        (
            "two adversarial directions",
            *orthonormal(worst, x_worst[np.argsort(np.linalg.norm(x_worst - x0, axis=1))[-2]]),
        ),
    ]


def chapter_networks(settings) -> dict:
    """The arguments of :func:`networks.trained` for every cached network of the chapter,
    ``{role: (kind, d, steps, train_size, seed, width, depth, learning_rate)}``: the main ReLU
    network, the one at d = 2, the dimension sweep's and the two quadratic networks, as the
    chapter and :func:`dimension_sweep` and :func:`trained_quadratic_alphas` ask for them."""
    s, relu, quad = settings, (1000, 2, 1e-4), (1000, 2, settings.quad_learning_rate)
    return {
        "relu": ("relu", s.d, s.relu_steps, 0, s.seed, *relu),
        "relu d=2": ("relu", 2, max(1000, s.sweep_steps), 100, s.seed, *relu),
        **{f"sweep d={dim}": ("relu", dim, s.sweep_steps, 0, s.seed, *relu) for dim in s.sweep_dims},
        "quadratic online": ("quadratic", s.d, s.quad_steps, 0, s.seed, *quad),
        "quadratic fixed": ("quadratic", s.d, s.quad_steps, s.fixed_train_size, s.seed, *quad),
    }


def train_chapter_networks(settings) -> int:
    """Train the networks of :func:`chapter_networks` that the cache lacks, side by side in child
    processes (:func:`companion.parallel.fill_cache`), the most multiply-adds first so that the
    short ones fill the end; returns how many were trained there."""

    def work(args):  # steps x multiply-adds per point (the hidden layers' weights)
        kind, d, steps, _, _, width, depth, _ = args
        return steps * (d * width + (width * width * (depth - 1) if kind == "relu" else 0))

    calls = sorted(
        (a for a in chapter_networks(settings).values() if not networks.is_trained(*a)), key=work, reverse=True
    )
    return parallel.fill_cache([functools.partial(networks.trained, *args) for args in calls])


def dimension_sweep(
    dims, rng, *, train_steps: int, points: int, attack_steps: int, step_size: float, seed: int
) -> dict:
    """Section 3's sweep: at each ``d`` of ``dims``, the ReLU network trained ``train_steps``
    online, then the worst-case manifold attack from ``points`` points of both spheres (drawn from
    ``rng``). Returns ``{d: fooled}``, ``fooled`` ``(points,)``: that point ended misclassified."""
    found = {}
    for dim in dims:
        net, _ = networks.trained("relu", dim, train_steps, seed=seed)
        xs, _ = labelled_sample(points, dim, rng)
        _, found[dim] = manifold_attack(net, xs, attack_steps, step_size, stop_at_first_error=False)
    return found


def largest_clean_dim(found: dict) -> int:
    """The largest ``d`` of a :func:`dimension_sweep` ``{d: fooled}`` at which no attacked point
    ended misclassified; 0 when there is none."""
    clean_dims = [dim for dim, fooled in found.items() if not fooled.any()]
    return max(clean_dims) if clean_dims else 0


def trained_quadratic_alphas(d: int, *, steps: int, train_size: int, seed: int, learning_rate: float) -> dict:
    """Section 4: the sorted ``alpha_i`` ``(d,)`` of the quadratic network trained ``steps`` Adam
    steps online and on a fixed set of ``train_size`` points: ``{"online": ..., "N = <train_size>":
    ...}``, in that order."""
    online, _ = networks.trained("quadratic", d, steps, seed=seed, learning_rate=learning_rate)
    fixed, _ = networks.trained("quadratic", d, steps, train_size=train_size, seed=seed, learning_rate=learning_rate)
    return {"online": networks.quadratic_alphas(online), f"N = {train_size}": networks.quadratic_alphas(fixed)}


def clt_against_monte_carlo(d: int, spreads, *, n: int, rng) -> list:
    """Proposition 4.1 on random boundaries with measurable error rates: for each spread,
    ``alpha ~ N(1, spread^2)`` ``(d,)`` from ``rng``, then its CLT error rate and a Monte Carlo
    estimate from ``n`` inner-sphere points (also from ``rng``). Returns ``[(spread, clt, mc)]``."""
    rows = []
    for spread in spreads:
        a = rng.normal(1.0, spread, size=d)
        predicted, measured = clt_error_rate(a), monte_carlo_error_rate(a, n, rng)
        rows.append((spread, predicted, measured))
    return rows


class PerfectStartLog(NamedTuple):
    """The log of :func:`train_from_perfect_start`: every how many steps it logged, and ``(k,)``
    arrays of the logged steps, the average loss, the worst-case loss and the share of attacked
    points misclassified."""

    every: int
    steps: np.ndarray
    avg_loss: np.ndarray
    worst_loss: np.ndarray
    error_share: np.ndarray


def train_from_perfect_start(
    d: int,
    rng,
    *,
    steps: int,
    seed: int,
    hidden: int = 1000,
    logs: int = 10,
    finest: int = 100,
    loss_points: int = 5000,
    attack_points: int = 20,
    attack_steps: int = 200,
    attack_step_size: float = 0.01,
) -> PerfectStartLog:
    """Figure 3 (right): the quadratic network of ``hidden`` units started with every alpha
    correct (:func:`perfect_initialization`), trained ``steps`` online and logged at the start
    and then about ``logs`` times, at least every ``finest`` steps (so that "after 1000 training
    steps" can be told from a few hundred): the mean loss on ``loss_points`` fresh points, then
    the worst-case manifold attack (``attack_steps`` of ``attack_step_size``) from
    ``attack_points`` points, both drawn from ``rng`` in that order."""
    perfect = networks.perfect_initialization(d, hidden)
    every = max(1, min(steps // logs, finest))

    def on_log(t, m):
        return (
            t,
            networks.mean_loss(m, d, loss_points, rng),
            *worst_loss_and_errors(m, d, attack_points, attack_steps, attack_step_size, rng),
        )

    start = on_log(0, perfect)
    log = networks.train(perfect, d, steps, seed=seed, log_every=every, on_log=on_log)
    return PerfectStartLog(every, *map(np.array, zip(start, *log)))


def training_set_label(n: int) -> str:
    """``"online"`` for ``n = 0``, else ``"N = <n>"``."""
    return "online" if n == 0 else f"N = {n}"


def _snapshot_parts(name: str, n: int, d: int, steps: int, log_every: int, learning_rate: float, seed: int) -> dict:
    from companion import cache

    return {
        "experiment": "spheres_tradeoff",
        "network": name,
        "train_size": n,
        "d": d,
        "steps": steps,
        "log_every": log_every,
        "learning_rate": learning_rate,
        "seed": seed,
        "code": cache.code_fingerprint(
            networks.network,
            networks.relu_net,
            networks.quadratic_net,
            networks.train,
            labelled_sample,
            sample,
            snapshot_weights,
        ),
    }


def snapshot_weights(name: str, n: int, d: int, steps: int, log_every: int, learning_rate: float, seed: int) -> list:
    """The weights of network ``name`` (freshly seeded) every ``log_every`` steps of ``steps``
    Adam steps on ``n`` training points (0: online); cached. A list over snapshots of the
    model's ``get_weights()``."""
    from companion import cache

    def train():
        import keras

        keras.utils.set_random_seed(seed)
        net = networks.network(name, d)
        logs = networks.train(
            net,
            d,
            steps,
            learning_rate=learning_rate,
            train_size=n or None,
            seed=seed,
            log_every=log_every,
            on_log=lambda t, m: m.get_weights(),
        )
        return {f"{k:04d}_{i:04d}": w for k, weights in enumerate(logs) for i, w in enumerate(weights)}

    parts = _snapshot_parts(name, n, d, steps, log_every, learning_rate, seed)
    snapshots = {}
    for key, weight in sorted(cache.cached_arrays("spheres_tradeoff", parts, train).items()):
        snapshots.setdefault(key.split("_")[0], []).append(weight)
    return list(snapshots.values())


def tradeoff_snapshots(
    d: int,
    rng,
    *,
    names,
    sizes,
    steps: int,
    log_every: int,
    n_eval: int,
    n_points: int,
    attack_steps: int,
    step_size: float,
    quad_learning_rate: float,
    seed: int,
    relu_learning_rate: float = 1e-4,
) -> list:
    """Figure 5: each network named in ``names`` (:func:`networks.network`), freshly seeded,
    trained ``steps`` on each training-set size of ``sizes`` (0: online), every ``log_every`` steps
    a :func:`tradeoff_point` (``n_eval`` samples, ``n_points`` attacked, ``attack_steps`` of
    ``step_size``, from ``rng``). The quadratic networks train at ``quad_learning_rate``, the ReLU
    networks at ``relu_learning_rate`` (Section 3's). The trainings (:func:`snapshot_weights`)
    that the cache lacks run side by side first (:func:`companion.parallel.fill_cache`); the
    snapshots are then attacked in order. Returns the snapshots where every attack found an
    error: ``[(label, error rate, mean distance, 1.0)]``, label ``"<network>, <set>"``."""
    from companion import cache

    runs = [
        (name, n, d, steps, log_every, quad_learning_rate if name.startswith("quad") else relu_learning_rate, seed)
        for name in names
        for n in sizes
    ]
    missing = [run for run in runs if not cache.contains("spheres_tradeoff", _snapshot_parts(*run))]
    parallel.fill_cache([functools.partial(snapshot_weights, *run) for run in missing])
    points = []
    for run in runs:
        name, n = run[:2]
        net = networks.network(name, d)
        for weights in snapshot_weights(*run):
            net.set_weights(weights)
            rate, dist, found = tradeoff_point(net, d, n_eval, n_points, attack_steps, step_size, rng)
            # tradeoff_point attacks only small error sets (0 < rate < 1/2; NaN else): keep the
            # snapshots where every attack found an error
            if found == 1.0:
                points.append((f"{name}, " + training_set_label(n), rate, dist, found))
    return points


def cap_ratios(points, d: int, name: str | None = None) -> list:
    """Distance to the nearest error over Theorem 5.1's optimum (:func:`theory.cap_distance`) for
    each snapshot ``(label, rate, distance, found)`` of :func:`tradeoff_snapshots`, or only for
    those of the network called ``name``."""
    return [
        dist / cap_distance(rate, d) for label, rate, dist, _ in points if name is None or label.startswith(name + ",")
    ]


# --- the chapter's results tables --------------------------------------------------------------
# Each :class:`companion.display.Table` holds the lines the chapter prints (its text form, no
# header line) and the same cells for the book's HTML table.


def _table(lines, header, rows, **kw) -> Table:
    """A :class:`Table` of ``lines``, one per row and no header line (as the chapter prints them)."""
    return Table(text="\n".join(lines), header=tuple(header), rows=tuple(map(tuple, rows)), header_lines=0, **kw)


def error_rates_table(rates: dict, samples: int) -> Table:
    """:func:`networks.error_rates` ``{sphere: {"errors", "upper_95", ...}}`` on ``samples`` points
    of each sphere, one line per sphere: the errors and the 95% upper bound on the error rate."""
    lines = [
        f"{name} sphere: {r['errors']} errors in {samples} samples, error rate below {r['upper_95']:.1e} (95%)"
        for name, r in rates.items()
    ]
    rows = [(name, str(r["errors"]), str(samples), f"{r['upper_95']:.1e}") for name, r in rates.items()]
    return _table(lines, ("sphere", "errors", "samples", "error rate below (95%)"), rows)


def dimension_sweep_table(found: dict) -> Table:
    """A :func:`dimension_sweep` ``{d: fooled}``, one line per ``d``: from how many of the attacked
    points the worst-case manifold attack found an adversarial error."""
    lines = [
        f"d = {dim:4d}: adversarial errors found from {fooled.sum()} of {len(fooled)} points"
        for dim, fooled in found.items()
    ]
    rows = [(str(dim), f"{fooled.sum()} of {len(fooled)}") for dim, fooled in found.items()]
    return _table(lines, ("d", "adversarial errors found from (points)"), rows)


def alphas_table(alphas: dict) -> Table:
    """One line per ``{name: alphas}`` entry (``(d,)`` each, from :func:`trained_quadratic_alphas`):
    how many ``alpha_i`` lie outside ``[1/R^2, 1]``, their range and the CLT error rate of
    Proposition 4.1."""
    lines, rows = [], []
    for name, a in alphas.items():
        wrong, span, rate = f"{wrong_alphas(a)} of {len(a)}", f"{a.min():.3f}-{a.max():.3f}", f"{clt_error_rate(a):.1e}"
        lines.append(f"{name:12s}: {wrong} alphas outside [1/R^2, 1]; alpha range {span}; CLT error rate {rate}")
        rows.append((name, wrong, span, rate))
    return _table(lines, ("training", "alphas outside [1/R^2, 1]", "alpha range", "CLT error rate"), rows)


def clt_table(rows, samples: int) -> Table:
    """:func:`clt_against_monte_carlo`'s ``[(spread, clt, mc)]`` with ``samples`` Monte Carlo points,
    one line per spread: the CLT error rate of Proposition 4.1 and the Monte Carlo estimate."""
    lines = [
        f"alphas ~ N(1, {spread}^2): CLT {predicted:.4f}, Monte Carlo {measured:.4f} ({samples} samples)"
        for spread, predicted, measured in rows
    ]
    cells = [
        (f"N(1, {spread}^2)", f"{predicted:.4f}", f"{measured:.4f}", str(samples))
        for spread, predicted, measured in rows
    ]
    return _table(lines, ("alphas", "CLT", "Monte Carlo", "samples"), cells)


def fraction_table(fractions: dict, dims) -> Table:
    """``{error rate: [k/d at each d of dims]}`` (:func:`theory.fraction_needed`), one line per
    error rate: the fraction of the coordinates a model needs at each dimension."""
    dims = list(dims)
    lines = [
        f"error rate {p:.0e}: k/d = " + ", ".join(f"{x:.2f}" for x in f) + f" for d = {dims}"
        for p, f in fractions.items()
    ]
    rows = [(f"{p:.0e}", *(f"{x:.2f}" for x in f)) for p, f in fractions.items()]
    return _table(lines, ("error rate", *(f"k/d at d = {dim}" for dim in dims)), rows)


def tradeoff_table(points, d: int, names) -> Table:
    """How many snapshots of :func:`tradeoff_snapshots` have a measurable error rate, the median
    and range of their :func:`cap_ratios` (the title), then one line per network named in
    ``names``: its snapshots and their median ratio (empty when it has none)."""
    ratios = cap_ratios(points, d)
    title = f"{len(points)} snapshots with a measurable error rate; distance / optimum: " + (
        f"median {np.median(ratios):.2f}, range {min(ratios):.2f}-{max(ratios):.2f}" if ratios else "none"
    )
    lines, rows = [], []
    for name in names:
        mine = cap_ratios(points, d, name)
        median = f"{np.median(mine):.2f}" if mine else ""
        lines.append(f"  {name}: {len(mine)} snapshots" + (f", median ratio {median}" if mine else ""))
        rows.append((name, str(len(mine)), median))
    return _table(lines, ("network", "snapshots", "median distance / optimum"), rows, title=title)
