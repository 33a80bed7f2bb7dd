"""The row hashes of committed files, kept in the colearn home and shared by every process that uses it.

A submission's file never changes once committed on chain (its CID and Merkle root are there), so its rows are
fetched, checked against the commitment and hashed once per home, by whichever kernel, server or CLI process meets
it first; every other process reads the hashes here instead of fetching and hashing the file again (a class of
thirty kernels contributing to one model would otherwise each re-fetch every other student's files). The store is
a SQLite database in WAL mode (``<home>/index/rowhashes.sqlite``), one row per file: its key (data CID, Merkle
root, contributor, schema) and its rows' 32-byte hashes, concatenated. Only what passed the checks is written; a
damaged entry (a length that is not a multiple of 32) is ignored and rebuilt.

>>> import tempfile
>>> cache = RowHashCache(tempfile.mkdtemp())
>>> cache.get(("cid", "0xroot", "0xabc", "{}")) is None
True
>>> cache.put(("cid", "0xroot", "0xabc", "{}"), [bytes(32), b"\\x01" * 32])
>>> [h.hex()[:4] for h in cache.get(("cid", "0xroot", "0xabc", "{}"))]
['0000', '0101']
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .homedb import HomeDatabase

_DIGEST = 32


class RowHashCache:
    """Row hashes by file key, in memory for this process and in the home's database for the others."""

    def __init__(self, home: str | os.PathLike[str]):
        self.path = Path(home) / "index" / "rowhashes.sqlite"
        self._memory: dict[str, tuple[bytes, ...]] = {}
        self._arrays: dict[str, np.ndarray] = {}  # entries read or written as arrays
        self._database = HomeDatabase(
            self.path, "CREATE TABLE IF NOT EXISTS row_hashes (key TEXT PRIMARY KEY, hashes BLOB NOT NULL)"
        )

    def _db(self) -> sqlite3.Connection:
        return self._database.connection()  # a lost entry is only computed again

    @staticmethod
    def _key(key: tuple[str, ...]) -> str:
        return json.dumps(list(key))

    def _stored(self, text: str) -> bytes | None:
        """The hashes the database holds under the key ``text``, concatenated; None when there are none, or when
        the entry is damaged (not a whole number of hashes) or unreadable: it is only computed again."""
        try:
            found = self._db().execute("SELECT hashes FROM row_hashes WHERE key = ?", (text,)).fetchone()
        except sqlite3.Error:
            return None  # an unreadable cache is only slower
        if found is None or len(found[0]) % _DIGEST:
            return None
        return bytes(found[0])

    def get(self, key: tuple[str, ...]) -> tuple[bytes, ...] | None:
        """The hashes stored for ``key``, or None."""
        text = self._key(key)
        if text in self._memory:
            return self._memory[text]
        blob = self._stored(text)
        if blob is None:
            return None
        hashes = tuple(blob[i : i + _DIGEST] for i in range(0, len(blob), _DIGEST))
        self._memory[text] = hashes
        return hashes

    def get_array(self, key: tuple[str, ...]) -> np.ndarray | None:
        """The hashes stored for ``key`` as an ``(n, 32)`` array (read-only; no Python object per row), or None."""
        text = self._key(key)
        if text in self._arrays:
            return self._arrays[text]
        blob = b"".join(self._memory[text]) if text in self._memory else self._stored(text)
        if blob is None:
            return None
        array = self._arrays[text] = np.frombuffer(blob, dtype=np.uint8).reshape(-1, _DIGEST)
        return array

    def put(self, key: tuple[str, ...], hashes: Iterable[bytes] | np.ndarray) -> None:
        """Keep ``hashes`` (32 bytes each, or an ``(n, 32)`` array of them) for ``key``, here and for every other
        process of the home. An array is written as it is, without a Python object per row; this process then reads
        its entry from the database when it needs it."""
        text = self._key(key)
        if isinstance(hashes, np.ndarray):
            if hashes.ndim != 2 or hashes.shape[1] != _DIGEST:
                raise ValueError(f"row hashes are an (n, {_DIGEST}) array, not one of shape {hashes.shape}")
            blob = np.ascontiguousarray(hashes, dtype=np.uint8).tobytes()
            self._memory.pop(text, None)
            self._arrays[text] = np.frombuffer(blob, dtype=np.uint8).reshape(-1, _DIGEST)
        else:
            values = tuple(bytes(h) for h in hashes)
            if any(len(h) != _DIGEST for h in values):
                raise ValueError("row hashes are 32 bytes each")
            self._memory[text] = values
            self._arrays.pop(text, None)
            blob = b"".join(values)
        with contextlib.suppress(sqlite3.Error):  # a cache that cannot be written is only slower
            self._db().execute("INSERT OR REPLACE INTO row_hashes (key, hashes) VALUES (?, ?)", (text, blob))


_CACHES: dict[Path, RowHashCache] = {}


def row_hash_cache(home: str | os.PathLike[str]) -> RowHashCache:
    """The cache of one colearn home (one per process)."""
    path = Path(home)
    if path not in _CACHES:
        _CACHES[path] = RowHashCache(path)
    return _CACHES[path]
