// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {IMarketplaceTypes} from "./IMarketplaceTypes.sol";

/**
 * @title IModelMarketplace
 * @notice A registry of collaboratively trained models. Models and data live off chain (IPFS); the chain keeps their
 * content IDs, commitments to every contributed row, deposits, challenges, rewards and a lineage of versions.
 *
 * Content IDs are binary CIDv1 (36 bytes: `0x01`, codec `0x55` raw or `0x70` dag-pb, `0x12 0x20`, sha2-256 digest).
 * What nothing on chain reads is in events only: a model's name and metadata CID ({ModelPublished}), its versions
 * ({VersionPublished}), a batch's data CID ({SubmissionAdded}), an on-chain row ({RowAdded}) and the perceptron's
 * weights ({LinearModelPublished}, {LinearModelUpdated}).
 *
 * Row commitments (`colearn-tree-v2`): a batch of `rowCount` rows is committed by the root of a positional Merkle tree
 * whose leaf for row `i` (zero based) with canonical encoding `row` is
 * `keccak256(bytes.concat(keccak256(abi.encode(key, uint256(i), keccak256(row)))))`. The key binds the leaf to its
 * author: the contributor's address (as `bytes32(uint256(uint160(contributor)))`) for submissions, the owner's address
 * for the training set, and a secret per-row nonce for the hidden test set. Inner nodes hash `left ++ right` in order;
 * on a level with an odd number of nodes the last one is promoted unchanged. The row count fixes the shape of the tree,
 * so every index below it has exactly one leaf, and a proof is only valid for its own position. An on-chain row
 * ({contributeRow}) is row 0 of a one-row submission with no tree: the model keeps `keccak256(row)` (which is also how
 * it refuses a repeat), so wherever a row and its proof are given, an on-chain row is given with an empty proof and
 * must hash to the stored row.
 *
 * The incentive game (see docs/security.md):
 * - Objective faults are judged by this contract when a challenger reveals the row with its proof: a row that does not
 *   decode under the model's committed schema or whose label is outside the committed label set ({challengeFormat}),
 *   a row that repeats an earlier row of any submission to the model, or a row of the owner's committed training or
 *   test set ({challengeDuplicate}), and a row nobody produces when asked ({challengeAvailability}: the whole batch is
 *   forfeited).
 * - A wrong label, and a file that cannot be fetched, are judged by the model's owner within the time-out
 *   ({challengeLabel}, {challengeFile}, {resolveChallenge}).
 * - Every challenge is committed first ({commitChallenge}) and revealed in a later block, so it cannot be copied or
 *   front-run.
 * - A rejected row's deposit is burned, and the reward reserved for it goes to whoever proved it bad. A rejected label
 *   challenge's bond is burned. Nobody, the owner included, receives forfeited money, so judging one's own rows or
 *   colluding with the judge never pays.
 *
 * Money never leaves the contract except through {withdraw}: every payout is first credited (pull payments).
 */
interface IModelMarketplace is IMarketplaceTypes {
    // ----------------------------------------------------------------------------------------------- owner
    /**
     * @notice Publish a model (its version 1), commit to its row schema, training and test data, and its optional
     * on-chain perceptron; `msg.value` becomes the reward pool.
     * @dev Terms are bounded: deposit > 0, reward < deposit, bond > 0, window and time-out within
     * [{MIN_PERIOD}, {MAX_PERIOD}]. Emits {ModelPublished}, {ModelDataCommitted}, {VersionPublished} and, with weights,
     * {LinearModelPublished}.
     */
    function publishModel(
        ModelInput calldata input,
        Terms calldata terms,
        RowSchema calldata schema,
        LinearModelInput calldata linear
    ) external payable returns (uint256 modelId);

    /// @notice Publish a new version of a model with its accuracy on the hidden test set. Owner only.
    function publishVersion(uint256 modelId, bytes calldata modelCid, uint32 accuracyBps, bytes calldata evaluationCid)
        external
        returns (uint32 version);

    /// @notice Add `msg.value` to a model's reward pool. Anyone may fund it.
    function fundRewardPool(uint256 modelId) external payable;

    /// @notice Move unallocated reward back to the owner's credit. Owner only.
    function withdrawRewardPool(uint256 modelId, uint256 amount) external;

    /**
     * @notice The owner's verdict on a label or file challenge, within the time-out. Upheld: the row (for a file, every
     * row not yet rejected) is rejected, its deposit and reward burned, and the bond credited back to the challenger.
     * Rejected: the bond is burned. The fee reserved when the challenge was revealed is the challenger's either way.
     */
    function resolveChallenge(uint256 challengeId, bool upheld) external;

    /// @notice Reveal the hidden test set (salt and CID); after it anyone can derive the test rows' nonces.
    function revealTestSet(uint256 modelId, bytes32 salt, bytes calldata testSetCid) external;

    // ----------------------------------------------------------------------------------------------- contributors
    /**
     * @notice Add a batch of `rowCount` rows stored at `dataCid`, committed by `merkleRoot` (keyed by the caller);
     * `msg.value` must be `rowCount × depositPerRow`. The batch's reward may reserve at most a quarter of the pool.
     */
    function contribute(uint256 modelId, bytes calldata dataCid, bytes32 merkleRoot, uint32 rowCount)
        external
        payable
        returns (uint256 submissionId);

    /**
     * @notice Add one row on chain for a model with an on-chain perceptron; pays one deposit. Only its hash is stored:
     * the row itself is in {RowAdded}, and whoever needs it later (a challenge, {claimRow}) gives it again.
     * @param row The canonical sparse row: one byte, the label (0 or 1), then for every non-zero feature in increasing
     * index order, its index (uint32) and its value (int64, fixed point, scale 1e6), both big-endian: 1 + 12 bytes per
     * non-zero feature. A dense row has exactly one such form (zeros left out), so it is the same row whichever way it
     * was written. The row must fit the model (indices below the feature count, |value| within the bound) and not
     * repeat an earlier on-chain row of the model.
     */
    function contributeRow(uint256 modelId, bytes calldata row) external payable returns (uint256 submissionId);

    /**
     * @notice Settle a submission after its window: deposit and reward of every row not rejected are credited to the
     * contributor. Anyone may call it. An on-chain row that was not rejected is claimed with {claimRow} instead.
     */
    function claim(uint256 submissionId) external;

    /**
     * @notice Claim an on-chain row (as {claim}); when it was not rejected, the perceptron then learns it: if it
     * predicts the row's label wrongly, the weights of the row's non-zero features and the intercept move towards it.
     * @param row The row, as given to {contributeRow} (in {RowAdded}).
     * @param weights The perceptron's current weights, packed as in {LinearModelInput}: they must hash to the stored
     * weights hash (from {LinearModelPublished} and every {LinearModelUpdated} since). Not read when the row was
     * rejected.
     */
    function claimRow(uint256 submissionId, bytes calldata row, bytes calldata weights) external;

    /// @notice Pay out everything credited to the caller.
    function withdraw() external;

    // ----------------------------------------------------------------------------------------------- challengers
    /**
     * @notice Commit to a challenge; reveal it in a later block with one of the `challenge…` functions.
     * @param commitment {challengeCommitment} of the caller, the submission, the row index and a secret salt.
     */
    function commitChallenge(bytes32 commitment) external;

    /// @notice Reveal a challenge of a row whose label looks wrong; posts the bond. The owner judges.
    function challengeLabel(
        uint256 submissionId,
        uint32 rowIndex,
        bytes calldata row,
        bytes32[] calldata proof,
        bytes32 salt
    ) external payable returns (uint256 challengeId);

    /// @notice Reveal a challenge of a row that fails the model's committed schema; judged at once.
    function challengeFormat(
        uint256 submissionId,
        uint32 rowIndex,
        bytes calldata row,
        bytes32[] calldata proof,
        RowSchema calldata schema,
        bytes32 salt
    ) external returns (uint256 challengeId);

    /// @notice Reveal a challenge of a row that repeats an earlier row, or the owner's training or test data.
    function challengeDuplicate(
        uint256 submissionId,
        uint32 rowIndex,
        bytes calldata row,
        bytes32[] calldata proof,
        Source calldata source,
        bytes32 salt
    ) external returns (uint256 challengeId);

    /**
     * @notice Reveal a demand that row `rowIndex` be produced; posts the bond. Anyone may answer it with the row and
     * its proof within the time-out ({answerChallenge}), taking the bond; otherwise {expireChallenge} forfeits the
     * whole batch.
     */
    function challengeAvailability(uint256 submissionId, uint32 rowIndex, bytes32 salt)
        external
        payable
        returns (uint256 challengeId);

    /**
     * @notice Reveal a challenge of a whole batch whose file cannot be fetched or does not hold the committed rows (the
     * contract cannot see storage); posts the bond, and the owner's pool reserves a fee of one row's reward. The owner
     * judges it within the time-out ({resolveChallenge}): upheld, every row not yet rejected is rejected and its deposit
     * and reward burned, and the challenger gets the bond and the fee; rejected, the bond is burned and the fee paid.
     * Commit with row index {WHOLE_FILE}. One per submission; not for on-chain rows or by the owner.
     */
    function challengeFile(uint256 submissionId, bytes32 salt) external payable returns (uint256 challengeId);

    /// @notice Produce a row demanded by an availability challenge, with its proof; the bond is credited to the caller.
    function answerChallenge(uint256 challengeId, bytes calldata row, bytes32[] calldata proof) external;

    /**
     * @notice Close a challenge whose time-out passed. A label challenge: the bond returns, the row stands. An
     * availability challenge: the batch is forfeited (deposits burned, reserved rewards and the bond to the challenger).
     */
    function expireChallenge(uint256 challengeId) external;

    // ----------------------------------------------------------------------------------------------- views
    function modelCount() external view returns (uint256);
    function getModel(uint256 modelId) external view returns (ModelInfo memory);
    function getModels(uint256 offset, uint256 limit) external view returns (ModelInfo[] memory);
    function submissionCount() external view returns (uint256);
    function getSubmission(uint256 submissionId) external view returns (Submission memory);
    /// @notice The submissions of the given ids (a model's ids are in its {SubmissionAdded} events).
    function getSubmissions(uint256[] calldata submissionIds) external view returns (Submission[] memory);
    function challengeCount() external view returns (uint256);
    function getChallenge(uint256 challengeId) external view returns (Challenge memory);
    /// @notice The latest challenge of a row (0 if none).
    function challengeOf(uint256 submissionId, uint32 rowIndex) external view returns (uint256 challengeId);
    /// @notice Whether row `rowIndex` of a submission was rejected.
    function isRowRejected(uint256 submissionId, uint32 rowIndex) external view returns (bool);
    function linearModel(uint256 modelId) external view returns (LinearModelInfo memory);
    /// @notice The label the perceptron with `weights` (which must be its current ones) predicts for `row` (in the form
    /// of {contributeRow}): 1 if `intercept * 1e6 + sum(w_i * x_i) >= 0`, else 0.
    function predict(uint256 modelId, bytes calldata weights, bytes calldata row) external view returns (int64 label);
    function creditOf(address account) external view returns (uint256);
    /// @notice Wei burned so far: deposits of rejected rows and bonds of rejected label challenges.
    function burned() external view returns (uint256);
    /// @notice Block number at which `commitment` was made (0 if none or already used).
    function commitmentBlock(bytes32 commitment) external view returns (uint256);
    /// @notice The {RowChecker} that judges rows against schemas (its `fault(schema, row)` is free to call).
    function rowChecker() external view returns (address);
    function challengeCommitment(address challenger, uint256 submissionId, uint32 rowIndex, bytes32 salt)
        external
        pure
        returns (bytes32);
    function testSetCommitment(bytes32 salt, bytes calldata testSetCid) external pure returns (bytes32);
}
