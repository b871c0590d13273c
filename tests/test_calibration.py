"""The ci tolerances against the spread they must cover (tests/reference/calibration.json, written
by `make calibrate`), and the calibration's own parts on inputs whose answer is known."""

import json
import sys
from pathlib import Path

import jupytext
import nbformat
import numpy as np
import pytest

from companion import cache, reproducibility
from companion.book import calibration

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "tests" / "reference" / calibration.RECORD
SLUGS = sorted(p.stem for p in (ROOT / "book" / "notebooks").glob("*.md"))
sys.path.insert(0, str(ROOT / "scripts"))
from portability import CONFIGS  # noqa: E402  (the emulated machines every chapter must have seen)


def _source_and_reference(slug):
    source = jupytext.read(ROOT / "book" / "notebooks" / f"{slug}.md")
    reference = nbformat.read(ROOT / "tests" / "reference" / f"{slug}.ipynb", as_version=4)
    return source, reference


@pytest.fixture(scope="module")
def record():
    assert RECORD.exists(), "no calibration record: run `make calibrate` and commit it"
    return json.loads(RECORD.read_text())


@pytest.mark.parametrize("slug", SLUGS)
def test_record_calibrates_the_reference_as_it_is(slug, record):
    """Not older than the reference: written from the same checked outputs, with at least 8
    perturbed draws and every emulated machine."""
    entry = record["chapters"].get(slug)
    assert entry, f"{slug} is not calibrated: make calibrate CALIBRATE_ARGS='--chapter {slug}'"
    source, reference = _source_and_reference(slug)
    assert entry["reference_digest"] == calibration.reference_digest(source, reference), (
        f"tests/reference/{slug}.ipynb changed after its calibration: run make calibrate"
    )
    assert sum(d.startswith("perturbed-") for d in entry["draws"]) >= 8
    assert set(CONFIGS) <= set(entry["draws"])


@pytest.mark.parametrize("slug", SLUGS)
def test_declared_tolerances_cover_three_times_the_observed_spread(slug, record):
    source, reference = _source_and_reference(slug)
    problems = calibration.shortfalls(source, reference, record["chapters"][slug])
    assert not problems, f"{slug}:\n" + "\n".join(problems)


# --- the parts, on made-up notebooks --------------------------------------------------------------


def _nb(*cells):
    """A notebook of code cells, each ``(printed text, metadata)``."""
    nb = nbformat.v4.new_notebook()
    for text, meta in cells:
        cell = nbformat.v4.new_code_cell("", metadata=meta)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        nb.cells.append(cell)
    return nb


def test_spread_records_the_largest_deviation_and_text_changes():
    tol = {"tolerance": {"abs": 0.5}}
    source = _nb(("", tol), ("", {"tags": ["nbval-ignore-output"]}))
    reference = _nb(("acc 50.0 reproduced\n", tol), ("12 s\n", {}))
    draws = {
        "a": _nb(("acc 50.2 reproduced\n", tol), ("99 s\n", {})),
        "b": _nb(("acc 49.7 reproduced\n", tol), ("1 s\n", {})),
        "c": _nb(("acc 50.0 not reproduced\n", tol), ("1 s\n", {})),
    }
    rec = calibration.spread(source, reference, draws)
    assert list(rec["cells"]) == ["1"]  # the ignored cell is not checked, so not recorded
    (number,) = rec["cells"]["1"]["numbers"]
    assert (number["min"], number["max"], number["draw"]) == (49.7, 50.2, "b")
    assert number["deviation"] == pytest.approx(0.3)
    assert [c["draw"] for c in rec["cells"]["1"]["text_changes"]] == ["c"]


@pytest.mark.parametrize(
    "tolerance, deviation, covered",
    [
        ({"abs": 0.9}, 0.3, True),  # 0.9 >= 3 x 0.3
        ({"abs": 0.8}, 0.3, False),
        ({"rel": 0.02}, 0.3, True),  # 0.02 x 50 = 1.0
        ({}, 0.0, True),  # exact and never moved
        ({}, 0.1, False),  # exact but moved
        ({"columns": {"acc": {"abs": 1}}}, 0.3, True),  # the column's own tolerance
        ({"abs": 5, "columns": {"acc": {"abs": 0.5}}}, 0.3, False),
        ({"columns": {"acc": "unchecked"}}, 9.0, True),  # not checked, so nothing to cover
    ],
)
def test_shortfalls_hold_tolerances_to_three_times_the_deviation(tolerance, deviation, covered):
    source = _nb(("", {"tolerance": tolerance}))
    reference = _nb(("name   acc\nmlp   50.0\n", {}))
    entry = {
        "cells": {
            "1": {
                "numbers": [
                    {
                        "line": 2,
                        "position": 0,
                        "context": "mlp 50.0",
                        "reference": "50.0",
                        "deviation": deviation,
                        "draw": "perturbed-1",
                    }
                ],
                "text_changes": [],
            }
        }
    }
    assert (calibration.shortfalls(source, reference, entry) == []) is covered


def test_a_text_change_is_a_shortfall_unless_its_row_is_unchecked():
    reference = _nb(("alpha.spread 0.12 reproduced\n", {}))
    entry = {
        "cells": {
            "1": {
                "numbers": [],
                "text_changes": [
                    {
                        "draw": "perturbed-2",
                        "line": 1,
                        "got": "alpha.spread 0.19 not reproduced",
                        "reference": "alpha.spread 0.12 reproduced",
                    }
                ],
            }
        }
    }
    assert calibration.shortfalls(_nb(("", {})), reference, entry)
    unchecked = _nb(("", {"tolerance": {"rows": {"alpha.spread": "unchecked"}}}))
    assert calibration.shortfalls(unchecked, reference, entry) == []


def test_a_nan_that_appears_is_an_infinite_deviation():
    assert calibration.deviation("nan", "2.5") == np.inf
    assert calibration.deviation("nan", "nan") == 0.0
    assert calibration.deviation("−1.5", "-1.0") == pytest.approx(0.5)


def test_the_digest_follows_checked_outputs_only():
    source = _nb(("", {}), ("", {"tags": ["nbval-ignore-output"]}))
    digest = calibration.reference_digest(source, _nb(("a 1\n", {}), ("12 s\n", {})))
    assert digest == calibration.reference_digest(source, _nb(("a 1\n", {}), ("99 s\n", {})))
    assert digest != calibration.reference_digest(source, _nb(("a 2\n", {}), ("12 s\n", {})))


# --- the perturbation -----------------------------------------------------------------------------


def test_nudge_moves_by_whole_ulps_in_both_directions():
    x = np.array([1.0, -3.0, 1e-3, 0.0], dtype=np.float32)
    moved = reproducibility.nudge_ulps(x, np.array([2, -1, 1, -1]))
    assert moved.dtype == np.float32
    expected = [
        1 + 2 * np.spacing(np.float32(1)),
        -3 - np.spacing(np.float32(3)),
        np.nextafter(np.float32(1e-3), np.float32(1)),
        -np.float32(1.4e-45),
    ]
    np.testing.assert_array_equal(moved, np.array(expected, dtype=np.float32))


def _ordinal(x):
    """float32 values as integers that count ulps (adjacent floats differ by one)."""
    i = np.asarray(x, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.where(i < 0, -(i & 0x7FFFFFFF), i)


def test_perturbation_only_under_its_variable(monkeypatch):
    import keras

    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, bias_initializer="ones")])
    before = [v.numpy().copy() for v in model.weights]
    monkeypatch.delenv(reproducibility.PERTURB_ENV, raising=False)
    assert not reproducibility.perturb_initial_weights(model)
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(before, model.weights))
    key = cache.make_key({"a": 1})
    monkeypatch.setenv(reproducibility.PERTURB_ENV, "7")
    assert cache.make_key({"a": 1}) != key  # a perturbed network never answers for the real one
    assert reproducibility.perturb_initial_weights(model)
    ulps = [np.abs(_ordinal(v.numpy()) - _ordinal(a)) for a, v in zip(before, model.weights)]
    assert max(u.max() for u in ulps) == 2 and all((u > 0).any() for u in ulps)
    monkeypatch.setenv(reproducibility.PERTURB_ENV, "seven")
    with pytest.raises(ValueError, match="non-negative integer"):
        reproducibility.perturb_initial_weights(model)
