"""Training loops. Losses take logits (``from_logits=True``)."""
from __future__ import annotations

import numpy as np


def fit_sgd(model, x, y, x_test, y_test, epochs: int, batch_size: int, learning_rate: float,
            momentum: float) -> dict:
    """Train with SGD + momentum on the cross-entropy; returns per-epoch errors (fractions).

    ``x``: ``(n, ...)`` float32 inputs, ``y``: ``(n,)`` integer labels. The history holds
    ``train_error`` (running error over each epoch, as MatConvNet reports it) and
    ``test_error`` (on ``x_test`` after each epoch), lists of length ``epochs``.
    """
    import keras

    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate, momentum=momentum),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=False)
    h = model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=(x_test, y_test),
                  shuffle=True, verbose=0)
    return {"train_error": [1.0 - a for a in h.history["accuracy"]],
            "test_error": [1.0 - a for a in h.history["val_accuracy"]]}


def predict_logits(model, x, batch_size: int = 1000) -> np.ndarray:
    """Logits ``(n, classes)`` in batches, without the Keras progress bar."""
    return np.concatenate([np.asarray(model(x[i:i + batch_size], training=False))
                           for i in range(0, len(x), batch_size)])
