# CPU math pinned for every run that `make` starts: chapters, the book, the tests, the references.
# TensorFlow (through oneDNN) and NumPy/SciPy (through OpenBLAS) pick their kernels at run time
# from the CPU's features and the number of cores; different kernels round differently, and
# training on tiny data turns a last-bit difference into a different printed number.
# An environment variable already set wins (the portability target sets its own).

# oneDNN on everywhere: TensorFlow turns it on by itself only on CPUs with its newer AI
# instructions (AVX-512 VNNI and later), so without this an AVX2-only CPU ran Eigen's kernels
# (other rounding, and training steps 1.5 to 2 times slower). `import companion` sets the same
# default for library users.
export TF_ENABLE_ONEDNN_OPTS ?= 1
# oneDNN: no AVX-512 or AMX kernels, so a newer CPU computes like any AVX2 one.
export ONEDNN_MAX_CPU_ISA ?= AVX2
# XLA (the compiled training loops, e.g. the spheres networks): the same cap for the code it
# generates for this CPU.
export XLA_FLAGS ?= --xla_cpu_max_isa=AVX2
# OpenBLAS: the Haswell kernels (AVX2 + FMA) on every CPU that has AVX2, instead of one chosen per
# CPU model (SkylakeX, Zen, ...). Forcing them on a CPU without AVX2 would crash, so only there.
ifneq ($(shell grep -m1 -ow avx2 /proc/cpuinfo 2>/dev/null),)
export OPENBLAS_CORETYPE ?= Haswell
endif
# Threads: the checked `ci` runs (make test, make reference) use the same number on every machine;
# the book uses all cores (its numbers are not compared, and speed matters there).
COMPANION_THREADS ?= 2
PINNED_THREADS := TF_NUM_INTRAOP_THREADS=$(COMPANION_THREADS) OMP_NUM_THREADS=$(COMPANION_THREADS) \
  OPENBLAS_NUM_THREADS=$(COMPANION_THREADS)
