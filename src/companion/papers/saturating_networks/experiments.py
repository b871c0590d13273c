"""The experiments of Nayebi & Ganguli (2017): nine networks on MNIST and their analyses.

Three architectures (:data:`companion.models.SATURATION_KINDS`) times three trainings: vanilla,
adversarial (interpolated loss (4), alpha 0.5, FGSM eps 0.25) and saturated (penalty (8) with
lambda annealed from 0). Trained networks are cached, so the next chapter attacks the same ones.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np

from companion import attacks, cache, data, evaluation, models, optimizer, parallel, training
from companion.display import Table
from companion.papers.saturating_networks import geometry, kurtosis, saturation

ARCHITECTURES = ("sigmoid_mlp", "relu_mlp", "cnn")
MODES = ("vanilla", "adversarial", "saturated")
# Section 4: lambda grows from 0 to lam_max in steps of lam_step.
ADVERSARIAL = {"eps": 0.25, "alpha": 0.5}
FGSM_EPS = 0.25
VALIDATION_SIZE = 5000  # the last training images; never trained on, used to choose settings


@dataclass(frozen=True)
class Recipe:
    """Everything that determines one trained network."""

    architecture: str
    mode: str
    width: int = 1000
    epochs: int = 10
    train_size: int = 55000
    batch_size: int = 128
    learning_rate: float = 1e-3
    lam_max: float = 0.0
    lam_step: float = 0.0
    reduction: str = "sum"
    readout_penalty: bool = True
    seed: int = 0

    def __post_init__(self):
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {self.architecture!r}; choose one of {ARCHITECTURES}")
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; choose one of {MODES}")
        if not 1 <= self.train_size <= 60000 - VALIDATION_SIZE:
            raise ValueError(f"train_size must lie in [1, {60000 - VALIDATION_SIZE}], got {self.train_size}")
        if self.reduction not in saturation.REDUCTIONS:
            raise ValueError(f"reduction must be one of {saturation.REDUCTIONS}, not {self.reduction!r}")

    @property
    def label(self) -> str:
        if self.mode != "saturated":
            return self.mode
        extras = "" if self.readout_penalty else ", readout unpenalized"
        return f"saturated ({self.reduction}, step {self.lam_step:g} to {self.lam_max:g}, width {self.width}{extras})"

    @property
    def kinds(self) -> tuple:
        """The complementary function of each layer's penalty, readout last."""
        kinds = models.SATURATION_KINDS[self.architecture]
        return kinds if self.readout_penalty else kinds[:-1] + ("none",)


def mnist_splits(dataset: data.Dataset, train_size: int):
    """``(x_train, y_train, x_val, y_val, x_test, y_test)``: pixels in [0, 1], ``(n, 28, 28, 1)``.

    Training images are the first ``train_size``; validation the last 5000 training images.
    """
    x = data.to_float(dataset.x_train)[..., None]
    xt = data.to_float(dataset.x_test)[..., None]
    return (
        x[:train_size],
        dataset.y_train[:train_size],
        x[-VALIDATION_SIZE:],
        dataset.y_train[-VALIDATION_SIZE:],
        xt,
        dataset.y_test,
    )


def _parts(dataset: data.Dataset, recipe: Recipe) -> dict:
    """Everything that determines the network of ``recipe``: its cache key."""
    return {
        "experiment": "saturating",
        "data": dataset.sha256,
        **asdict(recipe),
        "adversarial": ADVERSARIAL,
        "kinds": recipe.kinds,
        "code": cache.code_fingerprint(
            models.mlp,
            models.cnn,
            models.build,
            models.preactivation_names,
            models.preactivation_model,
            saturation.complementary,
            saturation.penalty,
            saturation.annealed_lambda,
            saturation.SaturationPenalty,
            training.fit_adam,
            training.FgsmInterpolation,
            training.run_epochs,
            optimizer.Adam,
            train,
        ),
    }


def train(dataset: data.Dataset, recipe: Recipe):
    """Train (or load from the cache) the network of ``recipe``: ``(model, history)``."""
    parts = _parts(dataset, recipe)

    def fit():
        import keras

        x, y, x_val, y_val, _, _ = mnist_splits(dataset, recipe.train_size)
        keras.utils.set_random_seed(recipe.seed)
        model = models.build(recipe.architecture, recipe.width)
        penalty = adversarial = None
        if recipe.mode == "adversarial":
            adversarial = training.FgsmInterpolation(**ADVERSARIAL)
        if recipe.mode == "saturated":
            penalty = saturation.SaturationPenalty(recipe.kinds, recipe.lam_max, recipe.lam_step, recipe.reduction)
        history = training.fit_adam(
            model,
            x,
            y,
            recipe.epochs,
            recipe.batch_size,
            recipe.learning_rate,
            penalty=penalty,
            adversarial=adversarial,
            seed=recipe.seed,
            x_test=x_val,
            y_test=y_val,
        )
        return model, history

    return cache.cached_model("saturating", parts, fit)


def evaluate(model, x, y, eps: float = FGSM_EPS) -> dict:
    """Clean and FGSM accuracy, the share of inputs whose float32 input gradient of the
    cross-entropy is exactly zero, and the median logit margin (top minus runner-up logit)."""
    grads = evaluation.input_gradients(model, x, y, batch_size=1000)
    x_adv = np.clip(x + eps * np.sign(grads), 0.0, 1.0)
    logits = evaluation.predict_logits(model, x)
    top_two = np.sort(logits, axis=1)[:, -2:]
    return {
        "clean": evaluation.logits_accuracy(logits, y),
        "fgsm": evaluation.accuracy(model, x_adv, y),
        "zero_gradient": evaluation.zero_gradient_share(grads),
        "logit_margin": float(np.median(top_two[:, 1] - top_two[:, 0])),
    }


# The readout saturated on purpose: logits times 100 put a margin of 1.04 past the float32
# limit (about 104) where the cross-entropy's gradient vanishes on every CPU.
READOUT_SCALE = 100.0


def readout_saturated(model, scale: float = READOUT_SCALE):
    """A copy of ``model`` whose readout (the ``logits`` layer's kernel and bias) is multiplied
    by ``scale``: the same decisions and the same logit-margin gradient direction, a softmax
    saturated ``scale`` times further. Not a network of the paper: one that has the critique's
    premise by construction. ``model`` is left unchanged."""
    import keras

    if not scale > 0:
        raise ValueError(f"scale must be > 0, not {scale}")
    copy = keras.models.clone_model(model)
    copy.name = f"{model.name}_readout_x{scale:g}"
    copy.set_weights(model.get_weights())
    readout = copy.get_layer("logits")
    readout.kernel.assign(readout.kernel * scale)
    readout.bias.assign(readout.bias * scale)
    return copy


def choose(candidates: list[dict], vanilla_clean: float, max_drop: float = 0.03) -> int:
    """The rule fixed before any run: among candidates whose validation accuracy is at most
    ``max_drop`` below the vanilla network's, the one with the highest validation FGSM accuracy
    (the first on ties); if none qualifies, the most accurate. ``candidates``: dicts with
    ``clean`` and ``fgsm``. Returns an index."""
    ok = [i for i, c in enumerate(candidates) if c["clean"] >= vanilla_clean - max_drop]
    if not ok:
        return int(np.argmax([c["clean"] for c in candidates]))
    return max(ok, key=lambda i: (candidates[i]["fgsm"], -i))


def weights(model) -> list[np.ndarray]:
    """The kernels of the pre-activation layers, input to readout."""
    return [model.get_layer(n).kernel.numpy() for n in models.preactivation_names(model)]


def weight_kurtosis(nets: dict, architectures, modes=("vanilla", "saturated")) -> dict:
    """Figure 1's numbers: ``{(arch, mode): [excess kurtosis of each layer's kernel, input to
    readout]}`` for ``nets[(arch, mode)]``, architectures outer, modes inner."""
    return {
        (arch, mode): [kurtosis.excess_kurtosis(w) for w in weights(nets[arch, mode])]
        for arch in architectures
        for mode in modes
    }


def activities(model, x, kinds) -> list[np.ndarray]:
    """Per layer: pre-activations ``h^l`` and activities ``phi(h^l)`` for ``x``: two lists."""
    probe = models.preactivation_model(model)
    pre = [np.asarray(h) for h in probe(x.astype(np.float32), training=False)]
    phi = {"sigmoid": lambda h: 1 / (1 + np.exp(-h)), "relu": lambda h: np.maximum(h, 0), "linear": lambda h: h}
    return pre, [phi[k](h) for h, k in zip(pre, kinds)]


def class_sample(y, per_class: int, rng) -> np.ndarray:
    """Indices of ``per_class`` random examples of each class 0-9, grouped by class."""
    return np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)])


def block_means(d: np.ndarray, per_class: int) -> tuple[float, float]:
    """Mean within-class (diagonal blocks, off-diagonal entries) and between-class
    dissimilarity of an RDM ordered by class."""
    labels = np.repeat(np.arange(len(d) // per_class), per_class)
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    between = labels[:, None] != labels[None, :]
    return float(d[same].mean()), float(d[between].mean())


def rdm_comparison(nets: dict, x, architectures, *, per_class: int) -> tuple[dict, list, tuple]:
    """Figures 3 and 7: the dissimilarity (9) between the activities of every pair of images
    ``x`` ``(10 * per_class, 28, 28, 1)`` (ordered by class), per hidden layer of the vanilla and
    the saturated network of each architecture.

    Returns ``rdms`` ``{"<arch> <mode>": [(n, n) per hidden layer]}``; ``rows``, one per hidden
    layer, ``(arch, layer, (within, between) vanilla, (within, between) saturated)`` from
    :func:`block_means`, layers counted from 1; and ``between`` = ``(saturated, vanilla)``, the
    between-class means of every row, in row order.
    """
    rdms, rows = {}, []
    for arch in architectures:
        for mode in ("vanilla", "saturated"):
            acts = activities(nets[arch, mode], x, models.SATURATION_KINDS[arch])[1]
            rdms[f"{arch} {mode}"] = [geometry.rdm(a) for a in acts[:-1]]  # hidden layers
        for layer, (dv, ds) in enumerate(zip(rdms[f"{arch} vanilla"], rdms[f"{arch} saturated"]), start=1):
            vanilla, saturated = (block_means(d, per_class) for d in (dv, ds))
            rows.append((arch, layer, vanilla, saturated))
    between = ([row[3][1] for row in rows], [row[2][1] for row in rows])
    return rdms, rows, between


def confident_images(model, x, y) -> dict:
    """Per class, the index of the most and of the least confident correctly classified image
    (of any image of the class when the network gets none right)."""
    from scipy.special import softmax

    p = softmax(evaluation.predict_logits(model, x).astype(np.float64), axis=1)
    out = {}
    for c in range(10):
        idx = np.flatnonzero((y == c) & (np.argmax(p, 1) == c))
        if idx.size == 0:
            idx = np.flatnonzero(y == c)
        out[c] = (int(idx[np.argmax(p[idx, c])]), int(idx[np.argmin(p[idx, c])]))
    return out


def path_geometry(model, x_source, x_target, steps: int) -> dict:
    """Along the linear path from ``x_source`` to ``x_target``: the length element, the softmax
    outputs and the Jacobian's singular values, each ``(steps - 1, ...)``."""
    from scipy.special import softmax

    path = geometry.linear_path(x_source, x_target, steps)
    logits = evaluation.predict_logits(model, path[:-1].astype(np.float32)).astype(np.float64)
    return {
        "t": np.linspace(0, 1, steps)[:-1],
        "dl": geometry.length_elements(model, path),
        "p": softmax(logits, axis=1),
        "sv": geometry.jacobian_singular_values(model, path[:-1]),
    }


def sensitive_directions(sv: np.ndarray, dl: np.ndarray, fraction: float = 0.1) -> int:
    """At the step of the path where the length element peaks: how many singular values exceed
    ``fraction`` of the largest."""
    s = sv[int(np.argmax(dl))]
    return int(np.sum(s > fraction * s[0]))


def transition_geometry(model, x, y, pairs, *, steps: int) -> tuple[dict, list]:
    """Figure 4 for one network: for each ``(source, target)`` class pair, :func:`path_geometry`
    (``steps`` points) from the most confident correctly classified image of the source class
    to that of the target class, among ``x`` ``(n, 28, 28, 1)`` with labels ``y`` ``(n,)``.

    Returns ``({pair: path_geometry dict}, [sensitive_directions count per pair])``.
    """
    conf = confident_images(model, x, y)
    geo = {p: path_geometry(model, x[conf[p[0]][0]], x[conf[p[1]][0]], steps) for p in pairs}
    return geo, [sensitive_directions(g["sv"], g["dl"]) for g in geo.values()]


def pairwise_attacks(model, x, y, classes, *, adam_steps: int, lbfgs_iterations: int) -> dict:
    """Section 7: for every source class ``s`` and target ``t != s`` of ``classes``, targeted Adam
    (``adam_steps``) and then L-BFGS (``lbfgs_iterations``) from the least confident, then from
    the most confident correctly classified image of ``s`` among ``x`` ``(n, 28, 28, 1)``, ``y``
    ``(n,)`` (:func:`confident_images`).

    Returns ``{"least" | "most": {"pairs": [(s, t), ...], "adam": Adversarial, "lbfgs":
    Adversarial}}``, the two :class:`companion.attacks.Adversarial` ``(m, ...)`` for the ``m`` pairs.
    """
    conf = confident_images(model, x, y)
    out = {}
    for start, which in (("least", 1), ("most", 0)):
        src = [(s, t) for s in classes for t in classes if s != t]
        x0 = x[[conf[s][which] for s, _ in src]]
        target = np.array([t for _, t in src])
        adam = attacks.targeted_adam(model, x0, target, steps=adam_steps)
        lbfgs = attacks.targeted_lbfgs(model, x0, target, max_iterations=lbfgs_iterations)
        out[start] = {"pairs": src, "adam": adam, "lbfgs": lbfgs}
    return out


class AttackSummary(NamedTuple):
    """What the section 7 claims read from the attacks: the L-BFGS success rate on the vanilla
    network from its worse start, the rate on the saturated network from the least confident start,
    the saturated network's ``(m,)`` L-BFGS successes from the most confident start, and
    ``vanilla[attack]`` = ``(success, steps)``, both ``(2m,)``, of ``"Adam"`` and ``"L-BFGS"`` on
    the vanilla network, least confident start first."""

    vanilla_worst: float
    saturated_least: float
    saturated_most: np.ndarray
    vanilla: dict


def attack_summary(runs: dict) -> AttackSummary:
    """:class:`AttackSummary` of ``runs[(mode, start)]``, the values of :func:`pairwise_attacks`
    for the vanilla and saturated modes and the starts ``"least"`` and ``"most"``."""
    rate = {key: run["lbfgs"].success.mean() for key, run in runs.items()}
    vanilla = {}
    for attack, key in (("Adam", "adam"), ("L-BFGS", "lbfgs")):
        both = [runs["vanilla", start][key] for start in ("least", "most")]
        vanilla[attack] = (np.concatenate([a.success for a in both]), np.concatenate([a.steps for a in both]))
    return AttackSummary(
        min(rate["vanilla", "least"], rate["vanilla", "most"]),
        rate["saturated", "least"],
        runs["saturated", "most"]["lbfgs"].success,
        vanilla,
    )


def kurtosis_gain(gammas, dim: int, vectors: int, rng) -> dict:
    """Figure 6: mean scaled ratio (14) for Pearson VII weights at each excess kurtosis, and the
    Gaussian baseline."""

    def mean_ratio(sampler):
        w = kurtosis.unit_vectors(sampler, 2 * vectors, dim, rng)
        return float(np.mean(kurtosis.scaled_ratio(w[:vectors], w[vectors:])))

    gauss = mean_ratio(lambda size, r: r.standard_normal(size))
    ratios = [mean_ratio(lambda size, r, g=g: kurtosis.sample_pearson7(g, size, r)) for g in gammas]
    return {"gammas": np.asarray(gammas, float), "ratios": np.array(ratios), "gaussian": gauss}


def learned_weight_ratio(layer_weights, dim: int, vectors: int, rng) -> float:
    """Mean scaled ratio (14) for unit vectors drawn, by inverse transform sampling, from the
    distribution of ``layer_weights``."""
    w = kurtosis.unit_vectors(kurtosis.empirical_sampler(layer_weights), 2 * vectors, dim, rng)
    return float(np.mean(kurtosis.scaled_ratio(w[:vectors], w[vectors:])))


def pearson_gain(gain: dict) -> float:
    """The gain, in percent, of the largest mean scaled ratio of Pearson VII weights over the
    Gaussian baseline, from :func:`kurtosis_gain`'s ``{"ratios": (k,), "gaussian": float}``."""
    return 100 * (gain["ratios"].max() / gain["gaussian"] - 1)


def learned_weight_gains(nets: dict, architectures, *, dim: int, vectors: int, rng) -> tuple[dict, list]:
    """Figure 6 for learned weights: for each layer of each architecture, :func:`learned_weight_ratio`
    of the vanilla and then of the saturated network's kernel (``vectors`` unit vectors of
    dimension ``dim`` each, drawn from ``rng`` in that order).

    Returns ``learned`` ``{"<arch> L<layer> saturated": (excess kurtosis, ratio)}`` (the points of
    ``figures.kurtosis_ratio``) and one row per layer, ``(arch, layer, ratio vanilla, ratio
    saturated, gain of saturated over vanilla in percent)``, layers counted from 1.
    """
    learned, rows = {}, []
    for arch in architectures:
        kernels = zip(weights(nets[arch, "vanilla"]), weights(nets[arch, "saturated"]))
        for layer, (wv, ws) in enumerate(kernels, start=1):
            rv, rs = (learned_weight_ratio(w, dim, vectors, rng) for w in (wv, ws))
            rows.append((arch, layer, rv, rs, 100 * (rs / rv - 1)))
            learned[f"{arch} L{layer} saturated"] = (kurtosis.excess_kurtosis(ws), rs)
    return learned, rows


# Table 1 of the paper: (clean, FGSM) test accuracy in percent.
PAPER_TABLE1 = {
    "sigmoid_mlp": {"vanilla": (97.6, 0.0), "adversarial": (92.27, 81.71), "saturated": (97.01, 94.43)},
    "relu_mlp": {"vanilla": (98.1, 0.41), "adversarial": (92.29, 91.04), "saturated": (95.24, 94.59)},
    "cnn": {"vanilla": (99.35, 5.62), "adversarial": (99.32, 83.83), "saturated": (99.33, 98.45)},
}


SEARCH_FIELDS = ("reduction", "lam_step", "lam_max", "width", "readout_penalty")


def candidate(entry: tuple) -> dict:
    """A search entry ``(reduction, lam_step, lam_max[, width[, readout_penalty]])`` as Recipe
    fields; the width defaults to the profile's."""
    if not 3 <= len(entry) <= len(SEARCH_FIELDS):
        raise ValueError(f"a search entry is (reduction, lam_step, lam_max[, width[, readout_penalty]]), got {entry!r}")
    return dict(zip(SEARCH_FIELDS, entry))


def recipes(settings) -> dict:
    """Per architecture: the vanilla and adversarial recipes and the saturated candidates."""
    out = {}
    for arch in ARCHITECTURES:
        cnn = arch == "cnn"
        common = dict(
            width=settings.width,
            seed=settings.seed,
            epochs=settings.cnn_epochs if cnn else settings.epochs,
            train_size=settings.cnn_train_size if cnn else settings.train_size,
        )
        out[arch] = {
            "vanilla": Recipe(arch, "vanilla", **common),
            "adversarial": Recipe(arch, "adversarial", **common),
            "candidates": [
                Recipe(arch, "saturated", **{**common, **candidate(entry)}) for entry in settings.search[arch]
            ],
        }
    return out


def _validation_parts(dataset, recipe: Recipe) -> dict:
    return {**_parts(dataset, recipe), "validation": cache.code_fingerprint(evaluate, mnist_splits)}


def _validated_in_cache(dataset, recipe: Recipe) -> bool:
    return cache.contains("saturating", _parts(dataset, recipe)) and cache.contains(
        "saturating_validation", _validation_parts(dataset, recipe)
    )


def validated(dataset, recipe: Recipe) -> dict:
    """:func:`evaluate` of the network of ``recipe`` on the validation images, cached beside the
    network, so that a chapter that only needs the search's choice loads no other network."""
    parts = _validation_parts(dataset, recipe)

    def compute():
        _, _, x_val, y_val, _, _ = mnist_splits(dataset, 1)
        return {k: np.asarray(v) for k, v in evaluate(train(dataset, recipe)[0], x_val, y_val).items()}

    return {k: float(v) for k, v in cache.cached_arrays("saturating_validation", parts, compute).items()}


@functools.cache
def _forward_flops(architecture: str, width: int) -> float:
    return models.forward_flops(models.build(architecture, width))


def training_flops(recipe: Recipe) -> float:
    """About how many FLOPs training ``recipe``'s network takes: its forward pass
    (:func:`companion.models.forward_flops`) times 3 (with the backward pass) for every image of
    every epoch, twice over for adversarial training (the FGSM examples' pass)."""
    passes = 2 if recipe.mode == "adversarial" else 1
    return 3 * passes * recipe.epochs * recipe.train_size * _forward_flops(recipe.architecture, recipe.width)


def train_nine(dataset, settings) -> dict:
    """The nine networks of Table 1 under one profile's ``settings``, with the search.

    For each architecture: the vanilla and adversarial networks and every saturated candidate
    are trained and evaluated on the validation images (both cached, :func:`validated`; those the
    cache lacks first side by side, the longest first (:func:`training_flops`),
    :func:`companion.parallel.fill_cache`); the
    saturated network is chosen by :func:`choose`, and only the chosen networks are loaded.
    Returns ``{"nets": {(arch, mode): model}, "histories": {...}, "search": {arch: [(label, metrics, chosen), ...]}}``.
    """
    nets, histories, search = {}, {}, {}
    every = [r for g in recipes(settings).values() for r in (g["vanilla"], g["adversarial"], *g["candidates"])]
    missing = sorted((r for r in every if not _validated_in_cache(dataset, r)), key=training_flops, reverse=True)
    parallel.fill_cache([functools.partial(validated, dataset, r) for r in missing])
    for arch, group in recipes(settings).items():
        rows = []
        for mode in ("vanilla", "adversarial"):
            nets[arch, mode], histories[arch, mode] = train(dataset, group[mode])
            rows.append((mode, validated(dataset, group[mode]), False))
        metrics = [validated(dataset, r) for r in group["candidates"]]
        pick = choose(metrics, rows[0][1]["clean"])
        nets[arch, "saturated"], histories[arch, "saturated"] = train(dataset, group["candidates"][pick])
        rows += [(r.label, m, i == pick) for i, (r, m) in enumerate(zip(group["candidates"], metrics))]
        search[arch] = rows
    return {"nets": nets, "histories": histories, "search": search}


# The chapter's results tables: each :class:`companion.display.Table` holds the fixed-width text
# the chapter prints (its text form) and the same cells for the book's HTML table.


def _row(parts) -> tuple:
    """The cells of a row from its fixed-width pieces: the pieces without their padding."""
    return tuple(str(part).strip() for part in parts)


def search_table(search: dict) -> Table:
    """Every candidate of the search on the validation images, as :func:`train_nine` returns it in
    ``search`` ``{arch: [(label, metrics, chosen), ...]}`` (``metrics`` from :func:`evaluate`):
    one group per architecture, a row naming the architecture, then one row per candidate."""
    lines, rows = [], []
    for arch, candidates in search.items():
        lines.append(f"{arch}: validation accuracy clean / FGSM / share of zero input gradients / median logit margin")
        rows.append((arch, "", "", "", ""))
        for label, m, picked in candidates:
            label += " <- chosen" if picked else ""
            clean, fgsm = f"{100 * m['clean']:6.2f}%", f"{100 * m['fgsm']:6.2f}%"
            zero, margin = f"{m['zero_gradient']:.3f}", f"{m['logit_margin']:7.1f}"
            lines.append(f"  {label:48s} {clean}  {fgsm}  {zero}  {margin}")
            rows.append(_row((label, clean, fgsm, zero, margin)))
    header = (
        "candidate",
        "validation clean",
        "validation FGSM",
        "share of zero input gradients",
        "median logit margin",
    )
    return Table(text="\n".join(lines), header=header, rows=tuple(rows), header_lines=0)


def table1_table(results: dict, paper: dict = PAPER_TABLE1) -> Table:
    """Table 1 beside ours: per network ``results[(arch, mode)]`` (:func:`evaluate` on the test
    images), the paper's clean and FGSM accuracy (``paper[arch][mode]``, in percent) and ours,
    the share of zero input gradients and the median logit margin."""
    lines = [
        f"{'':12s} {'':12s} {'paper clean':>11s} {'ours':>7s} {'paper FGSM':>11s} {'ours':>7s} "
        f"{'zero grad':>9s} {'margin':>7s}"
    ]
    rows = []
    for (arch, mode), m in results.items():
        paper_clean, paper_fgsm = paper[arch][mode]
        parts = (
            f"{arch:12s}",
            f"{mode:12s}",
            f"{paper_clean:10.2f}%",
            f"{100 * m['clean']:6.2f}%",
            f"{paper_fgsm:10.2f}%",
            f"{100 * m['fgsm']:6.2f}%",
            f"{m['zero_gradient']:9.3f}",
            f"{m['logit_margin']:7.1f}",
        )
        lines.append(" ".join(parts))
        rows.append(_row(parts))
    header = ("network", "training", "paper clean", "ours clean", "paper FGSM", "ours FGSM", "zero grad", "margin")
    return Table(text="\n".join(lines), header=header, rows=tuple(rows))


def layer_saturation_table(limits: dict, layer_sat: dict) -> Table:
    """Where float32 backpropagation through a sigmoid stops (``limits``, from
    ``saturation.sigmoid_thresholds``), as the title; then per network ``layer_sat[(arch,
    mode)]`` (``saturation.layer_saturation``, each ``(n, layers)``) the medians over the images of
    the first two layers' shares of units with a derivative exactly 0 and below 1e-30, and of
    their median ``|h|``."""
    title = (
        f"float32 sigmoid: derivative exactly 0 from h = {limits['on']:.1f}; below 1e-30 under "
        f"h = {limits['off_tiny']:.1f}; exactly 0 under h = {limits['off_zero']:.1f}"
    )
    lines = [
        f"{'':25s} median over test images, layers h1 / h2: share of units with derivative = 0, < 1e-30; median |h|"
    ]
    rows = []
    for (arch, mode), s in layer_sat.items():
        med = {key: np.median(v[:, :2], axis=0) for key, v in s.items()}
        zero = [f"{v:.3f}" for v in med["zero"]]
        tiny = [f"{v:.3f}" for v in med["tiny"]]
        abs_h = [f"{v:5.1f}" for v in med["median_abs_h"]]
        lines.append(
            f"{arch:12s} {mode:12s} = 0: {zero[0]} / {zero[1]}   < 1e-30: {tiny[0]} / {tiny[1]}   "
            f"|h|: {abs_h[0]} / {abs_h[1]}"
        )
        rows.append(_row((arch, mode, *zero, *tiny, *abs_h)))
    header = (
        "network",
        "training",
        "h1: derivative = 0",
        "h2: derivative = 0",
        "h1: derivative < 1e-30",
        "h2: derivative < 1e-30",
        "h1: median |h|",
        "h2: median |h|",
    )
    return Table(text="\n".join(lines), header=header, rows=tuple(rows), title=title)


def readout_table(results) -> Table:
    """The saturated sigmoid MLP beside its readout-saturated copy: per ``(name, metrics,
    clipped_zero)`` of ``results``, the test accuracy clean and under FGSM and the median logit
    margin (``metrics`` from :func:`evaluate`), and the share of zero input gradients of the
    cross-entropy from the logits and from clipped probabilities (``clipped_zero``)."""
    lines, rows = [], []
    for name, m, clipped_zero in results:
        parts = (
            f"{100 * m['clean']:.2f}%",
            f"{100 * m['fgsm']:.2f}%",
            f"{m['logit_margin']:.1f}",
            f"{m['zero_gradient']:.3f}",
            f"{clipped_zero:.3f}",
        )
        lines.append(
            f"sigmoid MLP, {name:24s}: clean {parts[0]}, FGSM {parts[1]}, median margin {parts[2]}; "
            f"zero gradient: {parts[3]} (logits), {parts[4]} (clipped)"
        )
        rows.append(_row((name, *parts)))
    header = ("sigmoid MLP", "clean", "FGSM", "median margin", "zero gradient (logits)", "zero gradient (clipped)")
    return Table(text="\n".join(lines), header=header, rows=tuple(rows), header_lines=0)


def kurtosis_table(kurt: dict) -> Table:
    """Figure 1's numbers, :func:`weight_kurtosis`'s ``{(arch, mode): [excess kurtosis per
    layer]}`` (every network with as many layers), to one decimal."""
    lines, rows = [], []
    for (arch, mode), values in kurt.items():
        rounded = np.round(values, 1).tolist()
        lines.append(f"{arch:12s} {mode:10s} excess kurtosis per layer: {rounded}")
        rows.append(_row((arch, mode, *rounded)))
    layers = len(next(iter(kurt.values())))
    header = ("network", "training", *(f"excess kurtosis, layer {k}" for k in range(1, layers + 1)))
    return Table(text="\n".join(lines), header=header, rows=tuple(rows), header_lines=0)


def rdm_table(rows) -> Table:
    """The within- and between-class dissimilarity per hidden layer, from the ``rows`` of
    :func:`rdm_comparison`: ``(arch, layer, (within, between) vanilla, (within, between) saturated)``."""
    lines, cells = [], []
    for arch, layer, (wv, bv), (ws, bs) in rows:
        parts = (f"{wv:.3f}", f"{bv:.3f}", f"{ws:.3f}", f"{bs:.3f}")
        lines.append(
            f"{arch} layer {layer}: within / between class, vanilla {parts[0]} / {parts[1]}, "
            f"saturated {parts[2]} / {parts[3]}"
        )
        cells.append(_row((arch, layer, *parts)))
    header = ("network", "layer", "vanilla within", "vanilla between", "saturated within", "saturated between")
    return Table(text="\n".join(lines), header=header, rows=tuple(cells), header_lines=0)


def directions_table(counts: dict, pairs) -> Table:
    """Per sigmoid MLP ``counts[mode]``, :func:`transition_geometry`'s counts of singular values
    above 10% of the largest at the peak of the length element, one per class pair of ``pairs``."""
    lines, rows = [], []
    for mode, values in counts.items():
        lines.append(f"sigmoid MLP {mode:9s}: singular values above 10% of the largest at the peak of dl: {values}")
        rows.append(_row((mode, *values)))
    header = (
        "sigmoid MLP: singular values above 10% of the largest at the peak of dl",
        *(f"{source} → {target}" for source, target in pairs),
    )
    return Table(text="\n".join(lines), header=header, rows=tuple(rows), header_lines=0)


def attack_table(runs: dict) -> Table:
    """Section 7's success rates: per sigmoid MLP and start ``runs[(mode, start)]`` (the values of
    :func:`pairwise_attacks`), the share of pairs Adam and L-BFGS fooled, and the number of pairs."""
    lines, rows = [], []
    for (mode, start), run in runs.items():
        adam, lbfgs = f"{100 * run['adam'].success.mean():5.1f}%", f"{100 * run['lbfgs'].success.mean():5.1f}%"
        lines.append(
            f"sigmoid MLP {mode:9s} from the {start:5s} confident source: success Adam "
            f"{adam}, L-BFGS {lbfgs} of {len(run['pairs'])} pairs"
        )
        rows.append(_row((mode, start, adam, lbfgs, len(run["pairs"]))))
    header = ("sigmoid MLP", "most or least confident source", "Adam success", "L-BFGS success", "pairs")
    return Table(text="\n".join(lines), header=header, rows=tuple(rows), header_lines=0)


def learned_gain_table(gain: dict, layer_rows) -> Table:
    """Figure 6's numbers: :func:`kurtosis_gain`'s Gaussian baseline and Pearson VII ratios as the
    title, then per layer of :func:`learned_weight_gains`'s rows ``(arch, layer, ratio vanilla,
    ratio saturated, gain in percent)`` the scaled ratios and the gain."""
    title = f"Gaussian baseline {gain['gaussian']:.3f}; Pearson VII: " + ", ".join(
        f"γ2={g:g}: {r:.3f}" for g, r in zip(gain["gammas"], gain["ratios"])
    )
    lines, rows = [], []
    for arch, layer, rv, rs, layer_gain in layer_rows:
        parts = (f"{rv:.3f}", f"{rs:.3f}", f"{layer_gain:+.0f}%")
        lines.append(f"{arch} layer {layer}: scaled ratio vanilla {parts[0]}, saturated {parts[1]} ({parts[2]})")
        rows.append(_row((arch, layer, *parts)))
    header = ("network", "layer", "scaled ratio, vanilla", "scaled ratio, saturated", "gain of saturated")
    return Table(text="\n".join(lines), header=header, rows=tuple(rows), title=title, header_lines=0)
