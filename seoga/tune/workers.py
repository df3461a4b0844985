"""Memory-aware process pools for trials: no more workers than the CPUs and free memory hold."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from seoga.models.threads import available_cpus

GIB = 1 << 30
TRIAL_RETRIES = 1  # a trial whose Dask worker died runs once more elsewhere


def available_memory() -> int:
    """Bytes of memory free now (Linux), or 0 when unknown."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 0


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def allowed_workers(requested: int, per_worker: int) -> int:
    """At most `requested`, one per CPU, and as many as free memory holds (at least one)."""
    free = available_memory()
    by_memory = free // per_worker if free and per_worker else requested
    return max(1, min(requested, available_cpus(), by_memory))


@contextmanager
def pool(workers: int, dask: str | None = None) -> Iterator[Executor]:
    """Where trials run: `workers` local processes, or a Dask cluster's workers (each trial one
    task, retried elsewhere when its worker dies); futures as concurrent.futures gives them."""
    if dask:
        from seoga.parallel.dask import DaskExecutor

        cluster = DaskExecutor(dask)
        try:
            with cluster.client.get_executor(pure=False, retries=TRIAL_RETRIES) as executor:
                yield executor
        finally:
            cluster.close()
        return
    # spawn: torch and faiss do not survive fork once their thread pools have started.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_limit_threads, initargs=(workers,)
    ) as executor:
        yield executor


def _limit_threads(workers: int) -> None:
    """Share the CPUs between the worker processes."""
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, available_cpus() // workers)))
