"""Train a cross-encoder reranker from an encoder on BEIR qrels (negatives mined by seoga's BM25,
or by a collection's own hybrid search) or on labelled pairs, then fit its temperature on
held-out queries.

An encoder trained for mean pooling (e5, MiniLM) leaves its [CLS] state untrained for scoring, and
a classifier on it stayed at chance through 200 steps here; so the reranker mean-pools the joint
(query, passage) sequence and scores it with a new linear head, which learns at its own, larger
learning rate. A base that already is a cross-encoder (…ForSequenceClassification) keeps its own
head."""

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seoga.atomic import building
from seoga.calibrate.metrics import expected_calibration_error
from seoga.calibrate.temperature import TemperatureScaling
from seoga.collection.cache import cached_collection
from seoga.datasets.beir import (
    CORPUS_NAME,
    QUERIES_NAME,
    BeirSet,
    qrels_path,
    read_corpus_texts,
    read_qrels,
    read_queries,
)
from seoga.errors import InputError
from seoga.models.folders import write_model_config
from seoga.models.freezing import freeze_embeddings
from seoga.models.hf_training import (
    follow_training,
    remove_checkpoints,
    training_arguments,
    transformers_quiet,
)
from seoga.models.registry import DEFAULT_EMBEDDER, resolve_model
from seoga.progress import track
from seoga.rerank.model import DEFAULT_MAX_LENGTH, KIND, UNCALIBRATED
from seoga.settings import CollectionSettings

if TYPE_CHECKING:
    from seoga.collection import Collection

PAIRS_SUFFIX = ".jsonl"
# A pair labelled at least this much counts as relevant.
RELEVANT = 0.5
BM25_MODE = "bm25"
PAIRS_SOURCE = "pairs"  # the record's negatives_from when the pairs came labelled
# Fitting a temperature needs two pairs, one of each label.
MIN_CALIBRATION_PAIRS = 2
CLASSIFIER_SUFFIX = "ForSequenceClassification"
# The learning rate warms up over this share of the steps.
WARMUP_SHARE = 0.1


@dataclass
class RerankerTrainingConfig:
    base: str = DEFAULT_EMBEDDER
    split: str = "train"
    negatives: int = 4  # mined negatives per positive
    mining_depth: int = 30  # negatives are drawn from this many search results
    epochs: float = 1.0
    learning_rate: float = 3e-5
    head_learning_rate: float = 1e-2  # the new scoring head starts from nothing
    batch_size: int = 16
    max_length: int = DEFAULT_MAX_LENGTH
    max_queries: int | None = None
    calibration_fraction: float = 0.1
    freeze_embeddings: bool = True
    seed: int = 42


@dataclass(frozen=True)
class Pair:
    query: str
    passage: str
    label: float
    group: str  # the query id: held-out splits never cut a query's pairs apart


def mine_pairs(
    root: Path,
    config: RerankerTrainingConfig,
    *,
    show_progress: bool,
    collection: "Collection | None" = None,
) -> list[Pair]:
    """Positives from the split's qrels; negatives from the top results of `collection`'s
    default (hybrid) search over the same corpus, or of seoga's own BM25 when none is given."""
    for name in (CORPUS_NAME, QUERIES_NAME):
        if not (root / name).is_file():
            raise InputError(f"{root} is not a BEIR-layout folder: {name} is missing.")
    qrels = read_qrels(qrels_path(root, config.split))
    queries = read_queries(root / QUERIES_NAME)
    judged = sorted(query for query in qrels if query in queries)
    if not judged:
        raise InputError(
            f"no query of {root / QUERIES_NAME} is judged in the {config.split} qrels."
        )
    rng = random.Random(config.seed)
    if config.max_queries and len(judged) > config.max_queries:
        judged = sorted(rng.sample(judged, config.max_queries))
    corpus = read_corpus_texts(root / CORPUS_NAME)
    mode = None
    if collection is None:
        data = BeirSet(root, root / CORPUS_NAME, {q: queries[q] for q in judged}, qrels)
        collection, _ = cached_collection(
            data, CollectionSettings(embedder=None), cache_dir=None, show_progress=show_progress
        )
        mode = BM25_MODE
    pairs = []
    for query_id in track(judged, "mining negatives", enabled=show_progress):
        text = queries[query_id]
        positives = [doc for doc in qrels[query_id] if doc in corpus]
        found = collection.search(text, k=config.mining_depth, mode=mode)
        candidates = [hit.doc_id for hit in found if hit.doc_id not in qrels[query_id]]
        wanted = min(len(candidates), config.negatives * max(1, len(positives)))
        negatives = rng.sample(candidates, wanted)
        pairs += [Pair(text, corpus[doc], 1.0, query_id) for doc in positives]
        pairs += [Pair(text, corpus[doc], 0.0, query_id) for doc in negatives]
    return pairs


def read_pairs(path: Path) -> list[Pair]:
    """Lines of {"query", "passage", "label"} (label 1 relevant, 0 not; fractions allowed)."""
    pairs = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                pair = Pair(
                    str(record["query"]), str(record["passage"]), float(record["label"]), ""
                )
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
                raise InputError(
                    f'{path}:{number}: expected {{"query", "passage", "label"}} ({error}).'
                ) from error
            if not 0.0 <= pair.label <= 1.0:
                raise InputError(f"{path}:{number}: the label must be between 0 and 1.")
            pairs.append(Pair(pair.query, pair.passage, pair.label, pair.query))
    if not pairs:
        raise InputError(f"{path} holds no pairs.")
    return pairs


def split_by_query(pairs: list[Pair], fraction: float, seed: int) -> tuple[list[Pair], list[Pair]]:
    groups = sorted({pair.group for pair in pairs})
    random.Random(seed).shuffle(groups)
    held = set(groups[: int(len(groups) * fraction)]) if len(groups) > 1 else set()
    return [p for p in pairs if p.group not in held], [p for p in pairs if p.group in held]


def train_reranker(
    data: str | Path,
    out: str | Path,
    config: RerankerTrainingConfig | None = None,
    *,
    show_progress: bool = True,
    collection: "Collection | None" = None,
) -> dict[str, Any]:
    """Train a CrossEncoder from `config.base`; fit its temperature on held-out queries.

    With BEIR data, negatives are mined from `collection`'s search when given (it must index
    the same corpus: the passages the reranker will reorder), else from a BM25 index."""
    import torch
    from datasets import Dataset
    from sentence_transformers.cross_encoder import (
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
    from transformers import set_seed

    config = config or RerankerTrainingConfig()
    data = Path(data)
    if data.is_dir():
        pairs = mine_pairs(data, config, show_progress=show_progress, collection=collection)
    elif data.suffix == PAIRS_SUFFIX and data.is_file():
        pairs = read_pairs(data)
    else:
        raise InputError(
            f"{data} is neither a BEIR-layout folder nor a {PAIRS_SUFFIX} file of pairs."
        )
    train, held = split_by_query(pairs, config.calibration_fraction, config.seed)
    set_seed(config.seed)
    base = resolve_model(config.base).location
    model = new_cross_encoder(base, config.max_length)
    if config.freeze_embeddings:
        freeze_embeddings(model.model)
    positives = sum(1 for pair in train if pair.label >= RELEVANT)
    negatives = len(train) - positives
    loss = BinaryCrossEntropyLoss(
        model, pos_weight=torch.tensor(negatives / positives if positives else 1.0)
    )
    started = time.perf_counter()
    with building(Path(out)) as folder:
        arguments = training_arguments(
            CrossEncoderTrainingArguments,
            folder,
            examples=len(train),
            epochs=config.epochs,
            learning_rate=config.learning_rate,
            batch_size=config.batch_size,
            warmup=WARMUP_SHARE,
            seed=config.seed,
            show_progress=show_progress,
        )
        dataset = Dataset.from_dict(
            {
                "query": [pair.query for pair in train],
                "passage": [pair.passage for pair in train],
                "label": [pair.label for pair in train],
            }
        )
        trainer = CrossEncoderTrainer(
            model=model,
            args=arguments,
            train_dataset=dataset,
            loss=loss,
            optimizers=(optimizer(model, config), None),
        )
        follow_training(trainer, "training the reranker", show_progress)
        trainer.train()
        model.save(str(folder))
        record = {
            "kind": KIND,
            "config": asdict(config),
            "data": str(data),
            "negatives_from": negatives_source(collection) if data.is_dir() else PAIRS_SOURCE,
            "base_location": base,
            "max_length": config.max_length,
            "train_pairs": len(train),
            "train_positives": positives,
            "held_out_pairs": len(held),
            "train_seconds": round(time.perf_counter() - started, 1),
            **calibrate_on(model, held, config.batch_size),
        }
        write_model_config(folder, record)
        remove_checkpoints(folder)
    return record


def negatives_source(collection: "Collection | None") -> str:
    """Where mined negatives come from, as a trained reranker's record names it: the collection
    whose hybrid search mined them, else seoga's BM25."""
    return str(collection.root) if collection is not None else BM25_MODE


def new_cross_encoder(location: str, max_length: int):
    """A CrossEncoder from `location`: its own head when it is a sequence classifier, else the
    encoder mean-pooled into a new one-logit linear head."""
    from sentence_transformers.base.modules import Dense, Transformer
    from sentence_transformers.cross_encoder import CrossEncoder
    from sentence_transformers.sentence_transformer.modules import Pooling
    from transformers import AutoConfig

    architectures = AutoConfig.from_pretrained(location).architectures or []
    # A new classification head is reported as missing weights: expected, so not shown.
    with transformers_quiet():
        if any(name.endswith(CLASSIFIER_SUFFIX) for name in architectures):
            return CrossEncoder(location, num_labels=1, max_length=max_length)
        encoder = Transformer(
            location,
            transformer_task="feature-extraction",
            processor_kwargs={"model_max_length": max_length},
        )
    width = encoder.get_embedding_dimension()
    head = Dense(width, 1, activation_function=None, module_output_name="scores")
    return CrossEncoder(modules=[encoder, Pooling(width, "mean"), head])


def optimizer(model, config: RerankerTrainingConfig):
    """AdamW with the modules after the encoder (the new head) at `head_learning_rate`."""
    import torch

    encoder, *rest = list(model)
    head = [p for module in rest for p in module.parameters() if p.requires_grad]
    body = [p for p in encoder.parameters() if p.requires_grad]
    groups = [{"params": body, "lr": config.learning_rate}]
    if head:
        groups.append({"params": head, "lr": config.head_learning_rate})
    return torch.optim.AdamW(groups)


def calibrate_on(model, held: list[Pair], batch_size: int) -> dict[str, Any]:
    """Fit the temperature on held-out pairs; report ECE before (plain sigmoid) and after."""
    import torch

    if (
        len(held) < MIN_CALIBRATION_PAIRS
        or len({pair.label >= RELEVANT for pair in held}) < MIN_CALIBRATION_PAIRS
    ):
        return {"scaling": None, "calibration": "too few held-out pairs to fit a temperature"}
    logits = model.predict(
        [(pair.query, pair.passage) for pair in held],
        batch_size=batch_size,
        activation_fn=torch.nn.Identity(),
        show_progress_bar=False,
    )
    scores = [[float(value)] for value in np.asarray(logits).reshape(-1)]
    labels = [pair.label >= RELEVANT for pair in held]
    before = UNCALIBRATED
    after = TemperatureScaling().fit(scores, labels)
    return {
        "scaling": after.to_dict(),
        "held_out_ece_before": expected_calibration_error(
            [before.confidence(s) for s in scores], labels
        ),
        "held_out_ece_after": expected_calibration_error(
            [after.confidence(s) for s in scores], labels
        ),
    }
