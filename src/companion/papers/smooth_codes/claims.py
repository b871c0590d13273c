"""The verdict rules of the smooth-codes chapter's claims (each unit-tested on inputs that pass and
inputs that fail)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from companion.papers.smooth_codes import feature_datasets

DIMENSIONS = (8, 4, 1)
"""The input dimensions (principal components) at which the paper reports alpha (Figure 4)."""
PAPER_MOST_ROBUST = (0.01, 0.0)
"""``(c1, c2)`` of the paper's most robust model: "no Jacobian penalization and covariance
penalization of 0.01" (Section 3.4)."""


class Judged(NamedTuple):
    """A qualitative claim judged on our measurements: the ``ours``, ``passed`` and ``tolerance``
    arguments of ``Scorecard.check``, in that order (what we measured, the rule's verdict, and the
    rule in words, kept beside the threshold it states)."""

    ours: str
    passed: bool
    tolerance: str


def jacobian_unrelated(pgd_with: float, pgd_without: float, within: float = 0.03) -> bool:
    """ "Jacobian penalization appears to have no relationship with accuracy": PGD accuracy
    (fractions) with the Jacobian penalty within ``within`` of the same network without it (our
    threshold: about two standard errors at 10% accuracy on 500 images)."""
    return bool(np.isfinite(pgd_with) and np.isfinite(pgd_without) and abs(pgd_with - pgd_without) <= within)


def most_robust(rows) -> tuple:
    """The ``(c1, c2, jacobian)`` of the row with the highest PGD accuracy among the trainings
    the paper ran: no Jacobian penalty (``c2 = 0``) or one on the column sums of the Jacobian
    ("we were forced to penalize the norm of the column sums", Section 3.4); the exact Frobenius
    rows are ours, not the paper's, and take no part. ``rows``: ``(c1, c2, jacobian, alpha,
    pgd_accuracy, ...)`` tuples. Ties go to the first row."""
    ran = [r for r in rows if r[1] == 0 or r[2] != "frobenius"]
    best = max(ran, key=lambda r: r[4])
    return best[0], best[1], best[2]


def orders_below(lam_model, lam_reference) -> float:
    """How many orders of magnitude the principal eigenvalue of ``lam_model`` lies below that of
    ``lam_reference`` (eigenvalues in decreasing order): ``log10(ref[0] / model[0])``."""
    return float(np.log10(lam_reference[0] / lam_model[0]))


def standard_model_also_steep(alpha_eps0: float, alpha_top: float, alpha_cnn: float) -> bool:
    """ "The steep decay in the slope is also present in the eps = 0 model": the standard ResNet's
    alpha exceeds the CIFAR-10 CNN's by at least half as much as the most robust ResNet's does
    (and that one's does exceed it)."""
    margin = alpha_top - alpha_cnn
    return bool(margin > 0 and alpha_eps0 - alpha_cnn >= 0.5 * margin)


def rises(before: float, after: float) -> bool:
    """Alpha is higher ``after`` (the noisiest input) than ``before`` (the clean one)."""
    return bool(after > before)


def within_spread(alphas, at_most: float) -> bool:
    """The alphas lie within ``at_most`` of each other (max - min)."""
    return bool(float(np.ptp(alphas)) < at_most)


def identical_and_above_one(alphas, at_most: float = 0.15) -> bool:
    """ "identical to each other" (spread below ``at_most``, our threshold) with every slope above 1."""
    return bool(within_spread(alphas, at_most) and float(np.min(alphas)) > 1)


def differ(alphas, at_least: float = 0.15) -> bool:
    """The alphas spread by more than ``at_least`` (max - min)."""
    return bool(float(np.ptp(alphas)) > at_least)


def tells_apart_more(spread_robust: float, spread_cifar: float) -> bool:
    """The most robust model's alphas spread more over the four datasets than the CIFAR-10 CNN's
    ("slightly different" against "identical"; no margin: the paper gives no number)."""
    return bool(spread_robust > spread_cifar)


def jacobian_comparison(rows) -> tuple[str, list]:
    """What the Jacobian claim is judged on, from the penalty grid's ``rows`` (``(c1, c2,
    jacobian, alpha, pgd_accuracy, ...)``): ``(text, pairs)``, ``pairs`` the (PGD accuracy with
    the logit column-sum penalty, without any Jacobian penalty at the same c1) of every such cell.
    With one penalized cell the text lists each variant and the unpenalized accuracy; with more,
    the largest change per variant."""
    plain = {r[0]: r[4] for r in rows if r[1] == 0}
    penalized = [(r[2], r[0], r[4]) for r in rows if r[1] > 0]
    pairs = [(acc, plain[c1]) for jac, c1, acc in penalized if jac == "logit_column_sums" and c1 in plain]
    if len({(c1, c2) for c1, c2, *_ in (r for r in rows if r[1] > 0)}) <= 1:
        text = "; ".join(f"{jac} {100 * acc:.1f}%" for jac, _, acc in penalized)
        return text + (f" vs {100 * pairs[0][1]:.1f}% without" if pairs else ""), pairs
    change = {}
    for jac, c1, acc in penalized:
        if c1 in plain:
            change[jac] = max(change.get(jac, 0.0), abs(acc - plain[c1]))
    return (
        "largest change from c2 = 0: "
        + "; ".join(f"{jac} {100 * d:.1f} points" for jac, d in change.items())
        + f" over {len(pairs)} cells"
    ), pairs


def insensitive_to_dimension(alpha_by_dim: dict, at_most: float = 0.3) -> bool:
    """ "alpha barely changes with the input dimension": the alphas ``{d: alpha}`` at the paper's
    :data:`DIMENSIONS` lie within ``at_most`` of each other (our threshold: the paper's spread is
    0.01, V1's 2.02)."""
    return within_spread([alpha_by_dim[d] for d in DIMENSIONS], at_most)


def covariance_lowers_alpha(c1s, alphas, at_least: float = 0.1) -> bool:
    """ "Covariance penalization decreases alpha": of the networks without a Jacobian penalty, one
    per ``c1`` in ``c1s`` (alphas in the same order), the one with the largest c1 has an alpha
    lower than the one with the smallest by more than ``at_least`` (our threshold)."""
    c1s, alphas = np.asarray(c1s, float), np.asarray(alphas, float)
    if c1s.size < 2:
        return False
    return bool(alphas[np.argmin(c1s)] - alphas[np.argmax(c1s)] > at_least)


def jacobian_unrelated_everywhere(pairs) -> bool:
    """:func:`jacobian_unrelated` holds for every ``(PGD accuracy with, without)`` pair of
    :func:`jacobian_comparison`, and there is at least one pair."""
    return bool(pairs) and all(jacobian_unrelated(*pair) for pair in pairs)


def is_paper_most_robust(cell) -> bool:
    """The ``(c1, c2, ...)`` of :func:`most_robust` is the paper's :data:`PAPER_MOST_ROBUST`."""
    return cell[:2] == PAPER_MOST_ROBUST


def spectra_differ_across_eps(spectra_by_eps: dict, at_least: float = 0.15) -> Judged:
    """ "The robust-features dataset's spectra differ between the models": on the ``"robust"``
    input of ``{eps: {input name: (eigenvalues, alpha)}}``, the alphas over eps (in its order)
    spread by more than ``at_least`` (our threshold)."""
    on_robust = [by_name["robust"][1] for by_name in spectra_by_eps.values()]
    ours = f"alpha {', '.join(f'{a:.2f}' for a in on_robust)} for eps {', '.join(map(str, spectra_by_eps))}"
    return Judged(ours, differ(on_robust, at_least), f"range over eps > {at_least}")


def datasets_told_apart_more(spectra_by_eps: dict, spread_cifar: float) -> Judged:
    """ "Slightly different" against "identical": the most robust model's (largest eps of
    ``{eps: {input name: (eigenvalues, alpha)}}``) alphas spread more over the four datasets of
    :data:`~companion.papers.smooth_codes.feature_datasets.DATASETS` than ``spread_cifar``, the
    CIFAR-10 CNN's (:func:`tells_apart_more`)."""
    top = max(spectra_by_eps)
    spread_top = np.ptp([spectra_by_eps[top][name][1] for name in feature_datasets.DATASETS])
    return Judged(
        f"spread {spread_top:.2f} (eps = {top}) vs {spread_cifar:.2f}",
        tells_apart_more(spread_top, spread_cifar),
        "spread for the largest eps > spread for the CIFAR-10 model",
    )


def eps0_model_steep(spectra_by_eps: dict, alpha_cnn: float) -> Judged:
    """ "The steep decay in the slope is also present in the eps = 0 model": on the ``"original"``
    input of ``{eps: {input name: (eigenvalues, alpha)}}``, :func:`standard_model_also_steep` of
    the eps = 0 model (nan without one) against the largest eps and the CIFAR-10 CNN's
    ``alpha_cnn``."""
    top = max(spectra_by_eps)
    steep = spectra_by_eps[0.0]["original"][1] if 0.0 in spectra_by_eps else float("nan")
    alpha_top = spectra_by_eps[top]["original"][1]
    return Judged(
        f"alpha {steep:.2f} (eps = 0) vs {alpha_top:.2f} (eps = {top}), CNN {alpha_cnn:.2f}",
        standard_model_also_steep(steep, alpha_top, alpha_cnn),
        "above the CNN's by at least half the most robust one's margin",
    )
