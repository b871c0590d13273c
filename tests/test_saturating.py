import numpy as np
import pytest

from companion import profiles, saturating


def test_selection_rule_prefers_fgsm_among_accurate_candidates():
    candidates = [{"clean": 0.97, "fgsm": 0.05}, {"clean": 0.90, "fgsm": 0.90},
                  {"clean": 0.96, "fgsm": 0.30}, {"clean": 0.955, "fgsm": 0.30}]
    assert saturating.choose(candidates, vanilla_clean=0.98) == 2  # 0.90 is too inaccurate; tie -> first
    assert saturating.choose([{"clean": 0.5, "fgsm": 0.9}, {"clean": 0.6, "fgsm": 0.1}], 0.98) == 1


def test_block_means_of_a_two_class_rdm():
    d = np.array([[0, 1, 5, 5], [1, 0, 5, 5], [5, 5, 0, 3], [5, 5, 3, 0]], float)
    assert saturating.block_means(d, 2) == (2.0, 5.0)


def test_recipes_follow_the_profile():
    s = profiles.settings("saturating_networks", "quick")
    r = saturating.recipes(s)
    assert r["cnn"]["vanilla"].train_size == s.cnn_train_size
    assert r["sigmoid_mlp"]["candidates"][0].lam_max == 1.74  # the paper's schedule first
    assert [c.reduction for c in r["sigmoid_mlp"]["candidates"]] == [c[0] for c in s.search["sigmoid_mlp"]]
    with pytest.raises(ValueError, match="unknown mode"):
        saturating.Recipe("cnn", "robust")
    with pytest.raises(ValueError, match="train_size"):
        saturating.Recipe("cnn", "vanilla", train_size=60000)


def test_sensitive_directions_counts_at_the_peak():
    sv = np.array([[1.0, 0.5, 0.2], [10.0, 0.5, 0.05]])
    dl = np.array([0.1, 2.0])
    assert saturating.sensitive_directions(sv, dl) == 1
    assert saturating.sensitive_directions(sv, np.array([2.0, 0.1])) == 3


def test_search_entries_and_an_unpenalized_readout():
    import tensorflow as tf

    from companion import saturation

    full = saturating.Recipe("sigmoid_mlp", "saturated", **saturating.candidate(("mean", 0.05, 20.0)))
    assert full.width == 1000 and full.kinds == ("sigmoid", "sigmoid", "sigmoid")
    off = saturating.Recipe("sigmoid_mlp", "saturated", **saturating.candidate(("mean", 0.05, 20.0, 2000, False)))
    assert off.width == 2000 and off.kinds == ("sigmoid", "sigmoid", "none") and "readout unpenalized" in off.label
    with pytest.raises(ValueError, match="search entry"):
        saturating.candidate(("mean", 0.05))
    z = [tf.constant([[0.0, 3.0]]), tf.constant([[5.0, -5.0]])]
    # with the readout unpenalized only the hidden layer counts: sigma'(0) + sigma'(3)
    expected = 0.25 + 1 / (1 + np.exp(-3)) * (1 - 1 / (1 + np.exp(-3)))
    assert float(saturation.penalty(z, ("sigmoid", "none"))) == pytest.approx(expected, rel=1e-6)


def test_a_saturated_readout_keeps_the_decisions_and_hides_the_cross_entropy_gradient():
    from companion import attacks, models, reproducibility, training

    reproducibility.seed_everything(0)
    net = models.mlp("sigmoid", width=32)
    readout = net.get_layer("logits")
    readout.kernel.assign(readout.kernel * 10.0)  # margins spread over 0 to a few
    x = np.random.default_rng(0).uniform(size=(400, 28, 28, 1)).astype(np.float32)
    before = training.predict_logits(net, x)
    scaled = saturating.readout_saturated(net, 100.0)
    np.testing.assert_allclose(training.predict_logits(scaled, x), 100.0 * before, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(training.predict_logits(net, x), before)  # the original is untouched
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
    same = attacks.fgsm(scaled, x, y, 0.1, loss="logit_margin") == attacks.fgsm(net, x, y, 0.1, loss="logit_margin")
    assert same.mean() > 0.999
    with pytest.raises(ValueError, match="scale"):
        saturating.readout_saturated(net, 0.0)
