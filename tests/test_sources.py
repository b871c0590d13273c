"""Every scorecard claim names its source, and every quote is the paper's own words.

The quotes are checked against the texts in ../shared/papers/ (white space and OCR's line-break
hyphens folded), so a quote cannot drift from the paper; the claim ids against the committed
references, so no claim goes without a source and no source outlives its claim.
"""

import re
from pathlib import Path

import nbformat
import pytest

from companion.book import comparison, sources

ROOT = Path(__file__).resolve().parent.parent
PAPERS = sources.papers_dir()
QUOTED = [
    (chapter, pattern, src) for chapter, table in sources.CLAIMS.items() for pattern, src in table.items() if src.quote
]
SETTING_QUOTES = [
    (chapter, s.label, s.quote) for chapter, rows in sources.STATED_SETTINGS.items() for s in rows if s.quote
]
needs_papers = pytest.mark.skipif(not PAPERS.is_dir(), reason=f"no paper texts at {PAPERS}")


def _text(name: str) -> str:
    return (PAPERS / name).read_text()


@needs_papers
@pytest.mark.parametrize("chapter, pattern, src", QUOTED, ids=[f"{c}:{p}" for c, p, _ in QUOTED])
def test_every_quote_is_in_its_paper(chapter, pattern, src):
    assert sources.quote_in_text(src.quote, _text(src.paper_file)), (
        f"{chapter} {pattern}: {src.quote!r} is not in {src.paper_file}"
    )


@needs_papers
@pytest.mark.parametrize("chapter, pattern, src", QUOTED, ids=[f"{c}:{p}" for c, p, _ in QUOTED])
def test_a_quote_altered_by_one_word_is_caught(chapter, pattern, src):
    words = src.quote.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    altered = " ".join(words[:longest] + ["altered"] + words[longest + 1 :])
    assert not sources.quote_in_text(altered, _text(src.paper_file))


@needs_papers
@pytest.mark.parametrize(
    "chapter, label, quote", SETTING_QUOTES, ids=[f"{c}:{label}" for c, label, _ in SETTING_QUOTES]
)
def test_every_stated_setting_is_quoted_from_its_paper(chapter, label, quote):
    assert sources.quote_in_text(quote, _text(sources.PAPER_FILES[chapter])), f"{chapter} {label}: {quote!r}"


def test_settings_tables_name_real_profile_settings():
    from companion import profiles

    for chapter, rows in sources.STATED_SETTINGS.items():
        for row in rows:
            assert row.keys or row.fixed, f"{chapter} {row.label}: neither a profile key nor a fixed value"
            for profile in ("paper", "quick"):
                assert set(row.keys) <= set(profiles.SETTINGS[chapter][profile]), (chapter, row.label)
        text = repr(sources.SettingsTable(chapter))
        assert text.count("`paper` profile:") == len(rows)


def test_a_fixed_setting_names_the_constant_it_shows():
    """A row fixed in the code (no profile key) says where; its numbers are that constant's."""
    from companion.papers.boundary_tilting import experiments

    (row,) = [r for r in sources.STATED_SETTINGS["boundary_tilting"] if not r.keys]
    values, where = row.fixed.split(" (")
    assert where == "boundary_tilting.experiments.LENET_TRAINING)"
    assert [float(v) for v in values.split(", ")] == list(experiments.LENET_TRAINING.values())


def test_paper_claims_quote_their_own_paper():
    for chapter, table in sources.CLAIMS.items():
        for pattern, src in table.items():
            assert src.kind in (sources.PAPER, sources.OURS)
            if src.kind == sources.PAPER:
                assert src.quote and src.where, f"{chapter} {pattern}: a paper's claim needs its words"
                assert src.paper_file == sources.PAPER_FILES[chapter], f"{chapter} {pattern}"
            else:
                assert src.note, f"{chapter} {pattern}: our own test needs a note"


def test_normalisation_folds_white_space_and_ocr_hyphens():
    text = "this was progressively in-\ncreased to  λmax = 1.74"
    assert sources.quote_in_text("progressively increased to λmax = 1.74", text)
    assert sources.quote_in_text("was progressively in-\ncreased", text)
    assert not sources.quote_in_text("progressively decreased", text)


def _reference_ids(slug):
    nb = nbformat.read(ROOT / "tests" / "reference" / f"{slug}.ipynb", as_version=4)
    text = next(
        comparison.output_text(c)
        for c in nb.cells
        if c.cell_type == "code" and comparison.output_text(c).startswith("Scorecard ")
    )
    return [line.split()[0] for line in text.splitlines()[3:] if line.strip()]


@pytest.mark.parametrize("chapter", sorted(sources.CLAIMS))
def test_every_claim_has_a_source_and_every_source_a_claim(chapter):
    ids = _reference_ids(chapter)
    for claim in ids:
        sources.source_of(chapter, claim)  # raises for a claim without a source
    unused = [
        p
        for p in sources.CLAIMS[chapter]
        if not any(re.fullmatch(re.escape(p).replace(r"\*", ".*"), claim) for claim in ids)
    ]
    assert not unused, f"{chapter}: sources for claims that are not on the scorecard: {unused}"
