import numpy as np
import pytest

from companion import models, reproducibility, smooth_codes, spectra, training


def test_pca_projection_and_zca():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 4, 4, 2)) @ np.diag([3.0, 0.5])  # two channels of different scale
    basis = smooth_codes.PCABasis(x)
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
        got = float(training.offdiagonal_covariance_norm(np.float32(h)))
        assert got == pytest.approx(expected, rel=1e-4)
    assert float(training.offdiagonal_covariance_norm(np.ones((8, 4), np.float32))) < 1e-9


def test_column_sum_jacobian_of_a_softmax_vanishes_and_frobenius_does_not():
    import keras
    import tensorflow as tf

    reproducibility.seed_everything(0)
    model = models.cifar_cnn()
    probe = keras.Model(model.input, [model.get_layer("penultimate").output, model.output])
    x = tf.constant(np.random.default_rng(1).uniform(size=(4, 32, 32, 3)).astype("float32"))
    _, frob, _ = training.smoothness_penalties(model, probe, x, "frobenius")
    _, cols, _ = training.smoothness_penalties(model, probe, x, "column_sums")
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
    base, error = smooth_codes.imagenet_model("MobileNetV2", weights=None, input_shape=(64, 64, 3))
    assert error is None
    x = np.random.default_rng(3).uniform(size=(40, 64, 64, 3)).astype("float32")
    feats = np.asarray(base(x))
    lam = spectra.covariance_eigenvalues(feats)
    assert feats.shape == (40, 1280) and np.all(np.diff(lam) <= 1e-9)
    _, offline = smooth_codes.imagenet_model("MobileNetV2", weights="no-such-weights.h5", input_shape=(64, 64, 3))
    assert "unavailable" in offline
