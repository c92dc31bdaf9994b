"""The threads a run uses: its own pools do the parallel work, BLAS (numpy's and scipy's OpenBLAS) stays on the
threads that call it during the run, and the process gets its BLAS threads back afterwards."""
from __future__ import annotations

import threading

from threadpoolctl import threadpool_info, threadpool_limits

from zemosaic.pipeline.run import run_mosaic


def _blas_threads() -> dict[str, int]:
    return {lib["filepath"]: lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_blas_runs_on_the_calling_threads_during_a_run_and_is_given_back(tiny_frames, tmp_path):
    seen: list[dict[str, int]] = []
    lock = threading.Lock()

    def watch(event) -> None:
        with lock:
            seen.append(_blas_threads())

    with threadpool_limits(limits=2, user_api="blas"):  # as a 2-core machine starts (whatever this one has)
        before = _blas_threads()
        assert before
        run_mosaic(tiny_frames, tmp_path / "out", progress_callback=watch)
        after = _blas_threads()
    assert seen and all(set(threads.values()) == {1} for threads in seen), seen[:3]
    assert {path: after[path] for path in before} == before
