"""What `seoga recommend` asks a model, as lists that say where they come from.

Item ids come as a command line gives them (`seoga.recommend.data.log_files.split_ids`: an id
the model knows is taken whole, commas and all); an id the model does not know stops the
command with its name rather than being dropped. A list that is not the model's own — the most
popular items, for a user it never saw — carries a note saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from seoga.errors import InputError
from seoga.recommend.base import POPULAR_FALLBACK, Recommendation, Recommender
from seoga.recommend.data.log_files import parse_history, split_ids
from seoga.recommend.registry import require_able

# Unknown ids named in an error message; the rest are counted.
UNKNOWN_SHOWN = 5
POPULAR = "these are the most popular items, each scored by how many users have it"


@dataclass(frozen=True)
class ItemList:
    title: str
    hits: list[Recommendation]
    note: str = ""  # why the list is not the model's own, when it is not
    # Per item, the user's items that drove its score and how much (als --explain).
    reasons: dict[str, list[tuple[str, float]]] = field(default_factory=dict)


def for_user(
    recommender: Recommender,
    model: Path | str,
    user: str | None,
    k: int,
    *,
    history: Sequence[str] | None = None,
    include_seen: bool = False,
    explain: bool = False,
) -> ItemList:
    """Top-k items for a known user, or for a new one (`user` None) by their `history`: 'ITEM'
    or 'ITEM:RATING' values, or comma-separated ones. `model` names the folder."""
    title = f"for {user or 'a new user'}"
    if history is not None or user is None:
        if not history:
            raise InputError("a new user needs --history ITEM (once for each item).")
        chosen, ratings = parse_history(history, recommender.item_ids)
        require_known(recommender, chosen, history, "--history")
        hits = recommender.recommend_for_history(
            chosen, k, ratings=ratings, filter_seen=not include_seen
        )
        return ItemList(title, hits, _note(recommender, hits, None))
    hits = recommender.recommend(user, k, filter_seen=not include_seen)
    reasons = {}
    if explain and recommender.knows_user(user):
        require_able(recommender, model, "explain", "an als")
        reasons = {hit.item: recommender.explain(user, hit.item) for hit in hits}
    return ItemList(title, hits, _note(recommender, hits, user), reasons)


def next_items(recommender: Recommender, session_items: Sequence[str], k: int) -> ItemList:
    """The items most likely clicked next after `session_items` (oldest first)."""
    clicked = known_items(recommender, session_items, "--session-items")
    hits = recommender.recommend_for_history(clicked, k, filter_seen=False)
    return ItemList(f"after {clicked[-1]}", hits, _note(recommender, hits, None))


def predictions(recommender: Recommender, user: str, items: Sequence[str]) -> list[dict]:
    """The model's score of `user` for each item (one id each), and whether it knows both."""
    scores = recommender.predict([user] * len(items), items)
    return [
        {
            "user": user,
            "item": item,
            "score": round(float(score), 4),
            "known_user": recommender.knows_user(user),
            "known_item": recommender.knows_item(item),
        }
        for item, score in zip(items, scores, strict=True)
    ]


def known_items(recommender: Recommender, values: Sequence[str], option: str) -> list[str]:
    """The item ids in `values` (see `split_ids`), each one the model knows."""
    ids = split_ids(values, recommender.item_ids)
    if not ids:
        raise InputError(f"{option} is empty; give item ids.")
    require_known(recommender, ids, values, option)
    return ids


def require_known(
    recommender: Recommender, ids: Sequence[str], values: Sequence[str], option: str
) -> None:
    """Stop on ids the model does not know, naming them (`values`: as they were given)."""
    unknown = list(dict.fromkeys(raw for raw in ids if raw not in recommender.item_ids))
    if not unknown:
        return
    shown = ", ".join(repr(raw) for raw in unknown[:UNKNOWN_SHOWN])
    more = f" and {len(unknown) - UNKNOWN_SHOWN} more" if len(unknown) > UNKNOWN_SHOWN else ""
    split = any("," in value for value in values)
    hint = (
        f"; an id holding commas is taken whole when this model knows it: give such an id "
        f"alone, one {option} each"
        if split
        else ""
    )
    raise InputError(
        f"{option}: not items of this model: {shown}{more} (it knows {len(recommender.item_ids)} "
        f"items, e.g. {recommender.item_ids.ids[:3]}){hint}."
    )


def _note(recommender: Recommender, hits: list[Recommendation], user: str | None) -> str:
    """What a list of popular items stands in for (empty when the model scored them itself)."""
    if not any(hit.source == POPULAR_FALLBACK for hit in hits):
        return ""
    if user is None:
        return f"the {recommender.name} model cannot score a new user's items: {POPULAR}."
    if not recommender.knows_user(user):
        return (
            f"user {user!r} is not in this model (no interactions in its training log): "
            f"{POPULAR}; a new user's items can be given with --history."
        )
    return f"the {recommender.name} model cannot score user {user!r}: {POPULAR}."
