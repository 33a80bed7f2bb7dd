"""The whole incentive cycle against anvil and the real contract, with every balance checked to the wei."""

from __future__ import annotations

from colearn_jupyter.merkle import MerkleTree


def _rows(prefix: str, count: int) -> list[bytes]:
    return [f"{prefix},{i},{i % 2}".encode() for i in range(count)]


def test_publish_contribute_challenge_resolve_claim(chain, market, publish, terms):
    names = ("owner", "alice", "bob", "verifier")
    start = {name: chain.balance(chain.account(name)) for name in names}
    spent = dict.fromkeys(names, 0)  # gas fees and values sent, per account
    received = dict.fromkeys(names, 0)  # values withdrawn, per account
    contract_start = chain.balance(market.address)
    credit_start = {name: market.credit_of(name) for name in names}  # left by earlier tests

    def paid(name, receipt, value=0):
        spent[name] += receipt.fee + value
        return receipt

    pool = 10**18
    d, w, b = terms.deposit_per_row, terms.reward_per_row, terms.challenge_bond

    # The owner publishes a model with a funded reward pool.
    receipt = market.publish_model(
        "owner",
        name="spam-filter",
        model_cid="bafkreidivzimqfqtoqxkrpge6bjyhlvxqs3rhe73owtmdulaxr5do5in7u",
        metadata_cid="bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
        test_set_commitment=market.test_set_commitment(b"\x01" * 32, "bafytest"),
        terms=terms,
        reward_pool=pool,
        accuracy_bps=8123,
    )
    paid("owner", receipt, pool)
    model_id = receipt.event("ModelPublished").args["model_id"]

    # Two contributors add batches: alice 5 rows (row 2 is bad), bob 3 rows.
    alice_rows, bob_rows = _rows("alice", 5), _rows("bob", 3)
    alice_tree, bob_tree = MerkleTree(alice_rows), MerkleTree(bob_rows)
    r = paid("alice", market.contribute("alice", model_id, "bafyalice", alice_tree.root, 5), 5 * d)
    alice_sub = r.event("SubmissionAdded").args["submission_id"]
    r = paid("bob", market.contribute("bob", model_id, "bafybob", bob_tree.root, 3), 3 * d)
    bob_sub = r.event("SubmissionAdded").args["submission_id"]
    assert market.model(model_id).reward_pool == pool - 8 * w
    assert market.model(model_id).rows_pending == 8

    # A verifier challenges alice's bad row with its proof; the owner upholds it.
    r = paid("verifier", market.challenge("verifier", alice_sub, 2, alice_rows[2], alice_tree.proof(2)), b)
    upheld = r.event("RowChallenged").args["challenge_id"]
    paid("owner", market.resolve_challenge("owner", upheld, True))
    # A challenge of one of bob's good rows is rejected: its bond goes to bob.
    r = paid("verifier", market.challenge("verifier", bob_sub, 1, bob_rows[1], bob_tree.proof(1)), b)
    rejected = r.event("RowChallenged").args["challenge_id"]
    paid("owner", market.resolve_challenge("owner", rejected, False))
    assert market.challenge_info(upheld).status == "upheld"
    assert market.challenge_info(rejected).status == "rejected"

    # The window passes; contributors claim and everyone withdraws.
    chain.advance_time(terms.challenge_window + 1)
    paid("alice", market.claim("alice", alice_sub))
    paid("bob", market.claim("bob", bob_sub))
    expected_credit = {"alice": 4 * (d + w), "bob": 3 * (d + w) + b, "verifier": b + d}
    for name, credit in expected_credit.items():
        assert market.credit_of(name) == credit_start[name] + credit
        paid(name, market.withdraw(name))
        received[name] += credit_start[name] + credit
        assert market.credit_of(name) == 0

    for name in names:
        assert chain.balance(chain.account(name)) == start[name] - spent[name] + received[name], name
    model = market.model(model_id)
    assert (model.rows_submitted, model.rows_rejected, model.rows_accepted, model.rows_pending) == (8, 1, 7, 0)
    assert model.reward_pool == pool - 7 * w  # the bad row's reward went back to the pool
    withdrawn_earlier = sum(credit_start[name] for name in expected_credit)
    assert chain.balance(market.address) == contract_start + pool - 7 * w - withdrawn_earlier
    assert market.submission(alice_sub).claimed and market.submission(alice_sub).rows_rejected == 1
