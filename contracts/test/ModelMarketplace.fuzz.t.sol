// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {IModelMarketplace} from "../src/IModelMarketplace.sol";
import {MarketplaceFixture} from "./utils/MarketplaceFixture.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";

contract ModelMarketplaceFuzzTest is MarketplaceFixture {
    enum Outcome {
        Unchallenged,
        Upheld,
        Rejected,
        Expired
    }

    /// @dev Value moved by {testFuzz_payouts_sumToWhatWasPaidIn}, in wei.
    struct Flows {
        uint256 paidIn;
        uint256 contributorExpected;
        uint256 challengersExpected;
        uint256 withdrawn;
    }

    // ============================================================================================ deposits & rewards

    function testFuzz_contributeAndClaim_paysDepositAndReward(
        uint128 depositPerRow,
        uint128 rewardPerRow,
        uint32 rowCount,
        uint96 spare
    ) public {
        depositPerRow = uint128(bound(depositPerRow, 1, type(uint128).max));
        rowCount = uint32(bound(rowCount, 1, type(uint32).max));
        uint256 reward = uint256(rowCount) * rewardPerRow;
        uint256 deposit = uint256(rowCount) * depositPerRow;
        uint256 modelId = _publish(marketplace, _terms(depositPerRow, rewardPerRow, BOND), reward + spare);

        uint256 submissionId = _contributeRoot(alice, modelId, keccak256("root"), rowCount);

        assertEq(marketplace.getModel(modelId).rewardPool, spare, "reward reserved from the pool");
        assertEq(address(marketplace).balance, deposit + reward + spare, "balance after contribute");
        IModelMarketplace.Submission memory submission = marketplace.getSubmission(submissionId);
        assertEq(submission.depositPerRow, depositPerRow, "deposit snapshot");
        assertEq(submission.rewardPerRow, rewardPerRow, "reward snapshot");

        _afterWindow(submissionId);
        marketplace.claim(submissionId);
        assertEq(_withdraw(alice), deposit + reward, "contributor paid deposit and reward");
        assertEq(address(marketplace).balance, spare, "only the spare pool is left");
        assertEq(marketplace.getModel(modelId).rowsAccepted, rowCount, "rows accepted");
    }

    function testFuzz_contribute_revertsOnWrongPayment(uint128 depositPerRow, uint32 rowCount, uint256 value) public {
        depositPerRow = uint128(bound(depositPerRow, 1, type(uint128).max));
        rowCount = uint32(bound(rowCount, 1, type(uint32).max));
        uint256 expected = uint256(rowCount) * depositPerRow;
        value = bound(value, 0, 2 * expected);
        vm.assume(value != expected);
        uint256 modelId = _publish(marketplace, _terms(depositPerRow, 0, BOND), 0);

        vm.deal(alice, value);
        vm.expectRevert(abi.encodeWithSelector(IModelMarketplace.MarketplaceIncorrectPayment.selector, expected, value));
        vm.prank(alice);
        marketplace.contribute{value: value}(modelId, DATA_CID, keccak256("root"), rowCount);
    }

    function testFuzz_contribute_revertsWhenPoolIsShort(uint128 rewardPerRow, uint32 rowCount, uint256 pool) public {
        rewardPerRow = uint128(bound(rewardPerRow, 1, type(uint128).max));
        rowCount = uint32(bound(rowCount, 1, type(uint32).max));
        uint256 required = uint256(rowCount) * rewardPerRow;
        pool = bound(pool, 0, required - 1);
        uint256 modelId = _publish(marketplace, _terms(DEPOSIT, rewardPerRow, BOND), pool);

        uint256 deposit = uint256(rowCount) * DEPOSIT;
        vm.deal(alice, deposit);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelMarketplace.MarketplaceInsufficientRewardPool.selector, modelId, required, pool
            )
        );
        vm.prank(alice);
        marketplace.contribute{value: deposit}(modelId, DATA_CID, keccak256("root"), rowCount);
    }

    // ============================================================================================ Merkle proofs

    function testFuzz_challenge_acceptsProofOfAnyRow(uint32 rowCount, uint32 index, uint256 salt) public {
        rowCount = uint32(bound(rowCount, 1, 300));
        index = uint32(bound(index, 0, rowCount - 1));
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, salt, rowCount);
        bytes memory row = MerkleBuilder.batchRow(salt, index);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, index);
        assertEq(marketplace.rowLeaf(index, row), leaves[index], "contract leaf");

        _expectInvalidProof(submissionId, index);
        _challengeRow(carol, submissionId, index, MerkleBuilder.batchRow(salt ^ 1, index), proof);
        if (rowCount > 1) {
            uint32 otherIndex = (index + 1) % rowCount;
            _expectInvalidProof(submissionId, otherIndex);
            _challengeRow(carol, submissionId, otherIndex, row, proof);
        }

        uint256 challengeId = _challengeRow(carol, submissionId, index, row, proof);
        assertEq(marketplace.challengeOf(submissionId, index), challengeId, "row challenged");
    }

    // ============================================================================================ payouts

    /// @dev Challenges each row of a batch with a random outcome, settles everything and checks that every wei
    /// paid in is paid out to the right party.
    function testFuzz_payouts_sumToWhatWasPaidIn(
        uint32 rowCount,
        uint256 outcomes,
        uint128 depositPerRow,
        uint128 rewardPerRow,
        uint128 challengeBond
    ) public {
        rowCount = uint32(bound(rowCount, 1, 16));
        depositPerRow = uint128(bound(depositPerRow, 1, 1e30));
        rewardPerRow = uint128(bound(rewardPerRow, 0, 1e30));
        challengeBond = uint128(bound(challengeBond, 0, 1e30));
        IModelMarketplace.Terms memory terms = _terms(depositPerRow, rewardPerRow, challengeBond);
        uint256 pool = uint256(rowCount) * rewardPerRow;
        uint256 modelId = _publish(marketplace, terms, pool);
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 7, rowCount);

        Flows memory flows;
        flows.paidIn = pool + uint256(rowCount) * depositPerRow;
        uint256[] memory expiring = new uint256[](rowCount);
        uint256 expiringCount = 0;
        for (uint32 i = 0; i < rowCount; ++i) {
            Outcome outcome = Outcome((outcomes >> (2 * i)) & 3);
            if (outcome == Outcome.Unchallenged) {
                flows.contributorExpected += uint256(depositPerRow) + rewardPerRow;
                continue;
            }
            uint256 challengeId = _challengeWithBond(i % 2 == 0 ? carol : dave, submissionId, leaves, i, terms);
            flows.paidIn += challengeBond;
            if (outcome == Outcome.Upheld) {
                _resolve(challengeId, true);
                flows.challengersExpected += uint256(challengeBond) + depositPerRow;
            } else if (outcome == Outcome.Rejected) {
                _resolve(challengeId, false);
                flows.contributorExpected += uint256(depositPerRow) + rewardPerRow + challengeBond;
            } else {
                expiring[expiringCount++] = challengeId;
                flows.contributorExpected += uint256(depositPerRow) + rewardPerRow;
                flows.challengersExpected += challengeBond;
            }
        }

        vm.warp(block.timestamp + terms.challengeWindow + terms.ownerTimeout + 1);
        for (uint256 i = 0; i < expiringCount; ++i) {
            marketplace.expireChallenge(expiring[i]);
        }
        marketplace.claim(submissionId);
        uint256 poolLeft = marketplace.getModel(modelId).rewardPool;
        vm.prank(owner);
        marketplace.withdrawRewardPool(modelId, poolLeft);

        uint256 contributorPaid = _withdrawAll(alice);
        uint256 challengersPaid = _withdrawAll(carol) + _withdrawAll(dave);
        uint256 ownerPaid = _withdrawAll(owner);
        assertEq(contributorPaid, flows.contributorExpected, "contributor payout");
        assertEq(challengersPaid, flows.challengersExpected, "challengers payout");
        assertEq(contributorPaid + challengersPaid + ownerPaid, flows.paidIn, "everything paid out");
        assertEq(address(marketplace).balance, 0, "nothing left behind");
    }

    // ============================================================================================ linear model

    function testFuzz_predict_matchesReferenceScore(int64[3] memory weights, int64 intercept, int64[3] memory x)
        public
    {
        uint256 modelId = _publish();
        vm.prank(owner);
        marketplace.attachLinearModel(modelId, _array(weights), intercept);

        int256 score = int256(intercept) * 1e6;
        for (uint256 i = 0; i < 3; ++i) {
            score += int256(weights[i]) * x[i];
        }
        assertEq(marketplace.predict(modelId, _array(x)), score >= 0 ? int256(1) : int256(0), "prediction");
    }

    function testFuzz_contributeRow_appliesPerceptronRule(
        int64[3] memory weights,
        int64 intercept,
        int64[3] memory x,
        bool positive
    ) public {
        for (uint256 i = 0; i < 3; ++i) {
            weights[i] = int64(bound(weights[i], -1e12, 1e12));
            x[i] = int64(bound(x[i], -1e12, 1e12));
        }
        intercept = int64(bound(intercept, -1e12, 1e12));
        int64 label = positive ? int64(1) : int64(0);
        uint256 modelId = _publish();
        vm.prank(owner);
        marketplace.attachLinearModel(modelId, _array(weights), intercept);
        bool misclassified = marketplace.predict(modelId, _array(x)) != label;

        _contributeRow(alice, modelId, _array(x), label);

        (int64[] memory newWeights, int64 newIntercept, uint64 updates) = marketplace.linearModel(modelId);
        int64 step = misclassified ? (positive ? int64(1) : int64(-1)) : int64(0);
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(newWeights[i], weights[i] + step * x[i], "weight");
        }
        assertEq(newIntercept, intercept + step * 1e6, "intercept");
        assertEq(updates, misclassified ? 1 : 0, "updates");
    }

    // ============================================================================================ views

    function testFuzz_getModels_pagesById(uint256 count, uint256 offset, uint256 limit) public {
        count = bound(count, 0, 12);
        for (uint256 i = 0; i < count; ++i) {
            _publish();
        }
        IModelMarketplace.ModelInfo[] memory page = marketplace.getModels(offset, limit);
        uint256 expectedLength = offset >= count ? 0 : (count - offset < limit ? count - offset : limit);
        assertEq(page.length, expectedLength, "page length");
        for (uint256 i = 0; i < page.length; ++i) {
            assertEq(page[i].id, offset + i + 1, "model id");
        }
    }

    // ============================================================================================ helpers

    function _challengeWithBond(
        address challenger,
        uint256 submissionId,
        bytes32[] memory leaves,
        uint32 index,
        IModelMarketplace.Terms memory terms
    ) private returns (uint256) {
        vm.deal(challenger, terms.challengeBond);
        vm.prank(challenger);
        return marketplace.challenge{value: terms.challengeBond}(
            submissionId, index, MerkleBuilder.batchRow(7, index), MerkleBuilder.proof(leaves, index)
        );
    }

    function _withdrawAll(address account) private returns (uint256) {
        return marketplace.creditOf(account) == 0 ? 0 : _withdraw(account);
    }

    function _expectInvalidProof(uint256 submissionId, uint256 index) private {
        vm.expectRevert(abi.encodeWithSelector(IModelMarketplace.MarketplaceInvalidProof.selector, submissionId, index));
    }

    function _array(int64[3] memory values) private pure returns (int64[] memory array) {
        array = new int64[](3);
        for (uint256 i = 0; i < 3; ++i) {
            array[i] = values[i];
        }
    }
}
