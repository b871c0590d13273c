"""The verdict rules of the adversarial-spheres chapter: each decides one scorecard claim from
what the chapter measured."""

from __future__ import annotations

import numpy as np

from companion.papers.adversarial_spheres.theory import R_OUTER, perfect_alphas

PAPER_D = 500  # "Our first experiment used an input dimensionality of d = 500" (section 3)
PAPER_STEPS = 1_000_000  # "We use Adam optimizer (Kingma & Ba, 2014) for 1 million training steps" (section 3)


def judged(*, d: int, relu_steps: int, min_relu_steps: int = 10000) -> bool:
    """Whether a run is large enough to judge the paper's claims: the paper's ``d = 500`` and at
    least ``min_relu_steps`` training steps of the ReLU network (the ``ci`` profile's tiny runs
    are not judged)."""
    return d == PAPER_D and relu_steps >= min_relu_steps


def trained_as_long(steps: int) -> bool:
    """Whether a network trained as long as the paper's (:data:`PAPER_STEPS`), so that the claims
    about the trained network can be judged: a network trained for a hundredth of that is less
    accurate, and its errors say nothing against the paper's."""
    return steps >= PAPER_STEPS


def judged_runs(settings) -> tuple[bool, bool, bool]:
    """``(any, relu, quad)``: whether this profile's runs are judged at all (:func:`judged`), and
    whether the claims about the trained ReLU and quadratic networks are too (also
    :func:`trained_as_long`). ``settings``: the chapter's profile settings."""
    any_judged = judged(d=settings.d, relu_steps=settings.relu_steps)
    return (
        any_judged,
        any_judged and trained_as_long(settings.relu_steps),
        any_judged and trained_as_long(settings.quad_steps),
    )


def no_errors(rates: dict) -> bool:
    """Section 3: not one error among the random samples of either sphere. ``rates``: as
    ``experiments.error_rates`` returns them, ``{sphere: {"errors": count, ...}}``."""
    return all(r["errors"] == 0 for r in rates.values())


def every_alpha_correct(alphas, r_outer: float = R_OUTER) -> bool:
    """Section 4: every ``alpha_i`` (``(d,)``) lies in ``[1/R^2, 1]``, i.e. the quadratic network
    makes no error at all."""
    return bool(np.all(perfect_alphas(alphas, r_outer)))


def clt_rate_tiny(rate: float, below: float = 1e-6) -> bool:
    """Section 4: the CLT error rate (Proposition 4.1) is tiny, below ``below`` (the paper's
    model: 1e-11); nan fails."""
    return bool(rate < below)


def near_in_steps(step: float, paper_step: float = 1000, factor: float = 3.0) -> bool:
    """Within ``factor`` of the paper's step count either way ("adversarial examples can once
    again be found after 1000 training steps"); nan (never) fails."""
    return bool(np.isfinite(step) and paper_step / factor <= step <= paper_step * factor)


# --- rules of the sections 3-5 claims ----------------------------------------------------------


def clt_agrees(predicted: float, measured: float, n: int) -> bool:
    """The CLT error rate within 3 standard errors (plus 10%) of a Monte Carlo estimate from
    ``n`` samples."""
    return bool(abs(predicted - measured) <= 3 * np.sqrt(measured * (1 - measured) / n) + 0.1 * measured)


def errors_reappear(avg_loss, worst_loss, error_share) -> bool:
    """From a perfect start: the average loss falls, the worst-case loss rises, and some attacked
    point ends misclassified. Each argument: ``(k,)`` over the logged steps."""
    return bool(avg_loss[-1] < avg_loss[0] and worst_loss[-1] > worst_loss[0] and np.max(error_share) > 0)


def near_cap(ratios, band: tuple = (0.5, 1.2)) -> bool:
    """The median of distance / optimal cap distance over the snapshots lies in ``band``."""
    return bool(len(ratios)) and band[0] <= float(np.median(ratios)) <= band[1]
