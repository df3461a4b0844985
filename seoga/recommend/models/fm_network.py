"""The factorization machine's parameters and arithmetic, over blocks of one side's features.

Each block (user ids, item ids, side features, rated items, a text vector) belongs to the user
or the item side and holds one (V, w) pair. For a side's entities the network returns

    s = Σⱼ vⱼxⱼ,   c = Σⱼ wⱼxⱼ + ½(|s|² − Σⱼ vⱼ²xⱼ²)

and the FM of a (user, item) pair is w₀ + c_u + c_i + s_u · s_i (see `seoga.recommend.models.fm`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import sparse
from torch import nn

USER, ITEM = "user", "item"
INIT_STD = 0.01


@dataclass
class Block:
    """One block of the FM input over one side's entities: sparse rows or a dense matrix."""

    name: str
    side: str
    width: int
    rows: sparse.csr_matrix | None = None  # entities × width (sparse blocks)
    dense: np.ndarray | None = None  # entities × width (the text block)


class SparseRows:
    """A CSR matrix on torch, from which a batch of rows is gathered for an EmbeddingBag."""

    def __init__(self, matrix: sparse.csr_matrix) -> None:
        self.indptr = torch.from_numpy(matrix.indptr.astype(np.int64))
        self.indices = torch.from_numpy(matrix.indices.astype(np.int64))
        self.values = torch.from_numpy(matrix.data.astype(np.float32))

    def gather(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        offsets = torch.cumsum(lengths, 0) - lengths
        total = int(lengths.sum())
        within = torch.arange(total) - torch.repeat_interleave(offsets, lengths, output_size=total)
        positions = within + torch.repeat_interleave(starts, lengths, output_size=total)
        return self.indices[positions], offsets, self.values[positions]


class FMNetwork(nn.Module):
    """The FM's parameters, one (V, w) pair per block, and the per-side computation."""

    def __init__(self, blocks: list[Block], factors: int, generator: torch.Generator) -> None:
        super().__init__()
        self.blocks = blocks
        self.bias = nn.Parameter(torch.zeros(1))
        self.factors = nn.ParameterDict()
        self.weights = nn.ParameterDict()
        self.tables: dict[str, SparseRows] = {}
        self.denses: dict[str, torch.Tensor] = {}
        for block in blocks:
            init = torch.randn(block.width, factors, generator=generator) * INIT_STD
            self.factors[block.name] = nn.Parameter(init)
            self.weights[block.name] = nn.Parameter(torch.zeros(block.width))
            if block.rows is not None:
                self.tables[block.name] = SparseRows(block.rows)
            else:
                self.denses[block.name] = torch.from_numpy(block.dense.astype(np.float32))

    def side(
        self, side: str, rows: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(s, c, penalty_rows) of the side's entities `rows`: see the module docstring."""
        total = torch.zeros(len(rows), self._k)
        squares = torch.zeros_like(total)
        linear = torch.zeros(len(rows))
        penalties = {}
        for block in self.blocks:
            if block.side != side:
                continue
            v, w = self.factors[block.name], self.weights[block.name]
            if block.rows is not None:
                # Two bags per block, not four: the columns weighted by x (v, w) and those
                # weighted by x² (v², the row's penalty) each gather the rows once; the gradient
                # of a bag sorts its indices, which is most of a training step.
                indices, offsets, values = self.tables[block.name].gather(rows)
                squared = v * v
                by_x = nn.functional.embedding_bag(
                    indices,
                    torch.cat([v, w[:, None]], 1),
                    offsets,
                    mode="sum",
                    per_sample_weights=values,
                )
                by_x2 = nn.functional.embedding_bag(
                    indices,
                    torch.cat([squared, (squared.sum(1) + w * w)[:, None]], 1),
                    offsets,
                    mode="sum",
                    per_sample_weights=values * values,
                )
                total = total + by_x[:, :-1]
                linear = linear + by_x[:, -1]
                squares = squares + by_x2[:, :-1]
                penalties[block.name] = by_x2[:, -1]
            else:
                # A dense block is one field: its latent vector is a learned projection of the
                # vector, with no interactions between its own dimensions.
                x = self.denses[block.name][rows]
                projected = x @ v
                total = total + projected
                squares = squares + projected * projected
                linear = linear + x @ w
                penalties[block.name] = (x * x) @ ((v * v).sum(1) + w * w)
        constant = linear + 0.5 * ((total * total).sum(1) - squares.sum(1))
        return total, constant, penalties

    @property
    def _k(self) -> int:
        return next(iter(self.factors.values())).shape[1]
