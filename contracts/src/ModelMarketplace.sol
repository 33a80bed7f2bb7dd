// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ChallengeGame} from "./ChallengeGame.sol";
import {IModelMarketplace} from "./IModelMarketplace.sol";
import {MarketplaceStorage} from "./MarketplaceStorage.sol";
import {RowChecker} from "./RowChecker.sol";
import {Cids} from "./libraries/Cids.sol";
import {RowTree} from "./libraries/RowTree.sol";

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
        model.rewardPool = rewardPool;
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
        model.rewardPool = rewardPool;
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
        emit TestSetRevealed(modelId, salt, testSetCid);
    }

    // ================================================================================================== contributors

    /**
     * @inheritdoc IModelMarketplace
     * @dev Only the codec and digest of the CID are stored; the whole CID is in {SubmissionAdded}. Gas does not depend
     * on `rowCount`. The same root cannot be submitted twice to a model (the root is keyed by the contributor, so a
     * copy by another account has another root and is caught row by row with {challengeDuplicate}).
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
        if (_rootSubmitted[modelId][merkleRoot]) revert MarketplaceRootAlreadySubmitted(modelId, merkleRoot);

        _rootSubmitted[modelId][merkleRoot] = true;
        (uint8 codec, bytes32 digest) = Cids.split(dataCid);
        uint256 deposit;
        uint64 windowEndsAt;
        (submissionId, deposit, windowEndsAt) = _addSubmission(model, modelId, merkleRoot, rowCount, codec, digest);
        emit SubmissionAdded(modelId, submissionId, msg.sender, dataCid, merkleRoot, rowCount, deposit, windowEndsAt);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev A one-row submission whose root is `rowLeaf(keyOf(caller), 0, abi.encode(features, label))`. The
     * perceptron's prediction before the row is in {RowAdded}: a hint for verifiers, never a verdict. The row trains
     * the perceptron only when it is claimed, so a row that is rejected never teaches it anything.
     */
    function contributeRow(uint256 modelId, int64[] calldata features, int64 label)
        external
        payable
        returns (uint256 submissionId)
    {
        ModelRecord storage model = _existingModel(modelId);
        if (!model.hasLinearModel) revert MarketplaceNoLinearModel(modelId);
        LinearModel storage linear = model.linear;
        _checkFeatures(linear, features);
        if (label != 0 && label != 1) revert MarketplaceInvalidLabel(label);
        int64 predicted = _predict(linear, features);
        bytes32 leaf;
        (submissionId, leaf) = _addRow(model, modelId, features, label);
        emit RowAdded(modelId, submissionId, features, label, predicted);
    }

    /**
     * @inheritdoc IModelMarketplace
     * @dev The contributor is credited the deposit and reward of every row not rejected.
     */
    function claim(uint256 submissionId) external {
        SubmissionRecord storage submission = _existingSubmission(submissionId);
        uint256 modelId = submission.modelId;
        ModelRecord storage model = _models[modelId];
        if (submission.forfeited) revert MarketplaceSubmissionForfeited(submissionId);
        if (submission.claimed) revert MarketplaceAlreadyClaimed(submissionId);
        uint64 windowEndsAt = submission.windowEndsAt;
        if (block.timestamp < windowEndsAt) revert MarketplaceChallengeWindowOpen(submissionId, windowEndsAt);
        uint32 openChallenges = submission.openChallenges;
        if (openChallenges != 0) revert MarketplaceOpenChallenges(submissionId, openChallenges);

        uint32 rowsAccepted;
        // unchecked: rowsRejected counts distinct rejected rows, so it never exceeds rowCount
        unchecked {
            rowsAccepted = submission.rowCount - submission.rowsRejected;
        }
        uint256 amount = uint256(rowsAccepted) * (uint256(submission.depositPerRow) + submission.rewardPerRow);
        address contributor = submission.contributor;
        submission.claimed = true;
        model.rowsAccepted += rowsAccepted;
        _credits[contributor] += amount;
        emit SubmissionClaimed(modelId, submissionId, contributor, rowsAccepted, amount);

        if (submission.onChainRow && rowsAccepted == 1) _train(model.linear, modelId, submissionId);
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
        _existingSubmission(submissionId);
        return _submissionInfo(submissionId);
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
            submissions[i] = _submissionInfo(ids[offset + i]);
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
        return _rowStates[submissionId][rowIndex].challengeId;
    }

    /// @inheritdoc IModelMarketplace
    function isRowRejected(uint256 submissionId, uint32 rowIndex) external view returns (bool) {
        SubmissionRecord storage submission = _existingSubmission(submissionId);
        return submission.forfeited || _rowStates[submissionId][rowIndex].rejected;
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
        LinearModel storage linear = _linearModelOf(modelId);
        uint256 expected = linear.weights.length;
        if (features.length != expected) revert MarketplaceFeatureCountMismatch(expected, features.length);
        return _predict(linear, features);
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

    /// @dev Stores the perceptron given at publish and emits {LinearModelPublished}.
    function _publishLinear(
        ModelRecord storage model,
        uint256 modelId,
        LinearModelInput calldata linear,
        uint256 featureCount
    ) private {
        if (linear.weights.length != featureCount) {
            revert MarketplaceFeatureCountMismatch(featureCount, linear.weights.length);
        }
        uint64 bound = linear.maxAbsFeature;
        if (bound == 0 || bound > MAX_FEATURE_BOUND) revert MarketplaceInvalidInput("feature bound out of range");
        model.hasLinearModel = true;
        model.linear.weights = linear.weights;
        model.linear.intercept = linear.intercept;
        model.linear.maxAbsFeature = bound;
        emit LinearModelPublished(modelId, linear.weights, linear.intercept, bound);
    }

    /// @dev Appends a version (already validated) to `model` and emits {VersionPublished}.
    function _pushVersion(
        ModelRecord storage model,
        uint256 modelId,
        bytes calldata modelCid,
        uint32 accuracyBps,
        bytes calldata evaluationCid
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
        bytes32 merkleRoot,
        uint32 rowCount,
        uint8 cidCodec,
        bytes32 cidDigest
    ) private returns (uint256 submissionId, uint256 deposit, uint64 windowEndsAt) {
        Terms memory terms = model.terms;
        deposit = uint256(rowCount) * terms.depositPerRow;
        if (msg.value != deposit) revert MarketplaceIncorrectPayment(deposit, msg.value);
        uint256 reward = uint256(rowCount) * terms.rewardPerRow;
        uint256 available = model.rewardPool;
        if (reward > available) revert MarketplaceInsufficientRewardPool(modelId, reward, available);
        uint256 maxReward = available / MAX_BATCH_SHARE;
        if (reward > maxReward) revert MarketplaceBatchTooLarge(modelId, reward, maxReward);

        // unchecked: reward <= available was checked above
        unchecked {
            model.rewardPool = available - reward;
        }
        submissionId = ++_submissionCount;
        uint64 createdAt = _now();
        windowEndsAt = createdAt + terms.challengeWindow;
        _submissions[submissionId] = SubmissionRecord({
            modelId: modelId.toUint64(),
            contributor: msg.sender,
            rowCount: rowCount,
            merkleRoot: merkleRoot,
            cidDigest: cidDigest,
            createdAt: createdAt,
            windowEndsAt: windowEndsAt,
            rowsRejected: 0,
            openChallenges: 0,
            cidCodec: cidCodec,
            onChainRow: cidCodec == 0,
            claimed: false,
            forfeited: false,
            fileJudged: false,
            depositPerRow: terms.depositPerRow,
            rewardPerRow: terms.rewardPerRow
        });
        model.submissionIds.push(submissionId);
        model.rowsSubmitted += rowCount;
    }

    /// @dev Records an on-chain row (checked by the caller) as a one-row submission and emits {SubmissionAdded}.
    function _addRow(ModelRecord storage model, uint256 modelId, int64[] calldata features, int64 label)
        private
        returns (uint256 submissionId, bytes32 leaf)
    {
        bytes memory row = abi.encode(features, label);
        bytes32 rowHash = keccak256(row);
        uint256 existing = _onChainRowIds[modelId][rowHash];
        if (existing != 0) revert MarketplaceDuplicateRow(modelId, existing);

        leaf = RowTree.leaf(RowTree.keyOf(msg.sender), 0, row);
        uint256 deposit;
        uint64 windowEndsAt;
        (submissionId, deposit, windowEndsAt) = _addSubmission(model, modelId, leaf, 1, 0, bytes32(0));
        _onChainRowIds[modelId][rowHash] = submissionId;
        _rowStates[submissionId][0].revealed = true;
        Row storage stored = _rows[submissionId];
        stored.features = features;
        stored.label = label;
        emit SubmissionAdded(modelId, submissionId, msg.sender, "", leaf, 1, deposit, windowEndsAt);
    }

    /// @dev Trains the perceptron on a claimed on-chain row it misclassifies. Saturating: learning never reverts.
    function _train(LinearModel storage linear, uint256 modelId, uint256 submissionId) private {
        Row storage row = _rows[submissionId];
        int64[] memory features = row.features;
        int64 label = row.label;
        if (_predict(linear, features) == label) return;

        int256 step = label == 1 ? int256(1) : int256(-1);
        int64[] storage weights = linear.weights;
        for (uint256 i = 0; i < features.length; ++i) {
            weights[i] = _saturate(int256(weights[i]) + step * features[i]);
        }
        linear.intercept = _saturate(int256(linear.intercept) + step * SCALE);
        uint64 updates = linear.updates + 1;
        linear.updates = updates;
        emit LinearModelUpdated(modelId, submissionId, updates);
    }

    /// @dev Label predicted by `linear` for `features` (of the right length).
    function _predict(LinearModel storage linear, int64[] memory features) private view returns (int64) {
        int64[] storage weights = linear.weights;
        int256 score = int256(linear.intercept) * SCALE;
        for (uint256 i = 0; i < features.length; ++i) {
            score += int256(weights[i]) * features[i];
        }
        return score >= 0 ? int64(1) : int64(0);
    }

    function _saturate(int256 value) private pure returns (int64) {
        if (value > type(int64).max) return type(int64).max;
        if (value < type(int64).min) return type(int64).min;
        // casting is safe: value is within the int64 range, checked above
        // forge-lint: disable-next-line(unsafe-typecast)
        return int64(value);
    }

    function _checkFeatures(LinearModel storage linear, int64[] calldata features) private view {
        uint256 expected = linear.weights.length;
        if (features.length != expected) revert MarketplaceFeatureCountMismatch(expected, features.length);
        uint64 bound = linear.maxAbsFeature;
        for (uint256 i = 0; i < features.length; ++i) {
            int64 value = features[i];
            if (_magnitude(value) > bound) revert MarketplaceFeatureOutOfRange(i, value, bound);
        }
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
        info.name = model.name;
        info.metadataCid = model.metadataCid;
        info.testSetCommitment = model.testSetCommitment;
        info.testSetCid = model.testSetCid;
        info.schemaHash = model.schemaHash;
        info.trainingRoot = model.trainingRoot;
        info.testRoot = model.testRoot;
        info.trainingRowCount = model.trainingRowCount;
        info.testRowCount = model.testRowCount;
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

    function _submissionInfo(uint256 submissionId) private view returns (Submission memory info) {
        SubmissionRecord storage record = _submissions[submissionId];
        info.id = submissionId;
        info.modelId = record.modelId;
        info.contributor = record.contributor;
        info.dataCid = Cids.join(record.cidCodec, record.cidDigest);
        info.merkleRoot = record.merkleRoot;
        info.rowCount = record.rowCount;
        info.rowsRejected = record.rowsRejected;
        info.openChallenges = record.openChallenges;
        info.createdAt = record.createdAt;
        info.windowEndsAt = record.windowEndsAt;
        info.depositPerRow = record.depositPerRow;
        info.rewardPerRow = record.rewardPerRow;
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
