"""How many threads CPU work may use: the cores this process may run on, and a limit for a fit.

Small-batch training (a factorization machine, MF, GRU4Rec) gains little from a second thread
and loses much when the machine is busy: OpenMP threads spin-wait for each other, and a fit of
the FM took 3.9× longer with two threads beside another busy process than with one, while idle
the two were alike (BENCHMARKS.md, "Recommender fit speed"). The causal estimators' many small
regressions behave alike (a doubly-robust bootstrap: 23.9 s against 16.2 s beside a busy
process, 14.8 s against 15.5 s idle).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

ALL_CORES = 0  # a thread count that means every core this process may use
# What a recommender's fit uses unless told otherwise (see the module docstring).
FIT_THREADS = 1


def available_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def thread_count(threads: int) -> int:
    """`threads`, or every available core for ALL_CORES."""
    return available_cpus() if threads == ALL_CORES else threads


@contextmanager
def limited_native_threads(threads: int) -> Iterator[int]:
    """The BLAS and OpenMP libraries' threads held to `threads` (ALL_CORES: every core) for the
    block, without loading torch; yields the count."""
    count = thread_count(threads)
    with threadpool_limits(count):
        yield count


@contextmanager
def limited_threads(threads: int) -> Iterator[int]:
    """Torch's and the BLAS libraries' threads held to `threads` (ALL_CORES: every core) for
    the block, and given back after; yields the count."""
    # torch loads only for the models that train with it.
    import torch

    count = thread_count(threads)
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        with threadpool_limits(count, "blas"):
            yield count
    finally:
        torch.set_num_threads(before)
