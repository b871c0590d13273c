import numpy as np
import pytest

from companion.papers.smooth_codes import spectra


def test_exact_power_law_gives_its_exponent():
    n = np.arange(1, 1001)
    for alpha in (0.8, 1.0, 2.5):
        assert spectra.powerlaw_exponent(n**-alpha * 7.0) == pytest.approx(alpha, abs=1e-10)
        assert spectra.powerlaw_exponent(n**-alpha, lo=10, hi=100) == pytest.approx(alpha, abs=1e-10)


def test_sampled_data_with_a_known_spectrum():
    """Data whose population covariance has eigenvalues n^-1.2, in a random basis."""
    rng = np.random.default_rng(0)
    units, samples, alpha = 400, 20000, 1.2
    basis, _ = np.linalg.qr(rng.standard_normal((units, units)))
    z = rng.standard_normal((samples, units)) * np.arange(1, units + 1) ** (-alpha / 2)
    lam = spectra.covariance_eigenvalues(z @ basis.T)
    assert spectra.powerlaw_exponent(lam, 10, 100) == pytest.approx(alpha, abs=0.05)
    np.testing.assert_allclose(lam.sum(), np.sum(np.arange(1, units + 1) ** -alpha), rtol=0.03)


def test_bound_and_errors():
    assert spectra.stringer_bound(1) == 3.0 and spectra.stringer_bound(2) == 2.0
    with pytest.raises(ValueError, match="lo < hi"):
        spectra.powerlaw_exponent(np.ones(50))
    with pytest.raises(ValueError, match="positive"):
        spectra.powerlaw_exponent(np.r_[np.ones(20), np.zeros(400)])
    with pytest.raises(ValueError, match="activations"):
        spectra.covariance_eigenvalues(np.ones(5))
