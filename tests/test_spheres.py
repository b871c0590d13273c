from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from companion.papers.adversarial_spheres import experiments, networks, theory


def test_samples_lie_on_the_sphere_and_are_uniform():
    rng = np.random.default_rng(0)
    x = theory.sample(20000, 5, 1.3, rng)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.3)
    # a coordinate of a uniform point on S^{d-1}: x_1^2 / r^2 ~ Beta(1/2, (d-1)/2)
    assert stats.kstest((x[:, 0] / 1.3) ** 2, stats.beta(0.5, 2.0).cdf).pvalue > 0.01
    xs, ys = theory.labelled_sample(1000, 7, rng)
    np.testing.assert_allclose(np.linalg.norm(xs, axis=1), np.where(ys == 1, 1.3, 1.0), rtol=1e-6)


def test_sample_batches_draw_what_sample_draws_batch_after_batch():
    """Drawn one batch ahead in a helper thread, yet the same numbers, and the generator left in
    the same state."""
    rng, again = np.random.default_rng(3), np.random.default_rng(3)
    batches = list(theory.sample_batches(2500, 20, 1.3, rng, 1000))
    assert [len(b) for b in batches] == [1000, 1000, 500] and batches[0].dtype == np.float32
    for got in batches:
        np.testing.assert_array_equal(got, theory.sample(len(got), 20, 1.3, again).astype(np.float32))
    assert rng.random() == again.random()
    assert list(theory.sample_batches(0, 20, 1.3, rng, 1000)) == []


def test_sample_scales_normal_draws_as_the_formula_does_bit_for_bit():
    """The sampler works in place (for speed) but must round as ``radius * z / ||z||`` does, so
    that the chapter's points, and every number drawn from them, stay the same."""
    z = np.random.default_rng(5).standard_normal((300, 50))
    want = 1.3 * z / np.linalg.norm(z, axis=1, keepdims=True)
    np.testing.assert_array_equal(theory.sample(300, 50, 1.3, np.random.default_rng(5)), want)


def test_clt_error_rate_matches_monte_carlo_where_measurable():
    rng = np.random.default_rng(1)
    d = 500
    alphas = rng.normal(0.99, 0.2, size=d)  # mean inside [1/R^2, 1], many alphas outside
    predicted = theory.clt_error_rate(alphas)
    measured = theory.monte_carlo_error_rate(alphas, 200000, rng)
    assert 1e-3 < measured < 0.5  # about a thousand errors: a 3% statistical error
    assert predicted == pytest.approx(measured, rel=0.15)
    assert theory.clt_error_rate(np.full(d, 0.9)) < 1e-40  # perfect alphas: a vanishing estimate


def test_cap_threshold_gives_the_measure():
    rng = np.random.default_rng(2)
    t = theory.cap_threshold(0.1, 10)
    x = theory.sample(200000, 10, 1.0, rng)
    assert np.mean(x[:, 0] >= t) == pytest.approx(0.1, abs=0.003)


def test_cap_distance_against_brute_force_nearest_points_in_3d():
    rng = np.random.default_rng(3)
    t = theory.cap_threshold(0.2, 3)
    cap = theory.sample(200000, 3, 1.0, rng)
    cap = cap[cap[:, 0] >= t]  # about 40,000 points of the cap
    points = theory.sample(3000, 3, 1.0, rng)  # standard error of the mean about 0.01
    nearest = np.array([np.sqrt(np.min(2 - 2 * cap @ p)) for p in points])
    assert theory.cap_distance(0.2, 3) == pytest.approx(nearest.mean(), abs=0.03)


def test_cap_distance_approaches_the_gaussian_estimate_in_high_dimension():
    """For large d, x_1 ~ N(0, 1/d) and the distance to the cap is about max(t - x_1, 0)."""
    d, p = 2000, 1e-3
    t = stats.norm.isf(p) / np.sqrt(d)
    gaussian = stats.norm.expect(lambda u: max(t - u, 0.0), scale=1 / np.sqrt(d))
    assert theory.cap_distance(p, d) == pytest.approx(gaussian, rel=0.05)


def test_fraction_needed_falls_with_dimension():
    fractions = [theory.fraction_needed(1e-14, d) for d in (500, 1000, 3000, 5000)]
    assert fractions == sorted(fractions, reverse=True) and fractions[-1] < fractions[0]
    with pytest.raises(ValueError):
        theory.sample(3, 0, 1.0, np.random.default_rng(0))


def _quadratic(alphas, w=1.0, b=-1.0):
    """A quadratic network whose boundary is sum alpha_i x_i^2 = 1 in the standard basis."""
    from companion import reproducibility

    reproducibility.import_tensorflow()
    d = len(alphas)
    model = networks.quadratic_net(d, hidden=d)
    model.get_layer("W").set_weights([np.diag(np.sqrt(np.asarray(alphas) * -b / w)).astype("float32")])
    model.get_layer("readout").set_weights([np.array([[w]], "float32"), np.array([b], "float32")])
    return model


def test_quadratic_alphas_describe_the_decision_boundary():
    rng = np.random.default_rng(4)
    alphas = rng.uniform(0.5, 1.2, size=6)
    model = _quadratic(alphas, w=2.0, b=-3.0)
    np.testing.assert_allclose(networks.quadratic_alphas(model), np.sort(alphas), rtol=1e-5)
    x = rng.normal(size=(500, 6)).astype("float32")
    np.testing.assert_array_equal(np.asarray(model(x)).ravel() > 0, (x**2) @ alphas > 1)
    assert theory.perfect_alphas([0.6, 0.7, 1.0, 1.1]).tolist() == [True, True, True, False]


def test_manifold_attack_stays_on_the_sphere_and_finds_the_bad_direction():
    alphas = np.full(20, 0.8)
    alphas[0] = 1.5  # the inner sphere is misclassified near +-e_1
    model = _quadratic(alphas)
    rng = np.random.default_rng(5)
    x = theory.sample(50, 20, 1.0, rng).astype("float32")
    x_adv, fooled = experiments.manifold_attack(model, x, steps=300, step_size=0.02)
    np.testing.assert_allclose(np.linalg.norm(x_adv, axis=1), 1.0, rtol=1e-5)
    assert fooled.all()
    np.testing.assert_array_equal(fooled, (x_adv**2) @ alphas > 1)  # checked without TensorFlow
    perfect = _quadratic(np.full(20, 0.8))
    _, never = experiments.manifold_attack(perfect, x, steps=100, step_size=0.02, stop_at_first_error=False)
    assert not never.any()


def test_error_rates_bound():
    model = _quadratic(np.full(10, 0.8))
    rates = networks.error_rates(model, 10, 3000, np.random.default_rng(6))
    assert rates["inner"]["errors"] == rates["outer"]["errors"] == 0
    assert rates["inner"]["upper_95"] == pytest.approx(1e-3)
    inner = networks.error_rates(model, 10, 3000, np.random.default_rng(6), which=("inner",))
    assert list(inner) == ["inner"] and inner["inner"] == rates["inner"]  # the same draws, first
    with pytest.raises(ValueError, match="spheres"):
        networks.error_rates(model, 10, 30, np.random.default_rng(6), which=("middle",))


def _attacked_while_training(d, rng, names, sizes, steps, log_every, lr, seed):
    """Figure 5's snapshots as the chapter computed them before they were cached: each
    :func:`experiments.tradeoff_point` made inside the training loop."""
    import keras

    every = []
    for name in names:
        for n in sizes:
            keras.utils.set_random_seed(seed)
            net = networks.network(name, d)
            attack = lambda t, m: experiments.tradeoff_point(m, d, 500, 5, 50, 0.05, rng)  # noqa: E731
            logs = networks.train(net, d, steps, learning_rate=lr, train_size=n or None, seed=seed, log_every=log_every,
                                  on_log=attack)  # fmt: skip
            every += [(name, n, *point) for point in logs]
    return every


def test_cached_snapshots_are_attacked_as_inside_the_training_loop(tmp_path, monkeypatch):
    """Training first (cached weights every log_every steps, the trainings in child processes when
    there are jobs) and attacking after gives the points the training loop gave, draw for draw."""
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path))
    names, sizes, d = ("quad_h10", "relu_h8_d2"), (20, 0), 6
    expected = _attacked_while_training(d, np.random.default_rng(3), names, sizes, 40, 20, 1e-2, 1)
    assert len(expected) == 8
    kept = [(f"{name}, " + experiments.training_set_label(n), *p) for name, n, *p in expected if p[2] == 1.0]
    assert len(kept) >= 2, expected  # snapshots with a small error set, each attacked
    for jobs in ("1", "2"):
        monkeypatch.setenv("COMPANION_JOBS", jobs)
        monkeypatch.setenv("COMPANION_CACHE", str(tmp_path / jobs))
        points = experiments.tradeoff_snapshots(d, np.random.default_rng(3), names=names, sizes=sizes, steps=40,
                                                log_every=20, n_eval=500, n_points=5, attack_steps=50, step_size=0.05,
                                                quad_learning_rate=1e-2, relu_learning_rate=1e-2, seed=1)  # fmt: skip
        assert [p[0] for p in points] == [p[0] for p in kept], jobs
        np.testing.assert_allclose([p[1:] for p in points], [p[1:] for p in kept], rtol=1e-5, err_msg=jobs)


def test_tradeoff_point_attacks_only_small_error_sets():
    """A snapshot outside 0 < rate < 1/2 is not attacked (NaN distance) and uses the same random
    numbers as one that is: the next draw from the generator is the same either way."""
    alphas = np.full(20, 0.8)
    alphas[0] = 1.5  # a cap of the inner sphere (near +-e_1) is misclassified: rate in (0, 1/2)
    some_errors, no_errors = _quadratic(alphas), _quadratic(np.full(20, 0.8))
    after = {}
    for name, model in (("some", some_errors), ("none", no_errors)):
        rng = np.random.default_rng(7)
        rate, dist, found = experiments.tradeoff_point(model, 20, 2000, 10, 300, 0.02, rng)
        after[name] = rng.standard_normal()
        if name == "some":
            assert 0 < rate < 0.5 and found == 1.0 and 0 < dist < 2
        else:
            assert rate == 0 and np.isnan(dist) and np.isnan(found)
    assert after["some"] == after["none"]


def test_network_names_round_trip():
    import pytest

    for name in ("quad_h7", "relu_h8_d3"):
        assert networks.network(name, 5).name == name
    assert len([layer for layer in networks.network("relu_h8_d3", 5).layers if layer.name.startswith("h")]) == 3
    with pytest.raises(ValueError, match="relu_h"):
        networks.network("relu8", 5)


def test_training_in_chunks_takes_the_same_steps():
    """Several steps per compiled call are the same steps in the same order: one step per call
    (a second route through the same loop) reaches the same weights, and the log lands on the
    same steps."""
    import keras

    def run(per_call, **kwargs):
        keras.utils.set_random_seed(0)
        net = networks.network("relu_h32_d2", 10)
        logs = networks.train(net, 10, 12, 8, steps_per_call=per_call, log_every=5, on_log=lambda t, m: t, **kwargs)
        return net.get_weights(), logs

    for kwargs in ({}, {"train_size": 40}):
        (one, logs_one), (chunked, logs_chunked) = run(1, **kwargs), run(7, **kwargs)
        assert logs_one == logs_chunked == [5, 10]
        for a, b in zip(one, chunked):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="steps_per_call"):
        networks.train(networks.network("quad_h4", 3), 3, 1, steps_per_call=0)


# --- the chapter's cells as functions ------------------------------------------------------------


def test_wrong_alphas_and_the_ks_check_of_the_sampler():
    assert theory.wrong_alphas([0.5, 0.6, 1.0, 1.1]) == 2  # 1/1.3^2 = 0.59: 0.5 and 1.1 lie outside
    assert theory.wrong_alphas([0.5, 0.6], r_outer=2.0) == 0
    rng = np.random.default_rng(8)
    assert theory.first_coordinate_ks_pvalue(theory.sample(5000, 20, 1.0, rng)) > 0.01
    cube = rng.uniform(-1, 1, (5000, 3))  # cube points pushed onto the sphere: not uniform on it
    assert theory.first_coordinate_ks_pvalue(cube / np.linalg.norm(cube, axis=1, keepdims=True)) < 1e-6


def test_mean_where():
    values, mask = np.array([1.0, 2.0, 4.0]), np.array([True, False, True])
    assert experiments.mean_where(values, mask) == 2.5
    assert np.isnan(experiments.mean_where(values, mask, every=True))  # one point left out
    assert experiments.mean_where(values, np.ones(3, bool), every=True) == pytest.approx(7 / 3)
    assert np.isnan(experiments.mean_where(values, np.zeros(3, bool)))


def test_nearest_errors_off_the_manifold_reach_the_quadratic_boundary():
    """With every alpha 0.8 the boundary is the sphere of radius 1/sqrt(0.8) = 1.118, and the
    gradient points straight out: the nearest point classified as outer lies one step past it."""
    model = _quadratic(np.full(12, 0.8))
    x0 = theory.sample(10, 12, 1.0, np.random.default_rng(9)).astype("float32")
    errors = experiments.nearest_errors(model, x0, steps=100, step_size=0.01)
    assert not errors.fooled.any() and not errors.fooled_worst.any()  # no error on the manifold
    assert errors.found_off.all()
    assert np.all((errors.norm_off > 1 / np.sqrt(0.8)) & (errors.norm_off < 1 / np.sqrt(0.8) + 0.011))
    np.testing.assert_allclose(errors.dist_off, errors.norm_off - 1, atol=1e-5)  # a radial walk
    np.testing.assert_allclose(np.linalg.norm(errors.x_worst, axis=1), 1.0, rtol=1e-5)
    lines = errors.report().splitlines()
    assert lines[0] == "nearest error on the inner sphere: found for 0 of 10 points, mean distance nan"
    assert lines[1] == "worst-case attack: 0 of 10 points end misclassified"
    assert lines[2].startswith("nearest point classified as outer: found for 10, mean distance 0.1")
    assert lines[2].endswith(f"mean norm {errors.norm_off.mean():.3f}")


def test_slice_planes_are_orthonormal_and_draw_three_vectors():
    rng = np.random.default_rng(10)
    x0 = theory.sample(5, 6, 1.0, rng)
    x_worst = x0.copy()
    x_worst[3] += 0.5 * np.eye(6)[0]  # moved farthest
    x_worst[1] += 0.2 * np.eye(6)[1]  # second farthest
    rng, twin = np.random.default_rng(11), np.random.default_rng(11)
    planes = experiments.slice_planes(x0, x_worst, rng)
    assert [title for title, _, _ in planes] == [
        "two random directions",
        "random and adversarial",
        "two adversarial directions",
    ]
    for _, u, v in planes:
        np.testing.assert_allclose([u @ u, v @ v, u @ v], [1, 1, 0], atol=1e-12)
    first = twin.standard_normal(6)
    np.testing.assert_allclose(planes[0][1], first / np.linalg.norm(first))
    twin.standard_normal((2, 6))
    assert rng.standard_normal() == twin.standard_normal()  # three (d,) draws, no more
    np.testing.assert_allclose(planes[1][1], x_worst[3] / np.linalg.norm(x_worst[3]))
    _, u, v = planes[2]  # spans the two points that moved farthest
    for p in (x_worst[3], x_worst[1]):
        np.testing.assert_allclose((p @ u) * u + (p @ v) * v, p, atol=1e-12)


def test_largest_clean_dim():
    sweep = {5: np.array([False, False]), 20: np.array([False, True]), 30: np.array([False, False])}
    assert experiments.largest_clean_dim(sweep) == 30
    assert experiments.largest_clean_dim({5: np.array([True]), 20: np.array([False, True])}) == 0


def test_alphas_table_counts_and_ranges():
    """1/R^2 = 0.592: the online alphas all lie inside, two of the others do not. The CLT rates:
    mu = -0.8, sigma = sqrt(0.52), 1 - Phi(1.109) = 0.134; mu = -0.3, sigma = sqrt(0.58),
    1 - Phi(0.394) = 0.347."""
    table = experiments.alphas_table({"online": np.array([0.6, 0.7, 0.9]), "N = 10": np.array([0.5, 1.2, 1.0])})
    assert repr(table) == (
        "online      : 0 of 3 alphas outside [1/R^2, 1]; alpha range 0.600-0.900; CLT error rate 1.3e-01\n"
        "N = 10      : 2 of 3 alphas outside [1/R^2, 1]; alpha range 0.500-1.200; CLT error rate 3.5e-01\n"
    )
    assert table.header == ("training", "alphas outside [1/R^2, 1]", "alpha range", "CLT error rate")
    assert table.rows == (
        ("online", "0 of 3", "0.600-0.900", "1.3e-01"),
        ("N = 10", "2 of 3", "0.500-1.200", "3.5e-01"),
    )
    assert "<table" in table._repr_html_() and "<td>0.500-1.200</td>" in table._repr_html_()


def test_error_rates_table():
    rates = {
        "inner": {"errors": 0, "rate": 0.0, "upper_95": 1.5e-4},
        "outer": {"errors": 3, "rate": 1.5e-4, "upper_95": 3.9e-4},
    }
    table = experiments.error_rates_table(rates, 20000)
    assert repr(table) == (
        "inner sphere: 0 errors in 20000 samples, error rate below 1.5e-04 (95%)\n"
        "outer sphere: 3 errors in 20000 samples, error rate below 3.9e-04 (95%)\n"
    )
    assert table.header == ("sphere", "errors", "samples", "error rate below (95%)")
    assert table.rows == (("inner", "0", "20000", "1.5e-04"), ("outer", "3", "20000", "3.9e-04"))


def test_dimension_sweep_table():
    sweep = {5: np.array([True, False, True]), 20: np.zeros(3, bool), 1000: np.ones(3, bool)}
    table = experiments.dimension_sweep_table(sweep)
    assert repr(table) == (
        "d =    5: adversarial errors found from 2 of 3 points\n"
        "d =   20: adversarial errors found from 0 of 3 points\n"
        "d = 1000: adversarial errors found from 3 of 3 points\n"
    )
    assert table.header == ("d", "adversarial errors found from (points)")
    assert table.rows == (("5", "2 of 3"), ("20", "0 of 3"), ("1000", "3 of 3"))


def test_clt_table():
    table = experiments.clt_table([(0.1, 0.41904, 0.42101), (0.15, 0.5, 0.52)], 20000)
    assert repr(table) == (
        "alphas ~ N(1, 0.1^2): CLT 0.4190, Monte Carlo 0.4210 (20000 samples)\n"
        "alphas ~ N(1, 0.15^2): CLT 0.5000, Monte Carlo 0.5200 (20000 samples)\n"
    )
    assert table.header == ("alphas", "CLT", "Monte Carlo", "samples")
    assert table.rows == (("N(1, 0.1^2)", "0.4190", "0.4210", "20000"), ("N(1, 0.15^2)", "0.5000", "0.5200", "20000"))


def test_fraction_table():
    table = experiments.fraction_table({1e-4: [0.812, 0.458], 1e-14: [0.95, 0.7777]}, (100, 500))
    assert repr(table) == (
        "error rate 1e-04: k/d = 0.81, 0.46 for d = [100, 500]\nerror rate 1e-14: k/d = 0.95, 0.78 for d = [100, 500]\n"
    )
    assert table.header == ("error rate", "k/d at d = 100", "k/d at d = 500")
    assert table.rows == (("1e-04", "0.81", "0.46"), ("1e-14", "0.95", "0.78"))


def test_clt_against_monte_carlo_draws_as_the_loop_did():
    rows = experiments.clt_against_monte_carlo(30, (0.1, 0.3), n=2000, rng=np.random.default_rng(12))
    rng = np.random.default_rng(12)
    for spread, predicted, measured in rows:
        a = rng.normal(1.0, spread, size=30)
        assert predicted == theory.clt_error_rate(a)
        assert measured == theory.monte_carlo_error_rate(a, 2000, rng)
    assert [r[0] for r in rows] == [0.1, 0.3]


def test_perfect_start_logs_the_paper_losses():
    """The perfect initialization has sigmoid outputs 0.0016 (inner) and 0.9994 (outer): an
    average loss of (-log(1 - 0.0016) - log(0.9994)) / 2 = 0.0011, barely moved by a few steps.
    It is logged at the start, then every 6 // 2 = 3 steps capped at ``finest`` = 2."""
    log = experiments.train_from_perfect_start(
        5,
        np.random.default_rng(13),
        steps=6,
        seed=0,
        hidden=8,
        logs=2,
        finest=2,
        loss_points=2000,
        attack_points=4,
        attack_steps=5,
    )
    assert log.every == 2 and log.steps.tolist() == [0, 2, 4, 6]
    expected = (-np.log(1 - 0.0016) - np.log(0.9994)) / 2
    np.testing.assert_allclose(log.avg_loss, expected, rtol=0.2)
    assert log.worst_loss.shape == log.error_share.shape == (4,)


def test_cap_ratios_and_table_select_by_network():
    points = [("quad_h10, online", 0.01, 0.2, 1.0), ("quad_h1, N = 5", 0.1, 0.05, 1.0)]
    ratios = experiments.cap_ratios(points, 50)
    assert ratios == [0.2 / theory.cap_distance(0.01, 50), 0.05 / theory.cap_distance(0.1, 50)]
    assert experiments.cap_ratios(points, 50, "quad_h1") == ratios[1:]  # not quad_h10
    assert experiments.training_set_label(0) == "online" and experiments.training_set_label(5) == "N = 5"
    table = experiments.tradeoff_table(points, 50, ("quad_h1", "relu_h8_d2"))
    assert repr(table).splitlines()[0] == (
        f"2 snapshots with a measurable error rate; distance / optimum: median {np.median(ratios):.2f}, "
        f"range {min(ratios):.2f}-{max(ratios):.2f}"
    )
    assert repr(table).splitlines()[1:] == [
        f"  quad_h1: 1 snapshots, median ratio {ratios[1]:.2f}",
        "  relu_h8_d2: 0 snapshots",
    ]
    assert repr(experiments.tradeoff_table([], 50, ("quad_h1",))) == (
        "0 snapshots with a measurable error rate; distance / optimum: none\n  quad_h1: 0 snapshots\n"
    )


def test_tradeoff_table():
    """Distances at 0.5, 1 and 1.5 times the optimal cap's: those are the ratios."""
    cap = theory.cap_distance(0.01, 50)
    points = [
        ("quad_h1, online", 0.01, 0.5 * cap, 1.0),
        ("quad_h1, N = 5", 0.01, cap, 1.0),
        ("relu_h8_d2, online", 0.01, 1.5 * cap, 1.0),
    ]
    table = experiments.tradeoff_table(points, 50, ("quad_h1", "relu_h8_d2", "quad_h10"))
    assert repr(table) == (
        "3 snapshots with a measurable error rate; distance / optimum: median 1.00, range 0.50-1.50\n"
        "  quad_h1: 2 snapshots, median ratio 0.75\n"
        "  relu_h8_d2: 1 snapshots, median ratio 1.50\n"
        "  quad_h10: 0 snapshots\n"
    )
    assert table.title == "3 snapshots with a measurable error rate; distance / optimum: median 1.00, range 0.50-1.50"
    assert table.header == ("network", "snapshots", "median distance / optimum")
    assert table.rows == (("quad_h1", "2", "0.75"), ("relu_h8_d2", "1", "1.50"), ("quad_h10", "0", ""))
    page = table._repr_html_()
    assert "<table" in page and page.index("3 snapshots") < page.index("<table")


def test_figures_return_their_figures():
    import matplotlib

    matplotlib.use("Agg")
    from companion.papers.adversarial_spheres import figures

    fig = figures.alphas_and_perfect_start(
        np.linspace(0.5, 1.1, 20),
        train_size=100,
        steps=np.array([10, 20]),
        avg_loss=np.array([1e-3, 9e-4]),
        worst_loss=np.array([1e-3, 0.2]),
        error_share=np.array([0.0, 0.5]),
    )
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "alphas after training on N = 100"
    points = [("quad_h10, online", 0.01, 0.2, 1.0), ("relu_h8_d2, N = 5", 0.1, 0.05, 1.0)]
    fig = figures.tradeoff(points, 50, networks=("quad_h10", "relu_h8_d2"), sizes=(5, 0))
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels == ["optimal (cap)", "quad_h10, online", "relu_h8_d2, N = 5"]


def test_chapter_networks_are_the_ones_the_chapter_trains(monkeypatch):
    """The list filled side by side is the chapter's: every ``networks.trained`` call (the
    notebook's own, read from its source, and those of :func:`experiments.dimension_sweep` and
    :func:`experiments.trained_quadratic_alphas`) under the ci and quick settings, and no other."""
    import inspect
    import re

    from companion import profiles

    signature = inspect.signature(networks.trained)
    normal = lambda *a, **k: tuple(signature.bind(*a, **k).args)  # noqa: E731
    source = (Path(__file__).parent.parent / "book" / "notebooks" / "adversarial_spheres.md").read_text()
    direct = re.findall(r"networks\.trained\((.*)\)\n", source)
    assert len(direct) == 2, direct
    for profile in ("ci", "quick"):
        settings = profiles.settings("adversarial_spheres", profile)
        calls = []

        def recording(*args, calls=calls, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            calls.append(tuple(bound.arguments.values()))
            kind, dim = bound.arguments["kind"], bound.arguments["d"]
            small = networks.relu_net(dim, 4, 1) if kind == "relu" else networks.quadratic_net(dim, 4)
            return small, {}

        monkeypatch.setattr(networks, "trained", recording)
        for call in direct:
            eval(f"networks.trained({call})", {"networks": networks, "settings": settings, "d": settings.d})
        experiments.dimension_sweep(settings.sweep_dims, np.random.default_rng(0), train_steps=settings.sweep_steps,
                                    points=2, attack_steps=1, step_size=0.01, seed=settings.seed)  # fmt: skip
        with np.errstate(divide="ignore", invalid="ignore"):  # the stand-in's readout bias is 0
            experiments.trained_quadratic_alphas(settings.d, steps=settings.quad_steps, seed=settings.seed,
                                                 train_size=settings.fixed_train_size,
                                                 learning_rate=settings.quad_learning_rate)  # fmt: skip
        monkeypatch.undo()
        listed = [normal(*args) for args in experiments.chapter_networks(settings).values()]
        assert sorted(calls, key=str) == sorted(listed, key=str), profile


def test_is_trained_answers_for_the_same_call_however_it_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path))
    assert not networks.is_trained("relu", 3, 2, 0, 5, 4, 1)
    networks.trained("relu", 3, 2, seed=5, width=4, depth=1)
    assert networks.is_trained("relu", 3, 2, 0, 5, 4, 1, 1e-4)
    assert networks.is_trained("relu", d=3, steps=2, seed=5, width=4, depth=1)
    assert not networks.is_trained("relu", 3, 2, seed=6, width=4, depth=1)


def test_a_cached_quadratic_network_loads_back_without_training(tmp_path, monkeypatch):
    """The quadratic network's sum of squares is a registered layer, not a Lambda (which Keras
    refuses to load safely): the second call reads the cache and trains nothing."""
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path))
    first, _ = networks.trained("quadratic", 5, 3, seed=2, width=4)
    # (train itself is in the cache key: patch the first thing it calls instead)
    monkeypatch.setattr(networks, "perturb_initial_weights", lambda *a, **k: pytest.fail("trained again"))
    again, _ = networks.trained("quadratic", 5, 3, seed=2, width=4)
    x = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(first(x)))
    np.testing.assert_array_equal(networks.quadratic_alphas(again), networks.quadratic_alphas(first))
