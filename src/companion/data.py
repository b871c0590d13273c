"""MNIST and CIFAR-10, exact and checked.

Search order: ``$COMPANION_DATA_DIR/<name>.npz`` (keys ``x_train, y_train, x_test, y_test``,
uint8), then the Keras download (needs internet). Every array is checked against the sha256 of
the canonical distribution before it is returned.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENV_VAR = "COMPANION_DATA_DIR"
KEYS = ("x_train", "y_train", "x_test", "y_test")

SHAPES = {
    "mnist": {"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28), "y_test": (10000,)},
    "cifar10": {"x_train": (50000, 32, 32, 3), "y_train": (50000,), "x_test": (10000, 32, 32, 3), "y_test": (10000,)},
}

# sha256 of each array's C-order uint8 bytes, for the canonical data sets.
SHA256 = {
    "mnist": {
        "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
        "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
        "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
        "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
    },
    "cifar10": {
        "x_train": "47af8b02cfcfb6cdf3dbbd1969ad7f1b70f4413f6f80f437b020ee4e5bc8304a",
        "y_train": "2b7cd2f24487317614016b72ffd53071c3062f592f0eb300c18a770d41ae1253",
        "x_test": "f9b1e2130bab680db56eb06d886f7f1ad0f1183907ceff4659d1735c890f5b04",
        "y_test": "cec8a24a1e92aa2ecaa0bbd3dbfa86bf6cd8759fbd209a832824c8cf0afca9d5",
    },
}

DOWNLOAD_TIMEOUT_S = 30


class DataError(RuntimeError):
    """A data set is missing or is not the canonical one."""


@dataclass(frozen=True)
class Dataset:
    """A split data set; images uint8 ``(n, H, W[, C])``, labels uint8 ``(n,)``."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def sha256(self) -> str:
        """One digest for the whole data set (for cache keys)."""
        return hashlib.sha256("".join(SHA256[self.name][k] for k in KEYS).encode()).hexdigest()


def _help(name: str) -> str:
    keys = ", ".join(KEYS)
    return (
        f"Set {ENV_VAR} to a folder holding {name}.npz with the uint8 arrays {keys} "
        f"(for example the project's ../shared/data), or run where the Keras download "
        f"keras.datasets.{name}.load_data() can reach the internet."
    )


def check_arrays(name: str, arrays: dict, source: str) -> Dataset:
    """Check keys, dtypes, shapes and hashes; return a :class:`Dataset` or raise DataError."""
    missing = [k for k in KEYS if k not in arrays]
    if missing:
        raise DataError(f"{source} lacks the keys {missing}; expected {list(KEYS)}. {_help(name)}")
    out = {}
    for k in KEYS:  # every shape and dtype first: a cheap, precise message
        a = np.asarray(arrays[k])
        if k.startswith("y"):
            a = a.reshape(-1)
        if a.dtype != np.uint8 or a.shape != SHAPES[name][k]:
            raise DataError(f"{source}: {k} is {a.dtype} {a.shape}, expected uint8 {SHAPES[name][k]}. {_help(name)}")
        out[k] = np.ascontiguousarray(a)
    for k, a in out.items():
        digest = hashlib.sha256(a.tobytes()).hexdigest()
        if digest != SHA256[name][k]:
            raise DataError(
                f"{source}: {k} differs from the canonical {name} "
                f"(sha256 {digest[:12]}..., expected {SHA256[name][k][:12]}...). "
                f"{_help(name)}"
            )
    return Dataset(name=name, **out)


def _from_folder(name: str, folder: str) -> Dataset:
    path = Path(folder) / f"{name}.npz"
    if not path.is_file():
        raise DataError(f"{ENV_VAR}={folder} but {path} does not exist. {_help(name)}")
    try:
        with np.load(path) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as exc:  # a truncated or foreign file
        raise DataError(f"{path} could not be read as .npz ({exc}). {_help(name)}") from exc
    return check_arrays(name, arrays, str(path))


def _from_keras(name: str) -> Dataset:
    import keras

    loader = {"mnist": keras.datasets.mnist, "cifar10": keras.datasets.cifar10}[name]
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as exc:
        raise DataError(
            f"{ENV_VAR} is not set and the Keras download of {name} failed "
            f"({type(exc).__name__}: {str(exc)[:200]}). {_help(name)}"
        ) from exc
    finally:
        socket.setdefaulttimeout(previous)
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return check_arrays(name, arrays, f"keras.datasets.{name}")


@functools.lru_cache(maxsize=4)
def _load(name: str, folder: str | None) -> Dataset:
    return _from_folder(name, folder) if folder else _from_keras(name)


def load(name: str) -> Dataset:
    """Load ``"mnist"`` or ``"cifar10"`` as uint8 arrays, checked against known hashes."""
    if name not in SHA256:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(SHA256)}")
    return _load(name, os.environ.get(ENV_VAR) or None)


def load_mnist() -> Dataset:
    """MNIST: ``x`` uint8 ``(n, 28, 28)``, ``y`` uint8 ``(n,)``."""
    return load("mnist")


def load_cifar10() -> Dataset:
    """CIFAR-10: ``x`` uint8 ``(n, 32, 32, 3)`` (HWC RGB), ``y`` uint8 ``(n,)``."""
    return load("cifar10")


def to_float(x: np.ndarray, scale: str = "unit") -> np.ndarray:
    """uint8 images to float32: ``scale="unit"`` gives [0, 1], ``scale="pixel"`` gives [0, 255]."""
    if scale not in ("unit", "pixel"):
        raise ValueError(f"scale must be 'unit' or 'pixel', not {scale!r}")
    x = np.asarray(x, dtype=np.float32)
    return x / np.float32(255.0) if scale == "unit" else x


def class_subset(x: np.ndarray, y: np.ndarray, classes, per_class: int):
    """The first ``per_class`` examples of each class in ``classes``, in class order.

    Returns ``(x_sub, y_sub)`` with ``y_sub`` the original labels.
    """
    xs, ys = [], []
    for c in classes:
        idx = np.flatnonzero(y == c)
        if len(idx) < per_class:
            raise ValueError(f"class {c} has {len(idx)} examples, fewer than per_class={per_class}")
        xs.append(x[idx[:per_class]])
        ys.append(y[idx[:per_class]])
    return np.concatenate(xs), np.concatenate(ys)
