"""Evaluators run during training: STS Spearman on scored pairs, nDCG@10 on a BEIR split.

They are sentence-transformers' own evaluators; the trainer scores the model with one before
training, at every evaluation step (keeping the best checkpoint), and at the end.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from seoga.errors import InputError
from seoga.train.data import read_beir, read_examples
from seoga.train.examples import SCORED

# IR evaluation encodes its corpus at every evaluation: a sample keeps that affordable on CPU.
DEFAULT_EVAL_CORPUS = 1000
IR_NDCG_AT = 10


def sts_evaluator(path: Path, *, prompt: str = "", name: str = "sts") -> Any:
    """Spearman correlation of cosine similarities with the gold scores of a pair file."""
    from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator

    pairs = read_examples(path, "scored-pairs")
    if pairs.kind != SCORED:
        raise InputError(f"{path} is not a scored-pairs file (sentence1, sentence2, score).")
    return EmbeddingSimilarityEvaluator(
        [prompt + text for text in pairs.columns["sentence1"]],
        [prompt + text for text in pairs.columns["sentence2"]],
        pairs.columns["score"],
        main_similarity="cosine",
        similarity_fn_names=["cosine"],
        name=name,
        write_csv=False,
    )


def ir_evaluator(
    root: Path,
    split: str | None,
    *,
    query_prompt: str = "",
    passage_prompt: str = "",
    corpus_size: int = DEFAULT_EVAL_CORPUS,
    seed: int = 42,
    name: str = "ir",
) -> Any:
    """nDCG@10 (and MRR, recall) of a BEIR split's queries over its judged documents plus a
    random sample of the rest of the corpus, up to `corpus_size` documents in all."""
    from sentence_transformers.sentence_transformer.evaluation import (
        InformationRetrievalEvaluator,
    )

    data = read_beir(root, split)
    judged = sorted({doc_id for docs in data.qrels.values() for doc_id in docs})
    others = sorted(set(data.corpus) - set(judged))
    extra = max(0, corpus_size - len(judged))
    sampled = random.Random(seed).sample(others, min(extra, len(others)))
    corpus = {doc_id: data.corpus[doc_id] for doc_id in judged + sampled}
    return InformationRetrievalEvaluator(
        queries=data.queries,
        corpus=corpus,
        relevant_docs={query: set(docs) for query, docs in data.qrels.items()},
        query_prompt=query_prompt or None,
        corpus_prompt=passage_prompt or None,
        ndcg_at_k=[IR_NDCG_AT],
        mrr_at_k=[IR_NDCG_AT],
        accuracy_at_k=[1, IR_NDCG_AT],
        precision_recall_at_k=[IR_NDCG_AT],
        map_at_k=[IR_NDCG_AT],
        score_functions=None,
        name=name,
        write_csv=False,
    )


def build_evaluator(
    path: Path | None,
    split: str | None,
    *,
    prompts: dict[str, str],
    corpus_size: int = DEFAULT_EVAL_CORPUS,
    seed: int = 42,
) -> Any | None:
    """An STS evaluator for a pair file, an IR evaluator for a BEIR folder, or None."""
    if path is None:
        return None
    if path.is_dir():
        return ir_evaluator(
            path,
            split,
            query_prompt=prompts.get("query", ""),
            passage_prompt=prompts.get("passage", ""),
            corpus_size=corpus_size,
            seed=seed,
            name=f"{path.name}-{split or 'qrels'}",
        )
    # Symmetric similarity: both sentences as queries (E5's advice for STS).
    return sts_evaluator(path, prompt=prompts.get("query", ""), name=path.stem)


def primary_score(evaluator: Any, model: Any) -> tuple[str, float, dict[str, float]]:
    """Run `evaluator`; return its primary metric's name and value, and all its metrics."""
    metrics = evaluator(model)
    name = evaluator.primary_metric
    return name, float(metrics[name]), {key: float(value) for key, value in metrics.items()}
