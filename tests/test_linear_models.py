"""The SVM and logistic solvers against independent solutions of the same problems."""

import numpy as np
import pytest
from scipy.optimize import minimize

from companion.papers.boundary_tilting import linear_models

rng = np.random.default_rng(1)
X = np.r_[rng.normal(size=(15, 3)) - 0.8, rng.normal(size=(15, 3)) + 0.8]
Y = np.r_[-np.ones(15), np.ones(15)]


def primal_svm_by_slsqp(x, y, lam):
    """min lam/2 |w|^2 + mean(xi) s.t. xi >= 0, y (x w + b) >= 1 - xi: a second method."""
    n, d = x.shape
    fun = lambda v: 0.5 * lam * v[:d] @ v[:d] + v[d + 1 :].mean()  # noqa: E731
    cons = [
        {"type": "ineq", "fun": lambda v: y * (x @ v[:d] + v[d]) - 1 + v[d + 1 :]},
        {"type": "ineq", "fun": lambda v: v[d + 1 :]},
    ]
    res = minimize(
        fun,
        np.r_[np.zeros(d + 1), np.ones(n)],
        constraints=cons,
        method="SLSQP",
        options={"maxiter": 1000, "ftol": 1e-12},
    )
    return res.fun


@pytest.mark.parametrize("lam", [1e-2, 1e-1, 1.0])
def test_svm_reaches_the_primal_optimum(lam):
    w, b = linear_models.fit_svm(X, Y, lam, tol=1e-6)
    ours = linear_models.objective(w, b, X, Y, lam, "hinge")
    assert ours == pytest.approx(primal_svm_by_slsqp(X, Y, lam), rel=1e-4)


def test_svm_path_matches_single_fits():
    W, B = linear_models.svm_path(X, Y, [0.1, 1.0])
    w, b = linear_models.fit_svm(X, Y, 1.0)
    np.testing.assert_allclose(W[1], w)
    assert B[1] == pytest.approx(b)


def test_logistic_gradient_vanishes_by_finite_differences():
    lam = 0.05
    w, b = linear_models.fit_logistic(X, Y, lam)
    theta = np.r_[w, b]
    f = lambda t: linear_models.objective(t[:-1], t[-1], X, Y, lam, "softplus")  # noqa: E731
    h = 1e-6
    grad = [(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(len(theta))]
    assert np.max(np.abs(grad)) < 1e-6


def test_bad_lambda():
    with pytest.raises(ValueError, match="positive"):
        linear_models.fit_svm(X, Y, 0.0)
    with pytest.raises(ValueError, match="positive"):
        linear_models.fit_logistic(X, Y, -1.0)
