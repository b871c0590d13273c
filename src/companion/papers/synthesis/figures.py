"""The synthesis chapter's figure: every diagnostic against robust accuracy."""

from __future__ import annotations

import numpy as np

from companion import plotting


def diagnostics_against_robustness(rows: list[dict], diagnostics: dict, robustness: str = "pgd"):
    """One panel per diagnostic: its value (y) against robust accuracy (x) for each network,
    MNIST and CIFAR-10 in two colours, each point labelled. ``rows``: dicts with ``name``,
    ``dataset`` and the measures; ``diagnostics``: ``{key: axis label}``."""
    plt = plotting.pyplot()
    cols = 3
    fig, axes = plt.subplots(
        -(-len(diagnostics) // cols), cols, figsize=(13, 3.8 * -(-len(diagnostics) // cols)), squeeze=False
    )
    colours = {"mnist": "tab:blue", "cifar10": "tab:orange"}
    for ax, (key, label) in zip(axes.flat, diagnostics.items()):
        for dataset, colour in colours.items():
            pts = [(r[robustness], r[key], r["name"]) for r in rows if r["dataset"] == dataset and np.isfinite(r[key])]
            if not pts:
                continue
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], color=colour, label=dataset, s=22)
            for px, py, name in pts:
                ax.annotate(name, (px, py), fontsize=6, alpha=0.7, xytext=(2, 2), textcoords="offset points")
        ax.set_xlabel("L2 PGD accuracy")
        ax.set_ylabel(label)
    for ax in list(axes.flat)[len(diagnostics) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
