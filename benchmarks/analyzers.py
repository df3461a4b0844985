"""BM25 with each seoga analyzer and Kiwi tag set: nDCG@10 and tokenisation speed.

Run from the repository root: PYTHONPATH=. python benchmarks/analyzers.py
It prints the tables and writes them as the "Analyzers" section of BENCHMARKS.md.
Kiwi runs once per text set; every tag set is then applied to the same analysis.
"""

import argparse
import csv
import json
import os
import platform
import statistics
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import bm25s
import kiwipiepy
from ranx import Qrels, Run, evaluate

from benchmarks.report import DATA, write_section
from seoga.text.analyzers import (
    DEFAULT_KEEP_TAGS,
    Analyzer,
    BigramAnalyzer,
    EnglishAnalyzer,
    KoreanAnalyzer,
    MixedAnalyzer,
    WhitespaceAnalyzer,
)
from seoga.text.kiwi import get_kiwi
from seoga.text.normalize import normalize_text

SECTION = "## Analyzers (BM25 tokenisation)"
SETS = ("autorag_ko", "beir_scifact")
TOP_K = 10
BM25 = {"method": "lucene", "k1": 1.2, "b": 0.75}

CONTENT = ("NN", "VV", "VA", "XR", "SL", "SN")
TAG_SETS: dict[str, tuple[str, ...]] = {
    "NN": ("NN",),
    "NN SL SN": ("NN", "SL", "SN"),
    "content: NN VV VA XR SL SN": CONTENT,
    "content + MAG": (*CONTENT, "MAG"),
    "content + SH": (*CONTENT, "SH"),
    "content + XSN": (*CONTENT, "XSN"),
    "content + MAG SH": (*CONTENT, "MAG", "SH"),
    "content + MAG XSN": (*CONTENT, "MAG", "XSN"),
    "content + MAG SH XSN": (*CONTENT, "MAG", "SH", "XSN"),
    "all but particles, endings, symbols: N V M I X SL SN SH": (
        *("N", "V", "M", "I", "X"),
        *("SL", "SN", "SH"),
    ),
}
# The default keep_tags is the tag set whose mixed analyzer (the default analyzer) scores best
# on this set; scores equal to 3 decimals count as a tie, won by the smaller set.
CHOICE_SET = "autorag_ko"
CHOICE_DECIMALS = 3


@dataclass
class TextSet:
    name: str
    doc_ids: list[str]
    documents: list[str]
    query_ids: list[str]
    queries: list[str]
    qrels: dict[str, dict[str, int]]


@dataclass
class Speed:
    corpus_seconds: float
    documents_per_second: float
    characters_per_second: float
    query_ms: float


def load_set(folder: Path) -> TextSet:
    doc_ids, documents = [], []
    with (folder / "corpus.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            doc_ids.append(str(record["_id"]))
            documents.append(normalize_text(f"{record.get('title', '')}\n{record['text']}"))
    qrels: dict[str, dict[str, int]] = {}
    with (folder / "qrels.tsv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            if int(row["score"]) > 0:
                qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    query_ids, queries = [], []
    with (folder / "queries.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if str(record["_id"]) in qrels:
                query_ids.append(str(record["_id"]))
                queries.append(normalize_text(record["text"]))
    return TextSet(folder.name, doc_ids, documents, query_ids, queries, qrels)


def ndcg(text_set: TextSet, corpus_terms: list[list[str]], query_terms: list[list[str]]) -> float:
    retriever = bm25s.BM25(**BM25)
    retriever.index(corpus_terms, show_progress=False)
    found, scores = retriever.retrieve(query_terms, k=TOP_K, show_progress=False)
    run = {
        query_id: {
            text_set.doc_ids[index]: float(score)
            for index, score in zip(found[row], scores[row], strict=True)
            if score > 0
        }
        for row, query_id in enumerate(text_set.query_ids)
    }
    if not any(run.values()):
        return 0.0  # ranx cannot build a run with no documents at all
    return evaluate(Qrels.from_dict(text_set.qrels), Run.from_dict(run), f"ndcg@{TOP_K}")


def speed(analyzer: Analyzer, text_set: TextSet) -> tuple[Speed, list[list[str]], list[list[str]]]:
    started = time.perf_counter()
    corpus_terms = analyzer.tokenize_many(text_set.documents)
    seconds = time.perf_counter() - started
    query_terms, query_seconds = [], []
    for query in text_set.queries:
        started = time.perf_counter()
        query_terms.append(analyzer.tokenize(query))
        query_seconds.append(time.perf_counter() - started)
    characters = sum(len(document) for document in text_set.documents)
    measured = Speed(
        corpus_seconds=seconds,
        documents_per_second=len(text_set.documents) / seconds,
        characters_per_second=characters / seconds,
        query_ms=statistics.median(query_seconds) * 1000,
    )
    return measured, corpus_terms, query_terms


def kiwi_rows(text_set: TextSet) -> dict[str, float]:
    """nDCG@10 of the Korean and mixed analyzers with every tag set, from one Kiwi analysis."""
    kiwi = get_kiwi()
    corpus_tokens = list(kiwi.tokenize(iter(text_set.documents)))
    query_tokens = list(kiwi.tokenize(iter(text_set.queries)))
    scores = {}
    for label, tags in TAG_SETS.items():
        for analyzer in (KoreanAnalyzer(keep_tags=tags), MixedAnalyzer(keep_tags=tags)):
            corpus_terms = [
                analyzer.terms_from_kiwi(text, tokens)
                for text, tokens in zip(text_set.documents, corpus_tokens, strict=True)
            ]
            query_terms = [
                analyzer.terms_from_kiwi(text, tokens)
                for text, tokens in zip(text_set.queries, query_tokens, strict=True)
            ]
            scores[f"{analyzer.name} [{label}]"] = ndcg(text_set, corpus_terms, query_terms)
    return scores


def speed_rows(text_set: TextSet) -> tuple[dict[str, float], dict[str, Speed]]:
    """nDCG@10 and speed of each analyzer as seoga builds it (default settings)."""
    scores, speeds = {}, {}
    analyzers = (
        MixedAnalyzer(),
        KoreanAnalyzer(),
        BigramAnalyzer(),
        EnglishAnalyzer(),
        WhitespaceAnalyzer(),
    )
    for analyzer in analyzers:
        measured, corpus_terms, query_terms = speed(analyzer, text_set)
        label = f"{analyzer.name} (default)"
        scores[label] = ndcg(text_set, corpus_terms, query_terms)
        speeds[analyzer.name] = measured
    return scores, speeds


def best_tag_set(scores: dict[str, float]) -> str:
    """The tag set chosen by the rule above, from one text set's scores."""
    return max(
        TAG_SETS,
        key=lambda label: (
            round(scores[f"{MixedAnalyzer.name} [{label}]"], CHOICE_DECIMALS),
            -len(TAG_SETS[label]),
        ),
    )


def markdown(
    sets: Sequence[TextSet],
    scores: dict[str, dict[str, float]],
    speeds: dict[str, dict[str, Speed]],
    command: str,
    load: float,
) -> str:
    names = [text_set.name for text_set in sets]
    labels = list(dict.fromkeys(label for name in names for label in scores[name]))
    lines = [
        f"`{command}` — {date.today().isoformat()}, {platform.platform()}, "
        f"{os.cpu_count()} CPUs (load average {load:.1f} at start), "
        f"Python {platform.python_version()}, "
        f"kiwipiepy {kiwipiepy.__version__}, bm25s {bm25s.__version__} "
        f"({BM25['method']}, k1={BM25['k1']}, b={BM25['b']}).",
        "",
        "Documents are title + text; the same analyzer tokenises documents and queries. "
        "Tag sets are Kiwi tag prefixes (NN = NNG, NNP, NNB…). In the mixed analyzer Latin "
        "letters and digits always take the English path (stemmed, stop words dropped). "
        "autorag_ko has 114 queries: one relevant page moving from rank 1 to 2 changes its "
        "nDCG@10 by about .003, so gaps under .01 are within noise. Speeds are wall-clock on a "
        "shared machine: compare them within one run.",
        "",
        f"| analyzer | {' | '.join(f'{name} nDCG@{TOP_K}' for name in names)} |",
        f"|---|{'---|' * len(names)}",
    ]
    for label in labels:
        cells = [f"{scores[name][label]:.3f}" if label in scores[name] else "—" for name in names]
        lines.append(f"| {label} | {' | '.join(cells)} |")
    if CHOICE_SET in scores:
        best = best_tag_set(scores[CHOICE_SET])
        agrees = sorted(TAG_SETS[best]) == sorted(DEFAULT_KEEP_TAGS)
        lines += [
            "",
            f"Best tag set on {CHOICE_SET} for the mixed analyzer (ties at {CHOICE_DECIMALS} "
            f"decimals → the smaller set): {best}. seoga's DEFAULT_KEEP_TAGS: "
            f"{' '.join(sorted(DEFAULT_KEEP_TAGS))} ({'the same' if agrees else 'DIFFERENT'}).",
        ]
    lines += [
        "",
        "Tokenisation speed (whole corpus through tokenize_many; median single query):",
        "",
        "| analyzer | set | corpus s | docs/s | chars/s | query ms |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        for analyzer, measured in speeds[name].items():
            lines.append(
                f"| {analyzer} | {name} | {measured.corpus_seconds:.1f} | "
                f"{measured.documents_per_second:,.0f} | {measured.characters_per_second:,.0f} | "
                f"{measured.query_ms:.3f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder holding the text sets")
    parser.add_argument("--sets", nargs="+", default=list(SETS), help="text sets to run")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    # ranx's numba kernels warn about an integer cast on every call.
    warnings.filterwarnings("ignore", module="ranx")
    load = os.getloadavg()[0]
    get_kiwi()
    sets = [load_set(args.data / name) for name in args.sets]
    scores: dict[str, dict[str, float]] = {}
    speeds: dict[str, dict[str, Speed]] = {}
    for text_set in sets:
        print(
            f"{text_set.name}: {len(text_set.documents)} documents, {len(text_set.queries)} queries"
        )
        scores[text_set.name], speeds[text_set.name] = speed_rows(text_set)
        scores[text_set.name].update(kiwi_rows(text_set))
    command = "PYTHONPATH=. python benchmarks/analyzers.py"
    if args.sets != list(SETS):
        command += f" --sets {' '.join(args.sets)}"
    section = markdown(sets, scores, speeds, command, load)
    print(section)
    if not args.no_write:
        write_section(SECTION, section)


if __name__ == "__main__":
    main()
