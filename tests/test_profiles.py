import pytest

from companion import profiles


def test_every_chapter_defines_every_profile_with_the_same_settings():
    for chapter, by_profile in profiles.SETTINGS.items():
        assert set(by_profile) == set(profiles.PROFILES), chapter
        keys = {p: set(s) for p, s in by_profile.items()}
        assert len({frozenset(k) for k in keys.values()}) == 1, (chapter, keys)


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown profile 'fast'.*\['ci', 'quick', 'paper'\]"):
        profiles.settings("boundary_tilting", "fast")


def test_unknown_chapter():
    with pytest.raises(ValueError, match="unknown chapter"):
        profiles.settings("no_such_chapter", "ci")


def test_overrides_are_applied_and_checked():
    s = profiles.settings("boundary_tilting", "ci", {"lenet_epochs": 3, "svm_pairs": [[0, 1]]})
    assert s.lenet_epochs == 3 and s["svm_pairs"] == ((0, 1),)
    with pytest.raises(ValueError, match="unknown override 'epochs'.*lenet_epochs"):
        profiles.settings("boundary_tilting", "ci", {"epochs": 3})
    with pytest.raises(ValueError, match="should be like"):
        profiles.settings("boundary_tilting", "ci", {"lenet_epochs": "three"})
    with pytest.raises(AttributeError, match="no setting"):
        _ = profiles.settings("boundary_tilting", "ci").learning_rate


def test_settings_are_read_only():
    s = profiles.settings("boundary_tilting", "ci")
    with pytest.raises(TypeError):
        s["seed"] = 1
