"""The distillation loop, one for every student: teacher outputs cached, matches as data.

Per batch the loss is Σ terms w(t)·loss(student output, teacher output or gold label) + Σ
matches w(t)·loss(student layer, teacher layer, mask), with t the training progress in [0, 1].
The teacher's outputs come from the cache (computed once, for every epoch and later runs);
teacher layers are computed under no_grad when a match needs them. After each epoch an optional
evaluation scores the student; the best epoch's student is what is saved (atomically) with its
card, and a checkpoint lets an interrupted run resume at the epoch it reached.

A student kind says how a batch is tokenised (`_features`, once for both models) and read
(`_forward`), what the teacher's cached output is (`_targets`) and what the gold labels are
(`_labels`): `EmbedderDistiller` in embedder.py, `RerankerDistiller` in reranker.py. The
settings, results and batching the loop works with are in training.py.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from seoga.atomic import building, write_json_atomic
from seoga.distill import checkpoint
from seoga.distill.cache import TeacherCache
from seoga.distill.config import DistillationConfig, Match
from seoga.distill.losses import LOSSES
from seoga.distill.projections import projection
from seoga.distill.training import (
    ATTENTION_FEATURE,
    CARD_NAME,
    EMBEDDING_FEATURE,
    LABELS_FEATURE,
    DistillResult,
    Forward,
    TrainingConfig,
    backbone,
    grouped_batches,
    seed_everything,
)
from seoga.errors import InputError
from seoga.progress import track


class Distiller:
    """The loop shared by every student kind; subclasses say how a batch is read."""

    #: The output feature the student is compared on, and every feature its terms may use.
    output_feature = EMBEDDING_FEATURE
    term_features: tuple[str, ...] = (EMBEDDING_FEATURE,)
    kind = "embedder"

    def __init__(
        self,
        teacher: Any,
        student: Any,
        config: DistillationConfig,
        training: TrainingConfig,
        *,
        teacher_name: str,
        cache_dir: Path,
    ) -> None:
        allowed = set(self.term_features)
        for term in config.terms:
            if LOSSES[term.loss].feature not in allowed:
                usable = ", ".join(name for name, unit in LOSSES.items() if unit.feature in allowed)
                raise InputError(
                    f"the {self.kind} student learns from its {self.output_feature}: "
                    f"{term.loss} compares {LOSSES[term.loss].feature}; use {usable}."
                )
        if config.matches and teacher.tokenizer.get_vocab() != student.tokenizer.get_vocab():
            raise InputError(
                "layer matches compare tokens, so teacher and student need the same tokenizer; "
                "use output losses only for this student."
            )
        self.teacher, self.student = teacher, student
        self.config, self.training = config, training
        self.teacher_name = teacher_name
        cache_key = f"{teacher_name}|{self.output_feature}|{training.max_seq_length}"
        self.cache = TeacherCache(cache_dir, cache_key)
        self.data_sources: list[str] = []
        self.student_kind = "layers"
        self.needs_attention = any(
            LOSSES[match.loss].feature == ATTENTION_FEATURE for match in config.matches
        )

    # What a student kind supplies.
    def _targets(self, examples: list[Any]) -> torch.Tensor:
        raise NotImplementedError

    def _labels(self, examples: list[Any]) -> torch.Tensor | None:
        return None

    def _features(self, examples: list[Any]) -> dict[str, Any]:
        """A batch tokenised for both models (layer matches need the same tokenizer)."""
        raise NotImplementedError

    def _forward(
        self, model: Any, features: dict[str, Any], *, layers: bool, attentions: bool
    ) -> Forward:
        raise NotImplementedError

    def _prepare(self) -> None:
        """Set both models up for training (sequence length, which layers they return)."""

    def _save(self, folder: Path) -> None:
        self.student.save(str(folder))

    def _example_key(self, example: Any) -> str:
        return str(example)

    # The loop.
    def _projection(self, match: Match) -> nn.Module:
        if match.projection is None:
            return nn.Identity()
        return projection(
            match.projection,
            backbone(self.student).config.hidden_size,
            backbone(self.teacher).config.hidden_size,
        )

    def _loss(
        self,
        examples: list[Any],
        targets: torch.Tensor,
        labels: torch.Tensor | None,
        progress: float,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        matches, attentions = self.config.matches, self.needs_attention
        features = self._features(examples)
        mine = self._forward(self.student, features, layers=bool(matches), attentions=attentions)
        parts: dict[str, torch.Tensor] = {}
        for term in self.config.terms:
            unit = LOSSES[term.loss]
            if unit.feature == LABELS_FEATURE:
                if labels is None:
                    raise InputError(f"{term.loss} needs gold labels, and this data has none.")
                value = unit.function(mine.output, labels)
            elif unit.tempered:
                value = unit.function(mine.output, targets, self.config.temperature.at(progress))
            else:
                value = unit.function(mine.output, targets)
            parts[term.loss] = parts.get(term.loss, 0) + term.weight.at(progress) * value
        if matches:
            with torch.no_grad():
                theirs = self._forward(self.teacher, features, layers=True, attentions=attentions)
            for match, project in zip(matches, self.projections, strict=True):
                value = self._match_loss(match, project, mine, theirs)
                parts[match.loss] = parts.get(match.loss, 0) + match.weight.at(progress) * value
        total = sum(parts.values())
        return total, {name: float(value.detach()) for name, value in parts.items()}

    def _match_loss(self, match: Match, project: nn.Module, mine: Forward, theirs: Forward):
        unit = LOSSES[match.loss]
        if unit.feature == "layers":
            return unit.function(
                [mine.hidden[i] for i in match.student_layer],
                [theirs.hidden[i] for i in match.teacher_layer],
                mine.mask,
            )
        if unit.feature == ATTENTION_FEATURE:
            # Attention has no entry for the embeddings: layer n is index n − 1.
            return unit.function(
                mine.attentions[match.student_layer - 1],
                theirs.attentions[match.teacher_layer - 1],
                mine.mask,
            )
        student_side = project(mine.hidden[match.student_layer])
        teacher_side = theirs.hidden[match.teacher_layer]
        extra = {"window": self.config.window} if match.loss == "wr-angle" else {}
        return unit.function(student_side, teacher_side, mine.mask, **extra)

    def _parameter_groups(self) -> list[dict[str, Any]]:
        """The student's trainable parameters and the projections; the head apart when it has
        its own rate."""
        encoder, *head = list(self.student)
        groups = [{"params": list(self.projections.parameters())}]
        head_parameters = [p for module in head for p in module.parameters() if p.requires_grad]
        if self.training.head_learning_rate is None or not head_parameters:
            trainable = [p for p in self.student.parameters() if p.requires_grad]
            return [{"params": trainable}, *groups]
        return [
            {"params": [p for p in encoder.parameters() if p.requires_grad]},
            {"params": head_parameters, "lr": self.training.head_learning_rate},
            *groups,
        ]

    def _run_key(self, examples: list[Any]) -> str:
        digest = hashlib.sha256()
        for example in examples:
            digest.update(self._example_key(example).encode("utf-8"))
        digest.update(
            json.dumps(
                [self.teacher_name, self.config.to_dict(), asdict(self.training)], sort_keys=True
            ).encode()
        )
        return digest.hexdigest()[:16]

    def fit(
        self,
        examples: list[Any],
        out: Path,
        *,
        evaluate: Callable[[Any], dict[str, float]] | None = None,
        metric: str | None = None,
        show_progress: bool = True,
        data_sources: list[str] | None = None,
        student_kind: str = "layers",
        resume: bool = True,
    ) -> DistillResult:
        """Train the student on `examples`; save the best epoch's student and its card at `out`.

        With `resume`, a checkpoint left by an interrupted run of the same settings on the
        same data is picked up at the epoch it reached.
        """
        from transformers import get_linear_schedule_with_warmup

        if not examples:
            raise InputError("nothing to distil on: give passages, sentences or pairs.")
        started = time.perf_counter()
        self.data_sources = data_sources or []
        self.student_kind = student_kind
        seed_everything(self.training.seed)
        # Made after seeding, so a run repeats; dropped after training (TextBrewer's design).
        self.projections = nn.ModuleList(self._projection(match) for match in self.config.matches)
        self._prepare()
        targets = self._targets(examples)
        labels = self._labels(examples)
        self.teacher.eval()
        self.student.train()
        batches_per_epoch = -(-len(examples) // self.training.batch_size)
        total_steps = batches_per_epoch * self.training.epochs
        if self.training.freeze_embeddings:
            backbone(self.student).get_input_embeddings().weight.requires_grad_(False)
        optimizer = torch.optim.AdamW(self._parameter_groups(), lr=self.training.learning_rate)
        scheduler = get_linear_schedule_with_warmup(
            optimizer, round(self.training.warmup * total_steps), total_steps
        )
        trained = nn.ModuleDict({"student": self.student, "projections": self.projections})
        run_key = self._run_key(examples)
        lengths = np.array([len(self._example_key(example)) for example in examples])
        order = np.random.default_rng(self.training.seed)
        result = DistillResult(out=Path(out))
        best_score = -np.inf
        step = 0
        saved = checkpoint.load(out, trained, optimizer, scheduler, run_key) if resume else None
        if saved is not None:
            result.resumed_from_epoch = saved["epoch"]
            result.epochs, result.best = saved["epochs"], saved["best"]
            best_score, step = saved["best_score"], saved["step"]
            metric = saved["metric"]
            for _ in range(saved["epoch"]):
                grouped_batches(lengths, self.training.batch_size, order)
        for epoch in range(result.resumed_from_epoch + 1, self.training.epochs + 1):
            batches = grouped_batches(lengths, self.training.batch_size, order)
            sums: dict[str, float] = {}
            for rows in track(
                batches, f"distilling, epoch {epoch}/{self.training.epochs}", enabled=show_progress
            ):
                loss, parts = self._loss(
                    [examples[row] for row in rows],
                    targets[rows],
                    None if labels is None else labels[rows],
                    step / max(total_steps, 1),
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                scheduler.step()
                step += 1
                for name, value in parts.items():
                    sums[name] = sums.get(name, 0.0) + value
            record: dict[str, Any] = {
                "epoch": epoch,
                "loss": {name: value / batches_per_epoch for name, value in sums.items()},
            }
            if evaluate is not None:
                self.student.eval()
                record["metrics"] = evaluate(self.student)
                self.student.train()
                # Without a named metric, the evaluation's first one picks the best epoch.
                metric = metric or next(iter(record["metrics"]), None)
                if metric not in record["metrics"]:
                    known = ", ".join(record["metrics"])
                    raise InputError(f"the evaluation gives {known}; it has no {metric!r}.")
            result.epochs.append(record)
            score = record["metrics"][metric] if evaluate is not None else epoch
            if score > best_score:
                best_score, result.best = score, record
                self.student.eval()
                with building(result.out) as folder:
                    self._save(folder)
                    write_json_atomic(folder / CARD_NAME, self._card(examples, result))
                self.student.train()
            progress = {
                "run_key": run_key,
                "epoch": epoch,
                "step": step,
                "best_score": float(best_score),
                "metric": metric,
                "epochs": result.epochs,
                "best": result.best,
            }
            checkpoint.save(out, trained, optimizer, scheduler, progress)
        self.student.eval()
        result.seconds = time.perf_counter() - started
        result.card = self._card(examples, result)
        write_json_atomic(result.out / CARD_NAME, result.card)
        checkpoint.remove(out)
        return result

    def _card(self, examples: list[Any], result: DistillResult) -> dict[str, Any]:
        config = backbone(self.student).config
        return {
            "kind": self.kind,
            "teacher": self.teacher_name,
            "student": {
                "kind": self.student_kind,
                "model_type": config.model_type,
                "layers": config.num_hidden_layers,
                "hidden": config.hidden_size,
                "parameters": sum(p.numel() for p in self.student.parameters()),
            },
            "distillation": self.config.to_dict(),
            "training": asdict(self.training),
            "data": {"examples": len(examples), "sources": self.data_sources},
            "epochs": result.epochs,
            "best": result.best,
            "resumed_from_epoch": result.resumed_from_epoch,
            "seconds": round(result.seconds, 2),
        }
