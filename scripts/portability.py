"""Run the `ci` chapters as other machines would, and check them against tests/reference/.

A second machine differs from this one in the CPU features its math libraries dispatch to
(oneDNN inside TensorFlow, OpenBLAS and NumPy's SIMD loops) and in its thread count. Each
configuration below caps those features and sets the threads through the libraries' own
environment variables, runs every chapter with the `ci` profile in a fresh cache, and compares
the checked outputs with the references (companion.book.chapters.compare, the check `make test` makes).

Usage: python scripts/portability.py [--config NAME ...] [--chapter SLUG ...] [--jobs N]
Writes build/portability/<config>/<chapter>.ipynb and prints one line per run and a summary.
"""

import argparse
import concurrent.futures
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Machines to emulate: what each caps (oneDNN ISA, OpenBLAS kernel, NumPy SIMD) and its threads.
# The references' own set-up (numerics.mk: AVX2, Haswell, 2 threads) is what `make test` runs.
CONFIGS = {
    "avx-1thread": {
        "ONEDNN_MAX_CPU_ISA": "AVX",
        "OPENBLAS_CORETYPE": "Sandybridge",
        "NPY_DISABLE_CPU_FEATURES": "X86_V3",
        "XLA_FLAGS": "--xla_cpu_max_isa=AVX",
        "threads": 1,
    },
    "sse41-4threads": {
        "ONEDNN_MAX_CPU_ISA": "SSE41",
        "OPENBLAS_CORETYPE": "Nehalem",
        "NPY_DISABLE_CPU_FEATURES": "X86_V3",
        "XLA_FLAGS": "--xla_cpu_max_isa=SSE4_2",
        "threads": 4,
    },
    "no-onednn-3threads": {"TF_ENABLE_ONEDNN_OPTS": "0", "OPENBLAS_CORETYPE": "Zen", "threads": 3},
}


def environment(config: dict) -> dict:
    """This process's environment with one configuration's caps and thread count applied."""
    env = dict(os.environ)
    env.pop("NPY_DISABLE_CPU_FEATURES", None)
    for key, value in config.items():
        if key == "threads":
            for var in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
                env[var] = str(value)
        else:
            env[key] = value
    return env


def run_chapter(slug: str, out: Path, env: dict, tmp: str) -> subprocess.CompletedProcess:
    """Chapter ``slug`` under the ci profile into ``out`` (images dropped), in a fresh cache in ``tmp``."""
    command = ["companion.book.chapters", "run", slug, "ci", str(out), "--strip-images"]
    folders = ["--results-dir", f"{tmp}/results", "--cache-dir", f"{tmp}/cache"]
    return subprocess.run([sys.executable, "-m", *command, *folders], cwd=ROOT, env=env, capture_output=True, text=True)


def run(config_name: str, slug: str) -> tuple[str, str, float, list[str]]:
    out = ROOT / "build" / "portability" / config_name / f"{slug}.ipynb"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        proc = run_chapter(slug, out, environment(CONFIGS[config_name]), tmp)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        return config_name, slug, seconds, [f"the run failed:\n{proc.stderr[-2000:]}"]
    import nbformat

    from companion.book import chapters

    reference = nbformat.read(ROOT / "tests" / "reference" / f"{slug}.ipynb", as_version=4)
    return config_name, slug, seconds, chapters.compare(reference, nbformat.read(out, as_version=4))


def main() -> int:
    chapters_all = sorted(p.stem for p in (ROOT / "book" / "notebooks").glob("*.md"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", action="append", choices=sorted(CONFIGS))
    parser.add_argument("--chapter", action="append", choices=chapters_all)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    jobs = [(c, s) for c in (args.config or list(CONFIGS)) for s in (args.chapter or chapters_all)]
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for name, slug, seconds, problems in pool.map(lambda j: run(*j), jobs):
            print(
                f"{name:20s} {slug:22s} {seconds:6.0f} s  {'agrees' if not problems else f'DIFFERS ({len(problems)})'}",
                flush=True,
            )
            for p in problems:
                print("    " + p.replace("\n", "\n    "), flush=True)
            failed += bool(problems)
    print(
        f"portability: {len(jobs) - failed} of {len(jobs)} chapter runs agree with "
        f"tests/reference/ ({', '.join(args.config or CONFIGS)})"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
