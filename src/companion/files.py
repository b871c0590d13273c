"""Files written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder, renamed into place:
    a reader sees the old file or the new one, never half of one. Creates the folder."""
    return _write(path, text, "w")


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """:func:`write_text` for bytes (an image)."""
    return _write(path, data, "wb")


def check_writable(folder: str | os.PathLike) -> Path:
    """Create ``folder`` if need be and check that a file can be written in it, before any long
    work; OSError otherwise."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tempfile.TemporaryFile(dir=folder).close()
    return folder


def _write(path, content, mode: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            f.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
