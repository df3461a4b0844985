"""Query encoding latency: sentence-transformers `encode_query` vs seoga on PyTorch vs seoga
on ONNX Runtime, one query at a time, as `seoga search` encodes them.

All three run in one process on the same queries and weights, interleaved query by query so
that machine load falls on each alike. Writes the "## Query encoding" section of BENCHMARKS.md.

    PYTHONPATH=. python benchmarks/query_encoding.py [--queries 200]
"""

from __future__ import annotations

import argparse
import json
import random
import time

import numpy as np

from benchmarks.report import DATA, machine_line, write_section

QUERY_FILES = (DATA / "autorag_ko" / "queries.jsonl", DATA / "beir_scifact" / "queries.jsonl")
MODELS = ("multilingual-e5-small", "all-MiniLM-L6-v2")
SECTION = "## Query encoding"
SEED = 13
WARMUP_QUERIES = 5
MS_PER_SECOND = 1000
FALLBACK_QUERIES = (
    "전세 계약 갱신 조건",
    "how does BM25 rank documents",
    "형태소 분석기는 무엇인가요",
    "contract renewal rules for tenants",
)


def load_queries(count: int) -> tuple[list[str], str]:
    rng = random.Random(SEED)
    present = [path for path in QUERY_FILES if path.is_file()]
    if not present:
        return [rng.choice(FALLBACK_QUERIES) for _ in range(count)], "generated queries"
    queries, parts = [], []
    for number, path in enumerate(present):
        share = count // len(present) + (number < count % len(present))
        with path.open(encoding="utf-8") as handle:
            texts = [json.loads(line)["text"] for line in handle if line.strip()]
        queries += rng.sample(texts, min(share, len(texts)))
        parts.append(f"{min(share, len(texts))} from {path.parent.name}")
    return queries, ", ".join(parts)


def measure(model_name: str, queries: list[str]) -> dict[str, float]:
    from seoga.models.embedders import load_embedder

    onnx = load_embedder(model_name)
    plain = load_embedder(model_name, onnx_queries=False)
    peer = plain.model
    prompt = plain.prefixes["query"] or None
    runners = {
        "peer": lambda q: peer.encode_query([q], prompt=prompt, normalize_embeddings=True),
        "torch": lambda q: plain.encode_queries([q]),
        "onnx": lambda q: onnx.encode_queries([q]),
    }
    for query in queries[:WARMUP_QUERIES]:
        for run in runners.values():
            run(query)
    times: dict[str, list[float]] = {name: [] for name in runners}
    gap = 0.0
    for query in queries:
        vectors = {}
        for name, run in runners.items():
            started = time.perf_counter()
            vectors[name] = run(query)
            times[name].append((time.perf_counter() - started) * MS_PER_SECOND)
        gap = max(gap, float(np.abs(vectors["onnx"] - vectors["peer"]).max()))
    return {name: float(np.median(values)) for name, values in times.items()} | {"gap": gap}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    machine = machine_line()
    queries, described = load_queries(args.queries)
    rows = [
        "| model | sentence-transformers p50 ms | seoga PyTorch p50 ms | seoga ONNX p50 ms | "
        "ONNX speed-up vs peer | largest vector difference |",
        "|---|---|---|---|---|---|",
    ]
    for model_name in MODELS:
        result = measure(model_name, queries)
        print(model_name, result, flush=True)
        rows.append(
            f"| {model_name} | {result['peer']:.2f} | {result['torch']:.2f} | "
            f"{result['onnx']:.2f} | {result['peer'] / result['onnx']:.2f}× | "
            f"{result['gap']:.1e} |"
        )
    command = f"PYTHONPATH=. python benchmarks/query_encoding.py --queries {args.queries}"
    body = (
        f"`{command}` — {machine}\n\n"
        f"{len(queries)} queries ({described}), encoded one at a time as a search does, the "
        "three encoders interleaved query by query in one process, after warm-up. The peer is "
        "sentence-transformers `encode_query` on the same weights; seoga's ONNX path runs the "
        "transformer exported by torch.onnx (attention, layer norms and GELU fused by ONNX "
        "Runtime's transformer optimizer) in ONNX Runtime and pooling in PyTorch.\n\n"
        + "\n".join(rows)
    )
    print(body)
    write_section(SECTION, body)


if __name__ == "__main__":
    main()
