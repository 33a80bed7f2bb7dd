// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ChallengeGame} from "./ChallengeGame.sol";
import {IModelMarketplace} from "./IModelMarketplace.sol";
import {MarketplaceStorage} from "./MarketplaceStorage.sol";
import {RowChecker} from "./RowChecker.sol";
import {Cids} from "./libraries/Cids.sol";
import {OnChainRows} from "./libraries/OnChainRows.sol";

/**
 * @title ModelMarketplace
 * @notice Implementation of {IModelMarketplace}.
 *
 * Accounting: the balance of the contract always equals the sum of
 * - the deposits and reserved rewards of the rows not rejected of submissions neither claimed nor forfeited,
 * - the bonds and fees of pending challenges,
 * - the unallocated reward pools of all models,
 * - the credits not yet withdrawn,
 * - the burned wei ({burned}), which nobody can ever withdraw.
 * Every state transition moves value between these buckets; only {withdraw} sends ether out.
 */
contract ModelMarketplace is IModelMarketplace, MarketplaceStorage {
    using SafeCast for uint256;

    constructor() {
        _rowChecker = new RowChecker();
        _challengeGame = address(new ChallengeGame());
    }

    // ================================================================================================== owner

    /**
     * @inheritdoc IModelMarketplace
     * @dev Emits {ModelPublished}, {ModelDataCommitted}, {VersionPublished} and, with weights, {LinearModelPublished}.
     * The name, the metadata CID and the versions are in these events only: nothing on chain reads them.
     */
    function publishModel(
        ModelInput calldata input,
        Terms calldata terms,
        RowSchema calldata schema,
        LinearModelInput calldata linear
    ) external payable returns (uint256 modelId) {
        _checkModelInput(input);
        _checkTerms(terms);
        _rowChecker.check(schema);

        modelId = ++_modelCount;
        ModelRecord storage model = _models[modelId];
        model.owner = msg.sender;
        model.createdAt = uint40(block.timestamp);
        model.rewardPool = msg.value.toUint96();
        model.depositPerRow = uint96(terms.depositPerRow); // each amount fits in 96 bits ({_checkTerms})
        model.rewardPerRow = uint96(terms.rewardPerRow);
        model.challengeWindow = uint32(terms.challengeWindow); // each period is at most 30 days ({_checkTerms})
        model.ownerTimeout = uint32(terms.ownerTimeout);
        model.challengeBond = uint96(terms.challengeBond);
        model.testSetCommitment = input.testSetCommitment;
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
        _commitData(model, modelId, input, schema);
        if (linear.weights.length != 0) _publishLinear(model, modelId, linear, schema.columns.length - 1);
        _pushVersion(model, modelId, input.modelCid, input.accuracyBps, input.evaluationCid);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev The parent of the new version is the previous one; it records the rows accepted so far.
     */
    function publishVersion(uint256 modelId, bytes calldata modelCid, uint32 accuracyBps, bytes calldata evaluationCid)
        external
        returns (uint32 version)
    {
        ModelRecord storage model = _ownedModel(modelId);
        _checkVersionInput(modelCid, accuracyBps, evaluationCid);
        version = _pushVersion(model, modelId, modelCid, accuracyBps, evaluationCid);
    }

    /// @inheritdoc IModelMarketplace
    function fundRewardPool(uint256 modelId) external payable {
        ModelRecord storage model = _existingModel(modelId);
        if (msg.value == 0) revert MarketplaceInvalidInput("no value sent");

        uint256 rewardPool = model.rewardPool + msg.value;
        model.rewardPool = rewardPool.toUint96();
        emit RewardPoolFunded(modelId, msg.sender, msg.value, rewardPool);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev Only the unallocated part of the pool can be withdrawn; rewards reserved for pending rows cannot.
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
        model.rewardPool = uint96(rewardPool); // at most the pool, a uint96

        _credits[msg.sender] += amount;
        emit RewardPoolWithdrawn(modelId, amount, rewardPool);
    }

    /// @inheritdoc IModelMarketplace
    function revealTestSet(uint256 modelId, bytes32 salt, bytes calldata testSetCid) external {
        ModelRecord storage model = _ownedModel(modelId);
        if (model.testSetRevealed) revert MarketplaceTestSetAlreadyRevealed(modelId);
        if (testSetCommitment(salt, testSetCid) != model.testSetCommitment) revert MarketplaceTestSetMismatch(modelId);

        model.testSetRevealed = true;
        model.testSetCid = testSetCid;
        model.submissionsAtReveal = _submissionCount.toUint64();
        emit TestSetRevealed(modelId, salt, testSetCid);
    }

    // ================================================================================================== contributors

    /**
     * @inheritdoc IModelMarketplace
     * @dev The CID is in {SubmissionAdded} only: nothing on chain reads it. Gas does not depend on `rowCount`. An
     * account cannot submit the same root twice to a model. Another account's root is no block: its leaves are keyed
     * by its contributor, so under the caller's key not one row of it can be proven (any demand forfeits the batch),
     * whereas refusing it let anyone who saw a pending contribution block it for one row's deposit. A copy of the rows
     * themselves by another account has another root and is caught row by row with {challengeDuplicate}.
     */
    function contribute(uint256 modelId, bytes calldata dataCid, bytes32 merkleRoot, uint32 rowCount)
        external
        payable
        returns (uint256 submissionId)
    {
        ModelRecord storage model = _existingModel(modelId);
        if (rowCount == 0) revert MarketplaceInvalidInput("row count is zero");
        if (!Cids.isValid(dataCid)) revert MarketplaceInvalidCid("data CID");
        if (merkleRoot == bytes32(0)) revert MarketplaceInvalidInput("Merkle root is zero");
        mapping(bytes32 => bool) storage submitted = _rootSubmitted[modelId][msg.sender];
        if (submitted[merkleRoot]) revert MarketplaceRootAlreadySubmitted(modelId, merkleRoot);

        submitted[merkleRoot] = true;
        uint256 deposit;
        uint64 windowEndsAt;
        (submissionId, deposit, windowEndsAt) = _addSubmission(model, modelId, rowCount, false);
        SubmissionRecord storage record = _submissions[submissionId];
        record.merkleRoot = merkleRoot;
        record.rowCount = rowCount;
        emit SubmissionAdded(modelId, submissionId, msg.sender, dataCid, merkleRoot, rowCount, deposit, windowEndsAt);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev A one-row submission without a Merkle root: `keccak256(row)` is kept (against repeats), and binds the row
     * to the submission wherever it is given again. The row trains the perceptron only when it is claimed
     * ({claimRow}), so a row that is rejected never teaches it anything. Gas follows the row's non-zero features.
     */
    function contributeRow(uint256 modelId, bytes calldata row) external payable returns (uint256 submissionId) {
        ModelRecord storage model = _existingModel(modelId);
        if (!model.hasLinearModel) revert MarketplaceNoLinearModel(modelId);
        OnChainRows.check(row, model.linear.featureCount, model.linear.maxAbsFeature);
        bytes32 rowHash = keccak256(row);
        uint256 existing = _onChainRowIds[modelId][rowHash];
        if (existing != 0) revert MarketplaceDuplicateRow(modelId, existing);

        uint256 deposit;
        uint64 windowEndsAt;
        (submissionId, deposit, windowEndsAt) = _addSubmission(model, modelId, 1, true);
        _onChainRowIds[modelId][rowHash] = submissionId;
        emit SubmissionAdded(modelId, submissionId, msg.sender, "", bytes32(0), 1, deposit, windowEndsAt);
        emit RowAdded(modelId, submissionId, row);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev The contributor is credited the deposit and reward of every row not rejected.
     */
    function claim(uint256 submissionId) external {
        (SubmissionRecord storage submission, uint32 rowsAccepted, bool onChainRow) = _claimable(submissionId);
        if (onChainRow && rowsAccepted != 0) revert MarketplaceRowRequired(submissionId);
        _settle(submission, submissionId, rowsAccepted);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev The weights are checked against their hash before anything changes; the new weights' hash is stored and
     * {LinearModelUpdated} emitted when the row was learned.
     */
    function claimRow(uint256 submissionId, bytes calldata row, bytes calldata weights) external {
        (SubmissionRecord storage submission, uint32 rowsAccepted, bool onChainRow) = _claimable(submissionId);
        if (!onChainRow) revert MarketplaceNotOnChainRow(submissionId);
        uint256 modelId = submission.modelId;
        if (!_isOnChainRow(modelId, submissionId, row)) revert MarketplaceInvalidProof(submissionId, 0);
        if (rowsAccepted == 0) {
            _settle(submission, submissionId, rowsAccepted);
            return;
        }
        LinearModel storage linear = _models[modelId].linear;
        bytes memory current = weights;
        if (keccak256(current) != linear.weightsHash) revert MarketplaceWeightsMismatch(modelId);

        _settle(submission, submissionId, rowsAccepted);
        (bool learned, int64 intercept) = OnChainRows.learn(row, current, linear.intercept);
        if (!learned) return;
        bytes32 weightsHash = keccak256(current);
        uint64 updates = linear.updates + 1;
        linear.weightsHash = weightsHash;
        linear.intercept = intercept;
        linear.updates = updates;
        emit LinearModelUpdated(modelId, submissionId, updates, weightsHash, intercept);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev Protected against re-entrancy; the credit is cleared before the ether is sent.
     */
    function withdraw() external nonReentrant {
        uint256 amount = _credits[msg.sender];
        if (amount == 0) revert MarketplaceNothingToWithdraw(msg.sender);

        _credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool success,) = msg.sender.call{value: amount}("");
        if (!success) revert MarketplaceWithdrawFailed(msg.sender, amount);
    }

    // ================================================================================================== challengers
    // Implemented by the {ChallengeGame} module, run by `delegatecall` on this contract's storage.

    /// @inheritdoc IModelMarketplace
    function commitChallenge(bytes32) external {
        _delegateToChallengeGame();
    }

    /// @inheritdoc IModelMarketplace
    function challengeLabel(uint256, uint32, bytes calldata, bytes32[] calldata, bytes32)
        external
        payable
        returns (uint256)
    {
        _delegateToChallengeGame();
    }

    /// @inheritdoc IModelMarketplace
    function challengeFormat(uint256, uint32, bytes calldata, bytes32[] calldata, RowSchema calldata, bytes32)
        external
        returns (uint256)
    {
        _delegateToChallengeGame();
    }

    /// @inheritdoc IModelMarketplace
    function challengeDuplicate(uint256, uint32, bytes calldata, bytes32[] calldata, Source calldata, bytes32)
        external
        returns (uint256)
    {
        _delegateToChallengeGame();
    }

    /// @inheritdoc IModelMarketplace
    function challengeAvailability(uint256, uint32, bytes32) external payable returns (uint256) {
        _delegateToChallengeGame();
    }

    /// @inheritdoc IModelMarketplace
    function challengeFile(uint256, bytes32) external payable returns (uint256) {
        _delegateToChallengeGame();
    }

    /// @inheritdoc IModelMarketplace
    function answerChallenge(uint256, bytes calldata, bytes32[] calldata) external {
        _delegateToChallengeGame();
    }

    /// @inheritdoc IModelMarketplace
    function expireChallenge(uint256) external {
        _delegateToChallengeGame();
    }

    /// @inheritdoc IModelMarketplace
    function resolveChallenge(uint256, bool) external {
        _delegateToChallengeGame();
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
    function submissionCount() external view returns (uint256) {
        return _submissionCount;
    }

    /// @inheritdoc IModelMarketplace
    function getSubmission(uint256 submissionId) external view returns (Submission memory) {
        _existingSubmission(submissionId);
        return _submissionInfo(submissionId);
    }

    /// @inheritdoc IModelMarketplace
    function getSubmissions(uint256[] calldata submissionIds) external view returns (Submission[] memory submissions) {
        submissions = new Submission[](submissionIds.length);
        for (uint256 i = 0; i < submissionIds.length; ++i) {
            _existingSubmission(submissionIds[i]);
            submissions[i] = _submissionInfo(submissionIds[i]);
        }
    }

    /// @inheritdoc IModelMarketplace
    function challengeCount() external view returns (uint256) {
        return _challengeCount;
    }

    /// @inheritdoc IModelMarketplace
    function getChallenge(uint256 challengeId) external view returns (Challenge memory) {
        ChallengeRecord storage record = _existingChallenge(challengeId);
        return Challenge({
            id: challengeId,
            submissionId: record.submissionId,
            challenger: record.challenger,
            rowIndex: record.rowIndex,
            kind: record.kind,
            status: record.status,
            bond: record.bond,
            fee: record.fee,
            resolveBy: record.resolveBy
        });
    }

    /// @inheritdoc IModelMarketplace
    function challengeOf(uint256 submissionId, uint32 rowIndex) external view returns (uint256 challengeId) {
        _existingSubmission(submissionId);
        return _rowStates[submissionId][rowIndex].challengeId;
    }

    /// @inheritdoc IModelMarketplace
    function isRowRejected(uint256 submissionId, uint32 rowIndex) external view returns (bool) {
        SubmissionRecord storage submission = _existingSubmission(submissionId);
        return submission.forfeited || _rowStates[submissionId][rowIndex].rejected;
    }

    /// @inheritdoc IModelMarketplace
    function linearModel(uint256 modelId) external view returns (LinearModelInfo memory) {
        LinearModel storage linear = _linearModelOf(modelId);
        return LinearModelInfo({
            weightsHash: linear.weightsHash,
            intercept: linear.intercept,
            maxAbsFeature: linear.maxAbsFeature,
            updates: linear.updates,
            featureCount: linear.featureCount
        });
    }

    /// @inheritdoc IModelMarketplace
    function predict(uint256 modelId, bytes calldata weights, bytes calldata row) external view returns (int64 label) {
        LinearModel storage linear = _linearModelOf(modelId);
        bytes memory current = weights;
        if (keccak256(current) != linear.weightsHash) revert MarketplaceWeightsMismatch(modelId);
        OnChainRows.check(row, linear.featureCount, linear.maxAbsFeature);
        return OnChainRows.predict(row, current, linear.intercept);
    }

    /// @inheritdoc IModelMarketplace
    function creditOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @inheritdoc IModelMarketplace
    function burned() external view returns (uint256) {
        return _burned;
    }

    /// @inheritdoc IModelMarketplace
    function rowChecker() external view returns (address) {
        return address(_rowChecker);
    }

    /// @inheritdoc IModelMarketplace
    function commitmentBlock(bytes32 commitment) external view returns (uint256) {
        return _commitBlocks[commitment];
    }

    /// @inheritdoc IModelMarketplace
    function challengeCommitment(address challenger, uint256 submissionId, uint32 rowIndex, bytes32 salt)
        public
        pure
        returns (bytes32)
    {
        return _challengeCommitment(challenger, submissionId, rowIndex, salt);
    }

    /// @inheritdoc IModelMarketplace
    function testSetCommitment(bytes32 salt, bytes calldata testSetCid) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(salt, testSetCid));
    }

    // ================================================================================================== internal

    /// @dev Runs the current call in {ChallengeGame} by `delegatecall` and returns or reverts with its result.
    function _delegateToChallengeGame() private {
        address game = _challengeGame;
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let success := delegatecall(gas(), game, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(success) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    /// @dev Stores the hashes and roots of a model's data commitments and emits {ModelDataCommitted}.
    function _commitData(ModelRecord storage model, uint256 modelId, ModelInput calldata input, RowSchema calldata schema)
        private
    {
        bytes32 hash = keccak256(abi.encode(schema));
        model.schemaHash = hash;
        model.trainingRoot = input.trainingRoot;
        model.trainingRowCount = input.trainingRowCount;
        model.testRoot = input.testRoot;
        model.testRowCount = input.testRowCount;
        emit ModelDataCommitted(
            modelId, hash, schema, input.trainingRoot, input.trainingRowCount, input.testRoot, input.testRowCount
        );
    }

    /// @dev Stores the hash of the perceptron's weights given at publish, and emits {LinearModelPublished}.
    function _publishLinear(
        ModelRecord storage model,
        uint256 modelId,
        LinearModelInput calldata linear,
        uint256 featureCount
    ) private {
        uint256 length = linear.weights.length;
        if (length != featureCount * OnChainRows.WEIGHT_BYTES) {
            revert MarketplaceFeatureCountMismatch(featureCount, length / OnChainRows.WEIGHT_BYTES);
        }
        uint64 bound = linear.maxAbsFeature;
        if (bound == 0 || bound > MAX_FEATURE_BOUND) revert MarketplaceInvalidInput("feature bound out of range");
        model.hasLinearModel = true;
        model.linear = LinearModel({
            weightsHash: keccak256(linear.weights),
            intercept: linear.intercept,
            maxAbsFeature: bound,
            updates: 0,
            featureCount: featureCount.toUint32()
        });
        emit LinearModelPublished(modelId, linear.weights, linear.intercept, bound);
    }

    /// @dev Counts a version (already validated) of `model` and emits {VersionPublished}, the version's only record.
    function _pushVersion(
        ModelRecord storage model,
        uint256 modelId,
        bytes calldata modelCid,
        uint32 accuracyBps,
        bytes calldata evaluationCid
    ) private returns (uint32 version) {
        version = model.versionCount + 1;
        model.versionCount = version;
        _emitVersion(modelId, version, modelCid, accuracyBps, evaluationCid, model.rowsAccepted);
    }

    /// @dev Emits {VersionPublished} (apart from {_pushVersion}, whose stack is full).
    function _emitVersion(
        uint256 modelId,
        uint32 version,
        bytes calldata modelCid,
        uint32 accuracyBps,
        bytes calldata evaluationCid,
        uint64 rowsAccepted
    ) private {
        emit VersionPublished(modelId, version, modelCid, accuracyBps, evaluationCid, version - 1, rowsAccepted, _now());
    }

    /// @dev Takes the deposit, reserves the reward and records a submission (a batch's caller adds its root and row
    /// count). Constant gas in `rowCount`.
    function _addSubmission(ModelRecord storage model, uint256 modelId, uint32 rowCount, bool onChainRow)
        private
        returns (uint256 submissionId, uint256 deposit, uint64 windowEndsAt)
    {
        deposit = uint256(rowCount) * model.depositPerRow;
        if (msg.value != deposit) revert MarketplaceIncorrectPayment(deposit, msg.value);
        uint256 reward = uint256(rowCount) * model.rewardPerRow;
        uint256 available = model.rewardPool;
        if (reward > available) revert MarketplaceInsufficientRewardPool(modelId, reward, available);
        uint256 maxReward = available / MAX_BATCH_SHARE;
        if (reward > maxReward) revert MarketplaceBatchTooLarge(modelId, reward, maxReward);

        // unchecked: reward <= available was checked above, so the new pool fits in the pool's 96 bits
        unchecked {
            model.rewardPool = uint96(available - reward);
        }
        model.rowsSubmitted += rowCount;
        model.submissionCount += 1;
        submissionId = ++_submissionCount;
        windowEndsAt = _now() + model.challengeWindow;
        SubmissionRecord storage record = _submissions[submissionId];
        record.contributor = msg.sender;
        record.modelId = modelId.toUint40();
        record.windowEndsAt = uint40(windowEndsAt); // a time 30 days ahead at most fits in 40 bits until year 36812
        record.onChainRow = onChainRow;
    }

    /// @dev Reverts unless `submissionId` can be claimed now; returns it, its rows not rejected and whether it is an
    /// on-chain row.
    function _claimable(uint256 submissionId)
        private
        view
        returns (SubmissionRecord storage submission, uint32 rowsAccepted, bool onChainRow)
    {
        submission = _existingSubmission(submissionId);
        if (submission.claimed) revert MarketplaceAlreadyClaimed(submissionId);
        if (submission.forfeited) revert MarketplaceSubmissionForfeited(submissionId);
        uint64 windowEndsAt = submission.windowEndsAt;
        if (block.timestamp < windowEndsAt) revert MarketplaceChallengeWindowOpen(submissionId, windowEndsAt);
        uint32 openChallenges = submission.openChallenges;
        if (openChallenges != 0) revert MarketplaceOpenChallenges(submissionId, openChallenges);
        onChainRow = submission.onChainRow;
        // unchecked: rowsRejected counts distinct rejected rows, so it never exceeds the row count
        unchecked {
            rowsAccepted = (onChainRow ? 1 : submission.rowCount) - submission.rowsRejected;
        }
    }

    /// @dev Credits the contributor of a claimable submission with the deposit and reward of its accepted rows.
    function _settle(SubmissionRecord storage submission, uint256 submissionId, uint32 rowsAccepted) private {
        uint256 modelId = submission.modelId;
        ModelRecord storage model = _models[modelId];
        uint256 amount = uint256(rowsAccepted) * (uint256(model.depositPerRow) + model.rewardPerRow);
        address contributor = submission.contributor;
        submission.claimed = true;
        model.rowsAccepted += rowsAccepted;
        _credits[contributor] += amount;
        emit SubmissionClaimed(modelId, submissionId, contributor, rowsAccepted, amount);
    }

    function _checkModelInput(ModelInput calldata input) private pure {
        uint256 nameLength = bytes(input.name).length;
        if (nameLength == 0) revert MarketplaceInvalidInput("name is empty");
        if (nameLength > MAX_NAME_BYTES) revert MarketplaceInvalidInput("name is longer than 128 bytes");
        _checkVersionInput(input.modelCid, input.accuracyBps, input.evaluationCid);
        if (!Cids.isValid(input.metadataCid)) revert MarketplaceInvalidCid("metadata CID");
        if (input.testSetCommitment == bytes32(0)) revert MarketplaceInvalidInput("test-set commitment is zero");
        if (input.testRoot == bytes32(0) || input.testRowCount == 0) {
            revert MarketplaceInvalidInput("the test set is empty");
        }
        if ((input.trainingRoot == bytes32(0)) != (input.trainingRowCount == 0)) {
            revert MarketplaceInvalidInput("training root and row count disagree");
        }
    }

    function _checkTerms(Terms calldata terms) private pure {
        if (terms.depositPerRow == 0) revert MarketplaceInvalidTerms("deposit per row is zero");
        if (terms.rewardPerRow >= terms.depositPerRow) {
            revert MarketplaceInvalidTerms("the reward per row must be less than the deposit per row");
        }
        if (terms.challengeBond == 0) revert MarketplaceInvalidTerms("challenge bond is zero");
        if (terms.depositPerRow > type(uint96).max || terms.challengeBond > type(uint96).max) {
            revert MarketplaceInvalidTerms("amounts must fit in 96 bits");
        }
        if (terms.challengeWindow < MIN_PERIOD || terms.challengeWindow > MAX_PERIOD) {
            revert MarketplaceInvalidTerms("challenge window must be between 1 minute and 30 days");
        }
        if (terms.ownerTimeout < MIN_PERIOD || terms.ownerTimeout > MAX_PERIOD) {
            revert MarketplaceInvalidTerms("owner time-out must be between 1 minute and 30 days");
        }
    }

    function _checkVersionInput(bytes calldata modelCid, uint32 accuracyBps, bytes calldata evaluationCid)
        private
        pure
    {
        if (!Cids.isValid(modelCid)) revert MarketplaceInvalidCid("model CID");
        if (evaluationCid.length != 0 && !Cids.isValid(evaluationCid)) revert MarketplaceInvalidCid("evaluation CID");
        if (accuracyBps > MAX_BPS) revert MarketplaceInvalidInput("accuracy above 10000 bps");
    }

    function _linearModelOf(uint256 modelId) private view returns (LinearModel storage) {
        ModelRecord storage model = _existingModel(modelId);
        if (!model.hasLinearModel) revert MarketplaceNoLinearModel(modelId);
        return model.linear;
    }

    function _modelInfo(uint256 modelId) private view returns (ModelInfo memory info) {
        ModelRecord storage model = _models[modelId];
        info.id = modelId;
        info.owner = model.owner;
        info.testSetCommitment = model.testSetCommitment;
        info.testSetCid = model.testSetCid;
        info.schemaHash = model.schemaHash;
        info.trainingRoot = model.trainingRoot;
        info.testRoot = model.testRoot;
        info.trainingRowCount = model.trainingRowCount;
        info.testRowCount = model.testRowCount;
        info.terms = Terms({
            depositPerRow: model.depositPerRow,
            rewardPerRow: model.rewardPerRow,
            challengeBond: model.challengeBond,
            challengeWindow: model.challengeWindow,
            ownerTimeout: model.ownerTimeout
        });
        info.rewardPool = model.rewardPool;
        info.createdAt = model.createdAt;
        info.versionCount = model.versionCount;
        info.submissionCount = model.submissionCount;
        info.rowsSubmitted = model.rowsSubmitted;
        info.rowsRejected = model.rowsRejected;
        info.rowsAccepted = model.rowsAccepted;
        info.hasLinearModel = model.hasLinearModel;
    }

    function _submissionInfo(uint256 submissionId) private view returns (Submission memory info) {
        SubmissionRecord storage record = _submissions[submissionId];
        ModelRecord storage model = _models[record.modelId];
        info.id = submissionId;
        info.modelId = record.modelId;
        info.contributor = record.contributor;
        info.merkleRoot = record.merkleRoot;
        info.rowCount = _rowCount(record);
        info.rowsRejected = record.rowsRejected;
        info.openChallenges = record.openChallenges;
        info.createdAt = record.windowEndsAt - model.challengeWindow;
        info.windowEndsAt = record.windowEndsAt;
        info.depositPerRow = model.depositPerRow;
        info.rewardPerRow = model.rewardPerRow;
        info.onChainRow = record.onChainRow;
        info.claimed = record.claimed;
        info.forfeited = record.forfeited;
        info.fileJudged = record.fileJudged;
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

}
