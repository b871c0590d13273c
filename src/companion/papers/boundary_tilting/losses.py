"""Binary losses of the margin ``z = y d(x)`` scaled by ``||w||`` (Tanay & Griffin 2016).

``f_||w||(z) = f(||w|| z)``. As ``||w|| -> inf`` hinge and softplus both approach
``||w|| max(-z, 0)``; as ``||w|| -> 0`` they approach ``alpha - beta ||w|| z`` with
``(alpha, beta) = (1, 1)`` for the hinge and ``(ln 2, 1/2)`` for the softplus.
"""

from __future__ import annotations

import numpy as np

SMALL_NORM_COEFFICIENTS = {"hinge": (1.0, 1.0), "softplus": (float(np.log(2.0)), 0.5)}


def zero_one(s):
    """1 where ``s <= 0`` (misclassified), else 0."""
    return (np.asarray(s) <= 0).astype(np.float64)


def hinge(s):
    """``max(1 - s, 0)``."""
    return np.maximum(1.0 - np.asarray(s, np.float64), 0.0)


def softplus(s):
    """``ln(1 + exp(-s))``, computed without overflow."""
    return np.logaddexp(0.0, -np.asarray(s, np.float64))


LOSSES = {"zero_one": zero_one, "hinge": hinge, "softplus": softplus}


def scaled_loss(name: str, z, norm: float):
    """``f(norm * z)`` for the loss ``name`` in ``LOSSES``."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}")
    return LOSSES[name](norm * np.asarray(z, np.float64))


def large_norm_limit(z, norm: float):
    """``norm * max(-z, 0)``, the common limit of hinge and softplus as ``norm -> inf``."""
    return norm * np.maximum(-np.asarray(z, np.float64), 0.0)


def small_norm_limit(name: str, z, norm: float):
    """``alpha - beta * norm * z``, the limit of ``name`` as ``norm -> 0``."""
    alpha, beta = SMALL_NORM_COEFFICIENTS[name]
    return alpha - beta * norm * np.asarray(z, np.float64)


LIMIT_NORMS = {"large": (1e2, 1e4), "small": (1e-2, 1e-4)}  # ||w|| going to each limit, the last the nearest
LIMITS = {"large": lambda name, z, norm: large_norm_limit(z, norm), "small": small_norm_limit}


def limit_gaps(z, *, names=("hinge", "softplus"), norms=LIMIT_NORMS) -> dict:
    """``max |f(norm z) - limit(z)| / norm`` over the margins ``z`` ``(m,)``, for each loss of ``names``
    and each ``norm`` of ``norms[limit]``. Keys ``(loss, limit, norm)``, losses outermost, then limits."""
    return {
        (name, limit, norm): np.max(np.abs(scaled_loss(name, z, norm) - LIMITS[limit](name, z, norm))) / norm
        for name in names
        for limit, limit_norms in norms.items()
        for norm in limit_norms
    }


def worst_limit_gap(gaps: dict, *, norms=LIMIT_NORMS) -> float:
    """The largest of the :func:`limit_gaps` at the norm nearest each limit (the last of ``norms[limit]``)."""
    return max(gap for (_, limit, norm), gap in gaps.items() if norm == norms[limit][-1])
