"""companion: the package behind the reproducible companion book on adversarial examples.

Three parts, one concept per module:

* the shared tools, here: ``data`` (MNIST, CIFAR-10, checked), ``profiles`` (the ci / quick /
  paper settings of each chapter), ``reproducibility`` (seeds, pinned numerics), ``cache``
  (content-addressed results), ``parallel`` (cached computations side by side), ``models``
  (the Keras architectures several papers use), ``keras_layers``, ``optimizer`` (Adam),
  ``training`` (the loops and their loss terms), ``attacks`` (FGSM, PGD, SPSA, DeepFool,
  targeted attacks), ``evaluation`` (predictions,
  accuracy under attack, gradient shares, activations), ``files`` (atomic writes), ``display``
  (results tables: HTML and text), ``plotting``; ``__main__`` (``python -m companion diagnose``);
* ``companion.papers.<chapter>``: one folder per paper and the synthesis, each with its
  ``experiments``, its verdict rules (``claims``), its ``figures`` and its own theory, losses or
  penalties. A paper's folder imports the shared tools and itself only; the synthesis reads them
  all (``tests/test_layout.py`` holds that rule);
* ``companion.book``: the machinery of the book: ``chapters`` (run a chapter headless),
  ``comparison`` (check a run against its reference), ``calibration`` (the measured tolerances),
  ``scorecard`` (claims and verdicts), ``sources`` (each claim's words in its paper), ``build``
  and ``staleness`` (which chapters ``jupyter-book build book/`` runs, and when).
"""

import os

# TensorFlow's C++ start-up messages would otherwise reach notebook outputs through stderr.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# TensorFlow's oneDNN kernels: on CPUs without its newer AI instructions (AVX-512 VNNI and later),
# e.g. an AVX2-only AMD EPYC, TensorFlow leaves them off and falls back to Eigen, whose training
# steps were 1.5 to 2 times slower here (`make benchmark`, section 6). Read once, when TensorFlow is
# imported: import companion first.
# An explicit TF_ENABLE_ONEDNN_OPTS=0 still wins.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"
