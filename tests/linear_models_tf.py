"""A Keras model computing ``x @ W + c``: analytic gradients and Jacobians for the tests."""

import numpy as np


def linear_model(W, c):
    from companion import reproducibility

    reproducibility.import_tensorflow()
    import keras

    layer = keras.layers.Dense(W.shape[1])
    model = keras.Sequential([keras.Input((W.shape[0],)), layer])
    layer.set_weights([np.asarray(W, "float32"), np.asarray(c, "float32")])
    return model
