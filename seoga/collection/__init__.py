"""A collection: one folder holding documents, their sparse and dense indexes, and a manifest.

`collection` opens and creates one (`Collection`): what it has loaded is its `state`, which
three parts are given: `searching` searches it (BM25, bi-encoders, fusion, snippets), `writing`
changes its documents and `configuring` its models and settings, each change a new generation
that `committing` builds (`reports` says what a write did).
"""

from seoga.collection.collection import Collection
from seoga.collection.reports import IndexReport
from seoga.collection.searching import FUSION_DEPTH
from seoga.text.documents import passage_text

# IndexReport for the public API, FUSION_DEPTH for the benchmarks and passage_text for the
# tests; seoga's own modules import these from their owners.
__all__ = ["FUSION_DEPTH", "Collection", "IndexReport", "passage_text"]
