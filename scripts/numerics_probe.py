"""Which machine differences move which numbers: one small computation per library, its result
printed to the last bit, run once per single change of the environment.

Usage: python scripts/numerics_probe.py        (runs itself under each change and prints a table)
The computations: a Dense network trained 3 epochs with Adam (TensorFlow matmuls), a Conv2D
forward pass (oneDNN convolution), NumPy float32 matmul (OpenBLAS sgemm), NumPy float64 SVD
(LAPACK) and a float32 sum (NumPy's own SIMD loops).
"""

import os
import subprocess
import sys

from portability import environment  # the same way of setting a machine's features and threads

CHANGES = {
    "(as make runs it)": {},
    "oneDNN capped at AVX": {"ONEDNN_MAX_CPU_ISA": "AVX"},
    "oneDNN capped at SSE4.1": {"ONEDNN_MAX_CPU_ISA": "SSE41"},
    "oneDNN off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "OpenBLAS Sandybridge": {"OPENBLAS_CORETYPE": "Sandybridge"},
    "OpenBLAS Zen": {"OPENBLAS_CORETYPE": "Zen"},
    "NumPy without AVX2": {"NPY_DISABLE_CPU_FEATURES": "X86_V3"},
    "1 thread": {"threads": 1},
    "4 threads": {"threads": 4},
}
NAMES = ("dense training loss", "conv2d output sum", "float32 matmul sum", "float64 SVD", "float32 sum")


def probe() -> list[str]:
    import numpy as np

    from companion import reproducibility

    reproducibility.seed_everything(0)
    import keras

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(512, 784)).astype("float32"), rng.integers(0, 10, 512)
    dense = keras.Sequential(
        [keras.Input((784,)), keras.layers.Dense(256, activation="sigmoid"), keras.layers.Dense(10)]
    )
    dense.compile(
        keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=False
    )
    loss = dense.fit(x, y, batch_size=64, epochs=3, verbose=0, shuffle=False).history["loss"][-1]
    conv = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, 5, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )
    conv_sum = float(conv(rng.normal(size=(64, 28, 28, 1)).astype("float32")).numpy().sum())
    a = rng.normal(size=(300, 300))
    a32 = a.astype("float32")
    return [
        repr(v)
        for v in (
            float(loss),
            conv_sum,
            float((a32 @ a32).sum()),
            float(np.linalg.svd(a)[1][:5].sum()),
            float(a32.sum()),
        )
    ]


def main() -> int:
    if os.environ.get("_PROBE_CHILD"):
        print("\t".join(probe()))
        return 0
    base = None
    print(f"{'change':26s} " + "  ".join(f"{n:>20s}" for n in NAMES))
    for label, change in CHANGES.items():
        env = {**environment(change), "_PROBE_CHILD": "1"}
        out = subprocess.run([sys.executable, __file__], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{label:26s} failed: {out.stderr.strip()[-300:]}")
            continue
        values = out.stdout.strip().splitlines()[-1].split("\t")
        base = base or values
        marks = [("same" if v == b else "DIFFERS") if change else v[:20] for v, b in zip(values, base)]
        print(f"{label:26s} " + "  ".join(f"{m:>20s}" for m in marks), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
