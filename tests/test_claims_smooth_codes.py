"""The verdict rules of the smooth-codes chapter that moved out of its notebook, each on an input
that passes and one that fails (hand-computed values, not networks)."""

import math

import numpy as np
import pytest

from companion.book import scorecard
from companion.papers.smooth_codes import claims

LAM = np.array([3.0, 2.0, 1.0])  # eigenvalues; only their first entry matters to any rule here


def by_eps(alphas: dict) -> dict:
    """``{eps: {input: alpha}}`` as the notebook's ``{eps: {input: (eigenvalues, alpha)}}``."""
    return {eps: {name: (LAM, a) for name, a in row.items()} for eps, row in alphas.items()}


def five(original, robust, non_robust, deterministic, random) -> dict:
    return {
        "original": original,
        "robust": robust,
        "non_robust": non_robust,
        "deterministic": deterministic,
        "random": random,
    }


def test_insensitive_to_dimension_reads_d_8_4_1_only():
    paper = {1: 1.20, 2: 9.0, 4: 1.20, 8: 1.21, 32: 0.1}  # the paper's values; other d do not count
    v1 = {1: 3.51, 4: 1.65, 8: 1.49}  # Stringer et al.'s V1: spread 2.02
    assert claims.DIMENSIONS == (8, 4, 1)
    assert claims.insensitive_to_dimension(paper) is True
    assert claims.insensitive_to_dimension(v1) is False
    assert claims.insensitive_to_dimension({1: 1.0, 4: 1.1, 8: 1.25}) is True  # spread 0.25 < 0.3
    assert claims.insensitive_to_dimension({1: 1.0, 4: 1.1, 8: 1.35}) is False  # spread 0.35


def test_covariance_lowers_alpha():
    c1s = [0.0, 0.01, 0.05, 0.1]
    assert claims.covariance_lowers_alpha(c1s, [1.62, 1.55, 1.50, 1.45]) is True  # falls by 0.17
    assert claims.covariance_lowers_alpha(c1s, [1.45, 1.50, 1.55, 1.62]) is False  # rises by 0.17
    assert claims.covariance_lowers_alpha([0.1, 0.0], [1.45, 1.62]) is True  # in any order of c1
    assert claims.covariance_lowers_alpha([0.0, 0.1], [1.28, 1.25]) is False  # falls by 0.03 only
    assert claims.covariance_lowers_alpha([0.0], [1.5]) is False  # one network moves nothing


def test_jacobian_unrelated_everywhere():
    assert claims.jacobian_unrelated_everywhere([(0.05, 0.05), (0.11, 0.10)]) is True  # 0 and 1 point
    assert claims.jacobian_unrelated_everywhere([(0.05, 0.05), (0.12, 0.05)]) is False  # 7 points in one cell
    assert claims.jacobian_unrelated_everywhere([(math.nan, 0.05)]) is False
    assert claims.jacobian_unrelated_everywhere([]) is False  # no penalized cell: nothing shown


def test_is_paper_most_robust():
    assert claims.PAPER_MOST_ROBUST == (0.01, 0.0)
    rows = [(0.0, 0.0, "-", 1.5, 0.01), (0.01, 0.0, "-", 1.4, 0.04), (0.0, 1.0, "frobenius", 1.5, 0.03)]
    assert claims.is_paper_most_robust(claims.most_robust(rows)) is True
    rows[2] = (0.0, 1.0, "frobenius", 1.5, 0.12)  # our exact Frobenius penalty: not the paper's training
    assert claims.is_paper_most_robust(claims.most_robust(rows)) is True
    rows.append((0.0, 1.0, "column_sums", 1.5, 0.05))  # a column-sum penalty, as the paper ran, wins
    assert claims.is_paper_most_robust(claims.most_robust(rows)) is False
    assert claims.is_paper_most_robust((0.01, 0.5, "frobenius")) is False  # the same c1 with a penalty


def test_spectra_differ_across_eps():
    passing = by_eps({0.0: five(9, 1.79, 9, 9, 9), 0.5: five(9, 1.90, 9, 9, 9), 1.0: five(9, 1.95, 9, 9, 9)})
    assert claims.spectra_differ_across_eps(passing) == (
        "alpha 1.79, 1.90, 1.95 for eps 0.0, 0.5, 1.0",
        True,
        "range over eps > 0.15",
    )
    failing = by_eps({0.0: five(1, 3.04, 1, 1, 1), 0.5: five(5, 3.02, 5, 5, 5)})  # the ci run's values
    assert claims.spectra_differ_across_eps(failing) == (
        "alpha 3.04, 3.02 for eps 0.0, 0.5",
        False,
        "range over eps > 0.15",
    )


def test_datasets_told_apart_more_uses_the_largest_eps_and_the_four_datasets():
    # eps = 1.0 spreads the four datasets by 2.0 - 1.7 = 0.3; the original images (9.0) and the
    # eps = 0 model (spread 5) do not count
    alphas = by_eps({0.0: five(1.0, 1.0, 6.0, 1.0, 1.0), 1.0: five(9.0, 2.0, 1.7, 1.8, 1.9)})
    tolerance = "spread for the largest eps > spread for the CIFAR-10 model"
    assert claims.datasets_told_apart_more(alphas, 0.1) == ("spread 0.30 (eps = 1.0) vs 0.10", True, tolerance)
    assert claims.datasets_told_apart_more(alphas, 0.5) == ("spread 0.30 (eps = 1.0) vs 0.50", False, tolerance)


def test_eps0_model_steep():
    tolerance = "above the CNN's by at least half the most robust one's margin"
    # CNN 1.2, eps = 1: margin 0.8; eps = 0 is 0.7 above the CNN (>= 0.4)
    steep = by_eps({0.0: five(1.9, 0, 0, 0, 0), 0.5: five(5.0, 0, 0, 0, 0), 1.0: five(2.0, 0, 0, 0, 0)})
    assert claims.eps0_model_steep(steep, 1.2) == (
        "alpha 1.90 (eps = 0) vs 2.00 (eps = 1.0), CNN 1.20",
        True,
        tolerance,
    )
    shallow = by_eps({0.0: five(1.3, 0, 0, 0, 0), 1.0: five(2.0, 0, 0, 0, 0)})  # 0.1 above the CNN
    assert claims.eps0_model_steep(shallow, 1.2) == (
        "alpha 1.30 (eps = 0) vs 2.00 (eps = 1.0), CNN 1.20",
        False,
        tolerance,
    )
    missing = by_eps({1.0: five(2.0, 0, 0, 0, 0)})  # no standard model: nan, never steep
    assert claims.eps0_model_steep(missing, 1.2) == (
        "alpha nan (eps = 0) vs 2.00 (eps = 1.0), CNN 1.20",
        False,
        tolerance,
    )


@pytest.mark.parametrize("passed", [True, False])
def test_judged_fills_ours_passed_and_tolerance_of_a_check(passed):
    """The notebook spreads a :class:`claims.Judged` into ``Scorecard.check``'s positional
    arguments after ``paper``: each field must land in its column."""
    card = scorecard.Scorecard("smooth_codes", "quick")
    judged = claims.Judged("alpha 1.80, 2.00 for eps 0.0, 1.0", passed, "range over eps > 0.15")
    card.check("robust.spectra_differ_across_eps", "the claim", "differ", *judged, judge=True)
    row = card.rows[0]
    assert (row.paper, row.ours, row.tolerance) == ("differ", judged.ours, judged.tolerance)
    assert row.verdict == (scorecard.REPRODUCED if passed else scorecard.NOT_REPRODUCED)
