"""The devnet's journal: an append-only, fsynced record of every block, from which the chain is rebuilt exactly.

Each line after the header is one block: its number, hash, parent hash, timestamp and the raw signed transactions
it holds, in order. Replaying the lines into a fresh node started with the same genesis gives the same blocks,
hashes, contract addresses and ids, because the node is deterministic given its genesis, its transactions and
their timestamps. Appending costs the size of the new blocks only, whatever the chain's length.

A block is *durable* once its line is on disk (written and fsynced). A writer that dies mid-line leaves a torn
last line: readers ignore it, and the next writer cuts it off before appending.

>>> from colearn_jupyter.journal import Journal, JournalBlock
>>> journal = Journal("/tmp/colearn-doc-journal.jsonl")          # doctest: +SKIP
>>> journal.create({"chain_id": 31337, "genesis_timestamp": 1700000000, "genesis_hash": "0x…"})  # doctest: +SKIP
>>> journal.head()                                                 # doctest: +SKIP
(0, '0x…')
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .durable import write_atomically
from .errors import DevnetError

FORMAT = "colearn-devnet-journal"
VERSION = 1
_PREFIX = re.compile(rb'^\{"n":(\d+),"h":"(0x[0-9a-f]{64})"')


@dataclass(frozen=True)
class JournalBlock:
    """One block as the journal keeps it."""

    number: int
    hash: str
    parent: str
    timestamp: int
    transactions: tuple[str, ...] = field(default_factory=tuple)  # raw signed transactions, 0x-hex, in block order

    def to_line(self) -> bytes:
        # "n" and "h" come first, so a reader can index the journal without parsing whole lines.
        record = {"n": self.number, "h": self.hash, "p": self.parent, "t": self.timestamp, "txs": self.transactions}
        return json.dumps(record, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> JournalBlock:
        return cls(int(record["n"]), record["h"], record["p"], int(record["t"]), tuple(record["txs"]))


class Journal:
    """The journal file of one devnet. Not safe for concurrent writers: callers hold the devnet's lock to append.

    Reading is incremental: :meth:`head` and :meth:`hash_at` read only what other processes appended since the
    last call, so a commit costs the same after ten blocks or a million.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.header: dict[str, Any] | None = None
        self._offset = 0  # bytes of complete lines already indexed
        self._head: tuple[int, str] | None = None
        self._hashes: dict[int, str] = {}

    # ------------------------------------------------------------------------------------------------ creation
    def exists(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def create(self, header: dict[str, Any]) -> None:
        """Start a new journal with ``header`` (chain id, genesis timestamp and hash, and an optional base)."""
        record = {"format": FORMAT, "version": VERSION, **header}
        write_atomically(self.path, json.dumps(record, separators=(",", ":")).encode() + b"\n")
        self._reset()

    def _reset(self) -> None:
        self.header, self._offset, self._head, self._hashes = None, 0, None, {}

    # ------------------------------------------------------------------------------------------------ reading
    def _read_header(self, handle: Any) -> None:
        line = handle.readline()
        if not line.endswith(b"\n"):
            raise DevnetError(
                f"the devnet journal {self.path} has no complete header; `colearn devnet reset` starts over"
            )
        try:
            header = json.loads(line)
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != VERSION:
            raise DevnetError(
                f"{self.path} is not a colearn devnet journal this version can read; `colearn devnet reset` starts over"
            )
        self.header = header
        self._offset = handle.tell()
        base = header.get("base") or {"n": 0, "h": header["genesis_hash"]}
        self._head = (int(base["n"]), base["h"])
        self._hashes[self._head[0]] = self._head[1]

    def refresh(self) -> tuple[int, str]:
        """Index the lines appended since the last call (a torn last line is left for later); returns the head."""
        if self.header is not None and self.path.stat().st_size == self._offset:
            assert self._head is not None
            return self._head
        with open(self.path, "rb") as handle:
            if self.header is None:
                self._read_header(handle)
            handle.seek(self._offset)
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # torn by a writer that died; the next writer cuts it off
                match = _PREFIX.match(line)
                if match is None:
                    raise DevnetError(f"line at byte {self._offset} of {self.path} is damaged")
                number, block_hash = int(match[1]), match[2].decode()
                self._hashes[number] = block_hash
                self._head = (number, block_hash)
                self._offset += len(line)
        assert self._head is not None
        return self._head

    def head(self) -> tuple[int, str]:
        """Number and hash of the last durable block (the base or genesis when no block was journaled yet)."""
        return self.refresh()

    def hash_at(self, number: int) -> str | None:
        """Hash of the durable block ``number``, or None when it is not journaled."""
        self.refresh()
        return self._hashes.get(number)

    def blocks(self, after: int = -1) -> Iterator[JournalBlock]:
        """Every complete block after block ``after``, in order."""
        with open(self.path, "rb") as handle:
            handle.readline()
            for line in handle:
                if not line.endswith(b"\n"):
                    return
                match = _PREFIX.match(line)
                if match is None or int(match[1]) <= after:
                    continue
                yield JournalBlock.from_record(json.loads(line))

    # ------------------------------------------------------------------------------------------------ writing
    def append(self, blocks: list[JournalBlock]) -> None:
        """Make ``blocks`` durable: they must follow the head, each linked to its parent by hash."""
        if not blocks:
            return
        number, block_hash = self.refresh()
        for block in blocks:
            if block.number != number + 1 or block.parent != block_hash:
                raise DevnetError(
                    f"the devnet's block {block.number} does not follow the journal's block {number} "
                    f"({block_hash[:10]}…): the node's chain was changed outside colearn (evm_revert, anvil_reset?). "
                    "`colearn devnet stop` then `colearn devnet start` rebuilds it from the journal."
                )
            number, block_hash = block.number, block.hash
        data = b"".join(block.to_line() for block in blocks)
        fd = os.open(self.path, os.O_WRONLY)
        try:
            os.truncate(fd, self._offset)  # cut off a torn line left by a writer that died
            os.lseek(fd, self._offset, os.SEEK_SET)
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            os.close(fd)
        for block in blocks:
            self._hashes[block.number] = block.hash
        self._head = (blocks[-1].number, blocks[-1].hash)
        self._offset += len(data)

    def repair(self) -> None:
        """Cut off a torn last line (called at start, under the devnet's lock)."""
        self.refresh()
        if self.path.stat().st_size != self._offset:
            with open(self.path, "r+b") as handle:
                handle.truncate(self._offset)
                handle.flush()
                os.fsync(handle.fileno())

    @property
    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0
