"""Merkle commitments to the rows of a batch, exactly as the marketplace contract checks them.

The leaf of row ``i`` with canonical encoding ``row`` is
``keccak256(keccak256(abi.encode(uint256 i, keccak256(row))))``; inner nodes hash their sorted pair of children;
on a level with an odd number of nodes the last one moves up unchanged. Anyone holding the data file can
recompute the root on chain, and prove any single row with :meth:`MerkleTree.proof`.

>>> tree = MerkleTree([b"row a", b"row b", b"row c"])
>>> tree.verify(2, b"row c", tree.proof(2))
True
>>> tree.verify(2, b"row x", tree.proof(2))
False
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from eth_abi import encode as abi_encode
from eth_utils import keccak


def row_leaf(index: int, row: bytes) -> bytes:
    """The leaf committing to row number ``index`` (zero based) with canonical bytes ``row``."""
    return keccak(keccak(abi_encode(["uint256", "bytes32"], [index, keccak(row)])))


def _parent(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a <= b else keccak(b + a)


def encode_onchain_row(features: Sequence[int], label: int) -> bytes:
    """Canonical bytes of a row stored on chain: ``abi.encode(int64[] features, int64 label)``."""
    return abi_encode(["int64[]", "int64"], [list(features), label])


class MerkleTree:
    """All levels of the tree over a batch's rows; memory is about 64 bytes per row."""

    def __init__(self, rows: Iterable[bytes] = (), *, leaves: Sequence[bytes] | None = None):
        level = list(leaves) if leaves is not None else [row_leaf(i, row) for i, row in enumerate(rows)]
        if not level:
            raise ValueError("a Merkle tree needs at least one row")
        self.levels: list[list[bytes]] = [level]
        while len(level) > 1:
            nxt = [_parent(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            self.levels.append(nxt)
            level = nxt

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def __len__(self) -> int:
        return len(self.levels[0])

    def proof(self, index: int) -> list[bytes]:
        """Sibling hashes from the leaf of row ``index`` up to the root."""
        if not 0 <= index < len(self):
            raise IndexError(f"the batch has {len(self)} rows; there is no row {index}")
        proof = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index //= 2
        return proof

    def verify(self, index: int, row: bytes, proof: Sequence[bytes]) -> bool:
        """Check a row and proof against this tree's root, as the contract does."""
        node = row_leaf(index, row)
        for sibling in proof:
            node = _parent(node, sibling)
        return node == self.root
