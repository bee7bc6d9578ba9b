"""Where the store keeps its files when nothing else is configured, and how they are created: private to
the user running Danbao (directories 0700, files 0600), whatever the umask.

The store holds what guarantors filed (resident ID numbers among it), findings, token hashes and the
audit trail: nobody else on the machine has any business reading it. ``mkdir``'s and ``open``'s modes
are masked by the umask, so modes are set with ``chmod`` after creating (which the umask does not touch).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path | str) -> Path:
    """``path`` as a directory, created (with any missing parents) with mode 0700 whatever the umask.
    A directory that exists already is left as it is: it may be the operator's own."""
    path = Path(path)
    missing: list[Path] = []
    current = path
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue  # made meanwhile by another process, which sets its mode
        os.chmod(folder, PRIVATE_DIR)
    if not path.is_dir():
        raise NotADirectoryError(f"not a directory: {path}")
    return path


def private_file(path: Path | str) -> Path:
    """Make sure ``path`` exists and is readable and writable by its owner only (0600): created empty
    if missing, tightened if it is more open (a store made before Danbao set modes). A file that cannot
    be tightened (another user's) is logged, not fatal."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        pass
    else:
        os.fchmod(fd, PRIVATE_FILE)
        os.close(fd)
        return path
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            os.chmod(path, mode & PRIVATE_FILE)
    except OSError as exc:
        log.warning("cannot make %s private: %s", path, exc)
    return path


def danbao_home() -> Path:
    """``$DANBAO_HOME`` (default ``./var``) as an absolute path, created (0700) if missing.

    Absolute so that a later ``chdir`` cannot make the process look for its database elsewhere.
    """
    home = Path(os.environ.get("DANBAO_HOME") or "./var").expanduser().resolve()
    return private_dir(home)
