"""Run profiles, defined once: ``ci`` (tiny, for tests), ``quick`` (a laptop CPU), ``paper``.

Every chapter takes a ``profile`` parameter and optional ``overrides`` and calls
:func:`settings` first, so that a typo fails before any work starts.
"""

from __future__ import annotations

from collections.abc import Mapping

# The tables below are laid out by hand, one chapter per block, for reading.
# fmt: off
PROFILES = ("ci", "quick", "paper")

ALL_PAIRS = tuple((a, b) for a in range(10) for b in range(a + 1, 10))

SETTINGS = {
    "boundary_tilting": {
        "ci": dict(seed=0, svm_pairs=((7, 9),), svm_per_class=300, svm_lambda_step=1.0,
                   lenet_epochs=1, lenet_train_size=3000, lenet_test_size=1000),
        "quick": dict(seed=0, svm_pairs=((7, 9), (0, 1), (1, 8), (3, 5)), svm_per_class=3000,
                      svm_lambda_step=0.25, lenet_epochs=5, lenet_train_size=60000,
                      lenet_test_size=10000),
        "paper": dict(seed=0, svm_pairs=ALL_PAIRS, svm_per_class=3000, svm_lambda_step=0.1,
                      lenet_epochs=50, lenet_train_size=60000, lenet_test_size=10000),
    },
}


# Saturated-network candidates per architecture: (reduction over units, lambda step per
# minibatch, lambda max). The first is the paper's schedule read literally (sum, eq. 8). Two
# more readings of it are written as equivalent schedules: the penalty summed over the minibatch
# of 128 too (lambda x 128), and one annealing step per epoch of 430 minibatches (step / 430).
_BATCH, _MINIBATCHES_PER_EPOCH = 128, -(-55000 // 128)
_SATURATION_SEARCH = {  # (reduction, lam_step, lam_max[, width[, readout penalized]])
    "sigmoid_mlp": (("sum", 1e-3, 1.74), ("mean", 1e-3, 1.74), ("sum", 2e-4, 1.74), ("sum", 2.5e-4, 0.1),
                    ("mean", 0.05, 20.0), ("mean", 0.05, 20.0, 2000), ("mean", 0.05, 20.0, 1000, False),
                    ("sum", 1e-3 * _BATCH, 1.74 * _BATCH), ("sum", 1e-3 / _MINIBATCHES_PER_EPOCH, 1.74)),
    "relu_mlp": (("sum", 1e-10, 3.99e-8), ("sum", 1e-7, 3.99e-5), ("mean", 1e-4, 3.99e-2)),
    "cnn": (("sum", 1e-5, 1e-5), ("sum", 1e-5, 1e-3)),
}
# the paper profile also tries the ends of the paper's width range, 200 and 2000
_PAPER_SEARCH = {**_SATURATION_SEARCH,
                 **{arch: _SATURATION_SEARCH[arch] + tuple(entry[:3] + (w,) for entry in _SATURATION_SEARCH[arch][:3]
                                                           for w in (200, 2000))
                    for arch in ("sigmoid_mlp", "relu_mlp")}}

SETTINGS["saturating_networks"] = {
    "ci": dict(seed=0, width=64, epochs=1, train_size=2000, cnn_epochs=1, cnn_train_size=1000,
               test_size=500, search={"sigmoid_mlp": _SATURATION_SEARCH["sigmoid_mlp"][:2],
                                      "relu_mlp": _SATURATION_SEARCH["relu_mlp"][:1],
                                      "cnn": _SATURATION_SEARCH["cnn"][:1]},
               attack_classes=3, adam_steps=30, adam_steps_3_to_7=30, lbfgs_iterations=10, path_steps=20,
               rdm_per_class=10, kurtosis_dim=2000, kurtosis_vectors=20),
    "quick": dict(seed=0, width=1000, epochs=4, train_size=55000, cnn_epochs=2,
                  cnn_train_size=15000, test_size=10000, search=_SATURATION_SEARCH,
                  attack_classes=10, adam_steps=300, adam_steps_3_to_7=3000, lbfgs_iterations=100,
                  path_steps=100,
                  rdm_per_class=100, kurtosis_dim=20000, kurtosis_vectors=50),
    "paper": dict(seed=0, width=1000, epochs=20, train_size=55000, cnn_epochs=10,
                  cnn_train_size=55000, test_size=10000, search=_PAPER_SEARCH,
                  attack_classes=10, adam_steps=1000, adam_steps_3_to_7=30_000_000, lbfgs_iterations=1000,
                  path_steps=200,
                  rdm_per_class=100, kurtosis_dim=20000, kurtosis_vectors=200),
}


SETTINGS["stabilized_gradients"] = {
    "ci": dict(seed=0, eval_size=100, cnn_eval_size=30, eps_grid=(0.25, 0.5), pgd_steps=5,
               pgd_restarts=2, spsa_size=30, spsa_steps=5, spsa_samples=8),
    "quick": dict(seed=0, eval_size=1000, cnn_eval_size=200, eps_grid=(0.05, 0.1, 0.2, 0.25, 0.3, 0.5),
                  pgd_steps=50, pgd_restarts=3, spsa_size=200, spsa_steps=100, spsa_samples=64),
    "paper": dict(seed=0, eval_size=10000, cnn_eval_size=2000,
                  eps_grid=(0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5), pgd_steps=200,
                  pgd_restarts=10, spsa_size=1000, spsa_steps=300, spsa_samples=128),
}


SETTINGS["adversarial_spheres"] = {
    "ci": dict(seed=0, d=50, relu_steps=300, quad_steps=300, quad_learning_rate=1e-3, fixed_train_size=1000,
               eval_samples=20000, attack_points=20, attack_steps=100, attack_step_size=0.01,
               sweep_dims=(5, 20), sweep_steps=200, perfect_init_steps=200, tradeoff_sizes=(1000, 0),
               tradeoff_steps=300, tradeoff_every=100, tradeoff_eval=5000, tradeoff_points=10,
               tradeoff_networks=("quad_h1000", "relu_h100_d2"),
               mc_samples=20000, fraction_dims=(100, 500)),
    "quick": dict(seed=0, d=500, relu_steps=10000, quad_steps=20000, quad_learning_rate=1e-3,
                  fixed_train_size=100000,
                  eval_samples=200000, attack_points=100, attack_steps=1000, attack_step_size=0.001,
                  sweep_dims=(10, 30, 60, 100, 200), sweep_steps=3000, perfect_init_steps=2000,
                  tradeoff_sizes=(1000, 10000, 0), tradeoff_steps=4000, tradeoff_every=1000,
                  tradeoff_eval=100000, tradeoff_points=50, mc_samples=250000,
                  tradeoff_networks=("quad_h1000", "relu_h1000_d2"),
                  fraction_dims=(100, 250, 500, 1000, 2000, 3000, 4000, 5000)),
    "paper": dict(seed=0, d=500, relu_steps=1000000, quad_steps=1000000, quad_learning_rate=1e-4,
                  fixed_train_size=1000000,
                  eval_samples=10000000, attack_points=100, attack_steps=1000, attack_step_size=0.001,
                  sweep_dims=(10, 20, 40, 60, 80, 100, 150, 200, 300, 500), sweep_steps=100000,
                  perfect_init_steps=5000, tradeoff_sizes=(1000, 5000, 10000, 100000, 0),
                  tradeoff_steps=100000, tradeoff_every=5000, tradeoff_eval=100000,
                  tradeoff_points=100, mc_samples=10000000,
                  tradeoff_networks=("quad_h1000", "relu_h1000_d2", "relu_h2000_d8"),
                  fraction_dims=(100, 250, 500, 1000, 2000, 3000, 4000, 5000)),
}


SETTINGS["smooth_codes"] = {
    "ci": dict(seed=0, epochs=1, train_size=2000, eval_size=400, hi=100, noise=(0.1, 0.5),
               pca_dims=(1, 8, 32), penalty_grid=((0.0, 0.0), (0.1, 0.0), (0.0, 1.0)),
               penalty_epochs=1, penalty_train_size=300, pgd_size=100, pgd_steps=5,
               imagenet=("MobileNetV2",), robust_eps=(0.0, 0.5), robust_epochs=1, robust_train_size=256,
               robust_attack_steps=1, ilyas_size=120, ilyas_steps=3, ilyas_step_size=0.25,
               ilyas_adversarial_steps=2),
    "quick": dict(seed=0, epochs=8, train_size=50000, eval_size=3000, hi=316,
                  noise=(0.05, 0.1, 0.2, 0.5), pca_dims=(1, 2, 4, 8, 16, 32),
                  penalty_grid=((0.0, 0.0), (0.01, 0.0), (0.05, 0.0), (0.1, 0.0), (0.0, 1.0)),
                  penalty_epochs=3, penalty_train_size=10000, pgd_size=500, pgd_steps=10,
                  imagenet=("ResNet50", "VGG16", "MobileNetV2", "DenseNet121"),
                  robust_eps=(0.0, 0.5, 1.0), robust_epochs=3, robust_train_size=20000,
                  robust_attack_steps=2, ilyas_size=1000, ilyas_steps=100, ilyas_step_size=0.25,
                  ilyas_adversarial_steps=10),
    "paper": dict(seed=0, epochs=30, train_size=50000, eval_size=3000, hi=316,
                  noise=(0.05, 0.1, 0.2, 0.5), pca_dims=(1, 2, 4, 8, 16, 32),
                  penalty_grid=tuple((c1, c2) for c1 in (0.0, 0.01, 0.05, 0.1) for c2 in (0.0, 0.5, 1.0, 3.0)),
                  penalty_epochs=30, penalty_train_size=50000, pgd_size=3000, pgd_steps=20,
                  imagenet=("ResNet50", "VGG16", "MobileNetV2", "DenseNet121"),
                  robust_eps=(0.0, 0.25, 0.5, 1.0), robust_epochs=30, robust_train_size=50000,
                  robust_attack_steps=7, ilyas_size=3000, ilyas_steps=1000, ilyas_step_size=0.1,
                  ilyas_adversarial_steps=100),
}


# The synthesis chapter measures the other chapters' networks (it trains none of its own: they
# come from the cache, under the same profile). Radii and noise levels are per data set, in
# [0, 1] pixel units, L2.
_SYNTHESIS_COMMON = dict(deepfool_candidates=3, pgd_eps={"mnist": 1.0, "cifar10": 0.25},
                         noise_sigma={"mnist": 0.3, "cifar10": 0.05})
SETTINGS["synthesis"] = {
    "ci": dict(seed=0, size=50, spectrum_size=200, hi=40, pgd_steps=5, deepfool_steps=10, noise_images=20,
               noise_copies=4, kurtosis_dim=2000, kurtosis_vectors=20, diagnose_images=100, **_SYNTHESIS_COMMON),
    "quick": dict(seed=0, size=200, spectrum_size=1000, hi=316, pgd_steps=20, deepfool_steps=50, noise_images=50,
                  noise_copies=8, kurtosis_dim=20000, kurtosis_vectors=50, diagnose_images=1000, **_SYNTHESIS_COMMON),
    "paper": dict(seed=0, size=2000, spectrum_size=3000, hi=316, pgd_steps=100, deepfool_steps=100,
                  noise_images=500, noise_copies=20, kurtosis_dim=20000, kurtosis_vectors=200, diagnose_images=10000,
                  **_SYNTHESIS_COMMON),
}


# fmt: on


class Settings(Mapping):
    """Read-only settings with attribute access: ``s.seed`` or ``s["seed"]``."""

    def __init__(self, values: dict):
        object.__setattr__(self, "_values", dict(values))

    def __getitem__(self, key):
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no setting {name!r}; the settings are {sorted(self._values)}") from None

    def __setattr__(self, name, value):
        raise TypeError("settings are read-only; pass overrides to profiles.settings instead")

    def __repr__(self):
        return f"Settings({self._values})"


def _same_kind(default, value) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    if isinstance(default, (tuple, list)):
        return isinstance(value, (tuple, list))
    return isinstance(value, type(default))


def settings(chapter: str, profile: str, overrides: dict | None = None) -> Settings:
    """The settings of ``chapter`` under ``profile``, with ``overrides`` applied and checked."""
    if chapter not in SETTINGS:
        raise ValueError(f"unknown chapter {chapter!r}; the chapters are {sorted(SETTINGS)}")
    if profile not in PROFILES:
        raise ValueError(
            f"unknown profile {profile!r}; choose one of {list(PROFILES)} "
            f"(ci: tests, quick: a laptop CPU, paper: the papers' own settings)"
        )
    values = dict(SETTINGS[chapter][profile])
    for key, value in (overrides or {}).items():
        if key not in values:
            raise ValueError(f"unknown override {key!r} for {chapter}; the settings are {sorted(values)}")
        if not _same_kind(values[key], value):
            raise ValueError(f"override {key}={value!r} should be like {values[key]!r} ({type(values[key]).__name__})")
        values[key] = tuple(map(tuple, value)) if key.endswith("pairs") else value
    return Settings(values)
