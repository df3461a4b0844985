"""GRU4Rec (Hidasi et al. 2016, with the authors' later fixes), written here in PyTorch.

A GRU reads a session click by click; after each click its hidden state h scores every item,
ŝ = h·Wᵀ + b. Training follows the paper and the authors' notes (research notes, §2):

- session-parallel mini-batches: B sessions side by side, each slot taking the next session
  (sorted by start time) when its own ends, its hidden state reset to zero then;
- the input embedding tied to the output one (`tied_embedding`, the authors' best setting);
- cross-entropy over the batch's targets plus `samples` items drawn by popularity^α, with the
  log-q correction, or BPR-max (scores through an ELU, softmax weights over the negatives and a
  score regulariser) as the alternative loss; columns of the row's own target item other than
  its own are masked (a repeated item is no negative for itself);
- dropout on the embedding and on the hidden state; Adagrad, as the paper uses (stock torch
  Adagrad, without the official code's momentum over sparse rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from seoga.errors import InputError
from seoga.progress import track
from seoga.recommend.base import Recommender, RecommenderSettings
from seoga.recommend.data.sessions import sequences, session_times

LOSSES = ("cross-entropy", "bpr-max")
# Tiny constants that keep logs and divisions finite.
EPSILON = 1e-24


@dataclass
class GRU4RecSettings(RecommenderSettings):
    hidden: int = 100
    batch_size: int = 32
    epochs: int = 5
    learning_rate: float = 0.05
    loss: str = "cross-entropy"
    samples: int = 2048  # extra negatives per mini-batch, drawn by popularity^sample_alpha
    sample_alpha: float = 0.5
    logq: float = 1.0  # weight of the log-q correction (cross-entropy)
    bpr_regularization: float = 1.0  # BPR-max's score regulariser
    elu: float = 0.5  # BPR-max's ELU parameter (0: none)
    dropout_embedding: float = 0.0
    dropout_hidden: float = 0.0
    tied_embedding: bool = True


def cross_entropy_loss(scores: torch.Tensor, same: torch.Tensor, log_q: torch.Tensor | None):
    """Mean −log softmax of each row's own column (column b of row b).

    scores: (B, B + S) — the batch's targets first, then the samples. same: (B, B + S) true where
    a column holds the row's target item (its own column included). log_q: (B + S,) log sampling
    probabilities subtracted from every column (log-q correction), or None.
    """
    corrected = scores - log_q if log_q is not None else scores
    own = torch.eye(scores.shape[0], scores.shape[1], dtype=torch.bool)
    corrected = corrected.masked_fill(same & ~own, float("-inf"))
    return -torch.log_softmax(corrected, dim=1).diagonal().mean()


def bpr_max_loss(scores: torch.Tensor, same: torch.Tensor, regularization: float, elu: float):
    """BPR-max: −log Σⱼ σ(r_t − r_j)·sⱼ + λ Σⱼ sⱼ r_j², s = softmax over the negatives j."""
    if elu > 0:
        scores = nn.functional.elu(scores, alpha=elu)
    target = scores.diagonal()[:, None]
    negative = ~same
    weights = torch.softmax(scores.masked_fill(~negative, float("-inf")), dim=1)
    ranked = (torch.sigmoid(target - scores) * weights * negative).sum(1)
    penalty = (weights * scores**2 * negative).sum(1)
    return (-torch.log(ranked + EPSILON) + regularization * penalty).mean()


class GRU4RecNetwork(nn.Module):
    def __init__(self, n_items: int, settings: GRU4RecSettings, generator: torch.Generator):
        super().__init__()
        hidden = settings.hidden
        self.output = nn.Parameter(_uniform((n_items, hidden), generator))
        self.bias = nn.Parameter(torch.zeros(n_items))
        self.input = None if settings.tied_embedding else nn.Embedding(n_items, hidden)
        if self.input is not None:
            self.input.weight.data = _uniform((n_items, hidden), generator)
        self.cell = nn.GRUCell(hidden, hidden)
        for parameter in self.cell.parameters():
            parameter.data = _uniform(tuple(parameter.shape), generator)
        self.drop_embedding = nn.Dropout(settings.dropout_embedding)
        self.drop_hidden = nn.Dropout(settings.dropout_hidden)

    def step(self, items: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        embedded = self.output[items] if self.input is None else self.input(items)
        return self.cell(self.drop_embedding(embedded), state)

    def scores(self, state: torch.Tensor, items: torch.Tensor | None = None) -> torch.Tensor:
        hidden = self.drop_hidden(state)
        if items is None:
            return hidden @ self.output.T + self.bias
        return hidden @ self.output[items].T + self.bias[items]


def session_batches(starts: np.ndarray, batch: int):
    """Session-parallel mini-batches over sessions [starts[s], starts[s+1]) of a click array.

    Yields (input positions, target positions, reset mask): slot b reads the click at input
    position b and predicts the one after it; `reset` marks slots that began a new session at
    this step (their hidden state must start from zero). Ends when no slot can be refilled.
    """
    n_sessions = len(starts) - 1
    slots = np.arange(min(batch, n_sessions))
    position = starts[slots].copy()
    reset = np.ones(len(slots), dtype=bool)
    following = len(slots)
    while True:
        yield position.copy(), position + 1, reset.copy()
        reset[:] = False
        position += 1
        ended = np.flatnonzero(position + 1 >= starts[slots + 1])
        for slot in ended:
            if following >= n_sessions:
                return
            slots[slot] = following
            position[slot] = starts[following]
            reset[slot] = True
            following += 1


class GRU4RecRecommender(Recommender):
    """Session-based next-item recommendation with a GRU over the session's clicks."""

    name = "gru4rec"
    settings_class = GRU4RecSettings

    def _fit(self, log, items, users, show_progress) -> None:
        s = self.settings
        if s.loss not in LOSSES:
            raise InputError(f"unknown loss {s.loss!r}; use {', '.join(LOSSES)}.")
        torch.manual_seed(s.seed)
        generator = torch.Generator().manual_seed(s.seed)
        clicks, starts = self._sessions(log)
        if len(starts) < 2:  # noqa: PLR2004 (one session boundary pair)
            raise InputError("gru4rec needs sessions of at least two clicks.")
        self.network = GRU4RecNetwork(log.n_items, s, generator)
        optimizer = torch.optim.Adagrad(self.network.parameters(), lr=s.learning_rate)
        counts = np.bincount(log.items, minlength=log.n_items).astype(np.float64)
        sampling = counts**s.sample_alpha
        sampling /= sampling.sum()
        log_sampling = torch.from_numpy(np.log(sampling + EPSILON)).float()
        rng = np.random.default_rng(s.seed)
        clicks_t = torch.from_numpy(clicks)
        for _ in track(range(s.epochs), "gru4rec: epochs", enabled=show_progress):
            self.network.train()
            state = torch.zeros(min(s.batch_size, len(starts) - 1), s.hidden)
            for inputs, targets, reset in session_batches(starts, s.batch_size):
                state = state.masked_fill(torch.from_numpy(reset)[:, None], 0.0).detach()
                state = self.network.step(clicks_t[inputs], state)
                target_items = clicks_t[targets]
                sampled = torch.from_numpy(rng.choice(log.n_items, s.samples, p=sampling))
                candidates = torch.cat([target_items, sampled])
                scores = self.network.scores(state, candidates)
                same = target_items[:, None] == candidates[None, :]
                if s.loss == "cross-entropy":
                    correction = s.logq * log_sampling[candidates] if s.logq else None
                    loss = cross_entropy_loss(scores, same, correction)
                else:
                    loss = bpr_max_loss(scores, same, s.bpr_regularization, s.elu)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        self.network.eval()
        self.final_states = self._final_states(log)

    @staticmethod
    def _sessions(log) -> tuple[np.ndarray, np.ndarray]:
        """Clicks of the sessions of 2+ clicks, session after session in the order they start
        (each in time order), and each session's start in that array."""
        starts, _ = session_times(log)
        pieces = [
            (items, starts[session])
            for session, items in sequences(log)
            if len(items) >= 2  # noqa: PLR2004 (a click and the one after it)
        ]
        pieces.sort(key=lambda piece: piece[1])
        clicks = np.concatenate([items for items, _ in pieces]) if pieces else np.zeros(0, int)
        return clicks, np.r_[0, np.cumsum([len(items) for items, _ in pieces])].astype(np.int64)

    @torch.no_grad()
    def _final_states(self, log) -> np.ndarray:
        """Each training session's hidden state after its last click (for `recommend`)."""
        states = np.zeros((log.n_users, self.settings.hidden), dtype=np.float32)
        for session, items in sequences(log):
            states[session] = self._hidden(items)[0].numpy()
        return states

    @torch.no_grad()
    def _hidden(self, items: np.ndarray) -> torch.Tensor:
        state = torch.zeros(1, self.settings.hidden)
        for item in items:
            state = self.network.step(torch.tensor([int(item)]), state)
        return state

    @torch.no_grad()
    def score_history(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray:
        """The GRU's scores after reading the session's clicks, oldest first, from a zero state."""
        return self.network.scores(self._hidden(items))[0].numpy().astype(np.float64)

    @torch.no_grad()
    def score_users(self, users: np.ndarray) -> np.ndarray:
        """A training session's scores for its next click, from its final state."""
        state = torch.from_numpy(self.final_states[users])
        return self.network.scores(state).numpy().astype(np.float64)

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            f"network.{name}": value.detach().numpy()
            for name, value in self.network.state_dict().items()
        }
        return {**arrays, "final_states": self.final_states}

    def _restore(self, arrays, state) -> None:
        generator = torch.Generator().manual_seed(self.settings.seed)
        self.network = GRU4RecNetwork(len(self.item_ids), self.settings, generator)
        weights = {
            name.removeprefix("network."): torch.from_numpy(array)
            for name, array in arrays.items()
            if name.startswith("network.")
        }
        self.network.load_state_dict(weights)
        self.network.eval()
        self.final_states = arrays["final_states"]


def _uniform(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Uniform ±√(6 / (fan_in + fan_out)), as the authors initialise."""
    fan = shape[0] + (shape[1] if len(shape) > 1 else shape[0])
    bound = float(np.sqrt(6.0 / fan))
    return (torch.rand(shape, generator=generator) * 2 - 1) * bound
