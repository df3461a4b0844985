"""Writing a collection: add, replace and remove documents; each change is one new
generation, written beside the live one and made live by one rename (seoga.collection.committing).

`Writer` changes a collection's documents (`Configurer` changes its models and settings,
`Searcher` reads): it finds what is new, changed or gone and hands the files to its `Committer`,
whose pipeline runs in local processes or on Dask; this process alone writes.
"""

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from seoga.collection.committing import Committer
from seoga.collection.reports import IndexReport
from seoga.errors import InputError
from seoga.parallel.executors import InProcess
from seoga.parallel.pipeline import FileTask, batch_size_for, batched
from seoga.progress import track
from seoga.text.documents import Document, LoadProblem, require_text
from seoga.text.loaders import ReadOptions, discover, format_of

if TYPE_CHECKING:
    from seoga.parallel.executors import Executor

HASH_BLOCK_BYTES = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def is_under(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


class Writer:
    """Adding, replacing and removing a collection's documents, one generation per call."""

    def __init__(self, committer: Committer) -> None:
        self.committer = committer
        self.state = committer.state

    def add(
        self,
        paths: Iterable[str | Path],
        *,
        prune: bool = False,
        show_progress: bool = False,
        executor: "Executor | None" = None,
        batch_files: int | None = None,
        read_options: ReadOptions | None = None,
    ) -> IndexReport:
        """Index files and folders: new files are added, changed ones re-indexed, the rest kept.

        `read_options` say how files are read (OCR of scanned pages and images: see
        `seoga.text.formats.base.ReadOptions`); they apply to the files read in this call.

        With `prune`, files indexed earlier from under these paths that are gone are removed.
        Loading, chunking, analysing and encoding run on `executor` (this process when None:
        see seoga.parallel), `batch_files` files per task (by default sized so the executor's
        workers share the files evenly); this process writes the results.
        """
        started = time.perf_counter()
        report = IndexReport()
        roots = [Path(path).resolve() for path in paths]
        with self.committer.writing():
            known = self.state.file_hashes()
            tasks: list[FileTask] = []
            seen: set[str] = set()
            for root in roots:
                if not root.exists():
                    report.problems.append(LoadProblem(str(root), "no such file or folder"))
                    continue
                found = discover(root)
                report.skipped += found.skipped
                for file in track(found.files, "reading files", enabled=show_progress):
                    kind = format_of(file) or "other"
                    report.formats[kind] = report.formats.get(kind, 0) + 1
                    key = str(file)
                    seen.add(key)
                    task = self._changed(file, known, report)
                    if task is not None:
                        tasks.append(task)
            gone = (
                [key for key in known if key not in seen and is_under(Path(key), roots)]
                if prune
                else []
            )
            report.removed = gone
            if tasks or gone:
                size = batch_files or batch_size_for(
                    len(tasks), executor.workers if executor else InProcess.workers
                )
                self.committer.write(
                    batched(tasks, size),
                    gone,
                    report,
                    executor,
                    show_progress,
                    read_options,
                    roots=[root for root in roots if root.exists()],
                )
        report.seconds = time.perf_counter() - started
        return report

    def add_documents(
        self, documents: Iterable[Document], *, source: str = "api", show_progress: bool = False
    ) -> IndexReport:
        """Index documents made in Python; `source` names them as one file would be named.

        Adding under the same `source` again replaces what was added under it before.
        """
        return self._put([(source, list(documents))], show_progress)

    def put_documents(
        self, documents: Iterable[Document], *, prefix: str, show_progress: bool = False
    ) -> IndexReport:
        """Index documents each under its own source, `prefix` + its id, in one generation:
        putting an id again replaces that document, `remove([prefix + id])` deletes it."""
        return self._put([(f"{prefix}{d.doc_id}", [d]) for d in documents], show_progress)

    def _put(self, groups: list[tuple[str, list[Document]]], show_progress: bool) -> IndexReport:
        """Write each (source, documents) group as one indexed file, unless unchanged."""
        # Blank texts make no chunk, so these documents could never be found: as files do.
        require_text(document for _, documents in groups for document in documents)
        started = time.perf_counter()
        report = IndexReport()
        with self.committer.writing():
            known = self.state.file_hashes()
            pending = []
            for source, documents in groups:
                digest = hashlib.sha256(
                    json.dumps(
                        [(d.doc_id, d.title, d.text, d.metadata) for d in documents],
                        sort_keys=True,
                    ).encode()
                ).hexdigest()
                if known.get(source) == digest:
                    report.unchanged.append(source)
                    continue
                pending.append(FileTask(source, digest, len(documents), tuple(documents)))
            if pending:
                self.committer.write([pending], [], report, None, show_progress)
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, paths: Iterable[str | Path]) -> list[str]:
        """Remove files (or everything indexed from under folders) from every index."""
        with self.committer.writing():
            known = self.state.file_hashes()
            removed: list[str] = []
            for path in paths:
                key = str(path) if str(path) in known else str(Path(path).resolve())
                matches = [k for k in known if k == key or is_under(Path(k), [Path(key)])]
                if not matches:
                    raise InputError(f"{path} is not in the collection {self.state.root}.")
                removed += matches
            self.committer.write([], removed, IndexReport(removed=removed), None, False)
        return removed

    def _changed(self, file: Path, known: dict[str, str], report: IndexReport) -> FileTask | None:
        """The file as a task when it is new or changed; unchanged and unreadable files are
        reported instead."""
        key = str(file)
        try:
            sha256, size = file_sha256(file), file.stat().st_size
        except OSError as error:
            report.problems.append(LoadProblem(key, f"cannot be read: {error.strerror}"))
            return None
        if known.get(key) == sha256:
            report.unchanged.append(key)
            return None
        return FileTask(key, sha256, size)
