"""Refused calls raise readable errors and leave the chain unchanged."""

from __future__ import annotations

import pytest

from colearn_jupyter import MarketplaceError
from colearn_jupyter.merkle import MerkleTree


def _snapshot(chain, market, model_id, *names):
    return (
        market.model(model_id),
        market.submission_count(),
        tuple(chain.balance(chain.account(n)) for n in names),
        chain.balance(market.address),
        chain.w3.eth.block_number,
    )


def test_errors_are_readable_and_change_nothing(chain, market, publish, terms):
    model_id = publish("errors", pool=terms.reward_per_row * 3)
    rows = [b"a", b"b", b"c"]
    tree = MerkleTree(rows)
    receipt = market.contribute("alice", model_id, "bafyerrors", tree.root, 3)
    sub = receipt.event("SubmissionAdded").args["submission_id"]
    before = _snapshot(chain, market, model_id, "alice", "bob", "owner", "verifier")

    cases = [
        (lambda: market.contribute("bob", model_id, "bafymore", tree.root, 1), "InsufficientRewardPool", "top it up"),
        (lambda: market.challenge("owner", sub, 0, rows[0], tree.proof(0)), "OwnerCannotChallenge", "another account"),
        (lambda: market.challenge("verifier", sub, 0, b"forged", tree.proof(0)), "InvalidProof", "encoding and index"),
        (lambda: market.challenge("verifier", sub, 7, rows[0], tree.proof(0)), "RowIndexOutOfRange", "has 3 rows"),
        (lambda: market.claim("alice", sub), "ChallengeWindowOpen", "wait until"),
        (lambda: market.resolve_challenge("owner", 10**6, True), "UnknownChallenge", "no challenge"),
        (lambda: market.publish_version("bob", model_id, "bafyv2", 9000), "NotModelOwner", "owner's account"),
        (lambda: market.withdraw("grace"), "NothingToWithdraw", "nothing to withdraw"),
        (lambda: market.model(10**9), "UnknownModel", "no model"),
    ]
    for call, name, words in cases:
        with pytest.raises(MarketplaceError) as caught:
            call()
        assert caught.value.name == name
        assert words in str(caught.value), str(caught.value)
    assert _snapshot(chain, market, model_id, "alice", "bob", "owner", "verifier") == before


def test_incorrect_payment_names_both_amounts(market, publish, terms):
    model_id = publish("payment")
    tree = MerkleTree([b"x", b"y"])
    with pytest.raises(MarketplaceError, match=r"exactly 0\.02 ETH, but 0\.01 ETH was sent"):
        market._send("alice", "contribute", model_id, "bafy", tree.root, 2, value=terms.deposit_per_row)


def test_window_closed_and_timeouts(chain, market, publish, terms):
    model_id = publish("windows")
    rows = [b"p", b"q"]
    tree = MerkleTree(rows)
    sub = market.contribute("alice", model_id, "bafyw", tree.root, 2).event("SubmissionAdded").args["submission_id"]
    challenge_id = (
        market.challenge("verifier", sub, 1, rows[1], tree.proof(1)).event("RowChallenged").args["challenge_id"]
    )
    with pytest.raises(MarketplaceError, match=r"can.t expire before"):
        market.expire_challenge("bob", challenge_id)
    chain.advance_time(terms.challenge_window + 1)
    with pytest.raises(MarketplaceError, match=r"closed at .* UTC"):
        market.challenge("verifier", sub, 0, rows[0], tree.proof(0))
    with pytest.raises(MarketplaceError, match="open challenge"):
        market.claim("alice", sub)
    chain.advance_time(terms.owner_timeout + 1)
    with pytest.raises(MarketplaceError, match="anyone may expire it now"):
        market.resolve_challenge("owner", challenge_id, True)
    bond_back = market.expire_challenge("bob", challenge_id).event("ChallengeExpired").args["bond_returned"]
    assert bond_back == terms.challenge_bond
    assert market.challenge_info(challenge_id).status == "expired"
    market.claim("alice", sub)  # an expired challenge counts the row as good
    assert market.credit_of("alice") >= 2 * (terms.deposit_per_row + terms.reward_per_row)
