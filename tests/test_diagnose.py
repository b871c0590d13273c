"""`python -m companion diagnose`: every paper's diagnostic and the masking check on a model of
one's own, against models whose answers are known."""

import os

import numpy as np
import pytest
from linear_models_tf import linear_model

from companion.papers.synthesis import diagnose, masking, report

HAS_MNIST = bool(os.environ.get("COMPANION_DATA_DIR")) and os.path.isfile(
    os.path.join(os.environ.get("COMPANION_DATA_DIR", ""), "mnist.npz")
)


def _linear_inputs(n: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    W, c = rng.normal(size=(6, 3)), rng.normal(size=3)
    x = rng.uniform(-1, 1, size=(n, 6)).astype(np.float32)
    y = np.argmax(x @ W + c, axis=1)
    y[:3] = [0, 1, 2]  # every class occurs (the centroids need them)
    model = linear_model(W, c)
    return diagnose.Inputs(model, x, y.astype(np.int32), None, None, 3, (-50.0, 50.0), "linear"), W, c


def test_on_a_linear_softmax_model_deepfool_and_the_tilt_are_the_closed_forms():
    inputs, W, c = _linear_inputs()
    r = diagnose.diagnose(inputs, eps=0.5, steps=10, restarts=2, log=lambda line: None)
    z = inputs.x @ W + c
    right = np.argmax(z, axis=1) == inputs.y
    # the distance to the nearest boundary: min over j of (z_y - z_j) / ||w_y - w_j|| (DeepFool's
    # 2% overshoot bisected back to the boundary)
    ys, zs = inputs.y[right], z[right]
    gaps = [
        min((zs[i, ys[i]] - zs[i, j]) / np.linalg.norm(W[:, ys[i]] - W[:, j]) for j in range(3) if j != ys[i])
        for i in range(len(ys))
    ]
    np.testing.assert_allclose(r["deepfool"]["distances"], gaps, rtol=1e-3)
    # the tilt: the angle between w_c - w_y (c the runner-up) and centroid_c - centroid_y
    centroids = np.stack([inputs.x[inputs.y == k].mean(axis=0) for k in range(3)])
    runner = np.argsort(z, axis=1)[:, -2]
    runner = np.where(runner == inputs.y, np.argsort(z, axis=1)[:, -1], runner)
    g = (W[:, runner] - W[:, inputs.y]).T
    u = centroids[runner] - centroids[inputs.y]
    cos = np.sum(g * u, axis=1) / np.linalg.norm(g, axis=1) / np.linalg.norm(u, axis=1)
    assert r["papers"]["tilt"] == pytest.approx(np.median(np.degrees(np.arccos(cos))), abs=1e-3)
    assert r["zero_gradients"]["cross_entropy"] == 0.0 and not r["masking"]


def _finding(findings, start):
    return next(f for f in findings if f.name.startswith(start))


def _report(**changes):
    base = {
        "pgd": {"cross_entropy": 0.10, "logit_margin": 0.10},
        "fgsm": {"cross_entropy": 0.35, "logit_margin": 0.30},
        "zero_gradients": {"cross_entropy": 0.0, "logit_margin": 0.0},
        "pgd_one_start": 0.10,
        "pgd_double_steps": 0.10,
        "unbounded": {"eps": 1.0, "accuracy": 0.0},
        "steps": 50,
        "restarts": 3,
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    "changes, name",
    [
        (dict(zero_gradients={"cross_entropy": 0.6, "logit_margin": 0.0}), "unavailable gradients"),
        (dict(pgd={"cross_entropy": 0.55, "logit_margin": 0.10}), "the two losses disagree"),
        (dict(fgsm={"cross_entropy": 0.05, "logit_margin": 0.30}), "a single step beats"),
        (dict(pgd_double_steps=0.05), "incomplete optimization"),
        (dict(pgd={"cross_entropy": 0.10, "logit_margin": 0.05}, pgd_one_start=0.10), "non-converging"),
        (dict(unbounded={"eps": 1.0, "accuracy": 0.3}), "unconstrained attack failure"),
        (dict(spsa={"images": 50, "accuracy": 0.02, "pgd_same_images": 0.10}), "a gradient-free attack"),
        (dict(transfer=0.05), "transfer failure"),
    ],
)
def test_each_masking_check_fires_on_its_sign_and_not_on_a_clean_report(changes, name):
    clean = masking.masking_findings(
        _report(spsa={"images": 50, "accuracy": 0.1, "pgd_same_images": 0.1}, transfer=0.1)
    )
    assert not any(f.fired for f in clean if f.masking)
    fired = _finding(masking.masking_findings(_report(**changes)), name)
    assert fired.fired and fired.masking and "%" in fired.numbers


def test_fgsm_overstating_the_robustness_is_a_reading_not_masking():
    findings = masking.masking_findings(_report(fgsm={"cross_entropy": 0.9, "logit_margin": 0.0}))
    f = _finding(findings, "FGSM overstates")
    assert f.fired and not f.masking and "FGSM (cross-entropy) 90.0%, PGD 10.0%" == f.numbers
    assert not _finding(masking.masking_findings(_report()), "FGSM overstates").fired


def test_a_model_of_probabilities_is_attacked_through_its_log(tmp_path):
    import keras

    inp = keras.Input((6,))
    model = keras.Model(inp, keras.layers.Dense(3, activation="softmax")(inp))
    model.save(tmp_path / "p.keras")
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "d.npz", x_test=rng.uniform(size=(40, 6)).astype(np.float32), y_test=rng.integers(0, 3, 40))
    inputs = diagnose.load_inputs(str(tmp_path / "p.keras"), str(tmp_path / "d.npz"), 40)
    assert inputs.probabilities and "log(clip(p" in inputs.notes[0]
    p = np.asarray(model(inputs.x[:5]))
    np.testing.assert_allclose(np.asarray(inputs.model(inputs.x[:5])), np.log(np.clip(p, 1e-7, 1)), rtol=1e-5)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A linear model of 6 inputs and 3 classes, saved, and matching data."""
    folder = tmp_path_factory.mktemp("diagnose")
    inputs, _, _ = _linear_inputs()
    inputs.model.save(folder / "m.keras")
    x = np.clip(inputs.x, 0, 1)
    np.savez(folder / "good.npz", x_test=x, y_test=inputs.y)
    np.savez(folder / "shape.npz", x_test=x[:, :5], y_test=inputs.y)
    np.savez(folder / "classes.npz", x_test=x, y_test=np.arange(len(x)) % 10)
    np.savez(folder / "pixels.npz", x_test=255 * x, y_test=inputs.y)
    np.savez(folder / "nolabels.npz", x_test=x)
    (folder / "m.h5").write_text("not keras")
    return folder


@pytest.mark.parametrize(
    "model, data, says",
    [
        ("none.keras", "good.npz", "no model file"),
        ("m.h5", "good.npz", "is not a .keras file"),
        ("m.keras", "none.npz", "no data file"),
        ("m.keras", "nolabels.npz", "lacks y_test"),
        ("m.keras", "shape.npz", "have shape (5,) but the model takes (6,)"),
        ("m.keras", "classes.npz", "the labels run from 0 to 9 but the model has 3 outputs"),
        ("m.keras", "pixels.npz", "outside the model's range [0, 1] (pixels in [0, 255]: divide by 255"),
    ],
)
def test_bad_inputs_are_one_line_before_any_work(saved, model, data, says, capsys, tmp_path):
    code = diagnose.main([str(saved / model), "--data", str(saved / data), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and says in err[0], err
    assert not (tmp_path / "r" / "report.json").exists()


def test_the_report_is_written_as_json_markdown_html_and_a_figure(saved, capsys, tmp_path):
    code = diagnose.main([str(saved / "m.keras"), "--data", str(saved / "good.npz"), "--size", "40",
                          "--range", "-50", "50", "--out", str(tmp_path / "r")])  # fmt: skip
    assert code == 0 and "no sign of masking" in capsys.readouterr().out
    names = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert names == ["figure.png", "report.html", "report.json", "report.md"]
    page = (tmp_path / "r" / "report.html").read_text()
    assert page.count("<table>") == 3 and "masking" in page
    assert report.READINGS.keys() <= set((tmp_path / "r" / "report.md").read_text().replace("|", " ").split())


@pytest.mark.skipif(not HAS_MNIST, reason="needs COMPANION_DATA_DIR with mnist.npz")
def test_a_readout_saturated_mlp_is_flagged_and_a_vanilla_one_is_not():
    """The stabilized-gradients chapter's readout-saturated sigmoid MLP, small: the masking check
    fires (zero gradients, the two losses disagree) and the logit-margin PGD takes accuracy to
    near zero; on the same MLP unscaled nothing fires."""
    from companion import data, models, reproducibility, training
    from companion.papers.saturating_networks import experiments

    reproducibility.seed_everything(0)
    mnist = data.load_mnist()
    x, y = data.to_float(mnist.x_train[:3000])[..., None], mnist.y_train[:3000]
    net = models.mlp("sigmoid", 64)
    training.fit_adam(net, x, y, 3, 64)
    xt, yt = data.to_float(mnist.x_test[:300])[..., None], mnist.y_test[:300].astype(np.int32)
    results = {}
    for name, model in (("vanilla", net), ("saturated", experiments.readout_saturated(net, 100.0))):
        inputs = diagnose.Inputs(model, xt, yt, x, y, 10, (0.0, 1.0), "mnist")
        results[name] = diagnose.diagnose(inputs, eps=0.3, steps=20, restarts=2, log=lambda line: None)
    sat, van = results["saturated"], results["vanilla"]
    assert sat["masking"] and sat["pgd"]["logit_margin"] <= 0.05
    fired = {f["name"] for f in sat["findings"] if f["fired"] and f["masking"]}
    assert "unavailable gradients (Pintor et al.)" in fired and "the two losses disagree" in fired
    assert not van["masking"], [f for f in van["findings"] if f["fired"]]


def test_a_model_in_memory_is_checked_as_a_saved_one(saved):
    """The notebook form: ``load_inputs`` takes the model itself and checks it the same way."""
    import keras

    model = keras.models.load_model(saved / "m.keras", compile=False)
    inputs = diagnose.load_inputs(model, str(saved / "good.npz"), 40, (-50, 50))
    assert inputs.model is model and inputs.classes == 3 and len(inputs.y) == 40
    with pytest.raises(diagnose.DiagnoseError, match="have shape \\(5,\\) but the model takes \\(6,\\)"):
        diagnose.load_inputs(model, str(saved / "shape.npz"), 40, (-50, 50))


def test_the_html_body_escapes_text_shifts_headings_and_keeps_links():
    md = "# Title\n\n## Part\n\n| a | b |\n|---|---|\n| x < 2 & y | **bold** [ch](c.html) |\n\nend `code`"
    body = report.html_body(md, first_heading=3)
    assert "<h3>Title</h3>" in body and "<h4>Part</h4>" in body
    assert "<td>x &lt; 2 &amp; y</td>" in body and '<strong>bold</strong> <a href="c.html">ch</a>' in body
    assert body.endswith("<p>end <code>code</code></p>")
    hostile = report.html_body('| a |\n|---|\n| [x](" onmouseover="y) [z](javascript:alert(1)) <b> |')
    assert "<a " not in hostile and "<b>" not in hostile and "&quot; onmouseover=&quot;" in hostile
    links = report.markdown(_report_for_links(), link=lambda chapter: f"{chapter}.html")
    assert "(boundary_tilting.html)" in links and "book/notebooks" not in links


def _report_for_links() -> dict:
    inputs, _, _ = _linear_inputs()
    return diagnose.diagnose(inputs, eps=0.5, steps=5, restarts=1, log=lambda line: None)
