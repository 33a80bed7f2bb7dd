"""The embedded store: content-addressed blocks on local disk, with the same CIDs as ``ipfs add``.

Used when no IPFS node is configured. Blocks live under ``<home>/ipfs/blocks`` (one file per block, written
atomically), pins in ``<home>/ipfs/pins.json``. Files are streamed in 256 KiB chunks, never read whole.

>>> import tempfile
>>> store = EmbeddedStorage(tempfile.mkdtemp())
>>> cid = store.add(b"hello world")
>>> store.cat(cid)
b'hello world'
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from filelock import FileLock

from .base import Source, Storage, iter_chunks
from .cid import decode_cid
from .unixfs import FileBlocks, FileBuilder, MissingContentError


class EmbeddedStorage(Storage):
    """Blocks in files under ``<home>/ipfs``; safe for several processes at once."""

    name = "embedded"

    def __init__(self, home: str | os.PathLike[str]):
        self.root = Path(home) / "ipfs"
        self.blocks_dir = self.root / "blocks"
        self.blocks_dir.mkdir(parents=True, exist_ok=True)
        self._pins_file = self.root / "pins.json"
        self._lock = FileLock(str(self.root / "pins.lock"), timeout=60)

    def _path(self, cid: str) -> Path:
        key = str(decode_cid(cid))  # normalised, and refuses junk before it reaches the file system
        return self.blocks_dir / key[-2:] / key

    # ------------------------------------------------------------------------------------------------ blocks
    def put_block(self, cid: str, block: bytes | memoryview) -> None:
        path = self._path(cid)
        if path.exists():
            return
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(block)
        os.replace(tmp, path)

    def get_block(self, cid: str) -> bytes:
        try:
            return self._path(cid).read_bytes()
        except FileNotFoundError:
            raise MissingContentError(f"block {cid} is not in the embedded store") from None

    def has_block(self, cid: str) -> bool:
        return self._path(cid).exists()

    def delete_block(self, cid: str) -> None:
        self._path(cid).unlink(missing_ok=True)

    def all_blocks(self) -> list[str]:
        return [p.name for p in self.blocks_dir.glob("*/*") if not p.name.startswith(".")]

    # ------------------------------------------------------------------------------------------------ files
    def add(self, source: Source, *, pin: bool = True) -> str:
        builder = FileBuilder(self.put_block)
        for chunk in iter_chunks(source):
            builder.write(chunk)
        cid, _ = builder.finish()
        if pin:
            self.pin(cid)
        return cid

    def add_blocks(self, prepared: FileBlocks, *, pin: bool = True) -> str:
        for cid, block in prepared.blocks:  # hashed when they were cut: written as they are
            self.put_block(cid, block)
        if pin:
            self.pin(prepared.cid)
        return prepared.cid

    # ------------------------------------------------------------------------------------------------ pins
    def _read_pins(self) -> set[str]:
        try:
            return set(json.loads(self._pins_file.read_text()))
        except (OSError, ValueError):
            return set()

    def _write_pins(self, pins: set[str]) -> None:
        tmp = self._pins_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(pins)))
        os.replace(tmp, self._pins_file)

    def pin(self, cid: str) -> None:
        key = str(decode_cid(cid))
        for block in self.blocks(key):  # every block must be here and intact
            if not self.has_block(block):
                raise MissingContentError(f"cannot pin {key}: block {block} is missing")
        with self._lock:
            self._write_pins(self._read_pins() | {key})

    def unpin(self, cid: str) -> None:
        with self._lock:
            self._write_pins(self._read_pins() - {str(decode_cid(cid))})

    def pins(self) -> set[str]:
        return self._read_pins()

    def gc(self, keep: Iterable[str] = ()) -> list[str]:
        """Delete every block that no pin and no file of ``keep`` reaches; returns the deleted CIDs.

        >>> import tempfile
        >>> store = EmbeddedStorage(tempfile.mkdtemp())
        >>> loose, kept = store.add(b"loose", pin=False), store.add(b"on chain", pin=False)
        >>> store.gc(keep={kept}) == [loose], store.holds(kept)
        (True, True)
        """
        with self._lock:
            live: set[str] = set()
            for root in self._read_pins() | set(keep):
                live.update(self.held_blocks(root))
            removed = [cid for cid in self.all_blocks() if cid not in live]
            for cid in removed:
                self.delete_block(cid)
        return removed

    @property
    def location(self) -> str:
        return str(self.root)
