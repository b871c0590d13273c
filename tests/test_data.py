import numpy as np
import pytest

from companion import data

HAVE_DATA = bool(__import__("os").environ.get(data.ENV_VAR))


def _fake_mnist(path, **changes):
    arrays = {
        "x_train": np.zeros((60000, 28, 28), np.uint8),
        "y_train": np.zeros(60000, np.uint8),
        "x_test": np.zeros((10000, 28, 28), np.uint8),
        "y_test": np.zeros(10000, np.uint8),
    }
    arrays.update(changes)
    np.savez(path / "mnist.npz", **{k: v for k, v in arrays.items() if v is not None})


def test_missing_file_names_the_variable_and_the_keys(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    with pytest.raises(data.DataError, match=r"COMPANION_DATA_DIR.*mnist\.npz.*x_train, y_train"):
        data.load_mnist()


def test_missing_key(tmp_path, monkeypatch):
    _fake_mnist(tmp_path, y_test=None)
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    with pytest.raises(data.DataError, match=r"lacks the keys \['y_test'\]"):
        data.load_mnist()


def test_wrong_shape_and_dtype(tmp_path, monkeypatch):
    _fake_mnist(tmp_path, x_test=np.zeros((10, 28, 28), np.float32))
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    with pytest.raises(data.DataError, match=r"x_test is float32 \(10, 28, 28\), expected uint8"):
        data.load_mnist()


def test_wrong_content_is_caught_by_the_hash(tmp_path, monkeypatch):
    _fake_mnist(tmp_path)
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    with pytest.raises(data.DataError, match="differs from the canonical mnist"):
        data.load_mnist()


def test_unreadable_file(tmp_path, monkeypatch):
    (tmp_path / "mnist.npz").write_bytes(b"not a zip file")
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    with pytest.raises(data.DataError, match="could not be read"):
        data.load_mnist()


def test_no_folder_and_no_network_fails_fast_with_the_same_help(tmp_path, monkeypatch):
    import time

    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no cached download
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(proxy, "http://127.0.0.1:9")  # nothing listens: no network
    monkeypatch.delenv("no_proxy", raising=False)
    start = time.perf_counter()
    with pytest.raises(data.DataError, match=r"COMPANION_DATA_DIR is not set.*mnist\.npz"):
        data.load_mnist()
    assert time.perf_counter() - start < data.DOWNLOAD_TIMEOUT_S + 5


def test_unknown_name_and_scale():
    with pytest.raises(ValueError, match="unknown data set"):
        data.load("imagenet")
    with pytest.raises(ValueError, match="scale"):
        data.to_float(np.zeros(3, np.uint8), "percent")


@pytest.mark.skipif(not HAVE_DATA, reason="needs COMPANION_DATA_DIR")
def test_mnist_matches_published_statistics():
    d = data.load_mnist()
    # Values from the data's provenance record, measured independently of this package.
    assert d.x_train.mean() == pytest.approx(33.318421449829934, abs=1e-9)
    assert d.x_train.std() == pytest.approx(78.56748998339798, abs=1e-9)
    assert np.bincount(d.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    x = data.to_float(d.x_test[:5])
    assert x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1


@pytest.mark.skipif(not HAVE_DATA, reason="needs COMPANION_DATA_DIR")
def test_cifar10_matches_published_statistics():
    d = data.load_cifar10()
    means = d.x_train.reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose(means, [125.30691805, 122.95039414, 113.86538318], atol=1e-6)
    assert np.bincount(d.y_train).tolist() == [5000] * 10


def test_class_subset_takes_the_first_of_each_class():
    y = np.array([1, 0, 1, 0, 1])
    x = np.arange(5)
    xs, ys = data.class_subset(x, y, (1, 0), 2)
    assert xs.tolist() == [0, 2, 1, 3] and ys.tolist() == [1, 1, 0, 0]
    with pytest.raises(ValueError, match="fewer than per_class"):
        data.class_subset(x, y, (0,), 3)
