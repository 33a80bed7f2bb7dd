// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IMarketplaceTypes} from "./IMarketplaceTypes.sol";
import {RowChecker} from "./RowChecker.sol";

/**
 * @title MarketplaceStorage
 * @notice The storage layout of {ModelMarketplace} and the internal functions its modules share. The marketplace and
 * its {ChallengeGame} module both inherit it, and the module runs by `delegatecall` on the marketplace's storage, so
 * neither may declare a state variable of its own.
 */
abstract contract MarketplaceStorage is IMarketplaceTypes, ReentrancyGuard {
    using SafeCast for uint256;

    /// @notice Shortest challenge window or time-out, in seconds.
    uint64 public constant MIN_PERIOD = 1 minutes;
    /// @notice Longest challenge window or time-out, in seconds.
    uint64 public constant MAX_PERIOD = 30 days;
    /// @notice A batch may reserve at most this fraction (1 / n) of the unallocated reward pool.
    uint256 public constant MAX_BATCH_SHARE = 4;
    /// @notice The row index of a challenge of a whole file ({ChallengeKind.File}).
    uint32 public constant WHOLE_FILE = type(uint32).max;
    /// @notice Largest bound of on-chain features (fixed point, scale 1e6): 2^40 ≈ 1.1e12, i.e. |x| ≤ 1.1e6.
    uint64 public constant MAX_FEATURE_BOUND = 2 ** 40;

    uint32 internal constant MAX_BPS = 10_000;
    uint256 internal constant MAX_NAME_BYTES = 128;

    /// @dev A perceptron given at publish: the weights are known by their hash only (see {LinearModelInput}).
    struct LinearModel {
        bytes32 weightsHash;
        int64 intercept;
        uint64 maxAbsFeature;
        uint64 updates;
        uint32 featureCount;
    }

    /// @dev Storage record of a model, packed so that publishing writes eight slots; {getModel} turns it into a
    /// {ModelInfo}. Amounts of wei are 96-bit (7.9e28 wei, far above all the ether there is), periods 32-bit (30 days
    /// at most). What nothing on chain reads (name, metadata CID, versions) is in the events only.
    struct ModelRecord {
        // slot 0: read by every owner check
        address owner;
        uint40 createdAt;
        bool hasLinearModel;
        bool testSetRevealed;
        uint32 versionCount;
        // slot 1: written by every contribution
        uint96 rewardPool; // unallocated reward
        uint64 rowsSubmitted;
        uint64 rowsAccepted;
        uint32 submissionCount;
        // slot 2: the terms a contribution reads
        uint96 depositPerRow;
        uint96 rewardPerRow;
        uint32 challengeWindow;
        // slot 3: the terms a challenge reads, and the sizes of the data commitments
        uint96 challengeBond;
        uint32 ownerTimeout;
        uint32 trainingRowCount;
        uint32 testRowCount;
        uint64 rowsRejected;
        bytes32 testSetCommitment;
        bytes32 schemaHash;
        bytes32 trainingRoot;
        bytes32 testRoot;
        bytes testSetCid;
        LinearModel linear;
        // written by the reveal only: the submissions up to this id were made while the test set was hidden
        uint64 submissionsAtReveal;
    }

    /// @dev Storage record of a submission: three slots for a batch, one for an on-chain row (whose row count is 1 and
    /// whose content hash, in {_onChainRowIds}, stands for a Merkle root), so that adding and claiming an on-chain row
    /// write no other slot of it. {getSubmission} turns it into a {Submission}: deposit and reward per row are the
    /// model's, fixed at publish, and so is the window it was created with. Model ids and times are 40-bit, more than
    /// either can reach (a trillion models; the year 36812).
    struct SubmissionRecord {
        // slot A
        address contributor;
        uint40 modelId;
        uint40 windowEndsAt;
        bool onChainRow;
        bool claimed;
        // slot B (batches only)
        bytes32 merkleRoot;
        // slot C (zero for an on-chain row unless it is challenged)
        uint32 rowCount; // batches only: see {_rowCount}
        uint32 rowsRejected;
        uint32 openChallenges;
        bool forfeited;
        bool fileJudged; // a file challenge was raised (once per submission)
    }

    /// @dev Storage record of a challenge, in two slots; {getChallenge} turns it into a {Challenge}.
    struct ChallengeRecord {
        // slot 0
        address challenger; // never zero: tells a challenge from an empty record
        uint32 rowIndex;
        ChallengeKind kind;
        ChallengeStatus status;
        uint40 resolveBy; // pending challenges only
        // slot 1 (bond and fee: zero for challenges the contract judges at once)
        uint64 submissionId;
        uint96 bond; // at most the model's bond, a 96-bit amount
        uint96 fee; // at most the model's reward per row, a 96-bit amount
    }

    /// @dev What is known of one row of a submission.
    struct RowState {
        uint64 challengeId; // the latest challenge of the row
        bool rejected;
        bool revealed; // produced on chain with its proof (an on-chain row always is, without this flag)
        bool labelJudged; // a label challenge was raised (once per row)
    }

    uint256 internal _modelCount;
    uint256 internal _submissionCount;
    uint256 internal _challengeCount;
    uint256 internal _burned;
    RowChecker internal _rowChecker; // in storage, not immutable, so the deployed code is the artifact's exactly
    address internal _challengeGame; // the module that runs the challenge functions (see {ChallengeGame})

    mapping(uint256 modelId => ModelRecord) internal _models;
    mapping(uint256 submissionId => SubmissionRecord) internal _submissions;
    mapping(uint256 challengeId => ChallengeRecord) internal _challenges;
    mapping(uint256 submissionId => mapping(uint32 rowIndex => RowState)) internal _rowStates;
    /// @dev The roots each account submitted to each model: refuses an account's repeat, and only its own (another
    /// account's root is not a block: a copy of it under another key cannot prove a single row).
    mapping(uint256 modelId => mapping(address contributor => mapping(bytes32 merkleRoot => bool))) internal
        _rootSubmitted;
    /// @dev The on-chain row of each content hash: refuses repeats, and binds a submission to its row.
    mapping(uint256 modelId => mapping(bytes32 rowHash => uint256 submissionId)) internal _onChainRowIds;
    mapping(bytes32 commitment => uint256 blockNumber) internal _commitBlocks;
    mapping(address account => uint256) internal _credits;

    // ================================================================================================== shared

    /// @dev Rejects one row: its deposit is burned, and its reserved reward credited to `challenger` when the contract
    /// judged the row (`payReward`), burned too when the owner did, or the evidence was the owner's alone (an
    /// unrevealed test set), so that no verdict of the owner pays anyone it could collude with.
    function _rejectRow(
        ModelRecord storage model,
        SubmissionRecord storage submission,
        uint256 submissionId,
        uint32 rowIndex,
        uint256 challengeId,
        address challenger,
        bool payReward
    ) internal returns (uint256 reward) {
        RowState storage state = _rowStates[submissionId][rowIndex];
        state.rejected = true;
        state.revealed = true;
        submission.rowsRejected += 1;
        model.rowsRejected += 1;
        uint256 burnedNow = model.depositPerRow;
        if (payReward) {
            reward = model.rewardPerRow;
            _credits[challenger] += reward;
        } else {
            burnedNow += model.rewardPerRow;
        }
        _burned += burnedNow;
        emit RowRejected(
            submissionId, challengeId, rowIndex, _challenges[challengeId].kind, challenger, reward, burnedNow
        );
    }

    function _existingModel(uint256 modelId) internal view returns (ModelRecord storage model) {
        model = _models[modelId];
        if (model.owner == address(0)) revert MarketplaceUnknownModel(modelId);
    }

    function _ownedModel(uint256 modelId) internal view returns (ModelRecord storage model) {
        model = _existingModel(modelId);
        if (msg.sender != model.owner) revert MarketplaceNotModelOwner(modelId, msg.sender);
    }

    function _existingSubmission(uint256 submissionId) internal view returns (SubmissionRecord storage submission) {
        submission = _submissions[submissionId];
        if (submission.contributor == address(0)) revert MarketplaceUnknownSubmission(submissionId);
    }

    /// @dev The number of rows of a submission: an on-chain row is one row.
    function _rowCount(SubmissionRecord storage submission) internal view returns (uint32) {
        return submission.onChainRow ? 1 : submission.rowCount;
    }

    /// @dev Whether `row` is the on-chain row of `submissionId` (a submission of `modelId`).
    function _isOnChainRow(uint256 modelId, uint256 submissionId, bytes calldata row) internal view returns (bool) {
        return _onChainRowIds[modelId][keccak256(row)] == submissionId;
    }

    function _existingChallenge(uint256 challengeId) internal view returns (ChallengeRecord storage challenged) {
        challenged = _challenges[challengeId];
        if (challenged.challenger == address(0)) revert MarketplaceUnknownChallenge(challengeId);
    }

    function _now() internal view returns (uint64) {
        return block.timestamp.toUint64();
    }

    /// @dev `keccak256(abi.encode(challenger, submissionId, rowIndex, salt))`: what {commitChallenge} records.
    function _challengeCommitment(address challenger, uint256 submissionId, uint32 rowIndex, bytes32 salt)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(challenger, submissionId, rowIndex, salt));
    }
}
