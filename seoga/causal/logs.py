"""Interaction logs as a table of units: CSV, JSONL, or the event log `seoga serve` writes.

A CSV or JSONL file is read as it is: one row per unit, a column per graph node. The server's
event log (`events.jsonl`: impressions and clicks, each with a user or session, an item and the
list it was shown in; a collection folder means all its kept files, rotated ones included) becomes
one row per (user, item) that was shown, with
- `recommended`: 1 if the item was shown to that user in a recommendation list (related,
  recommend), else 0 (shown in search results only);
- `clicked`: 1 if that user opened the item;
- `popularity`: log(1 + the item's impressions in search results, all users): how much people
  look for it on their own;
- `activity`: log(1 + the user's distinct queries): how much the user searches.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from seoga.causal.values import JSONL_SUFFIXES, note_source
from seoga.errors import InputError
from seoga.eventlog import EVENT_TYPES, EVENTS_NAME, RECOMMENDATION_LISTS, event_files
from seoga.recommend.data.textfiles import json_objects, read_text

SEARCH_LIST = "search"


def is_event_log(rows: list[dict]) -> bool:
    return bool(rows) and all(row.get("type") in EVENT_TYPES and "item" in row for row in rows)


def events_table(events: list[dict], where: str = "the event log") -> pd.DataFrame:
    """One row per (user or session, item) shown, as the module says."""
    frame = pd.DataFrame(events)
    for column in ("user", "session", "list", "query"):
        if column not in frame:
            frame[column] = None
    frame["who"] = frame["user"].fillna(frame["session"])
    frame = frame[frame["who"].notna()]
    if frame.empty:
        raise InputError(f"{where}: no event names a user or a session; units cannot be formed.")
    shown = frame[frame["type"] == "impression"]
    if shown.empty:
        raise InputError(f"{where}: no impressions; the page reports them as it shows results.")
    clicks = frame[frame["type"] == "click"]
    units = shown.groupby(["who", "item"]).agg(
        recommended=("list", lambda lists: int(lists.isin(RECOMMENDATION_LISTS).any()))
    )
    clicked = set(zip(clicks["who"], clicks["item"], strict=True))
    units["clicked"] = [int(key in clicked) for key in units.index]
    searched = shown[shown["list"].fillna(SEARCH_LIST) == SEARCH_LIST]
    item_views = searched.groupby("item").size()
    queries = frame.dropna(subset=["query"]).groupby("who")["query"].nunique()
    units = units.reset_index().rename(columns={"who": "user"})
    units["popularity"] = np.log1p(units["item"].map(item_views).fillna(0).to_numpy(float))
    units["activity"] = np.log1p(units["user"].map(queries).fillna(0).to_numpy(float))
    return units


def read_table(path: str | Path) -> pd.DataFrame:
    """Units from a CSV, a JSONL of rows, an event log, or a collection folder (its events)."""
    path = Path(path)
    if path.is_dir():
        files = event_files(path)
        if not files:
            raise InputError(f"{path} has no {EVENTS_NAME}: serve it and use the page.")
        # The server rotates its log: read every kept file, oldest first.
        rows = [row for file in files for _, row in json_objects(file, read_text(file))]
        if not is_event_log(rows):
            raise InputError(f"{path}: its event log holds no impressions or clicks.")
        return events_table(rows, str(path))
    if not path.exists():
        raise InputError(f"{path} does not exist: give a CSV, a JSONL or an event log.")
    if path.suffix.lower() in JSONL_SUFFIXES:
        rows = [row for _, row in json_objects(path, read_text(path))]
        if is_event_log(rows):
            return events_table(rows, str(path))
        frame = pd.DataFrame(rows)
    else:
        try:
            frame = pd.read_csv(path)
        except (pd.errors.ParserError, UnicodeDecodeError) as error:
            raise InputError(f"{path}: not a readable CSV ({error}).") from None
    if frame.empty:
        raise InputError(f"{path} holds no rows.")
    return note_source(frame, path)
