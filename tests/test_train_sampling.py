"""Length-grouped batches: every row once per epoch, rows of like length together, the same
batches for the same seed and epoch."""

import random

import numpy as np
import pytest
from datasets import Dataset

from seoga.train.sampling import LengthGroupedBatchSampler

ROWS = 1003  # not a multiple of BATCH: one batch is short
BATCH = 8


@pytest.fixture(scope="module")
def dataset():
    rng = random.Random(0)
    words = [" ".join(["word"] * rng.randint(1, 40)) for _ in range(2 * ROWS)]
    return Dataset.from_dict(
        {
            "sentence1": words[:ROWS],
            "sentence2": words[ROWS:],
            "score": [rng.random() for _ in range(ROWS)],
        }
    )


def batches(dataset, *, seed=0, epoch=0, drop_last=False):
    sampler = LengthGroupedBatchSampler(
        dataset, BATCH, drop_last, valid_label_columns=["score"], seed=seed
    )
    sampler.set_epoch(epoch)
    found = list(sampler)
    assert len(found) == len(sampler)
    return found


def test_every_row_once_per_epoch(dataset):
    found = batches(dataset)
    assert sorted(i for batch in found for i in batch) == list(range(ROWS))
    assert sorted(len(batch) for batch in found) == [ROWS % BATCH] + [BATCH] * (ROWS // BATCH)
    dropped = batches(dataset, drop_last=True)
    assert all(len(batch) == BATCH for batch in dropped)
    assert len(dropped) == ROWS // BATCH


def test_rows_of_like_length_share_a_batch(dataset):
    lengths = np.array(
        [len(a) + len(b) for a, b in zip(dataset["sentence1"], dataset["sentence2"], strict=True)]
    )

    def spread(found):
        return np.mean([np.ptp(lengths[batch]) for batch in found])

    order = np.random.default_rng(0).permutation(ROWS)
    random_batches = [order[i : i + BATCH] for i in range(0, ROWS, BATCH)]
    assert spread(batches(dataset)) < spread(random_batches) / 4


def test_same_seed_and_epoch_same_batches(dataset):
    assert batches(dataset) == batches(dataset)
    assert batches(dataset) != batches(dataset, epoch=1)
    assert batches(dataset) != batches(dataset, seed=1)
