"""Drop image outputs from reference notebooks: nbval does not compare them, git need not keep them.

Usage: python scripts/strip_images.py NOTEBOOK.ipynb [...]  (rewrites each file atomically)
"""
import os
import sys
import tempfile

import nbformat

IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")

for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for key in IMAGE_TYPES:
                out.get("data", {}).pop(key, None)
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
    nb.metadata.pop("papermill", None)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".ipynb")
    with os.fdopen(fd, "w") as f:
        nbformat.write(nb, f)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
