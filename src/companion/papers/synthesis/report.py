"""The report of ``python -m companion diagnose``: Markdown, a standalone HTML page, a figure and
the JSON of every measurement, written whole or not at all."""

from __future__ import annotations

import json
import math
from pathlib import Path

from companion import files, plotting
from companion.papers.synthesis.masking import percent

CHAPTERS = "book/notebooks"  # the chapters that explain each diagnostic, in the project


# One sentence per diagnostic, in our words: what the measure is and which way the chapter that
# explains it reads it; the chapter quotes the paper (book/notebooks/<chapter>.md).
READINGS = {
    "tilt": (
        "boundary_tilting",
        "median angle (degrees) between the normal of the nearest boundary and the "
        "direction between the two class centroids; the chapter relates a larger tilt to a boundary "
        "nearer the data",
    ),
    "alpha": (
        "smooth_codes",
        "power-law exponent of the penultimate code's eigenspectrum; the chapter tests "
        "whether a steeper spectrum (a smoother code) goes with robustness",
    ),
    "kurtosis": (
        "saturating_networks",
        "mean excess kurtosis of the weights; the chapter measures how "
        "heavy-tailed the weights of saturated networks are",
    ),
    "ratio_gain": (
        "saturating_networks",
        "gain (%) of the scaled ratio (14) for the first layer's weights "
        "over Gaussian weights; the chapter measures it for saturated and vanilla networks",
    ),
    "noise": (
        "adversarial_spheres",
        "error rate under Gaussian noise, and the median distance to an error "
        "over the isoperimetric bound (1: as near as the bound allows); the chapter relates errors in "
        "noise to nearby adversarial examples",
    ),
    "zero_gradients": (
        "stabilized_gradients",
        "share of images whose cross-entropy gradient is exactly zero; "
        "the chapter shows how such a share makes gradient attacks see robustness that is not "
        "there",
    ),
}


def _value(r: dict, key: str) -> str:
    if key == "zero_gradients":
        return percent(r["zero_gradients"]["cross_entropy"])
    if key == "noise":
        n = r["papers"].get("noise")
        return "—" if not n else f"error {percent(n['error_rate'])} at sigma {n['sigma']:g}, ratio {n['ratio']:.2f}"
    v = r["papers"].get(key, float("nan"))
    return "nan" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"


def chapter_in_project(chapter: str) -> str:
    """The link to a chapter's source, from the project's folder."""
    return f"{CHAPTERS}/{chapter}.md"


def summary(r: dict) -> str:
    """One line: the masking verdict, clean accuracy and the lowest PGD accuracy."""
    verdict = "masking suspected" if r["masking"] else "no sign of masking"
    return f"{verdict}; clean {percent(r['clean'])}, PGD {percent(min(r['pgd'].values()))}"


def markdown(r: dict, link=chapter_in_project) -> str:
    """The report as Markdown; ``link(chapter)`` is the address of a chapter."""
    fired = [f for f in r["findings"] if f["fired"]]
    verdict = "**masking suspected**" if r["masking"] else "**no sign of masking**"
    lines = [
        f"# Diagnosis of `{r['model']}` on {r['data']} ({r['images']} images)",
        "",
        f"Masking check: {verdict}. {len(fired)} of {len(r['findings'])} checks fired.",
        "",
    ]
    lines += [f"> {note}" for note in r["notes"]] + ([""] if r["notes"] else [])
    lines += ["## Accuracy", "", "| attack | accuracy |", "|---|---|", f"| none (clean) | {percent(r['clean'])} |"]
    budget = f"{r['norm']} eps = {r['eps']:g}"
    for loss in ("cross_entropy", "logit_margin"):
        lines.append(f"| FGSM, {loss.replace('_', ' ')}, {budget} | {percent(r['fgsm'][loss])} |")
        lines.append(f"| PGD, {loss.replace('_', ' ')}, {r['restarts']} starts, {budget} | {percent(r['pgd'][loss])} |")
    lines += [f"| PGD, logit margin, eps = {b} | {percent(a)} |" for b, a in r["pgd_by_budget"].items()]
    lines.append(f"| PGD, unbounded (eps = {r['unbounded']['eps']:g}) | {percent(r['unbounded']['accuracy'])} |")
    if "spsa" in r:
        lines.append(f"| SPSA ({r['spsa']['images']} images) | {percent(r['spsa']['accuracy'])} |")
    if "transfer" in r:
        lines.append(f"| transfer from a surrogate MLP | {percent(r['transfer'])} |")
    if "deepfool" in r and r["deepfool"]["quartiles"]:
        q = r["deepfool"]["quartiles"]
        lines += [
            "",
            f"DeepFool's L2 distance to the nearest error ({r['deepfool']['found']} of "
            f"{r['deepfool']['images']} correctly classified images): quartiles {q[0]:.3g}, {q[1]:.3g}, {q[2]:.3g}.",
        ]
    lines += ["", "## The masking check", "", "| check | fired | numbers | what it means |", "|---|---|---|---|"]
    for f in r["findings"]:
        mark = ("**yes**" if f["masking"] else "yes (a reading)") if f["fired"] else "no"
        lines.append(f"| {f['name']} | {mark} | {f['numbers']} | {f['says']} |")
    lines += [
        "",
        "## Each paper's diagnostic",
        "",
        "| diagnostic | value | what it measures, and what its chapter examines |",
        "|---|---|---|",
    ]
    for key, (chapter, reading) in READINGS.items():
        lines.append(f"| {key} ([{chapter}]({link(chapter)})) | {_value(r, key)} | {reading} |")
    lines += ["", f"Measured in {r['seconds']:.0f} s.", ""]
    return "\n".join(lines)


def figure(r: dict):
    """Accuracy against the budget, and the DeepFool distances."""
    plt = plotting.pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    budgets = [float(k) for k in r["pgd_by_budget"]]
    a.plot([0] + budgets, [r["clean"]] + list(r["pgd_by_budget"].values()), "o-")
    a.set(xlabel=f"{r['norm']} budget", ylabel="accuracy under PGD (logit margin)", ylim=(-0.02, 1.02))
    d = [v for v in r.get("deepfool", {}).get("distances", []) if math.isfinite(v)]
    b.hist(d, bins=30)
    b.set(xlabel="DeepFool L2 distance to the nearest error", ylabel="images")
    fig.tight_layout()
    return fig


def write_report(r: dict, out: str | Path) -> Path:
    """``report.json``, ``report.md``, ``report.html`` and ``figure.png`` in ``out``."""
    import io

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig = figure(r)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plotting.pyplot().close(fig)
    files.write_bytes(out / "figure.png", buffer.getvalue())
    files.write_text(out / "report.json", json.dumps(r, indent=1, default=float) + "\n")
    md = markdown(r) + "\n![accuracy and distances](figure.png)\n"
    files.write_text(out / "report.md", md)
    files.write_text(out / "report.html", _html(md))
    return out


def _html(md: str) -> str:
    """A small standalone HTML page of the Markdown report (tables, headings, links, the figure)."""
    import html as h

    style = (
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "td,th{border-bottom:1px solid #ddd;padding:.2em .5em;text-align:left}"
    )
    return (
        f"<!doctype html><meta charset='utf-8'><title>{h.escape('diagnosis')}</title><style>{style}</style>\n"
        f"{html_body(md)}\n"
    )


def html_body(md: str, first_heading: int = 1) -> str:
    """The report's Markdown as HTML elements (tables, headings from level ``first_heading``,
    links, the figure), for a page of its own or for a page that already has its headings."""
    import html
    import re

    def inline(text: str) -> str:
        text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))
        text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
        # only relative links, as markdown() writes them (to the chapters): no scheme, no quotes
        return re.sub(r"\[([^\]]+?)\]\(([\w./#-]+)\)", r'<a href="\2">\1</a>', text)

    body, rows = [], []
    for line in md.splitlines() + [""]:
        if line.startswith("|"):
            if not set(line) <= set("|-"):
                rows.append([inline(c.strip()) for c in line.strip("|").split("|")])
            continue
        if rows:
            head, *rest = rows
            cells = [f"<tr>{''.join(f'<th>{c}</th>' for c in head)}</tr>"]
            cells += [f"<tr>{''.join(f'<td>{c}</td>' for c in r)}</tr>" for r in rest]
            body.append(f"<table>{''.join(cells)}</table>")
            rows = []
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#")) + first_heading - 1
            body.append(f"<h{level}>{inline(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("!["):
            body.append(f'<img src="{html.escape(line[line.index("(") + 1 : -1])}" alt="figure">')
        elif line.strip():
            body.append(f"<p>{inline(line.lstrip('> '))}</p>")
    return "\n".join(body)
