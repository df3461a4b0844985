"""Ids as the server shows them: files under the label of the folder they were indexed from."""

from pathlib import Path

from seoga.collection import Collection
from seoga.index.manifest import read_manifest
from seoga.index.roots import ROOTS_KEY, Root, derived_roots, with_roots
from seoga.serve.public import PublicIds, without_paths
from seoga.settings import CollectionSettings

BM25_ONLY = CollectionSettings(embedder="none", extra_embedders=[])


def test_roots_keep_their_labels_and_names_that_clash_get_a_number():
    first = with_roots([], [Path("/srv/a/docs")])
    second = with_roots(first, [Path("/srv/b/docs"), Path("/srv/a/docs/sub"), Path("/srv/x.hwp")])
    assert second == [
        {"path": "/srv/a/docs", "label": "docs"},
        {"path": "/srv/b/docs", "label": "docs-2"},
        {"path": "/srv/x.hwp", "label": "x.hwp"},
    ]
    wider = with_roots(second, [Path("/srv/a")])
    assert wider[:3] == second, "a later root never renames the documents of an earlier one"


def test_public_and_internal_ids_map_both_ways():
    ids = PublicIds(
        [Root("/srv/a/docs", "docs"), Root("/srv/b/docs", "docs-2"), Root("/srv/x.xlsx", "x.xlsx")],
        Path("/srv/kb"),
    )
    cases = {
        "/srv/a/docs/law/임대차.hwp": "docs/law/임대차.hwp",
        "/srv/b/docs/n.txt": "docs-2/n.txt",
        "/srv/x.xlsx#Sheet1": "x.xlsx#Sheet1",
        "/srv/a/docsmore/n.txt": "/srv/a/docsmore/n.txt",  # not under a root: as it is
        "api-note": "api-note",
    }
    for stored, shown in cases.items():
        assert ids.public(stored) == shown
        assert ids.internal(shown) == stored
    assert ids.label_of("docs-2/n.txt") == "docs-2" and ids.label_of("notes/1") is None
    message = "no file /srv/a/docs/x.txt in the collection /srv/kb"
    assert ids.scrub(message) == "no file docs/x.txt in the collection kb"


def test_a_collection_records_its_roots_and_an_older_one_derives_them(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("주택 임대차 계약", encoding="utf-8")
    collection = Collection.create(tmp_path / "kb", BM25_ONLY)
    collection.add([docs])
    manifest = read_manifest(tmp_path / "kb")
    assert manifest[ROOTS_KEY] == [{"path": str(docs.resolve()), "label": "docs"}]
    del manifest[ROOTS_KEY]  # as a collection indexed before roots were recorded
    files = list(collection.store.file_hashes())
    assert derived_roots(files) == [docs.resolve()]
    older = PublicIds.of(manifest, lambda: files, tmp_path / "kb")
    assert older.public(str(docs.resolve() / "a.txt")) == "docs/a.txt"


def test_settings_shown_name_model_folders_without_their_paths():
    settings = {"embedder": "/home/me/models/e5", "extra": ["intfloat/e5", "/opt/m/x"], "k": 1}
    assert without_paths(settings) == {"embedder": "e5", "extra": ["intfloat/e5", "x"], "k": 1}
