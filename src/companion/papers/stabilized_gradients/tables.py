"""The results tables and verdict lines the stabilized-gradients chapter shows, from the numbers of
:mod:`companion.papers.stabilized_gradients.experiments`.

Accuracies and shares are fractions, printed in percent where the header says so; networks are
keyed ``(arch, mode)``. ``paper_table`` is the saturating chapter's Table 1,
``{arch: {mode: (clean %, FGSM %)}}``, passed in. The ``..._table`` functions return a
:class:`companion.display.Table`: its text form (``repr``) is the fixed-width text the chapter
printed, and the book shows the same cells as an HTML table. The verdict-line functions return
the text, lines joined by newlines, without a final newline.
"""

from __future__ import annotations

from companion.display import Table

SIGN_LABELS = ("single step stronger", "black box stronger", "no zero at large ε", "restarts help")


def _row(parts) -> tuple:
    """The cells of a row from its fixed-width pieces: the pieces without their padding."""
    return tuple(str(part).strip() for part in parts)


def _network_table(header_line: str, labels: tuple, parts: list, **kw) -> Table:
    """A table of one header line then one row per network, each row's fixed-width ``parts``
    joined by spaces; ``labels``: the columns after the network's two (architecture, training)."""
    lines = [header_line] + [" ".join(p) for p in parts]
    return Table(text="\n".join(lines), header=("network", "training", *labels), rows=tuple(map(_row, parts)), **kw)


def gradient_shares_table(shares: dict) -> Table:
    """One row per network: the share of images whose input gradient is exactly zero for each
    loss. ``shares``: ``{(arch, mode): {loss: {"zero", ...}}}``."""
    header_line = (
        f"{'':25s} share of images with an exactly zero gradient: cross-entropy  clipped cross-entropy  logit margin"
    )
    parts = [
        (
            f"{arch:12s}",
            f"{mode:12s}",
            f"{s['cross_entropy']['zero']:48.3f}",
            f"{s['clipped_cross_entropy']['zero']:22.3f}",
            f"{s['logit_margin']['zero']:13.3f}",
        )
        for (arch, mode), s in shares.items()
    ]
    labels = tuple(
        f"share of exactly zero gradients: {loss}"
        for loss in ("cross-entropy", "clipped cross-entropy", "logit margin")
    )
    return _network_table(header_line, labels, parts)


def fgsm_table(accuracies: dict, paper_table: dict) -> Table:
    """One row per network: Table 1's FGSM accuracy, then FGSM with the logits' and the clipped
    cross-entropy and the stabilized FGSM (%). ``accuracies``: ``{(arch, mode): {loss: accuracy}}``."""
    parts = [
        (
            f"{arch:12s}",
            f"{mode:12s}",
            f"{paper_table[arch][mode][1]:11.2f}%",
            f"{100 * acc['cross_entropy']:12.2f}%",
            f"{100 * acc['clipped_cross_entropy']:8.2f}%",
            f"{100 * acc['logit_margin']:13.2f}%",
        )
        for (arch, mode), acc in accuracies.items()
    ]
    labels = ("Table 1 FGSM", "FGSM: logits", "FGSM: clipped", "stabilized FGSM")
    return _network_table(f"{'':25s} Table 1 FGSM   FGSM: logits  clipped   stabilized FGSM", labels, parts)


def stronger_attacks_table(pgd: dict, pgd_single: dict, transfer: dict, paper_table: dict, *, restarts: int) -> Table:
    """One row per network of ``pgd``: Table 1's FGSM accuracy, PGD with ``restarts`` starts and
    with one, and transfer (a dash where the network was the source), all ``{(arch, mode): accuracy}``."""
    parts = [
        (
            f"{arch:12s}",
            f"{mode:12s}",
            f"{paper_table[arch][mode][1]:11.2f}%",
            f"{100 * pgd[arch, mode]:15.2f}%",
            f"{100 * pgd_single[arch, mode]:14.2f}%",
            f"{100 * transfer[arch, mode]:8.2f}%" if (arch, mode) in transfer else "       —",
        )
        for arch, mode in pgd
    ]
    labels = ("Table 1 FGSM", f"PGD ({restarts} starts)", "PGD (1 start)", "transfer")
    header_line = f"{'':25s} Table 1 FGSM   PGD ({restarts} starts)   PGD (1 start)   transfer"
    return _network_table(header_line, labels, parts)


def masking_signs_table(signs: dict) -> Table:
    """One row per network: whether each of the four signs of gradient masking shows ("yes"), from
    ``signs`` ``{(arch, mode): experiments.masking_signs(...)}`` (its four checks in their order)."""
    parts = [
        (f"{arch:12s}", f"{mode:12s}", " | ".join(f"{'yes' if v else 'no':>18s}" for v in s.values()))
        for (arch, mode), s in signs.items()
    ]
    lines = [f"{'':25s} " + " | ".join(SIGN_LABELS)] + [" ".join(p) for p in parts]
    rows = [(arch, mode, *("yes" if v else "no" for v in s.values())) for (arch, mode), s in signs.items()]
    return Table(text="\n".join(lines), header=("network", "training", *SIGN_LABELS), rows=tuple(rows))


def readout_saturated_table(
    readout_term: dict, shares: dict, accuracies: dict, *, images: int, saturated_stabilized: float | None = None
) -> Table:
    """The readout-saturated network: eq. (8)'s readout term per network ``{name: value}`` and its
    shares of exactly zero input gradients ``{loss: {"zero", ...}}`` (the title), then its accuracy
    on ``images`` test images under each attack ``{attack: accuracy}``, one row each; the note,
    if ``saturated_stabilized`` is given: the saturated network's own accuracy under stabilized FGSM."""
    title = "\n".join(
        [
            "readout term of eq. (8), mean over images: " + ", ".join(f"{k} {v:.3g}" for k, v in readout_term.items()),
            "share of images with an exactly zero input gradient: "
            + ", ".join(f"{loss.replace('_', ' ')} {s['zero']:.3f}" for loss, s in shares.items()),
        ]
    )
    lines = [f"accuracy of the readout-saturated network on {images} test images:"]
    lines += [f"  {name:40s} {100 * acc:6.2f}%" for name, acc in accuracies.items()]
    rows = tuple((name, f"{100 * acc:.2f}%") for name, acc in accuracies.items())
    note = (
        ""
        if saturated_stabilized is None
        else f"the saturated network itself: stabilized FGSM {100 * saturated_stabilized:.2f}%"
    )
    header = ("attack on the readout-saturated network", f"accuracy on {images} test images")
    return Table(text="\n".join(lines), header=header, rows=rows, title=title, note=note)


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
        + ("masking, our reading of the critique" if verdict == "masking" else "no masking")
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
        return f"  {arch}: FGSM robustness that stronger attacks remove: gradient masking, our reading of the critique"
    return f"  {arch}: the FGSM robustness survives the stronger attacks"
