"""The Ilyas et al. constructions against their closed forms on linear models."""

import numpy as np
import pytest

from companion import reproducibility
from companion.papers.smooth_codes import feature_datasets


def _linear(d_in: int, d_out: int, seed: int, name: str):
    """``x -> W x + b`` on flat inputs, one layer named ``name``; returns the model, W, b."""
    import keras

    reproducibility.seed_everything(seed)
    x = keras.Input((d_in,))
    layer = keras.layers.Dense(d_out, name=name)
    model = keras.Model(x, layer(x))
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=(d_in, d_out)).astype(np.float32), rng.normal(size=d_out).astype(np.float32) * 0.1
    layer.set_weights([w, b])
    return model, w.astype(np.float64), b.astype(np.float64)


def test_one_matching_step_is_the_normalized_gradient_of_the_feature_distance():
    model, w, b = _linear(6, 4, 0, "penultimate")
    rng = np.random.default_rng(1)
    start, target = rng.uniform(0.2, 0.8, size=(5, 6)), rng.uniform(0.2, 0.8, size=(5, 6))
    out = feature_datasets.match_representation(model, start.astype(np.float32), target.astype(np.float32), 1, 0.05)
    diff = (start - target) @ w  # g(x) - g(x_target)
    grad = (diff / np.linalg.norm(diff, axis=1, keepdims=True)) @ w.T  # d||diff|| / dx
    expected = np.clip(start - 0.05 * grad / np.linalg.norm(grad, axis=1, keepdims=True), 0, 1)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_matching_converges_to_the_target_representation():
    model, w, _ = _linear(6, 4, 2, "penultimate")
    rng = np.random.default_rng(3)
    start, target = rng.uniform(0.3, 0.7, size=(8, 6)), rng.uniform(0.3, 0.7, size=(8, 6))
    out = feature_datasets.match_representation(model, start.astype(np.float32), target.astype(np.float32), 400, 0.002)
    before = np.linalg.norm((start - target) @ w, axis=1)
    after = np.linalg.norm((out - target) @ w, axis=1)
    assert np.all(after < 0.05 * before)


def test_feature_dataset_starts_every_image_from_another_one():
    model, _, _ = _linear(3, 2, 0, "penultimate")
    x = np.random.default_rng(0).uniform(size=(50, 3)).astype(np.float32)
    y = np.arange(50) % 10
    start = feature_datasets.start_images(50, np.random.default_rng(1))
    out, labels = feature_datasets.feature_dataset(model, x, y, 0, 0.1, start)
    np.testing.assert_array_equal(labels, y)
    source = np.argmin(((out[:, None] - x[None]) ** 2).sum(-1), axis=1)  # steps = 0: a copy of the start
    assert np.all(source != np.arange(50))
    with pytest.raises(ValueError, match="two images"):
        feature_datasets.start_images(1, np.random.default_rng(0))


def test_adversarial_dataset_step_is_the_targeted_softmax_gradient():
    model, w, b = _linear(5, 10, 4, "logits")
    rng = np.random.default_rng(5)
    x = rng.uniform(0.3, 0.7, size=(7, 5))
    y = rng.integers(0, 10, size=7)
    eps = 0.2
    targets = feature_datasets.adversarial_targets(y, "deterministic", rng)
    out, labels = feature_datasets.adversarial_dataset(model, x.astype(np.float32), targets, eps, 1)
    np.testing.assert_array_equal(labels, targets)
    np.testing.assert_array_equal(targets, (y + 1) % 10)
    z = x @ w + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    grad = w.T[targets] - p @ w.T  # gradient of log p_target
    step = 2.5 * eps * grad / np.linalg.norm(grad, axis=1, keepdims=True)
    step *= np.minimum(1, eps / np.linalg.norm(step, axis=1, keepdims=True))  # projected onto the ball
    np.testing.assert_allclose(out, np.clip(x + step, 0, 1), atol=1e-5)
    random_targets = feature_datasets.adversarial_targets(np.zeros(5000, int), "random", rng)
    np.testing.assert_array_equal(np.unique(random_targets), np.arange(10))
    with pytest.raises(ValueError, match="deterministic"):
        feature_datasets.adversarial_targets(y, "nearest", rng)
