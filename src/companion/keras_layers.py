"""Keras layers of our own. Importing this module registers them, so that saved models that use
them load (:func:`companion.cache.cached_model` does)."""
from __future__ import annotations

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="companion")
class WholeInputConv2D(keras.layers.Conv2D):
    """A valid ``Conv2D`` whose kernel covers its whole input ``(n, kh, kw, c)``, so that its
    output is ``(n, 1, 1, filters)``: the same layer and weights (kernel ``(kh, kw, c,
    filters)``), computed as one matrix product, which on a CPU runs several times faster than
    the convolution kernels (MatConvNet's LeNet ends in two such layers)."""

    def call(self, inputs):
        if tuple(inputs.shape[1:3]) != tuple(self.kernel_size) or self.padding != "valid":
            raise ValueError(f"{self.name}: the kernel {self.kernel_size} must cover the whole input "
                             f"{tuple(inputs.shape[1:3])} with padding 'valid'")
        out = ops.matmul(ops.reshape(inputs, (-1, int(np.prod(inputs.shape[1:])))),
                         ops.reshape(self.kernel, (-1, self.filters)))
        if self.use_bias:
            out = out + self.bias
        out = ops.reshape(out, (-1, 1, 1, self.filters))
        return out if self.activation is None else self.activation(out)
