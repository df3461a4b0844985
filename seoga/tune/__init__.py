"""Grid search (`seoga tune grid.yaml`) over retrieval, training or recommender settings, scored
by an evaluator.

Retrieval grids (BM25 k1/b/method, analyzer and its Kiwi tags, fusion method/weight/normalisation)
reuse one cached evaluation collection: each query is encoded once, the dense rankings are kept,
only the sparse side is rebuilt for each distinct analyzer/BM25 setting, and every fusion is
applied to the same rankings. Training grids (lr, batch size, epochs, temperature, LoRA rank,
...) train one model per trial and score it with the evaluator given (STS pairs or a BEIR split).
Recommend grids vary a recommender's settings and score each fit on a held-out log (top-N or
next-item).

Each finished trial is appended to `trials.jsonl` in the output folder at once: a rerun after an
interruption skips every trial recorded there.
"""

from seoga.tune.grid import Grid, load_grid
from seoga.tune.records import result_table, write_results
from seoga.tune.runner import TuneReport, tune

__all__ = ["Grid", "TuneReport", "load_grid", "result_table", "tune", "write_results"]
