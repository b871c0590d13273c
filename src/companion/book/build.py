"""Bring the book's executed chapters up to date, as `jupyter-book build book/` does first
(book/_ext/execute_chapters.py): each chapter of ``book/_toc.yml`` whose executed notebook is
missing or stale (:mod:`companion.book.staleness`) runs, in the table of contents' order (which
follows the Makefile's dependency order: a chapter that loads another's networks comes after it);
then the scorecard page is gathered again. Progress goes to ``log``: chapter i of n, why it runs,
the papermill bar of its cells, its time, and the time left expected from the last build's times
(``book/chapters/times.json``)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from companion import files, profiles
from companion.book import chapters, scorecard, staleness

PROFILE_ENV = "COMPANION_PROFILE"
DEFAULT_PROFILE = "quick"
EXECUTED = Path("book") / "chapters"
TOC = Path("book") / "_toc.yml"
SCORECARD_PAGE = Path("book") / "scorecard.md"
TIMES = "times.json"


class BuildError(RuntimeError):
    """A chapter cannot run; the message is one line: what went wrong and how to mend it."""


def profile_from_environment() -> str:
    """``$COMPANION_PROFILE`` (default ``quick``), checked."""
    profile = os.environ.get(PROFILE_ENV) or DEFAULT_PROFILE
    if profile not in profiles.PROFILES:
        raise BuildError(
            f"{PROFILE_ENV}={profile!r} is not a profile; set it to one of {', '.join(profiles.PROFILES)} "
            f"(e.g. {PROFILE_ENV}=ci jupyter-book build book/)"
        )
    return profile


def chapter_order(root: Path) -> list[str]:
    """The chapters in the table of contents' order (entries ``chapters/<slug>``)."""
    return re.findall(r"^\s*-\s*file:\s*chapters/(\w+)\s*$", (root / TOC).read_text(), re.MULTILINE)


def stale_chapters(root: Path, profile: str) -> list[tuple[str, list[str]]]:
    """``[(slug, reasons)]`` for every chapter that must run, in order."""
    out = []
    for slug in chapter_order(root):
        if not (root / staleness.SOURCES / f"{slug}.md").is_file():
            raise BuildError(
                f"{TOC} lists chapters/{slug} but there is no {staleness.SOURCES / slug}.md: add it or remove the entry"
            )
        reasons = staleness.stale_reasons(
            staleness.recorded(root / EXECUTED / f"{slug}.ipynb"), staleness.fingerprint(slug, profile, root)
        )
        if reasons:
            out.append((slug, reasons))
    return out


def _times(root: Path) -> dict:
    try:
        return json.loads((root / EXECUTED / TIMES).read_text()).get("chapters", {})
    except (OSError, ValueError, AttributeError):
        return {}


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def bring_up_to_date(root: str | Path = ".", profile: str | None = None, log=print, only=None) -> list[str]:
    """Run every stale chapter (of ``only``, if given), then gather the scorecard page; returns
    the chapters run."""
    root = Path(root).resolve()
    profile = profile or profile_from_environment()
    unknown = set(only or ()) - set(chapter_order(root))
    if unknown:
        raise BuildError(
            f"no chapter {', '.join(sorted(unknown))} in {TOC}; the chapters are: {', '.join(chapter_order(root))}"
        )
    stale = [(slug, why) for slug, why in stale_chapters(root, profile) if only is None or slug in only]
    if not stale:
        log(f"[book] every chapter is up to date ({profile} profile): nothing to execute")
    else:
        try:
            chapters.check_inputs([slug for slug, _ in stale], root / EXECUTED, root)
        except (ValueError, OSError) as error:
            raise BuildError(" ".join(str(error).split())) from None
    times = _times(root)
    started = time.perf_counter()
    for i, (slug, reasons) in enumerate(stale, 1):
        left = [times.get(f"{s}:{profile}") for s, _ in stale[i - 1 :]]
        expected = f", about {_minutes(sum(left))} left by the last build's times" if None not in left else ""
        log(f"[book] chapter {i} of {len(stale)}: {slug} ({profile}), {'; '.join(reasons)}{expected}")
        begun = time.perf_counter()
        try:
            chapters.execute(
                slug, profile, root / EXECUTED / f"{slug}.ipynb", root=root, results_dir=str(root / EXECUTED),
                progress=True,
            )  # fmt: skip
        except (ValueError, OSError, RuntimeError) as error:
            message = " ".join(str(error).split())
            raise BuildError(f"{message}; mend it, then run jupyter-book build book/ again") from None
        took = times[f"{slug}:{profile}"] = round(time.perf_counter() - begun, 1)
        latest = {**_times(root), f"{slug}:{profile}": took}  # chapters run side by side write here too
        files.write_text(root / EXECUTED / TIMES, json.dumps({"chapters": latest}, indent=1, sort_keys=True) + "\n")
        log(f"[book] {slug} done in {_minutes(took)} ({_minutes(time.perf_counter() - started)} so far)")
    page = scorecard.gather(root / EXECUTED)
    if not (root / SCORECARD_PAGE).is_file() or (root / SCORECARD_PAGE).read_text() != page:
        files.write_text(root / SCORECARD_PAGE, page)
    return [slug for slug, _ in stale]


def key(slug: str, profile: str, root: str | Path = ".") -> str:
    """A short digest of what chapter ``slug`` under ``profile`` is computed from: the cache key
    of the published book's workflow (an unchanged chapter restores its results, not retrained)."""
    record = staleness.fingerprint(slug, profile, root)
    return staleness.digest(json.dumps(record, sort_keys=True).encode())[:16]


def main(argv=None) -> int:
    """``python -m companion.book.build [--only SLUG ...] [--key SLUG]``: bring the executed
    chapters up to date under $COMPANION_PROFILE (as the book build does), or print a chapter's
    cache key."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m companion.book.build", description=main.__doc__)
    parser.add_argument("--only", nargs="+", help="these chapters only")
    parser.add_argument("--key", help="print this chapter's cache key and stop")
    args = parser.parse_args(argv)
    try:
        if args.key:
            if args.key not in chapter_order(Path(".")):
                raise BuildError(f"no chapter {args.key}; the chapters are: {', '.join(chapter_order(Path('.')))}")
            print(key(args.key, profile_from_environment()))
            return 0
        bring_up_to_date(".", only=args.only, log=lambda line: print(line, file=sys.stderr, flush=True))
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
