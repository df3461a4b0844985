"""The server's hardening: security headers on every response, the Host check against DNS
rebinding, and /docs served without a CDN."""

import base64
import hashlib
import http.client
import re

import pytest
from fastapi.testclient import TestClient

from seoga.collection import Collection
from seoga.errors import InputError
from seoga.serve import ServeSettings, create_app
from seoga.serve.security import PAGE_POLICY, HostCheck, HostPattern
from seoga.settings import CollectionSettings
from tests.serving import Server

LOOPBACK = "http://127.0.0.1"
HARDENING = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
FOREIGN = "rebound.example"  # a name an attacker's DNS points at 127.0.0.1


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    root = tmp_path_factory.mktemp("security")
    docs = root / "docs"
    docs.mkdir()
    (docs / "lease.txt").write_text("주택 임대차 계약의 갱신 조건입니다.", encoding="utf-8")
    # BM25 only: no model to load, and related documents fail (the page must cope).
    Collection.create(root / "kb", CollectionSettings(embedder="none")).add([docs])
    return root / "kb"


def client_for(collection, *, base_url: str = LOOPBACK, **settings) -> TestClient:
    app = create_app(ServeSettings(collection=collection, open_search=True, **settings))

    @app.get("/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("a bug")

    return TestClient(app, base_url=base_url, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(collection):
    with client_for(collection) as opened:
        yield opened


def assert_hardened(response) -> None:
    for name, value in HARDENING.items():
        assert response.headers[name] == value, name
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/static/app.js", 200),
        ("/static/app.css", 200),
        ("/v1/search?q=계약", 200),
        ("/health", 200),
        ("/openapi.json", 200),
        ("/v1/documents/nothing-here", 404),
        ("/v1/search", 422),
        ("/v1/tasks", 401),
        ("/static/missing.js", 404),
        ("/boom", 500),  # Starlette's own error page: the headers sit outside it
    ],
)
def test_every_response_carries_the_hardening_headers(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert_hardened(response)
    if not path.startswith("/docs"):
        assert response.headers["content-security-policy"] == PAGE_POLICY


def test_the_page_policy_allows_only_its_own_files():
    policy = dict(part.strip().split(" ", 1) for part in PAGE_POLICY.split(";"))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"


def test_the_page_needs_no_inline_script_or_style(client):
    page = client.get("/").text
    assert not re.search(r"<script>|<style|\sstyle=|\son[a-z]+=", page)
    assert re.search(r'<script src="/static/app.js"></script>', page)


@pytest.mark.parametrize("path", ["/", "/v1/search?q=계약", "/v1/info", "/docs", "/health"])
@pytest.mark.parametrize("host", [FOREIGN, f"{FOREIGN}:8080", "127.0.0.1.rebound.example"])
def test_a_foreign_host_is_refused_with_json(client, path, host):
    response = client.get(path, headers={"Host": host})
    assert response.status_code == 400
    assert "--allowed-host" in response.json()["detail"]
    assert_hardened(response)


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.0.0.1:8080", "localhost", "LocalHost:1", "localhost.:80", "[::1]:8080"],
)
def test_loopback_names_with_any_port_are_served(client, host):
    assert client.get("/v1/search?q=계약", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["[::1", "[nonsense]:80", "127.0.0.1:port", "a b", "u@127.0.0.1"])
def test_a_malformed_host_is_refused(client, host):
    assert client.get("/health", headers={"Host": host}).status_code == 400


def test_the_testclients_default_host_is_refused(collection):
    with client_for(collection, base_url="http://testserver") as default:
        assert default.get("/health").status_code == 400


def test_any_host_with_a_star(collection):
    with client_for(collection, allowed_hosts=["*"], base_url=f"http://{FOREIGN}") as anyone:
        assert anyone.get("/v1/search?q=계약").status_code == 200
        assert_hardened(anyone.get("/"))


def test_named_hosts_ports_and_domains():
    check = HostCheck(
        app=None,
        allowed_hosts=[
            HostPattern.parse(text)
            for text in ("search.example:8443", "*.corp.example", "::1", "10.0.0.5")
        ],
    )
    assert check.allowed("search.example:8443")
    assert not check.allowed("search.example:8080") and not check.allowed("search.example")
    assert check.allowed("kb.corp.example") and check.allowed("a.b.corp.example:80")
    assert not check.allowed("corp.example") and not check.allowed("evilcorp.example")
    assert check.allowed("[::1]:8080") and check.allowed("[0:0::1]")
    assert check.allowed("10.0.0.5:80") and not check.allowed("10.0.0.6")
    assert not check.allowed(None) and not check.allowed("")
    with pytest.raises(InputError):
        HostPattern.parse("not a/host")


def test_docs_render_from_this_server_under_a_policy_that_hashes_their_script(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert_hardened(response)
    page = response.text
    assert "cdn" not in page.lower() and "https://" not in page and "http://" not in page
    (script,) = re.findall(r"<script>(.*?)</script>", page, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = response.headers["content-security-policy"]
    assert f"script-src 'self' 'sha256-{digest}'" in policy
    assert "unsafe" not in policy
    for src in re.findall(r'(?:src|href)="([^"]+)"', page):
        asset = client.get(src)
        assert asset.status_code == 200 and asset.content, src
        assert_hardened(asset)


def test_the_cli_allows_its_host_and_allowed_hosts_only(collection):
    server = Server(collection, "--open", "--allowed-host", "kb.example")
    try:
        for host, status in (
            (f"127.0.0.1:{server.port}", 200),
            (f"kb.example:{server.port}", 200),
            (f"localhost:{server.port}", 200),
            (f"{FOREIGN}:{server.port}", 400),
        ):
            connection = http.client.HTTPConnection("127.0.0.1", server.port)
            connection.request("GET", "/health", headers={"Host": host})
            response = connection.getresponse()
            assert response.status == status, host
            assert response.getheader("X-Frame-Options") == "DENY"
            connection.close()
    finally:
        server.stop()
