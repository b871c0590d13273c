"""Tanay & Griffin (2016), boundary tilting: the linear theory (``theory``), the binary losses
(``losses``), linear classifiers (``linear_models``), the experiments, verdict rules and figures."""
