"""companion: the package behind the reproducible companion book on adversarial examples.

One module per concept: ``data`` (MNIST, CIFAR-10), ``profiles`` (ci / quick / paper settings),
``reproducibility`` (seeds, determinism), ``cache`` (content-addressed results), ``scorecard``
(claims, verdicts), ``linear`` (tilting angle, mirror images, linear classifiers), ``losses``
(scaled hinge and softplus), ``models`` (Keras architectures), ``training``, ``attacks``, ``plots``.
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
