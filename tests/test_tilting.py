import os

import numpy as np
import pytest

from companion import data
from companion.papers.boundary_tilting import experiments, losses, theory


def test_toy_mirror_distance_is_the_closed_form():
    thetas = np.linspace(-1.5, 1.5, 31)
    computed, closed = experiments.toy_mirror_distances(thetas, x=(-1.5, 0.0))
    np.testing.assert_allclose(computed, closed, atol=1e-12)
    np.testing.assert_allclose(closed, 3.0 * np.cos(thetas))


def test_toy_training_set_is_separable_only_by_tilting():
    x, y = experiments.toy_training_set()
    assert y[-1] == 1 and x[-1, 1] != 0  # the noisy point is last, off the manifold
    w, b = experiments.toy_boundary(0.0)
    assert theory.error_rate(w, b, x, y) == pytest.approx(1 / len(y))  # only p is wrong


def test_lambda_grid():
    grid = experiments.lambda_grid(0.1)
    assert len(grid) == 81 and grid[0] == pytest.approx(0.1) and grid[-1] == pytest.approx(1e7)
    with pytest.raises(ValueError, match="step"):
        experiments.lambda_grid(0)


@pytest.mark.skipif(not os.environ.get(data.ENV_VAR), reason="needs COMPANION_DATA_DIR")
def test_svm_sweep_on_a_small_pair():
    mnist = data.load_mnist()
    sweep = experiments.svm_sweep(mnist, (0, 1), 100, experiments.lambda_grid(2.0))
    x, y, xt, yt = experiments.pair_data(mnist, (0, 1), 100)
    assert x.shape == (200, 784) and set(y) == {-1, 1} and len(xt) == 980 + 1135
    w, b = sweep["W"][0], sweep["B"][0]
    assert sweep["train_error"][0] == pytest.approx(theory.error_rate(w, b, x, y))
    assert sweep["d_adv"][-1] > sweep["d_adv"][0]  # more regularized, farther from the data
    with pytest.raises(ValueError, match="two different digits"):
        experiments.pair_data(mnist, (3, 3), 10)


@pytest.mark.skipif(not os.environ.get(data.ENV_VAR), reason="needs COMPANION_DATA_DIR")
def test_svm_sweeps_in_child_processes_equal_one_call_per_pair(tmp_path, monkeypatch):
    """Two pairs computed side by side in spawned processes give exactly what one call each, in
    this process and another cache, gives; a second call reads the cache and starts no child."""
    mnist, lams, pairs = data.load_mnist(), experiments.lambda_grid(2.0), [(0, 1), (4, 9)]
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path / "side_by_side"))
    monkeypatch.setenv("COMPANION_JOBS", "2")
    together = experiments.svm_sweeps(mnist, pairs, 60, lams)
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path / "one_by_one"))
    for pair in pairs:
        alone = experiments.svm_sweep(mnist, pair, 60, lams)
        assert together[pair].keys() == alone.keys()
        for key in alone:
            np.testing.assert_array_equal(together[pair][key], alone[key], err_msg=f"{pair} {key}")
    monkeypatch.setattr("concurrent.futures.ProcessPoolExecutor", None)  # a cache hit needs no pool
    again = experiments.svm_sweeps(mnist, pairs, 60, lams)
    np.testing.assert_array_equal(again[(4, 9)]["W"], together[(4, 9)]["W"])


# --- the chapter's computations, moved out of the notebook ---------------------------------------


def test_toy_fits_on_fixed_boundaries():
    x, y = experiments.toy_training_set()  # p = (-1, 0.3) last, 17 points
    tilted = lambda x, y, lam: (np.array([np.cos(np.radians(80)), np.sin(np.radians(80))]), 0.0)  # noqa: E731
    straight = lambda x, y, lam: (np.array([2.0, 0.0]), 0.5)  # noqa: E731
    fits = experiments.toy_fits(x, y, lams=(0.1, 1.0), classifiers={"tilted": tilted, "straight": straight})
    assert [(f["model"], f["lam"]) for f in fits] == [
        ("tilted", 0.1),
        ("straight", 0.1),
        ("tilted", 1.0),
        ("straight", 1.0),
    ]
    # the centroids: i = (-1.25, 0), j = ((10 - 1) / 9, 0.3 / 9) = (1, 1 / 30), with p in class J,
    # so j - i = (2.25, 1 / 30) makes an angle of atan(1 / 67.5) with the a axis
    offset = np.degrees(np.arctan(1 / 67.5))
    # 80°: w . p = -cos 80° + 0.3 sin 80° > 0, so p lies on J's side and every point is right
    assert fits[0]["angle"] == pytest.approx(80.0 - offset) and fits[0]["p_class"] == "J"
    assert fits[0]["train_error"] == 0
    # the boundary a = -1/4: p at a = -1 is on I's side, the only error of 17 points
    assert fits[1]["angle"] == pytest.approx(offset) and fits[1]["p_class"] == "I"
    assert fits[1]["train_error"] == pytest.approx(1 / 17)


def test_toy_fits_weak_regularization_tilts():
    x, y = experiments.toy_training_set()
    fits = experiments.toy_fits(x, y)
    weak = [f for f in fits if f["lam"] == experiments.TOY_LAMBDAS[0]]
    strong = [f for f in fits if f["lam"] == experiments.TOY_LAMBDAS[1]]
    assert [f["model"] for f in weak] == [f["model"] for f in strong] == list(experiments.TOY_MODELS)
    assert all(f["p_class"] == "J" and f["angle"] > 45 for f in weak)  # p fitted by tilting
    assert all(f["p_class"] == "I" and f["angle"] < 45 for f in strong)


def test_loss_limit_gaps_match_their_expansions():
    z = np.linspace(-3, 3, 601)  # holds z = 0 and |z| = 3
    gaps = losses.limit_gaps(z)
    assert list(gaps)[:4] == [
        ("hinge", "large", 1e2),
        ("hinge", "large", 1e4),
        ("hinge", "small", 1e-2),
        ("hinge", "small", 1e-4),
    ]
    for norm in (1e2, 1e4):
        # hinge: |max(1 - nz, 0) - n max(-z, 0)| is largest, 1, at z = 0; softplus: ln 2 at z = 0
        assert gaps["hinge", "large", norm] == pytest.approx(1 / norm)
        assert gaps["softplus", "large", norm] == pytest.approx(np.log(2) / norm)
    for norm in (1e-2, 1e-4):
        assert gaps["hinge", "small", norm] == 0  # n |z| < 1: the hinge is exactly 1 - n z
        # softplus(s) - (ln 2 - s / 2) = s^2 / 8 + O(s^4), largest at |z| = 3
        assert gaps["softplus", "small", norm] == pytest.approx(9 * norm / 8, rel=1e-3)
    assert losses.worst_limit_gap(gaps) == pytest.approx(9e-4 / 8, rel=1e-3)  # softplus at ||w|| = 1e-4
    assert losses.worst_limit_gap({("hinge", "large", 1e2): 5.0, ("hinge", "small", 1e-4): 0.1}) == 0.1


def test_centroid_identity_gap():
    angle = np.radians([0.0, 60.0, 90.0])
    sweep = {"d_adv": np.array([5.0, 2.5, 0.0]), "centroid_distance": np.array(10.0), "angle": angle}
    assert experiments.centroid_identity_gap(sweep) == pytest.approx(0, abs=1e-12)
    sweep["d_adv"] = sweep["d_adv"] + np.array([0.0, 0.25, 0.0])
    assert experiments.centroid_identity_gap(sweep) == pytest.approx(0.25)


def test_svm_summary():
    lams = 10.0 ** np.arange(-1, 8, 2)  # 5 values
    sweep = {
        "train_error": np.array([0.0, 0.01, 0.02, 0.04, 0.08]),  # rises with λ
        "test_error": np.array([0.06, 0.05, 0.04, 0.05, 0.08]),  # lowest at the middle
        "d_adv": np.array([400.0, 300.0, 200.0, 100.0, 0.0]),  # falls with λ
        "angle": np.radians([90.0, 60.0, 45.0, 30.0, 0.0]),
    }
    s = experiments.svm_summary(sweep, lams)
    np.testing.assert_allclose(s["train_error"], [0, 1, 2, 4, 8])
    np.testing.assert_allclose(s["test_error"], [6, 5, 4, 5, 8])
    assert s["best"] == 2 and s["rho_train"] == pytest.approx(1) and s["rho_dadv"] == pytest.approx(-1)
    np.testing.assert_allclose(s["angle"], [90, 60, 45, 30, 0])


def test_final_errors_in_percent():
    histories = {
        "LeNet-low": {"train_error": [0.5, 0.001], "test_error": [0.5, 0.016]},
        "LeNet-high": {"train_error": [0.5, 0.011], "test_error": [0.5, 0.012]},
    }
    errors = experiments.final_errors(histories)
    assert list(errors) == ["LeNet-low", "LeNet-high"]
    assert errors["LeNet-low"] == pytest.approx((0.1, 1.6)) and errors["LeNet-high"] == pytest.approx((1.1, 1.2))


def test_weight_rms_by_layer():
    from types import SimpleNamespace

    def layer(name, value):
        return SimpleNamespace(name=name, kernel=SimpleNamespace(numpy=lambda: np.full((2, 3), value)))

    low = SimpleNamespace(layers=[layer("conv1", -3.0), SimpleNamespace(name="pool"), layer("conv2", 0.5)])
    high = SimpleNamespace(layers=[layer("conv1", 2.0), layer("conv2", 0.25)])
    table = experiments.weight_rms_by_layer({"LeNet-low": low, "LeNet-high": high})
    assert table == {"conv1": {"LeNet-low": 3.0, "LeNet-high": 2.0}, "conv2": {"LeNet-low": 0.5, "LeNet-high": 0.25}}


def test_cyclic_attack_set():
    y = np.array([3, 1, 0, 2, 1, 0, 3, 2, 2])
    x = np.arange(len(y))[:, None] * np.ones((1, 4))  # image k is filled with k
    originals, targets = experiments.cyclic_attack_set(x, y, np.random.default_rng(0), classes=4)
    assert originals.shape == (4, 4) and list(targets) == [1, 2, 3, 0]
    assert list(y[originals[:, 0].astype(int)]) == [0, 1, 2, 3]  # one image of each class, in order
    again, _ = experiments.cyclic_attack_set(x, y, np.random.default_rng(0), classes=4)
    np.testing.assert_array_equal(originals, again)


# --- the chapter's results tables: the text the chapter printed, and the same cells -------------


def test_toy_fits_table():
    fits = [
        dict(model="SVM", lam=1e-4, angle=77.84, p_class="J", train_error=0.0),
        dict(model="logistic", lam=1.0, angle=0.62, p_class="I", train_error=1 / 17),
    ]
    table = experiments.toy_fits_table(fits)
    assert repr(table) == (
        "SVM      λ = 0.0001 tilting angle  77.8°, p classified as J, training error 0.000\n"
        "logistic λ = 1      tilting angle   0.6°, p classified as I, training error 0.059\n"
    )
    assert table.header == ("model", "λ", "tilting angle", "p classified as", "training error")
    assert table.rows == (("SVM", "0.0001", "77.8°", "J", "0.000"), ("logistic", "1", "0.6°", "I", "0.059"))
    assert ">77.8°</td>" in table._repr_html_()


def test_limit_gap_table():
    table = experiments.limit_gap_table({("hinge", "large", 100.0): 0.01, ("softplus", "small", 1e-4): 1.1e-4})
    assert repr(table) == (
        "hinge    ||w|| = 100     (large limit): max gap / ||w|| = 1.0e-02\n"
        "softplus ||w|| = 0.0001  (small limit): max gap / ||w|| = 1.1e-04\n"
    )
    assert table.header == ("loss", "||w||", "limit", "max gap / ||w||")
    assert table.rows == (("hinge", "100", "large", "1.0e-02"), ("softplus", "0.0001", "small", "1.1e-04"))


def test_svm_table():
    summaries = {
        (7, 9): dict(
            train_error=np.array([0.0, 2.5, 7.83]),
            test_error=np.array([5.94, 5.4, 8.25]),
            best=1,
            d_adv=np.array([144.2, 250.0, 386.6]),
            angle=np.array([68.3, 30.0, 0.2]),
        ),
        (0, 1): dict(
            train_error=np.array([0.0, 0.1, 0.5]),
            test_error=np.array([0.05, 0.05, 0.9]),
            best=0,
            d_adv=np.array([300.0, 350.0, 400.0]),
            angle=np.array([10.0, 5.0, 1.0]),
        ),
    }
    table = experiments.svm_table(summaries, 10.0 ** np.array([-1.0, 3.0, 7.0]), {(7, 9): True, (0, 1): False})
    assert repr(table) == (
        "7 vs 9: train error 0.00% at λ = 10^-1, 7.83% at 10^7 | test error 5.94% at 10^-1, min 5.40% at "
        "10^3.00, 8.25% at 10^7 (inside) | d_adv 144 -> 387 px | θ 68° -> 0°\n"
        "0 vs 1: train error 0.00% at λ = 10^-1, 0.50% at 10^7 | test error 0.05% at 10^-1, min 0.05% at "
        "10^-1.00, 0.90% at 10^7 (at an end) | d_adv 300 -> 400 px | θ 10° -> 1°\n"
    )
    assert table.header == (
        "pair",
        "train error, λ = 10^-1",
        "train error, λ = 10^7",
        "test error, λ = 10^-1",
        "lowest test error",
        "at λ",
        "test error, λ = 10^7",
        "minimum",
        "d_adv (px), λ = 10^-1",
        "d_adv (px), λ = 10^7",
        "θ, λ = 10^-1",
        "θ, λ = 10^7",
    )
    assert table.rows == (
        ("7 vs 9", "0.00%", "7.83%", "5.94%", "5.40%", "10^3.00", "8.25%", "inside", "144", "387", "68°", "0°"),
        ("0 vs 1", "0.00%", "0.50%", "0.05%", "0.05%", "10^-1.00", "0.90%", "at an end", "300", "400", "10°", "1°"),
    )


def test_lenet_table():
    histories = {
        "LeNet-low": {"train_error": [0.5, 0.001], "test_error": [0.5, 0.016]},
        "LeNet-high": {"train_error": [0.5, 0.011], "test_error": [0.5, 0.012]},
    }
    table = experiments.lenet_table(histories, 60000)
    assert repr(table) == (
        "LeNet-low  after 2 epochs on 60000 images: train error 0.10%, test error 1.60%, gap +1.50 points\n"
        "LeNet-high after 2 epochs on 60000 images: train error 1.10%, test error 1.20%, gap +0.10 points\n"
    )
    assert table.header == ("network", "epochs", "training images", "train error", "test error", "gap (points)")
    assert table.rows == (
        ("LeNet-low", "2", "60000", "0.10%", "1.60%", "+1.50"),
        ("LeNet-high", "2", "60000", "1.10%", "1.20%", "+0.10"),
    )


def test_weight_rms_table():
    rms = {"conv1": {"LeNet-low": 3.0, "LeNet-high": 2.0}, "conv2": {"LeNet-low": 0.5, "LeNet-high": 0.25}}
    table = experiments.weight_rms_table(rms)
    assert (
        repr(table)
        == "RMS of conv1: LeNet-low 3.000, LeNet-high 2.000\nRMS of conv2: LeNet-low 0.500, LeNet-high 0.250\n"
    )
    assert table.header == ("layer", "RMS, LeNet-low", "RMS, LeNet-high")
    assert table.rows == (("conv1", "3.000", "2.000"), ("conv2", "0.500", "0.250"))


def test_targeted_attack_table():
    attacked = {
        "LeNet-low": dict(temperature=0.0123, reached=3, norms=np.array([12.0, 26.0, 4.0])),
        "LeNet-high": dict(temperature=0.0234, reached=2, norms=np.array([18.0, 41.0, 9.0])),
    }
    table = experiments.targeted_attack_table(attacked, 68 / 42)
    assert repr(table) == (
        "LeNet-low  temperature 0.01; reached p_l = 0.95 on 3 of 3; "
        "L2 norms of the perturbations (pixels): [10 30  0]\n"
        "LeNet-high temperature 0.02; reached p_l = 0.95 on 2 of 3; "
        "L2 norms of the perturbations (pixels): [20 40 10]\n"
        "mean norm: LeNet-low 14, LeNet-high 23, ratio 1.62\n"
    )
    assert table.note == "mean norm: LeNet-low 14, LeNet-high 23, ratio 1.62" and not table.title
    assert table.header == ("network", "temperature", "reached p_l = 0.95", "L2 norms (pixels)")
    assert table.rows == (("LeNet-low", "0.01", "3 of 3", "[10 30  0]"), ("LeNet-high", "0.02", "2 of 3", "[20 40 10]"))
