"""The kernel interrupted (Ctrl-C) at every step boundary of publish, contribute, challenge, resolve and claim.

The three boundaries: the transaction is signed but not sent (the interrupt hits ``send_raw_transaction``), sent
but its receipt not yet read (``Chain._wait``), and mined but not yet made durable by this process
(``Devnet.commit``). After each: the effect is there exactly once or not at all (never half), the next call of
the same kind works, the files of a transaction that happened are stored and pinned, and a fresh connection finds
the same marketplace with every mined block in the devnet's journal.

A call that stores files (publish, contribute) records its signed transaction before sending it, so whether it
left or not, the next call settles it by its hash, sending the same bytes again if the node never saw them: it
happens exactly once. A call without files (challenge, resolve, claim) interrupted before sending did not happen.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import Chain, ColearnError, Devnet, Marketplace, Session

BOUNDARIES = ("signed, not sent", "sent, no receipt", "mined, not durable")


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def _patch(monkeypatch: pytest.MonkeyPatch, chain: Chain, boundary: str) -> None:
    if boundary == "signed, not sent":
        monkeypatch.setattr(chain, "send_raw", _interrupt)
    elif boundary == "sent, no receipt":
        monkeypatch.setattr(Chain, "_wait", _interrupt)
    else:
        monkeypatch.setattr(Devnet, "commit", _interrupt)


def _interrupted(chain: Chain, boundary: str, call) -> None:
    with pytest.MonkeyPatch.context() as patch:
        _patch(patch, chain, boundary)
        with pytest.raises(KeyboardInterrupt):
            call()
    # The devnet mines a sent transaction at once, but in its own time: wait until its pool is empty, or a look at
    # the chain right after the interrupt can come before the block (a faster send path made that race show).
    deadline = time.monotonic() + 30
    while int(chain.w3.provider.make_request("txpool_status", [])["result"]["pending"], 16):
        assert time.monotonic() < deadline, "the devnet did not mine the interrupted call's transaction"
        time.sleep(0.01)


def _happened(boundary: str, recorded: bool = False) -> bool:
    """Sent (the devnet mines it at once), or recorded before sending (then settled by sending it again)."""
    return recorded or boundary != "signed, not sent"


@pytest.fixture(scope="module")
def lab(chain, iris_frame):
    frame = iris_frame(random_state=41)
    train, test, extra = frame.iloc[:45], frame.iloc[45:95], frame.iloc[95:]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    owner = Session("owner", chain=chain)
    card = owner.publish(clf, name="interrupts-iris", train=train, test=test, label="target", window="1h")
    return {"owner": owner, "card": card, "clf": clf, "train": train, "test": test, "extra": extra}


def _durable(chain: Chain) -> None:
    """Every block the node has is in the journal, and a fresh connection finds the same marketplace."""
    assert chain.devnet.sync() == chain.w3.eth.block_number
    assert Marketplace.connect(Chain()).address == Marketplace.connect(chain).address


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_publish(chain, lab, boundary):
    owner = lab["owner"]
    before, pins = owner.market.model_count(), owner.storage.pins()
    name = f"interrupted-publish-{BOUNDARIES.index(boundary)}"

    def publish():
        return owner.publish(lab["clf"], name=name, train=lab["train"], test=lab["test"], label="target")

    _interrupted(chain, boundary, publish)
    owner.claim()  # the next state-changing call settles what the interrupt left in doubt
    after = owner.market.model_count()
    assert after == before + 1  # recorded before it was sent: settled by its hash, sent again if need be
    published, version = owner.market.model(after), owner.market.versions(after)[-1]
    assert published.name == name and {version.model_cid, published.metadata_cid} <= owner.storage.pins()
    assert owner.storage.cat(version.model_cid) and pins <= owner.storage.pins()  # its files are here, whole
    assert publish().id == owner.market.model_count() == after + 1  # and publishing again works
    _durable(chain)


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_contribute(chain, lab, boundary):
    alice = lab["owner"].as_account("alice")
    position = 10 * BOUNDARIES.index(boundary)
    rows, more = lab["extra"].iloc[position : position + 4], lab["extra"].iloc[position + 4 : position + 6]
    before = alice.market.submission_count()
    _interrupted(chain, boundary, lambda: alice.contribute(lab["card"].id, rows))
    alice.claim()  # settles the call in doubt
    assert alice.market.submission_count() == before + 1  # recorded before it was sent, so it happened once
    if _happened(boundary, recorded=True):  # (always: see the module's docstring)
        submission = alice.market.submission(before + 1)
        assert submission.contributor == alice.account.address and submission.row_count == 4
        assert submission.data_cid in alice.storage.pins()  # stored once mined, readable by verifiers
        assert alice.as_account("verifier").verify(submission.id).cid_ok
    again = alice.contribute(lab["card"].id, more)
    assert again.id == alice.market.submission_count()
    _durable(chain)


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_challenge_resolve_and_claim(chain, lab, boundary):
    owner, card = lab["owner"], lab["card"]
    alice, verifier = owner.as_account("alice"), owner.as_account("verifier")
    position = 40 + 3 * BOUNDARIES.index(boundary)
    rows = lab["extra"].iloc[position : position + 3].copy()
    rows.loc[rows.index[0], "target"] = "setosa" if rows["target"].iloc[0] != "setosa" else "virginica"
    submission = alice.contribute(card.id, rows)

    # challenge: a label challenge is a commitment then a reveal; interrupted, it is there once or not at all
    _interrupted(chain, boundary, lambda: verifier.challenge(submission.id, [0]))
    listed = verifier.challenges(card.id, status="all")
    mine = listed[listed["submission"] == submission.id]
    assert len(mine) <= 1
    if mine.empty:
        (challenge_id,) = verifier.challenge(submission.id, [0])
    else:
        challenge_id = int(mine.index[0])
        with pytest.raises(ColearnError):
            verifier.challenge(submission.id, [0])  # the row is challenged already: refused before anything moves
    assert owner.challenges(card.id).loc[challenge_id, "status"] == "pending"

    # resolve
    _interrupted(chain, boundary, lambda: owner.resolve(challenge_id, upheld=True))
    status = owner.market.challenge_info(challenge_id).status
    assert status == ("upheld" if _happened(boundary) else "pending")
    if status == "pending":
        assert owner.resolve(challenge_id, upheld=True) is True
    with pytest.raises(ColearnError):
        owner.resolve(challenge_id, upheld=True)  # never twice

    # claim, once the window has passed
    owner.advance_time("1h")
    owner.advance_time(1)
    credit = alice.market.credit_of(alice.account.address)
    _interrupted(chain, boundary, lambda: alice.claim(submission.id))
    assert alice.market.submission(submission.id).claimed == _happened(boundary)
    alice.claim(submission.id)  # settles, claims what is left and withdraws
    assert alice.market.submission(submission.id).claimed
    assert alice.market.credit_of(alice.account.address) == 0 <= credit
    assert pd.notna(alice.market.model(card.id).rows_rejected)
    _durable(chain)
