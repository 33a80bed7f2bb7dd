// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {IMarketplaceTypes} from "./IMarketplaceTypes.sol";

/**
 * @title RowChecker
 * @notice Checks a canonical row (`colearn-row-v1`) against a model's committed {IModelMarketplace-RowSchema}.
 *
 * A row is its values in schema order, label last, each a one-byte tag and the value: `f` + IEEE 754 binary64
 * big-endian, `i` + int64 big-endian two's complement, `b` + one byte 0 or 1, `s` + uint32 big-endian length + UTF-8.
 * `colearn_jupyter.formats.data.row_fault` is the same function in Python.
 *
 * A contract of its own, created by the marketplace's constructor, so that the marketplace stays within the 24 KiB
 * code-size limit; it holds no state and anyone may call it (clients use it to check their own rows).
 */
contract RowChecker {
    uint64 private constant _FLOAT_MAGNITUDE = 0x7FFFFFFFFFFFFFFF;
    uint64 private constant _NEGATIVE_ZERO = 0x8000000000000000;
    uint64 private constant _FLOAT_INFINITY = 0x7FF0000000000000;

    /// @notice Why `row` fails `schema`, or `RowFault.None`; the first fault in column order wins.
    function fault(IMarketplaceTypes.RowSchema calldata schema, bytes calldata row)
        external
        pure
        returns (IMarketplaceTypes.RowFault)
    {
        bytes calldata columns = schema.columns;
        uint256 pos = 0;
        uint256 labelStart = 0;
        for (uint256 c = 0; c < columns.length; ++c) {
            labelStart = pos;
            if (pos >= row.length || row[pos] != columns[c]) return IMarketplaceTypes.RowFault.Malformed;
            bytes1 tag = columns[c];
            IMarketplaceTypes.RowFault found;
            (found, pos) = _value(schema, tag, row, pos + 1);
            if (found != IMarketplaceTypes.RowFault.None) return found;
        }
        if (pos != row.length) return IMarketplaceTypes.RowFault.TrailingBytes;
        if (schema.labels.length != 0 && !_allowed(schema.labels, keccak256(row[labelStart:]))) {
            return IMarketplaceTypes.RowFault.LabelNotAllowed;
        }
        return IMarketplaceTypes.RowFault.None;
    }

    /// @notice Reverts with {MarketplaceInvalidSchema} unless `schema` can be checked: at least one feature and a label,
    /// known tags, a finite float bound, and labels that are themselves well-formed values of the label column.
    function check(IMarketplaceTypes.RowSchema calldata schema) external pure {
        bytes calldata columns = schema.columns;
        if (columns.length < 2) revert IMarketplaceTypes.MarketplaceInvalidSchema("fewer than two columns");
        for (uint256 c = 0; c < columns.length; ++c) {
            bytes1 tag = columns[c];
            if (tag != "f" && tag != "i" && tag != "b" && tag != "s") {
                revert IMarketplaceTypes.MarketplaceInvalidSchema("unknown column tag");
            }
        }
        if (schema.maxFloatBits >= _FLOAT_INFINITY) revert IMarketplaceTypes.MarketplaceInvalidSchema("float bound");
        bytes1 labelTag = columns[columns.length - 1];
        for (uint256 i = 0; i < schema.labels.length; ++i) {
            bytes calldata label = schema.labels[i];
            if (label.length == 0 || label[0] != labelTag) {
                revert IMarketplaceTypes.MarketplaceInvalidSchema("label of another type");
            }
            (IMarketplaceTypes.RowFault found, uint256 end) = _value(schema, labelTag, label, 1);
            if (found != IMarketplaceTypes.RowFault.None || end != label.length) {
                revert IMarketplaceTypes.MarketplaceInvalidSchema("label outside the bounds");
            }
        }
    }

    /// @dev Checks the value with tag `tag` starting at `pos` (after its tag); returns the fault and the next position.
    function _value(IMarketplaceTypes.RowSchema calldata schema, bytes1 tag, bytes calldata row, uint256 pos)
        private
        pure
        returns (IMarketplaceTypes.RowFault, uint256)
    {
        if (tag == "f" || tag == "i") {
            if (row.length < pos + 8) return (IMarketplaceTypes.RowFault.Malformed, pos);
            uint64 bits = uint64(bytes8(row[pos:pos + 8]));
            if (tag == "f") {
                if (bits == _NEGATIVE_ZERO) return (IMarketplaceTypes.RowFault.NonCanonical, pos);
                if (bits & _FLOAT_MAGNITUDE > schema.maxFloatBits) {
                    return (IMarketplaceTypes.RowFault.OutOfBounds, pos);
                }
            } else {
                // forge-lint: disable-next-line(unsafe-typecast)
                if (magnitude(int64(bits)) > schema.maxInt) return (IMarketplaceTypes.RowFault.OutOfBounds, pos);
            }
            return (IMarketplaceTypes.RowFault.None, pos + 8);
        }
        if (tag == "b") {
            if (row.length < pos + 1) return (IMarketplaceTypes.RowFault.Malformed, pos);
            if (uint8(row[pos]) > 1) return (IMarketplaceTypes.RowFault.BadBool, pos);
            return (IMarketplaceTypes.RowFault.None, pos + 1);
        }
        // "s": checked by {check} or by the caller's tag comparison
        if (row.length < pos + 4) return (IMarketplaceTypes.RowFault.Malformed, pos);
        uint256 length = uint32(bytes4(row[pos:pos + 4]));
        if (length > schema.maxStringBytes) return (IMarketplaceTypes.RowFault.StringTooLong, pos);
        pos += 4;
        if (row.length < pos + length) return (IMarketplaceTypes.RowFault.Malformed, pos);
        if (!_isUtf8(row[pos:pos + length])) return (IMarketplaceTypes.RowFault.BadUtf8, pos);
        return (IMarketplaceTypes.RowFault.None, pos + length);
    }

    /// @notice `|value|`, which fits in uint64 for every int64 (including the minimum, -2^63).
    function magnitude(int64 value) public pure returns (uint64) {
        // casting is safe: -int128(value) is at most 2^63 when value < 0, and value >= 0 otherwise
        // forge-lint: disable-next-line(unsafe-typecast)
        return value < 0 ? uint64(uint128(-int128(value))) : uint64(value);
    }

    function _allowed(bytes[] calldata labels, bytes32 labelHash) private pure returns (bool) {
        for (uint256 i = 0; i < labels.length; ++i) {
            if (keccak256(labels[i]) == labelHash) return true;
        }
        return false;
    }

    /// @dev Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
    function _isUtf8(bytes calldata text) private pure returns (bool) {
        uint256 i = 0;
        uint256 n = text.length;
        while (i < n) {
            uint8 b = uint8(text[i]);
            if (b < 0x80) {
                ++i;
                continue;
            }
            uint256 extra;
            uint8 low = 0x80;
            uint8 high = 0xBF;
            if (b >= 0xC2 && b <= 0xDF) {
                extra = 1;
            } else if (b >= 0xE0 && b <= 0xEF) {
                extra = 2;
                if (b == 0xE0) low = 0xA0;
                if (b == 0xED) high = 0x9F;
            } else if (b >= 0xF0 && b <= 0xF4) {
                extra = 3;
                if (b == 0xF0) low = 0x90;
                if (b == 0xF4) high = 0x8F;
            } else {
                return false;
            }
            if (i + extra >= n) return false;
            uint8 second = uint8(text[i + 1]);
            if (second < low || second > high) return false;
            for (uint256 k = 2; k <= extra; ++k) {
                uint8 next = uint8(text[i + k]);
                if (next < 0x80 || next > 0xBF) return false;
            }
            i += extra + 1;
        }
        return true;
    }
}
