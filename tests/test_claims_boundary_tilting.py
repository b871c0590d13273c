"""The verdict rules of the boundary-tilting chapter that used to be written in the notebook, each on
an input that passes and one that fails."""

import numpy as np
import pytest

from companion.papers.boundary_tilting import claims


@pytest.mark.parametrize(
    "inside, passed",
    [
        ([True, True, True, True], True),  # every pair has its minimum strictly inside the grid
        ([True], True),  # the ci profile: one pair
        ([True, False, True, True], False),  # one pair (0 vs 1, flat test error) at an end
        ([False], False),
        ([], False),  # no pair at all is no evidence
    ],
)
def test_minimum_inside_every_pair(inside, passed):
    assert claims.minimum_inside_every_pair(inside) is passed
    assert claims.minimum_inside_every_pair(iter(inside)) is passed  # dict values, generators


def test_minimum_inside_every_pair_from_test_errors():
    # hand-made test errors (%) along a 5-point λ grid: a valley, and a curve lowest at λ's first value
    valley, falling = [5.9, 5.6, 5.4, 6.0, 8.3], [0.2, 0.2, 0.3, 0.5, 0.9]
    per_pair = [claims.minimum_inside(e) for e in (valley, falling)]
    assert per_pair == [True, False]
    assert claims.minimum_inside_every_pair(per_pair[:1]) is True
    assert claims.minimum_inside_every_pair(per_pair) is False


@pytest.mark.parametrize(
    "train_size, judged",
    [
        (60000, True),  # all of MNIST's training images (the paper gives no size)
        (np.int64(60000), True),
        (3000, False),  # the ci profile
        (59999, False),
    ],
)
def test_lenets_judged(train_size, judged):
    assert claims.lenets_judged(train_size) is judged


@pytest.mark.parametrize(
    "train_size, epochs, judged", [(60000, 50, True), (60000, 5, False), (3000, 50, False), (60000, 60, True)]
)
def test_final_errors_are_judged_only_after_the_papers_50_epochs(train_size, epochs, judged):
    assert claims.final_errors_judged(train_size, epochs) is judged
