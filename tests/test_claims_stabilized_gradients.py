"""The stabilized-gradients chapter's verdict rules, each on inputs that make it pass and inputs
that make it fail, with the boundaries worked out by hand (accuracies as the rules take them)."""

import pytest

from companion.papers.stabilized_gradients import claims, experiments, tables


@pytest.mark.parametrize(
    "plain, strongest, verdict",
    [
        (0.30, 0.00, "not robust"),  # plain FGSM already fools most images: nothing to unmask
        (0.49, 0.49, "not robust"),  # just under one half, whatever the stronger attacks do
        (0.90, 0.10, "masking"),  # 0.10 < 0.90 - 0.2 = 0.70
        (0.50, 0.00, "masking"),  # exactly one half counts as apparent robustness
        (0.90, 0.80, "survives"),  # 0.80 is not below 0.70
        (0.95, 0.95, "survives"),
    ],
)
def test_masking_verdict(plain, strongest, verdict):
    assert claims.masking_verdict(plain, strongest) == verdict


def test_masking_verdict_gap_is_strict_and_thresholds_are_keywords():
    # 0.75 - 0.25 = 0.5 exactly in binary floating point: the gap must be exceeded, not met
    assert claims.masking_verdict(0.75, 0.5, gap=0.25) == "survives"
    assert claims.masking_verdict(0.75, 0.4999, gap=0.25) == "masking"
    assert claims.masking_verdict(0.75, 0.0, robust=0.8) == "not robust"
    assert claims.masking_verdict(0.6, 0.1, robust=0.5, gap=0.2) == "masking"


def test_the_chapter_thresholds_are_one_half_and_one_fifth():
    assert (claims.APPARENT_ROBUSTNESS, claims.MASKING_GAP) == (0.5, 0.2)


@pytest.mark.parametrize(
    "shares, passed", [([0.1, 0.8], True), ([0.51, 0.0], True), ([0.5, 0.5], False), ([0.0, 0.0], False)]
)
def test_gradient_mostly_zero_needs_more_than_half_for_one_loss(shares, passed):
    assert claims.gradient_mostly_zero(shares) is passed


@pytest.mark.parametrize(
    "accuracy, plain, expected",
    [
        (20.0, 90.0, (True, True)),  # robust to plain FGSM, broken by the stabilized one
        (49.9, 50.0, (True, True)),  # plain FGSM exactly at the threshold is the premise
        (50.0, 90.0, (False, True)),  # 50% is not below 50%
        (2.0, 49.9, (True, False)),  # no robustness to break
    ],
)
def test_robustness_collapses(accuracy, plain, expected):
    assert claims.robustness_collapses(accuracy, plain) == expected


@pytest.mark.parametrize("accuracy, passed", [(89.0, True), (89.5, False), (94.43, False)])
def test_below_paper_figure_by_more_than_five_points(accuracy, passed):
    # Table 1's saturated sigmoid MLP: 94.43 - 5 = 89.43
    assert claims.below_paper_figure(accuracy, 94.43) is passed


@pytest.mark.parametrize("accuracies, passed", [([0.0, 0.05], True), ([0.0, 0.051], False), ([0.3], False)])
def test_all_fall_to_zero(accuracies, passed):
    assert claims.all_fall_to_zero(accuracies) is passed


def test_plain_fgsm_is_the_better_cross_entropy_only():
    accuracies = {"cross_entropy": 0.2, "clipped_cross_entropy": 0.7, "logit_margin": 0.9}
    assert experiments.plain_fgsm(accuracies) == 0.7


def test_verdict_lines_follow_the_verdict():
    assert tables.masking_verdict("cnn", "masking", plain=0.9).endswith("gradient masking, our reading of the critique")
    assert tables.masking_verdict("cnn", "survives", plain=0.9).endswith("survives the stronger attacks")
    not_robust = tables.masking_verdict("cnn", "not robust", plain=0.033)
    assert "(3.3%)" in not_robust and not_robust.endswith("no apparent robustness to unmask")
    assert tables.readout_verdict(0.9, 0.0, 0.0, "masking").endswith(": masking, our reading of the critique")
    assert tables.readout_verdict(0.16, 0.0, 0.0, "not robust").endswith(": no masking")


# The results tables: each one's text form is what the chapter printed before it became a Table.

_PAPER = {"cnn": {"vanilla": (99.0, 5.62), "saturated": (99.0, 98.45)}}


def test_gradient_shares_table():
    losses = {"cross_entropy": 0.5, "clipped_cross_entropy": 0.25, "logit_margin": 0.0}
    shown = tables.gradient_shares_table({("cnn", "saturated"): {k: {"zero": v} for k, v in losses.items()}})
    header_line = "share of images with an exactly zero gradient: cross-entropy  clipped cross-entropy  logit margin"
    row = "cnn          saturated   " + " " * 44 + "0.500" + " " * 18 + "0.250" + " " * 9 + "0.000"
    assert repr(shown) == " " * 26 + header_line + "\n" + row + "\n"
    assert shown.header == (
        "network",
        "training",
        "share of exactly zero gradients: cross-entropy",
        "share of exactly zero gradients: clipped cross-entropy",
        "share of exactly zero gradients: logit margin",
    )
    assert shown.rows == (("cnn", "saturated", "0.500", "0.250", "0.000"),)


def test_fgsm_table():
    accuracies = {("cnn", "saturated"): {"cross_entropy": 0.0333, "clipped_cross_entropy": 0.05, "logit_margin": 1.0}}
    shown = tables.fgsm_table(accuracies, _PAPER)
    assert repr(shown) == (
        "                          Table 1 FGSM   FGSM: logits  clipped   stabilized FGSM\n"
        "cnn          saturated          98.45%         3.33%     5.00%        100.00%\n"
    )
    assert shown.header == ("network", "training", "Table 1 FGSM", "FGSM: logits", "FGSM: clipped", "stabilized FGSM")
    assert shown.rows == (("cnn", "saturated", "98.45%", "3.33%", "5.00%", "100.00%"),)


def test_stronger_attacks_table_shows_a_dash_for_the_transfer_source():
    pgd, single = (
        {("cnn", "vanilla"): 0.0, ("cnn", "saturated"): 0.1},
        {("cnn", "vanilla"): 0.0, ("cnn", "saturated"): 0.25},
    )
    shown = tables.stronger_attacks_table(pgd, single, {("cnn", "saturated"): 0.0667}, _PAPER, restarts=3)
    assert repr(shown) == (
        "                          Table 1 FGSM   PGD (3 starts)   PGD (1 start)   transfer\n"
        "cnn          vanilla             5.62%            0.00%           0.00%        —\n"
        "cnn          saturated          98.45%           10.00%          25.00%     6.67%\n"
    )
    assert shown.header == ("network", "training", "Table 1 FGSM", "PGD (3 starts)", "PGD (1 start)", "transfer")
    assert shown.rows == (
        ("cnn", "vanilla", "5.62%", "0.00%", "0.00%", "—"),
        ("cnn", "saturated", "98.45%", "10.00%", "25.00%", "6.67%"),
    )


def test_masking_signs_table():
    signs = {
        ("cnn", "adversarial"): experiments.masking_signs(0.1, 0.5, 0.9, 0.6, 0.0),  # single step, restarts
        ("cnn", "saturated"): experiments.masking_signs(0.5, 0.5, 0.5, 0.1, 0.3),  # black box, no zero
    }
    shown = tables.masking_signs_table(signs)
    assert repr(shown) == (
        "                          single step stronger | black box stronger | no zero at large ε | restarts help\n"
        "cnn          adversarial                 yes |                 no |                 no |                yes\n"
        "cnn          saturated                    no |                yes |                yes |                 no\n"
    )
    assert shown.header == (
        "network",
        "training",
        "single step stronger",
        "black box stronger",
        "no zero at large ε",
        "restarts help",
    )
    assert shown.rows == (
        ("cnn", "adversarial", "yes", "no", "no", "yes"),
        ("cnn", "saturated", "no", "yes", "yes", "no"),
    )


def test_readout_saturated_table_with_and_without_its_note():
    readout_term = {"saturated": 2.468, "readout saturated": 0.06031}
    shares = {"cross_entropy": {"zero": 0.0}, "logit_margin": {"zero": 0.6}}
    args = (readout_term, shares, {"clean": 0.25, "FGSM, logit margin": 0.0})
    shown = tables.readout_saturated_table(*args, images=100, saturated_stabilized=0.5)
    title = (
        "readout term of eq. (8), mean over images: saturated 2.47, readout saturated 0.0603\n"
        "share of images with an exactly zero input gradient: cross entropy 0.000, logit margin 0.600\n"
    )
    table = (
        "accuracy of the readout-saturated network on 100 test images:\n"
        "  clean                                     25.00%\n"
        "  FGSM, logit margin                         0.00%\n"
    )
    assert repr(shown) == title + table + "the saturated network itself: stabilized FGSM 50.00%\n"
    assert shown.header == ("attack on the readout-saturated network", "accuracy on 100 test images")
    assert shown.rows == (("clean", "25.00%"), ("FGSM, logit margin", "0.00%"))
    assert repr(tables.readout_saturated_table(*args, images=100)) == title + table
