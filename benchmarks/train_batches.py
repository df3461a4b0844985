"""Length-grouped batches vs sentence-transformers' random batches, the same CoSENT training.

Run from the repository root:
    flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/train_batches.py
Trains multilingual-e5-small on KorSTS sts-train for the same number of steps twice in one
process — once with sentence-transformers' own random batches (`--no-group-by-length`, the
peer) and once with seoga's length-grouped batches — and reports rows per second and the padded
tokens each batching gives over one epoch (the model computes on padding too). Writes the
"Training batches" section of BENCHMARKS.md.
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from datasets import Dataset

from benchmarks.report import DATA, machine_line, write_section
from benchmarks.train_runs import cpu_note
from seoga.models.registry import resolve_model
from seoga.train.data import read_scored_pairs
from seoga.train.sampling import LengthGroupedBatchSampler
from seoga.train.trainer import TrainConfig, train_embedder

KORSTS_TRAIN = DATA / "korsts" / "sts-train.tsv"
BASE = "multilingual-e5-small"
STEPS = 40
BATCH = 16
MAX_TOKENS = 64
SEED = 42
COMMAND = "flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/train_batches.py"
ARMS = {
    "sentence-transformers random batches (peer)": False,
    "seoga length-grouped batches": True,
}


def padded_tokens(batches: list[list[int]], first: np.ndarray, second: np.ndarray) -> int:
    """Tokens the model reads for these batches: each column padded to its batch's longest."""
    return int(sum(len(b) * (first[b].max() + second[b].max()) for b in batches))


def epoch_padding(seed: int) -> dict[str, int]:
    """Padded tokens of one epoch under each batching, and the tokens without padding; the
    rows are read as the trainer reads them."""
    from transformers import AutoTokenizer

    examples = read_scored_pairs(KORSTS_TRAIN)
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(BASE).location)

    def lengths(column: str) -> np.ndarray:
        ids = tokenizer(examples.columns[column], truncation=True, max_length=MAX_TOKENS)
        return np.array([len(row) for row in ids["input_ids"]])

    first, second = lengths("sentence1"), lengths("sentence2")
    order = torch.randperm(len(examples), generator=torch.Generator().manual_seed(seed)).tolist()
    random_batches = [order[i : i + BATCH] for i in range(0, len(order), BATCH)]
    dataset = Dataset.from_dict(examples.columns)
    grouped = list(
        LengthGroupedBatchSampler(dataset, BATCH, False, valid_label_columns=["score"], seed=seed)
    )
    return {
        "random": padded_tokens(random_batches, first, second),
        "grouped": padded_tokens(grouped, first, second),
        "unpadded": int(first.sum() + second.sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    machine = machine_line()
    speeds = {}
    with tempfile.TemporaryDirectory() as work:
        for name, grouped in ARMS.items():
            result = train_embedder(
                TrainConfig(
                    out=Path(work) / str(grouped),
                    base=BASE,
                    data=KORSTS_TRAIN,
                    max_steps=args.steps,
                    batch_size=BATCH,
                    max_seq_length=MAX_TOKENS,
                    seed=args.seed,
                    group_by_length=grouped,
                )
            )
            speeds[name] = result.card["training"]["rows_per_second"]
            print(name, speeds[name], "rows/s", flush=True)
    padding = epoch_padding(args.seed)
    peer = speeds[next(iter(ARMS))]
    lines = ["| batches | rows / s | × peer |", "|---|---|---|"]
    lines += [f"| {name} | {speed:.1f} | {speed / peer:.2f} |" for name, speed in speeds.items()]
    body = (
        f"`{COMMAND}` (seed {args.seed}) — {machine}; {cpu_note()}\n\n"
        f"CoSENT on KorSTS sts-train, {BASE}, {args.steps} steps × batch {BATCH}, max "
        f"{MAX_TOKENS} tokens, word embeddings frozen, each arm in the same process one after "
        "the other.\n\n" + "\n".join(lines) + "\n\n"
        "Tokens the model reads in one epoch over all pairs, both sentences, each padded to "
        f"its batch's longest: random batches (a seeded order) {padding['random']:,}, "
        f"length-grouped "
        f"{padding['grouped']:,} ({padding['random'] / padding['grouped']:.2f}× fewer); without "
        f"any padding {padding['unpadded']:,}."
    )
    print(body)
    if not args.no_write:
        write_section("## Training batches", body)


if __name__ == "__main__":
    main()
