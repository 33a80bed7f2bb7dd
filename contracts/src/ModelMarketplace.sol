// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IModelMarketplace} from "./IModelMarketplace.sol";

/**
 * @title ModelMarketplace
 * @notice Implementation of {IModelMarketplace}.
 *
 * Accounting: the balance of the contract always equals the sum of
 * - the deposits and reserved rewards of the rows of unclaimed submissions that were not rejected,
 * - the bonds of pending challenges,
 * - the unallocated reward pools of all models,
 * - the credits not yet withdrawn.
 * Every state transition moves value between these buckets; only {withdraw} sends ether out.
 */
contract ModelMarketplace is IModelMarketplace, ReentrancyGuard {
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @dev Fixed-point scale of linear models: a score is `sum(w_i * x_i) + intercept * SCALE`.
    int256 private constant SCALE = 1e6;

    /// @dev Upper bound of an accuracy in basis points.
    uint32 private constant MAX_BPS = 10_000;

    /// @dev A perceptron attached to a model.
    struct LinearModel {
        int64[] weights;
        int64 intercept;
        uint64 updates;
    }

    /// @dev Storage record of a model; {getModel} turns it into a {ModelInfo}.
    struct ModelRecord {
        address owner;
        uint64 createdAt;
        bool hasLinearModel;
        bool testSetRevealed;
        uint64 rowsSubmitted;
        uint64 rowsRejected;
        uint64 rowsAccepted;
        uint256 rewardPool;
        bytes32 testSetCommitment;
        Terms terms;
        string name;
        string metadataCid;
        string testSetCid;
        Version[] versions; // version `v` is at index `v - 1`
        uint256[] submissionIds;
        LinearModel linear;
    }

    /// @dev A row stored on chain by {contributeRow}.
    struct Row {
        int64[] features;
        int64 label;
    }

    uint256 private _modelCount;
    uint256 private _submissionCount;
    uint256 private _challengeCount;

    mapping(uint256 modelId => ModelRecord) private _models;
    mapping(uint256 submissionId => Submission) private _submissions;
    mapping(uint256 challengeId => Challenge) private _challenges;
    mapping(uint256 submissionId => mapping(uint32 rowIndex => uint256 challengeId)) private _challengeIds;
    mapping(uint256 submissionId => Row) private _rows;
    mapping(address account => uint256) private _credits;

    // ================================================================================================== owner

    /**
     * @inheritdoc IModelMarketplace
     * @dev `msg.value` becomes the unallocated reward pool. Creates version 1 and emits {ModelPublished} then
     * {VersionPublished}.
     */
    function publishModel(ModelInput calldata input, Terms calldata terms) external payable returns (uint256 modelId) {
        if (bytes(input.name).length == 0) revert MarketplaceInvalidInput("name is empty");
        _checkVersionInput(input.modelCid, input.accuracyBps);
        if (terms.depositPerRow == 0) revert MarketplaceInvalidTerms("deposit per row is zero");
        if (terms.challengeWindow == 0) revert MarketplaceInvalidTerms("challenge window is zero");
        if (terms.ownerTimeout == 0) revert MarketplaceInvalidTerms("owner timeout is zero");

        modelId = ++_modelCount;
        ModelRecord storage model = _models[modelId];
        model.owner = msg.sender;
        model.createdAt = _now();
        model.rewardPool = msg.value;
        model.testSetCommitment = input.testSetCommitment;
        model.terms = terms;
        model.name = input.name;
        model.metadataCid = input.metadataCid;
        emit ModelPublished(
            modelId,
            msg.sender,
            input.name,
            input.modelCid,
            input.metadataCid,
            input.testSetCommitment,
            terms,
            msg.value
        );

        _pushVersion(model, modelId, input.modelCid, input.accuracyBps, input.evaluationCid);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev The parent of the new version is the previous one; it records the rows accepted so far.
     */
    function publishVersion(
        uint256 modelId,
        string calldata modelCid,
        uint32 accuracyBps,
        string calldata evaluationCid
    ) external returns (uint32 version) {
        ModelRecord storage model = _ownedModel(modelId);
        _checkVersionInput(modelCid, accuracyBps);
        version = _pushVersion(model, modelId, modelCid, accuracyBps, evaluationCid);
    }

    /// @inheritdoc IModelMarketplace
    function fundRewardPool(uint256 modelId) external payable {
        ModelRecord storage model = _existingModel(modelId);
        if (msg.value == 0) revert MarketplaceInvalidInput("no value sent");

        uint256 rewardPool = model.rewardPool + msg.value;
        model.rewardPool = rewardPool;
        emit RewardPoolFunded(modelId, msg.sender, msg.value, rewardPool);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev Only the unallocated part of the pool can be withdrawn; it is credited to the owner.
     */
    function withdrawRewardPool(uint256 modelId, uint256 amount) external {
        ModelRecord storage model = _ownedModel(modelId);
        uint256 available = model.rewardPool;
        if (amount > available) revert MarketplaceInsufficientRewardPool(modelId, amount, available);

        uint256 rewardPool;
        // unchecked: amount <= available was checked above
        unchecked {
            rewardPool = available - amount;
        }
        model.rewardPool = rewardPool;
        _credits[msg.sender] += amount;
        emit RewardPoolWithdrawn(modelId, amount, rewardPool);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev Weights and intercept are fixed point with scale 1e6; see {predict}. Can be attached only once.
     */
    function attachLinearModel(uint256 modelId, int64[] calldata weights, int64 intercept) external {
        ModelRecord storage model = _ownedModel(modelId);
        if (model.hasLinearModel) revert MarketplaceLinearModelExists(modelId);
        if (weights.length == 0) revert MarketplaceInvalidInput("weights are empty");

        model.hasLinearModel = true;
        model.linear.weights = weights;
        model.linear.intercept = intercept;
        emit LinearModelAttached(modelId, weights.length);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev Upheld: the challenger is credited the bond plus the deposit of the row, and the reward reserved for the
     * row returns to the reward pool. Rejected: the contributor is credited the bond.
     */
    function resolveChallenge(uint256 challengeId, bool upheld) external {
        Challenge storage challenged = _existingChallenge(challengeId);
        uint256 submissionId = challenged.submissionId;
        Submission storage submission = _submissions[submissionId];
        ModelRecord storage model = _ownedModel(submission.modelId);
        if (challenged.status != ChallengeStatus.Pending) revert MarketplaceChallengeNotPending(challengeId);
        uint64 resolveBy = challenged.resolveBy;
        if (block.timestamp > resolveBy) revert MarketplaceResolutionTimedOut(challengeId, resolveBy);

        address beneficiary;
        uint256 amount;
        if (upheld) {
            challenged.status = ChallengeStatus.Upheld;
            _rejectRow(model, submission);
            beneficiary = challenged.challenger;
            amount = uint256(challenged.bond) + submission.depositPerRow;
        } else {
            challenged.status = ChallengeStatus.Rejected;
            beneficiary = submission.contributor;
            amount = challenged.bond;
        }
        _closeChallenge(submission, beneficiary, amount);
        emit ChallengeResolved(challengeId, submissionId, upheld, beneficiary, amount);
    }

    /// @inheritdoc IModelMarketplace
    function revealTestSet(uint256 modelId, bytes32 salt, string calldata testSetCid) external {
        ModelRecord storage model = _ownedModel(modelId);
        if (model.testSetRevealed) revert MarketplaceTestSetAlreadyRevealed(modelId);
        if (testSetCommitment(salt, testSetCid) != model.testSetCommitment) revert MarketplaceTestSetMismatch(modelId);

        model.testSetRevealed = true;
        model.testSetCid = testSetCid;
        emit TestSetRevealed(modelId, salt, testSetCid);
    }

    // ================================================================================================== contributors

    /**
     * @inheritdoc IModelMarketplace
     * @dev `msg.value` must be exactly `rowCount * depositPerRow`; `rowCount * rewardPerRow` is reserved from the
     * reward pool. The gas used does not depend on `rowCount`.
     */
    function contribute(uint256 modelId, string calldata dataCid, bytes32 merkleRoot, uint32 rowCount)
        external
        payable
        returns (uint256 submissionId)
    {
        ModelRecord storage model = _existingModel(modelId);
        if (rowCount == 0) revert MarketplaceInvalidInput("row count is zero");
        if (bytes(dataCid).length == 0) revert MarketplaceInvalidInput("data CID is empty");
        if (merkleRoot == bytes32(0)) revert MarketplaceInvalidInput("Merkle root is zero");

        submissionId = _addSubmission(model, modelId, dataCid, merkleRoot, rowCount, false);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev A one-row submission whose root is `rowLeaf(0, abi.encode(features, label))`. If the model has a linear
     * model, the row must fit it (feature count, label 0 or 1) and the model is trained on it (perceptron rule).
     */
    function contributeRow(uint256 modelId, int64[] calldata features, int64 label)
        external
        payable
        returns (uint256 submissionId)
    {
        ModelRecord storage model = _existingModel(modelId);
        bool hasLinearModel = model.hasLinearModel;
        if (hasLinearModel) {
            _checkFeatureCount(model.linear, features.length);
            if (label != 0 && label != 1) revert MarketplaceInvalidLabel(label);
        }

        bytes32 leaf = _rowLeaf(0, abi.encode(features, label));
        submissionId = _addSubmission(model, modelId, "", leaf, 1, true);
        Row storage row = _rows[submissionId];
        row.features = features;
        row.label = label;
        emit RowAdded(modelId, submissionId, features, label);

        if (hasLinearModel) _train(model.linear, modelId, submissionId, features, label);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev Anyone may call it; the contributor is credited the deposit and reward of every row that was not
     * rejected. An on-chain row that the current linear model misclassifies cannot be claimed: it must be reported
     * with {reportMisclassified}. A row whose feature count differs from the model's cannot be classified and is
     * claimable.
     */
    function claim(uint256 submissionId) external {
        Submission storage submission = _existingSubmission(submissionId);
        uint256 modelId = submission.modelId;
        ModelRecord storage model = _models[modelId];
        _checkSettleable(submissionId, submission);
        if (_mustBeReported(model, submission)) revert MarketplaceRowMisclassified(submissionId);

        uint32 rowsAccepted;
        // unchecked: rowsRejected counts distinct challenged rows, so it never exceeds rowCount
        unchecked {
            rowsAccepted = submission.rowCount - submission.rowsRejected;
        }
        uint256 amount = uint256(rowsAccepted) * (uint256(submission.depositPerRow) + submission.rewardPerRow);
        address contributor = submission.contributor;
        submission.claimed = true;
        model.rowsAccepted += rowsAccepted;
        _credits[contributor] += amount;
        emit SubmissionClaimed(modelId, submissionId, contributor, rowsAccepted, amount);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev Sends the whole credit of the caller. Protected against re-entrancy; the credit is cleared first.
     */
    function withdraw() external nonReentrant {
        uint256 amount = _credits[msg.sender];
        if (amount == 0) revert MarketplaceNothingToWithdraw(msg.sender);

        _credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool success,) = msg.sender.call{value: amount}("");
        if (!success) revert MarketplaceWithdrawFailed(msg.sender, amount);
    }

    // ================================================================================================== verifiers

    /**
     * @inheritdoc IModelMarketplace
     * @dev `msg.value` must equal the challenge bond of the model. Each row can be challenged once, whatever the
     * outcome of its challenge. The owner has `ownerTimeout` seconds to resolve it.
     */
    function challenge(uint256 submissionId, uint32 rowIndex, bytes calldata row, bytes32[] calldata proof)
        external
        payable
        returns (uint256 challengeId)
    {
        Submission storage submission = _existingSubmission(submissionId);
        Terms storage terms = _checkChallengeable(submissionId, submission, rowIndex);
        if (!MerkleProof.verifyCalldata(proof, submission.merkleRoot, _rowLeaf(rowIndex, row))) {
            revert MarketplaceInvalidProof(submissionId, rowIndex);
        }

        challengeId = ++_challengeCount;
        uint64 resolveBy = _now() + terms.ownerTimeout;
        _challenges[challengeId] = Challenge({
            id: challengeId,
            submissionId: submissionId,
            challenger: msg.sender,
            rowIndex: rowIndex,
            status: ChallengeStatus.Pending,
            bond: terms.challengeBond,
            resolveBy: resolveBy
        });
        _challengeIds[submissionId][rowIndex] = challengeId;
        submission.openChallenges += 1;
        emit RowChallenged(submission.modelId, submissionId, challengeId, rowIndex, msg.sender, row, resolveBy);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev Anyone may expire a challenge the owner did not resolve in time: the bond returns to the challenger and
     * the row counts as good.
     */
    function expireChallenge(uint256 challengeId) external {
        Challenge storage challenged = _existingChallenge(challengeId);
        if (challenged.status != ChallengeStatus.Pending) revert MarketplaceChallengeNotPending(challengeId);
        uint64 resolveBy = challenged.resolveBy;
        if (block.timestamp <= resolveBy) revert MarketplaceResolutionPending(challengeId, resolveBy);

        uint256 submissionId = challenged.submissionId;
        uint256 bond = challenged.bond;
        challenged.status = ChallengeStatus.Expired;
        _closeChallenge(_submissions[submissionId], challenged.challenger, bond);
        emit ChallengeExpired(challengeId, submissionId, bond);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev Settles an on-chain row that the current linear model misclassifies once its window has passed: the
     * reporter is credited the deposit, the reserved reward returns to the pool and the row counts as rejected.
     */
    function reportMisclassified(uint256 submissionId) external {
        Submission storage submission = _existingSubmission(submissionId);
        uint256 modelId = submission.modelId;
        ModelRecord storage model = _models[modelId];
        if (!submission.onChainRow) revert MarketplaceNotOnChainRow(submissionId);
        if (!model.hasLinearModel) revert MarketplaceNoLinearModel(modelId);
        _checkSettleable(submissionId, submission);
        // a row rejected by an upheld challenge is already settled: only its claim (of nothing) remains
        if (submission.rowsRejected != 0) revert MarketplaceAlreadyClaimed(submissionId);
        if (!_misclassifies(model.linear, submissionId)) revert MarketplaceRowClassifiedCorrectly(submissionId);

        uint256 amount = submission.depositPerRow;
        submission.claimed = true;
        _rejectRow(model, submission);
        _credits[msg.sender] += amount;
        emit RowReported(modelId, submissionId, msg.sender, amount);
    }

    // ================================================================================================== views

    /// @inheritdoc IModelMarketplace
    function modelCount() external view returns (uint256) {
        return _modelCount;
    }

    /// @inheritdoc IModelMarketplace
    function getModel(uint256 modelId) external view returns (ModelInfo memory) {
        _existingModel(modelId);
        return _modelInfo(modelId);
    }

    /// @inheritdoc IModelMarketplace
    function getModels(uint256 offset, uint256 limit) external view returns (ModelInfo[] memory models) {
        models = new ModelInfo[](_pageLength(_modelCount, offset, limit));
        for (uint256 i = 0; i < models.length; ++i) {
            models[i] = _modelInfo(offset + i + 1);
        }
    }

    /// @inheritdoc IModelMarketplace
    function getVersion(uint256 modelId, uint32 version) external view returns (Version memory) {
        Version[] storage versions = _existingModel(modelId).versions;
        if (version == 0 || version > versions.length) revert MarketplaceUnknownVersion(modelId, version);
        return versions[version - 1];
    }

    /// @inheritdoc IModelMarketplace
    function getVersions(uint256 modelId) external view returns (Version[] memory) {
        return _existingModel(modelId).versions;
    }

    /// @inheritdoc IModelMarketplace
    function submissionCount() external view returns (uint256) {
        return _submissionCount;
    }

    /// @inheritdoc IModelMarketplace
    function getSubmission(uint256 submissionId) external view returns (Submission memory) {
        return _existingSubmission(submissionId);
    }

    /// @inheritdoc IModelMarketplace
    function getSubmissions(uint256 modelId, uint256 offset, uint256 limit)
        external
        view
        returns (Submission[] memory submissions)
    {
        uint256[] storage ids = _existingModel(modelId).submissionIds;
        submissions = new Submission[](_pageLength(ids.length, offset, limit));
        for (uint256 i = 0; i < submissions.length; ++i) {
            submissions[i] = _submissions[ids[offset + i]];
        }
    }

    /// @inheritdoc IModelMarketplace
    function challengeCount() external view returns (uint256) {
        return _challengeCount;
    }

    /// @inheritdoc IModelMarketplace
    function getChallenge(uint256 challengeId) external view returns (Challenge memory) {
        return _existingChallenge(challengeId);
    }

    /// @inheritdoc IModelMarketplace
    function challengeOf(uint256 submissionId, uint32 rowIndex) external view returns (uint256 challengeId) {
        _existingSubmission(submissionId);
        return _challengeIds[submissionId][rowIndex];
    }

    /// @inheritdoc IModelMarketplace
    function getRow(uint256 submissionId) external view returns (int64[] memory features, int64 label) {
        if (!_existingSubmission(submissionId).onChainRow) revert MarketplaceNotOnChainRow(submissionId);
        Row storage row = _rows[submissionId];
        return (row.features, row.label);
    }

    /// @inheritdoc IModelMarketplace
    function linearModel(uint256 modelId)
        external
        view
        returns (int64[] memory weights, int64 intercept, uint64 updates)
    {
        LinearModel storage linear = _linearModelOf(modelId);
        return (linear.weights, linear.intercept, linear.updates);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev Returns 1 if `sum(w_i * x_i) + intercept * 1e6 >= 0` (computed in int256), 0 otherwise.
     */
    function predict(uint256 modelId, int64[] calldata features) external view returns (int64 label) {
        return _predict(_linearModelOf(modelId), features);
    }

    /// @inheritdoc IModelMarketplace
    function creditOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @inheritdoc IModelMarketplace
    function rowLeaf(uint256 index, bytes calldata row) external pure returns (bytes32) {
        return _rowLeaf(index, row);
    }

    /// @inheritdoc IModelMarketplace
    function testSetCommitment(bytes32 salt, string calldata testSetCid) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(salt, testSetCid));
    }

    // ================================================================================================== internal

    /// @dev Appends a version (already validated) to `model` and emits {VersionPublished}.
    function _pushVersion(
        ModelRecord storage model,
        uint256 modelId,
        string calldata modelCid,
        uint32 accuracyBps,
        string calldata evaluationCid
    ) private returns (uint32 version) {
        uint32 parent = model.versions.length.toUint32();
        version = parent + 1;
        model.versions
            .push(
                Version({
                    modelCid: modelCid,
                    evaluationCid: evaluationCid,
                    accuracyBps: accuracyBps,
                    parent: parent,
                    publishedAt: _now(),
                    rowsAccepted: model.rowsAccepted
                })
            );
        emit VersionPublished(modelId, version, modelCid, accuracyBps, evaluationCid, parent);
    }

    /// @dev Takes the deposit, reserves the reward and records a submission. Constant gas in `rowCount`.
    function _addSubmission(
        ModelRecord storage model,
        uint256 modelId,
        string memory dataCid,
        bytes32 merkleRoot,
        uint32 rowCount,
        bool onChainRow
    ) private returns (uint256 submissionId) {
        Terms memory terms = model.terms;
        uint256 deposit = uint256(rowCount) * terms.depositPerRow;
        if (msg.value != deposit) revert MarketplaceIncorrectPayment(deposit, msg.value);
        uint256 reward = uint256(rowCount) * terms.rewardPerRow;
        uint256 available = model.rewardPool;
        if (reward > available) revert MarketplaceInsufficientRewardPool(modelId, reward, available);

        // unchecked: reward <= available was checked above
        unchecked {
            model.rewardPool = available - reward;
        }
        submissionId = ++_submissionCount;
        uint64 createdAt = _now();
        uint64 windowEndsAt = createdAt + terms.challengeWindow;
        Submission storage submission = _submissions[submissionId];
        submission.id = submissionId;
        submission.modelId = modelId;
        submission.contributor = msg.sender;
        submission.dataCid = dataCid;
        submission.merkleRoot = merkleRoot;
        submission.rowCount = rowCount;
        submission.createdAt = createdAt;
        submission.windowEndsAt = windowEndsAt;
        submission.depositPerRow = terms.depositPerRow;
        submission.rewardPerRow = terms.rewardPerRow;
        submission.onChainRow = onChainRow;
        model.submissionIds.push(submissionId);
        model.rowsSubmitted += rowCount;
        emit SubmissionAdded(modelId, submissionId, msg.sender, dataCid, merkleRoot, rowCount, deposit, windowEndsAt);
    }

    /// @dev Marks one row of `submission` as rejected and returns its reserved reward to the pool.
    function _rejectRow(ModelRecord storage model, Submission storage submission) private {
        submission.rowsRejected += 1;
        model.rowsRejected += 1;
        model.rewardPool += submission.rewardPerRow;
    }

    /// @dev Closes a pending challenge of `submission`, crediting `amount` to `beneficiary`.
    function _closeChallenge(Submission storage submission, address beneficiary, uint256 amount) private {
        submission.openChallenges -= 1;
        _credits[beneficiary] += amount;
    }

    /// @dev Trains the perceptron on a row it misclassifies; emits {LinearModelUpdated} when it changes.
    function _train(
        LinearModel storage linear,
        uint256 modelId,
        uint256 submissionId,
        int64[] calldata features,
        int64 label
    ) private {
        if (_predict(linear, features) == label) return;

        int256 step = label == 1 ? int256(1) : int256(-1);
        int64[] storage weights = linear.weights;
        for (uint256 i = 0; i < features.length; ++i) {
            weights[i] = (weights[i] + step * features[i]).toInt64();
        }
        linear.intercept = (linear.intercept + step * SCALE).toInt64();
        uint64 updates = linear.updates + 1;
        linear.updates = updates;
        emit LinearModelUpdated(modelId, submissionId, updates);
    }

    /// @dev Whether `submission` is an on-chain row, not rejected yet, that the linear model of `model` can classify
    /// (same feature count) and misclassifies.
    function _mustBeReported(ModelRecord storage model, Submission storage submission) private view returns (bool) {
        if (!submission.onChainRow || submission.rowsRejected != 0 || !model.hasLinearModel) return false;
        uint256 submissionId = submission.id;
        if (_rows[submissionId].features.length != model.linear.weights.length) return false;
        return _misclassifies(model.linear, submissionId);
    }

    /// @dev Whether the linear model misclassifies the on-chain row of `submissionId`.
    function _misclassifies(LinearModel storage linear, uint256 submissionId) private view returns (bool) {
        Row storage row = _rows[submissionId];
        return _predict(linear, row.features) != row.label;
    }

    /// @dev Label predicted by `linear` for `features`; reverts if the feature count differs.
    function _predict(LinearModel storage linear, int64[] memory features) private view returns (int64) {
        int64[] storage weights = linear.weights;
        _checkFeatureCount(linear, features.length);
        int256 score = linear.intercept * SCALE;
        for (uint256 i = 0; i < features.length; ++i) {
            score += int256(weights[i]) * features[i];
        }
        return score >= 0 ? int64(1) : int64(0);
    }

    /// @dev Checks a challenge of row `rowIndex` of `submission`, except its proof; returns the terms of the model.
    function _checkChallengeable(uint256 submissionId, Submission storage submission, uint32 rowIndex)
        private
        view
        returns (Terms storage terms)
    {
        uint256 modelId = submission.modelId;
        ModelRecord storage model = _models[modelId];
        if (msg.sender == model.owner) revert MarketplaceOwnerCannotChallenge(modelId);
        uint64 windowEndsAt = submission.windowEndsAt;
        if (block.timestamp >= windowEndsAt) revert MarketplaceChallengeWindowClosed(submissionId, windowEndsAt);
        uint32 rowCount = submission.rowCount;
        if (rowIndex >= rowCount) revert MarketplaceRowIndexOutOfRange(submissionId, rowIndex, rowCount);
        uint256 existing = _challengeIds[submissionId][rowIndex];
        if (existing != 0) revert MarketplaceRowAlreadyChallenged(submissionId, rowIndex, existing);
        terms = model.terms;
        if (msg.value != terms.challengeBond) revert MarketplaceIncorrectPayment(terms.challengeBond, msg.value);
    }

    /// @dev Reverts unless `submission` is unclaimed, its window has passed and none of its challenges is open.
    function _checkSettleable(uint256 submissionId, Submission storage submission) private view {
        if (submission.claimed) revert MarketplaceAlreadyClaimed(submissionId);
        uint64 windowEndsAt = submission.windowEndsAt;
        if (block.timestamp < windowEndsAt) revert MarketplaceChallengeWindowOpen(submissionId, windowEndsAt);
        uint32 openChallenges = submission.openChallenges;
        if (openChallenges != 0) revert MarketplaceOpenChallenges(submissionId, openChallenges);
    }

    function _checkFeatureCount(LinearModel storage linear, uint256 featureCount) private view {
        uint256 expected = linear.weights.length;
        if (featureCount != expected) revert MarketplaceFeatureCountMismatch(expected, featureCount);
    }

    function _checkVersionInput(string calldata modelCid, uint32 accuracyBps) private pure {
        if (bytes(modelCid).length == 0) revert MarketplaceInvalidInput("model CID is empty");
        if (accuracyBps > MAX_BPS) revert MarketplaceInvalidInput("accuracy above 10000 bps");
    }

    function _existingModel(uint256 modelId) private view returns (ModelRecord storage model) {
        model = _models[modelId];
        if (model.owner == address(0)) revert MarketplaceUnknownModel(modelId);
    }

    function _ownedModel(uint256 modelId) private view returns (ModelRecord storage model) {
        model = _existingModel(modelId);
        if (msg.sender != model.owner) revert MarketplaceNotModelOwner(modelId, msg.sender);
    }

    function _linearModelOf(uint256 modelId) private view returns (LinearModel storage) {
        ModelRecord storage model = _existingModel(modelId);
        if (!model.hasLinearModel) revert MarketplaceNoLinearModel(modelId);
        return model.linear;
    }

    function _existingSubmission(uint256 submissionId) private view returns (Submission storage submission) {
        submission = _submissions[submissionId];
        if (submission.id == 0) revert MarketplaceUnknownSubmission(submissionId);
    }

    function _existingChallenge(uint256 challengeId) private view returns (Challenge storage challenged) {
        challenged = _challenges[challengeId];
        if (challenged.id == 0) revert MarketplaceUnknownChallenge(challengeId);
    }

    function _modelInfo(uint256 modelId) private view returns (ModelInfo memory info) {
        ModelRecord storage model = _models[modelId];
        info.id = modelId;
        info.owner = model.owner;
        info.name = model.name;
        info.metadataCid = model.metadataCid;
        info.testSetCommitment = model.testSetCommitment;
        info.testSetCid = model.testSetCid;
        info.terms = model.terms;
        info.rewardPool = model.rewardPool;
        info.createdAt = model.createdAt;
        info.versionCount = model.versions.length.toUint32();
        info.submissionCount = model.submissionIds.length.toUint32();
        info.rowsSubmitted = model.rowsSubmitted;
        info.rowsRejected = model.rowsRejected;
        info.rowsAccepted = model.rowsAccepted;
        info.hasLinearModel = model.hasLinearModel;
    }

    /// @dev Number of items of a page of `limit` items from `offset` in a list of `total` items.
    function _pageLength(uint256 total, uint256 offset, uint256 limit) private pure returns (uint256) {
        if (offset >= total) return 0;
        // unchecked: offset < total was checked above
        unchecked {
            uint256 remaining = total - offset;
            return remaining < limit ? remaining : limit;
        }
    }

    function _rowLeaf(uint256 index, bytes memory row) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(index, keccak256(row)))));
    }

    function _now() private view returns (uint64) {
        return block.timestamp.toUint64();
    }
}
