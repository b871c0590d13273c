"""The figures of the adversarial-spheres chapter; each function returns its figure."""

from __future__ import annotations

import numpy as np

from companion import plotting
from companion.papers.adversarial_spheres import theory
from companion.papers.adversarial_spheres.experiments import training_set_label


def _circles(ax, radii_styles):
    t = np.linspace(0, 2 * np.pi, 200)
    for r, style in radii_styles:
        ax.plot(r * np.cos(t), r * np.sin(t), style, lw=1)


def sphere_slices(slices, extent: float, r_outer: float):
    """Figure 1: ``slices`` is a list of ``(title, logits)`` on ``[-extent, extent]^2`` grids; the
    region classified as the inner sphere is green, the data circles black, the max-margin
    circle red."""
    plt = plotting.pyplot()
    fig, axes = plt.subplots(1, len(slices), figsize=(4.3 * len(slices), 4.3), squeeze=False)
    for ax, (title, logits) in zip(axes[0], slices):
        grid = np.linspace(-extent, extent, logits.shape[0])
        ax.contourf(grid, grid, logits < 0, levels=[0.5, 1.5], colors=["#9be39b"])
        _circles(ax, ((1.0, "k-"), (r_outer, "k-"), ((1 + r_outer) / 2, "r--")))
        ax.set(title=title, aspect="equal")
    fig.suptitle("green: classified as inner sphere; black: data; red dashed: max-margin boundary")
    fig.tight_layout()
    return fig


def accuracy_by_norm(norms, accuracy, boundary: float, d: int, logits_2d, extent: float, r_outer: float):
    """Figure 2: accuracy on random points against their norm, and the 2-D model's regions."""
    plt = plotting.pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.plot(norms, 100 * np.asarray(accuracy), "o-")
    ax1.axvline(boundary, color="r", ls="--")
    ax1.set(xlabel="norm", ylabel="accuracy on random points (%)", title=f"d = {d}")
    grid = np.linspace(-extent, extent, logits_2d.shape[0])
    ax2.contourf(grid, grid, logits_2d < 0, levels=[0.5, 1.5], colors=["#9be39b"])
    _circles(ax2, ((1.0, "k-"), (r_outer, "k-")))
    ax2.set(aspect="equal", title="d = 2, trained on 100 points")
    fig.tight_layout()
    return fig


def alphas_and_perfect_start(
    alphas, *, train_size: int, steps, avg_loss, worst_loss, error_share, r_outer: float = theory.R_OUTER
):
    """Figure 3: the histogram of the ``alpha_i`` ``(d,)`` after training on ``train_size``
    points, with the edges of ``[1/R^2, 1]``; and, against the logged training ``steps`` ``(k,)``
    from the perfect initialization, the average and worst-case losses and the share of attacked
    points misclassified (each ``(k,)``; shares of 0 drawn at 1e-3 on the log scale)."""
    plt = plotting.pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    ax1.hist(alphas, bins=50)
    for edge in (1 / r_outer**2, 1.0):
        ax1.axvline(edge, color="r")
    ax1.set(title=f"alphas after training on N = {train_size}", xlabel="alpha")
    ax2.semilogy(steps, avg_loss, label="average loss")
    ax2.semilogy(steps, worst_loss, label="worst-case loss")
    ax2.plot(steps, np.maximum(error_share, 1e-3), "k:", label="share misclassified after attack")
    ax2.set(xlabel="training steps from the perfect initialization")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def tradeoff(points, d: int, *, networks, sizes):
    """Figure 5: Theorem 5.1's optimal cap (error rate against mean distance to the nearest
    error) and the snapshots ``(label, rate, distance, found)`` of
    ``experiments.tradeoff_snapshots``; colour: the network's place in ``networks``, marker: the
    training-set size's place in ``sizes`` (0: online)."""
    plt = plotting.pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    mus = np.logspace(-6, -0.5, 40)
    ax.semilogx(mus, [theory.cap_distance(m, d) for m in mus], "k-", label="optimal (cap)")
    set_labels = [training_set_label(n) for n in sizes]
    for label in dict.fromkeys(p[0] for p in points):
        name, size = label.split(", ")
        sel = [(r, dd) for lab, r, dd, _ in points if lab == label]
        ax.semilogx(*zip(*sel), "osv^D"[set_labels.index(size) % 5], color=f"C{networks.index(name)}", label=label)
    ax.set(xlabel="error rate on the inner sphere", ylabel="mean distance to the nearest error", title=f"d = {d}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
