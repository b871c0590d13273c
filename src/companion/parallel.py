"""Independent cached computations side by side, in child processes.

The chapters train many small networks that do not depend on one another (the saturating
chapter's search, the spheres networks). One such training keeps two cores only partly busy, its
matrices being small; two trainings in two processes of one thread each keep both busy.
:func:`fill_cache` makes the calls whose results the cache does not hold yet in fresh (spawned)
processes, :func:`jobs` at a time, for the entries they write; the caller then makes the same
calls itself, in its own order, and the cache answers. Every call seeds itself, so a child
computes what the caller would have, with one difference: its thread count, which can move the
last bits of a sum. The checked runs (numerics.mk's pins) set ``COMPANION_JOBS=1``: no child,
the caller computes everything itself, as before.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from collections.abc import Callable

ENV_VAR = "COMPANION_JOBS"
THREAD_VARS = ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def jobs() -> int:
    """How many computations run side by side: ``$COMPANION_JOBS``, else the number of cores."""
    value = os.environ.get(ENV_VAR, "")
    if not value:
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"${ENV_VAR} must be a whole number >= 1, not {value!r}")
    return int(value)


def _start_child(threads: int) -> None:
    """In each child, before it imports TensorFlow: its share of the cores (or fewer threads, when
    the parent's environment already caps them lower), and its standard error silenced: TensorFlow
    writes its start-up lines there whatever TF_CPP_MIN_LOG_LEVEL says, and in a notebook they would
    land in the cell's output. A child's Python error still reaches the caller."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    for name in THREAD_VARS:
        cap = os.environ.get(name, "")
        os.environ[name] = str(min(threads, int(cap)) if cap.isdigit() and int(cap) > 0 else threads)


def _run(call: Callable[[], object]) -> None:
    """Make ``call`` in a child; its result stays there (it went to the cache)."""
    call()


def fill_cache(calls: list[Callable[[], object]]) -> int:
    """Make each call of ``calls`` (``functools.partial`` objects of module-level functions, so
    that they can be sent to a child) in spawned child processes, :func:`jobs` at a time with the
    cores shared among them. Results are discarded: each call must write its result to the cache,
    and the caller passes only the calls whose results the cache lacks. With one job, or at most
    one call, nothing runs here: the caller computes in-process. Returns the number of calls made
    in children."""
    n = min(jobs(), len(calls))
    if n <= 1:
        return 0
    threads = max(1, (os.cpu_count() or 1) // n)
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked TensorFlow threads
    pool = concurrent.futures.ProcessPoolExecutor(n, mp_context=spawn, initializer=_start_child, initargs=(threads,))
    try:
        for future in [pool.submit(_run, call) for call in calls]:
            future.result()
    except BaseException:  # a child's error, or Ctrl-C: the queued calls are not started
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return len(calls)
