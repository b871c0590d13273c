"""The figures of the saturating-networks chapter (Nayebi & Ganguli 2017); each function returns its figure."""

from __future__ import annotations

import numpy as np

from companion import plotting


def training_curves(histories: dict):
    """Validation accuracy per epoch: one panel per architecture, one line per training mode.

    ``histories[(arch, mode)]["test_accuracy"]``: ``(epochs,)`` accuracies on the validation
    images (``fit_adam``'s test set); architectures and modes in the order of the keys.
    """
    plt = plotting.pyplot()
    archs, modes = (list(dict.fromkeys(key[i] for key in histories)) for i in (0, 1))
    fig, axes = plt.subplots(1, len(archs), figsize=(4 * len(archs), 3), squeeze=False)
    for ax, arch in zip(axes[0], archs):
        for k, mode in enumerate(modes):
            ax.plot(100 * np.array(histories[arch, mode]["test_accuracy"]), "o-", color=f"C{k}", label=mode)
        ax.set(title=arch, xlabel="epoch", ylabel="validation accuracy (%)")
    axes[0, 0].legend()
    fig.tight_layout()
    return fig


def _layer_grid(values: dict, panel: tuple):
    """A figure with one row per network and one panel per layer of ``values[name]``; yields
    ``(fig, ax, row, name, layer_index, array)`` for every panel."""
    plt = plotting.pyplot()
    cols = max(len(v) for v in values.values())
    fig, axes = plt.subplots(len(values), cols, figsize=(panel[0] * cols, panel[1] * len(values)), squeeze=False)
    for r, name in enumerate(values):
        for c, arr in enumerate(values[name]):
            yield fig, axes[r, c], r, name, c, arr


def layer_histograms(values: dict, title: str, log: bool = True, annotate=None):
    """One row per network, one panel per layer: histograms of ``values[name][layer]``.

    ``annotate(name, layer_index, array) -> str`` adds a label to each panel (e.g. the kurtosis).
    """
    for fig, ax, r, name, c, arr in _layer_grid(values, (3.1, 2.2)):  # noqa: B007 (one figure)
        ax.hist(np.ravel(arr), bins=80, color=f"C{r}", log=log)
        ax.set_title(f"{name}, layer {c + 1}" + (f"\n{annotate(name, c, arr)}" if annotate else ""), fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def rdm_grid(rdms: dict):
    """One row per network, one panel per layer: representational dissimilarity matrices."""
    for fig, ax, _, name, c, d in _layer_grid(rdms, (2.6, 2.6)):
        im = ax.imshow(d, cmap="viridis")
        ax.set_title(f"{name}, layer {c + 1}", fontsize=8)
        ax.set_xticks([]), ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def path_geometry(results: dict, pairs):
    """Columns: source/target pairs. Rows per network: length element, softmax outputs,
    Jacobian singular values along the path."""
    plt = plotting.pyplot()
    names = list(results)
    fig, axes = plt.subplots(
        3 * len(names), len(pairs), figsize=(3.2 * len(pairs), 1.7 * 3 * len(names)), squeeze=False, sharex=True
    )
    for r, name in enumerate(names):
        for c, pair in enumerate(pairs):
            g = results[name][pair]
            axes[3 * r, c].plot(g["t"], g["dl"], "k-")
            axes[3 * r + 1, c].plot(g["t"], g["p"])
            axes[3 * r + 2, c].semilogy(g["t"], np.maximum(g["sv"], 1e-12))
            axes[3 * r, c].set_title(f"{name}: S {pair[0]} → T {pair[1]}", fontsize=8)
        axes[3 * r, 0].set_ylabel("dl", fontsize=8)
        axes[3 * r + 1, 0].set_ylabel("softmax", fontsize=8)
        axes[3 * r + 2, 0].set_ylabel("sing. values", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("interpolation λ")
    fig.tight_layout()
    return fig


def attack_grid(images, success, title: str):
    """A 10 x 10 grid: row = source class, column = target class; a red X where the attack failed.

    ``images``: ``(10, 10, 28, 28)`` (diagonal ignored), ``success``: ``(10, 10)`` booleans.
    """
    plt = plotting.pyplot()
    fig, axes = plt.subplots(10, 10, figsize=(6, 6.3))
    for s in range(10):
        for t in range(10):
            ax = axes[s, t]
            ax.set_xticks([]), ax.set_yticks([])
            if s == t:
                ax.axis("off")
                continue
            ax.imshow(images[s, t], cmap="gray", vmin=0, vmax=1)
            if not success[s, t]:
                ax.plot([2, 25], [2, 25], "r-", [2, 25], [25, 2], "r-", lw=1.5)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def pair_grid(pairs, x, success, title: str):
    """:func:`attack_grid` of one attack's results per class pair: ``pairs`` ``[(source, target),
    ...]`` (``m``), ``x`` ``(m, 28, 28, 1)`` the adversarial images, ``success`` ``(m,)``. Pairs
    not attacked stay black, without a cross."""
    images = np.zeros((10, 10, 28, 28))
    ok = np.ones((10, 10), bool)
    for (s, t), img, good in zip(pairs, x, success):
        images[s, t], ok[s, t] = img[..., 0], good
    return attack_grid(images, ok, title)


def kurtosis_ratio(gain: dict, learned: dict | None = None):
    """Figure 6: the scaled ratio (14) against the excess kurtosis of Pearson VII weights, with the
    Gaussian baseline; optional ``learned = {label: (kurtosis, ratio)}`` points."""
    plt = plotting.pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.semilogx(gain["gammas"], gain["ratios"], "o-", label="Pearson VII")
    ax.axhline(gain["gaussian"], color="r", ls="--", label="Gaussian (γ2 = 0)")
    for k, (label, (g2, ratio)) in enumerate((learned or {}).items()):
        ax.plot(max(g2, gain["gammas"][0]), ratio, "s", color=f"C{k + 2}", label=label)
    ax.set(xlabel="excess kurtosis γ2", ylabel="scaled ratio (14)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
