"""The scorecard: one row per claim of a paper, with the paper's value beside ours.

A chapter builds a :class:`Scorecard`, shows it as its last table and saves it as JSON beside
the executed notebook; ``python -m companion.book.scorecard DIR OUT.md`` gathers every saved card
into the book's scorecard page.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from companion import files
from companion.book import sources

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_RUN = "not run in this profile"
PREMISE_ABSENT = "premise absent"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, NOT_RUN, PREMISE_ABSENT)
COLUMNS = ("id", "source", "claim", "paper", "ours", "tolerance", "verdict")
ENV_VAR = "COMPANION_RESULTS_DIR"


@dataclass(frozen=True)
class Row:
    """One claim: ``source`` is ``paper`` or ``ours`` (companion.book.sources), ``quote`` the paper's
    words (or, for our own test, the passage that motivates it), ``where`` where they stand and
    ``note`` what our own test tests."""

    id: str
    claim: str
    paper: str
    ours: str
    tolerance: str
    verdict: str
    source: str = ""
    quote: str = ""
    where: str = ""
    note: str = ""


def _verdict(passed, judge: bool, premise: bool = True) -> str:
    if not judge:
        return NOT_RUN
    if not premise:
        return PREMISE_ABSENT
    return REPRODUCED if bool(passed) else NOT_REPRODUCED


def _fmt(value, fmt: str) -> str:
    return format(value, fmt) if isinstance(value, (int, float)) else str(value)


class Scorecard:
    """Claims of one chapter under one profile."""

    def __init__(self, chapter: str, profile: str, overrides: dict | None = None, claim_sources: dict | None = None):
        """``claim_sources``: ``{claim id pattern: companion.book.sources.Source}``, by default the
        chapter's entry of ``companion.book.sources.CLAIMS``."""
        self.chapter, self.profile = chapter, profile
        self.claim_sources = claim_sources
        self.overrides = dict(overrides or {})
        self.rows: list[Row] = []

    @property
    def run(self) -> str:
        """The profile, with any overrides: what a reader needs to weigh the verdicts."""
        extra = ", ".join(f"{k}={v!r}" for k, v in sorted(self.overrides.items()))
        return f"{self.profile} (overrides: {extra})" if extra else self.profile

    def _add(self, row: Row) -> None:
        """Record ``row`` with its source (companion.book.sources); an unknown or repeated id is an
        error, so no claim reaches the page without saying whose it is."""
        if any(r.id == row.id for r in self.rows):
            raise ValueError(f"claim {row.id!r} is already on the {self.chapter} scorecard")
        src = sources.source_of(self.chapter, row.id, self.claim_sources)
        self.rows.append(replace(row, source=src.kind, quote=src.quote, where=src.where, note=src.note))

    def compare(
        self, id: str, claim: str, paper: float, ours: float, tol: float, fmt: str = ".3g", judge: bool = True
    ) -> None:
        """A numeric claim: reproduced when ``|ours - paper| <= tol``.

        ``judge=False`` records our value with the verdict "not run in this profile", for a
        profile too small to test the claim.
        """
        if not (tol >= 0):
            raise ValueError(f"tolerance must be >= 0, not {tol!r}")
        ok = math.isfinite(ours) and abs(ours - paper) <= tol
        self._add(Row(id, claim, _fmt(paper, fmt), _fmt(ours, fmt), f"± {_fmt(tol, fmt)}", _verdict(ok, judge)))

    def check(
        self,
        id: str,
        claim: str,
        paper: str,
        ours: str,
        passed: bool,
        tolerance: str,
        judge: bool = True,
        premise: bool = True,
    ) -> None:
        """A qualitative claim: ``passed`` is the outcome of the test stated in ``tolerance``;
        ``judge=False`` as in :meth:`compare`. ``premise=False`` gives the verdict "premise
        absent": the claim is about something this build did not produce (e.g. a robustness to
        unmask that never appeared), so passing its test would say nothing."""
        self._add(Row(id, claim, str(paper), str(ours), tolerance, _verdict(passed, judge, premise)))

    def not_run(self, id: str, claim: str, paper: str, why: str) -> None:
        """A claim this profile does not test; ``why`` says what would."""
        self._add(Row(id, claim, str(paper), "—", why, NOT_RUN))

    def counts(self) -> dict:
        return {v: sum(r.verdict == v for r in self.rows) for v in VERDICTS}

    def to_dict(self) -> dict:
        return {
            "chapter": self.chapter,
            "profile": self.profile,
            "overrides": self.overrides,
            "run": self.run,
            "rows": [asdict(r) for r in self.rows],
        }

    def save(self, directory: str | os.PathLike | None = None) -> Path:
        """Write ``<chapter>.scorecard.json`` atomically into ``directory``.

        The default is ``$COMPANION_RESULTS_DIR``, else the working directory (papermill runs
        each chapter in ``book/chapters``).
        """
        folder = Path(directory or os.environ.get(ENV_VAR) or ".")
        return files.write_text(folder / f"{self.chapter}.scorecard.json", json.dumps(self.to_dict(), indent=1))

    def __repr__(self) -> str:
        cells = [COLUMNS] + [tuple(getattr(r, c) for c in COLUMNS) for r in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        counts = ", ".join(f"{n} {v}" for v, n in self.counts().items() if n or v != PREMISE_ABSENT)
        return f"Scorecard {self.chapter} (profile {self.run}): {counts}\n" + "\n".join(lines)

    def _repr_html_(self) -> str:
        """The book's form: one block per claim (claim, source with the paper's words, values,
        verdict), which reads on a phone as on a wide screen."""
        return claims_html([asdict(r) for r in self.rows])


def claim_html(row: dict, link: str | None = None) -> str:
    """One claim as an HTML block: id and verdict, the claim, its source (the paper's words with
    where they stand, or what our own test tests), then paper / ours / tolerance."""
    e = html.escape
    ident = f'<a href="{e(link)}">{e(row["id"])}</a>' if link else e(row["id"])
    if row.get("source") == sources.PAPER:
        origin = (
            f'<blockquote class="claim-quote">“{e(row["quote"])}”'
            f'<span class="claim-where"> ({e(row["where"])})</span></blockquote>'
        )
    else:
        motive = f" Motivated by: “{e(row['quote'])}” ({e(row['where'])})." if row.get("quote") else ""
        origin = f'<p class="claim-note">Our own test: {e(row.get("note", ""))}.{motive}</p>'
    values = "".join(f"<dt>{name}</dt><dd>{e(row[name])}</dd>" for name in ("paper", "ours", "tolerance"))
    return (
        f'<div class="claim"><div class="claim-head"><code class="claim-id">{ident}</code> '
        f'<span class="claim-source claim-source-{e(row.get("source", ""))}">{e(row.get("source", ""))}</span> '
        f'{_verdict_html(row["verdict"])}</div><p class="claim-text">{e(row["claim"])}</p>'
        f'{origin}<dl class="claim-values">{values}</dl></div>'
    )


def claims_html(rows, links: dict | None = None) -> str:
    """Every claim of a card as HTML blocks, in order."""
    links = links or {}
    return '<div class="claims">' + "".join(claim_html(r, links.get(r["id"])) for r in rows) + "</div>"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _verdict_html(verdict: str) -> str:
    """A verdict as a span the book's stylesheet colours (book/_static/scorecard.css)."""
    return f'<span class="verdict verdict-{verdict.replace(" ", "-")}">{html.escape(verdict)}</span>'


_CLAIM_CALL = re.compile(r"card\.(?:compare|check|not_run)\(\s*(f?)\"([^\"]+)\"")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)


def claim_sections(notebook: dict, ids) -> dict:
    """For each claim id, the HTML anchor of the notebook section whose code makes the claim.

    The claim's id is matched against the first argument of the ``card.compare / check /
    not_run`` calls (an f-string's fields match anything), else found as a quoted literal;
    the section is the last Markdown heading above that cell. Ids not found are left out.
    """
    from docutils.nodes import make_id

    calls, heading = [], None  # per code cell under a heading: (id patterns, source, heading)
    for cell in notebook.get("cells", []):
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            headings = _HEADING.findall(source)
            heading = headings[-1] if headings else heading
        elif heading is not None:
            patterns = [
                re.escape(text)
                if not f
                else "".join(
                    ".+?" if part.startswith("{") else re.escape(part) for part in re.split(r"(\{[^}]*\})", text)
                )
                for f, text in _CLAIM_CALL.findall(source)
            ]
            calls.append((patterns, source, heading))
    found = {}
    for claim in ids:
        for patterns, source, title in calls:
            if any(re.fullmatch(p, claim) for p in patterns) or f'"{claim}"' in source:
                found[claim] = make_id(re.sub(r"[*`$]", "", title))
                break
    return found


def _chapter_order(slug: str) -> tuple:
    from companion.profiles import SETTINGS

    order = list(SETTINGS)
    return (order.index(slug) if slug in order else len(order), slug)


def gather(directory: str | os.PathLike) -> str:
    """A Markdown page with every ``*.scorecard.json`` in ``directory``, chapters in book order:
    a summary per chapter, then each chapter's claims as blocks (:func:`claim_html`: the paper's
    words beside the verdict, readable on a phone), each id linking to the section of the chapter
    that makes the claim when the executed notebook ``<chapter>.ipynb`` is in ``directory`` too."""
    cards = [json.loads(p.read_text()) for p in Path(directory).glob("*.scorecard.json")]
    cards.sort(key=lambda c: _chapter_order(c["chapter"]))
    lines = [
        "# Scorecard",
        "",
        "Every claim the book checks, gathered from the chapters as they were executed for "
        "this build. A verdict is *reproduced* when our value is within the stated tolerance "
        "of the paper's (or passes the stated test, for a qualitative claim), *not reproduced* "
        "otherwise, *not run in this profile* when the profile the book was built with "
        "does not test it, and *premise absent* when the claim is about something this build "
        "did not produce. Each chapter discusses its *not reproduced* rows.",
        "",
    ]
    if not cards:
        lines.append("No chapter has been executed yet: run `make book`.")
    lines += ["| chapter (profile) | verdicts |", "|---|---|"]  # two columns: fits a phone
    for card in cards:
        counts = [(v, sum(r["verdict"] == v for r in card["rows"])) for v in VERDICTS]
        lines.append(
            f"| [{card['chapter']}](#scorecard-{card['chapter']}) (`{_md(card.get('run', card['profile']))}`) | "
            + ", ".join(f"{n} {_verdict_html(v)}" for v, n in counts if n or v != PREMISE_ABSENT)
            + " |"
        )
    for card in cards:
        executed = Path(directory) / f"{card['chapter']}.ipynb"
        anchors = (
            claim_sections(json.loads(executed.read_text()), [r["id"] for r in card["rows"]])
            if executed.exists()
            else {}
        )
        links = {claim: f"chapters/{card['chapter']}.html#{a}" for claim, a in anchors.items()}
        by_source = {k: sum(r.get("source") == k for r in card["rows"]) for k in (sources.PAPER, sources.OURS)}
        lines += [
            "",
            f"(scorecard-{card['chapter']})=",
            f"## {card['chapter']}",
            "",
            f"{by_source[sources.PAPER]} claims of the paper, each with its words and where they "
            f"stand; {by_source[sources.OURS]} tests of our own.",
            "",
            claims_html(card["rows"], links),
        ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m companion.book.scorecard RESULTS_DIR OUT.md", file=sys.stderr)
        return 2
    if not Path(args[0]).is_dir():
        print(f"error: no folder {args[0]}: give the folder of the executed chapters (book/chapters)", file=sys.stderr)
        return 2
    try:
        files.write_text(args[1], gather(args[0]))
    except OSError as error:
        print(f"error: cannot write {args[1]} ({error.strerror}); choose a file you can write", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
