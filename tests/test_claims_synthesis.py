"""The synthesis chapter's verdict rules, each on an input that passes and one that fails."""

import math

import pytest

from companion.book import sources
from companion.papers.synthesis import claims


@pytest.mark.parametrize(
    ("rho", "sign"),
    [(0.7, +1), (-0.7, -1), (0.5, +1), (-0.5, -1), (1.0, +1)],  # |rho| = 0.5 is on the line: it holds
)
def test_a_prediction_holds_with_its_sign_and_a_size_of_at_least_one_half(rho, sign):
    assert claims.prediction_holds(rho, sign) is True


@pytest.mark.parametrize(
    ("rho", "sign"),
    [
        (0.49, +1),  # too small
        (-0.49, -1),
        (0.7, -1),  # the wrong sign, however large
        (-0.9, +1),
        (0.9, 0),  # no predicted sign: nothing to hold
        (math.nan, +1),  # a constant column or under three networks
        (math.inf, +1),
    ],
)
def test_a_prediction_fails_when_small_of_the_wrong_sign_or_undefined(rho, sign):
    assert claims.prediction_holds(rho, sign) is False


def test_the_size_a_prediction_needs_can_be_set():
    assert claims.prediction_holds(0.35, +1, at_least=0.3) is True
    assert claims.prediction_holds(0.35, +1, at_least=0.4) is False


def test_alpha_rises_only_when_every_architecture_gains():
    assert claims.rises_everywhere([0.1, 0.02, 0.3]) is True
    assert claims.rises_everywhere([0.1, -0.03, 0.3]) is False  # one architecture fell
    assert claims.rises_everywhere([0.1, 0.0, 0.3]) is False  # unchanged is not a rise
    assert claims.rises_everywhere([]) is False  # no architecture measured: nothing rose


def test_judged_predictions_are_the_ones_with_an_id_each_on_every_data_set_in_order():
    predictions = [("a", "who a", +1), ("b", "who b", -1), ("c", "who c", 0)]
    rho = {
        ("mnist", "a"): (0.1, 12),
        ("mnist", "b"): (-0.6, 12),
        ("mnist", "c"): (math.nan, 12),
        ("cifar10", "a"): (0.2, 7),
        ("cifar10", "b"): (-0.3, 7),
        ("cifar10", "c"): (math.nan, 7),
    }
    assert claims.judged_predictions(predictions, rho, {"b": "b_claim", "a": "a_claim"}) == [
        ("a_claim", "mnist", "who a", +1, (0.1, 12)),
        ("a_claim", "cifar10", "who a", +1, (0.2, 7)),
        ("b_claim", "mnist", "who b", -1, (-0.6, 12)),
        ("b_claim", "cifar10", "who b", -1, (-0.3, 7)),
    ]


def test_the_chapter_judges_five_predictions_and_each_claim_has_a_source():
    keys = [key for key, _, _ in claims.PREDICTIONS]
    assert len(set(keys)) == len(keys) and set(claims.PREDICTION_IDS) <= set(keys)
    assert {sign for _, _, sign in claims.PREDICTIONS} <= {-1, 0, +1}
    assert [k for k in keys if k not in claims.PREDICTION_IDS] == ["deepfool", "zero_gradients"]
    rho = {(dataset, key): (0.0, 3) for dataset in ("mnist", "cifar10") for key in keys}
    judged = claims.judged_predictions(claims.PREDICTIONS, rho)
    assert len(judged) == 10
    for name, dataset, *_ in judged:
        assert sources.source_of("synthesis", f"synthesis.{name}.{dataset}").kind == sources.OURS
