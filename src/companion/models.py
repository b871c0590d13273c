"""Keras architectures. Every model returns logits."""

from __future__ import annotations

import numpy as np


def lenet(weight_decay: float, mean_image: np.ndarray, init_std: float = 0.01):
    """MatConvNet's MNIST LeNet, as used by Tanay & Griffin (2016).

    Input: pixels in [0, 255], shape ``(n, 28, 28, 1)``; the model subtracts ``mean_image``
    ``(28, 28, 1)`` itself, so attacks work in pixel space. conv 5x5x20, max-pool 2, conv 5x5x50,
    max-pool 2, conv 4x4x500, ReLU, conv 1x1x10; output ``(n, 10)`` logits. Weights start as
    N(0, init_std^2) and biases at 0, as in MatConvNet's example; ``weight_decay`` lambda adds
    ``lambda w`` to each kernel's gradient (an L2 penalty ``lambda/2 ||w||^2``, biases exempt).
    """
    import keras
    from keras import layers

    from companion.keras_layers import WholeInputConv2D

    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, not {weight_decay}")
    mean_image = np.asarray(mean_image, np.float32).reshape(28, 28, 1)

    def conv(filters, size, name, layer=layers.Conv2D):
        return layer(
            filters,
            size,
            name=name,
            kernel_initializer=keras.initializers.RandomNormal(stddev=init_std),
            kernel_regularizer=keras.regularizers.L2(weight_decay / 2),
        )

    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Normalization(
                axis=(1, 2, 3), mean=mean_image, variance=np.ones_like(mean_image), name="subtract_mean"
            ),
            conv(20, 5, "conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            conv(50, 5, "conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            conv(500, 4, "conv3", WholeInputConv2D),
            layers.ReLU(name="relu3"),
            conv(10, 1, "conv4", WholeInputConv2D),
            layers.Flatten(name="logits"),
        ],
        name=f"lenet_wd{weight_decay:g}",
    )


# --- Nayebi & Ganguli (2017): MLPs and the CNN of their Table 2 --------------------------------

# The nonlinearity behind each pre-activation layer, readout last, for the saturation penalty.
SATURATION_KINDS = {
    "sigmoid_mlp": ("sigmoid", "sigmoid", "sigmoid"),
    "relu_mlp": ("relu", "relu", "relu"),
    "cnn": ("relu", "relu", "relu", "linear"),
}


def mlp(activation: str, width: int = 1000):
    """A 3-layer MLP on MNIST: 784-``width``-``width``-10, inputs ``(n, 28, 28, 1)`` in [0, 1].

    Pre-activation layers are named ``h1``, ``h2`` and ``logits``; the model returns logits.
    """
    import keras
    from keras import layers

    if activation not in ("sigmoid", "relu"):
        raise ValueError(f"activation must be 'sigmoid' or 'relu', not {activation!r}")
    if not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive int, not {width!r}")
    x = keras.Input((28, 28, 1))
    h = layers.Flatten()(x)
    for i in (1, 2):
        h = layers.Activation(activation)(layers.Dense(width, name=f"h{i}")(h))
    return keras.Model(x, layers.Dense(10, name="logits")(h), name=f"{activation}_mlp")


def cnn():
    """Table 2's CNN: conv 32 5x5 ReLU, max-pool 2, conv 64 5x5 ReLU, max-pool 2, dense 1024 ReLU,
    10 logits ('same' padding). Inputs ``(n, 28, 28, 1)`` in [0, 1]."""
    import keras
    from keras import layers

    x = keras.Input((28, 28, 1))
    h = layers.ReLU()(layers.Conv2D(32, 5, padding="same", name="h1")(x))
    h = layers.MaxPooling2D(2)(h)
    h = layers.ReLU()(layers.Conv2D(64, 5, padding="same", name="h2")(h))
    h = layers.Flatten()(layers.MaxPooling2D(2)(h))
    h = layers.ReLU()(layers.Dense(1024, name="h3")(h))
    return keras.Model(x, layers.Dense(10, name="logits")(h), name="cnn")


def build(architecture: str, width: int = 1000):
    """``"sigmoid_mlp"``, ``"relu_mlp"`` (hidden ``width``) or ``"cnn"``."""
    if architecture not in SATURATION_KINDS:
        raise ValueError(f"unknown architecture {architecture!r}; choose one of {list(SATURATION_KINDS)}")
    return cnn() if architecture == "cnn" else mlp(architecture.split("_")[0], width)


def forward_flops(model) -> float:
    """FLOPs of one input's forward pass through ``model``, counting the multiply-adds of its
    Conv2D and Dense layers only (2 per multiply-add; pooling, biases and activations not
    counted): a measure of a network's compute, e.g. to start the longest trainings first."""
    total = 0.0
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is None:
            continue
        if len(kernel.shape) == 4:  # Conv2D: (kh, kw, in, out) at every output position
            out_h, out_w = layer.output.shape[1:3]
            total += 2.0 * out_h * out_w * np.prod(kernel.shape)
        elif len(kernel.shape) == 2:
            total += 2.0 * np.prod(kernel.shape)
    return float(total)


def preactivation_names(model) -> list[str]:
    """Names of the layers whose outputs are pre-activations ``h^l``, input to readout."""
    return [
        layer.name
        for layer in model.layers
        if layer.name == "logits" or (layer.name.startswith("h") and layer.name[1:].isdigit())
    ]


def preactivation_model(model):
    """A model with the same input returning the list of pre-activations ``h^l``, logits last."""
    import keras

    return keras.Model(model.input, [model.get_layer(n).output for n in preactivation_names(model)])


# --- Schaeffer et al. (2020): the CIFAR-10 model of their supplement ---------------------------


def cifar_cnn():
    """conv 6 5x5 ReLU, max-pool 2, conv 16 5x5 ReLU, max-pool 2, dense 2000 ReLU, dense 1000
    ReLU (the penultimate layer, named ``penultimate``), 10 logits. Inputs ``(n, 32, 32, 3)``
    in [0, 1]."""
    import keras
    from keras import layers

    x = keras.Input((32, 32, 3))
    h = layers.MaxPooling2D(2)(layers.Conv2D(6, 5, activation="relu")(x))
    h = layers.MaxPooling2D(2)(layers.Conv2D(16, 5, activation="relu")(h))
    h = layers.Dense(2000, activation="relu")(layers.Flatten()(h))
    h = layers.Dense(1000, activation="relu", name="penultimate")(h)
    return keras.Model(x, layers.Dense(10, name="logits")(h), name="cifar_cnn")


def small_resnet(widths: tuple = (16, 32, 64), features: int = 512):
    """A small ResNet for CIFAR-10, our stand-in for the Robustness library's ResNet-50s.

    Stem conv 3x3 ``widths[0]``; one basic block (two conv 3x3 with batch norm, identity or
    1x1-projection shortcut) per width, stride 1 then 2; then, as ResNet-50's last bottleneck
    does, a 1x1 conv expanding to ``features`` channels with batch norm and ReLU, global average
    pooling (the penultimate layer, named ``penultimate``, ``(n, features)``) and 10 logits.
    Batch norm keeps PyTorch's running-average momentum (0.1 there, 0.9 in Keras terms): with
    Keras' 0.99 the running statistics lagged so far behind Adam's weights after a few hundred
    steps that inference-mode accuracy was 38% where batch statistics gave 60%.
    Inputs ``(n, 32, 32, 3)`` in [0, 1].
    """
    import keras
    from keras import layers

    from companion.keras_layers import FusedBatchNormalization

    def conv_bn(h, filters, size, stride=1):
        h = layers.Conv2D(filters, size, strides=stride, padding="same", use_bias=False)(h)
        return FusedBatchNormalization(momentum=0.9)(h)

    x = keras.Input((32, 32, 3))
    h = layers.ReLU()(conv_bn(x, widths[0], 3))
    for i, width in enumerate(widths):
        stride = 1 if i == 0 else 2
        shortcut = h if stride == 1 and h.shape[-1] == width else conv_bn(h, width, 1, stride)
        branch = conv_bn(layers.ReLU()(conv_bn(h, width, 3, stride)), width, 3)
        h = layers.ReLU()(layers.Add()([shortcut, branch]))
    h = layers.ReLU()(conv_bn(h, features, 1))
    h = layers.GlobalAveragePooling2D(name="penultimate")(h)
    return keras.Model(x, layers.Dense(10, name="logits")(h), name="small_resnet")
