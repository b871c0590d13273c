"""Speed of the expensive steps, printed as figures (not a test). Run: make benchmark.

Measures, on this machine: one LeNet training epoch over MNIST, one SVM sweep over lambda for a
digit pair, the targeted attack on ten images, and training steps per second of the spheres
networks at d = 500, adversarial training of the small CIFAR-10 ResNet and the Ilyas et al.
representation matching. Nothing is cached here.
"""
import os
import time

import numpy as np

from companion import (attacks, data, feature_datasets, linear_models, models, reproducibility, spheres,
                       tilting, training)


def timed(f):
    start = time.perf_counter()
    out = f()
    return out, time.perf_counter() - start


def main():
    print(reproducibility.seed_everything(0))
    mnist = data.load_mnist()
    x, y, xt, yt = tilting.mnist_images(mnist, 60000, 10000)
    net = models.lenet(1e-4, x.mean(axis=0))
    _, t = timed(lambda: training.fit_sgd(net, x, y, xt, yt, epochs=1, batch_size=300,
                                           learning_rate=5e-4, momentum=0.9))
    print(f"LeNet, one epoch over 60,000 images (+ test evaluation): {t:.1f} s")
    logits = training.predict_logits(net, xt)
    temp = attacks.temperature_for_median_confidence(logits)
    (_, _, steps), t = timed(lambda: attacks.targeted_gradient_ascent(
        net, xt[:10], (yt[:10] + 1) % 10, temp))
    print(f"targeted attack on 10 images: {t:.1f} s, {steps.sum()} gradient steps "
          f"({steps.sum() / t:.0f} image-steps/s)")
    for pair in ((0, 1), (7, 9)):
        xs, ys, _, _ = tilting.pair_data(mnist, pair, 3000)
        lams = tilting.lambda_grid(1.0)
        _, t = timed(lambda: linear_models.svm_path(xs, ys, lams))
        print(f"SVM path {pair[0]} vs {pair[1]}, 6000 images, {len(lams)} values of lambda: {t:.1f} s")
    for name, net in (("ReLU 2 x 1000 + batch norm", spheres.relu_net(500)), ("quadratic h 1000", spheres.quadratic_net(500))):
        spheres.train(net, 500, 50)  # compile first
        _, t = timed(lambda: spheres.train(net, 500, 1000))
        print(f"spheres d = 500, {name}, batch 50: {1000 / t:.0f} steps/s")
    cifar = data.load_cifar10()
    xc, yc = data.to_float(cifar.x_train[:2048]), cifar.y_train[:2048]
    for steps in (0, 2):
        net = models.small_resnet()
        training.fit_robust(net, xc[:256], yc[:256], 1, 128, 0.5, steps)  # compile first
        _, t = timed(lambda: training.fit_robust(net, xc, yc, 1, 128, 0.5, steps))
        print(f"small ResNet, batch 128, L2 PGD with {steps} steps: {len(xc) / t:.0f} training images/s")
    feature_datasets.match_representation(net, xc[:250], xc[250:500], 2, 0.1)  # compile first
    _, t = timed(lambda: feature_datasets.match_representation(net, xc[:500], xc[500:1000], 20, 0.1))
    print(f"representation matching on the small ResNet: {500 * 20 / t:.0f} image-steps/s")
    print(f"cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
