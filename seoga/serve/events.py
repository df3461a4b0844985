"""Events posted to the server (views, clicks, …): which items they may name, and appending
them to the collection's event log within each client's rate."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from seoga.errors import InputError

if TYPE_CHECKING:
    from seoga.collection import Collection
    from seoga.eventlog import EventLog
    from seoga.recommend.base import Recommender
    from seoga.serve.limits import RateLimiter
    from seoga.serve.public import PublicIds

UNKNOWN_ITEMS_NAMED = 5  # an error names this many of the unknown items


def known_items(
    collection: Collection, recommender: Recommender | None, ids: list[str]
) -> set[str]:
    """Those of `ids` that are documents of the collection or items of the attached
    recommender's catalogue: the ids an event may name."""
    known = set(collection.store.titles(ids)) if collection.generation else set()
    if recommender is not None:
        known.update(item for item in ids if recommender.item_ids.get(item) is not None)
    return known


def record_events(
    events: list[dict[str, Any]],
    client: str,
    *,
    log: EventLog,
    limiter: RateLimiter,
    public_ids: Callable[[], PublicIds],
    known: Callable[[list[str]], set[str]],
) -> int:
    """Append `client`'s events (a key id, or an address) to `log` if it is within its rate and
    every item is `known`; otherwise nothing is written. The rate is checked first: it is cheap,
    and a client over it gets no lookups done for it (`public_ids` is called only after)."""
    limiter.take(client, len(events))
    # The log holds ids as the collection stores them, as recommenders fitted on it need.
    ids = public_ids()
    events = [{**event, "item": ids.internal(event["item"])} for event in events]
    items = sorted({event["item"] for event in events})
    found = known(items)
    unknown = [item for item in items if item not in found]
    if unknown:
        named = ", ".join(repr(ids.public(item)) for item in unknown[:UNKNOWN_ITEMS_NAMED])
        more = len(unknown) - UNKNOWN_ITEMS_NAMED
        raise InputError(
            f"unknown item {named}{f' and {more} more' if more > 0 else ''}: an event names a "
            "document of this collection or an item of the recommender's catalogue; no event "
            "of this request was recorded."
        )
    return log.append(events)
