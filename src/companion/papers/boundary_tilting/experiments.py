"""The boundary-tilting experiments of Tanay & Griffin (2016).

The toy problem in a 2-D image space, the SVM sweeps over the regularisation parameter on MNIST
digit pairs, and the two LeNets with low and high weight decay. Results that take minutes are
cached (see :mod:`companion.cache`).
"""

from __future__ import annotations

import functools

import numpy as np

from companion import attacks, cache, data, evaluation, models, parallel, training
from companion.display import Table
from companion.papers.boundary_tilting import linear_models, theory

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
    computed = np.array([np.linalg.norm(x - theory.mirror_image(x, *toy_boundary(t))) for t in thetas])
    return computed, 2.0 * abs(x[0, 0]) * np.abs(np.cos(thetas))


def toy_training_set(per_class: int = 8, noisy_point=(-1.0, 0.3)):
    """Points on the manifold ``b = 0`` (class I at ``a`` in [-2, -0.5], J at [0.5, 2]) and one
    noisy class-J point ``p`` off the manifold, last. Returns ``x`` ``(2 per_class + 1, 2)``, ``y``."""
    a = np.linspace(0.5, 2.0, per_class)
    x = np.concatenate([np.c_[-a, 0 * a], np.c_[a, 0 * a], [noisy_point]])
    y = np.r_[-np.ones(per_class), np.ones(per_class + 1)]
    return x, y


TOY_LAMBDAS = (1e-4, 1.0)  # a weak and a strong regularization
TOY_MODELS = {"SVM": linear_models.fit_svm, "logistic": linear_models.fit_logistic}


def toy_fits(x, y, *, lams=TOY_LAMBDAS, classifiers=None) -> list[dict]:
    """Each of ``classifiers`` (``{name: fit}``, default :data:`TOY_MODELS`) fitted at each ``lam``.

    ``x``: ``(n, 2)`` toy points with the noisy point ``p`` last; ``y``: ``(n,)`` in {-1, +1}. One dict
    per fit, ``lams`` outermost: ``model``, ``lam``, ``w`` ``(2,)``, ``b``, ``angle`` (tilting angle,
    degrees), ``p_class`` (``"J"`` or ``"I"``: the side ``p`` lies on) and ``train_error``.
    """
    x_i, x_j = x[y < 0], x[y > 0]
    fits = []
    for lam in lams:
        for name, fit in (classifiers or TOY_MODELS).items():
            w, b = fit(x, y, lam)
            angle = np.degrees(theory.tilting_angle(w, x_i, x_j))
            p_class = "J" if x[-1] @ w + b > 0 else "I"
            fits.append(
                dict(
                    model=name,
                    lam=lam,
                    w=w,
                    b=b,
                    angle=angle,
                    p_class=p_class,
                    train_error=theory.error_rate(w, b, x, y),
                )
            )
    return fits


# --- SVMs on MNIST -----------------------------------------------------------------------------


def lambda_grid(step: float) -> np.ndarray:
    """``lambda = 10^a`` for ``a`` from -1 to 7 in steps of ``step`` (the paper: 0.1, 81 values)."""
    if not 0 < step <= 8:
        raise ValueError(f"the step in log10(lambda) must lie in (0, 8], got {step}")
    exps = np.round(np.arange(LAMBDA_RANGE[0], LAMBDA_RANGE[1] + step / 2, step), 6)
    return 10.0**exps


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


def _svm_sweep_parts(dataset: data.Dataset, pair, per_class: int, lams) -> dict:
    return {
        "experiment": "svm_sweep",
        "data": dataset.sha256,
        "pair": list(pair),
        "per_class": per_class,
        "log10_lams": np.round(np.log10(np.asarray(lams, np.float64)), 6).tolist(),
        "code": cache.code_fingerprint(theory, linear_models, svm_sweep, pair_data),
    }


def svm_sweeps(dataset: data.Dataset, pairs, per_class: int, lams) -> dict:
    """:func:`svm_sweep` for each pair of ``pairs``: ``{pair: sweep}``. The pairs the cache lacks
    are computed side by side in child processes first (:func:`companion.parallel.fill_cache`;
    libsvm uses one core and holds Python's lock, so threads would not help)."""
    pairs = [tuple(p) for p in pairs]
    missing = [p for p in pairs if not cache.contains("svm_sweep", _svm_sweep_parts(dataset, p, per_class, lams))]
    parallel.fill_cache([functools.partial(svm_sweep, dataset, p, per_class, lams) for p in missing])
    return {p: svm_sweep(dataset, p, per_class, lams) for p in pairs}


def svm_sweep(dataset: data.Dataset, pair, per_class: int, lams) -> dict:
    """Linear SVMs on one digit pair for each ``lam``; cached.

    Returns arrays over ``lam`` (length ``k``): ``lams``, ``W`` ``(k, 784)``, ``B``,
    ``train_error``, ``test_error``, ``d_adv`` and ``d_err`` (training set, pixels),
    ``angle`` (tilting angle, radians), ``w_norm``; and ``centroid_distance`` ``||j - i||``.
    """
    lams = np.asarray(lams, np.float64)
    parts = _svm_sweep_parts(dataset, pair, per_class, lams)

    def compute():
        x, y, xt, yt = pair_data(dataset, pair, per_class)
        W, B = linear_models.svm_path(x, y, lams)
        per_model = lambda f, *a: np.array([f(w, b, *a) for w, b in zip(W, B)])  # noqa: E731
        x_i, x_j = x[y < 0], x[y > 0]
        return {
            "lams": lams,
            "W": W,
            "B": B,
            "train_error": per_model(theory.error_rate, x, y),
            "test_error": per_model(theory.error_rate, xt, yt),
            "d_adv": per_model(theory.adversarial_distance, x, y),
            "d_err": per_model(theory.error_distance, x, y),
            "angle": np.array([theory.tilting_angle(w, x_i, x_j) for w in W]),
            "w_norm": np.linalg.norm(W, axis=1),
            "centroid_distance": np.array(theory.centroid_direction(x_i, x_j)[1]),
        }

    return cache.cached_arrays("svm_sweep", parts, compute)


def centroid_identity_gap(sweep: dict) -> float:
    """Largest ``|d_adv - ½ ||j - i|| cos θ|`` (pixels) over the ``k`` models of one :func:`svm_sweep`:
    zero up to rounding on a balanced pair."""
    return np.max(np.abs(sweep["d_adv"] - 0.5 * sweep["centroid_distance"] * np.cos(sweep["angle"])))


def svm_summary(sweep: dict, lams) -> dict:
    """What one :func:`svm_sweep` over ``lams`` ``(k,)`` shows: ``train_error`` and ``test_error`` in %
    ``(k,)``, ``best`` (index of the lowest test error), ``rho_train`` and ``rho_dadv`` (Spearman ρ of λ
    with the training error and with ``d_adv``), ``d_adv`` ``(k,)`` (pixels), ``angle`` ``(k,)`` (degrees)."""
    from scipy.stats import spearmanr

    return dict(
        train_error=100 * sweep["train_error"],
        test_error=100 * sweep["test_error"],
        best=int(np.argmin(sweep["test_error"])),
        rho_train=spearmanr(lams, sweep["train_error"])[0],
        rho_dadv=spearmanr(lams, sweep["d_adv"])[0],
        d_adv=sweep["d_adv"],
        angle=np.degrees(sweep["angle"]),
    )


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


def train_lenet(dataset: data.Dataset, weight_decay: float, epochs: int, train_size: int, test_size: int, seed: int):
    """LeNet trained as in the paper (SGD, batch 300, lr 0.0005, momentum 0.9); cached.

    Returns ``(model, history)`` with per-epoch ``train_error`` and ``test_error``.
    """
    parts = {
        "experiment": "lenet",
        "data": dataset.sha256,
        "weight_decay": weight_decay,
        "epochs": epochs,
        "train_size": train_size,
        "test_size": test_size,
        "seed": seed,
        **LENET_TRAINING,
        "code": cache.code_fingerprint(models.lenet, training.fit_sgd, train_lenet),
    }

    def train():
        import keras

        x, y, xt, yt = mnist_images(dataset, train_size, test_size)
        keras.utils.set_random_seed(seed)
        model = models.lenet(weight_decay, x.mean(axis=0))
        return model, training.fit_sgd(model, x, y, xt, yt, epochs, **LENET_TRAINING)

    return cache.cached_model("lenet", parts, train)


def weight_rms(model) -> dict:
    """Root mean square of each convolution kernel: ``{layer name: rms}``."""
    return {
        layer.name: float(np.sqrt(np.mean(np.square(layer.kernel.numpy()))))
        for layer in model.layers
        if hasattr(layer, "kernel")
    }


def weight_rms_by_layer(models: dict) -> dict:
    """:func:`weight_rms` of each named model, by layer: ``{layer name: {model name: rms}}``."""
    rms = {name: weight_rms(model) for name, model in models.items()}
    first = next(iter(rms.values()))
    return {layer: {name: r[layer] for name, r in rms.items()} for layer in first}


def final_errors(histories: dict) -> dict:
    """Last-epoch errors in % of each named :func:`train_lenet` history: ``{name: (train %, test %)}``."""
    return {name: (100 * h["train_error"][-1], 100 * h["test_error"][-1]) for name, h in histories.items()}


# --- targeted adversarial examples of the LeNets -----------------------------------------------

ADVERSARIAL_CONFIDENCE = 0.95  # the median top probability set by the temperature, and the attack's goal


def cyclic_attack_set(x, y, rng, *, classes: int = 10):
    """One random image of each class ``c``, in class order, with the target ``c + 1 mod classes``.

    ``x``: ``(n, ...)`` images, ``y``: ``(n,)`` labels; one ``rng.choice`` per class. Returns
    ``originals`` ``(classes, ...)`` and ``targets`` ``(classes,)``.
    """
    chosen = np.array([rng.choice(np.flatnonzero(y == c)) for c in range(classes)])
    return x[chosen], (np.arange(classes) + 1) % classes


def targeted_adversarials(model, x_test, originals, targets, *, confidence: float = ADVERSARIAL_CONFIDENCE) -> dict:
    """The paper's targeted attack at a calibrated temperature.

    The softmax temperature makes the median top probability over ``x_test`` ``(m, 28, 28, 1)``
    equal ``confidence``; then :func:`attacks.targeted_gradient_ascent` moves ``originals``
    ``(n, 28, 28, 1)`` (pixels in [0, 255]) until ``p_target >= confidence``. Returns
    ``temperature``, ``x`` ``(n, 28, 28, 1)``, ``reached`` (how many got within 1e-6 of
    ``confidence``) and ``norms`` ``(n,)``, the L2 norms of the perturbations in pixels.
    """
    t = attacks.temperature_for_median_confidence(evaluation.predict_logits(model, x_test), median=confidence)
    found = attacks.targeted_gradient_ascent(model, originals, targets, temperature=t, p_stop=confidence)
    return dict(
        temperature=t,
        x=found.x,
        reached=int(np.sum(found.confidence >= confidence - 1e-6)),
        norms=np.linalg.norm((found.x - originals).reshape(len(originals), -1), axis=1),
    )


# --- the chapter's results tables --------------------------------------------------------------


def _table(lines, header, rows, **kw) -> Table:
    """A :class:`Table` of ``lines``, one per row and no header line (as the chapter prints them)."""
    return Table(text="\n".join(lines) + "\n", header=tuple(header), rows=tuple(map(tuple, rows)), header_lines=0, **kw)


def toy_fits_table(fits) -> Table:
    """The :func:`toy_fits`, one line each: model, λ, tilting angle, the side of ``p``, training error."""
    lines = [
        f"{f['model']:8s} λ = {f['lam']:<6g} tilting angle {f['angle']:5.1f}°, "
        f"p classified as {f['p_class']}, training error {f['train_error']:.3f}"
        for f in fits
    ]
    rows = [(f["model"], f"{f['lam']:g}", f"{f['angle']:.1f}°", f["p_class"], f"{f['train_error']:.3f}") for f in fits]
    return _table(lines, ("model", "λ", "tilting angle", "p classified as", "training error"), rows)


def limit_gap_table(gaps: dict) -> Table:
    """The :func:`losses.limit_gaps` ``{(loss, limit, norm): gap}``, one line each."""
    lines = [
        f"{name:8s} ||w|| = {norm:<7g} ({limit} limit): max gap / ||w|| = {gap:.1e}"
        for (name, limit, norm), gap in gaps.items()
    ]
    rows = [(name, f"{norm:g}", limit, f"{gap:.1e}") for (name, limit, norm), gap in gaps.items()]
    return _table(lines, ("loss", "||w||", "limit", "max gap / ||w||"), rows)


def svm_table(summaries: dict, lams, inside: dict) -> Table:
    """One line per digit pair ``(i, j)`` of its :func:`svm_summary` over ``lams`` (10^-1 to 10^7):
    errors at both ends and the lowest test error, whether it is ``inside`` (``{pair: bool}``),
    ``d_adv`` and the tilting angle at both ends."""
    lines, rows = [], []
    for (i, j), r in summaries.items():
        train, err, best = r["train_error"], r["test_error"], r["best"]
        where = "inside" if inside[i, j] else "at an end"
        lines.append(
            f"{i} vs {j}: train error {train[0]:.2f}% at λ = 10^-1, {train[-1]:.2f}% at 10^7 | "
            f"test error {err[0]:.2f}% at 10^-1, min {err[best]:.2f}% at 10^{np.log10(lams[best]):.2f}, "
            f"{err[-1]:.2f}% at 10^7 ({where}) | "
            f"d_adv {r['d_adv'][0]:.0f} -> {r['d_adv'][-1]:.0f} px | θ {r['angle'][0]:.0f}° -> {r['angle'][-1]:.0f}°"
        )
        rows.append(
            (f"{i} vs {j}", f"{train[0]:.2f}%", f"{train[-1]:.2f}%", f"{err[0]:.2f}%", f"{err[best]:.2f}%",
             f"10^{np.log10(lams[best]):.2f}", f"{err[-1]:.2f}%", where, f"{r['d_adv'][0]:.0f}",
             f"{r['d_adv'][-1]:.0f}", f"{r['angle'][0]:.0f}°", f"{r['angle'][-1]:.0f}°")
        )  # fmt: skip
    header = ("pair", "train error, λ = 10^-1", "train error, λ = 10^7", "test error, λ = 10^-1",
              "lowest test error", "at λ", "test error, λ = 10^7", "minimum", "d_adv (px), λ = 10^-1",
              "d_adv (px), λ = 10^7", "θ, λ = 10^-1", "θ, λ = 10^7")  # fmt: skip
    return _table(lines, header, rows)


def lenet_table(histories: dict, train_size: int) -> Table:
    """One line per named :func:`train_lenet` history: epochs, last train and test errors, their gap."""
    lines, rows = [], []
    for name, h in histories.items():
        epochs, train, test = len(h["test_error"]), 100 * h["train_error"][-1], 100 * h["test_error"][-1]
        gap = 100 * (h["test_error"][-1] - h["train_error"][-1])
        lines.append(
            f"{name:10s} after {epochs} epochs on {train_size} images: "
            f"train error {train:.2f}%, test error {test:.2f}%, gap {gap:+.2f} points"
        )
        rows.append((name, str(epochs), str(train_size), f"{train:.2f}%", f"{test:.2f}%", f"{gap:+.2f}"))
    return _table(lines, ("network", "epochs", "training images", "train error", "test error", "gap (points)"), rows)


def weight_rms_table(rms_by_layer: dict) -> Table:
    """:func:`weight_rms_by_layer` ``{layer: {model: rms}}``, one line per layer."""
    names = list(next(iter(rms_by_layer.values())))
    lines = [
        f"RMS of {layer}: " + ", ".join(f"{name} {rms[name]:.3f}" for name in names)
        for layer, rms in rms_by_layer.items()
    ]
    rows = [(layer, *(f"{rms[name]:.3f}" for name in names)) for layer, rms in rms_by_layer.items()]
    return _table(lines, ("layer", *(f"RMS, {name}" for name in names)), rows)


def targeted_attack_table(attacked: dict, ratio: float) -> Table:
    """One line per named :func:`targeted_adversarials` result: temperature, how many reached the
    confidence, the perturbations' L2 norms rounded to tens; then the mean norms and their ``ratio``."""
    lines, rows = [], []
    for name, a in attacked.items():
        norms = str(np.round(a["norms"], -1).astype(int))
        lines.append(
            f"{name:10s} temperature {a['temperature']:.2f}; reached p_l = {ADVERSARIAL_CONFIDENCE:g} on "
            f"{a['reached']} of {len(a['norms'])}; L2 norms of the perturbations (pixels): {norms}"
        )
        rows.append((name, f"{a['temperature']:.2f}", f"{a['reached']} of {len(a['norms'])}", norms))
    means = ", ".join(f"{name} {a['norms'].mean():.0f}" for name, a in attacked.items())
    header = ("network", "temperature", f"reached p_l = {ADVERSARIAL_CONFIDENCE:g}", "L2 norms (pixels)")
    return _table(lines, header, rows, note=f"mean norm: {means}, ratio {ratio:.2f}")
