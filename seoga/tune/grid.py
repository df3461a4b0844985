"""A grid file: what a sweep varies, what stays fixed, and how its trials are scored."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from seoga.errors import InputError
from seoga.tune.recommend_spec import check_recommend, recommend_keys

KINDS = ("retrieval", "training", "recommend")
# What `train:` may fix: TrainConfig's fields but the ones tune owns.
TRAIN_FIELDS = frozenset(
    {
        "base", "data", "collection", "format", "split", "objective", "loss", "hard_negatives",
        "analyzer", "max_examples", "lora_rank", "lora_alpha", "seed", "epochs", "max_steps",
        "batch_size", "lr", "warmup_ratio", "max_seq_length", "scale", "margin", "eval_steps",
        "eval_corpus_size", "lora_save",
    }
)  # fmt: skip
KEY_CHARS = 12
DEFAULT_METRIC = "ndcg@10"
SPARSE_KEYS = ("analyzer", "analyzer.keep_tags", "bm25.k1", "bm25.b", "bm25.method")
FUSION_KEYS = (
    "fusion.method",
    "fusion.dense_weight",
    "fusion.extra_weight",
    "fusion.normalization",
    "fusion.rrf_k",
)
TRAINING_KEYS = (
    "lr",
    "batch_size",
    "epochs",
    "max_steps",
    "temperature",
    "scale",
    "margin",
    "lora_rank",
    "lora_alpha",
    "loss",
    "hard_negatives",
    "max_seq_length",
    "warmup_ratio",
    "max_examples",
    "seed",
)


@dataclass
class Grid:
    """A parsed grid file: what to vary, what stays fixed, and how to score."""

    kind: str
    data: Path
    grid: dict[str, list[Any]]
    output: Path
    metric: str = DEFAULT_METRIC
    split: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # fixed collection settings
    train: dict[str, Any] = field(default_factory=dict)  # fixed training settings
    recommend: dict[str, Any] = field(default_factory=dict)  # the recommender, its protocol
    eval: Path | None = None
    eval_split: str | None = None
    workers: int = 1
    dask: str | None = None  # a Dask scheduler (or local:N): trials run as its tasks
    keep_models: bool = False
    cache_dir: Path | None = None

    def trials(self) -> list[dict[str, Any]]:
        """Every combination of the grid's values, in file order."""
        names = list(self.grid)
        return [
            dict(zip(names, values, strict=True))
            for values in itertools.product(*(self.grid[name] for name in names))
        ]

    def trial_id(self, trial: dict[str, Any]) -> str:
        """Stable id of a trial: its values and everything fixed that changes its score."""
        fixed = {
            "kind": self.kind,
            "data": str(self.data),
            "split": self.split,
            "settings": self.settings,
            "train": self.train,
            "recommend": self.recommend,
            "eval": str(self.eval),
            "eval_split": self.eval_split,
            "metric": self.metric,
        }
        payload = json.dumps([fixed, trial], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:KEY_CHARS]


def _resolve(base: Path, value: Any) -> Path | None:
    if value is None:
        return None
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def load_grid(
    path: str | Path,
    *,
    output: Path | None = None,
    workers: int | None = None,
    seed: int | None = None,
    dask: str | None = None,
) -> Grid:
    """Read and check a grid YAML file; relative paths are relative to the file. `seed`
    overrides the file's `train: seed` (training grids) or the model's seed (recommend grids)."""
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"{path} cannot be read: {error.strerror or error}") from error
    except yaml.YAMLError as error:
        raise InputError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(spec, dict):
        raise InputError(f"{path}: expected a mapping with kind, data and grid.")
    kind = spec.get("kind", "retrieval")
    if kind not in KINDS:
        raise InputError(f"{path}: kind must be one of {', '.join(KINDS)}, not {kind!r}.")
    grid = spec.get("grid")
    if not isinstance(grid, dict) or not grid:
        raise InputError(f"{path}: `grid` must map setting names to lists of values.")
    recommend = check_recommend(spec.get("recommend"), str(path)) if kind == "recommend" else {}
    allowed = {
        "retrieval": (*SPARSE_KEYS, *FUSION_KEYS),
        "training": TRAINING_KEYS,
        "recommend": recommend_keys(recommend.get("model", "")) if recommend else (),
    }[kind]
    for name, values in grid.items():
        if name not in allowed:
            raise InputError(
                f"{path}: {name!r} cannot be tuned in a {kind} grid; use one of: "
                f"{', '.join(allowed)}."
            )
        if not isinstance(values, list) or not values:
            grid[name] = [values]
    base = path.parent
    train = dict(spec.get("train") or {})
    if seed is not None and kind == "recommend":
        recommend["settings"] = {**recommend.get("settings", {}), "seed": seed}
    elif seed is not None:
        train["seed"] = seed
    unknown = sorted(set(train) - TRAIN_FIELDS)
    if unknown:
        raise InputError(
            f"{path}: unknown training settings {unknown}; use: {', '.join(sorted(TRAIN_FIELDS))}."
        )
    data = _resolve(base, spec.get("data") or train.get("data") or train.get("collection"))
    if data is None:
        raise InputError(
            f"{path}: `data` (a BEIR folder, training data or an interaction log) is required."
        )
    for key in ("data", "collection", "eval"):
        if key in train:
            train[key] = _resolve(base, train[key])
    evaluation = _resolve(base, spec.get("eval"))
    if kind == "recommend" and "metric" not in spec:
        raise InputError(f"{path}: a recommend grid needs `metric:` (e.g. mrr@20 or ndcg@10).")
    if kind == "training" and evaluation is None:
        raise InputError(f"{path}: a training grid needs `eval:` (STS pairs or a BEIR folder).")
    return Grid(
        kind=kind,
        data=data,
        grid=grid,
        output=output or _resolve(base, spec.get("output") or f"{path.stem}-results"),
        metric=spec.get("metric", DEFAULT_METRIC),
        split=spec.get("split"),
        settings=dict(spec.get("settings") or {}),
        train=train,
        recommend=recommend,
        eval=evaluation,
        eval_split=spec.get("eval_split"),
        workers=int(workers or spec.get("workers", 1)),
        dask=dask or spec.get("dask"),
        keep_models=bool(spec.get("keep_models", False)),
        cache_dir=_resolve(base, spec.get("cache_dir")),
    )
