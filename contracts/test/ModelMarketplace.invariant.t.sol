// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {IMarketplaceTypes} from "../src/IMarketplaceTypes.sol";
import {ModelMarketplace} from "../src/ModelMarketplace.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";
import {SparseRows} from "./utils/SparseRows.sol";
import {CheatCodes, TestBase} from "./utils/TestBase.sol";

/**
 * @dev Drives the marketplace with bounded random actions of a few actors: publish (with or without a perceptron),
 * fund and withdraw pools, contribute batches (mixing fresh rows, malformed rows, rows repeated within the batch,
 * copies of earlier batches' rows and of the owner's training and test data) and on-chain rows, commit and reveal
 * every kind of challenge (file challenges too; format and duplicate ones also on rows under a pending label challenge, which they
 * supersede), answer, resolve (both verdicts), expire, claim, withdraw, and move time. {replay} attempts what must
 * fail (rejecting a rejected row, claiming twice, settling a settled challenge, challenging a row twice at once).
 *
 * Actions pick targets that make the call meaningful; calls that still revert are discarded by forge
 * (`fail_on_revert = false`). Since a reverting handler call leaves no trace, the handler never reverts on a broken
 * expectation: it counts it in {ghostViolations}, which the invariants check.
 *
 * Ghost accounting: after every action the handler compares the marketplace's views with its ghost copies and books
 * what changed: new and settled challenges, newly rejected rows (seen through {IModelMarketplace-isRowRejected}) and
 * claims. From these it keeps, independently of the contract's own bookkeeping, the credit each actor should have,
 * the wei that should be burned, and the rewards credited so far.
 */
contract MarketplaceHandler is CheatCodes {
    uint256 private constant ACTOR_COUNT = 5;
    uint256 private constant MAX_MODELS = 4;
    uint32 private constant MAX_BATCH = 8;
    int64 private constant ONE = 1e6;
    uint64 private constant MAX_FLOAT_BITS = 0x41CDCD6500000000; // 1e9
    uint64 private constant MAX_FEATURE = 1e12;
    uint256 private constant TRAINING_SALT = 1_000_001;
    uint256 private constant TEST_SALT = 1_000_002;
    uint32 private constant TRAINING_ROWS = 5;
    uint32 private constant TEST_ROWS = 3;
    bytes32 private constant TEST_NONCE_SALT = keccak256("salt");

    /// @dev What the handler knows of a row it contributed.
    enum RowKind {
        Fresh,
        Malformed, // fails the schema
        Repeat, // repeats an earlier row of the same batch
        Copy, // copies a row of an earlier submission to the same model
        TrainingCopy,
        TestCopy,
        OnChain
    }

    /// @dev Which rows an action looks for.
    enum Want {
        LabelNotJudged,
        Malformed,
        Duplicate,
        Unrevealed
    }

    struct RowNote {
        RowKind kind;
        uint256 sourceId; // Copy: the submission copied
        uint32 sourceRow; // Repeat, Copy, TrainingCopy, TestCopy: the row copied
    }

    /// @dev Ghost copy of a submission, updated from the views after every action.
    struct GhostSubmission {
        uint256 modelId;
        address contributor;
        uint32 rowCount;
        uint32 rowsRejected;
        uint64 windowEndsAt;
        uint128 depositPerRow;
        uint128 rewardPerRow;
        bool claimed;
        bool forfeited;
    }

    ModelMarketplace public immutable marketplace;

    address[] private _actors;
    uint256[] private _modelIds;
    uint256[] private _submissionIds;
    uint256[] private _pending; // challenges the ghost believes pending
    mapping(uint256 modelId => address) private _ownerOf;
    mapping(uint256 modelId => IMarketplaceTypes.Terms) private _termsOf;
    mapping(uint256 modelId => bool) private _hasPerceptron;
    mapping(uint256 modelId => uint256[]) private _submissionsOf;
    mapping(uint256 modelId => mapping(bytes32 rowHash => bool)) private _onChainRows;
    /// @dev The dense reference perceptron of each model (see {SparseRows}), and the dense on-chain rows.
    mapping(uint256 modelId => int64[]) private _weights;
    mapping(uint256 modelId => int64) private _intercept;
    mapping(uint256 submissionId => int64[]) private _denseRow;
    mapping(uint256 modelId => mapping(bytes32 root => bool)) private _roots;
    mapping(uint256 submissionId => GhostSubmission) private _subs;
    mapping(uint256 submissionId => bytes[]) private _rows;
    mapping(uint256 submissionId => RowNote[]) private _notes;
    mapping(uint256 submissionId => mapping(uint32 row => bool)) private _labelJudged;
    mapping(uint256 submissionId => mapping(uint32 row => bool)) private _revealed;
    mapping(uint256 submissionId => address) private _forfeiter;
    mapping(uint256 submissionId => bool) private _forfeitBurnsRewards; // forfeited by the owner's file verdict
    mapping(uint256 submissionId => bool) private _fileJudged;
    mapping(uint256 submissionId => mapping(uint32 row => bool)) public ghostRejected;
    mapping(address account => uint256) public ghostCredit;

    uint256 private _nonce;
    uint256 private _time;
    uint256 private _block;
    uint256 private _challengesSeen;
    address private _lastAnswerer;

    uint256 public ghostPaidIn;
    uint256 public ghostWithdrawn;
    uint256 public ghostBurned; // what burned() should be
    uint256 public ghostRewardsReserved; // Σ rowCount × rewardPerRow over all submissions
    // rewards settled: credited to contributors (claim) and objective challengers (rejection), or burned (rows whose
    // label the owner rejected)
    uint256 public ghostRewardsCredited;
    uint256 public ghostRowRejections; // (submission, row) pairs seen turning rejected
    uint256 public ghostViolations;
    string public lastViolation;

    /// @dev What happened, for the report (see {ModelMarketplaceInvariantTest-afterInvariant}).
    uint256[18] public tally;

    uint256 internal constant T_BATCHES = 0;
    uint256 internal constant T_ON_CHAIN_ROWS = 1;
    uint256 internal constant T_LABEL = 2;
    uint256 internal constant T_FORMAT = 3;
    uint256 internal constant T_DUPLICATE = 4;
    uint256 internal constant T_OWNER_DATA_COPY = 5;
    uint256 internal constant T_AVAILABILITY = 6;
    uint256 internal constant T_ANSWERED = 7;
    uint256 internal constant T_UPHELD = 8;
    uint256 internal constant T_REJECTED = 9;
    uint256 internal constant T_EXPIRED = 10;
    uint256 internal constant T_FORFEITED = 11;
    uint256 internal constant T_CLAIMS = 12;
    uint256 internal constant T_TRAINED = 13;
    uint256 internal constant T_WITHDRAWALS = 14;
    uint256 internal constant T_REPEATS_REFUSED = 15;
    uint256 internal constant T_REPLAYS_REFUSED = 16;
    uint256 internal constant T_FILE = 17;

    constructor(ModelMarketplace marketplace_) {
        marketplace = marketplace_;
        for (uint256 i = 0; i < ACTOR_COUNT; ++i) {
            _actors.push(makeAddr(string.concat("actor", vm.toString(i))));
        }
        _time = block.timestamp;
        _block = block.number;
    }

    /// @dev Every action starts at the latest time and block any action reached, and books its effects after.
    modifier act() {
        if (block.timestamp < _time) vm.warp(_time);
        if (block.number < _block) vm.roll(_block);
        _;
        _time = block.timestamp;
        _block = block.number;
        _sync();
    }

    // --------------------------------------------------------------------------------------------- ghost lists

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function submissionIds() external view returns (uint256[] memory) {
        return _submissionIds;
    }

    // --------------------------------------------------------------------------------------------- owners

    function publishModel(
        uint256 actorSeed,
        uint128 depositPerRow,
        uint128 rewardPerRow,
        uint128 challengeBond,
        uint64 challengeWindow,
        uint64 ownerTimeout,
        uint256 pool,
        bool withPerceptron
    ) external act {
        if (_modelIds.length >= MAX_MODELS) return;
        address owner = _actor(actorSeed);
        IMarketplaceTypes.Terms memory terms;
        terms.depositPerRow = uint128(bound(depositPerRow, 1, 1 ether));
        terms.rewardPerRow = uint128(bound(rewardPerRow, 0, _min(terms.depositPerRow - 1, 0.1 ether)));
        terms.challengeBond = uint128(bound(challengeBond, 1, 1 ether));
        terms.challengeWindow = uint64(bound(challengeWindow, 1 minutes, 3 days));
        terms.ownerTimeout = uint64(bound(ownerTimeout, 1 minutes, 3 days));
        pool = bound(pool, 0, 100 ether);

        vm.deal(owner, pool);
        vm.prank(owner);
        uint256 modelId =
            marketplace.publishModel{value: pool}(_input(owner), terms, _schema(), _linear(withPerceptron));
        ghostPaidIn += pool;
        _modelIds.push(modelId);
        _ownerOf[modelId] = owner;
        _termsOf[modelId] = terms;
        _hasPerceptron[modelId] = withPerceptron;
        if (withPerceptron) _weights[modelId] = SparseRows.unpack(_linear(true).weights);
    }

    function fundRewardPool(uint256 actorSeed, uint256 modelSeed, uint256 amount) external act {
        if (_modelIds.length == 0) return;
        address funder = _actor(actorSeed);
        amount = bound(amount, 1, 10 ether);
        vm.deal(funder, amount);
        vm.prank(funder);
        marketplace.fundRewardPool{value: amount}(_pick(_modelIds, modelSeed));
        ghostPaidIn += amount;
    }

    function withdrawRewardPool(uint256 modelSeed, uint256 amount) external act {
        if (_modelIds.length == 0) return;
        uint256 modelId = _pick(_modelIds, modelSeed);
        amount = bound(amount, 0, marketplace.getModel(modelId).rewardPool);
        address owner = _ownerOf[modelId];
        vm.prank(owner);
        marketplace.withdrawRewardPool(modelId, amount);
        _credit(owner, amount);
    }

    /// @dev The owner's verdict on a pending label or file challenge, within the time-out.
    function resolveChallenge(uint256 challengeSeed, bool upheld) external act {
        IMarketplaceTypes.ChallengeKind kind =
            challengeSeed % 3 == 0 ? IMarketplaceTypes.ChallengeKind.File : IMarketplaceTypes.ChallengeKind.Label;
        (bool found, IMarketplaceTypes.Challenge memory pending) = _findPending(challengeSeed, kind, false);
        if (!found) return;
        vm.prank(_ownerOf[_subs[pending.submissionId].modelId]);
        marketplace.resolveChallenge(pending.id, upheld);
    }

    // --------------------------------------------------------------------------------------------- contributors

    /// @dev A batch of up to 8 rows; four bits of `mix` per row choose what the row is (see {_buildRow}).
    function contribute(uint256 actorSeed, uint256 modelSeed, uint32 rowCount, uint256 mix) external act {
        if (_modelIds.length == 0) return;
        uint256 modelId = _pick(_modelIds, modelSeed);
        uint32 maxRows = _maxRows(modelId);
        if (maxRows == 0) return;
        rowCount = uint32(bound(rowCount, 1, maxRows));
        uint256 salt = ++_nonce;
        bytes[] memory rows = new bytes[](rowCount);
        RowNote[] memory notes = new RowNote[](rowCount);
        for (uint32 i = 0; i < rowCount; ++i) {
            _buildRow(modelId, rows, notes, i, salt, mix);
        }
        _submitBatch(_actor(actorSeed), modelId, rows, notes, salt);
    }

    function _submitBatch(address contributor, uint256 modelId, bytes[] memory rows, RowNote[] memory notes, uint256 salt)
        private
    {
        bytes32 root = MerkleBuilder.root(MerkleBuilder.leaves(MerkleBuilder.keyOf(contributor), rows));
        uint256 deposit = rows.length * _termsOf[modelId].depositPerRow;
        vm.deal(contributor, deposit);
        vm.prank(contributor);
        if (_roots[modelId][root]) {
            // the same rows again from the same contributor (a batch of copies): the root must be refused
            try marketplace.contribute{value: deposit}(modelId, _cid(salt), root, uint32(rows.length)) {
                _violation("a root was submitted twice to a model");
            } catch {
                ++tally[T_REPEATS_REFUSED];
            }
            return;
        }
        uint256 submissionId =
            marketplace.contribute{value: deposit}(modelId, _cid(salt), root, uint32(rows.length));
        _roots[modelId][root] = true;
        _record(submissionId, rows, notes, deposit);
        ++tally[T_BATCHES];
    }

    /// @dev An on-chain row on a small grid, so that rows repeat: a repeated row must be refused.
    function contributeRow(uint256 actorSeed, uint256 modelSeed, int8 x0, int8 x1, bool positive) external act {
        (bool found, uint256 modelId) = _findPerceptronModel(modelSeed);
        if (!found || _maxRows(modelId) == 0) return;
        int64[] memory features = new int64[](2);
        features[0] = int64(bound(x0, -2, 2)) * ONE;
        features[1] = int64(bound(x1, -2, 2)) * ONE;
        int64 label = positive ? int64(1) : int64(0);
        bytes[] memory rows = new bytes[](1);
        rows[0] = SparseRows.fromDense(features, label);
        address contributor = _actor(actorSeed);
        uint256 deposit = _termsOf[modelId].depositPerRow;

        vm.deal(contributor, deposit);
        vm.prank(contributor);
        if (_onChainRows[modelId][keccak256(rows[0])]) {
            try marketplace.contributeRow{value: deposit}(modelId, rows[0]) {
                _violation("a repeated on-chain row was accepted");
            } catch {
                ++tally[T_REPEATS_REFUSED];
            }
            return;
        }
        uint256 submissionId = marketplace.contributeRow{value: deposit}(modelId, rows[0]);
        _onChainRows[modelId][keccak256(rows[0])] = true;
        _denseRow[submissionId] = features;
        RowNote[] memory notes = new RowNote[](1);
        notes[0].kind = RowKind.OnChain;
        _record(submissionId, rows, notes, deposit);
        _revealed[submissionId][0] = true;
        ++tally[T_ON_CHAIN_ROWS];
    }

    /// @dev Claims a settleable submission; if none is settleable yet, time skips to the nearest window end. An
    /// on-chain row not rejected is claimed with its row and the reference perceptron's weights, and the perceptron must
    /// then be the reference's after the same dense update.
    function claim(uint256 submissionSeed, uint256 callerSeed) external act {
        (bool found, uint256 submissionId) = _findSettleable(submissionSeed);
        if (!found) return;
        uint256 modelId = _subs[submissionId].modelId;
        bool learns = _notes[submissionId][0].kind == RowKind.OnChain && !marketplace.isRowRejected(submissionId, 0);
        vm.prank(_actor(callerSeed));
        if (!learns) {
            marketplace.claim(submissionId);
            ++tally[T_CLAIMS];
            return;
        }
        try marketplace.claim(submissionId) {
            _violation("an accepted on-chain row was claimed without teaching the perceptron");
        } catch {}
        vm.prank(_actor(callerSeed));
        marketplace.claimRow(submissionId, _rows[submissionId][0], SparseRows.pack(_weights[modelId]));
        ++tally[T_CLAIMS];
        int64 label = SparseRows.labelOf(_rows[submissionId][0]);
        (_weights[modelId], _intercept[modelId],) =
            SparseRows.learn(_weights[modelId], _intercept[modelId], _denseRow[submissionId], label);
        IMarketplaceTypes.LinearModelInfo memory linear = marketplace.linearModel(modelId);
        if (linear.weightsHash != keccak256(SparseRows.pack(_weights[modelId])) || linear.intercept != _intercept[modelId])
        {
            _violation("the perceptron is not the dense reference's after the same rows");
        }
    }

    function withdraw(uint256 actorSeed) external act {
        address account = _actor(actorSeed);
        uint256 credit = marketplace.creditOf(account);
        if (credit == 0) return;
        uint256 before = account.balance;
        vm.prank(account);
        marketplace.withdraw();
        if (account.balance - before != credit) _violation("withdrawn amount differs from the credit");
        if (ghostCredit[account] < credit) _violation("withdrew more than the ghost credit");
        else ghostCredit[account] -= credit;
        ghostWithdrawn += credit;
        ++tally[T_WITHDRAWALS];
    }

    // --------------------------------------------------------------------------------------------- challengers

    function challengeLabel(uint256 actorSeed, uint256 submissionSeed, uint256 rowSeed) external act {
        (bool found, uint256 submissionId, uint32 row) = _findRow(submissionSeed, rowSeed, Want.LabelNotJudged);
        if (!found) return;
        uint256 modelId = _subs[submissionId].modelId;
        address challenger = _actor(actorSeed);
        if (challenger == _ownerOf[modelId]) challenger = _actor(actorSeed % ACTOR_COUNT + 1);
        (bytes memory data, bytes32[] memory proof) = _rowAndProof(submissionId, row);
        bytes32 salt = _commit(challenger, submissionId, row);
        uint128 bond = _termsOf[modelId].challengeBond;

        vm.deal(challenger, bond);
        vm.prank(challenger);
        marketplace.challengeLabel{value: bond}(submissionId, row, data, proof, salt);
        ghostPaidIn += bond;
        _labelJudged[submissionId][row] = true;
        _revealed[submissionId][row] = true;
        ++tally[T_LABEL];
    }

    function challengeFormat(uint256 actorSeed, uint256 submissionSeed, uint256 rowSeed) external act {
        (bool found, uint256 submissionId, uint32 row) = _findRow(submissionSeed, rowSeed, Want.Malformed);
        if (!found) return;
        address challenger = _actor(actorSeed);
        (bytes memory data, bytes32[] memory proof) = _rowAndProof(submissionId, row);
        bytes32 salt = _commit(challenger, submissionId, row);

        vm.prank(challenger);
        marketplace.challengeFormat(submissionId, row, data, proof, _schema(), salt);
        ++tally[T_FORMAT];
    }

    function challengeDuplicate(uint256 actorSeed, uint256 submissionSeed, uint256 rowSeed) external act {
        (bool found, uint256 submissionId, uint32 row) = _findRow(submissionSeed, rowSeed, Want.Duplicate);
        if (!found) return;
        address challenger = _actor(actorSeed);
        (bytes memory data, bytes32[] memory proof) = _rowAndProof(submissionId, row);
        IMarketplaceTypes.Source memory source = _sourceOf(submissionId, row);
        bytes32 salt = _commit(challenger, submissionId, row);

        vm.prank(challenger);
        marketplace.challengeDuplicate(submissionId, row, data, proof, source, salt);
        ++tally[source.kind == IMarketplaceTypes.SourceKind.Submission ? T_DUPLICATE : T_OWNER_DATA_COPY];
    }

    function challengeAvailability(uint256 actorSeed, uint256 submissionSeed, uint256 rowSeed) external act {
        (bool found, uint256 submissionId, uint32 row) = _findRow(submissionSeed, rowSeed, Want.Unrevealed);
        if (!found) return;
        address challenger = _actor(actorSeed);
        bytes32 salt = _commit(challenger, submissionId, row);
        uint128 bond = _termsOf[_subs[submissionId].modelId].challengeBond;

        vm.deal(challenger, bond);
        vm.prank(challenger);
        marketplace.challengeAvailability{value: bond}(submissionId, row, salt);
        ghostPaidIn += bond;
        ++tally[T_AVAILABILITY];
    }

    /// @dev A challenge of a whole file (which the owner judges) of a submission in its window; one per submission.
    function challengeFile(uint256 actorSeed, uint256 submissionSeed) external act {
        uint256 count = _submissionIds.length;
        for (uint256 i = 0; i < count; ++i) {
            uint256 submissionId = _submissionIds[_at(submissionSeed, i, count)];
            GhostSubmission storage ghost = _subs[submissionId];
            bool onChain = _notes[submissionId][0].kind == RowKind.OnChain;
            if (ghost.forfeited || _fileJudged[submissionId] || onChain || block.timestamp >= ghost.windowEndsAt) {
                continue;
            }
            address challenger = _actor(actorSeed);
            if (challenger == _ownerOf[ghost.modelId]) challenger = _actor(actorSeed % ACTOR_COUNT + 1);
            bytes32 salt = _commit(challenger, submissionId, marketplace.WHOLE_FILE());
            uint128 bond = _termsOf[ghost.modelId].challengeBond;
            vm.deal(challenger, bond);
            vm.prank(challenger);
            marketplace.challengeFile{value: bond}(submissionId, salt);
            ghostPaidIn += bond;
            _fileJudged[submissionId] = true;
            ++tally[T_FILE];
            return;
        }
    }

    /// @dev Anyone (not only the contributor) produces a demanded row within the time-out.
    function answerChallenge(uint256 actorSeed, uint256 challengeSeed) external act {
        (bool found, IMarketplaceTypes.Challenge memory pending) =
            _findPending(challengeSeed, IMarketplaceTypes.ChallengeKind.Availability, false);
        if (!found) return;
        address answerer = _actor(actorSeed);
        (bytes memory data, bytes32[] memory proof) = _rowAndProof(pending.submissionId, pending.rowIndex);

        vm.prank(answerer);
        marketplace.answerChallenge(pending.id, data, proof);
        _lastAnswerer = answerer;
        _revealed[pending.submissionId][pending.rowIndex] = true;
    }

    /// @dev Expires a pending challenge of either kind; if none has timed out yet, time skips past the nearest one.
    function expireChallenge(uint256 challengeSeed, uint256 callerSeed) external act {
        (bool found, IMarketplaceTypes.Challenge memory pending) =
            _findPending(challengeSeed, IMarketplaceTypes.ChallengeKind.None, true);
        if (!found) return;
        vm.prank(_actor(callerSeed));
        marketplace.expireChallenge(pending.id);
    }

    function warp(uint256 seconds_, uint256 blocks) external act {
        vm.warp(block.timestamp + bound(seconds_, 1, 12 hours));
        vm.roll(block.number + bound(blocks, 1, 100));
    }

    // --------------------------------------------------------------------------------------------- replays

    /// @dev Attempts what must fail, so that the invariants see it if it does not: rejecting a rejected row again
    /// (0), claiming a claimed or forfeited submission again (1), settling a settled challenge again (2), opening a
    /// second challenge on a row with one pending (3). The attempt's revert is caught; a success is a violation.
    function replay(uint256 actorSeed, uint256 seed, uint8 what) external act {
        what %= 4;
        if (what == 0) _rechallengeRejectedRow(actorSeed, seed);
        else if (what == 1) _reclaim(actorSeed, seed);
        else if (what == 2) _resettle(actorSeed, seed);
        else _challengePendingRow(actorSeed, seed);
    }

    function _rechallengeRejectedRow(uint256 actorSeed, uint256 seed) private {
        (bool found, uint256 submissionId, uint32 row) = _findRejectedRow(seed);
        if (!found) return;
        address challenger = _actor(actorSeed);
        if (challenger == _ownerOf[_subs[submissionId].modelId]) challenger = _actor(actorSeed % ACTOR_COUNT + 1);
        (bytes memory data, bytes32[] memory proof) = _rowAndProof(submissionId, row);
        RowKind kind = _notes[submissionId][row].kind;
        bytes32 salt = _commit(challenger, submissionId, row);
        bool succeeded;
        vm.prank(challenger);
        if (kind == RowKind.Malformed) {
            try marketplace.challengeFormat(submissionId, row, data, proof, _schema(), salt) {
                succeeded = true;
            } catch {}
        } else if (kind != RowKind.Fresh && kind != RowKind.OnChain) {
            try marketplace.challengeDuplicate(submissionId, row, data, proof, _sourceOf(submissionId, row), salt) {
                succeeded = true;
            } catch {}
        } else {
            uint128 bond = _termsOf[_subs[submissionId].modelId].challengeBond;
            vm.deal(challenger, bond);
            try marketplace.challengeLabel{value: bond}(submissionId, row, data, proof, salt) {
                succeeded = true;
            } catch {}
        }
        _replayed(succeeded, "a rejected row was challenged again");
    }

    function _reclaim(uint256 actorSeed, uint256 seed) private {
        uint256 count = _submissionIds.length;
        for (uint256 i = 0; i < count; ++i) {
            uint256 submissionId = _submissionIds[_at(seed, i, count)];
            if (!_subs[submissionId].claimed && !_subs[submissionId].forfeited) continue;
            vm.prank(_actor(actorSeed));
            try marketplace.claim(submissionId) {
                _replayed(true, "a claimed or forfeited submission was claimed");
            } catch {
                _replayed(false, "");
            }
            return;
        }
    }

    function _resettle(uint256 actorSeed, uint256 seed) private {
        uint256 count = marketplace.challengeCount();
        if (count == 0) return;
        IMarketplaceTypes.Challenge memory settled = marketplace.getChallenge(seed % count + 1);
        if (settled.status == IMarketplaceTypes.ChallengeStatus.Pending) return;
        bool succeeded;
        if (settled.kind == IMarketplaceTypes.ChallengeKind.Label) {
            vm.prank(_ownerOf[_subs[settled.submissionId].modelId]);
            try marketplace.resolveChallenge(settled.id, actorSeed % 2 == 0) {
                succeeded = true;
            } catch {}
        } else if (settled.kind == IMarketplaceTypes.ChallengeKind.Availability) {
            (bytes memory data, bytes32[] memory proof) = _rowAndProof(settled.submissionId, settled.rowIndex);
            vm.prank(_actor(actorSeed));
            try marketplace.answerChallenge(settled.id, data, proof) {
                succeeded = true;
            } catch {}
        }
        vm.prank(_actor(actorSeed));
        try marketplace.expireChallenge(settled.id) {
            succeeded = true;
        } catch {}
        _replayed(succeeded, "a settled challenge was settled again");
    }

    function _challengePendingRow(uint256 actorSeed, uint256 seed) private {
        if (_pending.length == 0) return;
        IMarketplaceTypes.Challenge memory pending = marketplace.getChallenge(_pending[seed % _pending.length]);
        address challenger = _actor(actorSeed);
        bytes32 salt = _commit(challenger, pending.submissionId, pending.rowIndex);
        uint128 bond = _termsOf[_subs[pending.submissionId].modelId].challengeBond;
        vm.deal(challenger, bond);
        vm.prank(challenger);
        try marketplace.challengeAvailability{value: bond}(pending.submissionId, pending.rowIndex, salt) {
            _replayed(true, "a row with a pending challenge was challenged again");
        } catch {
            _replayed(false, "");
        }
    }

    function _replayed(bool succeeded, string memory what) private {
        if (succeeded) _violation(what);
        else ++tally[T_REPLAYS_REFUSED];
    }

    /// @dev A rejected row, scanning from a random start, of a submission whose window is open.
    function _findRejectedRow(uint256 seed) private view returns (bool, uint256, uint32) {
        uint256 count = _submissionIds.length;
        for (uint256 i = 0; i < count; ++i) {
            uint256 submissionId = _submissionIds[_at(seed, i, count)];
            GhostSubmission storage ghost = _subs[submissionId];
            if (block.timestamp >= ghost.windowEndsAt) continue;
            for (uint32 row = 0; row < ghost.rowCount; ++row) {
                if (ghostRejected[submissionId][row]) return (true, submissionId, row);
            }
        }
        return (false, 0, 0);
    }

    // --------------------------------------------------------------------------------------------- bookkeeping

    /// @dev Books what the last action changed: challenges created or settled, rows rejected, submissions claimed.
    function _sync() private {
        _syncChallenges();
        for (uint256 i = 0; i < _submissionIds.length; ++i) {
            _syncSubmission(_submissionIds[i]);
        }
    }

    function _syncChallenges() private {
        uint256 count = marketplace.challengeCount();
        for (uint256 id = _challengesSeen + 1; id <= count; ++id) {
            IMarketplaceTypes.Challenge memory created = marketplace.getChallenge(id);
            if (created.status == IMarketplaceTypes.ChallengeStatus.Pending) {
                _pending.push(id);
            } else if (created.status != IMarketplaceTypes.ChallengeStatus.Upheld || created.bond != 0) {
                _violation("a challenge judged at once is not upheld without a bond");
            }
        }
        _challengesSeen = count;
        uint256 i = 0;
        while (i < _pending.length) {
            IMarketplaceTypes.Challenge memory settled = marketplace.getChallenge(_pending[i]);
            if (settled.status == IMarketplaceTypes.ChallengeStatus.Pending) {
                ++i;
                continue;
            }
            _bookSettled(settled);
            _pending[i] = _pending[_pending.length - 1];
            _pending.pop();
        }
    }

    /// @dev Where the bond and fee of a settled challenge went (the rewards of rejected rows are booked by
    /// {_syncRows}). A label challenge's fee is credited on a verdict and returns to the pool otherwise (Expired).
    function _bookSettled(IMarketplaceTypes.Challenge memory settled) private {
        IMarketplaceTypes.ChallengeStatus status = settled.status;
        bool judged =
            status == IMarketplaceTypes.ChallengeStatus.Upheld || status == IMarketplaceTypes.ChallengeStatus.Rejected;
        if (judged) _credit(settled.challenger, settled.fee);
        if (status == IMarketplaceTypes.ChallengeStatus.Upheld) {
            _credit(settled.challenger, settled.bond);
            if (settled.kind == IMarketplaceTypes.ChallengeKind.Availability) {
                _forfeiter[settled.submissionId] = settled.challenger;
                ++tally[T_FORFEITED];
            } else if (settled.kind == IMarketplaceTypes.ChallengeKind.File) {
                _forfeitBurnsRewards[settled.submissionId] = true;
                ++tally[T_FORFEITED];
            } else {
                ++tally[T_UPHELD];
            }
        } else if (status == IMarketplaceTypes.ChallengeStatus.Rejected) {
            ghostBurned += settled.bond;
            ++tally[T_REJECTED];
        } else if (status == IMarketplaceTypes.ChallengeStatus.Expired) {
            _credit(settled.challenger, settled.bond);
            ++tally[T_EXPIRED];
        } else if (status == IMarketplaceTypes.ChallengeStatus.Answered) {
            _credit(_lastAnswerer, settled.bond);
            ++tally[T_ANSWERED];
        } else {
            _violation("a pending challenge left for an unknown status");
        }
    }

    function _syncSubmission(uint256 submissionId) private {
        GhostSubmission storage ghost = _subs[submissionId];
        IMarketplaceTypes.Submission memory submission = marketplace.getSubmission(submissionId);
        if (submission.rowsRejected != ghost.rowsRejected || submission.forfeited != ghost.forfeited) {
            _syncRows(submissionId, ghost, submission);
        }
        if (submission.claimed != ghost.claimed) {
            if (!submission.claimed) _violation("a claim was undone");
            uint256 kept = submission.rowCount - submission.rowsRejected;
            _credit(ghost.contributor, kept * (uint256(ghost.depositPerRow) + ghost.rewardPerRow));
            ghostRewardsCredited += kept * ghost.rewardPerRow;
            ghost.claimed = true;
            if (_hasPerceptron[ghost.modelId] && _notes[submissionId][0].kind == RowKind.OnChain && kept == 1) {
                ++tally[T_TRAINED];
            }
        }
        if (submission.claimed && submission.forfeited) _violation("a forfeited submission was claimed");
    }

    /// @dev Finds the rows that turned rejected (a row may turn rejected once, and never back) and books their
    /// deposits as burned and their rewards as credited to who proved them bad, or burned if the owner did.
    function _syncRows(
        uint256 submissionId,
        GhostSubmission storage ghost,
        IMarketplaceTypes.Submission memory submission
    ) private {
        if (submission.rowsRejected < ghost.rowsRejected) _violation("rows rejected decreased");
        if (ghost.forfeited && !submission.forfeited) _violation("a forfeit was undone");
        bool forfeitedNow = submission.forfeited && !ghost.forfeited;
        uint256 newlyRejected = 0;
        for (uint32 row = 0; row < ghost.rowCount; ++row) {
            bool rejected = marketplace.isRowRejected(submissionId, row);
            if (rejected == ghostRejected[submissionId][row]) continue;
            if (!rejected) {
                _violation("a rejected row is no longer rejected");
                continue;
            }
            ghostRejected[submissionId][row] = true;
            ++newlyRejected;
            _bookRejectedReward(submissionId, row, forfeitedNow, ghost.rewardPerRow);
        }
        if (newlyRejected != submission.rowsRejected - ghost.rowsRejected) {
            _violation("rows rejected grew by more than the rows newly rejected");
        }
        ghostRowRejections += newlyRejected;
        ghostRewardsCredited += newlyRejected * ghost.rewardPerRow;
        ghostBurned += newlyRejected * ghost.depositPerRow;
        ghost.rowsRejected = submission.rowsRejected;
        ghost.forfeited = submission.forfeited;
    }

    /// @dev Where the reward of a row that just turned rejected went: to the challenger of a batch forfeited now, burned
    /// for a row the owner rejected (label) or proved a copy of its unrevealed test set, to the challenger of a row the
    /// contract rejected. A row of a batch forfeited now may never have been challenged: there is no latest challenge
    /// to look up.
    function _bookRejectedReward(uint256 submissionId, uint32 row, bool forfeitedNow, uint256 reward) private {
        if (forfeitedNow) {
            if (_forfeitBurnsRewards[submissionId]) ghostBurned += reward;
            else _credit(_forfeiter[submissionId], reward);
            return;
        }
        IMarketplaceTypes.Challenge memory latest = marketplace.getChallenge(marketplace.challengeOf(submissionId, row));
        // the handler never reveals a test set: a test copy's reward is burned like an owner's verdict
        IMarketplaceTypes.ChallengeKind kind = latest.kind;
        if (kind == IMarketplaceTypes.ChallengeKind.Label || kind == IMarketplaceTypes.ChallengeKind.TestCopy) {
            ghostBurned += reward;
        } else {
            _credit(latest.challenger, reward);
        }
    }

    function _credit(address account, uint256 amount) private {
        ghostCredit[account] += amount;
    }

    function _violation(string memory what) private {
        ++ghostViolations;
        lastViolation = what;
    }

    function _record(uint256 submissionId, bytes[] memory rows, RowNote[] memory notes, uint256 deposit) private {
        IMarketplaceTypes.Submission memory submission = marketplace.getSubmission(submissionId);
        _subs[submissionId] = GhostSubmission({
            modelId: submission.modelId,
            contributor: submission.contributor,
            rowCount: submission.rowCount,
            rowsRejected: 0,
            windowEndsAt: submission.windowEndsAt,
            depositPerRow: submission.depositPerRow,
            rewardPerRow: submission.rewardPerRow,
            claimed: false,
            forfeited: false
        });
        for (uint256 i = 0; i < rows.length; ++i) {
            _rows[submissionId].push(rows[i]);
            _notes[submissionId].push(notes[i]);
        }
        _submissionIds.push(submissionId);
        _submissionsOf[submission.modelId].push(submissionId);
        ghostPaidIn += deposit;
        ghostRewardsReserved += uint256(submission.rowCount) * submission.rewardPerRow;
    }

    // --------------------------------------------------------------------------------------------- rows

    /// @dev Row `i` of a batch, by four bits of `mix`: fresh (7 in 16), malformed (3), a repeat of an earlier row of
    /// the batch (2), a copy of a row of an earlier submission to the model, perhaps another actor's (2), a copy of
    /// the owner's training data (1) or test data (1).
    function _buildRow(
        uint256 modelId,
        bytes[] memory rows,
        RowNote[] memory notes,
        uint32 i,
        uint256 salt,
        uint256 mix
    ) private view {
        uint256 choice = (mix >> (4 * i)) & 15;
        uint256 pick = uint256(keccak256(abi.encode(mix, i)));
        uint256[] storage earlier = _submissionsOf[modelId];
        if (choice >= 7 && choice <= 8 || choice == 15) {
            rows[i] = _malformedRow(salt, i);
            notes[i].kind = RowKind.Malformed;
        } else if ((choice == 9 || choice == 10) && i > 0) {
            // forge-lint: disable-next-line(unsafe-typecast) a remainder below a row count
            uint32 j = uint32(pick % i);
            rows[i] = rows[j];
            notes[i] = RowNote({kind: RowKind.Repeat, sourceId: 0, sourceRow: j});
        } else if ((choice == 11 || choice == 12) && earlier.length > 0) {
            uint256 sourceId = earlier[pick % earlier.length];
            // forge-lint: disable-next-line(unsafe-typecast) a remainder below a row count
            uint32 j = uint32((pick >> 128) % _rows[sourceId].length);
            rows[i] = _rows[sourceId][j];
            notes[i] = RowNote({kind: RowKind.Copy, sourceId: sourceId, sourceRow: j});
        } else if (choice == 13) {
            // forge-lint: disable-next-line(unsafe-typecast) a remainder below a row count
            uint32 j = uint32(pick % TRAINING_ROWS);
            rows[i] = MerkleBuilder.batchRow(TRAINING_SALT, j);
            notes[i] = RowNote({kind: RowKind.TrainingCopy, sourceId: 0, sourceRow: j});
        } else if (choice == 14) {
            // forge-lint: disable-next-line(unsafe-typecast) a remainder below a row count
            uint32 j = uint32(pick % TEST_ROWS);
            rows[i] = MerkleBuilder.batchRow(TEST_SALT, j);
            notes[i] = RowNote({kind: RowKind.TestCopy, sourceId: 0, sourceRow: j});
        } else {
            rows[i] = MerkleBuilder.batchRow(salt, i);
        }
    }

    /// @dev A row failing the schema in one of four ways, distinct for every (salt, i).
    function _malformedRow(uint256 salt, uint256 i) private pure returns (bytes memory) {
        uint64 x = uint64(0x3FF0000000000000 | ((salt & 0xFFFFFF) << 24) | (i & 0xFFFFFF));
        uint256 variant = (salt + i) % 4;
        if (variant == 0) return MerkleBuilder.canonicalRow(x, 0x3FF8000000000000, "cow"); // label not allowed
        if (variant == 1) return bytes.concat("f", bytes8(x), "f"); // truncated
        if (variant == 2) return MerkleBuilder.canonicalRow(x, 0xFFF0000000000000, "cat"); // -infinity
        return bytes.concat(MerkleBuilder.canonicalRow(x, 0x3FF8000000000000, "dog"), hex"00"); // trailing byte
    }

    function _rowAndProof(uint256 submissionId, uint32 row)
        private
        view
        returns (bytes memory data, bytes32[] memory proof)
    {
        bytes[] memory rows = _rows[submissionId];
        data = rows[row];
        proof = MerkleBuilder.proof(MerkleBuilder.leaves(MerkleBuilder.keyOf(_subs[submissionId].contributor), rows), row);
    }

    /// @dev Where row `row` of a submission was copied from, with the proof in its source's tree.
    function _sourceOf(uint256 submissionId, uint32 row) private view returns (IMarketplaceTypes.Source memory source) {
        RowNote memory note = _notes[submissionId][row];
        source.rowIndex = note.sourceRow;
        if (note.kind == RowKind.Repeat || note.kind == RowKind.Copy) {
            source.kind = IMarketplaceTypes.SourceKind.Submission;
            source.submissionId = note.kind == RowKind.Repeat ? submissionId : note.sourceId;
            (, source.proof) = _rowAndProof(source.submissionId, note.sourceRow);
        } else if (note.kind == RowKind.TrainingCopy) {
            source.kind = IMarketplaceTypes.SourceKind.Training;
            bytes32 key = MerkleBuilder.keyOf(_ownerOf[_subs[submissionId].modelId]);
            source.proof = MerkleBuilder.proof(MerkleBuilder.leaves(key, _trainingRows()), note.sourceRow);
        } else {
            source.kind = IMarketplaceTypes.SourceKind.Test;
            source.nonce = MerkleBuilder.testNonce(TEST_NONCE_SALT, note.sourceRow);
            source.proof = MerkleBuilder.proof(MerkleBuilder.testLeaves(TEST_NONCE_SALT, _testRows()), note.sourceRow);
        }
    }

    // --------------------------------------------------------------------------------------------- targets

    /// @dev A row, scanning from random starts, that can be challenged now (window open, not rejected, no challenge
    /// pending on it) and is of the kind wanted.
    function _findRow(uint256 submissionSeed, uint256 rowSeed, Want want)
        private
        view
        returns (bool, uint256, uint32)
    {
        uint256 count = _submissionIds.length;
        for (uint256 i = 0; i < count; ++i) {
            uint256 submissionId = _submissionIds[_at(submissionSeed, i, count)];
            GhostSubmission storage ghost = _subs[submissionId];
            if (ghost.forfeited || block.timestamp >= ghost.windowEndsAt) continue;
            for (uint256 j = 0; j < ghost.rowCount; ++j) {
                uint32 row = uint32(_at(rowSeed, j, ghost.rowCount));
                if (ghostRejected[submissionId][row] || !_wants(submissionId, row, want)) continue;
                if (_shielded(submissionId, row, want)) continue;
                return (true, submissionId, row);
            }
        }
        return (false, 0, 0);
    }

    /// @dev Whether a pending challenge of the row keeps the wanted challenge off it: any pending challenge does,
    /// except that the contract's own verdicts (format, duplicate) supersede a pending label challenge.
    function _shielded(uint256 submissionId, uint32 row, Want want) private view returns (bool) {
        uint256 latest = marketplace.challengeOf(submissionId, row);
        if (latest == 0) return false;
        IMarketplaceTypes.Challenge memory pending = marketplace.getChallenge(latest);
        if (pending.status != IMarketplaceTypes.ChallengeStatus.Pending) return false;
        bool objective = want == Want.Malformed || want == Want.Duplicate;
        return !objective || pending.kind != IMarketplaceTypes.ChallengeKind.Label;
    }

    function _wants(uint256 submissionId, uint32 row, Want want) private view returns (bool) {
        RowKind kind = _notes[submissionId][row].kind;
        if (want == Want.LabelNotJudged) return !_labelJudged[submissionId][row];
        if (want == Want.Malformed) return kind == RowKind.Malformed;
        if (want == Want.Duplicate) {
            return kind == RowKind.Repeat || kind == RowKind.Copy || kind == RowKind.TrainingCopy
                || kind == RowKind.TestCopy;
        }
        return !_revealed[submissionId][row];
    }

    /// @dev A pending challenge of `kind` (any kind: `None`), scanning from a random start, that can still be
    /// resolved or answered (`expired` false) or that can be expired; in the latter case, if none can yet, time
    /// skips past the nearest time-out.
    function _findPending(uint256 seed, IMarketplaceTypes.ChallengeKind kind, bool expired)
        private
        returns (bool found, IMarketplaceTypes.Challenge memory pending)
    {
        uint256 count = _pending.length;
        for (uint256 i = 0; i < count; ++i) {
            IMarketplaceTypes.Challenge memory candidate = marketplace.getChallenge(_pending[_at(seed, i, count)]);
            if (kind != IMarketplaceTypes.ChallengeKind.None && candidate.kind != kind) continue;
            if ((block.timestamp > candidate.resolveBy) == expired) return (true, candidate);
            if (expired && (!found || candidate.resolveBy < pending.resolveBy)) (found, pending) = (true, candidate);
        }
        if (found) vm.warp(pending.resolveBy + 1);
    }

    /// @dev A submission neither claimed nor forfeited, without open challenges, scanning from a random start, whose
    /// window has passed; if none has, time skips to the nearest window end.
    function _findSettleable(uint256 seed) private returns (bool found, uint256 submissionId) {
        uint256 count = _submissionIds.length;
        uint64 nearestEnd = 0;
        for (uint256 i = 0; i < count; ++i) {
            uint256 candidate = _submissionIds[_at(seed, i, count)];
            GhostSubmission storage ghost = _subs[candidate];
            if (ghost.claimed || ghost.forfeited || marketplace.getSubmission(candidate).openChallenges != 0) continue;
            if (block.timestamp >= ghost.windowEndsAt) return (true, candidate);
            if (!found || ghost.windowEndsAt < nearestEnd) (found, submissionId, nearestEnd) = (true, candidate, ghost.windowEndsAt);
        }
        if (found) vm.warp(nearestEnd);
    }

    function _findPerceptronModel(uint256 seed) private view returns (bool, uint256) {
        for (uint256 i = 0; i < _modelIds.length; ++i) {
            uint256 modelId = _modelIds[_at(seed, i, _modelIds.length)];
            if (_hasPerceptron[modelId]) return (true, modelId);
        }
        return (false, 0);
    }

    /// @dev Most rows a batch may have now: at most 8, and its reward at most a quarter of the pool.
    function _maxRows(uint256 modelId) private view returns (uint32) {
        uint256 reward = _termsOf[modelId].rewardPerRow;
        if (reward == 0) return MAX_BATCH;
        return uint32(_min(MAX_BATCH, marketplace.getModel(modelId).rewardPool / 4 / reward));
    }

    function _commit(address challenger, uint256 submissionId, uint32 row) private returns (bytes32 salt) {
        salt = keccak256(abi.encode("handler salt", ++_nonce));
        bytes32 commitment = marketplace.challengeCommitment(challenger, submissionId, row, salt);
        vm.prank(challenger);
        marketplace.commitChallenge(commitment);
        vm.roll(block.number + 1);
    }

    /// @dev Index of the `i`-th item from a random start `seed` in a list of `count` items (no overflow).
    function _at(uint256 seed, uint256 i, uint256 count) private pure returns (uint256) {
        return (seed % count + i) % count;
    }

    function _actor(uint256 seed) private view returns (address) {
        return _actors[seed % _actors.length];
    }

    function _pick(uint256[] storage ids, uint256 seed) private view returns (uint256) {
        return ids[seed % ids.length];
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }

    // --------------------------------------------------------------------------------------------- inputs

    function _cid(uint256 seed) private pure returns (bytes memory) {
        return abi.encodePacked(uint8(0x01), uint8(0x55), uint8(0x12), uint8(0x20), keccak256(abi.encode(seed)));
    }

    function _schema() private pure returns (IMarketplaceTypes.RowSchema memory schema) {
        schema.columns = "ffs";
        schema.labels = new bytes[](2);
        schema.labels[0] = MerkleBuilder.encodeLabel("cat");
        schema.labels[1] = MerkleBuilder.encodeLabel("dog");
        schema.maxFloatBits = MAX_FLOAT_BITS;
        schema.maxInt = 1e9;
        schema.maxStringBytes = 64;
    }

    function _trainingRows() private pure returns (bytes[] memory) {
        return MerkleBuilder.batchRows(TRAINING_SALT, TRAINING_ROWS);
    }

    function _testRows() private pure returns (bytes[] memory) {
        return MerkleBuilder.batchRows(TEST_SALT, TEST_ROWS);
    }

    /// @dev The inputs of a model whose training data (keyed by `owner`) and hidden test set are the fixture's.
    function _input(address owner) private pure returns (IMarketplaceTypes.ModelInput memory) {
        return IMarketplaceTypes.ModelInput({
            name: "model",
            modelCid: _cid(1),
            metadataCid: _cid(2),
            testSetCommitment: keccak256(abi.encodePacked(TEST_NONCE_SALT, _cid(3))),
            accuracyBps: 5000,
            evaluationCid: "",
            trainingRoot: MerkleBuilder.root(MerkleBuilder.leaves(MerkleBuilder.keyOf(owner), _trainingRows())),
            trainingRowCount: TRAINING_ROWS,
            testRoot: MerkleBuilder.root(MerkleBuilder.testLeaves(TEST_NONCE_SALT, _testRows())),
            testRowCount: TEST_ROWS
        });
    }

    /// @dev The perceptron `x0 - x1 >= 0`, or none.
    function _linear(bool withPerceptron) private pure returns (IMarketplaceTypes.LinearModelInput memory linear) {
        if (withPerceptron) {
            int64[] memory weights = new int64[](2);
            weights[0] = ONE;
            weights[1] = -ONE;
            linear.weights = SparseRows.pack(weights);
            linear.maxAbsFeature = MAX_FEATURE;
        }
    }
}

contract ModelMarketplaceInvariantTest is TestBase {
    /// @dev forge's `FuzzSelector`: the functions of `addr` the invariant campaign calls.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    ModelMarketplace internal marketplace;
    MarketplaceHandler internal handler;

    function setUp() public {
        vm.roll(100);
        vm.warp(1_700_000_000);
        marketplace = new ModelMarketplace();
        handler = new MarketplaceHandler(marketplace);
        // two models to start with, one with a perceptron; the campaign may publish two more
        handler.publishModel(0, 0.01 ether, 0.002 ether, 0.05 ether, 2 days, 1 days, 20 ether, false);
        handler.publishModel(1, 0.02 ether, 0.001 ether, 0.03 ether, 1 days, 12 hours, 20 ether, true);
    }

    /// @dev Read by forge: only the handler is called during invariant runs.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @dev Read by forge: the handler's actions (not its views). forge draws uniformly from this list, so an action
    /// listed twice is drawn twice as often: contributions and challenges are weighted up so that every run of 40
    /// calls has batches to challenge and challenges to settle.
    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[17] memory actions = [
            MarketplaceHandler.publishModel.selector,
            MarketplaceHandler.fundRewardPool.selector,
            MarketplaceHandler.withdrawRewardPool.selector,
            MarketplaceHandler.withdraw.selector,
            MarketplaceHandler.warp.selector,
            MarketplaceHandler.resolveChallenge.selector,
            MarketplaceHandler.contributeRow.selector,
            MarketplaceHandler.claim.selector,
            MarketplaceHandler.challengeLabel.selector,
            MarketplaceHandler.challengeAvailability.selector,
            MarketplaceHandler.challengeFile.selector,
            MarketplaceHandler.answerChallenge.selector,
            MarketplaceHandler.expireChallenge.selector,
            MarketplaceHandler.replay.selector,
            MarketplaceHandler.challengeFormat.selector,
            MarketplaceHandler.challengeDuplicate.selector,
            MarketplaceHandler.contribute.selector
        ];
        uint8[17] memory weights = [1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 1, 2, 2, 2, 3, 3, 4];
        uint256 total = 0;
        for (uint256 i = 0; i < weights.length; ++i) {
            total += weights[i];
        }
        bytes4[] memory selectors = new bytes4[](total);
        uint256 next = 0;
        for (uint256 i = 0; i < actions.length; ++i) {
            for (uint256 k = 0; k < weights[i]; ++k) {
                selectors[next++] = actions[i];
            }
        }
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    /// @dev (a) The balance is exactly what the marketplace holds for someone, recomputed from its views: the deposits
    /// and rewards of the rows not rejected of submissions neither claimed nor forfeited, the bonds and fees of
    /// pending challenges, the unallocated pools, the credits, and the burned wei.
    function invariant_balanceEqualsObligations() public view {
        uint256 owed = _sumCredits() + marketplace.burned();
        uint256 submissions = marketplace.submissionCount();
        for (uint256 id = 1; id <= submissions; ++id) {
            IMarketplaceTypes.Submission memory submission = marketplace.getSubmission(id);
            if (submission.claimed || submission.forfeited) continue;
            uint256 rowsLeft = submission.rowCount - submission.rowsRejected;
            owed += rowsLeft * (uint256(submission.depositPerRow) + submission.rewardPerRow);
        }
        uint256 challenges = marketplace.challengeCount();
        for (uint256 id = 1; id <= challenges; ++id) {
            IMarketplaceTypes.Challenge memory challenge = marketplace.getChallenge(id);
            if (challenge.status == IMarketplaceTypes.ChallengeStatus.Pending) owed += challenge.bond + challenge.fee;
        }
        uint256 models = marketplace.modelCount();
        for (uint256 id = 1; id <= models; ++id) {
            owed += marketplace.getModel(id).rewardPool;
        }
        assertEq(
            address(marketplace).balance, owed, "balance != deposits + rewards + bonds + pools + credits + burned"
        );
    }

    /// @dev (b) No row is paid twice: rejected rows never exceed the rows, a forfeited submission is never claimed
    /// (and has every row rejected), each row is rejected at most once (the ghost saw no row rejected twice and
    /// the rows it saw rejected are exactly those the views report), and every reserved reward is credited at most
    /// once: either still reserved, or credited to the contributor at claim or to a challenger at rejection, or
    /// burned when the owner upholds a label challenge.
    function invariant_noRowPaidTwice() public view {
        assertEq(handler.ghostViolations(), 0, handler.lastViolation());
        uint256 submissions = marketplace.submissionCount();
        uint256 totalReserved = 0;
        uint256 stillReserved = 0;
        uint256 rowsRejected = 0;
        for (uint256 id = 1; id <= submissions; ++id) {
            IMarketplaceTypes.Submission memory submission = marketplace.getSubmission(id);
            assertLe(submission.rowsRejected, submission.rowCount, "rows rejected > row count");
            if (submission.forfeited) {
                assertFalse(submission.claimed, "a forfeited submission was claimed");
                assertEq(submission.rowsRejected, submission.rowCount, "a forfeited submission has rows left");
            }
            uint256 rejectedSeen = 0;
            for (uint32 row = 0; row < submission.rowCount; ++row) {
                bool rejected = marketplace.isRowRejected(id, row);
                assertEq(rejected, handler.ghostRejected(id, row), "row verdict differs from the ghost's");
                if (rejected) ++rejectedSeen;
            }
            assertEq(rejectedSeen, submission.rowsRejected, "rows rejected != distinct rows rejected");
            rowsRejected += submission.rowsRejected;
            totalReserved += uint256(submission.rowCount) * submission.rewardPerRow;
            if (!submission.claimed && !submission.forfeited) {
                stillReserved += uint256(submission.rowCount - submission.rowsRejected) * submission.rewardPerRow;
            }
        }
        assertEq(handler.ghostRowRejections(), rowsRejected, "row rejections seen != rows rejected");
        assertEq(totalReserved, handler.ghostRewardsReserved(), "rewards reserved");
        assertLe(handler.ghostRewardsCredited(), totalReserved, "rewards credited > rewards reserved");
        assertEq(
            handler.ghostRewardsCredited() + stillReserved, totalReserved, "a reward was credited twice or lost"
        );
    }

    /// @dev (c) Credits never exceed what was paid in minus what was withdrawn: the balance is exactly that, the
    /// credits and the burned wei fit in it, and each actor's credit is what the ghost ledger says it is owed.
    function invariant_creditsNeverExceedPaidIn() public view {
        uint256 paidIn = handler.ghostPaidIn();
        uint256 withdrawn = handler.ghostWithdrawn();
        assertEq(address(marketplace).balance, paidIn - withdrawn, "balance != paid in - withdrawn");
        assertLe(_sumCredits() + marketplace.burned() + withdrawn, paidIn, "credits + burned + withdrawn > paid in");

        address[] memory actors = handler.actors();
        for (uint256 i = 0; i < actors.length; ++i) {
            assertEq(marketplace.creditOf(actors[i]), handler.ghostCredit(actors[i]), "credit != ghost ledger");
        }
        assertEq(
            marketplace.burned(),
            handler.ghostBurned(),
            "burned != rejected deposits + rewards of rows the owner rejected + rejected label bonds"
        );
    }

    /// @dev Row and challenge counters agree with the submissions and challenges behind them.
    function invariant_countersAreConsistent() public view {
        uint256 models = marketplace.modelCount();
        for (uint256 id = 1; id <= models; ++id) {
            IMarketplaceTypes.ModelInfo memory model = marketplace.getModel(id);
            IMarketplaceTypes.Submission[] memory submissions = marketplace.getSubmissions(_submissionsOf(id));
            assertEq(submissions.length, model.submissionCount, "submission count");
            uint256 rowsSubmitted = 0;
            uint256 rowsRejected = 0;
            uint256 rowsAccepted = 0;
            uint256 onChainAccepted = 0;
            for (uint256 j = 0; j < submissions.length; ++j) {
                rowsSubmitted += submissions[j].rowCount;
                rowsRejected += submissions[j].rowsRejected;
                if (submissions[j].claimed) {
                    rowsAccepted += submissions[j].rowCount - submissions[j].rowsRejected;
                    if (submissions[j].onChainRow && submissions[j].rowsRejected == 0) ++onChainAccepted;
                }
            }
            assertEq(model.rowsSubmitted, rowsSubmitted, "rows submitted");
            assertEq(model.rowsRejected, rowsRejected, "rows rejected");
            assertEq(model.rowsAccepted, rowsAccepted, "rows accepted");
            if (model.hasLinearModel) {
                uint64 updates = marketplace.linearModel(id).updates;
                assertLe(updates, onChainAccepted, "the perceptron learnt more often than rows were accepted");
            }
        }

        uint256 pending = 0;
        uint256 challenges = marketplace.challengeCount();
        for (uint256 id = 1; id <= challenges; ++id) {
            if (marketplace.getChallenge(id).status == IMarketplaceTypes.ChallengeStatus.Pending) ++pending;
        }
        uint256 open = 0;
        uint256 submissionCount = marketplace.submissionCount();
        for (uint256 id = 1; id <= submissionCount; ++id) {
            open += marketplace.getSubmission(id).openChallenges;
        }
        assertEq(open, pending, "open challenges != pending challenges");
    }

    /// @dev Run after each campaign run: logs what the run did (visible with -vv).
    function afterInvariant() public {
        string[18] memory names = [
            "batches",
            "on-chain rows",
            "label challenges",
            "format challenges",
            "duplicate challenges",
            "training/test copy challenges",
            "availability challenges",
            "answered",
            "upheld (owner)",
            "rejected (owner)",
            "expired",
            "forfeited",
            "claims",
            "perceptron claims",
            "withdrawals",
            "repeated on-chain rows and roots refused",
            "replays refused",
            "file challenges"
        ];
        for (uint256 i = 0; i < names.length; ++i) {
            emit log_named_uint(names[i], handler.tally(i));
        }
    }

    /// @dev The ids of the submissions to model `modelId` (the chain lists them in events only).
    function _submissionsOf(uint256 modelId) private view returns (uint256[] memory ids) {
        uint256 count = marketplace.submissionCount();
        uint256[] memory all = new uint256[](count);
        uint256 found = 0;
        for (uint256 id = 1; id <= count; ++id) {
            if (marketplace.getSubmission(id).modelId == modelId) all[found++] = id;
        }
        ids = new uint256[](found);
        for (uint256 i = 0; i < found; ++i) {
            ids[i] = all[i];
        }
    }

    function _sumCredits() private view returns (uint256 total) {
        address[] memory actors = handler.actors();
        for (uint256 i = 0; i < actors.length; ++i) {
            total += marketplace.creditOf(actors[i]);
        }
    }
}
