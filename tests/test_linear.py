import numpy as np
import pytest

from companion.papers.boundary_tilting import losses, theory

rng = np.random.default_rng(0)


def test_mirror_image_is_a_reflection():
    w, b = rng.normal(size=5), 0.7
    x = rng.normal(size=(20, 5))
    m = theory.mirror_image(x, w, b)
    np.testing.assert_allclose(theory.mirror_image(m, w, b), x, atol=1e-12)  # involution
    np.testing.assert_allclose(theory.signed_distance(m, w, b), -theory.signed_distance(x, w, b))
    mid = (x + m) / 2
    np.testing.assert_allclose(mid @ w + b, 0, atol=1e-12)  # midpoint on the boundary
    np.testing.assert_allclose(theory.projected_image(x, w, b), mid, atol=1e-12)
    # x - x_m is parallel to w: the shortest way across
    d = x - m
    np.testing.assert_allclose(np.abs(d @ w), np.linalg.norm(d, axis=1) * np.linalg.norm(w))


def test_signed_distance_against_brute_force_in_2d():
    w, b = np.array([3.0, 4.0]), -5.0  # boundary 3a + 4b = 5
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(theory.signed_distance(x, w, b), [-1.0, 4.0])


def test_tilting_angle_and_plane():
    x_i = rng.normal(size=(50, 4))
    x_j = rng.normal(size=(50, 4)) + np.array([2.0, 0, 0, 0])
    z = (x_j.mean(0) - x_i.mean(0)) / np.linalg.norm(x_j.mean(0) - x_i.mean(0))
    assert theory.tilting_angle(z * 5, x_i, x_j) == pytest.approx(0, abs=1e-7)
    assert theory.tilting_angle(-z, x_i, x_j) == pytest.approx(np.pi)
    w = rng.normal(size=4)
    expected = np.arccos(w @ z / np.linalg.norm(w))
    assert theory.tilting_angle(w, x_i, x_j) == pytest.approx(expected)
    basis = theory.tilting_plane(w, x_i, x_j)
    np.testing.assert_allclose(basis @ basis.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(basis @ w), np.linalg.norm(w))  # w lies in the plane
    parallel = theory.tilting_plane(z, x_i, x_j)  # degenerate case still gives a basis
    np.testing.assert_allclose(parallel @ parallel.T, np.eye(2), atol=1e-12)


def test_adversarial_distance_identity_on_balanced_classes():
    x_i = rng.normal(size=(40, 6))
    x_j = rng.normal(size=(40, 6)) + 1.5
    x, y = np.r_[x_i, x_j], np.r_[-np.ones(40), np.ones(40)]
    w, b = rng.normal(size=6), 0.3
    theta = theory.tilting_angle(w, x_i, x_j)
    _, dist = theory.centroid_direction(x_i, x_j)
    assert theory.adversarial_distance(w, b, x, y) == pytest.approx(0.5 * dist * np.cos(theta))


def test_error_distance_and_rate_by_hand():
    w, b = np.array([1.0, 0.0]), 0.0
    x = np.array([[-2.0, 0], [1.0, 0], [3.0, 1], [-0.5, 2]])
    y = np.array([-1, -1, 1, 1])  # second and fourth are wrong by 1 and 0.5
    assert theory.error_distance(w, b, x, y) == pytest.approx((1 + 0.5) / 4)
    assert theory.error_rate(w, b, x, y) == pytest.approx(0.5)


def test_bad_inputs():
    with pytest.raises(ValueError, match="non-zero"):
        theory.signed_distance(np.ones((2, 2)), np.zeros(2), 0)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        theory.mirror_image(np.ones((2, 3)), np.ones(2), 0)
    with pytest.raises(ValueError, match="labels -1"):
        theory.adversarial_distance(np.ones(2), 0, np.ones((2, 2)), np.array([0, 1]))


@pytest.mark.parametrize("name", ["hinge", "softplus"])
def test_scaled_losses_reach_their_limits(name):
    z = np.linspace(-3, 3, 101)
    for norm in (1e3, 1e5):
        gap = np.abs(losses.scaled_loss(name, z, norm) - losses.large_norm_limit(z, norm))
        assert gap.max() / norm < 2.0 / norm  # O(1) absolute gap
    for norm in (1e-3, 1e-5):
        gap = np.abs(losses.scaled_loss(name, z, norm) - losses.small_norm_limit(name, z, norm))
        assert gap.max() / norm < 10 * norm  # second order in ||w||
    # the small-norm slope by finite difference at z = 0
    h = 1e-6
    slope = (losses.LOSSES[name](h) - losses.LOSSES[name](-h)) / (2 * h)
    assert -slope == pytest.approx(losses.SMALL_NORM_COEFFICIENTS[name][1], rel=1e-6)
    assert losses.LOSSES[name](0.0) == pytest.approx(losses.SMALL_NORM_COEFFICIENTS[name][0])


def test_zero_one_is_scale_invariant():
    z = np.linspace(-1, 1, 11)
    np.testing.assert_array_equal(losses.scaled_loss("zero_one", z, 1e-3), losses.scaled_loss("zero_one", z, 1e3))
    with pytest.raises(ValueError, match="unknown loss"):
        losses.scaled_loss("l2", z, 1.0)
