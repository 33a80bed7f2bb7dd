// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ChallengeGame} from "../src/ChallengeGame.sol";
import {IMarketplaceTypes} from "../src/IMarketplaceTypes.sol";
import {IModelMarketplace} from "../src/IModelMarketplace.sol";
import {ModelMarketplace} from "../src/ModelMarketplace.sol";
import {RowChecker} from "../src/RowChecker.sol";
import {ReentrantReceiver} from "./mocks/ReentrantReceiver.sol";
import {MarketplaceFixture} from "./utils/MarketplaceFixture.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";
import {SparseRows} from "./utils/SparseRows.sol";

/**
 * @dev Unit tests of {ModelMarketplace}, its {ChallengeGame} module and its {RowChecker}: every external function,
 * its success paths and every reachable custom error of {IMarketplaceTypes}.
 */
contract ModelMarketplaceTest is MarketplaceFixture {
    bytes32 internal constant ROOT = keccak256("root");
    uint64 internal constant ONE = 0x3FF0000000000000; // 1.0
    uint64 internal constant NAN = 0x7FF8000000000000;
    uint64 internal constant INFINITY = 0x7FF0000000000000;
    uint64 internal constant NEGATIVE_INFINITY = 0xFFF0000000000000;
    uint64 internal constant FLOAT_1E308 = 0x7FE1CCF385EBC8A0;
    uint64 internal constant NEGATIVE_ZERO = 0x8000000000000000;
    uint64 internal constant MINUS_1E9 = 0xC1CDCD6500000000;
    uint64 internal constant FLOAT_1E9_PLUS_1 = 0x41CDCD6500800000;

    // ============================================================================================ publishModel

    function test_publishModel_storesModelDataAndFirstVersion() public {
        uint256 modelId = _publish();

        assertEq(modelId, 1, "first model id");
        assertEq(marketplace.modelCount(), 1, "model count");
        IMarketplaceTypes.ModelInfo memory info = marketplace.getModel(modelId);
        IMarketplaceTypes.ModelInput memory input = _input();
        assertEq(info.id, modelId, "id");
        assertEq(info.owner, owner, "owner");
        assertEq(info.testSetCommitment, input.testSetCommitment, "test set commitment");
        assertEq(info.testSetCid, "", "test set CID");
        assertEq(info.schemaHash, keccak256(abi.encode(_schema())), "schema hash");
        assertEq(info.trainingRoot, input.trainingRoot, "training root");
        assertEq(info.trainingRowCount, TRAINING_ROWS, "training rows");
        assertEq(info.testRoot, input.testRoot, "test root");
        assertEq(info.testRowCount, TEST_ROWS, "test rows");
        assertEq(abi.encode(info.terms), abi.encode(_terms()), "terms");
        assertEq(info.rewardPool, POOL, "reward pool");
        assertEq(info.createdAt, block.timestamp, "created at");
        assertEq(info.versionCount, 1, "version count");
        assertEq(info.submissionCount, 0, "submission count");
        assertEq(info.rowsSubmitted + info.rowsRejected + info.rowsAccepted, 0, "row counters");
        assertFalse(info.hasLinearModel, "no perceptron");
        assertEq(address(marketplace).balance, POOL, "balance");

        // the name, the metadata CID and the version are in the events only (test_publishModel_emitsEventsInOrder)
        assertEq(_publish(), 2, "second model id");
    }

    function test_publishModel_emitsEventsInOrder() public {
        IMarketplaceTypes.ModelInput memory input = _input();
        IMarketplaceTypes.RowSchema memory schema = _schema();
        IMarketplaceTypes.LinearModelInput memory linear = _linear();
        vm.deal(owner, POOL);

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.ModelPublished(
            1, owner, input.name, input.modelCid, input.metadataCid, input.testSetCommitment, _terms(), POOL
        );
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.ModelDataCommitted(
            1, keccak256(abi.encode(schema)), schema, input.trainingRoot, TRAINING_ROWS, input.testRoot, TEST_ROWS
        );
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.LinearModelPublished(1, linear.weights, 0, MAX_FEATURE);
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.VersionPublished(
            1, 1, input.modelCid, input.accuracyBps, input.evaluationCid, 0, 0, uint64(block.timestamp)
        );
        vm.prank(owner);
        marketplace.publishModel{value: POOL}(input, _terms(), schema, linear);
    }

    function test_publishModel_withPerceptron() public {
        uint256 modelId = _publishLinear();
        assertTrue(marketplace.getModel(modelId).hasLinearModel, "has perceptron");
        IMarketplaceTypes.LinearModelInfo memory linear = marketplace.linearModel(modelId);
        assertEq(linear.weightsHash, keccak256(_linear().weights), "weights hash");
        assertEq(_linear().weights, hex"0000000000000001ffffffffffffffff", "weights packed: int64 big-endian");
        assertEq(linear.intercept, 0, "intercept");
        assertEq(linear.maxAbsFeature, MAX_FEATURE, "bound");
        assertEq(linear.updates, 0, "updates");
        assertEq(linear.featureCount, 2, "feature count");
    }

    function test_publishModel_revertsOnInvalidInput() public {
        IMarketplaceTypes.ModelInput memory input = _input();
        input.name = "";
        _assertPublishReverts(input, _invalidInput("name is empty"));

        input = _input();
        input.name = string(new bytes(129));
        _assertPublishReverts(input, _invalidInput("name is longer than 128 bytes"));

        input = _input();
        input.accuracyBps = 10_001;
        _assertPublishReverts(input, _invalidInput("accuracy above 10000 bps"));

        input = _input();
        input.testSetCommitment = bytes32(0);
        _assertPublishReverts(input, _invalidInput("test-set commitment is zero"));

        input = _input();
        input.testRoot = bytes32(0);
        _assertPublishReverts(input, _invalidInput("the test set is empty"));

        input = _input();
        input.testRowCount = 0;
        _assertPublishReverts(input, _invalidInput("the test set is empty"));

        input = _input();
        input.trainingRoot = bytes32(0);
        _assertPublishReverts(input, _invalidInput("training root and row count disagree"));

        input = _input();
        input.trainingRowCount = 0;
        _assertPublishReverts(input, _invalidInput("training root and row count disagree"));

        // the limits themselves are accepted
        input = _input();
        input.name = string(new bytes(128));
        input.accuracyBps = 10_000;
        vm.prank(owner);
        marketplace.publishModel(input, _terms(), _schema(), _noLinear());
    }

    function test_publishModel_revertsOnInvalidCids() public {
        bytes[] memory invalid = _invalidCids();
        for (uint256 i = 0; i < invalid.length; ++i) {
            IMarketplaceTypes.ModelInput memory input = _input();
            input.modelCid = invalid[i];
            _assertPublishReverts(input, _invalidCid("model CID"));

            input = _input();
            input.metadataCid = invalid[i];
            _assertPublishReverts(input, _invalidCid("metadata CID"));

            if (invalid[i].length == 0) continue; // an empty evaluation CID means "no evaluation"
            input = _input();
            input.evaluationCid = invalid[i];
            _assertPublishReverts(input, _invalidCid("evaluation CID"));
        }
    }

    function test_publishModel_acceptsDagPbCidsAndNoEvaluationOrTraining() public {
        IMarketplaceTypes.ModelInput memory input = _input();
        input.modelCid = _dagPbCid("model");
        input.metadataCid = _dagPbCid("meta");
        input.evaluationCid = "";
        input.trainingRoot = bytes32(0);
        input.trainingRowCount = 0;
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.VersionPublished(1, 1, _dagPbCid("model"), 9100, "", 0, 0, uint64(block.timestamp));
        vm.prank(owner);
        uint256 modelId = marketplace.publishModel(input, _terms(), _schema(), _noLinear());

        IMarketplaceTypes.ModelInfo memory info = marketplace.getModel(modelId);
        assertEq(info.trainingRowCount, 0, "no training data");
        assertEq(info.rewardPool, 0, "empty pool");
    }

    function test_publishModel_revertsOnInvalidTerms() public {
        IMarketplaceTypes.Terms memory terms = _terms(0, 0, BOND);
        _assertPublishReverts(terms, _invalidTerms("deposit per row is zero"));

        string memory rewardReason = "the reward per row must be less than the deposit per row";
        _assertPublishReverts(_terms(DEPOSIT, DEPOSIT, BOND), _invalidTerms(rewardReason));
        _assertPublishReverts(_terms(DEPOSIT, DEPOSIT + 1, BOND), _invalidTerms(rewardReason));
        _assertPublishReverts(_terms(DEPOSIT, REWARD, 0), _invalidTerms("challenge bond is zero"));

        string memory windowReason = "challenge window must be between 1 minute and 30 days";
        string memory timeoutReason = "owner time-out must be between 1 minute and 30 days";
        uint64[4] memory periods = [uint64(0), 59, 30 days + 1, type(uint64).max];
        for (uint256 i = 0; i < periods.length; ++i) {
            terms = _terms();
            terms.challengeWindow = periods[i];
            _assertPublishReverts(terms, _invalidTerms(windowReason));
            terms = _terms();
            terms.ownerTimeout = periods[i];
            _assertPublishReverts(terms, _invalidTerms(timeoutReason));
        }
    }

    function test_publishModel_acceptsTermsAtTheBounds() public {
        IMarketplaceTypes.Terms memory terms = _terms(DEPOSIT, DEPOSIT - 1, 1);
        terms.challengeWindow = 1 minutes;
        terms.ownerTimeout = 30 days;
        vm.prank(owner);
        marketplace.publishModel(_input(), terms, _schema(), _noLinear());

        terms = _terms(1, 0, BOND);
        terms.challengeWindow = 30 days;
        terms.ownerTimeout = 1 minutes;
        vm.prank(owner);
        uint256 modelId = marketplace.publishModel(_input(), terms, _schema(), _noLinear());
        assertEq(abi.encode(marketplace.getModel(modelId).terms), abi.encode(terms), "terms stored");
        assertEq(marketplace.MIN_PERIOD(), 1 minutes, "MIN_PERIOD");
        assertEq(marketplace.MAX_PERIOD(), 30 days, "MAX_PERIOD");
    }

    function test_publishModel_revertsOnInvalidSchema() public {
        IMarketplaceTypes.RowSchema memory schema = _schema();
        schema.columns = "f";
        _assertPublishReverts(schema, _invalidSchema("fewer than two columns"));

        schema = _schema();
        schema.columns = "fxs";
        _assertPublishReverts(schema, _invalidSchema("unknown column tag"));

        schema = _schema();
        schema.maxFloatBits = INFINITY;
        _assertPublishReverts(schema, _invalidSchema("float bound"));

        schema = _schema();
        schema.labels[1] = bytes.concat("f", bytes8(ONE)); // a float label for a string column
        _assertPublishReverts(schema, _invalidSchema("label of another type"));

        schema = _schema();
        schema.labels[1] = "";
        _assertPublishReverts(schema, _invalidSchema("label of another type"));

        schema = _schema();
        schema.labels[1] = MerkleBuilder.encodeLabel(string(new bytes(65))); // longer than maxStringBytes
        _assertPublishReverts(schema, _invalidSchema("label outside the bounds"));

        schema = _schema();
        schema.labels[1] = bytes.concat(MerkleBuilder.encodeLabel("dog"), "x"); // trailing bytes
        _assertPublishReverts(schema, _invalidSchema("label outside the bounds"));

        schema = _schema();
        schema.labels[1] = bytes.concat("s", bytes4(uint32(2)), hex"C0AF"); // not UTF-8
        _assertPublishReverts(schema, _invalidSchema("label outside the bounds"));

        // RowChecker.check is the same function, free to call
        RowChecker checker = RowChecker(marketplace.rowChecker());
        schema = _withFloatBound(_schema(), NAN);
        vm.expectRevert(_invalidSchema("float bound"));
        checker.check(schema);
        checker.check(_schema());
    }

    function test_publishModel_revertsOnInvalidPerceptron() public {
        IMarketplaceTypes.LinearModelInput memory linear = _linear();
        linear.weights = new bytes(24);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceFeatureCountMismatch.selector, 2, 3));
        vm.prank(owner);
        marketplace.publishModel(_input(), _terms(), _schema(), linear);

        linear.weights = new bytes(15); // not whole weights
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceFeatureCountMismatch.selector, 2, 1));
        vm.prank(owner);
        marketplace.publishModel(_input(), _terms(), _schema(), linear);

        linear = _linear();
        linear.maxAbsFeature = 0;
        vm.expectRevert(_invalidInput("feature bound out of range"));
        vm.prank(owner);
        marketplace.publishModel(_input(), _terms(), _schema(), linear);

        linear.maxAbsFeature = marketplace.MAX_FEATURE_BOUND() + 1;
        vm.expectRevert(_invalidInput("feature bound out of range"));
        vm.prank(owner);
        marketplace.publishModel(_input(), _terms(), _schema(), linear);

        linear.maxAbsFeature = 2 ** 40;
        vm.prank(owner);
        uint256 modelId = marketplace.publishModel(_input(), _terms(), _schema(), linear);
        assertTrue(marketplace.getModel(modelId).hasLinearModel, "bound 2^40 accepted");
    }

    // ============================================================================================ versions

    function test_publishVersion_recordsLineageAndAcceptedRows() public {
        uint256 modelId = _publish();
        (uint256 submissionId,) = _contribute(alice, modelId, 1, 3);
        _afterWindow(submissionId);
        marketplace.claim(submissionId);

        // a version is recorded by its event only: parent, rows accepted so far and time are in it
        uint64 now_ = uint64(block.timestamp);
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.VersionPublished(modelId, 2, _cid("model2"), 9300, _cid("eval2"), 1, 3, now_);
        vm.prank(owner);
        uint32 version = marketplace.publishVersion(modelId, _cid("model2"), 9300, _cid("eval2"));
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.VersionPublished(modelId, 3, _dagPbCid("model3"), 10_000, "", 2, 3, now_);
        vm.prank(owner);
        assertEq(marketplace.publishVersion(modelId, _dagPbCid("model3"), 10_000, ""), 3, "third version");

        assertEq(version, 2, "version");
        assertEq(marketplace.getModel(modelId).versionCount, 3, "version count");
    }

    function test_publishVersion_reverts() public {
        uint256 modelId = _publish();
        bytes memory cid = _cid("model2");
        vm.expectRevert(_notOwner(modelId, alice));
        vm.prank(alice);
        marketplace.publishVersion(modelId, cid, 9300, "");

        _expectError(IMarketplaceTypes.MarketplaceUnknownModel.selector, 2);
        vm.prank(owner);
        marketplace.publishVersion(2, cid, 9300, "");

        vm.expectRevert(_invalidCid("model CID"));
        vm.prank(owner);
        marketplace.publishVersion(modelId, "bafymodel2", 9300, "");

        vm.expectRevert(_invalidCid("evaluation CID"));
        vm.prank(owner);
        marketplace.publishVersion(modelId, cid, 9300, "bafyeval2");

        _expectInvalidInput("accuracy above 10000 bps");
        vm.prank(owner);
        marketplace.publishVersion(modelId, cid, 10_001, "");
    }

    // ============================================================================================ reward pool

    function test_fundRewardPool_addsToPool() public {
        uint256 modelId = _publish();
        vm.deal(alice, 1 ether);
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.RewardPoolFunded(modelId, alice, 1 ether, POOL + 1 ether);
        vm.prank(alice);
        marketplace.fundRewardPool{value: 1 ether}(modelId);

        assertEq(marketplace.getModel(modelId).rewardPool, POOL + 1 ether, "pool");
        assertEq(address(marketplace).balance, POOL + 1 ether, "balance");
    }

    function test_fundRewardPool_reverts() public {
        uint256 modelId = _publish();
        _expectInvalidInput("no value sent");
        marketplace.fundRewardPool(modelId);

        vm.deal(address(this), 1);
        _expectError(IMarketplaceTypes.MarketplaceUnknownModel.selector, 9);
        marketplace.fundRewardPool{value: 1}(9);
    }

    function test_withdrawRewardPool_creditsOwner() public {
        uint256 modelId = _publish();
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.RewardPoolWithdrawn(modelId, 4 ether, POOL - 4 ether);
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

        _contribute(alice, modelId, 1, 10); // reserves 10 rewards, which the owner cannot take back
        uint256 available = POOL - 10 * uint256(REWARD);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceInsufficientRewardPool.selector, modelId, available + 1, available
            )
        );
        vm.prank(owner);
        marketplace.withdrawRewardPool(modelId, available + 1);

        _expectError(IMarketplaceTypes.MarketplaceUnknownModel.selector, 4);
        vm.prank(owner);
        marketplace.withdrawRewardPool(4, 1);

        vm.prank(owner);
        marketplace.withdrawRewardPool(modelId, available);
        assertEq(marketplace.getModel(modelId).rewardPool, 0, "pool emptied");
    }

    // ============================================================================================ test set

    function test_revealTestSet_publishesCid() public {
        uint256 modelId = _publish();
        assertEq(marketplace.testSetCommitment(SALT, _testSetCid()), _input().testSetCommitment, "commitment");
        assertEq(
            marketplace.testSetCommitment(SALT, _testSetCid()),
            keccak256(abi.encodePacked(SALT, _testSetCid())),
            "documented encoding"
        );

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.TestSetRevealed(modelId, SALT, _testSetCid());
        vm.prank(owner);
        marketplace.revealTestSet(modelId, SALT, _testSetCid());
        assertEq(marketplace.getModel(modelId).testSetCid, _testSetCid(), "revealed CID");

        _expectError(IMarketplaceTypes.MarketplaceTestSetAlreadyRevealed.selector, modelId);
        vm.prank(owner);
        marketplace.revealTestSet(modelId, SALT, _testSetCid());
    }

    function test_revealTestSet_reverts() public {
        uint256 modelId = _publish();
        _expectError(IMarketplaceTypes.MarketplaceTestSetMismatch.selector, modelId);
        vm.prank(owner);
        marketplace.revealTestSet(modelId, SALT, _cid("other"));

        _expectError(IMarketplaceTypes.MarketplaceTestSetMismatch.selector, modelId);
        vm.prank(owner);
        marketplace.revealTestSet(modelId, bytes32(0), _testSetCid());

        vm.expectRevert(_notOwner(modelId, alice));
        vm.prank(alice);
        marketplace.revealTestSet(modelId, SALT, _testSetCid());

        _expectError(IMarketplaceTypes.MarketplaceUnknownModel.selector, 2);
        vm.prank(owner);
        marketplace.revealTestSet(2, SALT, _testSetCid());
    }

    // ============================================================================================ contribute

    function test_contribute_recordsSubmissionAndReservesReward() public {
        uint256 modelId = _publish();
        uint256 deposit = 10 * uint256(DEPOSIT);
        vm.deal(alice, deposit);

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.SubmissionAdded(
            modelId, 1, alice, _cid("data"), ROOT, 10, deposit, uint64(block.timestamp) + WINDOW
        );
        vm.prank(alice);
        uint256 submissionId = marketplace.contribute{value: deposit}(modelId, _cid("data"), ROOT, 10);

        assertEq(submissionId, 1, "first submission id");
        assertEq(marketplace.submissionCount(), 1, "submission count");
        IMarketplaceTypes.Submission memory submission = marketplace.getSubmission(submissionId);
        assertEq(submission.id, 1, "id");
        assertEq(submission.modelId, modelId, "model id");
        assertEq(submission.contributor, alice, "contributor");
        assertEq(submission.merkleRoot, ROOT, "root"); // the data CID is in SubmissionAdded only
        assertEq(submission.rowCount, 10, "row count");
        assertEq(submission.rowsRejected, 0, "rows rejected");
        assertEq(submission.openChallenges, 0, "open challenges");
        assertEq(submission.createdAt, block.timestamp, "created at");
        assertEq(submission.windowEndsAt, block.timestamp + WINDOW, "window");
        assertEq(submission.depositPerRow, DEPOSIT, "the model's deposit");
        assertEq(submission.rewardPerRow, REWARD, "the model's reward");
        assertFalse(submission.onChainRow, "on-chain row");
        assertFalse(submission.claimed, "claimed");
        assertFalse(submission.forfeited, "forfeited");

        IMarketplaceTypes.ModelInfo memory info = marketplace.getModel(modelId);
        assertEq(info.rewardPool, POOL - 10 * uint256(REWARD), "pool");
        assertEq(info.rowsSubmitted, 10, "rows submitted");
        assertEq(info.submissionCount, 1, "model submissions");
        assertEq(address(marketplace).balance, POOL + deposit, "balance");
    }

    function test_contribute_acceptsDagPbCids() public {
        uint256 modelId = _publish();
        vm.deal(alice, DEPOSIT);
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.SubmissionAdded(
            modelId, 1, alice, _dagPbCid("data"), ROOT, 1, DEPOSIT, uint64(block.timestamp) + WINDOW
        );
        vm.prank(alice);
        marketplace.contribute{value: DEPOSIT}(modelId, _dagPbCid("data"), ROOT, 1);
    }

    function test_contribute_revertsOnInvalidInput() public {
        uint256 modelId = _publish();
        bytes memory cid = _cid("data");
        vm.deal(address(this), 1 ether);
        _expectInvalidInput("row count is zero");
        marketplace.contribute(modelId, cid, ROOT, 0);

        _expectInvalidInput("Merkle root is zero");
        marketplace.contribute{value: DEPOSIT}(modelId, cid, bytes32(0), 1);

        _expectError(IMarketplaceTypes.MarketplaceUnknownModel.selector, 7);
        marketplace.contribute{value: DEPOSIT}(7, cid, ROOT, 1);
        _expectError(IMarketplaceTypes.MarketplaceUnknownModel.selector, 0);
        marketplace.contribute{value: DEPOSIT}(0, cid, ROOT, 1);
    }

    function test_contribute_revertsOnInvalidCid() public {
        uint256 modelId = _publish();
        bytes[] memory invalid = _invalidCids();
        vm.deal(address(this), 1 ether);
        for (uint256 i = 0; i < invalid.length; ++i) {
            vm.expectRevert(_invalidCid("data CID"));
            marketplace.contribute{value: DEPOSIT}(modelId, invalid[i], ROOT, 1);
        }
    }

    function test_contribute_revertsOnRootAlreadySubmitted() public {
        uint256 modelId = _publish();
        uint256 otherModel = _publish();
        _contributeRoot(alice, modelId, ROOT, 2);

        vm.deal(alice, 2 * uint256(DEPOSIT));
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRootAlreadySubmitted.selector, modelId, ROOT)
        );
        vm.prank(alice);
        marketplace.contribute{value: 2 * uint256(DEPOSIT)}(modelId, _cid("data"), ROOT, 2);

        // the same root on another model is another commitment
        _contributeRoot(alice, otherModel, ROOT, 2);
        // so is another account's (its leaves would be keyed by bob): refusing it would let anyone block a pending batch
        _contributeRoot(bob, modelId, ROOT, 1);
        assertEq(marketplace.submissionCount(), 3, "three submissions");
    }

    function test_contribute_revertsOnIncorrectPayment() public {
        uint256 modelId = _publish();
        uint256 expected = 3 * uint256(DEPOSIT);
        vm.deal(address(this), 1 ether);
        uint256[3] memory wrong = [0, expected - 1, expected + 1];
        for (uint256 i = 0; i < wrong.length; ++i) {
            vm.expectRevert(_incorrectPayment(expected, wrong[i]));
            marketplace.contribute{value: wrong[i]}(modelId, _cid("data"), ROOT, 3);
        }
    }

    function test_contribute_revertsOnInsufficientRewardPool() public {
        uint256 modelId = _publish(marketplace, _terms(), 5 * uint256(REWARD));
        vm.deal(address(this), 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceInsufficientRewardPool.selector, modelId, 6 * REWARD, 5 * REWARD
            )
        );
        marketplace.contribute{value: 6 * DEPOSIT}(modelId, _cid("data"), ROOT, 6);

        uint256 emptyModel = _publish(marketplace, _terms(), 0);
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInsufficientRewardPool.selector, emptyModel, REWARD, 0)
        );
        marketplace.contribute{value: DEPOSIT}(emptyModel, _cid("data"), ROOT, 1);
    }

    function test_contribute_reservesAtMostAQuarterOfThePool() public {
        uint256 modelId = _publish(); // 10 ether: a batch may reserve 2.5 ether, i.e. 1250 rows of 0.002 ether
        assertEq(marketplace.MAX_BATCH_SHARE(), 4, "a quarter");
        vm.deal(address(this), 100 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceBatchTooLarge.selector, modelId, 1251 * uint256(REWARD), 2.5 ether
            )
        );
        marketplace.contribute{value: 1251 * uint256(DEPOSIT)}(modelId, _cid("data"), ROOT, 1251);

        marketplace.contribute{value: 1250 * uint256(DEPOSIT)}(modelId, _cid("data"), ROOT, 1250);
        assertEq(marketplace.getModel(modelId).rewardPool, 7.5 ether, "a quarter reserved");

        // the cap follows what is left: a quarter of 7.5 ether is 937.5 rows
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceBatchTooLarge.selector, modelId, 938 * uint256(REWARD), 1.875 ether
            )
        );
        marketplace.contribute{value: 938 * uint256(DEPOSIT)}(modelId, _cid("data"), keccak256("root 2"), 938);
        marketplace.contribute{value: 937 * uint256(DEPOSIT)}(modelId, _cid("data"), keccak256("root 2"), 937);
    }

    /// @dev The gas of {contribute} does not depend on the row count (each measured on a fresh marketplace). Run
    /// with `--isolate` for transaction gas: then only the calldata of `rowCount` differs (16 gas per non-zero byte
    /// instead of 4 per zero byte, +12 for 10,000 = 0x2710).
    function test_contribute_gasDoesNotDependOnRowCount() public {
        uint256 gasOneRow = _measureContribute(marketplace, 1);
        uint256 gasHundredRows = _measureContribute(new ModelMarketplace(), 100);
        uint256 gasManyRows = _measureContribute(new ModelMarketplace(), 10_000);
        emit log_named_uint("contribute gas, 1 row", gasOneRow);
        emit log_named_uint("contribute gas, 100 rows", gasHundredRows);
        emit log_named_uint("contribute gas, 10000 rows", gasManyRows);
        assertEq(gasOneRow, gasHundredRows, "gas of 1 row vs 100 rows");
        assertLe(gasManyRows - gasOneRow, 12, "gas of 1 row vs 10000 rows: at most the calldata byte");
    }

    /// @dev Gas of one successful call of each state-changing function, logged (`-vv`). In one test the storage is
    /// warm; run with `--isolate` for the gas of each call as its own transaction.
    function test_gas_successPaths() public {
        vm.deal(owner, 2 * POOL);
        _logGas(
            "publishModel",
            owner,
            POOL,
            abi.encodeCall(IModelMarketplace.publishModel, (_input(), _terms(), _schema(), _noLinear()))
        );
        _logGas(
            "publishModel (perceptron)",
            owner,
            POOL,
            abi.encodeCall(IModelMarketplace.publishModel, (_input(), _terms(), _schema(), _linear()))
        );
        bytes[] memory rows = _rowsWithBadOnes();
        bytes32[] memory leaves = MerkleBuilder.leaves(MerkleBuilder.keyOf(alice), rows);
        bytes32 root = MerkleBuilder.root(leaves);
        vm.deal(alice, 1 ether);
        _logGas(
            "contribute (6 rows)",
            alice,
            6 * uint256(DEPOSIT),
            abi.encodeCall(IModelMarketplace.contribute, (1, _cid("data"), root, 6))
        );
        _logGas(
            "contributeRow",
            alice,
            DEPOSIT,
            abi.encodeCall(IModelMarketplace.contributeRow, (2, _encodeRow(_features(1, 5), 1)))
        );
        (uint256 copy, bytes32[] memory copyLeaves) = _contributeRows(bob, 1, rows);

        bytes32 salt = _commit(carol, 1, 1);
        _logGas(
            "challengeFormat",
            carol,
            0,
            abi.encodeCall(
                IModelMarketplace.challengeFormat, (1, 1, rows[1], MerkleBuilder.proof(leaves, 1), _schema(), salt)
            )
        );
        salt = _commit(carol, copy, 0);
        _logGas(
            "challengeDuplicate (submission)",
            carol,
            0,
            abi.encodeCall(
                IModelMarketplace.challengeDuplicate,
                (copy, 0, rows[0], MerkleBuilder.proof(copyLeaves, 0), _submissionSource(1, 0, leaves), salt)
            )
        );
        bytes32 commitment = marketplace.challengeCommitment(carol, 1, 0, salt);
        _logGas("commitChallenge", carol, 0, abi.encodeCall(IModelMarketplace.commitChallenge, (commitment)));
        vm.roll(block.number + 1);
        vm.deal(carol, 1 ether);
        _logGas(
            "challengeLabel",
            carol,
            BOND,
            abi.encodeCall(IModelMarketplace.challengeLabel, (1, 0, rows[0], MerkleBuilder.proof(leaves, 0), salt))
        );
        _logGas("resolveChallenge (upheld)", owner, 0, abi.encodeCall(IModelMarketplace.resolveChallenge, (3, true)));
        uint256 rejected = _challengeLabel(carol, 1, 2, rows[2], MerkleBuilder.proof(leaves, 2));
        _logGas(
            "resolveChallenge (rejected)",
            owner,
            0,
            abi.encodeCall(IModelMarketplace.resolveChallenge, (rejected, false))
        );
        salt = _commit(carol, 1, 3);
        vm.deal(carol, 1 ether);
        _logGas(
            "challengeAvailability", carol, BOND, abi.encodeCall(IModelMarketplace.challengeAvailability, (1, 3, salt))
        );
        _logGas(
            "answerChallenge",
            alice,
            0,
            abi.encodeCall(IModelMarketplace.answerChallenge, (5, rows[3], MerkleBuilder.proof(leaves, 3)))
        );
        uint256 expiring = _challengeLabel(carol, 1, 4, rows[4], MerkleBuilder.proof(leaves, 4));
        uint256 forfeiting = _challengeAvailability(carol, copy, 1);
        vm.warp(block.timestamp + TIMEOUT + 1);
        _logGas("expireChallenge (label)", dave, 0, abi.encodeCall(IModelMarketplace.expireChallenge, (expiring)));
        _logGas("expireChallenge (forfeit)", dave, 0, abi.encodeCall(IModelMarketplace.expireChallenge, (forfeiting)));
        _logGas("claim (batch)", dave, 0, abi.encodeCall(IModelMarketplace.claim, (1)));
        _logGas(
            "claimRow (learned)",
            dave,
            0,
            abi.encodeCall(IModelMarketplace.claimRow, (2, _encodeRow(_features(1, 5), 1), _linear().weights))
        );
        _logGas("withdraw", alice, 0, abi.encodeCall(IModelMarketplace.withdraw, ()));
    }

    // ============================================================================================ contributeRow

    function test_contributeRow_storesHashAndEmitsRow() public {
        uint256 modelId = _publishLinear(); // predicts 1 iff x0 - x1 >= 0
        int64[] memory features = _features(1, 5);
        bytes memory row = _encodeRow(features, 1);
        assertEq(row, hex"01" hex"00000000" hex"0000000000000001" hex"00000001" hex"0000000000000005", "sparse form");
        vm.deal(alice, DEPOSIT);

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.SubmissionAdded(
            modelId, 1, alice, "", bytes32(0), 1, DEPOSIT, uint64(block.timestamp) + WINDOW
        );
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.RowAdded(modelId, 1, row);
        vm.prank(alice);
        uint256 submissionId = marketplace.contributeRow{value: DEPOSIT}(modelId, row);

        IMarketplaceTypes.Submission memory submission = marketplace.getSubmission(submissionId);
        assertTrue(submission.onChainRow, "on-chain row");
        assertEq(submission.rowCount, 1, "one row");
        assertEq(submission.merkleRoot, bytes32(0), "no tree: the row's hash binds it");
        assertEq(submission.createdAt, block.timestamp, "created at");
        assertEq(submission.windowEndsAt, block.timestamp + WINDOW, "window");
        assertEq(marketplace.getModel(modelId).rewardPool, POOL - REWARD, "reward reserved");
        assertEq(marketplace.getModel(modelId).rowsSubmitted, 1, "rows submitted");
        assertEq(address(marketplace).balance, POOL + DEPOSIT, "deposit held");
    }

    function test_contributeRow_sparseRowsOfAWideModel() public {
        // a model of 1,000 features; a row names only its non-zero ones, in increasing order
        int64[] memory weights = new int64[](1000);
        weights[999] = 1;
        uint256 modelId = _publishWide(weights);
        bytes memory row = bytes.concat(hex"01", SparseRows.feature(3, 7), SparseRows.feature(999, -2));
        vm.deal(alice, 2 * DEPOSIT);
        vm.prank(alice);
        uint256 submissionId = marketplace.contributeRow{value: DEPOSIT}(modelId, row);
        assertEq(marketplace.predict(modelId, SparseRows.pack(weights), row), 0, "w_999 * -2 < 0");
        vm.prank(alice);
        marketplace.contributeRow{value: DEPOSIT}(modelId, hex"00"); // every feature zero: the label alone

        _afterWindow(submissionId);
        vm.prank(bob);
        marketplace.claimRow(submissionId, row, SparseRows.pack(weights));
        weights[3] = 7;
        weights[999] = -1;
        IMarketplaceTypes.LinearModelInfo memory linear = marketplace.linearModel(modelId);
        assertEq(linear.weightsHash, keccak256(SparseRows.pack(weights)), "only the row's features moved");
        assertEq(linear.intercept, 1e6, "intercept moved");
        assertEq(linear.updates, 1, "updates");
    }

    function test_contributeRow_doesNotLearnBeforeClaim() public {
        uint256 modelId = _publishLinear();
        _contributeRow(alice, modelId, _features(1, 5), 1); // misclassified, but not claimed yet
        IMarketplaceTypes.LinearModelInfo memory linear = marketplace.linearModel(modelId);
        assertEq(linear.weightsHash, keccak256(_linear().weights), "weights");
        assertEq(linear.intercept, 0, "intercept");
        assertEq(linear.updates, 0, "updates");
    }

    function test_contributeRow_reverts() public {
        uint256 plainModel = _publish();
        uint256 modelId = _publishLinear();
        vm.deal(alice, 1 ether);
        vm.startPrank(alice);

        _expectError(IMarketplaceTypes.MarketplaceNoLinearModel.selector, plainModel);
        marketplace.contributeRow{value: DEPOSIT}(plainModel, _encodeRow(_features(1, 1), 1));

        _expectError(IMarketplaceTypes.MarketplaceUnknownModel.selector, 3);
        marketplace.contributeRow{value: DEPOSIT}(3, _encodeRow(_features(1, 1), 1));

        vm.expectRevert(_featureIndexOutOfRange(2, 2));
        marketplace.contributeRow{value: DEPOSIT}(modelId, bytes.concat(hex"01", SparseRows.feature(2, 1)));

        // forge-lint: disable-next-line(unsafe-typecast) MAX_FEATURE = 1e12 fits in int64
        int64 beyond = int64(MAX_FEATURE) + 1;
        vm.expectRevert(_featureOutOfRange(1, beyond));
        marketplace.contributeRow{value: DEPOSIT}(modelId, _encodeRow(_features(0, beyond), 1));

        vm.expectRevert(_featureOutOfRange(0, -beyond));
        marketplace.contributeRow{value: DEPOSIT}(modelId, _encodeRow(_features(-beyond, 0), 1));

        vm.expectRevert(_featureOutOfRange(0, type(int64).min));
        marketplace.contributeRow{value: DEPOSIT}(modelId, _encodeRow(_features(type(int64).min, 0), 1));

        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInvalidLabel.selector, int64(2)));
        marketplace.contributeRow{value: DEPOSIT}(modelId, _encodeRow(_features(1, 1), 2));

        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInvalidLabel.selector, int64(255)));
        marketplace.contributeRow{value: DEPOSIT}(modelId, hex"ff");

        vm.expectRevert(_malformedRow("a row is a label byte and 12 bytes a feature"));
        marketplace.contributeRow{value: DEPOSIT}(modelId, "");
        vm.expectRevert(_malformedRow("a row is a label byte and 12 bytes a feature"));
        marketplace.contributeRow{value: DEPOSIT}(modelId, bytes.concat(_encodeRow(_features(1, 1), 1), hex"00"));

        // one spelling per row: zeros left out, indices increasing, none repeated
        vm.expectRevert(_malformedRow("a zero feature must be left out"));
        marketplace.contributeRow{value: DEPOSIT}(modelId, bytes.concat(hex"01", SparseRows.feature(0, 0)));
        bytes memory swapped = bytes.concat(hex"01", SparseRows.feature(1, 1), SparseRows.feature(0, 1));
        vm.expectRevert(_malformedRow("feature indices must increase"));
        marketplace.contributeRow{value: DEPOSIT}(modelId, swapped);
        bytes memory repeated = bytes.concat(hex"01", SparseRows.feature(1, 1), SparseRows.feature(1, 2));
        vm.expectRevert(_malformedRow("feature indices must increase"));
        marketplace.contributeRow{value: DEPOSIT}(modelId, repeated);

        vm.expectRevert(_incorrectPayment(DEPOSIT, 0));
        marketplace.contributeRow(modelId, _encodeRow(_features(1, 1), 1));
        vm.stopPrank();
    }

    function test_contributeRow_acceptsFeaturesAtTheBound() public {
        uint256 modelId = _publishLinear();
        // forge-lint: disable-next-line(unsafe-typecast) MAX_FEATURE = 1e12 fits in int64
        int64 bound = int64(MAX_FEATURE);
        uint256 submissionId = _contributeRow(alice, modelId, _features(bound, -bound), 1);
        _afterWindow(submissionId);
        _claimRow(bob, submissionId);
    }

    function test_contributeRow_revertsOnDuplicateRow() public {
        uint256 modelId = _publishLinear();
        uint256 otherModel = _publishLinear();
        uint256 first = _contributeRow(alice, modelId, _features(4, 2), 1);

        vm.deal(bob, DEPOSIT);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceDuplicateRow.selector, modelId, first));
        vm.prank(bob);
        marketplace.contributeRow{value: DEPOSIT}(modelId, _encodeRow(_features(4, 2), 1));

        // the same features with the other label, or the same row on another model, are other rows
        _contributeRow(bob, modelId, _features(4, 2), 0);
        _contributeRow(bob, otherModel, _features(4, 2), 1);

        // a rejected on-chain row still blocks its copies
        uint256 challengeId = _challengeLabel(carol, first, 0, _encodeRow(_features(4, 2), 1), new bytes32[](0));
        _resolve(challengeId, true);
        vm.deal(bob, DEPOSIT);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceDuplicateRow.selector, modelId, first));
        vm.prank(bob);
        marketplace.contributeRow{value: DEPOSIT}(modelId, _encodeRow(_features(4, 2), 1));
    }

    function test_predict_andLinearModel() public {
        uint256 modelId = _publish(marketplace, _terms(), POOL, _linear(_features(3, -2), -1, MAX_FEATURE));
        bytes memory weights = _weightsOf(modelId);

        // score = 3 * x0 - 2 * x1 - 1e6
        assertEq(marketplace.predict(modelId, weights, _encodeRow(_features(1e6, 1e6), 0)), 1, "score 0 is class 1");
        assertEq(marketplace.predict(modelId, weights, _encodeRow(_features(1e6, 1e6 + 1), 0)), 0, "score -2");
        assertEq(marketplace.predict(modelId, weights, _encodeRow(_features(0, 0), 0)), 0, "intercept only");
        // forge-lint: disable-next-line(unsafe-typecast) MAX_FEATURE = 1e12 fits in int64
        int64 bound = int64(MAX_FEATURE);
        assertEq(marketplace.predict(modelId, weights, _encodeRow(_features(bound, -bound), 0)), 1, "at the bound");
    }

    function test_predict_reverts() public {
        uint256 modelId = _publish();
        bytes memory row = _encodeRow(_features(1, 1), 1);
        _expectError(IMarketplaceTypes.MarketplaceNoLinearModel.selector, modelId);
        marketplace.predict(modelId, _linear().weights, row);
        _expectError(IMarketplaceTypes.MarketplaceNoLinearModel.selector, modelId);
        marketplace.linearModel(modelId);
        _expectError(IMarketplaceTypes.MarketplaceUnknownModel.selector, 3);
        marketplace.predict(3, _linear().weights, row);

        uint256 linearModel = _publishLinear();
        _expectError(IMarketplaceTypes.MarketplaceWeightsMismatch.selector, linearModel);
        marketplace.predict(linearModel, SparseRows.pack(_features(1, 1)), row);
        vm.expectRevert(_featureIndexOutOfRange(5, 2));
        marketplace.predict(linearModel, _linear().weights, bytes.concat(hex"01", SparseRows.feature(5, 1)));
    }

    // ============================================================================================ claimRow

    function test_claimRow_learnsTheRowAndChecksRowAndWeights() public {
        uint256 modelId = _publishLinear(); // 1 iff x0 - x1 >= 0
        uint256 submissionId = _contributeRow(alice, modelId, _features(1, 5), 1); // misclassified
        (uint256 batch,) = _contribute(alice, modelId, 1, 2);
        bytes memory row = _encodeRow(_features(1, 5), 1);
        bytes memory weights = _linear().weights;
        _afterWindow(batch);

        _expectError(IMarketplaceTypes.MarketplaceRowRequired.selector, submissionId);
        marketplace.claim(submissionId);
        _expectError(IMarketplaceTypes.MarketplaceNotOnChainRow.selector, batch);
        marketplace.claimRow(batch, row, weights);
        vm.expectRevert(_invalidProof(submissionId, 0));
        marketplace.claimRow(submissionId, _encodeRow(_features(1, 5), 0), weights);
        _expectError(IMarketplaceTypes.MarketplaceWeightsMismatch.selector, modelId);
        marketplace.claimRow(submissionId, row, SparseRows.pack(_features(1, 0)));
        _expectError(IMarketplaceTypes.MarketplaceUnknownSubmission.selector, 9);
        marketplace.claimRow(9, row, weights);

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.SubmissionClaimed(modelId, submissionId, alice, 1, uint256(DEPOSIT) + REWARD);
        int64[] memory learned = _features(2, 4);
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.LinearModelUpdated(modelId, submissionId, 1, keccak256(SparseRows.pack(learned)), 1e6);
        vm.prank(dave); // anyone may claim
        marketplace.claimRow(submissionId, row, weights);
        assertEq(marketplace.creditOf(alice), uint256(DEPOSIT) + REWARD, "paid");
        assertEq(marketplace.getModel(modelId).rowsAccepted, 1, "accepted");

        _expectError(IMarketplaceTypes.MarketplaceAlreadyClaimed.selector, submissionId);
        marketplace.claimRow(submissionId, row, SparseRows.pack(learned));
        // the old weights are no longer the model's: a claim with them is refused
        uint256 next = _contributeRow(bob, modelId, _features(7, 1), 1);
        _afterWindow(next);
        _expectError(IMarketplaceTypes.MarketplaceWeightsMismatch.selector, modelId);
        marketplace.claimRow(next, _encodeRow(_features(7, 1), 1), weights);
        _perceptronWeights[modelId] = learned;
        _perceptronIntercept[modelId] = 1e6;
        assertFalse(_claimRow(dave, next), "(7, 1) is class 1 already: nothing to learn");
    }

    // ============================================================================================ commit / reveal

    function test_commitChallenge_recordsBlock() public {
        bytes32 commitment = marketplace.challengeCommitment(carol, 1, 2, SALT);
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.ChallengeCommitted(commitment, carol);
        vm.prank(carol);
        marketplace.commitChallenge(commitment);
        assertEq(marketplace.commitmentBlock(commitment), block.number, "block recorded");
        assertEq(marketplace.commitmentBlock(keccak256("other")), 0, "unknown commitment");

        // nobody, the committer included, can commit it again
        vm.roll(block.number + 5);
        vm.expectRevert(_commitmentError(IMarketplaceTypes.MarketplaceCommitmentExists.selector, commitment));
        vm.prank(dave);
        marketplace.commitChallenge(commitment);
        vm.expectRevert(_commitmentError(IMarketplaceTypes.MarketplaceCommitmentExists.selector, commitment));
        vm.prank(carol);
        marketplace.commitChallenge(commitment);
    }

    function test_challengeCommitment_matchesDocumentedEncoding() public view {
        assertEq(
            marketplace.challengeCommitment(carol, 7, 3, SALT),
            keccak256(abi.encode(carol, uint256(7), uint32(3), SALT)),
            "commitment"
        );
    }

    function test_reveal_revertsWithoutCommitment() public {
        (uint256 submissionId, bytes32[] memory leaves) = _batch(alice, 1, 4);
        bytes memory row = MerkleBuilder.batchRow(1, 2);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 2);
        bytes memory unknown = _commitmentError(
            IMarketplaceTypes.MarketplaceCommitmentUnknown.selector,
            marketplace.challengeCommitment(carol, submissionId, 2, SALT)
        );
        vm.deal(carol, 1 ether);
        vm.startPrank(carol);
        vm.expectRevert(unknown);
        marketplace.challengeLabel{value: BOND}(submissionId, 2, row, proof, SALT);
        vm.expectRevert(unknown);
        marketplace.challengeFormat(submissionId, 2, row, proof, _schema(), SALT);
        vm.expectRevert(unknown);
        marketplace.challengeDuplicate(submissionId, 2, row, proof, _trainingSource(0), SALT);
        vm.expectRevert(unknown);
        marketplace.challengeAvailability{value: BOND}(submissionId, 2, SALT);
        vm.stopPrank();
    }

    function test_reveal_revertsInTheBlockOfTheCommitment() public {
        (uint256 submissionId,) = _batch(alice, 1, 4);
        bytes32 commitment = marketplace.challengeCommitment(carol, submissionId, 1, SALT);
        vm.deal(carol, BOND);
        vm.startPrank(carol);
        marketplace.commitChallenge(commitment);
        vm.expectRevert(_commitmentError(IMarketplaceTypes.MarketplaceCommitmentTooRecent.selector, commitment));
        marketplace.challengeAvailability{value: BOND}(submissionId, 1, SALT);

        vm.roll(block.number + 1); // one block later it works
        marketplace.challengeAvailability{value: BOND}(submissionId, 1, SALT);
        vm.stopPrank();
    }

    function test_reveal_consumesTheCommitment() public {
        uint256 modelId = _publish();
        bytes[] memory rows = _rowsWithBadOnes();
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(alice, modelId, rows);
        bytes32 salt = _commit(carol, submissionId, 1);
        bytes32 commitment = marketplace.challengeCommitment(carol, submissionId, 1, salt);
        assertEq(marketplace.commitmentBlock(commitment), block.number - 1, "committed a block ago");

        vm.prank(carol);
        marketplace.challengeFormat(submissionId, 1, rows[1], MerkleBuilder.proof(leaves, 1), _schema(), salt);
        assertEq(marketplace.commitmentBlock(commitment), 0, "consumed");

        // the same commitment cannot reveal a second challenge (here of another kind, on the same row)
        vm.expectRevert(_commitmentError(IMarketplaceTypes.MarketplaceCommitmentUnknown.selector, commitment));
        vm.prank(carol);
        marketplace.challengeDuplicate(
            submissionId, 1, rows[1], MerkleBuilder.proof(leaves, 1), _trainingSource(0), salt
        );
    }

    function test_reveal_revertsOnAnotherAddressCommitment() public {
        (uint256 submissionId,) = _batch(alice, 1, 4);
        bytes32 salt = _commit(carol, submissionId, 3);
        // dave reveals with carol's salt: his own commitment (with his address) does not exist
        vm.deal(dave, BOND);
        vm.expectRevert(
            _commitmentError(
                IMarketplaceTypes.MarketplaceCommitmentUnknown.selector,
                marketplace.challengeCommitment(dave, submissionId, 3, salt)
            )
        );
        vm.prank(dave);
        marketplace.challengeAvailability{value: BOND}(submissionId, 3, salt);

        // a commitment made by someone else for dave's address is dave's to reveal (it names dave, not its sender)
        bytes32 daveCommitment = marketplace.challengeCommitment(dave, submissionId, 3, SALT);
        vm.prank(carol);
        marketplace.commitChallenge(daveCommitment);
        vm.roll(block.number + 1);
        vm.prank(dave);
        marketplace.challengeAvailability{value: BOND}(submissionId, 3, SALT);
        assertEq(marketplace.getChallenge(1).challenger, dave, "dave's challenge");
    }

    function test_reveal_revertsOnAnotherRowCommitment() public {
        (uint256 submissionId,) = _batch(alice, 1, 4);
        bytes32 salt = _commit(carol, submissionId, 1);
        vm.deal(carol, BOND);
        vm.expectRevert(
            _commitmentError(
                IMarketplaceTypes.MarketplaceCommitmentUnknown.selector,
                marketplace.challengeCommitment(carol, submissionId, 2, salt)
            )
        );
        vm.prank(carol);
        marketplace.challengeAvailability{value: BOND}(submissionId, 2, salt);
    }

    function test_reveal_failedRevealKeepsTheCommitment() public {
        (uint256 submissionId, bytes32[] memory leaves) = _batch(alice, 1, 4);
        bytes32 salt = _commit(carol, submissionId, 2);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 2);
        vm.deal(carol, BOND);
        vm.expectRevert(_invalidProof(submissionId, 2));
        vm.prank(carol);
        marketplace.challengeLabel{value: BOND}(submissionId, 2, MerkleBuilder.batchRow(1, 3), proof, salt);

        bytes32 commitment = marketplace.challengeCommitment(carol, submissionId, 2, salt);
        assertGt(marketplace.commitmentBlock(commitment), 0, "still committed");
        vm.prank(carol);
        marketplace.challengeLabel{value: BOND}(submissionId, 2, MerkleBuilder.batchRow(1, 2), proof, salt);
        assertEq(marketplace.commitmentBlock(commitment), 0, "consumed");
    }

    // ============================================================================================ challengeLabel

    function test_challengeLabel_opensPendingChallenge() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 5);
        bytes memory row = MerkleBuilder.batchRow(1, 3);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 3);
        bytes32 salt = _commit(carol, submissionId, 3);
        vm.deal(carol, BOND);

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.RowChallenged(
            modelId,
            submissionId,
            1,
            3,
            carol,
            IMarketplaceTypes.ChallengeKind.Label,
            row,
            uint64(block.timestamp) + TIMEOUT
        );
        vm.prank(carol);
        uint256 challengeId = marketplace.challengeLabel{value: BOND}(submissionId, 3, row, proof, salt);

        assertEq(challengeId, 1, "first challenge id");
        assertEq(marketplace.challengeCount(), 1, "challenge count");
        assertEq(marketplace.challengeOf(submissionId, 3), challengeId, "challenge of row");
        assertEq(marketplace.challengeOf(submissionId, 2), 0, "unchallenged row");
        IMarketplaceTypes.Challenge memory challenged = marketplace.getChallenge(challengeId);
        assertEq(challenged.id, challengeId, "id");
        assertEq(challenged.submissionId, submissionId, "submission");
        assertEq(challenged.challenger, carol, "challenger");
        assertEq(challenged.rowIndex, 3, "row index");
        _assertKind(challenged, IMarketplaceTypes.ChallengeKind.Label);
        _assertStatus(challengeId, IMarketplaceTypes.ChallengeStatus.Pending);
        assertEq(challenged.bond, BOND, "bond");
        assertEq(challenged.fee, REWARD, "fee: the row's reward");
        assertEq(challenged.resolveBy, block.timestamp + TIMEOUT, "resolve by");
        assertEq(marketplace.getSubmission(submissionId).openChallenges, 1, "open challenges");
        assertFalse(marketplace.isRowRejected(submissionId, 3), "not rejected yet");
        // the fee moves from the pool into the challenge; only the bond comes in
        assertEq(marketplace.getModel(modelId).rewardPool, POOL - 5 * uint256(REWARD) - REWARD, "fee reserved");
        assertEq(address(marketplace).balance, POOL + 5 * uint256(DEPOSIT) + BOND, "balance");
    }

    /// @dev The fee is reserved when the challenge is revealed (not committed), and is the row's reward capped by
    /// the unallocated pool: part of R when the pool holds less, nothing when it is empty. It is paid on either
    /// verdict, and the owner cannot withdraw it while the challenge is pending.
    function test_challengeLabel_feeIsCappedByThePool() public {
        // a pool of 8 R: a batch of 2 rows may reserve 2 R (a quarter); the owner then leaves R / 2 in the pool
        uint256 modelId = _publish(marketplace, _terms(), 8 * uint256(REWARD));
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 2);
        uint256 half = REWARD / 2;
        vm.prank(owner);
        marketplace.withdrawRewardPool(modelId, 6 * uint256(REWARD) - half);
        assertEq(marketplace.getModel(modelId).rewardPool, half, "R / 2 left");

        bytes32 salt = _commit(carol, submissionId, 0);
        assertEq(marketplace.getModel(modelId).rewardPool, half, "nothing reserved at the commitment");
        vm.deal(carol, BOND);
        vm.prank(carol);
        uint256 capped = marketplace.challengeLabel{value: BOND}(
            submissionId, 0, MerkleBuilder.batchRow(1, 0), MerkleBuilder.proof(leaves, 0), salt
        );
        assertEq(marketplace.getChallenge(capped).fee, half, "fee capped by the pool: R / 2");
        assertEq(marketplace.getModel(modelId).rewardPool, 0, "the pool is empty");
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInsufficientRewardPool.selector, modelId, 1, 0)
        );
        vm.prank(owner);
        marketplace.withdrawRewardPool(modelId, 1); // the reserved fee is not the owner's to take back

        uint256 free = _challenge(dave, submissionId, 1, leaves, 1);
        assertEq(marketplace.getChallenge(free).fee, 0, "an empty pool: no fee");
        assertEq(marketplace.getModel(modelId).rewardPool, 0, "still empty");

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.ChallengeResolved(capped, submissionId, true, carol, BOND + half);
        _resolve(capped, true);
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.ChallengeResolved(free, submissionId, false, dave, 0);
        _resolve(free, false);
        assertEq(marketplace.creditOf(carol), BOND + half, "upheld: bond back and the capped fee");
        assertEq(marketplace.creditOf(dave), 0, "rejected with no fee: nothing");
        // row 0's deposit and reserved reward, and dave's bond
        assertEq(marketplace.burned(), uint256(DEPOSIT) + REWARD + BOND, "burned: D + R + B");
        assertEq(marketplace.getModel(modelId).rewardPool, 0, "the fees left the pool for good");

        _afterWindow(submissionId);
        marketplace.claim(submissionId);
        assertEq(marketplace.creditOf(alice), uint256(DEPOSIT) + REWARD, "row 1 paid, row 0 rejected");
        assertEq(
            address(marketplace).balance,
            marketplace.creditOf(alice) + marketplace.creditOf(carol) + marketplace.creditOf(owner)
                + marketplace.burned(),
            "credits + burned"
        );
    }

    function test_challengeLabel_ofOnChainRowWithEmptyProof() public {
        uint256 modelId = _publishLinear();
        uint256 submissionId = _contributeRow(alice, modelId, _features(4, 2), 1);
        uint256 challengeId = _challengeLabel(carol, submissionId, 0, _encodeRow(_features(4, 2), 1), new bytes32[](0));
        assertEq(marketplace.challengeOf(submissionId, 0), challengeId, "challenged");

        bytes32 salt = _commit(dave, submissionId, 0);
        vm.deal(dave, BOND);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceRowChallengePending.selector, submissionId, 0, challengeId
            )
        );
        vm.prank(dave);
        marketplace.challengeLabel{value: BOND}(submissionId, 0, _encodeRow(_features(4, 2), 0), new bytes32[](0), salt);
    }

    function test_challengeLabel_revertsOnOwner() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        bytes32 salt = _commit(owner, submissionId, 0);
        vm.deal(owner, BOND);
        _expectError(IMarketplaceTypes.MarketplaceOwnerCannotChallenge.selector, modelId);
        vm.prank(owner);
        marketplace.challengeLabel{value: BOND}(
            submissionId, 0, MerkleBuilder.batchRow(1, 0), MerkleBuilder.proof(leaves, 0), salt
        );
    }

    function test_challengeLabel_revertsOnIncorrectBond() public {
        (uint256 submissionId, bytes32[] memory leaves) = _batch(alice, 1, 4);
        bytes32 salt = _commit(carol, submissionId, 0);
        bytes memory row = MerkleBuilder.batchRow(1, 0);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 0);
        vm.deal(carol, 1 ether);
        vm.startPrank(carol);
        vm.expectRevert(_incorrectPayment(BOND, BOND - 1));
        marketplace.challengeLabel{value: BOND - 1}(submissionId, 0, row, proof, salt);
        vm.expectRevert(_incorrectPayment(BOND, BOND + 1));
        marketplace.challengeLabel{value: BOND + 1}(submissionId, 0, row, proof, salt);
        vm.expectRevert(_incorrectPayment(BOND, 0));
        marketplace.challengeLabel(submissionId, 0, row, proof, salt);
        vm.stopPrank();
    }

    function test_challengeLabel_revertsOnInvalidProof() public {
        (uint256 submissionId, bytes32[] memory leaves) = _batch(alice, 1, 6);
        bytes memory row = MerkleBuilder.batchRow(1, 2);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 2);
        bytes32 salt2 = _commit(carol, submissionId, 2);
        bytes32 salt3 = _commit(carol, submissionId, 3);
        vm.deal(carol, 1 ether);
        vm.startPrank(carol);

        vm.expectRevert(_invalidProof(submissionId, 2));
        marketplace.challengeLabel{value: BOND}(submissionId, 2, MerkleBuilder.batchRow(2, 2), proof, salt2); // row
        vm.expectRevert(_invalidProof(submissionId, 3));
        marketplace.challengeLabel{value: BOND}(submissionId, 3, row, proof, salt3); // index
        vm.expectRevert(_invalidProof(submissionId, 2));
        marketplace.challengeLabel{value: BOND}(submissionId, 2, row, MerkleBuilder.proof(leaves, 1), salt2); // proof
        bytes32[] memory longer = new bytes32[](proof.length + 1);
        for (uint256 i = 0; i < proof.length; ++i) {
            longer[i] = proof[i];
        }
        vm.expectRevert(_invalidProof(submissionId, 2));
        marketplace.challengeLabel{value: BOND}(submissionId, 2, row, longer, salt2); // extra proof element
        vm.stopPrank();

        // the leaf is keyed by the contributor: alice's row under bob's key is not alice's row
        bytes32[] memory bobLeaves = MerkleBuilder.leaves(MerkleBuilder.keyOf(bob), MerkleBuilder.batchRows(1, 6));
        vm.expectRevert(_invalidProof(submissionId, 2));
        vm.prank(carol);
        marketplace.challengeLabel{value: BOND}(submissionId, 2, row, MerkleBuilder.proof(bobLeaves, 2), salt2);
    }

    function test_challengeLabel_revertsOnIndexOrSubmission() public {
        (uint256 submissionId, bytes32[] memory leaves) = _batch(alice, 1, 4);
        bytes memory row = MerkleBuilder.batchRow(1, 0);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 0);
        bytes32 salt4 = _commit(carol, submissionId, 4);
        bytes32 salt9 = _commit(carol, 9, 0);
        vm.deal(carol, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRowIndexOutOfRange.selector, submissionId, 4, 4)
        );
        vm.prank(carol);
        marketplace.challengeLabel{value: BOND}(submissionId, 4, row, proof, salt4);

        _expectError(IMarketplaceTypes.MarketplaceUnknownSubmission.selector, 9);
        vm.prank(carol);
        marketplace.challengeLabel{value: BOND}(9, 0, row, proof, salt9);
    }

    function test_challengeLabel_revertsAfterWindow() public {
        (uint256 submissionId, bytes32[] memory leaves) = _batch(alice, 1, 4);
        uint64 closedAt = marketplace.getSubmission(submissionId).windowEndsAt;

        vm.warp(closedAt - 1);
        _challenge(carol, submissionId, 1, leaves, 0); // the last second of the window

        vm.warp(closedAt);
        bytes32 salt = _commit(carol, submissionId, 1);
        bytes memory closed =
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceChallengeWindowClosed.selector, submissionId, closedAt);
        vm.deal(carol, BOND);
        vm.expectRevert(closed);
        vm.prank(carol);
        marketplace.challengeLabel{value: BOND}(
            submissionId, 1, MerkleBuilder.batchRow(1, 1), MerkleBuilder.proof(leaves, 1), salt
        );
        vm.expectRevert(closed);
        vm.prank(carol);
        marketplace.challengeAvailability{value: BOND}(submissionId, 1, salt);
    }

    function test_challengeLabel_revertsWhilePendingAndOncePerRow() public {
        // a window longer than the time-out, so that a row can be challenged again after a label challenge expires
        uint256 modelId = _publishPeriods(10 days, 1 days);
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        uint256 challengeId = _challenge(carol, submissionId, 1, leaves, 2);
        bytes memory row = MerkleBuilder.batchRow(1, 2);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 2);
        bytes32 salt = _commit(dave, submissionId, 2);
        vm.deal(dave, 1 ether);

        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceRowChallengePending.selector, submissionId, 2, challengeId
            )
        );
        vm.prank(dave);
        marketplace.challengeLabel{value: BOND}(submissionId, 2, row, proof, salt);

        _resolve(challengeId, false); // a judged label stays judged
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRowAlreadyJudged.selector, submissionId, 2, challengeId)
        );
        vm.prank(dave);
        marketplace.challengeLabel{value: BOND}(submissionId, 2, row, proof, salt);

        // an expired label challenge also used the row's one label challenge
        uint256 expiring = _challenge(carol, submissionId, 1, leaves, 3);
        vm.warp(block.timestamp + 1 days + 1);
        marketplace.expireChallenge(expiring);
        bytes32 salt3 = _commit(dave, submissionId, 3);
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRowAlreadyJudged.selector, submissionId, 3, expiring)
        );
        vm.prank(dave);
        marketplace.challengeLabel{value: BOND}(
            submissionId, 3, MerkleBuilder.batchRow(1, 3), MerkleBuilder.proof(leaves, 3), salt3
        );
        // the objective challenges stay open on a judged row (the commitment was not used by the failed reveal)
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRowIsValid.selector, submissionId, 3));
        vm.prank(dave);
        marketplace.challengeFormat(
            submissionId, 3, MerkleBuilder.batchRow(1, 3), MerkleBuilder.proof(leaves, 3), _schema(), salt3
        );
    }

    function test_challengeLabel_revertsOnRejectedRowOrForfeitedBatch() public {
        uint256 modelId = _publish();
        bytes[] memory rows = _rowsWithBadOnes();
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(alice, modelId, rows);
        _challengeFormat(carol, submissionId, 1, rows[1], MerkleBuilder.proof(leaves, 1));

        bytes32 salt = _commit(dave, submissionId, 1);
        vm.deal(dave, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRowAlreadyRejected.selector, submissionId, 1)
        );
        vm.prank(dave);
        marketplace.challengeLabel{value: BOND}(submissionId, 1, rows[1], MerkleBuilder.proof(leaves, 1), salt);

        _forfeitByAvailability(submissionId, 0);
        bytes32 salt2 = _commit(dave, submissionId, 2);
        _expectError(IMarketplaceTypes.MarketplaceSubmissionForfeited.selector, submissionId);
        vm.prank(dave);
        marketplace.challengeLabel{value: BOND}(submissionId, 2, rows[2], MerkleBuilder.proof(leaves, 2), salt2);
    }

    // ============================================================================================ challengeFormat

    function test_challengeFormat_rejectsRowAndBurnsDeposit() public {
        uint256 modelId = _publish();
        bytes[] memory rows = _rowsWithBadOnes(); // row 1 is NaN
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(alice, modelId, rows);
        bytes32 salt = _commit(carol, submissionId, 1);

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.RowChallenged(
            modelId, submissionId, 1, 1, carol, IMarketplaceTypes.ChallengeKind.Format, rows[1], 0
        );
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.RowRejected(
            submissionId, 1, 1, IMarketplaceTypes.ChallengeKind.Format, carol, REWARD, DEPOSIT
        );
        vm.prank(carol);
        uint256 challengeId =
            marketplace.challengeFormat(submissionId, 1, rows[1], MerkleBuilder.proof(leaves, 1), _schema(), salt);

        IMarketplaceTypes.Challenge memory challenged = marketplace.getChallenge(challengeId);
        _assertKind(challenged, IMarketplaceTypes.ChallengeKind.Format);
        _assertStatus(challengeId, IMarketplaceTypes.ChallengeStatus.Upheld);
        assertEq(challenged.bond, 0, "no bond");
        assertEq(challenged.resolveBy, 0, "judged at once");
        assertTrue(marketplace.isRowRejected(submissionId, 1), "rejected");
        assertFalse(marketplace.isRowRejected(submissionId, 0), "other rows stand");
        assertEq(marketplace.burned(), DEPOSIT, "deposit burned");
        assertEq(marketplace.creditOf(carol), REWARD, "reward to the challenger");
        assertEq(marketplace.creditOf(owner), 0, "nothing to the owner");
        IMarketplaceTypes.Submission memory submission = marketplace.getSubmission(submissionId);
        assertEq(submission.rowsRejected, 1, "submission rows rejected");
        assertEq(submission.openChallenges, 0, "nothing pending");
        assertEq(marketplace.getModel(modelId).rowsRejected, 1, "model rows rejected");
        uint256 open = (rows.length - 1) * uint256(DEPOSIT + REWARD);
        assertEq(
            address(marketplace).balance,
            open + marketplace.getModel(modelId).rewardPool + REWARD + marketplace.burned(),
            "open rows + pool + credit + burned"
        );
    }

    function test_challengeFormat_rejectsLabelOutsideTheSet() public {
        uint256 modelId = _publish();
        bytes[] memory rows = _rowsWithBadOnes(); // row 5 is labelled "cow"
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(alice, modelId, rows);
        _challengeFormat(carol, submissionId, 5, rows[5], MerkleBuilder.proof(leaves, 5));
        assertTrue(marketplace.isRowRejected(submissionId, 5), "label outside the set rejected");
    }

    function test_challengeFormat_revertsOnValidRow() public {
        (uint256 submissionId, bytes32[] memory leaves) = _batch(alice, 1, 4);
        bytes32 salt = _commit(carol, submissionId, 2);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRowIsValid.selector, submissionId, 2));
        vm.prank(carol);
        marketplace.challengeFormat(
            submissionId, 2, MerkleBuilder.batchRow(1, 2), MerkleBuilder.proof(leaves, 2), _schema(), salt
        );
    }

    function test_challengeFormat_revertsOnSchemaMismatch() public {
        uint256 modelId = _publish();
        bytes[] memory rows = _rowsWithBadOnes();
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(alice, modelId, rows);
        bytes32 salt = _commit(carol, submissionId, 1);
        IMarketplaceTypes.RowSchema memory looser = _withFloatBound(_schema(), INFINITY - 1);
        _expectError(IMarketplaceTypes.MarketplaceSchemaMismatch.selector, modelId);
        vm.prank(carol);
        marketplace.challengeFormat(submissionId, 1, rows[1], MerkleBuilder.proof(leaves, 1), looser, salt);
    }

    function test_challengeFormat_revertsOnOnChainRow() public {
        uint256 modelId = _publishLinear();
        uint256 submissionId = _contributeRow(alice, modelId, _features(4, 2), 1);
        bytes32 salt = _commit(carol, submissionId, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceNotApplicable.selector, "on-chain rows are checked when they are added"
            )
        );
        vm.prank(carol);
        marketplace.challengeFormat(submissionId, 0, _encodeRow(_features(4, 2), 1), new bytes32[](0), _schema(), salt);
    }

    function test_challengeFormat_revertsOnInvalidProof() public {
        uint256 modelId = _publish();
        bytes[] memory rows = _rowsWithBadOnes();
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(alice, modelId, rows);
        bytes32 salt = _commit(carol, submissionId, 0);
        // a bad row that is not row 0 of the batch
        vm.expectRevert(_invalidProof(submissionId, 0));
        vm.prank(carol);
        marketplace.challengeFormat(submissionId, 0, rows[1], MerkleBuilder.proof(leaves, 0), _schema(), salt);
    }

    function test_challengeFormat_revertsOnRejectedRow() public {
        uint256 modelId = _publish();
        bytes[] memory rows = _rowsWithBadOnes();
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(alice, modelId, rows);
        _challengeFormat(carol, submissionId, 1, rows[1], MerkleBuilder.proof(leaves, 1));
        bytes32 salt = _commit(dave, submissionId, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRowAlreadyRejected.selector, submissionId, 1)
        );
        vm.prank(dave);
        marketplace.challengeFormat(submissionId, 1, rows[1], MerkleBuilder.proof(leaves, 1), _schema(), salt);
    }

    /// @dev A pending label challenge does not shield a row from the contract's own verdict: the format challenge
    /// closes it without a verdict (bond back to its challenger, fee back to the pool), then rejects the row.
    function test_challengeFormat_throughPendingLabelChallenge() public {
        uint256 modelId = _publish();
        bytes[] memory rows = _rowsWithBadOnes(); // row 1 is NaN
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(alice, modelId, rows);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 1);
        uint256 labelId = _challengeLabel(dave, submissionId, 1, rows[1], proof);
        uint256 pool = POOL - rows.length * uint256(REWARD);
        assertEq(marketplace.getModel(modelId).rewardPool, pool - REWARD, "fee reserved");
        bytes32 salt = _commit(carol, submissionId, 1);

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.ChallengeExpired(labelId, submissionId, BOND);
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.RowChallenged(
            modelId, submissionId, labelId + 1, 1, carol, IMarketplaceTypes.ChallengeKind.Format, rows[1], 0
        );
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.RowRejected(
            submissionId, labelId + 1, 1, IMarketplaceTypes.ChallengeKind.Format, carol, REWARD, DEPOSIT
        );
        vm.prank(carol);
        uint256 formatId = marketplace.challengeFormat(submissionId, 1, rows[1], proof, _schema(), salt);

        _assertStatus(labelId, IMarketplaceTypes.ChallengeStatus.Expired);
        _assertStatus(formatId, IMarketplaceTypes.ChallengeStatus.Upheld);
        assertEq(marketplace.challengeOf(submissionId, 1), formatId, "the latest challenge of the row");
        assertTrue(marketplace.isRowRejected(submissionId, 1), "rejected");
        assertEq(marketplace.getSubmission(submissionId).openChallenges, 0, "the label challenge is closed");
        assertEq(marketplace.creditOf(dave), BOND, "label challenger: bond back, no fee");
        assertEq(marketplace.creditOf(carol), REWARD, "format challenger: the row's reward");
        assertEq(marketplace.getModel(modelId).rewardPool, pool, "fee back to the pool");
        assertEq(marketplace.burned(), DEPOSIT, "deposit burned");

        // the closed label challenge can be neither resolved nor expired
        _expectError(IMarketplaceTypes.MarketplaceChallengeNotPending.selector, labelId);
        _resolve(labelId, true);
        vm.warp(block.timestamp + TIMEOUT + 1);
        _expectError(IMarketplaceTypes.MarketplaceChallengeNotPending.selector, labelId);
        marketplace.expireChallenge(labelId);

        marketplace.claim(submissionId);
        uint256 kept = (rows.length - 1) * uint256(DEPOSIT + REWARD);
        assertEq(marketplace.creditOf(alice), kept, "the other rows are paid");
        assertEq(
            address(marketplace).balance, kept + BOND + REWARD + pool + marketplace.burned(), "credits + pool + burned"
        );
    }

    // ============================================================================================ challengeDuplicate

    function test_challengeDuplicate_ofEarlierSubmission() public {
        uint256 modelId = _publish();
        (uint256 original, bytes32[] memory originalLeaves) = _contribute(alice, modelId, 1, 4);
        bytes[] memory rows = MerkleBuilder.batchRows(2, 3);
        rows[1] = MerkleBuilder.batchRow(1, 2); // bob's row 1 is alice's row 2
        (uint256 copy, bytes32[] memory leaves) = _contributeRows(bob, modelId, rows);
        bytes32 salt = _commit(carol, copy, 1);
        IMarketplaceTypes.Source memory source = _submissionSource(original, 2, originalLeaves);

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.RowChallenged(
            modelId, copy, 1, 1, carol, IMarketplaceTypes.ChallengeKind.Duplicate, rows[1], 0
        );
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.RowRejected(
            copy, 1, 1, IMarketplaceTypes.ChallengeKind.Duplicate, carol, REWARD, DEPOSIT
        );
        vm.prank(carol);
        uint256 challengeId =
            marketplace.challengeDuplicate(copy, 1, rows[1], MerkleBuilder.proof(leaves, 1), source, salt);

        _assertKind(marketplace.getChallenge(challengeId), IMarketplaceTypes.ChallengeKind.Duplicate);
        _assertStatus(challengeId, IMarketplaceTypes.ChallengeStatus.Upheld);
        assertTrue(marketplace.isRowRejected(copy, 1), "copy rejected");
        assertFalse(marketplace.isRowRejected(original, 2), "original stands");
        assertEq(marketplace.creditOf(carol), REWARD, "reward to the challenger");
        assertEq(marketplace.burned(), DEPOSIT, "deposit burned");
    }

    function test_challengeDuplicate_ofEarlierRowOfSameSubmission() public {
        uint256 modelId = _publish();
        bytes[] memory rows = MerkleBuilder.batchRows(1, 3);
        rows[2] = rows[0];
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(alice, modelId, rows);
        IMarketplaceTypes.Source memory source = _submissionSource(submissionId, 0, leaves);
        _challengeDuplicate(carol, submissionId, 2, rows[2], MerkleBuilder.proof(leaves, 2), source);
        assertTrue(marketplace.isRowRejected(submissionId, 2), "repeat rejected");
        assertFalse(marketplace.isRowRejected(submissionId, 0), "first occurrence stands");

        // the first occurrence is not a repeat of the later one
        bytes32 salt = _commit(carol, submissionId, 0);
        vm.expectRevert(_notADuplicate("the source row is not earlier"));
        vm.prank(carol);
        marketplace.challengeDuplicate(
            submissionId, 0, rows[0], MerkleBuilder.proof(leaves, 0), _submissionSource(submissionId, 2, leaves), salt
        );
        // nor of itself
        vm.expectRevert(_notADuplicate("the source row is not earlier"));
        vm.prank(carol);
        marketplace.challengeDuplicate(
            submissionId, 0, rows[0], MerkleBuilder.proof(leaves, 0), _submissionSource(submissionId, 0, leaves), salt
        );
    }

    function test_challengeDuplicate_ofTrainingRow() public {
        uint256 modelId = _publish();
        bytes[] memory rows = MerkleBuilder.batchRows(2, 3);
        rows[0] = _trainingRows()[3];
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(bob, modelId, rows);
        uint256 challengeId =
            _challengeDuplicate(carol, submissionId, 0, rows[0], MerkleBuilder.proof(leaves, 0), _trainingSource(3));
        _assertKind(marketplace.getChallenge(challengeId), IMarketplaceTypes.ChallengeKind.TrainingCopy);
        assertTrue(marketplace.isRowRejected(submissionId, 0), "training copy rejected");
        assertEq(marketplace.creditOf(carol), REWARD, "reward");
    }

    function test_challengeDuplicate_ofTestRowWithNonce() public {
        uint256 modelId = _publish();
        bytes[] memory rows = MerkleBuilder.batchRows(2, 3);
        rows[1] = _testRows()[2];
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(bob, modelId, rows);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 1);

        // without the right nonce the test row cannot be shown
        IMarketplaceTypes.Source memory guessed = _testSource(2);
        guessed.nonce = MerkleBuilder.keyOf(owner);
        bytes32 salt = _commit(carol, submissionId, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceInvalidSourceProof.selector, IMarketplaceTypes.SourceKind.Test, 2
            )
        );
        vm.prank(carol);
        marketplace.challengeDuplicate(submissionId, 1, rows[1], proof, guessed, salt);

        // the owner knows it
        uint256 challengeId = _challengeDuplicate(owner, submissionId, 1, rows[1], proof, _testSource(2));
        _assertKind(marketplace.getChallenge(challengeId), IMarketplaceTypes.ChallengeKind.TestCopy);
        assertTrue(marketplace.isRowRejected(submissionId, 1), "test copy rejected");
        assertEq(marketplace.creditOf(owner), 0, "unrevealed: the owner's own evidence earns it nothing");
        assertEq(marketplace.burned(), DEPOSIT + REWARD, "copier's deposit and the row's reward burned");
    }

    function test_challengeDuplicate_revertsOnSourceNotEarlier() public {
        uint256 modelId = _publish();
        (uint256 first, bytes32[] memory firstLeaves) = _contribute(alice, modelId, 1, 4);
        bytes[] memory rows = MerkleBuilder.batchRows(1, 4); // the same rows under bob's key
        (uint256 second, bytes32[] memory secondLeaves) = _contributeRows(bob, modelId, rows);
        bytes32 salt = _commit(carol, first, 1);
        vm.expectRevert(_notADuplicate("the source row is not earlier"));
        vm.prank(carol);
        marketplace.challengeDuplicate(
            first, 1, rows[1], MerkleBuilder.proof(firstLeaves, 1), _submissionSource(second, 1, secondLeaves), salt
        );
    }

    function test_challengeDuplicate_revertsOnSourceOfAnotherModel() public {
        uint256 otherModel = _publish();
        uint256 modelId = _publish();
        (uint256 original, bytes32[] memory originalLeaves) = _contribute(alice, otherModel, 1, 4);
        bytes[] memory rows = MerkleBuilder.batchRows(1, 4);
        (uint256 copy, bytes32[] memory leaves) = _contributeRows(bob, modelId, rows);
        bytes32 salt = _commit(carol, copy, 0);
        vm.expectRevert(_notADuplicate("the source is another model's"));
        vm.prank(carol);
        marketplace.challengeDuplicate(
            copy, 0, rows[0], MerkleBuilder.proof(leaves, 0), _submissionSource(original, 0, originalLeaves), salt
        );
    }

    function test_challengeDuplicate_revertsOnUnknownSource() public {
        (uint256 submissionId, bytes32[] memory leaves) = _batch(alice, 1, 4);
        bytes32 salt = _commit(carol, submissionId, 0);
        IMarketplaceTypes.Source memory source = _submissionSource(submissionId, 0, leaves);
        source.submissionId = 0;
        _expectError(IMarketplaceTypes.MarketplaceUnknownSubmission.selector, 0);
        vm.prank(carol);
        marketplace.challengeDuplicate(
            submissionId, 0, MerkleBuilder.batchRow(1, 0), MerkleBuilder.proof(leaves, 0), source, salt
        );
    }

    function test_challengeDuplicate_revertsOnInvalidSourceProof() public {
        uint256 modelId = _publish();
        (uint256 original, bytes32[] memory originalLeaves) = _contribute(alice, modelId, 1, 4);
        bytes[] memory rows = MerkleBuilder.batchRows(2, 3); // no row in common
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(bob, modelId, rows);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 1);
        bytes32 salt = _commit(carol, submissionId, 1);
        vm.startPrank(carol);

        vm.expectRevert(_invalidSourceProof(IMarketplaceTypes.SourceKind.Submission, 1));
        marketplace.challengeDuplicate(
            submissionId, 1, rows[1], proof, _submissionSource(original, 1, originalLeaves), salt
        );
        vm.expectRevert(_invalidSourceProof(IMarketplaceTypes.SourceKind.Training, 1));
        marketplace.challengeDuplicate(submissionId, 1, rows[1], proof, _trainingSource(1), salt);
        vm.expectRevert(_invalidSourceProof(IMarketplaceTypes.SourceKind.Test, 1));
        marketplace.challengeDuplicate(submissionId, 1, rows[1], proof, _testSource(1), salt);
        vm.stopPrank();
    }

    function test_challengeDuplicate_revertsWithoutTrainingData() public {
        IMarketplaceTypes.ModelInput memory input = _input();
        input.trainingRoot = bytes32(0);
        input.trainingRowCount = 0;
        vm.deal(owner, POOL);
        vm.prank(owner);
        uint256 modelId = marketplace.publishModel{value: POOL}(input, _terms(), _schema(), _noLinear());
        bytes[] memory rows = MerkleBuilder.batchRows(2, 3);
        rows[0] = _trainingRows()[0];
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(bob, modelId, rows);
        bytes32 salt = _commit(carol, submissionId, 0);
        vm.expectRevert(_invalidSourceProof(IMarketplaceTypes.SourceKind.Training, 0));
        vm.prank(carol);
        marketplace.challengeDuplicate(
            submissionId, 0, rows[0], MerkleBuilder.proof(leaves, 0), _trainingSource(0), salt
        );
    }

    function test_challengeDuplicate_revertsOnInvalidProof() public {
        uint256 modelId = _publish();
        (uint256 original, bytes32[] memory originalLeaves) = _contribute(alice, modelId, 1, 4);
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(bob, modelId, 2, 4);
        bytes32 salt = _commit(carol, submissionId, 0);
        // alice's row, claimed to be bob's row 0
        vm.expectRevert(_invalidProof(submissionId, 0));
        vm.prank(carol);
        marketplace.challengeDuplicate(
            submissionId,
            0,
            MerkleBuilder.batchRow(1, 0),
            MerkleBuilder.proof(leaves, 0),
            _submissionSource(original, 0, originalLeaves),
            salt
        );
    }

    /// @dev The same for a duplicate challenge: the copy is rejected through its pending label challenge.
    function test_challengeDuplicate_throughPendingLabelChallenge() public {
        uint256 modelId = _publish();
        (uint256 original, bytes32[] memory originalLeaves) = _contribute(alice, modelId, 1, 4);
        bytes[] memory rows = MerkleBuilder.batchRows(2, 3);
        rows[1] = MerkleBuilder.batchRow(1, 2); // bob's row 1 is alice's row 2
        (uint256 copy, bytes32[] memory leaves) = _contributeRows(bob, modelId, rows);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 1);
        uint256 labelId = _challengeLabel(dave, copy, 1, rows[1], proof);
        uint256 pool = POOL - 7 * uint256(REWARD);
        assertEq(marketplace.getModel(modelId).rewardPool, pool - REWARD, "fee reserved");
        bytes32 salt = _commit(carol, copy, 1);
        IMarketplaceTypes.Source memory source = _submissionSource(original, 2, originalLeaves);

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.ChallengeExpired(labelId, copy, BOND);
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.RowRejected(
            copy, labelId + 1, 1, IMarketplaceTypes.ChallengeKind.Duplicate, carol, REWARD, DEPOSIT
        );
        vm.prank(carol);
        uint256 duplicateId = marketplace.challengeDuplicate(copy, 1, rows[1], proof, source, salt);

        _assertStatus(labelId, IMarketplaceTypes.ChallengeStatus.Expired);
        _assertStatus(duplicateId, IMarketplaceTypes.ChallengeStatus.Upheld);
        assertTrue(marketplace.isRowRejected(copy, 1), "copy rejected");
        assertEq(marketplace.getSubmission(copy).openChallenges, 0, "the label challenge is closed");
        assertEq(marketplace.creditOf(dave), BOND, "label challenger: bond back, no fee");
        assertEq(marketplace.creditOf(carol), REWARD, "duplicate challenger: the row's reward");
        assertEq(marketplace.getModel(modelId).rewardPool, pool, "fee back to the pool");
        assertEq(marketplace.burned(), DEPOSIT, "the copier's deposit burned");
    }

    /// @dev Only a pending label challenge gives way: a pending availability challenge still blocks every other
    /// challenge of its row, objective ones included, until it is answered or expires.
    function test_challenge_revertsWhileAvailabilityPending() public {
        uint256 modelId = _publish();
        bytes[] memory rows = _rowsWithBadOnes();
        rows[2] = rows[0]; // row 2 repeats row 0
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(alice, modelId, rows);
        uint256 malformed = _challengeAvailability(carol, submissionId, 1);
        uint256 repeated = _challengeAvailability(carol, submissionId, 2);
        uint256 honest = _challengeAvailability(carol, submissionId, 3);
        bytes32 salt1 = _commit(dave, submissionId, 1);
        bytes32 salt2 = _commit(dave, submissionId, 2);
        bytes32 salt3 = _commit(dave, submissionId, 3);
        vm.deal(dave, 1 ether);
        vm.startPrank(dave);

        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceRowChallengePending.selector, submissionId, 1, malformed
            )
        );
        marketplace.challengeFormat(submissionId, 1, rows[1], MerkleBuilder.proof(leaves, 1), _schema(), salt1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceRowChallengePending.selector, submissionId, 2, repeated
            )
        );
        marketplace.challengeDuplicate(
            submissionId, 2, rows[2], MerkleBuilder.proof(leaves, 2), _submissionSource(submissionId, 0, leaves), salt2
        );
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceRowChallengePending.selector, submissionId, 3, honest
            )
        );
        marketplace.challengeAvailability{value: BOND}(submissionId, 3, salt3);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceRowChallengePending.selector, submissionId, 3, honest
            )
        );
        marketplace.challengeLabel{value: BOND}(submissionId, 3, rows[3], MerkleBuilder.proof(leaves, 3), salt3);
        vm.stopPrank();

        // answered, the malformed row can be challenged on its format (the commitment was not used)
        _answer(alice, malformed, rows[1], MerkleBuilder.proof(leaves, 1));
        vm.prank(dave);
        marketplace.challengeFormat(submissionId, 1, rows[1], MerkleBuilder.proof(leaves, 1), _schema(), salt1);
        assertTrue(marketplace.isRowRejected(submissionId, 1), "rejected once the demand was answered");
    }

    // ============================================================================================ availability

    function test_challengeAvailability_opensPendingChallenge() public {
        uint256 modelId = _publish();
        (uint256 submissionId,) = _contribute(alice, modelId, 1, 4);
        bytes32 salt = _commit(carol, submissionId, 3);
        vm.deal(carol, BOND);
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.RowChallenged(
            modelId,
            submissionId,
            1,
            3,
            carol,
            IMarketplaceTypes.ChallengeKind.Availability,
            "",
            uint64(block.timestamp) + TIMEOUT
        );
        vm.prank(carol);
        uint256 challengeId = marketplace.challengeAvailability{value: BOND}(submissionId, 3, salt);

        IMarketplaceTypes.Challenge memory challenged = marketplace.getChallenge(challengeId);
        _assertKind(challenged, IMarketplaceTypes.ChallengeKind.Availability);
        _assertStatus(challengeId, IMarketplaceTypes.ChallengeStatus.Pending);
        assertEq(challenged.bond, BOND, "bond");
        assertEq(challenged.resolveBy, block.timestamp + TIMEOUT, "resolve by");
        assertEq(marketplace.getSubmission(submissionId).openChallenges, 1, "open challenges");
        assertEq(address(marketplace).balance, POOL + 4 * uint256(DEPOSIT) + BOND, "bond held");
    }

    function test_challengeAvailability_revertsOnIncorrectBond() public {
        (uint256 submissionId,) = _batch(alice, 1, 4);
        bytes32 salt = _commit(carol, submissionId, 0);
        vm.deal(carol, 1 ether);
        vm.expectRevert(_incorrectPayment(BOND, 0));
        vm.prank(carol);
        marketplace.challengeAvailability(submissionId, 0, salt);
        vm.expectRevert(_incorrectPayment(BOND, BOND + 1));
        vm.prank(carol);
        marketplace.challengeAvailability{value: BOND + 1}(submissionId, 0, salt);
    }

    function test_challengeAvailability_revertsOnRevealedRow() public {
        uint256 modelId = _publishLinear();
        uint256 onChain = _contributeRow(alice, modelId, _features(4, 2), 1);
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        vm.deal(carol, 1 ether);

        // an on-chain row is on chain
        bytes32 salt = _commit(carol, onChain, 0);
        vm.expectRevert(_alreadyRevealed(onChain, 0));
        vm.prank(carol);
        marketplace.challengeAvailability{value: BOND}(onChain, 0, salt);

        // a row shown by a label challenge: pending first, then revealed
        uint256 labelId = _challenge(dave, submissionId, 1, leaves, 1);
        salt = _commit(carol, submissionId, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRowChallengePending.selector, submissionId, 1, labelId)
        );
        vm.prank(carol);
        marketplace.challengeAvailability{value: BOND}(submissionId, 1, salt);
        _resolve(labelId, false);
        vm.expectRevert(_alreadyRevealed(submissionId, 1));
        vm.prank(carol);
        marketplace.challengeAvailability{value: BOND}(submissionId, 1, salt);

        // a row produced by an answer
        uint256 availabilityId = _challengeAvailability(dave, submissionId, 2);
        _answer(alice, availabilityId, MerkleBuilder.batchRow(1, 2), MerkleBuilder.proof(leaves, 2));
        salt = _commit(carol, submissionId, 2);
        vm.expectRevert(_alreadyRevealed(submissionId, 2));
        vm.prank(carol);
        marketplace.challengeAvailability{value: BOND}(submissionId, 2, salt);
    }

    function test_answerChallenge_paysBondToAnswerer() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        uint256 challengeId = _challengeAvailability(carol, submissionId, 3);
        bytes memory row = MerkleBuilder.batchRow(1, 3);

        // anyone holding the file may answer
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.ChallengeAnswered(challengeId, submissionId, dave, row, BOND);
        _answer(dave, challengeId, row, MerkleBuilder.proof(leaves, 3));

        _assertStatus(challengeId, IMarketplaceTypes.ChallengeStatus.Answered);
        assertEq(marketplace.creditOf(dave), BOND, "bond to the answerer");
        assertEq(marketplace.creditOf(carol), 0, "challenger lost the bond");
        assertEq(marketplace.getSubmission(submissionId).openChallenges, 0, "closed");
        assertFalse(marketplace.isRowRejected(submissionId, 3), "row stands");

        _afterWindow(submissionId);
        marketplace.claim(submissionId);
        assertEq(marketplace.creditOf(alice), 4 * uint256(DEPOSIT + REWARD), "every row paid");
    }

    function test_answerChallenge_reverts() public {
        (uint256 submissionId, bytes32[] memory leaves) = _batch(alice, 1, 4);
        uint256 challengeId = _challengeAvailability(carol, submissionId, 3);
        uint256 labelId = _challenge(dave, submissionId, 1, leaves, 0);
        bytes memory row = MerkleBuilder.batchRow(1, 3);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 3);

        vm.expectRevert(_invalidProof(submissionId, 3));
        _answer(alice, challengeId, MerkleBuilder.batchRow(1, 2), proof);
        vm.expectRevert(_invalidProof(submissionId, 3));
        _answer(alice, challengeId, row, MerkleBuilder.proof(leaves, 2));

        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceWrongChallengeKind.selector, labelId, IMarketplaceTypes.ChallengeKind.Label
            )
        );
        _answer(alice, labelId, MerkleBuilder.batchRow(1, 0), MerkleBuilder.proof(leaves, 0));

        _expectError(IMarketplaceTypes.MarketplaceUnknownChallenge.selector, 7);
        _answer(alice, 7, row, proof);

        uint64 resolveBy = marketplace.getChallenge(challengeId).resolveBy;
        vm.warp(resolveBy + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceResolutionTimedOut.selector, challengeId, resolveBy)
        );
        _answer(alice, challengeId, row, proof);

        vm.warp(resolveBy); // the deadline itself is in time
        _answer(alice, challengeId, row, proof);
        _expectError(IMarketplaceTypes.MarketplaceChallengeNotPending.selector, challengeId);
        _answer(alice, challengeId, row, proof);
    }

    function test_expireChallenge_ofAvailabilityForfeitsBatch() public {
        uint256 modelId = _publish();
        (uint256 submissionId,) = _contribute(alice, modelId, 1, 4);
        uint256 challengeId = _challengeAvailability(carol, submissionId, 2);
        vm.warp(marketplace.getChallenge(challengeId).resolveBy + 1);

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.SubmissionForfeited(
            modelId, submissionId, challengeId, 4, 4 * uint256(REWARD), 4 * uint256(DEPOSIT)
        );
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.ChallengeExpired(challengeId, submissionId, BOND);
        vm.prank(dave); // anyone may expire it
        marketplace.expireChallenge(challengeId);

        _assertStatus(challengeId, IMarketplaceTypes.ChallengeStatus.Upheld);
        IMarketplaceTypes.Submission memory submission = marketplace.getSubmission(submissionId);
        assertTrue(submission.forfeited, "forfeited");
        assertEq(submission.rowsRejected, 4, "every row rejected");
        assertEq(submission.openChallenges, 0, "closed");
        for (uint32 i = 0; i < 4; ++i) {
            assertTrue(marketplace.isRowRejected(submissionId, i), "row rejected");
        }
        assertEq(marketplace.getModel(modelId).rowsRejected, 4, "model rows rejected");
        assertEq(marketplace.burned(), 4 * uint256(DEPOSIT), "deposits burned");
        assertEq(marketplace.creditOf(carol), BOND + 4 * uint256(REWARD), "bond and rewards to the challenger");
        assertEq(marketplace.creditOf(alice), 0, "nothing to the contributor");
        assertEq(
            address(marketplace).balance,
            marketplace.getModel(modelId).rewardPool + marketplace.creditOf(carol) + marketplace.burned(),
            "pool + credit + burned"
        );

        _expectError(IMarketplaceTypes.MarketplaceSubmissionForfeited.selector, submissionId);
        marketplace.claim(submissionId);
    }

    function test_expireChallenge_forfeitsOnlyRowsNotRejected() public {
        uint256 modelId = _publish();
        bytes[] memory rows = _rowsWithBadOnes();
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(alice, modelId, rows);
        _challengeFormat(carol, submissionId, 1, rows[1], MerkleBuilder.proof(leaves, 1));
        uint256 challengeId = _challengeAvailability(dave, submissionId, 0);
        vm.warp(block.timestamp + TIMEOUT + 1);
        uint256 remaining = rows.length - 1; // 5 rows: 0, 2, 3, 4 and 5
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.SubmissionForfeited(
            modelId, submissionId, challengeId, 5, remaining * REWARD, remaining * DEPOSIT
        );
        marketplace.expireChallenge(challengeId);

        assertEq(marketplace.creditOf(carol), REWARD, "format challenger");
        assertEq(marketplace.creditOf(dave), BOND + remaining * REWARD, "availability challenger");
        assertEq(marketplace.burned(), rows.length * uint256(DEPOSIT), "every deposit burned once");
        assertEq(marketplace.getModel(modelId).rowsRejected, rows.length, "rows rejected once");
        assertEq(marketplace.getSubmission(submissionId).rowsRejected, rows.length, "submission rows rejected");
    }

    function test_expireChallenge_ofLabelReturnsBondAndFee() public {
        (uint256 submissionId, bytes32[] memory leaves) = _batch(alice, 1, 4);
        uint256 challengeId = _challenge(carol, submissionId, 1, leaves, 1);
        uint64 resolveBy = marketplace.getChallenge(challengeId).resolveBy;
        uint256 pool = POOL - 4 * uint256(REWARD);
        assertEq(marketplace.getModel(1).rewardPool, pool - REWARD, "fee reserved");

        vm.warp(resolveBy + 1);
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.ChallengeExpired(challengeId, submissionId, BOND);
        vm.prank(dave);
        marketplace.expireChallenge(challengeId);

        _assertStatus(challengeId, IMarketplaceTypes.ChallengeStatus.Expired);
        assertEq(marketplace.creditOf(carol), BOND, "bond back, no fee");
        assertEq(marketplace.getModel(1).rewardPool, pool, "fee back to the pool");
        assertEq(marketplace.getSubmission(submissionId).openChallenges, 0, "closed");
        assertEq(marketplace.burned(), 0, "nothing burned");

        marketplace.claim(submissionId); // the row stands
        assertEq(marketplace.creditOf(alice), 4 * uint256(DEPOSIT + REWARD), "every row paid");
    }

    function test_expireChallenge_reverts() public {
        (uint256 submissionId, bytes32[] memory leaves) = _batch(alice, 1, 4);
        uint256 challengeId = _challenge(carol, submissionId, 1, leaves, 1);
        uint64 resolveBy = marketplace.getChallenge(challengeId).resolveBy;

        vm.warp(resolveBy);
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceResolutionPending.selector, challengeId, resolveBy)
        );
        marketplace.expireChallenge(challengeId);

        _expectError(IMarketplaceTypes.MarketplaceUnknownChallenge.selector, 0);
        marketplace.expireChallenge(0);
        _expectError(IMarketplaceTypes.MarketplaceUnknownChallenge.selector, 2);
        marketplace.expireChallenge(2);

        _resolve(challengeId, true);
        vm.warp(resolveBy + 1);
        _expectError(IMarketplaceTypes.MarketplaceChallengeNotPending.selector, challengeId);
        marketplace.expireChallenge(challengeId);

        // a challenge judged at once was never pending
        uint256 modelId = _publish();
        bytes[] memory rows = _rowsWithBadOnes();
        (uint256 other, bytes32[] memory otherLeaves) = _contributeRows(alice, modelId, rows);
        uint256 formatId = _challengeFormat(carol, other, 1, rows[1], MerkleBuilder.proof(otherLeaves, 1));
        _expectError(IMarketplaceTypes.MarketplaceChallengeNotPending.selector, formatId);
        marketplace.expireChallenge(formatId);
    }

    function test_forfeitedBatch_returnsBondsOfOtherChallenges() public {
        (uint256 submissionId, bytes32[] memory leaves) = _batch(alice, 1, 4);
        uint256 first = _challengeAvailability(carol, submissionId, 0);
        uint256 second = _challengeAvailability(dave, submissionId, 1);
        vm.warp(block.timestamp + 1 hours); // the label challenges time out an hour after the availability ones
        uint256 label = _challenge(bob, submissionId, 1, leaves, 2);
        uint256 labelExpiring = _challenge(dave, submissionId, 1, leaves, 3);
        assertEq(marketplace.getSubmission(submissionId).openChallenges, 4, "four pending");

        vm.warp(marketplace.getChallenge(first).resolveBy + 1);
        marketplace.expireChallenge(first); // forfeits the batch
        assertTrue(marketplace.getSubmission(submissionId).forfeited, "forfeited");
        assertEq(marketplace.creditOf(carol), BOND + 4 * uint256(REWARD), "first challenger");

        // the second availability challenge no longer forfeits anything: its bond returns
        marketplace.expireChallenge(second);
        _assertStatus(second, IMarketplaceTypes.ChallengeStatus.Expired);
        assertEq(marketplace.creditOf(dave), BOND, "second bond back");

        // whatever the owner says of a forfeited row, the bond returns to the challenger and the fee to the pool
        uint256 pool = POOL - 4 * uint256(REWARD);
        assertEq(marketplace.getModel(1).rewardPool, pool - 2 * uint256(REWARD), "two fees reserved");
        vm.warp(marketplace.getChallenge(label).resolveBy);
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.ChallengeExpired(label, submissionId, BOND);
        _resolve(label, true);
        _assertStatus(label, IMarketplaceTypes.ChallengeStatus.Expired);
        assertEq(marketplace.creditOf(bob), BOND, "label bond back, no fee");
        assertEq(marketplace.getModel(1).rewardPool, pool - REWARD, "fee back to the pool");

        vm.warp(block.timestamp + 1);
        marketplace.expireChallenge(labelExpiring);
        assertEq(marketplace.creditOf(dave), 2 * uint256(BOND), "expired label bond back, no fee");
        assertEq(marketplace.getModel(1).rewardPool, pool, "both fees back to the pool");
        assertEq(marketplace.burned(), 4 * uint256(DEPOSIT), "only deposits burned");
        assertEq(marketplace.getSubmission(submissionId).openChallenges, 0, "all closed");
    }

    // ============================================================================================ file challenges

    function test_challengeFile_opensPendingChallengeWithFee() public {
        uint256 modelId = _publish();
        (uint256 submissionId,) = _contribute(alice, modelId, 1, 4);
        uint32 whole = marketplace.WHOLE_FILE();
        bytes32 salt = _commit(carol, submissionId, whole);
        vm.deal(carol, BOND);
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.RowChallenged(
            modelId,
            submissionId,
            1,
            whole,
            carol,
            IMarketplaceTypes.ChallengeKind.File,
            "",
            uint64(block.timestamp) + TIMEOUT
        );
        vm.prank(carol);
        uint256 challengeId = marketplace.challengeFile{value: BOND}(submissionId, salt);

        IMarketplaceTypes.Challenge memory challenged = marketplace.getChallenge(challengeId);
        _assertKind(challenged, IMarketplaceTypes.ChallengeKind.File);
        _assertStatus(challengeId, IMarketplaceTypes.ChallengeStatus.Pending);
        assertEq(challenged.rowIndex, whole, "the whole file");
        assertEq(challenged.fee, REWARD, "one row's reward reserved as the fee");
        IMarketplaceTypes.Submission memory sub = marketplace.getSubmission(submissionId);
        assertTrue(sub.fileJudged, "one file challenge per submission");
        assertEq(sub.openChallenges, 1, "open challenges");
        assertEq(marketplace.challengeOf(submissionId, 0), 0, "no row's state changes");
        assertEq(marketplace.getModel(modelId).rewardPool, POOL - 5 * uint256(REWARD), "4 rewards and the fee");
    }

    function test_challengeFile_reverts() public {
        uint256 modelId = _publishLinear();
        (uint256 submissionId,) = _contribute(alice, modelId, 1, 4);
        uint32 whole = marketplace.WHOLE_FILE();

        bytes32 salt = _commit(owner, submissionId, whole);
        vm.deal(owner, BOND);
        _expectError(IMarketplaceTypes.MarketplaceOwnerCannotChallenge.selector, modelId);
        vm.prank(owner);
        marketplace.challengeFile{value: BOND}(submissionId, salt);

        salt = _commit(carol, submissionId, whole);
        vm.deal(carol, 2 * BOND);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceIncorrectPayment.selector, BOND, 0));
        vm.prank(carol);
        marketplace.challengeFile(submissionId, salt);

        bytes32 rowSalt = _commit(dave, submissionId, 0); // a commitment to a row is not one to the file
        vm.deal(dave, BOND);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceCommitmentUnknown.selector,
                marketplace.challengeCommitment(dave, submissionId, whole, rowSalt)
            )
        );
        vm.prank(dave);
        marketplace.challengeFile{value: BOND}(submissionId, rowSalt);

        vm.prank(carol);
        marketplace.challengeFile{value: BOND}(submissionId, salt);
        salt = _commit(dave, submissionId, whole);
        _expectError(IMarketplaceTypes.MarketplaceFileAlreadyJudged.selector, submissionId);
        vm.prank(dave);
        marketplace.challengeFile{value: BOND}(submissionId, salt);

        uint256 onChain = _contributeRow(alice, modelId, _features(1, 2), 1);
        salt = _commit(dave, onChain, whole);
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceNotApplicable.selector, "an on-chain row has no file")
        );
        vm.prank(dave);
        marketplace.challengeFile{value: BOND}(onChain, salt);

        (uint256 late,) = _contribute(alice, modelId, 2, 4);
        salt = _commit(dave, late, whole);
        _afterWindow(late);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceChallengeWindowClosed.selector,
                late,
                marketplace.getSubmission(late).windowEndsAt
            )
        );
        vm.prank(dave);
        marketplace.challengeFile{value: BOND}(late, salt);
    }

    /// @dev Upheld: every row not yet rejected is rejected, its deposit and reserved reward burned (the owner's verdict
    /// pays nobody a row's reward); the challenger gets the bond back and the fee. Pending challenges of its rows close.
    function test_challengeFile_upheldForfeitsBatchAndBurnsRewards() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        uint256 rowChallenge = _challenge(dave, submissionId, 1, leaves, 2);
        _resolve(rowChallenge, true); // row 2 rejected first
        uint256 pendingLabel = _challenge(dave, submissionId, 1, leaves, 3);
        uint256 challengeId = _challengeFile(carol, submissionId);
        uint256 burnedBefore = marketplace.burned();

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.SubmissionForfeited(
            modelId, submissionId, challengeId, 3, 0, 3 * (uint256(DEPOSIT) + REWARD)
        );
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.ChallengeResolved(challengeId, submissionId, true, carol, BOND + REWARD);
        _resolve(challengeId, true);

        _assertStatus(challengeId, IMarketplaceTypes.ChallengeStatus.Upheld);
        IMarketplaceTypes.Submission memory sub = marketplace.getSubmission(submissionId);
        assertTrue(sub.forfeited, "forfeited");
        assertEq(sub.rowsRejected, 4, "every row rejected");
        assertEq(marketplace.burned() - burnedBefore, 3 * (uint256(DEPOSIT) + REWARD), "3 D + 3 R burned");
        assertEq(marketplace.creditOf(carol), BOND + REWARD, "bond back and the fee");

        // the pending label challenge of a forfeited row closes without a verdict: bond back, fee to the pool
        uint256 poolBefore = marketplace.getModel(modelId).rewardPool;
        _resolve(pendingLabel, true);
        _assertStatus(pendingLabel, IMarketplaceTypes.ChallengeStatus.Expired);
        assertEq(marketplace.getModel(modelId).rewardPool, poolBefore + REWARD, "fee back to the pool");
        _afterWindow(submissionId);
        _expectError(IMarketplaceTypes.MarketplaceSubmissionForfeited.selector, submissionId);
        marketplace.claim(submissionId);
    }

    function test_challengeFile_rejectedBurnsBondAndPaysFee() public {
        uint256 modelId = _publish();
        (uint256 submissionId,) = _contribute(alice, modelId, 1, 4);
        uint256 challengeId = _challengeFile(carol, submissionId);
        uint256 burnedBefore = marketplace.burned();
        _resolve(challengeId, false);
        _assertStatus(challengeId, IMarketplaceTypes.ChallengeStatus.Rejected);
        assertEq(marketplace.burned() - burnedBefore, BOND, "the bond is burned");
        assertEq(marketplace.creditOf(carol), REWARD, "the fee is paid");
        _afterWindow(submissionId);
        marketplace.claim(submissionId);
        assertEq(marketplace.creditOf(alice), 4 * (uint256(DEPOSIT) + REWARD), "the batch is paid in full");
    }

    function test_challengeFile_expiredReturnsBondAndFee() public {
        uint256 modelId = _publish();
        (uint256 submissionId,) = _contribute(alice, modelId, 1, 4);
        uint256 challengeId = _challengeFile(carol, submissionId);
        uint256 poolBefore = marketplace.getModel(modelId).rewardPool;
        vm.warp(marketplace.getChallenge(challengeId).resolveBy + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceResolutionTimedOut.selector,
                challengeId,
                marketplace.getChallenge(challengeId).resolveBy
            )
        );
        _resolve(challengeId, true);
        marketplace.expireChallenge(challengeId);
        _assertStatus(challengeId, IMarketplaceTypes.ChallengeStatus.Expired);
        assertEq(marketplace.creditOf(carol), BOND, "the bond comes back");
        assertEq(marketplace.getModel(modelId).rewardPool, poolBefore + REWARD, "the fee goes back to the pool");
        assertFalse(marketplace.getSubmission(submissionId).forfeited, "the batch stands");
    }

    /// @dev A file challenge cannot be answered with a row: only the owner's verdict or the time-out ends it.
    function test_challengeFile_cannotBeAnswered() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        uint256 challengeId = _challengeFile(carol, submissionId);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceWrongChallengeKind.selector, challengeId, IMarketplaceTypes.ChallengeKind.File
            )
        );
        _answer(alice, challengeId, MerkleBuilder.batchRow(1, 0), MerkleBuilder.proof(leaves, 0));
    }

    // ============================================================================================ resolveChallenge

    /// @dev Upheld: the row is rejected and both its deposit and its reserved reward are burned (no verdict of the
    /// owner pays anyone the row's reward); the challenger gets the bond back and the fee.
    function test_resolveChallenge_upheldRejectsRow() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        uint256 challengeId = _challenge(carol, submissionId, 1, leaves, 1);

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.RowRejected(
            submissionId, challengeId, 1, IMarketplaceTypes.ChallengeKind.Label, carol, 0, uint256(DEPOSIT) + REWARD
        );
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.ChallengeResolved(challengeId, submissionId, true, carol, BOND + REWARD);
        _resolve(challengeId, true);

        _assertStatus(challengeId, IMarketplaceTypes.ChallengeStatus.Upheld);
        assertEq(marketplace.creditOf(carol), BOND + REWARD, "bond and fee to the challenger");
        assertEq(marketplace.creditOf(owner), 0, "nothing to the owner");
        assertEq(marketplace.burned(), uint256(DEPOSIT) + REWARD, "deposit and reserved reward burned");
        IMarketplaceTypes.Submission memory submission = marketplace.getSubmission(submissionId);
        assertEq(submission.rowsRejected, 1, "submission rows rejected");
        assertEq(submission.openChallenges, 0, "open challenges");
        assertEq(marketplace.getModel(modelId).rowsRejected, 1, "model rows rejected");
        uint256 pool = POOL - 4 * uint256(REWARD) - REWARD;
        assertEq(marketplace.getModel(modelId).rewardPool, pool, "the pool paid 4 rewards and the fee");

        _afterWindow(submissionId);
        marketplace.claim(submissionId);
        assertEq(marketplace.creditOf(alice), 3 * uint256(DEPOSIT + REWARD), "the other rows are paid");
        assertEq(
            address(marketplace).balance,
            marketplace.creditOf(alice) + marketplace.creditOf(carol) + pool + marketplace.burned(),
            "credits + pool + burned"
        );
    }

    /// @dev Rejected: the row stands and the bond is burned, but the challenger still gets the fee.
    function test_resolveChallenge_rejectedBurnsBond() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        uint256 challengeId = _challenge(carol, submissionId, 1, leaves, 1);

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.ChallengeResolved(challengeId, submissionId, false, carol, REWARD);
        _resolve(challengeId, false);

        _assertStatus(challengeId, IMarketplaceTypes.ChallengeStatus.Rejected);
        assertEq(marketplace.burned(), BOND, "bond burned");
        assertEq(marketplace.creditOf(carol), REWARD, "challenger: the fee");
        assertEq(marketplace.creditOf(alice), 0, "contributor");
        assertEq(marketplace.creditOf(owner), 0, "owner");
        assertEq(marketplace.getSubmission(submissionId).rowsRejected, 0, "rows rejected");
        assertEq(marketplace.getSubmission(submissionId).openChallenges, 0, "open challenges");
        uint256 pool = POOL - 4 * uint256(REWARD) - REWARD;
        assertEq(marketplace.getModel(modelId).rewardPool, pool, "the pool paid 4 rewards and the fee");

        _afterWindow(submissionId);
        marketplace.claim(submissionId);
        assertEq(marketplace.creditOf(alice), 4 * uint256(DEPOSIT + REWARD), "every row paid");
        assertEq(
            address(marketplace).balance,
            marketplace.creditOf(alice) + marketplace.creditOf(carol) + pool + marketplace.burned(),
            "credits + pool + burned"
        );
    }

    function test_resolveChallenge_reverts() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        uint256 challengeId = _challenge(carol, submissionId, 1, leaves, 1);
        uint256 availabilityId = _challengeAvailability(dave, submissionId, 2);

        vm.expectRevert(_notOwner(modelId, carol));
        vm.prank(carol);
        marketplace.resolveChallenge(challengeId, true);

        _expectError(IMarketplaceTypes.MarketplaceUnknownChallenge.selector, 3);
        _resolve(3, true);

        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceWrongChallengeKind.selector,
                availabilityId,
                IMarketplaceTypes.ChallengeKind.Availability
            )
        );
        _resolve(availabilityId, true);

        uint64 resolveBy = marketplace.getChallenge(challengeId).resolveBy;
        vm.warp(resolveBy + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceResolutionTimedOut.selector, challengeId, resolveBy)
        );
        _resolve(challengeId, true);

        vm.warp(resolveBy); // the deadline itself is in time
        _resolve(challengeId, true);
        _expectError(IMarketplaceTypes.MarketplaceChallengeNotPending.selector, challengeId);
        _resolve(challengeId, false);

        // a challenge judged by the contract is not the owner's to judge
        bytes[] memory rows = _rowsWithBadOnes();
        (uint256 other, bytes32[] memory otherLeaves) = _contributeRows(bob, modelId, rows);
        uint256 formatId = _challengeFormat(carol, other, 1, rows[1], MerkleBuilder.proof(otherLeaves, 1));
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceWrongChallengeKind.selector,
                formatId,
                IMarketplaceTypes.ChallengeKind.Format
            )
        );
        _resolve(formatId, true);
    }

    // ============================================================================================ claim

    function test_claim_creditsContributor() public {
        uint256 modelId = _publish();
        (uint256 submissionId,) = _contribute(alice, modelId, 1, 4);
        _afterWindow(submissionId);
        uint256 amount = 4 * uint256(DEPOSIT + REWARD);

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.SubmissionClaimed(modelId, submissionId, alice, 4, amount);
        vm.prank(dave); // anyone may claim; the contributor is paid
        marketplace.claim(submissionId);

        assertEq(marketplace.creditOf(alice), amount, "contributor credit");
        assertEq(marketplace.creditOf(dave), 0, "caller credit");
        assertTrue(marketplace.getSubmission(submissionId).claimed, "claimed");
        assertEq(marketplace.getModel(modelId).rowsAccepted, 4, "rows accepted");
        assertEq(address(marketplace).balance, amount + marketplace.getModel(modelId).rewardPool, "credit + pool");

        _expectError(IMarketplaceTypes.MarketplaceAlreadyClaimed.selector, submissionId);
        marketplace.claim(submissionId);
    }

    function test_claim_excludesRejectedRows() public {
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, 1, 4);
        _resolve(_challenge(carol, submissionId, 1, leaves, 0), true);
        _resolve(_challenge(carol, submissionId, 1, leaves, 3), true);
        _afterWindow(submissionId);
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.SubmissionClaimed(modelId, submissionId, alice, 2, 2 * uint256(DEPOSIT + REWARD));
        marketplace.claim(submissionId);

        assertEq(marketplace.creditOf(alice), 2 * uint256(DEPOSIT + REWARD), "two rows paid");
        IMarketplaceTypes.ModelInfo memory info = marketplace.getModel(modelId);
        assertEq(info.rowsAccepted, 2, "rows accepted");
        assertEq(info.rowsRejected, 2, "rows rejected");
    }

    function test_claim_revertsWhileWindowOpenOrChallengesPending() public {
        (uint256 submissionId, bytes32[] memory leaves) = _batch(alice, 1, 4);
        uint64 windowEndsAt = marketplace.getSubmission(submissionId).windowEndsAt;
        uint256 challengeId = _challenge(carol, submissionId, 1, leaves, 1);

        vm.warp(windowEndsAt - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceChallengeWindowOpen.selector, submissionId, windowEndsAt
            )
        );
        marketplace.claim(submissionId);

        vm.warp(windowEndsAt);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceOpenChallenges.selector, submissionId, 1));
        marketplace.claim(submissionId);

        _resolve(challengeId, false);
        marketplace.claim(submissionId);
        _expectError(IMarketplaceTypes.MarketplaceUnknownSubmission.selector, 0);
        marketplace.claim(0);
        _expectError(IMarketplaceTypes.MarketplaceUnknownSubmission.selector, 2);
        marketplace.claim(2);
    }

    function test_claim_trainsPerceptronOnAcceptedRow() public {
        uint256 modelId = _publishLinear(); // predicts 1 iff x0 - x1 >= 0
        uint256 first = _contributeRow(alice, modelId, _features(1, 5), 1); // misclassified
        uint256 second = _contributeRow(bob, modelId, _features(5, 1), 1); // classified right
        _afterWindow(second);

        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.LinearModelUpdated(
            modelId, first, 1, keccak256(SparseRows.pack(_features(2, 4))), 1e6
        );
        assertTrue(_claimRow(dave, first), "learned");
        assertEq(_perceptronWeights[modelId], _features(2, 4), "weights moved towards the row");
        assertEq(_perceptronIntercept[modelId], 1e6, "intercept moved by one scale unit");

        // (5, 1): 2 * 5 + 4 * 1 + 1e6 >= 0, right: no update
        assertFalse(_claimRow(dave, second), "not learned");
        assertEq(marketplace.linearModel(modelId).updates, 1, "no update");
        assertEq(marketplace.creditOf(alice), DEPOSIT + REWARD, "alice paid");
        assertEq(marketplace.creditOf(bob), DEPOSIT + REWARD, "bob paid");
        assertEq(marketplace.getModel(modelId).rowsAccepted, 2, "rows accepted");
    }

    function test_claim_ofRejectedOnChainRowPaysNothingAndTeachesNothing() public {
        uint256 modelId = _publishLinear();
        uint256 submissionId = _contributeRow(alice, modelId, _features(1, 5), 1);
        _resolve(_challengeLabel(carol, submissionId, 0, _encodeRow(_features(1, 5), 1), new bytes32[](0)), true);
        _afterWindow(submissionId);
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.SubmissionClaimed(modelId, submissionId, alice, 0, 0);
        marketplace.claim(submissionId); // no row or weights needed: there is nothing to learn
        assertEq(marketplace.linearModel(modelId).updates, 0, "not learned");
        assertEq(marketplace.creditOf(alice), 0, "nothing paid");
        assertTrue(marketplace.getSubmission(submissionId).claimed, "settled");
    }

    function test_claimRow_ofRejectedRowNeedsNoWeights() public {
        uint256 modelId = _publishLinear();
        uint256 submissionId = _contributeRow(alice, modelId, _features(1, 5), 1);
        _resolve(_challengeLabel(carol, submissionId, 0, _encodeRow(_features(1, 5), 1), new bytes32[](0)), true);
        _afterWindow(submissionId);
        marketplace.claimRow(submissionId, _encodeRow(_features(1, 5), 1), "");
        assertEq(marketplace.linearModel(modelId).updates, 0, "not learned");
    }

    // ============================================================================================ withdraw

    function test_withdraw_sendsCredit() public {
        (uint256 submissionId,) = _batch(alice, 1, 4);
        _afterWindow(submissionId);
        marketplace.claim(submissionId);
        uint256 amount = 4 * uint256(DEPOSIT + REWARD);

        uint256 before = alice.balance;
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.Withdrawn(alice, amount);
        vm.prank(alice);
        marketplace.withdraw();
        assertEq(alice.balance - before, amount, "received");
        assertEq(marketplace.creditOf(alice), 0, "credit cleared");

        _expectNothingToWithdraw(alice);
        vm.prank(alice);
        marketplace.withdraw();
    }

    function test_withdraw_blocksReentrantWithdraw() public {
        (ReentrantReceiver receiver, uint256 amount) = _receiverWithCredit();
        receiver.arm(ReentrantReceiver.Attack.Withdraw, true, 0);

        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceWithdrawFailed.selector, address(receiver), amount)
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
        uint256 other = _contributeAs(receiver, 2, 3);
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
        IMarketplaceTypes.ModelInfo[] memory page = marketplace.getModels(0, 2);
        assertEq(page.length, 2, "first page");
        assertEq(page[0].id, 1, "first id");
        assertEq(page[1].id, 2, "second id");
        page = marketplace.getModels(2, 2);
        assertEq(page.length, 1, "last page");
        assertEq(page[0].id, 3, "last id");
        assertEq(page[0].owner, owner, "info filled");
        assertEq(marketplace.getModels(3, 2).length, 0, "past the end");
        assertEq(marketplace.getModels(0, 0).length, 0, "zero limit");
        assertEq(marketplace.getModels(1, type(uint256).max).length, 2, "unbounded limit");
        assertEq(marketplace.getModels(type(uint256).max, type(uint256).max).length, 0, "huge offset");
    }

    function test_getSubmissions_readsTheIdsGiven() public {
        uint256 first = _publish();
        uint256 second = _publish();
        _contribute(alice, first, 1, 1);
        _contribute(alice, second, 2, 1);
        _contribute(bob, first, 3, 2);
        _contribute(bob, first, 4, 3);

        uint256[] memory ids = new uint256[](2);
        ids[0] = 4;
        ids[1] = 2;
        IMarketplaceTypes.Submission[] memory page = marketplace.getSubmissions(ids);
        assertEq(page.length, 2, "page length");
        assertEq(page[0].id, 4, "in the order asked");
        assertEq(page[0].rowCount, 3, "submission filled");
        assertEq(page[1].modelId, second, "of any model");
        assertEq(marketplace.getSubmissions(new uint256[](0)).length, 0, "none asked");
        assertEq(marketplace.getModel(first).submissionCount, 3, "submission count");
        ids[1] = 5;
        _expectError(IMarketplaceTypes.MarketplaceUnknownSubmission.selector, 5);
        marketplace.getSubmissions(ids);
    }

    function test_views_revertOnUnknownIds() public {
        _expectError(IMarketplaceTypes.MarketplaceUnknownModel.selector, 0);
        marketplace.getModel(0);
        _expectError(IMarketplaceTypes.MarketplaceUnknownModel.selector, 1);
        marketplace.linearModel(1);
        _expectError(IMarketplaceTypes.MarketplaceUnknownSubmission.selector, 1);
        marketplace.getSubmission(1);
        _expectError(IMarketplaceTypes.MarketplaceUnknownChallenge.selector, 1);
        marketplace.getChallenge(1);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceUnknownSubmission.selector, 1));
        marketplace.challengeOf(1, 0);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceUnknownSubmission.selector, 1));
        marketplace.isRowRejected(1, 0);
        assertEq(marketplace.modelCount(), 0, "no models");
        assertEq(marketplace.submissionCount(), 0, "no submissions");
        assertEq(marketplace.challengeCount(), 0, "no challenges");
        assertEq(marketplace.getModels(0, 10).length, 0, "no model pages");
        assertEq(marketplace.burned(), 0, "nothing burned");
        assertEq(marketplace.creditOf(alice), 0, "no credit");
    }

    function test_rowChecker_isTheMarketplacesFirstCreation() public view {
        (address checker, address game) = _modules();
        assertEq(marketplace.rowChecker(), checker, "row checker");
        assertGt(checker.code.length, 0, "checker deployed");
        assertGt(game.code.length, 0, "challenge game deployed");
    }

    // ============================================================================================ ChallengeGame module

    function test_challengeGame_refusesDirectCalls() public {
        (, address module) = _modules();
        ChallengeGame game = ChallengeGame(module);
        bytes memory notDelegated = abi.encodeWithSelector(ChallengeGame.ChallengeGameNotDelegated.selector);
        bytes32[] memory proof = new bytes32[](0);
        IMarketplaceTypes.Source memory source;

        vm.expectRevert(notDelegated);
        game.commitChallenge(SALT);
        vm.expectRevert(notDelegated);
        game.challengeLabel(1, 0, "", proof, SALT);
        vm.expectRevert(notDelegated);
        game.challengeFormat(1, 0, "", proof, _schema(), SALT);
        vm.expectRevert(notDelegated);
        game.challengeDuplicate(1, 0, "", proof, source, SALT);
        vm.expectRevert(notDelegated);
        game.challengeAvailability(1, 0, SALT);
        vm.expectRevert(notDelegated);
        game.answerChallenge(1, "", proof);
        vm.expectRevert(notDelegated);
        game.expireChallenge(1);
        vm.expectRevert(notDelegated);
        game.resolveChallenge(1, true);
    }

    // ============================================================================================ RowChecker

    function test_fault_acceptsValidRows() public view {
        RowChecker checker = RowChecker(marketplace.rowChecker());
        _assertFault(_checkerRow(ONE, 5, 1, "abc"), IMarketplaceTypes.RowFault.None);
        _assertFault(_checkerRow(MAX_FLOAT_BITS, 1e9, 0, ""), IMarketplaceTypes.RowFault.None); // at the bounds
        _assertFault(_checkerRow(MINUS_1E9, uint64(-int64(1e9)), 1, hex"C3A9F09F9880"), IMarketplaceTypes.RowFault.None);
        _assertFault(_checkerRow(0, 0, 0, "12345678"), IMarketplaceTypes.RowFault.None); // +0.0, 8 bytes
        assertEq(
            uint256(checker.fault(_schema(), MerkleBuilder.batchRow(1, 0))),
            uint256(IMarketplaceTypes.RowFault.None),
            "fixture rows are valid"
        );
        assertEq(checker.magnitude(type(int64).min), 2 ** 63, "magnitude of int64 min");
    }

    function test_fault_floats() public view {
        _assertFault(_checkerRow(NAN, 0, 0, ""), IMarketplaceTypes.RowFault.OutOfBounds);
        _assertFault(_checkerRow(INFINITY, 0, 0, ""), IMarketplaceTypes.RowFault.OutOfBounds);
        _assertFault(_checkerRow(NEGATIVE_INFINITY, 0, 0, ""), IMarketplaceTypes.RowFault.OutOfBounds);
        _assertFault(_checkerRow(FLOAT_1E308, 0, 0, ""), IMarketplaceTypes.RowFault.OutOfBounds);
        _assertFault(_checkerRow(FLOAT_1E9_PLUS_1, 0, 0, ""), IMarketplaceTypes.RowFault.OutOfBounds);
        _assertFault(_checkerRow(NEGATIVE_ZERO, 0, 0, ""), IMarketplaceTypes.RowFault.NonCanonical);
    }

    function test_fault_ints() public view {
        _assertFault(_checkerRow(ONE, 0x8000000000000000, 0, ""), IMarketplaceTypes.RowFault.OutOfBounds); // int64 min
        _assertFault(_checkerRow(ONE, 1e9 + 1, 0, ""), IMarketplaceTypes.RowFault.OutOfBounds);
        _assertFault(_checkerRow(ONE, uint64(-int64(1e9 + 1)), 0, ""), IMarketplaceTypes.RowFault.OutOfBounds);
        _assertFault(_checkerRow(ONE, type(uint64).max, 0, ""), IMarketplaceTypes.RowFault.None); // -1
    }

    function test_fault_bool() public view {
        _assertFault(_checkerRow(ONE, 0, 2, ""), IMarketplaceTypes.RowFault.BadBool);
        _assertFault(_checkerRow(ONE, 0, 0xFF, ""), IMarketplaceTypes.RowFault.BadBool);
    }

    function test_fault_utf8() public view {
        _assertFault(_checkerRow(ONE, 0, 0, hex"C0AF"), IMarketplaceTypes.RowFault.BadUtf8); // overlong "/"
        _assertFault(_checkerRow(ONE, 0, 0, hex"EDA080"), IMarketplaceTypes.RowFault.BadUtf8); // surrogate U+D800
        _assertFault(_checkerRow(ONE, 0, 0, hex"E08080"), IMarketplaceTypes.RowFault.BadUtf8); // overlong 3 bytes
        _assertFault(_checkerRow(ONE, 0, 0, hex"F4908080"), IMarketplaceTypes.RowFault.BadUtf8); // above U+10FFFF
        _assertFault(_checkerRow(ONE, 0, 0, hex"E282"), IMarketplaceTypes.RowFault.BadUtf8); // cut sequence
        _assertFault(_checkerRow(ONE, 0, 0, hex"80"), IMarketplaceTypes.RowFault.BadUtf8); // lone continuation
        _assertFault(_checkerRow(ONE, 0, 0, hex"C3C3"), IMarketplaceTypes.RowFault.BadUtf8); // bad continuation
        _assertFault(_checkerRow(ONE, 0, 0, hex"E2AC41"), IMarketplaceTypes.RowFault.BadUtf8); // bad third byte
        _assertFault(_checkerRow(ONE, 0, 0, hex"ED9FBF"), IMarketplaceTypes.RowFault.None); // U+D7FF
    }

    function test_fault_stringTooLong() public view {
        _assertFault(_checkerRow(ONE, 0, 0, "123456789"), IMarketplaceTypes.RowFault.StringTooLong);
    }

    function test_fault_trailingBytes() public view {
        _assertFault(bytes.concat(_checkerRow(ONE, 0, 0, "a"), hex"00"), IMarketplaceTypes.RowFault.TrailingBytes);
    }

    function test_fault_truncatedRow() public view {
        bytes memory row = _checkerRow(ONE, 7, 1, "abc");
        _assertFault(_prefix(row, row.length - 1), IMarketplaceTypes.RowFault.Malformed); // string cut
        _assertFault(_prefix(row, 5), IMarketplaceTypes.RowFault.Malformed); // float cut
        _assertFault(_prefix(row, 9), IMarketplaceTypes.RowFault.Malformed); // before the int column
        _assertFault(_prefix(row, 14), IMarketplaceTypes.RowFault.Malformed); // int cut
        _assertFault(_prefix(row, 19), IMarketplaceTypes.RowFault.Malformed); // bool missing
        _assertFault(_prefix(row, 22), IMarketplaceTypes.RowFault.Malformed); // string length cut
        _assertFault("", IMarketplaceTypes.RowFault.Malformed);
    }

    function test_fault_wrongTag() public view {
        bytes memory row = _checkerRow(ONE, 0, 0, "");
        row[0] = "i"; // an int where the schema has a float
        _assertFault(row, IMarketplaceTypes.RowFault.Malformed);
        row = _checkerRow(ONE, 0, 0, "");
        row[18] = "s"; // the bool's tag
        _assertFault(row, IMarketplaceTypes.RowFault.Malformed);
    }

    function test_fault_labelNotAllowed() public view {
        RowChecker checker = RowChecker(marketplace.rowChecker());
        assertEq(
            uint256(checker.fault(_schema(), MerkleBuilder.canonicalRow(ONE, ONE, "cow"))),
            uint256(IMarketplaceTypes.RowFault.LabelNotAllowed),
            "cow"
        );
        assertEq(
            uint256(checker.fault(_schema(), MerkleBuilder.canonicalRow(ONE, ONE, "dog"))),
            uint256(IMarketplaceTypes.RowFault.None),
            "dog"
        );
        // a feature fault is found before the label
        assertEq(
            uint256(checker.fault(_schema(), MerkleBuilder.canonicalRow(NAN, ONE, "cow"))),
            uint256(IMarketplaceTypes.RowFault.OutOfBounds),
            "first fault wins"
        );
    }

    // ============================================================================================ scenario

    /// @dev Every bucket of the accounting, checked after a lifecycle with each kind of challenge.
    function test_scenario_fullLifecycleAccounting() public {
        uint256 modelId = _publish();
        bytes[] memory rows = _rowsWithBadOnes();
        (uint256 aliceBatch, bytes32[] memory aliceLeaves) = _contributeRows(alice, modelId, rows);
        vm.warp(block.timestamp + 1 hours);
        (uint256 bobBatch, bytes32[] memory bobLeaves) = _contribute(bob, modelId, 22, 5);
        (uint256 phantom,) = _contribute(dave, modelId, 33, 3);

        _challengeFormat(carol, aliceBatch, 1, rows[1], MerkleBuilder.proof(aliceLeaves, 1)); // carol +R
        // upheld: carol +R (the fee; bond back); the row's D and reserved R are burned
        _resolve(_challenge(carol, aliceBatch, 77, aliceLeaves, 0), true);
        _resolve(_challenge(dave, bobBatch, 22, bobLeaves, 0), false); // dave's bond burned, dave +R (the fee)
        uint256 answered = _challengeAvailability(carol, bobBatch, 4); // carol's bond to bob
        _answer(bob, answered, MerkleBuilder.batchRow(22, 4), MerkleBuilder.proof(bobLeaves, 4));
        uint256 unanswered = _challengeAvailability(carol, phantom, 1);
        vm.warp(marketplace.getChallenge(unanswered).resolveBy + 1);
        marketplace.expireChallenge(unanswered); // carol +3R, bond back

        marketplace.claim(aliceBatch);
        marketplace.claim(bobBatch);

        uint256 paid = uint256(DEPOSIT + REWARD);
        uint256 aliceRows = rows.length - 2;
        assertEq(_withdraw(alice), aliceRows * paid, "alice: rows not rejected");
        assertEq(_withdraw(bob), 5 * paid + BOND, "bob: 5 rows and the bond of the answered challenge");
        assertEq(
            _withdraw(carol), 5 * uint256(REWARD) + 2 * uint256(BOND), "carol: R + fee R + 3 R, 2 bonds back"
        );
        assertEq(_withdraw(dave), REWARD, "dave: the fee of his rejected challenge, not his bond");

        IMarketplaceTypes.ModelInfo memory info = marketplace.getModel(modelId);
        assertEq(info.rowsSubmitted, rows.length + 8, "rows submitted");
        assertEq(info.rowsRejected, 2 + 3, "rows rejected");
        assertEq(info.rowsAccepted, aliceRows + 5, "rows accepted");
        assertEq(
            info.rewardPool,
            POOL - (rows.length + 8) * uint256(REWARD) - 2 * uint256(REWARD),
            "pool: every reward and both fees were paid out (or burned)"
        );
        uint256 burned = 5 * uint256(DEPOSIT) + REWARD + BOND;
        assertEq(marketplace.burned(), burned, "2 + 3 deposits, the upheld row's reward and dave's bond burned");
        assertEq(address(marketplace).balance, info.rewardPool + burned, "pool + burned");

        vm.prank(owner);
        marketplace.withdrawRewardPool(modelId, info.rewardPool);
        assertEq(_withdraw(owner), info.rewardPool, "owner takes the rest of the pool");
        assertEq(address(marketplace).balance, burned, "only the burned wei are left, forever");
    }

    // ============================================================================================ helpers

    /// @dev Calls the marketplace as `sender` with `value`, requires success and logs the gas of the call.
    function _featureIndexOutOfRange(uint256 index, uint256 featureCount) private pure returns (bytes memory) {
        return abi.encodeWithSelector(
            IMarketplaceTypes.MarketplaceFeatureIndexOutOfRange.selector, index, featureCount
        );
    }

    function _malformedRow(string memory reason) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IMarketplaceTypes.MarketplaceMalformedRow.selector, reason);
    }

    /// @dev The default model with a perceptron of `weights.length` features (schema "f…fs").
    function _publishWide(int64[] memory weights) private returns (uint256 modelId) {
        IMarketplaceTypes.RowSchema memory schema = _schema();
        bytes memory columns = new bytes(weights.length + 1);
        for (uint256 i = 0; i < weights.length; ++i) {
            columns[i] = "f";
        }
        columns[weights.length] = "s";
        schema.columns = columns;
        vm.deal(owner, POOL);
        vm.prank(owner);
        modelId = marketplace.publishModel{value: POOL}(_input(), _terms(), schema, _linear(weights, 0, MAX_FEATURE));
    }

    function _logGas(string memory name, address sender, uint256 value, bytes memory data) private {
        vm.prank(sender);
        uint256 before = gasleft();
        (bool success, bytes memory result) = address(marketplace).call{value: value}(data);
        uint256 used = before - gasleft();
        if (!success) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
        emit log_named_uint(name, used);
    }

    /// @dev The default model with other periods.
    function _publishPeriods(uint64 window, uint64 timeout) private returns (uint256) {
        IMarketplaceTypes.Terms memory terms = _terms();
        terms.challengeWindow = window;
        terms.ownerTimeout = timeout;
        return _publish(marketplace, terms, POOL);
    }

    /// @dev The default model with one batch of `rowCount` rows `salt` by `contributor`.
    function _batch(address contributor, uint256 salt, uint32 rowCount)
        private
        returns (uint256 submissionId, bytes32[] memory leaves)
    {
        return _contribute(contributor, _publish(), salt, rowCount);
    }

    /// @dev Six rows of the fixture schema: 0, 2, 3, 4 valid (distinct); 1 NaN; 5 labelled "cow".
    function _rowsWithBadOnes() private pure returns (bytes[] memory rows) {
        rows = MerkleBuilder.batchRows(77, 6);
        rows[1] = MerkleBuilder.canonicalRow(NAN, ONE, "cat");
        rows[5] = MerkleBuilder.canonicalRow(ONE, ONE, "cow");
    }

    /// @dev `challenger` opens an availability challenge of row `index` that nobody answers, and expires it.
    function _forfeitByAvailability(uint256 submissionId, uint32 index) private returns (uint256 challengeId) {
        challengeId = _challengeAvailability(bob, submissionId, index);
        vm.warp(marketplace.getChallenge(challengeId).resolveBy + 1);
        marketplace.expireChallenge(challengeId);
        assertTrue(marketplace.getSubmission(submissionId).forfeited, "forfeited");
    }

    function _assertPublishReverts(IMarketplaceTypes.ModelInput memory input, bytes memory expectedError) private {
        vm.expectRevert(expectedError);
        vm.prank(owner);
        marketplace.publishModel(input, _terms(), _schema(), _noLinear());
    }

    function _assertPublishReverts(IMarketplaceTypes.Terms memory terms, bytes memory expectedError) private {
        IMarketplaceTypes.ModelInput memory input = _input();
        vm.expectRevert(expectedError);
        vm.prank(owner);
        marketplace.publishModel(input, terms, _schema(), _noLinear());
    }

    function _assertPublishReverts(IMarketplaceTypes.RowSchema memory schema, bytes memory expectedError) private {
        IMarketplaceTypes.ModelInput memory input = _input();
        vm.expectRevert(expectedError);
        vm.prank(owner);
        marketplace.publishModel(input, _terms(), schema, _noLinear());
    }

    /// @dev CIDs the marketplace refuses: empty, a base32 string, CIDv0, wrong length, version, codec or hash.
    function _invalidCids() private pure returns (bytes[] memory cids) {
        bytes32 digest = keccak256("digest");
        cids = new bytes[](9);
        cids[0] = "";
        cids[1] = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
        cids[2] = abi.encodePacked(uint8(0x12), uint8(0x20), digest); // CIDv0 multihash (34 bytes)
        // forge-lint: disable-next-line(unsafe-typecast) a 35-byte CID on purpose: the digest cut by one byte
        cids[3] = abi.encodePacked(uint8(0x01), uint8(0x55), uint8(0x12), uint8(0x20), bytes31(digest)); // 35 bytes
        cids[4] = abi.encodePacked(uint8(0x01), uint8(0x55), uint8(0x12), uint8(0x20), digest, uint8(0)); // 37 bytes
        cids[5] = abi.encodePacked(uint8(0x00), uint8(0x55), uint8(0x12), uint8(0x20), digest); // version 0
        cids[6] = abi.encodePacked(uint8(0x01), uint8(0x71), uint8(0x12), uint8(0x20), digest); // dag-cbor
        cids[7] = abi.encodePacked(uint8(0x01), uint8(0x55), uint8(0x13), uint8(0x20), digest); // sha2-512 code
        cids[8] = abi.encodePacked(uint8(0x01), uint8(0x55), uint8(0x12), uint8(0x1F), digest); // wrong length byte
    }

    function _dagPbCid(string memory seed) private pure returns (bytes memory) {
        return abi.encodePacked(uint8(0x01), uint8(0x70), uint8(0x12), uint8(0x20), keccak256(bytes(seed)));
    }

    function _withFloatBound(IMarketplaceTypes.RowSchema memory schema, uint64 bits)
        private
        pure
        returns (IMarketplaceTypes.RowSchema memory)
    {
        schema.maxFloatBits = bits;
        return schema;
    }

    /// @dev Gas of the first contribution of `rowCount` rows to a fresh model of `target`.
    function _measureContribute(ModelMarketplace target, uint32 rowCount) private returns (uint256 gasUsed) {
        uint256 modelId = _publish(target, _terms(), 100 ether);
        uint256 deposit = uint256(rowCount) * DEPOSIT;
        bytes memory cid = _cid("data");
        vm.deal(alice, deposit);
        vm.prank(alice);
        uint256 before = gasleft();
        target.contribute{value: deposit}(modelId, cid, ROOT, rowCount);
        gasUsed = before - gasleft();
    }

    /// @dev `receiver` contributes the batch `salt` of `rowCount` rows (keyed by its address) to model 1.
    function _contributeAs(ReentrantReceiver receiver, uint256 salt, uint32 rowCount)
        private
        returns (uint256 submissionId)
    {
        bytes32 root = MerkleBuilder.root(
            MerkleBuilder.leaves(MerkleBuilder.keyOf(address(receiver)), MerkleBuilder.batchRows(salt, rowCount))
        );
        uint256 deposit = uint256(rowCount) * DEPOSIT;
        vm.deal(address(this), deposit);
        bytes memory result = receiver.forward{value: deposit}(
            abi.encodeCall(IModelMarketplace.contribute, (1, _cid("data"), root, rowCount))
        );
        submissionId = abi.decode(result, (uint256));
    }

    /// @dev A re-entrant receiver credited by the claim of a 2-row submission of model 1.
    function _receiverWithCredit() private returns (ReentrantReceiver receiver, uint256 amount) {
        _publish();
        receiver = new ReentrantReceiver(IModelMarketplace(address(marketplace)));
        uint256 submissionId = _contributeAs(receiver, 1, 2);
        _afterWindow(submissionId);
        marketplace.claim(submissionId);
        amount = 2 * uint256(DEPOSIT + REWARD);
        assertEq(marketplace.creditOf(address(receiver)), amount, "receiver credit");
    }

    /// @dev The row checker and the challenge game: the marketplace's CREATEs with nonces 1 and 2.
    function _modules() private view returns (address checker, address game) {
        checker = _createAddress(address(marketplace), 1);
        game = _createAddress(address(marketplace), 2);
    }

    function _createAddress(address deployer, uint8 nonce) private pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xd6), bytes1(0x94), deployer, nonce)))));
    }

    /// @dev A row of the checker schema ("fibs", labels free): float bits, int bits, bool byte, string bytes.
    function _checkerRow(uint64 f, uint64 i, uint8 b, bytes memory s) private pure returns (bytes memory) {
        return bytes.concat("f", bytes8(f), "i", bytes8(i), "b", bytes1(b), "s", bytes4(uint32(s.length)), s);
    }

    function _checkerSchema() private pure returns (IMarketplaceTypes.RowSchema memory schema) {
        schema.columns = "fibs";
        schema.labels = new bytes[](0);
        schema.maxFloatBits = MAX_FLOAT_BITS;
        schema.maxInt = 1e9;
        schema.maxStringBytes = 8;
    }

    function _assertFault(bytes memory row, IMarketplaceTypes.RowFault expected) private view {
        RowChecker checker = RowChecker(marketplace.rowChecker());
        assertEq(uint256(checker.fault(_checkerSchema(), row)), uint256(expected), "row fault");
    }

    function _prefix(bytes memory data, uint256 length) private pure returns (bytes memory result) {
        result = new bytes(length);
        for (uint256 i = 0; i < length; ++i) {
            result[i] = data[i];
        }
    }

    function _assertKind(IMarketplaceTypes.Challenge memory challenged, IMarketplaceTypes.ChallengeKind kind)
        private
        pure
    {
        assertEq(uint256(challenged.kind), uint256(kind), "challenge kind");
    }

    function _assertStatus(uint256 challengeId, IMarketplaceTypes.ChallengeStatus status) private view {
        assertEq(uint256(marketplace.getChallenge(challengeId).status), uint256(status), "challenge status");
    }

    function _expectNothingToWithdraw(address account) private {
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceNothingToWithdraw.selector, account));
    }

    function _invalidProof(uint256 submissionId, uint32 rowIndex) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInvalidProof.selector, submissionId, rowIndex);
    }

    function _invalidSourceProof(IMarketplaceTypes.SourceKind kind, uint32 rowIndex)
        private
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInvalidSourceProof.selector, kind, rowIndex);
    }

    function _alreadyRevealed(uint256 submissionId, uint32 rowIndex) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRowAlreadyRevealed.selector, submissionId, rowIndex);
    }

    function _notADuplicate(string memory reason) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IMarketplaceTypes.MarketplaceNotADuplicate.selector, reason);
    }

    function _commitmentError(bytes4 selector, bytes32 commitment) private pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, commitment);
    }

    function _featureOutOfRange(uint256 index, int64 value) private pure returns (bytes memory) {
        return abi.encodeWithSelector(
            IMarketplaceTypes.MarketplaceFeatureOutOfRange.selector, index, value, uint64(MAX_FEATURE)
        );
    }

    function _notOwner(uint256 modelId, address caller) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IMarketplaceTypes.MarketplaceNotModelOwner.selector, modelId, caller);
    }

    function _incorrectPayment(uint256 expected, uint256 received) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IMarketplaceTypes.MarketplaceIncorrectPayment.selector, expected, received);
    }

    function _invalidInput(string memory reason) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInvalidInput.selector, reason);
    }

    function _invalidCid(string memory what) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInvalidCid.selector, what);
    }

    function _invalidTerms(string memory reason) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInvalidTerms.selector, reason);
    }

    function _invalidSchema(string memory reason) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInvalidSchema.selector, reason);
    }
}
