"""Training steps shown as seoga's progress lines, with an ETA, where no bar can draw.

On a terminal a transformers Trainer draws its own bar; in a log file it prints only its
periodic losses, with no sense of how long is left. This callback adds seoga's plain progress
lines (count, rate, time left) there.
"""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback

from seoga.progress import PlainLines, progress_console


class StepProgress(TrainerCallback):
    """Writes "training: 120/375 (32%), 0.4/s, 10:00 left" lines as steps finish."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.shown: PlainLines | None = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.shown = PlainLines(state.max_steps, self.description)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.shown is not None:
            self.shown.update()

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.shown is not None:
            self.shown.close()
            self.shown = None


def show_steps(trainer: Any, description: str, show_progress: bool) -> None:
    """Give `trainer` progress lines when progress is wanted and no terminal bar draws."""
    if show_progress and not progress_console.is_terminal:
        trainer.add_callback(StepProgress(description))
