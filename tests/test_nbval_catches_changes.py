"""The nbval set-up of `make test` fails when a checked output differs from its reference."""
import subprocess
import sys

import nbformat


def _notebook(path, printed, reference_output, tags=()):
    cell = nbformat.v4.new_code_cell(f"print({printed!r})", metadata={"tags": list(tags)})
    cell.execution_count = 1
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=reference_output + "\n")]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def _nbval(path):
    return subprocess.run([sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-q",
                           "-p", "no:cacheprovider", str(path)], capture_output=True, text=True)


def test_changed_output_fails_and_ignored_output_passes(tmp_path):
    _notebook(tmp_path / "same.ipynb", "1.60", "1.60")
    _notebook(tmp_path / "changed.ipynb", "1.60", "1.70")
    _notebook(tmp_path / "ignored.ipynb", "1.60", "1.70", tags=["nbval-ignore-output"])
    assert _nbval(tmp_path / "same.ipynb").returncode == 0
    changed = _nbval(tmp_path / "changed.ipynb")
    assert changed.returncode == 1 and "1.70" in changed.stdout
    assert _nbval(tmp_path / "ignored.ipynb").returncode == 0
