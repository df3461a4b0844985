"""Cross-encoder reranking: `model` rescores retrieved passages with a trained reranker,
`training` makes one (`seoga train reranker`).

It sits beside answer/, above the query core (seoga.search), because it reads answer passages,
calibration and evaluation data; import `seoga.rerank.training` for the trainer, which pulls in
the evaluation readers.
"""

from seoga.rerank.model import (
    DEFAULT_MAX_LENGTH,
    KIND,
    UNCALIBRATED,
    Reranker,
    judged_logits,
)

__all__ = ["DEFAULT_MAX_LENGTH", "KIND", "UNCALIBRATED", "Reranker", "judged_logits"]
