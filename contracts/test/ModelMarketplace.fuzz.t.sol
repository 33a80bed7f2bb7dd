// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {IMarketplaceTypes} from "../src/IMarketplaceTypes.sol";
import {RowChecker} from "../src/RowChecker.sol";
import {MarketplaceFixture} from "./utils/MarketplaceFixture.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";
import {SparseRows} from "./utils/SparseRows.sol";

contract ModelMarketplaceFuzzTest is MarketplaceFixture {
    uint64 private constant MIN_PERIOD = 1 minutes;
    uint64 private constant MAX_PERIOD = 30 days;
    uint64 private constant MAX_FEATURE_BOUND = 2 ** 40;
    uint256 private constant MAX_AMOUNT = type(uint96).max; // wei amounts are stored in 96 bits
    uint256 private constant BATCH_SALT = 7; // the challenged batch of the payout tests
    uint256 private constant SOURCE_SALT = 8; // an earlier batch the challenged one copies rows from

    /// @dev What happens to one row of the challenged batch in {testFuzz_payouts_matchRejectedRows}.
    enum Outcome {
        Unchallenged,
        LabelUpheld, // rejected by the owner: deposit and reward burned, bond and fee to the challenger
        LabelRejected, // the row stands, the bond is burned, the fee goes to the challenger
        LabelExpired, // the owner missed the time-out: the row stands, the bond returns, the fee goes back to the pool
        Format, // a malformed row, rejected at once
        Duplicate, // a copy of the same row of an earlier batch, rejected at once
        OwnerDataCopy, // a copy of the owner's training or test data, rejected at once
        AvailabilityAnswered // demanded and produced: the row stands, the answerer takes the bond
    }

    /// @dev State of {testFuzz_payouts_matchRejectedRows}, in memory to keep the stack shallow.
    struct Game {
        IMarketplaceTypes.Terms terms;
        uint256 modelId;
        uint256 sourceId;
        uint256 submissionId;
        uint32 rowCount;
        bytes[] rows;
        bytes32[] leaves;
        bytes32[] sourceLeaves;
        uint256[] expiring;
        uint256 expiringCount;
        uint256 paidIn;
        uint256 rejected;
        uint256 labelUpheld;
        uint256 labelRejected;
        uint256 labelExpired;
        uint256 objective;
        uint256 testCopies; // of the objective rows: copies of the unrevealed test set, whose rewards are burned
        uint256 answered;
    }

    address internal erin;

    function setUp() public override {
        super.setUp();
        erin = makeAddr("erin");
    }

    // ============================================================================================ terms

    function testFuzz_publish_acceptsTermsWithinBounds(
        uint128 depositPerRow,
        uint128 rewardPerRow,
        uint128 challengeBond,
        uint64 challengeWindow,
        uint64 ownerTimeout,
        uint96 pool
    ) public {
        assertEq(marketplace.MIN_PERIOD(), MIN_PERIOD, "shortest period");
        assertEq(marketplace.MAX_PERIOD(), MAX_PERIOD, "longest period");
        IMarketplaceTypes.Terms memory terms =
            _validTerms(depositPerRow, rewardPerRow, challengeBond, challengeWindow, ownerTimeout);

        uint256 modelId = _publish(marketplace, terms, pool);

        IMarketplaceTypes.ModelInfo memory model = marketplace.getModel(modelId);
        assertEq(abi.encode(model.terms), abi.encode(terms), "terms stored as given");
        assertEq(model.rewardPool, pool, "pool");
        assertEq(address(marketplace).balance, pool, "balance");
    }

    /// @dev Each bound violated alone (the other terms valid) is refused with its own reason.
    function testFuzz_publish_refusesTermsOutOfBounds(
        uint8 violation,
        bool above,
        uint128 depositPerRow,
        uint128 rewardPerRow,
        uint128 challengeBond,
        uint64 challengeWindow,
        uint64 ownerTimeout
    ) public {
        IMarketplaceTypes.Terms memory terms =
            _validTerms(depositPerRow, rewardPerRow, challengeBond, challengeWindow, ownerTimeout);
        string memory reason;
        violation %= 6;
        if (violation == 0) {
            terms.depositPerRow = 0;
            reason = "deposit per row is zero";
        } else if (violation == 1) {
            terms.rewardPerRow = uint128(bound(rewardPerRow, terms.depositPerRow, type(uint128).max));
            reason = "the reward per row must be less than the deposit per row";
        } else if (violation == 2) {
            terms.challengeBond = 0;
            reason = "challenge bond is zero";
        } else if (violation == 5) {
            // an amount beyond 96 bits (7.9e28 wei, more ether than there is)
            if (above) terms.challengeBond = uint128(bound(challengeBond, MAX_AMOUNT + 1, type(uint128).max));
            else terms.depositPerRow = uint128(bound(depositPerRow, MAX_AMOUNT + 1, type(uint128).max));
            reason = "amounts must fit in 96 bits";
        } else if (violation == 3) {
            terms.challengeWindow = _outOfPeriod(challengeWindow, above);
            reason = "challenge window must be between 1 minute and 30 days";
        } else {
            terms.ownerTimeout = _outOfPeriod(ownerTimeout, above);
            reason = "owner time-out must be between 1 minute and 30 days";
        }

        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInvalidTerms.selector, reason));
        marketplace.publishModel(_input(), terms, _schema(), _noLinear());
    }

    // ============================================================================================ deposits & rewards

    function testFuzz_contributeAndClaim_paysDepositAndReward(
        uint128 depositPerRow,
        uint128 rewardPerRow,
        uint32 rowCount,
        uint96 spare
    ) public {
        depositPerRow = uint128(bound(depositPerRow, 1, MAX_AMOUNT));
        rowCount = uint32(bound(rowCount, 1, type(uint32).max));
        // the pool (4 rewards and the spare) fits in the pool's 96 bits
        uint256 largestReward = (MAX_AMOUNT - spare) / (4 * uint256(rowCount));
        rewardPerRow = uint128(bound(rewardPerRow, 0, _min(depositPerRow - 1, largestReward)));
        uint256 reward = uint256(rowCount) * rewardPerRow;
        uint256 deposit = uint256(rowCount) * depositPerRow;
        // a batch may reserve a quarter of the pool
        uint256 modelId = _publish(marketplace, _terms(depositPerRow, rewardPerRow, BOND), 4 * reward + spare);

        uint256 submissionId = _contributeRoot(alice, modelId, keccak256("root"), rowCount);

        assertEq(marketplace.getModel(modelId).rewardPool, 3 * reward + spare, "reward reserved from the pool");
        assertEq(address(marketplace).balance, deposit + 4 * reward + spare, "balance after contribute");
        IMarketplaceTypes.Submission memory submission = marketplace.getSubmission(submissionId);
        assertEq(submission.rowCount, rowCount, "row count");
        assertEq(submission.depositPerRow, depositPerRow, "deposit snapshot");
        assertEq(submission.rewardPerRow, rewardPerRow, "reward snapshot");
        assertEq(marketplace.getModel(modelId).rowsSubmitted, rowCount, "rows submitted");

        _afterWindow(submissionId);
        marketplace.claim(submissionId);
        assertEq(_withdraw(alice), deposit + reward, "contributor paid deposit and reward");
        assertEq(address(marketplace).balance, 3 * reward + spare, "only the unallocated pool is left");
        assertEq(marketplace.getModel(modelId).rowsAccepted, rowCount, "rows accepted");
    }

    function testFuzz_contribute_revertsOnWrongPayment(uint128 depositPerRow, uint32 rowCount, uint256 value) public {
        depositPerRow = uint128(bound(depositPerRow, 1, MAX_AMOUNT));
        rowCount = uint32(bound(rowCount, 1, type(uint32).max));
        uint256 expected = uint256(rowCount) * depositPerRow;
        value = bound(value, 0, 2 * expected);
        vm.assume(value != expected);
        uint256 modelId = _publish(marketplace, _terms(depositPerRow, 0, BOND), 0);

        vm.deal(alice, value);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceIncorrectPayment.selector, expected, value));
        marketplace.contribute{value: value}(modelId, _cid("data"), keccak256("root"), rowCount);
    }

    function testFuzz_contribute_refusesZeroRows(uint128 depositPerRow, bytes32 root) public {
        depositPerRow = uint128(bound(depositPerRow, 1, MAX_AMOUNT));
        vm.assume(root != bytes32(0));
        uint256 modelId = _publish(marketplace, _terms(depositPerRow, 0, BOND), 0);

        vm.prank(alice);
        _expectInvalidInput("row count is zero");
        marketplace.contribute(modelId, _cid("data"), root, 0);
    }

    /// @dev A batch may reserve at most a quarter of the unallocated pool, and never more than the pool.
    function testFuzz_contribute_batchMayReserveAQuarterOfThePool(uint128 rewardPerRow, uint32 rowCount, uint256 pool)
        public
    {
        rewardPerRow = uint128(bound(rewardPerRow, 1, MAX_AMOUNT - 1));
        rowCount = uint32(bound(rowCount, 1, type(uint32).max));
        uint256 reward = uint256(rowCount) * rewardPerRow;
        pool = bound(pool, 0, _min(8 * reward, MAX_AMOUNT));
        uint128 depositPerRow = rewardPerRow + 1;
        uint256 modelId = _publish(marketplace, _terms(depositPerRow, rewardPerRow, BOND), pool);
        uint256 deposit = uint256(rowCount) * depositPerRow;
        vm.deal(alice, deposit);
        vm.prank(alice);

        if (reward > pool) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IMarketplaceTypes.MarketplaceInsufficientRewardPool.selector, modelId, reward, pool
                )
            );
        } else if (reward > pool / 4) {
            vm.expectRevert(
                abi.encodeWithSelector(IMarketplaceTypes.MarketplaceBatchTooLarge.selector, modelId, reward, pool / 4)
            );
        }
        marketplace.contribute{value: deposit}(modelId, _cid("data"), keccak256("root"), rowCount);

        bool accepted = reward <= pool / 4;
        assertEq(marketplace.submissionCount(), accepted ? 1 : 0, "submission recorded iff within the cap");
        assertEq(marketplace.getModel(modelId).rewardPool, accepted ? pool - reward : pool, "pool after");
    }

    /// @dev An account can submit a root once per model; another model accepts it, and so does the same model from
    /// another account (whose leaves are keyed by itself, so the copy cannot prove a row of the first).
    function testFuzz_contribute_sameRootOncePerModel(bytes32 root, uint32 rowCount, bool sameContributor) public {
        vm.assume(root != bytes32(0));
        rowCount = uint32(bound(rowCount, 1, 1000));
        uint256 modelId = _publish();
        uint256 otherModelId = _publish();
        _contributeRoot(alice, modelId, root, rowCount);

        address copier = sameContributor ? alice : bob;
        uint256 deposit = uint256(rowCount) * DEPOSIT;
        if (sameContributor) {
            vm.deal(copier, deposit);
            vm.prank(copier);
            vm.expectRevert(
                abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRootAlreadySubmitted.selector, modelId, root)
            );
            marketplace.contribute{value: deposit}(modelId, _cid("data"), root, rowCount);
        } else {
            uint256 copy = _contributeRoot(copier, modelId, root, rowCount);
            assertEq(marketplace.getSubmission(copy).contributor, bob, "another account's submission");
        }

        uint256 submissionId = _contributeRoot(copier, otherModelId, root, rowCount);
        assertEq(marketplace.getSubmission(submissionId).modelId, otherModelId, "accepted by another model");
    }

    function testFuzz_withdrawRewardPool_onlyUnallocated(uint96 pool, uint32 rowCount, uint256 amount) public {
        rowCount = uint32(bound(rowCount, 1, 1000));
        pool = uint96(bound(pool, 4 * uint256(rowCount) * REWARD, type(uint96).max));
        uint256 modelId = _publish(marketplace, _terms(), pool);
        _contributeRoot(alice, modelId, keccak256("root"), rowCount);
        uint256 available = pool - uint256(rowCount) * REWARD;
        amount = bound(amount, 0, 2 * available);

        vm.prank(owner);
        if (amount > available) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IMarketplaceTypes.MarketplaceInsufficientRewardPool.selector, modelId, amount, available
                )
            );
        }
        marketplace.withdrawRewardPool(modelId, amount);

        uint256 withdrawn = amount > available ? 0 : amount;
        assertEq(marketplace.creditOf(owner), withdrawn, "owner credited");
        assertEq(marketplace.getModel(modelId).rewardPool, available - withdrawn, "pool after");
    }

    // ============================================================================================ row proofs

    /// @dev The builder's one-leaf trees ({MerkleBuilder.rootFromPath}) agree with its full trees, so the large trees
    /// below are the trees the documented encoding defines.
    function testFuzz_merkleBuilder_pathRootMatchesFullTree(uint16 count, uint16 index, uint256 salt) public pure {
        count = uint16(bound(count, 1, 200));
        index = uint16(bound(index, 0, count - 1));
        bytes32[] memory leaves = MerkleBuilder.leaves(bytes32(salt), MerkleBuilder.batchRows(salt, count));
        bytes32[] memory proof = MerkleBuilder.proof(leaves, index);
        assertEq(proof.length, MerkleBuilder.proofLength(index, count), "proof length");
        assertEq(MerkleBuilder.rootFromPath(leaves[index], index, count, proof), MerkleBuilder.root(leaves), "root");
    }

    /// @dev In a full tree of up to 300 rows, the proof of a row verifies for that row at its own index, under its
    /// contributor's key, and for nothing else.
    function testFuzz_proof_verifiesOnlyForItsOwnRow(uint32 rowCount, uint32 index, uint32 otherIndex, uint256 salt)
        public
    {
        rowCount = uint32(bound(rowCount, 1, 300));
        index = uint32(bound(index, 0, rowCount - 1));
        uint256 modelId = _publish();
        (uint256 submissionId, bytes32[] memory leaves) = _contribute(alice, modelId, salt, rowCount);
        bytes memory row = MerkleBuilder.batchRow(salt, index);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, index);

        // another key: bob commits alice's root (to another model, the root being taken on this one)
        uint256 copyId = _contributeRoot(bob, _publish(), MerkleBuilder.root(leaves), rowCount);
        _expectLabelChallengeFails(copyId, index, row, proof);

        // another row, a longer or shorter proof
        _expectLabelChallengeFails(submissionId, index, MerkleBuilder.batchRow(salt ^ 1, index), proof);
        _expectLabelChallengeFails(submissionId, index, row, _extended(proof));
        if (proof.length != 0) _expectLabelChallengeFails(submissionId, index, row, _truncated(proof));

        // another index, with this row or with that index's own row
        if (rowCount > 1) {
            otherIndex = uint32(bound(otherIndex, 0, rowCount - 2));
            if (otherIndex >= index) ++otherIndex;
            _expectLabelChallengeFails(submissionId, otherIndex, row, proof);
            _expectLabelChallengeFails(submissionId, otherIndex, MerkleBuilder.batchRow(salt, otherIndex), proof);
        }

        uint256 challengeId = _challengeLabel(carol, submissionId, index, row, proof);
        assertEq(marketplace.challengeOf(submissionId, index), challengeId, "row challenged");
    }

    /// @dev Trees of any size (up to 2^32 - 1 rows, built from one leaf and random siblings): a proof verifies only
    /// for its own index.
    function testFuzz_proof_anyRowOfAnySize(uint32 rowCount, uint32 index, uint32 otherIndex, bytes32 seed) public {
        rowCount = uint32(bound(rowCount, 1, type(uint32).max));
        index = uint32(bound(index, 0, rowCount - 1));
        bytes memory row = MerkleBuilder.batchRow(uint256(seed), index);
        bytes32[] memory proof = new bytes32[](MerkleBuilder.proofLength(index, rowCount));
        for (uint256 k = 0; k < proof.length; ++k) {
            proof[k] = keccak256(abi.encode(seed, k));
        }
        bytes32 leaf = MerkleBuilder.leaf(MerkleBuilder.keyOf(alice), index, row);
        bytes32 root = MerkleBuilder.rootFromPath(leaf, index, rowCount, proof);
        // one wei per row and no reward, so that billions of rows are affordable
        uint256 modelId = _publish(marketplace, _terms(1, 0, BOND), 0);
        uint256 submissionId = _contributeRoot(alice, modelId, root, rowCount);

        if (rowCount > 1) {
            otherIndex = uint32(bound(otherIndex, 0, rowCount - 2));
            if (otherIndex >= index) ++otherIndex;
            _expectLabelChallengeFails(submissionId, otherIndex, row, proof);
        }
        _expectLabelChallengeFails(submissionId, index, row, _extended(proof));
        if (proof.length != 0) _expectLabelChallengeFails(submissionId, index, row, _truncated(proof));

        bytes32 salt = _commit(carol, submissionId, rowCount);
        vm.deal(carol, BOND);
        vm.prank(carol);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceRowIndexOutOfRange.selector, submissionId, rowCount, rowCount
            )
        );
        marketplace.challengeLabel{value: BOND}(submissionId, rowCount, row, proof, salt);

        uint256 challengeId = _challengeLabel(carol, submissionId, index, row, proof);
        assertEq(marketplace.challengeOf(submissionId, index), challengeId, "row challenged");
    }

    // ============================================================================================ payouts

    /// @dev Gives each row of a batch a random fate, settles everything and checks every payout: the claim pays
    /// exactly the rows not rejected, the rejected rows' deposits (and rejected label bonds) are burned, their rewards
    /// go to their objective challengers (and are burned for rows the owner rejected or proved copies of its unrevealed
    /// test set), label challengers get the fee
    /// (F = min(R, B - 1): the pool holds enough) on either verdict, and every wei paid in is paid out or burned.
    function testFuzz_payouts_matchRejectedRows(
        uint32 rowCount,
        uint256 outcomes,
        uint128 depositPerRow,
        uint128 rewardPerRow,
        uint128 challengeBond
    ) public {
        Game memory game;
        game.rowCount = uint32(bound(rowCount, 1, 16));
        depositPerRow = uint128(bound(depositPerRow, 1, 1e26));
        game.terms = _terms(depositPerRow, uint128(bound(rewardPerRow, 0, depositPerRow - 1)), uint128(bound(challengeBond, 1, 1e26)));
        _startGame(game, outcomes);

        for (uint32 i = 0; i < game.rowCount; ++i) {
            _play(game, i, _outcome(outcomes, i));
        }

        vm.warp(block.timestamp + TIMEOUT + 1); // past the window and every time-out
        for (uint256 i = 0; i < game.expiringCount; ++i) {
            marketplace.expireChallenge(game.expiring[i]);
        }
        marketplace.claim(game.submissionId);

        uint256 deposit = game.terms.depositPerRow;
        uint256 reward = game.terms.rewardPerRow;
        uint256 bond = game.terms.challengeBond;
        uint256 fee = reward < bond ? reward : bond - 1; // the fee stays below the bond
        uint256 kept = game.rowCount - game.rejected;
        assertEq(marketplace.creditOf(alice), kept * (deposit + reward), "claim pays the rows not rejected");
        assertEq(
            marketplace.burned(),
            game.rejected * deposit + (game.labelUpheld + game.testCopies) * reward + game.labelRejected * bond,
            "burned"
        );
        assertEq(
            marketplace.creditOf(carol) + marketplace.creditOf(dave),
            (game.objective - game.testCopies) * reward + (game.labelUpheld + game.labelRejected) * fee
                + (game.labelUpheld + game.labelExpired) * bond,
            "challengers: objective rows' rewards, label fees and bonds back"
        );
        assertEq(marketplace.creditOf(dave), (game.objective - game.testCopies) * reward, "objective challenger");
        assertEq(marketplace.creditOf(erin), game.answered * bond, "answerer takes the bonds");
        IMarketplaceTypes.Submission memory submission = marketplace.getSubmission(game.submissionId);
        assertEq(submission.rowsRejected, game.rejected, "rows rejected");
        IMarketplaceTypes.ModelInfo memory model = marketplace.getModel(game.modelId);
        assertEq(model.rowsRejected, game.rejected, "model rows rejected");
        assertEq(model.rowsAccepted, kept, "model rows accepted");
        for (uint32 i = 0; i < game.rowCount; ++i) {
            Outcome outcome = _outcome(outcomes, i);
            bool rejected = outcome == Outcome.LabelUpheld || outcome == Outcome.Format
                || outcome == Outcome.Duplicate || outcome == Outcome.OwnerDataCopy;
            assertEq(marketplace.isRowRejected(game.submissionId, i), rejected, "row verdict");
        }

        _settleAll(game);
    }

    /// @dev An availability challenge nobody answers forfeits the batch: every row not yet rejected is rejected,
    /// its deposit burned and its reward credited to the challenger; label challenges still pending get their bonds
    /// back, whatever the owner's verdict, and their fees return to the pool.
    function testFuzz_forfeit_rejectsEveryRowNotYetRejected(
        uint32 rowCount,
        uint256 fates,
        uint32 demanded,
        uint128 depositPerRow,
        uint128 rewardPerRow,
        bool upheld
    ) public {
        Forfeit memory f;
        f.rowCount = uint32(bound(rowCount, 1, 16));
        f.demanded = uint32(bound(demanded, 0, f.rowCount - 1));
        f.fates = fates;
        f.deposit = uint128(bound(depositPerRow, 1, 1e26));
        f.reward = uint128(bound(rewardPerRow, 0, f.deposit - 1));
        _startForfeit(f);

        vm.warp(block.timestamp + TIMEOUT); // past the availability time-out, not the label ones
        marketplace.expireChallenge(f.availabilityId);
        for (uint256 k = 0; k < f.labelCount; ++k) {
            _resolve(f.labels[k], upheld);
            assertEq(
                uint256(marketplace.getChallenge(f.labels[k]).status),
                uint256(IMarketplaceTypes.ChallengeStatus.Expired),
                "a verdict on a forfeited batch returns the bond"
            );
        }

        IMarketplaceTypes.Submission memory submission = marketplace.getSubmission(f.submissionId);
        assertTrue(submission.forfeited, "forfeited");
        assertEq(submission.rowsRejected, f.rowCount, "every row rejected");
        assertEq(submission.openChallenges, 0, "no challenge left open");
        assertEq(marketplace.getModel(f.modelId).rowsRejected, f.rowCount, "model rows rejected");
        assertEq(marketplace.burned(), uint256(f.rowCount) * f.deposit, "every deposit burned");
        assertEq(
            marketplace.creditOf(carol),
            (f.rowCount - f.rejectedBefore) * uint256(f.reward) + BOND,
            "availability challenger: the rewards of the rows it rejected, and its bond"
        );
        assertEq(marketplace.creditOf(dave), f.rejectedBefore * uint256(f.reward), "format challenger");
        assertEq(marketplace.creditOf(bob), f.labelCount * uint256(BOND), "label bonds returned");
        assertEq(marketplace.creditOf(alice), 0, "nothing for the contributor");
        assertEq(
            marketplace.getModel(f.modelId).rewardPool, 3 * uint256(f.rowCount) * f.reward, "label fees back to the pool"
        );
        for (uint32 i = 0; i < f.rowCount; ++i) {
            assertTrue(marketplace.isRowRejected(f.submissionId, i), "row rejected");
        }
        _expectError(IMarketplaceTypes.MarketplaceSubmissionForfeited.selector, f.submissionId);
        marketplace.claim(f.submissionId);
    }

    /// @dev A file challenge (which the owner judges) after some rows were rejected as malformed: upheld, every row
    /// left is rejected, its deposit and reward burned; rejected, the bond is burned and the batch paid; expired, the
    /// bond comes back and the fee returns to the pool. The owner's pool ends the same on either verdict, so no verdict
    /// profits the owner, and the challenger's fee is one row's reward (less than the bond).
    function testFuzz_fileChallenge_verdictsAndOwnerIndifference(
        uint32 rowCount,
        uint256 malformedMask,
        uint128 depositPerRow,
        uint128 rewardPerRow,
        uint8 verdict
    ) public {
        FileGame memory g;
        g.n = uint32(bound(rowCount, 1, 12));
        g.deposit = bound(depositPerRow, 1, 1e26);
        g.reward = bound(rewardPerRow, 0, g.deposit - 1);
        g.verdict = verdict % 3; // 0 upheld, 1 rejected, 2 expired
        _startFileGame(g, malformedMask);
        uint256 challengeId = _challengeFile(carol, g.submissionId);
        uint256 fee = marketplace.getChallenge(challengeId).fee;
        assertEq(fee, g.reward < BOND ? g.reward : BOND - 1, "the fee is one row's reward, below the bond");
        if (g.verdict == 2) {
            vm.warp(marketplace.getChallenge(challengeId).resolveBy + 1);
            marketplace.expireChallenge(challengeId);
        } else {
            _resolve(challengeId, g.verdict == 0);
            _afterWindow(g.submissionId);
        }
        if (g.verdict != 0) marketplace.claim(g.submissionId);

        uint256 left = g.n - g.rejected;
        assertEq(
            marketplace.getModel(g.modelId).rewardPool,
            g.pool - uint256(g.n) * g.reward - (g.verdict == 2 ? 0 : fee),
            "owner's pool: the same on either verdict"
        );
        uint256 burned = g.rejected * g.deposit;
        if (g.verdict == 0) burned += left * (g.deposit + g.reward);
        if (g.verdict == 1) burned += BOND;
        assertEq(marketplace.burned(), burned, "burned");
        assertEq(
            marketplace.creditOf(carol), g.verdict == 0 ? BOND + fee : g.verdict == 1 ? fee : BOND, "challenger"
        );
        assertEq(marketplace.creditOf(alice), g.verdict == 0 ? 0 : left * (g.deposit + g.reward), "contributor");
        assertEq(marketplace.creditOf(dave), g.rejected * g.reward, "format challenger keeps its rewards");
        assertEq(marketplace.getSubmission(g.submissionId).forfeited, g.verdict == 0, "forfeited only when upheld");
    }

    /// @dev State of {testFuzz_fileChallenge_verdictsAndOwnerIndifference}.
    struct FileGame {
        uint32 n;
        uint256 deposit;
        uint256 reward;
        uint8 verdict;
        uint256 pool;
        uint256 modelId;
        uint256 submissionId;
        uint256 rejected;
    }

    /// @dev Alice's batch of `g.n` rows; the rows set in `malformedMask` are malformed and rejected by dave first.
    function _startFileGame(FileGame memory g, uint256 malformedMask) private {
        g.pool = 8 * uint256(g.n) * g.reward;
        g.modelId = _publish(marketplace, _terms(uint128(g.deposit), uint128(g.reward), BOND), g.pool);
        bytes[] memory rows = MerkleBuilder.batchRows(BATCH_SALT, g.n);
        for (uint32 i = 0; i < g.n; ++i) {
            if ((malformedMask >> i) & 1 == 1) rows[i] = _malformedRow(i);
        }
        bytes32[] memory leaves;
        (g.submissionId, leaves) = _contributeRows(alice, g.modelId, rows);
        for (uint32 i = 0; i < g.n; ++i) {
            if ((malformedMask >> i) & 1 == 1) {
                _challengeFormat(dave, g.submissionId, i, rows[i], MerkleBuilder.proof(leaves, i));
                ++g.rejected;
            }
        }
    }

    /// @dev State of {testFuzz_forfeit_rejectsEveryRowNotYetRejected}.
    struct Forfeit {
        uint32 rowCount;
        uint32 demanded; // the row of the availability challenge
        uint256 fates; // two bits per row: 1 malformed and rejected before the forfeit, 2 label challenge pending
        uint128 deposit;
        uint128 reward;
        uint256 modelId;
        uint256 submissionId;
        uint256 availabilityId;
        uint256 rejectedBefore;
        uint256[] labels;
        uint256 labelCount;
    }

    function _fate(Forfeit memory f, uint32 i) private pure returns (uint256) {
        return i == f.demanded ? 0 : (f.fates >> (2 * i)) & 3;
    }

    /// @dev Alice's batch: some rows rejected as malformed, then an availability challenge (carol), then, an hour
    /// later, label challenges (bob) that are still pending when the availability challenge expires.
    function _startForfeit(Forfeit memory f) private {
        f.modelId = _publish(marketplace, _terms(f.deposit, f.reward, BOND), 4 * uint256(f.rowCount) * f.reward);
        bytes[] memory rows = MerkleBuilder.batchRows(BATCH_SALT, f.rowCount);
        for (uint32 i = 0; i < f.rowCount; ++i) {
            if (_fate(f, i) == 1) rows[i] = _malformedRow(i);
        }
        bytes32[] memory leaves;
        (f.submissionId, leaves) = _contributeRows(alice, f.modelId, rows);
        for (uint32 i = 0; i < f.rowCount; ++i) {
            if (_fate(f, i) == 1) {
                _challengeFormat(dave, f.submissionId, i, rows[i], MerkleBuilder.proof(leaves, i));
                ++f.rejectedBefore;
            }
        }
        f.availabilityId = _challengeAvailability(carol, f.submissionId, f.demanded);
        vm.warp(block.timestamp + 1 hours);
        f.labels = new uint256[](f.rowCount);
        for (uint32 i = 0; i < f.rowCount; ++i) {
            if (_fate(f, i) == 2) {
                f.labels[f.labelCount++] =
                    _challengeLabel(bob, f.submissionId, i, rows[i], MerkleBuilder.proof(leaves, i));
            }
        }
    }

    /// @dev The contract's verdict (format or duplicate) supersedes a pending label challenge of the same row: the row
    /// is rejected at once, its reward to the objective challenger; the label challenge closes without a verdict, its
    /// bond back to its challenger and its fee back to the pool, and the owner can no longer resolve it.
    function testFuzz_objectiveVerdict_supersedesPendingLabelChallenge(
        uint128 depositPerRow,
        uint128 rewardPerRow,
        uint128 challengeBond,
        uint8 rowCount,
        uint8 index,
        bool duplicate
    ) public {
        depositPerRow = uint128(bound(depositPerRow, 1, 1e26));
        rewardPerRow = uint128(bound(rewardPerRow, 0, depositPerRow - 1));
        challengeBond = uint128(bound(challengeBond, 1, 1e26));
        rowCount = uint8(bound(rowCount, 2, 16));
        index = uint8(bound(index, 1, rowCount - 1));
        uint256 modelId = _publish(
            marketplace, _terms(depositPerRow, rewardPerRow, challengeBond), 8 * uint256(rowCount) * rewardPerRow
        );
        bytes[] memory rows = MerkleBuilder.batchRows(BATCH_SALT, rowCount);
        rows[index] = duplicate ? rows[0] : _malformedRow(index);
        (uint256 submissionId, bytes32[] memory leaves) = _contributeRows(alice, modelId, rows);
        uint256 poolBefore = marketplace.getModel(modelId).rewardPool;

        uint256 labelId =
            _label(bob, submissionId, index, rows[index], MerkleBuilder.proof(leaves, index), challengeBond);
        uint256 fee = rewardPerRow < challengeBond ? rewardPerRow : challengeBond - 1;
        assertEq(marketplace.getChallenge(labelId).fee, fee, "the label fee is the row's reward, below the bond");
        assertEq(marketplace.getModel(modelId).rewardPool, poolBefore - fee, "fee reserved from the pool");
        if (duplicate) {
            _challengeDuplicate(
                dave, submissionId, index, rows[index], MerkleBuilder.proof(leaves, index),
                _submissionSource(submissionId, 0, leaves)
            );
        } else {
            _challengeFormat(dave, submissionId, index, rows[index], MerkleBuilder.proof(leaves, index));
        }

        assertEq(
            uint256(marketplace.getChallenge(labelId).status),
            uint256(IMarketplaceTypes.ChallengeStatus.Expired),
            "the label challenge closes without a verdict"
        );
        assertTrue(marketplace.isRowRejected(submissionId, index), "row rejected");
        assertEq(marketplace.getSubmission(submissionId).openChallenges, 0, "no challenge left open");
        assertEq(marketplace.creditOf(bob), challengeBond, "label bond returned");
        assertEq(marketplace.creditOf(dave), rewardPerRow, "reward to the objective challenger");
        assertEq(marketplace.getModel(modelId).rewardPool, poolBefore, "fee back to the pool");
        assertEq(marketplace.burned(), depositPerRow, "only the deposit is burned");
        vm.prank(owner);
        _expectError(IMarketplaceTypes.MarketplaceChallengeNotPending.selector, labelId);
        marketplace.resolveChallenge(labelId, true);
    }

    // ============================================================================================ duplicates

    /// @dev The same row in two places (two batches in a random order, by the same or another contributor, or twice
    /// in one batch): only the later one can be rejected as a duplicate of the earlier one, never the reverse.
    function testFuzz_duplicate_onlyTheLaterRowIsRejected(
        uint8 sizeA,
        uint8 sizeB,
        uint8 indexA,
        uint8 indexB,
        uint8 mode,
        uint256 saltSeed
    ) public {
        mode %= 4; // 0: alice then bob, 1: bob then alice, 2: one batch of alice's, 3: two batches of alice's
        uint256 modelId = _publish();
        bytes memory copied = MerkleBuilder.batchRow(saltSeed, 1_000_000);
        Copy memory a;
        Copy memory b;
        if (mode == 2) {
            a.rows = MerkleBuilder.batchRows(uint256(keccak256(abi.encode(saltSeed))), bound(sizeA, 2, 40));
            a.index = uint32(bound(indexA, 0, a.rows.length - 1));
            b.index = uint32(bound(indexB, 0, a.rows.length - 2));
            if (b.index >= a.index) ++b.index;
            if (b.index < a.index) (a.index, b.index) = (b.index, a.index);
            a.rows[a.index] = copied;
            a.rows[b.index] = copied;
            (a.submissionId, a.leaves) = _contributeRows(alice, modelId, a.rows);
            (b.submissionId, b.leaves) = (a.submissionId, a.leaves);
        } else {
            a.rows = MerkleBuilder.batchRows(uint256(keccak256(abi.encode(saltSeed, 1))), bound(sizeA, 1, 40));
            // two batches of one contributor differ (else the second root is refused): one of two rows at least
            b.rows = MerkleBuilder.batchRows(uint256(keccak256(abi.encode(saltSeed, 2))), bound(sizeB, mode == 3 ? 2 : 1, 40));
            a.index = uint32(bound(indexA, 0, a.rows.length - 1));
            b.index = uint32(bound(indexB, 0, b.rows.length - 1));
            a.rows[a.index] = copied;
            b.rows[b.index] = copied;
            (a.submissionId, a.leaves) = _contributeRows(mode == 1 ? bob : alice, modelId, a.rows);
            (b.submissionId, b.leaves) = _contributeRows(mode == 0 ? bob : alice, modelId, b.rows);
        }

        // the earlier row cannot be rejected as a copy of the later one, nor as a copy of itself
        bytes32 salt = _commit(dave, a.submissionId, a.index);
        vm.prank(dave);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceNotADuplicate.selector, "the source row is not earlier"
            )
        );
        marketplace.challengeDuplicate(
            a.submissionId, a.index, copied, MerkleBuilder.proof(a.leaves, a.index), _source(b), salt
        );
        vm.prank(dave);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceNotADuplicate.selector, "the source row is not earlier"
            )
        );
        marketplace.challengeDuplicate(
            a.submissionId, a.index, copied, MerkleBuilder.proof(a.leaves, a.index), _source(a), salt
        );
        // a row that is not a copy of its source
        uint32 other = b.index == 0 ? 1 : 0;
        if (mode != 2 && b.rows.length > 1) {
            salt = _commit(dave, b.submissionId, other);
            vm.prank(dave);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IMarketplaceTypes.MarketplaceInvalidSourceProof.selector, IMarketplaceTypes.SourceKind.Submission, a.index
                )
            );
            marketplace.challengeDuplicate(
                b.submissionId, other, b.rows[other], MerkleBuilder.proof(b.leaves, other), _source(a), salt
            );
        }

        uint256 challengeId =
            _challengeDuplicate(dave, b.submissionId, b.index, copied, MerkleBuilder.proof(b.leaves, b.index), _source(a));
        IMarketplaceTypes.Challenge memory challenge = marketplace.getChallenge(challengeId);
        assertEq(uint256(challenge.kind), uint256(IMarketplaceTypes.ChallengeKind.Duplicate), "kind");
        assertEq(uint256(challenge.status), uint256(IMarketplaceTypes.ChallengeStatus.Upheld), "judged at once");
        assertTrue(marketplace.isRowRejected(b.submissionId, b.index), "the later row is rejected");
        assertFalse(marketplace.isRowRejected(a.submissionId, a.index), "the earlier row stands");
        assertEq(marketplace.creditOf(dave), REWARD, "the challenger takes the row's reward");
        assertEq(marketplace.burned(), DEPOSIT, "the row's deposit is burned");
    }

    struct Copy {
        uint256 submissionId;
        uint32 index;
        bytes[] rows;
        bytes32[] leaves;
    }

    // ============================================================================================ perceptron

    function testFuzz_predict_matchesReferenceScore(int64[4] memory weights, int64 intercept, int64[4] memory x, uint8 n)
        public
    {
        n = uint8(bound(n, 1, 4));
        for (uint256 i = 0; i < 4; ++i) {
            x[i] = int64(bound(x[i], -int256(uint256(MAX_FEATURE_BOUND)), int256(uint256(MAX_FEATURE_BOUND))));
        }
        uint256 modelId = _publishPerceptron(_slice(weights, n), intercept, MAX_FEATURE_BOUND);

        int256 score = int256(intercept) * 1e6;
        for (uint256 i = 0; i < n; ++i) {
            score += int256(weights[i]) * x[i];
        }
        assertEq(_predict(modelId, _slice(x, n)), score >= 0 ? int256(1) : int256(0), "prediction");
    }

    /// @dev Claiming an on-chain row trains the perceptron (`w += ±x`, `b += ±1e6` when it misclassifies the row),
    /// saturating at the int64 bounds instead of reverting, whatever the weights.
    function testFuzz_claim_trainsPerceptronSaturating(
        int64[4] memory weights,
        int64 intercept,
        int64[4] memory x,
        uint8 n,
        uint64 maxAbsFeature,
        bool positive,
        bool nearBounds
    ) public {
        n = uint8(bound(n, 1, 4));
        maxAbsFeature = uint64(bound(maxAbsFeature, 1, MAX_FEATURE_BOUND));
        for (uint256 i = 0; i < 4; ++i) {
            x[i] = int64(bound(x[i], -int256(uint256(maxAbsFeature)), int256(uint256(maxAbsFeature))));
            if (nearBounds) weights[i] = _nearBound(weights[i]);
        }
        if (nearBounds) intercept = _nearBound(intercept);
        uint256 modelId = _publishPerceptron(_slice(weights, n), intercept, maxAbsFeature);
        int256 step = 0; // the perceptron's step if it misclassifies the row
        if (_predict(modelId, _slice(x, n)) != (positive ? int64(1) : int64(0))) {
            step = positive ? int256(1) : int256(-1);
        }

        uint256 submissionId = _contributeRow(alice, modelId, _slice(x, n), positive ? int64(1) : int64(0));
        assertEq(
            marketplace.linearModel(modelId).weightsHash,
            keccak256(SparseRows.pack(_slice(weights, n))),
            "nothing learnt before the claim"
        );
        _afterWindow(submissionId);
        assertEq(_claimRow(bob, submissionId), step != 0, "learned iff misclassified");

        _assertTrained(modelId, _slice(weights, n), intercept, _slice(x, n), step);
    }

    function _assertTrained(uint256 modelId, int64[] memory weights, int64 intercept, int64[] memory x, int256 step)
        private
        view
    {
        int64[] memory expected = new int64[](weights.length);
        for (uint256 i = 0; i < weights.length; ++i) {
            expected[i] = _saturate(int256(weights[i]) + step * x[i]);
        }
        IMarketplaceTypes.LinearModelInfo memory linear = marketplace.linearModel(modelId);
        assertEq(linear.weightsHash, keccak256(SparseRows.pack(expected)), "weights");
        assertEq(linear.intercept, _saturate(int256(intercept) + step * 1e6), "intercept");
        assertEq(linear.updates, step != 0 ? 1 : 0, "updates");
    }

    /// @dev A rejected on-chain row teaches the perceptron nothing, even when it misclassifies it; an accepted one
    /// it misclassifies does.
    function testFuzz_claim_onlyAcceptedRowsTrainThePerceptron(int8 x0, int8 x1, bool positive, bool upheld) public {
        uint256 modelId = _publishLinear();
        int64[] memory features = _features(int64(x0) * 1e6, int64(x1) * 1e6);
        int64 label = positive ? int64(1) : int64(0);
        // the row the perceptron misclassifies: the other label
        if (_predict(modelId, features) == label) label = 1 - label;
        uint256 submissionId = _contributeRow(alice, modelId, features, label);
        uint256 challengeId = _challengeLabel(carol, submissionId, 0, _encodeRow(features, label), new bytes32[](0));
        _resolve(challengeId, upheld);

        _afterWindow(submissionId);
        if (upheld) {
            marketplace.claim(submissionId); // rejected: no row or weights needed, nothing learned
        } else {
            vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRowRequired.selector, submissionId));
            marketplace.claim(submissionId);
            assertTrue(_claimRow(bob, submissionId), "learned");
        }
        IMarketplaceTypes.LinearModelInfo memory linear = marketplace.linearModel(modelId);
        assertEq(linear.updates, upheld ? 0 : 1, "updates");
        if (upheld) {
            assertEq(linear.weightsHash, keccak256(_linear().weights), "weights untouched");
            assertEq(linear.intercept, 0, "intercept untouched");
        }
        assertEq(marketplace.getModel(modelId).rowsAccepted, upheld ? 0 : 1, "rows accepted");
    }

    /// @dev On-chain rows: features within the model's bound, label 0 or 1, and never the same row twice.
    function testFuzz_contributeRow_boundsFeaturesAndRefusesRepeats(
        int64 x0,
        int64 x1,
        uint64 maxAbsFeature,
        int64 outOfRange,
        uint8 badLabel,
        bool positive
    ) public {
        maxAbsFeature = uint64(bound(maxAbsFeature, 1, MAX_FEATURE_BOUND));
        int256 featureBound = int256(uint256(maxAbsFeature));
        int64[] memory features = _features(
            int64(bound(x0, -featureBound, featureBound)), int64(bound(x1, -featureBound, featureBound))
        );
        // |outOfRange| > maxAbsFeature, either sign (int64's minimum included)
        outOfRange = outOfRange < 0
            ? int64(bound(outOfRange, type(int64).min, -featureBound - 1))
            : int64(bound(outOfRange, featureBound + 1, type(int64).max));
        badLabel = uint8(bound(badLabel, 2, 255));
        int64 label = positive ? int64(1) : int64(0);
        uint256 modelId = _publishPerceptron(_features(1, -1), 0, maxAbsFeature);
        vm.deal(alice, 10 * DEPOSIT);

        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceFeatureOutOfRange.selector, 1, outOfRange, maxAbsFeature
            )
        );
        marketplace.contributeRow{value: DEPOSIT}(modelId, _encodeRow(_features(features[0], outOfRange), label));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInvalidLabel.selector, int64(uint64(badLabel))));
        marketplace.contributeRow{value: DEPOSIT}(modelId, _encodeRow(features, int64(uint64(badLabel))));

        _assertOnChainRowsNeverRepeat(modelId, features, label);
    }

    function _assertOnChainRowsNeverRepeat(uint256 modelId, int64[] memory features, int64 label) private {
        vm.expectEmit(address(marketplace));
        emit IMarketplaceTypes.RowAdded(modelId, marketplace.submissionCount() + 1, _encodeRow(features, label));
        uint256 first = _contributeRow(alice, modelId, features, label);

        vm.deal(bob, DEPOSIT);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceDuplicateRow.selector, modelId, first));
        marketplace.contributeRow{value: DEPOSIT}(modelId, _encodeRow(features, label));

        uint256 flipped = _contributeRow(bob, modelId, features, 1 - label);
        assertEq(flipped, first + 1, "the same features with the other label are another row");
    }

    /// @dev The same row, dense or sparse: a dense row (any width up to 48, zeros anywhere) has exactly one sparse
    /// form, the contract predicts it as the dense reference perceptron does (every feature), and claiming it updates
    /// the weights exactly as the dense update does (every weight, zeros moving nothing, saturating near the int64
    /// bounds); its other spellings (a zero written out, indices out of order or repeated) are refused, so a row
    /// cannot be added twice by rewriting it.
    function testFuzz_sparseAndDenseRows_samePredictionAndSameUpdate(
        uint256 seed,
        uint8 width,
        uint64 nonZeroMask,
        int64 intercept,
        bool positive,
        bool nearBounds
    ) public {
        width = uint8(bound(width, 1, 48));
        int64[] memory weights = new int64[](width);
        int64[] memory features = new int64[](width);
        uint256 nonZero = 0;
        for (uint256 i = 0; i < width; ++i) {
            weights[i] = int64(int256(uint256(keccak256(abi.encode(seed, "w", i))) % 4e12) - 2e12);
            // near the int64 bounds, where updates saturate
            if (nearBounds) weights[i] = _nearBound(weights[i]);
            if ((nonZeroMask >> (i % 64)) & 1 == 1) {
                int256 value = int256(uint256(keccak256(abi.encode(seed, "x", i))) % 2e12) - 1e12;
                features[i] = int64(value == 0 ? int256(1) : value);
                ++nonZero;
            }
        }
        int64 label = positive ? int64(1) : int64(0);
        uint256 modelId = _publishPerceptron(weights, intercept, MAX_FEATURE);

        bytes memory row = _encodeRow(features, label);
        assertEq(row.length, 1 + 12 * nonZero, "one byte and 12 bytes a non-zero feature");
        assertEq(_predict(modelId, features), SparseRows.predict(weights, intercept, features), "same prediction");

        _assertOtherSpellingsRefused(modelId, features, label);
        uint256 submissionId = _contributeRow(alice, modelId, features, label);
        _afterWindow(submissionId);
        (,, bool expected) = SparseRows.learn(weights, intercept, features, label);
        assertEq(_claimRow(bob, submissionId), expected, "learned iff the dense perceptron learns");
        // {_claimRow} checked the new weights' hash and intercept against the dense reference's update
    }

    /// @dev Non-canonical spellings of a dense row are refused: a zero feature written out, two features swapped, a
    /// feature repeated.
    function _assertOtherSpellingsRefused(uint256 modelId, int64[] memory features, int64 label) private {
        bytes memory canonical = _encodeRow(features, label);
        vm.deal(carol, 3 * DEPOSIT);
        // a zero feature written out (feature 0 if it is zero, else a zero appended after the last index)
        uint256 zeroAt = features[0] == 0 ? 0 : type(uint32).max;
        bytes memory withZero = zeroAt == 0
            ? bytes.concat(abi.encodePacked(uint8(uint64(label))), SparseRows.feature(0, 0), _slice(canonical, 1))
            : bytes.concat(canonical, SparseRows.feature(features.length - 1 + 1, 0));
        vm.prank(carol);
        if (zeroAt == 0) {
            vm.expectRevert(_malformed("a zero feature must be left out"));
        } else {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IMarketplaceTypes.MarketplaceFeatureIndexOutOfRange.selector, features.length, features.length
                )
            );
        }
        marketplace.contributeRow{value: DEPOSIT}(modelId, withZero);
        if (canonical.length >= 25) {
            // the first two features swapped
            bytes memory swapped =
                bytes.concat(_slice(canonical, 0, 1), _slice(canonical, 13, 25), _slice(canonical, 1, 13), _slice(canonical, 25));
            vm.prank(carol);
            vm.expectRevert(_malformed("feature indices must increase"));
            marketplace.contributeRow{value: DEPOSIT}(modelId, swapped);
        }
        if (canonical.length >= 13) {
            // the first feature repeated
            bytes memory repeated = bytes.concat(_slice(canonical, 0, 13), _slice(canonical, 1));
            vm.prank(carol);
            vm.expectRevert(_malformed("feature indices must increase"));
            marketplace.contributeRow{value: DEPOSIT}(modelId, repeated);
        }
    }

    function _malformed(string memory reason) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IMarketplaceTypes.MarketplaceMalformedRow.selector, reason);
    }

    function _slice(bytes memory data, uint256 start) private pure returns (bytes memory) {
        return _slice(data, start, data.length);
    }

    function _slice(bytes memory data, uint256 start, uint256 end) private pure returns (bytes memory out) {
        out = new bytes(end - start);
        for (uint256 i = start; i < end; ++i) {
            out[i - start] = data[i];
        }
    }

    // ============================================================================================ views

    function testFuzz_getModels_pagesById(uint256 count, uint256 offset, uint256 limit) public {
        count = bound(count, 0, 12);
        for (uint256 i = 0; i < count; ++i) {
            _publish();
        }
        IMarketplaceTypes.ModelInfo[] memory page = marketplace.getModels(offset, limit);
        uint256 expectedLength = offset >= count ? 0 : (count - offset < limit ? count - offset : limit);
        assertEq(page.length, expectedLength, "page length");
        for (uint256 i = 0; i < page.length; ++i) {
            assertEq(page[i].id, offset + i + 1, "model id");
        }
    }

    // ============================================================================================ row checker

    function testFuzz_rowChecker_faultNeverRevertsOnRandomBytes(bytes calldata row) public view {
        IMarketplaceTypes.RowFault found = _checker().fault(_schema(), row);
        assertTrue(uint256(found) <= uint256(IMarketplaceTypes.RowFault.LabelNotAllowed), "a known fault");
    }

    /// @dev Random bytes after a valid prefix of random length, so that every position of the parser (float and string
    /// values, string lengths, UTF-8 sequences, labels) meets garbage.
    function testFuzz_rowChecker_faultNeverRevertsAfterAValidPrefix(bytes calldata tail, uint8 keep, bool strings)
        public
        view
    {
        IMarketplaceTypes.RowSchema memory schema = _schema();
        bytes memory valid = MerkleBuilder.batchRow(1, 1);
        if (strings) {
            schema.columns = "sss";
            schema.maxStringBytes = type(uint32).max;
            valid = bytes.concat(
                MerkleBuilder.encodeLabel(unicode"naïve €𝄞"), MerkleBuilder.encodeLabel("x"), MerkleBuilder.encodeLabel("dog")
            );
            schema.labels[0] = MerkleBuilder.encodeLabel("cat");
            schema.labels[1] = MerkleBuilder.encodeLabel("dog");
        }
        uint256 length = bound(keep, 0, valid.length);
        bytes memory row = new bytes(length);
        for (uint256 i = 0; i < length; ++i) {
            row[i] = valid[i];
        }
        IMarketplaceTypes.RowFault found = _checker().fault(schema, bytes.concat(row, tail));
        if (length == valid.length && tail.length == 0) {
            assertEq(uint256(found), uint256(IMarketplaceTypes.RowFault.None), "the valid row itself");
        }
    }

    /// @dev Not even with a schema that {RowChecker.check} would refuse.
    function testFuzz_rowChecker_faultNeverRevertsOnAnySchema(
        IMarketplaceTypes.RowSchema calldata schema,
        bytes calldata row
    ) public view {
        _checker().fault(schema, row);
    }

    /// @dev Canonical rows of the fixture schema: the verdict matches a reference (first fault in column order).
    function testFuzz_rowChecker_judgesFloatsLikeTheReference(uint64 xBits, uint64 yBits, uint8 labelSeed, bool nearBound)
        public
        view
    {
        if (nearBound) {
            // within one ulp of the bound, either sign
            xBits = (xBits & 0x8000000000000000) | (MAX_FLOAT_BITS - 1 + xBits % 3);
            yBits = (yBits & 0x8000000000000000) | (MAX_FLOAT_BITS - 1 + yBits % 3);
        }
        uint256 choice = labelSeed % 4;
        string memory label = choice == 0 ? "cat" : choice == 1 ? "dog" : choice == 2 ? "cow" : "";
        IMarketplaceTypes.RowFault expected = _floatFault(xBits);
        if (expected == IMarketplaceTypes.RowFault.None) expected = _floatFault(yBits);
        if (expected == IMarketplaceTypes.RowFault.None && choice >= 2) {
            expected = IMarketplaceTypes.RowFault.LabelNotAllowed;
        }
        bytes memory row = MerkleBuilder.canonicalRow(xBits, yBits, label);
        assertEq(uint256(_checker().fault(_schema(), row)), uint256(expected), "fault");
        assertEq(
            uint256(_checker().fault(_schema(), bytes.concat(row, "x"))),
            uint256(
                expected == IMarketplaceTypes.RowFault.None || expected == IMarketplaceTypes.RowFault.LabelNotAllowed
                    ? IMarketplaceTypes.RowFault.TrailingBytes
                    : expected
            ),
            "fault with a trailing byte"
        );
    }

    // ============================================================================================ helpers

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }

    function _validTerms(
        uint128 depositPerRow,
        uint128 rewardPerRow,
        uint128 challengeBond,
        uint64 challengeWindow,
        uint64 ownerTimeout
    ) private pure returns (IMarketplaceTypes.Terms memory terms) {
        terms.depositPerRow = uint128(bound(depositPerRow, 1, MAX_AMOUNT));
        terms.rewardPerRow = uint128(bound(rewardPerRow, 0, terms.depositPerRow - 1));
        terms.challengeBond = uint128(bound(challengeBond, 1, MAX_AMOUNT));
        terms.challengeWindow = uint64(bound(challengeWindow, MIN_PERIOD, MAX_PERIOD));
        terms.ownerTimeout = uint64(bound(ownerTimeout, MIN_PERIOD, MAX_PERIOD));
    }

    function _outOfPeriod(uint64 seconds_, bool above) private pure returns (uint64) {
        return above
            ? uint64(bound(seconds_, MAX_PERIOD + 1, type(uint64).max))
            : uint64(bound(seconds_, 0, MIN_PERIOD - 1));
    }

    /// @dev Commits (as carol) to a label challenge of row `index`, then expects its reveal to fail on the proof.
    function _expectLabelChallengeFails(uint256 submissionId, uint32 index, bytes memory row, bytes32[] memory proof)
        private
    {
        bytes32 commitment = marketplace.challengeCommitment(carol, submissionId, index, SALT);
        if (marketplace.commitmentBlock(commitment) == 0) {
            vm.prank(carol);
            marketplace.commitChallenge(commitment);
            vm.roll(block.number + 1);
        }
        vm.deal(carol, BOND);
        vm.prank(carol);
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInvalidProof.selector, submissionId, index)
        );
        marketplace.challengeLabel{value: BOND}(submissionId, index, row, proof, SALT);
    }

    function _label(
        address challenger,
        uint256 submissionId,
        uint32 index,
        bytes memory row,
        bytes32[] memory proof,
        uint128 bond
    ) private returns (uint256) {
        bytes32 salt = _commit(challenger, submissionId, index);
        vm.deal(challenger, bond);
        vm.prank(challenger);
        return marketplace.challengeLabel{value: bond}(submissionId, index, row, proof, salt);
    }

    function _extended(bytes32[] memory proof) private pure returns (bytes32[] memory longer) {
        longer = new bytes32[](proof.length + 1);
        for (uint256 i = 0; i < proof.length; ++i) {
            longer[i] = proof[i];
        }
        longer[proof.length] = keccak256("extra");
    }

    function _truncated(bytes32[] memory proof) private pure returns (bytes32[] memory shorter) {
        shorter = new bytes32[](proof.length - 1);
        for (uint256 i = 0; i < shorter.length; ++i) {
            shorter[i] = proof[i];
        }
    }

    function _outcome(uint256 outcomes, uint256 i) private pure returns (Outcome) {
        return Outcome((outcomes >> (3 * i)) & 7);
    }

    /// @dev A row of the fixture batch shape that fails the fixture schema, distinct for every `i`.
    function _malformedRow(uint256 i) private pure returns (bytes memory) {
        uint64 x = uint64(0x3FF0000000000000 | (i & 0xFFFFFF));
        uint256 variant = i % 4;
        if (variant == 0) return MerkleBuilder.canonicalRow(x, 0x3FF8000000000000, "cow"); // label not allowed
        if (variant == 1) return bytes.concat("f", bytes8(x), "f"); // truncated
        if (variant == 2) return MerkleBuilder.canonicalRow(x, 0x7FF0000000000000, "cat"); // infinite
        return bytes.concat(MerkleBuilder.canonicalRow(x, 0x3FF8000000000000, "cat"), hex"00"); // trailing byte
    }

    /// @dev Publishes the model, bob's earlier batch (`SOURCE_SALT`) and alice's batch whose rows follow `outcomes`.
    function _startGame(Game memory game, uint256 outcomes) private {
        uint256 reserved = uint256(game.rowCount) * game.terms.rewardPerRow;
        // bob's batch reserves a fifth of the pool; alice's then reserves a quarter of what is left
        game.modelId = _publish(marketplace, game.terms, 5 * reserved);
        game.paidIn = 5 * reserved + 2 * uint256(game.rowCount) * game.terms.depositPerRow;
        bytes[] memory sourceRows = MerkleBuilder.batchRows(SOURCE_SALT, game.rowCount);
        (game.sourceId, game.sourceLeaves) = _contributeRows(bob, game.modelId, sourceRows);

        game.rows = MerkleBuilder.batchRows(BATCH_SALT, game.rowCount);
        for (uint32 i = 0; i < game.rowCount; ++i) {
            Outcome outcome = _outcome(outcomes, i);
            if (outcome == Outcome.Format) game.rows[i] = _malformedRow(i);
            if (outcome == Outcome.Duplicate) game.rows[i] = sourceRows[i];
            if (outcome == Outcome.OwnerDataCopy) {
                game.rows[i] = i % 2 == 0 ? _trainingRows()[i % TRAINING_ROWS] : _testRows()[i % TEST_ROWS];
            }
        }
        (game.submissionId, game.leaves) = _contributeRows(alice, game.modelId, game.rows);
        game.expiring = new uint256[](game.rowCount);
    }

    /// @dev Gives row `i` its fate and records what it should pay.
    function _play(Game memory game, uint32 i, Outcome outcome) private {
        if (outcome == Outcome.Unchallenged) return;
        bytes memory row = game.rows[i];
        bytes32[] memory proof = MerkleBuilder.proof(game.leaves, i);
        uint128 bond = game.terms.challengeBond;
        if (outcome == Outcome.Format) {
            assertTrue(_checker().fault(_schema(), row) != IMarketplaceTypes.RowFault.None, "malformed row");
            _challengeFormat(dave, game.submissionId, i, row, proof);
        } else if (outcome == Outcome.Duplicate) {
            _challengeDuplicate(dave, game.submissionId, i, row, proof, _submissionSource(game.sourceId, i, game.sourceLeaves));
        } else if (outcome == Outcome.OwnerDataCopy) {
            IMarketplaceTypes.Source memory source =
                i % 2 == 0 ? _trainingSource(uint32(i % TRAINING_ROWS)) : _testSource(uint32(i % TEST_ROWS));
            _challengeDuplicate(dave, game.submissionId, i, row, proof, source);
            if (i % 2 == 1) ++game.testCopies;
        } else if (outcome == Outcome.AvailabilityAnswered) {
            bytes32 salt = _commit(carol, game.submissionId, i);
            vm.deal(carol, bond);
            vm.prank(carol);
            uint256 id = marketplace.challengeAvailability{value: bond}(game.submissionId, i, salt);
            _answer(erin, id, row, proof);
            game.paidIn += bond;
            ++game.answered;
            return;
        } else {
            bytes32 salt = _commit(carol, game.submissionId, i);
            vm.deal(carol, bond);
            vm.prank(carol);
            uint256 id = marketplace.challengeLabel{value: bond}(game.submissionId, i, row, proof, salt);
            game.paidIn += bond;
            if (outcome == Outcome.LabelUpheld) {
                _resolve(id, true);
                ++game.labelUpheld;
                ++game.rejected;
            } else if (outcome == Outcome.LabelRejected) {
                _resolve(id, false);
                ++game.labelRejected;
            } else {
                game.expiring[game.expiringCount++] = id;
                ++game.labelExpired;
            }
            return;
        }
        ++game.objective;
        ++game.rejected;
    }

    /// @dev Claims bob's batch, empties the pool and every credit: all that was paid in is paid out or burned.
    function _settleAll(Game memory game) private {
        marketplace.claim(game.sourceId);
        uint256 poolLeft = marketplace.getModel(game.modelId).rewardPool;
        vm.prank(owner);
        marketplace.withdrawRewardPool(game.modelId, poolLeft);
        address[6] memory accounts = [owner, alice, bob, carol, dave, erin];
        uint256 paidOut = 0;
        for (uint256 i = 0; i < accounts.length; ++i) {
            if (marketplace.creditOf(accounts[i]) != 0) paidOut += _withdraw(accounts[i]);
        }
        assertEq(paidOut + marketplace.burned(), game.paidIn, "everything paid out or burned");
        assertEq(address(marketplace).balance, marketplace.burned(), "only burned wei is left");
    }

    function _source(Copy memory copy) private pure returns (IMarketplaceTypes.Source memory) {
        return _submissionSource(copy.submissionId, copy.index, copy.leaves);
    }

    function _checker() private view returns (RowChecker) {
        return RowChecker(marketplace.rowChecker());
    }

    function _floatFault(uint64 bits) private pure returns (IMarketplaceTypes.RowFault) {
        if (bits == 0x8000000000000000) return IMarketplaceTypes.RowFault.NonCanonical;
        if (bits & 0x7FFFFFFFFFFFFFFF > MAX_FLOAT_BITS) return IMarketplaceTypes.RowFault.OutOfBounds;
        return IMarketplaceTypes.RowFault.None;
    }

    /// @dev Publishes the default model with a perceptron of `weights.length` features (schema "f…fs").
    function _publishPerceptron(int64[] memory weights, int64 intercept, uint64 maxAbsFeature)
        private
        returns (uint256)
    {
        IMarketplaceTypes.RowSchema memory schema = _schema();
        schema.columns = "s";
        for (uint256 i = 0; i < weights.length; ++i) {
            schema.columns = bytes.concat("f", schema.columns);
        }
        IMarketplaceTypes.LinearModelInput memory linear = _linear(weights, intercept, maxAbsFeature);
        vm.deal(owner, POOL);
        vm.prank(owner);
        uint256 modelId = marketplace.publishModel{value: POOL}(_input(), _terms(), schema, linear);
        _perceptronWeights[modelId] = weights;
        _perceptronIntercept[modelId] = intercept;
        return modelId;
    }

    function _slice(int64[4] memory values, uint256 n) private pure returns (int64[] memory array) {
        array = new int64[](n);
        for (uint256 i = 0; i < n; ++i) {
            array[i] = values[i];
        }
    }

    /// @dev A value within 2^41 of int64's maximum (if `value` >= 0) or minimum.
    function _nearBound(int64 value) private pure returns (int64) {
        return value >= 0
            ? int64(bound(value, type(int64).max - 2 ** 41, type(int64).max))
            : int64(bound(value, type(int64).min, type(int64).min + 2 ** 41));
    }

    function _saturate(int256 value) private pure returns (int64) {
        if (value > type(int64).max) return type(int64).max;
        if (value < type(int64).min) return type(int64).min;
        // casting is safe: value is within the int64 range, checked above
        // forge-lint: disable-next-line(unsafe-typecast)
        return int64(value);
    }
}
