"""Refused calls raise readable errors and leave the chain unchanged."""

from __future__ import annotations

import pytest

from colearn_jupyter import MarketplaceError
from colearn_jupyter.storage.cid import cid_to_bytes


def _snapshot(chain, market, model_id, *names):
    return (
        market.model(model_id),
        market.submission_count(),
        tuple(chain.balance(chain.account(n)) for n in names),
        chain.balance(market.address),
        chain.w3.eth.block_number,
    )


def test_errors_are_readable_and_change_nothing(chain, market, publish, terms, keyed_tree, fake_cid):
    model_id = publish("errors", pool=terms.reward_per_row * 12)  # a batch may reserve a quarter: 3 rows
    rows = [b"a", b"b", b"c"]
    tree = keyed_tree(rows, "alice")
    receipt = market.contribute("alice", model_id, fake_cid("errors"), tree.root, 3)
    sub = receipt.event("SubmissionAdded").args["submission_id"]
    more = keyed_tree([b"d", b"e", b"f"], "bob")
    before = _snapshot(chain, market, model_id, "alice", "bob", "owner", "verifier")

    cases = [
        (
            lambda: market.contribute("bob", model_id, fake_cid("more"), more.root, 10),
            "InsufficientRewardPool",
            "top it up",
        ),
        (
            lambda: market.contribute("bob", model_id, fake_cid("more"), more.root, 3),
            "BatchTooLarge",
            "smaller batches",
        ),
        (
            lambda: market.contribute("alice", model_id, fake_cid("again"), tree.root, 3),
            "RootAlreadySubmitted",
            "already",
        ),
        (lambda: market.contribute("bob", model_id, "bafyjunk", more.root, 1), "InvalidCid", "not usable"),
        (lambda: market.challenge_label("owner", sub, 0, rows[0], tree.proof(0)), "OwnerCannotChallenge", "another"),
        (
            lambda: market.challenge_label("verifier", sub, 0, b"forged", tree.proof(0)),
            "InvalidProof",
            "encoding and index",
        ),
        (
            lambda: market.challenge_label("verifier", sub, 7, rows[0], tree.proof(0)),
            "RowIndexOutOfRange",
            "has 3 rows",
        ),
        (lambda: market.challenge_availability("verifier", 10**6, 0), "UnknownSubmission", "no submission"),
        (lambda: market.claim("alice", sub), "ChallengeWindowOpen", "wait until"),
        (lambda: market.resolve_challenge("owner", 10**6, True), "UnknownChallenge", "no challenge"),
        (lambda: market.answer_challenge("bob", 10**6, rows[0], []), "UnknownChallenge", "no challenge"),
        (lambda: market.publish_version("bob", model_id, fake_cid("v2"), 9000), "NotModelOwner", "owner's account"),
        (lambda: market.withdraw("grace"), "NothingToWithdraw", "nothing to withdraw"),
        (lambda: market.model(10**9), "UnknownModel", "no model"),
    ]
    for call, name, words in cases:
        with pytest.raises(MarketplaceError) as caught:
            call()
        assert caught.value.name == name
        assert words in str(caught.value), str(caught.value)
    assert _snapshot(chain, market, model_id, "alice", "bob", "owner", "verifier") == before


def test_incorrect_payment_names_both_amounts(market, publish, terms, keyed_tree, fake_cid):
    model_id = publish("payment")
    tree = keyed_tree([b"x", b"y"], "alice")
    cid = cid_to_bytes(fake_cid("payment"))
    with pytest.raises(MarketplaceError, match=r"exactly 0\.02 ETH, but 0\.01 ETH was sent"):
        market._send("alice", "contribute", model_id, cid, tree.root, 2, value=terms.deposit_per_row)


def test_a_reveal_without_commitment_is_refused(market, publish, keyed_tree, fake_cid):
    model_id = publish("commitments")
    rows = [b"u", b"v"]
    tree = keyed_tree(rows, "alice")
    sub = market.contribute("alice", model_id, fake_cid("commit"), tree.root, 2).event("SubmissionAdded").args
    with pytest.raises(MarketplaceError, match="No challenge was committed") as caught:
        market._send("verifier", "challengeAvailability", sub["submission_id"], 0, b"\1" * 32, value=1)
    assert caught.value.name == "CommitmentUnknown"


def test_window_closed_and_timeouts(chain, market, publish, terms, keyed_tree, fake_cid):
    model_id = publish("windows")
    rows = [b"p", b"q"]
    tree = keyed_tree(rows, "alice")
    sub = market.contribute("alice", model_id, fake_cid("w"), tree.root, 2).event("SubmissionAdded").args
    sub = sub["submission_id"]
    challenge_id = (
        market.challenge_label("verifier", sub, 1, rows[1], tree.proof(1)).event("RowChallenged").args["challenge_id"]
    )
    assert market.challenge_info(challenge_id).kind == "label"
    with pytest.raises(MarketplaceError, match="already has a pending challenge"):
        market.challenge_label("bob", sub, 1, rows[1], tree.proof(1))
    with pytest.raises(MarketplaceError, match=r"can.t expire before"):
        market.expire_challenge("bob", challenge_id)
    chain.advance_time(terms.challenge_window + 1)
    with pytest.raises(MarketplaceError, match=r"closed at .* UTC"):
        market.challenge_label("verifier", sub, 0, rows[0], tree.proof(0))
    with pytest.raises(MarketplaceError, match="open challenge"):
        market.claim("alice", sub)
    chain.advance_time(terms.owner_timeout + 1)
    with pytest.raises(MarketplaceError, match="anyone may expire it now"):
        market.resolve_challenge("owner", challenge_id, True)
    burned = market.burned()
    bond_back = market.expire_challenge("bob", challenge_id).event("ChallengeExpired").args["bond_returned"]
    assert bond_back == terms.challenge_bond
    assert market.challenge_info(challenge_id).status == "expired"
    assert market.burned() == burned  # an expired label challenge returns the bond; nothing is burned
    credit = market.credit_of("alice")
    market.claim("alice", sub)  # an expired challenge counts the row as good
    assert market.credit_of("alice") == credit + 2 * (terms.deposit_per_row + terms.reward_per_row)
    with pytest.raises(MarketplaceError, match="already settled"):
        market.claim("alice", sub)
