"""A collection's manifest on disk: read it, refusing layouts this seoga cannot read."""

import json
from pathlib import Path
from typing import Any

from seoga.errors import CollectionError
from seoga.index.generations import MANIFEST_NAME
from seoga.version import __version__

# Bump when the on-disk layout changes; older layouts are refused with a clear message.
FORMAT_VERSION = 2


def read_manifest(root: Path) -> dict[str, Any]:
    manifest_path = root / MANIFEST_NAME
    if not manifest_path.exists():
        raise CollectionError(
            f"{root} is not a seoga collection (no {MANIFEST_NAME}); "
            "create one with `seoga index FILES --collection PATH`."
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise CollectionError(f"{manifest_path} cannot be read: {error}") from error
    check_compatible(manifest, manifest_path)
    return manifest


def check_compatible(manifest: dict[str, Any], manifest_path: Path) -> None:
    """Refuse collections whose layout or seoga release line differs from this one."""
    made_by = manifest.get("seoga_version", "unknown")
    layout = manifest.get("format")
    if layout != FORMAT_VERSION or release_line(made_by) != release_line(__version__):
        raise CollectionError(
            f"{manifest_path.parent} was made by seoga {made_by} (format {layout}); this is "
            f"seoga {__version__} (format {FORMAT_VERSION}). Re-index the files into a new "
            "collection with this version, or use the seoga version that made it."
        )


def release_line(version: str) -> str:
    """Major.minor: collections are compatible within one release line."""
    return ".".join(version.split(".")[:2])
