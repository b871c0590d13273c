"""The verdict rules of the boundary-tilting chapter (Tanay & Griffin 2016): each one a function of
printed numbers, unit-tested on an input that passes and one that fails."""

from __future__ import annotations

import numpy as np

from companion import data

MNIST_TRAIN_SIZE = data.SHAPES["mnist"]["x_train"][0]  # 60,000 images
PAPER_LENET_EPOCHS = 50  # "we train for 50 epochs"


def less_overfitted(errors: dict, within: float = 0.5) -> bool:
    """LeNet-high "less overfitted (the train and test errors are approximately equal at the end
    of the training)": its final test - train gap, in points, is within ``within`` of zero and
    smaller than LeNet-low's. ``errors``: ``{name: (train %, test %)}``."""
    gap = {name: test - train for name, (train, test) in errors.items()}
    return abs(gap["LeNet-high"]) <= within and gap["LeNet-high"] < gap["LeNet-low"]


def high_beats_low(errors: dict) -> bool:
    """LeNet-high "performs slightly better than LeNetlow": a lower final test error.
    ``errors``: ``{name: (train %, test %)}``."""
    return errors["LeNet-high"][1] < errors["LeNet-low"][1]


# --- rules of the toy, SVM and LeNet-perturbation claims ----------------------------------------


def tilts_only_when_weak(weak_angles, strong_angles, threshold: float = 45.0) -> bool:
    """Weak regularization tilts every model past ``threshold`` degrees; strong keeps every one
    below it. Angles in degrees."""
    return bool(min(weak_angles) > threshold > max(strong_angles))


def trend_on_every_pair(rhos, threshold: float = 0.8) -> bool:
    """A monotone trend in λ on every digit pair: each Spearman ρ above ``threshold``."""
    return bool(len(rhos) > 0 and min(rhos) > threshold)


def larger_perturbations(ratio: float) -> bool:
    """LeNet-high's adversarial perturbations are larger: mean L2 norm ratio high / low above 1."""
    return bool(np.isfinite(ratio) and ratio > 1.0)


def minimum_inside(test_error) -> bool:
    """The test error along the λ grid is lowest strictly inside it: its minimum is below both
    ends. ``test_error``: ``(k,)``."""
    err = np.asarray(test_error)
    return bool(err[0] > err.min() < err[-1])


def minimum_inside_every_pair(inside) -> bool:
    """The test error is lowest strictly inside the λ grid on every digit pair. ``inside``:
    ``(pairs,)`` booleans, one :func:`minimum_inside` per pair; no pair at all fails."""
    inside = list(inside)
    return bool(len(inside) > 0 and all(inside))


def lenets_judged(train_size: int) -> bool:
    """The LeNet claims are judged only for networks trained on all of MNIST's training images
    (our choice: the paper does not give the training-set size; the ``ci`` profile's tiny LeNets
    are recorded, not judged)."""
    return bool(train_size == MNIST_TRAIN_SIZE)


def final_errors_judged(train_size: int, epochs: int) -> bool:
    """The claims on the errors "at the end of the training" are judged only after the paper's 50
    epochs, on all of MNIST's training images (:func:`lenets_judged`)."""
    return lenets_judged(train_size) and epochs >= PAPER_LENET_EPOCHS
