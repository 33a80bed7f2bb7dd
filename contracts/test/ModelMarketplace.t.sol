// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IModelMarketplace} from "../src/IModelMarketplace.sol";
import {ModelMarketplace} from "../src/ModelMarketplace.sol";
import {ReentrantReceiver} from "./mocks/ReentrantReceiver.sol";
import {MarketplaceFixture} from "./utils/MarketplaceFixture.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";

contract ModelMarketplaceTest is MarketplaceFixture {
    // ============================================================================================ publishModel

    function test_publishModel_storesModelAndFirstVersion() public {
        vm.warp(1000);
        uint256 modelId = _publish();

        assertEq(modelId, 1, "first model id");
        assertEq(marketplace.modelCount(), 1, "model count");
        IModelMarketplace.ModelInfo memory info = marketplace.getModel(modelId);
        assertEq(info.id, modelId, "id");
        assertEq(info.owner, owner, "owner");
        assertEq(info.name, "iris", "name");
        assertEq(info.metadataCid, "bafymeta", "metadata CID");
        assertEq(info.testSetCommitment, _input().testSetCommitment, "test set commitment");
        assertEq(info.testSetCid, "", "test set CID");
        assertEq(abi.encode(info.terms), abi.encode(_terms()), "terms");
        assertEq(info.rewardPool, POOL, "reward pool");
        assertEq(info.createdAt, 1000, "created at");
        assertEq(info.versionCount, 1, "version count");
        assertEq(info.submissionCount, 0, "submission count");
        assertFalse(info.hasLinearModel, "linear model");
        assertEq(address(marketplace).balance, POOL, "balance");

        IModelMarketplace.Version memory version = marketplace.getVersion(modelId, 1);
        assertEq(version.modelCid, "bafymodel1", "model CID");
        assertEq(version.evaluationCid, "bafyeval1", "evaluation CID");
        assertEq(version.accuracyBps, 9100, "accuracy");
        assertEq(version.parent, 0, "parent");
        assertEq(version.publishedAt, 1000, "published at");
        assertEq(version.rowsAccepted, 0, "rows accepted");

        assertEq(_publish(), 2, "second model id");
    }

    function test_publishModel_emitsModelThenVersion() public {
        IModelMarketplace.ModelInput memory input = _input();
        vm.deal(owner, POOL);

        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.ModelPublished(
            1, owner, input.name, input.modelCid, input.metadataCid, input.testSetCommitment, _terms(), POOL
        );
        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.VersionPublished(1, 1, input.modelCid, input.accuracyBps, input.evaluationCid, 0);
        vm.prank(owner);
        marketplace.publishModel{value: POOL}(input, _terms());
    }

    function test_publishModel_revertsOnInvalidInput() public {
        IModelMarketplace.ModelInput memory input = _input();
        input.name = "";
        _assertPublishReverts(input, _terms(), _invalidInput("name is empty"));

        input = _input();
        input.modelCid = "";
        _assertPublishReverts(input, _terms(), _invalidInput("model CID is empty"));

        input = _input();
        input.accuracyBps = 10_001;
        _assertPublishReverts(input, _terms(), _invalidInput("accuracy above 10000 bps"));
    }

    function test_publishModel_revertsOnInvalidTerms() public {
        IModelMarketplace.Terms memory terms = _terms();
        terms.depositPerRow = 0;
        _assertPublishReverts(_input(), terms, _invalidTerms("deposit per row is zero"));

        terms = _terms();
        terms.challengeWindow = 0;
        _assertPublishReverts(_input(), terms, _invalidTerms("challenge window is zero"));

        terms = _terms();
        terms.ownerTimeout = 0;
        _assertPublishReverts(_input(), terms, _invalidTerms("owner timeout is zero"));
    }

    function test_publishModel_acceptsFullAccuracyAndZeroRewardAndBond() public {
        IModelMarketplace.ModelInput memory input = _input();
        input.accuracyBps = 10_000;
        vm.prank(owner);
        uint256 modelId = marketplace.publishModel(input, _terms(DEPOSIT, 0, 0));
        assertEq(marketplace.getModel(modelId).rewardPool, 0, "empty pool");
    }

    // ============================================================================================ versions

    function test_publishVersion_recordsLineageAndAcceptedRows() public {
        uint256 modelId = _publish();
        (uint256 submissionId,) = _contribute(alice, modelId, 1, 3);
        _afterWindow(submissionId);
        marketplace.claim(submissionId);

        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.VersionPublished(modelId, 2, "bafymodel2", 9300, "bafyeval2", 1);
        vm.prank(owner);
        uint32 version = marketplace.publishVersion(modelId, "bafymodel2", 9300, "bafyeval2");

        assertEq(version, 2, "version");
        IModelMarketplace.Version memory published = marketplace.getVersion(modelId, 2);
        assertEq(published.parent, 1, "parent");
        assertEq(published.rowsAccepted, 3, "rows accepted");
        assertEq(published.publishedAt, block.timestamp, "published at");
        IModelMarketplace.Version[] memory versions = marketplace.getVersions(modelId);
        assertEq(versions.length, 2, "versions");
        assertEq(versions[0].modelCid, "bafymodel1", "first version");
        assertEq(versions[1].modelCid, "bafymodel2", "second version");
        assertEq(marketplace.getModel(modelId).versionCount, 2, "version count");
    }

    function test_publishVersion_reverts() public {
        uint256 modelId = _publish();
        vm.expectRevert(_notOwner(modelId, alice));
        vm.prank(alice);
        marketplace.publishVersion(modelId, "bafymodel2", 9300, "");

        _expectError(IModelMarketplace.MarketplaceUnknownModel.selector, 2);
        vm.prank(owner);
        marketplace.publishVersion(2, "bafymodel2", 9300, "");

        _expectInvalidInput("model CID is empty");
        vm.prank(owner);
        marketplace.publishVersion(modelId, "", 9300, "");

        _expectInvalidInput("accuracy above 10000 bps");
        vm.prank(owner);
        marketplace.publishVersion(modelId, "bafymodel2", 10_001, "");
    }

    function test_getVersion_revertsOnUnknownVersion() public {
        uint256 modelId = _publish();
        vm.expectRevert(abi.encodeWithSelector(IModelMarketplace.MarketplaceUnknownVersion.selector, modelId, 0));
        marketplace.getVersion(modelId, 0);
        vm.expectRevert(abi.encodeWithSelector(IModelMarketplace.MarketplaceUnknownVersion.selector, modelId, 2));
        marketplace.getVersion(modelId, 2);
        _expectError(IModelMarketplace.MarketplaceUnknownModel.selector, 5);
        marketplace.getVersion(5, 1);
        _expectError(IModelMarketplace.MarketplaceUnknownModel.selector, 5);
        marketplace.getVersions(5);
    }

    // ============================================================================================ reward pool

    function test_fundRewardPool_addsToPool() public {
        uint256 modelId = _publish();
        vm.deal(alice, 1 ether);
        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.RewardPoolFunded(modelId, alice, 1 ether, POOL + 1 ether);
        vm.prank(alice);
        marketplace.fundRewardPool{value: 1 ether}(modelId);

        assertEq(marketplace.getModel(modelId).rewardPool, POOL + 1 ether, "pool");
        assertEq(address(marketplace).balance, POOL + 1 ether, "balance");
    }

    function test_fundRewardPool_reverts() public {
        uint256 modelId = _publish();
        _expectInvalidInput("no value sent");
        marketplace.fundRewardPool(modelId);

        _expectError(IModelMarketplace.MarketplaceUnknownModel.selector, 9);
        marketplace.fundRewardPool{value: 1}(9);
    }

    function test_withdrawRewardPool_creditsOwner() public {
        uint256 modelId = _publish();
        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.RewardPoolWithdrawn(modelId, 4 ether, POOL - 4 ether);
        vm.prank(owner);
        marketplace.withdrawRewardPool(modelId, 4 ether);

        assertEq(marketplace.getModel(modelId).rewardPool, POOL - 4 ether, "pool");
        assertEq(marketplace.creditOf(owner), 4 ether, "credit");
        assertEq(_withdraw(owner), 4 ether, "withdrawn");
    }

    function test_withdrawRewardPool_reverts() public {
        uint256 modelId = _publish();
        vm.expectRevert(_notOwner(modelId, alice));
        vm.prank(alice);
        marketplace.withdrawRewardPool(modelId, 1);

        _contribute(alice, modelId, 1, 10); // reserves 10 rewards
        uint256 available = POOL - 10 * REWARD;
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelMarketplace.MarketplaceInsufficientRewardPool.selector, modelId, available + 1, available
            )
        );
        vm.prank(owner);
        marketplace.withdrawRewardPool(modelId, available + 1);
    }

    // ============================================================================================ test set

    function test_revealTestSet_publishesCid() public {
        uint256 modelId = _publish();
        assertEq(marketplace.testSetCommitment(SALT, TEST_SET_CID), _input().testSetCommitment, "commitment");

        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.TestSetRevealed(modelId, SALT, TEST_SET_CID);
        vm.prank(owner);
        marketplace.revealTestSet(modelId, SALT, TEST_SET_CID);
        assertEq(marketplace.getModel(modelId).testSetCid, TEST_SET_CID, "revealed CID");

        _expectError(IModelMarketplace.MarketplaceTestSetAlreadyRevealed.selector, modelId);
        vm.prank(owner);
        marketplace.revealTestSet(modelId, SALT, TEST_SET_CID);
    }

    function test_revealTestSet_reverts() public {
        uint256 modelId = _publish();
        _expectError(IModelMarketplace.MarketplaceTestSetMismatch.selector, modelId);
        vm.prank(owner);
        marketplace.revealTestSet(modelId, SALT, "bafyother");

        _expectError(IModelMarketplace.MarketplaceTestSetMismatch.selector, modelId);
        vm.prank(owner);
        marketplace.revealTestSet(modelId, bytes32(0), TEST_SET_CID);

        vm.expectRevert(_notOwner(modelId, alice));
        vm.prank(alice);
        marketplace.revealTestSet(modelId, SALT, TEST_SET_CID);
    }

    // ============================================================================================ linear model

    function test_attachLinearModel_andPredict() public {
        uint256 modelId = _publish();
        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.LinearModelAttached(modelId, 2);
        vm.prank(owner);
        marketplace.attachLinearModel(modelId, _features(3, -2), -1);

        (int64[] memory weights, int64 intercept, uint64 updates) = marketplace.linearModel(modelId);
        assertEq(weights, _features(3, -2), "weights");
        assertEq(intercept, -1, "intercept");
        assertEq(updates, 0, "updates");
        assertTrue(marketplace.getModel(modelId).hasLinearModel, "has linear model");

        // score = 3 * x0 - 2 * x1 - 1e6
        assertEq(marketplace.predict(modelId, _features(1e6, 1e6)), 1, "score 0 is class 1");
        assertEq(marketplace.predict(modelId, _features(1e6, 1e6 + 1)), 0, "score -2");
        assertEq(marketplace.predict(modelId, _features(0, 0)), 0, "intercept only");
        assertEq(marketplace.predict(modelId, _features(type(int64).max, type(int64).min)), 1, "no overflow");
    }

    function test_attachLinearModel_reverts() public {
        uint256 modelId = _publish();
        vm.expectRevert(_notOwner(modelId, alice));
        vm.prank(alice);
        marketplace.attachLinearModel(modelId, _features(1, 1), 0);

        _expectInvalidInput("weights are empty");
        vm.prank(owner);
        marketplace.attachLinearModel(modelId, new int64[](0), 0);

        vm.prank(owner);
        marketplace.attachLinearModel(modelId, _features(1, 1), 0);
        _expectError(IModelMarketplace.MarketplaceLinearModelExists.selector, modelId);
        vm.prank(owner);
        marketplace.attachLinearModel(modelId, _features(1, 1), 0);
    }

    function test_predict_reverts() public {
        uint256 modelId = _publish();
        _expectError(IModelMarketplace.MarketplaceNoLinearModel.selector, modelId);
        marketplace.predict(modelId, _features(1, 1));
        _expectError(IModelMarketplace.MarketplaceNoLinearModel.selector, modelId);
        marketplace.linearModel(modelId);
        _expectError(IModelMarketplace.MarketplaceUnknownModel.selector, 3);
        marketplace.predict(3, _features(1, 1));

        vm.prank(owner);
        marketplace.attachLinearModel(modelId, _features(1, 1), 0);
        vm.expectRevert(abi.encodeWithSelector(IModelMarketplace.MarketplaceFeatureCountMismatch.selector, 2, 1));
        marketplace.predict(modelId, new int64[](1));
    }

    // ============================================================================================ contribute

    function test_contribute_recordsSubmissionAndReservesReward() public {
        uint256 modelId = _publish();
        bytes32 root = keccak256("root");
        uint256 deposit = 10 * uint256(DEPOSIT);
        vm.deal(alice, deposit);

        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.SubmissionAdded(
            modelId, 1, alice, DATA_CID, root, 10, deposit, uint64(block.timestamp) + WINDOW
        );
        vm.prank(alice);
        uint256 submissionId = marketplace.contribute{value: deposit}(modelId, DATA_CID, root, 10);

        assertEq(submissionId, 1, "first submission id");
        assertEq(marketplace.submissionCount(), 1, "submission count");
        IModelMarketplace.Submission memory submission = marketplace.getSubmission(submissionId);
        assertEq(submission.id, 1, "id");
        assertEq(submission.modelId, modelId, "model id");
        assertEq(submission.contributor, alice, "contributor");
        assertEq(submission.dataCid, DATA_CID, "data CID");
        assertEq(submission.merkleRoot, root, "root");
        assertEq(submission.rowCount, 10, "row count");
        assertEq(submission.createdAt, block.timestamp, "created at");
        assertEq(submission.windowEndsAt, block.timestamp + WINDOW, "window");
        assertEq(submission.depositPerRow, DEPOSIT, "deposit snapshot");
        assertEq(submission.rewardPerRow, REWARD, "reward snapshot");
        assertFalse(submission.onChainRow, "on-chain row");
        assertFalse(submission.claimed, "claimed");

        IModelMarketplace.ModelInfo memory info = marketplace.getModel(modelId);
        assertEq(info.rewardPool, POOL - 10 * REWARD, "pool");
        assertEq(info.rowsSubmitted, 10, "rows submitted");
        assertEq(info.submissionCount, 1, "model submissions");
        assertEq(address(marketplace).balance, POOL + deposit, "balance");
    }

    function test_contribute_revertsOnInvalidInput() public {
        uint256 modelId = _publish();
        _expectInvalidInput("row count is zero");
        marketplace.contribute(modelId, DATA_CID, keccak256("root"), 0);

        _expectInvalidInput("data CID is empty");
        marketplace.contribute{value: DEPOSIT}(modelId, "", keccak256("root"), 1);

        _expectInvalidInput("Merkle root is zero");
        marketplace.contribute{value: DEPOSIT}(modelId, DATA_CID, bytes32(0), 1);

        _expectError(IModelMarketplace.MarketplaceUnknownModel.selector, 7);
        marketplace.contribute{value: DEPOSIT}(7, DATA_CID, keccak256("root"), 1);
    }

    function test_contribute_revertsOnIncorrectPayment() public {
        uint256 modelId = _publish();
        uint256 expected = 3 * uint256(DEPOSIT);
        vm.deal(address(this), 1 ether);
        uint256[2] memory wrong = [expected - 1, expected + 1];
        for (uint256 i = 0; i < wrong.length; ++i) {
            vm.expectRevert(_incorrectPayment(expected, wrong[i]));
            marketplace.contribute{value: wrong[i]}(modelId, DATA_CID, keccak256("root"), 3);
        }
    }

    function test_contribute_revertsOnInsufficientRewardPool() public {
        uint256 modelId = _publish(marketplace, _terms(), 5 * uint256(REWARD));
        vm.deal(address(this), 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelMarketplace.MarketplaceInsufficientRewardPool.selector, modelId, 6 * REWARD, 5 * REWARD
            )
        );
        marketplace.contribute{value: 6 * DEPOSIT}(modelId, DATA_CID, keccak256("root"), 6);

        marketplace.contribute{value: 5 * DEPOSIT}(modelId, DATA_CID, keccak256("root"), 5);
        assertEq(marketplace.getModel(modelId).rewardPool, 0, "pool drained exactly");
    }

    function test_contribute_gasDoesNotDependOnRowCount() public {
        uint256 gasOneRow = _measureContribute(marketplace, 1);
        uint256 gasManyRows = _measureContribute(new ModelMarketplace(), 10_000);
        emit log_named_uint("contribute gas, 1 row", gasOneRow);
        emit log_named_uint("contribute gas, 10000 rows", gasManyRows);
        assertEq(gasOneRow, gasManyRows, "gas of 1 row vs 10000 rows");
    }

    // ============================================================================================ contributeRow

    function test_contributeRow_storesAnyRowWithoutLinearModel() public {
        uint256 modelId = _publish();
        int64[] memory features = new int64[](3);
        features[0] = -5;
        features[2] = 7;
        bytes32 leaf = marketplace.rowLeaf(0, _encodeRow(features, 7));
        vm.deal(alice, DEPOSIT);

        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.SubmissionAdded(
            modelId, 1, alice, "", leaf, 1, DEPOSIT, uint64(block.timestamp) + WINDOW
        );
        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.RowAdded(modelId, 1, features, 7);
        vm.prank(alice);
        uint256 submissionId = marketplace.contributeRow{value: DEPOSIT}(modelId, features, 7);

        IModelMarketplace.Submission memory submission = marketplace.getSubmission(submissionId);
        assertTrue(submission.onChainRow, "on-chain row");
        assertEq(submission.dataCid, "", "no data CID");
        assertEq(submission.rowCount, 1, "one row");
        assertEq(submission.merkleRoot, MerkleBuilder.leaf(0, _encodeRow(features, 7)), "root is the leaf");
        (int64[] memory storedFeatures, int64 storedLabel) = marketplace.getRow(submissionId);
        assertEq(storedFeatures, features, "features");
        assertEq(storedLabel, 7, "label");
        assertEq(marketplace.getModel(modelId).rewardPool, POOL - REWARD, "pool");
    }

    function test_contributeRow_trainsMisclassifiedRow() public {
        uint256 modelId = _publishLinear(); // predicts 1 iff x0 - x1 >= 0
        vm.deal(alice, DEPOSIT);
        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.LinearModelUpdated(modelId, 1, 1);
        vm.prank(alice);
        marketplace.contributeRow{value: DEPOSIT}(modelId, _features(1, 5), 1);

        (int64[] memory weights, int64 intercept, uint64 updates) = marketplace.linearModel(modelId);
        assertEq(weights, _features(2, 4), "weights moved towards the row");
        assertEq(intercept, 1e6, "intercept moved by one scale unit");
        assertEq(updates, 1, "updates");

        _contributeRow(bob, modelId, _features(0, 0), 0); // score 1e12 >= 0: misclassified, trained down
        (weights, intercept, updates) = marketplace.linearModel(modelId);
        assertEq(weights, _features(2, 4), "zero features leave weights");
        assertEq(intercept, 0, "intercept moved back");
        assertEq(updates, 2, "updates");
    }

    function test_contributeRow_doesNotTrainOnCorrectRow() public {
        uint256 modelId = _publishLinear();
        _contributeRow(alice, modelId, _features(5, 1), 1);
        (int64[] memory weights, int64 intercept, uint64 updates) = marketplace.linearModel(modelId);
        assertEq(weights, _features(1, -1), "weights");
        assertEq(intercept, 0, "intercept");
        assertEq(updates, 0, "updates");
    }

    function test_contributeRow_revertsOnRowNotFittingLinearModel() public {
        uint256 modelId = _publishLinear();
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IModelMarketplace.MarketplaceFeatureCountMismatch.selector, 2, 3));
        vm.prank(alice);
        marketplace.contributeRow{value: DEPOSIT}(modelId, new int64[](3), 1);

        vm.expectRevert(abi.encodeWithSelector(IModelMarketplace.MarketplaceInvalidLabel.selector, int64(2)));
        vm.prank(alice);
        marketplace.contributeRow{value: DEPOSIT}(modelId, _features(1, 1), 2);

        vm.expectRevert(_incorrectPayment(DEPOSIT, 0));
        vm.prank(alice);
        marketplace.contributeRow(modelId, _features(1, 1), 1);
    }

    function test_contributeRow_revertsWhenWeightOverflows() public {
        uint256 modelId = _publish();
        vm.prank(owner);
        marketplace.attachLinearModel(modelId, _features(type(int64).max, 0), type(int64).min);
        vm.deal(alice, DEPOSIT);
        // the row (1, 0) labelled 1 is misclassified and training would push w0 past int64
        vm.expectRevert(
            abi.encodeWithSelector(SafeCast.SafeCastOverflowedIntDowncast.selector, 64, int256(type(int64).max) + 1)
        );
        vm.prank(alice);
        marketplace.contributeRow{value: DEPOSIT}(modelId, _features(1, 0), 1);
    }

    function test_getRow_reverts() public {
        uint256 modelId = _publish();
        (uint256 submissionId,) = _contribute(alice, modelId, 1, 2);
        _expectError(IModelMarketplace.MarketplaceNotOnChainRow.selector, submissionId);
        marketplace.getRow(submissionId);
        _expectError(IModelMarketplace.MarketplaceUnknownSubmission.selector, 5);
        marketplace.getRow(5);
    }

    // ============================================================================================ challenge

    function test_challenge_withValidProof() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 5);
        bytes memory row = MerkleBuilder.batchRow(1, 3);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 3);
        vm.deal(carol, BOND);

        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.RowChallenged(modelId, submissionId, 1, 3, carol, row, uint64(block.timestamp) + TIMEOUT);
        vm.prank(carol);
        uint256 challengeId = marketplace.challenge{value: BOND}(submissionId, 3, row, proof);

        assertEq(challengeId, 1, "first challenge id");
        assertEq(marketplace.challengeCount(), 1, "challenge count");
        assertEq(marketplace.challengeOf(submissionId, 3), challengeId, "challenge of row");
        assertEq(marketplace.challengeOf(submissionId, 2), 0, "unchallenged row");
        IModelMarketplace.Challenge memory challenged = marketplace.getChallenge(challengeId);
        assertEq(challenged.id, challengeId, "id");
        assertEq(challenged.submissionId, submissionId, "submission");
        assertEq(challenged.challenger, carol, "challenger");
        assertEq(challenged.rowIndex, 3, "row index");
        assertTrue(challenged.status == IModelMarketplace.ChallengeStatus.Pending, "pending");
        assertEq(challenged.bond, BOND, "bond");
        assertEq(challenged.resolveBy, block.timestamp + TIMEOUT, "resolve by");
        assertEq(marketplace.getSubmission(submissionId).openChallenges, 1, "open challenges");
        assertEq(address(marketplace).balance, POOL + 5 * uint256(DEPOSIT) + BOND, "balance");
    }

    function test_challenge_ofOnChainRowWithEmptyProof() public {
        uint256 modelId = _publish();
        uint256 submissionId = _contributeRow(alice, modelId, _features(4, 2), 1);
        uint256 challengeId = _challengeRow(carol, submissionId, 0, _encodeRow(_features(4, 2), 1), new bytes32[](0));
        assertEq(marketplace.challengeOf(submissionId, 0), challengeId, "challenged");
    }

    function test_challenge_revertsOnInvalidProof() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 6);
        bytes memory row = MerkleBuilder.batchRow(1, 2);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 2);
        vm.deal(carol, 10 * uint256(BOND));
        vm.startPrank(carol);

        _expectInvalidProof(submissionId, 2);
        marketplace.challenge{value: BOND}(submissionId, 2, MerkleBuilder.batchRow(2, 2), proof); // other row
        _expectInvalidProof(submissionId, 3);
        marketplace.challenge{value: BOND}(submissionId, 3, row, proof); // other index
        _expectInvalidProof(submissionId, 2);
        marketplace.challenge{value: BOND}(submissionId, 2, row, MerkleBuilder.proof(leaves, 1)); // other proof
        vm.stopPrank();
    }

    function test_challenge_revertsOnRuleViolations() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        bytes memory row = MerkleBuilder.batchRow(1, 0);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 0);
        vm.deal(owner, BOND);
        vm.deal(carol, 10 * uint256(BOND));

        _expectError(IModelMarketplace.MarketplaceOwnerCannotChallenge.selector, modelId);
        vm.prank(owner);
        marketplace.challenge{value: BOND}(submissionId, 0, row, proof);

        vm.expectRevert(
            abi.encodeWithSelector(IModelMarketplace.MarketplaceRowIndexOutOfRange.selector, submissionId, 4, 4)
        );
        vm.prank(carol);
        marketplace.challenge{value: BOND}(submissionId, 4, row, proof);

        vm.expectRevert(_incorrectPayment(BOND, BOND - 1));
        vm.prank(carol);
        marketplace.challenge{value: BOND - 1}(submissionId, 0, row, proof);

        _expectError(IModelMarketplace.MarketplaceUnknownSubmission.selector, 9);
        vm.prank(carol);
        marketplace.challenge{value: BOND}(9, 0, row, proof);
    }

    function test_challenge_revertsOnRowAlreadyChallenged() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        uint256 challengeId = _challenge(carol, submissionId, 1, leaves, 2);

        _expectAlreadyChallenged(submissionId, 2, challengeId);
        _challenge(dave, submissionId, 1, leaves, 2);

        _resolve(challengeId, false); // a rejected challenge still blocks the row
        _expectAlreadyChallenged(submissionId, 2, challengeId);
        _challenge(dave, submissionId, 1, leaves, 2);

        _challenge(dave, submissionId, 1, leaves, 3); // other rows stay open
    }

    function test_challenge_revertsAfterWindow() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        uint64 closedAt = marketplace.getSubmission(submissionId).windowEndsAt;

        vm.warp(closedAt - 1);
        _challenge(carol, submissionId, 1, leaves, 0); // last second of the window

        vm.warp(closedAt);
        vm.expectRevert(
            abi.encodeWithSelector(IModelMarketplace.MarketplaceChallengeWindowClosed.selector, submissionId, closedAt)
        );
        _challenge(carol, submissionId, 1, leaves, 1);
    }

    // ============================================================================================ resolution

    function test_resolveChallenge_upheldPaysChallenger() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        uint256 challengeId = _challenge(carol, submissionId, 1, leaves, 1);

        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.ChallengeResolved(challengeId, submissionId, true, carol, BOND + DEPOSIT);
        _resolve(challengeId, true);

        assertTrue(marketplace.getChallenge(challengeId).status == IModelMarketplace.ChallengeStatus.Upheld, "upheld");
        assertEq(marketplace.creditOf(carol), BOND + DEPOSIT, "challenger credit");
        IModelMarketplace.Submission memory submission = marketplace.getSubmission(submissionId);
        assertEq(submission.rowsRejected, 1, "submission rows rejected");
        assertEq(submission.openChallenges, 0, "open challenges");
        IModelMarketplace.ModelInfo memory info = marketplace.getModel(modelId);
        assertEq(info.rowsRejected, 1, "model rows rejected");
        assertEq(info.rewardPool, POOL - 3 * REWARD, "reward of the row back in the pool");
    }

    function test_resolveChallenge_rejectedPaysContributor() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        uint256 challengeId = _challenge(carol, submissionId, 1, leaves, 1);

        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.ChallengeResolved(challengeId, submissionId, false, alice, BOND);
        _resolve(challengeId, false);

        assertTrue(
            marketplace.getChallenge(challengeId).status == IModelMarketplace.ChallengeStatus.Rejected, "rejected"
        );
        assertEq(marketplace.creditOf(alice), BOND, "contributor credit");
        assertEq(marketplace.creditOf(carol), 0, "challenger credit");
        assertEq(marketplace.getSubmission(submissionId).rowsRejected, 0, "rows rejected");
        assertEq(marketplace.getModel(modelId).rewardPool, POOL - 4 * REWARD, "pool");
    }

    function test_resolveChallenge_reverts() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        uint256 challengeId = _challenge(carol, submissionId, 1, leaves, 1);

        vm.expectRevert(_notOwner(modelId, carol));
        vm.prank(carol);
        marketplace.resolveChallenge(challengeId, true);

        _expectError(IModelMarketplace.MarketplaceUnknownChallenge.selector, 2);
        vm.prank(owner);
        marketplace.resolveChallenge(2, true);

        uint64 resolveBy = marketplace.getChallenge(challengeId).resolveBy;
        vm.warp(resolveBy + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IModelMarketplace.MarketplaceResolutionTimedOut.selector, challengeId, resolveBy)
        );
        _resolve(challengeId, true);

        vm.warp(resolveBy); // the deadline itself is still in time
        _resolve(challengeId, true);
        _expectError(IModelMarketplace.MarketplaceChallengeNotPending.selector, challengeId);
        _resolve(challengeId, false);
    }

    function test_expireChallenge_returnsBond() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        uint256 challengeId = _challenge(carol, submissionId, 1, leaves, 1);
        uint64 resolveBy = marketplace.getChallenge(challengeId).resolveBy;

        vm.warp(resolveBy);
        vm.expectRevert(
            abi.encodeWithSelector(IModelMarketplace.MarketplaceResolutionPending.selector, challengeId, resolveBy)
        );
        marketplace.expireChallenge(challengeId);

        vm.warp(resolveBy + 1);
        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.ChallengeExpired(challengeId, submissionId, BOND);
        vm.prank(dave);
        marketplace.expireChallenge(challengeId);

        assertTrue(marketplace.getChallenge(challengeId).status == IModelMarketplace.ChallengeStatus.Expired, "expired");
        assertEq(marketplace.creditOf(carol), BOND, "bond back");
        assertEq(marketplace.getSubmission(submissionId).openChallenges, 0, "open challenges");

        _expectError(IModelMarketplace.MarketplaceChallengeNotPending.selector, challengeId);
        marketplace.expireChallenge(challengeId);
        _expectError(IModelMarketplace.MarketplaceUnknownChallenge.selector, 0);
        marketplace.expireChallenge(0);

        marketplace.claim(submissionId); // the row counts as good
        assertEq(marketplace.creditOf(alice), 4 * uint256(DEPOSIT + REWARD), "all rows paid");
    }

    // ============================================================================================ claim

    function test_claim_creditsContributor() public {
        uint256 modelId = _publish();
        (uint256 submissionId,) = _contribute(alice, modelId, 1, 4);
        _afterWindow(submissionId);
        uint256 amount = 4 * uint256(DEPOSIT + REWARD);

        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.SubmissionClaimed(modelId, submissionId, alice, 4, amount);
        vm.prank(dave); // anyone may claim; the contributor is paid
        marketplace.claim(submissionId);

        assertEq(marketplace.creditOf(alice), amount, "contributor credit");
        assertEq(marketplace.creditOf(dave), 0, "caller credit");
        assertTrue(marketplace.getSubmission(submissionId).claimed, "claimed");
        assertEq(marketplace.getModel(modelId).rowsAccepted, 4, "rows accepted");

        _expectError(IModelMarketplace.MarketplaceAlreadyClaimed.selector, submissionId);
        marketplace.claim(submissionId);
    }

    function test_claim_excludesRejectedRows() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        _resolve(_challenge(carol, submissionId, 1, leaves, 0), true);
        _resolve(_challenge(carol, submissionId, 1, leaves, 3), true);
        _afterWindow(submissionId);
        marketplace.claim(submissionId);

        assertEq(marketplace.creditOf(alice), 2 * uint256(DEPOSIT + REWARD), "two rows paid");
        IModelMarketplace.ModelInfo memory info = marketplace.getModel(modelId);
        assertEq(info.rowsAccepted, 2, "rows accepted");
        assertEq(info.rowsRejected, 2, "rows rejected");
    }

    function test_claim_revertsWhileWindowOpenOrChallengesPending() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        uint64 windowEndsAt = marketplace.getSubmission(submissionId).windowEndsAt;
        uint256 challengeId = _challenge(carol, submissionId, 1, leaves, 1);

        vm.warp(windowEndsAt - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelMarketplace.MarketplaceChallengeWindowOpen.selector, submissionId, windowEndsAt
            )
        );
        marketplace.claim(submissionId);

        vm.warp(windowEndsAt);
        vm.expectRevert(abi.encodeWithSelector(IModelMarketplace.MarketplaceOpenChallenges.selector, submissionId, 1));
        marketplace.claim(submissionId);

        _resolve(challengeId, false);
        marketplace.claim(submissionId);
        _expectError(IModelMarketplace.MarketplaceUnknownSubmission.selector, 0);
        marketplace.claim(0);
    }

    function test_claim_revertsOnMisclassifiedRow() public {
        (uint256 modelId, uint256 misclassified, uint256 correct) = _misclassifiedScenario();
        _expectError(IModelMarketplace.MarketplaceRowMisclassified.selector, misclassified);
        marketplace.claim(misclassified);

        marketplace.claim(correct);
        assertEq(marketplace.creditOf(bob), DEPOSIT + REWARD, "correct row paid");
        assertEq(marketplace.getModel(modelId).rowsAccepted, 1, "rows accepted");
    }

    function test_claim_ofRowsThatDoNotFitLaterLinearModel() public {
        uint256 modelId = _publish();
        uint256 wrongWidth = _contributeRow(alice, modelId, new int64[](3), 1);
        uint256 wrongLabel = _contributeRow(bob, modelId, _features(1, 0), 7);
        vm.prank(owner);
        marketplace.attachLinearModel(modelId, _features(1, -1), 0);
        _afterWindow(wrongLabel);

        // a row that cannot be classified by the model is claimable, and cannot be reported
        vm.expectRevert(abi.encodeWithSelector(IModelMarketplace.MarketplaceFeatureCountMismatch.selector, 2, 3));
        marketplace.reportMisclassified(wrongWidth);
        marketplace.claim(wrongWidth);
        assertEq(marketplace.creditOf(alice), DEPOSIT + REWARD, "claimed");

        // a label other than 0 or 1 is never predicted
        _expectError(IModelMarketplace.MarketplaceRowMisclassified.selector, wrongLabel);
        marketplace.claim(wrongLabel);
        vm.prank(dave);
        marketplace.reportMisclassified(wrongLabel);
    }

    // ============================================================================================ report

    function test_reportMisclassified_paysReporter() public {
        (uint256 modelId, uint256 misclassified,) = _misclassifiedScenario();

        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.RowReported(modelId, misclassified, dave, DEPOSIT);
        vm.prank(dave);
        marketplace.reportMisclassified(misclassified);

        assertEq(marketplace.creditOf(dave), DEPOSIT, "reporter credit");
        assertEq(marketplace.creditOf(alice), 0, "contributor credit");
        IModelMarketplace.Submission memory submission = marketplace.getSubmission(misclassified);
        assertTrue(submission.claimed, "settled");
        assertEq(submission.rowsRejected, 1, "rejected");
        IModelMarketplace.ModelInfo memory info = marketplace.getModel(modelId);
        assertEq(info.rowsRejected, 1, "model rows rejected");
        assertEq(info.rewardPool, POOL - REWARD, "reward of the reported row back in the pool");

        _expectError(IModelMarketplace.MarketplaceAlreadyClaimed.selector, misclassified);
        marketplace.reportMisclassified(misclassified);
        _expectError(IModelMarketplace.MarketplaceAlreadyClaimed.selector, misclassified);
        marketplace.claim(misclassified);
    }

    function test_reportMisclassified_revertsOnCorrectRow() public {
        (,, uint256 correct) = _misclassifiedScenario();
        _expectError(IModelMarketplace.MarketplaceRowClassifiedCorrectly.selector, correct);
        marketplace.reportMisclassified(correct);
    }

    function test_reportMisclassified_revertsOnWrongKindOfSubmission() public {
        uint256 plainModel = _publish();
        (uint256 batch,) = _contribute(alice, plainModel, 1, 2);
        uint256 plainRow = _contributeRow(alice, plainModel, _features(0, 0), 0);
        _afterWindow(plainRow);

        _expectError(IModelMarketplace.MarketplaceNotOnChainRow.selector, batch);
        marketplace.reportMisclassified(batch);
        _expectError(IModelMarketplace.MarketplaceNoLinearModel.selector, plainModel);
        marketplace.reportMisclassified(plainRow);
        _expectError(IModelMarketplace.MarketplaceUnknownSubmission.selector, 42);
        marketplace.reportMisclassified(42);
    }

    function test_reportMisclassified_revertsBeforeSettlement() public {
        uint256 modelId = _publishLinear();
        uint256 first = _contributeRow(alice, modelId, _features(0, 0), 0); // trains the intercept to -1e6
        uint256 second = _contributeRow(bob, modelId, _features(0, 0), 1); // trains it back: `first` misclassified
        uint64 windowEndsAt = marketplace.getSubmission(second).windowEndsAt;

        vm.expectRevert(
            abi.encodeWithSelector(IModelMarketplace.MarketplaceChallengeWindowOpen.selector, first, windowEndsAt)
        );
        marketplace.reportMisclassified(first);

        uint256 challengeId = _challengeRow(carol, first, 0, _encodeRow(_features(0, 0), 0), new bytes32[](0));
        vm.warp(windowEndsAt);
        vm.expectRevert(abi.encodeWithSelector(IModelMarketplace.MarketplaceOpenChallenges.selector, first, 1));
        marketplace.reportMisclassified(first);

        _resolve(challengeId, true); // already rejected by the challenge: nothing left to report
        _expectError(IModelMarketplace.MarketplaceAlreadyClaimed.selector, first);
        marketplace.reportMisclassified(first);

        marketplace.claim(first); // settles the rejected row with no payout
        assertEq(marketplace.creditOf(alice), 0, "nothing for a rejected row");
        assertEq(marketplace.creditOf(carol), BOND + DEPOSIT, "challenger paid");
    }

    // ============================================================================================ withdraw

    function test_withdraw_sendsCredit() public {
        uint256 modelId = _publish();
        (uint256 submissionId,) = _contribute(alice, modelId, 1, 4);
        _afterWindow(submissionId);
        marketplace.claim(submissionId);
        uint256 amount = 4 * uint256(DEPOSIT + REWARD);

        vm.expectEmit(address(marketplace));
        emit IModelMarketplace.Withdrawn(alice, amount);
        assertEq(_withdraw(alice), amount, "received");
        assertEq(marketplace.creditOf(alice), 0, "credit cleared");

        _expectNothingToWithdraw(alice);
        vm.prank(alice);
        marketplace.withdraw();
    }

    function test_withdraw_blocksReentrantWithdraw() public {
        (ReentrantReceiver receiver, uint256 amount) = _receiverWithCredit();
        receiver.arm(ReentrantReceiver.Attack.Withdraw, true, 0);

        vm.expectRevert(
            abi.encodeWithSelector(IModelMarketplace.MarketplaceWithdrawFailed.selector, address(receiver), amount)
        );
        receiver.forward(abi.encodeCall(IModelMarketplace.withdraw, ()));
        assertEq(marketplace.creditOf(address(receiver)), amount, "credit kept after a failed withdraw");

        receiver.arm(ReentrantReceiver.Attack.Withdraw, false, 0);
        receiver.forward(abi.encodeCall(IModelMarketplace.withdraw, ()));
        assertEq(receiver.reentries(), 1, "re-entered once");
        assertFalse(receiver.reentrySucceeded(), "re-entry failed");
        assertEq(
            receiver.reentryError(),
            abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector),
            "re-entry error"
        );
        assertEq(address(receiver).balance, amount, "paid exactly once");
        assertEq(marketplace.creditOf(address(receiver)), 0, "credit cleared");
    }

    function test_withdraw_reentrantClaimIsHarmless() public {
        (ReentrantReceiver receiver, uint256 amount) = _receiverWithCredit();
        uint256 other = _contributeAs(receiver, 1, 3);
        _afterWindow(other);
        receiver.arm(ReentrantReceiver.Attack.Claim, false, other);

        receiver.forward(abi.encodeCall(IModelMarketplace.withdraw, ()));
        assertTrue(receiver.reentrySucceeded(), "claim from receive() works");
        uint256 otherAmount = 3 * uint256(DEPOSIT + REWARD);
        assertEq(address(receiver).balance, amount, "first withdraw paid the first credit");
        assertEq(marketplace.creditOf(address(receiver)), otherAmount, "claim credited afresh");

        receiver.forward(abi.encodeCall(IModelMarketplace.withdraw, ()));
        assertEq(address(receiver).balance, amount + otherAmount, "paid in total");
        assertEq(address(marketplace).balance, marketplace.getModel(1).rewardPool, "only the pool is left");
    }

    // ============================================================================================ views

    function test_getModels_pages() public {
        for (uint256 i = 0; i < 3; ++i) {
            _publish();
        }
        IModelMarketplace.ModelInfo[] memory page = marketplace.getModels(0, 2);
        assertEq(page.length, 2, "first page");
        assertEq(page[0].id, 1, "first id");
        assertEq(page[1].id, 2, "second id");
        page = marketplace.getModels(2, 2);
        assertEq(page.length, 1, "last page");
        assertEq(page[0].id, 3, "last id");
        assertEq(page[0].name, "iris", "info filled");
        assertEq(marketplace.getModels(3, 2).length, 0, "past the end");
        assertEq(marketplace.getModels(1, type(uint256).max).length, 2, "unbounded limit");
        assertEq(marketplace.getModels(type(uint256).max, type(uint256).max).length, 0, "huge offset");
    }

    function test_getSubmissions_pagesPerModel() public {
        uint256 first = _publish();
        uint256 second = _publish();
        _contribute(alice, first, 1, 1);
        _contribute(alice, second, 2, 1);
        _contribute(bob, first, 3, 2);
        _contribute(bob, first, 4, 3);

        IModelMarketplace.Submission[] memory page = marketplace.getSubmissions(first, 1, 5);
        assertEq(page.length, 2, "page length");
        assertEq(page[0].id, 3, "second submission of the model");
        assertEq(page[1].id, 4, "third submission of the model");
        assertEq(page[1].rowCount, 3, "submission filled");
        assertEq(marketplace.getSubmissions(second, 0, 10).length, 1, "other model");
        assertEq(marketplace.getSubmissions(first, 3, 1).length, 0, "past the end");
        assertEq(marketplace.getModel(first).submissionCount, 3, "submission count");
        _expectError(IModelMarketplace.MarketplaceUnknownModel.selector, 3);
        marketplace.getSubmissions(3, 0, 1);
    }

    function test_views_revertOnUnknownIds() public {
        _expectError(IModelMarketplace.MarketplaceUnknownModel.selector, 0);
        marketplace.getModel(0);
        _expectError(IModelMarketplace.MarketplaceUnknownModel.selector, 1);
        marketplace.linearModel(1);
        _expectError(IModelMarketplace.MarketplaceUnknownSubmission.selector, 1);
        marketplace.getSubmission(1);
        _expectError(IModelMarketplace.MarketplaceUnknownChallenge.selector, 1);
        marketplace.getChallenge(1);
        vm.expectRevert(abi.encodeWithSelector(IModelMarketplace.MarketplaceUnknownSubmission.selector, 1));
        marketplace.challengeOf(1, 0);
        assertEq(marketplace.modelCount(), 0, "no models");
        assertEq(marketplace.submissionCount(), 0, "no submissions");
        assertEq(marketplace.challengeCount(), 0, "no challenges");
        assertEq(marketplace.getModels(0, 10).length, 0, "no model pages");
    }

    function test_rowLeaf_matchesDocumentedEncoding() public view {
        bytes memory row = _encodeRow(_features(-3, 9), 1);
        bytes32 expected = keccak256(bytes.concat(keccak256(abi.encode(uint256(5), keccak256(row)))));
        assertEq(marketplace.rowLeaf(5, row), expected, "leaf");
        assertEq(MerkleBuilder.leaf(5, row), expected, "builder leaf");
    }

    // ============================================================================================ scenario

    function test_scenario_fullLifecycle() public {
        uint256 modelId = _publish();
        (uint256 aliceBatch, bytes32[] memory aliceLeaves) = _contribute(alice, modelId, 11, 8);
        vm.warp(block.timestamp + 1 hours);
        (uint256 bobBatch, bytes32[] memory bobLeaves) = _contribute(bob, modelId, 22, 5);

        uint256 upheld = _challenge(carol, aliceBatch, 11, aliceLeaves, 3);
        uint256 rejected = _challenge(dave, bobBatch, 22, bobLeaves, 0);
        _resolve(upheld, true);
        _resolve(rejected, false);

        _afterWindow(bobBatch);
        vm.prank(dave);
        marketplace.claim(aliceBatch);
        vm.prank(bob);
        marketplace.claim(bobBatch);

        assertEq(_withdraw(alice), 7 * uint256(DEPOSIT + REWARD), "alice: 7 accepted rows");
        assertEq(_withdraw(bob), 5 * uint256(DEPOSIT + REWARD) + BOND, "bob: 5 rows and the rejected bond");
        assertEq(_withdraw(carol), uint256(BOND) + DEPOSIT, "carol: bond and the deposit of the bad row");
        _expectNothingToWithdraw(dave);
        vm.prank(dave);
        marketplace.withdraw();

        IModelMarketplace.ModelInfo memory info = marketplace.getModel(modelId);
        assertEq(info.rowsSubmitted, 13, "rows submitted");
        assertEq(info.rowsRejected, 1, "rows rejected");
        assertEq(info.rowsAccepted, 12, "rows accepted");
        assertEq(info.rewardPool, POOL - 12 * uint256(REWARD), "pool");
        assertEq(address(marketplace).balance, info.rewardPool, "only the unallocated pool is left");

        vm.prank(owner);
        marketplace.withdrawRewardPool(modelId, info.rewardPool);
        assertEq(_withdraw(owner), POOL - 12 * uint256(REWARD), "owner takes the rest of the pool");
        assertEq(address(marketplace).balance, 0, "empty");
        assertEq(alice.balance, 7 * uint256(DEPOSIT + REWARD), "alice balance");
        assertEq(dave.balance, 0, "dave lost his bond");
    }

    // ============================================================================================ helpers

    function _assertPublishReverts(
        IModelMarketplace.ModelInput memory input,
        IModelMarketplace.Terms memory terms,
        bytes memory expectedError
    ) private {
        vm.expectRevert(expectedError);
        vm.prank(owner);
        marketplace.publishModel(input, terms);
    }

    /// @dev Gas of the first contribution of `rowCount` rows to a fresh model of `target`.
    function _measureContribute(ModelMarketplace target, uint32 rowCount) private returns (uint256 gasUsed) {
        uint256 modelId = _publish(target, _terms(), 10_000 * uint256(REWARD));
        uint256 deposit = uint256(rowCount) * DEPOSIT;
        vm.deal(alice, deposit);
        vm.prank(alice);
        uint256 before = gasleft();
        target.contribute{value: deposit}(modelId, DATA_CID, keccak256("root"), rowCount);
        gasUsed = before - gasleft();
    }

    /// @dev Alice's row (0, 0) labelled 0 then Bob's identical row labelled 1: the model ends up misclassifying
    /// Alice's row and classifying Bob's correctly. Returns after the window of both.
    function _misclassifiedScenario() private returns (uint256 modelId, uint256 misclassified, uint256 correct) {
        modelId = _publishLinear();
        misclassified = _contributeRow(alice, modelId, _features(0, 0), 0);
        correct = _contributeRow(bob, modelId, _features(0, 0), 1);
        assertEq(marketplace.predict(modelId, _features(0, 0)), 1, "model predicts 1");
        _afterWindow(correct);
    }

    function _contributeAs(ReentrantReceiver receiver, uint256 salt, uint32 rowCount)
        private
        returns (uint256 submissionId)
    {
        bytes32 root = MerkleBuilder.root(MerkleBuilder.leaves(MerkleBuilder.batchRows(salt, rowCount)));
        uint256 deposit = uint256(rowCount) * DEPOSIT;
        bytes memory result = receiver.forward{value: deposit}(
            abi.encodeCall(IModelMarketplace.contribute, (1, DATA_CID, root, rowCount))
        );
        submissionId = abi.decode(result, (uint256));
    }

    /// @dev A re-entrant receiver credited by the claim of a 2-row submission of model 1.
    function _receiverWithCredit() private returns (ReentrantReceiver receiver, uint256 amount) {
        _publish();
        receiver = new ReentrantReceiver(marketplace);
        uint256 submissionId = _contributeAs(receiver, 1, 2);
        _afterWindow(submissionId);
        marketplace.claim(submissionId);
        amount = 2 * uint256(DEPOSIT + REWARD);
        assertEq(marketplace.creditOf(address(receiver)), amount, "receiver credit");
    }

    function _expectInvalidProof(uint256 submissionId, uint32 rowIndex) private {
        vm.expectRevert(
            abi.encodeWithSelector(IModelMarketplace.MarketplaceInvalidProof.selector, submissionId, rowIndex)
        );
    }

    function _expectAlreadyChallenged(uint256 submissionId, uint32 rowIndex, uint256 challengeId) private {
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelMarketplace.MarketplaceRowAlreadyChallenged.selector, submissionId, rowIndex, challengeId
            )
        );
    }

    function _expectNothingToWithdraw(address account) private {
        vm.expectRevert(abi.encodeWithSelector(IModelMarketplace.MarketplaceNothingToWithdraw.selector, account));
    }

    function _notOwner(uint256 modelId, address caller) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IModelMarketplace.MarketplaceNotModelOwner.selector, modelId, caller);
    }

    function _incorrectPayment(uint256 expected, uint256 received) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IModelMarketplace.MarketplaceIncorrectPayment.selector, expected, received);
    }

    function _invalidInput(string memory reason) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IModelMarketplace.MarketplaceInvalidInput.selector, reason);
    }

    function _invalidTerms(string memory reason) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IModelMarketplace.MarketplaceInvalidTerms.selector, reason);
    }
}
