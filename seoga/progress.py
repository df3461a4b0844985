"""Progress for long work, one style everywhere, on stderr so `--json` output stays clean.

On a terminal it is a rich bar that disappears when done. Anywhere else (a log file, CI, a
pipe) a bar would write hundreds of carriage-return updates per line; there it becomes a few
plain lines instead: the start, every tenth of the way, and the end, each with the rate and the
time left.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

Item = TypeVar("Item")

progress_console = Console(stderr=True)
PLAIN_STEPS = 10  # lines written between the first and the last when not on a terminal
SECONDS_PER_MINUTE = 60


class PlainLines:
    """Progress as a few lines of text: `update(n)` as work is done, `close()` at the end."""

    def __init__(self, total: int | None, description: str) -> None:
        self.total = total
        self.description = description
        self.done = 0
        self.postfix = ""
        self.started = time.perf_counter()
        self._next_step = 1
        self._write(f"{description}: started" + (f", {total:,} to do" if total else ""))

    def update(self, count: int = 1) -> None:
        self.done += count
        if not self.total:
            return
        reached = self.done * PLAIN_STEPS // self.total
        if self._next_step <= reached < PLAIN_STEPS:
            self._next_step = reached + 1
            self._write(self._line())

    def set_postfix(self, **values: object) -> None:
        """Figures shown after the counts (say, the running loss)."""
        self.postfix = ", ".join(f"{name} {value}" for name, value in values.items())

    def close(self) -> None:
        elapsed = time.perf_counter() - self.started
        self._write(f"{self.description}: {self.done:,} done in {clock(elapsed)}{self._tail()}")

    def _tail(self) -> str:
        return f" ({self.postfix})" if self.postfix else ""

    def _line(self) -> str:
        elapsed = time.perf_counter() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        return (
            f"{self.description}: {self.done:,}/{self.total:,} ({self.done / self.total:.0%}), "
            f"{pace(self.done, elapsed)}, {clock(left)} left{self._tail()}"
        )

    @staticmethod
    def _write(line: str) -> None:
        progress_console.print(line, highlight=False, markup=False, soft_wrap=True)


class RichBar:
    """The terminal's bar, with the same `update` / `close` as PlainLines."""

    def __init__(self, total: int | None, description: str) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=progress_console,
            transient=True,
        )
        self._progress.start()
        self._description = description
        self._task = self._progress.add_task(description, total=total)

    def update(self, count: int = 1) -> None:
        self._progress.advance(self._task, count)

    def set_postfix(self, **values: object) -> None:
        shown = ", ".join(f"{name} {value}" for name, value in values.items())
        self._progress.update(self._task, description=f"{self._description} ({shown})")

    def close(self) -> None:
        self._progress.stop()


class Silent:
    def update(self, count: int = 1) -> None:
        """Nothing is shown."""

    def set_postfix(self, **values: object) -> None:
        """Nothing is shown."""

    def close(self) -> None:
        """Nothing to close."""


def pace(done: int, seconds: float) -> str:
    """How fast work goes: so many a second, or, for slow steps (epochs), seconds each."""
    if done <= 0 or seconds <= 0:
        return "starting"
    rate = done / seconds
    return f"{rate:,.1f}/s" if rate >= 1 else f"{seconds / done:,.1f} s each"


def clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), SECONDS_PER_MINUTE)
    return f"{minutes}:{rest:02d}"


@contextmanager
def progress(total: int | None, description: str, *, enabled: bool = True):
    """A progress display to `update(n)` as work is done: a bar on a terminal, plain lines
    elsewhere, nothing when not `enabled`."""
    if not enabled:
        shown = Silent()
    elif progress_console.is_terminal:
        shown = RichBar(total, description)
    else:
        shown = PlainLines(total, description)
    try:
        yield shown
    finally:
        shown.close()


def terminal_bars(enabled: bool) -> bool:
    """Whether a library's own bars (transformers' Trainer) may draw: only on a terminal;
    elsewhere the Trainer prints its periodic log lines instead."""
    return enabled and progress_console.is_terminal


def track(
    items: Iterable[Item], description: str, *, total: int | None = None, enabled: bool = True
) -> Iterator[Item]:
    """Iterate `items`, showing progress when `enabled`."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress(total, description, enabled=enabled) as shown:
        for item in items:
            yield item
            shown.update()
