"""Where the store keeps its files when nothing else is configured."""

from __future__ import annotations

import os
from pathlib import Path


def danbao_home() -> Path:
    """``$DANBAO_HOME`` (default ``./var``) as an absolute path, created if missing.

    Absolute so that a later ``chdir`` cannot make the process look for its database elsewhere.
    """
    home = Path(os.environ.get("DANBAO_HOME") or "./var").expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home
