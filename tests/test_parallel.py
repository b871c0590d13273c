"""companion.parallel: cached computations side by side in child processes."""

import functools
import os
import time

import pytest

from companion import parallel


def record_call(folder: str, name: str, delay: float = 0.0) -> str:
    """Writes where and with how many threads it ran (the 'cache' of this test)."""
    time.sleep(delay)
    text = f"{os.getpid()} {os.environ.get('TF_NUM_INTRAOP_THREADS')}"
    with open(os.path.join(folder, name), "w") as f:
        f.write(text)
    return text


def failing_call():
    raise RuntimeError("the child's error")


def test_a_child_s_error_reaches_the_caller_and_the_queued_calls_are_dropped(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_JOBS", "2")
    queued = [functools.partial(record_call, str(tmp_path), f"q{i}", 0.5) for i in range(20)]
    with pytest.raises(RuntimeError, match="the child's error"):
        parallel.fill_cache([failing_call, *queued])
    assert len(list(tmp_path.iterdir())) < 10  # the other child finished its call, no more


def test_the_calls_run_in_children_with_the_cores_shared(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_JOBS", "2")
    ran = parallel.fill_cache([functools.partial(record_call, str(tmp_path), name) for name in "abc"])
    assert ran == 3
    runs = [(tmp_path / name).read_text().split() for name in "abc"]
    assert all(int(pid) != os.getpid() for pid, _ in runs)
    assert {threads for _, threads in runs} == {str(max(1, os.cpu_count() // 2))}


def test_one_job_or_one_call_runs_nothing_and_leaves_it_to_the_caller(tmp_path, monkeypatch):
    calls = [functools.partial(record_call, str(tmp_path), name) for name in "ab"]
    monkeypatch.setenv("COMPANION_JOBS", "1")
    assert parallel.fill_cache(calls) == 0
    monkeypatch.setenv("COMPANION_JOBS", "2")
    assert parallel.fill_cache(calls[:1]) == 0
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_job_count_is_named(value, monkeypatch):
    monkeypatch.setenv("COMPANION_JOBS", value)
    with pytest.raises(ValueError, match=r"\$COMPANION_JOBS must be a whole number >= 1"):
        parallel.jobs()


def test_the_checked_runs_make_no_children():
    """numerics.mk's pinned runs compute in one process, as the references were."""
    text = open(os.path.join(os.path.dirname(__file__), "..", "numerics.mk")).read()
    assert "COMPANION_JOBS=1" in text.split("PINNED_ENV :=")[1].split("\n\n")[0]
