"""Collections built for data folders (evaluation corpora), cached under the seoga home.

Each is keyed by the corpus content and the index settings, so evaluating another retriever or
fusion, tuning, or training a reranker on the same corpus does not re-encode it; one that
differs only in its main bi-encoder is re-encoded from a copy.
"""

import hashlib
import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from seoga.atomic import write_json_atomic
from seoga.collection.collection import Collection
from seoga.datasets.beir import BeirSet
from seoga.index.manifest import FORMAT_VERSION
from seoga.paths import seoga_home
from seoga.settings import CollectionSettings
from seoga.text.analyzers import build_analyzer

if TYPE_CHECKING:
    from seoga.parallel.executors import Executor

EVAL_DIR = "eval"
BUILD_RECORD = "build.json"
PARTIAL_SUFFIX = ".partial"
KEY_CHARS = 16


def index_settings_key(
    corpus: Path, settings: CollectionSettings, *, main_embedder: bool = True
) -> str:
    """What decides the index's content: the corpus bytes and every non-search setting. Without
    `main_embedder`, the key of the collection's family: everything but the main bi-encoder,
    which `Collection.change_embedder` can swap while BM25 and the extra bi-encoders stay."""
    digest = hashlib.sha256()
    with corpus.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    indexing = {k: v for k, v in settings.to_dict().items() if k != "fusion"}
    if not main_embedder:
        del indexing["embedder"]
    indexing["analyzer"] = build_analyzer(settings.analyzer).config()
    # A model folder retrained in place keeps its name: its files' sizes and times tell it apart.
    models = [*([settings.embedder] if main_embedder else []), *(settings.extra_embedders or [])]
    model_files = {
        name: folder_fingerprint(Path(name))
        for name in models
        if name and Path(name).expanduser().is_dir()
    }
    if model_files:  # (absent for registry names, so their cached collections stay valid)
        indexing["model_files"] = model_files
    digest.update(json.dumps([FORMAT_VERSION, indexing], sort_keys=True).encode())
    return digest.hexdigest()[:KEY_CHARS]


def folder_fingerprint(folder: Path) -> list[tuple[str, int, int]]:
    """(relative path, size, modification time) of every file under `folder`."""
    folder = folder.expanduser()
    return [
        (str(path.relative_to(folder)), stat.st_size, stat.st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and (stat := path.stat())
    ]


def cached_collection(
    data: BeirSet,
    settings: CollectionSettings,
    *,
    cache_dir: Path | None,
    show_progress: bool,
    executor: "Executor | None" = None,
) -> tuple[Collection, float]:
    """Open the cached collection for this corpus and settings, building it if needed. A cached
    collection that differs only in its main bi-encoder is copied and re-encoded with this one
    (BM25 and the extra bi-encoders' vectors reused), as a user re-embeds with a trained model."""
    base = (cache_dir or seoga_home()) / EVAL_DIR
    base.mkdir(parents=True, exist_ok=True)
    key = index_settings_key(data.corpus, settings)
    root = base / f"{data.name}-{key}"
    record = base / f"{data.name}-{key}.{BUILD_RECORD}"
    # The key is the content: a folder of another name with the same corpus (a dev split
    # beside the shipped one, say) is served by the same collection.
    built = [record] if record.exists() else sorted(base.glob(f"*-{key}.{BUILD_RECORD}"))
    if built:
        found = base / built[0].name.removesuffix(f".{BUILD_RECORD}")
        return Collection.open(found), json.loads(built[0].read_text())["index_seconds"]
    family = index_settings_key(data.corpus, settings, main_embedder=False)
    sibling = find_sibling(base, family) if settings.embedder else None
    started = time.perf_counter()
    if sibling is None:
        collection = Collection.create(root, settings, exist_ok=True)
        collection.add([data.corpus], show_progress=show_progress, executor=executor)
    else:
        collection = reencoded_copy(sibling, root, settings.embedder, show_progress)
    seconds = time.perf_counter() - started
    made = {
        "index_seconds": seconds,
        "built": datetime.now(UTC).isoformat(timespec="seconds"),
        "family": family,
    }
    if sibling is not None:
        made["reused_from"] = sibling.name
    write_json_atomic(record, made)
    return collection, seconds


def find_sibling(base: Path, family: str) -> Path | None:
    """A cached collection of the same family (the corpus and all but the main bi-encoder
    alike), if any."""
    for record in sorted(base.glob(f"*.{BUILD_RECORD}")):
        root = base / record.name.removesuffix(f".{BUILD_RECORD}")
        if json.loads(record.read_text()).get("family") == family and root.is_dir():
            return root
    return None


def reencoded_copy(sibling: Path, root: Path, embedder: str, show_progress: bool) -> Collection:
    """Copy `sibling` beside `root`, swap its main bi-encoder for `embedder`, then rename."""
    partial = root.with_name(f"{root.name}{PARTIAL_SUFFIX}")
    for leftover in (partial, root):  # an interrupted copy or build (it has no record)
        if leftover.exists():
            shutil.rmtree(leftover)
    shutil.copytree(sibling, partial)
    Collection.open(partial).change_embedder(embedder, show_progress=show_progress)
    partial.rename(root)
    return Collection.open(root)
