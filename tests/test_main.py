from companion.__main__ import main


def test_the_command_line_names_its_commands(capsys, tmp_path):
    assert main([]) == 2 and "python -m companion {diagnose}" in capsys.readouterr().err
    assert main(["train"]) == 2
    assert main(["diagnose", "none.keras", "--data", "mnist", "--out", str(tmp_path / "report")]) == 2
    assert "no model file none.keras" in capsys.readouterr().err
