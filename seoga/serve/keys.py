"""API keys of a served collection: made once, shown once, stored only as digests.

Three scopes: `search` reads (search, ask, documents, related, recommend, info), `events` also
posts impressions and clicks (the training data of recommenders), and `admin` may do everything,
writes included (documents, index tasks). A presented key is hashed and compared with every
stored digest in constant time (hmac.compare_digest), so neither its value nor its length leaks
through timing, and a copied keys file gives no usable key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from seoga.atomic import write_json_atomic
from seoga.errors import InputError

KEYS_NAME = "keys.json"
SEARCH = "search"
EVENTS = "events"
ADMIN = "admin"
SCOPES = (SEARCH, EVENTS, ADMIN)
# What each scope may do besides its own work: an events key searches too (the page that
# reports impressions also searches); admin may do everything.
IMPLIED = {SEARCH: (SEARCH,), EVENTS: (SEARCH, EVENTS), ADMIN: SCOPES}
KEY_PREFIX = "sg_"
KEY_BYTES = 32  # 256 random bits
ID_CHARS = 8  # a key's id: the first characters of its digest, to list and revoke it by


@dataclass(frozen=True)
class StoredKey:
    key_id: str
    scope: str
    digest: str
    name: str
    created: str

    def allows(self, scope: str) -> bool:
        """An admin key may do everything; an events key may also search."""
        return scope in IMPLIED.get(self.scope, ())


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    """The keys file of one collection folder (`keys.json`, written atomically)."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / KEYS_NAME
        self._lock = threading.Lock()
        self._stamp = self._file_stamp()
        self._keys = self._read()

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _read(self) -> list[StoredKey]:
        if not self.path.exists():
            return []
        try:
            return [StoredKey(**entry) for entry in json.loads(self.path.read_text())["keys"]]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InputError(
                f"{self.path} cannot be read as seoga keys ({error}); move it aside and create "
                "the keys again with `seoga keys create`."
            ) from error

    def create(self, scope: str, name: str = "") -> tuple[str, StoredKey]:
        """A new key of `scope`: (the key itself, to show once; what is stored of it)."""
        if scope not in SCOPES:
            raise InputError(f"a key's scope is one of {', '.join(SCOPES)}, not {scope!r}.")
        key = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
        digest = digest_of(key)
        stored = StoredKey(
            key_id=digest[:ID_CHARS],
            scope=scope,
            digest=digest,
            name=name,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self._lock:
            self._keys = [*self._read(), stored]
            self._write()
        return key, stored

    def revoke(self, key_id: str) -> StoredKey:
        with self._lock:
            keys = self._read()
            matches = [key for key in keys if key.key_id == key_id]
            if not matches:
                raise InputError(f"no key with id {key_id!r}; `seoga keys list` shows the ids.")
            self._keys = [key for key in keys if key.key_id != key_id]
            self._write()
        return matches[0]

    def listed(self) -> list[StoredKey]:
        self._follow_file()
        return list(self._keys)

    def _follow_file(self) -> None:
        """Pick up keys created or revoked by another process (the CLI beside a server)."""
        stamp = self._file_stamp()
        if stamp != self._stamp:
            with self._lock:
                self._keys, self._stamp = self._read(), stamp

    def check(self, presented: str | None) -> StoredKey | None:
        """The stored key that `presented` is, or None; every digest is compared."""
        self._follow_file()
        if not presented:
            return None
        digest = digest_of(presented).encode()
        found = None
        for key in self._keys:
            if hmac.compare_digest(digest, key.digest.encode()):
                found = key
        return found

    def __len__(self) -> int:
        self._follow_file()
        return len(self._keys)

    def _write(self) -> None:
        write_json_atomic(self.path, {"keys": [asdict(key) for key in self._keys]})
        self.path.chmod(0o600)
        self._stamp = self._file_stamp()


def require_keys(collection: Path, open_search: bool) -> None:
    """Refuse to serve a collection nobody could search: it has no keys and is not open."""
    if not open_search and not len(KeyStore(collection)):
        raise InputError(
            f"{collection} has no keys yet: make one with `seoga keys create --scope search "
            f"--collection {collection}`, or pass --open to let anyone who reaches the server "
            "search."
        )
