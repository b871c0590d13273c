"""The synthesis chapter's claims (all ours): the predictions it judges and their rules."""

from __future__ import annotations

import numpy as np

# (key, the paper that predicts it, predicted sign of the correlation with robust accuracy),
# written down before the first run; the middle is the claim's text on the scorecard.
PREDICTIONS = (
    ("deepfool", "a distance to the nearest error (consistency check)", +1),
    ("tilt", "after Tanay & Griffin (linear): less tilt, more robust", -1),
    ("alpha", "Stringer et al.'s hypothesis (Schaeffer et al. reject it): larger alpha, more robust", +1),
    ("kurtosis", "after Nayebi & Ganguli (linear): more kurtotic weights, more robust", +1),
    ("ratio_gain", "after Nayebi & Ganguli (linear): larger ratio (14) gain, more robust", +1),
    ("noise_error", "after Gilmer et al. and Ford et al.: less error in noise, more robust", -1),
    ("zero_gradients", "our reading of the critique: a zero-gradient share is not robustness", 0),
)
# The predictions the scorecard judges: key -> claim name (``synthesis.<name>.<dataset>``).
PREDICTION_IDS = {
    "tilt": "tilting_predicts_robustness",
    "alpha": "alpha_predicts_robustness",
    "kurtosis": "kurtosis_predicts_robustness",
    "ratio_gain": "ratio14_predicts_robustness",
    "noise_error": "noise_error_predicts_robustness",
}


def prediction_holds(rho: float, sign: int, at_least: float = 0.5) -> bool:
    """A predicted rank correlation holds: finite, of the predicted ``sign`` (+1 or -1), of size
    at least ``at_least`` (about the 5% level of a one-sided test with 11 or 12 networks)."""
    return bool(np.isfinite(rho) and sign * rho >= at_least)


def rises_everywhere(gains) -> bool:
    """Alpha rose with adversarial training for every architecture: every gain above zero."""
    return bool(len(gains) > 0 and all(g > 0 for g in gains))


def judged_predictions(predictions, rho: dict, ids: dict = PREDICTION_IDS) -> list[tuple]:
    """The predictions that have a claim id, each on every data set of ``rho``: one
    ``(name, dataset, who, sign, (rho, count))`` per claim, in the order of ``predictions``
    (``(key, who, sign)``) and, within one, of the data sets in ``rho``
    (``{(dataset, key): (rho, count)}``); ``ids``: ``{key: name}``."""
    datasets = list(dict.fromkeys(dataset for dataset, _ in rho))
    return [
        (ids[key], dataset, who, sign, rho[dataset, key])
        for key, who, sign in predictions
        if key in ids
        for dataset in datasets
    ]
