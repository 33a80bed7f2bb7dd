"""Refused calls raise readable errors and leave the chain unchanged."""

from __future__ import annotations

import pytest

from colearn_jupyter import MarketplaceError, TransactionRefused
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


def test_a_call_overtaken_after_its_check_says_the_contracts_reason(chain, market, publish, terms, keyed_tree,
                                                                    fake_cid):  # fmt: skip
    """The owner withdraws the whole reward pool; between the check (the simulation) and the send, a contributor's
    batch reserves part of it (a race of two accounts, as in a class): the owner's transaction is mined and reverts.
    The error gives the contract's reason, found by calling it again on the state before its block."""
    pool = terms.reward_per_row * 12
    model_id = publish("overtaken", pool=pool)
    tree = keyed_tree([b"a", b"b", b"c"], "alice")
    owner = chain.account("owner")
    credit = market.credit_of(owner)

    def contributed_first() -> None:
        market.contribute("alice", model_id, fake_cid("overtaken"), tree.root, 3)

    with pytest.raises(TransactionRefused) as refused:
        market._send(owner, "withdrawRewardPool", model_id, pool, before_send=contributed_first)
    message = str(refused.value)
    assert "was mined in block" in message and "another transaction changed the contract" in message
    assert "reward pool" in message.lower() and "fee was paid" in message, message
    receipt = chain.w3.eth.get_transaction_receipt(message.split()[1])
    assert receipt["status"] == 0 and receipt["from"] == owner.address
    assert market.credit_of(owner) == credit  # nothing withdrawn
    assert market.model(model_id).reward_pool == pool - 3 * terms.reward_per_row  # the contributor's reservation


def test_a_transaction_that_ran_out_of_gas_says_so(chain, market, publish, monkeypatch):
    """A transaction mined as failed with all its gas used: out of gas, not a contract's reason."""
    model_id = publish("out-of-gas")
    pool = market.model(model_id).reward_pool
    monkeypatch.setattr(type(chain), "estimate_gas", lambda self, transaction: 10_000)  # * headroom + 10,000
    with pytest.raises(TransactionRefused, match=r"ran out of gas \(2\d,\d{3}\)\. It changed nothing"):
        market.fund_reward_pool("alice", model_id, 1)
    assert market.model(model_id).reward_pool == pool
