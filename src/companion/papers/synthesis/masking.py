"""The masking check of ``python -m companion diagnose``: does a model's robustness come from
attacks that fail rather than from the model? Each check names what it found and the numbers
behind it (:func:`masking_findings` on a :func:`~companion.papers.synthesis.diagnose.diagnose`
report)."""

from __future__ import annotations

from dataclasses import dataclass

TOLERANCE = 0.02  # an accuracy difference smaller than this (a fraction) is not a finding


@dataclass(frozen=True)
class Finding:
    """One check: its name, whether it fired, whether firing points to masking (else it is a
    reading of the numbers), what it says, and the numbers behind it."""

    name: str
    fired: bool
    masking: bool
    says: str
    numbers: str


def percent(v: float) -> str:
    """A fraction as a percentage with one decimal: ``0.1234`` -> ``"12.3%"``."""
    return f"{100 * v:.1f}%"


def masking_findings(r: dict, tolerance: float = TOLERANCE) -> list[Finding]:
    """The masking check on a :func:`diagnose` report ``r``. Of Pintor et al.'s six indicators
    of attack failure (NeurIPS 2022), five are here: unavailable gradients, incomplete
    optimization, non-converging attack (restarts), transfer failure (as "black box stronger",
    when a surrogate ran) and unconstrained attack failure. Silent success is left out: every
    attack here keeps the first misclassified iterate, so an attack cannot find an adversarial
    example and report a failure. To these, the book's own: the two losses disagree, a
    single step beats the iterative attack, a gradient-free attack beats the white-box ones."""
    pgd = min(r["pgd"].values())
    zero = r["zero_gradients"]["cross_entropy"]
    out = [
        Finding(
            "unavailable gradients (Pintor et al.)",
            zero > 0.05,
            True,
            "the cross-entropy's input gradient is exactly zero on many images: FGSM and PGD on it cannot move them",
            f"{percent(zero)} of images have an exactly zero gradient (logit margin: "
            f"{percent(r['zero_gradients']['logit_margin'])})",
        ),
        Finding(
            "the two losses disagree",
            r["pgd"]["cross_entropy"] - r["pgd"]["logit_margin"] > 0.1,
            True,
            "PGD on the cross-entropy leaves far more accuracy than PGD on the logit margin: the cross-entropy's "
            "gradient vanishes (as in the stabilized-gradients chapter)",
            f"PGD accuracy {percent(r['pgd']['cross_entropy'])} (cross-entropy) against "
            f"{percent(r['pgd']['logit_margin'])} (logit margin)",
        ),
        Finding(
            "a single step beats the iterative attack",
            min(r["fgsm"].values()) < pgd - tolerance,
            True,
            "FGSM does better than PGD: the iterative attack is failing",
            f"FGSM {percent(min(r['fgsm'].values()))} against PGD {percent(pgd)}",
        ),
        Finding(
            "incomplete optimization (Pintor et al.)",
            r["pgd_double_steps"] < r["pgd_one_start"] - tolerance,
            True,
            "twice the steps lowers the accuracy further: the attack had not converged",
            f"PGD {r['steps']} steps {percent(r['pgd_one_start'])}, "
            f"{2 * r['steps']} steps {percent(r['pgd_double_steps'])}",
        ),
        Finding(
            "non-converging attack: restarts help (Pintor et al.)",
            r["pgd"]["logit_margin"] < r["pgd_one_start"] - tolerance,
            True,
            "random restarts find adversarial examples the first start missed: a rugged loss",
            f"PGD with {r['restarts']} starts {percent(r['pgd']['logit_margin'])}, "
            f"one start {percent(r['pgd_one_start'])}",
        ),
        Finding(
            "unconstrained attack failure (Pintor et al.)",
            r["unbounded"]["accuracy"] > 0.05,
            True,
            "with no bound on the perturbation the attack should reach zero accuracy; it does not",
            f"PGD at eps = {r['unbounded']['eps']:g}: {percent(r['unbounded']['accuracy'])}",
        ),
    ]
    if "spsa" in r:
        s = r["spsa"]
        out.append(
            Finding(
                "a gradient-free attack beats the white-box ones",
                s["accuracy"] < s["pgd_same_images"] - tolerance,
                True,
                "SPSA, which uses no gradient, does better than PGD on the same images",
                f"SPSA {percent(s['accuracy'])} against PGD {percent(s['pgd_same_images'])} on {s['images']} images",
            )
        )
    if "transfer" in r:
        out.append(
            Finding(
                "transfer failure: black box stronger (Pintor et al.)",
                r["transfer"] < pgd - tolerance,
                True,
                "examples crafted on a surrogate fool this model more than its own gradients do",
                f"transfer {percent(r['transfer'])} against white-box PGD {percent(pgd)}",
            )
        )
    out.append(
        Finding(
            "FGSM overstates the robustness",
            r["fgsm"]["cross_entropy"] - pgd > 0.3,
            False,
            "FGSM on the cross-entropy, the usual single-step figure, claims much more robustness than PGD "
            "leaves: report PGD",
            f"FGSM (cross-entropy) {percent(r['fgsm']['cross_entropy'])}, PGD {percent(pgd)}",
        )
    )
    return out
