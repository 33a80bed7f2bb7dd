// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {IModelMarketplace} from "../../src/IModelMarketplace.sol";

/**
 * @dev An account that, when paid by {IModelMarketplace-withdraw}, re-enters the marketplace from `receive()`.
 * With `bubble` set the failure of the re-entrant call makes `receive()` revert (so the payment fails); otherwise it
 * is swallowed and recorded in `reentryError`.
 */
contract ReentrantReceiver {
    enum Attack {
        None,
        Withdraw,
        Claim
    }

    IModelMarketplace public immutable marketplace;
    Attack public attack;
    bool public bubble;
    uint256 public claimTarget;
    uint256 public reentries;
    bool public reentrySucceeded;
    bytes public reentryError;

    constructor(IModelMarketplace marketplace_) {
        marketplace = marketplace_;
    }

    function arm(Attack attack_, bool bubble_, uint256 claimTarget_) external {
        attack = attack_;
        bubble = bubble_;
        claimTarget = claimTarget_;
    }

    /// @dev Calls the marketplace with `data` and `msg.value`, bubbling up any revert.
    function forward(bytes calldata data) external payable returns (bytes memory result) {
        bool success;
        (success, result) = address(marketplace).call{value: msg.value}(data);
        if (!success) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    receive() external payable {
        if (attack == Attack.None || reentries > 0) return;
        reentries += 1;
        bytes memory data = attack == Attack.Withdraw
            ? abi.encodeCall(IModelMarketplace.withdraw, ())
            : abi.encodeCall(IModelMarketplace.claim, (claimTarget));
        (bool success, bytes memory result) = address(marketplace).call(data);
        reentrySucceeded = success;
        if (success) return;
        reentryError = result;
        if (bubble) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}
