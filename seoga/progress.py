"""Progress bars for long work, shown on stderr so `--json` output stays clean."""

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import track as rich_track

Item = TypeVar("Item")

progress_console = Console(stderr=True)


def track(
    items: Iterable[Item], description: str, *, total: int | None = None, enabled: bool = True
) -> Iterator[Item]:
    """Iterate `items`, with a progress bar when `enabled`."""
    if not enabled:
        yield from items
        return
    yield from rich_track(
        items, description=description, total=total, console=progress_console, transient=True
    )
