"""Training objectives: each turns the user's data into examples a sentence-transformers loss
takes. `build_examples` picks the data source and the objective's module."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seoga.errors import InputError
from seoga.text.analyzers import DEFAULT_ANALYZER
from seoga.train.data import (
    FORMATS,
    detect_format,
    read_beir,
    read_examples,
    read_passages,
)
from seoga.train.examples import Examples
from seoga.train.objectives.dpr import dpr_examples
from seoga.train.objectives.ict import ict_examples
from seoga.train.objectives.simcse import simcse_examples
from seoga.train.objectives.supervised import supervised_examples

OBJECTIVES = ("supervised", "simcse", "ict", "dpr")
UNSUPERVISED = ("simcse", "ict")
# DPR's paper used one BM25 negative per question; more help a little and cost a forward each.
DEFAULT_DPR_NEGATIVES = 1
DEFAULT_PASSAGE_TOKENS = 256


@dataclass
class DataRequest:
    """Where the training data comes from and how to turn it into examples."""

    objective: str | None = None
    data: Path | None = None
    collection: Path | None = None
    fmt: str = "auto"
    split: str | None = None
    hard_negatives: int | None = None
    max_examples: int | None = None
    analyzer: str | dict[str, Any] = DEFAULT_ANALYZER
    seed: int = 42


def resolve_objective(request: DataRequest) -> tuple[str, str]:
    """(objective, data format) after defaults: a corpus needs simcse or ict, a BEIR folder
    defaults to dpr, labelled tables to supervised."""
    if request.fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {request.fmt!r}.")
    if request.objective is not None and request.objective not in OBJECTIVES:
        raise InputError(
            f"--objective must be one of {', '.join(OBJECTIVES)}, not {request.objective!r}."
        )
    if (request.data is None) == (request.collection is None):
        raise InputError("give either --data PATH or --collection FOLDER (one of them).")
    path = request.collection or request.data
    fmt = "corpus" if request.collection else request.fmt
    fmt = detect_format(path) if fmt == "auto" else fmt
    objective = request.objective
    if objective is None:
        if fmt == "corpus":
            raise InputError(
                f"{path} is an unlabeled corpus: choose --objective simcse or --objective ict."
            )
        objective = "dpr" if fmt == "beir" else "supervised"
    if objective in UNSUPERVISED and fmt != "corpus":
        raise InputError(
            f"--objective {objective} learns from an unlabeled corpus: give --collection FOLDER "
            "or --data with text files (not a labelled table)."
        )
    if objective not in UNSUPERVISED and fmt == "corpus":
        raise InputError(
            f"--objective {objective} needs labelled data (pairs, triplets, scored pairs, NLI or "
            f"a BEIR folder); {path} is an unlabeled corpus — use simcse or ict."
        )
    if objective == "dpr" and fmt not in ("beir", "pairs"):
        raise InputError("--objective dpr needs a BEIR folder (queries + qrels) or a pairs file.")
    if request.hard_negatives and objective != "dpr":
        raise InputError("--hard-negatives mines BM25 negatives for --objective dpr only.")
    return objective, fmt


def build_examples(request: DataRequest, *, show_progress: bool = False) -> tuple[str, Examples]:
    """The objective's name and its training examples."""
    objective, fmt = resolve_objective(request)
    path = request.collection or request.data
    if objective in UNSUPERVISED:
        passages = read_passages(path, max_tokens=DEFAULT_PASSAGE_TOKENS)
        if objective == "simcse":
            examples = simcse_examples(
                passages, seed=request.seed, max_examples=request.max_examples
            )
        else:
            examples = ict_examples(passages, seed=request.seed, max_examples=request.max_examples)
        examples.source = str(path)
    elif objective == "dpr":
        data = read_beir(path, request.split) if fmt == "beir" else read_examples(path, "pairs")
        negatives = (
            DEFAULT_DPR_NEGATIVES if request.hard_negatives is None else request.hard_negatives
        )
        examples = dpr_examples(
            data,
            hard_negatives=negatives,
            seed=request.seed,
            analyzer=request.analyzer,
            show_progress=show_progress,
        )
    else:
        examples = supervised_examples(path, fmt, request.split)
    if not len(examples):
        raise InputError(f"no training examples could be made from {path}.")
    if request.max_examples is not None and objective not in UNSUPERVISED:
        examples = examples.sample(request.max_examples, request.seed)
    return objective, examples
