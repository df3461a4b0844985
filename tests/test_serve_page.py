"""The page in a real headless Chromium (Debian's, driven by Playwright for Python through
`executable_path`; no browser is ever downloaded). Screenshots land in test-artifacts/."""

import json
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from seoga.collection import Collection
from seoga.eventlog import EVENTS_NAME
from seoga.settings import CollectionSettings
from tests.serving import Server

CHROMIUM = Path(os.environ.get("SEOGA_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("SEOGA_TEST_ARTIFACTS", "test-artifacts"))
# Without the background-networking flags Chromium keeps trying to reach Google's servers.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 20_000
PHONE_WIDTH = 375
PHONE_HEIGHT = 740
LEASE = (
    "주택 임대차 계약의 갱신 조건과 계약갱신요구권에 관한 설명입니다. "
    "임차인은 갱신을 요구할 수 있습니다."
)
SCRIPT = "A quoted warning: <script>alert('x')</script> <img src=x onerror=alert(1)> stays text."
# Injected by Playwright before the page's own scripts (the page's CSP does not apply to it).
VIOLATION_RECORDER = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""
LOOPBACK_HOST = "127.0.0.1"
ZERO_WIDTH_SPACE = "\u200b"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"no Chromium at {CHROMIUM} (the README's test command installs Debian's chromium)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory, tiny_model):
    root = tmp_path_factory.mktemp("page")
    docs = root / "docs"
    docs.mkdir()
    (docs / "lease.txt").write_text(LEASE, encoding="utf-8")
    (docs / "dpr.md").write_text(
        "# Dense retrieval\n\nA dual encoder trained with hard negatives.\n", encoding="utf-8"
    )
    (docs / "warning.txt").write_text(SCRIPT, encoding="utf-8")
    settings = CollectionSettings(embedder=str(tiny_model), extra_embedders=[], chunk_tokens=48)
    Collection.create(root / "kb", settings).add([docs])
    # As `seoga demo --serve`: no key to search, and the page's impressions are recorded.
    server = Server(root / "kb", "--open", "--event-writers", "anyone")
    yield server, root / "kb"
    server.stop()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def bm25_site(tmp_path_factory):
    """A collection without a dense index: related documents fail there."""
    root = tmp_path_factory.mktemp("bm25-page")
    docs = root / "docs"
    docs.mkdir()
    (docs / "lease.txt").write_text(LEASE, encoding="utf-8")
    (docs / "dpr.md").write_text("# Dense retrieval\n\nHard negatives.\n", encoding="utf-8")
    Collection.create(root / "kb", CollectionSettings(embedder="none")).add([docs])
    server = Server(root / "kb", "--open")
    yield server
    server.stop()


def watched_page(browser):
    """A new page that records dialogs and every Content-Security-Policy violation (the
    `securitypolicyviolation` events and the console's reports of them)."""
    context = browser.new_context()
    context.add_init_script(VIOLATION_RECORDER)
    opened = context.new_page()
    opened.dialogs = []
    opened.console_violations = []
    opened.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    opened.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text
            and opened.console_violations.append(message.text)
        ),
    )
    opened.set_default_timeout(WAIT_MS)
    return context, opened


def violations(page) -> list:
    return [*page.evaluate("window.cspViolations"), *page.console_violations]


@pytest.fixture
def page(browser, site):
    server, _ = site
    context, opened = watched_page(browser)
    opened.goto(server.base + "/")
    yield opened
    # Every test here also checks that the page did all it did under the strict policy.
    assert violations(opened) == []
    context.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_korean_query_typed_shows_a_highlighted_hit(page):
    page.fill("#q", "계약 갱신")
    page.wait_for_selector("#results li mark")
    marks = page.locator("#results li mark").all_text_contents()
    # Adjacent matches merge into one mark ("계약갱신"): each is made of query terms only.
    assert marks and all(not mark.replace("계약", "").replace("갱신", "") for mark in marks)
    assert "임대차" in page.locator("#results").text_content()
    assert page.locator("#key-form").is_hidden()  # --open: no key asked for
    screenshot(page, "search")


def test_the_last_query_typed_wins(page):
    page.type("#q", "계약")
    page.fill("#q", "dual encoder hard negatives")
    # Selectors, not wait_for_function: its string predicates are eval'd, which the page's
    # policy forbids.
    page.wait_for_selector("#results li:first-child .hit-title:text-is('Dense retrieval')")
    page.wait_for_timeout(500)  # a late answer to the first query would land now
    assert page.locator("#results li .hit-title").first.text_content() == "Dense retrieval"


def test_ask_shows_an_answer_whose_citations_jump_to_their_passages(page):
    page.fill("#question", "임차인은 갱신을 요구할 수 있나요?")
    page.click("#ask-form button")
    page.wait_for_selector("#answer-text a.citation")
    citation = page.locator("#answer-text a.citation").first
    target = citation.get_attribute("href")
    assert target.startswith("#passage-") and page.locator(target).count() == 1
    assert "confidence" in page.locator("#answer-confidence").text_content()
    citation.click()
    assert page.evaluate("location.hash") == target
    screenshot(page, "answer")


def test_document_text_holding_markup_shows_as_text(page):
    page.fill("#q", "quoted warning stays text")
    page.wait_for_selector("#results li")
    shown = page.locator("#results").text_content()
    assert "<script>" in shown or "<img" in shown
    assert page.locator("#results script, #results img").count() == 0
    assert page.dialogs == []


def test_a_click_opens_the_document_with_related_ones_and_is_logged(page, site):
    _, collection = site
    page.fill("#q", "계약 갱신")
    page.wait_for_selector("#results li .hit-title")
    page.locator("#results li", has_text="임대차").locator(".hit-title").click()
    page.wait_for_selector("#related li")
    assert "계약갱신요구권" in page.locator("#document-text").text_content()
    page.wait_for_timeout(300)
    events = [json.loads(line) for line in (collection / EVENTS_NAME).read_text().splitlines()]
    kinds = {event["type"] for event in events}
    assert kinds == {"impression", "click"}
    # Search results and the related list each report their impressions, named by list.
    assert {(e["type"], e.get("list")) for e in events} >= {
        ("impression", "search"),
        ("click", "search"),
        ("impression", "related"),
    }


def test_the_page_fits_a_phone(browser, site):
    server, _ = site
    context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT})
    phone = context.new_page()
    phone.goto(server.base + "/")
    phone.fill("#q", "계약 갱신")
    phone.wait_for_selector("#results li mark", timeout=WAIT_MS)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    screenshot(phone, "phone")
    context.close()


def test_the_page_is_served_under_a_strict_policy(browser, site):
    server, _ = site
    context, opened = watched_page(browser)
    response = opened.goto(server.base + "/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy
    assert response.headers["x-frame-options"] == "DENY"
    opened.wait_for_selector("#collection:not(:empty)")
    # The stylesheet applied (a blocked one would leave the button unstyled).
    color = opened.eval_on_selector("#ask-form button", "b => getComputedStyle(b).color")
    assert color == "rgb(255, 255, 255)"
    assert violations(opened) == []
    context.close()


def test_docs_render_with_every_outside_request_blocked(browser, site):
    server, _ = site
    context, opened = watched_page(browser)
    outside = []

    def only_loopback(route):
        if urlparse(route.request.url).hostname == LOOPBACK_HOST:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    opened.goto(server.base + "/docs")
    opened.wait_for_selector(".swagger-ui .opblock-summary-path")
    # Swagger UI breaks long paths with zero-width spaces.
    paths = opened.locator(".opblock-summary-path").all_text_contents()
    assert "/v1/search" in {path.replace(ZERO_WIDTH_SPACE, "") for path in paths}
    assert "seoga" in opened.locator(".swagger-ui .info .title").text_content()
    assert outside == []
    assert violations(opened) == []
    screenshot(opened, "docs")
    context.close()


def test_a_document_shows_its_source_when_related_documents_fail(browser, bm25_site):
    context, opened = watched_page(browser)
    opened.goto(bm25_site.base + "/")
    opened.fill("#q", "계약 갱신")
    hit = opened.locator("#results li", has_text="임대차")
    hit.locator(".hit-title").click()
    opened.wait_for_selector("#related-note:not(:empty)")
    assert "계약갱신요구권" in opened.locator("#document-text").text_content()
    source = opened.locator("#document-source").text_content()
    assert source and source == hit.locator(".hit-source").text_content()
    assert "unavailable" in opened.locator("#related-note").text_content()
    assert opened.locator("#related li").count() == 0
    assert violations(opened) == []
    screenshot(opened, "document-without-related")
    context.close()
