"""Related documents: the blend weight measured on MovieLens, lookups and near-duplicates on
Korean and English collections, with implicit's item-kNN and a BM25 more-like-this beside seoga.

1. MovieLens ml-latest-small as a collection (a movie = a document: title, genres, tags) and its
   ratings as who-read-what. Users are split 60 / 20 / 20: the readers' model learns from the
   first part, the blend weight is chosen on the second, the third reports. A held-out user's
   random movie is the one shown; the others they rated are the hits.
2. autorag_ko (and SciFact with `--sets`), each document plus near-duplicates of a seeded sample
   (every 20th word dropped, as a re-scan or an edited copy): the rank of each document's
   duplicate among its related documents, for seoga and for a BM25 more-like-this query (its 25
   top tf-idf terms, as Lucene's MoreLikeThis), both timed; and how often seoga's top 5 (index
   candidates) equal the exact top 5 over all document vectors.

    flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/related.py
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from benchmarks.report import DATA, machine_line, write_section
from seoga import Collection, CollectionSettings
from seoga.evaluate.related import evaluate_related, reader_cases
from seoga.index.generations import MANIFEST_NAME
from seoga.paths import seoga_home
from seoga.recommend import read_interactions, split_interactions
from seoga.recommend.data.splits import Split
from seoga.recommend.related import DEFAULT_BLEND, RelatedDocuments
from seoga.text.documents import Document

HEADING = "## Related documents"
MOVIELENS = DATA / "movielens_latest_small"
SETS = ("autorag_ko",)
K = 10
SHOWN_K = 5
DUPLICATES = 100
DROP_EVERY = 20  # the near-duplicate drops every 20th word
MLT_TERMS = 25  # Lucene MoreLikeThis's default maxQueryTerms
TIMED_LOOKUPS = 300
SEED = 0
READER_MODELS = ("itemknn", "als")
PERCENTILES = (50, 95)


def bench_dir() -> Path:
    return seoga_home() / "bench" / "related"


def built(root: Path, documents: list[Document]) -> Collection:
    """A collection of `documents` with the main bi-encoder only (related documents read no
    other), cached by their content."""
    digest = hashlib.sha256(
        json.dumps([(d.doc_id, d.title, d.text) for d in documents]).encode()
    ).hexdigest()[:16]
    folder = root.with_name(f"{root.name}-{digest}")
    if (folder / MANIFEST_NAME).exists():
        cached = Collection.open(folder)
        if cached.manifest["counts"]["documents"] == len(documents):
            return cached
        shutil.rmtree(folder)  # a run stopped while indexing
    collection = Collection.create(folder, CollectionSettings(extra_embedders=[]))
    collection.add_documents(documents, show_progress=True)
    return Collection.open(folder)


# -- 1. the blend weight on MovieLens -------------------------------------------------------
def movie_documents() -> list[Document]:
    tags: dict[str, list[str]] = defaultdict(list)
    with (MOVIELENS / "tags.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            tags[row["movieId"]].append(row["tag"])
    documents = []
    with (MOVIELENS / "movies.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            genres = row["genres"].replace("|", ", ")
            text = f"{row['title']}. Genres: {genres}."
            if tags[row["movieId"]]:
                text += " Tags: " + ", ".join(dict.fromkeys(tags[row["movieId"]])) + "."
            documents.append(Document(row["movieId"], text, title=row["title"]))
    return documents


def implicit_peer(collection: Collection, split: Split, k: int) -> dict[str, float]:
    """implicit's CosineRecommender.similar_items on the same readers and cases."""
    from implicit.nearest_neighbours import CosineRecommender
    from ranx import Qrels, Run, evaluate

    model = CosineRecommender(K=100, num_threads=1)
    model.fit(split.train.matrix().tocsr(), show_progress=False)
    cases = reader_cases(collection, split, SEED)
    ids = split.train.item_ids
    run = {}
    for reader, looked_at, _ in cases:
        found, scores = model.similar_items(ids.get(looked_at), N=k + 1)
        listed = [
            (ids.ids[i], s) for i, s in zip(found, scores, strict=True) if ids.ids[i] != looked_at
        ]
        kept = {doc: float(score) for doc, score in listed[:k] if score > 0}
        if kept:  # ranx counts a reader with no list as all misses (make_comparable)
            run[reader] = kept
    qrels = Qrels({reader: dict.fromkeys(targets, 1) for reader, _, targets in cases})
    names = [f"hit_rate@{k}", f"recall@{k}", f"ndcg@{k}"]
    scores = evaluate(qrels, Run(run), names, make_comparable=True)
    return {name.replace("hit_rate", "hr"): round(float(scores[name]), 6) for name in names}


def movielens_part(seed: int) -> dict:
    collection = built(bench_dir() / "movielens", movie_documents())
    log = read_interactions(MOVIELENS / "ratings.csv").positives()
    first = split_interactions(log, "users:0.4", seed=seed)
    held = split_interactions(first.test, "users:0.5", seed=seed + 1)
    valid = Split(first.train, held.train, "users 60/20/20: valid")
    test = Split(first.train, held.test, "users 60/20/20: test")
    part: dict = {"readers": {}, "documents": len(collection.chunk_map.doc_ids)}
    for model in READER_MODELS:
        chosen = evaluate_related(collection, valid, k=K, model=model, seed=seed)
        reported = evaluate_related(
            collection,
            test,
            blends=sorted({0.0, chosen["best_blend"], DEFAULT_BLEND, 1.0}),
            k=K,
            model=model,
            seed=seed,
        )
        part["readers"][model] = {"valid": chosen, "test": reported}
    part["implicit"] = implicit_peer(collection, test, K)
    return part


# -- 2. near-duplicates and lookup time -----------------------------------------------------
def corpus(name: str) -> list[Document]:
    with (DATA / name / "corpus.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [Document(row["_id"], row["text"], title=row.get("title", "")) for row in rows]


def near_duplicate(document: Document) -> Document:
    words = document.text.split()
    kept = [word for position, word in enumerate(words) if position % DROP_EVERY != DROP_EVERY - 1]
    return Document(f"{document.doc_id}#copy", " ".join(kept), title=document.title)


def exact_duplicates(documents: list[Document]) -> list[list[str]]:
    """Groups of documents of the original corpus whose texts are the same."""
    groups: dict[str, list[str]] = defaultdict(list)
    for document in documents:
        groups[" ".join(document.text.split())].append(document.doc_id)
    return [ids for text, ids in groups.items() if len(ids) > 1 and text]


def mlt_peer(documents: list[Document]):
    """BM25 more-like-this: each document's top tf-idf terms as a bm25s query."""
    import bm25s

    tokenized = bm25s.tokenize([d.text for d in documents], stopwords=None, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokenized, show_progress=False)
    frequency = Counter(term for ids in tokenized.ids for term in set(ids))
    count = len(documents)
    inverse = {index: term for term, index in tokenized.vocab.items()}

    def query(position: int) -> list[str]:
        terms = Counter(tokenized.ids[position])
        weight = {t: tf * np.log(count / frequency[t]) for t, tf in terms.items()}
        return [inverse[t] for t in sorted(weight, key=lambda t: (-weight[t], t))[:MLT_TERMS]]

    def related(position: int, k: int) -> list[int]:
        found, _ = retriever.retrieve([query(position)], k=k + 1, show_progress=False)
        return [int(i) for i in found[0] if int(i) != position][:k]

    return related


def rank_of(listed: list[str], wanted: str) -> int | None:
    return listed.index(wanted) + 1 if wanted in listed else None


def duplicates_part(name: str, seed: int, count: int) -> dict:
    documents = corpus(name)
    rng = np.random.default_rng(seed)
    originals = [documents[i] for i in sorted(rng.choice(len(documents), count, replace=False))]
    copies = [near_duplicate(d) for d in originals]
    everything = documents + copies
    collection = built(bench_dir() / name, everything)
    related = RelatedDocuments(collection)
    pairs = [(d.doc_id, c.doc_id) for d, c in zip(originals, copies, strict=True)]
    pairs += [(c, d) for d, c in pairs]
    seoga_ranks, seoga_ms = [], []
    for looked_at, wanted in pairs:
        started = time.perf_counter()
        listed = [hit.doc_id for hit in related.related(looked_at, K)]
        seoga_ms.append(1000 * (time.perf_counter() - started))
        seoga_ranks.append(rank_of(listed, wanted))
    position = {d.doc_id: i for i, d in enumerate(everything)}
    peer = mlt_peer(everything)
    peer_ranks, peer_ms = [], []
    for looked_at, wanted in pairs:
        started = time.perf_counter()
        listed = [everything[i].doc_id for i in peer(position[looked_at], K)]
        peer_ms.append(1000 * (time.perf_counter() - started))
        peer_ranks.append(rank_of(listed, wanted))
    natural = exact_duplicates(documents)
    natural_first = [
        related.related(doc_id, 1)[0].doc_id in group for group in natural for doc_id in group
    ]
    sample = rng.choice(len(everything), min(TIMED_LOOKUPS, len(everything)), replace=False)
    agreement = exact_agreement(related, [everything[i].doc_id for i in sample])
    return {
        "documents": len(everything),
        "chunks": collection.manifest["counts"]["chunks"],
        "pairs": len(pairs),
        "seoga": summary(seoga_ranks, seoga_ms),
        "bm25_mlt": summary(peer_ranks, peer_ms),
        "natural_groups": len(natural),
        "natural_first": round(float(np.mean(natural_first)), 4) if natural_first else None,
        "exact_top5": agreement,
    }


def exact_agreement(related: RelatedDocuments, doc_ids: list[str]) -> float:
    """Share of the top-5 that the index candidates share with exact search over all vectors."""
    vectors = related.vectors(np.arange(len(related.collection.chunk_map.doc_ids)))
    overlaps = []
    for doc_id in doc_ids:
        number = related.collection.chunk_map.doc_ids.index(doc_id)
        scores = vectors @ vectors[number]
        scores[number] = -np.inf
        exact = set(np.argsort(-scores, kind="stable")[:SHOWN_K].tolist())
        found = {n for n in related.ranked(number, SHOWN_K)[0].tolist()}
        overlaps.append(len(exact & found) / SHOWN_K)
    return round(float(np.mean(overlaps)), 4)


def summary(ranks: list[int | None], milliseconds: list[float]) -> dict:
    return {
        "first": round(float(np.mean([rank == 1 for rank in ranks])), 4),
        "in_top10": round(float(np.mean([rank is not None for rank in ranks])), 4),
        "mrr": round(float(np.mean([1 / rank if rank else 0.0 for rank in ranks])), 4),
        **{f"p{p}_ms": round(float(np.percentile(milliseconds, p)), 3) for p in PERCENTILES},
    }


# -- the report -----------------------------------------------------------------------------
def report(results: dict) -> str:
    lines = [
        f"`{results['command']}` — {results['machine']}; {results['seconds'] / 60:.1f} min.",
        "",
        "### Blend weight (MovieLens latest-small as a collection)",
        "",
        f"{results['movielens']['documents']:,} movies indexed as documents (title, genres, "
        "tags) with multilingual-e5-small; ratings as who-read-what. Users split 60 / 20 / 20 "
        "(seed 0): the readers' model learns from the first part, the weight is chosen by "
        f"nDCG@{K} on the second, the third reports. A held-out user's random movie is the one "
        "shown; the other movies they rated are the hits.",
        "",
    ]
    for model, parts in results["movielens"]["readers"].items():
        valid, test = parts["valid"], parts["test"]
        lines += [
            f"Readers' model **{model}**: weights on {valid['readers']} validation users "
            f"(best {valid['best_blend']:g}); test on {test['readers']} users:",
            "",
            f"| blend | valid hr@{K} | valid ndcg@{K} | test hr@{K} | test ndcg@{K} "
            f"| test recall@{K} | ms / lookup |",
            "|---|---|---|---|---|---|---|",
        ]
        for blend, scores in valid["blends"].items():
            tested = test["blends"].get(blend)
            cells = [
                f"{scores[f'hr@{K}']:.4f}",
                f"{scores[f'ndcg@{K}']:.4f}",
                *(
                    [f"{tested[f'hr@{K}']:.4f}", f"{tested[f'ndcg@{K}']:.4f}",
                     f"{tested[f'recall@{K}']:.4f}", f"{test['ms_per_lookup'][blend]}"]
                    if tested
                    else ["", "", "", f"{valid['ms_per_lookup'][blend]}"]
                ),
            ]  # fmt: skip
            mark = " (chosen)" if float(blend) == valid["best_blend"] else ""
            lines.append(f"| {blend}{mark} | " + " | ".join(cells) + " |")
        lines.append("")
    peer = results["movielens"]["implicit"]
    lines += [
        f"Peer: implicit `CosineRecommender.similar_items` alone on the same test users: "
        f"hr@{K} {peer[f'hr@{K}']:.4f}, ndcg@{K} {peer[f'ndcg@{K}']:.4f}, "
        f"recall@{K} {peer[f'recall@{K}']:.4f}.",
        "",
        "### Near-duplicates and lookup time",
        "",
        f"Each set plus near-duplicates of {results['duplicates']} seeded documents (every "
        f"{DROP_EVERY}th word dropped); both directions are looked up (original → copy, copy → "
        f"original). seoga: `RelatedDocuments.related(doc, {K})` on the main bi-encoder's "
        f"vectors; BM25 more-like-this: the document's {MLT_TERMS} top tf-idf terms as a bm25s "
        f"query. 'exact top {SHOWN_K}': the share of seoga's top {SHOWN_K} that exact search "
        f"over all document vectors also returns ({TIMED_LOOKUPS} random documents).",
        "",
        "| set | documents / chunks | method | duplicate first | in top 10 | MRR "
        "| p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, part in results["sets"].items():
        for label, key in (("seoga", "seoga"), ("BM25 more-like-this", "bm25_mlt")):
            m = part[key]
            lines.append(
                f"| {name} | {part['documents']:,} / {part['chunks']:,} | {label} | "
                f"{m['first']:.3f} | {m['in_top10']:.3f} | {m['mrr']:.3f} | "
                f"{m['p50_ms']} | {m['p95_ms']} |"
            )
    lines.append("")
    for name, part in results["sets"].items():
        natural = (
            f"{part['natural_groups']} groups of identical texts in the corpus; another member "
            f"of the group is first for {part['natural_first']:.3f} of their documents"
            if part["natural_groups"]
            else "no identical texts in the corpus"
        )
        lines.append(
            f"- {name}: exact top {SHOWN_K} agreement {part['exact_top5']:.3f}; {natural}."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--duplicates", type=int, default=DUPLICATES)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    results = {
        "command": "PYTHONPATH=. python benchmarks/related.py"
        + (f" --sets {args.sets}" if args.sets != ",".join(SETS) else ""),
        "machine": machine_line(),
        "duplicates": args.duplicates,
        "movielens": movielens_part(args.seed),
        "sets": {
            name: duplicates_part(name, args.seed, args.duplicates) for name in args.sets.split(",")
        },
    }
    results["seconds"] = time.perf_counter() - started
    out = Path(__file__).parent / "results" / "related.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(report(results))
    if not args.no_report:
        write_section(HEADING, report(results))


if __name__ == "__main__":
    main()
