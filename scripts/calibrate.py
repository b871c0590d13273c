"""Measure how far every checked number of the `ci` chapters moves, and record it.

A reader's machine differs from the one that wrote tests/reference/ in ways nobody emulates
(vendor, cache sizes, which kernels the libraries pick). Its effect on a chapter is a
rounding-level change somewhere in training, which training on tiny data amplifies. So each
chapter is run as several "draws" of such changes:

- ``perturbed-K``: as `make test` runs it (numerics.mk's pins), with ``$COMPANION_PERTURB_SEED=K``:
  every network starts from initial weights moved by 0 to 2 ulps (a fresh draw per network);
- every emulated machine of scripts/portability.py (other CPU features and thread counts).

A draw runs all chapters in the order `make test` does (alphabetical: the stabilized-gradients
chapter attacks the saturating chapter's cached networks, the synthesis all of them) in one fresh
cache. Then, per chapter, companion.book.calibration records every checked number's reference value and
largest deviation, and every checked line whose text changed, in tests/reference/calibration.json,
and a table prints each moved number with its declared tolerance and the ratio
tolerance / deviation (the test wants >= 3).

Usage: python scripts/calibrate.py [--seeds N] [--jobs J] [--threads T] [--chapter SLUG ...]
                                   [--report-only] [--worst N]
Executed draws are kept in build/calibration/<draw>/<slug>.ipynb; --report-only rebuilds the
record and the table from them (after a tolerance changed) without running anything.
"""

import argparse
import concurrent.futures
import functools
import json
import sys
import tempfile
import time
from pathlib import Path

from portability import CONFIGS, environment, run_chapter

from companion import files

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "calibration"
RECORD = ROOT / "tests" / "reference" / "calibration.json"


def draws(seeds: int, threads: int) -> dict:
    """``{draw name: environment changes}``: the emulated machines, then the perturbed draws."""
    perturbed = {f"perturbed-{k}": {"COMPANION_PERTURB_SEED": str(k), "threads": threads} for k in range(1, seeds + 1)}
    return {**CONFIGS, **perturbed}


def run_draw(name: str, change: dict, slugs: list) -> list[str]:
    """Every chapter of ``slugs``, in order, in one fresh cache; returns one line per chapter."""
    lines = []
    env = environment(change)
    with tempfile.TemporaryDirectory() as tmp:
        for slug in slugs:
            out = OUT / name / f"{slug}.ipynb"
            started = time.perf_counter()
            proc = run_chapter(slug, out, env, tmp)
            status = "ran" if proc.returncode == 0 else f"FAILED: {proc.stderr.strip()[-400:]}"
            lines.append(f"{name:20s} {slug:22s} {time.perf_counter() - started:6.0f} s  {status}")
            print(lines[-1], flush=True)
    return lines


@functools.cache
def executed_draws(slug: str) -> dict:
    """``{draw: executed notebook}`` of ``slug`` from build/calibration/, read once."""
    import nbformat

    return {
        d.name: nbformat.read(d / f"{slug}.ipynb", as_version=4)
        for d in sorted(OUT.iterdir())
        if (d / f"{slug}.ipynb").exists()
    }


def record(slugs: list) -> dict:
    """The calibration record of ``slugs`` from the draws in build/calibration/, merged into the
    committed record (other chapters kept as they were)."""
    import jupytext
    import nbformat

    from companion.book import calibration, chapters

    old = json.loads(RECORD.read_text()) if RECORD.exists() else {"chapters": {}}
    for slug in slugs:
        source = jupytext.read(chapters.source(slug, ROOT))
        reference = nbformat.read(ROOT / "tests" / "reference" / f"{slug}.ipynb", as_version=4)
        executed = executed_draws(slug)
        entry = calibration.spread(source, reference, executed)
        entry["reference_digest"] = calibration.reference_digest(source, reference)
        entry["draws"] = sorted(executed)
        old["chapters"][slug] = entry
    old["margin"] = calibration.MARGIN
    return old


def report(rec: dict, slugs: list, worst: int) -> int:
    import jupytext
    import nbformat

    from companion.book import calibration, chapters

    rows, problems = [], []
    for slug in slugs:
        source = jupytext.read(chapters.source(slug, ROOT))
        reference = nbformat.read(ROOT / "tests" / "reference" / f"{slug}.ipynb", as_version=4)
        entry = rec["chapters"][slug]
        rows += [(slug,) + r for r in calibration.ratio_table(source, reference, entry)]
        problems += [f"{slug}: {p}" for p in calibration.shortfalls(source, reference, entry)]
        moved = sum(n["deviation"] > 0 for c in entry["cells"].values() for n in c["numbers"])
        total = sum(len(c["numbers"]) for c in entry["cells"].values())
        draws = executed_draws(slug)
        differ = {name: p for name, p in calibration.agreeing(source, reference, draws).items() if p}
        print(
            f"{slug}: {len(entry['draws'])} draws, {total} checked numbers, {moved} moved; "
            f"{len(draws) - len(differ)} of {len(draws)} draws agree with the reference"
            + (f" (differ: {', '.join(differ)})" if differ else "")
        )
    rows.sort(key=lambda r: r[8])
    print(
        f"\n{'chapter':20s} {'cell':>4s} {'line':>4s} {'#':>2s} {'reference':>10s} {'min':>10s} "
        f"{'max':>10s}  {'tolerance':22s} {'ratio':>6s}  context"
    )
    for slug, cell, line, pos, ref, lo, hi, tol, ratio, context in rows[:worst]:
        print(
            f"{slug:20s} {cell:4d} {line:4d} {pos:2d} {ref:>10s} {lo:10.4g} {hi:10.4g}  "
            f"{tol:22s} {ratio:6.2f}  {context[:60]}"
        )
    print(f"({len(rows)} checked numbers moved; the {min(worst, len(rows))} smallest ratios)")
    print(f"\n{len(problems)} shortfall(s) against {calibration.MARGIN:g}x the observed deviation")
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


def main() -> int:
    slugs_all = sorted(p.stem for p in (ROOT / "book" / "notebooks").glob("*.md"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=8, help="perturbed draws (default 8)")
    parser.add_argument("--jobs", type=int, default=2, help="draws side by side (default 2)")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads of each perturbed draw (default 1, as --jobs 2 on 2 cores)"
    )
    parser.add_argument("--chapter", action="append", choices=slugs_all)
    parser.add_argument("--draw", action="append", help="run only these draws (by name)")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--worst", type=int, default=10, help="rows of the table (default 10)")
    args = parser.parse_args()
    if args.seeds < 0 or args.jobs < 1 or args.threads < 1:
        parser.error("--seeds must be >= 0, --jobs and --threads >= 1")
    slugs = args.chapter or slugs_all
    todo = draws(args.seeds, args.threads)
    if args.draw:
        unknown = set(args.draw) - set(todo)
        if unknown:
            parser.error(f"unknown draw(s) {sorted(unknown)}; the draws are {sorted(todo)}")
        todo = {k: v for k, v in todo.items() if k in args.draw}
    if not args.report_only:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            failed = [
                line
                for lines in pool.map(lambda kv: run_draw(kv[0], kv[1], slugs), todo.items())
                for line in lines
                if "FAILED" in line
            ]
        if failed:
            print(f"{len(failed)} chapter run(s) failed; the record is not written", file=sys.stderr)
            return 1
    rec = record(slugs)
    files.write_text(RECORD, json.dumps(rec, indent=1, sort_keys=True) + "\n")
    return report(rec, slugs, args.worst)


if __name__ == "__main__":
    sys.exit(main())
