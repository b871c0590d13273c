"""Schaeffer et al. (2020), smooth neural codes: eigenspectra (``spectra``), the penalties of loss
(1) (``penalties``), Ilyas et al.'s feature datasets (``feature_datasets``), the experiments,
verdict rules and figures."""
