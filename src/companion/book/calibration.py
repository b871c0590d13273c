"""How far each checked number of a `ci` chapter moves under rounding-level perturbations.

`make calibrate` (``scripts/calibrate.py``) runs every chapter many times ("draws"): on emulated
machines (other CPU features and thread counts) and with every network's initial weights moved
by a few ulps (:func:`companion.reproducibility.perturb_initial_weights`). :func:`spread` reads
the draws of one chapter against its reference and returns, for every number that
:func:`companion.book.chapters.compare` checks, the reference value and the largest deviation seen,
plus every line whose text (a verdict word, the number of numbers) changed. The record it
builds, ``tests/reference/calibration.json``, is what ``tests/test_calibration.py`` holds the
declared tolerances against: each must be at least :data:`MARGIN` times the largest deviation.
"""

from __future__ import annotations

import hashlib
import json
import math

from companion.book.comparison import IGNORE_TAG, TOLERANCE_KEY, Tolerance, compare, output_text, split_numbers

MARGIN = 3.0
RECORD = "calibration.json"


def checked_cells(source_nb, reference_nb) -> dict[int, tuple]:
    """``{code cell number (from 1): (source cell, reference cell)}`` of the cells whose outputs
    :func:`~companion.book.chapters.compare` checks: not tagged ``nbval-ignore-output`` in the
    source."""
    source = [c for c in source_nb.cells if c.cell_type == "code"]
    reference = [c for c in reference_nb.cells if c.cell_type == "code"]
    if len(source) != len(reference):
        raise ValueError(
            f"the source has {len(source)} code cells, the reference {len(reference)}: "
            "rewrite the reference (make reference)"
        )
    return {
        k: (s, r)
        for k, (s, r) in enumerate(zip(source, reference), 1)
        if IGNORE_TAG not in s.get("metadata", {}).get("tags", [])
    }


def with_source_metadata(nb, source_nb):
    """``nb`` (an executed chapter) with the tags and tolerances its source declares now, as a
    fresh run would carry them; changed in place and returned."""
    for src, cell in zip(
        [c for c in source_nb.cells if c.cell_type == "code"], [c for c in nb.cells if c.cell_type == "code"]
    ):
        for key in ("tags", TOLERANCE_KEY):
            cell.metadata.pop(key, None)
            if key in src.metadata:
                cell.metadata[key] = src.metadata[key]
    return nb


def agreeing(source_nb, reference_nb, draws: dict) -> dict:
    """``{draw: [differences]}``: each draw compared with the reference as `make test` would,
    under the tolerances the source declares now (an empty list: it agrees)."""
    return {name: compare(reference_nb, with_source_metadata(nb, source_nb)) for name, nb in draws.items()}


def reference_digest(source_nb, reference_nb) -> str:
    """sha256 of the reference's checked outputs: it changes when a checked output does, and only
    then (cell ids, timings and figures do not count)."""
    texts = {k: output_text(r) for k, (_, r) in checked_cells(source_nb, reference_nb).items()}
    return hashlib.sha256(json.dumps(texts, sort_keys=True).encode()).hexdigest()


def _value(text: str) -> float:
    return float(text.replace("−", "-"))


def deviation(ours: str, reference: str) -> float:
    """``|ours - reference|`` of two printed numbers; inf when only one of them is nan."""
    a, b = _value(ours), _value(reference)
    if math.isnan(a) or math.isnan(b):
        return 0.0 if math.isnan(a) and math.isnan(b) else math.inf
    return abs(a - b)


def spread(source_nb, reference_nb, draws: dict) -> dict:
    """The spread of every checked number of one chapter across ``draws``.

    ``draws``: ``{name: executed notebook}``. Returns ``{"cells": {cell: {"tolerance": spec,
    "numbers": [...], "text_changes": [...]}}}``, with one entry per number: ``line`` (from 1),
    ``position`` (its place among the line's numbers, from 0), ``context`` (the line, shortened),
    ``reference``, ``min``, ``max`` and ``deviation`` (largest ``|draw - reference|``, with the
    ``draw`` that gave it); and one entry per line whose text changed in a draw.
    """
    cells = {}
    for k, (src, ref) in checked_cells(source_nb, reference_nb).items():
        ref_lines = output_text(ref).rstrip().splitlines()
        numbers, changes = {}, []
        for name, nb in draws.items():
            cell = [c for c in nb.cells if c.cell_type == "code"][k - 1]
            lines = output_text(cell).rstrip().splitlines()
            if len(lines) != len(ref_lines):
                changes.append(
                    {"draw": name, "line": None, "got": f"{len(lines)} lines", "reference": f"{len(ref_lines)} lines"}
                )
                continue
            for i, (line, ref_line) in enumerate(zip(lines, ref_lines), 1):
                (nums, words), (ref_nums, ref_words) = split_numbers(line), split_numbers(ref_line)
                if words != ref_words or len(nums) != len(ref_nums):
                    changes.append({"draw": name, "line": i, "got": line.strip(), "reference": ref_line.strip()})
                    continue
                for j, (a, b) in enumerate(zip(nums, ref_nums)):
                    entry = numbers.setdefault(
                        (i, j),
                        {
                            "line": i,
                            "position": j,
                            "context": ref_line.strip()[:100],
                            "reference": b,
                            "min": _value(b),
                            "max": _value(b),
                            "deviation": 0.0,
                            "draw": None,
                        },
                    )
                    v, d = _value(a), deviation(a, b)
                    entry["min"], entry["max"] = min(entry["min"], v), max(entry["max"], v)
                    if d > entry["deviation"]:
                        entry["deviation"], entry["draw"] = d, name
        spec = src.get("metadata", {}).get("tolerance") or {}
        cells[str(k)] = {"tolerance": spec, "numbers": list(numbers.values()), "text_changes": changes}
    return {"cells": cells}


def allowed(tolerance: Tolerance, reference: str) -> float:
    """The largest deviation ``tolerance`` accepts at a printed ``reference`` value."""
    return tolerance.abs + tolerance.rel * abs(_value(reference))


def _judged(source_nb, reference_nb, chapter_record: dict):
    """``(cell, number entry or text change, Tolerance)`` for every recorded number and text
    change that the chapter checks now (its tags and tolerances read from ``source_nb``); a text
    change comes with None."""
    cells = checked_cells(source_nb, reference_nb)
    for k, cell in chapter_record["cells"].items():
        if int(k) not in cells:
            continue
        src, ref = cells[int(k)]
        tolerance = Tolerance.of(src)
        rules = tolerance.per_number(output_text(ref))
        for n in cell["numbers"]:
            line_rules = rules[n["line"] - 1]
            if line_rules is not None and line_rules[n["position"]] is not None:
                yield k, n, line_rules[n["position"]]
        for change in cell["text_changes"]:
            if change["line"] is None or rules[change["line"] - 1] is not None:
                yield k, change, None


def shortfalls(source_nb, reference_nb, chapter_record: dict) -> list[str]:
    """Where a declared tolerance is below :data:`MARGIN` times its recorded deviation, and every
    recorded text change of a checked line: one line each; empty when the tolerances cover the
    spread."""
    problems = []
    for k, n, rule in _judged(source_nb, reference_nb, chapter_record):
        if rule is None:
            problems.append(
                f"cell {k}, line {n['line']}: text changed in {n['draw']}: {n['got']!r} (reference {n['reference']!r})"
            )
        elif n["deviation"] > 0 and allowed(rule, n["reference"]) < MARGIN * n["deviation"]:
            problems.append(
                f"cell {k}, line {n['line']}, number {n['position']} "
                f"({n['reference']}, moved {n['deviation']:.3g} in {n['draw']}): "
                f"tolerance {rule} allows {allowed(rule, n['reference']):.3g}, needs "
                f">= {MARGIN:g} x {n['deviation']:.3g}  [{n['context']}]"
            )
    return problems


def ratio_table(source_nb, reference_nb, chapter_record: dict) -> list[tuple]:
    """``(cell, line, position, reference, min, max, tolerance, ratio, context)`` for every
    checked number that moved, ``ratio`` = allowed deviation / largest observed deviation,
    smallest first."""
    rows = [
        (
            int(k),
            n["line"],
            n["position"],
            n["reference"],
            n["min"],
            n["max"],
            str(rule),
            allowed(rule, n["reference"]) / n["deviation"],
            n["context"],
        )
        for k, n, rule in _judged(source_nb, reference_nb, chapter_record)
        if rule is not None and n["deviation"] > 0
    ]
    return sorted(rows, key=lambda r: r[7])
