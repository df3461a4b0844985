"""A collection: one folder holding documents, their sparse and dense indexes, and a manifest.

`state` opens and holds it (`Collection`), `writing` changes it (indexing files and documents,
each write a new generation that `committing` builds; `reports` says what a write did),
`configuring` changes its models and settings, `searching` searches it (BM25, bi-encoders,
fusion, snippets).
"""

from seoga.collection.reports import IndexReport
from seoga.collection.searching import FUSION_DEPTH
from seoga.collection.state import Collection
from seoga.text.documents import passage_text

# IndexReport for the public API, FUSION_DEPTH for the benchmarks and passage_text for the
# tests; seoga's own modules import these from their owners.
__all__ = ["FUSION_DEPTH", "Collection", "IndexReport", "passage_text"]
