"""Geometry of a linear classifier ``s(x) = w . x + b`` (Tanay & Griffin 2016).

Conventions: class I has label ``y = -1`` (``s(x) <= 0``), class J has ``y = +1``. Images are
rows: ``x`` has shape ``(n, d)``; ``w`` has shape ``(d,)``; ``b`` is a scalar. Distances are in
the units of ``x`` (pixels when images are in [0, 255]).
"""

from __future__ import annotations

import numpy as np


def _check(w, x=None, y=None):
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 1 or not np.any(w):
        raise ValueError(f"w must be a non-zero vector of shape (d,), got shape {w.shape}")
    if x is not None:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != w.shape[0]:
            raise ValueError(f"x must have shape (n, {w.shape[0]}), got {x.shape}")
    if y is not None:
        y = np.asarray(y)
        if x is not None and y.shape != (x.shape[0],):
            raise ValueError(f"y must have shape ({x.shape[0]},), got {y.shape}")
        if not np.all(np.isin(y, (-1, 1))):
            raise ValueError("y must hold labels -1 (class I) and +1 (class J)")
    return w, x, y


def signed_distance(x, w, b) -> np.ndarray:
    """Signed Euclidean distance ``d(x) = (w . x + b) / ||w||``, shape ``(n,)``."""
    w, x, _ = _check(w, x)
    return (x @ w + b) / np.linalg.norm(w)


def projected_image(x, w, b) -> np.ndarray:
    """The closest point of the boundary: ``x - s(x) w / ||w||^2``, shape ``(n, d)``."""
    w, x, _ = _check(w, x)
    return x - np.outer((x @ w + b) / (w @ w), w)


def mirror_image(x, w, b) -> np.ndarray:
    """The mirror image through the boundary: ``x - 2 s(x) w / ||w||^2``, shape ``(n, d)``."""
    w, x, _ = _check(w, x)
    return x - 2.0 * np.outer((x @ w + b) / (w @ w), w)


def adversarial_distance(w, b, x, y) -> float:
    """``d_adv = mean(y d(x))``: mean distance to the boundary, negative when misclassified."""
    w, x, y = _check(w, x, y)
    return float(np.mean(y * signed_distance(x, w, b)))


def error_distance(w, b, x, y) -> float:
    """``d_err = (1/n) sum over misclassified of (-y d(x))``: mean misclassification depth."""
    w, x, y = _check(w, x, y)
    return float(np.mean(np.maximum(-y * signed_distance(x, w, b), 0.0)))


def error_rate(w, b, x, y) -> float:
    """Share of ``x`` on the wrong side (``y s(x) <= 0`` counts as an error)."""
    w, x, y = _check(w, x, y)
    return float(np.mean(y * (x @ w + b) <= 0))


def centroid_direction(x_i, x_j) -> tuple[np.ndarray, float]:
    """Unit normal ``z = (j - i) / ||j - i||`` of the nearest centroid classifier, and ``||j - i||``."""
    delta = np.mean(np.asarray(x_j, np.float64), 0) - np.mean(np.asarray(x_i, np.float64), 0)
    norm = float(np.linalg.norm(delta))
    if norm == 0:
        raise ValueError("the two classes have the same centroid; the tilting angle is undefined")
    return delta / norm, norm


def tilting_angle(w, x_i, x_j) -> float:
    """Angle (radians, in [0, pi]) between ``w`` and the centroid direction ``j - i``.

    ``x_i``: ``(n_i, d)`` images of class I; ``x_j``: ``(n_j, d)`` images of class J.
    """
    w, _, _ = _check(w)
    z, _ = centroid_direction(x_i, x_j)
    return float(np.arccos(np.clip(w @ z / np.linalg.norm(w), -1.0, 1.0)))


def tilting_plane(w, x_i, x_j) -> np.ndarray:
    """Orthonormal basis ``(z, n)`` of the plane holding ``w`` and ``j - i``, shape ``(2, d)``.

    ``n`` comes from Gram-Schmidt: ``n = w - (w . z) z``, normalised. When ``w`` is parallel to
    ``z`` any ``n`` spans such a plane; we then take the data's direction of largest variance
    orthogonal to ``z``, so that a projection still shows the data's spread.
    """
    w, _, _ = _check(w)
    z, _ = centroid_direction(x_i, x_j)
    n = w - (w @ z) * z
    if np.linalg.norm(n) <= 1e-9 * np.linalg.norm(w):
        x = np.concatenate([x_i, x_j]).astype(np.float64)
        x = x - x.mean(axis=0)
        x -= np.outer(x @ z, z)
        n = np.linalg.eigh(x.T @ x)[1][:, -1]
        n -= (n @ z) * z
    return np.stack([z, n / np.linalg.norm(n)])
