"""The figures of the stabilized-gradients chapter. Each function draws one figure and returns it."""

from __future__ import annotations

import numpy as np

from companion import plotting


def accuracy_by_budget(eps_grid, curves: dict, single_step: dict, architectures, modes):
    """PGD accuracy against epsilon per network, with the single-step attacks at 0.25:
    ``curves[(arch, mode)]`` lists accuracies; ``single_step[name][(arch, mode)]`` one value."""
    plt = plotting.pyplot()
    fig, axes = plt.subplots(1, len(architectures), figsize=(4.3 * len(architectures), 3.5), sharey=True, squeeze=False)
    markers = dict(zip(single_step, "x^sv"))
    for ax, arch in zip(axes[0], architectures):
        for k, mode in enumerate(modes):
            ax.plot(eps_grid, 100 * np.array(curves[arch, mode]), "o-", color=f"C{k}", label=f"{mode}: PGD")
            for name, values in single_step.items():
                ax.plot([0.25], [100 * values[arch, mode]], markers[name], color=f"C{k}", label=f"{mode}: {name}")
        ax.set(title=arch, xlabel="ε (L∞)", ylabel="accuracy (%)")
    axes[0, 0].legend(fontsize=6)
    fig.tight_layout()
    return fig
