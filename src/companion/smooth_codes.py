"""The experiments of Schaeffer, Casademunt & Mudur (2020) on CIFAR-10 (and ImageNet when
pretrained weights can be had): penultimate-layer eigenspectra under dataset variants, and the
regularized loss (1).

Images are ``(n, 32, 32, 3)`` floats in [0, 1].
"""
from __future__ import annotations

import numpy as np

from . import attacks, cache, data, feature_datasets, models, optimizer, spectra, training


def train_cifar(dataset: data.Dataset, epochs: int, train_size: int, c1: float = 0.0, c2: float = 0.0,
                jacobian: str = "frobenius", seed: int = 0, batch_size: int = 128):
    """The supplement's CIFAR-10 model trained with loss (1); cached. ``(model, history)``."""
    parts = {"experiment": "smooth_codes", "data": dataset.sha256, "epochs": epochs,
             "train_size": train_size, "c1": c1, "c2": c2, "jacobian": jacobian if c2 else None,
             "seed": seed, "batch_size": batch_size,
             "code": cache.code_fingerprint(models.cifar_cnn, training.fit_smooth, training.run_epochs,
                                            training.smoothness_penalties, training.offdiagonal_covariance_norm,
                                            optimizer.Adam, train_cifar)}

    def fit():
        import keras

        keras.utils.set_random_seed(seed)
        model = models.cifar_cnn()
        x = data.to_float(dataset.x_train[:train_size])
        return model, training.fit_smooth(model, x, dataset.y_train[:train_size], epochs, batch_size,
                                          c1=c1, c2=c2, jacobian=jacobian, seed=seed)

    return cache.cached_model("smooth_codes", parts, fit)


def train_robust(dataset: data.Dataset, eps: float, epochs: int, train_size: int, attack_steps: int,
                 seed: int = 0, batch_size: int = 128):
    """:func:`companion.models.small_resnet` adversarially trained against L2 PGD of radius
    ``eps`` (0: standard training), our counterpart of the Robustness library's models; cached.
    ``(model, history, parts)``: ``parts`` identifies the model in the keys of later results."""
    parts = {"experiment": "smooth_codes_robust", "data": dataset.sha256, "eps": eps, "epochs": epochs,
             "train_size": train_size, "attack_steps": attack_steps, "seed": seed,
             "code": cache.code_fingerprint(models.small_resnet, training.fit_robust, training.run_epochs,
                                            attacks.pgd_ascent, attacks.project, attacks.l2_norm, optimizer.Adam,
                                            train_robust)}

    def fit():
        import keras

        keras.utils.set_random_seed(seed)
        model = models.small_resnet()
        x = data.to_float(dataset.x_train[:train_size])
        return model, training.fit_robust(model, x, dataset.y_train[:train_size], epochs, batch_size,
                                          eps, attack_steps, seed=seed)

    return (*cache.cached_model("smooth_codes_robust", parts, fit), parts)


def ilyas_datasets(dataset: data.Dataset, robust: tuple, standard: tuple, size: int, steps: int,
                   step_size: float, adversarial_eps: float, adversarial_steps: int, seed: int = 0) -> dict:
    """The four datasets of :mod:`companion.feature_datasets` from the first ``size`` training
    images: ``D_R`` from ``robust = (model, parts)``, the other three from ``standard``; cached.

    Returns ``{name: images}`` for :data:`feature_datasets.DATASETS`, ``{name + "_labels": y}``,
    and ``"original"`` (the source images) with ``"original_labels"``."""
    parts = {"experiment": "smooth_codes_ilyas", "robust": robust[1], "standard": standard[1], "size": size,
             "steps": steps, "step_size": step_size, "adversarial_eps": adversarial_eps,
             "adversarial_steps": adversarial_steps, "seed": seed,
             "code": cache.code_fingerprint(feature_datasets.match_representation, feature_datasets.feature_dataset,
                                            feature_datasets.adversarial_dataset, ilyas_datasets)}

    def build():
        rng = np.random.default_rng(seed)
        x, y = data.to_float(dataset.x_train[:size]), dataset.y_train[:size]
        out = {"original": x, "original_labels": y}
        for name, model in (("robust", robust[0]), ("non_robust", standard[0])):
            out[name], out[name + "_labels"] = feature_datasets.feature_dataset(model, x, y, steps, step_size, rng)
        for name in ("deterministic", "random"):
            out[name], out[name + "_labels"] = feature_datasets.adversarial_dataset(
                standard[0], x, y, adversarial_eps, adversarial_steps, name, rng)
        return out

    return cache.cached_arrays("smooth_codes_ilyas", parts, build)


def penultimate(model, x, layer: str = "penultimate", batch_size: int = 500) -> np.ndarray:
    """Activations of ``layer`` for inputs ``x``: ``(n, units)``."""
    import keras

    probe = keras.Model(model.input, model.get_layer(layer).output)
    return np.concatenate([np.asarray(probe(x[i:i + batch_size], training=False)).reshape(
        min(batch_size, len(x) - i), -1) for i in range(0, len(x), batch_size)])


def spectrum(model, x, lo: int = 10, hi: int = 316) -> tuple[np.ndarray, float]:
    """Eigenvalues of the penultimate covariance over ``x`` and their power-law exponent."""
    lam = spectra.covariance_eigenvalues(penultimate(model, x))
    return lam, spectra.powerlaw_exponent(np.maximum(lam, 1e-30), lo, hi)


def with_noise(x, delta: float, rng) -> np.ndarray:
    """``x`` plus i.i.d. Gaussian noise of standard deviation ``delta`` on every channel."""
    return (x + delta * rng.standard_normal(x.shape)).astype(np.float32)


class PCABasis:
    """Principal components of a set of images (flattened), for projections and ZCA whitening."""

    def __init__(self, x):
        flat = np.asarray(x, np.float64).reshape(len(x), -1)
        self.shape = x.shape[1:]
        self.mean = flat.mean(axis=0)
        cov = np.cov(flat - self.mean, rowvar=False)
        values, vectors = np.linalg.eigh(cov)
        order = np.argsort(values)[::-1]
        self.values, self.vectors = values[order], vectors[:, order]

    def project(self, x, k: int) -> np.ndarray:
        """``x`` reduced to its first ``k`` principal components and mapped back to image space."""
        flat = np.asarray(x, np.float64).reshape(len(x), -1) - self.mean
        v = self.vectors[:, :k]
        return ((flat @ v) @ v.T + self.mean).reshape((len(x),) + self.shape).astype(np.float32)

    def zca(self, x, epsilon: float = 1e-2) -> np.ndarray:
        """ZCA whitening ``V diag(1/sqrt(lambda + eps)) V^T (x - mean)``, rescaled to the
        original pixel standard deviation and mean so the network sees inputs of a usual range."""
        flat = np.asarray(x, np.float64).reshape(len(x), -1) - self.mean
        white = flat @ self.vectors @ np.diag(1 / np.sqrt(self.values + epsilon)) @ self.vectors.T
        white *= flat.std() / white.std()
        return (white + self.mean).reshape((len(x),) + self.shape).astype(np.float32)


IMAGENET_ARCHITECTURES = ("ResNet50", "VGG16", "MobileNetV2", "DenseNet121")


def imagenet_model(name: str, weights: str | None = "imagenet", input_shape=(224, 224, 3)):
    """A ``keras.applications`` classifier and the name of its penultimate layer's output model.

    Returns ``(feature_model, error)``: ``feature_model`` maps images to the globally pooled
    penultimate features; ``error`` is a message (and the model ``None``) when the weights cannot
    be had, e.g. offline.
    """
    import keras

    import contextlib
    import io

    constructor = getattr(keras.applications, name)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Keras prints the download's address
            base = constructor(weights=weights, include_top=False, pooling="avg", input_shape=input_shape)
    except Exception as exc:  # offline: the weight download fails
        return None, f"{name}: weights {weights!r} unavailable ({type(exc).__name__}; the download failed)"
    return base, None


# --- rules of the penalty and Robustness-model claims (unit-tested on inputs that pass and fail)

def jacobian_unrelated(pgd_with: float, pgd_without: float, within: float = 0.03) -> bool:
    """"Jacobian penalization appears to have no relationship with accuracy": PGD accuracy
    (fractions) with the Jacobian penalty within ``within`` of the same network without it (our
    threshold: about two standard errors at 10% accuracy on 500 images)."""
    return bool(np.isfinite(pgd_with) and np.isfinite(pgd_without) and abs(pgd_with - pgd_without) <= within)


def most_robust(rows) -> tuple:
    """The ``(c1, c2, jacobian)`` of the grid row with the highest PGD accuracy; ``rows``:
    ``(c1, c2, jacobian, alpha, pgd_accuracy, ...)`` tuples. Ties go to the first row."""
    best = max(rows, key=lambda r: r[4])
    return best[0], best[1], best[2]


def orders_below(lam_model, lam_reference) -> float:
    """How many orders of magnitude the principal eigenvalue of ``lam_model`` lies below that of
    ``lam_reference`` (eigenvalues in decreasing order): ``log10(ref[0] / model[0])``."""
    return float(np.log10(lam_reference[0] / lam_model[0]))


def standard_model_also_steep(alpha_eps0: float, alpha_top: float, alpha_cnn: float) -> bool:
    """"The steep decay in the slope is also present in the eps = 0 model": the standard ResNet's
    alpha exceeds the CIFAR-10 CNN's by at least half as much as the most robust ResNet's does
    (and that one's does exceed it)."""
    margin = alpha_top - alpha_cnn
    return bool(margin > 0 and alpha_eps0 - alpha_cnn >= 0.5 * margin)


def rises(before: float, after: float) -> bool:
    """Alpha is higher ``after`` (the noisiest input) than ``before`` (the clean one)."""
    return bool(after > before)


def within_spread(alphas, at_most: float) -> bool:
    """The alphas lie within ``at_most`` of each other (max - min)."""
    return bool(float(np.ptp(alphas)) < at_most)


def identical_and_above_one(alphas, at_most: float = 0.15) -> bool:
    """"identical to each other" (spread below ``at_most``, our threshold) with every slope above 1."""
    return bool(within_spread(alphas, at_most) and float(np.min(alphas)) > 1)


def differ(alphas, at_least: float = 0.15) -> bool:
    """The alphas spread by more than ``at_least`` (max - min)."""
    return bool(float(np.ptp(alphas)) > at_least)


def tells_apart_more(spread_robust: float, spread_cifar: float) -> bool:
    """The most robust model's alphas spread more over the four datasets than the CIFAR-10 CNN's
    ("slightly different" against "identical"; no margin: the paper gives no number)."""
    return bool(spread_robust > spread_cifar)


def jacobian_comparison(rows) -> tuple[str, list]:
    """What the Jacobian claim is judged on, from the penalty grid's ``rows`` (``(c1, c2,
    jacobian, alpha, pgd_accuracy, ...)``): ``(text, pairs)``, ``pairs`` the (PGD accuracy with
    the logit column-sum penalty, without any Jacobian penalty at the same c1) of every such cell.
    With one penalized cell the text lists each variant and the unpenalized accuracy; with more,
    the largest change per variant."""
    plain = {r[0]: r[4] for r in rows if r[1] == 0}
    penalized = [(r[2], r[0], r[4]) for r in rows if r[1] > 0]
    pairs = [(acc, plain[c1]) for jac, c1, acc in penalized if jac == "logit_column_sums" and c1 in plain]
    if len({(c1, c2) for c1, c2, *_ in (r for r in rows if r[1] > 0)}) <= 1:
        text = "; ".join(f"{jac} {100 * acc:.1f}%" for jac, _, acc in penalized)
        return text + (f" vs {100 * pairs[0][1]:.1f}% without" if pairs else ""), pairs
    change = {}
    for jac, c1, acc in penalized:
        if c1 in plain:
            change[jac] = max(change.get(jac, 0.0), abs(acc - plain[c1]))
    return ("largest change from c2 = 0: " + "; ".join(f"{jac} {100 * d:.1f} points" for jac, d in change.items())
            + f" over {len(pairs)} cells"), pairs
