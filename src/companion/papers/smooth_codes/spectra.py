"""Covariance eigenspectra and their power-law exponent (Stringer, Pachitariu et al. 2019;
Schaeffer et al. 2020).

Sign convention, once: ``lambda_n ~ n^(-alpha)`` with ``alpha > 0`` for a decaying spectrum.
Stringer et al.'s bound ``alpha* = 1 + 2/d``: a code of a ``d``-dimensional stimulus with
``alpha < alpha*`` (a spectrum decaying too slowly) is fractal, i.e. not smooth.
"""

from __future__ import annotations

import numpy as np


def covariance_eigenvalues(activations) -> np.ndarray:
    """Eigenvalues of the unit-by-unit covariance of ``activations`` ``(n_inputs, n_units)``,
    averaged over the inputs, in decreasing order: ``(n_units,)``."""
    a = np.asarray(activations, np.float64)
    if a.ndim != 2 or len(a) < 2:
        raise ValueError(f"activations must be (n_inputs >= 2, n_units), got shape {a.shape}")
    a = a - a.mean(axis=0)
    return np.sort(np.linalg.eigvalsh(a.T @ a / (len(a) - 1)))[::-1]


def powerlaw_exponent(eigenvalues, lo: int = 10, hi: int = 316) -> float:
    """``alpha`` of the least-squares line ``log lambda_n = -alpha log n + c`` over ranks
    ``lo``..``hi`` (1-based, inclusive). Eigenvalues must be positive there."""
    lam = np.asarray(eigenvalues, np.float64)
    if not 1 <= lo < hi <= len(lam):
        raise ValueError(f"need 1 <= lo < hi <= {len(lam)} eigenvalues, got lo={lo}, hi={hi}")
    ranks = np.arange(lo, hi + 1)
    values = lam[lo - 1 : hi]
    if np.any(values <= 0):
        raise ValueError(f"eigenvalues {lo}..{hi} must be positive to fit a power law")
    slope, _ = np.polyfit(np.log(ranks), np.log(values), 1)
    return float(-slope)


def stringer_bound(d: float) -> float:
    """``alpha* = 1 + 2/d`` for a ``d``-dimensional stimulus."""
    if d <= 0:
        raise ValueError(f"the stimulus dimension must be positive, got {d}")
    return 1.0 + 2.0 / d
