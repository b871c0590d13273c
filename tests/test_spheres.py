import numpy as np
import pytest
from scipy import stats

from companion import spheres


def test_samples_lie_on_the_sphere_and_are_uniform():
    rng = np.random.default_rng(0)
    x = spheres.sample(20000, 5, 1.3, rng)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.3)
    # a coordinate of a uniform point on S^{d-1}: x_1^2 / r^2 ~ Beta(1/2, (d-1)/2)
    assert stats.kstest((x[:, 0] / 1.3) ** 2, stats.beta(0.5, 2.0).cdf).pvalue > 0.01
    xs, ys = spheres.labelled_sample(1000, 7, rng)
    np.testing.assert_allclose(np.linalg.norm(xs, axis=1), np.where(ys == 1, 1.3, 1.0), rtol=1e-6)


def test_clt_error_rate_matches_monte_carlo_where_measurable():
    rng = np.random.default_rng(1)
    d = 500
    alphas = rng.normal(0.99, 0.2, size=d)  # mean inside [1/R^2, 1], many alphas outside
    predicted = spheres.clt_error_rate(alphas)
    measured = spheres.monte_carlo_error_rate(alphas, 200000, rng)
    assert 1e-3 < measured < 0.5  # about a thousand errors: a 3% statistical error
    assert predicted == pytest.approx(measured, rel=0.15)
    assert spheres.clt_error_rate(np.full(d, 0.9)) < 1e-40  # perfect alphas: a vanishing estimate


def test_cap_threshold_gives_the_measure():
    rng = np.random.default_rng(2)
    t = spheres.cap_threshold(0.1, 10)
    x = spheres.sample(200000, 10, 1.0, rng)
    assert np.mean(x[:, 0] >= t) == pytest.approx(0.1, abs=0.003)


def test_cap_distance_against_brute_force_nearest_points_in_3d():
    rng = np.random.default_rng(3)
    t = spheres.cap_threshold(0.2, 3)
    cap = spheres.sample(200000, 3, 1.0, rng)
    cap = cap[cap[:, 0] >= t]  # about 40,000 points of the cap
    points = spheres.sample(3000, 3, 1.0, rng)  # standard error of the mean about 0.01
    nearest = np.array([np.sqrt(np.min(2 - 2 * cap @ p)) for p in points])
    assert spheres.cap_distance(0.2, 3) == pytest.approx(nearest.mean(), abs=0.03)


def test_cap_distance_approaches_the_gaussian_estimate_in_high_dimension():
    """For large d, x_1 ~ N(0, 1/d) and the distance to the cap is about max(t - x_1, 0)."""
    d, p = 2000, 1e-3
    t = stats.norm.isf(p) / np.sqrt(d)
    gaussian = stats.norm.expect(lambda u: max(t - u, 0.0), scale=1 / np.sqrt(d))
    assert spheres.cap_distance(p, d) == pytest.approx(gaussian, rel=0.05)


def test_fraction_needed_falls_with_dimension():
    fractions = [spheres.fraction_needed(1e-14, d) for d in (500, 1000, 3000, 5000)]
    assert fractions == sorted(fractions, reverse=True) and fractions[-1] < fractions[0]
    with pytest.raises(ValueError):
        spheres.sample(3, 0, 1.0, np.random.default_rng(0))


def _quadratic(alphas, w=1.0, b=-1.0):
    """A quadratic network whose boundary is sum alpha_i x_i^2 = 1 in the standard basis."""
    from companion import reproducibility

    reproducibility.import_tensorflow()
    d = len(alphas)
    model = spheres.quadratic_net(d, hidden=d)
    model.get_layer("W").set_weights([np.diag(np.sqrt(np.asarray(alphas) * -b / w)).astype("float32")])
    model.get_layer("readout").set_weights([np.array([[w]], "float32"), np.array([b], "float32")])
    return model


def test_quadratic_alphas_describe_the_decision_boundary():
    rng = np.random.default_rng(4)
    alphas = rng.uniform(0.5, 1.2, size=6)
    model = _quadratic(alphas, w=2.0, b=-3.0)
    np.testing.assert_allclose(spheres.quadratic_alphas(model), np.sort(alphas), rtol=1e-5)
    x = rng.normal(size=(500, 6)).astype("float32")
    np.testing.assert_array_equal(np.asarray(model(x)).ravel() > 0, (x ** 2) @ alphas > 1)
    assert spheres.perfect_alphas([0.6, 0.7, 1.0, 1.1]).tolist() == [True, True, True, False]


def test_manifold_attack_stays_on_the_sphere_and_finds_the_bad_direction():
    alphas = np.full(20, 0.8)
    alphas[0] = 1.5  # the inner sphere is misclassified near +-e_1
    model = _quadratic(alphas)
    rng = np.random.default_rng(5)
    x = spheres.sample(50, 20, 1.0, rng).astype("float32")
    x_adv, fooled = spheres.manifold_attack(model, x, steps=300, step_size=0.02)
    np.testing.assert_allclose(np.linalg.norm(x_adv, axis=1), 1.0, rtol=1e-5)
    assert fooled.all()
    np.testing.assert_array_equal(fooled, (x_adv ** 2) @ alphas > 1)  # checked without TensorFlow
    perfect = _quadratic(np.full(20, 0.8))
    _, never = spheres.manifold_attack(perfect, x, steps=100, step_size=0.02, stop_at_first_error=False)
    assert not never.any()


def test_error_rates_bound():
    model = _quadratic(np.full(10, 0.8))
    rates = spheres.error_rates(model, 10, 3000, np.random.default_rng(6))
    assert rates["inner"]["errors"] == rates["outer"]["errors"] == 0
    assert rates["inner"]["upper_95"] == pytest.approx(1e-3)
    inner = spheres.error_rates(model, 10, 3000, np.random.default_rng(6), which=("inner",))
    assert list(inner) == ["inner"] and inner["inner"] == rates["inner"]  # the same draws, first
    with pytest.raises(ValueError, match="spheres"):
        spheres.error_rates(model, 10, 30, np.random.default_rng(6), which=("middle",))


def test_tradeoff_point_attacks_only_small_error_sets():
    """A snapshot outside 0 < rate < 1/2 is not attacked (NaN distance) and uses the same random
    numbers as one that is: the next draw from the generator is the same either way."""
    alphas = np.full(20, 0.8)
    alphas[0] = 1.5  # a cap of the inner sphere (near +-e_1) is misclassified: rate in (0, 1/2)
    some_errors, no_errors = _quadratic(alphas), _quadratic(np.full(20, 0.8))
    after = {}
    for name, model in (("some", some_errors), ("none", no_errors)):
        rng = np.random.default_rng(7)
        rate, dist, found = spheres.tradeoff_point(model, 20, 2000, 10, 300, 0.02, rng)
        after[name] = rng.standard_normal()
        if name == "some":
            assert 0 < rate < 0.5 and found == 1.0 and 0 < dist < 2
        else:
            assert rate == 0 and np.isnan(dist) and np.isnan(found)
    assert after["some"] == after["none"]


def test_network_names_round_trip():
    import pytest

    for name in ("quad_h7", "relu_h8_d3"):
        assert spheres.network(name, 5).name == name
    assert len([l for l in spheres.network("relu_h8_d3", 5).layers if l.name.startswith("h")]) == 3
    with pytest.raises(ValueError, match="relu_h"):
        spheres.network("relu8", 5)


def test_training_in_chunks_takes_the_same_steps():
    """Several steps per compiled call are the same steps in the same order: one step per call
    (a second route through the same loop) reaches the same weights, and the log lands on the
    same steps."""
    import keras

    def run(per_call, **kwargs):
        keras.utils.set_random_seed(0)
        net = spheres.network("relu_h32_d2", 10)
        logs = spheres.train(net, 10, 12, 8, steps_per_call=per_call, log_every=5,
                             on_log=lambda t, m: t, **kwargs)
        return net.get_weights(), logs

    for kwargs in ({}, {"train_size": 40}):
        (one, logs_one), (chunked, logs_chunked) = run(1, **kwargs), run(7, **kwargs)
        assert logs_one == logs_chunked == [5, 10]
        for a, b in zip(one, chunked):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="steps_per_call"):
        spheres.train(spheres.network("quad_h4", 3), 3, 1, steps_per_call=0)
