"""Seeds and determinism in one call, made first by every chapter."""

from __future__ import annotations

import contextlib
import itertools
import os
import sys

# Calibration runs only (scripts/calibrate.py): a seed that moves every model's initial weights by
# a few ulps, as a different machine's rounding would. Unset, nothing is perturbed.
PERTURB_ENV = "COMPANION_PERTURB_SEED"
_perturbed_models = itertools.count()


@contextlib.contextmanager
def _stderr_silenced():
    """Send file descriptor 2 to /dev/null (C++ start-up logs bypass ``sys.stderr``)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def import_tensorflow():
    """Import TensorFlow without its C++ start-up messages (they would land in notebooks)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules:
        with _stderr_silenced():
            import tensorflow  # noqa: F401

            tensorflow.config.list_physical_devices()  # device discovery logs too
        # Python-side warnings (retracing notices with memory addresses) would reach notebooks.
        tensorflow.get_logger().setLevel("ERROR")
    return sys.modules["tensorflow"]


def onednn_enabled() -> bool:
    """Whether TensorFlow runs its oneDNN CPU kernels (``TF_ENABLE_ONEDNN_OPTS``, read once when
    TensorFlow is imported; ``import companion`` defaults it to 1)."""
    import_tensorflow()
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


def seed_everything(seed: int = 0) -> str:
    """Seed Python, NumPy, Keras and TensorFlow; make TensorFlow ops deterministic.

    Returns a one-line description of the device that will run the work.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, not {seed!r}")
    tf = import_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    gpus = tf.config.list_physical_devices("GPU")
    device = (
        f"{len(gpus)} GPU(s)"
        if gpus
        else f"CPU ({os.cpu_count()} cores, oneDNN kernels {'on' if onednn_enabled() else 'off'})"
    )
    return f"seed {seed}, deterministic ops, TensorFlow {tf.__version__}, Keras {keras.__version__}, {device}"


def perturbation_seed() -> int | None:
    """The calibration seed in ``$COMPANION_PERTURB_SEED``, or None when it is unset or empty."""
    value = os.environ.get(PERTURB_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ValueError(f"${PERTURB_ENV} must be a non-negative integer, not {value!r}")
    return int(value)


def nudge_ulps(values, ulps):
    """``values`` (float array) moved ``ulps`` (int array of the same shape, any sign) units in
    the last place each, toward +inf for positive counts and -inf for negative ones."""
    import numpy as np

    out = np.array(values, copy=True)
    ulps = np.asarray(ulps)
    for k in range(1, int(np.abs(ulps).max(initial=0)) + 1):
        for sign in (1, -1):
            moved = sign * ulps >= k
            out[moved] = np.nextafter(out[moved], sign * np.inf, dtype=out.dtype)
    return out


def perturb_initial_weights(model, max_ulps: int = 2) -> bool:
    """Under ``$COMPANION_PERTURB_SEED`` only: move each floating weight of ``model`` by a random
    number of ulps in ``[-max_ulps, max_ulps]``, a fresh draw per model (seeded by the variable
    and the model's order in this process). The training loops call it before their first step,
    so a calibration run starts from weights that differ from the reference's at the rounding
    level. Returns whether it perturbed anything; without the variable it does nothing."""
    import numpy as np

    seed = perturbation_seed()
    if seed is None:
        return False
    rng = np.random.default_rng([seed, next(_perturbed_models)])
    for variable in model.weights:
        value = np.asarray(variable.numpy())
        if np.issubdtype(value.dtype, np.floating):
            variable.assign(nudge_ulps(value, rng.integers(-max_ulps, max_ulps + 1, value.shape)))
    return True
