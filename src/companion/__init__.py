"""companion: the package behind the reproducible companion book on adversarial examples.

One module per concept: ``data`` (MNIST, CIFAR-10), ``profiles`` (ci / quick / paper settings),
``reproducibility`` (seeds, determinism), ``cache`` (content-addressed results), ``scorecard``
(claims, verdicts), ``linear`` (tilting angle, mirror images, linear classifiers), ``losses``
(scaled hinge and softplus), ``models`` (Keras architectures), ``training``, ``attacks``, ``plots``.
"""
import os

# TensorFlow's C++ start-up messages would otherwise reach notebook outputs through stderr.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"
