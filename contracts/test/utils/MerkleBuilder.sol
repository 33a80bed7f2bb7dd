// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

/**
 * @dev Builds row commitments as documented in {IModelMarketplace} (`colearn-tree-v2`): leaf `i` of row `row` under
 * `key` is `keccak256(bytes.concat(keccak256(abi.encode(key, i, keccak256(row)))))`; inner nodes hash `left ++ right`
 * in order and the last node of an odd level is promoted unchanged. Written independently of the contract's
 * `RowTree` so that the tests check the contract against the documented encoding.
 */
library MerkleBuilder {
    function keyOf(address account) internal pure returns (bytes32) {
        return bytes32(uint256(uint160(account)));
    }

    function leaf(bytes32 key, uint256 index, bytes memory row) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(key, index, keccak256(row)))));
    }

    /// @dev Leaves of `rows`, all under one key (a contributor's, or the owner's for training data).
    function leaves(bytes32 key, bytes[] memory rows) internal pure returns (bytes32[] memory result) {
        result = new bytes32[](rows.length);
        for (uint256 i = 0; i < rows.length; ++i) {
            result[i] = leaf(key, i, rows[i]);
        }
    }

    /// @dev Leaves of a hidden test set: row `i` under the nonce `testNonce(salt, i)`.
    function testLeaves(bytes32 salt, bytes[] memory rows) internal pure returns (bytes32[] memory result) {
        result = new bytes32[](rows.length);
        for (uint256 i = 0; i < rows.length; ++i) {
            result[i] = leaf(testNonce(salt, i), i, rows[i]);
        }
    }

    function testNonce(bytes32 salt, uint256 index) internal pure returns (bytes32) {
        return keccak256(abi.encode(salt, index));
    }

    function root(bytes32[] memory level) internal pure returns (bytes32) {
        require(level.length > 0, "MerkleBuilder: no leaves");
        while (level.length > 1) {
            level = _parentLevel(level);
        }
        return level[0];
    }

    function proof(bytes32[] memory level, uint256 index) internal pure returns (bytes32[] memory path) {
        require(index < level.length, "MerkleBuilder: index out of range");
        path = new bytes32[](256);
        uint256 length = 0;
        while (level.length > 1) {
            uint256 sibling = index ^ 1;
            // a promoted node (last of an odd level) has no sibling and adds nothing to the proof
            if (sibling < level.length) path[length++] = level[sibling];
            level = _parentLevel(level);
            index /= 2;
        }
        assembly ("memory-safe") {
            mstore(path, length) // shrink to the used length
        }
    }

    /// @dev Number of siblings in the proof of leaf `index` of a tree of `count` leaves: one per level on which the
    /// node has a sibling (the last node of an odd level has none).
    function proofLength(uint256 index, uint256 count) internal pure returns (uint256 length) {
        require(index < count, "MerkleBuilder: index out of range");
        while (count > 1) {
            if ((index ^ 1) < count) ++length;
            index /= 2;
            count = (count + 1) / 2;
        }
    }

    /// @dev Root of a tree of `count` leaves whose leaf `index` is `leafHash` and whose proof for it is `path` (as
    /// {proof} returns it). Builds trees of any size from one leaf and arbitrary siblings, without the other leaves.
    function rootFromPath(bytes32 leafHash, uint256 index, uint256 count, bytes32[] memory path)
        internal
        pure
        returns (bytes32 node)
    {
        require(path.length == proofLength(index, count), "MerkleBuilder: wrong path length");
        node = leafHash;
        uint256 used = 0;
        while (count > 1) {
            if ((index ^ 1) < count) {
                node = index % 2 == 0 ? keccak256(abi.encode(node, path[used])) : keccak256(abi.encode(path[used], node));
                ++used;
            }
            index /= 2;
            count = (count + 1) / 2;
        }
    }

    // --------------------------------------------------------------------------------------------- canonical rows

    /// @dev A canonical row of the fixture schema ("ffs": two float64 features and a string label).
    function canonicalRow(uint64 xBits, uint64 yBits, string memory label) internal pure returns (bytes memory) {
        return bytes.concat("f", bytes8(xBits), "f", bytes8(yBits), encodeLabel(label));
    }

    function encodeLabel(string memory label) internal pure returns (bytes memory) {
        return bytes.concat("s", bytes4(uint32(bytes(label).length)), bytes(label));
    }

    /// @dev Row `i` of the deterministic batch `salt`: valid under the fixture schema, distinct for every (salt, i).
    /// Features are doubles in [1, 2) whose low bits spell salt and i; labels alternate "cat" and "dog".
    function batchRow(uint256 salt, uint256 i) internal pure returns (bytes memory) {
        uint64 x = uint64(0x3FF0000000000000 | ((salt & 0xFFFFFF) << 24) | (i & 0xFFFFFF));
        return canonicalRow(x, 0x3FF8000000000000, i % 2 == 0 ? "cat" : "dog");
    }

    function batchRows(uint256 salt, uint256 count) internal pure returns (bytes[] memory rows) {
        rows = new bytes[](count);
        for (uint256 i = 0; i < count; ++i) {
            rows[i] = batchRow(salt, i);
        }
    }

    function _parentLevel(bytes32[] memory level) private pure returns (bytes32[] memory parents) {
        uint256 count = level.length;
        parents = new bytes32[]((count + 1) / 2);
        for (uint256 i = 0; i + 1 < count; i += 2) {
            parents[i / 2] = keccak256(abi.encode(level[i], level[i + 1]));
        }
        if (count % 2 == 1) parents[count / 2] = level[count - 1];
    }
}
