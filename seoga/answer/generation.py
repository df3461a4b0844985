"""The generator contract the in-context reader relies on and its backends implement."""

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

from seoga.answer.base import TokenCallback

# Generators complete a prompt up to the first newline: an answer is one line.
STOP = "\n"


@dataclass
class Generation:
    text: str
    token_logprobs: list[float]

    @property
    def mean_logprob(self) -> float:
        if not self.token_logprobs:
            return -math.inf
        return sum(self.token_logprobs) / len(self.token_logprobs)


class Generator(ABC):
    """Greedy completion of a prompt up to a newline, streaming text pieces as they come."""

    backend: str
    model_name: str

    @abstractmethod
    def complete(
        self, prompt: str, *, max_tokens: int, on_token: TokenCallback | None = None
    ) -> Generation: ...
