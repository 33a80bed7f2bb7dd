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

    /// @dev Fixed-point scale of linear models: a score is `sum(w_i * x_i) + intercept * SCALE`.
    int256 internal constant SCALE = 1e6;
    uint32 internal constant MAX_BPS = 10_000;
    uint256 internal constant MAX_NAME_BYTES = 128;

    /// @dev A perceptron given at publish.
    struct LinearModel {
        int64[] weights;
        int64 intercept;
        uint64 maxAbsFeature;
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
        uint32 trainingRowCount;
        uint32 testRowCount;
        uint256 rewardPool;
        bytes32 testSetCommitment;
        bytes32 schemaHash;
        bytes32 trainingRoot;
        bytes32 testRoot;
        Terms terms;
        string name;
        bytes metadataCid;
        bytes testSetCid;
        Version[] versions; // version `v` is at index `v - 1`
        uint256[] submissionIds;
        LinearModel linear;
    }

    /// @dev Storage record of a submission, packed in five slots; {getSubmission} turns it into a {Submission}.
    struct SubmissionRecord {
        uint64 modelId;
        address contributor;
        uint32 rowCount;
        bytes32 merkleRoot;
        bytes32 cidDigest;
        uint64 createdAt;
        uint64 windowEndsAt;
        uint32 rowsRejected;
        uint32 openChallenges;
        uint8 cidCodec; // 0 for an on-chain row
        bool onChainRow;
        bool claimed;
        bool forfeited;
        bool fileJudged; // a file challenge was raised (once per submission)
        uint128 depositPerRow;
        uint128 rewardPerRow;
    }

    /// @dev What is known of one row of a submission.
    struct RowState {
        uint64 challengeId; // the latest challenge of the row
        bool rejected;
        bool revealed; // produced on chain with its proof
        bool labelJudged; // a label challenge was raised (once per row)
    }

    /// @dev A row stored on chain by {contributeRow}.
    struct Row {
        int64[] features;
        int64 label;
    }

    uint256 internal _modelCount;
    uint256 internal _submissionCount;
    uint256 internal _challengeCount;
    uint256 internal _burned;
    RowChecker internal _rowChecker; // in storage, not immutable, so the deployed code is the artifact's exactly
    address internal _challengeGame; // the module that runs the challenge functions (see {ChallengeGame})

    mapping(uint256 modelId => ModelRecord) internal _models;
    mapping(uint256 submissionId => SubmissionRecord) internal _submissions;
    mapping(uint256 challengeId => Challenge) internal _challenges;
    mapping(uint256 submissionId => mapping(uint32 rowIndex => RowState)) internal _rowStates;
    mapping(uint256 submissionId => Row) internal _rows;
    mapping(uint256 modelId => mapping(bytes32 merkleRoot => bool)) internal _rootSubmitted;
    mapping(uint256 modelId => mapping(bytes32 rowHash => uint256 submissionId)) internal _onChainRowIds;
    mapping(bytes32 commitment => uint256 blockNumber) internal _commitBlocks;
    mapping(address account => uint256) internal _credits;

    // ================================================================================================== shared

    /// @dev Rejects one row: its deposit is burned, and its reserved reward credited to `challenger` when the contract
    /// judged the row (`payReward`), burned too when the owner did (so no verdict of the owner pays anyone it could
    /// collude with).
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
        uint256 burnedNow = submission.depositPerRow;
        if (payReward) {
            reward = submission.rewardPerRow;
            _credits[challenger] += reward;
        } else {
            burnedNow += submission.rewardPerRow;
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

    function _existingChallenge(uint256 challengeId) internal view returns (Challenge storage challenged) {
        challenged = _challenges[challengeId];
        if (challenged.id == 0) revert MarketplaceUnknownChallenge(challengeId);
    }

    function _now() internal view returns (uint64) {
        return block.timestamp.toUint64();
    }

    /// @dev `|value|`, which fits in uint64 for every int64 (including the minimum, -2^63).
    function _magnitude(int64 value) internal pure returns (uint64) {
        // casting is safe: -int128(value) is at most 2^63 when value < 0, and value >= 0 otherwise
        // forge-lint: disable-next-line(unsafe-typecast)
        return value < 0 ? uint64(uint128(-int128(value))) : uint64(value);
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
