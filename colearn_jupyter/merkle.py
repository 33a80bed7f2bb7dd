"""Merkle commitments to the rows of a file, exactly as the marketplace contract checks them (``colearn-tree-v2``).

**Keyed leaves.** Row ``i`` (zero based, in file order) with canonical bytes ``row`` has the leaf

    ``keccak256(keccak256(abi.encode(bytes32 key, uint256 i, bytes32 keccak256(row))))``

(:func:`row_leaf`). The key binds the row to whoever committed to it: a submission or a training set uses its
owner's address left-padded to 32 bytes (:func:`contributor_key`), so a row cannot be replayed under another
account; the hidden test set gives every row its own nonce ``keccak256(abi.encode(bytes32 salt, uint256 i))``
(:func:`test_row_nonce`), so revealing one row says nothing about the others. The leaf is hashed twice so that no
leaf can pass for an inner node.

**Positional tree bound to the row count.** Level by level, the nodes ``2k`` and ``2k + 1`` become
``keccak256(left ++ right)`` in that order (not sorted); on a level with an odd number of nodes the last one
moves up unchanged; the root of a one-row tree is its leaf. The path of a row is fixed by its index and the row
count the contract stores with the root, so :func:`verify_proof` accepts exactly one proof length for each
``(index, count)`` and no proof for an index outside the file.

>>> key = contributor_key("0x00000000000000000000000000000000000000a1")
>>> tree = MerkleTree([b"row a", b"row b", b"row c"], key=key)
>>> len(tree), len(tree.proof(2))
(3, 1)
>>> verify_proof(tree.root, 3, key, 2, b"row c", tree.proof(2))
True
>>> verify_proof(tree.root, 3, key, 2, b"row x", tree.proof(2))
False
>>> verify_proof(tree.root, 4, key, 2, b"row c", tree.proof(2))  # the row count is part of the commitment
False
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Sequence

import numpy as np
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from . import rowhash
from .onchain import encode_onchain_row  # on-chain rows are not in trees; kept here for existing imports
from .rowsets import PackedRows

__all__ = [
    "MerkleTree",
    "contributor_key",
    "encode_onchain_row",
    "reference_levels",
    "row_leaf",
    "test_row_nonce",
    "verify_proof",
]

TREE_VERSION = "colearn-tree-v2"
_ADDRESS = re.compile(r"0[xX][0-9a-fA-F]{40}")


def _bytes32(value: bytes, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        raise ValueError(f"{what} must be 32 bytes, got {value!r}")
    return bytes(value)


def contributor_key(address: str) -> bytes:
    """The leaf key of a contributor's rows: ``bytes32(uint256(uint160(address)))``.

    >>> contributor_key("0x00000000000000000000000000000000000000A1").hex()
    '00000000000000000000000000000000000000000000000000000000000000a1'
    """
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address.strip()):
        raise ValueError(f"{address!r} is not an Ethereum address (0x followed by 40 hex digits)")
    return bytes(12) + bytes.fromhex(address.strip()[2:])


def test_row_nonce(salt: bytes, index: int) -> bytes:
    """The leaf key of row ``index`` of a hidden test set: ``keccak256(abi.encode(bytes32 salt, uint256 index))``.

    >>> test_row_nonce(bytes(32), 0) == keccak(bytes(64))
    True
    """
    return keccak(abi_encode(["bytes32", "uint256"], [_bytes32(salt, "the test-set salt"), index]))


test_row_nonce.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, whatever its name


def row_leaf(key: bytes, index: int, row: bytes) -> bytes:
    """The leaf committing to row number ``index`` (zero based) with canonical bytes ``row`` under ``key``.

    >>> leaf = row_leaf(bytes(32), 1, b"row")
    >>> leaf == keccak(keccak(abi_encode(["bytes32", "uint256", "bytes32"], [bytes(32), 1, keccak(b"row")])))
    True
    """
    index = operator.index(index)
    if not 0 <= index < 2**256:
        raise ValueError(f"row index {index} is not a uint256")
    if not isinstance(row, (bytes, bytearray, memoryview)):
        raise TypeError(f"a row is bytes, not {type(row).__name__}")
    # abi.encode(bytes32, uint256, bytes32) is three 32-byte words, written out directly: the ABI encoder would
    # double the time it takes to hash a million rows.
    return keccak(keccak(_bytes32(key, "a leaf key") + index.to_bytes(32, "big") + keccak(bytes(row))))


def verify_proof(root: bytes, count: int, key: bytes, index: int, row: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``row`` is row ``index`` of the ``count``-row tree with ``root`` and leaf key ``key``.

    Recomputes the path exactly as the contract does and returns False, never raising, for an index outside the
    tree, an empty tree, or a proof of the wrong length.

    >>> leaf = row_leaf(bytes(32), 0, b"only")
    >>> verify_proof(leaf, 1, bytes(32), 0, b"only", [])
    True
    >>> verify_proof(leaf, 1, bytes(32), 1, b"only", [])
    False
    """
    try:
        if isinstance(index, bool) or isinstance(count, bool) or not 0 <= index < count:
            return False
        if len(root) != 32 or len(key) != 32 or any(len(sibling) != 32 for sibling in proof):
            return False
        node = row_leaf(key, index, row)
        width, used = count, 0
        while width > 1:
            if index % 2 == 0 and index == width - 1:
                pass  # the last node of an odd level moves up unchanged: no sibling
            else:
                if used == len(proof):
                    return False
                sibling = bytes(proof[used])
                used += 1
                node = keccak(node + sibling) if index % 2 == 0 else keccak(sibling + node)
            index //= 2
            width = (width + 1) // 2
        return used == len(proof) and node == bytes(root)
    except (TypeError, ValueError):
        return False


def reference_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the positional tree over ``leaves``, computed pair by pair in Python: the specification that
    :class:`MerkleTree` computes in batches (the tests compare the two).

    >>> a, b, c = (bytes([i]) * 32 for i in range(3))
    >>> reference_levels([a, b, c])[1] == [keccak(a + b), c]
    True
    """
    level = [_bytes32(leaf, "a leaf") for leaf in leaves]
    levels = [level]
    while len(level) > 1:
        nxt = [keccak(level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        levels.append(nxt)
        level = nxt
    return levels


def _nodes(values: Sequence[bytes], what: str) -> np.ndarray:
    """32-byte values as an ``(n, 32)`` array, each checked as the reference checks it."""
    return np.frombuffer(b"".join(_bytes32(value, what) for value in values), dtype=np.uint8).reshape(-1, 32)


class MerkleTree:
    """All levels of the positional tree over a file's rows; memory is 64 bytes per row.

    Give ``key`` to use one leaf key for every row (a submission, the training set), ``keys`` for one key per row
    (the hidden test set), or precomputed ``leaves`` instead of rows. Rows are hashed, leaves keyed and levels built
    in batches (:mod:`colearn_jupyter.rowhash`), to the same bytes as :func:`row_leaf` and :func:`reference_levels`;
    ``row_hashes`` keeps each row's ``keccak256`` (what duplicate checks compare), None for a tree of ``leaves``.
    Rows read from a file (:class:`~colearn_jupyter.rowsets.PackedRows`) are hashed in their buffer, as they are
    (or not again, when the reader hashed them: ``rows.hashes``).

    >>> keys = [test_row_nonce(bytes(32), i) for i in range(3)]
    >>> tree = MerkleTree([b"a", b"b", b"c"], keys=keys)
    >>> tree.verify(1, b"b", tree.proof(1), keys[1]), tree.verify(1, b"b", tree.proof(1), keys[0])
    (True, False)
    >>> MerkleTree([b"a"], key=bytes(32)).root == row_leaf(bytes(32), 0, b"a")
    True
    >>> tree.hash_of(2) == keccak(b"c")
    True
    """

    def __init__(
        self,
        rows: Iterable[bytes] = (),
        *,
        key: bytes | None = None,
        keys: Sequence[bytes] | None = None,
        leaves: Sequence[bytes] | None = None,
    ):
        if sum(x is not None for x in (key, keys, leaves)) != 1:
            raise TypeError("give exactly one of key= (one key for all rows), keys= (one per row) or leaves=")
        self.row_hashes: np.ndarray | None = None
        if leaves is not None:
            self._build(_nodes(leaves, "a leaf"))
            return
        if isinstance(rows, PackedRows):  # one buffer already: hashed as it is
            if keys is not None and len(rows) != len(keys):
                raise ValueError(f"{len(keys)} keys for {len(rows)} rows; give one key per row")
            hashes = rows.hashes if rows.hashes is not None else rowhash.keccak_rows(rows.data, rows.offsets)
            if len(hashes) != len(rows):
                raise ValueError(f"{len(hashes)} row hashes for {len(rows)} rows")
            self._keyed(hashes, key, keys)
            return
        rows = list(rows)
        for row in rows:
            if not isinstance(row, (bytes, bytearray, memoryview)):
                raise TypeError(f"a row is bytes, not {type(row).__name__}")
        rows = [row if isinstance(row, bytes) else bytes(row) for row in rows]
        if keys is not None and len(rows) != len(keys):
            raise ValueError(f"{len(keys)} keys for {len(rows)} rows; give one key per row")
        self._keyed(rowhash.keccak_rows(*rowhash.pack(rows)), key, keys)

    @classmethod
    def from_row_hashes(
        cls, hashes: np.ndarray, *, key: bytes | None = None, keys: Sequence[bytes] | None = None
    ) -> MerkleTree:
        """The tree of rows whose ``keccak256`` digests are ``hashes`` (an ``(n, 32)`` array), without the rows:
        what :func:`colearn_jupyter.formats.data.row_digests` gives for a DataFrame."""
        if (key is None) == (keys is None):
            raise TypeError("give exactly one of key= (one key for all rows) or keys= (one per row)")
        hashes = np.asarray(hashes, dtype=np.uint8)
        if hashes.ndim != 2 or hashes.shape[1] != 32:
            raise ValueError(f"row hashes are an (n, 32) array, not one of shape {hashes.shape}")
        if keys is not None and len(hashes) != len(keys):
            raise ValueError(f"{len(keys)} keys for {len(hashes)} rows; give one key per row")
        tree = cls.__new__(cls)
        tree.row_hashes = None
        tree._keyed(hashes, key, keys)
        return tree

    def _keyed(self, hashes: np.ndarray, key: bytes | None, keys: Sequence[bytes] | None) -> None:
        if not len(hashes):
            raise ValueError("a Merkle tree needs at least one row")
        if key is not None:
            leaves = rowhash.keyed_leaves(hashes, _bytes32(key, "the leaf key"))
        else:
            assert keys is not None
            leaves = rowhash.keyed_leaves(hashes, _nodes(keys, "a leaf key"))
        self.row_hashes = hashes
        self._build(leaves)

    def _build(self, level: np.ndarray) -> None:
        if not len(level):
            raise ValueError("a Merkle tree needs at least one row")
        self.levels: list[np.ndarray] = [level]
        while len(level) > 1:
            level = rowhash.parent_level(level)
            self.levels.append(level)

    @property
    def root(self) -> bytes:
        """The 32-byte root the contract stores, together with the row count ``len(tree)``."""
        return self.levels[-1][0].tobytes()

    def __len__(self) -> int:
        return len(self.levels[0])

    def hash_of(self, index: int) -> bytes:
        """``keccak256`` of row ``index``'s canonical bytes (for a tree built from rows or row hashes)."""
        if self.row_hashes is None:
            raise ValueError("a tree built from leaves does not know its rows' hashes")
        return self.row_hashes[index].tobytes()

    def leaf(self, index: int) -> bytes:
        """The leaf of row ``index``."""
        return self.levels[0][index].tobytes()

    def proof(self, index: int) -> list[bytes]:
        """Sibling hashes from the leaf of row ``index`` up to the root, skipping levels where it has none."""
        if not 0 <= index < len(self):
            raise IndexError(f"the file has {len(self)} rows; there is no row {index}")
        proof = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling].tobytes())
            index //= 2
        return proof

    def verify(self, index: int, row: bytes, proof: Sequence[bytes], key: bytes) -> bool:
        """Check a row, its leaf key and proof against this tree's root and row count, as the contract does."""
        return verify_proof(self.root, len(self), key, index, row, proof)
