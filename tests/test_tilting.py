import os

import numpy as np
import pytest

from companion import data, linear, tilting


def test_toy_mirror_distance_is_the_closed_form():
    thetas = np.linspace(-1.5, 1.5, 31)
    computed, closed = tilting.toy_mirror_distances(thetas, x=(-1.5, 0.0))
    np.testing.assert_allclose(computed, closed, atol=1e-12)
    np.testing.assert_allclose(closed, 3.0 * np.cos(thetas))


def test_toy_training_set_is_separable_only_by_tilting():
    x, y = tilting.toy_training_set()
    assert y[-1] == 1 and x[-1, 1] != 0  # the noisy point is last, off the manifold
    w, b = tilting.toy_boundary(0.0)
    assert linear.error_rate(w, b, x, y) == pytest.approx(1 / len(y))  # only p is wrong


def test_lambda_grid():
    grid = tilting.lambda_grid(0.1)
    assert len(grid) == 81 and grid[0] == pytest.approx(0.1) and grid[-1] == pytest.approx(1e7)
    with pytest.raises(ValueError, match="step"):
        tilting.lambda_grid(0)


@pytest.mark.skipif(not os.environ.get(data.ENV_VAR), reason="needs COMPANION_DATA_DIR")
def test_svm_sweep_on_a_small_pair():
    mnist = data.load_mnist()
    sweep = tilting.svm_sweep(mnist, (0, 1), 100, tilting.lambda_grid(2.0))
    x, y, xt, yt = tilting.pair_data(mnist, (0, 1), 100)
    assert x.shape == (200, 784) and set(y) == {-1, 1} and len(xt) == 980 + 1135
    w, b = sweep["W"][0], sweep["B"][0]
    assert sweep["train_error"][0] == pytest.approx(linear.error_rate(w, b, x, y))
    assert sweep["d_adv"][-1] > sweep["d_adv"][0]  # more regularized, farther from the data
    with pytest.raises(ValueError, match="two different digits"):
        tilting.pair_data(mnist, (3, 3), 10)
