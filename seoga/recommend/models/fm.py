"""A factorization machine (Rendle 2010) over blocks of user and item features, in PyTorch.

    ŷ(x) = w₀ + Σⱼ wⱼxⱼ + ½ Σ_f [(Σⱼ v_jf xⱼ)² − Σⱼ v_jf² xⱼ²]

The input x of a (user, item) pair is laid out in blocks, each with its own parameters and L2
penalty (the analogue of myFM's `group_shapes`):

    user ids · user side features · the user's rated items (1/√n, SVD++-style)
    item ids · item side features (categorical, multi-hot, numeric) · the item's text vector

The text block is dense: each item's text encoded by a seoga embedder (e5 by default, so Korean
and English descriptions both work), one FM feature per dimension. Every block belongs to the
user side or the item side, so the FM splits into a per-user part and a per-item part:

    ŷ(u, i) = w₀ + c_u + c_i + s_u · s_i,   s = Σⱼ vⱼxⱼ,  c = Σⱼ wⱼxⱼ + ½(|s|² − Σⱼ vⱼ²xⱼ²)

which is what serving stores: ranking all items for a user is one matrix product, and an item
with no interactions is scored through its features and text. Objectives: squared error on
ratings, or BPR over sampled negatives; early stopping on a held-out share of the training rows.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import sparse
from torch import nn

from seoga.errors import InputError
from seoga.progress import progress
from seoga.recommend.base import Recommender, RecommenderSettings
from seoga.recommend.data.feature_encoding import FeatureVocabulary
from seoga.recommend.data.propensity import NO_DEBIAS, epoch_order, loss_weights
from seoga.recommend.data.splits import validation_rows
from seoga.recommend.models.fm_network import ITEM, USER, Block, FMNetwork
from seoga.recommend.models.text import encode_texts

OBJECTIVES = ("regression", "bpr")
DEFAULT_TEXT_MODEL = "multilingual-e5-small"
DEFAULT_BLOCK_REGULARIZATION = {"text": 0.5}
# Scores computed per chunk of items when the FM precomputes every item's part.
ITEM_CHUNK = 8192


@dataclass
class FMSettings(RecommenderSettings):
    objective: str = "regression"
    factors: int = 32
    epochs: int = 60
    batch_size: int = 1024
    # Chosen on a split inside the training part of MovieLens latest-small (BENCHMARKS.md).
    learning_rate: float = 0.001
    regularization: float = 0.05  # L2 on every block's rows, unless block_regularization says
    # Per block, over DEFAULT_BLOCK_REGULARIZATION (the text block needs more than the rest).
    block_regularization: dict[str, float] = field(default_factory=dict)
    # Blocks taken in (each on only when its data is there).
    ids: bool = True
    features: bool = True
    implicit: bool = True
    text_model: str | None = DEFAULT_TEXT_MODEL
    text_fields: list[str] = field(default_factory=list)  # default: the table's text fields
    min_feature_count: int = 2  # a categorical / multi value seen fewer times is dropped
    validation_share: float = 0.05
    patience: int = 4
    # An epoch counts as better only when the validation loss falls by more than this.
    min_improvement: float = 0.0
    negatives: int = 1  # per positive, for bpr
    # "ipw" (regression): ratings weigh 1 / P(observed), as MF's setting of the same name.
    debias: str = NO_DEBIAS
    propensity_clip: float = 0.0


class FMRecommender(Recommender):
    """Factorization machine over ids, side features, rated items and item text."""

    name = "fm"
    settings_class = FMSettings

    @property
    def predicts_ratings(self) -> bool:  # type: ignore[override]
        return self.settings.objective == "regression"

    def _fit(self, log, items, users, show_progress) -> None:
        s = self.settings
        if s.objective not in OBJECTIVES:
            raise InputError(f"unknown objective {s.objective!r}; use {', '.join(OBJECTIVES)}.")
        torch.manual_seed(s.seed)
        generator = torch.Generator().manual_seed(s.seed)
        held = validation_rows(len(log), s.validation_share, s.seed)
        train, check = log.subset(~held), log.subset(held)
        if s.debias != NO_DEBIAS and s.objective != "regression":
            raise InputError("fm weighs ratings by propensity with objective regression only.")
        weights, check_weights = (
            loss_weights(part, s.debias, s.propensity_clip, self.name) for part in (train, check)
        )
        self.rating_range = (float(log.values.min()), float(log.values.max()))
        blocks = self._blocks(train, items, users, show_progress)
        self.block_names = [block.name for block in blocks]
        self.network = FMNetwork(blocks, s.factors, generator)
        self._zero_untrained(train)
        if self.predicts_ratings:
            self.network.bias.data.fill_(float(np.average(train.values, weights=weights)))
        optimizer = torch.optim.Adam(self.network.parameters(), lr=s.learning_rate)
        rng = np.random.default_rng(s.seed)
        self.negative_pool = np.flatnonzero(self.trained_items)  # BPR samples negatives here
        check_negatives = None if self.predicts_ratings else self._negatives(rng, len(check))
        measure = "validation_rmse" if self.predicts_ratings else "validation_bpr_loss"
        best, best_loss, mark, waited, epochs_run = None, np.inf, np.inf, 0, 0
        with progress(s.epochs, "fm: epochs", enabled=show_progress) as shown:
            for _ in range(s.epochs):
                self.network.train()
                for batch in _batches(epoch_order(rng, len(train), weights), s.batch_size):
                    optimizer.zero_grad()
                    loss, penalties = self._loss(train, batch, rng)
                    (loss + self._penalty(penalties)).backward()
                    optimizer.step()
                epochs_run += 1
                if len(check) == 0:
                    shown.update()
                    continue
                loss = self._validation_loss(check, check_negatives, check_weights)
                shown.set_postfix(**{measure.replace("_", " "): f"{loss:.4f}"})
                shown.update()
                if loss < best_loss:
                    best_loss = loss
                    best = (copy.deepcopy(self.network.state_dict()), epochs_run)
                # Patience runs out on epochs that improve by less than min_improvement.
                if loss < mark - s.min_improvement:
                    mark, waited = loss, 0
                else:
                    waited += 1
                    if waited >= s.patience:
                        break
        if best is not None:
            self.network.load_state_dict(best[0])
            self.metrics = {
                measure: round(best_loss, 6),
                "best_epoch": best[1],
                "epochs": epochs_run,
            }
        self._precompute()

    # -- blocks ----------------------------------------------------------------------------
    def _blocks(self, train, items, users, show_progress) -> list[Block]:
        """The input blocks; the rated-items block holds only the training part's rows."""
        s = self.settings
        blocks: list[Block] = []
        if s.ids:
            blocks.append(Block("user_ids", USER, train.n_users, rows=_identity(train.n_users)))
            blocks.append(Block("item_ids", ITEM, train.n_items, rows=_identity(train.n_items)))
        for side, table, ids in ((USER, users, self.user_ids), (ITEM, items, self.item_ids)):
            if table is None or not s.features:
                continue
            vocabulary = FeatureVocabulary.fit(table, min_count=s.min_feature_count)
            encoded = vocabulary.encode(table, ids)
            if encoded.matrix.shape[1]:
                blocks.append(
                    Block(f"{side}_features", side, encoded.matrix.shape[1], rows=encoded.matrix)
                )
        if s.implicit:
            blocks.append(Block("implicit", USER, train.n_items, rows=_implicit_rows(train.seen())))
        if items is not None and s.text_model:
            fields = s.text_fields or items.text_fields
            fields = fields or [name for name, kind in items.kinds.items() if kind == "text"]
            if fields:
                texts = [items.text(raw, fields) for raw in self.item_ids.ids]
                vectors = _centred(encode_texts(texts, s.text_model, show_progress=show_progress))
                self.text_fields = fields
                blocks.append(Block("text", ITEM, vectors.shape[1], dense=vectors))
        if not blocks:
            raise InputError("the FM has no input blocks; turn on ids, features or implicit.")
        return blocks

    def _zero_untrained(self, train) -> None:
        """Ids with no training rows keep a zero vector: they are scored by features alone."""
        untrained = torch.from_numpy(np.bincount(train.items, minlength=train.n_items) == 0)
        inactive = torch.from_numpy(np.bincount(train.users, minlength=train.n_users) == 0)
        with torch.no_grad():
            for name, rows in (("item_ids", untrained), ("implicit", untrained)):
                if name in self.network.factors:
                    self.network.factors[name][rows] = 0.0
            if "user_ids" in self.network.factors:
                self.network.factors["user_ids"][inactive] = 0.0

    # -- training --------------------------------------------------------------------------
    def _pair_scores(self, users: torch.Tensor, items: torch.Tensor):
        unique_users, user_rows = torch.unique(users, return_inverse=True)
        unique_items, item_rows = torch.unique(items, return_inverse=True)
        s_u, c_u, pen_u = self.network.side(USER, unique_users)
        s_i, c_i, pen_i = self.network.side(ITEM, unique_items)
        scores = (
            self.network.bias
            + c_u[user_rows]
            + c_i[item_rows]
            + (s_u[user_rows] * s_i[item_rows]).sum(1)
        )
        penalties = {name: value[user_rows] for name, value in pen_u.items()}
        penalties.update({name: value[item_rows] for name, value in pen_i.items()})
        return scores, penalties

    def _loss(self, train, batch: np.ndarray, rng: np.random.Generator):
        """(loss, per-block penalty terms of the rows the batch touched)."""
        users = torch.from_numpy(train.users[batch])
        items = torch.from_numpy(train.items[batch])
        scores, penalties = self._pair_scores(users, items)
        if self.predicts_ratings:
            target = torch.from_numpy(train.values[batch])
            return ((scores - target) ** 2).mean(), penalties
        count = self.settings.negatives
        negatives = torch.from_numpy(self._negatives(rng, len(batch) * count))
        negative, negative_penalties = self._pair_scores(users.repeat(count), negatives)
        for name in ("item_ids", "item_features", "text"):
            if name in negative_penalties:
                penalties[name] = torch.cat([penalties[name], negative_penalties[name]])
        margin = scores.repeat(count) - negative
        return -nn.functional.logsigmoid(margin).mean(), penalties

    def _penalty(self, penalties: dict[str, torch.Tensor]) -> torch.Tensor:
        """L2 per block on the rows a batch touched, each weighted by its xⱼ² (SGD's form)."""
        total = torch.zeros(())
        for name, values in penalties.items():
            total = total + self._lambda(name) * values.mean()
        return total

    def _lambda(self, block: str) -> float:
        chosen = {**DEFAULT_BLOCK_REGULARIZATION, **self.settings.block_regularization}
        return chosen.get(block, self.settings.regularization)

    def _negatives(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return self.negative_pool[rng.integers(0, len(self.negative_pool), count)]

    @torch.no_grad()
    def _validation_loss(self, check, negatives: np.ndarray, weights: np.ndarray | None) -> float:
        self.network.eval()
        users = torch.from_numpy(check.users)
        scores, _ = self._pair_scores(users, torch.from_numpy(check.items))
        if self.predicts_ratings:
            clipped = scores.clamp(*self.rating_range)
            target = torch.from_numpy(check.values)
            squared = (clipped - target) ** 2
            if weights is not None:
                # IPS-weighted: the error on every pair, not only the rated ones.
                return float(np.sqrt(np.average(squared.numpy(), weights=weights)))
            return float(torch.sqrt(squared.mean()))
        negative, _ = self._pair_scores(users, torch.from_numpy(negatives))
        return float(-nn.functional.logsigmoid(scores - negative).mean())

    # -- serving ---------------------------------------------------------------------------
    @torch.no_grad()
    def _precompute(self) -> None:
        """Every user's and item's (s, c) part, so scores are one matrix product."""
        self.network.eval()
        parts = {}
        for side, count in ((USER, len(self.user_ids)), (ITEM, len(self.item_ids))):
            vectors, constants = [], []
            for start in range(0, count, ITEM_CHUNK):
                rows = torch.arange(start, min(count, start + ITEM_CHUNK))
                s_part, c_part, _ = self.network.side(side, rows)
                vectors.append(s_part.numpy())
                constants.append(c_part.numpy())
            parts[side] = (np.concatenate(vectors), np.concatenate(constants))
        self.user_vectors, self.user_constants = parts[USER]
        self.item_vectors_, self.item_constants = parts[ITEM]
        self.bias = float(self.network.bias)
        if "implicit" in self.network.factors:
            self.implicit_factors = self.network.factors["implicit"].detach().numpy().copy()
            self.implicit_weights = self.network.weights["implicit"].detach().numpy().copy()
        else:
            self.implicit_factors = self.implicit_weights = None
        self.described_users = np.diff(self.seen.indptr) > 0
        self.described_items = self.trained_items.copy()
        for block in self.network.blocks:
            described = self.described_users if block.side == USER else self.described_items
            if block.rows is None:
                described |= np.abs(block.dense).sum(1) > 0
            elif not block.name.endswith("_ids"):
                described |= np.diff(block.rows.indptr) > 0

    def scorable_items(self) -> np.ndarray:
        """Items with interactions, side features or a text: the FM reads cold items too."""
        return self.described_items

    def can_score_user(self, user: int) -> bool:
        """A user with interactions, or with side features only (a cold user the FM reads)."""
        return bool(self.described_users[user])

    def score_users(self, users: np.ndarray) -> np.ndarray:
        return (
            self.bias
            + self.user_constants[users, None]
            + self.item_constants[None, :]
            + self.user_vectors[users] @ self.item_vectors_.T
        )

    def predict_indices(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        known_user, known_item = users >= 0, items >= 0
        u, i = np.where(known_user, users, 0), np.where(known_item, items, 0)
        s_u = np.where(known_user[:, None], self.user_vectors[u], 0.0)
        c_u = np.where(known_user, self.user_constants[u], 0.0)
        s_i = np.where(known_item[:, None], self.item_vectors_[i], 0.0)
        c_i = np.where(known_item, self.item_constants[i], 0.0)
        estimate = self.bias + c_u + c_i + np.einsum("nf,nf->n", s_u, s_i)
        if self.predicts_ratings:
            estimate = np.clip(estimate, *self.rating_range)
        return estimate.astype(np.float32)

    def score_history(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray | None:
        """A new user is their rated-items block alone (None without the implicit block)."""
        if self.implicit_factors is None:
            return None
        weight = 1.0 / np.sqrt(len(items))
        v, w = self.implicit_factors[items], self.implicit_weights[items]
        s_u = weight * v.sum(0)
        c_u = weight * w.sum() + 0.5 * (s_u @ s_u - weight * weight * (v * v).sum())
        return self.bias + c_u + self.item_constants + self.item_vectors_ @ s_u

    def item_vectors(self) -> np.ndarray:
        return self.item_vectors_

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "user_vectors": self.user_vectors,
            "user_constants": self.user_constants,
            "described_users": self.described_users.astype(np.uint8),
            "described_items": self.described_items.astype(np.uint8),
            "item_vectors": self.item_vectors_,
            "item_constants": self.item_constants,
        }
        if self.implicit_factors is not None:
            arrays["implicit_factors"] = self.implicit_factors
            arrays["implicit_weights"] = self.implicit_weights
        return arrays

    def _state(self) -> dict:
        return {
            "bias": self.bias,
            "blocks": self.block_names,
            "text_fields": getattr(self, "text_fields", []),
            "rating_range": list(self.rating_range),
        }

    def _restore(self, arrays, state) -> None:
        self.user_vectors = arrays["user_vectors"]
        self.user_constants = arrays["user_constants"]
        self.described_users = arrays["described_users"].astype(bool)
        self.described_items = arrays["described_items"].astype(bool)
        self.item_vectors_ = arrays["item_vectors"]
        self.item_constants = arrays["item_constants"]
        self.implicit_factors = arrays.get("implicit_factors")
        self.implicit_weights = arrays.get("implicit_weights")
        self.bias = state["bias"]
        self.block_names = state["blocks"]
        self.text_fields = state["text_fields"]
        self.rating_range = tuple(state["rating_range"])


def _centred(vectors: np.ndarray) -> np.ndarray:
    """Text vectors less their mean, re-normalised: sentence embeddings share a large common
    direction, which would act as one more bias and drown what tells items apart."""
    present = np.linalg.norm(vectors, axis=1) > 0
    centred = vectors - vectors[present].mean(0) if present.any() else vectors
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return np.where(present[:, None], centred / np.maximum(norms, np.finfo(np.float32).tiny), 0.0)


def _identity(count: int) -> sparse.csr_matrix:
    return sparse.identity(count, dtype=np.float32, format="csr")


def _implicit_rows(seen: sparse.csr_matrix) -> sparse.csr_matrix:
    """Each user's rated items, weighted 1/√n (SVD++'s normalisation)."""
    rows = seen.sign().astype(np.float32).tocsr()
    lengths = np.diff(rows.indptr)
    rows.data = np.repeat(1.0 / np.sqrt(np.maximum(lengths, 1)), lengths).astype(np.float32)
    return rows


def _batches(order: np.ndarray, size: int):
    for start in range(0, len(order), size):
        yield order[start : start + size]
