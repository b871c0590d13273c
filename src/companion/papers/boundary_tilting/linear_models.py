"""L2-regularised linear classifiers with an unregularised bias.

Both minimise ``R(w, b) + (lam / 2) ||w||^2`` with ``R`` the mean loss over the training set:
the hinge loss (SVM, solved exactly in the dual by libsvm through scikit-learn's ``SVC`` with
``C = 1 / (n lam)``) or the softplus loss (logistic regression, solved by L-BFGS). Inputs: ``x``
``(n, d)``, ``y`` ``(n,)`` in {-1, +1}; outputs ``w`` ``(d,)`` and ``b``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from companion.papers.boundary_tilting import losses
from companion.papers.boundary_tilting.theory import _check


def objective(w, b, x, y, lam: float, loss: str = "hinge") -> float:
    """``mean(f(y (x w + b))) + lam / 2 ||w||^2``."""
    w, x, y = _check(w, x, y)
    return float(np.mean(losses.LOSSES[loss](y * (x @ w + b))) + 0.5 * lam * (w @ w))


def _check_lams(lams):
    lams = np.atleast_1d(np.asarray(lams, np.float64))
    if np.any(~np.isfinite(lams)) or np.any(lams <= 0):
        raise ValueError(f"regularisation parameters must be positive and finite, got {lams}")
    return lams


def svm_path(x, y, lams, tol: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Linear SVMs for each ``lam`` in ``lams``; returns ``W`` ``(k, d)`` and ``B`` ``(k,)``.

    The Gram matrix is computed once and shared by all fits.
    """
    from sklearn.svm import SVC

    x = np.asarray(x, np.float64)
    _check(np.ones(x.shape[1]), x, y)
    lams = _check_lams(lams)
    gram = x @ x.T
    n = len(x)
    ws, bs = [], []
    for lam in lams:
        svc = SVC(kernel="precomputed", C=1.0 / (n * lam), tol=tol, cache_size=500)
        svc.fit(gram, y)
        ws.append(svc.dual_coef_[0] @ x[svc.support_])
        bs.append(svc.intercept_[0])
    return np.array(ws), np.array(bs)


def fit_svm(x, y, lam: float, tol: float = 1e-3) -> tuple[np.ndarray, float]:
    """One linear SVM (hinge loss): ``(w, b)``."""
    w, b = svm_path(x, y, [lam], tol)
    return w[0], float(b[0])


def fit_logistic(x, y, lam: float) -> tuple[np.ndarray, float]:
    """Logistic regression (softplus loss) by L-BFGS: ``(w, b)``."""
    x = np.asarray(x, np.float64)
    _, x, y = _check(np.ones(x.shape[1]), x, y)
    lam = float(_check_lams(lam)[0])
    n, d = x.shape

    def value_and_grad(theta):
        w, b = theta[:d], theta[d]
        m = y * (x @ w + b)
        g = -y * np.exp(-np.logaddexp(0.0, m)) / n  # d/ds of mean softplus(y s)
        value = np.mean(np.logaddexp(0.0, -m)) + 0.5 * lam * (w @ w)
        return value, np.append(x.T @ g + lam * w, np.sum(g))

    res = minimize(
        value_and_grad,
        np.zeros(d + 1),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 10000, "gtol": 1e-10, "ftol": 1e-15},
    )
    return res.x[:d], float(res.x[d])
