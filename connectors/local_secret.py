"""A random secret kept in a local file, for the embedded setup only (production sets the variable).

Created once, mode 0600 in a 0700 folder whatever the umask, under ``DANBAO_HOME``, never in the
repository; every process of one embedded installation reads the same file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def local_secret_hex(path: Path, nbytes: int) -> str:
    """The hex secret in ``path``, made (``nbytes`` random bytes) when missing."""
    if not path.exists():
        private_dir(path.parent)
        with contextlib.suppress(FileExistsError):  # another process made it first: read theirs
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(nbytes))
    return path.read_text().strip()


def private_dir(path: Path) -> None:
    """Create ``path`` and its missing parents 0700 whatever the umask (an existing folder is left as it is)."""
    missing = []
    current = path
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
            folder.chmod(0o700)
