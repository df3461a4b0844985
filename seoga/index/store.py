"""The SQLite store: files, documents and chunks, plus each chunk's analyzer tokens."""

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seoga.text.documents import Chunk, Document

STORE_NAME = "store.sqlite"
# SQLite builds before 3.32 allow 999 bound parameters per statement.
SQL_VARIABLES_PER_QUERY = 999

# Added to `chunks` after the first stores were written: an older store gains it when opened
# to write, and reads as '' when opened read-only.
SECTION_COLUMN = "section TEXT NOT NULL DEFAULT ''"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    file TEXT NOT NULL REFERENCES files(path),
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    source TEXT NOT NULL,
    metadata TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_by_file ON documents(file);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    tokens TEXT NOT NULL,
    {SECTION_COLUMN}
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id);
"""

TOKEN_SEPARATOR = " "


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as search results need it: its text and section path, and its document's title
    and source."""

    chunk_id: int
    doc_id: str
    position: int
    text: str
    title: str
    source: str
    section: str = ""


class Store:
    """Thin data access over one generation's SQLite file."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
        self.connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        if not read_only:
            self.connection.executescript(SCHEMA)
            self._migrate()
        self._section = "section" if self._has_section() else "'' AS section"

    def _has_section(self) -> bool:
        columns = self.connection.execute("PRAGMA table_info(chunks)")
        return any(name == "section" for _, name, *_ in columns)

    def _migrate(self) -> None:
        """Bring an older store's tables up to SCHEMA."""
        if not self._has_section():
            self.connection.execute(f"ALTER TABLE chunks ADD COLUMN {SECTION_COLUMN}")
            self.connection.commit()

    @classmethod
    def copy(cls, source: Path | None, destination: Path) -> "Store":
        """Start a new generation's store as a consistent copy of the live one."""
        store = cls(destination)
        if source is not None:
            with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as live:
                live.backup(store.connection)
            # The copy has the live store's schema, which may be older.
            store._migrate()
        return store

    def close(self) -> None:
        self.connection.close()

    def commit(self) -> None:
        self.connection.commit()

    def file_hashes(self) -> dict[str, str]:
        return dict(self.connection.execute("SELECT path, sha256 FROM files"))

    def document_file(self, doc_id: str) -> str | None:
        row = self.connection.execute(
            "SELECT file FROM documents WHERE doc_id = ?", (doc_id,)
        ).fetchone()
        return row[0] if row else None

    def remove_files(self, paths: Iterable[str]) -> list[int]:
        """Delete files with their documents and chunks; return the removed chunk ids."""
        removed: list[int] = []
        for path in paths:
            removed += [
                row[0]
                for row in self.connection.execute(
                    "SELECT chunk_id FROM chunks JOIN documents USING (doc_id) WHERE file = ?",
                    (path,),
                )
            ]
            self.connection.execute(
                "DELETE FROM chunks WHERE doc_id IN (SELECT doc_id FROM documents WHERE file = ?)",
                (path,),
            )
            self.connection.execute("DELETE FROM documents WHERE file = ?", (path,))
            self.connection.execute("DELETE FROM files WHERE path = ?", (path,))
        return removed

    def next_chunk_id(self) -> int:
        (largest,) = self.connection.execute("SELECT MAX(chunk_id) FROM chunks").fetchone()
        return 0 if largest is None else largest + 1

    def add_file(self, path: str, sha256: str, size: int) -> None:
        self.connection.execute(
            "INSERT INTO files (path, sha256, size) VALUES (?, ?, ?)", (path, sha256, size)
        )

    def add_document(self, file: str, document: Document) -> None:
        self.connection.execute(
            "INSERT INTO documents (doc_id, file, title, text, source, metadata)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                document.doc_id,
                file,
                document.title,
                document.text,
                document.source,
                json.dumps(document.metadata, ensure_ascii=False),
            ),
        )

    def add_chunks(
        self, chunk_ids: Sequence[int], chunks: Sequence[Chunk], tokens: Sequence[list[str]]
    ) -> None:
        self.connection.executemany(
            "INSERT INTO chunks (chunk_id, doc_id, position, start, end, text, tokens, section)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    chunk_id,
                    chunk.doc_id,
                    chunk.position,
                    chunk.start,
                    chunk.end,
                    chunk.text,
                    TOKEN_SEPARATOR.join(chunk_tokens),
                    chunk.section,
                )
                for chunk_id, chunk, chunk_tokens in zip(chunk_ids, chunks, tokens, strict=True)
            ],
        )

    def iter_chunk_tokens(self) -> Iterator[tuple[int, list[str]]]:
        """Every chunk's id and analyzer tokens, in chunk-id order (for the sparse index)."""
        for chunk_id, tokens in self.connection.execute(
            "SELECT chunk_id, tokens FROM chunks ORDER BY chunk_id"
        ):
            yield chunk_id, tokens.split(TOKEN_SEPARATOR) if tokens else []

    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, StoredChunk]:
        rows = self._rows_with(
            f"SELECT chunk_id, doc_id, position, chunks.text, title, source, {self._section}"
            " FROM chunks JOIN documents USING (doc_id) WHERE chunk_id IN ({marks})",
            chunk_ids,
        )
        return {row[0]: StoredChunk(*row) for row in rows}

    def titles(self, doc_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Each document's (title, source)."""
        rows = self._rows_with(
            "SELECT doc_id, title, source FROM documents WHERE doc_id IN ({marks})", doc_ids
        )
        return {doc_id: (title, source) for doc_id, title, source in rows}

    def document(self, doc_id: str) -> dict[str, Any] | None:
        """One document whole: its text, title, source, metadata and the file it came from."""
        row = self.connection.execute(
            "SELECT doc_id, title, text, source, metadata, file FROM documents WHERE doc_id = ?",
            (doc_id,),
        ).fetchone()
        if row is None:
            return None
        doc_id, title, text, source, metadata, file = row
        return {
            "doc_id": doc_id,
            "title": title,
            "text": text,
            "source": source,
            "metadata": json.loads(metadata),
            "file": file,
        }

    def file_documents(self, file: str) -> int:
        """How many documents came from one indexed file (or API source)."""
        (count,) = self.connection.execute(
            "SELECT COUNT(*) FROM documents WHERE file = ?", (file,)
        ).fetchone()
        return count

    def sources_and_metadata(self, doc_ids: Sequence[str]) -> dict[str, tuple[str, dict]]:
        """Each document's (source, metadata), for filtering search results."""
        rows = self._rows_with(
            "SELECT doc_id, source, metadata FROM documents WHERE doc_id IN ({marks})", doc_ids
        )
        return {doc_id: (source, json.loads(metadata)) for doc_id, source, metadata in rows}

    def _rows_with(self, query: str, keys: Sequence[Any]) -> Iterator[tuple]:
        """`query`'s rows for `keys` bound at `{marks}`, in batches: SQLite caps the number
        of bound parameters in one statement."""
        keys = list(keys)
        for start in range(0, len(keys), SQL_VARIABLES_PER_QUERY):
            batch = keys[start : start + SQL_VARIABLES_PER_QUERY]
            yield from self.connection.execute(
                query.format(marks=",".join("?" * len(batch))), batch
            )

    def iter_chunks(self) -> Iterator[StoredChunk]:
        """Every chunk with its document's title and source, in chunk-id order."""
        rows = self.connection.execute(
            f"SELECT chunk_id, doc_id, position, chunks.text, title, source, {self._section}"
            " FROM chunks JOIN documents USING (doc_id) ORDER BY chunk_id"
        )
        for row in rows:
            yield StoredChunk(*row)

    def counts(self) -> dict[str, int]:
        return {
            table: self.connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("files", "documents", "chunks")
        }

    def documents(self) -> Iterator[dict[str, Any]]:
        for doc_id, title, source in self.connection.execute(
            "SELECT doc_id, title, source FROM documents ORDER BY doc_id"
        ):
            yield {"doc_id": doc_id, "title": title, "source": source}

    def chunk_documents(self) -> dict[int, str]:
        return dict(self.connection.execute("SELECT chunk_id, doc_id FROM chunks"))
