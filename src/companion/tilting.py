"""The boundary-tilting experiments of Tanay & Griffin (2016).

The toy problem in a 2-D image space, the SVM sweeps over the regularisation parameter on MNIST
digit pairs, and the two LeNets with low and high weight decay. Results that take minutes are
cached (see :mod:`companion.cache`).
"""
from __future__ import annotations

import numpy as np

from . import cache, data, linear, linear_models, models, training

LAMBDA_RANGE = (-1.0, 7.0)  # log10 of the paper's lambda range


# --- the toy problem ---------------------------------------------------------------------------

def toy_boundary(theta: float) -> tuple[np.ndarray, float]:
    """The line ``L_theta`` through the origin: normal ``(cos theta, sin theta)``, bias 0.

    In the toy image space ``(a, b)`` the data manifold is the axis ``b = 0``; class I holds
    ``a < 0``, class J ``a > 0``. Every ``L_theta`` with ``|theta| < pi/2`` separates them;
    ``theta = 0`` is the nearest centroid classifier and ``theta -> pi/2`` lies along the manifold.
    """
    return np.array([np.cos(theta), np.sin(theta)]), 0.0


def toy_mirror_distances(thetas, x=(-1.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """``||x - x_m||`` through ``L_theta`` for each theta: computed, and in closed form ``2 |a| cos theta``."""
    x = np.asarray(x, np.float64)[None]
    computed = np.array([np.linalg.norm(x - linear.mirror_image(x, *toy_boundary(t)))
                         for t in thetas])
    return computed, 2.0 * abs(x[0, 0]) * np.abs(np.cos(thetas))


def toy_training_set(per_class: int = 8, noisy_point=(-1.0, 0.3)):
    """Points on the manifold ``b = 0`` (class I at ``a`` in [-2, -0.5], J at [0.5, 2]) and one
    noisy class-J point ``p`` off the manifold, last. Returns ``x`` ``(2 per_class + 1, 2)``, ``y``."""
    a = np.linspace(0.5, 2.0, per_class)
    x = np.concatenate([np.c_[-a, 0 * a], np.c_[a, 0 * a], [noisy_point]])
    y = np.r_[-np.ones(per_class), np.ones(per_class + 1)]
    return x, y


# --- SVMs on MNIST -----------------------------------------------------------------------------

def lambda_grid(step: float) -> np.ndarray:
    """``lambda = 10^a`` for ``a`` from -1 to 7 in steps of ``step`` (the paper: 0.1, 81 values)."""
    if not 0 < step <= 8:
        raise ValueError(f"the step in log10(lambda) must lie in (0, 8], got {step}")
    exps = np.round(np.arange(LAMBDA_RANGE[0], LAMBDA_RANGE[1] + step / 2, step), 6)
    return 10.0 ** exps


def pair_data(dataset: data.Dataset, pair, per_class: int):
    """Train (first ``per_class`` images of each digit) and test sets (all of both digits) of a pair.

    Images are flattened pixels in [0, 255], float64 ``(n, 784)``; labels -1 for ``pair[0]``
    (class I) and +1 for ``pair[1]`` (class J).
    """
    i, j = pair
    if not (0 <= i < 10 and 0 <= j < 10 and i != j):
        raise ValueError(f"a pair is two different digits 0-9, got {pair}")
    x, y = data.class_subset(dataset.x_train, dataset.y_train, pair, per_class)
    mask = np.isin(dataset.y_test, pair)
    xt, yt = dataset.x_test[mask], dataset.y_test[mask]
    as_rows = lambda a: a.reshape(len(a), -1).astype(np.float64)  # noqa: E731
    return as_rows(x), np.where(y == i, -1.0, 1.0), as_rows(xt), np.where(yt == i, -1.0, 1.0)


def svm_sweep(dataset: data.Dataset, pair, per_class: int, lams) -> dict:
    """Linear SVMs on one digit pair for each ``lam``; cached.

    Returns arrays over ``lam`` (length ``k``): ``lams``, ``W`` ``(k, 784)``, ``B``,
    ``train_error``, ``test_error``, ``d_adv`` and ``d_err`` (training set, pixels),
    ``angle`` (tilting angle, radians), ``w_norm``; and ``centroid_distance`` ``||j - i||``.
    """
    lams = np.asarray(lams, np.float64)
    parts = {"experiment": "svm_sweep", "data": dataset.sha256, "pair": list(pair),
             "per_class": per_class, "log10_lams": np.round(np.log10(lams), 6).tolist(),
             "code": cache.code_fingerprint(linear, linear_models, svm_sweep, pair_data)}

    def compute():
        x, y, xt, yt = pair_data(dataset, pair, per_class)
        W, B = linear_models.svm_path(x, y, lams)
        per_model = lambda f, *a: np.array([f(w, b, *a) for w, b in zip(W, B)])  # noqa: E731
        x_i, x_j = x[y < 0], x[y > 0]
        return {"lams": lams, "W": W, "B": B,
                "train_error": per_model(linear.error_rate, x, y),
                "test_error": per_model(linear.error_rate, xt, yt),
                "d_adv": per_model(linear.adversarial_distance, x, y),
                "d_err": per_model(linear.error_distance, x, y),
                "angle": np.array([linear.tilting_angle(w, x_i, x_j) for w in W]),
                "w_norm": np.linalg.norm(W, axis=1),
                "centroid_distance": np.array(linear.centroid_direction(x_i, x_j)[1])}

    return cache.cached_arrays("svm_sweep", parts, compute)


# --- LeNet on MNIST ----------------------------------------------------------------------------

LENET_TRAINING = dict(batch_size=300, learning_rate=5e-4, momentum=0.9)
LENET_WEIGHT_DECAYS = {"LeNet-low": 1e-4, "LeNet-high": 1e-1}


def mnist_images(dataset: data.Dataset, train_size: int, test_size: int):
    """Pixels in [0, 255] as float32 ``(n, 28, 28, 1)`` with labels: the first images of each split."""
    for name, size, limit in (("train_size", train_size, 60000), ("test_size", test_size, 10000)):
        if not 1 <= size <= limit:
            raise ValueError(f"{name} must lie in [1, {limit}], got {size}")
    x = data.to_float(dataset.x_train[:train_size], "pixel")[..., None]
    xt = data.to_float(dataset.x_test[:test_size], "pixel")[..., None]
    return x, dataset.y_train[:train_size], xt, dataset.y_test[:test_size]


def train_lenet(dataset: data.Dataset, weight_decay: float, epochs: int, train_size: int,
                test_size: int, seed: int):
    """LeNet trained as in the paper (SGD, batch 300, lr 0.0005, momentum 0.9); cached.

    Returns ``(model, history)`` with per-epoch ``train_error`` and ``test_error``.
    """
    parts = {"experiment": "lenet", "data": dataset.sha256, "weight_decay": weight_decay,
             "epochs": epochs, "train_size": train_size, "test_size": test_size, "seed": seed,
             **LENET_TRAINING,
             "code": cache.code_fingerprint(models.lenet, training.fit_sgd, train_lenet)}

    def train():
        import keras

        x, y, xt, yt = mnist_images(dataset, train_size, test_size)
        keras.utils.set_random_seed(seed)
        model = models.lenet(weight_decay, x.mean(axis=0))
        return model, training.fit_sgd(model, x, y, xt, yt, epochs, **LENET_TRAINING)

    return cache.cached_model("lenet", parts, train)


def weight_rms(model) -> dict:
    """Root mean square of each convolution kernel: ``{layer name: rms}``."""
    return {layer.name: float(np.sqrt(np.mean(np.square(layer.kernel.numpy()))))
            for layer in model.layers if hasattr(layer, "kernel")}


# --- rules of the LeNet claims (each a function of printed numbers, unit-tested both ways) ------

def less_overfitted(errors: dict, within: float = 0.5) -> bool:
    """LeNet-high "less overfitted (the train and test errors are approximately equal at the end
    of the training)": its final test - train gap, in points, is within ``within`` of zero and
    smaller than LeNet-low's. ``errors``: ``{name: (train %, test %)}``."""
    gap = {name: test - train for name, (train, test) in errors.items()}
    return abs(gap["LeNet-high"]) <= within and gap["LeNet-high"] < gap["LeNet-low"]


def high_beats_low(errors: dict) -> bool:
    """LeNet-high "performs slightly better than LeNetlow": a lower final test error.
    ``errors``: ``{name: (train %, test %)}``."""
    return errors["LeNet-high"][1] < errors["LeNet-low"][1]


# --- rules of the toy, SVM and LeNet-perturbation claims ----------------------------------------

def tilts_only_when_weak(weak_angles, strong_angles, threshold: float = 45.0) -> bool:
    """Weak regularization tilts every model past ``threshold`` degrees; strong keeps every one
    below it. Angles in degrees."""
    return bool(min(weak_angles) > threshold > max(strong_angles))


def trend_on_every_pair(rhos, threshold: float = 0.8) -> bool:
    """A monotone trend in λ on every digit pair: each Spearman ρ above ``threshold``."""
    return bool(len(rhos) > 0 and min(rhos) > threshold)


def larger_perturbations(ratio: float) -> bool:
    """LeNet-high's adversarial perturbations are larger: mean L2 norm ratio high / low above 1."""
    return bool(np.isfinite(ratio) and ratio > 1.0)


def minimum_inside(test_error) -> bool:
    """The test error along the λ grid is lowest strictly inside it: its minimum is below both
    ends. ``test_error``: ``(k,)``."""
    err = np.asarray(test_error)
    return bool(err[0] > err.min() < err[-1])
