"""The shared epoch loop and adversarial training."""
import numpy as np
import pytest

from companion import attacks, models, reproducibility, smooth_codes, training


def test_run_epochs_averages_over_examples_and_keeps_last_values():
    x = np.arange(10, dtype=np.float32)
    y = np.zeros(10, np.int32)

    def step(xb, yb, t):
        return {"mean_x": np.mean(xb), "t": t}

    h = training.run_epochs(step, x, y, epochs=2, batch_size=3, seed=0, last=("t",),
                            evaluate=lambda: {"probe": 1.0})
    np.testing.assert_allclose(h["mean_x"], [4.5, 4.5], rtol=1e-6)  # batches of 3, 3, 3, 1 weighted
    assert h["t"] == [4, 8] and h["probe"] == [1.0, 1.0]
    with pytest.raises(ValueError, match="epochs"):
        training.run_epochs(step, x, y, epochs=0, batch_size=3, seed=0)


def test_robust_training_at_eps_zero_is_standard_training():
    """fit_robust(eps=0) and fit_smooth(c1=c2=0) are two routes to plain Adam on the CE."""
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(64, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 10, size=64)
    weights = []
    for fit in (lambda m: training.fit_robust(m, x, y, 1, 32, 0.0, 3),
                lambda m: training.fit_smooth(m, x, y, 1, 32)):
        reproducibility.seed_everything(0)
        model = models.cifar_cnn()
        fit(model)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, atol=1e-6)


def _toy(n: int, rng):
    """Two features in [0, 1]: x0 predicts y 90% of the time with a wide margin; x1 predicts it
    always but only 0.05 from 0.5 (a non-robust feature in Ilyas et al.'s sense)."""
    y = rng.integers(0, 2, size=n)
    sign = np.where(rng.uniform(size=n) < 0.9, 2 * y - 1, 1 - 2 * y)
    x0 = 0.5 + sign * rng.uniform(0.2, 0.4, size=n)
    x1 = 0.5 + 0.05 * (2 * y - 1)
    return np.stack([x0, x1], 1).astype(np.float32), y


def test_l2_adversarial_training_trades_the_non_robust_feature_for_the_robust_one():
    import keras

    rng = np.random.default_rng(1)
    x, y = _toy(2000, rng)
    x_test, y_test = _toy(500, rng)
    robust = {}
    for eps in (0.0, 0.15):
        reproducibility.seed_everything(0)
        inp = keras.Input((2,))
        model = keras.Model(inp, keras.layers.Dense(2)(keras.layers.Dense(16, activation="relu")(inp)))
        training.fit_robust(model, x, y, 30, 50, eps, 5, learning_rate=1e-2)
        x_adv = attacks.pgd(model, x_test, y_test, 0.15, 20, 0.03, norm="l2")
        robust[eps] = (training.accuracy(model, x_test, y_test), training.accuracy(model, x_adv, y_test))
    assert robust[0.0][0] > 0.97 and robust[0.0][1] < 0.2  # uses x1: exact, and broken by eps 0.15
    assert 0.8 < robust[0.15][0] < 0.95 and robust[0.15][1] > 0.8  # uses x0: ~90%, and robust


def test_small_resnet_penultimate_layer():
    reproducibility.seed_everything(0)
    model = models.small_resnet(widths=(4, 8), features=32)
    x = np.random.default_rng(0).uniform(size=(3, 32, 32, 3)).astype(np.float32)
    assert model(x).shape == (3, 10)
    assert smooth_codes.penultimate(model, x).shape == (3, 32)
