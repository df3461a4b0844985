"""Where seoga keeps its own files (converted models, evaluation caches, the demo)."""

import os
from pathlib import Path

HOME_VARIABLE = "SEOGA_HOME"


def seoga_home() -> Path:
    """`$SEOGA_HOME`, else ~/.cache/seoga."""
    configured = os.environ.get(HOME_VARIABLE)
    return Path(configured) if configured else Path.home() / ".cache" / "seoga"
