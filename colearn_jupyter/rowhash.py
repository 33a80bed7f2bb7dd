"""Keccak-256 of many rows at once, their keyed Merkle leaves, tree levels and row faults, as compiled batch loops.

These are the batch forms of :func:`colearn_jupyter.merkle.row_leaf`, the pairwise nodes of
:class:`colearn_jupyter.merkle.MerkleTree` and :func:`colearn_jupyter.formats.data.row_fault`, byte for byte the same
(``tests/test_rowhash.py`` compares them on varied and hostile inputs). Rows travel as one ``uint8`` buffer and
``int64`` offsets (row ``m`` is ``data[offsets[m]:offsets[m + 1]]``), digests and nodes as ``(n, 32)`` ``uint8``
arrays, so a million rows cost a few arrays instead of millions of ``bytes`` objects.

Large batches (at least :data:`NATIVE_MIN` items) run in the numba kernels of :mod:`colearn_jupyter._kernels`,
split across the machine's cores; smaller ones, and every batch where numba cannot be imported, run the reference
code in Python (one ``keccak256`` call per hash), which needs no compilation. Importing numba costs about half a
second, so a small publish (the first call of a notebook) never pays it; once the kernels are loaded, they serve
every batch of the process.

>>> import numpy as np
>>> from eth_hash.auto import keccak
>>> data, offsets = pack([b"row a", b"", b"row c"])
>>> digests = keccak_rows(data, offsets)
>>> [bytes(d) for d in digests] == [keccak(b"row a"), keccak(b""), keccak(b"row c")]
True
>>> parent_level(digests).shape  # the odd node moves up unchanged
(2, 32)
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "NATIVE_MIN",
    "as_list",
    "keccak_rows",
    "keyed_leaves",
    "native",
    "ordered_map",
    "pack",
    "parent_level",
    "parts",
    "row_faults",
    "split",
    "warm_up",
]

#: Batches with fewer items run the reference code, unless the kernels are already loaded in this process.
NATIVE_MIN = 2048
#: ``auto`` (kernels for large batches), ``native`` (always the kernels) or ``reference`` (never): for tests and
#: benchmarks; the environment variable ``COLEARN_ROWHASH`` sets the default.
MODE = os.environ.get("COLEARN_ROWHASH", "auto")
_PARALLEL_MIN = 8192  # items per thread, at least, before a batch is split across threads
_lock = threading.Lock()
_loaded: ModuleType | None = None
_unavailable = False
_pool: ThreadPoolExecutor | None = None
_END = object()


def _forked() -> None:
    """In a forked child the parent's worker threads do not exist: tasks given to its pool would wait forever, so the
    child starts a pool (and a lock) of its own when it needs one."""
    global _pool, _lock
    _pool, _lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def _threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def _kernels() -> ModuleType | None:
    global _loaded, _unavailable
    if _loaded is None and not _unavailable:
        with _lock:
            if _loaded is None and not _unavailable:
                try:
                    from . import _kernels
                except (ImportError, OSError):  # no numba (or no llvmlite library) here: the reference code serves
                    _unavailable = True
                else:
                    _loaded = _kernels
    return _loaded


def native(count: int) -> bool:
    """Whether a batch of ``count`` items runs in the compiled kernels (see :data:`MODE`); once they are loaded,
    every batch does."""
    if MODE == "reference" or (MODE != "native" and count < NATIVE_MIN and _loaded is None):
        return False
    return _kernels() is not None


def _workers() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(_threads(), thread_name_prefix="colearn-rowhash")
    return _pool


def split(count: int, run: Callable[[int, int], Any], *, parallel: bool = True) -> None:
    """Call ``run(first, last)`` over ``range(count)`` in parts, on the worker threads when it is large."""
    parts = min(_threads(), count // _PARALLEL_MIN) if parallel else 1
    if parts <= 1:
        if count:
            run(0, count)
        return
    bounds = [count * part // parts for part in range(parts + 1)]
    for future in [_workers().submit(run, bounds[p], bounds[p + 1]) for p in range(parts)]:
        future.result()


def parts(count: int, *, most: int) -> list[tuple[int, int]]:
    """``range(count)`` cut into consecutive ``(first, last)`` parts of at most ``most`` items, and enough of
    them (four per thread) for :func:`ordered_map` to keep every core busy."""
    if count <= 0:
        return []
    size = max(1, min(most, max(NATIVE_MIN // 2, -(-count // (4 * _threads())))))
    return [(first, min(count, first + size)) for first in range(0, count, size)]


def ordered_map(function: Callable[[Any], Any], items: Sequence[Any], *, total: int) -> Iterator[Any]:
    """``function(item)`` of every item, in order. When a batch of ``total`` items runs in the kernels, the calls run
    on the worker threads, a few ahead of the caller (so NumPy work, which releases the GIL, and the kernels overlap
    across cores); ``function`` must then only call the kernels with ``parallel=False``."""
    if not native(total) or _threads() == 1 or len(items) == 1:
        yield from map(function, items)
        return
    pool, ahead = _workers(), _threads() + 1
    pending = deque(pool.submit(function, item) for item in items[:ahead])
    following = iter(items[ahead:])
    try:
        while pending:
            result = pending.popleft().result()
            item = next(following, _END)
            if item is not _END:
                pending.append(pool.submit(function, item))
            yield result
    finally:
        for future in pending:
            future.cancel()


def pack(rows: Sequence[bytes | bytearray | memoryview]) -> tuple[np.ndarray, np.ndarray]:
    """Rows as one ``uint8`` buffer and their ``int64`` offsets (``len(rows) + 1`` of them)."""
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    if rows:
        np.cumsum([len(row) for row in rows], out=offsets[1:])
    return np.frombuffer(b"".join(rows), dtype=np.uint8), offsets


def _input(array: np.ndarray, dtype: Any) -> np.ndarray:
    """A contiguous read-only view of a kernel's input: numba compiles a kernel once per array type, and writable
    and read-only arrays are different types, so every input is passed read-only (one compilation, not two)."""
    view = np.ascontiguousarray(array, dtype=dtype).view()
    view.flags.writeable = False
    return view


def as_list(nodes: np.ndarray) -> list[bytes]:
    """An ``(n, 32)`` array of digests as a list of 32-byte ``bytes``."""
    raw = np.ascontiguousarray(nodes, dtype=np.uint8).tobytes()
    return [raw[i : i + 32] for i in range(0, len(raw), 32)]


def _keccak() -> Callable[[bytes], bytes]:
    from eth_hash.auto import keccak

    return keccak


def keccak_rows(data: np.ndarray, offsets: np.ndarray, *, parallel: bool = True) -> np.ndarray:
    """``keccak256`` of every row of ``data`` (split at ``offsets``), as an ``(n, 32)`` array (on one thread
    unless ``parallel``)."""
    count = len(offsets) - 1
    out = np.empty((count, 32), dtype=np.uint8)
    data, offsets = _input(data, np.uint8), _input(offsets, np.int64)
    if native(count):
        kernels = _kernels()
        assert kernels is not None
        split(count, lambda first, last: kernels.keccak_many(data, offsets, out, first, last), parallel=parallel)
    else:
        keccak, view = _keccak(), memoryview(data)
        for m in range(count):
            out[m] = np.frombuffer(keccak(view[offsets[m] : offsets[m + 1]].tobytes()), dtype=np.uint8)
    return out


def keyed_leaves(digests: np.ndarray, keys: bytes | np.ndarray, start: int = 0) -> np.ndarray:
    """The leaves ``keccak256(keccak256(key ++ uint256(start + m) ++ digests[m]))`` of rows ``start``, ``start + 1``,
    ...: one ``key`` (32 bytes) for all, or ``keys`` as an ``(n, 32)`` array, one per row."""
    count = len(digests)
    if count and start + count > 2**63:
        raise ValueError(f"row index {start + count - 1} is beyond this implementation's 2**63")
    one = isinstance(keys, (bytes, bytearray))
    key_array = np.frombuffer(bytes(keys), dtype=np.uint8).reshape(1, 32) if one else np.asarray(keys, np.uint8)
    if key_array.shape[1:] != (32,) or (not one and len(key_array) != count):
        raise ValueError(f"give one 32-byte key, or one per row ({count}), not an array of shape {key_array.shape}")
    digests, key_array = _input(digests, np.uint8), _input(key_array, np.uint8)
    out = np.empty((count, 32), dtype=np.uint8)
    if native(count):
        kernels = _kernels()
        assert kernels is not None
        split(count, lambda first, last: kernels.leaves(digests, key_array, one, start, out, first, last))
    else:
        keccak = _keccak()
        for m in range(count):
            key = key_array[0 if one else m].tobytes()
            inner = keccak(key + (start + m).to_bytes(32, "big") + digests[m].tobytes())
            out[m] = np.frombuffer(keccak(inner), dtype=np.uint8)
    return out


def parent_level(level: np.ndarray) -> np.ndarray:
    """The next level up of a positional tree: ``keccak256(left ++ right)`` of each pair, then the odd last node
    unchanged."""
    count = len(level)
    pairs = count // 2
    out = np.empty(((count + 1) // 2, 32), dtype=np.uint8)
    level = _input(level, np.uint8)
    if native(pairs):
        kernels = _kernels()
        assert kernels is not None
        split(pairs, lambda first, last: kernels.parents(level, out, first, last))
    else:
        keccak = _keccak()
        for k in range(pairs):
            out[k] = np.frombuffer(keccak(level[2 * k : 2 * k + 2].tobytes()), dtype=np.uint8)
    if count % 2:
        out[-1] = level[-1]
    return out


def row_faults(data: np.ndarray, offsets: np.ndarray, schema: tuple[bytes, list[bytes], int, int, int]) -> np.ndarray:
    """The fault number of every row (0 for none) under the contract's ``RowSchema`` ``schema`` (the tuple of
    :func:`colearn_jupyter.formats.data.onchain_schema`), as ``formats.data.row_fault`` gives it row by row."""
    columns, labels, max_float_bits, max_int, max_string_bytes = schema
    count = len(offsets) - 1
    out = np.zeros(count, dtype=np.int8)
    data, offsets = _input(data, np.uint8), _input(offsets, np.int64)
    if native(count):
        kernels = _kernels()
        assert kernels is not None
        tags = _input(np.frombuffer(columns, dtype=np.uint8), np.uint8)
        label_data, label_offsets = (_input(a, a.dtype) for a in pack(labels))
        bounds = (np.uint64(max_float_bits), np.int64(max_int), np.int64(max_string_bytes))
        split(
            count,
            lambda first, last: kernels.row_faults(
                data, offsets, tags, *bounds, label_data, label_offsets, out, first, last
            ),
        )
    else:
        from .formats.data import _row_fault_onchain

        view = memoryview(data)
        for m in range(count):
            out[m] = _row_fault_onchain(schema, view[offsets[m] : offsets[m + 1]].tobytes())
    return out


def warm_up() -> float:
    """Load every kernel now (import numba, read the machine code from its cache or compile it: seconds the first
    time on a machine), instead of during the first large batch; returns the seconds it took (0 without numba)."""
    import time

    start = time.perf_counter()
    kernels = _kernels()
    if kernels is None:
        return 0.0
    data, offsets = pack([b"f" + bytes(8), b"b\x01"])
    digests = keccak_rows(data, offsets)
    parent_level(keyed_leaves(digests, bytes(32)))
    keyed_leaves(digests, digests)
    row_faults(data, offsets, (b"f", [b"b\x01"], 0, 0, 0))
    return time.perf_counter() - start


def loaded() -> bool:
    """Whether this process has loaded the compiled kernels (numba imported, kernels compiled or read from cache)."""
    return _loaded is not None and "numba" in sys.modules
