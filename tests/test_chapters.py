"""The check `make test` makes of each chapter's printed outputs (companion.book.chapters.compare).

A changed number beyond its cell's tolerance, a flipped verdict, a changed label, a failing cell
or a missing line must all be reported; an ignored cell and a number within tolerance must not.
"""

import copy
from pathlib import Path

import nbformat
import pytest

from companion.book import chapters, comparison

REFERENCES = Path(__file__).parent / "reference"


def _notebook(*cells):
    """Code cells from (printed text, metadata) pairs."""
    nb = nbformat.v4.new_notebook()
    for text, metadata in cells:
        cell = nbformat.v4.new_code_cell("", metadata=dict(metadata))
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        nb.cells.append(cell)
    return nb


TOLERANT = {"tolerance": {"rel": 0.05, "abs": 0.5}}


@pytest.mark.parametrize(
    "text, numbers, words",
    [
        ("range 0.47-1.04", ["0.47", "1.04"], ["range", "-", ""]),
        ("gap -12.23 points", ["-12.23"], ["gap", "points"]),
        ("rate 1.5e-04 at 10^-1", ["1.5e-04", "10", "-1"], ["rate", "at", "^", ""]),
        ("conv1 x_1 γ2=0.5:", ["0.5"], ["conv1 x_1 γ2=", ":"]),
        ("a    b  ------  ---", [], ["a b --- ---"]),
        ("d nan, info 1 inf", ["nan", "1", "inf"], ["d", ", info", "", ""]),
    ],
)
def test_split_numbers(text, numbers, words):
    assert comparison.split_numbers(text) == (numbers, words)


def test_padding_of_tables_is_not_a_difference():
    ref = "id  value\n--  -----\nx    9.80%\n"
    ours = "id  value \n--  ------\nx   10.10%\n"
    assert comparison.compare_text(ours, ref, comparison.Tolerance(abs=0.5)) == []
    assert comparison.compare_text(ours, ref, comparison.Tolerance()) != []


@pytest.mark.parametrize(
    "ours, reference, tolerance, agree",
    [
        ("19.80%", "20.40%", {}, False),  # exact cell: any change is one
        ("19.80%", "20.40%", TOLERANT, True),  # |d| = 0.6 <= 0.5 + 0.05 * 20.4
        ("17.80%", "20.40%", TOLERANT, False),  # |d| = 2.6 beyond it
        ("norm 460", "norm 450", {"tolerance": {"rel": 0.05}}, True),
        ("norm 500", "norm 450", {"tolerance": {"rel": 0.05}}, False),
        ("reproduced", "not reproduced", TOLERANT, False),  # verdict words are always exact
        ("share 0.000", "share 0.000", {}, True),
        ("1 line\n", "1 line\n2 lines\n", TOLERANT, False),
    ],
)
def test_compare_cells(ours, reference, tolerance, agree):
    problems = comparison.compare(_notebook((reference, tolerance)), _notebook((ours, tolerance)))
    assert (problems == []) is agree, problems


def test_ignored_cells_and_errors():
    ignored = {"tags": [comparison.IGNORE_TAG]}
    assert comparison.compare(_notebook(("12 s", ignored)), _notebook(("99 s", ignored))) == []
    failed = _notebook(("", {}))
    failed.cells[0].outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])]
    assert "raised ValueError" in comparison.compare(_notebook(("", {})), failed)[0]
    assert "code cells" in comparison.compare(_notebook(("a", {})), _notebook())[0]


def test_bad_tolerance_is_an_error():
    with pytest.raises(ValueError, match="tolerance"):
        comparison.Tolerance.of({"metadata": {"tolerance": {"relative": 0.1}}})
    with pytest.raises(ValueError, match="unchecked"):
        comparison.Tolerance.parse({"abs": 1, "columns": {"ratio": "loose"}})
    with pytest.raises(ValueError, match="rows and columns"):
        comparison.Tolerance.parse({"abs": 1, "rows": ["kurtosis"]})


TABLE = "network   clean %   d/bound\nmlp          18.0      2.14\ncnn          78.0       nan\n"


@pytest.mark.parametrize(
    "ours, agree",
    [
        (TABLE, True),
        (TABLE.replace("2.14", "3.49").replace("nan", "1.20"), True),  # the unchecked column
        (TABLE.replace("78.0", "79.5"), True),  # within abs 2
        (TABLE.replace("78.0", "81.0"), False),  # beyond it
        (TABLE.replace("cnn", "CNN"), False),  # text stays exact
    ],
)
def test_an_unchecked_column_is_not_compared(ours, agree):
    tolerance = {"tolerance": {"abs": 2, "columns": {"d/bound": "unchecked"}}}
    problems = comparison.compare(_notebook((TABLE, tolerance)), _notebook((ours, tolerance)))
    assert (problems == []) is agree, problems


CARD = (
    "kurtosis.higher   5 of 6 layers higher   not run in this profile\n"
    "clean.accuracy    19.60                  not run in this profile\n"
    "alpha.spread      0.12                   reproduced\n"
)


@pytest.mark.parametrize(
    "ours, agree",
    [
        (CARD.replace("5 of 6", "3 of 6"), True),  # the row's own abs 6
        (CARD.replace("19.60", "20.80"), False),  # the cell's abs 1 elsewhere
        (CARD.replace("0.12                   reproduced", "0.19   not reproduced"), True),  # unchecked row
    ],
)
def test_row_rules(ours, agree):
    tolerance = {"tolerance": {"abs": 1, "rows": {"kurtosis.higher": {"abs": 6}, "alpha.spread": "unchecked"}}}
    problems = comparison.compare(_notebook((CARD, tolerance)), _notebook((ours, tolerance)))
    assert (problems == []) is agree, problems


def _edit(cell, change) -> bool:
    """Apply ``change`` to the first text output of ``cell`` that it changes."""
    for out in cell.outputs:
        holder, key = (out, "text") if out.output_type == "stream" else (out.get("data", {}), "text/plain")
        if key in holder:
            text = "".join(holder[key])
            new = change(text)
            if new != text:
                holder[key] = new
                return True
    return False


def _with_source_metadata(reference, slug):
    """The reference with the tags and tolerances its chapter source declares now (what compare
    reads from a fresh run)."""
    import jupytext

    from companion.book import calibration

    source = jupytext.read(chapters.source(slug, REFERENCES.parent.parent))
    return calibration.with_source_metadata(reference, source)


def _move_last_checked_number(text, tolerance):
    """``text`` with its last checked, finite number moved 10 times its own tolerance (plus 1)
    away; unchanged when the text has no such number."""
    import re

    lines = text.split("\n")
    rules = tolerance.per_number(text)
    for i in range(len(rules) - 1, -1, -1):
        if rules[i] is None:
            continue
        spans = list(comparison._NUMBER.finditer(lines[i]))
        for match, rule in reversed(list(zip(spans, rules[i]))):
            if rule is None or re.fullmatch(r"[-+−]?(nan|inf)", match.group()):
                continue
            value = float(match.group().replace("−", "-"))
            far = f"{value + 10 * (rule.abs + rule.rel * abs(value)) + 1:.6g}"
            lines[i] = lines[i][: match.start()] + far + lines[i][match.end() :]
            return "\n".join(lines)
    return text


def _flip_verdict(text):
    if "not run in this profile" in text:
        return text.replace("not run in this profile", "reproduced", 1)
    return text.replace("reproduced", "not reproduced", 1)


@pytest.mark.parametrize("slug", sorted(p.stem for p in REFERENCES.glob("*.ipynb")))
def test_a_wrong_reference_output_is_caught(slug):
    """On each real reference: itself agrees; a flipped verdict and, in every checked cell, a
    number moved far beyond the cell's tolerance are reported."""
    reference = _with_source_metadata(nbformat.read(REFERENCES / f"{slug}.ipynb", as_version=4), slug)
    assert comparison.compare(reference, reference) == []
    code = [k for k, c in enumerate(reference.cells) if c.cell_type == "code"]
    card = next(k for k in code if "Scorecard " in comparison.output_text(reference.cells[k]))
    flipped = copy.deepcopy(reference)
    assert _edit(flipped.cells[card], _flip_verdict)
    assert comparison.compare(reference, flipped)

    moved_cells = 0
    for k in code:
        cell = reference.cells[k]
        if comparison.IGNORE_TAG in cell.metadata.get("tags", []):
            continue
        moved = copy.deepcopy(reference)
        if not _edit(moved.cells[k], lambda t: _move_last_checked_number(t, comparison.Tolerance.of(cell))):
            continue
        assert comparison.compare(reference, moved), f"cell {k}: a number moved 10x beyond its tolerance passed"
        moved_cells += 1
    assert moved_cells >= 3


def test_the_parameters_a_chapter_ran_with_are_shown_once():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('profile = "quick"', metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell('# Parameters\nprofile = "ci"\n', metadata={"tags": ["injected-parameters"]}),
            nbformat.v4.new_code_cell("print(profile)"),
        ]
    )
    chapters.merge_parameters(nb)
    assert [c.source for c in nb.cells] == ['profile = "ci"', "print(profile)"]


def test_bad_chapter_profile_or_override_fails_before_any_work(tmp_path):
    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "out.ipynb"
    with pytest.raises(FileNotFoundError, match="the chapters are: .*boundary_tilting"):
        chapters.execute("no_such_chapter", "ci", out, root=root)
    with pytest.raises(ValueError, match="unknown profile"):
        chapters.execute("boundary_tilting", "fast", out, root=root)
    with pytest.raises(ValueError, match="unknown override"):
        chapters.execute("boundary_tilting", "ci", out, {"lenet_epoch": 2}, root=root)
    assert not out.exists()


def test_cell_times_slowest_first():
    nb = _notebook(("", {"papermill": {"duration": 1.5}}), ("", {"papermill": {"duration": 9.0}}), ("", {}))
    nb.cells[1].source = "train()\nmore()"
    assert chapters.cell_times(nb) == [(2, 9.0, "train()"), (1, 1.5, "")]


@pytest.mark.parametrize(
    "argv, says",
    [
        (["run", "boundary_tilting", "ci", "OUT", "--overrides", "{lenet_epochs: "], "not valid YAML"),
        (["run", "boundary_tilting", "ci", "OUT", "--overrides", "[1, 2]"], "must be a mapping"),
        (["run", "boundary_tilting", "ci", "OUT", "--overrides", "{lenet_epoch: 2}"], "unknown override"),
        (["run", "boundary_tilting", "fast", "OUT"], "unknown profile"),
        (["run", "no_such_chapter", "ci", "OUT"], "the chapters are"),
    ],
)
def test_command_line_errors_are_one_line(argv, says, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    argv = [str(tmp_path / "out.ipynb") if a == "OUT" else a for a in argv]
    assert chapters.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "out.ipynb").exists()


@pytest.mark.parametrize(
    "argv, says",
    [
        (["run", "boundary_tilting", "ci", "FILE/out.ipynb"], "cannot write to"),  # a file stands where a folder must
        (
            ["run", "boundary_tilting", "ci", "OUT"],
            "does not exist. Set COMPANION_DATA_DIR to a folder holding mnist.npz",
        ),
        (["run", "boundary_tilting", "ci", "OUT", "--overrides", "{lenet_epochs: three}"], "lenet_epochs"),
        (["compare", "MISSING", "MISSING"], "no notebook"),
        (["compare", "FILE", "FILE"], "is not a notebook"),
        (["times", "MISSING"], "no notebook"),
    ],
)
def test_more_command_line_errors_are_one_line(argv, says, tmp_path, capsys, monkeypatch):
    """An unwritable output folder, missing data, a wrongly typed setting, a missing or foreign
    notebook: one line on stderr, status 2, before any chapter runs."""
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))  # holds no mnist.npz
    (tmp_path / "file").write_text("not a folder, not a notebook")
    names = {"OUT": tmp_path / "out.ipynb", "FILE": tmp_path / "file", "MISSING": tmp_path / "none.ipynb"}
    argv = [a.replace(a.split("/")[0], str(names[a.split("/")[0]])) if a.split("/")[0] in names else a for a in argv]
    assert chapters.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "out.ipynb").exists()


def test_consecutive_prints_become_one_box_and_read_the_same():
    out = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("...")
    cell.outputs = [
        out("stream", name="stdout", text="a 1\n"),
        out("stream", name="stdout", text="b 2\n"),
        out("stream", name="stderr", text="warning\n"),
        out("stream", name="stdout", text="c 3\n"),
        out("display_data", data={"text/plain": "<Figure>"}),
        out("stream", name="stdout", text="d 4\n"),
        out("stream", name="stdout", text=["e 5\n", "f 6\n"]),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_markdown_cell("text")])
    before = comparison.output_text(cell)
    chapters.merge_streams(nb)
    assert [(o.output_type, o.get("name"), o.get("text")) for o in cell.outputs] == [
        ("stream", "stdout", "a 1\nb 2\n"),
        ("stream", "stderr", "warning\n"),
        ("stream", "stdout", "c 3\n"),
        ("display_data", None, None),
        ("stream", "stdout", "d 4\ne 5\nf 6\n"),
    ]
    assert comparison.output_text(cell) == before
