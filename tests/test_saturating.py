import numpy as np
import pytest

from companion import profiles
from companion.papers.saturating_networks import experiments


def test_selection_rule_prefers_fgsm_among_accurate_candidates():
    candidates = [
        {"clean": 0.97, "fgsm": 0.05},
        {"clean": 0.90, "fgsm": 0.90},
        {"clean": 0.96, "fgsm": 0.30},
        {"clean": 0.955, "fgsm": 0.30},
    ]
    assert experiments.choose(candidates, vanilla_clean=0.98) == 2  # 0.90 is too inaccurate; tie -> first
    assert experiments.choose([{"clean": 0.5, "fgsm": 0.9}, {"clean": 0.6, "fgsm": 0.1}], 0.98) == 1


def test_block_means_of_a_two_class_rdm():
    d = np.array([[0, 1, 5, 5], [1, 0, 5, 5], [5, 5, 0, 3], [5, 5, 3, 0]], float)
    assert experiments.block_means(d, 2) == (2.0, 5.0)


def test_recipes_follow_the_profile():
    s = profiles.settings("saturating_networks", "quick")
    r = experiments.recipes(s)
    assert r["cnn"]["vanilla"].train_size == s.cnn_train_size
    assert r["sigmoid_mlp"]["candidates"][0].lam_max == 1.74  # the paper's schedule first
    assert [c.reduction for c in r["sigmoid_mlp"]["candidates"]] == [c[0] for c in s.search["sigmoid_mlp"]]
    with pytest.raises(ValueError, match="unknown mode"):
        experiments.Recipe("cnn", "robust")
    with pytest.raises(ValueError, match="train_size"):
        experiments.Recipe("cnn", "vanilla", train_size=60000)


def test_sensitive_directions_counts_at_the_peak():
    sv = np.array([[1.0, 0.5, 0.2], [10.0, 0.5, 0.05]])
    dl = np.array([0.1, 2.0])
    assert experiments.sensitive_directions(sv, dl) == 1
    assert experiments.sensitive_directions(sv, np.array([2.0, 0.1])) == 3


def test_search_entries_and_an_unpenalized_readout():
    import tensorflow as tf

    from companion.papers.saturating_networks import saturation

    full = experiments.Recipe("sigmoid_mlp", "saturated", **experiments.candidate(("mean", 0.05, 20.0)))
    assert full.width == 1000 and full.kinds == ("sigmoid", "sigmoid", "sigmoid")
    off = experiments.Recipe("sigmoid_mlp", "saturated", **experiments.candidate(("mean", 0.05, 20.0, 2000, False)))
    assert off.width == 2000 and off.kinds == ("sigmoid", "sigmoid", "none") and "readout unpenalized" in off.label
    with pytest.raises(ValueError, match="search entry"):
        experiments.candidate(("mean", 0.05))
    z = [tf.constant([[0.0, 3.0]]), tf.constant([[5.0, -5.0]])]
    # with the readout unpenalized only the hidden layer counts: sigma'(0) + sigma'(3)
    expected = 0.25 + 1 / (1 + np.exp(-3)) * (1 - 1 / (1 + np.exp(-3)))
    assert float(saturation.penalty(z, ("sigmoid", "none"))) == pytest.approx(expected, rel=1e-6)


def test_a_saturated_readout_keeps_the_decisions_and_hides_the_cross_entropy_gradient():
    from companion import attacks, evaluation, models, reproducibility

    reproducibility.seed_everything(0)
    net = models.mlp("sigmoid", width=32)
    readout = net.get_layer("logits")
    readout.kernel.assign(readout.kernel * 10.0)  # margins spread over 0 to a few
    x = np.random.default_rng(0).uniform(size=(400, 28, 28, 1)).astype(np.float32)
    before = evaluation.predict_logits(net, x)
    scaled = experiments.readout_saturated(net, 100.0)
    np.testing.assert_allclose(evaluation.predict_logits(scaled, x), 100.0 * before, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(evaluation.predict_logits(net, x), before)  # the original is untouched
    y = np.argmax(before, axis=1)
    top_two = np.sort(before, axis=1)[:, -2:]
    margin = top_two[:, 1] - top_two[:, 0]
    grads = attacks.input_gradient(scaled, x, y).numpy().reshape(len(x), -1)
    zero = np.all(grads == 0, axis=1)
    far, near = margin > 1.1, margin < 0.8  # 100 x margin past 104 / below 87 (the float32 limits)
    assert far.sum() > 20 and near.sum() > 20
    assert zero[far].all() and not zero[near].any()
    # the stabilized (logit-margin) FGSM is blind to the scale (up to signs of components that
    # cancel to rounding level)
    same = (
        attacks.fgsm(scaled, x, y, eps=0.1, loss="logit_margin").x
        == attacks.fgsm(net, x, y, eps=0.1, loss="logit_margin").x
    )
    assert same.mean() > 0.999
    with pytest.raises(ValueError, match="scale"):
        experiments.readout_saturated(net, 0.0)


def _two_small_sigmoid_mlps():
    from companion import models, reproducibility

    reproducibility.seed_everything(0)
    return {("sigmoid_mlp", mode): models.mlp("sigmoid", width=8) for mode in ("vanilla", "saturated")}


def test_rdm_comparison_against_a_forward_pass_by_hand():
    nets = _two_small_sigmoid_mlps()
    x = np.random.default_rng(0).uniform(size=(4, 28, 28, 1)).astype(np.float32)  # 2 classes of 2
    rdms, rows, between = experiments.rdm_comparison(nets, x, ["sigmoid_mlp"], per_class=2)
    assert list(rdms) == ["sigmoid_mlp vanilla", "sigmoid_mlp saturated"]
    assert [(arch, layer) for arch, layer, _, _ in rows] == [("sigmoid_mlp", 1), ("sigmoid_mlp", 2)]
    for mode, column in (("vanilla", 2), ("saturated", 3)):
        net, a = nets["sigmoid_mlp", mode], x.reshape(4, -1).astype(np.float64)
        for layer, name in enumerate(("h1", "h2")):
            dense = net.get_layer(name)
            a = 1 / (1 + np.exp(-(a @ dense.kernel.numpy() + dense.bias.numpy())))  # sigmoid activities
            d = np.mean((a[:, None, :] - a[None, :, :]) ** 2, axis=2)  # eq. (9)
            within, across = (d[0, 1] + d[2, 3]) / 2, (d[0, 2] + d[0, 3] + d[1, 2] + d[1, 3]) / 4
            np.testing.assert_allclose(rows[layer][column], (within, across), rtol=1e-4)
            np.testing.assert_allclose(rdms[f"sigmoid_mlp {mode}"][layer], d, rtol=1e-4, atol=1e-9)
    assert between == ([rows[0][3][1], rows[1][3][1]], [rows[0][2][1], rows[1][2][1]])


def test_weight_helpers_draw_vanilla_then_saturated_layer_by_layer():
    from companion.papers.saturating_networks import kurtosis

    nets = _two_small_sigmoid_mlps()
    kurt = experiments.weight_kurtosis(nets, ["sigmoid_mlp"])
    assert list(kurt) == [("sigmoid_mlp", "vanilla"), ("sigmoid_mlp", "saturated")]
    kernel = nets["sigmoid_mlp", "saturated"].get_layer("h2").kernel.numpy().ravel().astype(np.float64)
    z = (kernel - kernel.mean()) / kernel.std()
    assert kurt["sigmoid_mlp", "saturated"][1] == pytest.approx(np.mean(z**4) - 3, rel=1e-3)  # by the definition
    learned, rows = experiments.learned_weight_gains(
        nets, ["sigmoid_mlp"], dim=40, vectors=3, rng=np.random.default_rng(1)
    )
    rng = np.random.default_rng(1)  # the same draws, made one at a time in the documented order
    vanilla, saturated = (experiments.weights(nets["sigmoid_mlp", mode]) for mode in ("vanilla", "saturated"))
    for (arch, layer, rv, rs, gain), wv, ws in zip(rows, vanilla, saturated):
        assert rv == experiments.learned_weight_ratio(wv, 40, 3, rng)
        assert rs == experiments.learned_weight_ratio(ws, 40, 3, rng)
        assert gain == pytest.approx(100 * (rs / rv - 1))
        assert learned[f"{arch} L{layer} saturated"] == (kurtosis.excess_kurtosis(ws), rs)
    assert [row[1] for row in rows] == [1, 2, 3]
