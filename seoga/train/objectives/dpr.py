"""Dense Passage Retrieval (Karpukhin et al. 2020): in-batch negatives plus hard negatives that
seoga's own BM25 ranks high for the query but that are not among its known positives."""

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from seoga.errors import InputError
from seoga.index.sparse import SparseIndex
from seoga.progress import track
from seoga.text.analyzers import DEFAULT_ANALYZER, build_analyzer
from seoga.train.examples import PAIRS, TRIPLETS, BeirPairs, Examples

# BM25 looks this many results deeper than needed, to step over the known positives.
SEARCH_SLACK = 10


@dataclass
class MinedNegatives:
    """Hard negative ids per query, and how many had to be drawn at random (BM25 ran dry)."""

    negatives: list[list[str]]
    random_fill: int = 0


def mine_bm25_negatives(
    queries: Sequence[str],
    positives: Sequence[set[str]],
    pool: Mapping[str, str],
    *,
    count: int,
    seed: int,
    analyzer: str | dict[str, Any] = DEFAULT_ANALYZER,
    show_progress: bool = False,
) -> MinedNegatives:
    """The `count` best BM25 documents of `pool` for each query, its positives skipped.

    A document whose text equals a positive's counts as that positive (corpora hold duplicates).
    When BM25 finds too few, random non-positive documents fill up, so every query gets `count`.
    """
    tokenizer = build_analyzer(analyzer)
    ids = list(pool)
    tokens = tokenizer.tokenize_many([pool[i] for i in ids], show_progress=show_progress)
    index = SparseIndex.build(enumerate(tokens))
    rng = random.Random(seed)
    mined = MinedNegatives([])
    for query, known in track(
        list(zip(queries, positives, strict=True)), "mining BM25 negatives", enabled=show_progress
    ):
        known_texts = {pool[i] for i in known if i in pool}
        depth = count + len(known) + SEARCH_SLACK
        found = []
        positions, _ = index.search(tokenizer.tokenize(query), depth)
        for position in positions.tolist():
            doc_id = ids[position]
            if doc_id not in known and pool[doc_id] not in known_texts and doc_id not in found:
                found.append(doc_id)
            if len(found) == count:
                break
        while len(found) < count and len(found) + len(known) < len(ids):
            doc_id = ids[rng.randrange(len(ids))]
            if doc_id not in known and doc_id not in found:
                found.append(doc_id)
                mined.random_fill += 1
        mined.negatives.append(found)
    return mined


def dpr_examples(
    data: BeirPairs | Examples,
    *,
    hard_negatives: int,
    seed: int,
    analyzer: str | dict[str, Any] = DEFAULT_ANALYZER,
    show_progress: bool = False,
) -> Examples:
    """(query, positive, negative_1..n) rows: one per judged pair, the query's BM25 negatives.

    `data` is a BEIR set (negatives come from its corpus) or (anchor, positive) pairs (negatives
    come from all the positives of the file).
    """
    beir = data if isinstance(data, BeirPairs) else _pairs_as_beir(data)
    pairs = beir.examples()
    if hard_negatives <= 0:
        return pairs
    query_ids = list(beir.qrels)
    mined = mine_bm25_negatives(
        [beir.queries[q] for q in query_ids],
        [set(beir.qrels[q]) for q in query_ids],
        beir.corpus,
        count=hard_negatives,
        seed=seed,
        analyzer=analyzer,
        show_progress=show_progress,
    )
    by_query = dict(zip(query_ids, mined.negatives, strict=True))
    columns: dict[str, list[Any]] = {"anchor": [], "positive": []}
    columns |= {f"negative_{n}": [] for n in range(1, hard_negatives + 1)}
    for query_id, relevant in beir.qrels.items():
        negatives = by_query[query_id]
        if len(negatives) < hard_negatives:
            continue  # a pool too small to give this query enough negatives
        for doc_id in relevant:
            columns["anchor"].append(beir.queries[query_id])
            columns["positive"].append(beir.corpus[doc_id])
            for n, negative in enumerate(negatives, start=1):
                columns[f"negative_{n}"].append(beir.corpus[negative])
    notes = [f"{hard_negatives} BM25 hard negatives per query, known positives skipped"]
    if mined.random_fill:
        notes.append(f"{mined.random_fill} negatives drawn at random where BM25 found too few")
    return Examples(TRIPLETS, columns, beir.source, notes)


def _pairs_as_beir(pairs: Examples) -> BeirPairs:
    """(anchor, positive) pairs as queries, qrels and a corpus of the distinct positives."""
    if pairs.kind != PAIRS:
        raise InputError("DPR needs (anchor, positive) pairs or a BEIR folder (queries + qrels).")
    corpus: dict[str, str] = {}
    text_ids: dict[str, str] = {}
    queries: dict[str, str] = {}
    query_ids: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for anchor, positive in zip(pairs.columns["anchor"], pairs.columns["positive"], strict=True):
        doc_id = text_ids.setdefault(positive, f"d{len(text_ids)}")
        corpus[doc_id] = positive
        query_id = query_ids.setdefault(anchor, f"q{len(query_ids)}")
        queries[query_id] = anchor
        qrels.setdefault(query_id, {})[doc_id] = 1
    return BeirPairs(queries, qrels, corpus, pairs.source)
