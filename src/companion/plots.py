"""Figures of the book. Each function draws one figure and returns it."""
from __future__ import annotations

import numpy as np

from . import binary_losses, linear


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _line(ax, w, b, lim, **kw):
    """Draw the line ``w . x + b = 0`` within the square ``[-lim, lim]^2``."""
    t = np.linspace(-lim, lim, 2)
    if abs(w[1]) > abs(w[0]):
        ax.plot(t, -(w[0] * t + b) / w[1], **kw)
    else:
        ax.plot(-(w[1] * t + b) / w[0], t, **kw)


def toy_mirror(thetas_drawn, thetas, computed, closed, boundary, x=(-1.0, 0.0)):
    """Left: x, L_theta and the mirror image x_m for a few theta. Right: ||x - x_m|| against theta."""
    plt = _plt()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    ax.plot([-2, -0.5], [0, 0], color="tab:blue", lw=4, label="class I")
    ax.plot([0.5, 2], [0, 0], color="tab:orange", lw=4, label="class J")
    x = np.asarray(x, float)[None]
    for k, theta in enumerate(thetas_drawn):
        w, b = boundary(theta)
        color = plt.cm.viridis(k / max(1, len(thetas_drawn) - 1))
        _line(ax, w, b, 2.2, color=color, lw=1, label=f"θ = {np.degrees(theta):.0f}°")
        xm = linear.mirror_image(x, w, b)[0]
        ax.plot(*xm, "o", color=color)
    ax.plot(*x[0], "ks", label="x")
    ax.set(xlim=(-2.2, 2.2), ylim=(-2.2, 2.2), aspect="equal", xlabel="a", ylabel="b",
           title="mirror images x_m of x through L_θ")
    ax.legend(fontsize=7, loc="lower right")
    ax2.plot(np.degrees(thetas), closed, "k-", label="closed form 2|a| cos θ")
    ax2.plot(np.degrees(thetas), computed, "r.", ms=4, label="computed ||x − x_m||")
    ax2.set(xlabel="θ (degrees)", ylabel="||x − x_m||", title="distance to the mirror image")
    ax2.legend()
    fig.tight_layout()
    return fig


def toy_fits(x, y, fits):
    """One panel per fitted model: ``fits`` is a list of ``(title, w, b)``; the noisy point is last."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(fits), figsize=(3.3 * len(fits), 3.4), squeeze=False)
    for ax, (title, w, b) in zip(axes[0], fits):
        ax.scatter(*x[:-1][y[:-1] < 0].T, c="tab:blue", s=15)
        ax.scatter(*x[:-1][y[:-1] > 0].T, c="tab:orange", s=15)
        ax.scatter(*x[-1], c="tab:orange", edgecolors="k", s=60, marker="*")
        ax.annotate("p", x[-1] + 0.1)
        _line(ax, w, b, 2.5, color="k")
        ax.set(xlim=(-2.5, 2.5), ylim=(-2.5, 2.5), aspect="equal", title=title)
        ax.title.set_fontsize(9)
    fig.tight_layout()
    return fig


def scaled_losses(z, norms):
    """Hinge and softplus scaled by ||w||, with their large- and small-norm limits."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, name in zip(axes, ("zero_one", "hinge", "softplus")):
        for k, norm in enumerate(norms):
            color = plt.cm.plasma(k / max(1, len(norms) - 1))
            ax.plot(z, binary_losses.scaled_loss(name, z, norm) / max(norm, 1.0), color=color,
                    label=f"||w|| = {norm:g}")
            if name != "zero_one" and norm == max(norms):
                ax.plot(z, binary_losses.large_norm_limit(z, norm) / norm, "k--", lw=1,
                        label="||w|| max(−z, 0)")
            if name != "zero_one" and norm == min(norms):
                ax.plot(z, binary_losses.small_norm_limit(name, z, norm), "k:", lw=1,
                        label="α − β ||w|| z")
        ax.set(title=f"{name}: f(||w|| z) / max(||w||, 1)", xlabel="z = y d(x)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def svm_margins(sweep, x, y, lam_indices):
    """Histograms of y d(x) over the training set, with the scaled hinge loss, at a few lambdas."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(lam_indices), figsize=(2.6 * len(lam_indices), 2.8),
                             sharey=True, squeeze=False)
    for ax, k in zip(axes[0], lam_indices):
        w, b = sweep["W"][k], sweep["B"][k]
        z = y * linear.signed_distance(x, w, b)
        ax.hist(z, bins=60, color="0.6")
        grid = np.linspace(z.min(), z.max(), 200)
        ax2 = ax.twinx()
        ax2.plot(grid, binary_losses.scaled_loss("hinge", grid, np.linalg.norm(w)), "b-")
        ax2.set_yticks([])
        ax.axvline(0, color="k", lw=0.5)
        ax.set(title=f"λ = 10^{np.log10(sweep['lams'][k]):.1f}", xlabel="y d(x) (pixels)")
        ax.title.set_fontsize(9)
    fig.tight_layout()
    return fig


def svm_curves(sweeps: dict):
    """Train and test error, and d_adv, against lambda; one line per digit pair."""
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    for k, (pair, s) in enumerate(sweeps.items()):
        color = f"C{k}"
        ax1.semilogx(s["lams"], 100 * s["train_error"], "--", color=color)
        ax1.semilogx(s["lams"], 100 * s["test_error"], "-", color=color, label=f"{pair[0]} vs {pair[1]}")
        ax2.semilogx(s["lams"], s["d_adv"], "-", color=color, label=f"{pair[0]} vs {pair[1]}")
    ax1.set(xlabel="λ", ylabel="error (%)", title="train (dashed) and test (solid) error")
    ax2.set(xlabel="λ", ylabel="d_adv (pixels)", title="adversarial distance")
    ax1.legend(fontsize=8)
    fig.tight_layout()
    return fig


def tilting_plane_projections(sweep, x, y, lam_indices, examples=None):
    """Training data projected onto the tilting plane (z, n) of w, at a few lambdas.

    ``examples`` (optional) is ``(2, d)``: one image per class, drawn with their mirror images.
    """
    plt = _plt()
    fig, axes = plt.subplots(1, len(lam_indices), figsize=(2.9 * len(lam_indices), 3.1),
                             squeeze=False)
    x_i, x_j = x[y < 0], x[y > 0]
    for ax, k in zip(axes[0], lam_indices):
        w, b = sweep["W"][k], sweep["B"][k]
        basis = linear.tilting_plane(w, x_i, x_j)
        p = x @ basis.T
        ax.scatter(*p[y < 0].T, s=1, c="tab:blue", alpha=0.3)
        ax.scatter(*p[y > 0].T, s=1, c="tab:orange", alpha=0.3)
        # the boundary w.x + b = 0 within the plane: w = a z + c n, so a u + c v + b = 0
        a, c = basis @ w
        u = np.linspace(p[:, 0].min(), p[:, 0].max(), 2)
        if abs(c) > 1e-12 * abs(a):
            ax.plot(u, -(a * u + b) / c, "k-", lw=1)
        else:
            ax.axvline(-b / a, color="k", lw=1)
        if examples is not None:
            pm = linear.mirror_image(examples, w, b) @ basis.T
            pe = examples @ basis.T
            for e, m in zip(pe, pm):
                ax.plot([e[0], m[0]], [e[1], m[1]], "k:", lw=1)
                ax.plot(*e, "ks", ms=4)
                ax.plot(*m, "r^", ms=4)
        ax.set(title=f"λ = 10^{np.log10(sweep['lams'][k]):.1f}, θ = "
                     f"{np.degrees(sweep['angle'][k]):.0f}°", xlabel="ẑ", ylabel="n̂")
        ax.set_ylim(p[:, 1].min(), p[:, 1].max())
        ax.title.set_fontsize(9)
    fig.tight_layout()
    return fig


def mirror_image_grid(sweep, examples, lam_indices, shape=(28, 28)):
    """Rows: the two example images and their mirror images through each model."""
    plt = _plt()
    n = len(lam_indices)
    fig, axes = plt.subplots(2, n + 1, figsize=(1.3 * (n + 1), 2.9), squeeze=False)
    for r, e in enumerate(examples):
        axes[r, 0].imshow(e.reshape(shape), cmap="gray", vmin=0, vmax=255)
        axes[r, 0].set_title("image", fontsize=8)
        for c, k in enumerate(lam_indices, start=1):
            m = linear.mirror_image(e[None], sweep["W"][k], sweep["B"][k])[0]
            axes[r, c].imshow(m.reshape(shape), cmap="gray")
            axes[r, c].set_title(f"10^{np.log10(sweep['lams'][k]):.1f}\n"
                                 f"‖Δ‖={np.linalg.norm(m - e):.0f}", fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


def error_curves(histories: dict):
    """Train (dashed) and test (solid) error per epoch for each named history."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for k, (name, h) in enumerate(histories.items()):
        epochs = np.arange(1, len(h["train_error"]) + 1)
        ax.plot(epochs, 100 * np.array(h["train_error"]), "--", color=f"C{k}")
        ax.plot(epochs, 100 * np.array(h["test_error"]), "-", color=f"C{k}", label=name)
    ax.set(xlabel="epoch", ylabel="error (%)", yscale="log",
           title="train (dashed) and test (solid) error")
    ax.legend()
    fig.tight_layout()
    return fig


def filters(models: dict, layer: str, count: int, rng):
    """A random selection of ``count`` 2-D filters of ``layer`` for each named model."""
    plt = _plt()
    fig, axes = plt.subplots(len(models), count, figsize=(0.8 * count, 0.9 * len(models)),
                             squeeze=False)
    for r, (name, model) in enumerate(models.items()):
        kernel = model.get_layer(layer).kernel.numpy()  # (h, w, in, out)
        picks = rng.choice(kernel.shape[2] * kernel.shape[3], count, replace=False)
        for ax, p in zip(axes[r], picks):
            ax.imshow(kernel[:, :, p % kernel.shape[2], p // kernel.shape[2]], cmap="gray")
            ax.set_xticks([]), ax.set_yticks([])
        axes[r, 0].set_ylabel(name, fontsize=7)
    fig.suptitle(f"{layer}: random filters", fontsize=9)
    fig.tight_layout()
    return fig


def adversarial_grid(originals, results: dict):
    """For each named network: adversarial images (AE) and perturbations (Pert) beside the originals (OI)."""
    plt = _plt()
    n = len(originals)
    rows = 1 + 2 * len(results)
    fig, axes = plt.subplots(rows, n, figsize=(1.0 * n, 1.1 * rows), squeeze=False)
    images = [("OI", originals, (0, 255))]
    for name, adv in results.items():
        pert = adv - originals
        bound = np.abs(pert).max()
        images += [(f"AE {name}", adv, (0, 255)), (f"Pert {name}", pert, (-bound, bound))]
    for r, (label, arr, (lo, hi)) in enumerate(images):
        for c in range(n):
            axes[r, c].imshow(arr[c].squeeze(), cmap="gray", vmin=lo, vmax=hi)
            axes[r, c].set_xticks([]), axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(label, fontsize=7)
    fig.tight_layout()
    return fig


# --- Nayebi & Ganguli (2017) -------------------------------------------------------------------

def _layer_grid(values: dict, panel: tuple):
    """A figure with one row per network and one panel per layer of ``values[name]``; yields
    ``(fig, ax, row, name, layer_index, array)`` for every panel."""
    plt = _plt()
    cols = max(len(v) for v in values.values())
    fig, axes = plt.subplots(len(values), cols, figsize=(panel[0] * cols, panel[1] * len(values)), squeeze=False)
    for r, name in enumerate(values):
        for c, arr in enumerate(values[name]):
            yield fig, axes[r, c], r, name, c, arr


def layer_histograms(values: dict, title: str, log: bool = True, annotate=None):
    """One row per network, one panel per layer: histograms of ``values[name][layer]``.

    ``annotate(name, layer_index, array) -> str`` adds a label to each panel (e.g. the kurtosis).
    """
    for fig, ax, r, name, c, arr in _layer_grid(values, (3.1, 2.2)):
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
    plt = _plt()
    names = list(results)
    fig, axes = plt.subplots(3 * len(names), len(pairs), figsize=(3.2 * len(pairs), 1.7 * 3 * len(names)),
                             squeeze=False, sharex=True)
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
    plt = _plt()
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


def kurtosis_ratio(gain: dict, learned: dict | None = None):
    """Figure 6: the scaled ratio (14) against the excess kurtosis of Pearson VII weights, with the
    Gaussian baseline; optional ``learned = {label: (kurtosis, ratio)}`` points."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.semilogx(gain["gammas"], gain["ratios"], "o-", label="Pearson VII")
    ax.axhline(gain["gaussian"], color="r", ls="--", label="Gaussian (γ2 = 0)")
    for k, (label, (g2, ratio)) in enumerate((learned or {}).items()):
        ax.plot(max(g2, gain["gammas"][0]), ratio, "s", color=f"C{k + 2}", label=label)
    ax.set(xlabel="excess kurtosis γ2", ylabel="scaled ratio (14)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# --- adversarial spheres -----------------------------------------------------------------------

def _circles(ax, radii_styles):
    t = np.linspace(0, 2 * np.pi, 200)
    for r, style in radii_styles:
        ax.plot(r * np.cos(t), r * np.sin(t), style, lw=1)


def sphere_slices(slices, extent: float, r_outer: float):
    """Figure 1: ``slices`` is a list of ``(title, logits)`` on ``[-extent, extent]^2`` grids; the
    region classified as the inner sphere is green, the data circles black, the max-margin
    circle red."""
    plt = _plt()
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
    plt = _plt()
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


# --- smooth codes ------------------------------------------------------------------------------

def eigenspectra(spectra_by_label: dict, title: str):
    """Log-log eigenspectra: ``{label: (eigenvalues, alpha)}``."""
    plt = _plt()
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
    plt = _plt()
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
    plt = _plt()
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


# --- stabilized gradients ----------------------------------------------------------------------

def accuracy_by_budget(eps_grid, curves: dict, single_step: dict, architectures, modes):
    """PGD accuracy against epsilon per network, with the single-step attacks at 0.25:
    ``curves[(arch, mode)]`` lists accuracies; ``single_step[name][(arch, mode)]`` one value."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(architectures), figsize=(4.3 * len(architectures), 3.5),
                             sharey=True, squeeze=False)
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


def diagnostics_against_robustness(rows: list[dict], diagnostics: dict, robustness: str = "pgd"):
    """One panel per diagnostic: its value (y) against robust accuracy (x) for each network,
    MNIST and CIFAR-10 in two colours, each point labelled. ``rows``: dicts with ``name``,
    ``dataset`` and the measures; ``diagnostics``: ``{key: axis label}``."""
    plt = _plt()
    cols = 3
    fig, axes = plt.subplots(-(-len(diagnostics) // cols), cols, figsize=(13, 3.8 * -(-len(diagnostics) // cols)),
                             squeeze=False)
    colours = {"mnist": "tab:blue", "cifar10": "tab:orange"}
    for ax, (key, label) in zip(axes.flat, diagnostics.items()):
        for dataset, colour in colours.items():
            pts = [(r[robustness], r[key], r["name"]) for r in rows
                   if r["dataset"] == dataset and np.isfinite(r[key])]
            if not pts:
                continue
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], color=colour, label=dataset, s=22)
            for px, py, name in pts:
                ax.annotate(name, (px, py), fontsize=6, alpha=0.7, xytext=(2, 2), textcoords="offset points")
        ax.set_xlabel("L2 PGD accuracy")
        ax.set_ylabel(label)
    for ax in list(axes.flat)[len(diagnostics):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
