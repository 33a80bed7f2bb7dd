// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

/**
 * @title Cids
 * @notice Binary CIDv1 as the marketplace stores them: `0x01`, codec (`0x55` raw or `0x70` dag-pb), `0x12 0x20`
 * (sha2-256, 32 bytes) and the digest, 36 bytes in all. A submission keeps only the codec and the digest.
 */
library Cids {
    uint8 internal constant RAW = 0x55;
    uint8 internal constant DAG_PB = 0x70;

    /// @dev Whether `cid` is a binary CIDv1 of a raw or dag-pb block with a sha2-256 digest.
    function isValid(bytes calldata cid) internal pure returns (bool) {
        if (cid.length != 36 || cid[0] != 0x01 || cid[2] != 0x12 || cid[3] != 0x20) return false;
        uint8 codec = uint8(cid[1]);
        return codec == RAW || codec == DAG_PB;
    }

    /// @dev The codec and digest of a valid CID.
    function split(bytes calldata cid) internal pure returns (uint8 codec, bytes32 digest) {
        return (uint8(cid[1]), bytes32(cid[4:36]));
    }

    /// @dev The 36-byte CID of `codec` and `digest`, or empty bytes when `codec` is 0 (no CID).
    function join(uint8 codec, bytes32 digest) internal pure returns (bytes memory) {
        if (codec == 0) return "";
        return abi.encodePacked(uint8(0x01), codec, uint8(0x12), uint8(0x20), digest);
    }
}
