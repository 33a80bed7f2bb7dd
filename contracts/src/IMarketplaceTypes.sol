// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

/**
 * @title IMarketplaceTypes
 * @notice The structs, enums, errors and events of {IModelMarketplace}, apart so that the marketplace's modules
 * (which implement only some of its functions) can share them.
 */
interface IMarketplaceTypes {
    /// @notice Incentive terms of a model, fixed when it is published.
    struct Terms {
        uint128 depositPerRow; // wei locked per contributed row until its window passes; burned if the row is rejected
        uint128 rewardPerRow; // wei paid from the reward pool for every row: to its contributor, or to who proved it bad
        uint128 challengeBond; // wei posted with a label or availability challenge
        uint64 challengeWindow; // seconds during which the rows of a submission may be challenged
        uint64 ownerTimeout; // seconds to resolve a label challenge, or to answer an availability challenge
    }

    /// @notice The committed decoding rules of a model's canonical rows; only its hash is stored.
    struct RowSchema {
        bytes columns; // one dtype tag per column, label last: "f" float64, "i" int64, "b" bool, "s" string
        bytes[] labels; // canonical encodings (tag included) of the allowed labels; empty: any value
        uint64 maxFloatBits; // IEEE 754 bits of the largest allowed |float64| value (finite)
        uint64 maxInt; // largest allowed |int64| value
        uint32 maxStringBytes; // largest allowed UTF-8 length of a string value
    }

    /// @notice Why a row fails its model's schema ({rowFault}).
    enum RowFault {
        None,
        Malformed, // unknown or mismatched tag, or a truncated value
        OutOfBounds, // a number beyond the schema's bounds, NaN or infinite
        NonCanonical, // negative zero
        BadBool, // a bool byte other than 0 or 1
        StringTooLong,
        BadUtf8,
        TrailingBytes,
        LabelNotAllowed
    }

    /// @notice An on-chain perceptron given at publish (fixed point, scale 1e6); no weights: no on-chain model.
    /// @dev `weights` holds one int64 per feature, big-endian two's complement (8 bytes each). Only its hash is stored;
    /// the weights are in {LinearModelPublished}, and every update follows from {LinearModelUpdated} and the row.
    struct LinearModelInput {
        bytes weights;
        int64 intercept;
        uint64 maxAbsFeature; // bound of |feature| of every on-chain row
    }

    /// @notice An on-chain perceptron as {linearModel} returns it.
    struct LinearModelInfo {
        bytes32 weightsHash; // keccak256 of the packed weights (see {LinearModelInput})
        int64 intercept;
        uint64 maxAbsFeature;
        uint64 updates;
        uint32 featureCount;
    }

    /// @notice What an owner gives to publish a model (its first version) and commit to its data.
    struct ModelInput {
        string name;
        bytes modelCid;
        bytes metadataCid;
        bytes32 testSetCommitment; // keccak256(abi.encodePacked(salt, testSetCid)), revealed with {revealTestSet}
        uint32 accuracyBps; // accuracy of the first version on the hidden test set, in basis points
        bytes evaluationCid; // optional evaluation report (empty)
        bytes32 trainingRoot; // row tree of the training data, keyed by the owner's address (0 if none)
        uint32 trainingRowCount;
        bytes32 testRoot; // row tree of the hidden test set, each leaf keyed by a secret nonce
        uint32 testRowCount;
    }

    /// @notice A model as returned by the views.
    struct ModelInfo {
        uint256 id;
        address owner; // the name and metadata CID are in {ModelPublished}
        bytes32 testSetCommitment;
        bytes testSetCid; // empty until revealed
        bytes32 schemaHash;
        bytes32 trainingRoot;
        bytes32 testRoot;
        uint32 trainingRowCount;
        uint32 testRowCount;
        Terms terms;
        uint256 rewardPool; // unallocated reward
        uint64 createdAt;
        uint32 versionCount;
        uint32 submissionCount;
        uint64 rowsSubmitted;
        uint64 rowsRejected; // rows proven bad, including the rows of forfeited batches
        uint64 rowsAccepted; // rows of claimed submissions that were not rejected
        bool hasLinearModel;
    }

    /// @notice A batch of rows (or one on-chain row) added by a contributor. Ids start at 1.
    struct Submission {
        uint256 id;
        uint256 modelId;
        address contributor; // the data CID is in {SubmissionAdded}
        bytes32 merkleRoot; // zero for an on-chain row, which its content binds instead (see {contributeRow})
        uint32 rowCount;
        uint32 rowsRejected;
        uint32 openChallenges;
        uint64 createdAt;
        uint64 windowEndsAt;
        uint128 depositPerRow; // the model's terms (fixed at publish)
        uint128 rewardPerRow;
        bool onChainRow;
        bool claimed;
        bool forfeited; // every row is rejected: a demanded row was not produced in time, or the file was unavailable
        bool fileJudged; // a file challenge was raised (one per submission)
    }

    enum ChallengeKind {
        None,
        Label, // the owner judges the label
        Availability, // the row must be produced with its proof
        Format, // the contract judges the row against the schema
        Duplicate, // the contract judges a copy of an earlier row, or of training or test data
        TrainingCopy,
        TestCopy,
        File // the owner judges that the batch's file cannot be fetched or does not hold the committed rows
    }

    enum ChallengeStatus {
        None,
        Pending,
        Upheld, // the row was rejected (or, for availability, the batch forfeited)
        Rejected, // the owner found the label right
        Expired, // the owner missed the time-out: the row stands
        Answered // the row was produced
    }

    /// @notice A challenge of one row. Ids start at 1.
    struct Challenge {
        uint256 id;
        uint256 submissionId;
        address challenger;
        uint32 rowIndex; // {WHOLE_FILE} for a challenge of the whole file
        ChallengeKind kind;
        ChallengeStatus status;
        uint128 bond;
        uint128 fee; // label and file challenges: paid by the owner's pool to the challenger on either verdict
        uint64 resolveBy; // pending challenges only
    }

    /// @notice Where a row of a submission is claimed to come from, for {challengeDuplicate}.
    enum SourceKind {
        Submission, // an earlier row: a lower submission id, or the same submission at a lower index
        Training, // the owner's committed training data
        Test // the owner's committed hidden test set
    }

    /// @notice Evidence that a row repeats another committed row.
    struct Source {
        SourceKind kind;
        uint256 submissionId; // for SourceKind.Submission
        uint32 rowIndex; // index of the row in its source
        bytes32 nonce; // for SourceKind.Test: the leaf key of that test row
        bytes32[] proof; // the row's proof in its source's tree
    }

    // ----------------------------------------------------------------------------------------------- errors
    error MarketplaceUnknownModel(uint256 modelId);
    error MarketplaceUnknownSubmission(uint256 submissionId);
    error MarketplaceUnknownChallenge(uint256 challengeId);
    error MarketplaceNotModelOwner(uint256 modelId, address caller);
    error MarketplaceInvalidTerms(string reason);
    error MarketplaceInvalidInput(string reason);
    error MarketplaceInvalidCid(string what);
    error MarketplaceInvalidSchema(string reason);
    error MarketplaceIncorrectPayment(uint256 expected, uint256 received);
    error MarketplaceInsufficientRewardPool(uint256 modelId, uint256 required, uint256 available);
    error MarketplaceBatchTooLarge(uint256 modelId, uint256 reward, uint256 maxReward);
    error MarketplaceRootAlreadySubmitted(uint256 modelId, bytes32 merkleRoot);
    error MarketplaceChallengeWindowClosed(uint256 submissionId, uint64 closedAt);
    error MarketplaceChallengeWindowOpen(uint256 submissionId, uint64 closesAt);
    error MarketplaceRowIndexOutOfRange(uint256 submissionId, uint32 rowIndex, uint32 rowCount);
    error MarketplaceRowAlreadyRejected(uint256 submissionId, uint32 rowIndex);
    error MarketplaceRowChallengePending(uint256 submissionId, uint32 rowIndex, uint256 challengeId);
    error MarketplaceRowAlreadyJudged(uint256 submissionId, uint32 rowIndex, uint256 challengeId);
    error MarketplaceRowAlreadyRevealed(uint256 submissionId, uint32 rowIndex);
    error MarketplaceFileAlreadyJudged(uint256 submissionId);
    error MarketplaceSubmissionForfeited(uint256 submissionId);
    error MarketplaceInvalidProof(uint256 submissionId, uint32 rowIndex);
    error MarketplaceInvalidSourceProof(SourceKind kind, uint32 rowIndex);
    error MarketplaceNotADuplicate(string reason);
    error MarketplaceRowIsValid(uint256 submissionId, uint32 rowIndex);
    error MarketplaceSchemaMismatch(uint256 modelId);
    error MarketplaceNotApplicable(string reason);
    error MarketplaceCommitmentUnknown(bytes32 commitment);
    error MarketplaceCommitmentTooRecent(bytes32 commitment);
    error MarketplaceCommitmentExists(bytes32 commitment);
    error MarketplaceOwnerCannotChallenge(uint256 modelId);
    error MarketplaceChallengeNotPending(uint256 challengeId);
    error MarketplaceWrongChallengeKind(uint256 challengeId, ChallengeKind kind);
    error MarketplaceResolutionTimedOut(uint256 challengeId, uint64 resolveBy);
    error MarketplaceResolutionPending(uint256 challengeId, uint64 resolveBy);
    error MarketplaceOpenChallenges(uint256 submissionId, uint32 openChallenges);
    error MarketplaceAlreadyClaimed(uint256 submissionId);
    error MarketplaceNoLinearModel(uint256 modelId);
    error MarketplaceFeatureCountMismatch(uint256 expected, uint256 received);
    error MarketplaceFeatureOutOfRange(uint256 index, int64 value, uint64 maxAbs);
    error MarketplaceFeatureIndexOutOfRange(uint256 index, uint256 featureCount);
    error MarketplaceMalformedRow(string reason);
    error MarketplaceInvalidLabel(int64 label);
    error MarketplaceDuplicateRow(uint256 modelId, uint256 submissionId);
    error MarketplaceNotOnChainRow(uint256 submissionId);
    error MarketplaceRowRequired(uint256 submissionId);
    error MarketplaceWeightsMismatch(uint256 modelId);
    error MarketplaceNothingToWithdraw(address account);
    error MarketplaceWithdrawFailed(address account, uint256 amount);
    error MarketplaceTestSetMismatch(uint256 modelId);
    error MarketplaceTestSetAlreadyRevealed(uint256 modelId);

    // ----------------------------------------------------------------------------------------------- events
    event ModelPublished(
        uint256 indexed modelId,
        address indexed owner,
        string name,
        bytes modelCid,
        bytes metadataCid,
        bytes32 testSetCommitment,
        Terms terms,
        uint256 rewardPool
    );
    event ModelDataCommitted(
        uint256 indexed modelId,
        bytes32 schemaHash,
        RowSchema schema,
        bytes32 trainingRoot,
        uint32 trainingRowCount,
        bytes32 testRoot,
        uint32 testRowCount
    );
    event VersionPublished(
        uint256 indexed modelId,
        uint32 indexed version,
        bytes modelCid,
        uint32 accuracyBps,
        bytes evaluationCid,
        uint32 parent,
        uint64 rowsAccepted, // rows accepted into the model when the version was published
        uint64 publishedAt
    );
    event RewardPoolFunded(uint256 indexed modelId, address indexed from, uint256 amount, uint256 rewardPool);
    event RewardPoolWithdrawn(uint256 indexed modelId, uint256 amount, uint256 rewardPool);
    event LinearModelPublished(uint256 indexed modelId, bytes weights, int64 intercept, uint64 maxAbsFeature);
    /// @notice The perceptron learned the on-chain row of `submissionId` (in {RowAdded}): every weight of a non-zero
    /// feature `i` moved by `x_i` (label 1) or `-x_i` (label 0), and the intercept by ±1e6, saturating at the int64 bounds.
    event LinearModelUpdated(
        uint256 indexed modelId, uint256 indexed submissionId, uint64 updates, bytes32 weightsHash, int64 intercept
    );
    event SubmissionAdded(
        uint256 indexed modelId,
        uint256 indexed submissionId,
        address indexed contributor,
        bytes dataCid,
        bytes32 merkleRoot,
        uint32 rowCount,
        uint256 deposit,
        uint64 windowEndsAt
    );
    /// @notice An on-chain row, in its canonical sparse form (see {IModelMarketplace-contributeRow}).
    event RowAdded(uint256 indexed modelId, uint256 indexed submissionId, bytes row);
    event ChallengeCommitted(bytes32 indexed commitment, address indexed challenger);
    event RowChallenged(
        uint256 indexed modelId,
        uint256 indexed submissionId,
        uint256 indexed challengeId,
        uint32 rowIndex,
        address challenger,
        ChallengeKind kind,
        bytes row,
        uint64 resolveBy
    );
    event RowRejected(
        uint256 indexed submissionId,
        uint256 indexed challengeId,
        uint32 rowIndex,
        ChallengeKind kind,
        address challenger,
        uint256 reward,
        uint256 burned
    );
    event ChallengeResolved(
        uint256 indexed challengeId, uint256 indexed submissionId, bool upheld, address beneficiary, uint256 amount
    );
    event ChallengeAnswered(
        uint256 indexed challengeId, uint256 indexed submissionId, address indexed answerer, bytes row, uint256 amount
    );
    event ChallengeExpired(uint256 indexed challengeId, uint256 indexed submissionId, uint256 bondReturned);
    event SubmissionForfeited(
        uint256 indexed modelId,
        uint256 indexed submissionId,
        uint256 indexed challengeId,
        uint32 rowsForfeited,
        uint256 reward,
        uint256 burned
    );
    event SubmissionClaimed(
        uint256 indexed modelId,
        uint256 indexed submissionId,
        address indexed contributor,
        uint32 rowsAccepted,
        uint256 amount
    );
    event Withdrawn(address indexed account, uint256 amount);
    event TestSetRevealed(uint256 indexed modelId, bytes32 salt, bytes testSetCid);
}
