import numpy as np
import pytest
from scipy import integrate, stats

from companion.papers.saturating_networks import kurtosis


@pytest.mark.parametrize("gamma2", [0.5, 1.0, 3.0])
def test_pearson7_density_is_normalised_with_unit_variance(gamma2):
    total = integrate.quad(lambda x: kurtosis.pearson7_pdf(x, gamma2), -np.inf, np.inf)[0]
    var = integrate.quad(lambda x: x * x * kurtosis.pearson7_pdf(x, gamma2), -np.inf, np.inf)[0]
    m4 = integrate.quad(lambda x: x**4 * kurtosis.pearson7_pdf(x, gamma2), -np.inf, np.inf)[0]
    assert total == pytest.approx(1, abs=1e-8)
    assert var == pytest.approx(1, rel=1e-6)
    assert m4 / var**2 - 3 == pytest.approx(gamma2, rel=1e-5)


@pytest.mark.parametrize("gamma2", [0.5, 2.0])
def test_samples_follow_the_paper_density(gamma2):
    x = kurtosis.sample_pearson7(gamma2, 20000, np.random.default_rng(0))
    grid = np.linspace(-30, 30, 60001)
    cdf = np.cumsum(kurtosis.pearson7_pdf(grid, gamma2)) * (grid[1] - grid[0])
    result = stats.kstest(x, lambda v: np.interp(v, grid, cdf))
    assert result.pvalue > 0.01


def test_scaled_ratio_by_hand():
    w1 = np.array([1.0, 0.0, 0.0, 0.0])  # a coordinate vector: the most robust case
    w2 = np.array([0.0, 1.0, 0.0, 0.0])
    # ||w1||^2 = 1, ||w2 - w1||_1 = 2, mean |nonzero w1| = 1
    assert kurtosis.scaled_ratio(w1, w2)[0] == pytest.approx(0.5)
    d = np.full(4, 0.5)  # dense uniform unit vectors
    e = np.array([0.5, -0.5, 0.5, -0.5])
    assert kurtosis.scaled_ratio(d, e)[0] == pytest.approx(1 / 2 / 0.5)


def test_empirical_sampler_reproduces_the_distribution():
    rng = np.random.default_rng(1)
    values = rng.laplace(size=5000)
    drawn = kurtosis.empirical_sampler(values)(20000, rng)
    assert stats.ks_2samp(values, drawn).pvalue > 0.01
    assert kurtosis.excess_kurtosis(rng.standard_normal(200000)) == pytest.approx(0, abs=0.05)
    assert kurtosis.excess_kurtosis(values) == pytest.approx(3, abs=0.5)  # Laplace: 3


def test_bad_gamma2():
    with pytest.raises(ValueError, match="Gaussian"):
        kurtosis.sample_pearson7(0.0, 3, np.random.default_rng(0))
