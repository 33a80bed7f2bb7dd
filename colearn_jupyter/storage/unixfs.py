"""UnixFS files as ``ipfs add --cid-version=1`` builds them, and their verified reading.

Layout (kubo's defaults for CIDv1): the bytes are cut in 256 KiB chunks, each a raw block (codec ``raw``); a file
of one chunk is that block. Larger files get a balanced tree of dag-pb nodes with at most 174 links each; every
node carries a UnixFS ``File`` record with the file size under it and the size of each child. A node's link
records the child's CID, an empty name, and the child's cumulative block size.

Reading walks the tree from the root and checks every block against its CID before using it, so a flipped byte
anywhere raises :class:`IntegrityError` before any of that block's data is returned. A DAG from someone else is
also bounded in shape: at most :data:`MAX_DEPTH` levels, and at most :data:`BLOCK_ALLOWANCE` blocks plus one per
:data:`BYTES_PER_BLOCK` bytes it yields, so a few small blocks that link to each other over and over (empty
leaves linked 174 times a level, a chain thousands of levels deep) are refused with :class:`IntegrityError` at
once instead of being read for ever or overflowing the stack. Walking a file's blocks (to pin, keep or collect
them) visits each distinct block once.

>>> builder = FileBuilder()
>>> builder.write(b"hello world")
>>> builder.finish()[0]
'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..errors import ColearnError
from .cid import CID, DAG_PB, RAW, decode_cid, make_cid, read_varint, varint

CHUNK_SIZE = 256 * 1024
MAX_LINKS = 174
#: Levels of links a file's DAG may have: ``ipfs add`` builds 4 for a terabyte in 256 KiB chunks.
MAX_DEPTH = 32
#: Blocks a read may fetch before the file's bytes pay for them (the nodes above the first leaf)...
BLOCK_ALLOWANCE = 64
#: ...and then one more block per this many bytes yielded (``ipfs add``'s chunkers cut 87 KiB or more).
BYTES_PER_BLOCK = 4096
_UNIXFS_FILE = 2
_UNIXFS_RAW = 0


class IntegrityError(ColearnError):
    """Fetched bytes do not match the CID that names them: nothing of the block is returned or kept."""


class MissingContentError(ColearnError, KeyError):
    """A block is in neither the store nor (for IPFS) reachable from the node."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "missing content"


@dataclass(frozen=True)
class _Link:
    cid: CID
    tsize: int  # cumulative block bytes under the link
    filesize: int  # file bytes under the link


# ---------------------------------------------------------------------------------------------------- protobuf
def _field(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def _bytes_field(number: int, value: bytes) -> bytes:
    return _field(number, 2) + varint(len(value)) + value


def _encode_node(links: list[_Link]) -> bytes:
    """A dag-pb node of a UnixFS file: links first, then the UnixFS record (dag-pb's canonical order)."""
    unixfs = _field(1, 0) + varint(_UNIXFS_FILE) + _field(3, 0) + varint(sum(link.filesize for link in links))
    unixfs += b"".join(_field(4, 0) + varint(link.filesize) for link in links)
    out = bytearray()
    for link in links:
        body = _bytes_field(1, link.cid.to_bytes()) + _bytes_field(2, b"") + _field(3, 0) + varint(link.tsize)
        out += _bytes_field(2, body)
    out += _bytes_field(1, unixfs)
    return bytes(out)


def _parse_fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(data, pos)
            yield number, value
        elif wire == 2:
            length, pos = read_varint(data, pos)
            if pos + length > len(data):
                raise ValueError("truncated protobuf field")
            yield number, data[pos : pos + length]
            pos += length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


def decode_node(block: bytes) -> tuple[list[CID], bytes, int | None]:
    """Links, inline data and declared file size of a dag-pb UnixFS node."""
    links: list[CID] = []
    unixfs = b""
    for number, value in _parse_fields(block):
        if number == 2 and isinstance(value, bytes):
            for sub_number, sub_value in _parse_fields(value):
                if sub_number == 1 and isinstance(sub_value, bytes):
                    links.append(decode_cid(sub_value))
        elif number == 1 and isinstance(value, bytes):
            unixfs = value
    data, filesize, kind = b"", None, None
    for number, value in _parse_fields(unixfs):
        if number == 1:
            kind = value
        elif number == 2 and isinstance(value, bytes):
            data = value
        elif number == 3 and isinstance(value, int):
            filesize = value
    if kind not in (None, _UNIXFS_FILE, _UNIXFS_RAW):
        raise ValueError("this block is not a UnixFS file (a directory or symlink?)")
    return links, data, filesize


# ---------------------------------------------------------------------------------------------------- building
class FileBuilder:
    """Builds the blocks of a file chunk by chunk; memory holds one chunk plus one small record per chunk.

    ``put(cid, block)`` is called for every block, leaves first, root last (for example to store them).
    """

    def __init__(self, put: Callable[[str, bytes | memoryview], None] | None = None):
        self._put = put
        self._pending = bytearray()
        self._leaves: list[_Link] = []
        self.size = 0

    def write(self, data: bytes | memoryview) -> None:
        """Add the next bytes of the file. Whole chunks of ``data`` are hashed (and given to ``put``) as views of
        it, not copies: ``data`` must not change while the builder or ``put`` holds them."""
        view = memoryview(data).cast("B")
        self.size += len(view)
        if self._pending:
            taken = CHUNK_SIZE - len(self._pending)
            self._pending += view[:taken]
            view = view[taken:]
            if len(self._pending) < CHUNK_SIZE:
                return
            self._leaf(bytes(self._pending))
            self._pending.clear()
        while len(view) >= CHUNK_SIZE:
            self._leaf(view[:CHUNK_SIZE])
            view = view[CHUNK_SIZE:]
        self._pending += view

    def _emit(self, block: bytes | memoryview, codec: int) -> CID:
        cid = make_cid(block, codec)
        if self._put is not None:
            self._put(str(cid), block)
        return cid

    def _leaf(self, chunk: bytes | memoryview) -> None:
        self._leaves.append(_Link(self._emit(chunk, RAW), len(chunk), len(chunk)))

    def finish(self) -> tuple[str, int]:
        """Flush the last chunk and build the tree; returns ``(root CID, file size)``."""
        if self._pending or not self._leaves:
            self._leaf(bytes(self._pending))
            self._pending.clear()
        level = self._leaves
        while len(level) > 1:
            parents = []
            for start in range(0, len(level), MAX_LINKS):
                links = level[start : start + MAX_LINKS]
                node = _encode_node(links)
                tsize = len(node) + sum(link.tsize for link in links)
                parents.append(_Link(self._emit(node, DAG_PB), tsize, sum(link.filesize for link in links)))
            level = parents
        return str(level[0].cid), self.size


def file_cid(data: bytes) -> str:
    """The CID a store gives ``data`` (computed locally, nothing stored).

    >>> file_cid(b"hello world")
    'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'
    """
    builder = FileBuilder()
    builder.write(bytes(data))
    return builder.finish()[0]


@dataclass(frozen=True)
class FileBlocks:
    """A file's bytes cut into its blocks, each with its CID, root last: what storing it writes, hashed once.

    The leaves are views of ``data`` (no copy); :meth:`Storage.add_blocks` stores them without hashing again.
    Built only by :func:`file_blocks` from bytes this process holds, so every block is what its CID names.

    >>> blocks = file_blocks(b"hello world")
    >>> blocks.cid == file_cid(b"hello world"), len(blocks.blocks)
    (True, 1)
    """

    cid: str
    data: bytes
    blocks: tuple[tuple[str, bytes | memoryview], ...]


def file_blocks(data: bytes) -> FileBlocks:
    """The blocks and CID of ``data`` (immutable bytes), computed once (see :class:`FileBlocks`)."""
    data = bytes(data)  # a copy only when given something mutable
    blocks: list[tuple[str, bytes | memoryview]] = []
    builder = FileBuilder(lambda cid, block: blocks.append((cid, block)))
    builder.write(data)
    return FileBlocks(builder.finish()[0], data, tuple(blocks))


# ---------------------------------------------------------------------------------------------------- reading
def read_file(cid: str | CID, get_block: Callable[[str], bytes]) -> Iterator[bytes]:
    """The file's bytes in order, every block checked against its CID before it is used.

    Raises :class:`IntegrityError` as soon as the DAG nests deeper than :data:`MAX_DEPTH`, needs more blocks than
    its bytes allow (:data:`BLOCK_ALLOWANCE`, :data:`BYTES_PER_BLOCK`), or yields more bytes than a node declares.
    """
    yield from _read(decode_cid(cid), get_block, _Reading(), 0)


def verified_block(cid: CID, get_block: Callable[[str], bytes]) -> bytes:
    block = get_block(str(cid))
    if not cid.matches(block):
        raise IntegrityError(f"block {cid} does not match its CID: the store holds corrupt or forged data")
    return block


@dataclass
class _Reading:
    """What one read has fetched and yielded so far."""

    blocks: int = 0
    produced: int = 0


def _read(cid: CID, get_block: Callable[[str], bytes], reading: _Reading, depth: int) -> Iterator[bytes]:
    if depth > MAX_DEPTH:
        raise IntegrityError(f"{cid} is more than {MAX_DEPTH} links below the file's root: not a file ipfs add builds")
    reading.blocks += 1
    if reading.blocks > BLOCK_ALLOWANCE + reading.produced // BYTES_PER_BLOCK:
        raise IntegrityError(
            f"the file needs more than {reading.blocks - 1:,} blocks for {reading.produced:,} bytes: a DAG of tiny or "
            "empty blocks linked over and over, not a file ipfs add builds; it is not read further"
        )
    block = verified_block(cid, get_block)
    if cid.codec == RAW:
        reading.produced += len(block)
        yield block
        return
    if cid.codec != DAG_PB:
        raise IntegrityError(f"{cid} is neither a raw block nor a UnixFS node")
    links, data, filesize = decode_node(block)
    start = reading.produced
    if data:
        reading.produced += len(data)
        yield data
    for link in links:
        for piece in _read(link, get_block, reading, depth + 1):
            if filesize is not None and reading.produced - start > filesize:
                raise IntegrityError(f"{cid} declares {filesize} bytes but its blocks hold more")
            yield piece
    if filesize is not None and reading.produced - start != filesize:
        raise IntegrityError(f"{cid} declares {filesize} bytes but its blocks hold {reading.produced - start}")


def walk_blocks(cid: str | CID, get_block: Callable[[str], bytes]) -> Iterator[str]:
    """Every distinct block CID of a file, root first (used to pin and to garbage-collect); raises
    :class:`IntegrityError` for a DAG deeper than :data:`MAX_DEPTH`."""
    yield from _walk(decode_cid(cid), get_block, set(), 0)


def _walk(parsed: CID, get_block: Callable[[str], bytes], seen: set[str], depth: int) -> Iterator[str]:
    key = str(parsed)
    if key in seen:  # a subtree linked again (a file of repeated chunks, or a DAG built to be walked for ever)
        return
    if depth > MAX_DEPTH:
        raise IntegrityError(f"{key} is more than {MAX_DEPTH} links below the file's root: not a file ipfs add builds")
    seen.add(key)
    yield key
    if parsed.codec == DAG_PB:
        links, _, _ = decode_node(verified_block(parsed, get_block))
        for link in links:
            yield from _walk(link, get_block, seen, depth + 1)
