"""Side tables as FM inputs: a vocabulary fixed at fit time, and the encoded feature block.

Categorical and multi-valued fields become one column per kept value (weights 1/sqrt(count) per
row), numeric fields one standardised column; text fields are joined for the FM's text block.
The vocabulary is saved with the model so new ids encode the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from seoga.recommend.data.features import CATEGORICAL, MULTI, NUMERIC, FeatureTable
from seoga.recommend.data.interactions import IdMap


@dataclass
class EncodedFeatures:
    """A side table as FM inputs: a sparse (entities × features) block and the text strings."""

    matrix: sparse.csr_matrix  # one row per entity of the id map, weights per feature
    names: list[str]  # "field=value" or the numeric field's name, per column
    texts: list[str]  # per entity ("" when it has none)


@dataclass
class FeatureVocabulary:
    """Which features a side table yields, fixed at fit time so new ids encode the same way."""

    kinds: dict[str, str]
    vocab: dict[str, list[str]]  # categorical / multi field → values kept
    scales: dict[str, tuple[float, float]]  # numeric field → (mean, sd)
    text_fields: list[str]

    @classmethod
    def fit(
        cls, table: FeatureTable, text_fields: Sequence[str] = (), min_count: int = 1
    ) -> FeatureVocabulary:
        vocab, scales = {}, {}
        for name, kind in table.kinds.items():
            per_id = table.values[name]
            if kind in (CATEGORICAL, MULTI):
                counts = Counter(
                    value
                    for found in per_id.values()
                    for value in (set(found) if isinstance(found, list) else [found])
                )
                vocab[name] = sorted(value for value, count in counts.items() if count >= min_count)
            elif kind == NUMERIC:
                numbers = np.asarray(list(per_id.values()), dtype=np.float64)
                scale = float(numbers.std()) or 1.0
                scales[name] = (float(numbers.mean()), scale)
        return cls(dict(table.kinds), vocab, scales, list(text_fields))

    @property
    def names(self) -> list[str]:
        names = []
        for name, kind in self.kinds.items():
            if kind in (CATEGORICAL, MULTI):
                names.extend(f"{name}={value}" for value in self.vocab[name])
            elif kind == NUMERIC:
                names.append(name)
        return names

    def encode(self, table: FeatureTable, ids: IdMap) -> EncodedFeatures:
        """Rows for every id of `ids` (ids the table lacks get an empty row)."""
        columns: dict[str, int] = {name: column for column, name in enumerate(self.names)}
        rows, cols, data = [], [], []
        for name, kind in self.kinds.items():
            per_id = table.values.get(name, {})
            for raw_id, value in per_id.items():
                row = ids.get(raw_id)
                if row is None:
                    continue
                if kind == NUMERIC:
                    mean, scale = self.scales[name]
                    rows.append(row)
                    cols.append(columns[name])
                    data.append((float(value) - mean) / scale)
                elif kind in (CATEGORICAL, MULTI):
                    keys = dict.fromkeys(f"{name}={v}" for v in _listed(value))
                    found = [columns[key] for key in keys if key in columns]
                    weight = 1.0 / np.sqrt(len(found)) if found else 0.0
                    rows.extend([row] * len(found))
                    cols.extend(found)
                    data.extend([weight] * len(found))
        matrix = sparse.csr_matrix(
            (np.asarray(data, dtype=np.float32), (rows, cols)),
            shape=(len(ids), len(columns)),
            dtype=np.float32,
        )
        texts = [table.text(raw_id, self.text_fields) for raw_id in ids.ids]
        return EncodedFeatures(matrix, self.names, texts)

    def to_json(self) -> dict:
        return {
            "kinds": self.kinds,
            "vocab": self.vocab,
            "scales": {name: list(scale) for name, scale in self.scales.items()},
            "text_fields": self.text_fields,
        }

    @classmethod
    def from_json(cls, payload: dict) -> FeatureVocabulary:
        return cls(
            payload["kinds"],
            payload["vocab"],
            {name: (scale[0], scale[1]) for name, scale in payload["scales"].items()},
            payload["text_fields"],
        )


def _listed(value: object) -> list[str]:
    return value if isinstance(value, list) else [str(value)]
