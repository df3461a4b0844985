"""Fine-tune an encoder into a span reader (transformers Trainer) on SQuAD-format data,
synthetic questions made from a collection (seoga.answer.synthetic), or both mixed."""

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from seoga.answer.span import DEFAULT_MAX_LENGTH, DEFAULT_STRIDE, KIND, fit_window
from seoga.answer.squad import QAExample, read_squad
from seoga.answer.synthetic import SyntheticConfig, synthetic_questions
from seoga.atomic import building
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

# The synthetic questions a reader was trained on, one JSON object per line, in its folder.
SYNTHETIC_NAME = "synthetic.jsonl"


@dataclass
class SpanTrainingConfig:
    base: str = DEFAULT_EMBEDDER
    # Chosen by measurement (BENCHMARKS.md "Span reader: training recipe"): two epochs beat
    # one, lr 1e-4 beat 2e-4, and training the word embeddings too gained nothing.
    epochs: float = 2.0
    learning_rate: float = 1e-4
    batch_size: int = 8
    max_length: int = DEFAULT_MAX_LENGTH
    stride: int = DEFAULT_STRIDE
    max_examples: int | None = None
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    freeze_embeddings: bool = True
    seed: int = 42
    synthetic: str | None = None  # a collection to make questions from
    synthetic_max: int | None = None
    synthetic_other_passages: bool = False
    synthetic_filters: bool = True


def prepare_features(examples: list[QAExample], tokenizer, max_length: int, stride: int) -> list:
    """Tokenised windows with the answer's start/end token (the first token when the window
    does not hold the answer), as extractive QA heads are trained."""
    questions, stride = fit_window(
        tokenizer, [example.question for example in examples], max_length, stride
    )
    encoded = tokenizer(
        questions,
        [example.context for example in examples],
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    features = []
    for index, offsets in enumerate(encoded["offset_mapping"]):
        example = examples[encoded["overflow_to_sample_mapping"][index]]
        sequence = encoded.sequence_ids(index)
        answer_start = example.answer_start
        answer_end = answer_start + len(example.answers[0])
        context = [i for i, owner in enumerate(sequence) if owner == 1]
        start_token = end_token = 0
        if offsets[context[0]][0] <= answer_start and offsets[context[-1]][1] >= answer_end:
            start_token = next(i for i in context if offsets[i][1] > answer_start)
            end_token = next(i for i in reversed(context) if offsets[i][0] < answer_end)
        feature = {
            key: encoded[key][index]
            for key in ("input_ids", "attention_mask", "token_type_ids")
            if key in encoded
        }
        feature["start_positions"] = start_token
        feature["end_positions"] = end_token
        features.append(feature)
    return features


def train_span_reader(
    data: str | Path | list[str | Path],
    out: str | Path,
    config: SpanTrainingConfig | None = None,
    *,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Train a span reader on SQuAD JSON file(s); write it to `out`; return its record."""
    from transformers import (
        AutoModelForQuestionAnswering,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    config = config or SpanTrainingConfig()
    files = [Path(item) for item in (data if isinstance(data, list) else [data])]
    if not files and not config.synthetic:
        raise InputError("give SQuAD-format data (--data), a collection (--synthetic), or both.")
    examples: list[QAExample] = []
    skipped: list[str] = []
    for file in files:
        loaded = read_squad(file)
        examples += loaded.examples
        skipped += loaded.skipped
    set_seed(config.seed)
    if config.max_examples and len(examples) > config.max_examples:
        examples = random.Random(config.seed).sample(examples, config.max_examples)
    labelled = len(examples)
    synthetic = _synthetic(config, show_progress)
    examples += [question.to_example(number) for number, question in enumerate(synthetic)]
    if config.stride >= config.max_length:
        raise InputError("the stride must be smaller than max_length.")
    base = resolve_model(config.base).location
    tokenizer = AutoTokenizer.from_pretrained(base)
    # The new QA head is reported as missing weights: expected, so not shown.
    with transformers_quiet():
        model = AutoModelForQuestionAnswering.from_pretrained(base)
    if config.freeze_embeddings:
        freeze_embeddings(model)
    features = prepare_features(examples, tokenizer, config.max_length, config.stride)
    started = time.perf_counter()
    with building(Path(out)) as folder:
        arguments = training_arguments(
            TrainingArguments,
            folder,
            examples=len(features),
            epochs=config.epochs,
            learning_rate=config.learning_rate,
            batch_size=config.batch_size,
            warmup=config.warmup_ratio,
            seed=config.seed,
            show_progress=show_progress,
            weight_decay=config.weight_decay,
            train_sampling_strategy="group_by_length",
        )
        trainer = Trainer(
            model=model,
            args=arguments,
            train_dataset=features,
            # Windows are padded per batch, to the longest in it, not to max_length.
            data_collator=DataCollatorWithPadding(tokenizer),
        )
        follow_training(trainer, "training the reader", show_progress)
        result = trainer.train()
        trainer.save_model(str(folder))
        tokenizer.save_pretrained(str(folder))
        record = {
            "kind": KIND,
            "config": asdict(config),
            "base_location": base,
            "max_length": config.max_length,
            "stride": config.stride,
            "data": [str(file) for file in files],
            "examples": len(examples),
            "labelled_examples": labelled,
            "synthetic_examples": len(synthetic),
            "features": len(features),
            "skipped": len(skipped),
            "train_loss": result.training_loss,
            "train_seconds": round(time.perf_counter() - started, 1),
        }
        write_model_config(folder, record)
        (folder / "skipped.json").write_text(json.dumps(skipped, ensure_ascii=False, indent=1))
        if synthetic:
            (folder / SYNTHETIC_NAME).write_text(
                "".join(
                    json.dumps(asdict(question), ensure_ascii=False) + "\n"
                    for question in synthetic
                ),
                encoding="utf-8",
            )
        remove_checkpoints(folder)
    return record


def _synthetic(config: SpanTrainingConfig, show_progress: bool) -> list:
    if not config.synthetic:
        return []

    made = synthetic_questions(
        config.synthetic,
        SyntheticConfig(
            max_questions=config.synthetic_max,
            seed=config.seed,
            other_passages=config.synthetic_other_passages,
            filters=config.synthetic_filters,
        ),
        show_progress=show_progress,
    )
    if not made:
        raise InputError(
            f"{config.synthetic}: no question could be made from this collection's passages; "
            "it needs sentences with names, dates, numbers or noun phrases."
        )
    return made
