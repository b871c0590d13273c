import numpy as np
import pytest

from companion import attacks, models, reproducibility, training
from companion.papers.saturating_networks import saturation

tf = reproducibility.import_tensorflow()


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_complementary_functions_by_hand():
    z = np.array([-2.0, 0.0, 3.0], np.float32)
    np.testing.assert_allclose(saturation.complementary("relu", z).numpy(), [0, 0, 3])
    np.testing.assert_allclose(
        saturation.complementary("sigmoid", z).numpy(), _sigmoid(z) * (1 - _sigmoid(z)), rtol=1e-6
    )
    np.testing.assert_allclose(saturation.complementary("linear", z).numpy(), z)
    # sigma(1 - sigma) is the derivative of the sigmoid: a finite difference agrees
    h, z64 = 1e-5, z.astype(np.float64)
    np.testing.assert_allclose(
        saturation.complementary("sigmoid", z).numpy(), (_sigmoid(z64 + h) - _sigmoid(z64 - h)) / (2 * h), rtol=1e-5
    )
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        saturation.complementary("tanh", z)


def test_penalty_sums_layers_and_units_and_averages_the_batch():
    h1 = np.array([[1.0, -1.0, 2.0], [0.0, 4.0, -3.0]], np.float32)  # relu_c sums: 3, 4
    h2 = np.array([[0.0], [0.0]], np.float32)  # sigmoid_c(0) = 1/4
    total = saturation.penalty([h1, h2], ("relu", "sigmoid")).numpy()
    assert total == pytest.approx((3 + 4) / 2 + 0.25)
    mean = saturation.penalty([h1, h2], ("relu", "sigmoid"), "mean").numpy()
    assert mean == pytest.approx((1 + 4 / 3) / 2 + 0.25)
    with pytest.raises(ValueError, match="kinds"):
        saturation.penalty([h1], ("relu", "relu"))


def test_annealing_schedule():
    lams = [float(saturation.annealed_lambda(t, 1.74, 1e-3)) for t in (0, 10, 1740, 5000)]
    np.testing.assert_allclose(lams, [0, 0.01, 1.74, 1.74], rtol=1e-6)


def test_architectures_and_their_preactivations():
    for arch, kinds in models.SATURATION_KINDS.items():
        model = models.build(arch, 50)
        probe = models.preactivation_model(model)
        assert len(probe.outputs) == len(kinds)
        x = np.random.default_rng(0).uniform(size=(2, 28, 28, 1)).astype("float32")
        outs = probe(x)
        np.testing.assert_allclose(outs[-1].numpy(), model(x).numpy(), rtol=1e-6)
    assert models.build("cnn").count_params() == 3274634  # Table 2 with 'same' padding


def test_fgsm_follows_the_sign_of_a_finite_difference_gradient():
    reproducibility.seed_everything(0)
    model = models.mlp("sigmoid", 20)
    rng = np.random.default_rng(0)
    x = rng.uniform(0.3, 0.7, size=(2, 28, 28, 1)).astype("float32")
    y = np.array([3, 5])
    eps = 0.1
    adv = attacks.fgsm(model, x, y, eps=eps).x

    def loss(xi, yi):
        logits = model(xi[None].astype("float32")).numpy().astype(np.float64)[0]
        return np.log(np.sum(np.exp(logits - logits.max()))) + logits.max() - logits[yi]

    for i in range(2):
        for p in rng.choice(784, 15, replace=False):
            e = np.zeros(784)
            e[p] = 1e-2
            e = e.reshape(28, 28, 1)
            fd = loss(x[i] + e, y[i]) - loss(x[i] - e, y[i])
            if abs(fd) > 1e-5:  # well above float32 round-off
                assert np.sign(adv[i].ravel()[p] - x[i].ravel()[p]) == np.sign(fd)
    assert np.all(np.abs(adv - x) <= eps + 1e-6) and adv.min() >= 0 and adv.max() <= 1


def test_fit_adam_anneals_lambda_per_minibatch():
    reproducibility.seed_everything(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(100, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, 100)
    model = models.mlp("sigmoid", 16)
    h = training.fit_adam(
        model,
        x,
        y,
        epochs=2,
        batch_size=25,
        penalty=saturation.SaturationPenalty(models.SATURATION_KINDS["sigmoid_mlp"], lam_max=0.006, lam_step=0.001),
    )
    assert h["lam"] == pytest.approx([0.004, 0.006])  # 4 minibatches per epoch, capped at 0.006
    assert all(p > 0 for p in h["penalty"])
    h2 = training.fit_adam(
        models.mlp("relu", 16),
        x,
        y,
        epochs=1,
        batch_size=50,
        adversarial=training.FgsmInterpolation(eps=0.25, alpha=0.5),
        x_test=x,
        y_test=y,
    )
    assert 0 <= h2["test_accuracy"][0] <= 1 and h2["loss"][0] != h2["cross_entropy"][0]


def test_local_derivatives_against_float64_and_the_rounding_of_the_sigmoid():
    h = np.array([-30.0, -3.0, 0.0, 2.0, 30.0], np.float32)
    d = saturation.local_derivatives(h, "sigmoid").numpy()
    s = _sigmoid(h.astype(np.float64))
    np.testing.assert_allclose(d[:4], (s * (1 - s))[:4], rtol=1e-5)
    assert d[4] == 0.0  # sigmoid(30) rounds to 1 in float32: the "on" side passes exactly 0
    assert d[0] > 0.0  # the "off" side passes e^-30, not 0
    np.testing.assert_array_equal(saturation.local_derivatives(h, "relu").numpy(), [0, 0, 0, 1, 1])
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        saturation.local_derivatives(h, "tanh")


def test_sigmoid_thresholds_against_float32_limits():
    t = saturation.sigmoid_thresholds(step=0.01)
    # sigmoid(h) rounds to 1 once e^-h < 2^-24 (half an ulp below 1 is 2^-25): h ~ 24 ln 2
    assert abs(t["on"] - 24 * np.log(2)) < 1.5
    assert abs(t["off_tiny"] - np.log(saturation.TINY_DERIVATIVE)) < 0.05
    # exactly 0 where e^h underflows: below the smallest normal float32 (CPUs that flush
    # subnormals to zero) or below the smallest subnormal
    assert -np.log(np.finfo(np.float32).tiny) - 0.1 <= -t["off_zero"] <= -np.log(2.0**-149) + 0.1


def test_layer_saturation_on_known_preactivations():
    import keras

    inp = keras.Input((1, 1, 1))
    flat = keras.layers.Flatten()(inp)
    h1 = keras.layers.Dense(4, name="h1")(flat)
    out = keras.layers.Dense(1, name="logits")(keras.layers.Activation("sigmoid")(h1))
    model = keras.Model(inp, out)
    model.get_layer("h1").set_weights([np.array([[30.0, -30.0, 0.0, -80.0]], np.float32), np.zeros(4, np.float32)])
    model.get_layer("logits").set_weights([np.zeros((4, 1), np.float32), np.zeros(1, np.float32)])
    x = np.array([1.0, 0.5], np.float32).reshape(2, 1, 1, 1)  # h1 = [30, -30, 0, -80] * x
    s = saturation.layer_saturation(model, x, ("sigmoid", "sigmoid"), batch_size=1)
    # image 1: 30 -> exactly 0; -80 -> e^-80 < 1e-30; image 2: 15 and -40 are neither
    np.testing.assert_array_equal(s["zero"][:, 0], [0.25, 0.0])
    np.testing.assert_array_equal(s["tiny"][:, 0], [0.5, 0.0])
    np.testing.assert_allclose(s["median_abs_h"][:, 0], [30.0, 15.0])
    np.testing.assert_array_equal(s["zero"][:, 1], [0.0, 0.0])  # logit 0: sigmoid'(0) = 1/4
