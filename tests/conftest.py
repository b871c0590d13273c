"""Every test session gets a fresh cache and results folder; kernels started by nbval inherit them."""

import os
import tempfile

_session_dir = tempfile.mkdtemp(prefix="companion-tests-")
os.environ["COMPANION_CACHE"] = os.path.join(_session_dir, "cache")
os.environ["COMPANION_RESULTS_DIR"] = os.path.join(_session_dir, "results")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
