"""Seeds and determinism in one call, made first by every chapter."""
from __future__ import annotations

import contextlib
import os
import sys


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
    device = (f"{len(gpus)} GPU(s)" if gpus else
              f"CPU ({os.cpu_count()} cores, oneDNN kernels {'on' if onednn_enabled() else 'off'})")
    return (f"seed {seed}, deterministic ops, TensorFlow {tf.__version__}, "
            f"Keras {keras.__version__}, {device}")
