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

    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, not {weight_decay}")
    mean_image = np.asarray(mean_image, np.float32).reshape(28, 28, 1)

    def conv(filters, size, name):
        return layers.Conv2D(filters, size, name=name,
                             kernel_initializer=keras.initializers.RandomNormal(stddev=init_std),
                             kernel_regularizer=keras.regularizers.L2(weight_decay / 2))

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Normalization(axis=(1, 2, 3), mean=mean_image, variance=np.ones_like(mean_image),
                             name="subtract_mean"),
        conv(20, 5, "conv1"), layers.MaxPooling2D(2, name="pool1"),
        conv(50, 5, "conv2"), layers.MaxPooling2D(2, name="pool2"),
        conv(500, 4, "conv3"), layers.ReLU(name="relu3"),
        conv(10, 1, "conv4"), layers.Flatten(name="logits"),
    ], name=f"lenet_wd{weight_decay:g}")
