import numpy as np
import pytest

from companion import models, reproducibility


def test_lenet_shapes_mean_subtraction_and_weight_decay():
    reproducibility.seed_everything(0)
    mean = np.random.default_rng(0).uniform(0, 255, size=(28, 28, 1))
    net = models.lenet(0.1, mean)
    x = np.random.default_rng(1).uniform(0, 255, size=(3, 28, 28, 1)).astype("float32")
    assert net(x).shape == (3, 10)
    shifted = net.get_layer("subtract_mean")(x).numpy()
    np.testing.assert_allclose(shifted, x - mean[None].astype("float32"), rtol=1e-6, atol=1e-3)
    kernels = [layer.kernel.numpy() for layer in net.layers if hasattr(layer, "kernel")]
    assert [k.shape for k in kernels] == [(5, 5, 1, 20), (5, 5, 20, 50), (4, 4, 50, 500), (1, 1, 500, 10)]
    penalty = sum(float(v) for v in net.losses)
    assert penalty == pytest.approx(0.1 / 2 * sum(np.sum(k.astype(np.float64) ** 2) for k in kernels), rel=1e-5)
    with pytest.raises(ValueError, match="weight_decay"):
        models.lenet(-1.0, mean)


def test_whole_input_convolution_equals_keras_conv2d_and_survives_saving(tmp_path):
    import keras

    from companion.keras_layers import WholeInputConv2D

    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 4, 4, 3)).astype("float32")
    ours = WholeInputConv2D(7, 4, activation="relu")
    theirs = keras.layers.Conv2D(7, 4, activation="relu")
    ours.build(x.shape), theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x).numpy(), theirs(x).numpy(), rtol=1e-5, atol=1e-5)
    net = keras.Sequential([keras.Input((4, 4, 3)), ours])
    net.save(tmp_path / "net.keras")
    np.testing.assert_array_equal(keras.models.load_model(tmp_path / "net.keras")(x).numpy(), net(x).numpy())
    with pytest.raises(ValueError, match="whole input"):
        WholeInputConv2D(7, 3)(x)


def test_fused_batch_norm_matches_keras_batch_norm():
    import keras
    import tensorflow as tf

    from companion.keras_layers import FusedBatchNormalization

    x = tf.constant(np.random.default_rng(3).normal(2.0, 3.0, size=(32, 6, 6, 5)).astype("float32"))
    ours, theirs = FusedBatchNormalization(momentum=0.9), keras.layers.BatchNormalization(momentum=0.9)
    for layer in (ours, theirs):
        layer.build(x.shape)
        layer.gamma.assign(np.linspace(0.5, 2.0, 5)), layer.beta.assign(np.linspace(-1.0, 1.0, 5))

    def train_step(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = layer(x, training=True)
            total = tf.reduce_sum(tf.sin(out))
        return [out.numpy()] + [g.numpy() for g in tape.gradient(total, [x, layer.gamma, layer.beta])]

    for a, b in zip(train_step(ours), train_step(theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    # the moving variance is the biased batch variance, as Keras keeps it (not the fused kernel's unbiased one)
    np.testing.assert_allclose(ours.moving_variance.numpy(), theirs.moving_variance.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.moving_variance.numpy(), 0.9 + 0.1 * x.numpy().var(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(ours(x, training=False).numpy(), theirs(x, training=False).numpy(), rtol=1e-5, atol=1e-5)


def test_training_is_deterministic():
    from companion import training

    def run():
        reproducibility.seed_everything(3)
        rng = np.random.default_rng(0)
        x = rng.uniform(0, 255, size=(64, 28, 28, 1)).astype("float32")
        y = rng.integers(0, 10, size=64)
        net = models.lenet(1e-4, x.mean(0))
        return training.fit_sgd(net, x, y, x[:16], y[:16], epochs=2, batch_size=16, learning_rate=5e-4, momentum=0.9)

    assert run() == run()


def test_forward_flops_count_the_multiply_adds_of_dense_and_conv_layers():
    """Counted by hand: the MLP's three Dense layers; the CNN's two 5x5 'same' convolutions at
    28x28 and 14x14 positions, then its two Dense layers."""
    assert models.forward_flops(models.build("sigmoid_mlp", 1000)) == 2 * (784 * 1000 + 1000 * 1000 + 1000 * 10)
    conv = 28 * 28 * 5 * 5 * 1 * 32 + 14 * 14 * 5 * 5 * 32 * 64
    assert models.forward_flops(models.build("cnn")) == 2 * (conv + 7 * 7 * 64 * 1024 + 1024 * 10)
