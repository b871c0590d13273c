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
            raise ValueError(
                f"{self.name}: the kernel {self.kernel_size} must cover the whole input "
                f"{tuple(inputs.shape[1:3])} with padding 'valid'"
            )
        out = ops.matmul(
            ops.reshape(inputs, (-1, int(np.prod(inputs.shape[1:])))), ops.reshape(self.kernel, (-1, self.filters))
        )
        if self.use_bias:
            out = out + self.bias
        out = ops.reshape(out, (-1, 1, 1, self.filters))
        return out if self.activation is None else self.activation(out)


@keras.saving.register_keras_serializable(package="companion")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """Keras' ``BatchNormalization`` over the channels of float32 images ``(n, h, w, c)``,
    computed by TensorFlow's fused kernel: one pass over the data where Keras' own ops make
    several (the small ResNet's batch norms cost a quarter of its training step). Same variables,
    output and moving averages (Keras keeps the biased batch variance, the fused kernel returns
    the unbiased one: rescaled below). Other inputs and options fall back to Keras' code."""

    def call(self, inputs, training=None, mask=None):
        import tensorflow as tf

        rank = len(inputs.shape)
        if (
            mask is not None
            or rank != 4
            or self.axis not in (-1, rank - 1)
            or self.renorm
            or not (self.scale and self.center)
            or inputs.dtype != tf.float32
        ):
            return super().call(inputs, training=training, mask=mask)
        if training and self.trainable:
            out, mean, variance = tf.compat.v1.nn.fused_batch_norm(
                inputs, self.gamma, self.beta, epsilon=self.epsilon, is_training=True
            )
            count = tf.cast(tf.size(inputs) // tf.shape(inputs)[-1], tf.float32)
            variance = variance * (count - 1.0) / count
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
            return out
        out, _, _ = tf.compat.v1.nn.fused_batch_norm(
            inputs,
            self.gamma,
            self.beta,
            mean=self.moving_mean,
            variance=self.moving_variance,
            epsilon=self.epsilon,
            is_training=False,
        )
        return out


@keras.saving.register_keras_serializable(package="companion")
class SumOfSquares(keras.layers.Layer):
    """``(n, k) -> (n, 1)``: the sum of the squares of each row (the quadratic network of
    Gilmer et al.). A layer of its own rather than a ``Lambda``, which Keras refuses to load from
    a saved model without ``safe_mode=False``, so that the cache can load the network back."""

    def call(self, inputs):
        return ops.sum(inputs * inputs, axis=1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)
