import pytest

from companion.display import Table

TEXT = "net      clean    FGSM\nvanilla  98.10%   2.00%\nsaturated 97.50%  70.25%\n"


def _table(**kw):
    args = dict(text=TEXT, header=("net", "clean", "FGSM"),
                rows=(("vanilla", "98.10%", "2.00%"), ("saturated", "97.50%", "70.25%")))  # fmt: skip
    return Table(**{**args, **kw})


def test_the_text_form_is_what_print_showed():
    assert repr(_table()) == TEXT
    assert repr(_table(text=TEXT.rstrip("\n"))) == TEXT  # a newline ends it, as print's did
    assert repr(_table(title="FGSM accuracy", note="eps = 0.25")) == "FGSM accuracy\n" + TEXT + "eps = 0.25\n"


def test_the_html_form_holds_the_same_cells():
    page = _table(title="a <title>", note="n")._repr_html_()
    assert page.count("<tr>") == 3 and page.count("<th>") + page.count("<th ") == 3 and page.count("<td") == 6
    assert "70.25%</td>" in page and "a &lt;title&gt;" in page and page.index("title") < page.index("<table")


@pytest.mark.parametrize(
    "change, says",
    [
        (dict(rows=(("vanilla", "98.10%", "2.00%"),)), "not 1 header line(s) and 1 rows"),
        (dict(rows=(("vanilla", "98.10%", "2.00%"), ("saturated", "97.50%", "70.26%"))), "'70.26%' is not in its line"),
        (dict(rows=(("vanilla", "2.00%", "98.10%"), ("saturated", "97.50%", "70.25%"))), "'98.10%' is not in its line"),
        (dict(rows=(("vanilla", "98.10%"), ("saturated", "97.50%", "70.25%"))), "row 1 has 2 cells for 3 columns"),
    ],
)
def test_cells_that_the_text_does_not_show_are_an_error(change, says):
    with pytest.raises(ValueError, match=says.replace("(", r"\(").replace(")", r"\)")):
        _table(**change)


def test_ipython_shows_the_text_form_with_its_final_newline():
    from IPython.lib.pretty import pretty

    assert pretty(_table(note="eps = 0.25")) == TEXT + "eps = 0.25\n"


def test_columns_of_numbers_align_right_and_words_left():
    page = _table(rows=(("vanilla", "98.10%", "2.00%"), ("saturated", "97.50%", "70.25%")))._repr_html_()
    assert '<th>net</th><th class="num">clean</th>' in page and "<td>vanilla</td>" in page
    assert '<td class="num">70.25%</td>' in page


def test_a_cell_must_be_whole_not_part_of_a_longer_word_or_number():
    with pytest.raises(ValueError, match="'8.1' is not in its line"):
        Table(text="net clean\nvanilla  98.10%\n", header=("net", "clean"), rows=(("vanilla", "8.1"),))
    with pytest.raises(ValueError, match="'van' is not in its line"):
        Table(text="net clean\nvanilla  98.10%\n", header=("net", "clean"), rows=(("van", "98.10%"),))
    assert Table(text="net clean\nvanilla  98.10%\n", header=("net", "clean"), rows=(("vanilla", "98.10%"),))
