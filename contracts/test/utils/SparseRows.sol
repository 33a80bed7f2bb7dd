// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

/**
 * @dev On-chain rows and perceptron weights as the tests write them, and the dense perceptron the contract's sparse
 * one must match: the reference (the algorithm of the dense on-chain rows it replaced) predicts with every feature
 * and updates every weight.
 */
library SparseRows {
    int256 internal constant SCALE = 1e6;

    /// @dev The canonical sparse row of dense `features` and `label`: zeros left out, indices increasing.
    function fromDense(int64[] memory features, int64 label) internal pure returns (bytes memory row) {
        // casting is safe in tests: labels are 0 or 1, or deliberately out of range and truncated to a byte
        // forge-lint: disable-next-line(unsafe-typecast)
        row = abi.encodePacked(uint8(uint64(label)));
        for (uint256 i = 0; i < features.length; ++i) {
            if (features[i] != 0) row = bytes.concat(row, feature(i, features[i]));
        }
    }

    /// @dev The label of a row (its first byte).
    function labelOf(bytes memory row) internal pure returns (int64) {
        return int64(uint64(uint8(row[0])));
    }

    /// @dev The 12 bytes of one stored feature.
    function feature(uint256 index, int64 value) internal pure returns (bytes memory) {
        // casting is safe: indices in tests are below 2^32, and the int64 is reinterpreted bit for bit
        // forge-lint: disable-next-line(unsafe-typecast)
        return abi.encodePacked(uint32(index), uint64(value));
    }

    /// @dev Weights packed as the contract hashes them: int64 big-endian, 8 bytes each.
    function pack(int64[] memory weights) internal pure returns (bytes memory packed) {
        for (uint256 i = 0; i < weights.length; ++i) {
            // casting is safe: the int64 is reinterpreted bit for bit
            // forge-lint: disable-next-line(unsafe-typecast)
            packed = bytes.concat(packed, abi.encodePacked(uint64(weights[i])));
        }
    }

    /// @dev The weights of packed `packed`.
    function unpack(bytes memory packed) internal pure returns (int64[] memory weights) {
        weights = new int64[](packed.length / 8);
        for (uint256 i = 0; i < weights.length; ++i) {
            uint64 word;
            assembly ("memory-safe") {
                word := shr(192, mload(add(add(packed, 32), mul(i, 8))))
            }
            // casting is safe: the uint64 is reinterpreted bit for bit
            // forge-lint: disable-next-line(unsafe-typecast)
            weights[i] = int64(word);
        }
    }

    /// @dev Dense prediction: 1 iff `intercept * 1e6 + sum(w_i * x_i) >= 0`.
    function predict(int64[] memory weights, int64 intercept, int64[] memory features) internal pure returns (int64) {
        int256 score = int256(intercept) * SCALE;
        for (uint256 i = 0; i < features.length; ++i) {
            score += int256(weights[i]) * features[i];
        }
        return score >= 0 ? int64(1) : int64(0);
    }

    /// @dev Dense perceptron step: when it predicts `label` wrongly, every weight moves by `±x_i` (saturating) and the
    /// intercept by ±1e6. Returns the new weights (a copy), intercept and whether it learned.
    function learn(int64[] memory weights, int64 intercept, int64[] memory features, int64 label)
        internal
        pure
        returns (int64[] memory updated, int64 newIntercept, bool learned)
    {
        updated = new int64[](weights.length);
        for (uint256 i = 0; i < weights.length; ++i) {
            updated[i] = weights[i];
        }
        if (predict(weights, intercept, features) == label) return (updated, intercept, false);
        int256 step = label == 1 ? int256(1) : int256(-1);
        for (uint256 i = 0; i < features.length; ++i) {
            updated[i] = saturate(int256(weights[i]) + step * features[i]);
        }
        return (updated, saturate(int256(intercept) + step * SCALE), true);
    }

    function saturate(int256 value) internal pure returns (int64) {
        if (value > type(int64).max) return type(int64).max;
        if (value < type(int64).min) return type(int64).min;
        // casting is safe: value is within the int64 range, checked above
        // forge-lint: disable-next-line(unsafe-typecast)
        return int64(value);
    }
}
