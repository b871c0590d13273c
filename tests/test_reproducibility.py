"""Seeds, determinism and the CPU kernels that `import companion` chooses."""

import os
import platform
import subprocess
import sys

import pytest

PROBE = (
    "import companion, sys; from companion import reproducibility; "
    "sys.stdout.write(str(reproducibility.onednn_enabled()))"
)


def onednn_in_fresh_process(value):
    """``reproducibility.onednn_enabled()`` in a new interpreter with TF_ENABLE_ONEDNN_OPTS set to
    ``value`` (``None``: unset)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if value is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = value
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"), reason="TensorFlow ships oneDNN CPU kernels for x86 only"
)
def test_import_companion_turns_onednn_on_unless_the_user_turned_it_off():
    # TensorFlow itself leaves oneDNN off on AVX2-only CPUs
    assert onednn_in_fresh_process(None) == "True"
    assert onednn_in_fresh_process("0") == "False"


def test_seed_everything_rejects_a_bad_seed_and_names_the_device():
    from companion import reproducibility

    for bad in (-1, 1.5, True, "0"):
        with pytest.raises(ValueError, match="non-negative int"):
            reproducibility.seed_everything(bad)
    line = reproducibility.seed_everything(0)
    assert "deterministic ops" in line
    assert "GPU" in line or "oneDNN kernels" in line
