import numpy as np
import pytest
from linear_models_tf import linear_model
from scipy.special import softmax

from companion.papers.saturating_networks import geometry


def test_jacobian_of_a_linear_model_is_its_weight_matrix():
    rng = np.random.default_rng(0)
    W, c = rng.normal(size=(6, 4)), rng.normal(size=4)
    jac = geometry.input_jacobian(linear_model(W, c), rng.normal(size=(3, 6)))
    np.testing.assert_allclose(jac, np.broadcast_to(W.T, (3, 4, 6)), rtol=1e-6)
    np.testing.assert_allclose(
        geometry.jacobian_singular_values(linear_model(W, c), np.zeros((1, 6)))[0],
        np.linalg.svd(W, compute_uv=False),
        rtol=1e-5,
    )


def test_length_element_matches_the_kl_divergence():
    """For a small step, KL(p(x) || p(x + dx)) = dl^2 / 2: the Fisher metric's defining property."""
    rng = np.random.default_rng(1)
    W, c = rng.normal(size=(6, 4)), rng.normal(size=4)
    x0 = rng.normal(size=6)
    dx = 1e-2 * rng.normal(size=6)
    dl = geometry.length_elements(linear_model(W, c), np.stack([x0, x0 + dx]))[0]
    p, q = softmax(x0 @ W + c), softmax((x0 + dx) @ W + c)
    kl = np.sum(p * np.log(p / q))
    assert dl**2 / 2 == pytest.approx(kl, rel=2e-2)


def test_fisher_metric_annihilates_the_global_shift():
    p = softmax(np.random.default_rng(2).normal(size=(5, 10)), axis=1)
    g = geometry.fisher_metric(p)
    np.testing.assert_allclose(g @ np.ones(10), 0, atol=1e-12)  # h -> h + const moves nothing
    assert np.all(np.linalg.eigvalsh(g) > -1e-12)


def test_linear_path_and_rdm():
    path = geometry.linear_path(np.zeros(3), np.ones(3), 5)
    np.testing.assert_allclose(path[:, 0], [0, 0.25, 0.5, 0.75, 1])
    acts = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    d = geometry.rdm(acts)
    np.testing.assert_allclose(d, [[0, 1, 2], [1, 0, 1], [2, 1, 0]])
