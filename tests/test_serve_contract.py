"""The API keeps its documented contract under every parameter and any input.

Cases are generated from the OpenAPI schema: each documented parameter of every route, at each
valid value its schema allows (bounds, choices, booleans) answers 2xx, at a value just outside
it 4xx. Then hypothesis throws arbitrary values at every route: no answer is a 5xx. Ids that
hold '/', '%', spaces and Hangul are read, related and deleted; no answer names a server path.
"""

import json
import re
import threading
import time
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seoga.collection import Collection
from seoga.recommend import Columns, make_recommender, read_interactions
from seoga.serve import ServeSettings, create_app
from seoga.serve.gate import SearchGate
from seoga.serve.keys import ADMIN, KeyStore
from seoga.settings import CollectionSettings

LOOPBACK = "http://127.0.0.1"
LEASE = "주택 임대차 계약의 갱신 조건과 계약갱신요구권에 관한 설명입니다."
DPR = "Dense passage retrieval trains a dual encoder with in-batch negatives."
LEASE_ID = "docs/lease.txt"  # as the API names the file docs/lease.txt
DELETED_ID = "to-delete"
FUZZ_EXAMPLES = 40
# Parameters whose values are free text: they also take the longest value their schema allows.
FREE_TEXT = {"q", "query", "title", "source", "user", "session"}
BLOCKED_SEARCHES = 45  # more than the worker threads (40) that sync routes run on
HEALTH_SECONDS = 1.0
GATE_SECONDS = 5.0
PAUSE_SECONDS = 0.5


@pytest.fixture(scope="module")
def api(tmp_path_factory, tiny_model):
    """A served collection (docs/lease.txt, docs/dpr.md, an API document, a popularity
    recommender) behind an admin key; `root` is the temporary folder it all lies in."""
    root = tmp_path_factory.mktemp("contract")
    docs = root / "docs"
    docs.mkdir()
    (docs / "lease.txt").write_text(LEASE, encoding="utf-8")
    (docs / "dpr.md").write_text(f"# Dense retrieval\n\n{DPR}\n", encoding="utf-8")
    settings = CollectionSettings(embedder=str(tiny_model), chunk_tokens=48, chunk_overlap=8)
    Collection.create(root / "kb", settings).add([docs])
    lease = str(docs.resolve() / "lease.txt")
    log = root / "log.csv"
    log.write_text(f"user,item\nu1,{lease}\nu2,{lease}\n", encoding="utf-8")
    make_recommender("popular").fit(read_interactions(log, Columns("user", "item"))).save(
        root / "rec"
    )
    key, _ = KeyStore(root / "kb").create(ADMIN)
    allowed = root / "allowed" / "more"
    allowed.mkdir(parents=True)
    (allowed / "note.txt").write_text("전세 보증금 반환 안내", encoding="utf-8")
    app = create_app(
        ServeSettings(
            collection=root / "kb",
            recommender=root / "rec",
            allowed_roots=[root / "allowed"],
            max_body_bytes=256 * 1024,
        )
    )
    with TestClient(app, base_url=LOOPBACK, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        client.root = root
        client.allowed = allowed
        put(client, [{"id": "api-doc", "text": "계약 갱신 메모", "metadata": {"year": 2024}}])
        yield client


def put(client, documents: list[dict]) -> dict:
    response = client.post("/v1/documents", json={"documents": documents}, params={"wait": True})
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "succeeded", response.json()
    return response.json()


def baselines(api) -> dict[tuple[str, str], dict]:
    """A valid request for every route, to vary one parameter of at a time."""
    return {
        ("get", "/health"): {},
        ("get", "/ready"): {},
        ("get", "/v1/search"): {"params": {"q": "계약", "k": 1}},
        ("post", "/v1/ask"): {"json": {"q": "계약 갱신은 어떻게 하나요?"}},
        ("get", "/v1/documents/{doc_id}"): {"path": {"doc_id": LEASE_ID}},
        ("get", "/v1/related"): {"params": {"id": LEASE_ID}},
        ("get", "/v1/recommend"): {"params": {"user": "u1", "history": LEASE_ID}},
        ("get", "/v1/info"): {},
        ("post", "/v1/events"): {
            "json": {"events": [{"type": "click", "item": LEASE_ID, "user": "u9"}]}
        },
        ("post", "/v1/documents"): {"json": {"documents": [{"id": "n1", "text": "새 문서"}]}},
        ("delete", "/v1/documents/{doc_id}"): {"path": {"doc_id": DELETED_ID}},
        ("post", "/v1/index"): {"json": {"paths": [str(api.allowed)]}},
        ("get", "/v1/tasks/{task_id}"): {"path": {"task_id": 1}},
        ("get", "/v1/tasks"): {},
    }


# Valid values of optional parameters that the baselines leave out.
OPTIONAL_EXAMPLES = {
    ("/v1/search", "filter"): "year:2024",
    ("/v1/search", "source"): "docs/",
    ("/v1/search", "mode"): "bm25",
}


def api_schema() -> dict:
    """The OpenAPI schema, built without a collection: routes reach the service only when
    called."""
    return create_app(ServeSettings(collection=Path("unused")), service=SimpleNamespace()).openapi()


SCHEMA = api_schema()
ROUTES = [(method, path) for path, ops in SCHEMA["paths"].items() for method in ops]


def resolved(schema: dict) -> dict:
    """`schema` with a $ref followed and an optional (`anyOf` with null) reduced to its type."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return resolved(SCHEMA["components"]["schemas"][name])
    options = [option for option in schema.get("anyOf", []) if option.get("type") != "null"]
    if len(options) == 1:
        return resolved({**{k: v for k, v in schema.items() if k != "anyOf"}, **options[0]})
    return schema


@dataclass(frozen=True)
class Parameter:
    method: str
    path: str
    where: str  # query, path or body
    name: str  # in a body, dotted: documents.0.id
    schema: dict

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} {self.where}:{self.name}"


def parameters() -> list[Parameter]:
    found = []
    for method, path in ROUTES:
        operation = SCHEMA["paths"][path][method]
        for parameter in operation.get("parameters", []):
            found.append(
                Parameter(
                    method, path, parameter["in"], parameter["name"], resolved(parameter["schema"])
                )
            )
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None:
            continue
        for name, field in resolved(body["schema"])["properties"].items():
            field = resolved(field)
            found.append(Parameter(method, path, "body", name, field))
            if field.get("type") == "array" and "$ref" in field.get("items", {}):
                for inner, inner_field in resolved(field["items"])["properties"].items():
                    found.append(
                        Parameter(method, path, "body", f"{name}.0.{inner}", resolved(inner_field))
                    )
    return found


PARAMETERS = parameters()
ALTERNATIVES = re.compile(r"^\^\((.*)\)\$$")


def choices(schema: dict) -> list[str] | None:
    if "enum" in schema:
        return list(schema["enum"])
    pattern = ALTERNATIVES.match(schema.get("pattern", ""))
    return pattern.group(1).split("|") if pattern else None


def bounds(schema: dict) -> tuple[float | None, float | None]:
    step = 1 if schema.get("type") == "integer" else 0
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    if "exclusiveMinimum" in schema:
        low += step
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if "exclusiveMaximum" in schema:
        high -= step
    return low, high


def valid_values(parameter: Parameter, example: Any) -> list[Any]:
    schema = parameter.schema
    kind = schema.get("type")
    if (options := choices(schema)) is not None:
        return options
    if kind == "boolean":
        return [True, False]
    if kind in ("integer", "number"):
        return [value for value in bounds(schema) if value is not None] or [example]
    values = [] if example is None else [example]
    if kind == "string" and parameter.name.rsplit(".", 1)[-1] in FREE_TEXT:
        values.append("가" * schema.get("maxLength", 1))
    return values


def invalid_values(parameter: Parameter) -> list[Any]:
    schema = parameter.schema
    kind = schema.get("type")
    if choices(schema) is not None:
        return ["nonsense"]
    if kind == "boolean":
        return ["maybe"]
    if kind in ("integer", "number"):
        low, high = bounds(schema)
        outside = [] if low is None else [low - 1]
        return outside + ([] if high is None else [high + 1]) + ["x"]
    values = []
    if kind == "string" and "maxLength" in schema:
        values.append("가" * (schema["maxLength"] + 1))
    if kind == "string" and schema.get("minLength"):
        values.append("")
    if kind == "array" and schema.get("minItems"):
        values.append([])
    if kind == "object":
        values.append("not an object")
    return values


def example_of(request: dict, parameter: Parameter) -> Any:
    if parameter.where == "body":
        value: Any = request.get("json", {})
        for part in parameter.name.split("."):
            if isinstance(value, list):
                value = value[int(part)] if value else None
            elif isinstance(value, dict):
                value = value.get(part)
        return value
    return request.get(parameter.where if parameter.where == "path" else "params", {}).get(
        parameter.name
    )


def with_value(request: dict, parameter: Parameter, value: Any) -> dict:
    request = deepcopy(request)
    if parameter.where == "body":
        target = request.setdefault("json", {})
        *parents, last = parameter.name.split(".")
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[last] = value
    elif parameter.where == "path":
        request.setdefault("path", {})[parameter.name] = value
    else:
        request.setdefault("params", {})[parameter.name] = value
    return request


def send(api, method: str, path: str, request: dict):
    if method == "delete":
        put(api, [{"id": DELETED_ID, "text": "지울 문서"}])
    url = path
    for name, value in request.get("path", {}).items():
        url = url.replace("{" + name + "}", str(value))
    return api.request(method, url, params=request.get("params"), json=request.get("json"))


def case_id(case) -> str:
    return str(case)


@pytest.mark.parametrize("parameter", PARAMETERS, ids=case_id)
def test_each_documented_parameter_takes_its_valid_values_and_refuses_others(api, parameter):
    request = baselines(api)[(parameter.method, parameter.path)]
    example = example_of(request, parameter)
    if example is None:
        example = OPTIONAL_EXAMPLES.get((parameter.path, parameter.name))
    valid = valid_values(parameter, example)
    invalid = invalid_values(parameter)
    assert valid or invalid, f"{parameter}: the schema says nothing to test"
    for value in valid:
        response = send(
            api, parameter.method, parameter.path, with_value(request, parameter, value)
        )
        assert 200 <= response.status_code < 300, (str(parameter), value, response.text[:300])
    for value in invalid:
        response = send(
            api, parameter.method, parameter.path, with_value(request, parameter, value)
        )
        assert 400 <= response.status_code < 500, (str(parameter), value, response.text[:300])


def test_every_route_has_a_baseline_request(api):
    assert set(ROUTES) == set(baselines(api)), "a new route needs a baseline request here"


# Text as clients may send it: any code point, lone surrogates included.
ODD_TEXT = st.text(st.characters(codec=None, categories=None), max_size=40)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ODD_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ODD_TEXT, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def fuzzed_requests(draw) -> tuple[str, str, dict]:
    """A route, with some of its parameters (and some unknown ones) set to arbitrary values."""
    method, path = draw(st.sampled_from(ROUTES))
    chosen = [p for p in PARAMETERS if (p.method, p.path) == (method, path)]
    request: dict = {"path": {}, "params": {}}
    for parameter in chosen:
        if parameter.where == "path":
            request["path"][parameter.name] = draw(ODD_TEXT.filter(bool))
        elif parameter.where == "query" and draw(st.booleans()):
            request["params"][parameter.name] = draw(ODD_TEXT)
    if any(p.where == "body" for p in chosen):
        top = {p.name for p in chosen if p.where == "body" and "." not in p.name}
        request["json"] = draw(
            st.dictionaries(st.sampled_from(sorted(top)) | ODD_TEXT, JSON_VALUES, max_size=4)
            | JSON_VALUES
        )
    return method, path, request


def no_surrogates(value: str) -> str:
    """A query string must be UTF-8 on the wire: a surrogate goes as its escaped bytes would."""
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=fuzzed_requests())
def test_no_input_makes_the_server_fail(api, case):
    method, path, request = case
    url = path
    for name, value in request["path"].items():
        url = url.replace("{" + name + "}", quote(no_surrogates(value), safe=""))
    params = {name: no_surrogates(value) for name, value in request["params"].items()}
    content = json.dumps(request["json"]).encode() if "json" in request else None
    response = api.request(
        method, url, params=params, content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500, (method, url, response.text[:300])


def test_a_lone_surrogate_is_refused_and_invalid_input_never_echoed(api):
    surrogate = api.post(
        "/v1/ask", content=b'{"q": "\\ud800"}', headers={"Content-Type": "application/json"}
    )
    assert surrogate.status_code == 422 and "surrogate" in surrogate.text
    secret = "비밀" * 5_000
    too_long = api.post("/v1/ask", json={"q": secret})
    assert too_long.status_code == 422
    assert "비밀비밀" not in too_long.text and len(too_long.content) < 1_000
    in_a_key = api.post("/v1/documents", json={"documents": [{"id": "x", "text": "t", secret: 1}]})
    assert "비밀비밀비밀" not in in_a_key.text


@pytest.mark.parametrize(
    "doc_id", ["notes/related", "50%", "with space", "한글 문서/계약", "a/b/c.txt", "#1"]
)
def test_ids_with_slashes_percents_spaces_and_hangul_are_read_related_and_deleted(api, doc_id):
    put(api, [{"id": doc_id, "text": f"{doc_id} 계약 갱신 안내"}])
    quoted = quote(doc_id, safe="/")
    read = api.get(f"/v1/documents/{quoted}")
    assert read.status_code == 200 and read.json()["id"] == doc_id, read.text
    related = api.get("/v1/related", params={"id": doc_id})
    assert related.status_code == 200 and related.json()["id"] == doc_id
    deleted = api.delete(f"/v1/documents/{quoted}", params={"wait": True})
    assert deleted.status_code == 202 and deleted.json()["status"] == "succeeded"
    assert api.get(f"/v1/documents/{quoted}").status_code == 404


def test_fusion_and_dense_weight_change_the_ranking_they_name(api):
    ranked = {
        name: api.get("/v1/search", params={"q": "계약 갱신", "mode": "hybrid", **params})
        for name, params in (
            ("rrf", {"fusion": "rrf"}),
            ("bm25 only", {"fusion": "convex", "dense_weight": 0}),
            ("dense only", {"fusion": "convex", "dense_weight": 1}),
        )
    }
    assert all(response.status_code == 200 for response in ranked.values())
    scores = {name: [hit["score"] for hit in r.json()["hits"]] for name, r in ranked.items()}
    assert scores["bm25 only"] != scores["dense only"]


def test_no_answer_names_a_server_path(api):
    root = str(api.root.resolve())
    answers = [
        api.get("/v1/search", params={"q": "주택 임대차 계약", "k": 5, "mode": "bm25"}),
        api.get(f"/v1/documents/{LEASE_ID}"),
        api.get("/v1/related", params={"id": LEASE_ID}),
        api.get("/v1/recommend", params={"user": "u1"}),
        api.post("/v1/ask", json={"q": "계약 갱신"}),
        api.get("/v1/info"),
        api.post("/v1/documents", json={"documents": [{"id": f"{root}/docs/dpr.md", "text": "x"}]}),
        api.delete("/v1/documents/docs/missing.txt"),
    ]
    for response in answers:
        assert response.status_code < 500
        assert root not in response.text, response.text[:500]
    hits = answers[0].json()["hits"]
    assert LEASE_ID in [hit["id"] for hit in hits]
    assert all(not hit["source"].startswith("/") for hit in hits)


def test_health_answers_while_every_worker_thread_waits_for_a_search(api):
    service = api.app.state.service
    gate, service.gate = service.gate, SearchGate(slots=1, queue=100, seconds=GATE_SECONDS)
    service.gate.__enter__()  # the one search slot is taken: searches wait in their threads
    searches = [
        threading.Thread(target=api.get, args=("/v1/search",), kwargs={"params": {"q": "계약"}})
        for _ in range(BLOCKED_SEARCHES)
    ]
    try:
        for search in searches:
            search.start()
        time.sleep(PAUSE_SECONDS)
        started = time.perf_counter()
        health = api.get("/health")
        ready = api.get("/ready")
        seconds = time.perf_counter() - started
    finally:
        service.gate.__exit__()
        for search in searches:
            search.join()
        service.gate = gate
    assert health.status_code == 200 and ready.status_code == 200
    assert seconds < HEALTH_SECONDS, f"/health and /ready took {seconds:.2f} s"
