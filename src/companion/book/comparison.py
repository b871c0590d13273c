"""A chapter's run checked against its reference run, cell by cell (:func:`compare`).

- cells tagged ``nbval-ignore-output`` (figures, timings, logs) are not compared;
- the text of every other output must match, up to runs of spaces and of dashes (table
  padding follows the width of the numbers in it);
- every number in that text must match exactly, unless the cell declares a :class:`Tolerance`
  in its metadata, ``:tolerance: {rel: 0.05, abs: 0.5}`` in the MyST source: then two numbers
  ``a`` (this run) and ``b`` (reference) agree when ``|a - b| <= abs + rel * |b|``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IGNORE_TAG = "nbval-ignore-output"
TOLERANCE_KEY = "tolerance"
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
    rows: tuple = ()  # ((text in the reference line, Tolerance | None), ...)
    columns: tuple = ()  # ((header label, Tolerance | None), ...)

    @classmethod
    def of(cls, cell) -> Tolerance:
        spec = cell.get("metadata", {}).get(TOLERANCE_KEY) or {}
        return cls.parse(spec)

    @classmethod
    def parse(cls, spec) -> Tolerance:
        def plain(value):
            if value == UNCHECKED:
                return None
            if (
                not isinstance(value, dict)
                or set(value) - {"rel", "abs"}
                or not all(isinstance(v, (int, float)) and v >= 0 for v in value.values())
            ):
                raise ValueError(
                    f"a cell's tolerance must be {{rel: r, abs: a}} with r, a >= 0 "
                    f"(rows and columns may also be '{UNCHECKED}'), not {value!r}"
                )
            return cls(**{k: float(v) for k, v in value.items()})

        if not isinstance(spec, dict):
            plain(spec)
        refine = {k: spec.get(k) or {} for k in ("rows", "columns")}
        if not all(isinstance(v, dict) for v in refine.values()):
            raise ValueError(f"a tolerance's rows and columns map a text to a tolerance, not {spec!r}")
        base = plain({k: v for k, v in spec.items() if k not in refine})
        return cls(
            base.rel,
            base.abs,
            tuple((str(k), plain(v)) for k, v in refine["rows"].items()),
            tuple((str(k), plain(v)) for k, v in refine["columns"].items()),
        )

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
            for _, end in spans:
                rule = (
                    row
                    if row is not base
                    else next(
                        (
                            r
                            for label, r in self.columns
                            if label in headers and headers[label] <= end - 1 < headers[label] + len(label)
                        ),
                        base,
                    )
                )
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
        words.append(text[start : m.start()])
        numbers.append(m.group())
        start = m.end()
    words.append(text[start:])
    words = [_DASHES.sub("---", _SPACES.sub(" ", w)).strip() for w in words]
    return numbers, words


def compare_text(ours: str, reference: str, tolerance: Tolerance) -> list[str]:
    """Differences between two outputs of one cell, line by line; empty when they agree."""
    ours_lines, ref_lines = ours.rstrip().splitlines(), reference.rstrip().splitlines()
    if len(ours_lines) != len(ref_lines):
        return [
            f"{len(ours_lines)} lines printed, the reference has {len(ref_lines)}:\n"
            f"  got:       {ours.strip()[:300]!r}\n  reference: {reference.strip()[:300]!r}"
        ]
    problems = []
    rules = tolerance.per_number(reference)
    for k, (line, ref, line_rules) in enumerate(zip(ours_lines, ref_lines, rules), 1):
        if line_rules is None:  # a row the cell does not check
            continue
        (nums, words), (ref_nums, ref_words) = split_numbers(line), split_numbers(ref)
        if words != ref_words or len(nums) != len(ref_nums):
            problems.append(f"line {k}: text differs\n  got:       {line.strip()}\n  reference: {ref.strip()}")
            continue
        bad = [
            f"{a} (reference {b}, {rule})"
            for a, b, rule in zip(nums, ref_nums, line_rules)
            if rule is not None and not rule.agree(a, b)
        ]
        if bad:
            problems.append(
                f"line {k}: {', '.join(bad)} beyond tolerance\n  got:       {line.strip()}\n  reference: {ref.strip()}"
            )
    return problems


def compare(reference, ours) -> list[str]:
    """Differences of the checked outputs of two executions of one chapter (notebook nodes).

    Cells are matched by position among code cells; an empty list means they agree. Tags and
    tolerances are read from ``ours``, which carries the chapter source as it is now.
    """
    ref_cells = [c for c in reference.cells if c.cell_type == "code"]
    our_cells = [c for c in ours.cells if c.cell_type == "code"]
    if len(ref_cells) != len(our_cells):
        return [
            f"{len(our_cells)} code cells, the reference has {len(ref_cells)}: "
            "regenerate the reference (make reference) if the chapter changed"
        ]
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
        problems += [f"cell {k}, {p}" for p in compare_text(output_text(cell), output_text(ref), Tolerance.of(cell))]
    return problems
