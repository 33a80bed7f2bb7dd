// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

/**
 * @title RowTree
 * @notice Leaves and proofs of the positional row trees (`colearn-tree-v2`) that commit to a batch of rows.
 *
 * OpenZeppelin's {MerkleProof} hashes sorted pairs, which cannot bind a leaf to its position: a tree built that way
 * may hold two leaves for one index, or fewer leaves than it claims. Here the row count fixes the tree's shape: level
 * by level, the pair `(2k, 2k + 1)` is hashed in order and an odd last node is promoted, so a proof is valid only for
 * its own index, and only with the length that index and the row count call for.
 */
library RowTree {
    /// @dev `keccak256(bytes.concat(keccak256(abi.encode(key, index, keccak256(row)))))`.
    function leaf(bytes32 key, uint256 index, bytes memory row) internal pure returns (bytes32) {
        return leafOfHash(key, index, keccak256(row));
    }

    /// @dev The leaf of a row given the row's hash `keccak256(row)`.
    function leafOfHash(bytes32 key, uint256 index, bytes32 rowHash) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(key, index, rowHash))));
    }

    /// @dev The key of the rows contributed (or, for the training set, published) by `account`.
    function keyOf(address account) internal pure returns (bytes32) {
        return bytes32(uint256(uint160(account)));
    }

    /// @dev Whether `proof` shows that `leafHash` is leaf `index` of the tree of `count` leaves with root `root`.
    function verify(bytes32[] calldata proof, bytes32 root, uint256 count, uint256 index, bytes32 leafHash)
        internal
        pure
        returns (bool)
    {
        if (index >= count) return false;
        bytes32 node = leafHash;
        uint256 used = 0;
        uint256 width = count;
        while (width > 1) {
            if (index % 2 == 1) {
                if (used == proof.length) return false;
                node = Hashes.efficientKeccak256(proof[used++], node);
            } else if (index + 1 < width) {
                if (used == proof.length) return false;
                node = Hashes.efficientKeccak256(node, proof[used++]);
            } // else: the last node of an odd level is promoted unchanged
            index /= 2;
            // unchecked: width > 1, so width + 1 cannot overflow
            unchecked {
                width = (width + 1) / 2;
            }
        }
        return used == proof.length && node == root;
    }
}
