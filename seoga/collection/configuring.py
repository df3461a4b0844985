"""Changing a collection's models and settings: re-encoding it with another bi-encoder (a new
generation) or storing how searches fuse the retrievers (the manifest alone)."""

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from seoga.atomic import write_json_atomic
from seoga.collection.committing import Committer, NewChunks
from seoga.index.dense import DenseSlot
from seoga.index.generations import MANIFEST_NAME, GenerationWriter
from seoga.index.manifest import read_manifest
from seoga.index.sparse import SparseIndex
from seoga.index.store import STORE_NAME, Store
from seoga.search.fusion import DENSE, FusionSettings
from seoga.settings import CollectionSettings
from seoga.text.documents import passage_text
from seoga.text.scripts import can_read


class Configurer:
    """Another main bi-encoder, other fusion settings for a collection."""

    def __init__(self, committer: Committer) -> None:
        self.committer = committer
        self.state = committer.state

    def change_embedder(self, name: str, *, show_progress: bool = False) -> int:
        """Re-encode every chunk with another main bi-encoder (say, one trained on this
        collection) in a new generation; chunks, BM25 and extra bi-encoders stay. Returns the
        number of chunks encoded."""
        from seoga.models.embedders import load_embedder

        embedder = load_embedder(name)
        settings = replace(self.state.settings, embedder=name)
        with self.committer.writing():
            writer = GenerationWriter(self.state.root, self.state.manifest.get("generation"))
            try:
                live_store = self.state.generation / STORE_NAME if self.state.generation else None
                store = Store.copy(live_store, writer.path / STORE_NAME)
                stored = list(store.iter_chunks())
                bm25 = self.state.settings.bm25
                SparseIndex.build(
                    store.iter_chunk_tokens(), method=bm25.method, k1=bm25.k1, b=bm25.b
                ).save(writer.path)
                store.close()
                stored = [c for c in stored if can_read(embedder.languages, c.text)]
                texts = [passage_text(chunk.title, chunk.text, chunk.section) for chunk in stored]
                chunk_ids = np.asarray([chunk.chunk_id for chunk in stored], dtype=np.int64)
                vectors = (
                    embedder.encode_passages(texts, show_progress=show_progress)
                    if texts
                    else np.empty((0, embedder.dim), dtype=np.float32)
                )
                self.committer.save_dense(
                    writer.path, DenseSlot(DENSE, "", embedder), chunk_ids, vectors, None, set()
                )
                for slot in self.state.dense_slots[1:]:
                    previous = self.state.dense_indexes[slot.key] if self.state.generation else None
                    self.committer.save_dense(
                        writer.path, slot, *NewChunks.nothing(), previous, set()
                    )
                manifest = {
                    **self.state.manifest,
                    "updated": datetime.now(UTC).isoformat(timespec="seconds"),
                    "settings": settings.to_dict(),
                    "embedder": embedder.spec(),
                }
                writer.commit(manifest)
            except BaseException:
                writer.abort()
                raise
        self.state.reload({**manifest, "generation": writer.name})
        self.state.use_embedder(settings, embedder)
        return len(chunk_ids)

    def set_fusion(self, fusion: FusionSettings) -> None:
        """Store how searches fuse the retrievers (say, weights `seoga tune` chose). Fusion
        applies at search time, so nothing is re-indexed: only the manifest changes."""
        with self.committer.writing():
            live = read_manifest(self.state.root)
            settings = replace(CollectionSettings.from_dict(live["settings"]), fusion=fusion)
            manifest = {
                **live,
                "updated": datetime.now(UTC).isoformat(timespec="seconds"),
                "settings": settings.to_dict(),
            }
            write_json_atomic(self.state.root / MANIFEST_NAME, manifest)
        self.state.manifest = manifest
        self.state.settings = settings
