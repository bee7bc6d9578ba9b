"""The store is private to its owner whatever the umask: ``DANBAO_HOME`` and the store's directories
0700, the SQLite database (and its WAL and shared-memory files) 0600, filed packages 0400.

Each case runs in a fresh process under a given umask (``subprocess``'s ``umask=``), because the umask
is process-wide and this one may be serving a portal in a thread.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from store.config import private_dir, private_file
from store.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import json, stat
from pathlib import Path
from store.blobs import BlobStore
from store.config import danbao_home
from store.db import make_engine, migrate

home = danbao_home()
engine = make_engine()
migrate(engine)
with engine.begin() as connection:  # a write, so that the WAL and shared-memory files exist
    connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS probe (x INTEGER)")
    connection.exec_driver_sql("INSERT INTO probe VALUES (1)")
key = BlobStore().put(b"a filed package")
modes = {str(p.relative_to(home.parent)): stat.S_IMODE(p.stat().st_mode)
         for p in [home, *sorted(home.rglob("*"))]}
modes["_blob"] = str(Path("home") / "blobs" / key)
print(json.dumps(modes))
engine.dispose()
"""


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o002])
def test_home_database_and_blobs_are_private_whatever_the_umask(tmp_path, umask):
    env = {**os.environ, "DANBAO_HOME": str(tmp_path / "home")}
    env.pop("DANBAO_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, umask=umask, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    modes = json.loads(done.stdout)
    blob = modes.pop("_blob")
    assert modes["home"] == 0o700
    assert modes["home/danbao.db"] == 0o600
    assert modes["home/danbao.db-wal"] == 0o600 and modes["home/danbao.db-shm"] == 0o600
    assert modes[blob] == 0o400
    for path, mode in modes.items():
        if (tmp_path / path).is_dir():
            assert mode == 0o700, path
        else:
            assert mode & 0o077 == 0, (path, oct(mode))  # nothing for group or others


def test_private_dir_creates_missing_parents_and_leaves_existing_ones(tmp_path):
    existing = tmp_path / "operator"
    existing.mkdir()
    os.chmod(existing, 0o755)
    made = private_dir(existing / "a" / "b")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o755  # the operator's own folder, left alone
    assert stat.S_IMODE((existing / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    assert private_dir(made) == made
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        private_dir(tmp_path / "file")


def test_an_existing_world_readable_database_is_tightened(tmp_path):
    """A store made before Danbao set modes (``danbao.db`` 0644) is made 0600 when it is next opened."""
    database = tmp_path / "danbao.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    engine.dispose()
    for path in tmp_path.iterdir():
        os.chmod(path, 0o644)
    engine = make_engine(f"sqlite:///{database}")
    try:
        assert stat.S_IMODE(database.stat().st_mode) == 0o600
        with engine.begin() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    finally:
        engine.dispose()
    assert private_file(database) == database and stat.S_IMODE(database.stat().st_mode) == 0o600
