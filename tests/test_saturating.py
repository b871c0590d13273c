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


# The chapter's results tables: the text each prints (as the chapter printed it before they were
# tables) and the cells of the book's HTML table, from hand-made numbers.


def _metrics(clean, fgsm, zero_gradient, logit_margin):
    return {"clean": clean, "fgsm": fgsm, "zero_gradient": zero_gradient, "logit_margin": logit_margin}


def test_search_table_groups_the_candidates_by_architecture():
    m = _metrics(0.5988, 0.0024, 0.0, 0.3)
    chosen = "saturated (sum, step 1e-10 to 3.99e-08, width 64)"
    table = experiments.search_table({"relu_mlp": [("vanilla", m, False), (chosen, m, True)]})
    assert repr(table) == (
        "relu_mlp: validation accuracy clean / FGSM / share of zero input gradients / median logit margin\n"
        "  vanilla                                           59.88%    0.24%  0.000      0.3\n"
        "  saturated (sum, step 1e-10 to 3.99e-08, width 64) <- chosen  59.88%    0.24%  0.000      0.3\n"
    )
    assert table.header == (
        "candidate",
        "validation clean",
        "validation FGSM",
        "share of zero input gradients",
        "median logit margin",
    )
    assert table.rows == (
        ("relu_mlp", "", "", "", ""),
        ("vanilla", "59.88%", "0.24%", "0.000", "0.3"),
        (chosen + " <- chosen", "59.88%", "0.24%", "0.000", "0.3"),
    )


def test_table1_table_sets_ours_beside_the_paper():
    results = {("cnn", "vanilla"): _metrics(0.686, 0.076, 0.0, 1.4), ("relu_mlp", "saturated"): _metrics(1, 0, 1, 104)}
    paper = {"cnn": {"vanilla": (99.35, 5.62)}, "relu_mlp": {"saturated": (95.24, 94.59)}}
    table = experiments.table1_table(results, paper)
    assert repr(table) == (
        "                          paper clean    ours  paper FGSM    ours zero grad  margin\n"
        "cnn          vanilla           99.35%  68.60%       5.62%   7.60%     0.000     1.4\n"
        "relu_mlp     saturated         95.24% 100.00%      94.59%   0.00%     1.000   104.0\n"
    )
    assert table.header == (
        "network",
        "training",
        "paper clean",
        "ours clean",
        "paper FGSM",
        "ours FGSM",
        "zero grad",
        "margin",
    )
    assert table.rows == (
        ("cnn", "vanilla", "99.35%", "68.60%", "5.62%", "7.60%", "0.000", "1.4"),
        ("relu_mlp", "saturated", "95.24%", "100.00%", "94.59%", "0.00%", "1.000", "104.0"),
    )
    assert experiments.table1_table({("cnn", "vanilla"): results["cnn", "vanilla"]}).rows[0][2] == "99.35%"  # Table 1


def test_layer_saturation_table_takes_medians_over_images_of_the_first_two_layers():
    limits = {"on": 16.63, "off_tiny": -69.08, "off_zero": -87.34}
    per_image = {  # 3 images, 3 layers; the readout (the last) is left out
        "zero": np.array([[0.4, 0.5, 1.0], [0.5, 0.4, 1.0], [0.422, 0.438, 1.0]]),
        "tiny": np.array([[0.4, 0.5, 1.0], [0.5, 0.4, 1.0], [0.422, 0.438, 1.0]]),
        "median_abs_h": np.array([[0.4, 0.3, 9.0], [0.5, 0.2, 9.0], [0.3, 0.35, 9.0]]),
    }
    table = experiments.layer_saturation_table(limits, {("relu_mlp", "vanilla"): per_image})
    assert repr(table) == (
        "float32 sigmoid: derivative exactly 0 from h = 16.6; below 1e-30 under h = -69.1; exactly 0 under h = -87.3\n"
        "                          median over test images, layers h1 / h2: share of units with derivative = 0, "
        "< 1e-30; median |h|\n"
        "relu_mlp     vanilla      = 0: 0.422 / 0.438   < 1e-30: 0.422 / 0.438   |h|:   0.4 /   0.3\n"
    )
    assert table.title.startswith("float32 sigmoid:") and table.header_lines == 1
    assert table.header[:2] == ("network", "training") and len(table.header) == 8
    assert table.rows == (("relu_mlp", "vanilla", "0.422", "0.438", "0.422", "0.438", "0.4", "0.3"),)


def test_readout_table_one_row_per_network():
    results = [
        ("saturated", _metrics(0.192, 0.002, 0.0, 0.1), 0.0),
        ("readout saturated (x100)", _metrics(0.192, 0.058, 0.0, 8.2), 0.566),
    ]
    table = experiments.readout_table(results)
    assert repr(table) == (
        "sigmoid MLP, saturated               : clean 19.20%, FGSM 0.20%, median margin 0.1; "
        "zero gradient: 0.000 (logits), 0.000 (clipped)\n"
        "sigmoid MLP, readout saturated (x100): clean 19.20%, FGSM 5.80%, median margin 8.2; "
        "zero gradient: 0.000 (logits), 0.566 (clipped)\n"
    )
    assert table.header == (
        "sigmoid MLP",
        "clean",
        "FGSM",
        "median margin",
        "zero gradient (logits)",
        "zero gradient (clipped)",
    )
    assert table.rows == (
        ("saturated", "19.20%", "0.20%", "0.1", "0.000", "0.000"),
        ("readout saturated (x100)", "19.20%", "5.80%", "8.2", "0.000", "0.566"),
    )


def test_kurtosis_table_one_column_per_layer():
    table = experiments.kurtosis_table(
        {("sigmoid_mlp", "vanilla"): [-1.14, -1.2, 3.06], ("relu_mlp", "saturated"): [0.0, 12.345, 0.04]}
    )
    assert repr(table) == (
        "sigmoid_mlp  vanilla    excess kurtosis per layer: [-1.1, -1.2, 3.1]\n"
        "relu_mlp     saturated  excess kurtosis per layer: [0.0, 12.3, 0.0]\n"
    )
    assert table.header == (
        "network",
        "training",
        "excess kurtosis, layer 1",
        "excess kurtosis, layer 2",
        "excess kurtosis, layer 3",
    )
    assert table.rows == (
        ("sigmoid_mlp", "vanilla", "-1.1", "-1.2", "3.1"),
        ("relu_mlp", "saturated", "0.0", "12.3", "0.0"),
    )


def test_rdm_table_one_row_per_hidden_layer():
    rows = [("sigmoid_mlp", 1, (0.0131, 0.0214), (0.013, 0.021)), ("relu_mlp", 2, (0.085, 0.145), (0.0851, 0.1449))]
    table = experiments.rdm_table(rows)
    assert repr(table) == (
        "sigmoid_mlp layer 1: within / between class, vanilla 0.013 / 0.021, saturated 0.013 / 0.021\n"
        "relu_mlp layer 2: within / between class, vanilla 0.085 / 0.145, saturated 0.085 / 0.145\n"
    )
    assert table.header == (
        "network",
        "layer",
        "vanilla within",
        "vanilla between",
        "saturated within",
        "saturated between",
    )
    assert table.rows == (
        ("sigmoid_mlp", "1", "0.013", "0.021", "0.013", "0.021"),
        ("relu_mlp", "2", "0.085", "0.145", "0.085", "0.145"),
    )


def test_directions_table_one_column_per_class_pair():
    table = experiments.directions_table({"vanilla": [10, 3], "saturated": [1, 1]}, [(1, 7), (3, 7)])
    assert repr(table) == (
        "sigmoid MLP vanilla  : singular values above 10% of the largest at the peak of dl: [10, 3]\n"
        "sigmoid MLP saturated: singular values above 10% of the largest at the peak of dl: [1, 1]\n"
    )
    assert table.header[1:] == ("1 → 7", "3 → 7") and table.header[0].startswith("sigmoid MLP")
    assert table.rows == (("vanilla", "10", "3"), ("saturated", "1", "1"))


def test_attack_table_success_rates_per_network_and_start():
    from companion.attacks import Adversarial

    def run(success):
        success = np.array(success, bool)
        return Adversarial(
            np.zeros((len(success), 28, 28, 1), np.float32), success=success, steps=np.ones(len(success))
        )

    pairs = [(0, 1), (0, 2), (1, 0)]
    runs = {
        ("vanilla", "least"): {"pairs": pairs, "adam": run([1, 0, 0]), "lbfgs": run([1, 1, 1])},
        ("saturated", "most"): {"pairs": pairs, "adam": run([0, 0, 0]), "lbfgs": run([1, 1, 0])},
    }
    table = experiments.attack_table(runs)
    assert repr(table) == (
        "sigmoid MLP vanilla   from the least confident source: success Adam  33.3%, L-BFGS 100.0% of 3 pairs\n"
        "sigmoid MLP saturated from the most  confident source: success Adam   0.0%, L-BFGS  66.7% of 3 pairs\n"
    )
    assert table.header == ("sigmoid MLP", "most or least confident source", "Adam success", "L-BFGS success", "pairs")
    assert table.rows == (("vanilla", "least", "33.3%", "100.0%", "3"), ("saturated", "most", "0.0%", "66.7%", "3"))


def test_learned_gain_table_has_the_pearson_ratios_as_its_title():
    gain = {"gammas": np.array([0.5, 100.0]), "ratios": np.array([1.1434, 1.344]), "gaussian": 1.1141}
    layer_rows = [("sigmoid_mlp", 1, 1.006, 1.003, -0.298), ("relu_mlp", 3, 1.0, 3.5, 250.0)]
    table = experiments.learned_gain_table(gain, layer_rows)
    assert repr(table) == (
        "Gaussian baseline 1.114; Pearson VII: γ2=0.5: 1.143, γ2=100: 1.344\n"
        "sigmoid_mlp layer 1: scaled ratio vanilla 1.006, saturated 1.003 (-0%)\n"
        "relu_mlp layer 3: scaled ratio vanilla 1.000, saturated 3.500 (+250%)\n"
    )
    assert table.header == ("network", "layer", "scaled ratio, vanilla", "scaled ratio, saturated", "gain of saturated")
    assert table.rows == (("sigmoid_mlp", "1", "1.006", "1.003", "-0%"), ("relu_mlp", "3", "1.000", "3.500", "+250%"))


def test_the_search_s_trainings_can_be_sent_to_child_processes():
    """train_nine hands every recipe's validated() to companion.parallel.fill_cache, which sends
    the calls to spawned processes: each must survive pickling with its data set and recipe."""
    import functools
    import pickle

    from companion import data

    dataset = data.Dataset("mnist", *(np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.uint8)) * 2)
    groups = experiments.recipes(profiles.settings("saturating_networks", "quick")).values()
    recipes = [r for g in groups for r in (g["vanilla"], g["adversarial"], *g["candidates"])]
    assert len(recipes) == 20
    for recipe in recipes:
        call = pickle.loads(pickle.dumps(functools.partial(experiments.validated, dataset, recipe)))
        assert call.func is experiments.validated and call.args[1] == recipe and call.args[0].sha256 == dataset.sha256
