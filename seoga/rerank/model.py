"""Cross-encoder reranking: a sentence-transformers CrossEncoder trained here (`seoga train
reranker`) rescores the retrieved passages; its logits are temperature-scaled into calibrated
probabilities of relevance."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from seoga.calibrate.temperature import TemperatureScaling
from seoga.models.folders import read_model_config
from seoga.search.results import Passage
from seoga.text.documents import passage_text

KIND = "reranker"
DEFAULT_MAX_LENGTH = 384
BATCH_SIZE = 16
# Before any calibration a logit of 0 is an even chance (the loss was binary cross-entropy).
UNCALIBRATED = TemperatureScaling(1.0, 0.0)


class Reranker:
    """Scores (question, passage) pairs jointly and reorders passages by that score."""

    def __init__(self, path: str | Path, *, batch_size: int = BATCH_SIZE) -> None:
        from sentence_transformers import CrossEncoder

        self.path = Path(path).resolve()
        self.config = read_model_config(self.path, KIND)
        self.model = CrossEncoder(
            str(self.path), max_length=self.config.get("max_length", DEFAULT_MAX_LENGTH)
        )
        self.batch_size = batch_size
        fitted = self.config.get("scaling")
        self.scaling = TemperatureScaling.from_dict(fitted) if fitted else UNCALIBRATED

    @property
    def calibration_key(self) -> str:
        return str(self.path)

    def logits(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """Raw relevance logits, one per text."""
        import torch

        if not texts:
            return np.empty(0, dtype=np.float32)
        return np.asarray(
            self.model.predict(
                [(question, text) for text in texts],
                batch_size=self.batch_size,
                activation_fn=torch.nn.Identity(),
                show_progress_bar=False,
            ),
            dtype=np.float64,
        ).reshape(-1)

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return np.array([self.scaling.confidence([value]) for value in logits])

    def rerank(self, question: str, passages: Sequence[Passage]) -> list[Passage]:
        """Passages best first by the cross-encoder, renumbered from 1, each with `score` set
        to its logit and `relevance` to its calibrated probability."""
        logits = self.logits(question, [passage_text(p.title, p.text, p.section) for p in passages])
        order = np.argsort(-logits, kind="stable")
        probabilities = self.probabilities(logits)
        return [
            replace(
                passages[i],
                number=rank,
                score=float(logits[i]),
                relevance=float(probabilities[i]),
            )
            for rank, i in enumerate(order, start=1)
        ]


def judged_logits(
    scored: Iterable[tuple[str, Iterable[tuple[str, float]]]],
    qrels: Mapping[str, Mapping[str, float]],
) -> tuple[list[list[float]], list[bool]]:
    """Each (query id, [(doc id, logit)]) pair's logit, as one temperature-scaling score, and
    whether the qrels judge that document relevant to that query."""
    scores, labels = [], []
    for query_id, pairs in scored:
        judged = qrels.get(query_id, {})
        for doc_id, logit in pairs:
            scores.append([logit])
            labels.append(doc_id in judged)
    return scores, labels
