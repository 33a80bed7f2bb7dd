// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

/**
 * @title IModelMarketplace
 * @notice A registry of collaboratively trained models. Models and data live off chain (IPFS); the chain keeps their
 * content IDs, the Merkle roots of contributed data, deposits, challenges, rewards and a lineage of versions.
 *
 * Row commitments: a batch of `rowCount` rows is committed by the root of a Merkle tree whose leaf for row `i`
 * (zero based) with canonical encoding `row` is
 * `keccak256(bytes.concat(keccak256(abi.encode(uint256(i), keccak256(row)))))`.
 * Inner nodes hash the sorted pair of their children (OpenZeppelin `Hashes.commutativeKeccak256`); on a level with
 * an odd number of nodes the last one is promoted unchanged. A single row stored on chain is encoded as
 * `abi.encode(int64[] features, int64 label)` and is leaf 0 of a one-leaf tree (its root is its leaf).
 *
 * Money never leaves the contract except through {withdraw}: every payout is first credited (pull payments).
 */
interface IModelMarketplace {
    /// @notice Incentive terms of a model, fixed when it is published.
    struct Terms {
        uint128 depositPerRow; // wei locked per contributed row until its window passes
        uint128 rewardPerRow; // wei paid from the reward pool for every accepted row
        uint128 challengeBond; // wei a challenger posts with each challenge
        uint64 challengeWindow; // seconds during which the rows of a submission may be challenged
        uint64 ownerTimeout; // seconds the owner has to resolve a challenge once raised
    }

    /// @notice What an owner gives to publish a model (its first version).
    struct ModelInput {
        string name;
        string modelCid;
        string metadataCid;
        bytes32 testSetCommitment; // keccak256(abi.encodePacked(salt, testSetCid))
        uint32 accuracyBps; // accuracy of the first version on the hidden test set, in basis points
        string evaluationCid; // optional evaluation report
    }

    /// @notice A model as returned by the views.
    struct ModelInfo {
        uint256 id;
        address owner;
        string name;
        string metadataCid;
        bytes32 testSetCommitment;
        string testSetCid; // empty until revealed
        Terms terms;
        uint256 rewardPool; // unallocated reward
        uint64 createdAt;
        uint32 versionCount;
        uint32 submissionCount;
        uint64 rowsSubmitted;
        uint64 rowsRejected; // upheld challenges and reported rows
        uint64 rowsAccepted; // rows of claimed submissions that were not rejected
        bool hasLinearModel;
    }

    /// @notice One published version of a model. Version numbers start at 1.
    struct Version {
        string modelCid;
        string evaluationCid;
        uint32 accuracyBps;
        uint32 parent; // previous version number, 0 for the first
        uint64 publishedAt;
        uint64 rowsAccepted; // rows accepted into the model when the version was published
    }

    /// @notice A batch of rows (or one on-chain row) added by a contributor. Ids start at 1.
    struct Submission {
        uint256 id;
        uint256 modelId;
        address contributor;
        string dataCid; // empty for a single on-chain row
        bytes32 merkleRoot;
        uint32 rowCount;
        uint32 rowsRejected;
        uint32 openChallenges;
        uint64 createdAt;
        uint64 windowEndsAt;
        uint128 depositPerRow; // snapshot of the terms at submission time
        uint128 rewardPerRow;
        bool onChainRow;
        bool claimed;
    }

    enum ChallengeStatus {
        None,
        Pending,
        Upheld,
        Rejected,
        Expired
    }

    /// @notice A challenge of one row. Ids start at 1.
    struct Challenge {
        uint256 id;
        uint256 submissionId;
        address challenger;
        uint32 rowIndex;
        ChallengeStatus status;
        uint128 bond;
        uint64 resolveBy;
    }

    // ----------------------------------------------------------------------------------------------- errors
    error MarketplaceUnknownModel(uint256 modelId);
    error MarketplaceUnknownSubmission(uint256 submissionId);
    error MarketplaceUnknownChallenge(uint256 challengeId);
    error MarketplaceUnknownVersion(uint256 modelId, uint32 version);
    error MarketplaceNotModelOwner(uint256 modelId, address caller);
    error MarketplaceInvalidTerms(string reason);
    error MarketplaceInvalidInput(string reason);
    error MarketplaceIncorrectPayment(uint256 expected, uint256 received);
    error MarketplaceInsufficientRewardPool(uint256 modelId, uint256 required, uint256 available);
    error MarketplaceChallengeWindowClosed(uint256 submissionId, uint64 closedAt);
    error MarketplaceChallengeWindowOpen(uint256 submissionId, uint64 closesAt);
    error MarketplaceRowIndexOutOfRange(uint256 submissionId, uint32 rowIndex, uint32 rowCount);
    error MarketplaceRowAlreadyChallenged(uint256 submissionId, uint32 rowIndex, uint256 challengeId);
    error MarketplaceInvalidProof(uint256 submissionId, uint32 rowIndex);
    error MarketplaceOwnerCannotChallenge(uint256 modelId);
    error MarketplaceChallengeNotPending(uint256 challengeId);
    error MarketplaceResolutionTimedOut(uint256 challengeId, uint64 resolveBy);
    error MarketplaceResolutionPending(uint256 challengeId, uint64 resolveBy);
    error MarketplaceOpenChallenges(uint256 submissionId, uint32 openChallenges);
    error MarketplaceAlreadyClaimed(uint256 submissionId);
    error MarketplaceNoLinearModel(uint256 modelId);
    error MarketplaceLinearModelExists(uint256 modelId);
    error MarketplaceFeatureCountMismatch(uint256 expected, uint256 received);
    error MarketplaceInvalidLabel(int64 label);
    error MarketplaceNotOnChainRow(uint256 submissionId);
    error MarketplaceRowClassifiedCorrectly(uint256 submissionId);
    error MarketplaceRowMisclassified(uint256 submissionId);
    error MarketplaceNothingToWithdraw(address account);
    error MarketplaceWithdrawFailed(address account, uint256 amount);
    error MarketplaceTestSetMismatch(uint256 modelId);
    error MarketplaceTestSetAlreadyRevealed(uint256 modelId);

    // ----------------------------------------------------------------------------------------------- events
    event ModelPublished(
        uint256 indexed modelId,
        address indexed owner,
        string name,
        string modelCid,
        string metadataCid,
        bytes32 testSetCommitment,
        Terms terms,
        uint256 rewardPool
    );
    event VersionPublished(
        uint256 indexed modelId,
        uint32 indexed version,
        string modelCid,
        uint32 accuracyBps,
        string evaluationCid,
        uint32 parent
    );
    event RewardPoolFunded(uint256 indexed modelId, address indexed from, uint256 amount, uint256 rewardPool);
    event RewardPoolWithdrawn(uint256 indexed modelId, uint256 amount, uint256 rewardPool);
    event LinearModelAttached(uint256 indexed modelId, uint256 featureCount);
    event LinearModelUpdated(uint256 indexed modelId, uint256 indexed submissionId, uint64 updates);
    event SubmissionAdded(
        uint256 indexed modelId,
        uint256 indexed submissionId,
        address indexed contributor,
        string dataCid,
        bytes32 merkleRoot,
        uint32 rowCount,
        uint256 deposit,
        uint64 windowEndsAt
    );
    event RowAdded(uint256 indexed modelId, uint256 indexed submissionId, int64[] features, int64 label);
    event RowChallenged(
        uint256 indexed modelId,
        uint256 indexed submissionId,
        uint256 indexed challengeId,
        uint32 rowIndex,
        address challenger,
        bytes row,
        uint64 resolveBy
    );
    event ChallengeResolved(
        uint256 indexed challengeId, uint256 indexed submissionId, bool upheld, address beneficiary, uint256 amount
    );
    event ChallengeExpired(uint256 indexed challengeId, uint256 indexed submissionId, uint256 bondReturned);
    event RowReported(uint256 indexed modelId, uint256 indexed submissionId, address indexed reporter, uint256 amount);
    event SubmissionClaimed(
        uint256 indexed modelId,
        uint256 indexed submissionId,
        address indexed contributor,
        uint32 rowsAccepted,
        uint256 amount
    );
    event Withdrawn(address indexed account, uint256 amount);
    event TestSetRevealed(uint256 indexed modelId, bytes32 salt, string testSetCid);

    // ----------------------------------------------------------------------------------------------- owner
    function publishModel(ModelInput calldata input, Terms calldata terms) external payable returns (uint256 modelId);
    function publishVersion(uint256 modelId, string calldata modelCid, uint32 accuracyBps, string calldata evaluationCid)
        external
        returns (uint32 version);
    function fundRewardPool(uint256 modelId) external payable;
    function withdrawRewardPool(uint256 modelId, uint256 amount) external;
    function attachLinearModel(uint256 modelId, int64[] calldata weights, int64 intercept) external;
    function resolveChallenge(uint256 challengeId, bool upheld) external;
    function revealTestSet(uint256 modelId, bytes32 salt, string calldata testSetCid) external;

    // ----------------------------------------------------------------------------------------------- contributors
    function contribute(uint256 modelId, string calldata dataCid, bytes32 merkleRoot, uint32 rowCount)
        external
        payable
        returns (uint256 submissionId);
    function contributeRow(uint256 modelId, int64[] calldata features, int64 label)
        external
        payable
        returns (uint256 submissionId);
    function claim(uint256 submissionId) external;
    function withdraw() external;

    // ----------------------------------------------------------------------------------------------- verifiers
    function challenge(uint256 submissionId, uint32 rowIndex, bytes calldata row, bytes32[] calldata proof)
        external
        payable
        returns (uint256 challengeId);
    function expireChallenge(uint256 challengeId) external;
    function reportMisclassified(uint256 submissionId) external;

    // ----------------------------------------------------------------------------------------------- views
    function modelCount() external view returns (uint256);
    function getModel(uint256 modelId) external view returns (ModelInfo memory);
    function getModels(uint256 offset, uint256 limit) external view returns (ModelInfo[] memory);
    function getVersion(uint256 modelId, uint32 version) external view returns (Version memory);
    function getVersions(uint256 modelId) external view returns (Version[] memory);
    function submissionCount() external view returns (uint256);
    function getSubmission(uint256 submissionId) external view returns (Submission memory);
    function getSubmissions(uint256 modelId, uint256 offset, uint256 limit)
        external
        view
        returns (Submission[] memory);
    function challengeCount() external view returns (uint256);
    function getChallenge(uint256 challengeId) external view returns (Challenge memory);
    function challengeOf(uint256 submissionId, uint32 rowIndex) external view returns (uint256 challengeId);
    function getRow(uint256 submissionId) external view returns (int64[] memory features, int64 label);
    function linearModel(uint256 modelId)
        external
        view
        returns (int64[] memory weights, int64 intercept, uint64 updates);
    function predict(uint256 modelId, int64[] calldata features) external view returns (int64 label);
    function creditOf(address account) external view returns (uint256);
    function rowLeaf(uint256 index, bytes calldata row) external pure returns (bytes32);
    function testSetCommitment(bytes32 salt, string calldata testSetCid) external pure returns (bytes32);
}
