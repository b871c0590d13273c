"""The figures of the smooth-codes chapter. Each function draws one figure and returns it."""

from __future__ import annotations

import numpy as np

from companion import plotting


def eigenspectra(spectra_by_label: dict, title: str):
    """Log-log eigenspectra: ``{label: (eigenvalues, alpha)}``."""
    plt = plotting.pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (lam, alpha) in spectra_by_label.items():
        ranks = np.arange(1, len(lam) + 1)
        ax.loglog(ranks, np.maximum(lam, 1e-12), label=f"{label}, α = {alpha:.2f}", lw=0.9)
    ax.set(xlabel="rank n", ylabel="eigenvalue", title=title)
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def alpha_by_dimension(dims, alphas, bound, zca_alpha: float):
    """Figure 4 (right): alpha against the input dimension, with Stringer's bound and ZCA."""
    plt = plotting.pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.semilogx(dims, alphas, "o-", label="our model")
    ax.semilogx(dims, bound, "k--", label="1 + 2/d")
    ax.axhline(zca_alpha, color="C2", ls=":", label="ZCA-whitened")
    ax.set(xlabel="input dimension d (principal components)", ylabel="α")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def penalty_grid(rows):
    """Figures 7 and 8: alpha and PGD accuracy against c1 (one line per c2 and Jacobian norm),
    and accuracy against alpha. ``rows``: ``(c1, c2, jacobian, alpha, accuracy, ...)``."""
    plt = plotting.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    groups = sorted({(r[1], r[2]) for r in rows})
    for c2, jac in groups:
        line = sorted((r for r in rows if (r[1], r[2]) == (c2, jac)), key=lambda r: r[0])
        label = f"c2 = {c2}" + (f" ({jac})" if c2 else "")
        c1s = [r[0] for r in line]
        axes[0].plot(c1s, [r[3] for r in line], "o-", label=label)
        axes[1].plot(c1s, [100 * r[4] for r in line], "o-", label=label)
        axes[2].scatter([r[3] for r in line], [100 * r[4] for r in line], label=label)
    axes[0].set(xlabel="c1 (covariance penalty)", ylabel="α", title="α (Figure 7, left)")
    axes[1].set(xlabel="c1 (covariance penalty)", ylabel="PGD accuracy (%)", title="PGD accuracy (Figure 7, right)")
    axes[2].set(xlabel="α", ylabel="PGD accuracy (%)", title="accuracy against α (Figure 8)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig
