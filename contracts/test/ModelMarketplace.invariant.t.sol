// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {IModelMarketplace} from "../src/IModelMarketplace.sol";
import {ModelMarketplace} from "../src/ModelMarketplace.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";
import {CheatCodes, TestBase} from "./utils/TestBase.sol";

/**
 * @dev Drives the marketplace with bounded random actions of a few actors and keeps ghost lists of every id it
 * created, plus the ether it paid in and withdrew. Actions pick targets that make the call meaningful; calls that
 * still revert are discarded by forge (`fail_on_revert = false`).
 */
contract MarketplaceHandler is CheatCodes {
    uint256 private constant ACTOR_COUNT = 5;
    uint256 private constant MAX_MODELS = 4;
    uint256 private constant MAX_BATCH = 8;
    int64 private constant ONE = 1e6;

    ModelMarketplace public immutable marketplace;

    address[] private _actors;
    uint256[] private _modelIds;
    uint256[] private _submissionIds;
    uint256[] private _challengeIds;
    mapping(uint256 submissionId => uint256 salt) private _batchSalts;

    uint256 public ghostPaidIn;
    uint256 public ghostWithdrawn;

    constructor(ModelMarketplace marketplace_) {
        marketplace = marketplace_;
        for (uint256 i = 0; i < ACTOR_COUNT; ++i) {
            _actors.push(makeAddr(string.concat("actor", vm.toString(i))));
        }
    }

    // --------------------------------------------------------------------------------------------- ghost lists

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function modelIds() external view returns (uint256[] memory) {
        return _modelIds;
    }

    function submissionIds() external view returns (uint256[] memory) {
        return _submissionIds;
    }

    function challengeIds() external view returns (uint256[] memory) {
        return _challengeIds;
    }

    // --------------------------------------------------------------------------------------------- owner actions

    function publishModel(
        uint256 actorSeed,
        uint128 depositPerRow,
        uint128 rewardPerRow,
        uint128 challengeBond,
        uint64 challengeWindow,
        uint64 ownerTimeout,
        uint256 pool,
        bool withLinearModel
    ) external {
        if (_modelIds.length >= MAX_MODELS) return;
        address owner = _actor(actorSeed);
        IModelMarketplace.Terms memory terms = IModelMarketplace.Terms({
            depositPerRow: uint128(bound(depositPerRow, 1, 1 ether)),
            rewardPerRow: uint128(bound(rewardPerRow, 0, 0.1 ether)),
            challengeBond: uint128(bound(challengeBond, 0, 1 ether)),
            challengeWindow: uint64(bound(challengeWindow, 1 hours, 2 days)),
            ownerTimeout: uint64(bound(ownerTimeout, 1 hours, 2 days))
        });
        pool = bound(pool, 0, 100 ether);
        IModelMarketplace.ModelInput memory input = IModelMarketplace.ModelInput({
            name: "model",
            modelCid: "bafymodel",
            metadataCid: "",
            testSetCommitment: bytes32(0),
            accuracyBps: 5000,
            evaluationCid: ""
        });

        vm.deal(owner, pool);
        vm.prank(owner);
        uint256 modelId = marketplace.publishModel{value: pool}(input, terms);
        ghostPaidIn += pool;
        _modelIds.push(modelId);

        if (withLinearModel) {
            int64[] memory weights = new int64[](2);
            weights[0] = ONE;
            weights[1] = -ONE;
            vm.prank(owner);
            marketplace.attachLinearModel(modelId, weights, 0);
        }
    }

    function fundRewardPool(uint256 actorSeed, uint256 modelSeed, uint256 amount) external {
        if (_modelIds.length == 0) return;
        address funder = _actor(actorSeed);
        amount = bound(amount, 1, 10 ether);
        vm.deal(funder, amount);
        vm.prank(funder);
        marketplace.fundRewardPool{value: amount}(_pick(_modelIds, modelSeed));
        ghostPaidIn += amount;
    }

    function withdrawRewardPool(uint256 modelSeed, uint256 amount) external {
        if (_modelIds.length == 0) return;
        IModelMarketplace.ModelInfo memory model = marketplace.getModel(_pick(_modelIds, modelSeed));
        vm.prank(model.owner);
        marketplace.withdrawRewardPool(model.id, bound(amount, 0, model.rewardPool));
    }

    function resolveChallenge(uint256 challengeSeed, bool upheld) external {
        (bool found, IModelMarketplace.Challenge memory pending) = _findPendingChallenge(challengeSeed, false);
        if (!found) return;
        IModelMarketplace.Submission memory submission = marketplace.getSubmission(pending.submissionId);
        vm.prank(marketplace.getModel(submission.modelId).owner);
        marketplace.resolveChallenge(pending.id, upheld);
    }

    // --------------------------------------------------------------------------------------------- contributors

    function contribute(uint256 actorSeed, uint256 modelSeed, uint32 rowCount, uint256 salt) external {
        if (_modelIds.length == 0) return;
        IModelMarketplace.ModelInfo memory model = marketplace.getModel(_pick(_modelIds, modelSeed));
        uint256 maxRows = MAX_BATCH;
        if (model.terms.rewardPerRow != 0 && model.rewardPool / model.terms.rewardPerRow < maxRows) {
            maxRows = model.rewardPool / model.terms.rewardPerRow;
        }
        if (maxRows == 0) return;
        rowCount = uint32(bound(rowCount, 1, maxRows));
        bytes32 root = MerkleBuilder.root(MerkleBuilder.leaves(MerkleBuilder.batchRows(salt, rowCount)));
        uint256 deposit = uint256(rowCount) * model.terms.depositPerRow;
        address contributor = _actor(actorSeed);

        vm.deal(contributor, deposit);
        vm.prank(contributor);
        uint256 submissionId = marketplace.contribute{value: deposit}(model.id, "bafydata", root, rowCount);
        ghostPaidIn += deposit;
        _submissionIds.push(submissionId);
        _batchSalts[submissionId] = salt;
    }

    /// @dev With `trained`, the row goes to a model with a linear model if there is one.
    function contributeRow(uint256 actorSeed, uint256 modelSeed, int64 x0, int64 x1, bool positive, bool trained)
        external
    {
        if (_modelIds.length == 0) return;
        IModelMarketplace.ModelInfo memory model = marketplace.getModel(_pick(_modelIds, modelSeed));
        for (uint256 i = 1; trained && !model.hasLinearModel && i < _modelIds.length; ++i) {
            model = marketplace.getModel(_pick(_modelIds, modelSeed + i));
        }
        if (model.rewardPool < model.terms.rewardPerRow) return;
        int64[] memory features = new int64[](2);
        features[0] = int64(bound(x0, -ONE, ONE));
        features[1] = int64(bound(x1, -ONE, ONE));
        address contributor = _actor(actorSeed);

        vm.deal(contributor, model.terms.depositPerRow);
        vm.prank(contributor);
        uint256 submissionId = marketplace.contributeRow{value: model.terms.depositPerRow}(
            model.id, features, positive ? int64(1) : int64(0)
        );
        ghostPaidIn += model.terms.depositPerRow;
        _submissionIds.push(submissionId);
    }

    function claim(uint256 submissionSeed, uint256 callerSeed) external {
        (bool found, uint256 submissionId) = _findSettleableSubmission(submissionSeed, false);
        if (!found) return;
        vm.prank(_actor(callerSeed));
        marketplace.claim(submissionId);
    }

    function withdraw(uint256 actorSeed) external {
        address account = _actor(actorSeed);
        uint256 credit = marketplace.creditOf(account);
        if (credit == 0) return;
        uint256 before = account.balance;
        vm.prank(account);
        marketplace.withdraw();
        require(account.balance - before == credit, "handler: withdrawn amount differs from credit");
        ghostWithdrawn += credit;
    }

    // --------------------------------------------------------------------------------------------- verifiers

    function challenge(uint256 actorSeed, uint256 submissionSeed, uint256 rowSeed) external {
        (bool found, IModelMarketplace.Submission memory submission, uint32 rowIndex) =
            _findChallengeableRow(submissionSeed, rowSeed);
        if (!found) return;
        IModelMarketplace.ModelInfo memory model = marketplace.getModel(submission.modelId);
        address challenger = _actor(actorSeed);
        if (challenger == model.owner) challenger = _actor(actorSeed % ACTOR_COUNT + 1);
        (bytes memory row, bytes32[] memory proof) = _rowAndProof(submission, rowIndex);

        vm.deal(challenger, model.terms.challengeBond);
        vm.prank(challenger);
        uint256 challengeId =
            marketplace.challenge{value: model.terms.challengeBond}(submission.id, rowIndex, row, proof);
        ghostPaidIn += model.terms.challengeBond;
        _challengeIds.push(challengeId);
    }

    function expireChallenge(uint256 challengeSeed, uint256 callerSeed) external {
        (bool found, IModelMarketplace.Challenge memory pending) = _findPendingChallenge(challengeSeed, true);
        if (!found) return;
        vm.prank(_actor(callerSeed));
        marketplace.expireChallenge(pending.id);
    }

    function reportMisclassified(uint256 submissionSeed, uint256 reporterSeed) external {
        (bool found, uint256 submissionId) = _findSettleableSubmission(submissionSeed, true);
        if (!found) return;
        vm.prank(_actor(reporterSeed));
        marketplace.reportMisclassified(submissionId);
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 1 days));
    }

    // --------------------------------------------------------------------------------------------- helpers

    function _actor(uint256 seed) private view returns (address) {
        return _actors[seed % _actors.length];
    }

    function _pick(uint256[] storage ids, uint256 seed) private view returns (uint256) {
        return ids[seed % ids.length];
    }

    /// @dev First unchallenged row, from random starts, of a submission whose window is open.
    function _findChallengeableRow(uint256 submissionSeed, uint256 rowSeed)
        private
        view
        returns (bool found, IModelMarketplace.Submission memory submission, uint32 rowIndex)
    {
        uint256 count = _submissionIds.length;
        for (uint256 i = 0; i < count; ++i) {
            submission = marketplace.getSubmission(_submissionIds[(submissionSeed + i) % count]);
            if (block.timestamp >= submission.windowEndsAt) continue;
            for (uint256 j = 0; j < submission.rowCount; ++j) {
                rowIndex = uint32((rowSeed + j) % submission.rowCount);
                if (marketplace.challengeOf(submission.id, rowIndex) == 0) return (true, submission, rowIndex);
            }
        }
    }

    /// @dev A pending challenge, scanning from a random start, that can still be resolved (`expired` false) or that
    /// can be expired; in the latter case, if none can yet, time skips past the nearest deadline.
    function _findPendingChallenge(uint256 seed, bool expired)
        private
        returns (bool found, IModelMarketplace.Challenge memory pending)
    {
        uint256 count = _challengeIds.length;
        for (uint256 i = 0; i < count; ++i) {
            IModelMarketplace.Challenge memory candidate = marketplace.getChallenge(_challengeIds[(seed + i) % count]);
            if (candidate.status != IModelMarketplace.ChallengeStatus.Pending) continue;
            if ((block.timestamp > candidate.resolveBy) == expired) return (true, candidate);
            if (expired && (!found || candidate.resolveBy < pending.resolveBy)) (found, pending) = (true, candidate);
        }
        if (found) vm.warp(pending.resolveBy + 1);
    }

    /// @dev An unclaimed submission without open challenges (an on-chain row the linear model misclassifies if
    /// `reportable`), scanning from a random start, whose window has passed; if none has, time skips to the nearest
    /// window end.
    function _findSettleableSubmission(uint256 seed, bool reportable)
        private
        returns (bool found, uint256 submissionId)
    {
        uint256 count = _submissionIds.length;
        uint64 nearestEnd = 0;
        for (uint256 i = 0; i < count; ++i) {
            IModelMarketplace.Submission memory submission =
                marketplace.getSubmission(_submissionIds[(seed + i) % count]);
            if (submission.claimed || submission.openChallenges != 0) continue;
            if (reportable && !_isMisclassified(submission)) continue;
            if (block.timestamp >= submission.windowEndsAt) return (true, submission.id);
            if (!found || submission.windowEndsAt < nearestEnd) {
                (found, submissionId, nearestEnd) = (true, submission.id, submission.windowEndsAt);
            }
        }
        if (found) vm.warp(nearestEnd);
    }

    function _isMisclassified(IModelMarketplace.Submission memory submission) private view returns (bool) {
        if (!submission.onChainRow || !marketplace.getModel(submission.modelId).hasLinearModel) return false;
        (int64[] memory features, int64 label) = marketplace.getRow(submission.id);
        return marketplace.predict(submission.modelId, features) != label;
    }

    function _rowAndProof(IModelMarketplace.Submission memory submission, uint256 rowIndex)
        private
        view
        returns (bytes memory row, bytes32[] memory proof)
    {
        if (submission.onChainRow) {
            (int64[] memory features, int64 label) = marketplace.getRow(submission.id);
            return (abi.encode(features, label), new bytes32[](0));
        }
        uint256 salt = _batchSalts[submission.id];
        bytes32[] memory leaves = MerkleBuilder.leaves(MerkleBuilder.batchRows(salt, submission.rowCount));
        return (MerkleBuilder.batchRow(salt, rowIndex), MerkleBuilder.proof(leaves, rowIndex));
    }
}

contract ModelMarketplaceInvariantTest is TestBase {
    ModelMarketplace internal marketplace;
    MarketplaceHandler internal handler;

    function setUp() public {
        marketplace = new ModelMarketplace();
        handler = new MarketplaceHandler(marketplace);
    }

    /// @dev Read by forge: only the handler is called during invariant runs.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @dev The balance is exactly what the marketplace owes, recomputed from its views.
    function invariant_balanceEqualsObligations() public view {
        uint256 owed = _sumCredits();

        uint256[] memory submissionIds = handler.submissionIds();
        for (uint256 i = 0; i < submissionIds.length; ++i) {
            IModelMarketplace.Submission memory submission = marketplace.getSubmission(submissionIds[i]);
            if (submission.claimed) continue;
            uint256 rowsLeft = submission.rowCount - submission.rowsRejected;
            owed += rowsLeft * (uint256(submission.depositPerRow) + submission.rewardPerRow);
        }

        uint256[] memory challengeIds = handler.challengeIds();
        for (uint256 i = 0; i < challengeIds.length; ++i) {
            IModelMarketplace.Challenge memory pending = marketplace.getChallenge(challengeIds[i]);
            if (pending.status == IModelMarketplace.ChallengeStatus.Pending) owed += pending.bond;
        }

        uint256[] memory modelIds = handler.modelIds();
        for (uint256 i = 0; i < modelIds.length; ++i) {
            owed += marketplace.getModel(modelIds[i]).rewardPool;
        }

        assertEq(address(marketplace).balance, owed, "balance != deposits + rewards + bonds + pools + credits");
    }

    /// @dev No credit exceeds what was paid in and not yet withdrawn.
    function invariant_creditsNeverExceedPaidIn() public view {
        uint256 paidIn = handler.ghostPaidIn();
        uint256 withdrawn = handler.ghostWithdrawn();
        assertEq(address(marketplace).balance, paidIn - withdrawn, "balance != paid in - withdrawn");
        assertLe(_sumCredits() + withdrawn, paidIn, "credits + withdrawn > paid in");

        address[] memory actors = handler.actors();
        for (uint256 i = 0; i < actors.length; ++i) {
            assertLe(marketplace.creditOf(actors[i]), paidIn - withdrawn, "credit above what was paid in");
        }
    }

    /// @dev Row and challenge counters agree with the submissions and challenges behind them.
    function invariant_countersAreConsistent() public view {
        uint256[] memory modelIds = handler.modelIds();
        for (uint256 i = 0; i < modelIds.length; ++i) {
            IModelMarketplace.ModelInfo memory model = marketplace.getModel(modelIds[i]);
            IModelMarketplace.Submission[] memory submissions =
                marketplace.getSubmissions(model.id, 0, type(uint256).max);
            uint256 rowsSubmitted = 0;
            for (uint256 j = 0; j < submissions.length; ++j) {
                rowsSubmitted += submissions[j].rowCount;
                assertLe(submissions[j].rowsRejected, submissions[j].rowCount, "rows rejected > row count");
            }
            assertEq(model.rowsSubmitted, rowsSubmitted, "rows submitted");
            assertLe(model.rowsAccepted + model.rowsRejected, model.rowsSubmitted, "accepted + rejected > submitted");
        }

        uint256[] memory challengeIds = handler.challengeIds();
        uint256 pending = 0;
        for (uint256 i = 0; i < challengeIds.length; ++i) {
            if (marketplace.getChallenge(challengeIds[i]).status == IModelMarketplace.ChallengeStatus.Pending) {
                ++pending;
            }
        }
        uint256 open = 0;
        uint256[] memory submissionIds = handler.submissionIds();
        for (uint256 i = 0; i < submissionIds.length; ++i) {
            open += marketplace.getSubmission(submissionIds[i]).openChallenges;
        }
        assertEq(open, pending, "open challenges != pending challenges");
    }

    function _sumCredits() private view returns (uint256 total) {
        address[] memory actors = handler.actors();
        for (uint256 i = 0; i < actors.length; ++i) {
            total += marketplace.creditOf(actors[i]);
        }
    }
}
