"""The verdict rules of the stabilized-gradients chapter's claims (each unit-tested on inputs that
pass and inputs that fail)."""

from __future__ import annotations


def gradient_mostly_zero(shares) -> bool:
    """FGSM's input gradient is exactly zero on most images for at least one of the losses.
    ``shares``: fractions of images, one per loss."""
    return bool(max(shares) > 0.5)


def robustness_collapses(accuracy: float, plain: float, threshold: float = 50.0) -> tuple:
    """A stabilized attack "is able to fool" a network that plain FGSM did not: ``(passed,
    premise)``, passed when ``accuracy`` falls below ``threshold``, the premise being that plain
    FGSM left at least ``threshold`` (else there was no robustness to break)."""
    return bool(accuracy < threshold), bool(plain >= threshold)


def below_paper_figure(accuracy: float, paper: float, margin: float = 5.0) -> bool:
    """Our attack leaves more than ``margin`` points less than the paper's FGSM accuracy."""
    return bool(accuracy < paper - margin)


def all_fall_to_zero(accuracies, at_most: float = 0.05) -> bool:
    """Every network's accuracy (fractions) is at most ``at_most`` at the largest budget."""
    return bool(max(accuracies) <= at_most)


# --- the verdict printed per network (accuracies as fractions) ----------------------------------

APPARENT_ROBUSTNESS = 0.5  # plain FGSM accuracy from which a network looks robust
MASKING_GAP = 0.2  # accuracy that the stronger attacks must remove to call the robustness masked


def masking_verdict(plain: float, strongest: float, *, robust: float = APPARENT_ROBUSTNESS, gap: float = MASKING_GAP):
    """What the stronger attacks say of a network's robustness to plain FGSM: ``"not robust"``
    when plain FGSM left less than ``robust`` (no apparent robustness to unmask), else
    ``"masking"`` when the ``strongest`` attack leaves more than ``gap`` less than plain FGSM, else
    ``"survives"``. ``plain``, ``strongest``: accuracies (fractions) of one network."""
    if plain < robust:
        return "not robust"
    if strongest < plain - gap:
        return "masking"
    return "survives"
