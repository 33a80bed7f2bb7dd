"""The whole incentive cycle against anvil and the real contract, with every balance checked to the wei."""

from __future__ import annotations

from colearn_jupyter.marketplace import Receipt


def _rows(prefix: str, count: int) -> list[bytes]:
    return [f"{prefix},{i},{i % 2}".encode() for i in range(count)]


def _fees(chain, address: str, first_block: int, last_block: int) -> int:
    """Wei an address paid for gas in a block range (challenges send two transactions: commit and reveal)."""
    total = 0
    for number in range(first_block, last_block + 1):
        for tx in chain.w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == address:
                receipt = chain.w3.eth.get_transaction_receipt(tx["hash"])
                total += receipt["gasUsed"] * receipt["effectiveGasPrice"]
    return total


def test_publish_contribute_challenge_resolve_claim(chain, market, publish, terms, keyed_tree, fake_cid):
    names = ("owner", "alice", "bob", "verifier")
    first_block = chain.w3.eth.block_number + 1
    start = {name: chain.balance(chain.account(name)) for name in names}
    sent = dict.fromkeys(names, 0)  # values sent, per account (gas is counted from the blocks at the end)
    received = dict.fromkeys(names, 0)  # values withdrawn, per account
    contract_start = chain.balance(market.address)
    burned_start = market.burned()
    credit_start = {name: market.credit_of(name) for name in names}  # left by earlier tests

    def paid(name: str, receipt: Receipt, value: int = 0) -> Receipt:
        sent[name] += value
        return receipt

    pool = 10**18
    d, w, b = terms.deposit_per_row, terms.reward_per_row, terms.challenge_bond

    # The owner publishes a model with a funded reward pool.
    model_id = publish("spam-filter", pool=pool, accuracy_bps=8123)
    sent["owner"] += pool

    # Two contributors add batches: alice 5 rows (row 2 is bad), bob 3 rows.
    alice_rows, bob_rows = _rows("alice", 5), _rows("bob", 3)
    alice_tree, bob_tree = keyed_tree(alice_rows, "alice"), keyed_tree(bob_rows, "bob")
    r = paid("alice", market.contribute("alice", model_id, fake_cid("alice"), alice_tree.root, 5), 5 * d)
    alice_sub = r.event("SubmissionAdded").args["submission_id"]
    r = paid("bob", market.contribute("bob", model_id, fake_cid("bob"), bob_tree.root, 3), 3 * d)
    bob_sub = r.event("SubmissionAdded").args["submission_id"]
    assert market.model(model_id).reward_pool == pool - 8 * w
    assert market.model(model_id).rows_pending == 8

    # A verifier challenges alice's bad row with its proof (committed, then revealed); the owner upholds it.
    r = paid("verifier", market.challenge_label("verifier", alice_sub, 2, alice_rows[2], alice_tree.proof(2)), b)
    upheld = r.event("RowChallenged").args["challenge_id"]
    resolved = market.resolve_challenge("owner", upheld, True).event("ChallengeResolved").args
    assert (resolved["upheld"], resolved["amount"]) == (True, b + w)  # the bond back and the owner's fee (= w)
    # A challenge of one of bob's good rows is rejected: its bond is burned, the fee still paid (nobody profits from a
    # verdict: the owner pays w per row and a fee per label challenge, whatever it decides).
    r = paid("verifier", market.challenge_label("verifier", bob_sub, 1, bob_rows[1], bob_tree.proof(1)), b)
    rejected = r.event("RowChallenged").args["challenge_id"]
    market.resolve_challenge("owner", rejected, False)
    assert market.challenge_info(upheld).status == "upheld"
    assert market.challenge_info(rejected).status == "rejected"
    assert market.is_row_rejected(alice_sub, 2) and not market.is_row_rejected(bob_sub, 1)
    # the bad row's deposit and reward, and the rejected challenge's bond
    assert market.burned() == burned_start + d + w + b

    # The window passes; contributors claim and everyone withdraws.
    chain.advance_time(terms.challenge_window + 1)
    market.claim("alice", alice_sub)
    market.claim("bob", bob_sub)
    expected_credit = {"alice": 4 * (d + w), "bob": 3 * (d + w), "verifier": b + 2 * w}
    for name, credit in expected_credit.items():
        assert market.credit_of(name) == credit_start[name] + credit
        market.withdraw(name)
        received[name] += credit_start[name] + credit
        assert market.credit_of(name) == 0

    last_block = chain.w3.eth.block_number
    for name in names:
        fees = _fees(chain, chain.account(name).address, first_block, last_block)
        assert chain.balance(chain.account(name)) == start[name] - sent[name] - fees + received[name], name
    model = market.model(model_id)
    assert (model.rows_submitted, model.rows_rejected, model.rows_accepted, model.rows_pending) == (8, 1, 7, 0)
    assert model.reward_pool == pool - 10 * w  # 8 rows reserved their reward, 2 label challenges their fee
    withdrawn_earlier = sum(credit_start[name] for name in expected_credit)
    # What stays in the contract: the unallocated pool and what was burned.
    assert chain.balance(market.address) == contract_start + pool - 10 * w + (d + w + b) - withdrawn_earlier
    assert market.submission(alice_sub).claimed and market.submission(alice_sub).rows_rejected == 1
    assert market.submission(alice_sub).settled and not market.submission(alice_sub).forfeited
