"""What an index search returns: chunk ids and their scores, best first, as numpy arrays."""

import numpy as np

Hits = tuple[np.ndarray, np.ndarray]


def no_hits() -> Hits:
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
