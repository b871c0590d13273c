"""Nayebi & Ganguli (2017), saturating networks: the saturation penalty (``saturation``), weight
kurtosis (``kurtosis``), input-space geometry (``geometry``), the experiments, verdict rules and
figures."""
