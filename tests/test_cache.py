import json

import numpy as np
import pytest

from companion import cache


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path))
    return tmp_path


def test_computes_once_then_answers_from_the_cache():
    calls = []

    def compute():
        calls.append(1)
        return {"a": np.arange(3.0)}

    first = cache.cached_arrays("t", {"x": 1}, compute)
    second = cache.cached_arrays("t", {"x": 1}, compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(first["a"], second["a"])
    cache.cached_arrays("t", {"x": 2}, compute)  # another key: computed again
    assert len(calls) == 2


def test_damaged_entry_is_detected_and_recomputed(fresh_cache):
    calls = []

    def compute():
        calls.append(1)
        return {"a": np.ones(4)}

    cache.cached_arrays("t", {"x": 1}, compute)
    (entry,) = (fresh_cache / "t").iterdir()
    payload = entry / "arrays.npz"
    payload.write_bytes(payload.read_bytes()[:-10])  # truncated
    result = cache.cached_arrays("t", {"x": 1}, compute)
    assert len(calls) == 2 and result["a"].tolist() == [1, 1, 1, 1]
    manifest = json.loads((entry / cache.MANIFEST).read_text())
    assert set(manifest) == {"arrays.npz", "parts.json"}


def test_failed_save_leaves_nothing_behind(fresh_cache):
    def failing_save(result, folder):
        (folder / "half.npz").write_bytes(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        cache.cached("t", {"x": 1}, lambda: 1, failing_save, lambda folder: None)
    assert list((fresh_cache / "t").iterdir()) == []


def test_key_is_stable_and_sensitive():
    assert cache.make_key({"a": 1, "b": [1, 2]}) == cache.make_key({"b": (1, 2), "a": 1})
    assert cache.make_key({"a": 1}) != cache.make_key({"a": 2})
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        cache.make_key({"a": object()})


def test_code_fingerprint_follows_the_source():
    def f():
        return 1

    def g():
        return 2

    assert cache.code_fingerprint(f) != cache.code_fingerprint(g)
    assert cache.code_fingerprint(f) == cache.code_fingerprint(f)


def test_keras_model_round_trip():
    import keras

    def train():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        return model, {"loss": [0.5]}

    model, history = cache.cached_model("m", {"x": 1}, train)
    again, history2 = cache.cached_model("m", {"x": 1}, lambda: pytest.fail("not from cache"))
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    np.testing.assert_array_equal(model(x).numpy(), again(x).numpy())
    assert history == history2 == {"loss": [0.5]}
