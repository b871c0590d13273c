"""Speed of the expensive steps, printed as figures (not a test). Run: make benchmark.

Sections, each against its goal where the project has one:

0. the float32 matmul peak of this machine, pinned (the kernels of `make test`) and unpinned,
   TensorFlow and NumPy, each in fresh processes, every figure as a share of the unpinned peak;
1. PGD (L-inf, 40 steps) of :func:`companion.attacks.pgd` against the Adversarial Robustness
   Toolbox's TensorFlow-2 PGD on the same Keras model and images, pinned and unpinned, each in a
   fresh process (goal: ours >= 2x ART, robust accuracies within one point);
2. one training step with each extra loss term against a plain step on the same model (goal:
   saturation and covariance penalties within 1.15x of plain);
3. the spheres ReLU network's training rate in GFLOP/s against this machine's float32 matmul
   peak, measured in the same run (goal: >= 50%, batch 50 per network, several networks at
   once allowed: two in two processes, as the book trains them, and 1, 4, 8 in one graph);
4. the chapters' other costs (LeNet epoch, SVM path, targeted attack, ResNet, matching);
5. per-chapter time of the last executed chapters in book/chapters/, and the wall time of the
   last `make chapters` (with BOOK_JOBS > 1 chapters run side by side and the sum exceeds it);
6. a plain training step of each architecture with TensorFlow's oneDNN kernels off and on, each
   in a fresh process (TensorFlow reads TF_ENABLE_ONEDNN_OPTS once, at import).

Nothing is cached. Step costs are marginal: (time of a run of n2 steps - time of n1 steps) /
(n2 - n1), so tracing and compiling, paid once per call, cancel.
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import time

import numpy as np

from companion import attacks, data, evaluation, models, reproducibility, training
from companion.book import chapters
from companion.papers.adversarial_spheres import networks as spheres_networks
from companion.papers.boundary_tilting import experiments as tilting_experiments
from companion.papers.boundary_tilting import linear_models
from companion.papers.saturating_networks import experiments as saturating_experiments
from companion.papers.saturating_networks import saturation
from companion.papers.smooth_codes import feature_datasets, penalties


def timed(f):
    start = time.perf_counter()
    out = f()
    return out, time.perf_counter() - start


def marginal_seconds(run, n1: int, n2: int, repeats: int = 3) -> float:
    """Seconds per unit of ``run(n)`` beyond its fixed cost, ``(t(n2) - t(n1)) / (n2 - n1)``,
    each time the fastest of ``repeats`` runs (the least disturbed by anything else running)."""

    def best(n):
        return min(timed(lambda: run(n))[1] for _ in range(repeats))

    return (best(n2) - best(n1)) / (n2 - n1)


def adam_run(model, x, y, **extra):
    """``run(n)`` for :func:`marginal_seconds`: ``n`` Adam steps (batch 128) of ``model`` on the
    first ``128 n`` of ``x``, ``y``, with ``extra`` loss terms of :func:`training.fit_adam`."""
    return lambda n: training.fit_adam(model, x[: 128 * n], y[: 128 * n], 1, 128, **extra)


def mnist_float(mnist):
    x, y, _, _, xt, yt = saturating_experiments.mnist_splits(mnist, 55000)
    return x, y, xt, yt


def pgd_versus_art(mnist, images: int, eps: float = 0.1, steps: int = 40, peak: float | None = None):
    """Section 1 under this process's kernels: images/s and robust accuracy of both PGDs on a
    briefly trained CNN; GFLOP/s as a share of ``peak`` (the unpinned one; measured here if None)."""
    import keras
    from art.attacks.evasion import ProjectedGradientDescentTensorFlowV2
    from art.estimators.classification import TensorFlowV2Classifier

    x, y, xt, yt = mnist_float(mnist)
    net = models.build("cnn")
    training.fit_adam(net, x[:10000], y[:10000], 1, 128)
    xs, ys = xt[:images], yt[:images]
    step = 2.5 * eps / steps
    ours_adv, t_ours = timed(
        lambda: attacks.batched(attacks.pgd, net, xs, ys, eps=eps, steps=steps, step_size=step, batch_size=images).x
    )
    every_adv, t_every = timed(
        lambda: (
            attacks.batched(
                attacks.pgd, net, xs, ys, eps=eps, steps=steps, step_size=step, batch_size=images, until_fooled=False
            ).x
        )
    )
    classifier = TensorFlowV2Classifier(
        net,
        nb_classes=10,
        input_shape=(28, 28, 1),
        clip_values=(0.0, 1.0),
        loss_object=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    art_pgd = ProjectedGradientDescentTensorFlowV2(
        classifier,
        norm=np.inf,
        eps=eps,
        eps_step=step,
        max_iter=steps,
        num_random_init=0,
        batch_size=images,
        verbose=False,
    )
    art_adv, t_art = timed(lambda: art_pgd.generate(xs, np.eye(10, dtype=np.float32)[ys]))
    acc_ours, acc_art = evaluation.accuracy(net, ours_adv, ys), evaluation.accuracy(net, art_adv, ys)
    acc_every = evaluation.accuracy(net, every_adv, ys)
    peak = peak or matmul_gflops(2048, 2048, 2048)
    per_image_step = 2 * models.forward_flops(net)  # the forward pass and the backward pass to the input
    print(
        f"   PGD L-inf, {steps} steps, eps {eps}, step {step:g}, cross-entropy, {images} MNIST test images, "
        f"CNN of Table 2 (1 epoch on 10,000 images; clean {100 * evaluation.accuracy(net, xs, ys):.1f}%)"
    )
    for name, seconds, acc, every in (
        ("companion.attacks.pgd", t_ours, acc_ours, False),
        ("  the same, every step", t_every, acc_every, True),
        ("ART PGD (TF2)", t_art, acc_art, True),
    ):
        gflops = images * steps * per_image_step / seconds / 1e9
        rate = (
            f", ~{gflops:.0f} GFLOP/s = {100 * gflops / peak:.0f}% of the {peak:.0f} GFLOP/s matmul peak"
            if every
            else ""
        )
        print(f"   {name:22s}: {images / seconds:7.1f} images/s, robust accuracy {100 * acc:.1f}%{rate}")
    agree = abs(acc_ours - acc_art) <= 0.01
    print(
        f"   ratio {t_art / t_ours:.2f}x (goal >= 2x: {'met' if t_art / t_ours >= 2 else 'not met'}; every step "
        f"{t_art / t_every:.2f}x); accuracies {'agree' if agree else 'DIFFER'} within one point"
    )


def step_costs(mnist, cifar):
    """Section 2: marginal seconds per training step with each extra term, against plain."""
    x, y, _, _ = mnist_float(mnist)
    xc, yc = data.to_float(cifar.x_train[: 128 * 40]), cifar.y_train[: 128 * 40]
    kinds = models.SATURATION_KINDS["sigmoid_mlp"]
    mlp = models.build("sigmoid_mlp")
    cnn = models.cifar_cnn()
    resnet = models.small_resnet()

    def adam(**extra):
        return adam_run(mlp, x, y, **extra)

    def smooth(**extra):
        return lambda n: training.fit_adam(
            cnn, xc[: 128 * n], yc[: 128 * n], 1, 128, penalty=penalties.SmoothnessPenalty(**extra)
        )

    def robust(eps, attack_steps):
        return lambda n: training.fit_adam(
            resnet, xc[: 128 * n], yc[: 128 * n], 1, 128, adversarial=training.PgdReplacement(eps, attack_steps)
        )

    rows = [
        ("sigmoid MLP 784-1000-1000-10", "plain", adam(), None),
        (
            "sigmoid MLP 784-1000-1000-10",
            "saturation penalty (8)",
            adam(penalty=saturation.SaturationPenalty(kinds, lam_max=1.0, lam_step=1e-3)),
            1.15,
        ),
        (
            "sigmoid MLP 784-1000-1000-10",
            "FGSM adversarial term (4)",
            adam(adversarial=training.FgsmInterpolation(**saturating_experiments.ADVERSARIAL)),
            None,
        ),
        ("CIFAR-10 CNN of Schaeffer et al.", "plain", smooth(), None),
        ("CIFAR-10 CNN of Schaeffer et al.", "covariance penalty", smooth(c1=1.0), 1.15),
        ("CIFAR-10 CNN of Schaeffer et al.", "exact Jacobian penalty", smooth(c2=1.0), None),
        ("small ResNet", "plain", robust(0.0, 0), None),
        ("small ResNet", "L2-PGD adversarial training (2 steps)", robust(0.5, 2), None),
    ]
    # steps per timed run: enough that the difference between the two runs lasts seconds, so
    # that the noise of a shared machine (tens of ms per run) does not move the ratio (with 5 and
    # 30 steps, the MLP's saturation ratio read anywhere from 1.5x to 1.8x; with 10 and 130, 1.0x)
    steps = {
        "sigmoid MLP 784-1000-1000-10": (10, 130),
        "CIFAR-10 CNN of Schaeffer et al.": (5, 35),
        "small ResNet": (5, 25),
    }
    print("\n2. One training step (batch 128), marginal cost")
    plain = {}
    for model, term, run, goal in rows:
        seconds = marginal_seconds(run, *steps[model])
        if term == "plain":
            plain[model] = seconds
            print(f"   {model:34s} {term:38s} {1000 * seconds:8.1f} ms")
            continue
        ratio = seconds / plain[model]
        verdict = "" if goal is None else f"  (goal <= {goal}x: {'met' if ratio <= goal else 'not met'})"
        print(f"   {model:34s} {term:38s} {1000 * seconds:8.1f} ms  {ratio:5.2f}x plain{verdict}")


def dense_training_flops(model, batch: int) -> float:
    """FLOPs of one training step counting the Dense layers' matmuls only: forward, weight
    gradient, and input gradient except for the first layer (2 * batch * in * out each)."""
    dense = [layer for layer in model.layers if hasattr(layer, "kernel") and len(layer.kernel.shape) == 2]
    total = 0.0
    for k, layer in enumerate(dense):
        fan_in, fan_out = layer.kernel.shape
        total += (3 if k else 2) * 2.0 * batch * fan_in * fan_out
    return total


def matmul_gflops(m: int, k: int, n: int, seconds: float = 2.0) -> float:
    """Measured float32 GFLOP/s of ``(m, k) @ (k, n)`` with TensorFlow, repeated for ``seconds``."""
    import tensorflow as tf

    a = tf.random.normal((m, k))
    b = tf.random.normal((k, n))

    @tf.function
    def many(reps):
        acc = tf.zeros((m, n))
        for _ in tf.range(reps):
            acc += tf.matmul(a, b)
        return acc

    many(tf.constant(2)).numpy()
    reps = 2
    while True:
        _, t = timed(lambda: many(tf.constant(reps)).numpy())
        if t >= seconds:
            return reps * 2.0 * m * k * n / t / 1e9
        reps *= 2


def network_step_seconds(name: str, d: int = 500, batch: int = 50) -> float:
    """Marginal seconds of one training step of the spheres network ``name`` (the chapter's code)."""
    net = spheres_networks.network(name, d)
    return marginal_seconds(lambda n: spheres_networks.train(net, d, n, batch), 200, 1000)


def stacked_relu_step_seconds(k: int, d: int = 500, batch: int = 50, width: int = 1000, steps: int = 200) -> float:
    """Seconds per step of ``k`` relu_h1000_d2-shaped networks trained in one XLA-compiled graph,
    each on its own minibatch of ``batch``: weights stacked along a model axis ``(k, in, out)``,
    batched matmuls, batch norm over each network's minibatch, Adam on the stacked weights. Not
    the chapter's code (it trains one network at a time): a test of batching networks together."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    shapes = [(d, width), (1, width), (width, width), (1, width), (width, 1), (1, 1)]
    weights = [tf.Variable(0.03 * rng.standard_normal((k, *s)).astype(np.float32)) for s in shapes]
    gammas = [tf.Variable(tf.ones((k, 1, width))) for _ in range(2)]
    betas = [tf.Variable(tf.zeros((k, 1, width))) for _ in range(2)]
    params = weights + gammas + betas
    moments = [(tf.Variable(tf.zeros_like(p)), tf.Variable(tf.zeros_like(p))) for p in params]

    def logits(x):  # x: (k, batch, d) -> (k, batch)
        h = x
        for layer in range(2):
            h = tf.matmul(h, weights[2 * layer]) + weights[2 * layer + 1]
            mean, var = tf.nn.moments(h, axes=[1], keepdims=True)
            h = tf.nn.relu(gammas[layer] * (h - mean) * tf.math.rsqrt(var + 1e-3) + betas[layer])
        return (tf.matmul(h, weights[4]) + weights[5])[..., 0]

    @tf.function(jit_compile=True)
    def run(xs, ys):  # (steps, k, batch, d), (steps, k, batch)
        for i in tf.range(tf.shape(xs)[0]):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(ys[i], logits(xs[i])), 1))
            for p, g, (m, v) in zip(params, tape.gradient(loss, params), moments):
                m.assign(0.9 * m + 0.1 * g)
                v.assign(0.999 * v + 0.001 * g * g)
                p.assign_sub(1e-4 * m / (tf.sqrt(v) + 1e-7))

    xs = tf.constant(rng.standard_normal((steps, k, batch, d)).astype(np.float32))
    ys = tf.constant((rng.random((steps, k, batch)) > 0.5).astype(np.float32))
    run(xs, ys)  # compile
    _, t = timed(lambda: run(xs, ys))
    return t / steps


def spheres_rate(d: int = 500, batch: int = 50, peak: float | None = None):
    """Section 3: steps/s and GFLOP/s of the spheres networks against the unpinned matmul peak
    (section 0's, or measured here); then several relu_h1000_d2 networks at once, as the
    goal allows: two side by side in two processes of one thread each (the book's way,
    :mod:`companion.parallel`), and ``k`` in one graph (:func:`stacked_relu_step_seconds`)."""
    peak = peak or matmul_gflops(2048, 2048, 2048)
    shaped = matmul_gflops(batch, 1000, 1000)
    print(f"\n3. Spheres training, d = {d}, batch {batch} (Dense matmuls counted; batch norm and ReLU not)")
    print(
        f"   float32 matmul peak, 2048^3 with TensorFlow: {peak:.0f} GFLOP/s; "
        f"at the network's shape ({batch} x 1000 @ 1000 x 1000): {shaped:.0f} GFLOP/s"
    )
    for name in ("relu_h1000_d2", "quad_h1000"):
        per_step = network_step_seconds(name, d, batch)
        flops = dense_training_flops(spheres_networks.network(name, d), batch)
        gflops = flops / per_step / 1e9
        goal = f" (goal >= 50%: {'met' if gflops >= 0.5 * peak else 'not met'})" if name.startswith("relu") else ""
        print(
            f"   {name:14s} {1 / per_step:6.0f} steps/s, {flops / 1e6:6.0f} MFLOP/step, {gflops:5.1f} GFLOP/s = "
            f"{100 * gflops / peak:4.1f}% of peak{goal}"
        )
    flops = dense_training_flops(spheres_networks.network("relu_h1000_d2", d), batch)

    def rate_line(label: str, networks_per_second: float):
        gflops = networks_per_second * flops / 1e9
        print(
            f"   {label:44s} {networks_per_second:6.0f} network-steps/s, {gflops:5.1f} GFLOP/s = "
            f"{100 * gflops / peak:4.1f}% of peak (goal >= 50%: {'met' if gflops >= 0.5 * peak else 'not met'})"
        )

    one_thread = {name: "1" for name in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    both = [start_fresh_process("relu-step", False, env=one_thread) for _ in range(2)]
    seconds = [float(printed_lines(p, "relu-step")[-1]) for p in both]
    rate_line("relu_h1000_d2, 2 processes of 1 thread", sum(1 / t for t in seconds))
    for k in (1, 4, 8):
        rate_line(f"relu_h1000_d2, {k} in one graph", k / stacked_relu_step_seconds(k, d, batch))


def other_costs(mnist, cifar):
    """Section 4: the remaining expensive steps of the chapters."""
    print("\n4. Other costs")
    x, y, xt, yt = tilting_experiments.mnist_images(mnist, 60000, 10000)
    net = models.lenet(1e-4, x.mean(axis=0))
    _, t = timed(
        lambda: training.fit_sgd(net, x, y, xt, yt, epochs=1, batch_size=300, learning_rate=5e-4, momentum=0.9)
    )
    print(f"   LeNet, one epoch over 60,000 images (+ test evaluation): {t:.1f} s")
    logits = evaluation.predict_logits(net, xt)
    temp = attacks.temperature_for_median_confidence(logits)
    found, t = timed(lambda: attacks.targeted_gradient_ascent(net, xt[:10], (yt[:10] + 1) % 10, temperature=temp))
    steps = found.steps
    print(
        f"   targeted attack on 10 images: {t:.1f} s, {steps.sum()} gradient steps "
        f"({steps.sum() / t:.0f} image-steps/s)"
    )
    for pair in ((0, 1), (7, 9)):
        xs, ys, _, _ = tilting_experiments.pair_data(mnist, pair, 3000)
        lams = tilting_experiments.lambda_grid(1.0)
        _, t = timed(lambda: linear_models.svm_path(xs, ys, lams))
        print(f"   SVM path {pair[0]} vs {pair[1]}, 6000 images, {len(lams)} values of lambda: {t:.1f} s")
    xc, yc = data.to_float(cifar.x_train[:2048]), cifar.y_train[:2048]
    for steps in (0, 2):
        net = models.small_resnet()
        pgd = training.PgdReplacement(0.5, steps)
        training.fit_adam(net, xc[:256], yc[:256], 1, 128, adversarial=pgd)  # compile first
        _, t = timed(lambda: training.fit_adam(net, xc, yc, 1, 128, adversarial=pgd))
        print(f"   small ResNet, batch 128, L2 PGD with {steps} steps: {len(xc) / t:.0f} training images/s")
    feature_datasets.match_representation(net, xc[:250], xc[250:500], 2, 0.1)  # compile first
    _, t = timed(lambda: feature_datasets.match_representation(net, xc[:500], xc[500:1000], 20, 0.1))
    print(f"   representation matching on the small ResNet: {500 * 20 / t:.0f} image-steps/s")


def chapter_times(folder: str = "book/chapters"):
    """Section 5: wall time of each executed chapter in ``folder`` and the profile it ran with."""
    import nbformat

    print(f"\n5. Chapters last executed in {folder}/ (papermill's cell times)")
    paths = sorted(glob.glob(os.path.join(folder, "*.ipynb")))
    if not paths:
        print("   none: run `make book` (PROFILE=ci or quick) first")
        return
    total = 0.0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        seconds = sum(t for _, t, _ in chapters.cell_times(nb))
        total += seconds
        print(f"   {os.path.basename(path)[:-6]:22s} {chapters.executed_profile(nb):6s} {seconds / 60:6.1f} min")
    print(f"   {'sum':22s} {'':6s} {total / 60:6.1f} min")
    build = os.path.join(folder, "build.json")
    if os.path.exists(build):  # written by `make chapters`
        with open(build) as f:
            b = json.load(f)
        print(
            f"   {'wall time':22s} {b['profile']:6s} {b['seconds'] / 60:6.1f} min "
            f"({b['jobs']} chapters at a time on {b['cores']} cores)"
        )


def plain_step_ms(mnist, cifar) -> dict:
    """Marginal milliseconds of one plain Adam step (batch 128) of each architecture."""
    x, y, _, _ = mnist_float(mnist)
    xc, yc = data.to_float(cifar.x_train[: 128 * 35]), cifar.y_train[: 128 * 35]
    runs = {
        "sigmoid MLP 784-1000-1000-10": (models.build("sigmoid_mlp"), x, y, (10, 130)),
        "MNIST CNN of Nayebi & Ganguli": (models.build("cnn"), x, y, (5, 35)),
        "CIFAR-10 CNN of Schaeffer et al.": (models.cifar_cnn(), xc, yc, (5, 35)),
        "small ResNet": (models.small_resnet(), xc, yc, (5, 25)),
    }
    return {
        name: 1000 * marginal_seconds(adam_run(model, xs, ys), *steps) for name, (model, xs, ys, steps) in runs.items()
    }


def onednn_side_by_side():
    """Section 6: :func:`plain_step_ms` in two fresh processes, oneDNN off and on."""
    print(
        "\n6. One plain training step (batch 128) with TensorFlow's oneDNN kernels off and on "
        "(TF_ENABLE_ONEDNN_OPTS; `import companion` and numerics.mk default it to 1)"
    )
    ms = {}
    for value in ("0", "1"):
        proc = subprocess.run(
            [sys.executable, __file__, "--only", "plain-steps"],
            capture_output=True,
            text=True,
            env={**os.environ, "TF_ENABLE_ONEDNN_OPTS": value},
            check=True,
        )
        ms[value] = json.loads(proc.stdout.strip().splitlines()[-1])
    for name in ms["0"]:
        print(
            f"   {name:34s} off {ms['0'][name]:7.1f} ms   on {ms['1'][name]:7.1f} ms   "
            f"{ms['0'][name] / ms['1'][name]:4.2f}x faster on"
        )


def numpy_matmul_gflops(n: int = 2048, seconds: float = 2.0) -> float:
    """Measured float32 GFLOP/s of an ``(n, n) @ (n, n)`` NumPy matmul (OpenBLAS), repeated."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    a @ a
    reps, t = 0, 0.0
    while t < seconds:
        _, dt = timed(lambda: a @ a)
        reps, t = reps + 1, t + dt
    return reps * 2.0 * n**3 / t / 1e9


# the kernel pins of `make test` (numerics.mk's PIN_VARS, passed by `make benchmark`)
DEFAULT_PINS = "ONEDNN_MAX_CPU_ISA=AVX2 XLA_FLAGS=--xla_cpu_max_isa=AVX2 OPENBLAS_CORETYPE=Haswell"


def start_fresh_process(only: str, pinned: bool, *args: str, env: dict | None = None) -> subprocess.Popen:
    """``run.py --only <only> <args>`` started in a fresh process, with the kernel pins of the
    checked runs or without them (the kernels are chosen when a process starts), and ``env`` on
    top (e.g. a thread count)."""
    pins = dict(v.split("=", 1) for v in (os.environ.get("COMPANION_PIN_VARS") or DEFAULT_PINS).split())
    unpinned = {k: v for k, v in os.environ.items() if k not in pins}
    return subprocess.Popen(
        [sys.executable, __file__, "--only", only, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**unpinned, **(pins if pinned else {}), **(env or {})},
    )


def printed_lines(proc: subprocess.Popen, only: str) -> list[str]:
    """What a process of :func:`start_fresh_process` printed, once it has ended."""
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"run.py --only {only} failed:\n{err[-2000:]}")
    return out.strip().splitlines()


def in_fresh_process(only: str, pinned: bool, *args: str) -> list[str]:
    """The lines that ``run.py --only <only> <args>`` prints in a fresh process (pinned or not)."""
    return printed_lines(start_fresh_process(only, pinned, *args), only)


def _peak_in_fresh_process(library: str, pinned: bool) -> float:
    return float(in_fresh_process(f"peak-{library}", pinned)[-1])


def pgd_pinned_and_unpinned(images: int, peak: float | None):
    """Section 1, in two fresh processes: pinned (the kernels of make test) and unpinned."""
    print(
        "\n1. PGD against the Adversarial Robustness Toolbox's, under the same kernels, pinned and unpinned.\n"
        "   Ours stops each image at its first misclassified iterate (the default); 'every step' and ART run\n"
        "   all steps on every image, and only they get a GFLOP/s figure (against the unpinned TensorFlow peak)"
    )
    peak = peak or _peak_in_fresh_process("tf", pinned=False)
    for pinned in (True, False):
        args = ["--pgd-images", str(images), "--peak", str(peak)]
        lines = in_fresh_process("pgd-here", pinned, *args)
        print(f"   {'pinned' if pinned else 'unpinned'}:")
        print("\n".join("   " + line for line in lines if line.startswith("   ")))


def peaks(runs: int = 2) -> float:
    """Section 0: the float32 matmul peak (2048^3) with and without the pins of the checked runs,
    TensorFlow and NumPy, each in fresh processes (the kernels are chosen at start-up); every
    figure also as a share of the unpinned TensorFlow peak, the yardstick of sections 3 and 5.
    Returns that peak."""
    print("\n0. float32 matmul peak, 2048^3, in fresh processes, pinned (the kernels of make test) and unpinned")
    got = {(lib, pinned): [_peak_in_fresh_process(lib, pinned) for _ in range(runs)]
           for lib in ("tf", "numpy") for pinned in (True, False)}  # fmt: skip
    peak = max(got["tf", False])
    for (lib, pinned), values in got.items():
        name = f"{'TensorFlow' if lib == 'tf' else 'NumPy'} {'pinned' if pinned else 'unpinned'}"
        shown = " / ".join(f"{v:.0f}" for v in values)
        print(f"   {name:22s} {shown:>12s} GFLOP/s = {100 * max(values) / peak:5.1f}% of the unpinned TensorFlow peak")
    return peak


SECTIONS = ("peaks", "pgd", "steps", "spheres", "other", "chapters", "onednn")
INTERNAL = ("plain-steps", "peak-tf", "peak-numpy", "pgd-here", "relu-step")  # measurements run in a child process


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=SECTIONS + INTERNAL, default=SECTIONS, help="sections to run")
    parser.add_argument("--pgd-images", type=int, default=500)
    parser.add_argument("--peak", type=float, help="(internal) the unpinned matmul peak, GFLOP/s")
    args = parser.parse_args(argv)
    if args.only in (["peak-tf"], ["peak-numpy"]):
        print(matmul_gflops(2048, 2048, 2048) if args.only == ["peak-tf"] else numpy_matmul_gflops())
        return
    if args.only == ["relu-step"]:
        print(network_step_seconds("relu_h1000_d2"))
        return
    if args.only == ["pgd-here"]:
        reproducibility.seed_everything(0)
        pgd_versus_art(data.load_mnist(), args.pgd_images, peak=args.peak)
        return
    if args.only == ["plain-steps"]:
        reproducibility.seed_everything(0)
        print(json.dumps(plain_step_ms(data.load_mnist(), data.load_cifar10())))
        return
    print(reproducibility.seed_everything(0))
    print(
        f"cores: {os.cpu_count()}, intra-op threads: {os.environ.get('TF_NUM_INTRAOP_THREADS', 'all')}, "
        f"oneDNN kernels: TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'unset')}"
    )
    peak = peaks() if "peaks" in args.only else None
    needs_data = {"steps", "other"} & set(args.only)  # the other sections load what they need, or nothing
    mnist = data.load_mnist() if needs_data else None
    cifar = data.load_cifar10() if needs_data else None
    if "pgd" in args.only:
        pgd_pinned_and_unpinned(args.pgd_images, peak)
    if "steps" in args.only:
        step_costs(mnist, cifar)
    if "spheres" in args.only:
        spheres_rate(peak=peak)
    if "other" in args.only:
        other_costs(mnist, cifar)
    if "chapters" in args.only:
        chapter_times()
    if "onednn" in args.only:
        onednn_side_by_side()


if __name__ == "__main__":
    main()
