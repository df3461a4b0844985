"""A log read as the commands, the tuner and the API read it: its columns, then cut into
sessions at idle gaps, then (for implicit feedback) reduced to its positives."""

from __future__ import annotations

from pathlib import Path

from seoga.errors import InputError
from seoga.recommend.data.columns import Columns
from seoga.recommend.data.interactions import Interactions
from seoga.recommend.data.log_files import read_interactions
from seoga.recommend.data.sessions import sessions_from_gaps


def read_log(
    path: Path,
    user: str | None,
    item: str | None,
    rating: str | None,
    weight: str | None,
    time: str | None,
    implicit: bool,
    min_rating: float | None,
    session_gap: float | None = None,
) -> Interactions:
    """The log at `path`, its roles in the named (or 0-based) columns; each user's events cut
    into sessions at gaps over `session_gap` seconds; only positives when `implicit`."""
    log = read_interactions(path, Columns(user, item, rating, weight, time))
    if session_gap is not None:
        if session_gap <= 0:
            raise InputError(
                f"--session-gap must be a positive number of seconds, not {session_gap}."
            )
        log = sessions_from_gaps(log, session_gap)
    return log.positives(min_rating) if implicit else log
