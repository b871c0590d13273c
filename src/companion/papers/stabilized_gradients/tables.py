"""The text tables and verdict lines the stabilized-gradients chapter prints, from the numbers of
:mod:`companion.papers.stabilized_gradients.experiments`.

Accuracies and shares are fractions, printed in percent where the header says so; networks are
keyed ``(arch, mode)``. ``paper_table`` is the saturating chapter's Table 1,
``{arch: {mode: (clean %, FGSM %)}}``, passed in. Each function returns the text, lines joined by
newlines, without a final newline.
"""

from __future__ import annotations


def gradient_shares(shares: dict) -> str:
    """One row per network: the share of images whose input gradient is exactly zero for each
    loss. ``shares``: ``{(arch, mode): {loss: {"zero", ...}}}``."""
    lines = [
        f"{'':25s} share of images with an exactly zero gradient: cross-entropy  clipped cross-entropy  logit margin"
    ]
    for (arch, mode), s in shares.items():
        lines.append(
            f"{arch:12s} {mode:12s} {s['cross_entropy']['zero']:48.3f} {s['clipped_cross_entropy']['zero']:22.3f} "
            f"{s['logit_margin']['zero']:13.3f}"
        )
    return "\n".join(lines)


def fgsm(accuracies: dict, paper_table: dict) -> str:
    """One row per network: Table 1's FGSM accuracy, then FGSM with the logits' and the clipped
    cross-entropy and the stabilized FGSM (%). ``accuracies``: ``{(arch, mode): {loss: accuracy}}``."""
    lines = [f"{'':25s} Table 1 FGSM   FGSM: logits  clipped   stabilized FGSM"]
    for (arch, mode), acc in accuracies.items():
        lines.append(
            f"{arch:12s} {mode:12s} {paper_table[arch][mode][1]:11.2f}% "
            f"{100 * acc['cross_entropy']:12.2f}% {100 * acc['clipped_cross_entropy']:8.2f}% "
            f"{100 * acc['logit_margin']:13.2f}%"
        )
    return "\n".join(lines)


def stronger_attacks(pgd: dict, pgd_single: dict, transfer: dict, paper_table: dict, *, restarts: int) -> str:
    """One row per network of ``pgd``: Table 1's FGSM accuracy, PGD with ``restarts`` starts and
    with one, and transfer (a dash where the network was the source), all ``{(arch, mode): accuracy}``."""
    lines = [f"{'':25s} Table 1 FGSM   PGD ({restarts} starts)   PGD (1 start)   transfer"]
    for arch, mode in pgd:
        t = f"{100 * transfer[arch, mode]:8.2f}%" if (arch, mode) in transfer else "       —"
        lines.append(
            f"{arch:12s} {mode:12s} {paper_table[arch][mode][1]:11.2f}% {100 * pgd[arch, mode]:15.2f}% "
            f"{100 * pgd_single[arch, mode]:14.2f}% {t}"
        )
    return "\n".join(lines)


def readout_saturated(readout_term: dict, shares: dict, accuracies: dict, *, images: int) -> str:
    """The readout-saturated network: eq. (8)'s readout term per network ``{name: value}``, its
    shares of exactly zero input gradients ``{loss: {"zero", ...}}``, and its accuracy on
    ``images`` test images under each attack ``{attack: accuracy}``."""
    lines = [
        "readout term of eq. (8), mean over images: " + ", ".join(f"{k} {v:.3g}" for k, v in readout_term.items()),
        "share of images with an exactly zero input gradient: "
        + ", ".join(f"{loss.replace('_', ' ')} {s['zero']:.3f}" for loss, s in shares.items()),
        f"accuracy of the readout-saturated network on {images} test images:",
    ]
    lines += [f"  {name:40s} {100 * acc:6.2f}%" for name, acc in accuracies.items()]
    return "\n".join(lines)


def worst_accuracies(arch: str, worst: dict, *, paper: float) -> str:
    """One architecture's accuracy under the strongest attack per mode ``{mode: accuracy}``,
    beside Table 1's FGSM accuracy ``paper`` (%) of its saturated network."""
    return (
        f"{arch:12s} "
        + ", ".join(f"{mode} {100 * w:.1f}%" for mode, w in worst.items())
        + f" (Table 1 saturated: {paper:.1f}%)"
    )


def readout_verdict(plain: float, stabilized: float, strongest: float, verdict: str) -> str:
    """The readout-saturated network's line: plain and stabilized FGSM, the strongest attack, and
    whether ``verdict`` (:func:`~companion.papers.stabilized_gradients.claims.masking_verdict`) is masking."""
    return (
        f"  readout saturated on purpose: plain FGSM {100 * plain:.1f}%, stabilized FGSM "
        f"{100 * stabilized:.1f}%, strongest attack {100 * strongest:.1f}%: "
        + ("masking, as the critique says" if verdict == "masking" else "no masking")
    )


def masking_verdict(arch: str, verdict: str, *, plain: float) -> str:
    """The saturated network's line for ``verdict``
    (:func:`~companion.papers.stabilized_gradients.claims.masking_verdict`); ``plain``: its plain
    FGSM accuracy."""
    if verdict == "not robust":
        return (
            f"  {arch}: the saturated network was not robust to plain FGSM in the first place "
            f"({100 * plain:.1f}%), so there was no apparent robustness to unmask"
        )
    if verdict == "masking":
        return f"  {arch}: FGSM robustness that stronger attacks remove: gradient masking, as the critique says"
    return f"  {arch}: the FGSM robustness survives the stronger attacks"
