"""A content-addressed cache for trained models and expensive results.

An entry lives in ``$COMPANION_CACHE/<name>/<key>/`` (default ``~/.cache/companion``), where
``key`` hashes everything that determines the result: the config, the data's digest and the
source of the code that computes it. Entries are written into a temporary folder and renamed
into place, and carry a manifest of file hashes; an entry whose files do not match is damaged,
is removed and is computed again.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from companion.reproducibility import perturbation_seed

ENV_VAR = "COMPANION_CACHE"
MANIFEST = "manifest.json"


def cache_root() -> Path:
    """The cache folder: ``$COMPANION_CACHE`` or ``~/.cache/companion``."""
    return Path(os.environ.get(ENV_VAR) or Path.home() / ".cache" / "companion")


def code_fingerprint(*objects) -> str:
    """sha256 of the source of modules, classes or functions (their code version)."""
    h = hashlib.sha256()
    for obj in objects:
        h.update(inspect.getsource(obj).encode())
    return h.hexdigest()


def make_key(parts: dict) -> str:
    """A stable hex key for a JSON-serialisable description of a result (and, in a calibration
    run, its perturbation seed, so that perturbed networks never answer for unperturbed ones)."""
    seed = perturbation_seed()
    if seed is not None:
        parts = {**parts, "perturbation_seed": seed}
    text = json.dumps(parts, sort_keys=True, default=_jsonable)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _jsonable(obj):
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    if isinstance(obj, (tuple, set)):
        return list(obj)
    raise TypeError(f"cache key part {obj!r} ({type(obj).__name__}) is not JSON-serialisable")


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _is_intact(entry: Path) -> bool:
    try:
        manifest = json.loads((entry / MANIFEST).read_text())
        return all(_file_hash(entry / name) == digest for name, digest in manifest.items())
    except (OSError, ValueError):
        return False


def contains(name: str, parts: dict) -> bool:
    """Whether an intact entry answers ``parts`` (so :func:`cached` would not compute)."""
    entry = cache_root() / name / make_key(parts)
    return entry.is_dir() and _is_intact(entry)


def cached(
    name: str, parts: dict, compute: Callable[[], Any], save: Callable[[Any, Path], None], load: Callable[[Path], Any]
):
    """Return ``load(entry)`` for a valid entry, else ``compute()``, saved atomically.

    ``save(result, folder)`` writes files into a fresh folder; ``load(folder)`` reads them back.
    Returns ``(result, hit)`` with ``hit`` True when the cache answered.
    """
    entry = cache_root() / name / make_key(parts)
    if entry.is_dir():
        if _is_intact(entry):
            try:
                return load(entry), True
            except Exception:  # readable manifest but unreadable payload: recompute
                pass
        shutil.rmtree(entry, ignore_errors=True)
    result = compute()
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=entry.parent))
    try:
        save(result, tmp)
        (tmp / "parts.json").write_text(json.dumps(parts, sort_keys=True, default=_jsonable))
        manifest = {p.name: _file_hash(p) for p in sorted(tmp.iterdir())}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        try:
            os.rename(tmp, entry)
        except OSError:  # another process wrote the same entry first; keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return result, False


def _save_arrays(arrays: dict, folder: Path) -> None:
    np.savez(folder / "arrays.npz", **arrays)


def _load_arrays(folder: Path) -> dict:
    with np.load(folder / "arrays.npz", allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def cached_arrays(name: str, parts: dict, compute: Callable[[], dict]) -> dict:
    """:func:`cached` for a result that is a dict of NumPy arrays."""
    result, _ = cached(name, parts, compute, _save_arrays, _load_arrays)
    return result


def _save_model(result, folder: Path) -> None:
    model, history = result
    model.save(folder / "model.keras")
    (folder / "history.json").write_text(json.dumps(history, default=_jsonable))


def _load_model(folder: Path):
    import keras

    from companion import keras_layers  # noqa: F401  (registers our layers, which saved models may use)

    model = keras.models.load_model(folder / "model.keras", compile=False)
    return model, json.loads((folder / "history.json").read_text())


def cached_model(name: str, parts: dict, train: Callable[[], tuple]):
    """:func:`cached` for ``train() -> (keras_model, history_dict)``; returns the same pair."""
    result, _ = cached(name, parts, train, _save_model, _load_model)
    return result
