"""Gradient shares and masking signs against analytic answers on linear softmax models."""

import numpy as np
from linear_models_tf import linear_model

from companion import evaluation
from companion.papers.stabilized_gradients import experiments


def test_gradient_shares_follow_the_analytic_margin_thresholds():
    """For logits ``x @ W`` the input gradient of the cross-entropy is ``W (softmax - e_y)``:
    exactly zero where every wrong-class probability underflows (margin beyond about 87 to
    104), for the clipped form where ``p_y`` rounds past ``1 - 1e-7`` (margin about 18);
    the logit margin's gradient ``W (e_j - e_y)`` is never zero for distinct columns."""
    rng = np.random.default_rng(0)
    W = rng.normal(size=(6, 3))
    x = rng.uniform(0, 1, size=(300, 6))
    y = np.argmax(x @ W, axis=1)
    z = x @ W
    top_two = np.sort(z, axis=1)[:, -2:]
    margin = top_two[:, 1] - top_two[:, 0]
    for scale in (1.0, 30.0, 300.0):
        shares = evaluation.gradient_shares(linear_model(scale * W, np.zeros(3)), x, y)
        m = scale * margin
        assert shares["logit_margin"]["zero"] == 0.0
        assert np.mean(m > 105) <= shares["cross_entropy"]["zero"] <= np.mean(m > 86)
        assert np.mean(m > 19) <= shares["clipped_cross_entropy"]["zero"] <= np.mean(m > 16)
        assert shares["clipped_cross_entropy"]["zero"] >= shares["cross_entropy"]["zero"]
    assert shares["cross_entropy"]["zero"] > 0.5  # at scale 300 the thresholds are exercised


def test_masking_signs_each_point_one_way():
    clean = experiments.masking_signs(fgsm=0.3, pgd=0.1, pgd_one_restart=0.1, transfer=0.2, largest_eps_accuracy=0.0)
    assert not any(clean.values())
    masked = experiments.masking_signs(fgsm=0.9, pgd=0.95, pgd_one_restart=0.99, transfer=0.4, largest_eps_accuracy=0.5)
    assert all(masked.values())


def _two_class_nets(scale: float):
    """Two linear networks ``z = s x @ [[1, -1], [-1, 1]]`` on 2 pixels, and images whose pixels
    differ by at least 0.2 so that the logit margin ``2 s |x0 - x1|`` is at least ``0.4 s``."""
    W = np.array([[1.0, -1.0], [-1.0, 1.0]])
    x = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.1, 0.6]], np.float32)
    y = np.argmax(x @ W, axis=1)  # every image correctly classified
    nets = {
        ("mlp", "vanilla"): linear_model(W, np.zeros(2)),
        ("mlp", "saturated"): linear_model(scale * W, np.zeros(2)),
    }
    return nets, lambda arch: (x, y), linear_model(-W, np.zeros(2))


def test_the_attack_battery_on_a_saturated_linear_network():
    """At scale 1000 the margin is at least 400: the softmax underflows, both cross-entropies'
    gradients are exactly zero and FGSM does not move the image. The logit margin's gradient is
    ``s (W_j - W_y)``, of sign (-1, +1) for class 0 and (+1, -1) for class 1: a step of 1 lands on
    the corner of the other class, on every network that decides like these (the reversed network
    ``-W`` then decides for the true label). A budget of 0.05 moves ``x0 - x1`` by at most 0.1."""
    nets, evaluation_set, reversed_net = _two_class_nets(1000.0)
    shares = experiments.network_gradient_shares(nets, evaluation_set)
    assert [shares[key]["cross_entropy"]["zero"] for key in nets] == [0.0, 1.0]
    assert [shares[key]["logit_margin"]["zero"] for key in nets] == [0.0, 0.0]
    fgsm = experiments.fgsm_accuracies(nets, evaluation_set, eps=1.0)
    assert fgsm["mlp", "vanilla"] == {"cross_entropy": 0.0, "clipped_cross_entropy": 0.0, "logit_margin": 0.0}
    assert fgsm["mlp", "saturated"] == {"cross_entropy": 1.0, "clipped_cross_entropy": 1.0, "logit_margin": 0.0}
    pgd, single = experiments.pgd_accuracies(nets, evaluation_set, eps=1.0, steps=2, restarts=2, seed=0)
    assert pgd == single == {key: 0.0 for key in nets}
    transfer = experiments.transfer_accuracies(
        nets, evaluation_set, eps=1.0, steps=2, extra_targets={("mlp", "reversed"): reversed_net, ("cnn", "x"): None}
    )
    assert transfer == {("mlp", "saturated"): 0.0, ("mlp", "reversed"): 1.0}
    curves = experiments.pgd_curves(
        nets, evaluation_set, (0.05, 1.0), steps=2, measured_eps=1.0, measured={key: 0.5 for key in nets}
    )
    assert curves == {key: [1.0, 0.5] for key in nets}  # the measured point is taken, not attacked again
    x, y = evaluation_set("mlp")
    battery = experiments.attack_battery(
        nets["mlp", "saturated"],
        x,
        y,
        eps=1.0,
        pgd_steps=2,
        pgd_restarts=1,
        seed=0,
        transfer=0.25,
        largest_eps=0.05,
        spsa_set=(x[:3], y[:3]),
        spsa_steps=0,
        spsa_samples=2,
    )
    assert battery == {
        "clean": 1.0,
        "FGSM, cross entropy": 1.0,
        "FGSM, clipped cross entropy": 1.0,
        "FGSM, logit margin": 0.0,
        "PGD on the cross-entropy (1 starts)": 1.0,  # from the image, where its gradient is zero
        "PGD on the logit margin (1 starts)": 0.0,
        "PGD, 1 start": 0.0,
        "transfer from the vanilla MLP": 0.25,  # passed through
        "PGD at ε = 0.05": 1.0,
        "SPSA (3 images)": 1.0,  # no step: the clean accuracy
    }
