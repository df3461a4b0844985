"""POST /v1/events and the event log: who may write training data, how fast, what it may name,
and a log that is capped, rotated and readable by its owner only."""

import os
import stat

import pytest

from seoga.causal.logs import read_table
from seoga.errors import InputError
from seoga.eventlog import EVENTS_NAME, EventLog, event_files
from seoga.recommend import Columns, make_recommender, read_interactions
from seoga.serve.keys import EVENTS, KeyStore
from seoga.serve.limits import RateLimitedError, RateLimiter
from seoga.serve.settings import ANYONE
from tests import test_serve_api
from tests.test_serve_api import auth

served = test_serve_api.served  # the API tests' fixture: a served collection with every key

OWNER_ONLY = 0o600
GROUP_READABLE = 0o640
CAP_BYTES = 300
KEPT_FILES = 3
EVENTS_WRITTEN = 40
PER_MINUTE = 3
MINUTE = 60.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def click(item: str, **fields) -> dict:
    return {"type": "click", "item": item, **fields}


def post(client, events: list[dict], headers: dict | None = None):
    return client.post("/v1/events", json={"events": events}, headers=headers or {})


def logged(client) -> list[dict]:
    return client.app.state.service.events.read()


def test_search_keys_post_events_only_when_allowed_and_events_keys_always(served):
    settings = served.app.state.service.settings
    refused = post(served, [click(served.lease)], auth(served, "search"))
    assert refused.status_code == 403 and "--event-writers search" in refused.json()["detail"]
    assert logged(served) == []
    writer = auth(served, "events")
    assert post(served, [click(served.lease)], writer).status_code == 202
    assert post(served, [click(served.lease)], auth(served, "admin")).status_code == 202
    assert post(served, [click(served.lease)], auth(served, "bad")).status_code == 401
    # An events key also searches (the page that reports impressions searches too).
    assert served.get("/v1/search", params={"q": "계약"}, headers=writer).status_code == 200
    settings.event_writers = "search"
    assert post(served, [click(served.lease)], auth(served, "search")).status_code == 202
    assert len(logged(served)) == 3


def test_requests_without_a_key_post_events_only_with_anyone_on_an_open_server(served):
    settings = served.app.state.service.settings
    settings.open_search = True
    refused = post(served, [click(served.lease)])
    assert refused.status_code == 401 and "--event-writers anyone" in refused.json()["detail"]
    settings.event_writers = ANYONE
    assert post(served, [click(served.lease)]).status_code == 202
    assert post(served, [click(served.lease)], auth(served, "search")).status_code == 202
    settings.open_search = False
    assert post(served, [click(served.lease)]).status_code == 401
    assert len(logged(served)) == 2


def test_a_client_over_its_rate_gets_429_and_nothing_is_written(served):
    service = served.app.state.service
    clock = Clock()
    service.event_limiter = RateLimiter(PER_MINUTE, clock=clock)
    writer = auth(served, "events")
    assert post(served, [click(served.lease)] * 2, writer).status_code == 202
    over = post(served, [click(served.lease)] * 2, writer)
    assert over.status_code == 429 and int(over.headers["retry-after"]) >= 1
    assert len(logged(served)) == 2
    # With no event left to post, a client's body is not even validated: a flood costs little.
    assert post(served, [click(served.lease)], writer).status_code == 202
    invalid = served.post("/v1/events", json={"events": []}, headers=writer)
    assert invalid.status_code == 429
    # Each key has its own budget; a request larger than a minute's is refused outright.
    assert post(served, [click(served.lease)] * 2, auth(served, "admin")).status_code == 202
    assert post(served, [click(served.lease)] * 4, auth(served, "admin")).status_code == 400
    clock.now += MINUTE
    assert post(served, [click(served.lease)] * 2, writer).status_code == 202
    assert len(logged(served)) == 7


def test_events_naming_unknown_items_are_refused_whole(served, tmp_path):
    writer = auth(served, "events")
    refused = post(served, [click(served.lease), click("forged-item")], writer)
    assert refused.status_code == 400 and "'forged-item'" in refused.json()["detail"]
    assert not (tmp_path / "kb" / EVENTS_NAME).exists()
    # An item of the recommender's catalogue is known even when no document has its id.
    log = tmp_path / "catalogue.csv"
    log.write_text("user,item\nu1,catalogue-item\nu2,catalogue-item\n", encoding="utf-8")
    recommender = make_recommender("popular").fit(read_interactions(log, Columns("user", "item")))
    served.app.state.service.recommender = recommender
    assert post(served, [click("catalogue-item")], writer).status_code == 202


def test_user_and_session_ids_with_control_characters_are_refused(served):
    for field in ("user", "session"):
        for value in ("u1\nforged", "u\x00", "u\x1b[31m", "u\x85", ""):
            event = click(served.lease, **{field: value})
            response = post(served, [event], auth(served, "events"))
            assert response.status_code == 422, (field, value)
    assert logged(served) == []
    assert post(served, [click(served.lease, user="사용자-1 ü")], auth(served, "events")).is_success


def test_the_log_rotates_keeping_at_most_n_files_each_under_the_cap(tmp_path):
    log = EventLog(tmp_path, max_bytes=CAP_BYTES, keep=KEPT_FILES)
    for number in range(EVENTS_WRITTEN):
        log.append([click(f"doc-{number}", user="u1")])
    log.append([click(f"doc-{EVENTS_WRITTEN + i}") for i in range(5)])  # one batch, rotating
    files = event_files(tmp_path)
    assert [path.name for path in files] == ["events.2.jsonl", "events.1.jsonl", EVENTS_NAME]
    assert all(0 < path.stat().st_size <= CAP_BYTES for path in files)
    numbers = [int(event["item"].removeprefix("doc-")) for event in log.read()]
    last = EVENTS_WRITTEN + 5
    assert numbers == list(range(last - len(numbers), last))  # the newest events, in order
    # A server started with fewer files to keep drops the surplus at its next rotation.
    smaller = EventLog(tmp_path, max_bytes=CAP_BYTES, keep=1)
    smaller.append([click(f"doc-{number}") for number in range(EVENTS_WRITTEN)])
    assert event_files(tmp_path) == [tmp_path / EVENTS_NAME]


def test_log_files_are_created_for_the_owner_only_and_an_existing_mode_is_kept(tmp_path):
    previous = os.umask(0)
    try:
        log = EventLog(tmp_path / "new", max_bytes=CAP_BYTES, keep=KEPT_FILES)
        log.root.mkdir()
        for number in range(EVENTS_WRITTEN):
            log.append([click(f"doc-{number}")])
        assert len(log.files()) == KEPT_FILES
        assert {stat.S_IMODE(path.stat().st_mode) for path in log.files()} == {OWNER_ONLY}
        kept = tmp_path / "kept"
        kept.mkdir()
        (kept / EVENTS_NAME).touch(mode=GROUP_READABLE)
        EventLog(kept).append([click("doc")])
        assert stat.S_IMODE((kept / EVENTS_NAME).stat().st_mode) == GROUP_READABLE
    finally:
        os.umask(previous)


def test_recommenders_and_causal_analysis_read_every_kept_file_of_a_folder(tmp_path):
    log = EventLog(tmp_path, max_bytes=CAP_BYTES, keep=KEPT_FILES)
    for number in range(EVENTS_WRITTEN):
        user, item = f"u{number % 4}", f"doc-{number % 3}"
        log.append([{"type": "impression", "item": item, "user": user, "list": "related"}])
        log.append([click(item, user=user)])
    kept = log.read()
    assert len(log.files()) == KEPT_FILES and len(kept) < 2 * EVENTS_WRITTEN
    assert len(read_interactions(tmp_path, Columns("user", "item"))) == len(kept)
    units = read_table(tmp_path)
    shown = {(e["user"], e["item"]) for e in kept if e["type"] == "impression"}
    assert set(zip(units["user"], units["item"], strict=True)) == shown


def test_the_rate_limiter_refills_per_client_and_forgets_the_oldest(tmp_path):
    clock = Clock()
    limiter = RateLimiter(PER_MINUTE, clock=clock, max_clients=2)
    limiter.take("a", PER_MINUTE)
    with pytest.raises(RateLimitedError) as over:
        limiter.take("a", 1)
    assert over.value.retry_after == MINUTE / PER_MINUTE
    limiter.take("b", PER_MINUTE)
    clock.now += MINUTE / PER_MINUTE
    limiter.take("a", 1)
    with pytest.raises(InputError):
        limiter.take("c", PER_MINUTE + 1)
    limiter.take("c", PER_MINUTE)  # a third client: the least recently seen ("b") is forgotten
    limiter.take("b", PER_MINUTE)


def test_keys_of_the_events_scope_are_made_by_the_cli(served, main_run):
    collection = served.app.state.service.root
    result = main_run("keys", "create", "--scope", EVENTS, "-c", str(collection))
    assert result.returncode == 0
    assert KeyStore(collection).check(result.stdout.strip()).scope == EVENTS
    wrong = main_run("serve", "-c", str(collection), "--event-writers", "everybody")
    assert wrong.returncode != 0 and "everybody" in " ".join(wrong.stderr.split())
