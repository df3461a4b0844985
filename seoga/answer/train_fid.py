"""Train a Fusion-in-Decoder reader on questions, their passages and answers (JSONL)."""

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from seoga.answer.base import passage_pairs
from seoga.answer.fid import (
    DEFAULT_ANSWER_TOKENS,
    DEFAULT_PASSAGE_TOKENS,
    DEFAULT_PASSAGES,
    KIND,
    FusionInDecoder,
    load_seq2seq,
)
from seoga.atomic import building
from seoga.errors import InputError
from seoga.models.folders import write_model_config
from seoga.models.freezing import freeze_embeddings
from seoga.models.registry import resolve_model
from seoga.progress import progress, progress_console

GRADIENT_CLIP = 1.0
LOG_EVERY = 20


@dataclass(frozen=True)
class FidExample:
    question: str
    answers: tuple[str, ...]
    passages: tuple[tuple[str, str], ...]  # (title, text)


@dataclass
class FidTrainingConfig:
    base: str
    epochs: float = 3.0
    learning_rate: float = 1e-4
    batch_size: int = 4
    max_passages: int = DEFAULT_PASSAGES
    passage_tokens: int = DEFAULT_PASSAGE_TOKENS
    answer_tokens: int = DEFAULT_ANSWER_TOKENS
    max_examples: int | None = None
    warmup_ratio: float = 0.1
    # Keep the word embeddings (and a tied output layer) as they are: with a 250k-word
    # vocabulary they hold most of the parameters, and updating them dominates a CPU step.
    freeze_embeddings: bool = False
    seed: int = 42


def read_fid_jsonl(path: str | Path) -> list[FidExample]:
    """Lines of {"question", "answers": [...] (or "answer"), "passages": [{"title", "text"}]}.

    A passage may also be a plain string. Bad lines raise an error naming the line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist; give a JSONL file of questions and passages.")
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                examples.append(_parse_line(line, f"{path}:{number}"))
    if not examples:
        raise InputError(f"{path} holds no examples.")
    return examples


def _parse_line(line: str, where: str) -> FidExample:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(f"{where}: not JSON ({error}).") from error
    if not isinstance(record, dict):
        raise InputError(f"{where}: expected an object with question, answers and passages.")
    answers = record.get("answers", [record["answer"]] if "answer" in record else [])
    passages = record.get("passages")
    if not isinstance(record.get("question"), str) or not record["question"].strip():
        raise InputError(f"{where}: the question is missing or empty.")
    if not isinstance(answers, list) or not answers or not all(isinstance(a, str) for a in answers):
        raise InputError(f"{where}: give the answer as a string list under 'answers'.")
    pairs = passage_pairs(passages, where)
    if not pairs:
        raise InputError(f"{where}: 'passages' must be a non-empty list.")
    return FidExample(record["question"].strip(), tuple(answers), pairs)


def train_fid(
    data: str | Path | list[FidExample],
    out: str | Path,
    config: FidTrainingConfig,
    *,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Train FiD from `config.base` (any encoder–decoder, or an encoder to warm-start one)."""
    import torch
    from transformers import get_linear_schedule_with_warmup, set_seed

    examples = data if isinstance(data, list) else read_fid_jsonl(data)
    set_seed(config.seed)
    rng = random.Random(config.seed)
    if config.max_examples and len(examples) > config.max_examples:
        examples = rng.sample(examples, config.max_examples)
    location = resolve_model(config.base).location
    model, tokenizer = load_seq2seq(location)
    fid = FusionInDecoder(
        model,
        tokenizer,
        max_passages=config.max_passages,
        passage_tokens=config.passage_tokens,
        answer_tokens=config.answer_tokens,
    )
    steps_per_epoch = -(-len(examples) // config.batch_size)
    total = max(1, round(steps_per_epoch * config.epochs))
    if config.freeze_embeddings:
        freeze_embeddings(model)
    trained = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=config.learning_rate)
    schedule = get_linear_schedule_with_warmup(optimizer, round(total * config.warmup_ratio), total)
    model.train()
    started = time.perf_counter()
    losses: list[float] = []
    order: list[FidExample] = []
    with progress(total, "training FiD", enabled=show_progress) as bar:
        for step in range(total):
            if len(order) < config.batch_size:
                shuffled = list(examples)
                rng.shuffle(shuffled)
                order += shuffled
            batch_examples, order = order[: config.batch_size], order[config.batch_size :]
            batch = fid.batch(
                [example.question for example in batch_examples],
                [example.passages for example in batch_examples],
            )
            labels = fid.labels([example.answers[0] for example in batch_examples])
            loss = fid.loss(batch["input_ids"], batch["attention_mask"], labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, GRADIENT_CLIP)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(float(loss.detach()))
            bar.update(1)
            if show_progress and (step + 1) % LOG_EVERY == 0:
                recent = losses[-LOG_EVERY:]
                bar.set_postfix(loss=f"{sum(recent) / len(recent):.3f}")
    model.eval()
    with building(Path(out)) as folder:
        model.save_pretrained(str(folder))
        tokenizer.save_pretrained(str(folder))
        record = {
            "kind": KIND,
            "config": asdict(config),
            "base_location": location,
            "max_passages": config.max_passages,
            "passage_tokens": config.passage_tokens,
            "answer_tokens": config.answer_tokens,
            "examples": len(examples),
            "steps": total,
            "trained_parameters": sum(parameter.numel() for parameter in trained),
            "first_loss": losses[0],
            "final_loss": sum(losses[-LOG_EVERY:]) / len(losses[-LOG_EVERY:]),
            "train_seconds": round(time.perf_counter() - started, 1),
        }
        write_model_config(folder, record)
    if show_progress:
        progress_console.print(
            f"FiD trained: {total} steps, loss {record['first_loss']:.3f} → "
            f"{record['final_loss']:.3f}"
        )
    return record
