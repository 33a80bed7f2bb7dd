// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {IModelMarketplace} from "../../src/IModelMarketplace.sol";
import {ModelMarketplace} from "../../src/ModelMarketplace.sol";
import {MerkleBuilder} from "./MerkleBuilder.sol";
import {TestBase} from "./TestBase.sol";

/// @dev A deployed marketplace, named actors and helpers shared by the unit and fuzz tests.
abstract contract MarketplaceFixture is TestBase {
    uint128 internal constant DEPOSIT = 0.01 ether;
    uint128 internal constant REWARD = 0.002 ether;
    uint128 internal constant BOND = 0.05 ether;
    uint64 internal constant WINDOW = 1 days;
    uint64 internal constant TIMEOUT = 2 days;
    uint256 internal constant POOL = 10 ether;
    bytes32 internal constant SALT = keccak256("salt");
    string internal constant TEST_SET_CID = "bafytestset";
    string internal constant DATA_CID = "bafydata";

    ModelMarketplace internal marketplace;
    address internal owner;
    address internal alice;
    address internal bob;
    address internal carol;
    address internal dave;

    function setUp() public virtual {
        marketplace = new ModelMarketplace();
        owner = makeAddr("owner");
        alice = makeAddr("alice");
        bob = makeAddr("bob");
        carol = makeAddr("carol");
        dave = makeAddr("dave");
    }

    // --------------------------------------------------------------------------------------------- inputs

    function _terms() internal pure returns (IModelMarketplace.Terms memory) {
        return _terms(DEPOSIT, REWARD, BOND);
    }

    function _terms(uint128 depositPerRow, uint128 rewardPerRow, uint128 challengeBond)
        internal
        pure
        returns (IModelMarketplace.Terms memory)
    {
        return IModelMarketplace.Terms({
            depositPerRow: depositPerRow,
            rewardPerRow: rewardPerRow,
            challengeBond: challengeBond,
            challengeWindow: WINDOW,
            ownerTimeout: TIMEOUT
        });
    }

    function _input() internal pure returns (IModelMarketplace.ModelInput memory) {
        return IModelMarketplace.ModelInput({
            name: "iris",
            modelCid: "bafymodel1",
            metadataCid: "bafymeta",
            testSetCommitment: keccak256(abi.encodePacked(SALT, TEST_SET_CID)),
            accuracyBps: 9100,
            evaluationCid: "bafyeval1"
        });
    }

    function _features(int64 x0, int64 x1) internal pure returns (int64[] memory features) {
        features = new int64[](2);
        features[0] = x0;
        features[1] = x1;
    }

    function _encodeRow(int64[] memory features, int64 label) internal pure returns (bytes memory) {
        return abi.encode(features, label);
    }

    // --------------------------------------------------------------------------------------------- actions

    /// @dev Publishes the default model as `owner` with a pool of `POOL`.
    function _publish() internal returns (uint256) {
        return _publish(marketplace, _terms(), POOL);
    }

    function _publish(ModelMarketplace target, IModelMarketplace.Terms memory terms, uint256 pool)
        internal
        returns (uint256)
    {
        vm.deal(owner, pool);
        vm.prank(owner);
        return target.publishModel{value: pool}(_input(), terms);
    }

    /// @dev Publishes the default model with a linear model `x0 - x1 >= 0` attached.
    function _publishLinear() internal returns (uint256 modelId) {
        modelId = _publish();
        vm.prank(owner);
        marketplace.attachLinearModel(modelId, _features(1, -1), 0);
    }

    /// @dev `contributor` contributes the batch `salt` of `rowCount` rows; returns its id and leaves.
    function _contribute(address contributor, uint256 modelId, uint256 salt, uint32 rowCount)
        internal
        returns (uint256 submissionId, bytes32[] memory leaves)
    {
        leaves = MerkleBuilder.leaves(MerkleBuilder.batchRows(salt, rowCount));
        submissionId = _contributeRoot(contributor, modelId, MerkleBuilder.root(leaves), rowCount);
    }

    /// @dev `contributor` commits `rowCount` rows by `root`, paying the deposit of the model's terms.
    function _contributeRoot(address contributor, uint256 modelId, bytes32 root, uint32 rowCount)
        internal
        returns (uint256 submissionId)
    {
        uint256 deposit = uint256(rowCount) * marketplace.getModel(modelId).terms.depositPerRow;
        vm.deal(contributor, deposit);
        vm.prank(contributor);
        submissionId = marketplace.contribute{value: deposit}(modelId, DATA_CID, root, rowCount);
    }

    function _contributeRow(address contributor, uint256 modelId, int64[] memory features, int64 label)
        internal
        returns (uint256 submissionId)
    {
        uint256 deposit = marketplace.getModel(modelId).terms.depositPerRow;
        vm.deal(contributor, deposit);
        vm.prank(contributor);
        submissionId = marketplace.contributeRow{value: deposit}(modelId, features, label);
    }

    /// @dev `challenger` challenges (with the default bond) row `index` of the batch `salt` committed as submission `submissionId`.
    function _challenge(address challenger, uint256 submissionId, uint256 salt, bytes32[] memory leaves, uint32 index)
        internal
        returns (uint256)
    {
        return _challengeRow(
            challenger, submissionId, index, MerkleBuilder.batchRow(salt, index), MerkleBuilder.proof(leaves, index)
        );
    }

    function _challengeRow(
        address challenger,
        uint256 submissionId,
        uint32 index,
        bytes memory row,
        bytes32[] memory proof
    ) internal returns (uint256) {
        // no view call before the challenge itself, so that a preceding `vm.expectRevert` applies to it
        vm.deal(challenger, BOND);
        vm.prank(challenger);
        return marketplace.challenge{value: BOND}(submissionId, index, row, proof);
    }

    function _resolve(uint256 challengeId, bool upheld) internal {
        vm.prank(owner);
        marketplace.resolveChallenge(challengeId, upheld);
    }

    /// @dev Withdraws the credit of `account` and returns the amount received.
    function _withdraw(address account) internal returns (uint256 received) {
        uint256 before = account.balance;
        vm.prank(account);
        marketplace.withdraw();
        received = account.balance - before;
    }

    function _afterWindow(uint256 submissionId) internal {
        vm.warp(marketplace.getSubmission(submissionId).windowEndsAt);
    }

    function _expectError(bytes4 selector, uint256 a) internal {
        vm.expectRevert(abi.encodeWithSelector(selector, a));
    }

    function _expectInvalidInput(string memory reason) internal {
        vm.expectRevert(abi.encodeWithSelector(IModelMarketplace.MarketplaceInvalidInput.selector, reason));
    }
}
