"""SQLite databases kept in the colearn home and shared by every process of it (kernels, the server, the CLI).

Each is opened once per process, again after a fork (a connection must never cross one), in WAL mode so that
readers never wait for a writer, with a busy time-out so that writers of several processes take turns instead of
failing. Used by the row-hash cache (:mod:`.rowcache`) and the market index (:mod:`.index`).

>>> import tempfile, pathlib
>>> db = HomeDatabase(pathlib.Path(tempfile.mkdtemp()) / "example.sqlite", "CREATE TABLE IF NOT EXISTS t (x)")
>>> db.connection().execute("SELECT count(*) FROM t").fetchone()
(0,)
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

#: Seconds a write waits for another process's write to finish before failing.
BUSY_TIMEOUT_S = 60


class HomeDatabase:
    """A SQLite file of the colearn home: one connection per process, created with ``schema`` (idempotent SQL).

    Parameters
    ----------
    path:
        The database file; its folder is created when needed.
    schema:
        SQL run on every new connection (``CREATE TABLE IF NOT EXISTS ...``), so a new file is ready at once.
    """

    def __init__(self, path: str | os.PathLike[str], schema: str = ""):
        self.path = Path(path)
        self.schema = schema
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

    def connection(self) -> sqlite3.Connection:
        """This process's connection (autocommit: ``BEGIN`` opens a transaction), opened on first use."""
        if self._connection is None or self._pid != os.getpid():  # never a connection inherited through fork
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # what these files hold can always be read again
            if self.schema:
                connection.executescript(self.schema)
            self._connection, self._pid = connection, os.getpid()
        return self._connection
