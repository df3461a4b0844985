"""Session logs: clicks grouped into sessions, in time order, and the preparation the
session-based literature applies (each step a setting, so both variants can be reported).

A session log is an interaction log whose "user" is the session (`--session-column SessionId`);
a log of users with times can be cut into sessions wherever a user is idle longer than a gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seoga.errors import InputError
from seoga.recommend.data.interactions import IdMap, Interactions
from seoga.recommend.data.splits import Split

DEFAULT_GAP_SECONDS = 3600.0  # one hour, the usual session cut when no session id is logged
# A test session needs two events: one to start from, one to predict.
MIN_TEST_SESSION = 2


@dataclass(frozen=True)
class SessionSettings:
    drop_repeats: bool = False  # drop an event that repeats the session's previous item
    min_length: int = 1  # sessions shorter than this (after the other steps) are dropped
    min_item_support: int = 1  # items seen fewer times are dropped (repeated until stable)


def in_time_order(log: Interactions) -> np.ndarray:
    """Row order by session, then time, then file order."""
    if log.times is None:
        return np.lexsort((np.arange(len(log)), log.users))
    return np.lexsort((np.arange(len(log)), log.times, log.users))


def sessions_from_gaps(log: Interactions, gap_seconds: float = DEFAULT_GAP_SECONDS) -> Interactions:
    """Cut each user's events into sessions wherever they are idle longer than `gap_seconds`."""
    if log.times is None:
        raise InputError("cutting sessions by time gaps needs a time column (--time-column).")
    order = in_time_order(log)
    users, times = log.users[order], log.times[order]
    new = np.r_[True, (users[1:] != users[:-1]) | (np.diff(times) > gap_seconds)]
    session = np.cumsum(new) - 1
    names = IdMap.of(
        f"{log.user_ids.ids[users[row]]}-{number}" for number, row in enumerate(np.flatnonzero(new))
    )
    sessions = np.empty(len(log), dtype=np.int64)
    sessions[order] = session
    return Interactions(
        sessions, log.items, log.values, names, log.item_ids, log.kind, log.times, log.source
    )


def prepare_split(split: Split, settings: SessionSettings) -> Split:
    """Both parts prepared alike, the test part also without one-event sessions."""
    checked = SessionSettings(
        settings.drop_repeats, max(MIN_TEST_SESSION, settings.min_length), settings.min_item_support
    )
    return Split(prepare(split.train, settings), prepare(split.test, checked), split.name)


def prepare(log: Interactions, settings: SessionSettings) -> Interactions:
    """The log after dropping repeats, rare items and short sessions (rare / short repeated)."""
    keep = np.ones(len(log), dtype=bool)
    if settings.drop_repeats:
        order = in_time_order(log)
        users, items = log.users[order], log.items[order]
        repeat = np.r_[False, (users[1:] == users[:-1]) & (items[1:] == items[:-1])]
        keep[order[repeat]] = False
    while True:
        support = np.bincount(log.items[keep], minlength=log.n_items)
        lengths = np.bincount(log.users[keep], minlength=log.n_users)
        drop = keep & (
            (support[log.items] < settings.min_item_support)
            | (lengths[log.users] < settings.min_length)
        )
        if not drop.any():
            break
        keep &= ~drop
    if not keep.any():
        raise InputError("no session is left after the preparation; loosen its settings.")
    return log.subset(keep)


def sequences(log: Interactions) -> list[tuple[int, np.ndarray]]:
    """(session index, its items in time order) for every session of the log."""
    order = in_time_order(log)
    users, items = log.users[order], log.items[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    ends = np.r_[starts[1:], len(order)]
    return [(int(users[s]), items[s:e]) for s, e in zip(starts, ends, strict=True)]


def session_times(log: Interactions) -> tuple[np.ndarray, np.ndarray]:
    """Each session's first and last time (file positions stand in for a log without times)."""
    times = log.times if log.times is not None else np.arange(len(log), dtype=np.float64)
    first = np.full(log.n_users, np.inf)
    last = np.full(log.n_users, -np.inf)
    np.minimum.at(first, log.users, times)
    np.maximum.at(last, log.users, times)
    return first, last
