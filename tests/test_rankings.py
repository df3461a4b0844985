"""seoga.search.rankings: chunk hits → documents, and how search reads them."""

import numpy as np

from seoga.collection import Collection
from seoga.search.rankings import ChunkDocuments, Ranking, Retrieval
from seoga.settings import CollectionSettings
from seoga.text.documents import Document

CHUNK_DOCUMENTS = {10: "a", 11: "a", 12: "b", 14: "c"}


def test_collapse_keeps_each_documents_best_chunk_in_order():
    documents = ChunkDocuments.from_mapping(CHUNK_DOCUMENTS)
    ranking = Ranking.collapse(
        np.array([11, 12, 10, 14]), np.array([4.0, 3.0, 2.0, 1.0]), documents
    )
    assert documents.ids(ranking.documents) == ["a", "b", "c"]
    assert ranking.chunks.tolist() == [11, 12, 14]
    assert ranking.as_mapping(documents) == {"a": 4.0, "b": 3.0, "c": 1.0}


def test_details_take_the_snippet_from_the_first_retriever_that_found_the_document():
    documents = ChunkDocuments.from_mapping(CHUNK_DOCUMENTS)
    retrieval = Retrieval(mode="hybrid", terms=[], documents=documents)
    retrieval.add("bm25", (np.array([12]), np.array([5.0])))
    retrieval.add("dense", (np.array([10, 14, 11]), np.array([0.9, 0.8, 0.7])))
    assert retrieval.rankings == {"bm25": {"b": 5.0}, "dense": {"a": 0.9, "c": 0.8}}
    numbers = np.array([documents.doc_ids.index(doc) for doc in ("b", "a")])
    assert retrieval.details(numbers) == [(12, {"bm25": 5.0}), (10, {"dense": 0.9})]


def test_a_single_retriever_goes_deeper_when_one_document_fills_its_list(tmp_path):
    """k=2 starts 6 chunks deep; the long document's chunks fill those, so the search must go
    deeper to find a second document, and return what a 1,000-deep list would."""
    long_text = " ".join(f"Alpha alpha section {n} of the long report." for n in range(40))
    collection = Collection.create(
        tmp_path / "kb", CollectionSettings(embedder=None, chunk_tokens=16, chunk_overlap=0)
    )
    collection.add_documents(
        [
            Document("long", long_text),
            Document("short", "A single alpha among many other words in this short note."),
        ]
    )
    deep = collection.retrieve("alpha", mode="bm25", depth=1000)
    assert deep.chunk_hits["bm25"] > 6 and list(deep.rankings["bm25"]) == ["long", "short"]
    assert list(collection.retrieve("alpha", mode="bm25", depth=6).rankings["bm25"]) == ["long"]
    found = collection.search("alpha", k=2, mode="bm25")
    assert [result.doc_id for result in found] == ["long", "short"]
    assert [result.score for result in found] == list(deep.rankings["bm25"].values())


def test_an_empty_collection_finds_nothing(tmp_path):
    collection = Collection.create(tmp_path / "kb", CollectionSettings(embedder=None))
    assert collection.search("anything") == []
    assert collection.combine(collection.retrieve("anything")) == {}
