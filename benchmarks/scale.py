"""Scale and query speed: index generated short passages at growing sizes, then time queries.

Run from the repository root: PYTHONPATH=. python benchmarks/scale.py
Each size is indexed by `seoga index` in its own process, so its wall time and peak memory are
that process's alone. At the largest size, BM25 and hybrid query latency are measured through
`Collection.search`, beside two BM25 peers on the same passages and queries: bm25s with its own
tokenizer and rank_bm25. Writes the "Scale" and "Query speed" sections of BENCHMARKS.md.
`--keep DIR` keeps the collections; `--keep DIR --queries-only` then re-times the queries on
the largest of them without indexing again (a change to the search path, measured in minutes).
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bm25s
import numpy as np
from rank_bm25 import BM25Okapi

from benchmarks.report import ROOT, machine_line, write_section
from seoga.collection import FUSION_DEPTH, Collection
from seoga.samples import sample_corpus

SIZES = (10_000, 30_000, 100_000)
PASSAGE_TOKENS = 50
QUERIES = 200
RANK_BM25_QUERIES = 20
WARMUP_QUERIES = 5
QUERY_WORDS = (2, 4)
SEED = 13
KIB_PER_MIB = 1024
READ_BLOCK_BYTES = 1 << 24
MS_PER_SECOND = 1000
COMMAND = "PYTHONPATH=. python benchmarks/scale.py"
SENTENCE_END = re.compile(r"(?<=[.!?다요])\s+")
KOREAN = re.compile("[가-힣]")


def sample_sentences() -> list[str]:
    """Sentences of the bundled bilingual corpus: the material passages are made from."""
    sentences: list[str] = []
    for path in sorted(sample_corpus().rglob("*")):
        if path.suffix == ".jsonl":
            texts = [json.loads(line)["text"] for line in path.read_text().splitlines()]
        elif path.suffix == ".md":
            texts = [path.read_text()]
        else:
            continue
        for text in texts:
            sentences += [s.strip() for s in SENTENCE_END.split(text) if len(s.split()) > 2]
    return sentences


def make_passages(count: int, rng: random.Random) -> list[dict[str, str]]:
    """Passages of about PASSAGE_TOKENS words, each a few random sentences in one language."""
    sentences = sample_sentences()
    korean = [s for s in sentences if KOREAN.search(s)]
    english = [s for s in sentences if not KOREAN.search(s)]
    passages = []
    for number in range(count):
        pool = korean if number % 2 else english
        words: list[str] = []
        while len(words) < PASSAGE_TOKENS:
            words += rng.choice(pool).split()
        passages.append({"_id": f"p{number}", "title": "", "text": " ".join(words)})
    return passages


def make_queries(passages: list[dict[str, str]], rng: random.Random) -> list[str]:
    queries = []
    for _ in range(QUERIES):
        words = rng.choice(passages)["text"].split()
        length = rng.randint(*QUERY_WORDS)
        start = rng.randrange(len(words) - length)
        queries.append(" ".join(words[start : start + length]))
    return queries


def index_in_child(
    corpus: Path, collection: Path, options: tuple[str, ...] = ()
) -> tuple[float, float]:
    """Run `seoga index` (with `options`); return its wall seconds and peak memory in MiB."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "seoga", "index", str(corpus), "-c", str(collection)]
    child = subprocess.Popen(
        [*command, *options, "--json"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"seoga index failed on {corpus}")
    return time.perf_counter() - started, usage.ru_maxrss / KIB_PER_MIB


def p50_ms(search, queries: list[str]) -> float:
    for query in queries[:WARMUP_QUERIES]:
        search(query)
    times = []
    for query in queries:
        started = time.perf_counter()
        search(query)
        times.append((time.perf_counter() - started) * MS_PER_SECOND)
    return float(np.median(times))


def warm_page_cache(folder: Path) -> None:
    """Read every file of the collection once, as a server that has been answering queries
    has it in the OS page cache: otherwise the first reads of the store come from disk (this
    VM's kernel also reclaims file pages left idle for minutes)."""
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                while handle.read(READ_BLOCK_BYTES):
                    pass


def query_speed(
    collection: Collection, passages: list[dict[str, str]], queries: list[str]
) -> dict[str, float]:
    warm_page_cache(collection.root)
    texts = [p["text"] for p in passages]
    plain = bm25s.BM25()
    plain.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)

    def plain_search(query: str) -> None:
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        plain.retrieve(tokens, k=10, show_progress=False)

    okapi = BM25Okapi([text.lower().split() for text in texts])
    korean = [query for query in queries if KOREAN.search(query)]
    english = [query for query in queries if not KOREAN.search(query)]
    return {
        "seoga bm25 (Kiwi/stemming analyzer included)": p50_ms(
            lambda q: collection.search(q, k=10, mode="bm25"), queries
        ),
        "seoga hybrid (query encoding included)": p50_ms(
            lambda q: collection.search(q, k=10, mode="hybrid"), queries
        ),
        f"seoga hybrid, the {len(korean)} Korean queries (e5)": p50_ms(
            lambda q: collection.search(q, k=10, mode="hybrid"), korean
        ),
        f"seoga hybrid, the {len(english)} English queries (e5 + MiniLM)": p50_ms(
            lambda q: collection.search(q, k=10, mode="hybrid"), english
        ),
        "seoga dense (query encoding included)": p50_ms(
            lambda q: collection.search(q, k=10, mode="dense"), queries
        ),
        "peer: bm25s, its tokenizer": p50_ms(plain_search, queries),
        "peer: rank_bm25 BM25Okapi": p50_ms(
            lambda q: okapi.get_scores(q.lower().split()), queries[:RANK_BM25_QUERIES]
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--keep", type=Path, help="build the collections in this (new) folder and keep them"
    )
    parser.add_argument(
        "--queries-only",
        action="store_true",
        help="time queries on the largest collection kept by an earlier --keep run",
    )
    args = parser.parse_args()
    if args.queries_only and args.keep is None:
        parser.error("--queries-only needs --keep DIR (the folder of an earlier run)")
    machine = machine_line()
    rng = random.Random(args.seed)
    largest = max(args.sizes)
    passages = make_passages(largest, rng)
    queries = make_queries(passages, rng)
    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        rows = [] if args.queries_only else index_sizes(work, passages, sorted(args.sizes))
        speeds = query_speed(Collection.open(work / f"kb-{largest}"), passages, queries)
    write = not args.no_write
    speed_lines = ["| searcher | query p50 ms | × seoga bm25 |", "|---|---|---|"]
    base = speeds["seoga bm25 (Kiwi/stemming analyzer included)"]
    speed_lines += [f"| {name} | {ms:.2f} | {ms / base:.2f} |" for name, ms in speeds.items()]
    speed_body = (
        f"`{COMMAND}` (seed {args.seed}) — {machine}\n\n"
        f"{largest:,} chunks (the largest collection of the Scale section), {len(queries)} "
        f"generated 2–4 word queries (rank_bm25: the first {RANK_BM25_QUERIES}), k=10, "
        f"one process, after warm-up ({WARMUP_QUERIES} queries per searcher, the collection's "
        "files read once into the OS page cache). Hybrid fuses BM25, e5 and (for English "
        "queries) MiniLM, "
        f"{FUSION_DEPTH:,} chunks deep each; the models encode the query side by side, each "
        "in its own thread, while BM25 searches; query models run on ONNX Runtime with fused "
        "transformer kernels. BM25 and dense alone read only as deep as their top 10 documents "
        "need (30 chunks, deeper when one document's chunks fill the list).\n\n"
        + "\n".join(speed_lines)
    )
    print(speed_body)
    if write:
        write_section("## Query speed", speed_body)
    if rows:
        write_scale(rows, args.seed, machine, write)


def index_sizes(
    work: Path, passages: list[dict[str, str]], sizes: list[int]
) -> list[tuple[int, float, float]]:
    """Index the first `size` passages for each size; (size, seconds, peak MiB) rows."""
    rows = []
    for size in sizes:
        corpus = work / f"passages-{size}.jsonl"
        with corpus.open("w", encoding="utf-8") as handle:
            for passage in passages[:size]:
                handle.write(json.dumps(passage, ensure_ascii=False) + "\n")
        seconds, peak = index_in_child(corpus, work / f"kb-{size}")
        rows.append((size, seconds, peak))
        print(f"{size:,} passages: {seconds:.0f} s, peak {peak:,.0f} MiB", flush=True)
    return rows


def write_scale(rows: list[tuple[int, float, float]], seed: int, machine: str, write: bool) -> None:
    smallest = rows[0]
    scale_lines = [
        "| passages | index s | s per 1k passages | peak MiB | time × vs smallest | size × |",
        "|---|---|---|---|---|---|",
    ] + [
        f"| {size:,} | {seconds:.0f} | {seconds / size * 1000:.2f} | {peak:,.0f} | "
        f"{seconds / smallest[1]:.2f} | {size / smallest[0]:.1f} |"
        for size, seconds, peak in rows
    ]
    scale_body = (
        f"`{COMMAND}` (seed {seed}) — {machine}\n\n"
        f"Generated passages of ~{PASSAGE_TOKENS} words (half Korean, half English, sentences of "
        "the bundled sample corpus), indexed with the default settings (mixed analyzer, "
        "multilingual-e5-small for every chunk and all-MiniLM-L6-v2 for the English ones) by "
        "`seoga index` in a child process; peak memory is that process's maximum resident "
        "set.\n\n" + "\n".join(scale_lines)
    )
    print(scale_body)
    if write:
        write_section("## Scale", scale_body)


if __name__ == "__main__":
    main()
