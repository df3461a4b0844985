"""Semantic textual similarity: Spearman correlation (×100) between a model's cosine
similarities and gold scores, on TSV/CSV pair files (KorSTS, STS-B, or sentence1/sentence2/score).
"""

from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import pearsonr, spearmanr

from seoga.evaluate.retrieval import machine, now
from seoga.train.data import read_scored_pairs
from seoga.version import __version__

PERCENT = 100
ROUNDING = 2


def evaluate_sts(
    path: str | Path, model: str, *, seed: int = 0, show_progress: bool = False
) -> dict[str, Any]:
    """Spearman and Pearson ×100 of cosine similarity against the gold scores of `path`.

    Both sentences are encoded as queries (E5's prompt for symmetric tasks). Encoding is
    deterministic; `seed` is recorded so every eval output says how it was made.
    """
    from seoga.models.embedders import load_embedder

    pairs = read_scored_pairs(Path(path))
    embedder = load_embedder(model)
    first = embedder.encode_queries(pairs.columns["sentence1"], show_progress=show_progress)
    second = embedder.encode_queries(pairs.columns["sentence2"], show_progress=show_progress)
    similarity = np.einsum("ij,ij->i", first, second)
    gold = np.asarray(pairs.columns["score"], dtype=np.float64)
    return {
        "dataset": str(path),
        "model": embedder.name,
        "pairs": len(gold),
        "spearman": round(PERCENT * float(spearmanr(similarity, gold).statistic), ROUNDING),
        "pearson": round(PERCENT * float(pearsonr(similarity, gold).statistic), ROUNDING),
        "seed": seed,
        "embedder": embedder.spec(),
        "seoga_version": __version__,
        "machine": machine(),
        "date": now(),
    }
