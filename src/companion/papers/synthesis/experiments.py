"""Each paper's measurement on every paper's networks: the synthesis chapter.

The networks are the other chapters' (loaded from the cache, or trained again with the same
recipes). Every diagnostic takes a model that maps images ``(n, ...)`` in [0, 1] to logits
``(n, classes)``; :class:`UnitRange` adapts the LeNets, which take pixels in [0, 255].
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from companion import attacks, data, evaluation, profiles
from companion.display import Table
from companion.papers.boundary_tilting import experiments as tilting_experiments
from companion.papers.saturating_networks import experiments as saturating_experiments
from companion.papers.saturating_networks import kurtosis
from companion.papers.smooth_codes import experiments as smooth_experiments
from companion.papers.smooth_codes import spectra

REFINE_STEPS = 10  # DeepFool's result bisected towards the image: distances to within 0.1%
DATASETS = ("mnist", "cifar10")  # the chapter's data sets, in the order of its tables
READOUT_SCALED = "sigmoid_mlp readout x100"  # the stabilized-gradients chapter's network


def _unit_range_class():
    import keras

    class UnitRange(keras.Model):
        """``inner`` called on ``x * scale``: a model on pixels in [0, 255] seen as one on [0, 1]."""

        def __init__(self, inner, scale: float = 255.0, **kwargs):
            super().__init__(name=f"{inner.name}_unit_range", **kwargs)
            self.inner, self.scale = inner, float(scale)

        def call(self, x, training=False):
            return self.inner(x * self.scale, training=training)

    return UnitRange


def unit_range(model, scale: float = 255.0):
    """``model`` (inputs in [0, scale]) as a model of inputs in [0, 1], sharing its weights."""
    return _unit_range_class()(model, scale)


@dataclass
class Network:
    """One network of the zoo: where it comes from and the model (inputs in [0, 1])."""

    name: str
    dataset: str  # "mnist" or "cifar10"
    chapter: str  # the chapter that trains it
    model: object


def mnist_networks(mnist, profile: str) -> list[Network]:
    """The saturating chapter's nine networks, the stabilized chapter's readout-saturated copy
    and the boundary-tilting chapter's two LeNets, under ``profile``."""
    nine = saturating_experiments.train_nine(mnist, profiles.settings("saturating_networks", profile))["nets"]
    out = [
        Network(f"{arch} {mode}", "mnist", "saturating_networks", nine[arch, mode])
        for arch in saturating_experiments.ARCHITECTURES
        for mode in saturating_experiments.MODES
    ]
    out.append(
        Network(
            READOUT_SCALED,
            "mnist",
            "stabilized_gradients",
            saturating_experiments.readout_saturated(nine["sigmoid_mlp", "saturated"]),
        )
    )
    s = profiles.settings("boundary_tilting", profile)
    for name, wd in tilting_experiments.LENET_WEIGHT_DECAYS.items():
        lenet, _ = tilting_experiments.train_lenet(
            mnist, wd, s.lenet_epochs, s.lenet_train_size, s.lenet_test_size, s.seed
        )
        out.append(Network(name, "mnist", "boundary_tilting", unit_range(lenet)))
    return out


def cifar_networks(cifar, profile: str) -> list[Network]:
    """The smooth-codes chapter's CIFAR-10 CNNs (the main one and the penalty grid) and its
    small ResNets at every L2-PGD training radius, under ``profile``."""
    s = profiles.settings("smooth_codes", profile)
    out = [
        Network(
            "CNN",
            "cifar10",
            "smooth_codes",
            smooth_experiments.train_cifar(cifar, s.epochs, s.train_size, seed=s.seed)[0],
        )
    ]
    for c1, c2 in s.penalty_grid:
        for jac in ("frobenius", "column_sums") if c2 else ("frobenius",):
            model, _ = smooth_experiments.train_cifar(
                cifar, s.penalty_epochs, s.penalty_train_size, c1, c2, jac, s.seed
            )
            label = f"CNN c1={c1:g} c2={c2:g}" + (f" {jac}" if c2 else "")
            out.append(Network(label, "cifar10", "smooth_codes", model))
    for eps in s.robust_eps:
        model = smooth_experiments.train_robust(
            cifar, eps, s.robust_epochs, s.robust_train_size, s.robust_attack_steps, s.seed
        )[0]
        out.append(Network(f"ResNet L2-PGD eps={eps:g}", "cifar10", "smooth_codes", model))
    return out


# --- the diagnostics ----------------------------------------------------------------------------


def readout_layer(model):
    """The last layer with a kernel (the readout), looking inside a :func:`unit_range` model."""
    inner = getattr(model, "inner", model)
    with_kernel = [layer for layer in inner.layers if getattr(layer, "kernel", None) is not None]
    if not with_kernel:
        raise ValueError(f"model {model.name!r} has no layer with a kernel")
    return with_kernel[-1]


def penultimate_codes(model, x, batch_size: int = 500) -> np.ndarray:
    """The readout's input (the penultimate code) for ``x``, flattened: ``(n, units)``."""
    import keras

    inner = getattr(model, "inner", model)
    scale = getattr(model, "scale", 1.0)
    probe = keras.Model(inner.inputs[0], readout_layer(model).input)
    return evaluation.activations(lambda xb, training: probe(xb * scale, training=training), x, batch_size)


def code_exponent(model, x, lo: int = 10, hi: int = 316) -> float:
    """Schaeffer et al.: the power-law exponent alpha of the penultimate code's covariance
    spectrum over ranks ``lo``..``hi`` (:func:`companion.papers.smooth_codes.spectra.powerlaw_exponent`)."""
    return spectra.powerlaw_exponent(spectra.covariance_eigenvalues(penultimate_codes(model, x)), lo, hi)


def class_centroids(x, y, classes: int = 10) -> np.ndarray:
    """Mean image of each class: ``(classes, ...)``; every class must occur."""
    missing = sorted(set(range(classes)) - set(np.unique(y).tolist()))
    if missing:
        raise ValueError(f"no images of classes {missing}: centroids need every class")
    return np.stack([x[y == c].mean(axis=0) for c in range(classes)])


def tilting_angles(model, x, y, centroids) -> np.ndarray:
    """Tanay & Griffin, locally: per image, the angle (degrees) between the input gradient of
    ``z_c - z_y`` (``c`` the runner-up class, so the normal of the nearest boundary) and the
    nearest-centroid direction ``centroid_c - centroid_y``. 0 is no tilt; nan where the
    gradient is exactly zero. ``x``: ``(n, ...)``, ``y``: ``(n,)``, ``centroids``: ``(classes, ...)``."""
    import tensorflow as tf

    xt = tf.convert_to_tensor(np.asarray(x, np.float32))
    y = np.asarray(y, np.int32)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        logits = model(xt, training=False)
        margin = attacks.attack_loss(logits, y, "logit_margin")  # max_{j != y} z_j - z_y
    g = tape.gradient(margin, xt).numpy().reshape(len(x), -1).astype(np.float64)
    runner_up = np.argmax(logits.numpy() - 1e30 * np.eye(logits.shape[1])[y], axis=1)
    u = (centroids[runner_up] - centroids[y]).reshape(len(x), -1).astype(np.float64)
    norms = np.linalg.norm(g, axis=1) * np.linalg.norm(u, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(norms > 0, np.sum(g * u, axis=1) / norms, np.nan)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def noise_bound(error_rate: float, sigma: float) -> float:
    """Gaussian isoperimetry (Gilmer et al.'s argument in its Gaussian form): if a share
    ``error_rate`` < 1/2 of ``N(x, sigma^2 I)`` is misclassified, the median distance from its
    samples to the nearest error is at most ``-sigma * Phi^-1(error_rate)``, with equality for
    a flat boundary. inf for no error, 0 from one half."""
    from scipy.stats import norm

    if not 0 <= error_rate <= 1 or sigma <= 0:
        raise ValueError(f"need 0 <= error_rate <= 1 and sigma > 0, got {error_rate}, {sigma}")
    if error_rate == 0:
        return float("inf")
    return float(max(-sigma * norm.ppf(error_rate), 0.0))


def noise_tradeoff(model, x, y, sigma: float, copies: int, rng, steps: int = 50, candidates: int | None = None) -> dict:
    """Error rate under Gaussian noise and distance to the nearest error from the noisy images.

    ``copies`` noisy images ``x + sigma * N(0, I)`` per image (not clipped, as the theorem
    assumes); the distance from each is DeepFool's (unclipped; 0 where the noisy image is
    already an error). Returns ``{"error_rate", "median_distance", "bound", "ratio"}``, with
    ``bound`` = :func:`noise_bound` of the pooled error rate and ``ratio`` = median / bound.
    Pooling images makes this the theorem's one-Gaussian statement applied to a mixture: a
    yardstick, not a bound that must hold.
    """
    if copies < 1 or sigma <= 0:
        raise ValueError(f"need copies >= 1 and sigma > 0, got {copies}, {sigma}")
    noisy = np.repeat(np.asarray(x, np.float32), copies, axis=0)
    noisy += (sigma * rng.standard_normal(noisy.shape)).astype(np.float32)
    labels = np.repeat(np.asarray(y), copies)
    distance = attacks.deepfool(
        model, noisy, labels, steps=steps, bounds=None, candidates=candidates, refine_steps=REFINE_STEPS
    ).distance
    error_rate = float(np.mean(distance == 0))
    median = float(np.median(distance))
    bound = noise_bound(error_rate, sigma)
    ratio = median / bound if 0 < bound < float("inf") else float("nan")
    return {"error_rate": error_rate, "median_distance": median, "bound": bound, "ratio": ratio}


def kernels(model) -> list[np.ndarray]:
    """Every kernel (dense and convolution), input to readout."""
    inner = getattr(model, "inner", model)
    found = []

    def walk(layer):
        for sub in getattr(layer, "layers", []):
            walk(sub)
        if not getattr(layer, "layers", None) and getattr(layer, "kernel", None) is not None:
            found.append(np.asarray(layer.kernel))

    walk(inner)
    return found


def kurtosis_measures(model, dim: int, vectors: int, rng) -> dict:
    """Nayebi & Ganguli: the mean excess kurtosis of the kernels, and the gain (percent) of
    the scaled ratio (14) for unit vectors drawn from the first layer's weights over Gaussian
    ones (:func:`companion.papers.saturating_networks.experiments.learned_weight_ratio`)."""
    ks = kernels(model)
    learned = saturating_experiments.learned_weight_ratio(ks[0], dim, vectors, rng)
    baseline = saturating_experiments.kurtosis_gain((), dim, vectors, rng)["gaussian"]
    return {
        "kurtosis": float(np.mean([kurtosis.excess_kurtosis(k) for k in ks])),
        "ratio_gain": 100.0 * (learned / baseline - 1.0),
    }


def rank_correlation(values, robustness) -> tuple[float, int]:
    """Spearman's rho between a diagnostic and robust accuracy over the networks where both are
    finite: ``(rho, count)``; rho is nan under three networks or for a constant column."""
    from scipy.stats import spearmanr

    a, b = np.asarray(values, float), np.asarray(robustness, float)
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3 or np.ptp(a[keep]) == 0 or np.ptp(b[keep]) == 0:
        return float("nan"), int(keep.sum())
    return float(spearmanr(a[keep], b[keep]).statistic), int(keep.sum())


def measure(network: Network, x, y, centroids, settings, rng) -> dict:
    """Every diagnostic of the chapter for one network on test images ``x`` ``(n, ...)`` in
    [0, 1] with labels ``y``; ``settings`` are the synthesis chapter's. Distances (DeepFool's, and
    from the noisy copies) start from the images the network classifies correctly, so that a
    network's clean errors do not count as zero distances. Accuracies are fractions,
    distances L2 in [0, 1] pixel units (DeepFool's unclipped, the geometric distance to the
    nearest boundary that Tanay & Griffin's d_adv is), the angle in degrees."""
    model = network.model
    xs, ys = x[: settings.size], y[: settings.size]
    right = np.argmax(evaluation.predict_logits(model, xs), axis=1) == ys
    distance, noise = np.array([np.nan]), {"error_rate": np.nan, "ratio": np.nan}  # no correct image
    if right.any():
        distance = attacks.deepfool(
            model,
            xs[right],
            ys[right],
            steps=settings.deepfool_steps,
            bounds=None,
            candidates=settings.deepfool_candidates,
            refine_steps=REFINE_STEPS,
        ).distance
        start = xs[right][: settings.noise_images], ys[right][: settings.noise_images]
        noise = noise_tradeoff(
            model,
            *start,
            settings.noise_sigma[network.dataset],
            settings.noise_copies,
            rng,
            settings.deepfool_steps,
            settings.deepfool_candidates,
        )
    angles = tilting_angles(model, xs, ys, centroids)
    return {
        "clean": float(right.mean()),
        "pgd": evaluation.pgd_accuracy(
            model, xs, ys, settings.pgd_eps[network.dataset], settings.pgd_steps, loss="logit_margin", norm="l2"
        ),
        "deepfool": float(np.median(distance)),
        "tilt": float(np.nanmedian(angles)) if np.isfinite(angles).any() else float("nan"),
        "alpha": code_exponent(model, x[: settings.spectrum_size], 10, settings.hi),
        **kurtosis_measures(model, settings.kurtosis_dim, settings.kurtosis_vectors, rng),
        "noise_error": noise["error_rate"],
        "noise_ratio": noise["ratio"],
        "zero_gradients": evaluation.zero_gradient_share(evaluation.input_gradients(model, xs, ys)),
    }


def evaluation_data(mnist, cifar) -> tuple[dict, dict]:
    """The images every network is measured on, per data set (pixels in [0, 1]): ``(test, centroids)``.

    ``test[dataset]`` is ``(x, y)``, the whole test split (MNIST ``(10000, 28, 28, 1)``, CIFAR-10
    ``(10000, 32, 32, 3)``; labels ``(n,)``); ``centroids[dataset]`` ``(10, ...)`` the class means of
    the training images: on MNIST the saturating chapter's training split (every training image
    but its last :data:`VALIDATION_SIZE <companion.papers.saturating_networks.experiments.VALIDATION_SIZE>`),
    on CIFAR-10 every training image.
    """
    train_size = len(mnist.x_train) - saturating_experiments.VALIDATION_SIZE
    x_train, y_train, _, _, x_test, y_test = saturating_experiments.mnist_splits(mnist, train_size)
    test = {"mnist": (x_test, y_test), "cifar10": (data.to_float(cifar.x_test), cifar.y_test)}
    centroids = {
        "mnist": class_centroids(x_train, y_train),
        "cifar10": class_centroids(data.to_float(cifar.x_train), cifar.y_train),
    }
    return test, centroids


def measure_networks(networks: list[Network], test: dict, centroids: dict, settings, rng) -> tuple[list[dict], dict]:
    """:func:`measure` for every network in turn (so ``rng`` is drawn from in the networks' order),
    each on ``test[network.dataset] = (x, y)`` with ``centroids[network.dataset]`` (as
    :func:`evaluation_data` gives them). Returns ``(rows, seconds)``: one dict per network,
    ``{"name", "dataset", **measures}``, and each network's wall time, ``{name: seconds}``."""
    rows, seconds = [], {}
    for n in networks:
        t0 = time.perf_counter()
        x, y = test[n.dataset]
        rows.append({"name": n.name, "dataset": n.dataset, **measure(n, x, y, centroids[n.dataset], settings, rng)})
        seconds[n.name] = time.perf_counter() - t0
    return rows, seconds


def networks_table(networks: list[Network]) -> Table:
    """The networks, one line each (no header line): data set in 8 characters, name in 34, and the
    chapter that trains it (``from the <chapter> chapter``)."""
    lines = [f"{n.dataset:8s} {n.name:34s} from the {n.chapter} chapter" for n in networks]
    return Table(
        text="\n".join(lines),
        header=("data set", "network", "chapter"),
        rows=tuple((n.dataset, n.name, n.chapter) for n in networks),
        header_lines=0,
    )


# The chapter's table: measure -> (header label, factor it is printed times, format).
TABLE_COLUMNS = {
    "clean": ("clean %", 100, ".1f"),
    "pgd": ("PGD %", 100, ".1f"),
    "deepfool": ("DeepFool d", 1, ".2f"),
    "tilt": ("tilt °", 1, ".0f"),
    "alpha": ("alpha", 1, ".2f"),
    "kurtosis": ("kurtosis", 1, ".1f"),
    "ratio_gain": ("(14) gain %", 1, ".0f"),
    "noise_error": ("noise err %", 100, ".1f"),
    "noise_ratio": ("d/bound", 1, ".2f"),
    "zero_gradients": ("zero grad %", 100, ".1f"),
}


def results_table(rows: list[dict], columns: dict = TABLE_COLUMNS) -> Table:
    """The chapter's table of measures: a header line, then one line per row: the row's ``name``
    in 34 characters, then each of ``columns`` (``{key: (label, factor, format)}``) right-aligned
    in 11. The same cells as ``header`` (``network`` and the labels) and ``rows``."""
    header = ("network", *(label for label, _, _ in columns.values()))
    cells = tuple((r["name"], *(format(scale * r[k], fmt) for k, (_, scale, fmt) in columns.items())) for r in rows)
    lines = [f"{header[0]:34s} " + " ".join(f"{label:>11s}" for label in header[1:])]
    lines += [f"{name:34s} " + " ".join(f"{value:>11s}" for value in values) for name, *values in cells]
    return Table(text="\n".join(lines), header=header, rows=cells)


def rank_correlations(rows: list[dict], keys, *, robustness: str = "pgd", datasets=DATASETS) -> dict:
    """:func:`rank_correlation` of each diagnostic in ``keys`` with ``robustness`` over the rows
    of each data set: ``{(dataset, key): (rho, count)}``, data sets outer, keys inner."""
    rho = {}
    for dataset in datasets:
        part = [r for r in rows if r["dataset"] == dataset]
        for key in keys:
            rho[dataset, key] = rank_correlation([r[key] for r in part], [r[robustness] for r in part])
    return rho


def correlations_table(rho: dict, predictions, datasets=DATASETS) -> Table:
    """The rank correlations, one line each (no header line), data sets outer and ``predictions``
    (``(key, who, sign)``) inner: data set in 8 characters, key in 15, then
    ``rho = <rho> over <count> networks  (<who>)``. ``rho``: ``{(dataset, key): (rho, count)}``."""
    cells = tuple(
        (dataset, key, f"{rho[dataset, key][0]:+.2f}", str(rho[dataset, key][1]), who)
        for dataset in datasets
        for key, who, _ in predictions
    )
    lines = [f"{d:8s} {key:15s} rho = {value} over {count} networks  ({who})" for d, key, value, count, who in cells]
    return Table(
        text="\n".join(lines),
        header=("data set", "diagnostic", "rho", "networks", "prediction"),
        rows=cells,
        header_lines=0,
    )


def adversarial_gains(rows: list[dict], key: str = "alpha") -> list[float]:
    """``key`` of the saturating chapter's adversarially trained network minus that of its vanilla
    one, per architecture (:data:`ARCHITECTURES <companion.papers.saturating_networks.experiments.ARCHITECTURES>`
    order): ``(3,)``. ``rows``: dicts with ``name`` and ``key``, named as :func:`mnist_networks` names them."""
    by_name = {r["name"]: r for r in rows}
    return [
        by_name[f"{arch} adversarial"][key] - by_name[f"{arch} vanilla"][key]
        for arch in saturating_experiments.ARCHITECTURES
    ]


def readout_scaling_summary(rows: list[dict], original: str = "sigmoid_mlp saturated") -> str:
    """One line: zero-gradient share and PGD accuracy (percent) of :data:`READOUT_SCALED` and of
    the ``original`` network it scales. ``rows``: dicts with ``name``, ``zero_gradients``, ``pgd``."""
    by_name = {r["name"]: r for r in rows}
    masked, unscaled = by_name[READOUT_SCALED], by_name[original]
    return (
        f"readout x100: zero-gradient share {100 * masked['zero_gradients']:.1f}%, PGD {100 * masked['pgd']:.1f}% "
        f"(the same network unscaled: {100 * unscaled['zero_gradients']:.1f}%, PGD {100 * unscaled['pgd']:.1f}%)"
    )
