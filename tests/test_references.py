"""Each chapter, executed now with the `ci` profile, agrees with its committed reference.

The check is companion.book.chapters.compare: text and stable numbers exactly, the numbers of cells
that declare a tolerance within it. `make reference` rewrites the references.
"""

from pathlib import Path

import nbformat
import pytest

from companion.book import chapters, comparison

ROOT = Path(__file__).resolve().parent.parent
SLUGS = sorted(p.stem for p in (ROOT / "book" / "notebooks").glob("*.md"))


@pytest.mark.parametrize("slug", SLUGS)
def test_chapter_agrees_with_its_reference(slug, tmp_path):
    reference_path = ROOT / "tests" / "reference" / f"{slug}.ipynb"
    assert reference_path.exists(), f"no reference for {slug}: run `make reference`"
    # the session's fresh cache (conftest.py): the stabilized-gradients chapter attacks the
    # networks the saturating chapter trained, as in the book; a cached network is the same
    # network, so the outputs equal those of the reference's separate runs
    executed = chapters.execute(
        slug, "ci", tmp_path / f"{slug}.ipynb", root=ROOT, results_dir=str(tmp_path / "results"), images=False
    )
    problems = comparison.compare(nbformat.read(reference_path, as_version=4), executed)
    assert not problems, f"{slug} differs from tests/reference/{slug}.ipynb:\n" + "\n".join(problems)
