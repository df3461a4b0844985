"""Where the ingestion batches run: here, in a pool of local processes, or on a Dask cluster.

Each executor maps `process_batch` over the batches and yields the results in batch order
(whatever order they finish in), so the writer commits the same collection whichever ran them.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from typing import Protocol

from seoga.errors import InputError
from seoga.parallel.pipeline import MODELS, FileTask, IngestSpec, Processed, process_batch

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class Executor(Protocol):
    name: str
    workers: int  # batches it runs at once: what the batches are sized for

    def map(self, spec: IngestSpec, batches: list[list[FileTask]]) -> Iterator[Processed]:
        """`process_batch` over the batches, results in batch order."""
        ...

    def close(self) -> None: ...


class InProcess:
    """The batches one after another in this process (torch uses all the cores)."""

    name = "in-process"
    workers = 1

    def map(self, spec: IngestSpec, batches: list[list[FileTask]]) -> Iterator[Processed]:
        for batch in batches:
            yield process_batch(spec, batch)

    def close(self) -> None:
        """Nothing to release."""


def threads_per_worker(workers: int) -> int:
    """Math threads each worker may use so that the workers together fill the cores."""
    return max(1, (os.cpu_count() or 1) // workers)


def start_worker(spec: IngestSpec, threads: int) -> None:
    """A pool process's first act: its share of the cores, then its models, once.

    The thread counts go into the environment before torch loads: its OpenMP runtime sizes
    itself from OMP_NUM_THREADS when it starts, and `torch.set_num_threads` later does not
    undo that (2 workers indexed at 0.59× one process without it, 0.82× with it; Dask's nanny
    sets the same variables for its workers). numpy's BLAS, loaded already, is limited in place.
    """
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(threads)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(limits=threads)
    MODELS.load(spec)


class ProcessPool:
    """`workers` local processes (spawned, each loading its models once), results in order."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise InputError(f"--workers must be at least 1, not {workers}.")
        self.workers = workers
        self.name = f"{workers} local processes"
        self._pool: ProcessPoolExecutor | None = None

    def map(self, spec: IngestSpec, batches: list[list[FileTask]]) -> Iterator[Processed]:
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=start_worker,
            initargs=(spec, threads_per_worker(self.workers)),
        )
        yield from self._pool.map(process_batch, repeat(spec), batches)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def make_executor(workers: int | None = None, dask: str | None = None):
    """The executor the CLI options name: `--dask ADDRESS|local:N`, `--workers N`, or here."""
    if dask and workers:
        raise InputError("give --workers or --dask, not both.")
    if dask:
        from seoga.parallel.dask import DaskExecutor

        return DaskExecutor(dask)
    if workers and workers > 1:
        return ProcessPool(workers)
    return InProcess()
