"""Versions and lineage, the test-set reveal, and the on-chain linear model judged automatically."""

from __future__ import annotations

import pytest
from traitlets.config import Config

from colearn_jupyter import Chain, ChainError, ColearnSettings, Marketplace, MarketplaceError, Terms
from colearn_jupyter.marketplace import LINEAR_SCALE
from colearn_jupyter.merkle import MerkleTree, encode_onchain_row


def test_versions_keep_lineage_and_accuracy_history(chain, market, publish, terms):
    model_id = publish("versioned")
    tree = MerkleTree([b"r0", b"r1"])
    sub = market.contribute("alice", model_id, "bafyv", tree.root, 2).event("SubmissionAdded").args["submission_id"]
    chain.advance_time(terms.challenge_window + 1)
    market.claim("alice", sub)
    receipt = market.publish_version("owner", model_id, "bafyversion2", 8650, "bafyeval2")
    assert receipt.event("VersionPublished").args == {
        "model_id": model_id,
        "version": 2,
        "model_cid": "bafyversion2",
        "accuracy_bps": 8650,
        "evaluation_cid": "bafyeval2",
        "parent": 1,
    }
    market.publish_version("owner", model_id, "bafyversion3", 9100)
    versions = market.versions(model_id)
    assert [(v.number, v.parent, v.accuracy_bps) for v in versions] == [(1, 0, 8000), (2, 1, 8650), (3, 2, 9100)]
    assert [v.rows_accepted for v in versions] == [0, 2, 2]
    assert versions[1].accuracy == 0.865
    assert market.model(model_id).version_count == 3


def test_test_set_reveal_checks_the_commitment(market, publish):
    model_id = publish("revealed")  # committed with salt 0x07.. and "bafytestset"
    with pytest.raises(MarketplaceError, match="do not match"):
        market.reveal_test_set("owner", model_id, b"\x07" * 32, "bafyother")
    market.reveal_test_set("owner", model_id, b"\x07" * 32, "bafytestset")
    assert market.model(model_id).test_set_cid == "bafytestset"
    with pytest.raises(MarketplaceError, match="already revealed"):
        market.reveal_test_set("owner", model_id, b"\x07" * 32, "bafytestset")


def test_linear_model_learns_on_chain_and_judges_rows(chain, market, publish, terms):
    model_id = publish("perceptron")
    market.attach_linear_model("owner", model_id, [LINEAR_SCALE, -LINEAR_SCALE], 0)
    assert market.predict(model_id, [2 * LINEAR_SCALE, LINEAR_SCALE]) == 1
    # A good row the model already gets right: no update.
    good = market.contribute_row("alice", model_id, [2 * LINEAR_SCALE, LINEAR_SCALE], 1)
    good_sub = good.event("SubmissionAdded").args["submission_id"]
    assert market.linear_model(model_id)[2] == 0
    # A row the model gets wrong trains it (perceptron update).
    wrong = market.contribute_row("bob", model_id, [LINEAR_SCALE, 3 * LINEAR_SCALE], 1)
    assert wrong.event("LinearModelUpdated").args["updates"] == 1
    weights, intercept, _ = market.linear_model(model_id)
    assert (weights, intercept) == ([2 * LINEAR_SCALE, 2 * LINEAR_SCALE], LINEAR_SCALE)
    # A mislabelled row: after the window the model disagrees, so its deposit goes to whoever reports it.
    bad = market.contribute_row("carol", model_id, [3 * LINEAR_SCALE, 3 * LINEAR_SCALE], 0)
    bad_sub = bad.event("SubmissionAdded").args["submission_id"]
    assert market.row(bad_sub) == ([3 * LINEAR_SCALE, 3 * LINEAR_SCALE], 0)
    # The perceptron learned the bad row too; a correct row on the same point teaches it back.
    fix = market.contribute_row("alice", model_id, [3 * LINEAR_SCALE, 3 * LINEAR_SCALE], 1)
    assert market.predict(model_id, [3 * LINEAR_SCALE, 3 * LINEAR_SCALE]) == 1
    assert (
        market.submission(bad_sub).merkle_root
        == "0x" + market.row_leaf(0, encode_onchain_row(*market.row(bad_sub))).hex()
    )
    with pytest.raises(MarketplaceError, match="challenge window"):
        market.report_misclassified("verifier", bad_sub)
    chain.advance_time(terms.challenge_window + 1)
    with pytest.raises(MarketplaceError, match="misclassifies"):
        market.claim("carol", bad_sub)
    with pytest.raises(MarketplaceError, match="correctly"):
        market.report_misclassified("verifier", good_sub)
    before = market.credit_of("verifier")
    market.report_misclassified("verifier", bad_sub)
    assert market.credit_of("verifier") == before + terms.deposit_per_row
    market.claim("alice", good_sub)
    market.claim("alice", fix.event("SubmissionAdded").args["submission_id"])
    assert market.model(model_id).rows_rejected == 1
    with pytest.raises(MarketplaceError, match="takes 2 features, not 3"):
        market.contribute_row("alice", model_id, [1, 2, 3], 1)
    with pytest.raises(MarketplaceError, match="neither 0 nor 1"):
        market.contribute_row("alice", model_id, [1, 2], 5)


def test_onchain_row_is_challengeable_with_a_one_leaf_proof(market, publish):
    model_id = publish("onchain-challenge")
    sub = market.contribute_row("alice", model_id, [7, 8, 9], 2).event("SubmissionAdded").args["submission_id"]
    row = encode_onchain_row([7, 8, 9], 2)
    receipt = market.challenge("verifier", sub, 0, row, [])
    assert receipt.event("RowChallenged").args["row"] == "0x" + row.hex()


def test_any_rpc_url_with_one_setting(chain, market, tmp_path):
    """The same code runs against any JSON-RPC node: here the devnet's URL given as a plain setting."""
    config = Config()
    config.ColearnSettings.rpc_url = chain.url
    config.ColearnSettings.marketplace_address = market.address
    remote = Chain(ColearnSettings(config=config))
    assert not remote.is_devnet
    other = Marketplace.connect(remote)
    assert other.model_count() == market.model_count()
    # A home that has never seen this chain needs to be told where the marketplace is.
    with pytest.raises(ChainError, match="no marketplace is known"):
        Marketplace.connect(Chain(ColearnSettings(rpc_url=chain.url, home=str(tmp_path))))


def test_no_node_running_says_what_to_do():
    with pytest.raises(ChainError, match=r"no node answers at http://127\.0\.0\.1:9\b.*COLEARN_RPC_URL"):
        _ = Chain(rpc_url="http://127.0.0.1:9").chain_id


def test_terms_validation_is_readable(market):
    bad = Terms(deposit_per_row=0, reward_per_row=1, challenge_bond=1, challenge_window=60, owner_timeout=60)
    with pytest.raises(MarketplaceError, match="deposit per row is zero"):
        market.publish_model(
            "owner", name="bad", model_cid="bafy", metadata_cid="bafy", test_set_commitment=b"\0" * 32, terms=bad
        )
