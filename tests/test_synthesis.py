"""The synthesis chapter's diagnostics against analytic answers on small models."""

import numpy as np
import pytest
from linear_models_tf import linear_model
from scipy.stats import kurtosis, norm

from companion import evaluation
from companion.papers.synthesis import experiments


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
    np.testing.assert_allclose(
        experiments.tilting_angles(linear_model(W, c), x, y, centroids), np.degrees(np.arccos(cos)), atol=1e-3
    )
    flat = experiments.tilting_angles(linear_model(np.zeros((5, 4)), c), x, y, centroids)
    assert np.all(np.isnan(flat))  # no gradient, no boundary normal


def test_noise_bound_is_the_gaussian_isoperimetric_distance():
    assert experiments.noise_bound(norm.cdf(-2.0), 0.5) == pytest.approx(1.0)
    assert experiments.noise_bound(0.0, 0.3) == float("inf")
    assert experiments.noise_bound(0.5, 0.3) == 0.0 and experiments.noise_bound(0.9, 0.3) == 0.0
    with pytest.raises(ValueError, match="error_rate"):
        experiments.noise_bound(1.5, 0.3)


def test_a_flat_boundary_meets_the_isoperimetric_bound():
    """One image at distance a = sigma from a hyperplane: error rate Phi(-1), the median
    distance from the noisy copies to the boundary is a, the bound is a: ratio 1."""
    sigma, dim = 0.5, 20
    w = np.zeros(dim)
    w[0] = 1.0
    W = np.stack([w, -w], axis=1)  # z_0 - z_1 = 2 x_0: boundary x_0 = 0
    x = np.zeros((1, dim))
    x[0, 0] = sigma
    out = experiments.noise_tradeoff(
        linear_model(W, np.zeros(2)), x, np.array([0]), sigma, 4000, np.random.default_rng(1)
    )
    assert out["error_rate"] == pytest.approx(norm.cdf(-1.0), abs=0.015)
    assert out["median_distance"] == pytest.approx(1.02 * sigma, rel=0.05)  # DeepFool's overshoot
    assert out["ratio"] == pytest.approx(1.02, abs=0.06)


def _identity_code_model(dim):
    """x -> code (identity, the penultimate layer) -> logits: the code is the input itself."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((dim,)),
            keras.layers.Dense(dim, use_bias=False, name="code"),
            keras.layers.Dense(10, name="logits"),
        ]
    )
    model.get_layer("code").set_weights([np.eye(dim, dtype="float32")])
    return model


def test_code_exponent_recovers_a_planted_power_law():
    rng = np.random.default_rng(2)
    dim, alpha = 200, 1.3
    x = rng.normal(size=(20000, dim)) * np.arange(1, dim + 1) ** (-alpha / 2)
    model = _identity_code_model(dim)
    np.testing.assert_allclose(experiments.penultimate_codes(model, x.astype("float32")), x, rtol=1e-5, atol=1e-6)
    assert experiments.code_exponent(model, x.astype("float32"), 10, 100) == pytest.approx(alpha, abs=0.05)


def test_unit_range_model_sees_pixels_as_the_inner_model_does():
    rng = np.random.default_rng(3)
    inner = _identity_code_model(6)
    wrapped = experiments.unit_range(inner, 255.0)
    x = rng.uniform(0, 1, size=(7, 6)).astype("float32")
    np.testing.assert_allclose(np.asarray(wrapped(x)), np.asarray(inner(255 * x)), rtol=1e-5)
    np.testing.assert_allclose(experiments.penultimate_codes(wrapped, x), 255 * x, rtol=1e-5)
    assert experiments.readout_layer(wrapped).name == "logits"
    assert [k.shape for k in experiments.kernels(wrapped)] == [(6, 6), (6, 10)]


def test_kurtosis_measures_against_scipy_and_a_gaussian_layer():
    rng = np.random.default_rng(4)
    model = _identity_code_model(50)
    model.get_layer("code").set_weights([rng.normal(size=(50, 50)).astype("float32")])
    out = experiments.kurtosis_measures(model, 2000, 40, rng)
    expected = np.mean([kurtosis(k, axis=None) for k in experiments.kernels(model)])
    assert out["kurtosis"] == pytest.approx(expected, abs=1e-6)
    assert abs(out["ratio_gain"]) < 10  # Gaussian first-layer weights: no gain over Gaussian


def test_zero_gradient_share_against_the_logit_margin_where_the_softmax_underflows():
    """A linear softmax model: the cross-entropy's input gradient is exactly zero in float32 where
    every wrong-class probability underflows, a margin past about 104 (never below 87)."""
    rng = np.random.default_rng(5)
    W = rng.normal(size=(6, 3))
    x = rng.uniform(0, 1, size=(200, 6))
    y = np.argmax(x @ W, axis=1)
    for scale in (1.0, 300.0):
        model = linear_model(scale * W, np.zeros(3))
        share = evaluation.zero_gradient_share(evaluation.input_gradients(model, x, y))
        assert share == evaluation.gradient_shares(model, x, y)["cross_entropy"]["zero"]
        z = np.sort(x @ (scale * W), axis=1)
        margin = z[:, -1] - z[:, -2]
        assert np.mean(margin > 105) <= share <= np.mean(margin > 86)
    assert share > 0.3  # at scale 300 the underflow is exercised


def test_rank_correlation_and_its_edge_cases():
    assert experiments.rank_correlation([1, 2, 3, 4], [10, 20, 30, 45]) == (1.0, 4)
    assert experiments.rank_correlation([1, 2, 3, 4], [4, 3, 2, 1])[0] == pytest.approx(-1.0)
    rho, n = experiments.rank_correlation([1, np.nan, 3, np.inf], [1, 2, 3, 4])
    assert np.isnan(rho) and n == 2
    assert np.isnan(experiments.rank_correlation([1, 1, 1], [1, 2, 3])[0])


def test_centroids_need_every_class():
    x = np.arange(12.0).reshape(6, 2)
    np.testing.assert_allclose(
        experiments.class_centroids(x, np.array([0, 0, 1, 1, 2, 2]), 3), [[1, 2], [5, 6], [9, 10]]
    )
    with pytest.raises(ValueError, match=r"classes \[2\]"):
        experiments.class_centroids(x, np.array([0, 0, 1, 1, 1, 1]), 3)


def _rows(**columns):
    """Rows ``{"name", "dataset", **measures}`` from ``name=(dataset, {measure: value})``."""
    return [{"name": name.replace("_", " ", 1), "dataset": ds, **values} for name, (ds, values) in columns.items()]


def test_results_table_header_is_the_reference_chapters():
    from pathlib import Path

    import nbformat

    from companion.book import comparison

    reference = nbformat.read(Path(__file__).parent / "reference" / "synthesis.ipynb", as_version=4)
    code = [c for c in reference.cells if c.cell_type == "code"]
    printed = comparison.output_text(code[4])  # what the reference shows, a table or printed text
    assert repr(experiments.results_table([])) == printed.splitlines()[0] + "\n"


def test_results_table_scales_formats_and_pads_each_measure():
    rows = [{"name": "cnn vanilla", "clean": 0.5, "tilt": 44.6}, {"name": "x", "clean": 0.0375, "tilt": float("nan")}]
    columns = {"clean": ("clean %", 100, ".1f"), "tilt": ("tilt °", 1, ".0f")}
    table = experiments.results_table(rows, columns)
    # names in 34 characters, then each column right-aligned in 11, one space apart; printed as print did
    assert repr(table) == (
        "network" + " " * 27 + " " + " " * 4 + "clean %" + " " + " " * 5 + "tilt °\n"
        "cnn vanilla" + " " * 23 + " " + " " * 7 + "50.0" + " " + " " * 9 + "45\n"
        "x" + " " * 33 + " " + " " * 8 + "3.8" + " " + " " * 8 + "nan\n"
    )
    assert table.header == ("network", "clean %", "tilt °")
    assert table.rows == (("cnn vanilla", "50.0", "45"), ("x", "3.8", "nan"))
    assert table.header_lines == 1 and ">50.0</td>" in table._repr_html_()


def test_networks_table_lists_data_set_name_and_chapter_without_a_header_line():
    networks = [
        experiments.Network("cnn vanilla", "mnist", "saturating_networks", None),
        experiments.Network("ResNet L2-PGD eps=0.5", "cifar10", "smooth_codes", None),
    ]
    table = experiments.networks_table(networks)
    assert repr(table) == (
        "mnist    cnn vanilla                        from the saturating_networks chapter\n"
        "cifar10  ResNet L2-PGD eps=0.5              from the smooth_codes chapter\n"
    )
    assert table.header == ("data set", "network", "chapter") and table.header_lines == 0
    assert table.rows == (
        ("mnist", "cnn vanilla", "saturating_networks"),
        ("cifar10", "ResNet L2-PGD eps=0.5", "smooth_codes"),
    )


def test_correlations_table_lists_each_prediction_per_data_set_mnist_first():
    predictions = (("tilt", "less tilt, more robust", -1), ("zero_gradients", "not robustness", 0))
    rho = {
        ("cifar10", "tilt"): (0.5, 7),
        ("cifar10", "zero_gradients"): (float("nan"), 7),
        ("mnist", "tilt"): (-0.994, 12),
        ("mnist", "zero_gradients"): (0.0, 12),
    }
    table = experiments.correlations_table(rho, predictions)
    assert repr(table) == (
        "mnist    tilt            rho = -0.99 over 12 networks  (less tilt, more robust)\n"
        "mnist    zero_gradients  rho = +0.00 over 12 networks  (not robustness)\n"
        "cifar10  tilt            rho = +0.50 over 7 networks  (less tilt, more robust)\n"
        "cifar10  zero_gradients  rho = +nan over 7 networks  (not robustness)\n"
    )
    assert table.header == ("data set", "diagnostic", "rho", "networks", "prediction") and table.header_lines == 0
    assert table.rows == (
        ("mnist", "tilt", "-0.99", "12", "less tilt, more robust"),
        ("mnist", "zero_gradients", "+0.00", "12", "not robustness"),
        ("cifar10", "tilt", "+0.50", "7", "less tilt, more robust"),
        ("cifar10", "zero_gradients", "+nan", "7", "not robustness"),
    )
    assert repr(experiments.correlations_table(rho, predictions[:1], datasets=("cifar10",))) == (
        "cifar10  tilt            rho = +0.50 over 7 networks  (less tilt, more robust)\n"
    )


def test_rank_correlations_per_data_set_mnist_first():
    rows = _rows(
        a_1=("mnist", {"d": 1.0, "e": 3.0, "pgd": 0.1}),
        b_1=("cifar10", {"d": 5.0, "e": 1.0, "pgd": 0.3}),
        a_2=("mnist", {"d": 2.0, "e": 2.0, "pgd": 0.2}),
        b_2=("cifar10", {"d": 3.0, "e": 1.0, "pgd": 0.2}),
        a_3=("mnist", {"d": 3.0, "e": 1.0, "pgd": 0.3}),
        b_3=("cifar10", {"d": 4.0, "e": 1.0, "pgd": 0.1}),
        a_4=("mnist", {"d": 9.0, "e": float("nan"), "pgd": 0.4}),
    )
    rho = experiments.rank_correlations(rows, ["d", "e"])
    assert list(rho) == [("mnist", "d"), ("mnist", "e"), ("cifar10", "d"), ("cifar10", "e")]
    assert rho["mnist", "d"] == (pytest.approx(1.0), 4)  # monotone increasing
    assert rho["mnist", "e"] == (pytest.approx(-1.0), 3)  # decreasing; the nan row is left out
    assert rho["cifar10", "d"] == (pytest.approx(0.5), 3)  # ranks (3, 1, 2) against (3, 2, 1): 1 - 6 * 2 / 24
    assert np.isnan(rho["cifar10", "e"][0])  # a constant column
    by_clean = experiments.rank_correlations(rows, ["d"], robustness="e", datasets=("mnist",))
    assert list(by_clean) == [("mnist", "d")] and by_clean["mnist", "d"] == (pytest.approx(-1.0), 3)


def test_adversarial_gains_are_adversarial_minus_vanilla_per_architecture():
    rows = [
        {"name": f"{arch} {mode}", "alpha": alpha, "clean": 0.0}
        for arch, values in {
            "sigmoid_mlp": (2.0, 2.5, 9.0),
            "relu_mlp": (1.0, 0.75, 9.0),
            "cnn": (3.0, 3.0, 9.0),
        }.items()
        for mode, alpha in zip(("vanilla", "adversarial", "saturated"), values)
    ]
    assert experiments.adversarial_gains(rows) == [0.5, -0.25, 0.0]
    assert experiments.adversarial_gains(rows, key="clean") == [0.0, 0.0, 0.0]


def test_readout_scaling_summary_reads_both_networks_in_percent():
    rows = [
        {"name": "sigmoid_mlp saturated", "zero_gradients": 0.0, "pgd": 0.12},
        {"name": experiments.READOUT_SCALED, "zero_gradients": 0.625, "pgd": 0.12},
    ]
    assert experiments.readout_scaling_summary(rows) == (
        "readout x100: zero-gradient share 62.5%, PGD 12.0% (the same network unscaled: 0.0%, PGD 12.0%)"
    )


def test_evaluation_data_takes_the_test_splits_and_the_training_centroids_without_validation():
    from companion import data
    from companion.papers.saturating_networks.experiments import VALIDATION_SIZE

    n = VALIDATION_SIZE + 30
    y = (np.arange(n) % 10).astype(np.uint8)
    x = np.repeat((10 * y).astype(np.uint8)[:, None, None], 28, axis=1).repeat(28, axis=2)
    x[-VALIDATION_SIZE:] = 255  # validation images: they must not move the centroids
    y_test = np.array([3, 1], np.uint8)
    mnist = data.Dataset("mnist", x, y, np.full((2, 28, 28), 51, np.uint8), y_test)
    cy = (np.arange(20) % 10).astype(np.uint8)
    cx = np.broadcast_to((20 * cy).astype(np.uint8)[:, None, None, None], (20, 32, 32, 3)).copy()
    cifar = data.Dataset("cifar10", cx, cy, np.zeros((3, 32, 32, 3), np.uint8), np.array([0, 1, 2], np.uint8))
    test, centroids = experiments.evaluation_data(mnist, cifar)
    assert test["mnist"][0].shape == (2, 28, 28, 1) and test["mnist"][0].dtype == np.float32
    np.testing.assert_allclose(test["mnist"][0], 0.2)
    np.testing.assert_array_equal(test["mnist"][1], y_test)
    assert test["cifar10"][0].shape == (3, 32, 32, 3)
    assert centroids["mnist"].shape == (10, 28, 28, 1) and centroids["cifar10"].shape == (10, 32, 32, 3)
    np.testing.assert_allclose(centroids["mnist"][:, 0, 0, 0], 10 * np.arange(10) / 255, rtol=1e-6)
    np.testing.assert_allclose(centroids["cifar10"][:, 5, 5, 2], 20 * np.arange(10) / 255, rtol=1e-6)


def test_measure_networks_measures_each_network_on_its_data_set_drawing_rng_in_order(monkeypatch):
    def fake_measure(network, x, y, centroids, settings, rng):
        return {"first": float(x[0]), "label": int(y[0]), "centroid": float(centroids[0]), "draw": rng.random()}

    monkeypatch.setattr(experiments, "measure", fake_measure)
    networks = [
        experiments.Network("m1", "mnist", "a", None),
        experiments.Network("c1", "cifar10", "b", None),
        experiments.Network("m2", "mnist", "a", None),
    ]
    test = {"mnist": (np.array([1.0]), np.array([7])), "cifar10": (np.array([2.0]), np.array([4]))}
    centroids = {"mnist": np.array([10.0]), "cifar10": np.array([20.0])}
    rows, seconds = experiments.measure_networks(networks, test, centroids, None, np.random.default_rng(9))
    draws = np.random.default_rng(9).random(3)
    assert rows == [
        {"name": "m1", "dataset": "mnist", "first": 1.0, "label": 7, "centroid": 10.0, "draw": draws[0]},
        {"name": "c1", "dataset": "cifar10", "first": 2.0, "label": 4, "centroid": 20.0, "draw": draws[1]},
        {"name": "m2", "dataset": "mnist", "first": 1.0, "label": 7, "centroid": 10.0, "draw": draws[2]},
    ]
    assert list(seconds) == ["m1", "c1", "m2"] and all(s >= 0 for s in seconds.values())
