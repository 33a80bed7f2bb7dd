// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {IMarketplaceTypes} from "../IMarketplaceTypes.sol";

/**
 * @title OnChainRows
 * @notice The canonical sparse form of on-chain rows and the perceptron that learns them, with its weights packed in
 * bytes (one int64 per feature, big-endian, 8 bytes each) and known on chain by their hash only.
 *
 * A row is one byte, its label (0 or 1), then for every non-zero feature, in strictly increasing index order, its index
 * (uint32) and value (int64, fixed point, scale 1e6), big-endian: 12 bytes a feature. Zeros are left out and the order
 * is fixed, so a dense row has exactly one sparse form, and the gas of checking, predicting and learning a row follows
 * its non-zero features, not the model's width.
 *
 * The perceptron predicts 1 when `intercept * SCALE + sum(w_i * x_i) >= 0` (in int256, where nothing overflows:
 * |w_i * x_i| < 2^104 and there are fewer than 2^32 terms), else 0. Learning a misclassified row adds `x_i` (label 1) or
 * `-x_i` (label 0) to the weight of every non-zero feature `i` and ±SCALE to the intercept, saturating at the int64
 * bounds: exactly what the dense update does, since a zero feature moves nothing.
 */
library OnChainRows {
    /// @dev Fixed-point scale of features and weights.
    int256 internal constant SCALE = 1e6;
    /// @dev Bytes of one stored feature: uint32 index and int64 value.
    uint256 internal constant FEATURE_BYTES = 12;
    /// @dev Bytes of one packed weight.
    uint256 internal constant WEIGHT_BYTES = 8;

    /**
     * @dev Reverts unless `row` is a canonical sparse row of a model with `featureCount` features, each bounded by
     * `bound`; returns its label.
     */
    function check(bytes calldata row, uint256 featureCount, uint64 bound) internal pure returns (int64 label) {
        uint256 count = featureCountOf(row);
        label = labelOf(row);
        if (label > 1) revert IMarketplaceTypes.MarketplaceInvalidLabel(label);
        uint256 bad = count; // the first feature that breaks a rule, if any
        assembly ("memory-safe") {
            let next := 0 // the lowest index the next feature may have
            let k := 0
            for { let at := add(row.offset, 1) } lt(k, count) { at := add(at, 12) } {
                let word := calldataload(at)
                let index := shr(224, word)
                let value := signextend(7, shr(160, word))
                let magnitude := value
                if slt(value, 0) { magnitude := sub(0, value) } // exact in 256 bits, even for -2^63
                if or(or(lt(index, next), iszero(lt(index, featureCount))), or(iszero(value), gt(magnitude, bound))) {
                    bad := k
                    break
                }
                next := add(index, 1)
                k := add(k, 1)
            }
        }
        if (bad < count) _refuseFeature(row, bad, featureCount, bound);
    }

    /// @dev Reverts with the first rule that the `k`-th feature of `row` breaks (found by {check}).
    function _refuseFeature(bytes calldata row, uint256 k, uint256 featureCount, uint64 bound) private pure {
        (uint256 index, int64 value) = featureAt(row, k);
        if (k != 0) {
            (uint256 previous,) = featureAt(row, k - 1);
            if (index <= previous) revert IMarketplaceTypes.MarketplaceMalformedRow("feature indices must increase");
        }
        if (index >= featureCount) revert IMarketplaceTypes.MarketplaceFeatureIndexOutOfRange(index, featureCount);
        if (value == 0) revert IMarketplaceTypes.MarketplaceMalformedRow("a zero feature must be left out");
        revert IMarketplaceTypes.MarketplaceFeatureOutOfRange(index, value, bound);
    }

    /// @dev The number of features stored in `row`; reverts unless its length is 1 + 12k.
    function featureCountOf(bytes calldata row) internal pure returns (uint256) {
        if (row.length == 0 || (row.length - 1) % FEATURE_BYTES != 0) {
            revert IMarketplaceTypes.MarketplaceMalformedRow("a row is a label byte and 12 bytes a feature");
        }
        return (row.length - 1) / FEATURE_BYTES;
    }

    /// @dev The label byte of a (non-empty) row.
    function labelOf(bytes calldata row) internal pure returns (int64) {
        return int64(uint64(uint8(row[0])));
    }

    /// @dev Index and value of the `k`-th stored feature of `row` (which holds more than `k`).
    function featureAt(bytes calldata row, uint256 k) internal pure returns (uint256 index, int64 value) {
        assembly ("memory-safe") {
            // bytes [0, 4) of the word are the index, [4, 12) the value
            let word := calldataload(add(row.offset, add(1, mul(k, 12))))
            index := shr(224, word)
            value := signextend(7, shr(160, word))
        }
    }

    /// @dev The label predicted for a checked `row` by the perceptron with packed `weights` (one per feature of the
    /// model) and `intercept`.
    function predict(bytes calldata row, bytes memory weights, int64 intercept) internal pure returns (int64) {
        int256 score = int256(intercept) * SCALE;
        assembly ("memory-safe") {
            // unchecked: |w_i * x_i| < 2^63 * 2^40 = 2^103 and there are fewer than 2^32 terms, so the score stays
            // far within int256, where mul and add of two's complement words are exact
            let base := add(weights, 32)
            let end := add(row.offset, row.length)
            for { let at := add(row.offset, 1) } lt(at, end) { at := add(at, 12) } {
                let word := calldataload(at)
                let weight := sar(192, mload(add(base, shl(3, shr(224, word)))))
                score := add(score, mul(weight, signextend(7, shr(160, word))))
            }
        }
        return score >= 0 ? int64(1) : int64(0);
    }

    /**
     * @dev Learns a checked `row` in place when the perceptron misclassifies it; returns whether it did, and the new
     * intercept.
     */
    function learn(bytes calldata row, bytes memory weights, int64 intercept)
        internal
        pure
        returns (bool learned, int64 newIntercept)
    {
        int64 label = labelOf(row);
        if (predict(row, weights, intercept) == label) return (false, intercept);
        int256 step = label == 1 ? int256(1) : int256(-1);
        assembly ("memory-safe") {
            // unchecked: |w_i| <= 2^63 and |x_i| <= 2^40, so w_i ± x_i is exact in int256 before it is clamped to int64
            let base := add(weights, 32)
            let end := add(row.offset, row.length)
            let low := shr(64, not(0)) // the bytes of the word after the weight, written back unchanged
            for { let at := add(row.offset, 1) } lt(at, end) { at := add(at, 12) } {
                let word := calldataload(at)
                let slot := add(base, shl(3, shr(224, word)))
                let stored := mload(slot)
                let updated := add(sar(192, stored), mul(step, signextend(7, shr(160, word))))
                if iszero(eq(signextend(7, updated), updated)) {
                    // beyond int64: the bound on its side
                    updated := xor(0x7fffffffffffffff, sar(255, updated))
                }
                // the word may reach up to 24 bytes past the end of `weights`: they are written back unchanged
                mstore(slot, or(and(stored, low), shl(192, updated)))
            }
        }
        return (true, saturate(int256(intercept) + step * SCALE));
    }

    /// @dev `value` clamped to the int64 range.
    function saturate(int256 value) internal pure returns (int64) {
        if (value > type(int64).max) return type(int64).max;
        if (value < type(int64).min) return type(int64).min;
        // casting is safe: value is within the int64 range, checked above
        // forge-lint: disable-next-line(unsafe-typecast)
        return int64(value);
    }
}
