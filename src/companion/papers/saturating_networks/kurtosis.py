"""Kurtotic weights as a linear defence (Nayebi & Ganguli 2017, section 8).

For two orthogonal unit prototypes ``w1, w2`` and the FGSM perturbation ``eps sgn(w2 - w1)``,
the input ``w1`` is misclassified only when ``eps > ||w1||^2 / ||w2 - w1||_1`` (eq. 14). We scale
that threshold by the mean absolute component of ``w1``: how many times larger than a typical
component of the input each component of the perturbation must be.
"""

from __future__ import annotations

import numpy as np
from scipy import special

PAPER_DIM = 20000  # "unit norm random vectors of dimension 20000" (section 8)


def pearson7_pdf(x, gamma2: float):
    """The paper's Pearson type VII density with unit variance and excess kurtosis ``gamma2 > 0``:
    ``c (1 + (x / a)^2)^(-5/2 - 3/gamma2)``, ``a = sqrt(2 + 6/gamma2)``,
    ``c = 1 / (a B(2 + 3/gamma2, 1/2))``."""
    _check_gamma2(gamma2)
    a = np.sqrt(2.0 + 6.0 / gamma2)
    m = 2.5 + 3.0 / gamma2
    return (1.0 + (np.asarray(x, np.float64) / a) ** 2) ** (-m) / (a * special.beta(m - 0.5, 0.5))


def _check_gamma2(gamma2):
    if not np.isfinite(gamma2) or gamma2 <= 0:
        raise ValueError(
            f"the excess kurtosis gamma2 must be positive and finite, got {gamma2} "
            f"(gamma2 = 0 is the Gaussian: use rng.standard_normal)"
        )


def sample_pearson7(gamma2: float, size, rng: np.random.Generator) -> np.ndarray:
    """Samples of :func:`pearson7_pdf`: a Student t with ``nu = 4 + 6/gamma2`` degrees of freedom,
    scaled by ``a / sqrt(nu)`` (so that ``(x/a)^2 = t^2/nu``). Unit variance, excess kurtosis
    ``gamma2``."""
    _check_gamma2(gamma2)
    nu = 4.0 + 6.0 / gamma2
    return np.sqrt((2.0 + 6.0 / gamma2) / nu) * rng.standard_t(nu, size=size)


def unit_vectors(sampler, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` vectors of dimension ``dim`` with i.i.d. components ``sampler(size, rng)``, each
    scaled to unit L2 norm: ``(n, dim)``."""
    v = sampler((n, dim), rng)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def scaled_ratio(w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """Eq. (14) scaled by the input intensity: ``||w1||^2 / ||w2 - w1||_1 / mean|w1_i|``.

    ``w1, w2``: ``(n, dim)`` rows (or ``(dim,)``); the mean of ``|w1_i|`` is over its nonzero
    components. Returns ``(n,)``.
    """
    w1, w2 = np.atleast_2d(w1), np.atleast_2d(w2)
    intensity = np.array([np.mean(np.abs(r[r != 0])) for r in w1])
    return np.sum(w1**2, axis=1) / np.sum(np.abs(w2 - w1), axis=1) / intensity


def empirical_sampler(values: np.ndarray):
    """A sampler ``(size, rng) -> samples`` drawing by inverse transform from the empirical
    distribution of ``values`` (linear interpolation between its order statistics)."""
    sorted_values = np.sort(np.ravel(values).astype(np.float64))
    if sorted_values.size < 2:
        raise ValueError("inverse transform sampling needs at least two values")
    levels = (np.arange(sorted_values.size) + 0.5) / sorted_values.size

    def sample(size, rng):
        return np.interp(rng.uniform(size=size), levels, sorted_values)

    return sample


def excess_kurtosis(values) -> float:
    """Sample excess kurtosis ``m4 / m2^2 - 3`` (0 for a Gaussian)."""
    v = np.ravel(values).astype(np.float64)
    v = v - v.mean()
    return float(np.mean(v**4) / np.mean(v**2) ** 2 - 3.0)
