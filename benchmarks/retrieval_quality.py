"""Retrieval quality: peers (rank_bm25, plain bm25s) and seoga's retrievers, same data, one run.

Run from the repository root: PYTHONPATH=. python benchmarks/retrieval_quality.py
It also sweeps the hybrid fusion (RRF; convex with z-score or min-max scores at several weights of
the main bi-encoder and of the extra English one) on every set, and marks the one
seoga/settings.py should use (see `choose_fusion`).
Writes the "Retrieval quality" section of BENCHMARKS.md.
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from rank_bm25 import BM25Okapi
from ranx import Qrels, Run, evaluate

from benchmarks.report import DATA, machine_line, write_section
from seoga.collection import FUSION_DEPTH
from seoga.datasets.beir import read_beir
from seoga.evaluate.retrieval import compare_fusions, evaluate_retrieval
from seoga.settings import FusionSettings

SETS = ("autorag_ko", "beir_scifact", "squad_v1.1_dev")
DEPTH = 100
METRIC = "ndcg@10"
DENSE_WEIGHTS = (0.3, 0.4, 0.5)
EXTRA_WEIGHTS = (0.0, 0.5, 0.7, 0.9)
MINMAX_DENSE_WEIGHTS = (0.4,)
MINMAX_EXTRA_WEIGHTS = (0.0, 0.7)
COMMAND = "PYTHONPATH=. python benchmarks/retrieval_quality.py"
DEFAULT_ROW = "seoga hybrid (default)"
# Issue 2's floors for the default hybrid, beside "never below the best single retriever".
HYBRID_TARGETS = {"autorag_ko": 0.944, "beir_scifact": 0.735}


def read_corpus(path: Path) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            ids.append(str(record["_id"]))
            texts.append(f"{record.get('title', '')}\n{record['text']}")
    return ids, texts


def score(qrels: dict, run: dict) -> float:
    return float(evaluate(Qrels.from_dict(qrels), Run.from_dict(run), METRIC, make_comparable=True))


def top_run(ids: list[str], scores_per_query: dict[str, np.ndarray]) -> dict:
    run = {}
    for query_id, scores in scores_per_query.items():
        top = np.argsort(-scores)[:DEPTH]
        run[query_id] = {ids[i]: float(scores[i]) for i in top if scores[i] > 0}
    return run


def rank_bm25_peer(root: Path) -> float:
    """rank_bm25's BM25Okapi over lower-cased whitespace tokens."""
    data = read_beir(root)
    ids, texts = read_corpus(data.corpus)
    model = BM25Okapi([text.lower().split() for text in texts])
    return score(
        data.qrels,
        top_run(ids, {q: model.get_scores(t.lower().split()) for q, t in data.queries.items()}),
    )


def bm25s_peer(root: Path) -> float:
    """bm25s as its README shows it: its own tokenizer, English stop words and stemmer."""
    data = read_beir(root)
    ids, texts = read_corpus(data.corpus)
    stemmer = Stemmer.Stemmer("english")
    model = bm25s.BM25()
    model.index(
        bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
        show_progress=False,
    )
    query_ids = list(data.queries)
    tokens = bm25s.tokenize(
        [data.queries[q] for q in query_ids], stopwords="en", stemmer=stemmer, show_progress=False
    )
    found, scores = model.retrieve(tokens, k=DEPTH, show_progress=False)
    run = {
        q: {ids[d]: float(s) for d, s in zip(found[i], scores[i], strict=True) if s > 0}
        for i, q in enumerate(query_ids)
    }
    return score(data.qrels, run)


def convex_fusions(normalization: str, dense_weights, extra_weights) -> dict[str, FusionSettings]:
    return {
        f"seoga hybrid {normalization} {dense:.1f} / {extra:.1f}": FusionSettings(
            method="convex", dense_weight=dense, extra_weight=extra, normalization=normalization
        )
        for dense in dense_weights
        for extra in extra_weights
    }


FUSIONS = (
    {"seoga hybrid rrf": FusionSettings(method="rrf")}
    | convex_fusions("zscore", DENSE_WEIGHTS, EXTRA_WEIGHTS)
    | convex_fusions("minmax", MINMAX_DENSE_WEIGHTS, MINMAX_EXTRA_WEIGHTS)
)
SINGLE_LABELS = {"bm25": "seoga bm25", "dense": "seoga dense (e5)"}


def seoga_rows(root: Path) -> dict[str, float]:
    """seoga's bm25, dense and each fusion, through `Collection.retrieve` + `combine`."""
    metrics = compare_fusions(root, FUSIONS, show_progress=True)
    return {single_label(label): m[METRIC] for label, m in metrics.items()}


def single_label(label: str) -> str:
    """Row names: fusions keep theirs; single retrievers say they are seoga's."""
    if label in FUSIONS:
        return label
    return SINGLE_LABELS.get(label, f"seoga {label} (queries it reads)")


def single_retrievers(table: dict[str, dict[str, float]]) -> list[str]:
    """seoga's rows that are one retriever: neither a fusion nor the default hybrid."""
    return [
        label
        for label in table
        if label.startswith("seoga") and label not in FUSIONS and label != DEFAULT_ROW
    ]


def choose_fusion(table: dict[str, dict[str, float]], sets: list[str]) -> str:
    """The fusion with the best mean over the sets among those never below a set's best
    single retriever (to three decimals); the best mean overall when none qualifies."""
    singles = single_retrievers(table)
    floor = {
        s: round(max(table[single][s] for single in singles if s in table[single]), 3) for s in sets
    }
    fusions = [label for label in FUSIONS if label in table]
    safe = [f for f in fusions if all(round(table[f][s], 3) >= floor[s] for s in sets)]
    return max(safe or fusions, key=lambda label: np.mean([table[label][s] for s in sets]))


def targets(table: dict[str, dict[str, float]], sets: list[str]) -> str:
    """The default hybrid against the issue's floors and each set's best single retriever."""
    default = table[DEFAULT_ROW]
    singles = single_retrievers(table)
    lines = []
    for name in sets:
        best = max(singles, key=lambda label: table[label].get(name, 0.0))
        floor = HYBRID_TARGETS.get(name)
        verdict = (
            ""
            if floor is None
            else f"; target ≥ {floor}: {'met' if default[name] >= floor else 'missed'}"
        )
        lines.append(
            f"- {name}: default hybrid {default[name]:.4f}, best single retriever "
            f"{best} {table[best][name]:.4f}{verdict}."
        )
    return "\n".join(lines)


def mean(values: dict[str, float], sets: list[str]) -> str:
    return f"{np.mean([values[s] for s in sets]):.3f}" if all(s in values for s in sets) else "—"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="ranx")
    machine = machine_line()
    table: dict[str, dict[str, float]] = {}
    latency: dict[str, dict[str, float]] = {}
    for name in args.sets:
        root = DATA / name
        started = time.perf_counter()
        table.setdefault("rank_bm25 (whitespace)", {})[name] = rank_bm25_peer(root)
        table.setdefault("bm25s (its tokenizer, en stop words, stemmer)", {})[name] = bm25s_peer(
            root
        )
        for label, value in seoga_rows(root).items():
            table.setdefault(label, {})[name] = value
        hybrid = evaluate_retrieval(root, "hybrid")
        latency.setdefault(DEFAULT_ROW, {})[name] = hybrid["query_ms_p50"]
        table.setdefault(DEFAULT_ROW, {})[name] = hybrid[METRIC]
        print(f"{name}: {time.perf_counter() - started:.0f} s")
    best = choose_fusion(table, args.sets)
    header = "| retriever | " + " | ".join(args.sets) + " | mean | query p50 ms |"
    lines = [header, "|---" * (len(args.sets) + 3) + "|"]
    for label, values in table.items():
        cells = " | ".join(f"{values[s]:.3f}" if s in values else "—" for s in args.sets)
        p50 = " / ".join(f"{latency[label][s]:.1f}" for s in args.sets) if label in latency else ""
        mark = " **(best fusion)**" if label == best else ""
        lines.append(f"| {label}{mark} | {cells} | {mean(values, args.sets)} | {p50} |")
    body = (
        f"`{COMMAND}` — {machine}\n\n"
        f"{METRIC} on the BEIR-layout sets in ../shared/data (scifact: test qrels, 300 queries; "
        "autorag_ko: 114 queries; squad_v1.1_dev: 10,570 questions over 2,067 paragraphs). "
        "Peers and seoga run on the same data in the same run; seoga rows go through "
        "`Collection.retrieve` + `combine`, the two halves of `Collection.search` (chunk hits "
        "count for their document). Fusion rows share one cached collection and one retrieval "
        f"per query, each retriever proposing its best {FUSION_DEPTH:,} chunks (FUSION_DEPTH); "
        "`zscore D / E` weighs BM25 1 − D, the main bi-encoder (multilingual-e5-small) "
        "D and the English bi-encoder (all-MiniLM-L6-v2, which only takes part for queries "
        "written mostly in Latin letters) E, rescaled over the retrievers taking part. The "
        "default fusion (seoga/settings.py) is the best mean over the sets among fusions never "
        "below a set's best single retriever.\n\n"
        + "\n".join(lines)
        + "\n\n"
        + targets(table, args.sets)
    )
    print(body)
    if not args.no_write:
        write_section("## Retrieval quality", body)


if __name__ == "__main__":
    main()
