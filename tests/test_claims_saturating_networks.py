"""The saturating-networks chapter's verdict rules and the small helpers that feed them, on hand-made
inputs whose answers are counted or computed by hand (the rules, not the networks)."""

import numpy as np
import pytest

from companion.attacks import Adversarial
from companion.papers.saturating_networks import claims, experiments, figures


@pytest.mark.parametrize(
    "pairs, passed",
    [
        ([([5.0, 6.0, 7.0], [1.0, 2.0, 3.0]), ([0.5, 9.0], [0.1, 8.0])], True),  # every layer of both higher
        ([([5.0, 6.0, 7.0], [1.0, 2.0, 3.0]), ([0.5, 9.0], [0.1, 9.5])], False),  # the second's layer 2 lower
        ([([5.0, 1.0, 7.0], [1.0, 2.0, 3.0]), ([0.5, 9.0], [0.1, 8.0])], False),  # the first's layer 2 lower
        ([([2.0, 3.0], [2.0, 1.0])], False),  # a tie is not higher
        ([([2.1, 3.0], [2.0, 1.0])], True),  # one network (the RDM claim pools its layers)
    ],
)
def test_higher_in_every_network(pairs, passed):
    assert claims.higher_in_every_network(pairs) is passed


def test_higher_in_every_network_rejects_mismatched_layers():
    with pytest.raises(ValueError, match="as many"):
        claims.higher_in_every_network([([1.0, 2.0], [0.0, 1.0]), ([3.0], [1.0, 2.0])])


@pytest.mark.parametrize(
    "pairs, expected",
    [
        ([([5.0, 6.0, 7.0], [1.0, 2.0, 3.0]), ([0.5, 9.0], [0.1, 8.0])], (5, 5)),
        ([([5.0, 1.0, 7.0], [1.0, 2.0, 3.0]), ([0.5, 9.0], [0.1, 9.5])], (3, 5)),  # layer 2, then 2 of net 2
        ([([2.0, 3.0], [2.0, 4.0])], (0, 2)),  # a tie and a lower layer
    ],
)
def test_layers_higher_counts_by_hand(pairs, expected):
    count, total = claims.layers_higher(pairs)
    assert (count, total) == expected
    assert claims.higher_in_every_network(pairs) is (count == total)  # the count agrees with the verdict


def _run(success, steps):
    success = np.array(success, bool)
    return Adversarial(np.zeros((len(success), 28, 28, 1), np.float32), success=success, steps=np.array(steps))


def test_attack_summary_reads_the_right_runs():
    pairs = [(0, 1), (0, 2), (1, 0), (1, 2)]
    runs = {
        ("vanilla", "least"): {
            "pairs": pairs,
            "adam": _run([1, 1, 1, 1], [3, 5, 2, 4]),
            "lbfgs": _run([1, 1, 1, 0], [1, 2, 1, 9]),
        },
        ("vanilla", "most"): {
            "pairs": pairs,
            "adam": _run([1, 1, 0, 1], [6, 7, 300, 1]),
            "lbfgs": _run([1, 1, 1, 1], [2, 2, 1, 1]),
        },
        ("saturated", "least"): {
            "pairs": pairs,
            "adam": _run([0, 0, 0, 0], [9] * 4),
            "lbfgs": _run([1, 0, 0, 0], [5] * 4),
        },
        ("saturated", "most"): {
            "pairs": pairs,
            "adam": _run([0, 0, 0, 0], [9] * 4),
            "lbfgs": _run([0, 1, 1, 0], [5] * 4),
        },
    }
    worst, least, most, pooled = experiments.attack_summary(runs)
    assert worst == 0.75  # vanilla L-BFGS: 3 of 4 from the least confident start, 4 of 4 from the most
    assert least == 0.25  # saturated L-BFGS from the least confident start: 1 of 4
    np.testing.assert_array_equal(most, [False, True, True, False])
    ok, steps = pooled["Adam"]  # vanilla Adam, least then most confident start
    np.testing.assert_array_equal(ok, [True] * 6 + [False, True])
    np.testing.assert_array_equal(steps, [3, 5, 2, 4, 6, 7, 300, 1])
    ok, steps = pooled["L-BFGS"]
    assert ok.sum() == 7 and steps.tolist() == [1, 2, 1, 9, 2, 2, 1, 1]
    # the rules on these numbers: L-BFGS missed a pair of the vanilla network; most saturated pairs held
    assert claims.always_fooled([worst]) is False and claims.mostly_unfooled(least) is True
    assert claims.fooled_within(*pooled["Adam"], 10) is False  # one pair never fooled


def test_pearson_gain_is_the_best_ratio_over_the_gaussian_in_percent():
    gain = {"gammas": np.array([1.0, 10.0]), "ratios": np.array([1.2, 1.4]), "gaussian": 1.0}
    assert experiments.pearson_gain(gain) == pytest.approx(40.0)
    assert experiments.pearson_gain({**gain, "gaussian": 2.0}) == pytest.approx(-30.0)  # 1.4 / 2 - 1


def test_pair_grid_places_each_pair_and_crosses_the_failures():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = [(0, 1), (2, 0), (3, 4)]
    x = np.stack([np.full((28, 28, 1), v, np.float32) for v in (0.25, 0.5, 0.75)])
    fig = figures.pair_grid(pairs, x, np.array([True, False, True]), "title")
    axes = np.array(fig.axes).reshape(10, 10)
    assert axes[0, 1].images[0].get_array().mean() == pytest.approx(0.25)
    assert axes[2, 0].images[0].get_array().mean() == pytest.approx(0.5)
    assert axes[3, 4].images[0].get_array().mean() == pytest.approx(0.75)
    assert axes[5, 6].images[0].get_array().max() == 0.0  # not attacked: black
    crossed = {(s, t) for s in range(10) for t in range(10) if axes[s, t].lines}
    assert crossed == {(2, 0)}
    plt.close(fig)


def test_training_curves_one_panel_per_architecture_one_line_per_mode():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    histories = {
        (arch, mode): {"test_accuracy": [0.5 + 0.1 * k, 0.9]}
        for arch in ("a", "b")
        for k, mode in enumerate(("vanilla", "saturated"))
    }
    fig = figures.training_curves(histories)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    np.testing.assert_allclose(fig.axes[1].lines[1].get_ydata(), [60.0, 90.0])  # b, saturated, in percent
    assert [line.get_label() for line in fig.axes[0].lines] == ["vanilla", "saturated"]
    plt.close(fig)
