"""Shared Kiwi instances: building one takes about a second, so each is built once."""

import threading

from kiwipiepy import Kiwi

_instances: dict[int | None, Kiwi] = {}
_lock = threading.Lock()


def get_kiwi(num_workers: int | None = None) -> Kiwi:
    """The process-wide Kiwi for this many worker threads (None: one per CPU core).

    Kiwi may be used from several threads once built; building is guarded by a lock.
    """
    with _lock:
        kiwi = _instances.get(num_workers)
        if kiwi is None:
            kiwi = Kiwi(num_workers=num_workers)
            # Kiwi finishes loading its model on first use; do it here, not on a user's query.
            kiwi.tokenize("")
            _instances[num_workers] = kiwi
        return kiwi
