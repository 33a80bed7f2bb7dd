"""Versions and lineage, the test-set reveal, and the on-chain perceptron: given at publish, learning on claim."""

from __future__ import annotations

import pytest
from traitlets.config import Config

from colearn_jupyter import Chain, ChainError, ColearnSettings, Marketplace, MarketplaceError, Terms
from colearn_jupyter.formats.data import Column, FeatureSchema
from colearn_jupyter.marketplace import LINEAR_SCALE, LinearTerms
from colearn_jupyter.onchain import encode_onchain_row, encode_sparse_row, pack_weights
from colearn_jupyter.storage.cid import raw_cid
from conftest import TEST_SALT, TEST_SET_CID

S = LINEAR_SCALE


def test_versions_keep_lineage_and_accuracy_history(chain, market, publish, terms, keyed_tree, fake_cid):
    model_id = publish("versioned")
    tree = keyed_tree([b"r0", b"r1"], "alice")
    sub = market.contribute("alice", model_id, fake_cid("v"), tree.root, 2).event("SubmissionAdded").args
    chain.advance_time(terms.challenge_window + 1)
    market.claim("alice", sub["submission_id"])
    v2, eval2, v3 = raw_cid(b"version 2"), raw_cid(b"evaluation 2"), raw_cid(b"version 3")
    receipt = market.publish_version("owner", model_id, v2, 8650, eval2)
    assert receipt.event("VersionPublished").args == {
        "model_id": model_id,
        "version": 2,
        "model_cid": v2,
        "accuracy_bps": 8650,
        "evaluation_cid": eval2,
        "parent": 1,
        "rows_accepted": 2,
        "published_at": chain.w3.eth.get_block(receipt.block_number)["timestamp"],
    }
    market.publish_version("owner", model_id, v3, 9100)
    versions = market.versions(model_id)
    assert [(v.number, v.parent, v.accuracy_bps) for v in versions] == [(1, 0, 8000), (2, 1, 8650), (3, 2, 9100)]
    assert [v.rows_accepted for v in versions] == [0, 2, 2]
    assert versions[1].accuracy == 0.865
    assert versions[2].evaluation_cid == ""
    assert market.model(model_id).version_count == 3
    with pytest.raises(MarketplaceError, match="accuracy above 10000 bps"):
        market.publish_version("owner", model_id, v3, 10_001)


def test_test_set_reveal_checks_the_commitment(market, publish):
    model_id = publish("revealed")  # committed with TEST_SALT and TEST_SET_CID
    with pytest.raises(MarketplaceError, match="do not match"):
        market.reveal_test_set("owner", model_id, TEST_SALT, raw_cid(b"another test set"))
    market.reveal_test_set("owner", model_id, TEST_SALT, TEST_SET_CID)
    assert market.model(model_id).test_set_cid == TEST_SET_CID
    with pytest.raises(MarketplaceError, match="already revealed"):
        market.reveal_test_set("owner", model_id, TEST_SALT, TEST_SET_CID)


def test_perceptron_is_given_at_publish_and_learns_only_claimed_rows(chain, market, publish, terms):
    linear = LinearTerms((S, -S), 0, 10 * S)
    model_id = publish("perceptron", linear=linear)
    assert market.model(model_id).has_linear_model
    assert market.linear_model(model_id) == ([S, -S], 0, 0)
    assert market.predict(model_id, [2 * S, S]) == 1
    # A good row the model already gets right; the chain keeps its hash, the row is in RowAdded (sparse).
    good = market.contribute_row("alice", model_id, [2 * S, S], 1)
    assert good.event("RowAdded").args["row"] == "0x" + encode_sparse_row({0: 2 * S, 1: S}, 1).hex()
    good_sub = good.event("SubmissionAdded").args["submission_id"]
    # A row the model gets wrong: nothing is learned before the row is claimed.
    assert market.predict(model_id, [S, 3 * S]) == 0
    wrong = market.contribute_row("bob", model_id, [S, 3 * S], 1)
    assert not [e for e in wrong.events if e.name == "LinearModelUpdated"]
    wrong_sub = wrong.event("SubmissionAdded").args["submission_id"]
    assert market.linear_model(model_id) == ([S, -S], 0, 0)
    # A mislabelled row: a verifier challenges its label (the row, with an empty proof) and the owner upholds it.
    bad = market.contribute_row("carol", model_id, [3 * S, 3 * S], 0)
    bad_sub = bad.event("SubmissionAdded").args["submission_id"]
    assert market.row(bad_sub) == ([3 * S, 3 * S], 0)
    row = encode_onchain_row(*market.row(bad_sub))
    submission = market.submission(bad_sub)
    assert submission.merkle_root == "0x" + "00" * 32 and submission.data_cid == "" and submission.on_chain_row
    with pytest.raises(MarketplaceError, match="repeats the on-chain row"):
        market.contribute_row("dave", model_id, [3 * S, 3 * S], 0)
    with pytest.raises(MarketplaceError, match="repeats the on-chain row"):  # the same row, written sparse
        market.contribute_sparse_row("dave", model_id, {1: 3 * S, 0: 3 * S}, 0)
    with pytest.raises(MarketplaceError, match="does not show that this is row 0"):
        market.challenge_label("verifier", bad_sub, 0, encode_onchain_row([3 * S, 2 * S], 0), [])
    challenge = market.challenge_label("verifier", bad_sub, 0, row, [])
    assert challenge.event("RowChallenged").args["row"] == "0x" + row.hex()
    challenge_id = challenge.event("RowChallenged").args["challenge_id"]
    with pytest.raises(MarketplaceError, match="is not of a kind"):
        market.answer_challenge("carol", challenge_id, row, [])
    with pytest.raises(MarketplaceError, match="already on chain"):
        market.challenge_availability("verifier", good_sub, 0)
    credit = market.credit_of("verifier")
    market.resolve_challenge("owner", challenge_id, True)
    assert market.credit_of("verifier") == credit + terms.challenge_bond + terms.reward_per_row

    with pytest.raises(MarketplaceError, match="challenge window"):
        market.claim("alice", good_sub)
    chain.advance_time(terms.challenge_window + 1)
    # Claims train the perceptron, in claim order: the good row changes nothing, the wrong one updates it. A claim of
    # an on-chain row gives the row and the current weights, which the chain checks against their hashes.
    with pytest.raises(MarketplaceError, match="claim it with its row and the perceptron's weights"):
        market._send("alice", "claim", good_sub)
    assert not [e for e in market.claim("alice", good_sub).events if e.name == "LinearModelUpdated"]
    with pytest.raises(MarketplaceError, match=r"not model \d+.s current perceptron"):
        market._send("bob", "claimRow", wrong_sub, encode_onchain_row([S, 3 * S], 1), pack_weights([S, S]))
    updated = market.claim("bob", wrong_sub).event("LinearModelUpdated").args
    assert (updated["submission_id"], updated["updates"], updated["intercept"]) == (wrong_sub, 1, S)
    assert market.linear_model(model_id) == ([2 * S, 2 * S], S, 1)
    # The rejected row earns nothing and teaches nothing.
    claimed = market.claim("carol", bad_sub).event("SubmissionClaimed").args
    assert (claimed["rows_accepted"], claimed["amount"]) == (0, 0)
    assert market.linear_model(model_id)[2] == 1
    model = market.model(model_id)
    assert (model.rows_rejected, model.rows_accepted) == (1, 2)

    with pytest.raises(MarketplaceError, match="takes 2 features, not 3"):
        market.contribute_row("alice", model_id, [1, 2, 3], 1)
    with pytest.raises(MarketplaceError, match="neither 0 nor 1"):
        market.contribute_row("alice", model_id, [1, 2], 5)
    with pytest.raises(MarketplaceError, match="beyond the model's bound"):
        market.contribute_row("alice", model_id, [11 * S, 0], 1)
    with pytest.raises(MarketplaceError, match="takes 2 features, so there is no feature 7"):
        market.contribute_sparse_row("alice", model_id, {7: S}, 1)
    with pytest.raises(MarketplaceError, match="feature 0 is given twice"):
        market.contribute_sparse_row("alice", model_id, [(0, S), (0, 2 * S)], 1)


def test_sparse_rows_of_a_wide_perceptron_and_a_claim_that_retries(chain, market, publish, terms, monkeypatch):
    """A 1,000-feature perceptron: rows name only their non-zero features, and a claim whose weights another claim
    changed first reads them again and retries."""
    weights = [(-1) ** i * (i + 1) for i in range(1000)]
    schema = FeatureSchema(tuple(Column(f"x{i}", "float64") for i in range(1000)), Column("y", "int64"), (0, 1), 1e6)
    model_id = publish("wide", linear=LinearTerms(tuple(weights), 0, 10 * S), schema=schema)
    rows = [{3: S, 500: -2 * S, 999: S // 2}, {10: S}]
    subs = []
    for features, who in zip(rows, ("alice", "bob"), strict=True):
        label = 1 - market.predict(model_id, [features.get(i, 0) for i in range(1000)])  # wrong: it will learn
        receipt = market.contribute_sparse_row(who, model_id, features, label)
        subs.append((receipt.event("SubmissionAdded").args["submission_id"], label))
    assert market.row(subs[0][0])[0][500] == -2 * S
    chain.advance_time(terms.challenge_window + 1)

    stale = market.linear_model(model_id)[0]
    market.claim("alice", subs[0][0])  # learned: the weights changed
    calls = []
    real = market.linear_model

    def first_stale(model: int):
        calls.append(model)
        return (stale, 0, 0) if len(calls) == 1 else real(model)

    monkeypatch.setattr(market, "linear_model", first_stale)
    updated = market.claim("bob", subs[1][0]).event("LinearModelUpdated").args
    assert len(calls) == 2 and updated["updates"] == 2
    monkeypatch.undo()
    learned, intercept, updates = market.linear_model(model_id)
    step0, step1 = (1 if subs[0][1] else -1), (1 if subs[1][1] else -1)
    expected = list(weights)
    for features, step in ((rows[0], step0), (rows[1], step1)):
        for index, value in features.items():
            expected[index] += step * value
    assert (learned, intercept, updates) == (expected, (step0 + step1) * S, 2)


def test_onchain_rows_need_a_perceptron_given_at_publish(market, publish):
    plain = publish("no-perceptron")
    with pytest.raises(MarketplaceError, match="has no on-chain linear model"):
        market.contribute_row("alice", plain, [1, 2], 1)
    with pytest.raises(MarketplaceError, match="takes 2 features, not 3"):
        publish("three-weights", linear=LinearTerms((1, 2, 3), 0, S))


def test_any_rpc_url_with_one_setting(chain, market, tmp_path):
    """The same code runs against any JSON-RPC node: here the devnet's URL given as a plain setting."""
    config = Config()
    config.ColearnSettings.rpc_url = chain.url
    config.ColearnSettings.marketplace_address = market.address
    remote = Chain(ColearnSettings(config=config))
    assert not remote.is_devnet
    other = Marketplace.connect(remote)
    assert other.model_count() == market.model_count()
    # A home that has never seen this chain: a development node on this machine with the devnet's public test keys
    # gets a marketplace of its own; a real network must be told where the marketplace is.
    fresh = Chain(ColearnSettings(rpc_url=chain.url, home=str(tmp_path / "local")))
    assert fresh.is_local_node and Marketplace.connect(fresh).address != market.address
    real = Chain(ColearnSettings(rpc_url=chain.url, home=str(tmp_path / "real")))
    real._local_node = False  # as a testnet would be: not on this machine
    with pytest.raises(ChainError, match="no marketplace is known"):
        Marketplace.connect(real)


def test_no_node_running_says_what_to_do():
    with pytest.raises(ChainError, match=r"no node answers at http://127\.0\.0\.1:9\b.*COLEARN_RPC_URL"):
        _ = Chain(rpc_url="http://127.0.0.1:9").chain_id


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"deposit_per_row": 0}, "deposit per row is zero"),
        ({"reward_per_row": 10**16}, "reward per row must be less than the deposit"),
        ({"challenge_bond": 0}, "challenge bond is zero"),
        ({"challenge_window": 59}, "window must be between 1 minute and 30 days"),
        ({"owner_timeout": 31 * 86400}, "time-out must be between 1 minute and 30 days"),
    ],
)
def test_terms_validation_is_readable(publish, changes, words):
    good = Terms(deposit_per_row=10**16, reward_per_row=10**15, challenge_bond=1, challenge_window=60,
                 owner_timeout=60)  # fmt: skip
    with pytest.raises(MarketplaceError, match=words) as caught:
        publish("bad", terms=Terms(**{**good.__dict__, **changes}))
    assert caught.value.name == "InvalidTerms"
