"""The teacher cache encodes each text once, across calls and across runs."""

import numpy as np

from seoga.distill.cache import TeacherCache


def test_teacher_vectors_are_computed_once(tmp_path):
    calls: list[list[str]] = []

    def encode(texts):
        calls.append(texts)
        return np.array([[len(text), text.count("a")] for text in texts], dtype=np.float64)

    cache = TeacherCache(tmp_path, "teacher-a:embedding")
    first = cache.vectors(["a", "bb", "a"], encode)
    assert first.dtype == np.float32 and first.tolist() == [[1, 1], [2, 0], [1, 1]]
    assert calls == [["a", "bb"]]
    # A later run reads them back and only encodes what is new.
    again = TeacherCache(tmp_path, "teacher-a:embedding")
    assert len(again) == 2
    assert again.vectors(["bb", "ccc"], encode).tolist() == [[2, 0], [3, 0]]
    assert calls == [["a", "bb"], ["ccc"]]
    # Another teacher has its own vectors; a part without its digest list does not count.
    other = TeacherCache(tmp_path, "teacher-b:embedding")
    assert len(other) == 0 and other.folder != again.folder
    (again.folder / "part-000009.safetensors").write_bytes(b"half written")
    assert len(TeacherCache(tmp_path, "teacher-a:embedding")) == 3
