"""The HTTP API: routes, keys and scopes, limits, the event log and writes as tasks."""

import json
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from seoga.collection import Collection
from seoga.eventlog import EVENTS_NAME
from seoga.recommend import Columns, make_recommender, read_interactions
from seoga.serve import ServeSettings, create_app
from seoga.serve.gate import SearchGate
from seoga.serve.keys import ADMIN, EVENTS, KEYS_NAME, SEARCH, KeyStore
from seoga.serve.problems import BusyError
from seoga.settings import CollectionSettings

LEASE = (
    "주택 임대차 계약의 갱신 조건과 계약갱신요구권에 관한 설명입니다. "
    "임차인은 갱신을 요구할 수 있습니다."
)
DPR = "Dense passage retrieval trains a dual encoder with in-batch negatives and hard negatives."
SCRIPT = "A note that quotes <script>alert('x')</script> and <img src=x onerror=alert(1)> as text."
WRITERS = 8
DOCUMENTS_PER_WRITER = 3
SEARCHES_DURING_WRITE = 20
LOOPBACK = "http://127.0.0.1"


def write_docs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lease.txt").write_text(LEASE, encoding="utf-8")
    (folder / "dpr.md").write_text(f"# Dense retrieval\n\n{DPR}\n", encoding="utf-8")
    (folder / "script.txt").write_text(SCRIPT, encoding="utf-8")
    return folder


@pytest.fixture
def served(tmp_path, tiny_model):
    """A collection of three files and one API document, keys of every scope, a popularity
    recommender, and the allowed root `tmp_path/allowed`."""
    docs = write_docs(tmp_path / "docs")
    settings = CollectionSettings(embedder=str(tiny_model), chunk_tokens=48, chunk_overlap=8)
    collection = Collection.create(tmp_path / "kb", settings)
    collection.add([docs])
    lease = str(docs.resolve() / "lease.txt")
    log = tmp_path / "log.csv"
    log.write_text(f"user,item\nu1,{lease}\nu2,{lease}\n", encoding="utf-8")
    model = make_recommender("popular").fit(read_interactions(log, Columns("user", "item")))
    model.save(tmp_path / "rec")
    keys = KeyStore(tmp_path / "kb")
    search_key, _ = keys.create(SEARCH)
    events_key, _ = keys.create(EVENTS)
    admin_key, _ = keys.create(ADMIN)
    allowed = tmp_path / "allowed"
    write_docs(allowed / "more")
    app = create_app(
        ServeSettings(
            collection=tmp_path / "kb",
            recommender=tmp_path / "rec",
            allowed_roots=[allowed],
            max_body_bytes=64 * 1024,
        )
    )
    # A loopback Host: TestClient's default "testserver" is not one the server answers.
    with TestClient(app, base_url=LOOPBACK) as client:
        client.keys = {
            "search": search_key,
            "events": events_key,
            "admin": admin_key,
            "bad": "sg_" + "x" * 43,
        }
        client.lease = "docs/lease.txt"  # as the API names it: under its folder's label
        client.lease_path = lease  # as the collection stores it
        client.allowed = allowed
        yield client


def auth(client, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.keys[who]}"}


def put(client, documents: list[dict], **params) -> dict:
    response = client.post(
        "/v1/documents",
        json={"documents": documents},
        params={"wait": True, **params},
        headers=auth(client, "admin"),
    )
    assert response.status_code == 202, response.text
    return response.json()


def test_search_returns_text_segments_offsets_and_filters(served):
    response = served.get(
        "/v1/search",
        params={"q": "계약 갱신", "k": 3, "mode": "bm25"},
        headers=auth(served, "search"),
    )
    assert response.status_code == 200
    body = response.json()
    top = body["hits"][0]
    assert top["id"] == served.lease
    assert any(part["hit"] and "갱신" in part["text"] for part in top["snippet"])
    assert "".join(part["text"] for part in top["snippet"]) in LEASE
    three, second = (
        served.get(
            "/v1/search", params={"q": "계약 갱신", **page}, headers=auth(served, "search")
        ).json()["hits"]
        for page in ({"k": 3}, {"k": 1, "offset": 1})
    )
    assert [hit["id"] for hit in second] == [three[1]["id"]]
    only_md = served.get(
        "/v1/search",
        params={"q": "계약 갱신", "k": 3, "source": str(Path(served.lease).with_name("dpr.md"))},
        headers=auth(served, "search"),
    ).json()
    assert [hit["title"] for hit in only_md["hits"]] == ["Dense retrieval"]
    for params in ({"q": "x", "k": 0}, {"q": "x", "k": 101}, {"q": ""}, {"q": "x", "mode": "sql"}):
        assert (
            served.get("/v1/search", params=params, headers=auth(served, "search")).status_code
            == 422
        )
    deep = served.get(
        "/v1/search", params={"q": "x", "k": 100, "offset": 950}, headers=auth(served, "search")
    )
    assert deep.status_code == 400 and "offset + k" in deep.json()["detail"]
    bad_filter = served.get(
        "/v1/search", params={"q": "x", "filter": "nocolon"}, headers=auth(served, "search")
    )
    assert bad_filter.status_code == 400 and "key:value" in bad_filter.json()["detail"]


def test_metadata_filters_keep_only_matching_documents(served):
    put(
        served,
        [
            {"id": "a", "text": "계약 갱신 안내 2024", "metadata": {"year": 2024}},
            {"id": "b", "text": "계약 갱신 안내 2023", "metadata": {"year": 2023}},
        ],
    )
    hits = served.get(
        "/v1/search",
        params={"q": "계약 갱신 안내", "filter": "year:2023"},
        headers=auth(served, "search"),
    ).json()["hits"]
    assert [hit["id"] for hit in hits] == ["b"]


def examples(client) -> dict[tuple[str, str], dict]:
    """A valid request for every route of the API (new routes must be added here)."""
    lease = client.lease
    return {
        ("get", "/v1/search"): {"params": {"q": "계약"}},
        ("post", "/v1/ask"): {"json": {"q": "계약 갱신은 어떻게 하나요?"}},
        ("get", "/v1/documents/{doc_id}"): {"url": f"/v1/documents/{lease}"},
        ("get", "/v1/related"): {"params": {"id": lease}},
        ("get", "/v1/recommend"): {"params": {"user": "u1"}},
        ("get", "/v1/info"): {},
        ("post", "/v1/events"): {"json": {"events": [{"type": "click", "item": lease}]}},
        ("post", "/v1/documents"): {"json": {"documents": [{"id": "n1", "text": "새 문서"}]}},
        ("delete", "/v1/documents/{doc_id}"): {"url": "/v1/documents/api-doc"},
        ("post", "/v1/index"): {"json": {"paths": [str(client.allowed / "more")]}},
        ("get", "/v1/tasks/{task_id}"): {"url": "/v1/tasks/1"},
        ("get", "/v1/tasks"): {},
    }


ADMIN_ROUTES = {
    ("post", "/v1/documents"),
    ("delete", "/v1/documents/{doc_id}"),
    ("post", "/v1/index"),
    ("get", "/v1/tasks/{task_id}"),
    ("get", "/v1/tasks"),
}
EVENTS_ROUTES = {("post", "/v1/events")}  # training data: keys of the events scope (or admin)
OPEN_ROUTES = {("get", "/health"), ("get", "/ready")}


def test_every_route_answers_each_kind_of_key_as_its_scope_says(served):
    put(served, [{"id": "api-doc", "text": "지울 문서"}])  # task 1, deleted below
    routes = {
        (method, path)
        for path, operations in served.app.openapi()["paths"].items()
        for method in operations
    }
    requests = examples(served)
    assert routes == set(requests) | OPEN_ROUTES, "every route needs an example request"
    for method, path in OPEN_ROUTES:
        assert served.request(method, path).status_code == 200
    for who in (None, "bad", "search", "events", "admin"):
        for (method, path), example in requests.items():
            example = dict(example)
            url = example.pop("url", path)
            headers = auth(served, who) if who else {}
            status = served.request(method, url, headers=headers, **example).status_code
            admin_only = (method, path) in ADMIN_ROUTES
            events_only = (method, path) in EVENTS_ROUTES
            expected = {
                None: 401,
                "bad": 401,
                "search": 403 if admin_only or events_only else 200,
                "events": 403 if admin_only else 200,
                "admin": 200,
            }[who]
            if expected == 200:
                assert 200 <= status < 300, (who, method, path, status)
            else:
                assert status == expected, (who, method, path, status)


def test_keys_are_stored_as_digests_and_revoking_takes_effect(served, tmp_path):
    stored = (tmp_path / "kb" / KEYS_NAME).read_text()
    assert served.keys["search"] not in stored and served.keys["admin"] not in stored
    keys = KeyStore(tmp_path / "kb")
    search_id = keys.check(served.keys["search"]).key_id
    assert served.get("/v1/info", headers=auth(served, "search")).status_code == 200
    keys.revoke(search_id)
    assert served.get("/v1/info", headers=auth(served, "search")).status_code == 401


def test_bodies_over_the_limit_are_refused_with_413(served):
    big = {"documents": [{"id": "big", "text": "가" * 70_000}]}
    response = served.post("/v1/documents", json=big, headers=auth(served, "admin"))
    assert response.status_code == 413


def test_index_refuses_paths_outside_the_roots_and_symbolic_links(served, tmp_path):
    outside = write_docs(tmp_path / "outside")
    link = served.allowed / "link"
    link.symlink_to(outside)
    inner = served.allowed / "more" / "inner-link.txt"
    inner.symlink_to(outside / "lease.txt")

    def index(path: str) -> int:
        return served.post(
            "/v1/index", json={"paths": [path]}, headers=auth(served, "admin")
        ).status_code

    assert index(str(outside)) == 403
    assert index(str(link)) == 403
    assert index(str(served.allowed / "more")) == 403  # a link below it
    assert index(str(served.allowed / "more" / ".." / ".." / "outside")) == 403
    assert index("relative/path") == 400
    inner.unlink()
    assert index(str(served.allowed / "more")) == 202


def test_cors_is_off_unless_origins_are_configured(served, tmp_path):
    preflight = {"Origin": "http://elsewhere.example", "Access-Control-Request-Method": "GET"}
    response = served.options("/v1/search", headers=preflight)
    assert "access-control-allow-origin" not in response.headers
    app = create_app(
        ServeSettings(collection=tmp_path / "kb", cors_origins=["http://elsewhere.example"]),
        service=served.app.state.service,
    )
    allowed = TestClient(app, base_url=LOOPBACK).options("/v1/search", headers=preflight)
    assert allowed.headers["access-control-allow-origin"] == "http://elsewhere.example"


def test_events_are_appended_as_interactions_recommenders_read(served, tmp_path):
    events = [
        {"type": "impression", "item": served.lease, "user": "u9", "query": "계약", "position": 0},
        {"type": "click", "item": served.lease, "user": "u9", "position": 0, "list": "related"},
    ]
    response = served.post("/v1/events", json={"events": events}, headers=auth(served, "events"))
    assert response.status_code == 202 and response.json() == {"accepted": 2}
    for wrong in ({"type": "purchase", "item": "x"}, {"type": "click", "item": "x", "list": "ad"}):
        bad = served.post("/v1/events", json={"events": [wrong]}, headers=auth(served, "events"))
        assert bad.status_code == 422
    log = tmp_path / "kb" / EVENTS_NAME
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["type"] for line in lines] == ["impression", "click"]
    assert lines[1]["list"] == "related"
    assert all(line["time"] > 0 for line in lines)
    interactions = read_interactions(log, Columns("user", "item"))
    assert len(interactions) == 2


def test_ask_answers_as_json_and_as_a_stream_of_events(served):
    question = {"q": "임차인은 갱신을 요구할 수 있나요?"}
    plain = served.post("/v1/ask", json=question, headers=auth(served, "search"))
    assert plain.status_code == 200
    answer = plain.json()
    assert answer["citations"] and served.lease in [p["doc_id"] for p in answer["passages"]]
    with served.stream(
        "POST", "/v1/ask", json={**question, "stream": True}, headers=auth(served, "search")
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    names = [line[len("event: ") :] for line in text.splitlines() if line.startswith("event: ")]
    assert names[0] == "passages" and names[-1] == "answer"
    final = json.loads(text.strip().splitlines()[-1][len("data: ") :])
    assert final["text"] == answer["text"] and final["citations"] == answer["citations"]


def test_documents_are_added_read_found_and_deleted_through_tasks(served):
    task = put(
        served, [{"id": "note-1", "title": "전세 안내", "text": "전세 보증금 반환 절차 안내"}]
    )
    assert task["status"] == "succeeded" and task["result"]["added"] == ["api:note-1"]
    document = served.get("/v1/documents/note-1", headers=auth(served, "search")).json()
    assert document["title"] == "전세 안내" and document["text"] == "전세 보증금 반환 절차 안내"
    hits = served.get(
        "/v1/search", params={"q": "전세 보증금", "mode": "bm25"}, headers=auth(served, "search")
    )
    assert hits.json()["hits"][0]["id"] == "note-1"  # the server follows the new generation
    polled = served.get(f"/v1/tasks/{task['task_id']}", headers=auth(served, "admin")).json()
    assert polled["status"] == "succeeded"
    deleted = served.delete(
        "/v1/documents/note-1", params={"wait": True}, headers=auth(served, "admin")
    ).json()
    assert deleted["status"] == "succeeded"
    assert served.get("/v1/documents/note-1", headers=auth(served, "search")).status_code == 404
    taken = served.post(
        "/v1/documents",
        json={"documents": [{"id": served.lease_path, "text": "x"}]},
        headers=auth(served, "admin"),
    )
    assert taken.status_code == 400 and "taken" in taken.json()["detail"]


def test_searches_keep_answering_while_documents_are_written(served):
    writer = threading.Thread(
        target=put, args=(served, [{"id": f"w{i}", "text": f"문서 {i} 계약"} for i in range(30)])
    )
    writer.start()
    statuses = [
        served.get("/v1/search", params={"q": "계약"}, headers=auth(served, "search")).status_code
        for _ in range(SEARCHES_DURING_WRITE)
    ]
    writer.join()
    assert statuses == [200] * SEARCHES_DURING_WRITE


def test_concurrent_writes_are_serialised_without_loss(served):
    before = served.get("/v1/info", headers=auth(served, "search")).json()["counts"]["documents"]
    writers = [
        threading.Thread(
            target=put,
            args=(
                served,
                [{"id": f"t{w}-{i}", "text": f"글 {w} {i}"} for i in range(DOCUMENTS_PER_WRITER)],
            ),
        )
        for w in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    after = served.get("/v1/info", headers=auth(served, "search")).json()["counts"]["documents"]
    assert after == before + WRITERS * DOCUMENTS_PER_WRITER


def test_a_full_search_queue_answers_503_with_retry_after(served):
    service = served.app.state.service
    service.gate = SearchGate(slots=1, queue=0, seconds=0.01)
    with service.gate:
        response = served.get("/v1/search", params={"q": "계약"}, headers=auth(served, "search"))
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    gate = SearchGate(slots=1, queue=1, seconds=0.01)
    with gate, pytest.raises(BusyError):
        gate.__enter__()


def test_related_and_recommend(served):
    related = served.get(
        "/v1/related", params={"id": served.lease, "k": 2}, headers=auth(served, "search")
    ).json()
    assert len(related.get("related", [])) == 2, related
    assert served.lease not in [item["doc_id"] for item in related["related"]]
    recommended = served.get(
        "/v1/recommend", params={"history": "nothing-known"}, headers=auth(served, "search")
    ).json()
    assert recommended["items"][0]["id"] == served.lease  # the popular one


def test_open_mode_lets_requests_without_a_key_search_but_not_write(served):
    served.app.state.service.settings.open_search = True
    assert served.get("/v1/search", params={"q": "계약"}).status_code == 200
    assert served.get("/v1/tasks").status_code == 401
    bad = {"Authorization": "Bearer nope"}
    assert served.get("/v1/search", params={"q": "계약"}, headers=bad).status_code == 401
