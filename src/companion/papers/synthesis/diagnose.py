"""Every paper's diagnostic on the reader's own model, and a check of whether its robustness
could be gradient masking: ``python -m companion diagnose MODEL --data mnist|cifar10|PATH.npz``
(or :func:`diagnose` in a notebook).

It validates everything first (:func:`load_inputs`: the model file, the data, the model's input
shape against the images, the number of classes, the pixel range; a model that outputs
probabilities is detected and attacked through the log of its probabilities, clipped as Keras
clips them), then measures, with progress on stderr:

* clean accuracy; FGSM and PGD (with restarts) on the cross-entropy and on the logit margin;
  PGD against the budget; an unbounded PGD; SPSA (gradient-free) on a subset and transfer from a
  surrogate it trains itself, when asked; DeepFool's distance to the nearest error;
* each paper's diagnostic (the book's synthesis chapter measures the same on its networks):
  the tilting angle, the code exponent alpha, weight kurtosis and the ratio-(14) gain, the error
  in Gaussian noise against the isoperimetric bound, the share of zero input gradients;
* the masking check (:func:`masking_findings`), each finding with the numbers behind it.

Images are ``(n, ...)`` floats in the model's input range (``value_range``), labels ``(n,)``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from companion import attacks, data, evaluation, files, profiles, training
from companion.papers.smooth_codes import spectra
from companion.papers.synthesis import experiments as synthesis
from companion.papers.synthesis import masking, report

PROBABILITY_EPSILON = attacks.PROBABILITY_EPSILON
NOISE_SIGMA = profiles.settings("synthesis", "quick").noise_sigma  # the chapter's, in [0, 1] pixel units


class DiagnoseError(ValueError):
    """Bad input: the message is one line, what is wrong and what to do."""


@dataclass
class Inputs:
    """A validated model and data: ``x`` ``(n, ...)`` test images, ``y`` ``(n,)``; training
    images (for the centroids and a surrogate) when the data has them."""

    model: object
    x: np.ndarray
    y: np.ndarray
    x_train: np.ndarray | None
    y_train: np.ndarray | None
    classes: int
    value_range: tuple
    dataset: str
    probabilities: bool = False
    notes: list = field(default_factory=list)


def _log_probabilities(model):
    """``model`` (softmax outputs) seen as a model of logits: ``log(clip(p, 1e-7, 1))``."""
    import keras

    inputs = keras.Input(model.input_shape[1:])
    p = model(inputs)
    logits = keras.layers.Lambda(lambda q: keras.ops.log(keras.ops.clip(q, PROBABILITY_EPSILON, 1.0)))(p)
    return keras.Model(inputs, logits, name=f"{model.name}_log_probabilities")


def _load_model(path):
    """``path`` to a ``.keras`` file loaded, or a Keras model as it is."""
    import keras

    from companion import keras_layers  # noqa: F401  (registers the book's layers)

    if isinstance(path, keras.Model):
        return path
    if not Path(path).is_file():
        raise DiagnoseError(f"no model file {path}: give a Keras model saved with model.save('model.keras')")
    if Path(path).suffix != ".keras":
        raise DiagnoseError(f"{path} is not a .keras file: save the model with model.save('model.keras')")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # a foreign or damaged file
        message = " ".join(str(error).split())[:120]
        raise DiagnoseError(f"{path} could not be loaded as a Keras model ({message})") from None


def _load_data(spec: str):
    """``(x_test, y_test, x_train, y_train, name)``; the book's data sets as floats in [0, 1]."""
    if spec in ("mnist", "cifar10"):
        try:
            ds = data.load(spec)
        except data.DataError as error:
            raise DiagnoseError(" ".join(str(error).split())) from None
        channel = (lambda a: a[..., None]) if spec == "mnist" else (lambda a: a)
        x_test, x_train = (channel(data.to_float(a)) for a in (ds.x_test, ds.x_train))
        return x_test, ds.y_test, x_train, ds.y_train, spec
    path = Path(spec)
    if not path.is_file():
        raise DiagnoseError(f"no data file {spec}: give mnist, cifar10 or a .npz file with x_test and y_test")
    try:
        with np.load(path) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as error:
        raise DiagnoseError(f"{spec} could not be read as .npz ({error})") from None
    missing = {"x_test", "y_test"} - set(arrays)
    if missing:
        raise DiagnoseError(f"{spec} lacks {', '.join(sorted(missing))}: save np.savez(path, x_test=..., y_test=...)")
    return (arrays["x_test"], arrays["y_test"], arrays.get("x_train"), arrays.get("y_train"), path.stem)


def _fit_shape(x, shape: tuple, what: str):
    """``x`` ``(n, ...)`` shaped as the model's input ``shape`` (a missing channel axis of 1 is added)."""
    if x is None or tuple(x.shape[1:]) == tuple(shape):
        return x
    if tuple(x.shape[1:]) + (1,) == tuple(shape):
        return x[..., None]
    raise DiagnoseError(
        f"the {what} images have shape {tuple(x.shape[1:])} but the model takes {tuple(shape)}: "
        "give data of the model's input shape"
    )


def load_inputs(model, data_spec: str, size: int, value_range=(0.0, 1.0)) -> Inputs:
    """Load and check everything before any attack runs; :class:`DiagnoseError` otherwise.
    ``model``: a ``.keras`` file's path, or a Keras model (in a notebook)."""
    if size < 10:
        raise DiagnoseError(f"--size must be at least 10, not {size}")
    low, high = (float(v) for v in value_range)
    if not low < high:
        raise DiagnoseError(f"the pixel range must be low < high, not {value_range}")
    model = _load_model(model)
    x, y, x_train, y_train, name = _load_data(data_spec)
    shape = model.input_shape[1:]
    x, x_train = _fit_shape(x, shape, "test"), _fit_shape(x_train, shape, "training")
    x, y = np.asarray(x[:size], np.float32), np.asarray(y[:size]).astype(np.int32).ravel()
    if len(x) != len(y):
        raise DiagnoseError(f"{len(x)} test images but {len(y)} labels")
    if x.min() < low - 1e-6 or x.max() > high + 1e-6:
        hint = (
            " (pixels in [0, 255]: divide by 255, or give --range 0 255 if the model takes them)" if x.max() > 2 else ""
        )
        raise DiagnoseError(
            f"the pixels lie in [{x.min():g}, {x.max():g}], outside the model's range [{low:g}, {high:g}]{hint}"
        )
    outputs = np.asarray(model(x[:64], training=False))
    if outputs.ndim != 2:
        raise DiagnoseError(f"the model outputs shape {outputs.shape[1:]}, not one score per class")
    classes = outputs.shape[1]
    if y.min() < 0 or y.max() >= classes:
        raise DiagnoseError(
            f"the labels run from {y.min()} to {y.max()} but the model has {classes} outputs: "
            "give labels 0..classes-1 of the model's classes"
        )
    inputs = Inputs(model, x, y, x_train, y_train, classes, (low, high), name)
    if np.all(outputs >= 0) and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3):
        inputs.model, inputs.probabilities = _log_probabilities(model), True
        inputs.notes.append(
            "The model outputs probabilities (its rows sum to 1): it is attacked through "
            f"log(clip(p, {PROBABILITY_EPSILON:g}, 1)), the log-probabilities, whose gradient vanishes "
            "where p is clipped, as a probability-space loss's does (the stabilized-gradients chapter)."
        )
    return inputs


# --- measurements -----------------------------------------------------------------------------


def default_eps(norm: str = "linf", value_range=(0.0, 1.0)) -> float:
    """The budget when none is given: 0.3 of the pixel range in L-infinity, 1.5 in L2."""
    return (0.3 if norm == "linf" else 1.5) * (value_range[1] - value_range[0])


def _budgets(eps: float, norm: str, value_range) -> tuple:
    """The PGD budgets of the accuracy curve, and the unbounded one (the whole pixel range)."""
    span = value_range[1] - value_range[0]
    return tuple(eps * f for f in (0.25, 0.5, 1.0, 2.0)), span if norm == "linf" else 1e3 * span


def _surrogate(inputs: Inputs, seed: int):
    """A ReLU MLP (256 units, 2 epochs, Adam) on up to 10,000 training images: the transfer source."""
    import keras

    keras.utils.set_random_seed(seed)
    n = min(10000, len(inputs.y_train))
    x = np.asarray(inputs.x_train[:n], np.float32)
    inp = keras.Input(x.shape[1:])
    hidden = keras.layers.Dense(256, activation="relu")(keras.layers.Flatten()(inp))
    model = keras.Model(inp, keras.layers.Dense(inputs.classes)(hidden))
    training.fit_adam(model, x, np.asarray(inputs.y_train[:n], np.int32), 2, 128, seed=seed)
    return model


def diagnose(
    inputs: Inputs,
    *,
    eps: float,
    norm: str = "linf",
    steps: int = 50,
    restarts: int = 3,
    spsa_size: int = 0,
    surrogate: bool = False,
    seed: int = 0,
    log=print,
) -> dict:
    """Every measurement of the report, as a JSON-able dict (accuracies as fractions)."""
    if norm not in ("linf", "l2"):
        raise DiagnoseError(f"--norm must be linf or l2, not {norm!r}")
    if not eps > 0:
        raise DiagnoseError(f"--eps must be > 0, not {eps}")
    if surrogate and inputs.x_train is None:
        raise DiagnoseError("--surrogate needs training images: give data with x_train and y_train")
    model, x, y, bounds = inputs.model, inputs.x, inputs.y, inputs.value_range
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    out = {
        "model": model.name,
        "data": inputs.dataset,
        "images": len(y),
        "eps": eps,
        "norm": norm,
        "steps": steps,
        "restarts": restarts,
        "probabilities": inputs.probabilities,
        "notes": inputs.notes,
    }

    def step(what):
        log(f"[diagnose] {what} ({time.perf_counter() - started:.0f} s)")

    def pgd(budget, loss="logit_margin", n_steps=steps, n_restarts=1, source=None, xs=x, ys=y, until_fooled=True):
        """Accuracy of ``model`` on PGD examples crafted on ``source`` (default: the model itself)."""
        settings = dict(loss=loss, norm=norm, bounds=bounds, seed=seed, until_fooled=until_fooled)
        x_adv = evaluation.pgd_examples(
            source or model, xs, ys, eps=budget, steps=n_steps, restarts=n_restarts, **settings
        )
        return evaluation.accuracy(model, x_adv, ys)

    step("clean accuracy and input gradients")
    out["clean"] = evaluation.accuracy(model, x, y)
    shares = evaluation.gradient_shares(model, x, y)
    out["zero_gradients"] = {loss: s["zero"] for loss, s in shares.items()}
    step("FGSM and PGD on the cross-entropy and the logit margin")
    if norm == "linf":
        out["fgsm"] = {
            loss: evaluation.accuracy(
                model,
                attacks.batched(attacks.fgsm, model, x, y, eps=eps, loss=loss, bounds=bounds, batch_size=500).x,
                y,
            )
            for loss in ("cross_entropy", "logit_margin")
        }
    else:
        out["fgsm"] = {loss: pgd(eps, loss, n_steps=1) for loss in ("cross_entropy", "logit_margin")}
    out["pgd"] = {loss: pgd(eps, loss, n_restarts=restarts) for loss in ("cross_entropy", "logit_margin")}
    out["pgd_one_start"] = pgd(eps)
    out["pgd_double_steps"] = pgd(eps, n_steps=2 * steps)
    budgets, unbounded = _budgets(eps, norm, bounds)
    step("PGD against the budget, and unbounded")
    out["pgd_by_budget"] = {f"{b:g}": pgd(b) for b in budgets}
    out["unbounded"] = {"eps": unbounded, "accuracy": pgd(unbounded)}
    if spsa_size:
        step(f"SPSA on {min(spsa_size, len(y))} images")
        xs, ys = x[:spsa_size], y[:spsa_size]
        found = attacks.spsa(model, xs, ys, eps=eps, steps=100, samples=64, bounds=bounds, seed=seed).x
        out["spsa"] = {
            "images": len(ys),
            "accuracy": evaluation.accuracy(model, found, ys),
            "pgd_same_images": pgd(eps, xs=xs, ys=ys),
        }
    if surrogate:
        step("training a surrogate and transferring its PGD examples")
        source = _surrogate(inputs, seed)
        out["transfer"] = pgd(eps, source=source, until_fooled=False)
    step("DeepFool's distance to the nearest error")
    right = np.argmax(evaluation.predict_logits(model, x), axis=1) == y
    if right.any():
        # bisected back to the nearest point that is still an error, as the synthesis chapter does:
        # on a saturated network the last linear step overshoots the boundary by far
        distance = attacks.deepfool(
            model, x[right], y[right], steps=50, bounds=bounds, batch_size=500, refine_steps=synthesis.REFINE_STEPS
        ).distance
        finite = distance[np.isfinite(distance)]
        out["deepfool"] = {
            "images": int(right.sum()),
            "found": int(len(finite)),
            "quartiles": [float(q) for q in np.percentile(finite, (25, 50, 75))] if len(finite) else [],
            "distances": [float(d) for d in distance],
        }
    step("each paper's diagnostic")
    out["papers"] = paper_diagnostics(inputs, rng, right)
    out["seconds"] = round(time.perf_counter() - started, 1)
    out["findings"] = [asdict(f) for f in masking.masking_findings(out)]
    out["masking"] = any(f["fired"] and f["masking"] for f in out["findings"])
    step("done")
    return out


def paper_diagnostics(inputs: Inputs, rng, right) -> dict:
    """The synthesis chapter's diagnostics on this model (:mod:`companion.papers.synthesis.experiments`)."""
    model, x, y = inputs.model, inputs.x, inputs.y
    x_ref = inputs.x_train if inputs.x_train is not None else x
    y_ref = inputs.y_train if inputs.y_train is not None else y
    out = {}
    try:
        centroids = synthesis.class_centroids(np.asarray(x_ref, np.float32), np.asarray(y_ref), inputs.classes)
        out["tilt"] = float(np.nanmedian(synthesis.tilting_angles(model, x[:500], y[:500], centroids)))
    except ValueError as error:
        out["tilt"], out["tilt_note"] = float("nan"), str(error)
    codes = synthesis.penultimate_codes(model, x[:1000])
    eigenvalues = spectra.covariance_eigenvalues(codes)
    hi = min(316, len(eigenvalues) - 1, len(codes) // 3)  # the synthesis chapter's ranks, as far as they exist
    out["alpha"] = spectra.powerlaw_exponent(np.maximum(eigenvalues, 1e-30), 10, hi) if hi > 20 else float("nan")
    out.update(synthesis.kurtosis_measures(model, dim=200, vectors=200, rng=rng))
    sigma = NOISE_SIGMA.get(inputs.dataset, 0.1 * (inputs.value_range[1] - inputs.value_range[0]))
    if right.any():
        out["noise"] = synthesis.noise_tradeoff(model, x[right][:50], y[right][:50], sigma, 4, rng, steps=50)
        out["noise"]["sigma"] = sigma
    return out


def main(argv=None) -> int:
    """``python -m companion diagnose MODEL --data mnist|cifar10|PATH.npz [options]``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m companion diagnose", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", help="a Keras model saved as .keras")
    parser.add_argument("--data", required=True, help="mnist, cifar10 or a .npz with x_test, y_test (x_train, y_train)")
    parser.add_argument("--eps", type=float, help="the budget (default 0.3 for linf, 1.5 for l2, in [0, 1] units)")
    parser.add_argument("--norm", default="linf", choices=("linf", "l2"))
    parser.add_argument("--size", type=int, default=1000, help="test images to use (default 1000)")
    parser.add_argument(
        "--range",
        nargs=2,
        type=float,
        default=(0.0, 1.0),
        metavar=("LOW", "HIGH"),
        help="the model's pixel range (default 0 1)",
    )
    parser.add_argument("--spsa", type=int, default=0, help="images for SPSA (gradient-free; default none)")
    parser.add_argument("--surrogate", action="store_true", help="train a surrogate MLP and transfer from it")
    parser.add_argument("--out", default="report", help="the report's folder (default report/)")
    args = parser.parse_args(argv)
    try:
        files.check_writable(args.out)
    except OSError as error:
        print(f"error: cannot write the report to {args.out} ({error.strerror}); give --out a folder you can write",
              file=sys.stderr)  # fmt: skip
        return 2
    eps = args.eps if args.eps is not None else default_eps(args.norm, args.range)
    try:
        inputs = load_inputs(args.model, args.data, args.size, args.range)
        measured = diagnose(inputs, eps=eps, norm=args.norm, spsa_size=args.spsa, surrogate=args.surrogate,
                            log=lambda line: print(line, file=sys.stderr, flush=True))  # fmt: skip
    except DiagnoseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = report.write_report(measured, args.out)
    print(f"{report.summary(measured)}; report in {out}/")
    return 0
