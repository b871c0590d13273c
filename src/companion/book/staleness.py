"""When an executed chapter is stale: what it was computed from, recorded in its metadata.

An executed chapter (``book/chapters/<slug>.ipynb``) records under ``metadata.companion`` the
:func:`fingerprint` it ran with: the profile, and SHA-256 digests of its MyST source, of the
package code it depends on, and of the lock. The code a chapter depends on is every module of
the ``companion`` package that its code cells import, followed through the modules' own imports
(those inside functions too), with the ``__init__.py`` of every package on the way. A chapter
is stale when it has no record or when any of the four differs (:func:`stale_reasons`); nothing
else (a timing, another chapter's code, the book's prose pages) makes it stale.
"""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

KEY = "companion"
LOCK = "requirements.lock"
SOURCES = Path("book") / "notebooks"
_CODE_CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)\n```", re.S)


def package_dir() -> Path:
    """The folder of the ``companion`` package in use."""
    import companion

    return Path(companion.__file__).resolve().parent


def digest(data: bytes) -> str:
    """SHA-256 of ``data``, in hex."""
    return hashlib.sha256(data).hexdigest()


def imported_names(code: str) -> set[str]:
    """The dotted names of the ``companion`` modules (or module members) that ``code`` imports."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name == "companion" or name.startswith("companion.")}


def module_file(dotted: str, package: Path) -> Path | None:
    """The file of module ``companion.x.y`` under ``package`` (``x/y.py`` or ``x/y/__init__.py``),
    or None for a name that is not a module (a function imported from one)."""
    parts = dotted.split(".")[1:]
    for candidate in (package.joinpath(*parts).with_suffix(".py"), package.joinpath(*parts, "__init__.py")):
        if parts and candidate.is_file():
            return candidate
    return package / "__init__.py" if not parts else None


def chapter_code(source: Path) -> str:
    """The code cells of a MyST notebook, their ``:option:`` lines left out, as one program."""
    cells = []
    for body in _CODE_CELL.findall(source.read_text()):
        lines = body.split("\n")
        if lines and lines[0].startswith("---"):  # a YAML block of options
            lines = lines[lines.index("---", 1) + 1 :] if "---" in lines[1:] else lines
        cells.append("\n".join(line for line in lines if not line.startswith(":")))
    return "\n".join(cells)


def dependencies(code: str, package: Path | None = None) -> list[Path]:
    """Every file of the package that ``code`` depends on through its imports, sorted."""
    package = package or package_dir()
    found: set[Path] = set()
    todo = [name for name in imported_names(code)]
    while todo:
        dotted = todo.pop()
        path = module_file(dotted, package)
        parents = [".".join(dotted.split(".")[:k]) for k in range(1, dotted.count(".") + 1)]
        todo += [p for p in parents if module_file(p, package) not in found]
        if path is None or path in found:
            continue
        found.add(path)
        todo += sorted(imported_names(path.read_text()))
    return sorted(found)


def fingerprint(slug: str, profile: str, root: str | Path = ".", package: Path | None = None) -> dict:
    """What an execution of chapter ``slug`` under ``profile`` is computed from:
    ``{"profile", "source", "code", "lock"}``, the last three SHA-256 digests."""
    package = package or package_dir()
    source = Path(root) / SOURCES / f"{slug}.md"
    files = dependencies(chapter_code(source), package)
    code = "\n".join(f"{p.relative_to(package).as_posix()} {digest(p.read_bytes())}" for p in files)
    lock = Path(root) / LOCK
    return {
        "profile": profile,
        "source": digest(source.read_bytes()),
        "code": digest(code.encode()),
        "lock": digest(lock.read_bytes()) if lock.is_file() else "",
    }


WHAT = {"profile": "the profile", "source": "its source", "code": "the package code it uses", "lock": "the lock"}


def stale_reasons(recorded: dict | None, current: dict) -> list[str]:
    """Why an executed chapter whose metadata holds ``recorded`` must run again to match
    ``current`` (both :func:`fingerprint` s); empty when it is up to date."""
    if not recorded:
        return ["never executed with a record of what it was computed from"]
    reasons = [f"it ran with overrides {recorded['overrides']}"] if recorded.get("overrides") else []
    for key, what in WHAT.items():
        if recorded.get(key) != current[key]:
            if key == "profile":
                reasons.append(f"the profile is {current[key]}, not {recorded.get(key)}")
            else:
                reasons.append(f"{what} changed")
    return reasons


def recorded(notebook_path: Path) -> dict | None:
    """The fingerprint an executed chapter records, or None (no file, no record, unreadable)."""
    import json

    try:
        return json.loads(Path(notebook_path).read_text()).get("metadata", {}).get(KEY)
    except (OSError, ValueError):
        return None
