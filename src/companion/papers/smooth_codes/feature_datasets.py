"""The four datasets of Ilyas et al. (2019) that Schaeffer et al. feed to their CIFAR-10 models.

* robust features ``D_R``: images whose penultimate representation under an adversarially
  trained model matches that of a real image, found by gradient descent from a different image;
* non-robust features ``D_NR``: the same under a standardly trained model;
* adversarial examples toward a deterministic class ``(y + 1) mod 10`` (``D_det``) or a random
  class (``D_rand``), made on the standard model and *relabelled* with the target.

Images are ``(n, 32, 32, 3)`` floats in [0, 1]; labels ``(n,)`` ints.
"""

from __future__ import annotations

import numpy as np

from companion import attacks

DATASETS = ("robust", "non_robust", "deterministic", "random")


def match_representation(
    model, x_start, x_target, steps: int, step_size: float, layer: str = "penultimate", batch_size: int = 250
) -> np.ndarray:
    """Ilyas et al.'s construction: from ``x_start``, descend ``||g(x) - g(x_target)||_2`` where
    ``g`` is ``model``'s ``layer`` (normalized gradient steps of L2 length ``step_size``, images
    clipped to [0, 1]). Returns the final images ``(n, ...)``."""
    import keras
    import tensorflow as tf

    if x_start.shape != x_target.shape:
        raise ValueError(f"x_start {x_start.shape} and x_target {x_target.shape} must have one shape")
    if steps < 0 or step_size <= 0:
        raise ValueError(f"need steps >= 0 and step_size > 0, got {steps}, {step_size}")
    features = keras.Model(model.input, model.get_layer(layer).output)

    @tf.function(jit_compile=False)
    def run(xs, goal):
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                tape.watch(xs)
                distance = tf.norm(tf.reshape(features(xs, training=False) - goal, [tf.shape(xs)[0], -1]), axis=1)
            g = tape.gradient(distance, xs)
            xs = tf.clip_by_value(xs - step_size * g / tf.maximum(attacks.l2_norm(g), 1e-12), 0.0, 1.0)
        return xs

    out = []
    for i in range(0, len(x_start), batch_size):
        goal = features(x_target[i : i + batch_size], training=False)
        out.append(run(tf.constant(x_start[i : i + batch_size], tf.float32), goal).numpy())
    return np.concatenate(out)


def start_images(n: int, rng) -> np.ndarray:
    """For each of ``n`` images, the index of another one (never itself), drawn at random from
    ``rng``: where :func:`feature_dataset` starts rebuilding it. ``(n,)`` ints."""
    if n < 2:
        raise ValueError("need at least two images to start each from a different one")
    return (np.arange(n) + rng.integers(1, n, size=n)) % n


def feature_dataset(model, x, y, steps: int, step_size: float, start) -> tuple[np.ndarray, np.ndarray]:
    """``D_R`` (``model`` adversarially trained) or ``D_NR`` (``model`` standard): each image of
    ``x`` is rebuilt by :func:`match_representation` from the image ``start`` names
    (:func:`start_images`) and keeps its label ``y``. Returns ``(images, y)``."""
    return match_representation(model, x[np.asarray(start)], x, steps, step_size), np.asarray(y)


def adversarial_targets(y, target: str, rng) -> np.ndarray:
    """The classes of ``D_det`` (``target="deterministic"``: ``(y + 1) mod 10``) or ``D_rand``
    (``"random"``: uniformly random ones, drawn from ``rng``) for labels ``y`` ``(n,)``."""
    if target == "deterministic":
        return (np.asarray(y) + 1) % 10
    if target == "random":
        return rng.integers(0, 10, size=len(y))
    raise ValueError(f"target must be 'deterministic' or 'random', not {target!r}")


def adversarial_dataset(model, x, targets, eps: float, steps: int, batch_size: int = 500) -> tuple:
    """``D_det`` or ``D_rand`` (:func:`adversarial_targets`): targeted L2 PGD of radius ``eps``
    (``steps`` steps of ``2.5 eps / steps``) on ``model``; the images are labelled with the
    target. Returns ``(x_adv, targets)``."""
    import tensorflow as tf

    targets = np.asarray(targets)
    step_size = 2.5 * eps / max(steps, 1)

    @tf.function(jit_compile=False)
    def run(xb, tb):
        return attacks.pgd_ascent(
            model, xb, tb, xb, eps=eps, steps=steps, step_size=step_size, loss="target_log_probability", norm="l2"
        )

    out = [
        run(tf.constant(x[i : i + batch_size], tf.float32), tf.constant(targets[i : i + batch_size], tf.int32)).numpy()
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(out), targets.astype(np.int64)
