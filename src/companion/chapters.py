"""Run a chapter headless and check its printed outputs against a reference run.

A chapter is a Jupytext MyST notebook in ``book/notebooks/<slug>.md``. :func:`execute` runs it
with papermill under a profile and writes the executed notebook atomically. :func:`compare`
checks a run against a reference run of the same chapter, cell by cell:

- cells tagged ``nbval-ignore-output`` (figures, timings, logs) are not compared;
- the text of every other output must match, up to runs of spaces and of dashes (table
  padding follows the width of the numbers in it);
- every number in that text must match exactly, unless the cell declares a tolerance in its
  metadata, ``:tolerance: {rel: 0.05, abs: 0.5}`` in the MyST source: then two numbers ``a``
  (this run) and ``b`` (reference) agree when ``|a - b| <= abs + rel * |b|``.

Exact comparison is for what is stable by construction (closed forms, settings, counts, verdict
words); tolerances are for what training on tiny data makes sensitive to the last bit of a float,
which moves with the CPU's instruction set, the BLAS kernel and the thread count.

Command line::

    python -m companion.chapters run SLUG PROFILE OUT.ipynb [--overrides YAML] [--strip-images]
    python -m companion.chapters compare REFERENCE.ipynb RUN.ipynb
    python -m companion.chapters times book/chapters/*.ipynb [--top N]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

IGNORE_TAG = "nbval-ignore-output"
TOLERANCE_KEY = "tolerance"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
SOURCES = Path("book") / "notebooks"

# A number: not inside a word ("conv1", "x_1" are text), an optional sign (a dash right after a
# digit is a range, "0.47-1.04", not a sign), digits, an optional fraction and exponent; or nan or
# inf standing alone (a quantity that was undefined in one run and a number in another is a
# number that moved, not a changed text).
_NUMBER = re.compile(r"(?<![\w.])[-−+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|nan\b|inf\b)")
_SPACES = re.compile(r"\s+")
_DASHES = re.compile(r"-{3,}")
UNCHECKED = "unchecked"


@dataclass(frozen=True)
class Tolerance:
    """``|a - b| <= abs + rel * |b|``; zero for both means the printed numbers must be equal.

    A cell may refine it for some of its numbers: ``rows`` maps a text that a reference line
    contains (a scorecard claim id, a row label) and ``columns`` a table header's label to their
    own ``{rel, abs}``, or to ``unchecked`` for a number too fragile to check in this profile (a
    row marked so is not compared at all, its words included). A row rule wins over a column rule;
    a column holds the numbers whose last character stands under its header label.
    """
    rel: float = 0.0
    abs: float = 0.0
    rows: tuple = ()      # ((text in the reference line, Tolerance | None), ...)
    columns: tuple = ()   # ((header label, Tolerance | None), ...)

    @classmethod
    def of(cls, cell) -> "Tolerance":
        spec = cell.get("metadata", {}).get(TOLERANCE_KEY) or {}
        return cls.parse(spec)

    @classmethod
    def parse(cls, spec) -> "Tolerance":
        def plain(value):
            if value == UNCHECKED:
                return None
            if (not isinstance(value, dict) or set(value) - {"rel", "abs"}
                    or not all(isinstance(v, (int, float)) and v >= 0 for v in value.values())):
                raise ValueError(f"a cell's tolerance must be {{rel: r, abs: a}} with r, a >= 0 "
                                 f"(rows and columns may also be '{UNCHECKED}'), not {value!r}")
            return cls(**{k: float(v) for k, v in value.items()})

        if not isinstance(spec, dict):
            plain(spec)
        refine = {k: spec.get(k) or {} for k in ("rows", "columns")}
        if not all(isinstance(v, dict) for v in refine.values()):
            raise ValueError(f"a tolerance's rows and columns map a text to a tolerance, not {spec!r}")
        base = plain({k: v for k, v in spec.items() if k not in refine})
        return cls(base.rel, base.abs,
                   tuple((str(k), plain(v)) for k, v in refine["rows"].items()),
                   tuple((str(k), plain(v)) for k, v in refine["columns"].items()))

    @property
    def exact(self) -> bool:
        return self.rel == 0 and self.abs == 0

    def agree(self, ours: str, reference: str) -> bool:
        if ours == reference:
            return True
        if self.exact:
            return False
        a, b = (float(s.replace("−", "-")) for s in (ours, reference))
        return abs(a - b) <= self.abs + self.rel * abs(b)

    def per_number(self, reference: str) -> list:
        """For each line of a cell's reference text: None when the line is not checked, else one
        entry per number of the line, the :class:`Tolerance` that applies or None (unchecked)."""
        base = Tolerance(self.rel, self.abs)
        lines, headers, out = reference.rstrip().splitlines(), {}, []
        for line in lines:
            row = next((rule for text, rule in self.rows if text in line), base)
            if any(text in line for text, _ in self.rows) and row is None:
                out.append(None)
                continue
            spans = [m.span() for m in _NUMBER.finditer(line)]
            rules = []
            for start, end in spans:
                rule = row if row is not base else next(
                    (r for label, r in self.columns
                     if label in headers and headers[label] <= end - 1 < headers[label] + len(label)),
                    base)
                rules.append(rule)
            out.append(rules)
            for label, _ in self.columns:  # the header line: its labels' places, for lines below
                if label in line and label not in headers:
                    headers[label] = line.index(label)
        return out

    def __str__(self) -> str:
        text = "exact" if self.exact else f"rel {self.rel:g}, abs {self.abs:g}"
        refined = [f"{k}: {v or UNCHECKED}" for k, v in self.rows + self.columns]
        return text + (f" ({'; '.join(refined)})" if refined else "")


def output_text(cell) -> str:
    """The text a reader sees of a code cell's outputs: streams, text results and errors."""
    parts = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(out.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif kind == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
    return "".join(p if isinstance(p, str) else "".join(p) for p in parts)


def split_numbers(text: str) -> tuple[list[str], list[str]]:
    """Split ``text`` into its numbers and the normalized text around them.

    Returns ``(numbers, words)`` with ``len(words) == len(numbers) + 1``. Table padding is
    normalized away: runs of white space become one space, white space next to a number goes,
    and runs of three or more dashes become three.
    """
    words, numbers, start = [], [], 0
    for m in _NUMBER.finditer(text):
        words.append(text[start:m.start()])
        numbers.append(m.group())
        start = m.end()
    words.append(text[start:])
    words = [_DASHES.sub("---", _SPACES.sub(" ", w)).strip() for w in words]
    return numbers, words


def compare_text(ours: str, reference: str, tolerance: Tolerance) -> list[str]:
    """Differences between two outputs of one cell, line by line; empty when they agree."""
    ours_lines, ref_lines = ours.rstrip().splitlines(), reference.rstrip().splitlines()
    if len(ours_lines) != len(ref_lines):
        return [f"{len(ours_lines)} lines printed, the reference has {len(ref_lines)}:\n"
                f"  got:       {ours.strip()[:300]!r}\n  reference: {reference.strip()[:300]!r}"]
    problems = []
    rules = tolerance.per_number(reference)
    for k, (line, ref, line_rules) in enumerate(zip(ours_lines, ref_lines, rules), 1):
        if line_rules is None:  # a row the cell does not check
            continue
        (nums, words), (ref_nums, ref_words) = split_numbers(line), split_numbers(ref)
        if words != ref_words or len(nums) != len(ref_nums):
            problems.append(f"line {k}: text differs\n  got:       {line.strip()}\n"
                            f"  reference: {ref.strip()}")
            continue
        bad = [f"{a} (reference {b}, {rule})" for a, b, rule in zip(nums, ref_nums, line_rules)
               if rule is not None and not rule.agree(a, b)]
        if bad:
            problems.append(f"line {k}: {', '.join(bad)} beyond tolerance\n"
                            f"  got:       {line.strip()}\n  reference: {ref.strip()}")
    return problems


def compare(reference, ours) -> list[str]:
    """Differences of the checked outputs of two executions of one chapter (notebook nodes).

    Cells are matched by position among code cells; an empty list means they agree. Tags and
    tolerances are read from ``ours``, which carries the chapter source as it is now.
    """
    ref_cells = [c for c in reference.cells if c.cell_type == "code"]
    our_cells = [c for c in ours.cells if c.cell_type == "code"]
    if len(ref_cells) != len(our_cells):
        return [f"{len(our_cells)} code cells, the reference has {len(ref_cells)}: "
                "regenerate the reference (make reference) if the chapter changed"]
    problems = []
    for k, (ref, cell) in enumerate(zip(ref_cells, our_cells), 1):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            problems.append(f"cell {k}: raised {errors[0].get('ename')}: {errors[0].get('evalue')}")
            continue
        # what the chapter declares now (its source, as this run carries it) decides what is
        # checked and how closely, so a calibrated tolerance needs no rewritten reference
        if IGNORE_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        problems += [f"cell {k}, {p}" for p in
                     compare_text(output_text(cell), output_text(ref), Tolerance.of(cell))]
    return problems


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


def merge_parameters(nb) -> None:
    """Show the parameters a chapter ran with once: papermill's injected cell replaces the
    source of the ``parameters`` cell (the defaults) and is dropped."""
    tagged = {tag: [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
              for tag in ("parameters", "injected-parameters")}
    if len(tagged["parameters"]) == 1 and len(tagged["injected-parameters"]) == 1:
        injected = tagged["injected-parameters"][0]
        lines = [ln for ln in injected.source.splitlines() if ln.strip() != "# Parameters"]
        tagged["parameters"][0].source = "\n".join(lines).strip()
        nb.cells.remove(injected)


def write_atomic(nb, path: str | os.PathLike) -> Path:
    """Write a notebook node to ``path`` through a temporary file in the same folder."""
    import nbformat

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".ipynb", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            nbformat.write(nb, f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def source(slug: str, root: str | os.PathLike = ".") -> Path:
    """The MyST source of chapter ``slug``; a clear error names the chapters there are."""
    path = Path(root) / SOURCES / f"{slug}.md"
    if not path.is_file():
        known = sorted(p.stem for p in (Path(root) / SOURCES).glob("*.md"))
        raise FileNotFoundError(f"no chapter {slug!r} in {Path(root) / SOURCES}; "
                                f"the chapters are: {', '.join(known) or 'none'}")
    return path


def execute(slug: str, profile: str, out: str | os.PathLike, overrides: dict | None = None,
            root: str | os.PathLike = ".", results_dir: str | None = None,
            cache_dir: str | None = None, images: bool = True):
    """Run chapter ``slug`` under ``profile`` with papermill; write it to ``out`` atomically.

    ``overrides`` (a dict of settings) is passed on as the chapter's ``overrides`` parameter.
    The kernel runs in ``out``'s folder, with ``$COMPANION_RESULTS_DIR`` (the scorecard JSON)
    and ``$COMPANION_CACHE`` set when given. An unknown chapter, profile or setting fails
    before any work. When a cell fails, ``out`` is left as it was and the error names the
    partly executed notebook. Returns the executed notebook node.
    """
    import jupytext
    import papermill

    from companion import profiles

    path = source(slug, root)
    profiles.settings(slug, profile, overrides)
    nb = jupytext.read(path)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"companion-{slug}-"))
    with _environment(COMPANION_RESULTS_DIR=results_dir, COMPANION_CACHE=cache_dir):
        try:
            executed = papermill.execute_notebook(
                nb, str(work / f"{slug}.ipynb"),
                parameters={"profile": profile, "overrides": dict(overrides or {})},
                kernel_name="python3", cwd=str(out.parent), log_output=False,
                progress_bar=False)
        except papermill.PapermillExecutionError as error:
            raise RuntimeError(f"chapter {slug} ({profile}) failed in cell "
                               f"{error.exec_count}: {error.ename}: {error.evalue}; the partly "
                               f"executed notebook is {work / f'{slug}.ipynb'}") from None
    merge_parameters(executed)
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
    times = [(k, c.get("metadata", {}).get("papermill", {}).get("duration"), c.source)
             for k, c in enumerate(code, 1)]
    return sorted(((k, float(t), src.strip().splitlines()[0] if src.strip() else "")
                   for k, t, src in times if t is not None), key=lambda row: -row[1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m companion.chapters", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute a chapter under a profile")
    run.add_argument("slug")
    run.add_argument("profile")
    run.add_argument("out")
    run.add_argument("--overrides", default="{}",
                     help="settings to change, as YAML: '{lenet_epochs: 20}'")
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
        import nbformat

        for path in args.executed:
            rows = cell_times(nbformat.read(path, as_version=4))
            print(f"{path}: {sum(t for _, t, _ in rows):.0f} s in {len(rows)} cells")
            for k, t, first in rows[:args.top]:
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
                raise ValueError(f"--overrides is not valid YAML{where}: {args.overrides!r}; write a "
                                 "mapping such as '{lenet_epochs: 20}'") from None
            if not isinstance(overrides, dict):
                raise ValueError(f"--overrides must be a mapping, not {args.overrides!r}")
            execute(args.slug, args.profile, args.out, overrides, results_dir=args.results_dir,
                    cache_dir=args.cache_dir, images=not args.strip_images)
        except (ValueError, FileNotFoundError, RuntimeError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        return 0
    import nbformat

    reference = nbformat.read(args.reference, as_version=4)
    status = 0
    for path in args.run:
        problems = compare(reference, nbformat.read(path, as_version=4))
        print(f"{path}: {'agrees with' if not problems else 'DIFFERS from'} {args.reference}")
        for p in problems:
            print("  " + p.replace("\n", "\n  "))
        status |= bool(problems)
    return status


if __name__ == "__main__":
    sys.exit(main())
