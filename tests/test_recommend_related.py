"""Related documents: content neighbours of a collection, blended with what readers also read."""

import json

import numpy as np
import pytest

from seoga import Collection, CollectionSettings
from seoga.errors import InputError
from seoga.evaluate.related import evaluate_related
from seoga.recommend import make_recommender, split_interactions
from seoga.recommend.data.interactions import IMPLICIT, IdMap, Interactions
from seoga.recommend.related import RelatedDocuments, readers_model
from seoga.text.documents import Document

WORDS = {
    "cat": "cats kitten purr mice barn whiskers fur nap",
    "bank": "bank interest rates inflation loan credit deposit quarter",
    "rice": "rice paddy harvest farmers monsoon grain field seedlings",
    "ship": "ship harbour sail cargo anchor crew voyage port",
}
PER_TOPIC = 6


def topic_documents() -> list[Document]:
    """Six documents per topic, each a seeded shuffle of its topic's words; `cat-0` has a near
    duplicate, `cat-0-copy` (one word more)."""
    rng = np.random.default_rng(0)
    documents = []
    for topic, words in WORDS.items():
        vocabulary = words.split()
        for n in range(PER_TOPIC):
            text = " ".join(rng.choice(vocabulary, 12)) + "."
            documents.append(Document(f"{topic}-{n}", text, title=f"{topic} {n}"))
    documents.append(Document("cat-0-copy", documents[0].text + " again", title="cat 0 copy"))
    return documents


@pytest.fixture
def topics(tiny_model, tmp_path) -> Collection:
    collection = Collection.create(tmp_path / "kb", CollectionSettings(embedder=str(tiny_model)))
    collection.add_documents(topic_documents())
    return Collection.open(tmp_path / "kb")


def paired_readers(n_users: int = 120, seed: int = 0) -> Interactions:
    """Every reader of `cat-n` also reads `ship-n` (and one more cat or ship document at random):
    a link between documents that their words do not show; nobody reads bank or rice."""
    rng = np.random.default_rng(seed)
    doc_ids = [document.doc_id for document in topic_documents()]
    read = [doc_id for doc_id in doc_ids if doc_id.startswith(("cat", "ship"))]
    items, users = IdMap.of(doc_ids), IdMap.of(f"u{u}" for u in range(n_users))
    rows = []
    for user in range(n_users):
        n = user % PER_TOPIC
        for doc in (f"cat-{n}", f"ship-{n}", str(rng.choice(read))):
            rows.append((user, items.get(doc)))
    user_rows, item_rows = (np.asarray(column) for column in zip(*rows, strict=True))
    return Interactions(
        user_rows, item_rows, np.ones(len(rows), np.float32), users, items, IMPLICIT, None, "made"
    )


def test_near_duplicates_rank_first_and_scores_are_symmetric(topics):
    related = RelatedDocuments(topics)
    found = related.related("cat-0", k=5)
    assert found[0].doc_id == "cat-0-copy" and found[0].title == "cat 0 copy"
    assert "cat-0" not in [hit.doc_id for hit in found] and len(found) == 5
    assert [hit.score for hit in found] == sorted((hit.score for hit in found), reverse=True)
    back = {hit.doc_id: hit.score for hit in related.related("cat-0-copy", k=5)}
    assert back["cat-0"] == pytest.approx(found[0].score, abs=1e-9)
    assert set(found[0].scores) == {"content"}
    with pytest.raises(InputError, match="not in"):
        related.related("nope")
    with pytest.raises(InputError, match="k must"):
        related.related("cat-0", k=0)


def test_a_collection_without_vectors_is_a_clear_error(tmp_path):
    bare = Collection.create(tmp_path / "bare", CollectionSettings(embedder=None))
    with pytest.raises(InputError, match="no dense index"):
        RelatedDocuments(bare)


def test_readers_move_what_they_read_together_up_by_the_blend(topics):
    readers = make_recommender("itemknn").fit(paired_readers())
    content = [hit.doc_id for hit in RelatedDocuments(topics, readers, blend=0.0).related("cat-2")]
    assert "ship-2" not in content[:1]
    by_readers = RelatedDocuments(topics, readers, blend=1.0).related("cat-2", k=3)
    assert by_readers[0].doc_id == "ship-2" and set(by_readers[0].scores) == {"content", "readers"}
    blended = RelatedDocuments(topics, readers, blend=0.7).related("cat-2", k=3)
    assert blended[0].doc_id == "ship-2"
    # A document the readers never saw still gets its content neighbours.
    unseen = RelatedDocuments(topics, readers, blend=1.0).related("bank-1", k=3)
    assert len(unseen) == 3 and all(set(hit.scores) == {"content"} for hit in unseen)


def test_the_readers_model_scores_items_by_the_cosine_of_their_columns():
    log = paired_readers(n_users=30)
    model = readers_model(neighbours=50).fit(log)
    matrix = log.matrix().toarray()
    index = model.item_ids.get("cat-1")
    columns = matrix / np.maximum(np.linalg.norm(matrix, axis=0), 1e-12)
    expected = columns.T @ columns[:, index]
    expected[index] = 0.0
    found = model.item_similarities(index)
    assert np.allclose(np.where(np.isfinite(found), found, 0.0), expected, atol=1e-5)
    assert model.similar_items("cat-1", k=1)[0].item == "ship-1"


def test_users_split_holds_out_whole_readers():
    log = paired_readers()
    split = split_interactions(log, "users:0.25", seed=1)
    assert not set(split.train.users.tolist()) & set(split.test.users.tolist())
    assert 0.1 < len(set(split.test.users.tolist())) / log.n_users < 0.4


def test_evaluation_finds_the_readers_worth_a_weight(topics):
    split = split_interactions(paired_readers(), "users:0.3", seed=0)
    metrics = evaluate_related(topics, split, blends=(0.0, 0.5, 1.0), k=3)
    table = metrics["blends"]
    assert list(table) == ["0", "0.5", "1"] and metrics["readers"] > 20
    assert table["1"]["hr@3"] > table["0"]["hr@3"] + 0.3, table
    assert metrics["best_blend"] > 0 and metrics["ms_per_lookup"]["0"] > 0


def test_cli_related_search_and_eval(topics, tmp_path, main_run):
    log = paired_readers()
    clicks = tmp_path / "clicks.csv"
    clicks.write_text(
        "user,doc\n"
        + "".join(
            f"{u},{d}\n"
            for u, d in zip(log.user_ids.raw(log.users), log.item_ids.raw(log.items), strict=True)
        ),
        encoding="utf-8",
    )
    kb = str(topics.root)
    shown = main_run("recommend", "related", "cat-2", "-c", kb, "--interactions", str(clicks),
                     "--blend", "1", "--json")  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)[0]["doc_id"] == "ship-2"
    found = main_run("search", "kitten purr", "-c", kb, "-k", "2", "--related", "2", "--json")
    assert found.returncode == 0, found.stderr
    assert all(len(result["related"]) == 2 for result in json.loads(found.stdout))
    out = tmp_path / "related.json"
    scored = main_run("eval", "related", str(clicks), "-c", kb, "--blends", "0,1", "-k", "3",
                      "--out", str(out))  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    assert json.loads(out.read_text())["best_blend"] == 1.0 and "best blend" in scored.stdout
    missing = main_run("recommend", "related", "nope", "-c", kb)
    assert missing.returncode == 2 and "not in" in missing.stderr
