"""Many rows and row hashes at once: a list of rows kept as one buffer, and a table of row hashes looked up in batches.

:class:`PackedRows` is what reading a file gives: its rows' canonical bytes as one ``uint8`` buffer and ``int64``
offsets (the form :mod:`colearn_jupyter.rowhash` hashes and judges), behaving as a ``list[bytes]`` for whoever
indexes, slices or iterates it, so a million rows are not a million ``bytes`` objects unless someone asks for them.

:class:`DigestTable` holds distinct 32-byte row hashes, each with where it was seen first (the smallest source
number added for it, and in that source the smallest position), and answers for many hashes in one call: a sorted
array of each hash's first 8 bytes is searched, and the whole 32 bytes decide. Two different hashes that share
their first 8 bytes (a contributor can make such rows with about 2**32 tries) are told apart one by one.

>>> import numpy as np
>>> rows = PackedRows(np.frombuffer(b"abcde", dtype=np.uint8), np.array([0, 2, 2, 5]))
>>> len(rows), rows[0], rows[1], rows[-1], rows == [b"ab", b"", b"cde"]
(3, b'ab', b'', b'cde', True)
>>> table = DigestTable()
>>> digests = np.array([[1] * 32, [2] * 32, [1] * 32], dtype=np.uint8)
>>> table.add(digests, source=7)
>>> table.add(digests[:1], source=3)  # an earlier source: it is where the first row was seen first
>>> found = table.find(np.array([[1] * 32, [9] * 32], dtype=np.uint8))
>>> found.tolist(), int(table.sources[found[0]]), int(table.positions[found[0]])
([0, -1], 3, 0)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np

__all__ = ["DigestTable", "PackedRows", "first_occurrences", "heads"]


class PackedRows(Sequence[bytes]):
    """Rows' bytes as one ``uint8`` buffer: row ``m`` is ``data[offsets[m]:offsets[m + 1]]``.

    A read-only ``Sequence[bytes]``: indexing gives ``bytes``, a slice a ``list[bytes]``, and it equals any
    sequence of the same bytes (a list of rows included). The rows are made into ``bytes`` objects only when they
    are iterated or sliced (once, then kept).
    """

    def __init__(self, data: np.ndarray, offsets: np.ndarray, hashes: np.ndarray | None = None):
        self.data = np.ascontiguousarray(data, dtype=np.uint8).reshape(-1)
        self.offsets = np.ascontiguousarray(offsets, dtype=np.int64).reshape(-1)
        if not len(self.offsets):
            raise ValueError("offsets hold one more number than there are rows, so at least one")
        #: ``keccak256`` of each row, an ``(n, 32)`` array, when whoever packed the rows hashed them (else None).
        self.hashes = hashes
        self._list: list[bytes] | None = None

    @classmethod
    def of(cls, rows: Sequence[bytes]) -> PackedRows:
        """Rows given as ``bytes`` (or anything ``bytes()`` takes), packed."""
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        if rows:
            np.cumsum([len(row) for row in rows], out=offsets[1:])
        return cls(np.frombuffer(b"".join(rows), dtype=np.uint8), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, index: int) -> bytes: ...

    @overload
    def __getitem__(self, index: slice) -> list[bytes]: ...

    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        if isinstance(index, slice):
            return self.list()[index]
        count = len(self)
        position = int(index)  # numpy integers too
        if position < 0:
            position += count
        if not 0 <= position < count:
            raise IndexError(f"row {index} is not one of the {count} rows")
        return self.data[self.offsets[position] : self.offsets[position + 1]].tobytes()

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.list())

    def list(self) -> list[bytes]:
        """Every row as ``bytes``, in order (made once, then kept)."""
        if self._list is None:
            start = int(self.offsets[0])
            raw, bounds = self.data[start : int(self.offsets[-1])].tobytes(), (self.offsets - start).tolist()
            self._list = [raw[bounds[m] : bounds[m + 1]] for m in range(len(self))]
        return self._list

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedRows):
            return len(self) == len(other) and self.list() == other.list()
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes, bytearray)):
            return self.list() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, as a list

    def __repr__(self) -> str:
        return f"PackedRows({len(self)} rows, {self.nbytes:,} bytes)"

    @property
    def nbytes(self) -> int:
        """Bytes of all the rows together."""
        return int(self.offsets[-1] - self.offsets[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return PackedRows, (self.data, self.offsets, self.hashes)


def heads(digests: np.ndarray) -> np.ndarray:
    """The first 8 bytes of each 32-byte digest of an ``(n, 32)`` array, as unsigned integers (big-endian)."""
    digests = np.asarray(digests, dtype=np.uint8).reshape(-1, 32)
    return np.ascontiguousarray(digests[:, :8]).view(">u8").reshape(-1).astype(np.uint64)


def _shared(sorted_heads: np.ndarray) -> np.ndarray:
    """Whether each value of a sorted array equals one of its neighbours."""
    shared = np.zeros(len(sorted_heads), dtype=bool)
    if len(sorted_heads) > 1:
        same = sorted_heads[1:] == sorted_heads[:-1]
        shared[1:] |= same
        shared[:-1] |= same
    return shared


def _merged(keys: np.ndarray, values: np.ndarray, more_keys: np.ndarray, more_values: np.ndarray) -> tuple[Any, Any]:
    """Two arrays sorted by ``keys`` with the sorted ``more_keys`` (and their values) merged in: as ``np.insert`` at
    the positions ``np.searchsorted`` gives, without the sort of positions that ``np.insert`` makes."""
    at = np.searchsorted(keys, more_keys, side="right") + np.arange(len(more_keys))  # where each lands
    merged_keys = np.empty(len(keys) + len(more_keys), dtype=keys.dtype)
    merged_values = np.empty(len(merged_keys), dtype=values.dtype)
    old = np.ones(len(merged_keys), dtype=bool)
    old[at] = False
    merged_keys[at], merged_values[at] = more_keys, more_values
    merged_keys[old], merged_values[old] = keys, values
    return merged_keys, merged_values


def first_occurrences(digests: np.ndarray) -> np.ndarray:
    """For each row of an ``(n, 32)`` array of digests, the position of the first row with the same digest (its own
    position when no earlier row has it), as ``int64``.

    >>> first_occurrences(np.array([[1] * 32, [2] * 32, [1] * 32, [2] * 32], dtype=np.uint8)).tolist()
    [0, 1, 0, 1]
    """
    digests = np.asarray(digests, dtype=np.uint8).reshape(-1, 32)
    first = np.arange(len(digests), dtype=np.int64)
    if len(digests) < 2:
        return first
    keys = heads(digests)
    order = np.argsort(keys)
    maybe = np.sort(order[_shared(keys[order])])  # rows whose first 8 bytes another row has: the 32 decide
    if maybe.size:
        seen: dict[bytes, int] = {}
        raw = np.ascontiguousarray(digests[maybe]).tobytes()
        for k, position in enumerate(maybe.tolist()):
            first[position] = seen.setdefault(raw[32 * k : 32 * k + 32], position)
    return first


class DigestTable:
    """Distinct 32-byte digests, each with the source and position where it was seen first (see the module).

    ``sources`` and ``positions`` are indexed by what :meth:`find` returns. Not thread-safe: callers that share a
    table hold a lock of their own around its calls.
    """

    def __init__(self) -> None:
        self._heads = np.zeros(0, dtype=np.uint64)  # first 8 bytes of each digest, sorted
        self._rows = np.zeros(0, dtype=np.int64)  # the stored row of each head, in the same order
        self._shared = np.zeros(0, dtype=bool)  # whether a head equals a neighbour's
        self._digests = np.zeros((0, 32), dtype=np.uint8)  # stored rows, with room to grow
        self._sources = np.zeros(0, dtype=np.int64)
        self._positions = np.zeros(0, dtype=np.int64)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def digests(self) -> np.ndarray:
        """The distinct digests, as an ``(n, 32)`` array (in the order they were added)."""
        return self._digests[: self._count]

    @property
    def sources(self) -> np.ndarray:
        """The source each digest was seen first in (the smallest added for it)."""
        return self._sources[: self._count]

    @property
    def positions(self) -> np.ndarray:
        """The digest's position in that source (the first, when the source holds it more than once)."""
        return self._positions[: self._count]

    def find(self, digests: np.ndarray) -> np.ndarray:
        """The row of each digest in this table (an index of :attr:`sources`), or -1 where it is not here."""
        digests = np.ascontiguousarray(digests, dtype=np.uint8).reshape(-1, 32)
        keys = heads(digests)
        order = np.argsort(keys)  # searched in order: each search starts where the last one ended (5 times faster)
        found = np.empty(len(keys), dtype=np.int64)
        found[order] = self._find_sorted(keys[order], digests[order])
        return found

    def _find_sorted(self, keys: np.ndarray, digests: np.ndarray) -> np.ndarray:
        """:meth:`find` of digests sorted by their ``keys`` (:func:`heads`)."""
        found = np.full(len(digests), -1, dtype=np.int64)
        size = len(self._heads)
        if not size or not len(digests):
            return found
        at = np.searchsorted(self._heads, keys, side="left")
        near = np.minimum(at, size - 1)
        match = self._heads[near] == keys
        alone = np.flatnonzero(match & ~self._shared[near])
        rows = self._rows[near[alone]]
        same = (self._digests[rows] == digests[alone]).all(axis=1)
        found[alone[same]] = rows[same]
        for query in np.flatnonzero(match & self._shared[near]).tolist():  # a run of equal heads: one by one
            slot = int(at[query])
            while slot < size and self._heads[slot] == keys[query]:
                row = int(self._rows[slot])
                if np.array_equal(self._digests[row], digests[query]):
                    found[query] = row
                    break
                slot += 1
        return found

    def add(self, digests: np.ndarray, source: int) -> None:
        """Add the digests of ``source`` (its rows in order): each digest not here yet is kept with ``source`` and
        its first position; one here already takes them when ``source`` is smaller than the one it has."""
        digests = np.ascontiguousarray(digests, dtype=np.uint8).reshape(-1, 32)
        if not len(digests):
            return
        keys = heads(digests)
        order = np.argsort(keys)  # sorted once: to find repeats, to search the table and to merge into it
        keys = keys[order]
        keep = np.ones(len(keys), dtype=bool)
        shared = np.flatnonzero(_shared(keys))  # rows whose first 8 bytes another row has: the 32 bytes decide
        if len(shared):
            shared = shared[np.argsort(order[shared], kind="stable")]  # in the source's order: the first one stays
            seen: set[bytes] = set()
            raw = digests[order[shared]].tobytes()
            for k, slot in enumerate(shared.tolist()):
                digest = raw[32 * k : 32 * k + 32]
                if digest in seen:
                    keep[slot] = False
                seen.add(digest)
        positions, keys = order[keep], keys[keep]  # distinct digests, sorted by their keys, at their first positions
        digests = digests[positions]
        found = self._find_sorted(keys, digests)
        here = found >= 0
        if here.any():
            rows = found[here]
            earlier = self._sources[rows] > source
            if earlier.any():
                self._sources[rows[earlier]] = source
                self._positions[rows[earlier]] = positions[here][earlier]
        new = np.flatnonzero(~here)
        if not len(new):
            return
        added = len(new)
        self._grow(self._count + added)
        rows = np.arange(self._count, self._count + added, dtype=np.int64)
        self._digests[rows] = digests[new]
        self._sources[rows] = source
        self._positions[rows] = positions[new]
        self._count += added
        self._heads, self._rows = _merged(self._heads, self._rows, keys[new], rows)
        self._shared = _shared(self._heads)

    def _grow(self, needed: int) -> None:
        """Room for ``needed`` stored rows (the capacity at least doubles, so adding n rows costs O(n))."""
        if needed <= len(self._sources):
            return
        capacity = max(needed, 2 * len(self._sources), 1024)
        for name, shape in (("_digests", (capacity, 32)), ("_sources", (capacity,)), ("_positions", (capacity,))):
            old = getattr(self, name)
            grown = np.zeros(shape, dtype=old.dtype)
            grown[: self._count] = old[: self._count]
            setattr(self, name, grown)
