import numpy as np
import pytest

from companion import models, reproducibility
from companion.papers.smooth_codes import experiments, penalties, spectra


def test_pca_projection_and_zca():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 4, 4, 2)) @ np.diag([3.0, 0.5])  # two channels of different scale
    basis = experiments.PCABasis(x)
    full = basis.project(x, 32)
    np.testing.assert_allclose(full, x, atol=1e-4)  # all components: the identity
    one = basis.project(x, 1).reshape(400, -1) - basis.mean
    assert np.linalg.matrix_rank(one, tol=1e-6) == 1
    white = basis.zca(x, epsilon=1e-9).reshape(400, -1)
    cov = np.cov(white, rowvar=False)
    np.testing.assert_allclose(cov / cov[0, 0], np.eye(32), atol=0.05)  # decorrelated, equal variance


def test_offdiagonal_covariance_norm_against_numpy():
    rng = np.random.default_rng(3)
    for batch, units in ((128, 1000), (5, 3), (300, 40)):
        h = rng.normal(size=(batch, units)) @ rng.normal(size=(units, units)) + rng.normal(size=units)
        cov = np.cov(h, rowvar=False)
        expected = np.linalg.norm(cov - np.diag(np.diag(cov)))
        got = float(penalties.offdiagonal_covariance_norm(np.float32(h)))
        assert got == pytest.approx(expected, rel=1e-4)
    assert float(penalties.offdiagonal_covariance_norm(np.ones((8, 4), np.float32))) < 1e-9


def test_column_sum_jacobian_of_a_softmax_vanishes_and_frobenius_does_not():
    import keras
    import tensorflow as tf

    reproducibility.seed_everything(0)
    model = models.cifar_cnn()
    probe = keras.Model(model.input, [model.get_layer("penultimate").output, model.output])
    x = tf.constant(np.random.default_rng(1).uniform(size=(4, 32, 32, 3)).astype("float32"))
    _, frob, _ = penalties.smoothness_penalties(model, probe, x, "frobenius")
    _, cols, _ = penalties.smoothness_penalties(model, probe, x, "column_sums")
    assert float(frob) > 1e-4 and float(cols) < 1e-6 * float(frob) + 1e-9
    # the exact Frobenius norm against finite differences of the softmax outputs
    xs = x[:1].numpy().astype(np.float64)
    rng = np.random.default_rng(2)
    v = rng.normal(size=xs.shape)
    v /= np.linalg.norm(v)
    h = 1e-3
    f = lambda z: tf.nn.softmax(model(z.astype("float32"))).numpy().astype(np.float64)  # noqa: E731
    directional = (f(xs + h * v) - f(xs - h * v)) / (2 * h)
    with tf.GradientTape() as tape:
        xt = tf.constant(xs.astype("float32"))
        tape.watch(xt)
        p = tf.nn.softmax(model(xt))
    jac = tape.batch_jacobian(p, xt).numpy().reshape(10, -1)
    np.testing.assert_allclose(jac @ v.ravel(), directional.ravel(), atol=2e-4)


def test_imagenet_code_path_with_random_weights():
    reproducibility.seed_everything(0)
    base, error = experiments.imagenet_model("MobileNetV2", weights=None, input_shape=(64, 64, 3))
    assert error is None
    x = np.random.default_rng(3).uniform(size=(40, 64, 64, 3)).astype("float32")
    feats = np.asarray(base(x))
    lam = spectra.covariance_eigenvalues(feats)
    assert feats.shape == (40, 1280) and np.all(np.diff(lam) <= 1e-9)
    _, offline = experiments.imagenet_model("MobileNetV2", weights="no-such-weights.h5", input_shape=(64, 64, 3))
    assert "unavailable" in offline


def tiny_model(shape=(2, 2, 3)):
    """A network whose penultimate layer is its input, flattened: representations are pixels."""
    import keras

    inputs = keras.Input(shape)
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten(name="penultimate")(inputs)))


def test_representation_distances_with_pixels_as_the_representation():
    real = np.stack([np.zeros((2, 2, 3)), np.ones((2, 2, 3))]).astype("float32")
    built = np.stack([np.full((2, 2, 3), 0.5), np.ones((2, 2, 3))]).astype("float32")
    to_real, between, pixels = experiments.representation_distances(tiny_model(), real, built)
    # 12 pixels: the first pair differs by 0.5 in each, the second not at all; the two real images by 1
    assert float(to_real) == pytest.approx(0.25 * np.sqrt(12))
    assert float(between) == pytest.approx(np.sqrt(12))
    assert float(pixels) == pytest.approx(0.25 * np.sqrt(12))


def test_noise_spectra_order_and_draws(monkeypatch):
    monkeypatch.setattr(experiments, "spectrum", lambda model, x, lo, hi: (x, (lo, hi)))
    x = np.random.default_rng(0).uniform(size=(4, 2, 2, 3)).astype("float32")
    got = experiments.noise_spectra(None, x, (0.1, 0.5), np.random.default_rng(7), hi=50)
    assert list(got) == ["δ = 0.1", "pure noise δ = 0.1", "δ = 0.5", "pure noise δ = 0.5"]
    assert all(fit == (10, 50) for _, fit in got.values())
    rng = np.random.default_rng(7)  # the draws, by hand, in the notebook's order
    for delta in (0.1, 0.5):
        np.testing.assert_array_equal(got[f"δ = {delta}"][0], np.float32(x + delta * rng.standard_normal(x.shape)))
        grey = 0.5 + delta * rng.standard_normal(x.shape)
        np.testing.assert_array_equal(got[f"pure noise δ = {delta}"][0], np.float32(grey))


def test_noise_table():
    lam = np.ones(3)
    shown = experiments.noise_table({"δ = 0.1": (lam, 1.256), "pure noise δ = 0.1": (lam, 0.9)})
    assert repr(shown) == "δ = 0.1              alpha 1.26\npure noise δ = 0.1   alpha 0.90\n"
    assert shown.header == ("input", "alpha") and shown.rows == (("δ = 0.1", "1.26"), ("pure noise δ = 0.1", "0.90"))


def test_pca_alphas_projects_on_k_components(monkeypatch):
    def rank(model, x, lo, hi):  # stands in for alpha: the dimension of the inputs' span
        flat = x.reshape(len(x), -1).astype(np.float64)
        return None, int(np.linalg.matrix_rank(flat - flat.mean(axis=0), tol=1e-3))

    monkeypatch.setattr(experiments, "spectrum", rank)
    rng = np.random.default_rng(1)
    basis_images, x = rng.uniform(size=(200, 2, 2, 3)), rng.uniform(size=(50, 2, 2, 3))
    by_dim, zca = experiments.pca_alphas(None, x, basis_images, dims=(1, 3, 7))
    assert by_dim == {1: 1, 3: 3, 7: 7} and zca == 12


def test_alpha_table_and_mean_alpha():
    lam = np.ones(3)
    table = {0.0: {"original": (lam, 2.431), "robust": (lam, 3.0)}, 0.5: {"original": (lam, 2.0), "robust": (lam, 4.0)}}
    shown = experiments.alpha_table(table, "title")
    assert repr(shown) == (
        "title\n  eps      original        robust\n"
        " 0.00          2.43          3.00\n 0.50          2.00          4.00\n"
    )
    assert shown.header == ("eps", "original", "robust") and shown.title == "title"
    assert shown.rows == (("0.00", "2.43", "3.00"), ("0.50", "2.00", "4.00"))
    assert experiments.mean_alpha(table) == pytest.approx((2.431 + 3 + 2 + 4) / 4)


def test_robust_accuracy_table():
    shown = experiments.robust_accuracy_table({0.0: (0.085, 0.04), 0.25: (1.0, 0.5)}, 0.5, 100)
    assert repr(shown) == (
        "small ResNet, eps = 0.0 : clean test accuracy   8.5%, L2 PGD (eps 0.5) accuracy   4.0% on 100 test images\n"
        "small ResNet, eps = 0.25: clean test accuracy 100.0%, L2 PGD (eps 0.5) accuracy  50.0% on 100 test images\n"
    )
    assert shown.header == ("training eps", "clean test accuracy", "L2 PGD accuracy (eps 0.5, 100 test images)")
    assert shown.rows == (("0.0", "8.5%", "4.0%"), ("0.25", "100.0%", "50.0%"))


def test_ilyas_table():
    distances = {"robust": (0.1104, 0.1251, 19.087), "non_robust": (0.10312, 0.12949, 18.7949)}
    shown = experiments.ilyas_table(distances, {"deterministic": 0.15, "random": 0.1416})
    assert repr(shown) == (
        "robust     : representation distance to the real image 0.11 (two real images: 0.125); "
        "pixel L2 from it 19.09\n"
        "non_robust : representation distance to the real image 0.103 (two real images: 0.129); "
        "pixel L2 from it 18.79\n"
        "deterministic: the standard network assigns 15.0% to their (target) labels\n"
        "random       : the standard network assigns 14.2% to their (target) labels\n"
    )
    assert shown.header == (
        "dataset",
        "representation distance to the real image",
        "between two real images",
        "pixel L2 from it",
        "standard network's accuracy on the target labels",
    )
    assert shown.rows == (
        ("robust", "0.11", "0.125", "19.09", ""),
        ("non_robust", "0.103", "0.129", "18.79", ""),
        ("deterministic", "", "", "", "15.0%"),
        ("random", "", "", "", "14.2%"),
    )


def test_ilyas_training_eps():
    assert experiments.ilyas_training_eps((0.0, 0.25, 0.5, 1.0)) == experiments.L2_EPS == 0.5
    assert experiments.ilyas_training_eps((0.0, 1.0)) == 1.0  # without 0.5, the most robust network
    with pytest.raises(ValueError, match="must include 0.0"):
        experiments.ilyas_training_eps((0.5, 1.0))


def test_penalty_grid_rows_trains_each_jacobian_norm_once_per_penalized_cell(monkeypatch):
    trained, attacked = [], []

    def train(dataset, epochs, train_size, c1, c2, jacobian, seed):
        trained.append((c1, c2, jacobian))
        return len(trained), {"jacobian": [9.0, 0.1 * len(trained)]}

    def pgd(model, x, y, eps, steps, loss):
        attacked.append((len(x), eps, steps, loss))
        return 0.01 * model

    monkeypatch.setattr(experiments, "train_cifar", train)
    monkeypatch.setattr(experiments, "spectrum", lambda model, x, lo, hi: (None, float(model)))
    monkeypatch.setattr(experiments.evaluation, "pgd_accuracy", pgd)
    x, y = np.zeros((8, 2, 2, 3)), np.zeros(8, int)
    rows = experiments.penalty_grid_rows(
        None, ((0.0, 0.0), (0.0, 1.0)), x, y, epochs=1, train_size=10, attack_size=5, pgd_steps=3
    )
    penalized = [(0.0, 1.0, jacobian) for jacobian in ("frobenius", "column_sums", "logit_column_sums")]
    assert trained == [(0.0, 0.0, "frobenius"), *penalized]
    assert [r.jacobian for r in rows] == ["-", "frobenius", "column_sums", "logit_column_sums"]
    assert rows[1] == (0.0, 1.0, "frobenius", 2.0, 0.02, pytest.approx(0.2))
    assert attacked == [(5, 8 / 255, 3, "cross_entropy")] * 4


def test_penalty_table():
    rows = [
        experiments.PenaltyRow(0.0, 0.0, "-", 1.281, 0.05, 3e-9),
        experiments.PenaltyRow(0.01, 1.0, "logit_column_sums", 1.25, 1.0, 0.50512),
    ]
    shown = experiments.penalty_table(rows)
    assert repr(shown) == (
        "c1 = 0.0   c2 = 0.0  -                 alpha 1.28  PGD accuracy   5.0%  Jacobian term < 1e-6\n"
        "c1 = 0.01  c2 = 1.0  logit_column_sums alpha 1.25  PGD accuracy 100.0%  Jacobian term 5.05e-01\n"
    )
    assert shown.header == ("c1", "c2", "Jacobian norm", "alpha", "PGD accuracy", "Jacobian term")
    assert shown.rows == (
        ("0.0", "0.0", "-", "1.28", "5.0%", "< 1e-6"),
        ("0.01", "1.0", "logit_column_sums", "1.25", "100.0%", "5.05e-01"),
    )


def test_chapter_networks_are_the_ones_the_chapter_trains(monkeypatch):
    """The networks trained side by side first are the chapter's: every ``train_cifar`` and
    ``train_robust`` call (the notebook's own, read from its source, and those of
    :func:`experiments.penalty_grid_rows`) under the ci and quick settings, and no other."""
    import functools
    import inspect
    import re
    import types
    from pathlib import Path

    from companion import parallel, profiles

    source = (Path(__file__).parent.parent / "book" / "notebooks" / "smooth_codes.md").read_text()
    direct = re.findall(r"experiments\.(train_cifar|train_robust)\((.*?)\)\n", source, flags=re.S)
    assert [name for name, _ in direct] == ["train_cifar", "train_robust"], direct

    def normal(function, *args, **kwargs):
        bound = inspect.signature(function).bind(*args, **kwargs)
        bound.apply_defaults()
        return function.__name__, tuple(bound.arguments.values())

    def recording(function, made, *args, **kwargs):
        made.append(normal(function, *args, **kwargs))
        return (None, {"jacobian": [0.0]}) if function.__name__ == "train_cifar" else (None, {})

    def planning(planned, calls):
        planned.extend(calls)
        return len(calls)

    real = {name: getattr(experiments, name) for name in ("train_cifar", "train_robust")}
    for profile in ("ci", "quick"):
        settings, made, planned = profiles.settings("smooth_codes", profile), [], []
        cifar = types.SimpleNamespace(sha256="a stand-in data set")
        for name, function in real.items():
            monkeypatch.setattr(experiments, name, functools.partial(recording, function, made))
        monkeypatch.setattr(experiments, "spectrum", lambda *a, **k: (None, 0.0))
        monkeypatch.setattr(experiments.evaluation, "pgd_accuracy", lambda *a, **k: 0.0)
        monkeypatch.setattr(experiments.cache, "contains", lambda *a: False)
        monkeypatch.setattr(parallel, "fill_cache", functools.partial(planning, planned))
        namespace = {"experiments": experiments, "settings": settings, "cifar": cifar, "eps": 0.0}
        for name, call in direct:
            for eps in settings.robust_eps if name == "train_robust" else (None,):
                eval(f"experiments.{name}({call})", {**namespace, "eps": eps})
        x, y = np.zeros((2, 32, 32, 3), np.float32), np.zeros(2, int)
        experiments.penalty_grid_rows(cifar, settings.penalty_grid, x, y, epochs=settings.penalty_epochs,
                                      train_size=settings.penalty_train_size, attack_size=2, pgd_steps=1,
                                      seed=settings.seed)  # fmt: skip
        monkeypatch.setattr(experiments, "train_cifar", real["train_cifar"])
        monkeypatch.setattr(experiments, "train_robust", real["train_robust"])
        assert experiments.train_chapter_networks(cifar, settings) == len(made)
        assert sorted(made, key=str) == sorted((normal(c.func, *c.args) for c in planned), key=str), profile
        monkeypatch.undo()
