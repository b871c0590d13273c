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


def test_write_bytes_and_check_writable(tmp_path):
    assert files.write_bytes(tmp_path / "a" / "f.png", b"\x89PNG").read_bytes() == b"\x89PNG"
    assert files.check_writable(tmp_path / "new") == tmp_path / "new" and not list((tmp_path / "new").iterdir())
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError):
        files.check_writable(tmp_path / "file" / "sub")
