import json

import pytest

from companion.book import scorecard as sc
from companion.book import sources

# a made-up chapter's claims: every id ours, but "a.b", the paper's
SOURCES = {"a.b": sources.paper("err 1.6", "Table 9", "made-up.txt"), "*": sources.ours("a test of ours")}


def _card(profile="ci", overrides=None):
    return sc.Scorecard("ch", profile, overrides, claim_sources=SOURCES)


def test_numeric_verdicts_follow_the_tolerance():
    card = _card()
    card.compare("a", "x", paper=1.6, ours=1.9, tol=0.5)
    assert card.rows[-1].verdict == sc.REPRODUCED
    card.compare("b", "x", paper=1.6, ours=2.2, tol=0.5)
    assert card.rows[-1].verdict == sc.NOT_REPRODUCED
    card.compare("c", "x", paper=1.6, ours=float("nan"), tol=0.5)
    assert card.rows[-1].verdict == sc.NOT_REPRODUCED
    card.check("d", "x", "rises", "rho 0.9", True, "rho > 0.8")
    assert card.rows[-1].verdict == sc.REPRODUCED
    card.check("e", "x", "rises", "rho 0.1", False, "rho > 0.8")
    assert card.rows[-1].verdict == sc.NOT_REPRODUCED
    card.not_run("f", "x", "1.2", "needs a GPU")
    assert card.rows[-1].verdict == sc.NOT_RUN
    assert "premise absent" not in repr(card).splitlines()[0]  # named only where a row has it
    card.check("g", "premise", "collapses", "2%", True, "< 50%", premise=False)
    assert card.rows[-1].verdict == sc.PREMISE_ABSENT
    assert card.counts() == {sc.REPRODUCED: 2, sc.NOT_REPRODUCED: 3, sc.NOT_RUN: 1, sc.PREMISE_ABSENT: 1}
    assert repr(card).splitlines()[0].endswith("1 not run in this profile, 1 premise absent")


def test_unjudged_claims_keep_our_value():
    card = _card()
    card.compare("a", "x", paper=1.6, ours=9.0, tol=0.5, judge=False)
    card.check("b", "x", "rises", "rho 0.1", False, "rho > 0.8", judge=False)
    assert [(r.ours, r.verdict) for r in card.rows] == [("9", sc.NOT_RUN), ("rho 0.1", sc.NOT_RUN)]


def test_duplicate_ids_and_bad_tolerance_are_errors():
    card = _card()
    card.check("a", "x", "p", "o", True, "t")
    with pytest.raises(ValueError, match="already"):
        card.check("a", "x", "p", "o", True, "t")
    with pytest.raises(ValueError, match="tolerance"):
        card.compare("b", "x", 1.0, 1.0, -1)


def test_save_and_gather(tmp_path):
    card = _card("quick")
    card.compare("a.b", "err | %", 1.6, 1.7, 0.5, ".2f")
    path = card.save(tmp_path)
    saved = json.loads(path.read_text())
    assert saved["rows"][0] == {
        "id": "a.b",
        "claim": "err | %",
        "paper": "1.60",
        "ours": "1.70",
        "tolerance": "± 0.50",
        "verdict": sc.REPRODUCED,
        "source": "paper",
        "quote": "err 1.6",
        "where": "Table 9",
        "note": "",
    }
    assert [p.name for p in tmp_path.iterdir()] == ["ch.scorecard.json"]  # no temporary left
    page = sc.gather(tmp_path)
    assert (
        (
            '| [ch](#scorecard-ch) (`quick`) | 1 <span class="verdict verdict-reproduced">reproduced</span>, '
            '0 <span class="verdict verdict-not-reproduced">not reproduced</span>, 0 '
        )
        in page
        and "(scorecard-ch)=\n## ch" in page
        and "err | %" in page
    )
    assert (
        '<code class="claim-id">a.b</code> <span class="claim-source claim-source-paper">paper</span> '
        '<span class="verdict verdict-reproduced">reproduced</span>'
    ) in page
    assert "“err 1.6”" in page and "(Table 9)" in page and "1 claims of the paper" in page
    out = tmp_path / "page.md"
    assert sc.main([str(tmp_path), str(out)]) == 0 and out.read_text() == page


def test_overrides_are_part_of_the_record():
    card = _card("paper", {"epochs": 5})
    assert card.run == "paper (overrides: epochs=5)"
    assert card.to_dict()["overrides"] == {"epochs": 5} and "epochs=5" in repr(card)


def test_text_table_lists_every_row():
    card = _card()
    card.check("a", "claim a", "p", "o", True, "t")
    text = repr(card)
    assert "1 reproduced" in text and "claim a" in text
    assert '<p class="claim-text">claim a</p>' in card._repr_html_()
    assert "Our own test: a test of ours." in card._repr_html_()
    assert text.splitlines()[3].split()[:2] == ["a", "ours"]  # the source is a checked column


def test_a_claim_without_a_source_is_an_error():
    card = sc.Scorecard("ch", "ci", claim_sources={"known": sources.ours("x")})
    with pytest.raises(KeyError, match="no source"):
        card.check("unknown", "x", "p", "o", True, "t")
    with pytest.raises(ValueError, match="words"):
        sources.paper("", "Table 1", "x.txt")


def test_claims_link_to_the_section_that_makes_them():
    def cell(kind, text):
        return {"cell_type": kind, "source": text}

    nb = {
        "cells": [
            cell("markdown", "# Title\n\n## Table 1: clean and *FGSM* accuracy"),
            cell("code", 'for a in x:\n    card.compare(f"table1.{a}.clean", "c", 1, 2, 3)'),
            cell("markdown", "prose\n\n## Kurtosis"),
            cell("code", 'ids = ("k.gain", "k.other")\ncard.check(ids[0], "c", "p", "o", True, "t")'),
            cell("code", 'card.not_run("k.plain", "c", "p", "why")'),
        ]
    }
    found = sc.claim_sections(nb, ["table1.cnn.clean", "k.gain", "k.plain", "absent"])
    assert found == {"table1.cnn.clean": "table-1-clean-and-fgsm-accuracy", "k.gain": "kurtosis", "k.plain": "kurtosis"}


def test_the_command_line_says_in_one_line_what_is_wrong(tmp_path, capsys):
    from companion.book import scorecard as page

    (tmp_path / "file").write_text("")
    for argv, says in (
        ([], "usage:"),
        ([str(tmp_path / "none"), str(tmp_path / "out.md")], "no folder"),
        ([str(tmp_path), str(tmp_path / "file" / "out.md")], "cannot write"),
    ):
        assert page.main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert says in err and len(err.splitlines()) == 1, err
    assert page.main([str(tmp_path), str(tmp_path / "out.md")]) == 0
    assert (tmp_path / "out.md").read_text().startswith("# Scorecard")
