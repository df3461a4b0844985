"""Cross-encoder reranking on SciFact: hybrid search alone vs hybrid + the reranker trained here.

The reranker is trained from multilingual-e5-small on SciFact's train queries (qrels/train.tsv)
with negatives mined by seoga's own BM25 (120 queries by default: sized to run in ~15 minutes
on a busy 2-core machine; --max-queries 789 for all); 20 other train queries are kept out of
training to choose how much of the reranker's score to mix with the hybrid score (the test set
is never used to choose anything). Test: the first 50 BEIR test queries by id (--test-queries
300 for all), nDCG@10 with ranx.

Run from the repository root:
    flock /tmp/seoga-heavy.lock env OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. \\
        python benchmarks/rerank.py [--collection PATH]
--collection reuses an already indexed SciFact collection (default: the cached evaluation one,
built if missing). Writes the "Reranking (SciFact)" section of BENCHMARKS.md.
"""

import argparse
import random
import time
from pathlib import Path

import numpy as np

from benchmarks.report import DATA, machine_line, write_section
from seoga.answer.base import Passage
from seoga.calibrate.metrics import expected_calibration_error
from seoga.collection import Collection
from seoga.evaluate.beir import read_beir, read_qrels, read_queries
from seoga.evaluate.retrieval import cached_collection, score_run
from seoga.paths import seoga_home
from seoga.search.fusion import z_score
from seoga.search.rerank import Reranker
from seoga.search.rerank_training import RerankerTrainingConfig, train_reranker
from seoga.settings import CollectionSettings

SCIFACT = DATA / "beir_scifact"
WORK_DEFAULT = seoga_home() / "bench" / "rerank"
WORK = WORK_DEFAULT
DEPTH = 100
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
COMMAND = (
    "flock /tmp/seoga-heavy.lock env OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. "
    "python benchmarks/rerank.py"
)


def training_folder(tuning: set[str]) -> Path:
    """SciFact with the tuning queries removed from qrels/train.tsv (corpus and queries linked)."""
    folder = WORK / "scifact-train"
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    for name in ("corpus.jsonl", "queries.jsonl"):
        link = folder / name
        if not link.exists():
            link.symlink_to(SCIFACT / name)
    lines = (SCIFACT / "qrels" / "train.tsv").read_text(encoding="utf-8").splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if line.split("\t")[0] not in tuning]
    (folder / "qrels" / "train.tsv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return folder


def rerank_runs(
    collection, reranker, queries: dict[str, str], depth: int
) -> tuple[dict, dict, list]:
    """Hybrid scores and reranker logits of each query's top documents; rerank seconds."""
    hybrid, logits, seconds = {}, {}, []
    stored_cache = collection.store
    for query_id, text in queries.items():
        results = collection.search(text, k=DEPTH)
        hybrid[query_id] = {hit.doc_id: hit.score for hit in results}
        top = results[:depth]
        chunks = stored_cache.chunks([hit.chunk_id for hit in top])
        passages = [
            Passage(i + 1, hit.doc_id, hit.title, chunks[hit.chunk_id].text)
            for i, hit in enumerate(top)
        ]
        started = time.perf_counter()
        reranked = reranker.rerank(text, passages)
        seconds.append(time.perf_counter() - started)
        logits[query_id] = {p.doc_id: p.score for p in reranked}
    return hybrid, logits, seconds


def mixed(hybrid: dict, logits: dict, weight: float) -> dict:
    """Reranked top documents (weight × z(logit) + (1 − weight) × z(hybrid)), then the rest."""
    run = {}
    for query_id, scores in hybrid.items():
        top = logits[query_id]
        fused_hybrid = z_score({doc: scores[doc] for doc in top})
        fused_logit = z_score(top)
        reranked = {
            doc: weight * fused_logit[doc] + (1 - weight) * fused_hybrid[doc] for doc in top
        }
        floor = min(reranked.values(), default=0.0) - 1.0
        rest = sorted((d for d in scores if d not in top), key=scores.__getitem__, reverse=True)
        run[query_id] = reranked | {doc: floor - rank for rank, doc in enumerate(rest, start=1)}
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--collection", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--negatives", type=int, default=2)
    parser.add_argument("--rerank-depth", type=int, default=15)
    parser.add_argument("--tuning-queries", type=int, default=20)
    parser.add_argument("--max-length", type=int, default=192)
    parser.add_argument("--max-queries", type=int, default=120, help="train queries")
    parser.add_argument("--test-queries", type=int, default=50, help="test queries")
    parser.add_argument("--work", type=Path, default=WORK_DEFAULT)
    parser.add_argument("--no-report", action="store_true", help="print, do not write")
    args = parser.parse_args()
    global WORK  # noqa: PLW0603 - one run, one work folder
    WORK = args.work
    started = time.perf_counter()
    load = machine_line()
    test = read_beir(SCIFACT)
    train_qrels = read_qrels(SCIFACT / "qrels" / "train.tsv")
    all_queries = read_queries(SCIFACT / "queries.jsonl")
    judged = sorted(q for q in train_qrels if q in all_queries)
    tuning = set(random.Random(args.seed).sample(judged, args.tuning_queries))
    out = WORK / "reranker"
    if not (out / "seoga_model.json").exists():
        config = RerankerTrainingConfig(
            split="train",
            negatives=args.negatives,
            epochs=args.epochs,
            max_length=args.max_length,
            batch_size=16,
            learning_rate=3e-5,
            max_queries=args.max_queries,
            seed=args.seed,
        )
        train_reranker(training_folder(tuning), out, config)
    reranker = Reranker(out)
    if args.collection is not None:
        collection = Collection.open(args.collection)
    else:
        collection, _ = cached_collection(
            test, CollectionSettings(), cache_dir=None, show_progress=True
        )
    tune_hybrid, tune_logits, _ = rerank_runs(
        collection, reranker, {q: all_queries[q] for q in sorted(tuning)}, args.rerank_depth
    )
    tune_qrels = {q: train_qrels[q] for q in tuning}
    tuned = {
        weight: score_run(tune_qrels, mixed(tune_hybrid, tune_logits, weight))["ndcg@10"]
        for weight in WEIGHTS
    }
    best = max(tuned, key=tuned.__getitem__)
    test_queries = dict(sorted(test.queries.items())[: args.test_queries])
    hybrid, logits, seconds = rerank_runs(collection, reranker, test_queries, args.rerank_depth)
    qrels = {q: test.qrels[q] for q in test_queries}
    base = score_run(qrels, hybrid)
    pure = score_run(qrels, mixed(hybrid, logits, 1.0))
    chosen = score_run(qrels, mixed(hybrid, logits, best))
    labels, before, after = [], [], []
    for query_id, scores in logits.items():
        for doc, logit in scores.items():
            labels.append(doc in test.qrels[query_id])
            before.append(1 / (1 + np.exp(-logit)))
            after.append(reranker.scaling.confidence([logit]))
    record = reranker.config
    lines = [
        f"Command: `{COMMAND}` with its defaults "
        f"({(time.perf_counter() - started) / 60:.0f} min in all). Small subsets, so that it "
        "fits its hour on a busy 2-core machine: differences of a few hundredths are noise.",
        f"Machine: {load}.",
        f"Collection: {collection.root.name} (chunk_tokens {collection.settings.chunk_tokens}, "
        f"hybrid = {collection.settings.fusion.method} fusion, dense weight "
        f"{collection.settings.fusion.dense_weight}).",
        "",
        f"Reranker: multilingual-e5-small + a 1-logit head (sentence-transformers CrossEncoder, "
        f"binary cross-entropy), trained {record['train_seconds'] / 60:.0f} min on "
        f"{record['train_pairs']} pairs ({record['train_positives']} positives; "
        f"{args.negatives} BM25-mined negatives per positive from the top 30) of "
        f"{record['config']['max_queries']} of the other SciFact train queries, "
        f"{args.max_length} tokens, "
        f"{args.epochs:g} epoch. It reorders hybrid search's top {args.rerank_depth}.",
        "",
        f"| run ({len(test_queries)} test queries) | nDCG@10 | recall@10 | MRR@10 |",
        "|---|---|---|---|",
        f"| hybrid | {base['ndcg@10']:.4f} | {base['recall@10']:.4f} | {base['mrr@10']:.4f} |",
        f"| hybrid + reranker (reranker score only) | {pure['ndcg@10']:.4f} | "
        f"{pure['recall@10']:.4f} | {pure['mrr@10']:.4f} |",
        f"| hybrid + reranker (weight {best} on the reranker, chosen on "
        f"{args.tuning_queries} train queries) | {chosen['ndcg@10']:.4f} | "
        + f"{chosen['recall@10']:.4f} | {chosen['mrr@10']:.4f} |",
        "",
        f"- nDCG@10 gain: {pure['ndcg@10'] - base['ndcg@10']:+.4f} (reranker only), "
        f"{chosen['ndcg@10'] - base['ndcg@10']:+.4f} (mixed); target +0.02.",
        "- Weights tried on the tuning queries: "
        + ", ".join(f"{w}: {v:.4f}" for w, v in tuned.items())
        + ".",
        f"- Reranking {args.rerank_depth} documents took {np.median(seconds):.2f} s per query "
        "(median).",
        f"- Calibration of the reranker's relevance probability on the test pairs it scored: "
        f"ECE {expected_calibration_error(before, labels):.3f} as a plain sigmoid, "
        f"{expected_calibration_error(after, labels):.3f} with the temperature fitted on "
        "held-out train queries at training time.",
    ]
    if args.no_report:
        print("\n".join(lines))
    else:
        write_section("## Reranking (SciFact)", "\n".join(lines))


if __name__ == "__main__":
    main()
