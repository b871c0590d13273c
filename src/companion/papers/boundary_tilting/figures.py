"""The figures of the boundary-tilting chapter (Tanay & Griffin 2016); each function returns its figure."""

from __future__ import annotations

import numpy as np

from companion import plotting
from companion.papers.boundary_tilting import losses, theory


def _line(ax, w, b, lim, **kw):
    """Draw the line ``w . x + b = 0`` within the square ``[-lim, lim]^2``."""
    t = np.linspace(-lim, lim, 2)
    if abs(w[1]) > abs(w[0]):
        ax.plot(t, -(w[0] * t + b) / w[1], **kw)
    else:
        ax.plot(-(w[1] * t + b) / w[0], t, **kw)


def toy_mirror(thetas_drawn, thetas, computed, closed, boundary, x=(-1.0, 0.0)):
    """Left: x, L_theta and the mirror image x_m for a few theta. Right: ||x - x_m|| against theta."""
    plt = plotting.pyplot()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    ax.plot([-2, -0.5], [0, 0], color="tab:blue", lw=4, label="class I")
    ax.plot([0.5, 2], [0, 0], color="tab:orange", lw=4, label="class J")
    x = np.asarray(x, float)[None]
    for k, theta in enumerate(thetas_drawn):
        w, b = boundary(theta)
        color = plt.cm.viridis(k / max(1, len(thetas_drawn) - 1))
        _line(ax, w, b, 2.2, color=color, lw=1, label=f"θ = {np.degrees(theta):.0f}°")
        xm = theory.mirror_image(x, w, b)[0]
        ax.plot(*xm, "o", color=color)
    ax.plot(*x[0], "ks", label="x")
    ax.set(
        xlim=(-2.2, 2.2),
        ylim=(-2.2, 2.2),
        aspect="equal",
        xlabel="a",
        ylabel="b",
        title="mirror images x_m of x through L_θ",
    )
    ax.legend(fontsize=7, loc="lower right")
    ax2.plot(np.degrees(thetas), closed, "k-", label="closed form 2|a| cos θ")
    ax2.plot(np.degrees(thetas), computed, "r.", ms=4, label="computed ||x − x_m||")
    ax2.set(xlabel="θ (degrees)", ylabel="||x − x_m||", title="distance to the mirror image")
    ax2.legend()
    fig.tight_layout()
    return fig


def toy_fits(x, y, fits):
    """One panel per fitted model: ``fits`` as :func:`experiments.toy_fits` returns them (dicts with
    ``model``, ``lam``, ``w``, ``b``, ``angle`` in degrees); ``x`` ``(n, 2)``, the noisy point last."""
    plt = plotting.pyplot()
    fig, axes = plt.subplots(1, len(fits), figsize=(3.3 * len(fits), 3.4), squeeze=False)
    for ax, fit in zip(axes[0], fits):
        title, w, b = f"{fit['model']}, λ = {fit['lam']:g}: θ = {fit['angle']:.0f}°", fit["w"], fit["b"]
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
    plt = plotting.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, name in zip(axes, ("zero_one", "hinge", "softplus")):
        for k, norm in enumerate(norms):
            color = plt.cm.plasma(k / max(1, len(norms) - 1))
            ax.plot(z, losses.scaled_loss(name, z, norm) / max(norm, 1.0), color=color, label=f"||w|| = {norm:g}")
            if name != "zero_one" and norm == max(norms):
                ax.plot(z, losses.large_norm_limit(z, norm) / norm, "k--", lw=1, label="||w|| max(−z, 0)")
            if name != "zero_one" and norm == min(norms):
                ax.plot(z, losses.small_norm_limit(name, z, norm), "k:", lw=1, label="α − β ||w|| z")
        ax.set(title=f"{name}: f(||w|| z) / max(||w||, 1)", xlabel="z = y d(x)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def svm_margins(sweep, x, y, lam_indices):
    """Histograms of y d(x) over the training set, with the scaled hinge loss, at a few lambdas."""
    plt = plotting.pyplot()
    fig, axes = plt.subplots(1, len(lam_indices), figsize=(2.6 * len(lam_indices), 2.8), sharey=True, squeeze=False)
    for ax, k in zip(axes[0], lam_indices):
        w, b = sweep["W"][k], sweep["B"][k]
        z = y * theory.signed_distance(x, w, b)
        ax.hist(z, bins=60, color="0.6")
        grid = np.linspace(z.min(), z.max(), 200)
        ax2 = ax.twinx()
        ax2.plot(grid, losses.scaled_loss("hinge", grid, np.linalg.norm(w)), "b-")
        ax2.set_yticks([])
        ax.axvline(0, color="k", lw=0.5)
        ax.set(title=f"λ = 10^{np.log10(sweep['lams'][k]):.1f}", xlabel="y d(x) (pixels)")
        ax.title.set_fontsize(9)
    fig.tight_layout()
    return fig


def svm_curves(sweeps: dict):
    """Train and test error, and d_adv, against lambda; one line per digit pair."""
    plt = plotting.pyplot()
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
    plt = plotting.pyplot()
    fig, axes = plt.subplots(1, len(lam_indices), figsize=(2.9 * len(lam_indices), 3.1), squeeze=False)
    x_i, x_j = x[y < 0], x[y > 0]
    for ax, k in zip(axes[0], lam_indices):
        w, b = sweep["W"][k], sweep["B"][k]
        basis = theory.tilting_plane(w, x_i, x_j)
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
            pm = theory.mirror_image(examples, w, b) @ basis.T
            pe = examples @ basis.T
            for e, m in zip(pe, pm):
                ax.plot([e[0], m[0]], [e[1], m[1]], "k:", lw=1)
                ax.plot(*e, "ks", ms=4)
                ax.plot(*m, "r^", ms=4)
        ax.set(
            title=f"λ = 10^{np.log10(sweep['lams'][k]):.1f}, θ = {np.degrees(sweep['angle'][k]):.0f}°",
            xlabel="ẑ",
            ylabel="n̂",
        )
        ax.set_ylim(p[:, 1].min(), p[:, 1].max())
        ax.title.set_fontsize(9)
    fig.tight_layout()
    return fig


def mirror_image_grid(sweep, examples, lam_indices, shape=(28, 28)):
    """Rows: the two example images and their mirror images through each model."""
    plt = plotting.pyplot()
    n = len(lam_indices)
    fig, axes = plt.subplots(2, n + 1, figsize=(1.3 * (n + 1), 2.9), squeeze=False)
    for r, e in enumerate(examples):
        axes[r, 0].imshow(e.reshape(shape), cmap="gray", vmin=0, vmax=255)
        axes[r, 0].set_title("image", fontsize=8)
        for c, k in enumerate(lam_indices, start=1):
            m = theory.mirror_image(e[None], sweep["W"][k], sweep["B"][k])[0]
            axes[r, c].imshow(m.reshape(shape), cmap="gray")
            axes[r, c].set_title(f"10^{np.log10(sweep['lams'][k]):.1f}\n‖Δ‖={np.linalg.norm(m - e):.0f}", fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


def error_curves(histories: dict):
    """Train (dashed) and test (solid) error per epoch for each named history."""
    plt = plotting.pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for k, (name, h) in enumerate(histories.items()):
        epochs = np.arange(1, len(h["train_error"]) + 1)
        ax.plot(epochs, 100 * np.array(h["train_error"]), "--", color=f"C{k}")
        ax.plot(epochs, 100 * np.array(h["test_error"]), "-", color=f"C{k}", label=name)
    ax.set(xlabel="epoch", ylabel="error (%)", yscale="log", title="train (dashed) and test (solid) error")
    ax.legend()
    fig.tight_layout()
    return fig


def filters(models: dict, layer: str, count: int, rng):
    """A random selection of ``count`` 2-D filters of ``layer`` for each named model."""
    plt = plotting.pyplot()
    fig, axes = plt.subplots(len(models), count, figsize=(0.8 * count, 0.9 * len(models)), squeeze=False)
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
    plt = plotting.pyplot()
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
