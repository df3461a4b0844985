"""Hugging Face Trainer plumbing shared by seoga's trainers (span reader, reranker): one
arguments block, quiet logs, progress lines and the scratch checkpoints folder.

It sits at ground level (beside the model-folder card) so that every trainer, whichever
component it lives in, imports it without reaching up into train/. transformers and torch are
imported inside the functions: importing this module stays cheap.
"""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from seoga.progress import terminal_bars

# Trainers write checkpoints inside the model folder being built; they are removed afterwards.
CHECKPOINTS = "checkpoints"
# A run logs its loss about this many times, however long it is.
LOGS_PER_RUN = 10


def training_arguments(
    arguments_type: type,
    folder: Path,
    *,
    examples: int,
    epochs: float,
    learning_rate: float,
    batch_size: int,
    warmup: float,
    seed: int,
    show_progress: bool,
    **extra: Any,
) -> Any:
    """`arguments_type` (transformers' TrainingArguments or a subclass) set as seoga's trainers
    run: checkpoints under `folder` but none saved, nothing reported, the loss logged about
    LOGS_PER_RUN times over `examples`, a bar only on a terminal, the GPU when there is one.
    `extra` adds the trainer's own arguments."""
    import torch

    return arguments_type(
        output_dir=str(folder / CHECKPOINTS),
        num_train_epochs=epochs,
        learning_rate=learning_rate,
        per_device_train_batch_size=batch_size,
        warmup_steps=warmup,  # a float below 1 is a share of the steps
        seed=seed,
        save_strategy="no",
        report_to=[],
        logging_steps=max(1, examples // batch_size // LOGS_PER_RUN),
        disable_tqdm=not terminal_bars(show_progress),
        use_cpu=not torch.cuda.is_available(),
        **extra,
    )


def follow_training(trainer: Any, description: str, show_progress: bool) -> None:
    """Keep `trainer`'s logs off stdout unless progress is wanted, and give it seoga's progress
    lines where no terminal bar draws."""
    # step_progress subclasses a transformers class: imported only when training.
    from seoga.models.step_progress import show_steps

    quiet_unless(trainer, show_progress)
    show_steps(trainer, description, show_progress)


def quiet_unless(trainer: Any, show_progress: bool) -> None:
    """Without progress bars a Trainer prints its logs to stdout; keep stdout for --json."""
    from transformers.trainer_callback import PrinterCallback

    if not show_progress:
        trainer.remove_callback(PrinterCallback)


@contextmanager
def transformers_quiet() -> Iterator[None]:
    """Hide transformers' warnings (such as the load report of a new, untrained head)."""
    from transformers.utils import logging

    before = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(before)


def remove_checkpoints(folder: Path) -> None:
    """Drop the scratch checkpoints once the trained model is saved in `folder`."""
    shutil.rmtree(folder / CHECKPOINTS, ignore_errors=True)
