# CPU math. TensorFlow (through oneDNN and XLA) and NumPy/SciPy (through OpenBLAS) pick their
# kernels at run time from the CPU's features and the number of cores; different kernels round
# differently, and training on tiny data turns a last-bit difference into a different printed
# number. So the runs whose outputs are compared with tests/reference/ are *pinned* to one set of
# kernels and one thread count on every machine: `make test`, `make reference`, `make
# portability` and `make calibrate` (the recipes below put $(PINNED_ENV) in front). Every other
# run (`make book`, `make chapter`, `make benchmark`, `jupyter-book build`) uses this machine's
# own kernels and all its cores: their numbers are not compared with anything, and on a CPU with
# AVX-512 or AMX the pins cost about a third of the speed. They also train independent networks
# side by side in child processes (src/companion/parallel.py, $COMPANION_JOBS, default one per
# core); the pinned runs set COMPANION_JOBS=1 and compute in one process. `PINNED=1` pins those
# too, to reproduce a checked run's arithmetic. An environment variable already set wins.

# oneDNN on everywhere: TensorFlow turns it on by itself only on CPUs with its newer AI
# instructions (AVX-512 VNNI and later), so without this an AVX2-only CPU ran Eigen's kernels
# (other rounding, and training steps 1.5 to 2 times slower). `import companion` sets the same
# default for library users. Not a pin: it is the faster path on every CPU.
export TF_ENABLE_ONEDNN_OPTS ?= 1

# The pins. oneDNN: no AVX-512 or AMX kernels, so a newer CPU computes like any AVX2 one. XLA (the
# compiled training loops, e.g. the spheres networks): the same cap. OpenBLAS: the Haswell
# kernels (AVX2 + FMA) instead of one chosen per CPU model (SkylakeX, Zen, ...); forcing them on a
# CPU without AVX2 would crash, so only there.
COMPANION_THREADS ?= 2
PIN_VARS := ONEDNN_MAX_CPU_ISA=AVX2 XLA_FLAGS=--xla_cpu_max_isa=AVX2
ifneq ($(shell grep -m1 -ow avx2 /proc/cpuinfo 2>/dev/null),)
PIN_VARS += OPENBLAS_CORETYPE=Haswell
endif
# As a command prefix: the kernel caps keep a value already set in the environment (the
# portability and calibration scripts set their own); the thread count is always the same.
_name = $(firstword $(subst =, ,$(1)))
_value = $(patsubst $(call _name,$(1))=%,%,$(1))
PINNED_ENV := $(foreach v,$(PIN_VARS),$(call _name,$(v))="$${$(call _name,$(v)):-$(call _value,$(v))}") \
  TF_NUM_INTRAOP_THREADS=$(COMPANION_THREADS) OMP_NUM_THREADS=$(COMPANION_THREADS) \
  OPENBLAS_NUM_THREADS=$(COMPANION_THREADS) COMPANION_JOBS=1

PINNED ?= 0
ifeq ($(PINNED),1)
export COMPANION_JOBS ?= 1
$(foreach v,$(PIN_VARS),$(eval export $(call _name,$(v)) ?= $(call _value,$(v))))
endif
