"""What the training benchmarks share: a work folder outside the repo, stage results kept as
JSON so each stage can run as its own process (each within the 30-minute budget), and BEIR
folders with some train queries held out."""

import json
import os
import random
from pathlib import Path
from typing import Any

from seoga.datasets.beir import read_qrels
from seoga.paths import seoga_home
from seoga.train.trainer import LENGTH_GROUPED

ENVIRONMENT = "PYTHONPATH=."


def work_folder(name: str) -> Path:
    folder = seoga_home() / "bench" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def hold_out_train_queries(
    source: Path, held: set[str], train: Path, dev: Path | None = None
) -> None:
    """BEIR folders whose corpus and queries link to `source`'s: `train` with
    qrels/train.tsv less the `held` queries, and `dev` (if given) with theirs as its qrels.tsv."""
    lines = (source / "qrels" / "train.tsv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    for target in (train, *([dev] if dev else [])):
        (target / "qrels").mkdir(parents=True, exist_ok=True)
        for name in ("corpus.jsonl", "queries.jsonl"):
            if not (target / name).exists():
                (target / name).symlink_to(source / name)
    kept = [row for row in rows if row.split("\t")[0] not in held]
    (train / "qrels" / "train.tsv").write_text("\n".join([header, *kept]) + "\n", encoding="utf-8")
    if dev:
        moved = [row for row in rows if row.split("\t")[0] in held]
        (dev / "qrels.tsv").write_text("\n".join([header, *moved]) + "\n", encoding="utf-8")


def corpus_subset(
    source: Path, target: Path, size: int, seed: int, also_judged: dict | None = None
) -> Path:
    """A BEIR folder with `source`'s queries and qrels.tsv (its test qrels) over part of its
    corpus: every document judged there or in `also_judged` (other qrels, e.g. tuning queries'),
    then a seeded random sample of the rest up to `size` documents. Made once, then reused."""
    if (target / "corpus.jsonl").is_file():
        return target
    target.mkdir(parents=True, exist_ok=True)
    judged = {
        doc
        for qrels in (read_qrels(source / "qrels.tsv"), also_judged or {})
        for docs in qrels.values()
        for doc in docs
    }
    lines = (source / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    ids = [str(json.loads(line)["_id"]) for line in lines]
    keep = {i for i, doc in enumerate(ids) if doc in judged}
    others = [i for i, doc in enumerate(ids) if doc not in judged]
    keep |= set(random.Random(seed).sample(others, max(0, size - len(keep))))
    (target / "corpus.jsonl").write_text("".join(lines[i] + "\n" for i in sorted(keep)))
    for name in ("queries.jsonl", "qrels.tsv"):
        (target / name).write_text((source / name).read_text())
    return target


def save_result(folder: Path, stage: str, result: dict[str, Any]) -> None:
    (folder / f"{stage}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))


def load_results(folder: Path) -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def training_line(card: dict[str, Any]) -> str:
    """Steps, rows and speed of one training run, from its card."""
    training = card["training"]
    hyper = card["hyperparameters"]
    frozen = hyper.get("freeze_embeddings") and not hyper.get("lora_rank")
    grouped = card["loss"].get("batches") == LENGTH_GROUPED
    return (
        f"{hyper['epochs']:g} epoch{'s' if hyper['epochs'] != 1 else ''}, "
        f"{training['steps']} steps × batch {hyper['batch_size']}, max {hyper['max_seq_length']} "
        f"tokens{', word embeddings frozen' if frozen else ''}"
        f"{', length-grouped batches' if grouped else ''}, {training['seconds']:.0f} s "
        f"({training['rows_per_second']:.1f} rows/s)"
    )


def cpu_note() -> str:
    policy = os.environ.get("OMP_WAIT_POLICY", "unset (OpenMP's default, spinning)")
    return f"{os.cpu_count()} CPU cores; torch threads = cores, OMP_WAIT_POLICY {policy}"
