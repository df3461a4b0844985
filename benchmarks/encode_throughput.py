"""Dense encoding throughput: sentence-transformers `encode` vs seoga `encode_passages`.

Both run in one process on the same texts with the same e5 weights, interleaved, best of
--repeats each. Writes the "## Dense encoding throughput" section of BENCHMARKS.md.

    PYTHONPATH=. python benchmarks/encode_throughput.py [--passages 300] [--repeats 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import time
from pathlib import Path

from benchmarks.report import DATA, REPORT, write_section

CORPORA = (DATA / "autorag_ko" / "corpus.jsonl", DATA / "beir_scifact" / "corpus.jsonl")
SECTION = "## Dense encoding throughput"
PEER_BATCH_SIZE = 32
SEED = 13
WARMUP_TEXTS = 8
SPECIAL_TOKENS = 2  # <s> and </s>
SENTENCES = (
    "서가는 한국어 문서를 오프라인으로 검색하는 엔진입니다.",
    "seoga indexes documents offline and answers questions with citations.",
    "형태소 분석과 밀집 벡터 검색을 함께 사용합니다.",
    "Dense and sparse retrieval are fused before the reranker reads the passages.",
)


def sample_corpus(path: Path, n: int, rng: random.Random) -> list[str]:
    with path.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [row["text"] for row in rng.sample(rows, min(n, len(rows)))]


def generated_texts(n: int, rng: random.Random) -> list[str]:
    return [" ".join(rng.choices(SENTENCES, k=rng.randint(1, 20))) for _ in range(n)]


def load_texts(n: int) -> tuple[list[str], str]:
    rng = random.Random(SEED)
    present = [path for path in CORPORA if path.is_file()]
    if not present:
        print(f"{DATA} is absent: using {n} generated Korean/English texts instead.")
        return generated_texts(n, rng), f"{n} generated Korean/English texts"
    texts, parts = [], []
    for i, path in enumerate(present):
        share = n // len(present) + (i < n % len(present))
        sample = sample_corpus(path, share, rng)
        texts += sample
        parts.append(f"{len(sample)} from {path.parent.name}")
    return texts, f"{len(texts)} passages ({', '.join(parts)})"


def timed(fn, times: list[float]):
    start = time.perf_counter()
    result = fn()
    times.append(time.perf_counter() - start)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    # This machine is shared: spinning OpenMP threads would measure the neighbours, not us.
    # Must be set before torch loads; applies to both encoders alike.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import numpy as np
    import sentence_transformers
    import torch

    from seoga.models.embedders import load_embedder
    from seoga.models.registry import DEFAULT_EMBEDDER

    texts, described = load_texts(args.passages)
    load_start = time.perf_counter()
    embedder = load_embedder(DEFAULT_EMBEDDER)
    print(f"loaded {embedder.name} in {time.perf_counter() - load_start:.1f} s")
    model = embedder.model  # the very same weights, run by sentence-transformers itself
    prefix = embedder.prefixes["passage"]
    tokens = [
        min(embedder.count_tokens(prefix + t) + SPECIAL_TOKENS, embedder.max_tokens) for t in texts
    ]

    def peer():
        return model.encode_document(
            texts, batch_size=PEER_BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False
        )

    def seoga():
        return embedder.encode_passages(texts)

    model.encode_document(texts[:WARMUP_TEXTS])
    embedder.encode_passages(texts[:WARMUP_TEXTS])
    load_before = os.getloadavg()[0]
    peer_times, seoga_times = [], []
    for _ in range(args.repeats):
        expected = timed(peer, peer_times)
        got = timed(seoga, seoga_times)
    diff = float(np.abs(expected - got).max())
    peer_rate = len(texts) / min(peer_times)
    seoga_rate = len(texts) / min(seoga_times)
    ratio = seoga_rate / peer_rate
    print(f"sentence-transformers encode: {peer_rate:.2f} passages/s")
    print(f"seoga encode_passages:        {seoga_rate:.2f} passages/s")
    print(f"ratio {ratio:.2f}x, max |difference| {diff:.1e}")

    load_after = os.getloadavg()[0]
    command = f"PYTHONPATH=. python benchmarks/encode_throughput.py --passages {args.passages}"
    cut = sum(t >= embedder.max_tokens for t in tokens)
    source = embedder.spec()
    section = "\n".join(
        [
            f"`{command} --repeats {args.repeats}` — {dt.date.today().isoformat()}, "
            f"{platform.platform()}, {os.cpu_count()} CPUs (load average {load_before:.1f} "
            f"at start, {load_after:.1f} at end: shared with other work), "
            f"{torch.get_num_threads()} torch threads, "
            f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}.",
            "",
            f"{embedder.name} (from {source['source']}: {Path(source['location']).name}, torch "
            f"fp32) on {described}: {int(np.mean(tokens))} tokens each on average, "
            f"{cut} cut at {embedder.max_tokens}. Both encoders run in one process on the same "
            f"model and texts, interleaved; best of {args.repeats} runs each.",
            "",
            "| encoder | passages/s |",
            "|---|---|",
            f"| sentence-transformers {sentence_transformers.__version__} "
            f"`encode_document(batch_size={PEER_BATCH_SIZE})` | {peer_rate:.2f} |",
            f"| seoga `encode_passages` (length-sorted, {embedder.batch_tokens}-token batches) "
            f"| {seoga_rate:.2f} |",
            "",
            f"seoga / sentence-transformers: **{ratio:.2f}x**. Largest difference between "
            f"their vectors: {diff:.1e}.",
            "",
        ]
    )
    write_section(SECTION, section)
    print(f"updated {REPORT}")


if __name__ == "__main__":
    main()
