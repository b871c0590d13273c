"""Gradient shares and masking signs against analytic answers on linear softmax models."""
import numpy as np

from companion import robustness
from linear_models_tf import linear_model


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
        shares = robustness.gradient_shares(linear_model(scale * W, np.zeros(3)), x, y)
        m = scale * margin
        assert shares["logit_margin"]["zero"] == 0.0
        assert np.mean(m > 105) <= shares["cross_entropy"]["zero"] <= np.mean(m > 86)
        assert np.mean(m > 19) <= shares["clipped_cross_entropy"]["zero"] <= np.mean(m > 16)
        assert shares["clipped_cross_entropy"]["zero"] >= shares["cross_entropy"]["zero"]
    assert shares["cross_entropy"]["zero"] > 0.5  # at scale 300 the thresholds are exercised


def test_masking_signs_each_point_one_way():
    clean = robustness.masking_signs(fgsm=0.3, pgd=0.1, pgd_one_restart=0.1, transfer=0.2,
                                     largest_eps_accuracy=0.0)
    assert not any(clean.values())
    masked = robustness.masking_signs(fgsm=0.9, pgd=0.95, pgd_one_restart=0.99, transfer=0.4,
                                      largest_eps_accuracy=0.5)
    assert all(masked.values())
