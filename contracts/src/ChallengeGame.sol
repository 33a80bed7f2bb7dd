// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {MarketplaceStorage} from "./MarketplaceStorage.sol";
import {RowTree} from "./libraries/RowTree.sol";

/**
 * @title ChallengeGame
 * @notice The challenge functions of {IModelMarketplace}: commit, reveal (label, format, duplicate, availability, file),
 * answer, resolve and expire. {ModelMarketplace} creates one in its constructor and forwards these calls to it by
 * `delegatecall`, so they run on the marketplace's storage, balance and address; apart, the marketplace's code would
 * exceed the 24 KiB limit. Called directly, every function reverts.
 */
contract ChallengeGame is MarketplaceStorage {
    using SafeCast for uint256;

    address private immutable _self = address(this);

    error ChallengeGameNotDelegated();

    modifier onlyDelegated() {
        if (address(this) == _self) revert ChallengeGameNotDelegated();
        _;
    }

    /**
     * @notice See {IModelMarketplace}.
     * @dev On a forfeited batch the verdict no longer matters: the bond returns to the challenger. The owner's balance
     * is the same whatever the verdict: the fee is paid either way, and the deposits and rewards of rejected rows are
     * burned like the bond of a rejected challenge.
     */
    function resolveChallenge(uint256 challengeId, bool upheld) external onlyDelegated {
        ChallengeRecord storage challenged = _existingChallenge(challengeId);
        ChallengeKind kind = challenged.kind;
        if (kind != ChallengeKind.Label && kind != ChallengeKind.File) {
            revert MarketplaceWrongChallengeKind(challengeId, kind);
        }
        uint256 submissionId = challenged.submissionId;
        SubmissionRecord storage submission = _submissions[submissionId];
        ModelRecord storage model = _ownedModel(submission.modelId);
        if (challenged.status != ChallengeStatus.Pending) revert MarketplaceChallengeNotPending(challengeId);
        uint64 resolveBy = challenged.resolveBy;
        if (block.timestamp > resolveBy) revert MarketplaceResolutionTimedOut(challengeId, resolveBy);

        address challenger = challenged.challenger;
        uint256 bond = challenged.bond;
        uint256 fee = challenged.fee;
        submission.openChallenges -= 1;
        if (submission.forfeited) {
            _closeOwnerChallenge(challenged, model, challengeId, submissionId);
            return;
        }
        _credits[challenger] += fee;
        if (upheld) {
            challenged.status = ChallengeStatus.Upheld;
            if (kind == ChallengeKind.File) {
                _forfeit(submission, submissionId, challengeId, challenger, false);
            } else {
                _rejectRow(model, submission, submissionId, challenged.rowIndex, challengeId, challenger, false);
            }
            _credits[challenger] += bond;
            emit ChallengeResolved(challengeId, submissionId, true, challenger, bond + fee);
        } else {
            challenged.status = ChallengeStatus.Rejected;
            _burned += bond;
            emit ChallengeResolved(challengeId, submissionId, false, challenger, fee);
        }
    }

    /// @notice See {IModelMarketplace}.
    function commitChallenge(bytes32 commitment) external onlyDelegated {
        if (_commitBlocks[commitment] != 0) revert MarketplaceCommitmentExists(commitment);
        _commitBlocks[commitment] = block.number;
        emit ChallengeCommitted(commitment, msg.sender);
    }

    /**
     * @notice See {IModelMarketplace}.
     * @dev The owner judges label challenges, so cannot raise one. A row gets one label challenge at most.
     */
    function challengeLabel(
        uint256 submissionId,
        uint32 rowIndex,
        bytes calldata row,
        bytes32[] calldata proof,
        bytes32 salt
    ) external payable onlyDelegated returns (uint256 challengeId) {
        _useCommitment(submissionId, rowIndex, salt);
        SubmissionRecord storage submission = _labelChallengeable(submissionId, rowIndex);
        _checkProof(submission, submissionId, rowIndex, row, proof);
        challengeId = _openOwnerChallenge(submission, submissionId, rowIndex, ChallengeKind.Label, row);
    }

    /**
     * @notice See {IModelMarketplace}.
     * @dev `schema` must hash to the model's committed schema hash. On-chain rows are checked when they are added.
     */
    function challengeFormat(
        uint256 submissionId,
        uint32 rowIndex,
        bytes calldata row,
        bytes32[] calldata proof,
        RowSchema calldata schema,
        bytes32 salt
    ) external onlyDelegated returns (uint256 challengeId) {
        _useCommitment(submissionId, rowIndex, salt);
        (SubmissionRecord storage submission,) = _challengeable(submissionId, rowIndex, true);
        if (submission.onChainRow) revert MarketplaceNotApplicable("on-chain rows are checked when they are added");
        ModelRecord storage model = _models[submission.modelId];
        if (keccak256(abi.encode(schema)) != model.schemaHash) revert MarketplaceSchemaMismatch(submission.modelId);
        _checkProof(submission, submissionId, rowIndex, row, proof);
        if (_rowChecker.fault(schema, row) == RowFault.None) revert MarketplaceRowIsValid(submissionId, rowIndex);

        challengeId = _judgedChallenge(model, submission, submissionId, rowIndex, ChallengeKind.Format, row);
    }

    /**
     * @notice See {IModelMarketplace}.
     * @dev An earlier row is a row of a submission to the same model with a lower id, or of the same submission at a
     * lower index; the row bytes must be identical. Anyone may show a copy of the training set; a copy of the test
     * set needs the nonce of its leaf, which only the owner knows until the test set is revealed. An on-chain row is
     * refused: its repeats are refused when it is added (by its hash), and it never equals a committed canonical row
     * unless that row is malformed (a bait, placed first by whoever saw the row pending, to have it rejected).
     */
    function challengeDuplicate(
        uint256 submissionId,
        uint32 rowIndex,
        bytes calldata row,
        bytes32[] calldata proof,
        Source calldata source,
        bytes32 salt
    ) external onlyDelegated returns (uint256 challengeId) {
        _useCommitment(submissionId, rowIndex, salt);
        (SubmissionRecord storage submission,) = _challengeable(submissionId, rowIndex, true);
        if (submission.onChainRow) {
            revert MarketplaceNotApplicable("on-chain rows are checked for repeats when they are added");
        }
        _checkProof(submission, submissionId, rowIndex, row, proof);
        ModelRecord storage model = _models[submission.modelId];
        ChallengeKind kind = _checkSource(model, submission.modelId, submissionId, rowIndex, keccak256(row), source);

        challengeId = _judgedChallenge(model, submission, submissionId, rowIndex, kind, row);
    }

    /**
     * @notice See {IModelMarketplace}.
     * @dev A row already produced on chain (by an earlier challenge or answer, or an on-chain row) cannot be demanded.
     */
    function challengeAvailability(uint256 submissionId, uint32 rowIndex, bytes32 salt)
        external
        payable
        onlyDelegated
        returns (uint256 challengeId)
    {
        _useCommitment(submissionId, rowIndex, salt);
        (SubmissionRecord storage submission, RowState storage state) = _challengeable(submissionId, rowIndex, false);
        if (state.revealed || submission.onChainRow) revert MarketplaceRowAlreadyRevealed(submissionId, rowIndex);
        ModelRecord storage model = _models[submission.modelId];
        uint128 bond = model.challengeBond;
        if (msg.value != bond) revert MarketplaceIncorrectPayment(bond, msg.value);

        uint64 resolveBy = _now() + model.ownerTimeout;
        challengeId =
            _openChallenge(submission, submissionId, rowIndex, ChallengeKind.Availability, "", bond, 0, resolveBy);
    }

    /**
     * @notice See {IModelMarketplace}.
     * @dev Committed with row index {WHOLE_FILE}. The owner judges it, so cannot raise one. One per submission.
     */
    function challengeFile(uint256 submissionId, bytes32 salt)
        external
        payable
        onlyDelegated
        returns (uint256 challengeId)
    {
        _useCommitment(submissionId, WHOLE_FILE, salt);
        SubmissionRecord storage submission = _existingSubmission(submissionId);
        if (submission.forfeited) revert MarketplaceSubmissionForfeited(submissionId);
        uint64 windowEndsAt = submission.windowEndsAt;
        if (block.timestamp >= windowEndsAt) revert MarketplaceChallengeWindowClosed(submissionId, windowEndsAt);
        if (submission.onChainRow) revert MarketplaceNotApplicable("an on-chain row has no file");
        if (submission.fileJudged) revert MarketplaceFileAlreadyJudged(submissionId);
        ModelRecord storage model = _models[submission.modelId];
        if (msg.sender == model.owner) revert MarketplaceOwnerCannotChallenge(submission.modelId);
        uint128 bond = model.challengeBond;
        if (msg.value != bond) revert MarketplaceIncorrectPayment(bond, msg.value);
        submission.fileJudged = true;
        challengeId = _openOwnerChallenge(submission, submissionId, WHOLE_FILE, ChallengeKind.File, "");
    }

    /**
     * @notice See {IModelMarketplace}.
     * @dev Anyone holding the file may answer, not only the contributor. The answered row can then be challenged on
     * its content like any other.
     */
    function answerChallenge(uint256 challengeId, bytes calldata row, bytes32[] calldata proof) external onlyDelegated {
        ChallengeRecord storage challenged = _existingChallenge(challengeId);
        if (challenged.kind != ChallengeKind.Availability) {
            revert MarketplaceWrongChallengeKind(challengeId, challenged.kind);
        }
        if (challenged.status != ChallengeStatus.Pending) revert MarketplaceChallengeNotPending(challengeId);
        uint64 resolveBy = challenged.resolveBy;
        if (block.timestamp > resolveBy) revert MarketplaceResolutionTimedOut(challengeId, resolveBy);
        uint256 submissionId = challenged.submissionId;
        SubmissionRecord storage submission = _submissions[submissionId];
        uint32 rowIndex = challenged.rowIndex;
        _checkProof(submission, submissionId, rowIndex, row, proof);

        uint256 bond = challenged.bond;
        challenged.status = ChallengeStatus.Answered;
        _rowStates[submissionId][rowIndex].revealed = true;
        submission.openChallenges -= 1;
        _credits[msg.sender] += bond;
        emit ChallengeAnswered(challengeId, submissionId, msg.sender, row, bond);
    }

    /**
     * @notice See {IModelMarketplace}.
     * @dev Anyone may call it once the time-out has passed.
     */
    function expireChallenge(uint256 challengeId) external onlyDelegated {
        ChallengeRecord storage challenged = _existingChallenge(challengeId);
        if (challenged.status != ChallengeStatus.Pending) revert MarketplaceChallengeNotPending(challengeId);
        uint64 resolveBy = challenged.resolveBy;
        if (block.timestamp <= resolveBy) revert MarketplaceResolutionPending(challengeId, resolveBy);

        uint256 submissionId = challenged.submissionId;
        SubmissionRecord storage submission = _submissions[submissionId];
        submission.openChallenges -= 1;
        if (challenged.kind == ChallengeKind.Label || challenged.kind == ChallengeKind.File) {
            _closeOwnerChallenge(challenged, _models[submission.modelId], challengeId, submissionId);
            return;
        }
        address challenger = challenged.challenger;
        uint256 bond = challenged.bond;
        if (submission.forfeited) {
            challenged.status = ChallengeStatus.Expired;
        } else {
            challenged.status = ChallengeStatus.Upheld;
            _forfeit(submission, submissionId, challengeId, challenger, true);
        }
        _credits[challenger] += bond;
        emit ChallengeExpired(challengeId, submissionId, bond);
    }

    // ================================================================================================== internal

    /// @dev Checks a label challenge of a row (except its proof) and marks the row as judged and revealed.
    function _labelChallengeable(uint256 submissionId, uint32 rowIndex)
        private
        returns (SubmissionRecord storage submission)
    {
        RowState storage state;
        (submission, state) = _challengeable(submissionId, rowIndex, false);
        ModelRecord storage model = _models[submission.modelId];
        if (msg.sender == model.owner) revert MarketplaceOwnerCannotChallenge(submission.modelId);
        if (state.labelJudged) revert MarketplaceRowAlreadyJudged(submissionId, rowIndex, state.challengeId);
        uint128 bond = model.challengeBond;
        if (msg.value != bond) revert MarketplaceIncorrectPayment(bond, msg.value);
        state.labelJudged = true;
        state.revealed = true;
    }

    /// @dev Opens a challenge the owner judges (label or file): the bond was paid; the fee (up to one row's reward, and
    /// always less than the bond) is reserved from the pool.
    function _openOwnerChallenge(
        SubmissionRecord storage submission,
        uint256 submissionId,
        uint32 rowIndex,
        ChallengeKind kind,
        bytes memory row
    ) private returns (uint256 challengeId) {
        ModelRecord storage model = _models[submission.modelId];
        uint256 available = model.rewardPool;
        uint128 bond = model.challengeBond;
        uint256 fee = model.rewardPerRow;
        // the fee is paid on either verdict, so it must stay below the bond: else a challenge the owner rejects would
        // pay its author (the terms only require a bond above zero, so it may be below the reward)
        // unchecked: the bond is above zero ({_checkTerms})
        unchecked {
            if (fee >= bond) fee = bond - 1;
        }
        if (fee > available) fee = available;
        // unchecked: fee <= available, so the new pool fits in the pool's 96 bits
        unchecked {
            model.rewardPool = uint96(available - fee);
        }
        uint64 resolveBy = _now() + model.ownerTimeout;
        challengeId = _openChallenge(submission, submissionId, rowIndex, kind, row, bond, fee.toUint128(), resolveBy);
    }

    /// @dev Closes a pending label or file challenge without a verdict (the owner missed the time-out, the batch was
    /// forfeited, or the contract rejected the row on other grounds): the bond returns to the challenger, the fee to the
    /// pool. The caller has already decremented the submission's open challenges.
    function _closeOwnerChallenge(
        ChallengeRecord storage challenged,
        ModelRecord storage model,
        uint256 challengeId,
        uint256 submissionId
    ) private {
        uint256 bond = challenged.bond;
        challenged.status = ChallengeStatus.Expired;
        // the fee was taken from this pool (and the pool only grows by ether paid in), so the sum fits in 96 bits
        model.rewardPool += uint96(challenged.fee);
        _credits[challenged.challenger] += bond;
        emit ChallengeExpired(challengeId, submissionId, bond);
    }

    /// @dev Consumes the caller's commitment to challenge row `rowIndex` of `submissionId`, made in an earlier block.
    function _useCommitment(uint256 submissionId, uint32 rowIndex, bytes32 salt) private {
        bytes32 commitment = _challengeCommitment(msg.sender, submissionId, rowIndex, salt);
        uint256 committedAt = _commitBlocks[commitment];
        if (committedAt == 0) revert MarketplaceCommitmentUnknown(commitment);
        if (committedAt >= block.number) revert MarketplaceCommitmentTooRecent(commitment);
        delete _commitBlocks[commitment];
    }

    /// @dev Reverts unless row `rowIndex` of `submissionId` can be challenged now: in the window, not rejected, no
    /// challenge pending on it.
    function _challengeable(uint256 submissionId, uint32 rowIndex, bool objective)
        private
        view
        returns (SubmissionRecord storage submission, RowState storage state)
    {
        submission = _existingSubmission(submissionId);
        if (submission.forfeited) revert MarketplaceSubmissionForfeited(submissionId);
        uint64 windowEndsAt = submission.windowEndsAt;
        if (block.timestamp >= windowEndsAt) revert MarketplaceChallengeWindowClosed(submissionId, windowEndsAt);
        uint32 rowCount = _rowCount(submission);
        if (rowIndex >= rowCount) revert MarketplaceRowIndexOutOfRange(submissionId, rowIndex, rowCount);
        state = _rowStates[submissionId][rowIndex];
        if (state.rejected) revert MarketplaceRowAlreadyRejected(submissionId, rowIndex);
        uint64 latest = state.challengeId;
        if (latest != 0 && _challenges[latest].status == ChallengeStatus.Pending) {
            // a pending label challenge does not shield a row from faults the contract judges (see _judgedChallenge)
            if (!objective || _challenges[latest].kind != ChallengeKind.Label) {
                revert MarketplaceRowChallengePending(submissionId, rowIndex, latest);
            }
        }
    }

    /// @dev Reverts unless `proof` shows that `row` is row `rowIndex` of the submission: for an on-chain row, the proof
    /// is empty and the row must be the one stored (by its hash).
    function _checkProof(
        SubmissionRecord storage submission,
        uint256 submissionId,
        uint32 rowIndex,
        bytes calldata row,
        bytes32[] calldata proof
    ) private view {
        bool valid;
        if (submission.onChainRow) {
            valid = rowIndex == 0 && proof.length == 0 && _isOnChainRow(submission.modelId, submissionId, row);
        } else {
            bytes32 leaf = RowTree.leaf(RowTree.keyOf(submission.contributor), rowIndex, row);
            valid = RowTree.verify(proof, submission.merkleRoot, submission.rowCount, rowIndex, leaf);
        }
        if (!valid) revert MarketplaceInvalidProof(submissionId, rowIndex);
    }

    /// @dev Reverts unless `source` proves that the row hashing to `rowHash` repeats an earlier committed row; returns
    /// the challenge kind.
    function _checkSource(
        ModelRecord storage model,
        uint256 modelId,
        uint256 submissionId,
        uint32 rowIndex,
        bytes32 rowHash,
        Source calldata source
    ) private view returns (ChallengeKind) {
        if (source.kind == SourceKind.Training) {
            _checkSourceProof(source, model.trainingRoot, model.trainingRowCount, RowTree.keyOf(model.owner), rowHash);
            return ChallengeKind.TrainingCopy;
        }
        if (source.kind == SourceKind.Test) {
            _checkSourceProof(source, model.testRoot, model.testRowCount, source.nonce, rowHash);
            return ChallengeKind.TestCopy;
        }
        uint256 sourceId = source.submissionId;
        if (sourceId > submissionId || (sourceId == submissionId && source.rowIndex >= rowIndex)) {
            revert MarketplaceNotADuplicate("the source row is not earlier");
        }
        SubmissionRecord storage original = _existingSubmission(sourceId);
        if (original.modelId != modelId) revert MarketplaceNotADuplicate("the source is another model's");
        if (original.onChainRow) {
            // an on-chain source is known by its row's hash: row 0, no proof
            if (source.rowIndex != 0 || source.proof.length != 0 || _onChainRowIds[modelId][rowHash] != sourceId) {
                revert MarketplaceInvalidSourceProof(source.kind, source.rowIndex);
            }
        } else {
            _checkSourceProof(
                source, original.merkleRoot, original.rowCount, RowTree.keyOf(original.contributor), rowHash
            );
        }
        return ChallengeKind.Duplicate;
    }

    /// @dev Reverts unless `source.proof` shows that the row hashing to `rowHash` is leaf `source.rowIndex` (keyed by
    /// `key`) of the tree of `count` rows with root `root`.
    function _checkSourceProof(Source calldata source, bytes32 root, uint256 count, bytes32 key, bytes32 rowHash)
        private
        pure
    {
        bytes32 leaf = RowTree.leafOfHash(key, source.rowIndex, rowHash);
        if (!RowTree.verify(source.proof, root, count, source.rowIndex, leaf)) {
            revert MarketplaceInvalidSourceProof(source.kind, source.rowIndex);
        }
    }

    /// @dev Records a pending challenge of a row and emits {RowChallenged}.
    function _openChallenge(
        SubmissionRecord storage submission,
        uint256 submissionId,
        uint32 rowIndex,
        ChallengeKind kind,
        bytes memory row,
        uint128 bond,
        uint128 fee,
        uint64 resolveBy
    ) private returns (uint256 challengeId) {
        challengeId = _newChallenge(submissionId, rowIndex, kind, ChallengeStatus.Pending, bond, fee, resolveBy);
        submission.openChallenges += 1;
        emit RowChallenged(submission.modelId, submissionId, challengeId, rowIndex, msg.sender, kind, row, resolveBy);
    }

    /// @dev Records a challenge the contract judged at once (the row is bad) and rejects the row. Its reward goes to
    /// the challenger, except for a copy of the test set in a submission made while the set was hidden: until the
    /// reveal only the owner (or whom it told the nonces) could show one, from a set its contributor could not see or
    /// check, so the reward is burned as for an owner's verdict, even when the copy is shown after the reveal. Paid to
    /// the owner's side, it made filling the set with rows expected from contributors a free way to take them.
    function _judgedChallenge(
        ModelRecord storage model,
        SubmissionRecord storage submission,
        uint256 submissionId,
        uint32 rowIndex,
        ChallengeKind kind,
        bytes calldata row
    ) private returns (uint256 challengeId) {
        uint64 pending = _rowStates[submissionId][rowIndex].challengeId;
        if (pending != 0 && _challenges[pending].status == ChallengeStatus.Pending) {
            // only a label challenge can be pending here ({_challengeable}); the contract's verdict supersedes it
            submission.openChallenges -= 1;
            _closeOwnerChallenge(_challenges[pending], model, pending, submissionId);
        }
        challengeId = _newChallenge(submissionId, rowIndex, kind, ChallengeStatus.Upheld, 0, 0, 0);
        emit RowChallenged(submission.modelId, submissionId, challengeId, rowIndex, msg.sender, kind, row, 0);
        bool payReward =
            kind != ChallengeKind.TestCopy || (model.testSetRevealed && submissionId > model.submissionsAtReveal);
        _rejectRow(model, submission, submissionId, rowIndex, challengeId, msg.sender, payReward);
    }

    function _newChallenge(
        uint256 submissionId,
        uint32 rowIndex,
        ChallengeKind kind,
        ChallengeStatus status,
        uint128 bond,
        uint128 fee,
        uint64 resolveBy
    ) private returns (uint256 challengeId) {
        challengeId = ++_challengeCount;
        _challenges[challengeId] = ChallengeRecord({
            challenger: msg.sender,
            rowIndex: rowIndex,
            kind: kind,
            status: status,
            resolveBy: uint40(resolveBy), // now + 30 days at most: 40 bits last until the year 36812
            submissionId: submissionId.toUint64(),
            bond: uint96(bond), // the model's bond, a 96-bit amount
            fee: uint96(fee) // at most the model's reward per row, a 96-bit amount
        });
        if (rowIndex != WHOLE_FILE) _rowStates[submissionId][rowIndex].challengeId = challengeId.toUint64();
    }

    /// @dev Forfeits every row of a batch not yet rejected: deposits burned; reserved rewards credited to `challenger`
    /// when the contract judged the batch (`payReward`), burned too when the owner did (see {_rejectRow}).
    function _forfeit(
        SubmissionRecord storage submission,
        uint256 submissionId,
        uint256 challengeId,
        address challenger,
        bool payReward
    ) private {
        uint256 modelId = submission.modelId;
        uint32 rows;
        uint32 rowCount = _rowCount(submission);
        // unchecked: rowsRejected never exceeds the row count
        unchecked {
            rows = rowCount - submission.rowsRejected;
        }
        ModelRecord storage model = _models[modelId];
        uint256 burnedNow = uint256(rows) * model.depositPerRow;
        uint256 reward = uint256(rows) * model.rewardPerRow;
        if (!payReward) {
            burnedNow += reward;
            reward = 0;
        }
        submission.forfeited = true;
        submission.rowsRejected = rowCount;
        model.rowsRejected += rows;
        _burned += burnedNow;
        _credits[challenger] += reward;
        emit SubmissionForfeited(modelId, submissionId, challengeId, rows, reward, burnedNow);
    }
}
