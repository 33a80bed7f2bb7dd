"""The storage interface shared by the IPFS and embedded backends.

A backend knows how to put, get, list and delete blocks, and how to pin roots. Everything above blocks (chunking
files into a UnixFS DAG, verifying every block against its CID while reading, writing fetched files atomically)
lives here once, so both backends behave alike and produce the same CIDs.

>>> from colearn_jupyter.storage import open_storage
>>> store = open_storage()                       # doctest: +SKIP
>>> cid = store.add(b"hello world")              # doctest: +SKIP
>>> store.cat(cid)                               # doctest: +SKIP
b'hello world'
"""

from __future__ import annotations

import io
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import ColearnError
from .cid import CID, DAG_PB, decode_cid
from .unixfs import (
    CHUNK_SIZE,
    MAX_DEPTH,
    FileBlocks,
    MissingContentError,
    decode_node,
    read_file,
    verified_block,
    walk_blocks,
)

Source = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO

#: Seconds of work before a progress bar appears.
PROGRESS_DELAY_S = 2.0

#: Files larger than this are refused by :meth:`Storage.cat`; use :meth:`Storage.open` or :meth:`Storage.get`.
CAT_LIMIT = 256 * 1024 * 1024


def _open_source(source: Source) -> BinaryIO:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    if isinstance(source, (str, os.PathLike)):
        return open(source, "rb")
    return source


def _progress(description: str, total: int | None = None) -> Any:
    """A byte progress bar that appears only when the work lasts more than two seconds."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total, desc=description, unit="B", unit_scale=True, unit_divisor=1024, delay=PROGRESS_DELAY_S, leave=False
    )


def iter_chunks(source: Source, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Read a source (bytes, path or binary file) in chunks, never whole, with a progress bar on long reads."""
    handle = _open_source(source)
    total = os.path.getsize(source) if isinstance(source, (str, os.PathLike)) else None
    try:
        with _progress("storing", total) as bar:
            while chunk := handle.read(size):
                bar.update(len(chunk))
                yield chunk
    finally:
        if handle is not source:
            handle.close()


class Storage(ABC):
    """Content-addressed storage of files. Every read is verified against the CID."""

    #: Short name shown to users, e.g. ``"embedded"`` or ``"ipfs"``.
    name: str = "storage"

    # ------------------------------------------------------------------------------------------------ backend
    @abstractmethod
    def add(self, source: Source, *, pin: bool = True) -> str:
        """Store a file (bytes, path or binary file object, streamed) and return its CIDv1."""

    def add_blocks(self, prepared: FileBlocks, *, pin: bool = True) -> str:
        """Store a file whose blocks this process computed already (:func:`~.unixfs.file_blocks`) and return its
        CID. This store adds the bytes as :meth:`add` does; a store that writes blocks itself writes these without
        hashing them again."""
        return self.add(prepared.data, pin=pin)

    @abstractmethod
    def get_block(self, cid: str) -> bytes:
        """The raw bytes of one block, unverified (callers verify). Raises :class:`MissingContentError` when absent."""

    @abstractmethod
    def has_block(self, cid: str) -> bool:
        """Whether the block is available without fetching from elsewhere."""

    @abstractmethod
    def pin(self, cid: str) -> None:
        """Keep a file and every block under it through garbage collection."""

    @abstractmethod
    def unpin(self, cid: str) -> None:
        """Let garbage collection remove a file's blocks (unless another pin needs them)."""

    @abstractmethod
    def pins(self) -> set[str]:
        """The pinned root CIDs."""

    @abstractmethod
    def gc(self, keep: Iterable[str] = ()) -> list[str]:
        """Remove blocks that no pin and no file of ``keep`` needs; returns the removed block CIDs.

        ``keep`` names files to keep whether pinned or not (``colearn storage gc`` passes every file the
        marketplace references on chain), so unpinning a file by hand never loses what the chain points to.
        """

    @property
    def location(self) -> str:
        """Where the files are, e.g. a directory or a node's URL: records of files kept for later name it."""
        return self.name

    # ------------------------------------------------------------------------------------------------ reading
    def open(self, cid: str) -> Iterator[bytes]:
        """The file's bytes in pieces, each block verified before it is returned."""
        return read_file(decode_cid(cid), self.get_block)

    def cat(self, cid: str, *, limit: int = CAT_LIMIT) -> bytes:
        """The whole file as bytes (verified); refuses files above ``limit`` bytes."""
        out = bytearray()
        for piece in self.open(cid):
            out += piece
            if len(out) > limit:
                raise MemoryError(f"{cid} is larger than {limit} bytes: use get(cid, path) or open(cid)")
        return bytes(out)

    def get(self, cid: str, path: str | os.PathLike[str]) -> Path:
        """Write the file to ``path``; on an integrity error nothing is left at ``path``."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle, _progress("fetching") as bar:
                for piece in self.open(cid):
                    handle.write(piece)
                    bar.update(len(piece))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def blocks(self, cid: str) -> Iterable[str]:
        """Every block CID of a file, root first (verified as it is walked)."""
        return walk_blocks(cid, self.get_block)

    def held_blocks(self, cid: str) -> Iterator[str]:
        """The distinct blocks of a file this store holds now, root first; never fetches, never raises for missing
        ones.

        A block that is absent, or present but not what its CID names, or more than :data:`~.unixfs.MAX_DEPTH`
        links below the root, ends the walk below it. A block linked again is not walked again.
        """
        try:
            parsed = decode_cid(cid)
        except ValueError:
            return
        yield from self._held_blocks(parsed, set(), 0)

    def _held_blocks(self, parsed: CID, seen: set[str], depth: int) -> Iterator[str]:
        key = str(parsed)
        if key in seen or depth > MAX_DEPTH or not self.has_block(key):
            return
        seen.add(key)
        yield key
        if parsed.codec != DAG_PB:
            return
        try:
            links, _, _ = decode_node(verified_block(parsed, self.get_block))
        except (ColearnError, ValueError):
            return
        for link in links:
            yield from self._held_blocks(link, seen, depth + 1)

    def holds(self, cid: str) -> bool:
        """Whether every block of the file is in this store now (without fetching any from elsewhere).

        >>> import tempfile
        >>> from colearn_jupyter.storage import EmbeddedStorage
        >>> store = EmbeddedStorage(tempfile.mkdtemp())
        >>> store.holds(store.add(b"kept")), store.holds("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
        (True, False)
        """
        try:
            return all(self.has_block(block) for block in walk_blocks(cid, self._held_block))
        except (ColearnError, ValueError):
            return False

    def _held_block(self, cid: str) -> bytes:
        if not self.has_block(cid):
            raise MissingContentError(f"block {cid} is not held here")
        return self.get_block(cid)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
