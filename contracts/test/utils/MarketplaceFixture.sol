// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.24;

import {IMarketplaceTypes} from "../../src/IMarketplaceTypes.sol";
import {ModelMarketplace} from "../../src/ModelMarketplace.sol";
import {MerkleBuilder} from "./MerkleBuilder.sol";
import {SparseRows} from "./SparseRows.sol";
import {TestBase} from "./TestBase.sol";

/**
 * @dev A deployed marketplace, named actors and helpers shared by the unit, attack and fuzz tests.
 *
 * Challenges are committed and revealed in two blocks. Helpers named `_challenge…` do both; to expect a revert of a
 * reveal, commit with {_commit} first, then call `vm.expectRevert` and the reveal directly (a helper's commit would
 * otherwise be the call that `expectRevert` applies to).
 */
abstract contract MarketplaceFixture is TestBase {
    uint128 internal constant DEPOSIT = 0.01 ether;
    uint128 internal constant REWARD = 0.002 ether;
    uint128 internal constant BOND = 0.05 ether;
    uint64 internal constant WINDOW = 1 days;
    uint64 internal constant TIMEOUT = 2 days;
    uint256 internal constant POOL = 10 ether;
    bytes32 internal constant SALT = keccak256("salt");
    uint64 internal constant MAX_FLOAT_BITS = 0x41CDCD6500000000; // 1e9
    uint64 internal constant MAX_FEATURE = 1e12; // 1e6 in fixed point (scale 1e6)
    uint256 internal constant TRAINING_SALT = 1_000_001; // batchRows(TRAINING_SALT, …) is the owner's training data
    uint256 internal constant TEST_SALT = 1_000_002; // batchRows(TEST_SALT, …) is the owner's hidden test set
    uint32 internal constant TRAINING_ROWS = 5;
    uint32 internal constant TEST_ROWS = 3;

    ModelMarketplace internal marketplace;
    address internal owner;
    address internal alice;
    address internal bob;
    address internal carol;
    address internal dave;

    /// @dev The perceptron of each model of `marketplace`, followed by the dense reference ({SparseRows}): every
    /// claim through {_claimRow} checks that the contract's weights hash to the reference's.
    mapping(uint256 modelId => int64[]) internal _perceptronWeights;
    mapping(uint256 modelId => int64) internal _perceptronIntercept;
    /// @dev The on-chain rows added through {_contributeRow}, dense.
    mapping(uint256 submissionId => int64[]) internal _rowFeatures;
    mapping(uint256 submissionId => int64) internal _rowLabel;

    function setUp() public virtual {
        marketplace = new ModelMarketplace();
        owner = makeAddr("owner");
        alice = makeAddr("alice");
        bob = makeAddr("bob");
        carol = makeAddr("carol");
        dave = makeAddr("dave");
        vm.roll(100);
        vm.warp(1_700_000_000);
    }

    // --------------------------------------------------------------------------------------------- inputs

    /// @dev A binary CIDv1 (raw codec) whose digest is `keccak256(seed)`.
    function _cid(string memory seed) internal pure returns (bytes memory) {
        return abi.encodePacked(uint8(0x01), uint8(0x55), uint8(0x12), uint8(0x20), keccak256(bytes(seed)));
    }

    function _terms() internal pure returns (IMarketplaceTypes.Terms memory) {
        return _terms(DEPOSIT, REWARD, BOND);
    }

    function _terms(uint128 depositPerRow, uint128 rewardPerRow, uint128 challengeBond)
        internal
        pure
        returns (IMarketplaceTypes.Terms memory)
    {
        return IMarketplaceTypes.Terms({
            depositPerRow: depositPerRow,
            rewardPerRow: rewardPerRow,
            challengeBond: challengeBond,
            challengeWindow: WINDOW,
            ownerTimeout: TIMEOUT
        });
    }

    /// @dev The fixture schema: two float64 features and a string label, "cat" or "dog", |x| <= 1e9, strings <= 64.
    function _schema() internal pure returns (IMarketplaceTypes.RowSchema memory schema) {
        schema.columns = "ffs";
        schema.labels = new bytes[](2);
        schema.labels[0] = MerkleBuilder.encodeLabel("cat");
        schema.labels[1] = MerkleBuilder.encodeLabel("dog");
        schema.maxFloatBits = MAX_FLOAT_BITS;
        schema.maxInt = 1e9;
        schema.maxStringBytes = 64;
    }

    function _noLinear() internal pure returns (IMarketplaceTypes.LinearModelInput memory linear) {
        linear.weights = "";
    }

    function _linear() internal pure returns (IMarketplaceTypes.LinearModelInput memory linear) {
        return _linear(_features(1, -1), 0, MAX_FEATURE);
    }

    function _linear(int64[] memory weights, int64 intercept, uint64 maxAbsFeature)
        internal
        pure
        returns (IMarketplaceTypes.LinearModelInput memory linear)
    {
        linear.weights = SparseRows.pack(weights);
        linear.intercept = intercept;
        linear.maxAbsFeature = maxAbsFeature;
    }

    function _trainingRows() internal pure returns (bytes[] memory) {
        return MerkleBuilder.batchRows(TRAINING_SALT, TRAINING_ROWS);
    }

    function _testRows() internal pure returns (bytes[] memory) {
        return MerkleBuilder.batchRows(TEST_SALT, TEST_ROWS);
    }

    function _testSetCid() internal pure returns (bytes memory) {
        return _cid("testset");
    }

    function _input() internal view returns (IMarketplaceTypes.ModelInput memory) {
        return IMarketplaceTypes.ModelInput({
            name: "iris",
            modelCid: _cid("model1"),
            metadataCid: _cid("meta"),
            testSetCommitment: keccak256(abi.encodePacked(SALT, _testSetCid())),
            accuracyBps: 9100,
            evaluationCid: _cid("eval1"),
            trainingRoot: MerkleBuilder.root(MerkleBuilder.leaves(MerkleBuilder.keyOf(owner), _trainingRows())),
            trainingRowCount: TRAINING_ROWS,
            testRoot: MerkleBuilder.root(MerkleBuilder.testLeaves(SALT, _testRows())),
            testRowCount: TEST_ROWS
        });
    }

    function _features(int64 x0, int64 x1) internal pure returns (int64[] memory features) {
        features = new int64[](2);
        features[0] = x0;
        features[1] = x1;
    }

    /// @dev The canonical (sparse) form of a dense on-chain row.
    function _encodeRow(int64[] memory features, int64 label) internal pure returns (bytes memory) {
        return SparseRows.fromDense(features, label);
    }

    // --------------------------------------------------------------------------------------------- publishing

    /// @dev Publishes the default model as `owner` with a pool of `POOL`.
    function _publish() internal returns (uint256) {
        return _publish(marketplace, _terms(), POOL);
    }

    function _publish(ModelMarketplace target, IMarketplaceTypes.Terms memory terms, uint256 pool)
        internal
        returns (uint256)
    {
        return _publish(target, terms, pool, _noLinear());
    }

    function _publish(
        ModelMarketplace target,
        IMarketplaceTypes.Terms memory terms,
        uint256 pool,
        IMarketplaceTypes.LinearModelInput memory linear
    ) internal returns (uint256) {
        vm.deal(owner, pool);
        vm.prank(owner);
        uint256 modelId = target.publishModel{value: pool}(_input(), terms, _schema(), linear);
        if (target == marketplace && linear.weights.length != 0) {
            _perceptronWeights[modelId] = SparseRows.unpack(linear.weights);
            _perceptronIntercept[modelId] = linear.intercept;
        }
        return modelId;
    }

    /// @dev Publishes the default model with the perceptron `x0 - x1 >= 0` (bound 1e12 in fixed point).
    function _publishLinear() internal returns (uint256) {
        return _publish(marketplace, _terms(), POOL, _linear());
    }

    // --------------------------------------------------------------------------------------------- contributing

    /// @dev `contributor` contributes the batch `salt` of `rowCount` rows; returns its id and leaves.
    function _contribute(address contributor, uint256 modelId, uint256 salt, uint32 rowCount)
        internal
        returns (uint256 submissionId, bytes32[] memory leaves)
    {
        leaves = MerkleBuilder.leaves(MerkleBuilder.keyOf(contributor), MerkleBuilder.batchRows(salt, rowCount));
        submissionId = _contributeRoot(contributor, modelId, MerkleBuilder.root(leaves), rowCount);
    }

    /// @dev `contributor` contributes `rows` as one batch; returns its id and leaves.
    function _contributeRows(address contributor, uint256 modelId, bytes[] memory rows)
        internal
        returns (uint256 submissionId, bytes32[] memory leaves)
    {
        leaves = MerkleBuilder.leaves(MerkleBuilder.keyOf(contributor), rows);
        submissionId = _contributeRoot(contributor, modelId, MerkleBuilder.root(leaves), uint32(rows.length));
    }

    /// @dev `contributor` commits `rowCount` rows by `root`, paying the deposit of the model's terms.
    function _contributeRoot(address contributor, uint256 modelId, bytes32 root, uint32 rowCount)
        internal
        returns (uint256 submissionId)
    {
        uint256 deposit = uint256(rowCount) * marketplace.getModel(modelId).terms.depositPerRow;
        vm.deal(contributor, deposit);
        vm.prank(contributor);
        submissionId = marketplace.contribute{value: deposit}(modelId, _cid("data"), root, rowCount);
    }

    /// @dev `contributor` adds the dense row `features` (sent in its sparse form) with `label` on chain.
    function _contributeRow(address contributor, uint256 modelId, int64[] memory features, int64 label)
        internal
        returns (uint256 submissionId)
    {
        uint256 deposit = marketplace.getModel(modelId).terms.depositPerRow;
        vm.deal(contributor, deposit);
        vm.prank(contributor);
        submissionId = marketplace.contributeRow{value: deposit}(modelId, _encodeRow(features, label));
        _rowFeatures[submissionId] = features;
        _rowLabel[submissionId] = label;
    }

    /// @dev The current weights of the perceptron of `modelId`, packed (as {claimRow} and {predict} take them).
    function _weightsOf(uint256 modelId) internal view returns (bytes memory) {
        return SparseRows.pack(_perceptronWeights[modelId]);
    }

    /// @dev The contract's prediction for a dense row, with the model's current weights.
    function _predict(uint256 modelId, int64[] memory features) internal view returns (int64) {
        return marketplace.predict(modelId, _weightsOf(modelId), _encodeRow(features, 0));
    }

    /// @dev Claims the on-chain row `submissionId` (added by {_contributeRow}) as `caller`, and follows the perceptron
    /// with the dense reference: the contract's new weights must hash to the reference's, and its intercept and
    /// update count agree. Returns whether the perceptron learned the row.
    function _claimRow(address caller, uint256 submissionId) internal returns (bool learned) {
        uint256 modelId = marketplace.getSubmission(submissionId).modelId;
        bool accepted = !marketplace.isRowRejected(submissionId, 0);
        uint64 updatesBefore = marketplace.linearModel(modelId).updates;
        bytes memory row = _encodeRow(_rowFeatures[submissionId], _rowLabel[submissionId]);
        vm.prank(caller);
        marketplace.claimRow(submissionId, row, _weightsOf(modelId));
        if (!accepted) return false;
        int64[] memory weights;
        int64 intercept;
        (weights, intercept, learned) = SparseRows.learn(
            _perceptronWeights[modelId], _perceptronIntercept[modelId], _rowFeatures[submissionId], _rowLabel[submissionId]
        );
        _perceptronWeights[modelId] = weights;
        _perceptronIntercept[modelId] = intercept;
        IMarketplaceTypes.LinearModelInfo memory info = marketplace.linearModel(modelId);
        assertEq(info.weightsHash, keccak256(SparseRows.pack(weights)), "weights follow the dense reference");
        assertEq(info.intercept, intercept, "intercept follows the dense reference");
        assertEq(info.updates, updatesBefore + (learned ? 1 : 0), "one update per learned row");
    }

    // --------------------------------------------------------------------------------------------- challenging

    /// @dev `challenger` commits to challenging row `index` of `submissionId`, then the chain moves one block on.
    function _commit(address challenger, uint256 submissionId, uint32 index) internal returns (bytes32 salt) {
        salt = keccak256(abi.encode("challenge salt", challenger, submissionId, index));
        bytes32 commitment = marketplace.challengeCommitment(challenger, submissionId, index, salt);
        vm.prank(challenger);
        marketplace.commitChallenge(commitment);
        vm.roll(block.number + 1);
    }

    function _challengeLabel(address challenger, uint256 submissionId, uint32 index, bytes memory row, bytes32[] memory proof)
        internal
        returns (uint256)
    {
        bytes32 salt = _commit(challenger, submissionId, index);
        vm.deal(challenger, BOND);
        vm.prank(challenger);
        return marketplace.challengeLabel{value: BOND}(submissionId, index, row, proof, salt);
    }

    /// @dev Label challenge of row `index` of the batch `salt` (with `leaves`), as `challenger`.
    function _challenge(address challenger, uint256 submissionId, uint256 salt, bytes32[] memory leaves, uint32 index)
        internal
        returns (uint256)
    {
        return _challengeLabel(
            challenger, submissionId, index, MerkleBuilder.batchRow(salt, index), MerkleBuilder.proof(leaves, index)
        );
    }

    function _challengeFormat(address challenger, uint256 submissionId, uint32 index, bytes memory row, bytes32[] memory proof)
        internal
        returns (uint256)
    {
        bytes32 salt = _commit(challenger, submissionId, index);
        vm.prank(challenger);
        return marketplace.challengeFormat(submissionId, index, row, proof, _schema(), salt);
    }

    function _challengeDuplicate(
        address challenger,
        uint256 submissionId,
        uint32 index,
        bytes memory row,
        bytes32[] memory proof,
        IMarketplaceTypes.Source memory source
    ) internal returns (uint256) {
        bytes32 salt = _commit(challenger, submissionId, index);
        vm.prank(challenger);
        return marketplace.challengeDuplicate(submissionId, index, row, proof, source, salt);
    }

    /// @dev A source pointing at row `index` of submission `submissionId` (with `leaves`).
    function _submissionSource(uint256 submissionId, uint32 index, bytes32[] memory leaves)
        internal
        pure
        returns (IMarketplaceTypes.Source memory source)
    {
        source.kind = IMarketplaceTypes.SourceKind.Submission;
        source.submissionId = submissionId;
        source.rowIndex = index;
        source.proof = MerkleBuilder.proof(leaves, index);
    }

    /// @dev A source pointing at row `index` of the owner's training data.
    function _trainingSource(uint32 index) internal view returns (IMarketplaceTypes.Source memory source) {
        source.kind = IMarketplaceTypes.SourceKind.Training;
        source.rowIndex = index;
        source.proof = MerkleBuilder.proof(MerkleBuilder.leaves(MerkleBuilder.keyOf(owner), _trainingRows()), index);
    }

    /// @dev A source pointing at row `index` of the hidden test set, with its nonce (known to the owner).
    function _testSource(uint32 index) internal pure returns (IMarketplaceTypes.Source memory source) {
        source.kind = IMarketplaceTypes.SourceKind.Test;
        source.rowIndex = index;
        source.nonce = MerkleBuilder.testNonce(SALT, index);
        source.proof = MerkleBuilder.proof(MerkleBuilder.testLeaves(SALT, _testRows()), index);
    }

    function _challengeAvailability(address challenger, uint256 submissionId, uint32 index) internal returns (uint256) {
        bytes32 salt = _commit(challenger, submissionId, index);
        vm.deal(challenger, BOND);
        vm.prank(challenger);
        return marketplace.challengeAvailability{value: BOND}(submissionId, index, salt);
    }

    /// @dev `challenger` commits to and reveals a challenge of the whole file of `submissionId`.
    function _challengeFile(address challenger, uint256 submissionId) internal returns (uint256) {
        bytes32 salt = _commit(challenger, submissionId, marketplace.WHOLE_FILE());
        vm.deal(challenger, BOND);
        vm.prank(challenger);
        return marketplace.challengeFile{value: BOND}(submissionId, salt);
    }

    function _answer(address answerer, uint256 challengeId, bytes memory row, bytes32[] memory proof) internal {
        vm.prank(answerer);
        marketplace.answerChallenge(challengeId, row, proof);
    }

    function _resolve(uint256 challengeId, bool upheld) internal {
        vm.prank(owner);
        marketplace.resolveChallenge(challengeId, upheld);
    }

    /// @dev Withdraws the credit of `account` and returns the amount received.
    function _withdraw(address account) internal returns (uint256 received) {
        uint256 before = account.balance;
        vm.prank(account);
        marketplace.withdraw();
        received = account.balance - before;
    }

    function _afterWindow(uint256 submissionId) internal {
        vm.warp(marketplace.getSubmission(submissionId).windowEndsAt);
    }

    function _expectError(bytes4 selector, uint256 a) internal {
        vm.expectRevert(abi.encodeWithSelector(selector, a));
    }

    function _expectInvalidInput(string memory reason) internal {
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceTypes.MarketplaceInvalidInput.selector, reason));
    }
}
