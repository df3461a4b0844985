import json

import pytest

from seoga.errors import CollectionError
from seoga.index.generations import (
    MANIFEST_NAME,
    GenerationWriter,
    remove_unreferenced,
    write_json_atomic,
    writer_lock,
)


def test_commit_swaps_manifest_and_removes_the_old_generation(tmp_path):
    first = GenerationWriter(tmp_path, None)
    (first.path / "data").write_text("one")
    first.commit({"format": 1})
    assert json.loads((tmp_path / MANIFEST_NAME).read_text())["generation"] == "gen-000001"

    second = GenerationWriter(tmp_path, "gen-000001")
    (second.path / "data").write_text("two")
    second.commit({"format": 1})
    assert (tmp_path / "gen-000002" / "data").read_text() == "two"
    assert not (tmp_path / "gen-000001").exists()


def test_an_aborted_or_killed_writer_leaves_the_live_generation(tmp_path):
    live = GenerationWriter(tmp_path, None)
    (live.path / "data").write_text("live")
    live.commit({"format": 1})
    crashed = GenerationWriter(tmp_path, "gen-000001")
    (crashed.path / "data").write_text("half")
    # A killed process never reaches commit: the next writer cleans up what it left.
    remove_unreferenced(tmp_path, "gen-000001")
    assert not crashed.path.exists()
    assert (tmp_path / "gen-000001" / "data").read_text() == "live"


def test_atomic_json_write_replaces_whole_file(tmp_path):
    target = tmp_path / "m.json"
    write_json_atomic(target, {"a": 1})
    write_json_atomic(target, {"b": 2})
    assert json.loads(target.read_text()) == {"b": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_second_writer_is_refused_with_a_clear_message(tmp_path):
    with (
        writer_lock(tmp_path),
        pytest.raises(CollectionError, match="another seoga process"),
        writer_lock(tmp_path),
    ):
        pass
