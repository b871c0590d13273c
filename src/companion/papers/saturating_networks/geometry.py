"""Input-output geometry of a classifier (Nayebi & Ganguli 2017, sections 5-6).

The softmax output carries the Fisher metric ``G_F = diag(p) - p p^T`` (eq. 10) in logit
coordinates; pulled back to input space through the logit Jacobian ``J`` (``(k, d)``) it gives
``G_in = J^T G_F J`` (eq. 11) and the length element ``dl = sqrt(dx^T G_in dx)`` (eq. 12).
"""

from __future__ import annotations

import numpy as np


def input_jacobian(model, x) -> np.ndarray:
    """Jacobian of the logits with respect to the input: ``(n, k, d)`` for ``x`` ``(n, ...)``."""
    import tensorflow as tf

    x = tf.convert_to_tensor(np.asarray(x, np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = model(x, training=False)
    jac = tape.batch_jacobian(logits, x)
    return jac.numpy().reshape(x.shape[0], logits.shape[1], -1).astype(np.float64)


def fisher_metric(p) -> np.ndarray:
    """``diag(p) - p p^T`` for probabilities ``p`` ``(n, k)``: ``(n, k, k)``."""
    p = np.asarray(p, np.float64)
    return np.einsum("ni,ij->nij", p, np.eye(p.shape[1])) - np.einsum("ni,nj->nij", p, p)


def length_elements(model, path) -> np.ndarray:
    """``dl`` of eq. (12) along a path of inputs ``(m, ...)``: ``(m - 1,)``, the metric taken
    at the start of each step."""
    from scipy.special import softmax

    path = np.asarray(path, np.float64)
    jac = input_jacobian(model, path[:-1])
    logits = np.asarray(model(path[:-1].astype(np.float32), training=False), np.float64)
    g = fisher_metric(softmax(logits, axis=1))
    dh = np.einsum("nkd,nd->nk", jac, (path[1:] - path[:-1]).reshape(len(path) - 1, -1))
    return np.sqrt(np.maximum(np.einsum("nk,nkl,nl->n", dh, g, dh), 0.0))


def jacobian_singular_values(model, x) -> np.ndarray:
    """Singular values of the logit Jacobian at each input, largest first: ``(n, k)``."""
    return np.linalg.svd(input_jacobian(model, x), compute_uv=False)


def linear_path(x_source, x_target, steps: int) -> np.ndarray:
    """``(1 - t) x_S + t x_T`` for ``steps`` values of ``t`` in [0, 1] (eq. 13): ``(steps, ...)``."""
    t = np.linspace(0.0, 1.0, steps).reshape((-1,) + (1,) * np.ndim(x_source))
    return (1 - t) * np.asarray(x_source, np.float64) + t * np.asarray(x_target, np.float64)


def rdm(activities) -> np.ndarray:
    """Eq. (9): ``D[a, b] = mean_i (x_i^a - x_i^b)^2`` for activities ``(m, units)``: ``(m, m)``."""
    a = np.asarray(activities, np.float64).reshape(len(activities), -1)
    sq = np.sum(a * a, axis=1)
    return np.maximum(sq[:, None] + sq[None, :] - 2 * a @ a.T, 0.0) / a.shape[1]
