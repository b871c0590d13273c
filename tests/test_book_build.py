"""`jupyter-book build book/` runs what is stale, and only that (companion.book.staleness, .build)."""

import json
import re
from pathlib import Path

import nbformat
import pytest

from companion.book import build, chapters, staleness

ROOT = Path(__file__).resolve().parents[1]


def _project(tmp_path) -> tuple[Path, Path]:
    """A project with two chapters and a package of four modules, one of them not imported."""
    root, package = tmp_path / "project", tmp_path / "pkg" / "companion"
    files = {
        root
        / "book/notebooks/one.md": "# One\n\n```{code-cell} ipython3\n:tags: [x]\nfrom companion import attacks\n```\n",
        root / "book/notebooks/two.md": "```{code-cell} ipython3\nfrom companion.papers.two import experiments\n```\n",
        root / "book/intro.md": "# The book\n",
        root / "requirements.lock": "numpy==2.0\n",
        package / "__init__.py": "",
        package / "attacks.py": "def f():\n    from companion import evaluation\n",
        package / "evaluation.py": "x = 1\n",
        package / "papers/__init__.py": "",
        package / "papers/two/__init__.py": "",
        package / "papers/two/experiments.py": "from companion import evaluation\n",
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root, package


def test_dependencies_follow_imports_inside_functions_and_leave_the_rest_out(tmp_path):
    root, package = _project(tmp_path)
    code = staleness.chapter_code(root / "book/notebooks/one.md")
    assert code.strip() == "from companion import attacks"
    deps = [p.relative_to(package).as_posix() for p in staleness.dependencies(code, package)]
    assert deps == ["__init__.py", "attacks.py", "evaluation.py"]
    two = staleness.dependencies(staleness.chapter_code(root / "book/notebooks/two.md"), package)
    assert [p.relative_to(package).as_posix() for p in two] == [
        "__init__.py", "evaluation.py", "papers/__init__.py", "papers/two/__init__.py", "papers/two/experiments.py"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "change, stale",
    [
        (("book/notebooks/one.md", "\nmore prose\n"), "its source changed"),
        (("pkg/attacks.py", "\n# edited\n"), "the package code it uses changed"),
        (("pkg/evaluation.py", "\ny = 2\n"), "the package code it uses changed"),  # through attacks.f
        (("requirements.lock", "scipy==1.0\n"), "the lock changed"),
        (("pkg/papers/two/experiments.py", "\ny = 2\n"), None),  # another chapter's code
        (("book/notebooks/two.md", "\nprose\n"), None),  # another chapter
        (("book/intro.md", "\nprose\n"), None),  # a page of prose
    ],
)
def test_each_input_makes_the_chapter_stale_and_nothing_else_does(tmp_path, change, stale):
    root, package = _project(tmp_path)
    before = staleness.fingerprint("one", "ci", root, package)
    assert staleness.stale_reasons(before, before) == []
    name, extra = change
    path = (package / name[4:]) if name.startswith("pkg/") else root / name
    path.write_text(path.read_text() + extra)
    after = staleness.fingerprint("one", "ci", root, package)
    assert staleness.stale_reasons(before, after) == ([stale] if stale else [])


def test_another_profile_overrides_or_no_record_make_it_stale(tmp_path):
    root, package = _project(tmp_path)
    ci = staleness.fingerprint("one", "ci", root, package)
    assert staleness.stale_reasons(ci, staleness.fingerprint("one", "quick", root, package)) == [
        "the profile is quick, not ci"
    ]
    assert staleness.stale_reasons({**ci, "overrides": {"epochs": 1}}, ci) == ["it ran with overrides {'epochs': 1}"]
    assert staleness.stale_reasons(None, ci) == ["never executed with a record of what it was computed from"]
    assert staleness.recorded(root / "missing.ipynb") is None


def test_a_second_build_executes_nothing(tmp_path, monkeypatch):
    """bring_up_to_date runs each stale chapter once, records it, and the next call runs none."""
    root, package = _project(tmp_path)
    (root / "book/_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/one\n"
                                        "  - file: chapters/two\n  - file: scorecard\n")  # fmt: skip
    monkeypatch.setattr(staleness, "package_dir", lambda: package)
    ran = []

    def execute(slug, profile, out, root, results_dir, progress):
        ran.append(slug)
        nb = nbformat.v4.new_notebook()
        nb.metadata[staleness.KEY] = {**staleness.fingerprint(slug, profile, root), "overrides": {}}
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)

    monkeypatch.setattr(chapters, "execute", execute)
    lines = []
    assert build.bring_up_to_date(root, "ci", log=lines.append) == ["one", "two"]
    assert lines[0].startswith("[book] chapter 1 of 2: one (ci), never executed")
    assert (root / "book/scorecard.md").is_file()
    assert build.bring_up_to_date(root, "ci", log=lines.append) == [] and ran == ["one", "two"]
    assert lines[-1] == "[book] every chapter is up to date (ci profile): nothing to execute"
    (root / "book/notebooks/two.md").write_text("```{code-cell} ipython3\nx = 2\n```\n")
    assert build.bring_up_to_date(root, "ci", log=lines.append) == ["two"]
    assert "about" in lines[-2] and "left by the last build's times" in lines[-2]  # the times of the last build


def test_a_failing_chapter_stops_the_build_with_one_line(tmp_path, monkeypatch):
    root, package = _project(tmp_path)
    (root / "book/_toc.yml").write_text("chapters:\n  - file: chapters/one\n")
    monkeypatch.setattr(staleness, "package_dir", lambda: package)

    def execute(*args, **kwargs):
        raise RuntimeError("chapter one (ci) failed in cell 2: DataError: no mnist.npz\nin /data")

    monkeypatch.setattr(chapters, "execute", execute)
    with pytest.raises(build.BuildError) as error:
        build.bring_up_to_date(root, "ci", log=lambda line: None)
    assert "\n" not in str(error.value) and "DataError: no mnist.npz in /data; mend it" in str(error.value)


def test_the_profile_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(build.PROFILE_ENV, raising=False)
    assert build.profile_from_environment() == "quick"
    monkeypatch.setenv(build.PROFILE_ENV, "ci")
    assert build.profile_from_environment() == "ci"
    monkeypatch.setenv(build.PROFILE_ENV, "fast")
    with pytest.raises(build.BuildError, match="not a profile; set it to one of ci, quick, paper"):
        build.profile_from_environment()


def makefile_after() -> dict:
    """The Makefile's dependency order: ``{chapter: chapters it runs after}``."""
    text = (ROOT / "Makefile").read_text()
    after = dict(re.findall(r"^(\w+)\.after := (.+)$", text, re.MULTILINE))
    every = sorted(p.stem for p in (ROOT / "book/notebooks").glob("*.md"))
    return {
        slug: set(every) - {slug} if "filter-out" in after.get(slug, "") else set(after.get(slug, "").split())
        for slug in every
    }


def test_the_table_of_contents_runs_each_chapter_after_those_it_needs():
    order = build.chapter_order(ROOT)
    assert sorted(order) == sorted(makefile_after())
    for slug, needs in makefile_after().items():
        assert all(order.index(n) < order.index(slug) for n in needs), (slug, needs)
    assert makefile_after()["stabilized_gradients"] == {"saturating_networks"}
    assert makefile_after()["synthesis"] == set(order) - {"synthesis"}


def test_an_executed_chapter_records_its_fingerprint_json_serializable():
    record = staleness.fingerprint("boundary_tilting", "ci", ROOT)
    assert set(record) == {"profile", "source", "code", "lock"} and json.dumps(record)


def _extension():
    import importlib.util

    spec = importlib.util.spec_from_file_location("execute_chapters", ROOT / "book/_ext/execute_chapters.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sphinx_extension_stops_a_build_that_cannot_run_with_one_line(tmp_path, monkeypatch, capsys):
    """No data: `jupyter-book build` exits 2 with one line naming what to set, before any chapter."""
    import types

    root, package = _project(tmp_path)
    (root / "book/_toc.yml").write_text("chapters:\n  - file: chapters/one\n")
    (root / "book/notebooks/one.md").write_text("```{code-cell} ipython3\nmnist = data.load_mnist()\n```\n")
    monkeypatch.setattr(staleness, "package_dir", lambda: package)
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path))  # no mnist.npz there
    monkeypatch.setenv(build.PROFILE_ENV, "ci")
    monkeypatch.setattr(chapters, "execute", lambda *a, **k: pytest.fail("a chapter ran without its data"))
    with pytest.raises(SystemExit) as stop:
        _extension()._run_stale_chapters(types.SimpleNamespace(srcdir=str(root / "book")), None)
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and err[-1].startswith("error: COMPANION_DATA_DIR=") and "mnist.npz" in err[-1]


def test_a_changed_stylesheet_rebuilds_one_page_so_that_it_is_copied(tmp_path):
    import types

    (tmp_path / "src/_static").mkdir(parents=True)
    (tmp_path / "out/_static").mkdir(parents=True)
    (tmp_path / "src/_static/cells.css").write_text("pre { white-space: pre-wrap; }")
    app = types.SimpleNamespace(
        srcdir=str(tmp_path / "src"), outdir=str(tmp_path / "out"), config=types.SimpleNamespace(root_doc="intro")
    )
    changed = _extension()._static_changed
    assert changed(app, None, set(), set(), set()) == ["intro"]  # not copied yet
    (tmp_path / "out/_static/cells.css").write_text("pre { white-space: pre-wrap; }")
    assert changed(app, None, set(), set(), set()) == []


def test_a_toc_entry_without_its_chapter_is_one_line(tmp_path, monkeypatch):
    root, package = _project(tmp_path)
    (root / "book/_toc.yml").write_text("chapters:\n  - file: chapters/one\n  - file: chapters/three\n")
    monkeypatch.setattr(staleness, "package_dir", lambda: package)
    with pytest.raises(build.BuildError, match="lists chapters/three but there is no book/notebooks/three.md"):
        build.bring_up_to_date(root, "ci", log=lambda line: None)
