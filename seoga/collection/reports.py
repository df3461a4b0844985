"""What a write did: `IndexReport`, file by file, and the summary of files not read."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seoga.text.documents import LoadProblem

SKIPPED_SHOWN = 5  # file names a summary of skipped files lists


@dataclass
class IndexReport:
    """What one `add` did, file by file."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files of a kind seoga does not read
    formats: dict[str, int] = field(default_factory=dict)  # files found, per format read
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    @property
    def nothing_indexed(self) -> bool:
        """True when files were offered but none could be read (the CLI exits non-zero)."""
        return bool(self.problems) and not (self.added or self.updated or self.unchanged)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": len(self.unchanged),
            "removed": self.removed,
            "documents": self.documents,
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
            "formats": self.formats,
            "problems": [str(problem) for problem in self.problems],
            "skipped": skipped_summary(self.skipped),
        }


def skipped_summary(paths: list[str]) -> dict[str, Any]:
    """Files not read, as a count per extension and the first few names."""
    by_suffix: dict[str, int] = {}
    for path in paths:
        suffix = Path(path).suffix.lower() or "(none)"
        by_suffix[suffix] = by_suffix.get(suffix, 0) + 1
    return {"count": len(paths), "by_extension": by_suffix, "first": paths[:SKIPPED_SHOWN]}
