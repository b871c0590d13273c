"""The synthesis chapter's diagnostics against analytic answers on small models."""
import numpy as np
import pytest
from scipy.stats import kurtosis, norm

from companion import robustness, synthesis
from linear_models_tf import linear_model


def test_tilting_angle_is_the_angle_between_the_boundary_normal_and_the_centroid_direction():
    rng = np.random.default_rng(0)
    W, c = rng.normal(size=(5, 4)), rng.normal(size=4)
    x = rng.normal(size=(30, 5))
    y = rng.integers(0, 4, size=30)
    centroids = rng.normal(size=(4, 5))
    z = x @ W + c
    runner_up = np.argmax(np.where(np.eye(4)[y] > 0, -np.inf, z), axis=1)
    normal = W[:, runner_up].T - W[:, y].T
    direction = centroids[runner_up] - centroids[y]
    cos = np.sum(normal * direction, 1) / np.linalg.norm(normal, axis=1) / np.linalg.norm(direction, axis=1)
    np.testing.assert_allclose(synthesis.tilting_angles(linear_model(W, c), x, y, centroids),
                               np.degrees(np.arccos(cos)), atol=1e-3)
    flat = synthesis.tilting_angles(linear_model(np.zeros((5, 4)), c), x, y, centroids)
    assert np.all(np.isnan(flat))  # no gradient, no boundary normal


def test_noise_bound_is_the_gaussian_isoperimetric_distance():
    assert synthesis.noise_bound(norm.cdf(-2.0), 0.5) == pytest.approx(1.0)
    assert synthesis.noise_bound(0.0, 0.3) == float("inf")
    assert synthesis.noise_bound(0.5, 0.3) == 0.0 and synthesis.noise_bound(0.9, 0.3) == 0.0
    with pytest.raises(ValueError, match="error_rate"):
        synthesis.noise_bound(1.5, 0.3)


def test_a_flat_boundary_meets_the_isoperimetric_bound():
    """One image at distance a = sigma from a hyperplane: error rate Phi(-1), the median
    distance from the noisy copies to the boundary is a, the bound is a: ratio 1."""
    sigma, dim = 0.5, 20
    w = np.zeros(dim)
    w[0] = 1.0
    W = np.stack([w, -w], axis=1)  # z_0 - z_1 = 2 x_0: boundary x_0 = 0
    x = np.zeros((1, dim))
    x[0, 0] = sigma
    out = synthesis.noise_tradeoff(linear_model(W, np.zeros(2)), x, np.array([0]), sigma, 4000,
                                   np.random.default_rng(1))
    assert out["error_rate"] == pytest.approx(norm.cdf(-1.0), abs=0.015)
    assert out["median_distance"] == pytest.approx(1.02 * sigma, rel=0.05)  # DeepFool's overshoot
    assert out["ratio"] == pytest.approx(1.02, abs=0.06)


def _identity_code_model(dim):
    """x -> code (identity, the penultimate layer) -> logits: the code is the input itself."""
    import keras

    model = keras.Sequential([keras.Input((dim,)), keras.layers.Dense(dim, use_bias=False, name="code"),
                              keras.layers.Dense(10, name="logits")])
    model.get_layer("code").set_weights([np.eye(dim, dtype="float32")])
    return model


def test_code_exponent_recovers_a_planted_power_law():
    rng = np.random.default_rng(2)
    dim, alpha = 200, 1.3
    x = rng.normal(size=(20000, dim)) * np.arange(1, dim + 1) ** (-alpha / 2)
    model = _identity_code_model(dim)
    np.testing.assert_allclose(synthesis.penultimate_codes(model, x.astype("float32")), x, rtol=1e-5, atol=1e-6)
    assert synthesis.code_exponent(model, x.astype("float32"), 10, 100) == pytest.approx(alpha, abs=0.05)


def test_unit_range_model_sees_pixels_as_the_inner_model_does():
    rng = np.random.default_rng(3)
    inner = _identity_code_model(6)
    wrapped = synthesis.unit_range(inner, 255.0)
    x = rng.uniform(0, 1, size=(7, 6)).astype("float32")
    np.testing.assert_allclose(np.asarray(wrapped(x)), np.asarray(inner(255 * x)), rtol=1e-5)
    np.testing.assert_allclose(synthesis.penultimate_codes(wrapped, x), 255 * x, rtol=1e-5)
    assert synthesis.readout_layer(wrapped).name == "logits"
    assert [k.shape for k in synthesis.kernels(wrapped)] == [(6, 6), (6, 10)]


def test_kurtosis_measures_against_scipy_and_a_gaussian_layer():
    rng = np.random.default_rng(4)
    model = _identity_code_model(50)
    model.get_layer("code").set_weights([rng.normal(size=(50, 50)).astype("float32")])
    out = synthesis.kurtosis_measures(model, 2000, 40, rng)
    expected = np.mean([kurtosis(k, axis=None) for k in synthesis.kernels(model)])
    assert out["kurtosis"] == pytest.approx(expected, abs=1e-6)
    assert abs(out["ratio_gain"]) < 10  # Gaussian first-layer weights: no gain over Gaussian


def test_zero_gradient_share_agrees_with_the_shares_of_the_stabilized_chapter():
    rng = np.random.default_rng(5)
    W = rng.normal(size=(6, 3))
    x = rng.uniform(0, 1, size=(200, 6))
    y = np.argmax(x @ W, axis=1)
    for scale in (1.0, 300.0):
        model = linear_model(scale * W, np.zeros(3))
        assert synthesis.zero_gradient_share(model, x, y) == robustness.gradient_shares(model, x, y)["cross_entropy"]["zero"]


def test_rank_correlation_and_its_edge_cases():
    assert synthesis.rank_correlation([1, 2, 3, 4], [10, 20, 30, 45]) == (1.0, 4)
    assert synthesis.rank_correlation([1, 2, 3, 4], [4, 3, 2, 1])[0] == pytest.approx(-1.0)
    rho, n = synthesis.rank_correlation([1, np.nan, 3, np.inf], [1, 2, 3, 4])
    assert np.isnan(rho) and n == 2
    assert np.isnan(synthesis.rank_correlation([1, 1, 1], [1, 2, 3])[0])


def test_centroids_need_every_class():
    x = np.arange(12.0).reshape(6, 2)
    np.testing.assert_allclose(synthesis.class_centroids(x, np.array([0, 0, 1, 1, 2, 2]), 3),
                               [[1, 2], [5, 6], [9, 10]])
    with pytest.raises(ValueError, match=r"classes \[2\]"):
        synthesis.class_centroids(x, np.array([0, 0, 1, 1, 1, 1]), 3)
