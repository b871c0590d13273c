import pytest

from companion import files


def test_write_text_replaces_whole_and_leaves_nothing_behind(tmp_path):
    path = tmp_path / "new" / "card.json"
    assert files.write_text(path, "first") == path and path.read_text() == "first"
    files.write_text(path, "second")
    assert path.read_text() == "second"
    assert sorted(p.name for p in path.parent.iterdir()) == ["card.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "card.json"
    files.write_text(path, "old")
    with pytest.raises(TypeError):
        files.write_text(path, 42)  # not text: fails while writing the temporary file
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.json"]
