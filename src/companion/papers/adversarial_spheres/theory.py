"""The concentric spheres of Gilmer et al. (2018) in closed form: uniform sampling, the
quadratic network's CLT error rate (Proposition 4.1), the optimal cap of Theorem 5.1 and the
fraction of coordinates a model needs (Figure 4). Points are rows ``(n, d)``."""

from __future__ import annotations

import numpy as np
from scipy import integrate, special, stats

R_OUTER = 1.3


def sample(n: int, d: int, radius: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniform on the sphere of ``radius`` in ``d`` dimensions: ``(n, d)``."""
    if n < 0 or d < 1 or radius <= 0:
        raise ValueError(f"need n >= 0, d >= 1 and radius > 0, got {n}, {d}, {radius}")
    z = rng.standard_normal((n, d))
    norm = np.linalg.norm(z, axis=1, keepdims=True)
    z *= radius  # in place, the same operations in the same order as radius * z / norm
    z /= norm
    return z


def sample_batches(n: int, d: int, radius: float, rng: np.random.Generator, batch: int):
    """:func:`sample`'s ``n`` points as float32 batches ``(batch, d)`` (the last one smaller):
    the numbers of calling :func:`sample` batch after batch, each batch drawn in a helper thread
    while the caller works on the one before (NumPy's generator and array arithmetic release the
    GIL, so drawing overlaps, e.g., a network's forward pass). ``rng`` is drawn from one batch
    ahead: take every batch before drawing from it again."""
    import concurrent.futures

    sizes = [min(batch, n - done) for done in range(0, n, batch)]
    with concurrent.futures.ThreadPoolExecutor(1) as helper:
        ahead = None
        for k, size in enumerate(sizes):
            current = ahead.result() if ahead else sample(size, d, radius, rng).astype(np.float32)
            if k + 1 < len(sizes):
                ahead = helper.submit(lambda m: sample(m, d, radius, rng).astype(np.float32), sizes[k + 1])
            yield current


def labelled_sample(n: int, d: int, rng: np.random.Generator, r_outer: float = R_OUTER):
    """``n`` points, each on the inner or the outer sphere with probability 1/2: ``(x, y)``."""
    y = rng.integers(0, 2, n)
    x = sample(n, d, 1.0, rng)
    x *= np.where(y == 1, r_outer, 1.0)[:, None]
    return x.astype(np.float32), y.astype(np.float32)


def first_coordinate_ks_pvalue(x) -> float:
    """A check of a sampler of the unit sphere: the p-value of the Kolmogorov-Smirnov test of
    ``x_1^2`` against ``Beta(1/2, (d - 1)/2)``, the law of the squared first coordinate of a
    uniform point. ``x``: ``(n, d)``."""
    d = x.shape[1]
    return stats.kstest(x[:, 0] ** 2, stats.beta(0.5, (d - 1) / 2).cdf).pvalue


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
        outer_bottom = r_outer**2 * (k / d) * (1 - z * np.sqrt(2.0 / k * (1 - k / d)))
        if inner_top <= outer_bottom:
            return k / d
    return 1.0


def perfect_alphas(alphas, r_outer: float = R_OUTER) -> np.ndarray:
    """Which ``alpha_i`` lie in ``[1 / R^2, 1]``; all of them do iff the model makes no error."""
    a = np.asarray(alphas)
    return (a >= 1 / r_outer**2) & (a <= 1)


def wrong_alphas(alphas, r_outer: float = R_OUTER) -> int:
    """How many ``alpha_i`` (``(d,)``) lie outside ``[1 / R^2, 1]``."""
    return int(np.sum(~perfect_alphas(alphas, r_outer)))
