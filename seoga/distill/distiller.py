"""The distillation loop for an embedder student: teacher vectors cached, matches as data.

Per batch the loss is Σ terms w(t)·loss(student vector, teacher vector) + Σ matches
w(t)·loss(student layer, teacher layer, mask), with t the training progress in [0, 1]. Teacher
sentence vectors come from the cache (computed once, for every epoch and later runs); teacher
layers are computed under no_grad when a match needs them. Both models read the same texts
without prompts, so the student learns the teacher's map from text to vector, whatever prompt
the text later gets. After each epoch an optional evaluation scores the student; the best
epoch's student is what is saved (atomically) with its card.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from seoga.distill.cache import TeacherCache
from seoga.distill.config import DistillationConfig, Match
from seoga.distill.losses import LOSSES
from seoga.distill.projections import projection
from seoga.errors import InputError

CARD_NAME = "distill.json"
EMBEDDING_FEATURE = "embedding"


@dataclass(frozen=True)
class TrainingConfig:
    """How the student trains: TextBrewer's advice is a higher rate than fine-tuning (1e-4)."""

    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup: float = 0.1
    seed: int = 0
    max_seq_length: int = 128


@dataclass
class DistillResult:
    out: Path
    epochs: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] | None = None
    seconds: float = 0.0


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class EmbedderDistiller:
    """Distils a sentence-transformers teacher into a sentence-transformers student."""

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
        for term in config.terms:
            if LOSSES[term.loss].feature != EMBEDDING_FEATURE:
                raise InputError(
                    f"an embedder student learns from sentence vectors: {term.loss} is for "
                    "rerankers; use mse or cosine."
                )
        if any(LOSSES[match.loss].feature == "attention" for match in config.matches):
            raise InputError(
                "attention matches are for reranker students (sentence-transformers runs "
                "fused attention, which returns no probabilities); use hidden or relation matches."
            )
        if config.matches and teacher.tokenizer.get_vocab() != student.tokenizer.get_vocab():
            raise InputError(
                "layer matches compare tokens, so teacher and student need the same tokenizer; "
                "use mse or cosine only for this student."
            )
        self.teacher, self.student = teacher, student
        self.config, self.training = config, training
        self.teacher_name = teacher_name
        self.cache = TeacherCache(cache_dir, f"{teacher_name}|embedding|{training.max_seq_length}")

    def _projection(self, match: Match) -> nn.Module:
        if match.projection is None:
            return nn.Identity()
        return projection(
            match.projection,
            self.student[0].auto_model.config.hidden_size,
            self.teacher[0].auto_model.config.hidden_size,
        )

    def _teacher_vectors(self, texts: list[str]) -> np.ndarray:
        def encode(missing: list[str]) -> np.ndarray:
            return self.teacher.encode(
                missing, batch_size=self.training.batch_size, convert_to_numpy=True
            )

        return self.cache.vectors(texts, encode)

    def _loss(
        self, texts: list[str], targets: torch.Tensor, progress: float
    ) -> tuple[torch.Tensor, dict[str, float]]:
        features = self.student.tokenize(texts)
        output = self.student(dict(features))
        parts: dict[str, torch.Tensor] = {}
        for term in self.config.terms:
            value = LOSSES[term.loss].function(output["sentence_embedding"], targets)
            parts[term.loss] = parts.get(term.loss, 0) + term.weight.at(progress) * value
        if self.config.matches:
            with torch.no_grad():
                teacher_layers = self.teacher[0](dict(features))["all_layer_embeddings"]
            student_layers = output["all_layer_embeddings"]
            mask = features["attention_mask"]
            for match, project in zip(self.config.matches, self.projections, strict=True):
                unit = LOSSES[match.loss]
                if unit.feature == "layers":
                    value = unit.function(
                        [student_layers[i] for i in match.student_layer],
                        [teacher_layers[i] for i in match.teacher_layer],
                        mask,
                    )
                else:
                    student_side = project(student_layers[match.student_layer])
                    teacher_side = teacher_layers[match.teacher_layer]
                    extra = {"window": self.config.window} if match.loss == "wr-angle" else {}
                    value = unit.function(student_side, teacher_side, mask, **extra)
                parts[match.loss] = parts.get(match.loss, 0) + match.weight.at(progress) * value
        total = sum(parts.values())
        return total, {name: float(value.detach()) for name, value in parts.items()}

    def fit(
        self,
        texts: list[str],
        out: Path,
        *,
        evaluate: Callable[[Any], dict[str, float]] | None = None,
        metric: str | None = None,
        show_progress: bool = True,
    ) -> DistillResult:
        """Train the student on `texts`; save the best epoch's student and its card at `out`."""
        from transformers import get_linear_schedule_with_warmup

        from seoga.index.generations import building, write_json_atomic
        from seoga.progress import track

        texts = list(dict.fromkeys(text for text in texts if text.strip()))
        if not texts:
            raise InputError("no text to distil on: give passages or sentences.")
        if evaluate is not None and metric is None:
            raise InputError("an evaluation needs the metric that picks the best epoch.")
        started = time.perf_counter()
        _seed(self.training.seed)
        # Made after seeding, so a run repeats; dropped after training (TextBrewer's design).
        self.projections = nn.ModuleList(self._projection(match) for match in self.config.matches)
        for model in (self.teacher, self.student):
            model.max_seq_length = self.training.max_seq_length
            model[0].auto_model.config.output_hidden_states = bool(self.config.matches)
        targets = torch.from_numpy(self._teacher_vectors(texts))
        self.teacher.eval()
        self.student.train()
        batches_per_epoch = -(-len(texts) // self.training.batch_size)
        total_steps = batches_per_epoch * self.training.epochs
        optimizer = torch.optim.AdamW(
            [
                {"params": list(self.student.parameters())},
                {"params": list(self.projections.parameters())},
            ],
            lr=self.training.learning_rate,
        )
        scheduler = get_linear_schedule_with_warmup(
            optimizer, round(self.training.warmup * total_steps), total_steps
        )
        order = np.random.default_rng(self.training.seed)
        result = DistillResult(out=Path(out))
        best_score = -np.inf
        step = 0
        for epoch in range(1, self.training.epochs + 1):
            permutation = order.permutation(len(texts))
            sums: dict[str, float] = {}
            starts = range(0, len(texts), self.training.batch_size)
            for start in track(
                starts, f"distilling, epoch {epoch}/{self.training.epochs}", enabled=show_progress
            ):
                rows = permutation[start : start + self.training.batch_size]
                loss, parts = self._loss(
                    [texts[row] for row in rows], targets[rows], step / max(total_steps, 1)
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
                if metric not in record["metrics"]:
                    known = ", ".join(record["metrics"])
                    raise InputError(f"the evaluation gives {known}; it has no {metric!r}.")
            result.epochs.append(record)
            score = record["metrics"][metric] if evaluate is not None else epoch
            if score > best_score:
                best_score, result.best = score, record
                self.student.eval()
                with building(result.out) as folder:
                    self.student.save(str(folder))
                    write_json_atomic(folder / CARD_NAME, self._card(texts, result))
                self.student.train()
        self.student.eval()
        result.seconds = time.perf_counter() - started
        write_json_atomic(result.out / CARD_NAME, self._card(texts, result))
        return result

    def _card(self, texts: list[str], result: DistillResult) -> dict[str, Any]:
        backbone = self.student[0].auto_model.config
        return {
            "teacher": self.teacher_name,
            "student": {
                "layers": backbone.num_hidden_layers,
                "hidden": backbone.hidden_size,
                "parameters": sum(p.numel() for p in self.student.parameters()),
            },
            "distillation": self.config.to_dict(),
            "training": asdict(self.training),
            "data": {"texts": len(texts)},
            "epochs": result.epochs,
            "best": result.best,
            "seconds": round(result.seconds, 2),
        }
