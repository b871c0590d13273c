"""Run a chapter headless; compare a run with its reference (:mod:`companion.book.comparison`).

A chapter is a Jupytext MyST notebook in ``book/notebooks/<slug>.md``. :func:`execute` runs it
with papermill under a profile and writes the executed notebook atomically.

Exact comparison is for what is stable by construction (closed forms, settings, counts, verdict
words); tolerances are for what training on tiny data makes sensitive to the last bit of a float,
which moves with the CPU's instruction set, the BLAS kernel and the thread count.

Command line::

    python -m companion.book.chapters run SLUG PROFILE OUT.ipynb [--overrides YAML] [--strip-images]
    python -m companion.book.chapters compare REFERENCE.ipynb RUN.ipynb
    python -m companion.book.chapters times book/chapters/*.ipynb [--top N]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from companion import files, profiles
from companion.book import staleness
from companion.book.comparison import compare

IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
SOURCES = Path("book") / "notebooks"


@contextlib.contextmanager
def _environment(**values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items() if v is not None})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def strip_images(nb) -> None:
    """Drop image outputs and per-run metadata (kept small in git; images are not compared)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for key in IMAGE_TYPES:
                out.get("data", {}).pop(key, None)
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
    nb.metadata.pop("papermill", None)


def merge_streams(nb) -> None:
    """One box per stream: consecutive ``stdout`` (or ``stderr``) outputs of a cell, which papermill
    keeps apart when a cell prints while it computes, become one output with their texts joined
    (the text a reader sees, and :func:`~companion.book.comparison.output_text`, are unchanged)."""
    for cell in nb.cells:
        merged = []
        for out in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (
                out.get("output_type") == "stream"
                and previous is not None
                and previous.get("output_type") == "stream"
                and previous.get("name") == out.get("name")
            ):
                previous["text"] = "".join(previous["text"]) + "".join(out.get("text", ""))
            else:
                merged.append(out)
        if "outputs" in cell:
            cell["outputs"] = merged


def merge_parameters(nb) -> None:
    """Show the parameters a chapter ran with once: papermill's injected cell replaces the
    source of the ``parameters`` cell (the defaults) and is dropped."""
    tagged = {
        tag: [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
        for tag in ("parameters", "injected-parameters")
    }
    if len(tagged["parameters"]) == 1 and len(tagged["injected-parameters"]) == 1:
        injected = tagged["injected-parameters"][0]
        lines = [ln for ln in injected.source.splitlines() if ln.strip() != "# Parameters"]
        tagged["parameters"][0].source = "\n".join(lines).strip()
        nb.cells.remove(injected)


def write_atomic(nb, path: str | os.PathLike) -> Path:
    """Write a notebook node to ``path`` whole or not at all (:func:`companion.files.write_text`)."""
    import nbformat

    text = nbformat.writes(nb)
    return files.write_text(path, text if text.endswith("\n") else text + "\n")


def source(slug: str, root: str | os.PathLike = ".") -> Path:
    """The MyST source of chapter ``slug``; a clear error names the chapters there are."""
    path = Path(root) / SOURCES / f"{slug}.md"
    if not path.is_file():
        known = sorted(p.stem for p in (Path(root) / SOURCES).glob("*.md"))
        raise FileNotFoundError(
            f"no chapter {slug!r} in {Path(root) / SOURCES}; the chapters are: {', '.join(known) or 'none'}"
        )
    return path


_DATASET = re.compile(r"\bload_(mnist|cifar10)\(")


def check_inputs(slugs, out_dir: str | os.PathLike, root: str | os.PathLike = ".") -> None:
    """Before any chapter of ``slugs`` runs: ``out_dir`` can be written, and every data set the
    chapters load is there (ValueError or OSError otherwise, one line: what and how to mend it)."""
    from companion import data

    out_dir = Path(out_dir)
    try:
        files.check_writable(out_dir)
    except OSError as error:
        raise OSError(f"cannot write to {out_dir} ({error.strerror}); choose a folder you can write to") from None
    needed = sorted({name for slug in slugs for name in _DATASET.findall(source(slug, root).read_text())})
    for name in needed:
        try:
            data.load(name)
        except data.DataError as error:
            raise ValueError(" ".join(str(error).split())) from None


def execute(
    slug: str,
    profile: str,
    out: str | os.PathLike,
    overrides: dict | None = None,
    root: str | os.PathLike = ".",
    results_dir: str | None = None,
    cache_dir: str | None = None,
    images: bool = True,
    progress: bool = False,
):
    """Run chapter ``slug`` under ``profile`` with papermill; write it to ``out`` atomically.

    ``overrides`` (a dict of settings) is passed on as the chapter's ``overrides`` parameter.
    The kernel runs in ``out``'s folder, with ``$COMPANION_RESULTS_DIR`` (the scorecard JSON)
    and ``$COMPANION_CACHE`` set when given. An unknown chapter, profile or setting fails
    before any work. When a cell fails, ``out`` is left as it was and the error names the
    partly executed notebook. ``progress`` shows papermill's bar of the cells on stderr. The
    executed notebook records what it was computed from (:func:`staleness.fingerprint`, and the
    overrides) in ``metadata.companion``. Returns the executed notebook node.
    """
    import jupytext
    import papermill

    path = source(slug, root)
    profiles.settings(slug, profile, overrides)
    record = {**staleness.fingerprint(slug, profile, root), "overrides": dict(overrides or {})}
    nb = jupytext.read(path)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"companion-{slug}-"))
    with _environment(COMPANION_RESULTS_DIR=results_dir, COMPANION_CACHE=cache_dir):
        try:
            executed = papermill.execute_notebook(
                nb,
                str(work / f"{slug}.ipynb"),
                parameters={"profile": profile, "overrides": dict(overrides or {})},
                kernel_name="python3",
                cwd=str(out.parent),
                log_output=False,
                progress_bar=progress,
            )
        except papermill.PapermillExecutionError as error:
            raise RuntimeError(
                f"chapter {slug} ({profile}) failed in cell "
                f"{error.exec_count}: {error.ename}: {error.evalue}; the partly "
                f"executed notebook is {work / f'{slug}.ipynb'}"
            ) from None
    merge_parameters(executed)
    merge_streams(executed)
    executed.metadata[staleness.KEY] = record
    if not images:
        strip_images(executed)
    write_atomic(executed, out)
    shutil.rmtree(work, ignore_errors=True)
    return executed


def executed_profile(nb) -> str:
    """The profile an executed notebook ran with (papermill's record), or ``"?"``."""
    return str(nb.metadata.get("papermill", {}).get("parameters", {}).get("profile", "?"))


def cell_times(nb) -> list[tuple[int, float, str]]:
    """Per code cell of an executed notebook (papermill's metadata): ``(index, seconds, first
    line of the source)``, slowest first. Empty for a notebook run without papermill's timing."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    times = [(k, c.get("metadata", {}).get("papermill", {}).get("duration"), c.source) for k, c in enumerate(code, 1)]
    return sorted(
        ((k, float(t), src.strip().splitlines()[0] if src.strip() else "") for k, t, src in times if t is not None),
        key=lambda row: -row[1],
    )


def _read(path: str):
    """An executed notebook; OSError with one line if it is missing or not a notebook."""
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise OSError(f"no notebook {path}: give the path of an executed chapter (.ipynb)") from None
    except (ValueError, nbformat.reader.NotJSONError) as error:
        raise OSError(f"{path} is not a notebook ({' '.join(str(error).split())[:80]})") from None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m companion.book.chapters",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute a chapter under a profile")
    run.add_argument("slug")
    run.add_argument("profile")
    run.add_argument("out")
    run.add_argument("--overrides", default="{}", help="settings to change, as YAML: '{lenet_epochs: 20}'")
    run.add_argument("--strip-images", action="store_true")
    run.add_argument("--results-dir")
    run.add_argument("--cache-dir")
    cmp_ = sub.add_parser("compare", help="check a run's printed outputs against a reference")
    cmp_.add_argument("reference")
    cmp_.add_argument("run", nargs="+")
    times = sub.add_parser("times", help="where an executed chapter's time went, per cell")
    times.add_argument("executed", nargs="+")
    times.add_argument("--top", type=int, default=5)
    args = parser.parse_args(argv)
    if args.command == "times":
        try:
            executed = [(path, _read(path)) for path in args.executed]
        except OSError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        for path, nb in executed:
            rows = cell_times(nb)
            print(f"{path}: {sum(t for _, t, _ in rows):.0f} s in {len(rows)} cells")
            for k, t, first in rows[: args.top]:
                print(f"  cell {k:3d} {t:8.1f} s  {first[:70]}")
        return 0
    if args.command == "run":
        import yaml

        try:
            try:
                overrides = yaml.safe_load(args.overrides) or {}
            except yaml.YAMLError as error:
                mark = getattr(error, "problem_mark", None)
                where = f" at column {mark.column + 1}" if mark else ""
                raise ValueError(
                    f"--overrides is not valid YAML{where}: {args.overrides!r}; write a "
                    "mapping such as '{lenet_epochs: 20}'"
                ) from None
            if not isinstance(overrides, dict):
                raise ValueError(f"--overrides must be a mapping, not {args.overrides!r}")
            source(args.slug)  # the chapter, then its profile and settings, then the folder and the data
            profiles.settings(args.slug, args.profile, overrides)
            check_inputs([args.slug], Path(args.out).resolve().parent)
            execute(
                args.slug,
                args.profile,
                args.out,
                overrides,
                results_dir=args.results_dir,
                cache_dir=args.cache_dir,
                images=not args.strip_images,
            )
        except (ValueError, OSError, RuntimeError) as error:
            print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
            return 2
        return 0

    try:
        reference, runs = _read(args.reference), [(path, _read(path)) for path in args.run]
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    status = 0
    for path, run_nb in runs:
        problems = compare(reference, run_nb)
        print(f"{path}: {'agrees with' if not problems else 'DIFFERS from'} {args.reference}")
        for p in problems:
            print("  " + p.replace("\n", "\n  "))
        status |= bool(problems)
    return status


if __name__ == "__main__":
    sys.exit(main())
