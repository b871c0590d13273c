"""The experiments of Schaeffer, Casademunt & Mudur (2020) on CIFAR-10 (and ImageNet when
pretrained weights can be had): penultimate-layer eigenspectra under dataset variants, and the
regularized loss (1).

Images are ``(n, 32, 32, 3)`` floats in [0, 1].
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np

from companion import attacks, cache, data, evaluation, models, optimizer, parallel, training
from companion.display import Table
from companion.papers.smooth_codes import feature_datasets, penalties, spectra

L2_EPS = 0.5
"""Ilyas et al.'s L2 radius: their robust ResNet-50's training eps, the radius of their adversarial
datasets ``D_det`` and ``D_rand``, and the radius of our L2 PGD check of the small ResNets."""
LINF_EPS = 8 / 255
"""The L_inf radius of the PGD attack on the penalty grid (ours: the paper's parameters are cut off)."""
GREY = 0.5
"""The pixel value of the blank images under the "pure noise" inputs."""


def _trainer(dataset: data.Dataset, build, train_size: int, epochs: int, batch_size: int, seed: int, **terms):
    """``fit() -> (model, history)``: ``build()`` trained by :func:`companion.training.fit_adam`
    with the loss ``terms`` on the first ``train_size`` CIFAR-10 training images, seeded."""

    def fit():
        import keras

        keras.utils.set_random_seed(seed)
        model = build()
        x = data.to_float(dataset.x_train[:train_size])
        return model, training.fit_adam(model, x, dataset.y_train[:train_size], epochs, batch_size, seed=seed, **terms)

    return fit


def _cifar_parts(dataset, epochs, train_size, c1=0.0, c2=0.0, jacobian="frobenius", seed=0, batch_size=128) -> dict:
    return {
        "experiment": "smooth_codes",
        "data": dataset.sha256,
        "epochs": epochs,
        "train_size": train_size,
        "c1": c1,
        "c2": c2,
        "jacobian": jacobian if c2 else None,
        "seed": seed,
        "batch_size": batch_size,
        "code": cache.code_fingerprint(
            models.cifar_cnn,
            training.fit_adam,
            training.run_epochs,
            penalties.SmoothnessPenalty,
            penalties.smoothness_penalties,
            penalties.offdiagonal_covariance_norm,
            optimizer.Adam,
            _trainer,
            train_cifar,
        ),
    }


def train_cifar(
    dataset: data.Dataset,
    epochs: int,
    train_size: int,
    c1: float = 0.0,
    c2: float = 0.0,
    jacobian: str = "frobenius",
    seed: int = 0,
    batch_size: int = 128,
):
    """The supplement's CIFAR-10 model trained with loss (1); cached. ``(model, history)``."""
    parts = _cifar_parts(dataset, epochs, train_size, c1, c2, jacobian, seed, batch_size)
    penalty = penalties.SmoothnessPenalty(c1, c2, jacobian)
    fit = _trainer(dataset, models.cifar_cnn, train_size, epochs, batch_size, seed, penalty=penalty)
    return cache.cached_model("smooth_codes", parts, fit)


def _robust_parts(dataset, eps, epochs, train_size, attack_steps, seed=0, batch_size=128) -> dict:
    return {
        "experiment": "smooth_codes_robust",
        "data": dataset.sha256,
        "eps": eps,
        "epochs": epochs,
        "train_size": train_size,
        "attack_steps": attack_steps,
        "seed": seed,
        "code": cache.code_fingerprint(
            models.small_resnet,
            training.fit_adam,
            training.PgdReplacement,
            training.run_epochs,
            attacks.pgd_ascent,
            attacks.project,
            attacks.l2_norm,
            optimizer.Adam,
            _trainer,
            train_robust,
        ),
    }


def train_robust(
    dataset: data.Dataset,
    eps: float,
    epochs: int,
    train_size: int,
    attack_steps: int,
    seed: int = 0,
    batch_size: int = 128,
):
    """:func:`companion.models.small_resnet` adversarially trained against L2 PGD of radius
    ``eps`` (0: standard training), our counterpart of the Robustness library's models; cached.
    ``(model, history)``."""
    parts = _robust_parts(dataset, eps, epochs, train_size, attack_steps, seed, batch_size)
    adversarial = training.PgdReplacement(eps, attack_steps)
    fit = _trainer(dataset, models.small_resnet, train_size, epochs, batch_size, seed, adversarial=adversarial)
    return cache.cached_model("smooth_codes_robust", parts, fit)


def robust_arguments(settings, eps: float) -> tuple:
    """The arguments of :func:`train_robust` after the data set for the small ResNet trained at
    radius ``eps`` under a profile's ``settings``: ``(eps, epochs, train_size, attack_steps,
    seed)``."""
    return (eps, settings.robust_epochs, settings.robust_train_size, settings.robust_attack_steps, settings.seed)


def train_chapter_networks(dataset: data.Dataset, settings) -> int:
    """Train the chapter's networks that the cache lacks side by side in child processes
    (:func:`companion.parallel.fill_cache`), as the chapter then asks for them: the CIFAR-10 CNN
    (:func:`train_cifar`), the penalty grid's CNNs (:func:`penalty_grid_rows`) and the small
    ResNets at each training radius (:func:`train_robust`). The longest go first (the ResNets,
    largest radius first, then the CNNs, most images seen first), so that the short ones fill the
    end and no core waits alone on a long one. Returns how many were trained there."""
    s = settings
    cnns = [(dataset, s.epochs, s.train_size, 0.0, 0.0, "frobenius", s.seed)]
    cnns += [
        (dataset, s.penalty_epochs, s.penalty_train_size, c1, c2, jac, s.seed)
        for c1, c2 in s.penalty_grid
        for jac in (penalties.JACOBIAN_NORMS if c2 else ("frobenius",))
    ]
    resnets = [(dataset, *robust_arguments(s, eps)) for eps in s.robust_eps]
    resnets.sort(key=lambda a: -a[1])
    cnns.sort(key=lambda a: -a[1] * a[2])
    calls = {}  # by cache key: in the paper profile the main CNN is also the grid's (0, 0) one
    for name, function, parts_of, arguments in (
        ("smooth_codes_robust", train_robust, _robust_parts, resnets),
        ("smooth_codes", train_cifar, _cifar_parts, cnns),
    ):
        for a in arguments:
            if not cache.contains(name, parts_of(*a)):
                calls[cache.make_key(parts_of(*a))] = functools.partial(function, *a)
    return parallel.fill_cache(list(calls.values()))


def _ilyas_draws(y, seed: int) -> dict:
    """The random draws of the four Ilyas datasets for labels ``y`` ``(n,)``, from one generator
    seeded with ``seed``, in the order the datasets come (:data:`feature_datasets.DATASETS`): the
    start images of ``D_R``, those of ``D_NR``, the classes of ``D_det`` and of ``D_rand``."""
    rng = np.random.default_rng(seed)
    return {
        "robust": feature_datasets.start_images(len(y), rng),
        "non_robust": feature_datasets.start_images(len(y), rng),
        "deterministic": feature_datasets.adversarial_targets(y, "deterministic", rng),
        "random": feature_datasets.adversarial_targets(y, "random", rng),
    }


@dataclass(frozen=True)
class IlyasRecipe:
    """How the four Ilyas datasets are built: from the first ``size`` training images,
    ``D_R`` and ``D_NR`` by ``steps`` steps of ``step_size``
    (:func:`feature_datasets.match_representation`), ``D_det`` and ``D_rand`` by targeted L2 PGD of
    radius ``adversarial_eps`` in ``adversarial_steps`` steps; the draws from ``seed``."""

    size: int
    steps: int
    step_size: float
    adversarial_eps: float
    adversarial_steps: int
    seed: int = 0


def _ilyas_parts(dataset, name: str, network: tuple, recipe: IlyasRecipe) -> dict:
    return {
        "experiment": "smooth_codes_ilyas",
        "dataset": name,
        "network": _robust_parts(dataset, *network),
        **asdict(recipe),
        "code": cache.code_fingerprint(
            feature_datasets.match_representation,
            feature_datasets.start_images,
            feature_datasets.feature_dataset,
            feature_datasets.adversarial_targets,
            feature_datasets.adversarial_dataset,
            _ilyas_draws,
            ilyas_dataset,
        ),
    }


def ilyas_dataset(dataset: data.Dataset, name: str, network: tuple, recipe: IlyasRecipe) -> dict:
    """The Ilyas dataset ``name`` (one of :data:`feature_datasets.DATASETS`) made as ``recipe``
    says with the small ResNet ``train_robust(dataset, *network)``, with the draws of
    :func:`_ilyas_draws`; cached. ``{"images": (size, 32, 32, 3), "labels": (size,)}``."""
    r = recipe

    def build():
        x, y = data.to_float(dataset.x_train[: r.size]), dataset.y_train[: r.size]
        draw = _ilyas_draws(y, r.seed)[name]
        model = train_robust(dataset, *network)[0]
        if name in ("robust", "non_robust"):
            images, labels = feature_datasets.feature_dataset(model, x, y, r.steps, r.step_size, draw)
        else:
            eps, steps = r.adversarial_eps, r.adversarial_steps
            images, labels = feature_datasets.adversarial_dataset(model, x, draw, eps, steps)
        return {"images": images, "labels": labels}

    return cache.cached_arrays("smooth_codes_ilyas", _ilyas_parts(dataset, name, network, recipe), build)


def ilyas_datasets(dataset: data.Dataset, robust: tuple, standard: tuple, recipe: IlyasRecipe) -> dict:
    """The four datasets of :mod:`companion.papers.smooth_codes.feature_datasets` made as
    ``recipe`` says (:func:`ilyas_dataset`): ``D_R`` with the small ResNet
    ``train_robust(dataset, *robust)``, the other three with ``train_robust(dataset, *standard)``.
    Those the cache lacks are built side by side first (:func:`companion.parallel.fill_cache`),
    the two long ones first.

    Returns ``{name: images}`` for :data:`feature_datasets.DATASETS`, ``{name + "_labels": y}``,
    and ``"original"`` (the source images) with ``"original_labels"``."""
    networks = {name: robust if name == "robust" else standard for name in feature_datasets.DATASETS}
    calls = {name: (dataset, name, network, recipe) for name, network in networks.items()}
    missing = [args for args in calls.values() if not cache.contains("smooth_codes_ilyas", _ilyas_parts(*args))]
    parallel.fill_cache([functools.partial(ilyas_dataset, *args) for args in missing])
    out = {"original": data.to_float(dataset.x_train[: recipe.size]), "original_labels": dataset.y_train[: recipe.size]}
    for name, arguments in calls.items():
        built = ilyas_dataset(*arguments)
        out[name], out[name + "_labels"] = built["images"], built["labels"]
    return out


def penultimate(model, x, layer: str = "penultimate", batch_size: int = 500) -> np.ndarray:
    """Activations of ``layer`` for inputs ``x``: ``(n, units)``."""
    import keras

    return evaluation.activations(keras.Model(model.input, model.get_layer(layer).output), x, batch_size)


def spectrum(model, x, lo: int = 10, hi: int = 316) -> tuple[np.ndarray, float]:
    """Eigenvalues of the penultimate covariance over ``x`` and their power-law exponent."""
    lam = spectra.covariance_eigenvalues(penultimate(model, x))
    return lam, spectra.powerlaw_exponent(np.maximum(lam, 1e-30), lo, hi)


def spectra_by_input(model, inputs: dict, *, lo: int = 10, hi: int = 316) -> dict:
    """:func:`spectrum` of ``model`` on each image set of ``inputs`` ``{name: (n, 32, 32, 3)}``:
    ``{name: (eigenvalues (units,), alpha)}`` in the order of ``inputs``."""
    return {name: spectrum(model, images, lo, hi) for name, images in inputs.items()}


def with_noise(x, delta: float, rng) -> np.ndarray:
    """``x`` plus i.i.d. Gaussian noise of standard deviation ``delta`` on every channel."""
    return (x + delta * rng.standard_normal(x.shape)).astype(np.float32)


def noise_spectra(model, x, deltas, rng, *, lo: int = 10, hi: int = 316) -> dict:
    """Figure 3's inputs: for each standard deviation ``delta`` of ``deltas``, the :func:`spectrum`
    of ``x`` ``(n, 32, 32, 3)`` with Gaussian noise, then of grey images (:data:`GREY`) of the same
    shape with noise alone. ``{"δ = delta": (eigenvalues, alpha), "pure noise δ = delta": ...}`` in
    that order; the noise is drawn from ``rng`` in that order too."""
    out = {}
    for delta in deltas:
        out[f"δ = {delta}"] = spectrum(model, with_noise(x, delta, rng), lo, hi)
        out[f"pure noise δ = {delta}"] = spectrum(model, with_noise(np.full_like(x, GREY), delta, rng), lo, hi)
    return out


def noise_table(noise_alpha: dict) -> Table:
    """Figure 3's alphas, one line per input of :func:`noise_spectra`'s ``{label: (eigenvalues,
    alpha)}`` (its label, ``20s``; alpha, ``.2f``), without a header line."""
    rows = tuple((label, f"{a:.2f}") for label, (_, a) in noise_alpha.items())
    text = "\n".join(f"{label:20s} alpha {a}" for label, a in rows)
    return Table(text=text, header=("input", "alpha"), rows=rows, header_lines=0)


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


def pca_alphas(model, x, basis_images, *, dims, lo: int = 10, hi: int = 316) -> tuple[dict, float]:
    """Figure 4: alpha of ``model`` on ``x`` ``(n, 32, 32, 3)`` projected on the first ``k``
    principal components of ``basis_images`` ``(m, 32, 32, 3)`` for each ``k`` of ``dims``, and on
    ``x`` ZCA-whitened with the same basis (:class:`PCABasis`). ``({k: alpha}, zca_alpha)``."""
    basis = PCABasis(basis_images)
    by_dim = {k: spectrum(model, basis.project(x, k), lo, hi)[1] for k in dims}
    return by_dim, spectrum(model, basis.zca(x), lo, hi)[1]


def ilyas_training_eps(robust_eps) -> float:
    """The training eps of the small ResNet that builds ``D_R``: :data:`L2_EPS`, Ilyas et al.'s,
    when ``robust_eps`` trains it, else the largest of ``robust_eps``. ``robust_eps`` must include
    0.0 (standard training), whose network builds the other three datasets."""
    if 0.0 not in robust_eps:
        raise ValueError("robust_eps must include 0.0: the standard network builds D_NR and the adversarial sets")
    return L2_EPS if L2_EPS in robust_eps else max(robust_eps)


def representation_distances(model, real, built) -> tuple:
    """How closely the images ``built`` ``(n, 32, 32, 3)`` match the ``real`` ones (same shape,
    pair by pair) in ``model``'s penultimate layer: ``(to_real, between_real, pixels)``, the mean L2
    distance of each pair's representations, the same between each real image and the one before
    it (``np.roll`` by 1: the distance to beat), and the mean pixel L2 distance of each pair."""
    g = penultimate(model, np.concatenate([real, built]))
    goal, rebuilt = g[: len(real)], g[len(real) :]
    between = np.linalg.norm(goal - np.roll(goal, 1, axis=0), axis=1).mean()
    to_real = np.linalg.norm(rebuilt - goal, axis=1).mean()
    return to_real, between, np.linalg.norm((built - real).reshape(len(real), -1), axis=1).mean()


def robust_accuracy_table(accuracy: dict, attack_eps: float, attack_size: int) -> Table:
    """The small ResNets' accuracies, one line per network of ``accuracy`` ``{training eps:
    (clean accuracy, accuracy under L2 PGD)}`` (fractions; the attack of radius ``attack_eps`` on
    ``attack_size`` test images), without a header line."""
    rows = tuple((f"{eps}", f"{100 * clean:.1f}%", f"{100 * under:.1f}%") for eps, (clean, under) in accuracy.items())
    text = "\n".join(
        f"small ResNet, eps = {eps:<4}: clean test accuracy {clean:>6s}, "
        f"L2 PGD (eps {attack_eps}) accuracy {under:>6s} on {attack_size} test images"
        for eps, clean, under in rows
    )
    header = ("training eps", "clean test accuracy", f"L2 PGD accuracy (eps {attack_eps}, {attack_size} test images)")
    return Table(text=text, header=header, rows=rows, header_lines=0)


def ilyas_table(distances: dict, hits: dict) -> Table:
    """The four Ilyas et al. datasets as built, one line per dataset without a header line: how
    closely each feature dataset of ``distances`` ``{name: (to_real, between_real, pixels)}``
    (:func:`representation_distances`; ``.3g``, ``.3g``, ``.2f``) matches its real images, then
    how often the standard network assigns each adversarial dataset of ``hits`` ``{name: accuracy
    (a fraction)}`` to its target labels. A row leaves the columns of the other kind empty."""
    near = tuple(
        (name, f"{to_real:.3g}", f"{between:.3g}", f"{pixels:.2f}")
        for name, (to_real, between, pixels) in distances.items()
    )
    hit = tuple((name, f"{100 * accuracy:.1f}%") for name, accuracy in hits.items())
    lines = [
        *(
            f"{name:11s}: representation distance to the real image {to_real} "
            f"(two real images: {between}); pixel L2 from it {pixels}"
            for name, to_real, between, pixels in near
        ),
        *(f"{name:13s}: the standard network assigns {share} to their (target) labels" for name, share in hit),
    ]
    header = (
        "dataset",
        "representation distance to the real image",
        "between two real images",
        "pixel L2 from it",
        "standard network's accuracy on the target labels",
    )
    rows = (*((*row, "") for row in near), *((name, "", "", "", share) for name, share in hit))
    return Table(text="\n".join(lines), header=header, rows=rows, header_lines=0)


def alpha_table(spectra_by_model: dict, title: str, row_label: str = "eps") -> Table:
    """``title``, then alpha with one row per model (its key, ``5.2f``) and one column per input:
    ``spectra_by_model`` is ``{key: {input name: (eigenvalues, alpha)}}``, every model on the same
    inputs (the first model's names head the columns)."""
    names = tuple(next(iter(spectra_by_model.values()), {}))
    rows = tuple(
        (f"{key:5.2f}", *(f"{a:13.2f}" for _, a in by_name.values())) for key, by_name in spectra_by_model.items()
    )
    lines = [f"{row_label:>5s} " + " ".join(f"{name:>13s}" for name in names), *(" ".join(row) for row in rows)]
    return Table(
        text="\n".join(lines),
        header=(row_label, *names),
        rows=tuple(tuple(cell.strip() for cell in row) for row in rows),
        title=title,
    )


def mean_alpha(spectra_by_model: dict) -> float:
    """The mean alpha over every model and input of ``{key: {input name: (eigenvalues, alpha)}}``."""
    return float(np.mean([a for by_name in spectra_by_model.values() for _, a in by_name.values()]))


class PenaltyRow(NamedTuple):
    """One network of the penalty grid: its coefficients, the Jacobian norm penalized (``"-"``
    without a Jacobian penalty), alpha on the test images, PGD accuracy (a fraction) and the last
    epoch's Jacobian term (without its coefficient)."""

    c1: float
    c2: float
    jacobian: str
    alpha: float
    pgd_accuracy: float
    jacobian_term: float


def penalty_grid_rows(
    dataset: data.Dataset,
    grid,
    x,
    y,
    *,
    epochs: int,
    train_size: int,
    attack_size: int,
    pgd_steps: int,
    eps: float = LINF_EPS,
    lo: int = 10,
    hi: int = 316,
    seed: int = 0,
) -> list[PenaltyRow]:
    """Figures 7 and 8: for each ``(c1, c2)`` of ``grid``, the CIFAR-10 model trained with loss
    (1) (:func:`train_cifar`; with ``c2 > 0`` once per norm of
    :data:`~companion.papers.smooth_codes.penalties.JACOBIAN_NORMS`), its alpha on ``x`` ``(n, 32,
    32, 3)`` and its accuracy under L_inf PGD of radius ``eps`` (cross-entropy, ``pgd_steps``
    steps) on the first ``attack_size`` images of ``x`` with labels ``y`` ``(n,)``. One
    :class:`PenaltyRow` per network, in that order."""
    x_attack, y_attack = x[:attack_size], y[:attack_size]
    rows = []
    for c1, c2 in grid:
        for jac in penalties.JACOBIAN_NORMS if c2 else ("frobenius",):
            m, h = train_cifar(dataset, epochs, train_size, c1, c2, jac, seed)
            a = spectrum(m, x, lo, hi)[1]
            robust = evaluation.pgd_accuracy(m, x_attack, y_attack, eps, pgd_steps, loss="cross_entropy")
            rows.append(PenaltyRow(c1, c2, jac if c2 else "-", a, robust, h["jacobian"][-1]))
    return rows


def penalty_table(rows) -> Table:
    """The penalty grid, one line per :class:`PenaltyRow` of ``rows``, without a header line. A
    Jacobian term below 1e-6 is float rounding: it reads ``< 1e-6``, not its digits."""
    cells = tuple(
        (
            f"{r.c1}",
            f"{r.c2}",
            r.jacobian,
            f"{r.alpha:.2f}",
            f"{100 * r.pgd_accuracy:.1f}%",
            f"{r.jacobian_term:.2e}" if r.jacobian_term >= 1e-6 else "< 1e-6",
        )
        for r in rows
    )
    text = "\n".join(
        f"c1 = {c1:<5} c2 = {c2:<4} {jac:17s} alpha {a}  PGD accuracy {pgd:>6s}  Jacobian term {term}"
        for c1, c2, jac, a, pgd, term in cells
    )
    header = ("c1", "c2", "Jacobian norm", "alpha", "PGD accuracy", "Jacobian term")
    return Table(text=text, header=header, rows=cells, header_lines=0)


IMAGENET_ARCHITECTURES = ("ResNet50", "VGG16", "MobileNetV2", "DenseNet121")


def imagenet_model(name: str, weights: str | None = "imagenet", input_shape=(224, 224, 3)):
    """A ``keras.applications`` classifier and the name of its penultimate layer's output model.

    Returns ``(feature_model, error)``: ``feature_model`` maps images to the globally pooled
    penultimate features; ``error`` is a message (and the model ``None``) when the weights cannot
    be had, e.g. offline.
    """
    import contextlib
    import io

    import keras

    constructor = getattr(keras.applications, name)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Keras prints the download's address
            base = constructor(weights=weights, include_top=False, pooling="avg", input_shape=input_shape)
    except Exception as exc:  # offline: the weight download fails
        return None, f"{name}: weights {weights!r} unavailable ({type(exc).__name__}; the download failed)"
    return base, None
