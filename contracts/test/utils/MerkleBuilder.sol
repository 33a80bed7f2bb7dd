// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

/**
 * @dev Builds row commitments as documented in {IModelMarketplace}: leaf `i` of row `row` is
 * `keccak256(bytes.concat(keccak256(abi.encode(i, keccak256(row)))))`, inner nodes hash the sorted pair of their
 * children and the last node of an odd level is promoted unchanged. Written independently of OpenZeppelin's
 * `Hashes`/`MerkleProof` so that the tests check the contract against the documented encoding.
 */
library MerkleBuilder {
    function leaf(uint256 index, bytes memory row) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(index, keccak256(row)))));
    }

    function leaves(bytes[] memory rows) internal pure returns (bytes32[] memory result) {
        result = new bytes32[](rows.length);
        for (uint256 i = 0; i < rows.length; ++i) {
            result[i] = leaf(i, rows[i]);
        }
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

    /// @dev Row `i` of the deterministic batch `salt` used by the tests (the contract treats rows as opaque bytes).
    function batchRow(uint256 salt, uint256 i) internal pure returns (bytes memory) {
        return abi.encode(salt, i);
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
            parents[i / 2] = _hashPair(level[i], level[i + 1]);
        }
        if (count % 2 == 1) parents[count / 2] = level[count - 1];
    }

    function _hashPair(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }
}
