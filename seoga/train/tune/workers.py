"""Memory-aware process pools for trials: no more workers than the CPUs and free memory hold."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

GIB = 1 << 30


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
    from seoga.models.embedders import available_cpus

    free = available_memory()
    by_memory = free // per_worker if free and per_worker else requested
    return max(1, min(requested, available_cpus(), by_memory))


def pool(workers: int) -> ProcessPoolExecutor:
    # spawn: torch and faiss do not survive fork once their thread pools have started.
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_limit_threads, initargs=(workers,)
    )


def _limit_threads(workers: int) -> None:
    """Share the CPUs between the worker processes."""
    from seoga.models.embedders import available_cpus

    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, available_cpus() // workers)))
