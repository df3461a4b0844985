"""Train a bi-encoder: data → objective → loss → sentence-transformers' trainer → a model folder.

The output is a normal sentence-transformers folder (so `load_embedder(path)`, `seoga index
--embedder PATH` and `--base PATH` for a next stage all take it) plus `seoga-train.json`, the
card: base model, data, objective, loss, seed, hyper-parameters, LoRA, metrics. The folder is
built beside its destination and renamed into place: an interrupted run leaves nothing half-made.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

from seoga.atomic import write_json_atomic
from seoga.errors import InputError
from seoga.models.freezing import freeze_embeddings
from seoga.models.registry import resolve_model
from seoga.models.threads import available_cpus
from seoga.progress import terminal_bars
from seoga.train.config import TrainConfig, TrainResult
from seoga.train.evaluators import build_evaluator, primary_score
from seoga.train.examples import Examples
from seoga.train.lora import (
    apply_lora,
    count_parameters,
    load_sentence_transformer,
)
from seoga.train.losses import DEFAULT_SAMPLER, build_loss, default_loss, loss_spec, shape_for
from seoga.train.objectives import DataRequest, build_examples, resolve_objective
from seoga.train.publishing import CARD_NAME, publish, save_model, staging_folder
from seoga.version import __version__

# With an evaluator and no --eval-steps, the model is scored this many times over the run.
EVALUATIONS_PER_RUN = 4
LOG_TIMES_PER_RUN = 20
ROUNDING = 6
# The batches of LengthGroupedBatchSampler, as the card names them.
LENGTH_GROUPED = "length_grouped"
# Objectives whose two sides are alike (both get the query prompt); the rest are asymmetric.
SYMMETRIC_KINDS = ("scored-pairs", "labeled")


def _set_threads() -> None:
    import torch

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(available_cpus())


def model_prompts(model: Any) -> dict[str, str]:
    """The model's query / passage prompts ("query: " / "passage: " for E5), or empty."""
    prompts = model.prompts or {}
    passage = prompts.get("passage") or prompts.get("document") or ""
    return {"query": prompts.get("query") or "", "passage": passage}


def column_prompts(examples: Examples, prompts: dict[str, str], objective: str) -> dict[str, str]:
    """Prompt per text column: anchors are queries and the rest passages, except for symmetric
    data (STS, classes: queries throughout) and SimCSE (passages throughout: it adapts the
    model to the corpus as it will be indexed)."""
    if not any(prompts.values()):
        return {}
    columns = examples.text_columns()
    if objective == "simcse":
        side = {name: prompts["passage"] for name in columns}
    elif examples.kind in SYMMETRIC_KINDS:
        side = {name: prompts["query"] for name in columns}
    else:
        side = {name: prompts["query" if name == "anchor" else "passage"] for name in columns}
    return {name: prompt for name, prompt in side.items() if prompt}


def resolve_base(base: str) -> tuple[str, dict[str, Any]]:
    """The base model's folder, and what to record about it (with its own card when it is an
    earlier seoga output: the chain of stages stays visible)."""
    spec = resolve_model(base)
    if not spec.trainable or spec.backend != "sentence-transformers":
        raise InputError(f"{spec.name} cannot be trained (it is not a transformers encoder).")
    record: dict[str, Any] = {"name": spec.name, "source": spec.source, "location": spec.location}
    earlier = Path(spec.location) / CARD_NAME
    if earlier.is_file():
        record["card"] = json.loads(earlier.read_text(encoding="utf-8"))
    return spec.location, record


def _training_arguments(
    config: TrainConfig,
    checkpoints: Path,
    steps: int,
    sampler: str,
    prompts: dict[str, str],
    best_metric: str | None,
) -> Any:
    from sentence_transformers import SentenceTransformerTrainingArguments

    evaluation: dict[str, Any] = {"eval_strategy": "no", "save_strategy": "no"}
    if best_metric is not None:
        every = config.eval_steps or max(1, steps // EVALUATIONS_PER_RUN)
        evaluation = {
            "eval_strategy": "steps",
            "eval_steps": every,
            "save_strategy": "steps",
            "save_steps": every,
            "save_total_limit": 1,
            "save_only_model": True,
            "load_best_model_at_end": True,
            "metric_for_best_model": f"eval_{best_metric}",
            "greater_is_better": True,
        }
    if sampler == LENGTH_GROUPED:
        from seoga.train.sampling import LengthGroupedBatchSampler

        sampler = LengthGroupedBatchSampler
    return SentenceTransformerTrainingArguments(
        output_dir=str(checkpoints),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps or -1,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio,  # a float below 1 is a share of the steps
        seed=config.seed,
        data_seed=config.seed,
        batch_sampler=sampler,
        prompts=prompts or None,
        logging_steps=max(1, steps // LOG_TIMES_PER_RUN),
        disable_tqdm=not terminal_bars(config.show_progress),
        report_to="none",
        use_cpu=True,
        dataloader_num_workers=0,
        **evaluation,
    )


def train_embedder(config: TrainConfig) -> TrainResult:
    """Train per `config` and write the model folder and its card to `config.out`."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer
    from transformers import PrinterCallback, set_seed
    from transformers.utils import logging as transformers_logging

    started = time.perf_counter()
    _set_threads()
    transformers_logging.set_verbosity_error()
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    request = DataRequest(
        objective=config.objective,
        data=config.data,
        collection=config.collection,
        fmt=config.format,
        split=config.split,
        hard_negatives=config.hard_negatives,
        max_examples=config.max_examples,
        analyzer=config.analyzer,
        seed=config.seed,
    )
    _, data_format = resolve_objective(request)  # cheap checks first: fail before loading
    base_location, base_record = resolve_base(config.base)
    objective, examples = build_examples(request, show_progress=config.show_progress)
    loss_name = config.loss or default_loss(examples.kind)
    shaped = shape_for(examples, loss_name)
    staging = staging_folder(config.out, config.overwrite)
    try:
        set_seed(config.seed)
        model = load_sentence_transformer(base_location)
        # Training truncates shorter than the model can read (speed); the saved model keeps the
        # base's length, so indexing with it is not cut short.
        inference_length = model.max_seq_length
        model.max_seq_length = config.max_seq_length
        prompts = model_prompts(model)
        lora = (
            apply_lora(model, config.lora_rank, alpha=config.lora_alpha)
            if config.lora_rank
            else None
        )
        if config.freeze_embeddings and lora is None:
            freeze_embeddings(model[0].auto_model)
        trainable, total = count_parameters(model)
        loss = build_loss(loss_name, model, scale=config.scale, margin=config.margin)
        evaluator = build_evaluator(
            config.eval,
            config.eval_split,
            prompts=prompts,
            corpus_size=config.eval_corpus_size,
            seed=config.seed,
        )
        metrics: dict[str, Any] = {}
        best_metric = None
        if evaluator is not None:
            best_metric, before, _ = primary_score(evaluator, model)
            metrics["before"] = {best_metric: round(before, ROUNDING)}
        steps = config.max_steps or math.ceil(
            config.epochs * math.ceil(len(shaped) / config.batch_size)
        )
        sampler = loss_spec(loss_name).sampler
        if config.group_by_length and sampler == DEFAULT_SAMPLER:
            sampler = LENGTH_GROUPED
        arguments = _training_arguments(
            config,
            staging / "checkpoints",
            steps,
            sampler,
            column_prompts(shaped, prompts, objective),
            best_metric,
        )
        trainer = SentenceTransformerTrainer(
            model=model,
            args=arguments,
            train_dataset=Dataset.from_dict(shaped.columns),
            loss=loss,
            evaluator=evaluator,
        )
        if not config.show_progress:
            # Without a progress bar the trainer prints its logs to stdout: keep --json clean.
            trainer.remove_callback(PrinterCallback)
        train_started = time.perf_counter()
        output = trainer.train()
        train_seconds = time.perf_counter() - train_started
        shutil.rmtree(staging / "checkpoints", ignore_errors=True)
        if evaluator is not None:
            _, after, everything = primary_score(evaluator, model)
            metrics["after"] = {name: round(v, ROUNDING) for name, v in everything.items()}
            metrics["best_step"] = _best_step(trainer.state.best_model_checkpoint)
            metrics["history"] = [
                {"step": entry["step"], best_metric: round(entry[f"eval_{best_metric}"], ROUNDING)}
                for entry in trainer.state.log_history
                if f"eval_{best_metric}" in entry
            ]
        model_folder = staging
        model.max_seq_length = inference_length
        save_model(model, model_folder, lora_save=config.lora_save if lora else None)
        card = {
            "seoga_version": __version__,
            "kind": "embedder",
            "base": base_record,
            "data": {
                "source": examples.source,
                "format": data_format,
                "split": config.split,
                "examples": len(examples),
                "training_rows": len(shaped),
                "notes": examples.notes,
            },
            "objective": objective,
            "loss": {
                "name": loss_name,
                "scale": config.scale,
                "margin": config.margin,
                "batches": sampler,
            },
            "seed": config.seed,
            "hyperparameters": config.to_dict(),
            "prompts": column_prompts(shaped, prompts, objective),
            "parameters": {"trainable": trainable, "total": total},
            "lora": {**lora.to_dict(), "saved_as": config.lora_save} if lora else None,
            "metrics": metrics,
            "training": {
                "steps": int(output.global_step),
                "train_loss": round(float(output.training_loss), ROUNDING),
                "seconds": round(train_seconds, 1),
                "rows_per_second": round(
                    output.global_step * config.batch_size / max(train_seconds, 1e-9), 2
                ),
                "total_seconds": round(time.perf_counter() - started, 1),
            },
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        write_json_atomic(model_folder / CARD_NAME, card)
        publish(staging, config.out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return TrainResult(config.out, card, lora, metrics)


def _best_step(checkpoint: str | None) -> int | None:
    if not checkpoint:
        return None
    return int(checkpoint.rsplit("-", 1)[-1])
