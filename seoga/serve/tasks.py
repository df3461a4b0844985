"""Writes of a served collection, one at a time: each request becomes a task with an id.

As Meilisearch does it: a write is answered at once (202 with the task), runs on the one writer
thread in the order it came, and is polled at `GET /v1/tasks/{id}`. Searches never wait for it:
the collection's generations let readers keep the old one until the new one is live.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from seoga.errors import SeogaError

ENQUEUED = "enqueued"
PROCESSING = "processing"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELED = "canceled"
KEPT_TASKS = 1_000  # finished tasks remembered for polling; older ones are forgotten

log = logging.getLogger(__name__)


@dataclass
class Task:
    task_id: int
    kind: str
    status: str = ENQUEUED
    enqueued: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TaskQueue:
    """A single writer thread and the record of what it was given."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seoga-writer")
        self._tasks: OrderedDict[int, Task] = OrderedDict()
        self._futures: dict[int, Future] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def submit(self, kind: str, work: Callable[[], dict[str, Any]]) -> Task:
        with self._lock:
            task = Task(next(self._ids), kind)
            self._tasks[task.task_id] = task
            self._forget_old()
            self._futures[task.task_id] = self._executor.submit(self._run, task, work)
        return task

    def _run(self, task: Task, work: Callable[[], dict[str, Any]]) -> None:
        task.status, task.started = PROCESSING, time.time()
        try:
            task.result = work()
            task.status = SUCCEEDED
        except SeogaError as error:
            task.status, task.error = FAILED, str(error)
        except Exception as error:  # a writer bug must not kill the writer thread
            log.exception("task %s (%s) failed", task.task_id, task.kind)
            task.status, task.error = FAILED, f"{type(error).__name__}: {error}"
        finally:
            task.finished = time.time()
            self._futures.pop(task.task_id, None)

    def get(self, task_id: int) -> Task | None:
        return self._tasks.get(task_id)

    def recent(self, limit: int) -> list[Task]:
        return list(self._tasks.values())[-limit:][::-1]

    def wait(self, task: Task, timeout: float | None = None) -> Task:
        future = self._futures.get(task.task_id)
        if future is not None:
            future.exception(timeout=timeout)
        return task

    def pending(self) -> int:
        return sum(task.status in (ENQUEUED, PROCESSING) for task in self._tasks.values())

    def shutdown(self) -> None:
        """Finish the task that is running; the ones still queued are canceled (a write
        that never started leaves the collection as it was)."""
        for task_id, future in list(self._futures.items()):
            if future.cancel():
                self._tasks[task_id].status = CANCELED
        self._executor.shutdown(wait=True)

    def _forget_old(self) -> None:
        while len(self._tasks) > KEPT_TASKS:
            oldest = next(iter(self._tasks))
            if self._tasks[oldest].status in (ENQUEUED, PROCESSING):
                break
            self._tasks.popitem(last=False)
