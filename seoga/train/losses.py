"""Loss registry: a name → a sentence-transformers loss, the example shape it takes, the batch
sampler it wants, and how to reshape each kind of example into that shape."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from seoga.errors import InputError
from seoga.train.examples import LABELED, PAIRS, SCORED, TEXTS, TRIPLETS, Examples

# Shapes a loss takes.
ANCHORED = "anchor, positive[, negatives]"  # in-batch negatives (MNRL family)
TRIPLET = "anchor, positive, negative"
BINARY = "sentence1, sentence2, label 0/1"
GRADED = "sentence1, sentence2, score"
CLASSES = "text, class label"

# Cached MNRL: texts per forward pass; the batch can be far bigger than memory would allow.
CACHED_MINI_BATCH = 16


# sentence-transformers' plain random batches: the losses that accept any batch composition.
DEFAULT_SAMPLER = "batch_sampler"


@dataclass(frozen=True)
class LossSpec:
    name: str
    class_name: str  # in sentence_transformers.sentence_transformer.losses
    shape: str
    sampler: str  # a sentence_transformers BatchSamplers value
    takes_scale: bool = False  # scale = 1 / temperature of a softmax over similarities
    takes_margin: str | None = None  # the constructor's margin argument, if any
    note: str = ""


LOSSES: dict[str, LossSpec] = {
    spec.name: spec
    for spec in (
        LossSpec(
            "multiple-negatives-ranking",
            "MultipleNegativesRankingLoss",
            ANCHORED,
            "no_duplicates",
            takes_scale=True,
            note="InfoNCE with in-batch (and hard) negatives; the default for pairs",
        ),
        LossSpec(
            "cached-multiple-negatives-ranking",
            "CachedMultipleNegativesRankingLoss",
            ANCHORED,
            "no_duplicates",
            takes_scale=True,
            note="GradCache: big batches in small memory, same result as the uncached loss",
        ),
        LossSpec("contrastive", "ContrastiveLoss", BINARY, DEFAULT_SAMPLER, takes_margin="margin"),
        LossSpec(
            "online-contrastive",
            "OnlineContrastiveLoss",
            BINARY,
            DEFAULT_SAMPLER,
            takes_margin="margin",
            note="contrastive on the hard pairs of each batch only",
        ),
        LossSpec("triplet", "TripletLoss", TRIPLET, DEFAULT_SAMPLER, takes_margin="triplet_margin"),
        LossSpec(
            "batch-all-triplet",
            "BatchAllTripletLoss",
            CLASSES,
            "group_by_label",
            takes_margin="margin",
        ),
        LossSpec(
            "batch-hard-triplet",
            "BatchHardTripletLoss",
            CLASSES,
            "group_by_label",
            takes_margin="margin",
        ),
        LossSpec(
            "batch-semi-hard-triplet",
            "BatchSemiHardTripletLoss",
            CLASSES,
            "group_by_label",
            takes_margin="margin",
        ),
        LossSpec(
            "batch-hard-soft-margin-triplet",
            "BatchHardSoftMarginTripletLoss",
            CLASSES,
            "group_by_label",
        ),
        LossSpec(
            "cosent",
            "CoSENTLoss",
            GRADED,
            DEFAULT_SAMPLER,
            takes_scale=True,
            note="ranks pairs by their gold scores; the default for scored pairs",
        ),
    )
}

DEFAULT_LOSS = {
    PAIRS: "multiple-negatives-ranking",
    TRIPLETS: "multiple-negatives-ranking",
    SCORED: "cosent",
    LABELED: "batch-hard-triplet",
}


def default_loss(kind: str) -> str:
    if kind not in DEFAULT_LOSS:
        raise InputError(f"no loss trains on {kind} examples.")
    return DEFAULT_LOSS[kind]


def loss_spec(name: str) -> LossSpec:
    if name not in LOSSES:
        raise InputError(f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}.")
    return LOSSES[name]


def build_loss(
    name: str, model: Any, *, scale: float | None = None, margin: float | None = None
) -> Any:
    """The sentence-transformers loss `name` on `model`, with scale/margin when given."""
    from sentence_transformers.sentence_transformer import losses

    spec = loss_spec(name)
    options: dict[str, Any] = {}
    if scale is not None:
        if not spec.takes_scale:
            raise InputError(f"the {name} loss has no scale (temperature); drop --scale.")
        options["scale"] = scale
    if margin is not None:
        if spec.takes_margin is None:
            raise InputError(f"the {name} loss has no margin; drop --margin.")
        options[spec.takes_margin] = margin
    if spec.class_name == "CachedMultipleNegativesRankingLoss":
        options["mini_batch_size"] = CACHED_MINI_BATCH
    return getattr(losses, spec.class_name)(model, **options)


def _negative_columns(examples: Examples) -> list[str]:
    return [name for name in examples.columns if name.startswith("negative_")]


def _as_anchored(examples: Examples) -> Examples:
    if examples.kind in (PAIRS, TRIPLETS):
        return examples
    raise InputError(
        f"this loss needs {ANCHORED} examples; {examples.kind} cannot be used — choose cosent or "
        "a contrastive loss for scored pairs, a batch triplet loss for labelled texts."
    )


def _as_triplets(examples: Examples) -> Examples:
    negatives = _negative_columns(examples)
    if examples.kind != TRIPLETS or not negatives:
        raise InputError(
            f"the triplet loss needs {TRIPLET} examples: use a triplets or NLI file, or "
            "--objective dpr --hard-negatives N."
        )
    columns: dict[str, list[Any]] = {"anchor": [], "positive": [], "negative": []}
    for row in examples.rows():
        for negative in negatives:
            columns["anchor"].append(row["anchor"])
            columns["positive"].append(row["positive"])
            columns["negative"].append(row[negative])
    return Examples(TRIPLETS, columns, examples.source, examples.notes)


def _pairs_from_triplets(examples: Examples, positive: float, negative: float) -> Examples:
    columns: dict[str, list[Any]] = {"sentence1": [], "sentence2": [], "score": []}
    for row in examples.rows():
        columns["sentence1"].append(row["anchor"])
        columns["sentence2"].append(row["positive"])
        columns["score"].append(positive)
        for name in _negative_columns(examples):
            columns["sentence1"].append(row["anchor"])
            columns["sentence2"].append(row[name])
            columns["score"].append(negative)
    return Examples(SCORED, columns, examples.source, examples.notes)


def _as_binary(examples: Examples) -> Examples:
    if examples.kind == TRIPLETS:
        graded = _pairs_from_triplets(examples, 1.0, 0.0)
    elif examples.kind == SCORED:
        graded = examples
        odd = sorted({s for s in graded.columns["score"] if s not in (0, 1)})
        if odd:
            raise InputError(
                f"contrastive losses need labels 0 or 1; {examples.source} has scores such as "
                f"{odd[:3]} — use --loss cosent for graded scores."
            )
    else:
        raise InputError(
            f"contrastive losses need {BINARY} examples: give scored pairs labelled 0/1, or "
            "triplets / NLI (positive = 1, negative = 0)."
        )
    columns = {
        "sentence1": graded.columns["sentence1"],
        "sentence2": graded.columns["sentence2"],
        "label": [int(score) for score in graded.columns["score"]],
    }
    return Examples(SCORED, columns, examples.source, examples.notes)


def _as_graded(examples: Examples) -> Examples:
    if examples.kind == SCORED:
        return examples
    if examples.kind == TRIPLETS:
        return _pairs_from_triplets(examples, 1.0, 0.0)
    raise InputError(
        f"this loss needs {GRADED} examples: give scored pairs, or triplets / NLI "
        "(positive = 1, negative = 0)."
    )


def _as_classes(examples: Examples) -> Examples:
    """Labelled texts; from pairs or triplets, an anchor and its positive share a class and each
    negative is a class of its own (only ever a negative)."""
    if examples.kind == LABELED:
        return examples
    if examples.kind not in (PAIRS, TRIPLETS):
        raise InputError(f"batch triplet losses need {CLASSES} examples or pairs / triplets.")
    labels: dict[str, int] = {}  # text -> class; a text keeps the first class it was given
    fresh = itertools.count()
    for row in examples.rows():
        known = [labels[t] for t in (row["anchor"], row["positive"]) if t in labels]
        label = known[0] if known else next(fresh)
        labels.setdefault(row["anchor"], label)
        labels.setdefault(row["positive"], label)
        for name in _negative_columns(examples):
            if row[name] not in labels:
                labels[row[name]] = next(fresh)
    # Renumber 0..n-1 in order of first appearance.
    numbering: dict[int, int] = {}
    classes = [numbering.setdefault(label, len(numbering)) for label in labels.values()]
    return Examples(
        LABELED, {"text": list(labels), "label": classes}, examples.source, examples.notes
    )


SHAPERS: dict[str, Callable[[Examples], Examples]] = {
    ANCHORED: _as_anchored,
    TRIPLET: _as_triplets,
    BINARY: _as_binary,
    GRADED: _as_graded,
    CLASSES: _as_classes,
}


def shape_for(examples: Examples, loss: str) -> Examples:
    """`examples` reshaped into the columns `loss` takes, or an InputError saying what fits."""
    if examples.kind == TEXTS:
        raise InputError("unlabeled texts need an objective (simcse or ict) before a loss.")
    return SHAPERS[loss_spec(loss).shape](examples)
