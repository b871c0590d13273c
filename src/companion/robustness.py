"""Accuracy under attack, and the usual signs of gradient masking (Athalye et al. 2018;
Carlini et al. 2019), for the stabilized-gradients chapter.

All accuracies are fractions of the evaluated images; inputs are ``(n, ...)`` in [0, 1].
"""
from __future__ import annotations

import numpy as np

from . import attacks, training

SMALLEST_NORMAL_FLOAT32 = float(np.finfo(np.float32).tiny)
UNTARGETED_LOSSES = ("cross_entropy", "clipped_cross_entropy", "logit_margin")


def gradient_shares(model, x, y) -> dict:
    """Shares of inputs whose float32 input gradient is exactly zero, or below the smallest
    normal float32 everywhere, for each loss of :data:`UNTARGETED_LOSSES` (the two ways of
    writing the cross-entropy and the logit margin): ``{loss: {"zero", "subnormal"}}``."""
    out = {}
    for loss in UNTARGETED_LOSSES:
        g = np.abs(attacks.batched(attacks.input_gradient, model, x, y, loss=loss, batch_size=500))
        g = g.reshape(len(x), -1)
        out[loss] = {"zero": float(np.mean(np.all(g == 0, axis=1))),
                     "subnormal": float(np.mean(np.all(g < SMALLEST_NORMAL_FLOAT32, axis=1)))}
    return out


def fgsm_accuracy(model, x, y, eps: float, loss: str) -> float:
    """Accuracy under FGSM with a cross-entropy or the stabilized logit-margin gradient."""
    return training.accuracy(model, attacks.batched(attacks.fgsm, model, x, y, eps, loss=loss, batch_size=500), y)


def pgd_accuracy(model, x, y, eps: float, steps: int, restarts: int = 1, seed: int = 0,
                 loss: str = "logit_margin", norm: str = "linf") -> float:
    """Accuracy under PGD (:func:`companion.attacks.pgd`: ``loss``, ``norm``; an example counts
    as fooled if any iterate fools the model), step size 2.5 eps / steps."""
    step = 2.5 * eps / max(steps, 1)
    x_adv = attacks.batched(attacks.pgd, model, x, y, eps, steps, step, restarts, loss,
                            batch_size=500, seed=seed, norm=norm)
    return training.accuracy(model, x_adv, y)


def transfer_accuracy(source, targets: list, x, y, eps: float, steps: int) -> list[float]:
    """Accuracy of each model of ``targets`` on the same PGD examples, crafted once on ``source``
    (a black-box attack: no gradient of a target is used)."""
    step = 2.5 * eps / max(steps, 1)
    x_adv = attacks.batched(attacks.pgd, source, x, y, eps, steps, step, 1, "logit_margin", batch_size=500,
                            until_fooled=False)  # the last iterate transfers better than the first to fool
    return [training.accuracy(target, x_adv, y) for target in targets]


def masking_signs(fgsm: float, pgd: float, pgd_one_restart: float, transfer: float,
                  largest_eps_accuracy: float, tolerance: float = 0.02) -> dict:
    """The four checks, each True where it points to gradient masking:

    * single-step stronger than iterative (FGSM accuracy below PGD's);
    * black-box stronger than white-box (transfer accuracy below PGD's);
    * accuracy does not reach (near) zero at the largest budget;
    * random restarts help (accuracy with restarts clearly below a single start).
    """
    return {"single_step_stronger": fgsm < pgd - tolerance,
            "black_box_stronger": transfer < pgd - tolerance,
            "no_zero_at_large_eps": largest_eps_accuracy > 0.05,
            "restarts_help": pgd < pgd_one_restart - tolerance}


# --- rules of the stabilized-gradients claims (accuracies in percent) --------------------------

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
