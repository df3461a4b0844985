// seoga's page: search as you type, documents with related ones, and answers with citations.
// Document text only ever enters the page as text nodes (textContent), never as HTML.
"use strict";

const DEBOUNCE_MS = 250;
const RESULTS = 10;
const RELATED = 5;
const KEY_STORAGE = "seoga-key";
const USER_STORAGE = "seoga-user";
const ABSTAIN = "이 모음집에는 이 질문의 답이 없습니다. / The collection does not answer this.";
const NO_RELATED = "관련 문서 없음 / No related documents";
const RELATED_UNAVAILABLE = "관련 문서를 볼 수 없습니다 / Related documents are unavailable here";

const $ = (id) => document.getElementById(id);
const state = {
  searchId: 0, controller: null, query: "", session: randomId("s"), documentId: null,
};

function randomId(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return prefix + "-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function user() {
  let id = localStorage.getItem(USER_STORAGE);
  if (!id) {
    id = randomId("u");
    localStorage.setItem(USER_STORAGE, id);
  }
  return id;
}

function headers(extra = {}) {
  const key = sessionStorage.getItem(KEY_STORAGE);
  return key ? { ...extra, Authorization: "Bearer " + key } : extra;
}

class NeedsKey extends Error {}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  if (response.status === 401) {
    $("key-form").hidden = false;
    throw new NeedsKey("key needed");
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(typeof body.detail === "string" ? body.detail : response.statusText);
  }
  return response;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// The section path a hit or passage lies in, as a line under its title; none without one.
function sectionLine(item) {
  return item.section ? [element("span", item.section, "hit-section")] : [];
}

function snippet(segments) {
  const paragraph = element("p", undefined, "snippet");
  for (const segment of segments) {
    paragraph.append(segment.hit ? element("mark", segment.text) : document.createTextNode(segment.text));
  }
  return paragraph;
}

// Events are best effort and never shown to the reader: a server that refuses them (no key of
// a kind allowed to post events: 401, 403) is not asked again while the tab holds the same key;
// one that says we post too fast (429) is left alone for its Retry-After seconds.
const reporting = { refusedKey: undefined, resumeAt: 0 };
const DEFAULT_BACKOFF_SECONDS = 60;
const MS_PER_SECOND = 1000;

function report(events) {
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (!events.length || key === reporting.refusedKey || Date.now() < reporting.resumeAt) return;
  fetch("/v1/events", {
    method: "POST",
    headers: headers({ "Content-Type": "application/json" }),
    body: JSON.stringify({ events }),
  })
    .then((response) => {
      if (response.status === 401 || response.status === 403) reporting.refusedKey = key;
      if (response.status === 429) {
        const seconds = Number(response.headers.get("Retry-After")) || DEFAULT_BACKOFF_SECONDS;
        reporting.resumeAt = Date.now() + seconds * MS_PER_SECOND;
      }
    })
    .catch(() => {}); // a lost impression must not break the page
}

async function search(query) {
  const id = ++state.searchId;
  if (state.controller) state.controller.abort();
  if (!query.trim()) {
    $("results").replaceChildren();
    $("status").textContent = "";
    return;
  }
  state.controller = new AbortController();
  const params = new URLSearchParams({ q: query, k: RESULTS });
  try {
    const response = await api("/v1/search?" + params, { signal: state.controller.signal });
    const body = await response.json();
    if (id !== state.searchId) return; // a later query has been typed since
    state.query = query;
    showResults(body);
  } catch (error) {
    if (error.name === "AbortError" || id !== state.searchId) return;
    $("status").textContent = error instanceof NeedsKey ? "" : error.message;
  }
}

function showResults(body) {
  const list = $("results");
  list.replaceChildren();
  $("status").textContent = body.hits.length
    ? `${body.hits.length}건 · ${body.processing_ms} ms`
    : "결과 없음 / No results";
  body.hits.forEach((hit, position) => {
    const item = element("li");
    item.dataset.id = hit.id;
    const title = element("button", hit.title || hit.id, "hit-title");
    title.type = "button";
    title.addEventListener("click", () => openDocument(hit.id, position, "search"));
    item.append(
      title, ...sectionLine(hit), element("span", hit.source, "hit-source"), snippet(hit.snippet),
    );
    list.append(item);
  });
  report(
    body.hits.map((hit, position) => ({
      type: "impression", item: hit.id, user: user(), session: state.session,
      query: body.query, position, list: "search",
    })),
  );
}

async function openDocument(id, position, list) {
  report([{
    type: "click", item: id, user: user(), session: state.session, query: state.query, position,
    list,
  }]);
  state.documentId = id;
  let shown;
  try {
    shown = await (await api("/v1/documents/" + encodeURIComponent(id))).json();
  } catch (error) {
    if (!(error instanceof NeedsKey)) $("status").textContent = error.message;
    return;
  }
  if (state.documentId !== id) return; // another document was opened since
  showDocument(shown);
  await showRelated(id);
}

function showDocument(document_) {
  $("document").hidden = false;
  $("document-title").textContent = document_.title || document_.id;
  $("document-source").textContent = document_.source;
  $("document-text").textContent = document_.text;
  $("related").replaceChildren();
  $("related-note").textContent = "";
}

// Related documents are extra: when they cannot be had (a collection without a dense index
// has none), the document stays shown and a quiet note takes the list's place.
async function showRelated(id) {
  let related;
  try {
    const params = new URLSearchParams({ id, k: RELATED });
    related = (await (await api("/v1/related?" + params)).json()).related;
  } catch (error) {
    if (state.documentId === id && !(error instanceof NeedsKey)) {
      $("related-note").textContent = RELATED_UNAVAILABLE;
    }
    return;
  }
  if (state.documentId !== id) return;
  if (!related.length) $("related-note").textContent = NO_RELATED;
  related.forEach((item, rank) => {
    const entry = element("li");
    const link = element("button", item.title || item.doc_id, "hit-title");
    link.type = "button";
    link.addEventListener("click", () => openDocument(item.doc_id, rank, "related"));
    entry.append(link);
    $("related").append(entry);
  });
  // The related list is what a recommendation shows: its impressions are the exposures
  // that `seoga causal` weighs against the clicks.
  report(
    related.map((item, rank) => ({
      type: "impression", item: item.doc_id, user: user(), session: state.session,
      position: rank, list: "related",
    })),
  );
}

function showPassages(passages) {
  const list = $("passages");
  list.replaceChildren();
  for (const passage of passages) {
    const item = element("li");
    item.id = "passage-" + passage.number;
    item.value = passage.number;
    item.append(
      element("strong", passage.title || passage.doc_id), ...sectionLine(passage),
      element("p", passage.text),
    );
    list.append(item);
  }
}

function showAnswer(answer) {
  const text = $("answer-text");
  text.replaceChildren(document.createTextNode(answer.abstained ? ABSTAIN : answer.text));
  if (!answer.abstained) {
    for (const number of answer.citations) {
      const link = element("a", `[${number}]`, "citation");
      link.href = "#passage-" + number;
      text.append(link);
    }
  }
  const confidence = `신뢰도 / confidence ${answer.confidence.toFixed(2)}`;
  $("answer-confidence").textContent = answer.abstained
    ? `${confidence} — 추측 / best guess: ${answer.text || "—"}`
    : confidence;
  showPassages(answer.passages);
}

function* sseEvents(buffer) {
  // Yields [event, data] for each complete event in buffer.text, keeping the rest.
  let cut;
  while ((cut = buffer.text.indexOf("\n\n")) >= 0) {
    const block = buffer.text.slice(0, cut);
    buffer.text = buffer.text.slice(cut + 2);
    let name = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) name = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    yield [name, JSON.parse(data.join("\n"))];
  }
}

async function ask(question) {
  $("answer").hidden = false;
  $("answer-text").textContent = "…";
  $("answer-confidence").textContent = "";
  $("passages").replaceChildren();
  try {
    const response = await api("/v1/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ q: question, stream: true }),
    });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const buffer = { text: "" };
    let streamed = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer.text += decoder.decode(value, { stream: true });
      for (const [name, data] of sseEvents(buffer)) {
        if (name === "passages") showPassages(data.passages);
        else if (name === "token") $("answer-text").textContent = streamed += data.text;
        else if (name === "answer") showAnswer(data);
        else if (name === "error") $("answer-text").textContent = data.detail;
      }
    }
  } catch (error) {
    if (!(error instanceof NeedsKey)) $("answer-text").textContent = error.message;
  }
}

async function describe() {
  try {
    const info = await (await api("/v1/info")).json();
    $("collection").textContent = `${info.path} · ${info.counts.documents} documents`;
  } catch (error) {
    if (!(error instanceof NeedsKey)) $("collection").textContent = error.message;
  }
}

let timer = null;
$("q").addEventListener("input", (event) => {
  clearTimeout(timer);
  timer = setTimeout(() => search(event.target.value), DEBOUNCE_MS);
});
$("ask-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const question = $("question").value.trim();
  if (question) ask(question);
});
$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, $("key").value.trim());
  $("key-form").hidden = true;
  describe();
  search($("q").value);
});
describe();
