// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {IMarketplaceTypes} from "../src/IMarketplaceTypes.sol";
import {IModelMarketplace} from "../src/IModelMarketplace.sol";
import {RowChecker} from "../src/RowChecker.sol";
import {MarketplaceFixture} from "./utils/MarketplaceFixture.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";
import {SparseRows} from "./utils/SparseRows.sol";

/**
 * @dev The attacks on the incentive game (docs/security.md), one or a few tests each: every attack now reverts or
 * loses money for its author, and honest parties come out ahead.
 *
 * Money is followed with a ledger: `paidIn[a]` is every wei account `a` sent to the marketplace (pool, deposits,
 * bonds), `paidOut[a]` every wei it withdrew. A party's net is `paidOut - paidIn`; gas is left out (it only makes
 * every attack cost more). At the end of a test everyone withdraws, and what is left in the marketplace is exactly
 * what was burned.
 *
 * Terms of the fixture: D = 0.01 ether deposit per row, R = 0.002 ether reward per row, B = 0.05 ether bond. A label
 * challenge also reserves a fee F = min(R, unallocated pool) from the owner's pool, paid to the challenger on either
 * verdict (and returned to the pool if no verdict is given); the pools of these tests always hold R, so F = R.
 */
contract ModelMarketplaceAttacksTest is MarketplaceFixture {
    uint64 internal constant ONE = 0x3FF0000000000000; // 1.0
    uint64 internal constant NAN = 0x7FF8000000000000;
    uint64 internal constant FLOAT_1E308 = 0x7FE1CCF385EBC8A0;
    uint64 internal constant NEGATIVE_ZERO = 0x8000000000000000;
    uint64 internal constant BOUND = 2 ** 40; // MAX_FEATURE_BOUND: the largest maxAbsFeature a model may set

    address internal mallory; // the attacker
    address internal partner; // the attacker's second address, or the owner's accomplice

    mapping(address account => uint256) internal paidIn;
    mapping(address account => uint256) internal paidOut;
    uint256 internal totalIn;
    uint256 internal totalOut;

    function setUp() public override {
        super.setUp();
        mallory = makeAddr("mallory");
        partner = makeAddr("partner");
    }

    // ============================================================================================ (1) phantom rows

    /// Attack (1), phantom rows: Mallory commits a one-leaf tree but declares 5,000 rows, hoping nobody checks and
    /// the batch is claimed with its 5,000 rewards. Closed by availability challenges: row 4,999 has no leaf, so no
    /// proof exists and nobody can answer; the whole batch is forfeited.
    /// Arithmetic: Mallory pays 5,000 D = 50 ether and gets 0 (net -50 ether, all burned); Carol pays B and gets
    /// B + 5,000 R (net +10 ether); honest Alice, in the same period, nets +10 R.
    function test_attack1_phantomRows_oneLeafTreeIsForfeited() public {
        uint256 modelId = _publishTracked(40 ether); // 5,000 R = 10 ether is exactly a quarter of the pool
        bytes32 leaf = MerkleBuilder.leaf(MerkleBuilder.keyOf(mallory), 0, MerkleBuilder.batchRow(9, 0));
        uint256 phantom = _submitRoot(mallory, modelId, leaf, 5000);
        (uint256 honest,) = _submit(alice, modelId, MerkleBuilder.batchRows(1, 10)); // honest contributors get in

        uint256 challengeId = _availability(carol, phantom, 4999);
        // Mallory holds one row: no proof of it, of any length, makes it row 4,999
        bytes memory only = MerkleBuilder.batchRow(9, 0);
        vm.expectRevert(_invalidProof(phantom, 4999));
        _answer(mallory, challengeId, only, new bytes32[](0));
        bytes32[] memory forged = new bytes32[](13); // the depth of a 5,000-leaf tree
        for (uint256 i = 0; i < forged.length; ++i) {
            forged[i] = leaf;
        }
        vm.expectRevert(_invalidProof(phantom, 4999));
        _answer(mallory, challengeId, only, forged);

        vm.warp(block.timestamp + TIMEOUT + 1);
        marketplace.expireChallenge(challengeId);
        _expectError(IMarketplaceTypes.MarketplaceSubmissionForfeited.selector, phantom);
        marketplace.claim(phantom);
        marketplace.claim(honest);

        _settleAll(modelId);
        assertEq(_net(mallory), -int256(5000 * uint256(DEPOSIT)), "Mallory loses 5,000 deposits");
        assertEq(_net(carol), int256(5000 * uint256(REWARD)), "Carol earns the 5,000 reserved rewards");
        assertEq(_net(alice), int256(10 * uint256(REWARD)), "Alice earns 10 rewards");
        assertEq(marketplace.burned(), 5000 * uint256(DEPOSIT), "the deposits are burned, not paid to anyone");
        _assertOnlyBurnedLeft();
    }

    /// Attack (1), phantom rows with a random root: no row at all can be produced. Any row demanded forfeits all.
    /// Arithmetic: Mallory -1,000 D = -10 ether; Carol +1,000 R = +2 ether.
    function test_attack1_phantomRows_randomRootIsForfeited() public {
        uint256 modelId = _publishTracked(POOL);
        uint256 phantom = _submitRoot(mallory, modelId, keccak256("no tree at all"), 1000);
        uint256 challengeId = _availability(carol, phantom, 0);
        vm.expectRevert(_invalidProof(phantom, 0));
        _answer(mallory, challengeId, MerkleBuilder.batchRow(9, 0), new bytes32[](0));
        vm.warp(block.timestamp + TIMEOUT + 1);
        marketplace.expireChallenge(challengeId);

        _settleAll(modelId);
        assertEq(_net(mallory), -int256(1000 * uint256(DEPOSIT)), "Mallory loses every deposit");
        assertEq(_net(carol), int256(1000 * uint256(REWARD)), "Carol earns the reserved rewards");
        _assertOnlyBurnedLeft();
    }

    /// Attack (1), a data "CID" that points nowhere: a base32 string, a CIDv0, 35 or 37 bytes, another codec or
    /// hash. Refused before any deposit is taken: Mallory's net is 0 and nothing is recorded.
    function test_attack1_nonCidIsRefused() public {
        uint256 modelId = _publishTracked(POOL);
        bytes32 digest = keccak256("digest");
        bytes[6] memory cids = [
            bytes("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"),
            abi.encodePacked(uint8(0x12), uint8(0x20), digest),
            // forge-lint: disable-next-line(unsafe-typecast) a 35-byte CID on purpose: the digest cut by one byte
            abi.encodePacked(uint8(0x01), uint8(0x55), uint8(0x12), uint8(0x20), bytes31(digest)),
            abi.encodePacked(uint8(0x01), uint8(0x55), uint8(0x12), uint8(0x20), digest, uint8(0)),
            abi.encodePacked(uint8(0x01), uint8(0x71), uint8(0x12), uint8(0x20), digest),
            abi.encodePacked(uint8(0x01), uint8(0x55), uint8(0x1b), uint8(0x20), digest)
        ];
        vm.deal(mallory, DEPOSIT);
        for (uint256 i = 0; i < cids.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInvalidCid.selector, "data CID"));
            vm.prank(mallory);
            marketplace.contribute{value: DEPOSIT}(modelId, cids[i], keccak256("root"), 1);
        }
        assertEq(marketplace.submissionCount(), 0, "nothing recorded");
        assertEq(mallory.balance, DEPOSIT, "nothing taken");
    }

    /// Attack (1b), pool lock-out: reserve the whole pool with phantom batches so honest rows find no reward. A batch
    /// reserves at most a quarter of what is left, so three maximal batches leave (3/4)^3 = 42% of the pool, and
    /// locking X of reward locks X * D / R = 5 X of deposits, all burned when the batches are demanded.
    /// Arithmetic: Mallory locks 50 + 37.5 + 28.12 ether of deposits to reserve 10 + 7.5 + 5.624 ether of rewards,
    /// and loses all of it (-115.62 ether); Carol earns the 23.124 ether; Alice still gets in and nets +10 R.
    function test_attack1_batchReservesAtMostAQuarterOfThePool() public {
        uint256 modelId = _publishTracked(40 ether);
        vm.deal(mallory, 1000 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceBatchTooLarge.selector, modelId, 5001 * uint256(REWARD), 10 ether
            )
        );
        vm.prank(mallory);
        marketplace.contribute{value: 5001 * uint256(DEPOSIT)}(modelId, _cid("data"), keccak256("phantom 0"), 5001);

        uint32[3] memory sizes = [uint32(5000), 3750, 2812]; // a quarter of 40, 30 and 22.5 ether, in rows
        uint256[3] memory phantoms;
        for (uint256 i = 0; i < sizes.length; ++i) {
            phantoms[i] = _submitRoot(mallory, modelId, keccak256(abi.encode("phantom", i)), sizes[i]);
        }
        uint256 left = marketplace.getModel(modelId).rewardPool;
        assertEq(left, 40 ether - (5000 + 3750 + 2812) * uint256(REWARD), "pool left");
        assertGt(left, 16 ether, "more than 40% of the pool is still free");

        (uint256 honest,) = _submit(alice, modelId, MerkleBuilder.batchRows(1, 10));
        uint256[3] memory challenges;
        for (uint256 i = 0; i < phantoms.length; ++i) {
            challenges[i] = _availability(carol, phantoms[i], 0);
        }
        vm.warp(block.timestamp + TIMEOUT + 1);
        for (uint256 i = 0; i < phantoms.length; ++i) {
            marketplace.expireChallenge(challenges[i]);
        }
        marketplace.claim(honest);

        _settleAll(modelId);
        uint256 rows = 5000 + 3750 + 2812;
        // forge-lint: disable-next-line(unsafe-typecast) wei amounts far below 2^255
        assertEq(_net(mallory), -int256(rows * uint256(DEPOSIT)), "Mallory loses every locked deposit");
        // forge-lint: disable-next-line(unsafe-typecast) wei amounts far below 2^255
        assertEq(_net(carol), int256(rows * uint256(REWARD)), "Carol earns the rewards Mallory reserved");
        assertEq(_net(alice), int256(10 * uint256(REWARD)), "Alice got in and was paid");
        _assertOnlyBurnedLeft();
    }

    // ============================================================================================ (2) copies

    /// Attack (2), the same root twice: re-submitting one's own batch, to be paid twice. Refused: nothing is taken.
    /// (Another account's root is accepted and proves nothing: see the next test.)
    function test_attack2_sameRootTwiceIsRefused() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory rows = MerkleBuilder.batchRows(1, 4);
        bytes32 root = MerkleBuilder.root(MerkleBuilder.leaves(MerkleBuilder.keyOf(alice), rows));
        _submitRoot(alice, modelId, root, 4);

        vm.deal(alice, 4 * uint256(DEPOSIT));
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRootAlreadySubmitted.selector, modelId, root)
        );
        vm.prank(alice);
        marketplace.contribute{value: 4 * uint256(DEPOSIT)}(modelId, _cid("data"), root, 4);
        assertEq(marketplace.submissionCount(), 1, "one submission");
    }

    /// Attack (2), blocking a contribution by its root: Mallory sees Alice's pending `contribute` (its root is in the
    /// calldata) and gets the same root mined first, declaring one row, so that Alice's batch is refused as a repeat;
    /// the roots used to be refused per model whoever sent them, so one deposit blocked any batch (and Alice's rows,
    /// whose root does not change, for good). Now roots are refused per account: Alice's batch goes through, and
    /// Mallory's copy of her root is a phantom, since its leaves are keyed by Alice: nobody, Alice included, can
    /// produce a row of it under Mallory's key, and the first demand forfeits it.
    /// Arithmetic: Mallory -D; Carol +R; Alice +4 R.
    function test_attack2_anotherAccountsRootBlocksNothing() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory rows = MerkleBuilder.batchRows(1, 4);
        bytes32[] memory leaves = MerkleBuilder.leaves(MerkleBuilder.keyOf(alice), rows);
        bytes32 root = MerkleBuilder.root(leaves);
        uint256 blocker = _submitRoot(mallory, modelId, root, 1); // front-runs Alice's transaction
        uint256 honest = _submitRoot(alice, modelId, root, 4);
        assertEq(marketplace.getSubmission(honest).contributor, alice, "Alice's batch is recorded");

        uint256 challengeId = _availability(carol, blocker, 0);
        vm.expectRevert(_invalidProof(blocker, 0));
        _answer(alice, challengeId, rows[0], MerkleBuilder.proof(leaves, 0));
        vm.expectRevert(_invalidProof(blocker, 0));
        _answer(mallory, challengeId, rows[0], new bytes32[](0));
        vm.warp(block.timestamp + TIMEOUT + 1);
        marketplace.expireChallenge(challengeId);
        marketplace.claim(honest);

        _settleAll(modelId);
        assertEq(_net(mallory), -int256(uint256(DEPOSIT)), "the blocker loses its deposit");
        assertEq(_net(carol), int256(uint256(REWARD)), "the demander earns its reward");
        assertEq(_net(alice), 4 * int256(uint256(REWARD)), "Alice is paid");
        _assertOnlyBurnedLeft();
    }

    /// Attack (2), another account's rows: Mallory downloads Alice's file and submits the same rows under his key (a
    /// new root). Each copied row is proven a duplicate of Alice's earlier row.
    /// Arithmetic: Mallory -4 D; Carol +4 R; Alice, the original, +4 R.
    function test_attack2_copiedRowsAreRejectedAsDuplicates() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory rows = MerkleBuilder.batchRows(1, 4);
        (uint256 original, bytes32[] memory originalLeaves) = _submit(alice, modelId, rows);
        (uint256 copy, bytes32[] memory copyLeaves) = _submit(mallory, modelId, rows);

        for (uint32 i = 0; i < rows.length; ++i) {
            uint256 challengeId = _challengeDuplicate(
                carol,
                copy,
                i,
                rows[i],
                MerkleBuilder.proof(copyLeaves, i),
                _submissionSource(original, i, originalLeaves)
            );
            _assertKind(challengeId, IMarketplaceTypes.ChallengeKind.Duplicate);
        }
        _afterWindow(copy);
        marketplace.claim(original);
        marketplace.claim(copy); // settles nothing: every row was rejected

        _settleAll(modelId);
        assertEq(_net(mallory), -int256(4 * uint256(DEPOSIT)), "the copier loses his deposits");
        assertEq(_net(carol), int256(4 * uint256(REWARD)), "the verifier earns the rewards");
        assertEq(_net(alice), int256(4 * uint256(REWARD)), "the original is paid");
        _assertOnlyBurnedLeft();
    }

    /// Attack (2), one row N times: Mallory pads a batch with N = 5 copies of one good row. Every repeat is a
    /// duplicate of the first occurrence (same submission, lower index).
    /// Arithmetic: Mallory pays 5 D, is paid D + R for the first row: net R - 4 D = -0.038 ether; Carol +4 R.
    function test_attack2_repeatedRowIsRejected() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory rows = new bytes[](5);
        for (uint256 i = 0; i < rows.length; ++i) {
            rows[i] = MerkleBuilder.batchRow(1, 0);
        }
        (uint256 submissionId, bytes32[] memory leaves) = _submit(mallory, modelId, rows);
        for (uint32 i = 1; i < rows.length; ++i) {
            _challengeDuplicate(
                carol,
                submissionId,
                i,
                rows[i],
                MerkleBuilder.proof(leaves, i),
                _submissionSource(submissionId, i - 1, leaves)
            );
        }
        _afterWindow(submissionId);
        marketplace.claim(submissionId);

        _settleAll(modelId);
        assertEq(_net(mallory), int256(uint256(REWARD)) - 4 * int256(uint256(DEPOSIT)), "Mallory: R - 4 D");
        assertEq(_net(carol), int256(4 * uint256(REWARD)), "Carol: 4 R");
        _assertOnlyBurnedLeft();
    }

    /// Attack (2), the owner's training rows: the training file's CID is public, so Mallory submits its rows as his
    /// own. Each is proven a copy of the training tree (keyed by the owner).
    /// Arithmetic: Mallory -3 D; Carol +3 R.
    function test_attack2_trainingCopiesAreRejected() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory training = _trainingRows();
        bytes[] memory rows = new bytes[](3);
        for (uint256 i = 0; i < rows.length; ++i) {
            rows[i] = training[i + 2];
        }
        (uint256 submissionId, bytes32[] memory leaves) = _submit(mallory, modelId, rows);
        for (uint32 i = 0; i < rows.length; ++i) {
            uint256 challengeId = _challengeDuplicate(
                carol, submissionId, i, rows[i], MerkleBuilder.proof(leaves, i), _trainingSource(i + 2)
            );
            _assertKind(challengeId, IMarketplaceTypes.ChallengeKind.TrainingCopy);
        }
        _afterWindow(submissionId);
        marketplace.claim(submissionId);

        _settleAll(modelId);
        assertEq(_net(mallory), -int256(3 * uint256(DEPOSIT)), "Mallory loses 3 deposits");
        assertEq(_net(carol), int256(3 * uint256(REWARD)), "Carol earns 3 rewards");
        _assertOnlyBurnedLeft();
    }

    /// Attack (2), hidden test rows (leaked): contributing them would let the model train on its test set and inflate
    /// its "hidden test" accuracy. Only the owner knows the leaf nonces, and proves each copy.
    /// Arithmetic: Mallory -3 D (burned); the owner's pool pays 3 R, burned (the set is unrevealed: see the next test).
    function test_attack2_testCopiesAreRejectedByTheOwner() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory rows = _testRows();
        (uint256 submissionId, bytes32[] memory leaves) = _submit(mallory, modelId, rows);
        for (uint32 i = 0; i < rows.length; ++i) {
            uint256 challengeId =
                _challengeDuplicate(owner, submissionId, i, rows[i], MerkleBuilder.proof(leaves, i), _testSource(i));
            _assertKind(challengeId, IMarketplaceTypes.ChallengeKind.TestCopy);
        }
        _afterWindow(submissionId);
        marketplace.claim(submissionId);

        _settleAll(modelId);
        assertEq(_net(mallory), -int256(3 * uint256(DEPOSIT)), "Mallory loses 3 deposits");
        assertEq(_net(owner), -3 * int256(uint256(REWARD)), "the owner's pool pays the rows' rewards, burned");
        assertEq(marketplace.getModel(modelId).rowsAccepted, 0, "no test row accepted");
        _assertOnlyBurnedLeft();
    }

    /// Attack (2b), the owner's hidden test set as a trap: the owner fills the hidden test set with rows it expects
    /// contributors to send (in a small discrete domain it can hold every possible row; nobody can check a hidden
    /// set before depositing), then proves each honest row a "test copy", itself or, once it has revealed the set
    /// within the row's window, from a second address. Only the owner knew the leaf nonces when the row was sent, so
    /// the evidence is the owner's alone, like a verdict: the row's reward is now burned, as for an upheld label,
    /// instead of being paid back to the owner's side (which used to pay nothing for the trapped rows while their
    /// contributors lost their deposits). A row sent after the reveal (which its sender could check) pays its prover.
    /// Arithmetic: the owner pays 2 R for Alice's trapped rows (burned), as if it had paid them; the partner 0;
    /// Alice -2 D; after the reveal, Carol proves Mallory's leaked test row: +R; Mallory -D.
    function test_attack2_hiddenTestSetTrapPaysTheOwnerNothing() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory test = _testRows();
        bytes[] memory rows = new bytes[](2);
        rows[0] = test[0];
        rows[1] = test[1];
        (uint256 trapped, bytes32[] memory leaves) = _submit(alice, modelId, rows);
        _challengeDuplicate(owner, trapped, 0, rows[0], MerkleBuilder.proof(leaves, 0), _testSource(0));
        assertEq(marketplace.creditOf(owner), 0, "the owner's proof earns it nothing");

        vm.prank(owner);
        marketplace.revealTestSet(modelId, SALT, _testSetCid());
        _challengeDuplicate(partner, trapped, 1, rows[1], MerkleBuilder.proof(leaves, 1), _testSource(1));
        assertEq(marketplace.creditOf(partner), 0, "nor does its partner's, after the reveal");
        bytes[] memory leaked = new bytes[](1);
        leaked[0] = test[2];
        (uint256 copy, bytes32[] memory copyLeaves) = _submit(mallory, modelId, leaked);
        _challengeDuplicate(carol, copy, 0, leaked[0], MerkleBuilder.proof(copyLeaves, 0), _testSource(2));
        _afterWindow(copy);

        _settleAll(modelId);
        int256 r = int256(uint256(REWARD));
        assertEq(_net(owner), -3 * r, "the owner pays every row's reward: trapping saves nothing");
        assertEq(_net(partner), 0, "its partner gains nothing");
        assertEq(_net(alice), -2 * int256(uint256(DEPOSIT)), "Alice loses her deposits");
        assertEq(_net(carol), r, "after the reveal, proving a test copy pays");
        assertEq(_net(mallory), -int256(uint256(DEPOSIT)), "the leaked row loses its deposit");
        assertEq(marketplace.burned(), 3 * uint256(DEPOSIT) + 2 * uint256(REWARD), "3 D + 2 R burned");
        _assertOnlyBurnedLeft();
    }

    // ============================================================================================ (3) self-dealing

    /// Attack (3), copying a challenge: Mallory sees Carol's reveal in the mempool and sends the same calldata first,
    /// hoping to take the reward. The reveal needs a commitment of Mallory's own address: it fails.
    /// Arithmetic: Mallory 0 (gas only); Carol +R for the bad row.
    function test_attack3_replayedRevealFromAnotherAddressFails() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory rows = MerkleBuilder.batchRows(1, 3);
        rows[1] = MerkleBuilder.canonicalRow(NAN, ONE, "cat");
        (uint256 submissionId, bytes32[] memory leaves) = _submit(alice, modelId, rows);
        bytes32 salt = _commit(carol, submissionId, 1);
        bytes memory reveal = abi.encodeCall(
            IModelMarketplace.challengeFormat,
            (submissionId, 1, rows[1], MerkleBuilder.proof(leaves, 1), _schema(), salt)
        );

        vm.prank(mallory);
        (bool copied, bytes memory error) = address(marketplace).call(reveal);
        assertFalse(copied, "the copy fails");
        assertEq(
            error,
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceCommitmentUnknown.selector,
                marketplace.challengeCommitment(mallory, submissionId, 1, salt)
            ),
            "no commitment of Mallory's"
        );

        vm.prank(carol);
        (bool revealed,) = address(marketplace).call(reveal);
        assertTrue(revealed, "Carol's reveal still works");
        _afterWindow(submissionId);
        marketplace.claim(submissionId);

        _settleAll(modelId);
        assertEq(_net(mallory), 0, "Mallory gains nothing");
        assertEq(_net(carol), int256(uint256(REWARD)), "Carol earns the reward");
        assertEq(_net(alice), 2 * int256(uint256(REWARD)) - int256(uint256(DEPOSIT)), "Alice: 2 R - D");
        _assertOnlyBurnedLeft();
    }

    /// Attack (3), front-running with a fresh commitment: Mallory commits and reveals in the block of Carol's reveal
    /// (a bundle). A commitment cannot be revealed in its own block, and Carol's reveal, committed earlier, comes
    /// first. Copying Carol's commitment hash does not help either: it names Carol.
    /// Arithmetic: Mallory 0 (gas only); Carol +R.
    function test_attack3_sameBlockCommitmentCannotBeRevealed() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory rows = MerkleBuilder.batchRows(1, 3);
        rows[2] = MerkleBuilder.canonicalRow(ONE, ONE, "cow");
        (uint256 submissionId, bytes32[] memory leaves) = _submit(alice, modelId, rows);
        bytes32[] memory proof = MerkleBuilder.proof(leaves, 2);

        // Mallory copies Carol's commitment hash before Carol's commit is mined: the commitment is still Carol's
        bytes32 carolSalt = keccak256("carol's secret");
        bytes32 carolCommitment = marketplace.challengeCommitment(carol, submissionId, 2, carolSalt);
        vm.prank(mallory);
        marketplace.commitChallenge(carolCommitment);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceCommitmentExists.selector, carolCommitment));
        vm.prank(carol);
        marketplace.commitChallenge(carolCommitment);
        vm.roll(block.number + 1);

        // the block of Carol's reveal: Mallory's commit-and-reveal bundle is refused
        bytes32 mallorySalt = keccak256("mallory's secret");
        bytes32 malloryCommitment = marketplace.challengeCommitment(mallory, submissionId, 2, mallorySalt);
        vm.prank(mallory);
        marketplace.commitChallenge(malloryCommitment);
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceCommitmentTooRecent.selector, malloryCommitment)
        );
        vm.prank(mallory);
        marketplace.challengeFormat(submissionId, 2, rows[2], proof, _schema(), mallorySalt);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceCommitmentUnknown.selector,
                marketplace.challengeCommitment(mallory, submissionId, 2, carolSalt)
            )
        );
        vm.prank(mallory);
        marketplace.challengeFormat(submissionId, 2, rows[2], proof, _schema(), carolSalt);
        vm.prank(carol);
        marketplace.challengeFormat(submissionId, 2, rows[2], proof, _schema(), carolSalt);

        // one block later Mallory's commitment is valid, but the row is already rejected
        vm.roll(block.number + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRowAlreadyRejected.selector, submissionId, 2)
        );
        vm.prank(mallory);
        marketplace.challengeFormat(submissionId, 2, rows[2], proof, _schema(), mallorySalt);

        _afterWindow(submissionId);
        marketplace.claim(submissionId);
        _settleAll(modelId);
        assertEq(_net(mallory), 0, "Mallory gains nothing");
        assertEq(_net(carol), int256(uint256(REWARD)), "Carol earns the reward");
        _assertOnlyBurnedLeft();
    }

    /// Attack (3), self-challenge: Mallory put a bad row in his batch and, before a verifier does, proves it bad from
    /// his second address to collect the reward himself. He recovers R of the row's D: a loss of D - R.
    /// Arithmetic: coalition net = 2 R (two good rows) + R - D (the confessed row) = 3 R - D = -0.004 ether, i.e. the
    /// bad row costs D - R = 0.008 ether, against D = 0.01 ether if a verifier had found it.
    function test_attack3_selfChallengeRecoversOnlyTheReward() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory rows = MerkleBuilder.batchRows(1, 3);
        rows[1] = MerkleBuilder.canonicalRow(FLOAT_1E308, ONE, "dog");
        (uint256 submissionId, bytes32[] memory leaves) = _submit(mallory, modelId, rows);
        _challengeFormat(partner, submissionId, 1, rows[1], MerkleBuilder.proof(leaves, 1));
        _afterWindow(submissionId);
        marketplace.claim(submissionId);

        _settleAll(modelId);
        int256 coalition = _net(mallory) + _net(partner);
        int256 goodRows = 2 * int256(uint256(REWARD));
        assertEq(coalition, goodRows + int256(uint256(REWARD)) - int256(uint256(DEPOSIT)), "3 R - D");
        assertEq(goodRows - coalition, int256(uint256(DEPOSIT - REWARD)), "the bad row cost D - R");
        assertTrue(coalition < goodRows, "confessing is a loss");
        _assertOnlyBurnedLeft();
    }

    /// Attack (3), self-report of an on-chain row to recover its deposit (the old `reportMisclassified`), and the old
    /// `attachLinearModel` (weights chosen after rows arrive): neither function exists any more.
    function test_attack3_noReportMisclassifiedOrAttach() public {
        uint256 modelId = _publishTracked(POOL);
        (bool reported,) =
            address(marketplace).call(abi.encodeWithSignature("reportMisclassified(uint256)", uint256(1)));
        assertFalse(reported, "reportMisclassified is gone");
        vm.prank(owner);
        (bool attached,) = address(marketplace)
            .call(
                abi.encodeWithSignature("attachLinearModel(uint256,int64[],int64)", modelId, _features(1, 1), int64(0))
            );
        assertFalse(attached, "attachLinearModel is gone");
    }

    // ============================================================================================ (4) owner as judge

    /// Attack (4a), the owner upholds a challenge of an honest row raised by his partner, to take the row's deposit
    /// (under the old rule, also to redirect the row's reward R to the partner: the coalition then netted 0 instead of
    /// the -R an honest outcome costs it, a profit of R). Now the deposit D and the row's reserved reward R are both
    /// burned, and the partner gets his bond back and the fee F = R, which the owner's pool pays on either verdict.
    /// Arithmetic: owner -R (the row's reward, burned) - F (the fee); partner -B + B + F = +F; coalition -R - F + F
    /// = -R, exactly the honest baseline (the owner's pool paying Alice's row R): griefing gains the coalition
    /// nothing. Alice loses D; D + R are burned, received by nobody.
    function test_attack4a_ownerUpholdingAnHonestRowTakesNothing() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory rows = MerkleBuilder.batchRows(1, 1);
        (uint256 submissionId, bytes32[] memory leaves) = _submit(alice, modelId, rows);
        uint256 challengeId = _label(partner, submissionId, 0, rows[0], MerkleBuilder.proof(leaves, 0));
        uint256 fee = marketplace.getChallenge(challengeId).fee;
        assertEq(fee, REWARD, "F = R");
        _resolve(challengeId, true);
        _afterWindow(submissionId);
        marketplace.claim(submissionId);

        _settleAll(modelId);
        int256 r = int256(uint256(REWARD));
        int256 honestBaseline = -r; // no challenge: the owner's pool pays Alice's row R, the partner gets nothing
        int256 coalition = _net(owner) + _net(partner);
        assertEq(_net(owner), -r - int256(fee), "the owner's pool lost the row's reward (burned) and paid the fee");
        assertEq(_net(partner), int256(fee), "the partner got his bond back and the fee");
        assertEq(coalition, honestBaseline, "the coalition nets -R, the honest baseline");
        assertTrue(coalition <= honestBaseline, "never better than paying the honest row");
        assertEq(_net(alice), -int256(uint256(DEPOSIT)), "the honest contributor loses her deposit");
        assertEq(marketplace.burned(), uint256(DEPOSIT) + REWARD, "D + R burned, received by nobody");
        _assertOnlyBurnedLeft();
    }

    /// Attack (4b), the owner's partner contributes a mislabelled row and the owner rejects Carol's valid label
    /// challenge, hoping to pocket her bond. The bond is burned, not paid to anyone; the partner is paid exactly what
    /// an honest claim pays (D + R); the owner's pool pays R for the row and the fee F = R to Carol.
    /// Arithmetic: owner -R - F; partner -D + (D + R) = +R; coalition -R - F + R = -F = -R, the honest baseline (what
    /// the same verdict on an honest row of the partner, wrongly challenged, nets the coalition): not a wei of the
    /// bond. Carol pays B and gets F: she loses B - F = 0.048 ether, and B is burned. (The honest verdict would have
    /// cost the coalition D + 2 R: a colluding judge can let a bad row be paid, never profit from the bond.)
    function test_attack4b_ownerRejectingAValidChallengeTakesNoBond() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory rows = new bytes[](1);
        rows[0] = MerkleBuilder.canonicalRow(ONE, ONE, "dog"); // well-formed, but (say) a cat
        (uint256 submissionId, bytes32[] memory leaves) = _submit(partner, modelId, rows);
        uint256 challengeId = _label(carol, submissionId, 0, rows[0], MerkleBuilder.proof(leaves, 0));
        uint256 fee = marketplace.getChallenge(challengeId).fee;
        assertEq(fee, REWARD, "F = R");
        _resolve(challengeId, false);
        _afterWindow(submissionId);
        marketplace.claim(submissionId);
        assertEq(marketplace.creditOf(partner), DEPOSIT + REWARD, "the partner's claim is an honest claim's");
        assertEq(marketplace.creditOf(owner), 0, "the owner receives nothing");
        assertEq(marketplace.creditOf(carol), fee, "the verifier receives the fee");

        _settleAll(modelId);
        int256 r = int256(uint256(REWARD));
        int256 honestBaseline = -r;
        int256 coalition = _net(owner) + _net(partner);
        assertEq(_net(owner), -r - int256(fee), "the owner's pool paid the row's reward and the fee");
        assertEq(_net(partner), r, "the partner nets R, as for an honest row");
        assertEq(coalition, honestBaseline, "the coalition nets -R, the honest baseline");
        assertTrue(coalition <= honestBaseline, "never better than paying the honest row");
        assertEq(paidOut[partner], DEPOSIT + REWARD, "D + R, not a wei of the bond");
        assertEq(_net(carol), -int256(uint256(BOND) - fee), "the verifier loses B - F");
        assertEq(marketplace.burned(), BOND, "the bond is burned");
        _assertOnlyBurnedLeft();
    }

    /// Attack (4c), the owner raising label challenges he then judges himself. Refused.
    function test_attack4c_ownerCannotRaiseALabelChallenge() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory rows = MerkleBuilder.batchRows(1, 2);
        (uint256 submissionId, bytes32[] memory leaves) = _submit(alice, modelId, rows);
        bytes32 salt = _commit(owner, submissionId, 1);
        vm.deal(owner, BOND);
        _expectError(IMarketplaceTypes.MarketplaceOwnerCannotChallenge.selector, modelId);
        vm.prank(owner);
        marketplace.challengeLabel{value: BOND}(submissionId, 1, rows[1], MerkleBuilder.proof(leaves, 1), salt);
    }

    // ============================================================================================ (5) perceptron

    /// Attack (5), extreme features that overflow the perceptron (and used to freeze learning). Refused at entry:
    /// every |feature| is bounded by the model's maxAbsFeature; nothing is taken.
    function test_attack5_featuresBeyondTheBoundAreRefused() public {
        uint256 modelId = _publishTracked(POOL, _linear());
        // forge-lint: disable-next-line(unsafe-typecast) MAX_FEATURE (1e12) and BOUND (2^40) fit in int64
        int64 beyond = int64(MAX_FEATURE) + 1;
        int64[3] memory values = [beyond, -beyond, type(int64).min];
        vm.deal(mallory, DEPOSIT);
        for (uint256 i = 0; i < values.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IMarketplaceTypes.MarketplaceFeatureOutOfRange.selector, 1, values[i], uint64(MAX_FEATURE)
                )
            );
            vm.prank(mallory);
            marketplace.contributeRow{value: DEPOSIT}(modelId, _encodeRow(_features(0, values[i]), 1));
        }
        assertEq(mallory.balance, DEPOSIT, "nothing taken");
    }

    /// Attack (5), on-chain rows for a model without weights (rows nobody can judge by prediction): refused.
    function test_attack5_modelWithoutWeightsRefusesOnChainRows() public {
        uint256 modelId = _publishTracked(POOL);
        vm.deal(mallory, DEPOSIT);
        _expectError(IMarketplaceTypes.MarketplaceNoLinearModel.selector, modelId);
        vm.prank(mallory);
        marketplace.contributeRow{value: DEPOSIT}(modelId, _encodeRow(_features(1, 1), 1));
    }

    /// Attack (5), freezing learning with rows at the bound: weights start at the int64 limits and every update
    /// pushes them further. Updates saturate; no claim reverts; a later ordinary row is still learned. Checked against
    /// an independent saturating perceptron after every claim.
    /// Arithmetic: every row is paid D + R (they are valid rows): nobody loses, and the model keeps learning.
    function test_attack5_rowsAtTheBoundSaturateAndNeverFreezeLearning() public {
        IMarketplaceTypes.LinearModelInput memory up = _linearAt(type(int64).max, type(int64).min, type(int64).min);
        IMarketplaceTypes.LinearModelInput memory down = _linearAt(type(int64).min, type(int64).max, type(int64).max);
        uint256 upModel = _publishTracked(POOL, up);
        uint256 downModel = _publishTracked(POOL, down);
        // forge-lint: disable-next-line(unsafe-typecast) MAX_FEATURE (1e12) and BOUND (2^40) fit in int64
        int64 bound = int64(BOUND);
        uint256 count = 12;
        uint256[] memory upRows = new uint256[](count);
        uint256[] memory downRows = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast) i is a small loop index
            int64 x1 = bound - int64(int256(i));
            upRows[i] = _contributeRow(mallory, upModel, _features(bound, x1), 1);
            downRows[i] = _contributeRow(mallory, downModel, _features(bound, x1), 0);
        }
        _afterWindow(downRows[count - 1]);
        for (uint256 i = 0; i < count; ++i) {
            _claimRow(dave, upRows[i]); // never reverts; checked against the dense reference ({_claimRow})
            _claimRow(dave, downRows[i]);
        }
        uint64 upUpdates = marketplace.linearModel(upModel).updates;
        assertEq(_perceptronWeights[upModel][0], type(int64).max, "saturated at int64 max");
        assertGt(upUpdates, 4, "many updates at the bound");
        uint64 downUpdates = marketplace.linearModel(downModel).updates;
        assertEq(_perceptronWeights[downModel][0], type(int64).min, "saturated at int64 min");
        assertGt(downUpdates, 4, "many updates at the bound");
        emit log_named_uint("updates at the bound, upper model", upUpdates);
        emit log_named_uint("updates at the bound, lower model", downUpdates);

        // learning is not frozen: an ordinary misclassified row still moves the model
        uint256 ordinary = _contributeRow(alice, upModel, _features(-bound, 0), 1);
        assertEq(_predict(upModel, _features(-bound, 0)), 0, "misclassified");
        _afterWindow(ordinary);
        assertTrue(_claimRow(dave, ordinary), "learned");
        assertEq(_perceptronWeights[upModel][0], type(int64).max - bound, "moved off the limit");
        assertEq(marketplace.creditOf(mallory), 2 * count * uint256(DEPOSIT + REWARD), "every row paid");
    }

    /// Attack (5), teaching the perceptron a wrong label: Mallory adds a mislabelled on-chain row. Carol's label
    /// challenge is upheld, and a rejected row is never learned (the perceptron learns rows only when they are
    /// claimed). Arithmetic: Mallory -D; Carol +F = +R (the fee; bond back); the owner's pool pays the fee and loses
    /// the row's reserved R, burned with the deposit (D + R burned); the weights are untouched.
    function test_attack5_rejectedMislabelledRowIsNeverLearned() public {
        uint256 modelId = _publishTracked(POOL, _linear()); // 1 iff x0 - x1 >= 0
        int64[] memory features = _features(5, 1); // truly class 1
        uint256 submissionId = _contributeRowTracked(mallory, modelId, features, 0);

        uint256 challengeId = _label(carol, submissionId, 0, _encodeRow(features, 0), new bytes32[](0));
        _resolve(challengeId, true);
        _afterWindow(submissionId);
        marketplace.claim(submissionId); // rejected: nothing to learn, so no row or weights are needed
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceAlreadyClaimed.selector, submissionId));
        marketplace.claimRow(submissionId, _encodeRow(features, 0), _weightsOf(modelId));

        IMarketplaceTypes.LinearModelInfo memory linear = marketplace.linearModel(modelId);
        assertEq(linear.weightsHash, keccak256(_linear().weights), "weights untouched");
        assertEq(linear.intercept, 0, "intercept untouched");
        assertEq(linear.updates, 0, "never learned");
        _settleAll(modelId);
        assertEq(_net(mallory), -int256(uint256(DEPOSIT)), "Mallory loses D");
        assertEq(_net(carol), int256(uint256(REWARD)), "Carol earns the fee, R");
        assertEq(_net(owner), -2 * int256(uint256(REWARD)), "the pool paid the fee and the burned reward");
        assertEq(marketplace.burned(), uint256(DEPOSIT) + REWARD, "D + R burned");
        _assertOnlyBurnedLeft();
    }

    /// Attack (5g), an on-chain row "repeating" a bait row: Mallory sees Alice's `contributeRow` pending (the row is in
    /// its calldata), gets a one-row batch holding the same bytes mined first, then proves Alice's on-chain row a
    /// duplicate of his earlier batch row: her deposit burns and he takes the row's reward; his bait (a sparse row is
    /// never a valid canonical row) he confesses from a second address, getting that reward back too. Under terms
    /// with R > D / 2 (allowed: only R < D is required) that netted him 2 R - D and cost Alice D. Closed: an on-chain
    /// row is checked for repeats when it is added (its hash), and cannot equal a committed canonical row (training,
    /// test or batch) unless that row is malformed, so a duplicate challenge of it is refused.
    /// Arithmetic (R = 0.008 ether): the coalition -(D - R) for its bait; Alice +R.
    function test_attack5g_anOnChainRowIsNoDuplicateOfABaitRow() public {
        uint128 reward = 0.008 ether;
        uint256 modelId = _publish(marketplace, _terms(DEPOSIT, reward, BOND), POOL, _linear());
        _trackIn(owner, POOL);
        int64[] memory features = _features(5, 1); // class 1 under x0 - x1 >= 0
        bytes[] memory bait = new bytes[](1);
        bait[0] = _encodeRow(features, 1);
        (uint256 baitId, bytes32[] memory baitLeaves) = _submit(mallory, modelId, bait); // front-runs Alice
        uint256 honest = _contributeRowTracked(alice, modelId, features, 1);

        bytes32 salt = _commit(mallory, honest, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceNotApplicable.selector,
                "on-chain rows are checked for repeats when they are added"
            )
        );
        vm.prank(mallory);
        marketplace.challengeDuplicate(
            honest, 0, bait[0], new bytes32[](0), _submissionSource(baitId, 0, baitLeaves), salt
        );
        _challengeFormat(partner, baitId, 0, bait[0], MerkleBuilder.proof(baitLeaves, 0)); // the confession
        _afterWindow(honest);
        _claimRow(alice, honest);
        marketplace.claim(baitId);

        _settleAll(modelId);
        int256 r = int256(uint256(reward));
        assertEq(_net(mallory) + _net(partner), r - int256(uint256(DEPOSIT)), "the coalition loses D - R");
        assertEq(_net(alice), r, "Alice is paid");
        _assertOnlyBurnedLeft();
    }

    /// Attack (5), flipping the model to make an honest row look wrong (which used to forfeit it): Mallory's later
    /// contradicting rows are learned first, so the model misclassifies Alice's row when she claims. Her payout does
    /// not depend on the model: she is paid D + R.
    /// Arithmetic: Alice +R whatever rows come after hers.
    function test_attack5_honestPayoutDoesNotDependOnLaterRows() public {
        uint256 modelId = _publishTracked(POOL, _linear());
        uint256 honest = _contributeRowTracked(alice, modelId, _features(5, 1), 1);
        uint256[] memory flips = new uint256[](3);
        for (uint256 i = 0; i < flips.length; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast) i is a small loop index
            flips[i] = _contributeRowTracked(mallory, modelId, _features(5, 1 + int64(int256(i))), 0);
        }
        _afterWindow(flips[2]);
        for (uint256 i = 0; i < flips.length; ++i) {
            _claimRow(dave, flips[i]);
        }
        assertEq(_predict(modelId, _features(5, 1)), 0, "the model now misclassifies Alice's row");

        _claimRow(dave, honest);
        _settleAll(modelId);
        assertEq(_net(alice), int256(uint256(REWARD)), "Alice is paid D + R for her D");
    }

    /// Attack (5d), the same on-chain row twice, rewritten: a zero feature spelled out, its features swapped or repeated,
    /// or the dense row after its sparse form. A row has one spelling, checked on chain, and its hash refuses repeats.
    /// Arithmetic: nothing taken; only the first row stands (and is paid D + R).
    function test_attack5d_theSameRowRewrittenIsRefused() public {
        uint256 modelId = _publishTracked(POOL, _linear());
        uint256 first = _contributeRowTracked(alice, modelId, _features(3, 4), 1);
        bytes[4] memory rewritten = [
            bytes.concat(hex"01", SparseRows.feature(0, 3), SparseRows.feature(1, 4), SparseRows.feature(1, 0)),
            bytes.concat(hex"01", SparseRows.feature(1, 4), SparseRows.feature(0, 3)),
            bytes.concat(hex"01", SparseRows.feature(0, 3), SparseRows.feature(0, 3), SparseRows.feature(1, 4)),
            _encodeRow(_features(3, 4), 1) // the canonical form of the dense row: the same row
        ];
        bytes[4] memory errors = [
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceMalformedRow.selector, "feature indices must increase"),
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceMalformedRow.selector, "feature indices must increase"),
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceMalformedRow.selector, "feature indices must increase"),
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceDuplicateRow.selector, modelId, first)
        ];
        vm.deal(mallory, DEPOSIT);
        for (uint256 i = 0; i < rewritten.length; ++i) {
            vm.expectRevert(errors[i]);
            vm.prank(mallory);
            marketplace.contributeRow{value: DEPOSIT}(modelId, rewritten[i]);
        }
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceTypes.MarketplaceMalformedRow.selector, "a zero feature must be left out")
        );
        vm.prank(mallory);
        marketplace.contributeRow{value: DEPOSIT}(modelId, bytes.concat(hex"01", SparseRows.feature(0, 0)));
        assertEq(mallory.balance, DEPOSIT, "nothing taken");
        assertEq(marketplace.submissionCount(), 1, "only the first row stands");
    }

    /// Attack (5e), teaching the perceptron something else at claim: Mallory's accepted row is claimed without being
    /// learned (`claim`), with another row, or with forged weights. The chain keeps the row's and the weights' hashes:
    /// every attempt is refused, and the honest claim learns exactly the row.
    /// Arithmetic: Mallory is paid D + R for a good row, as anyone would be; the perceptron learns it once.
    function test_attack5e_aClaimCannotSkipOrForgeTheLesson() public {
        uint256 modelId = _publishTracked(POOL, _linear()); // 1 iff x0 - x1 >= 0
        uint256 submissionId = _contributeRowTracked(mallory, modelId, _features(1, 5), 1); // misclassified
        _afterWindow(submissionId);
        bytes memory row = _encodeRow(_features(1, 5), 1);

        _expectError(IMarketplaceTypes.MarketplaceRowRequired.selector, submissionId);
        vm.prank(mallory);
        marketplace.claim(submissionId); // paid but never learned: refused
        vm.expectRevert(_invalidProof(submissionId, 0));
        vm.prank(mallory);
        marketplace.claimRow(submissionId, _encodeRow(_features(1, 5), 0), _weightsOf(modelId)); // another row
        _expectError(IMarketplaceTypes.MarketplaceWeightsMismatch.selector, modelId);
        vm.prank(mallory);
        marketplace.claimRow(submissionId, row, SparseRows.pack(_features(-1e12, 1e12))); // forged weights

        assertTrue(_claimRow(mallory, submissionId), "learned, as the dense reference does");
        _expectError(IMarketplaceTypes.MarketplaceAlreadyClaimed.selector, submissionId);
        marketplace.claimRow(submissionId, row, _weightsOf(modelId)); // never twice
        _settleAll(modelId);
        assertEq(_net(mallory), int256(uint256(REWARD)), "paid D + R for D");
        assertEq(marketplace.linearModel(modelId).updates, 1, "learned once");
    }

    /// Attack (5f), holding up a claim of an on-chain row: Mallory claims her row first, which changes the weights, so
    /// Alice's claim (made with the weights before) is refused. It changes nothing; Alice's claim with the new weights
    /// goes through (the client retries), and both rows are learned in claim order.
    /// Arithmetic: both paid D + R; nobody gains by the race.
    function test_attack5f_aHeldUpClaimRetriesAndNobodyGains() public {
        uint256 modelId = _publishTracked(POOL, _linear());
        uint256 honest = _contributeRowTracked(alice, modelId, _features(1, 5), 1); // misclassified
        uint256 racing = _contributeRowTracked(mallory, modelId, _features(2, 9), 1); // misclassified
        _afterWindow(racing);
        bytes memory before = _weightsOf(modelId);

        assertTrue(_claimRow(mallory, racing), "Mallory's row learned first");
        _expectError(IMarketplaceTypes.MarketplaceWeightsMismatch.selector, modelId);
        vm.prank(alice);
        marketplace.claimRow(honest, _encodeRow(_features(1, 5), 1), before);
        assertFalse(marketplace.getSubmission(honest).claimed, "the refused claim changed nothing");

        _claimRow(alice, honest); // again, with the weights as they are now
        _settleAll(modelId);
        assertEq(_net(alice), int256(uint256(REWARD)), "Alice paid D + R");
        assertEq(_net(mallory), int256(uint256(REWARD)), "Mallory paid D + R: no more");
    }

    // ============================================================================================ (6) poison pill

    /// Attack (6), poison pill: a batch mixing good rows with NaN, 1e308 (beyond the committed bound), -0.0 and a
    /// repeated row, meant to crash verifiers so nobody challenges. The contract judges each fault itself: exactly
    /// the four bad rows are rejected, the three good rows are paid; a format challenge of a good row is refused.
    /// Arithmetic: Mallory pays 7 D, is paid 3 (D + R): net 3 R - 4 D = -0.034 ether; Carol +4 R.
    function test_attack6_poisonPillRowsAreRejectedAndTheRestIsPaid() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory rows = new bytes[](7);
        rows[0] = MerkleBuilder.batchRow(5, 0);
        rows[1] = MerkleBuilder.canonicalRow(NAN, ONE, "cat");
        rows[2] = MerkleBuilder.batchRow(5, 2);
        rows[3] = MerkleBuilder.canonicalRow(ONE, FLOAT_1E308, "dog");
        rows[4] = MerkleBuilder.canonicalRow(NEGATIVE_ZERO, ONE, "cat");
        rows[5] = MerkleBuilder.batchRow(5, 5);
        rows[6] = rows[0];
        (uint256 submissionId, bytes32[] memory leaves) = _submit(mallory, modelId, rows);

        RowChecker checker = RowChecker(marketplace.rowChecker());
        assertEq(uint256(checker.fault(_schema(), rows[1])), uint256(IMarketplaceTypes.RowFault.OutOfBounds), "NaN");
        assertEq(uint256(checker.fault(_schema(), rows[3])), uint256(IMarketplaceTypes.RowFault.OutOfBounds), "1e308");
        assertEq(uint256(checker.fault(_schema(), rows[4])), uint256(IMarketplaceTypes.RowFault.NonCanonical), "-0");

        uint32[3] memory malformed = [uint32(1), 3, 4];
        for (uint256 i = 0; i < malformed.length; ++i) {
            uint32 index = malformed[i];
            _challengeFormat(carol, submissionId, index, rows[index], MerkleBuilder.proof(leaves, index));
        }
        _challengeDuplicate(
            carol, submissionId, 6, rows[6], MerkleBuilder.proof(leaves, 6), _submissionSource(submissionId, 0, leaves)
        );
        bytes32 salt = _commit(carol, submissionId, 2);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRowIsValid.selector, submissionId, 2));
        vm.prank(carol);
        marketplace.challengeFormat(submissionId, 2, rows[2], MerkleBuilder.proof(leaves, 2), _schema(), salt);

        _afterWindow(submissionId);
        marketplace.claim(submissionId);
        for (uint32 i = 0; i < rows.length; ++i) {
            bool bad = i == 1 || i == 3 || i == 4 || i == 6;
            assertEq(marketplace.isRowRejected(submissionId, i), bad, "exactly the bad rows are rejected");
        }
        assertEq(marketplace.getModel(modelId).rowsAccepted, 3, "three rows accepted");

        _settleAll(modelId);
        assertEq(_net(mallory), 3 * int256(uint256(REWARD)) - 4 * int256(uint256(DEPOSIT)), "Mallory: 3 R - 4 D");
        assertEq(_net(carol), 4 * int256(uint256(REWARD)), "Carol: 4 R");
        assertEq(marketplace.burned(), 4 * uint256(DEPOSIT), "four deposits burned");
        _assertOnlyBurnedLeft();
    }

    // ============================================================================================ (7) absurd terms

    /// Attack (7), absurd terms: a window or time-out of 2^64 - 1 seconds or 100 years (deposits locked forever, a
    /// challenge never closes), 0 or 30 seconds (no time to challenge or answer), a reward of at least the deposit
    /// (self-challenges would pay), a zero bond (free spam). All refused; the limits themselves are accepted.
    function test_attack7_absurdTermsAreRefused() public {
        uint64[4] memory periods = [type(uint64).max, uint64(100 * 365 days), 0, 30 seconds];
        for (uint256 i = 0; i < periods.length; ++i) {
            IMarketplaceTypes.Terms memory terms = _terms();
            terms.challengeWindow = periods[i];
            _assertTermsRefused(terms, "challenge window must be between 1 minute and 30 days");
            terms = _terms();
            terms.ownerTimeout = periods[i];
            _assertTermsRefused(terms, "owner time-out must be between 1 minute and 30 days");
        }
        string memory rewardReason = "the reward per row must be less than the deposit per row";
        _assertTermsRefused(_terms(DEPOSIT, DEPOSIT, BOND), rewardReason);
        _assertTermsRefused(_terms(DEPOSIT, 2 * DEPOSIT, BOND), rewardReason);
        _assertTermsRefused(_terms(DEPOSIT, type(uint128).max, BOND), rewardReason);
        _assertTermsRefused(_terms(DEPOSIT, REWARD, 0), "challenge bond is zero");
        _assertTermsRefused(_terms(0, 0, BOND), "deposit per row is zero");

        IMarketplaceTypes.Terms memory limits = _terms(DEPOSIT, DEPOSIT - 1, 1);
        limits.challengeWindow = 30 days;
        limits.ownerTimeout = 1 minutes;
        vm.prank(owner);
        marketplace.publishModel(_input(), limits, _schema(), _noLinear());
        assertEq(marketplace.modelCount(), 1, "only the model within the limits");
    }

    // ============================================================================================ (8) spam challenges

    /// Attack (8), spam label and file challenges under a bond below the reward: the terms only require B > 0, and
    /// the fee (paid by the owner's pool on either verdict) used to be R whatever the bond. With B = R / 4 Mallory
    /// challenges every label of Alice's honest batch, and the batch's file; the honest owner rejects them all, and
    /// each rejection used to pay Mallory F - B = 3 R / 4 (+0.0075 ether for 5 challenges). Now the fee is capped
    /// below the bond (F <= B - 1), so a rejected challenge always costs its author, whatever the terms.
    /// Arithmetic: Mallory pays 5 B and is paid 5 (B - 1): -5 wei; Alice +4 R; the owner's pool pays 4 R + 5 F.
    function test_attack8_spamChallengesLoseEvenWithABondBelowTheReward() public {
        uint128 bond = REWARD / 4;
        uint256 modelId = _publish(marketplace, _terms(DEPOSIT, REWARD, bond), POOL, _noLinear());
        _trackIn(owner, POOL);
        bytes[] memory rows = MerkleBuilder.batchRows(1, 4);
        (uint256 submissionId, bytes32[] memory leaves) = _submit(alice, modelId, rows);

        uint256[] memory spam = new uint256[](5);
        for (uint32 i = 0; i < rows.length; ++i) {
            bytes32 salt = _commit(mallory, submissionId, i);
            vm.deal(mallory, bond);
            vm.prank(mallory);
            spam[i] =
                marketplace.challengeLabel{value: bond}(submissionId, i, rows[i], MerkleBuilder.proof(leaves, i), salt);
            _trackIn(mallory, bond);
        }
        bytes32 fileSalt = _commit(mallory, submissionId, marketplace.WHOLE_FILE());
        vm.deal(mallory, bond);
        vm.prank(mallory);
        spam[4] = marketplace.challengeFile{value: bond}(submissionId, fileSalt);
        _trackIn(mallory, bond);
        for (uint256 i = 0; i < spam.length; ++i) {
            assertTrue(marketplace.getChallenge(spam[i]).fee < bond, "the fee stays below the bond");
            _resolve(spam[i], false); // the labels are right and the file is there
        }
        _afterWindow(submissionId);
        marketplace.claim(submissionId);

        _settleAll(modelId);
        assertTrue(_net(mallory) < 0, "spamming challenges is a loss");
        assertEq(_net(mallory), -5, "one wei a rejected challenge (gas aside)");
        assertEq(_net(alice), 4 * int256(uint256(REWARD)), "Alice is paid");
        _assertOnlyBurnedLeft();
    }

    // ============================================================================================ (10) label shield

    /// Attack (10), label shield: Mallory's batch holds a copy of Alice's row and a malformed (NaN) row; his
    /// accomplice (`partner`) label-challenges both before any verifier, so that, the rows having a challenge pending,
    /// no format or duplicate challenge can reach them; the owner stays inactive, the label challenges expire and the
    /// rows are paid. Closed: a pending label challenge gives way to the contract's verdict. Carol's duplicate and
    /// format challenges close the label challenges (bonds back to the accomplice, fees back to the pool) and reject
    /// the rows.
    /// Arithmetic: Mallory pays 3 D and is paid D + R for his good row: net R - 2 D, i.e. -D per shielded row; the
    /// accomplice pays 2 B and gets 2 B back (0); Carol +2 R; Alice +2 R; the owner's pool pays 5 R (Alice's 2,
    /// Mallory's good row, Carol's 2) and no fee; 2 D are burned.
    function test_attack10_labelShieldDoesNotBlockObjectiveChallenges() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory aliceRows = MerkleBuilder.batchRows(1, 2);
        (uint256 original, bytes32[] memory originalLeaves) = _submit(alice, modelId, aliceRows);
        bytes[] memory rows = new bytes[](3);
        rows[0] = MerkleBuilder.batchRow(9, 0); // a good row
        rows[1] = aliceRows[1]; // a copy
        rows[2] = MerkleBuilder.canonicalRow(NAN, ONE, "cat"); // malformed
        (uint256 submissionId, bytes32[] memory leaves) = _submit(mallory, modelId, rows);
        uint256 copyShield = _label(partner, submissionId, 1, rows[1], MerkleBuilder.proof(leaves, 1));
        uint256 nanShield = _label(partner, submissionId, 2, rows[2], MerkleBuilder.proof(leaves, 2));
        assertEq(marketplace.getSubmission(submissionId).openChallenges, 2, "both rows shielded");

        // the owner does nothing; Carol proves both faults through the pending label challenges
        _challengeDuplicate(
            carol,
            submissionId,
            1,
            rows[1],
            MerkleBuilder.proof(leaves, 1),
            _submissionSource(original, 1, originalLeaves)
        );
        _challengeFormat(carol, submissionId, 2, rows[2], MerkleBuilder.proof(leaves, 2));
        _assertStatus(copyShield, IMarketplaceTypes.ChallengeStatus.Expired);
        _assertStatus(nanShield, IMarketplaceTypes.ChallengeStatus.Expired);
        assertTrue(marketplace.isRowRejected(submissionId, 1), "the copy is rejected");
        assertTrue(marketplace.isRowRejected(submissionId, 2), "the malformed row is rejected");
        assertEq(marketplace.getSubmission(submissionId).openChallenges, 0, "no shield left");

        _afterWindow(submissionId);
        marketplace.claim(original);
        marketplace.claim(submissionId);

        _settleAll(modelId);
        int256 r = int256(uint256(REWARD));
        int256 d = int256(uint256(DEPOSIT));
        assertEq(_net(mallory), r - 2 * d, "Mallory: R - 2 D, i.e. -D per shielded row");
        assertEq(_net(partner), 0, "the accomplice's bonds come back, without a fee");
        assertEq(_net(carol), 2 * r, "Carol earns the two rows' rewards");
        assertEq(_net(alice), 2 * r, "the original is paid");
        assertEq(_net(owner), -5 * r, "the pool paid 5 rewards and no fee");
        assertEq(marketplace.burned(), 2 * uint256(DEPOSIT), "the two deposits are burned");
        _assertOnlyBurnedLeft();
    }

    // ============================================================================================ (11) withholding

    /// Attack (11), withholding the file: Mallory commits real rows but never stores the file, so nobody can retrain on
    /// them; he answers every availability demand from memory, which would take each demander's bond. Closed by the
    /// file challenge, which only the owner can judge (the contract cannot see storage) and no row answers: Carol,
    /// unable to fetch the file, challenges it; the owner, unable too, upholds.
    /// Arithmetic: Mallory pays 4 D and gets nothing back (-4 D, burned); Carol pays B and gets B + F (+R); the
    /// owner's pool pays the fee and its 4 reserved rewards are burned (-5 R, as if it had paid the batch and a fee).
    function test_attack11_withheldFileIsForfeitedByTheOwner() public {
        uint256 modelId = _publishTracked(POOL);
        (uint256 submissionId, bytes32[] memory leaves) = _submit(mallory, modelId, MerkleBuilder.batchRows(9, 4));
        uint256 challengeId = _challengeFile(carol, submissionId);
        _trackIn(carol, BOND);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceTypes.MarketplaceWrongChallengeKind.selector, challengeId, IMarketplaceTypes.ChallengeKind.File
            )
        );
        _answer(mallory, challengeId, MerkleBuilder.batchRow(9, 0), MerkleBuilder.proof(leaves, 0));
        _resolve(challengeId, true);
        _afterWindow(submissionId);
        _expectError(IMarketplaceTypes.MarketplaceSubmissionForfeited.selector, submissionId);
        marketplace.claim(submissionId);

        _settleAll(modelId);
        int256 r = int256(uint256(REWARD));
        assertEq(_net(mallory), -4 * int256(uint256(DEPOSIT)), "Mallory loses every deposit");
        assertEq(_net(carol), r, "Carol earns the fee");
        assertEq(_net(owner), -5 * r, "the owner pays what an honest batch and a fee would have cost");
        assertEq(marketplace.burned(), 4 * (uint256(DEPOSIT) + REWARD), "4 D + 4 R burned");
        _assertOnlyBurnedLeft();
    }

    /// Attack (11b): an owner upholds its partner's file challenge of Alice's available batch. The owner's verdict is
    /// the one thing the contract cannot check, but it pays the coalition nothing: the partner gets its bond back and
    /// the fee, which the owner's pool pays; Alice's rewards are burned, not returned to the pool.
    /// Arithmetic: coalition (owner + partner) -4 R, exactly what paying Alice would have cost; Alice -4 D.
    function test_attack11_ownerUpholdingAFalseFileChallengeGainsNothing() public {
        uint256 modelId = _publishTracked(POOL);
        (uint256 submissionId,) = _submit(alice, modelId, MerkleBuilder.batchRows(1, 4));
        uint256 challengeId = _challengeFile(partner, submissionId);
        _trackIn(partner, BOND);
        _resolve(challengeId, true);
        _afterWindow(submissionId);

        _settleAll(modelId);
        int256 r = int256(uint256(REWARD));
        assertEq(_net(owner) + _net(partner), -4 * r, "the coalition is where paying Alice would have left it");
        assertEq(_net(alice), -4 * int256(uint256(DEPOSIT)), "Alice's deposits are burned");
        _assertOnlyBurnedLeft();
    }

    // ============================================================================================ crafted proofs

    /// Crafted proofs: Mallory tries to have a row of Alice's honest batch rejected on its format by passing an inner
    /// node of her tree off as the row (a Merkle second preimage: the 64 bytes of the node's two children, hashed the
    /// way the node is, with the shorter proof from that node up), at that node's index and at its sibling's. Leaves
    /// are hashed twice over an encoding that binds the contributor and the index (32 bytes hashed, never 64), and the
    /// row count fixes every proof's length, so no inner node passes for a row; the real row, with its real proof, is
    /// well-formed. Every attempt reverts; Alice is paid.
    /// Arithmetic: Mallory 0 (gas only); Alice +4 R.
    function test_attackProof_anInnerNodeCannotPassForARow() public {
        uint256 modelId = _publishTracked(POOL);
        bytes[] memory rows = MerkleBuilder.batchRows(1, 4);
        (uint256 submissionId, bytes32[] memory leaves) = _submit(alice, modelId, rows);
        bytes32 left = keccak256(abi.encode(leaves[0], leaves[1]));
        bytes32 right = keccak256(abi.encode(leaves[2], leaves[3]));
        assertEq(keccak256(abi.encode(left, right)), marketplace.getSubmission(submissionId).merkleRoot, "the tree");

        bytes memory node = abi.encode(leaves[0], leaves[1]); // hashes to the inner node `left`
        bytes32[] memory fromNode = new bytes32[](1);
        fromNode[0] = right;
        bytes32[] memory padded = new bytes32[](2);
        padded[0] = right;
        padded[1] = right;
        IMarketplaceTypes.RowSchema memory schema = _schema();
        for (uint32 index = 0; index < 2; ++index) {
            bytes32 salt = _commit(mallory, submissionId, index);
            vm.startPrank(mallory);
            vm.expectRevert(_invalidProof(submissionId, index));
            marketplace.challengeFormat(submissionId, index, node, fromNode, schema, salt);
            vm.expectRevert(_invalidProof(submissionId, index));
            marketplace.challengeFormat(submissionId, index, node, padded, schema, salt);
            vm.expectRevert(_invalidProof(submissionId, index));
            marketplace.challengeFormat(submissionId, index, abi.encode(left), fromNode, schema, salt);
            vm.expectRevert(
                abi.encodeWithSelector(IMarketplaceTypes.MarketplaceRowIsValid.selector, submissionId, index)
            );
            bytes32[] memory proof = MerkleBuilder.proof(leaves, index);
            marketplace.challengeFormat(submissionId, index, rows[index], proof, schema, salt);
            vm.stopPrank();
        }
        _afterWindow(submissionId);
        marketplace.claim(submissionId);

        _settleAll(modelId);
        assertEq(_net(mallory), 0, "Mallory neither paid nor earned");
        assertEq(_net(alice), 4 * int256(uint256(REWARD)), "every row of Alice's is paid");
        _assertOnlyBurnedLeft();
    }

    // ============================================================================================ ledger helpers

    function _trackIn(address account, uint256 amount) private {
        paidIn[account] += amount;
        totalIn += amount;
    }

    function _net(address account) private view returns (int256) {
        return int256(paidOut[account]) - int256(paidIn[account]);
    }

    /// @dev Everyone withdraws everything; the owner first takes back what is left of the pool.
    function _settleAll(uint256 modelId) private {
        uint256 left = marketplace.getModel(modelId).rewardPool;
        if (left != 0) {
            vm.prank(owner);
            marketplace.withdrawRewardPool(modelId, left);
        }
        address[6] memory parties = [owner, alice, carol, dave, mallory, partner];
        for (uint256 i = 0; i < parties.length; ++i) {
            uint256 credit = marketplace.creditOf(parties[i]);
            if (credit == 0) continue;
            uint256 received = _withdraw(parties[i]);
            assertEq(received, credit, "withdrawn");
            paidOut[parties[i]] += received;
            totalOut += received;
        }
    }

    /// @dev After {_settleAll} (of every model used): the marketplace holds exactly the burned wei.
    function _assertOnlyBurnedLeft() private view {
        assertEq(address(marketplace).balance, marketplace.burned(), "only burned wei are left");
        assertEq(totalIn - totalOut, marketplace.burned(), "paid in - paid out = burned");
    }

    function _publishTracked(uint256 pool) private returns (uint256) {
        return _publishTracked(pool, _noLinear());
    }

    function _publishTracked(uint256 pool, IMarketplaceTypes.LinearModelInput memory linear)
        private
        returns (uint256 modelId)
    {
        modelId = _publish(marketplace, _terms(), pool, linear);
        _trackIn(owner, pool);
    }

    function _submit(address contributor, uint256 modelId, bytes[] memory rows)
        private
        returns (uint256 submissionId, bytes32[] memory leaves)
    {
        (submissionId, leaves) = _contributeRows(contributor, modelId, rows);
        _trackIn(contributor, rows.length * uint256(DEPOSIT));
    }

    function _submitRoot(address contributor, uint256 modelId, bytes32 root, uint32 rowCount)
        private
        returns (uint256 submissionId)
    {
        submissionId = _contributeRoot(contributor, modelId, root, rowCount);
        _trackIn(contributor, uint256(rowCount) * DEPOSIT);
    }

    function _contributeRowTracked(address contributor, uint256 modelId, int64[] memory features, int64 label)
        private
        returns (uint256 submissionId)
    {
        submissionId = _contributeRow(contributor, modelId, features, label);
        _trackIn(contributor, DEPOSIT);
    }

    function _label(address challenger, uint256 submissionId, uint32 index, bytes memory row, bytes32[] memory proof)
        private
        returns (uint256 challengeId)
    {
        challengeId = _challengeLabel(challenger, submissionId, index, row, proof);
        _trackIn(challenger, BOND);
    }

    function _availability(address challenger, uint256 submissionId, uint32 index)
        private
        returns (uint256 challengeId)
    {
        challengeId = _challengeAvailability(challenger, submissionId, index);
        _trackIn(challenger, BOND);
    }

    // ============================================================================================ other helpers

    function _linearAt(int64 w0, int64 w1, int64 intercept)
        private
        pure
        returns (IMarketplaceTypes.LinearModelInput memory)
    {
        return _linear(_features(w0, w1), intercept, BOUND);
    }

    function _assertTermsRefused(IMarketplaceTypes.Terms memory terms, string memory reason) private {
        IMarketplaceTypes.ModelInput memory input = _input();
        IMarketplaceTypes.RowSchema memory schema = _schema();
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInvalidTerms.selector, reason));
        vm.prank(owner);
        marketplace.publishModel(input, terms, schema, _noLinear());
    }

    function _assertKind(uint256 challengeId, IMarketplaceTypes.ChallengeKind kind) private view {
        assertEq(uint256(marketplace.getChallenge(challengeId).kind), uint256(kind), "challenge kind");
    }

    function _assertStatus(uint256 challengeId, IMarketplaceTypes.ChallengeStatus status) private view {
        assertEq(uint256(marketplace.getChallenge(challengeId).status), uint256(status), "challenge status");
    }

    function _invalidProof(uint256 submissionId, uint32 rowIndex) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInvalidProof.selector, submissionId, rowIndex);
    }
}
