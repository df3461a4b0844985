"""The write side of a served collection: each request is checked at once (so a bad one is
answered 400/403/404 before anything is queued), then runs as a task on the one writer thread
(seoga.serve.tasks)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seoga.errors import InputError
from seoga.serve.memory import release_freed_memory
from seoga.serve.problems import ForbiddenError, NotFoundError
from seoga.text.loaders import ReadOptions

if TYPE_CHECKING:
    from seoga.collection import Collection
    from seoga.serve.public import PublicIds
    from seoga.serve.tasks import Task, TaskQueue
    from seoga.text.documents import Document

API_SOURCE = "api:"  # documents added through the API are each filed under api:<id>


class Writes:
    """Adding and deleting documents and indexing paths, one task at a time. It follows the
    collection through the service's own callables, so it sees the generation requests see."""

    def __init__(
        self,
        *,
        collection: Callable[[], Collection],
        public_ids: Callable[[], PublicIds],
        stored: Callable[[str], dict[str, Any]],
        tasks: TaskQueue,
        allowed_roots: list[Path],
    ) -> None:
        self.collection = collection  # the live generation, followed across commits
        self.public_ids = public_ids  # how the live generation's ids are shown
        self.stored = stored  # the stored document an API id names, or NotFoundError
        self.tasks = tasks
        self.allowed_roots = allowed_roots

    def _task(self, kind: str, work) -> Task:
        """Queue a write; after it, the writer thread itself moves the server to the new
        generation and hands the pages the older ones freed back to the system, so that no
        request waits for either."""

        def run() -> dict[str, Any]:
            result = work()
            self.collection()
            release_freed_memory()
            return result

        return self.tasks.submit(kind, run)

    def _writer(self) -> Collection:
        """A collection object for one write, sharing the loaded models."""
        return self.collection().reopened()

    def add_documents(self, documents: list[Document]) -> Task:
        ids = [document.doc_id for document in documents]
        if len(set(ids)) != len(ids):
            raise InputError("two documents of the request share an id; ids must be unique.")
        collection = self.collection()
        public = self.public_ids()
        for doc_id in ids:
            label = public.label_of(doc_id)
            if label is not None:
                raise InputError(
                    f"document id {doc_id!r} begins with {label!r}, the name the server gives "
                    f"files indexed from the folder {label}; give the new document another id."
                )
            found = collection.store.document(doc_id) if collection.generation else None
            if found is not None and found["file"] != API_SOURCE + doc_id:
                raise InputError(
                    f"document id {doc_id!r} is taken by a document read from "
                    f"{public.public(found['file'])}; give the new document another id."
                )

        def work() -> dict[str, Any]:
            collection = self._writer()
            report = collection.put_documents(documents, prefix=API_SOURCE)
            return report.to_dict()

        return self._task("documents.add", work)

    def delete_document(self, doc_id: str) -> Task:
        found = self.stored(doc_id)
        siblings = self.collection().store.file_documents(found["file"])
        if siblings > 1:
            raise InputError(
                f"document {doc_id!r} is one of {siblings} read from "
                f"{self.public_ids().public(found['file'])}; remove that file from the folder and "
                "index it again (POST /v1/index with prune)."
            )

        def work() -> dict[str, Any]:
            return {"removed": self._writer().remove([found["file"]])}

        return self._task("documents.delete", work)

    def index(self, paths: list[str], prune: bool, ocr: str = "auto") -> Task:
        checked = [self.allowed_path(path) for path in paths]
        options = ReadOptions(ocr=ocr)

        def work() -> dict[str, Any]:
            return self._writer().add(checked, prune=prune, read_options=options).to_dict()

        return self._task("index", work)

    def allowed_path(self, raw: str) -> Path:
        """`raw` if it lies under an allowed root, with no symbolic link on the way or below."""
        if not self.allowed_roots:
            raise ForbiddenError(
                "indexing paths is off: start the server with --allow-root FOLDER to let admin "
                "keys index files under that folder."
            )
        path = Path(raw)
        if not path.is_absolute():
            raise InputError(f"{raw} is not an absolute path; give the full path.")
        if ".." in path.parts:
            raise ForbiddenError(f"{raw} goes up with '..'; give the path itself.")
        for step in [path, *path.parents]:
            if step.is_symlink():
                raise ForbiddenError(f"{raw} passes through the symbolic link {step}; refused.")
        if not any(path == root or root in path.parents for root in self.allowed_roots):
            raise ForbiddenError(f"{raw} is outside the allowed roots; refused.")
        if not path.exists():
            raise NotFoundError(f"{raw} does not exist.")
        if path.is_dir():
            for folder, folders, files in os.walk(path, followlinks=False):
                for name in folders + files:
                    if (Path(folder) / name).is_symlink():
                        raise ForbiddenError(
                            f"{Path(folder) / name} under {raw} is a symbolic link; refused."
                        )
        return path
