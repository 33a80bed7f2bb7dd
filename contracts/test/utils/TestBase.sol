// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

/// @dev The subset of forge's cheatcodes used by the tests (see https://book.getfoundry.sh/cheatcodes/).
interface Vm {
    function warp(uint256 timestamp) external;
    function roll(uint256 blockNumber) external;
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function deal(address account, uint256 balance) external;
    function expectRevert() external;
    function expectRevert(bytes4 selector) external;
    function expectRevert(bytes calldata revertData) external;
    function expectEmit(address emitter) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter) external;
    function assume(bool condition) external pure;
    function addr(uint256 privateKey) external pure returns (address);
    function label(address account, string calldata newLabel) external;
    function toString(uint256 value) external pure returns (string memory);
    function toString(int256 value) external pure returns (string memory);
    function toString(address value) external pure returns (string memory);
    function toString(bytes32 value) external pure returns (string memory);
    function toString(bool value) external pure returns (string memory);
}

/// @dev Cheatcodes and input helpers, shared by test contracts and invariant handlers.
abstract contract CheatCodes {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @dev Labelled address derived from `name`.
    function makeAddr(string memory name) internal returns (address account) {
        account = vm.addr(uint256(keccak256(bytes(name))));
        vm.label(account, name);
    }

    /// @dev Maps `x` into `[min, max]`, keeping values already in range unchanged.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min;
        if (size == type(uint256).max) return x;
        return min + x % (size + 1);
    }

    /// @dev Maps `x` into `[min, max]` for signed values.
    function bound(int256 x, int256 min, int256 max) internal pure returns (int256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        // forge-lint: disable-next-line(unsafe-typecast) max - min >= 0
        uint256 size = uint256(max - min) + 1;
        // forge-lint: disable-next-line(unsafe-typecast) the remainder is below size, which fits the range
        return min + int256(uint256(x) % size);
    }
}

/// @dev Minimal replacement of forge-std's `Test`: assertions revert with a message, which forge reports as failure.
abstract contract TestBase is CheatCodes {
    bool public constant IS_TEST = true;

    event log_named_uint(string key, uint256 val);

    function fail(string memory message) internal pure {
        revert(message);
    }

    function assertTrue(bool condition, string memory message) internal pure {
        if (!condition) fail(message);
    }

    function assertFalse(bool condition, string memory message) internal pure {
        if (condition) fail(message);
    }

    function assertEq(uint256 a, uint256 b, string memory message) internal pure {
        if (a != b) fail(_mismatch(message, vm.toString(a), "!=", vm.toString(b)));
    }

    function assertEq(int256 a, int256 b, string memory message) internal pure {
        if (a != b) fail(_mismatch(message, vm.toString(a), "!=", vm.toString(b)));
    }

    function assertEq(address a, address b, string memory message) internal pure {
        if (a != b) fail(_mismatch(message, vm.toString(a), "!=", vm.toString(b)));
    }

    function assertEq(bytes32 a, bytes32 b, string memory message) internal pure {
        if (a != b) fail(_mismatch(message, vm.toString(a), "!=", vm.toString(b)));
    }

    function assertEq(bool a, bool b, string memory message) internal pure {
        if (a != b) fail(_mismatch(message, vm.toString(a), "!=", vm.toString(b)));
    }

    function assertEq(string memory a, string memory b, string memory message) internal pure {
        if (keccak256(bytes(a)) != keccak256(bytes(b))) fail(_mismatch(message, a, "!=", b));
    }

    function assertEq(bytes memory a, bytes memory b, string memory message) internal pure {
        if (keccak256(a) != keccak256(b)) fail(string.concat(message, ": bytes differ"));
    }

    function assertEq(int64[] memory a, int64[] memory b, string memory message) internal pure {
        assertEq(abi.encode(a), abi.encode(b), message);
    }

    function assertLe(uint256 a, uint256 b, string memory message) internal pure {
        if (a > b) fail(_mismatch(message, vm.toString(a), ">", vm.toString(b)));
    }

    function assertGt(uint256 a, uint256 b, string memory message) internal pure {
        if (a <= b) fail(_mismatch(message, vm.toString(a), "<=", vm.toString(b)));
    }

    function _mismatch(string memory message, string memory a, string memory op, string memory b)
        private
        pure
        returns (string memory)
    {
        return string.concat(message, ": ", a, " ", op, " ", b);
    }
}
