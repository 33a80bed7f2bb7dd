"""Calls interrupted or refused around their transactions: no lost files, no debris, truthful reports.

(a) a publish the contract refuses pins nothing new, and gc removes its blocks; (b) an interrupt after signing
leaves a record in doubt, and the next call settles it: the transaction is on chain and its files are stored; (c)
an interrupt before signing leaves nothing; (d) a record whose transaction never reached the node is sent again,
or released once another transaction took its nonce; (e) gc keeps what the chain references, pinned or not; (f) a
missing block makes a submission's file fail its CID check; (g) a claim that does nothing records no balance.
"""

from __future__ import annotations

import json
import uuid

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import Chain, MarketplaceError, Session, TransactionInDoubt, TransactionRefused
from colearn_jupyter.inflight import Intent, pending, settle
from colearn_jupyter.storage import EmbeddedStorage
from colearn_jupyter.storage.references import referenced_files
from colearn_jupyter.storage.unixfs import file_blocks, file_cid


@pytest.fixture(scope="module")
def iris(iris_frame) -> pd.DataFrame:
    return iris_frame(random_state=5)


@pytest.fixture(scope="module")
def clf(iris):
    train = iris.iloc[:40]
    return LogisticRegression(max_iter=300).fit(train.drop(columns="target"), train["target"])


@pytest.fixture(scope="module")
def model(chain, iris, clf):
    """One model in the shared store for the contribution tests."""
    owner = Session("owner", chain=chain)
    return owner.publish(clf, name=f"inflight-{uuid.uuid4().hex[:6]}", train=iris.iloc[:40], test=iris.iloc[40:80],
                         label="target", window="1h")  # fmt: skip


@pytest.fixture
def private(chain, tmp_path):
    """``private(account)``: a session on the shared chain whose store is this test's alone (pins start empty)."""
    store = EmbeddedStorage(tmp_path / "store")
    return lambda account="owner": Session(account, chain=chain, storage=store)


def _publish(session: Session, iris: pd.DataFrame, clf, name: str | None = None):
    name = name or f"inflight-{uuid.uuid4().hex[:6]}"
    return session.publish(clf, name=name, train=iris.iloc[:40], test=iris.iloc[40:80], label="target")


def _records(session: Session) -> list[dict]:
    return [r for r in pending(session.chain.home) if r["store"] == session.storage.location]


def _ids(chain: Chain) -> set[str]:
    return {r["id"] for r in pending(chain.home)}


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


# ---------------------------------------------------------------------------------------------------- (a)
@pytest.mark.parametrize(
    ("refused", "error", "words"),
    [("in simulation", MarketplaceError, "longer than 128 bytes"), ("once mined", TransactionRefused, "failed")],
)
def test_a_a_refused_publish_pins_nothing_and_gc_removes_its_blocks(
    chain, private, iris, clf, refused, error, words, monkeypatch
):
    owner = private()
    assert owner.market.address  # deployed first: a deployment under the patched gas estimate below would fail
    if refused == "once mined":  # no simulation: the transaction is signed, sent, and reverts
        monkeypatch.setattr(chain, "estimate_gas", lambda tx: 2_000_000)
    secrets = set((chain.home / "secrets").glob("*.json"))
    with pytest.raises(error, match=words):
        _publish(owner, iris, clf, name="x" * 200)  # the contract refuses names over 128 bytes
    assert owner.storage.pins() == set() and _records(owner) == []
    assert set((chain.home / "secrets").glob("*.json")) == secrets  # no salt kept for a model that never was
    assert owner.storage.all_blocks()  # the files were stored, unpinned: garbage
    assert owner.storage.gc(referenced_files(owner.market, owner.storage, chain.home))
    assert owner.storage.all_blocks() == []


# ---------------------------------------------------------------------------------------------------- (b)
def test_b_a_contribution_interrupted_after_signing_is_settled_by_the_next_call(chain, model, iris, monkeypatch):
    alice = Session("alice", chain=chain)
    with monkeypatch.context() as patch:
        patch.setattr(Chain, "_wait", _interrupt)  # the wait for the receipt is interrupted: the batch was sent
        with pytest.raises(KeyboardInterrupt) as interrupted:
            alice.contribute(model.id, iris.iloc[80:90])
    assert any("the next colearn call" in note for note in interrupted.value.__notes__)
    (record,) = [r for r in _records(alice) if r["kind"] == "contribute"]
    assert record["state"] == "sent" and record["tx"]["sender"] == alice.account.address
    (cid,) = record["after"]
    assert not alice.storage.has_block(cid)  # not readable while its transaction may be pending

    alice.contribute(model.id, iris.iloc[90:95])  # the next call settles the first
    (first,) = [s for s in alice.market.all_submissions(model.id) if s.data_cid == cid]
    assert first.contributor == alice.account.address and first.row_count == 10
    assert cid in alice.storage.pins() and alice.storage.holds(cid)
    assert record["id"] not in _ids(alice.chain)
    assert alice.as_account("verifier").verify(first.id).ok


def test_b_a_publish_interrupted_after_signing_keeps_its_files_and_salt(chain, iris, clf, monkeypatch):
    owner = Session("owner", chain=chain)
    name = f"inflight-{uuid.uuid4().hex[:6]}"
    with monkeypatch.context() as patch:
        patch.setattr(Chain, "_wait", _interrupt)
        with pytest.raises(KeyboardInterrupt):
            _publish(owner, iris, clf, name=name)
    (record,) = [r for r in _records(owner) if r["kind"] == "publish"]
    assert record["state"] == "sent" and len(record["uses"]) == 5  # model, train, sealed test, metadata, evaluation
    assert set(record["pinned"]) <= owner.storage.pins()

    decided = {d.id: d.outcome for d in settle(owner.chain, owner.storage, owner.chain.home)}
    assert decided[record["id"]] == "confirmed" and record["id"] not in _ids(owner.chain)
    (published,) = [m for m in owner.market.all_models() if m.name == name]
    assert owner.market.versions(published.id)[0].model_cid in owner.storage.pins()
    owner.reveal_test_set(published.id)  # the salt was kept before sending: the test set can be revealed
    assert owner.revealed_test_set(published.id) is not None


# ---------------------------------------------------------------------------------------------------- (c)
def test_c_an_interrupt_before_signing_leaves_nothing(chain, private, model, iris, clf, monkeypatch):
    owner, alice = private(), Session("alice", chain=chain)
    secrets = set((chain.home / "secrets").glob("*.json"))
    submissions = alice.market.submission_count()
    monkeypatch.setattr(chain, "estimate_gas", _interrupt)
    with pytest.raises(KeyboardInterrupt):
        _publish(owner, iris, clf)
    with pytest.raises(KeyboardInterrupt):
        alice.contribute(model.id, iris.iloc[95:100])
    assert owner.storage.pins() == set() and _records(owner) == [] and _records(alice) == []
    assert set((chain.home / "secrets").glob("*.json")) == secrets
    assert alice.market.submission_count() == submissions


# ---------------------------------------------------------------------------------------------------- (d)
def _unsent(chain: Chain, store: EmbeddedStorage, monkeypatch) -> tuple[dict, str, str]:
    """A transfer from bob whose record was written but which never reached the node; returns the record and
    the CIDs it pinned and kept aside."""
    with monkeypatch.context() as patch:
        patch.setattr(chain, "send_raw", _interrupt)
        with pytest.raises(KeyboardInterrupt):
            with Intent(chain.home, store, chain.chain_id, kind="transfer") as intent:
                pinned = intent.pin(b"pinned for " + uuid.uuid4().bytes)
                kept = intent.store_after(b"kept for " + uuid.uuid4().bytes)
                chain.transfer(chain.account("bob"), chain.account("carol"), 1)
    (record,) = [r for r in pending(chain.home) if r["id"] == intent.id]
    return record, pinned, kept


def test_d_an_unsent_transaction_whose_nonce_was_taken_is_released(chain, tmp_path, monkeypatch):
    store = EmbeddedStorage(tmp_path / "store")
    record, pinned, kept = _unsent(chain, store, monkeypatch)
    assert record["state"] == "sent" and pinned in store.pins()
    chain.transfer(chain.account("bob"), chain.account("carol"), 2)  # takes the recorded nonce
    (decided,) = settle(chain, store, chain.home)
    assert (decided.outcome, decided.tx_hash) == ("failed", record["tx"]["hash"])
    assert store.pins() == set() and not store.has_block(kept) and record["id"] not in _ids(chain)


def test_d_an_unsent_transaction_is_sent_again_and_confirmed(chain, tmp_path, monkeypatch):
    store = EmbeddedStorage(tmp_path / "store")
    record, pinned, kept = _unsent(chain, store, monkeypatch)
    (decided,) = settle(chain, store, chain.home)
    assert decided.outcome == "confirmed"
    assert chain.w3.eth.get_transaction_receipt(record["tx"]["hash"])["status"] == 1  # the same signed bytes
    assert store.pins() == {pinned, kept} and store.holds(kept)


def test_a_file_kept_in_blocks_is_stored_from_them_once_confirmed(chain, tmp_path):
    store = EmbeddedStorage(tmp_path / "store")
    data = uuid.uuid4().bytes * 40_000  # 640 KB: three blocks under a root
    with Intent(chain.home, store, chain.chain_id, kind="transfer") as intent:
        kept = intent.store_after(file_blocks(data))
        assert kept == file_cid(data) and not store.has_block(kept)  # private until confirmed
        assert (intent.folder / kept).read_bytes() == data  # the copy an interruption would store from
        chain.transfer(chain.account("bob"), chain.account("carol"), 1)
    assert intent.outcome == "confirmed" and kept in store.pins() and store.cat(kept) == data
    assert not intent.folder.exists()


def test_d_a_transaction_in_doubt_says_the_next_call_settles_it(chain, tmp_path, monkeypatch):
    store = EmbeddedStorage(tmp_path / "store")

    def timeout(self, tx_hash, raw):
        raise TransactionInDoubt("transaction was sent but not mined within 120 s")

    with monkeypatch.context() as patch:
        patch.setattr(Chain, "_wait", timeout)
        with pytest.raises(TransactionInDoubt, match=r"not mined within 120 s\. .* the next colearn call"):
            with Intent(chain.home, store, chain.chain_id, kind="transfer") as intent:
                kept = intent.store_after(b"kept for " + uuid.uuid4().bytes)
                chain.transfer(chain.account("bob"), chain.account("carol"), 3)
    assert intent.outcome == "in doubt" and not store.has_block(kept)
    assert [d.outcome for d in settle(chain, store, chain.home)] == ["confirmed"] and store.holds(kept)


def test_d_a_record_without_a_transaction_whose_process_died_is_released(chain, tmp_path):
    store = EmbeddedStorage(tmp_path / "store")
    intent = Intent(chain.home, store, chain.chain_id, kind="crashed").__enter__()
    pinned = intent.pin(b"pinned by a process that died " + uuid.uuid4().bytes)
    assert settle(chain, store, chain.home) == []  # its call still runs: left alone
    intent._hook.close()  # the process dies: its hook is gone and the system releases its lock; the record stays
    intent._unlock()
    assert [d.outcome for d in settle(chain, store, chain.home)] == ["failed"]
    assert pinned not in store.pins() and intent.id not in _ids(chain)


# ---------------------------------------------------------------------------------------------------- (e)
def test_e_gc_keeps_chain_referenced_files_unpinned_by_hand(chain, private, iris, clf, monkeypatch, capsys):
    from colearn_jupyter import storage
    from colearn_jupyter.cli import main as cli

    owner = private()
    card = _publish(owner, iris, clf)
    owner.storage.unpin(card.model_cid)
    owner.storage.unpin(card.info.metadata_cid)
    assert {card.model_cid, card.info.metadata_cid} <= referenced_files(owner.market, owner.storage, chain.home)
    record, pinned, kept = _unsent(chain, owner.storage, monkeypatch)  # a call in doubt, settled by gc first
    monkeypatch.setattr(storage, "open_storage", lambda settings=None: owner.storage)
    assert cli(["storage", "gc"]) == 0
    assert "the chain or this home refer to kept; 1 interrupted call(s) settled" in capsys.readouterr().out
    assert owner.storage.holds(card.model_cid) and owner.storage.holds(card.info.metadata_cid)
    assert record["id"] not in _ids(chain) and owner.storage.holds(kept) and {pinned, kept} <= owner.storage.pins()
    owner.storage.gc()  # without the chain's references, an unpinned file goes
    assert not owner.storage.holds(card.model_cid)


# ---------------------------------------------------------------------------------------------------- (f)
def test_f_a_missing_block_fails_the_cid_check(chain, model, iris):
    alice, verifier = Session("alice", chain=chain), Session("verifier", chain=chain)
    submission = alice.contribute(model.id, iris.iloc[100:105])
    assert verifier.verify(submission.id).cid_ok
    for block in list(alice.storage.blocks(submission.data_cid)):
        alice.storage.delete_block(block)
    report = verifier.verify(submission.id)
    assert not report.cid_ok and not report.ok and report.rows.empty
    assert f"the file {submission.data_cid} cannot be fetched whole" in report.problem
    assert report.plan == ((None, "file"),)


# ---------------------------------------------------------------------------------------------------- (g)
def test_g_only_confirmed_changes_are_recorded_in_the_balance_history(chain, model, iris):
    alice = Session("alice", chain=chain)

    def history() -> list[dict]:
        path = alice._balances_path()
        lines = path.read_text().splitlines() if path.exists() else []
        return [r for r in map(json.loads, lines) if r["account"] == "alice"]

    alice.claim()  # whatever earlier tests left claimable
    before = history()
    submission = alice.contribute(model.id, iris.iloc[105:108])
    after = history()
    (line,) = after[len(before) :]  # one confirmed transaction, one line: the balance at its block
    block = max(log["blockNumber"] for log in alice.market.contract.events.SubmissionAdded.get_logs(
        argument_filters={"submissionId": submission.id}, from_block=0))  # fmt: skip
    assert line["balance (ETH)"] == chain.w3.eth.get_balance(alice.account.address, block) / 1e18

    assert alice.claim(submission.id) == 0 and alice.claim() == 0  # its window is open: nothing to claim
    with pytest.raises(MarketplaceError):
        alice.market.claim(alice.account, submission.id)  # refused by the contract: nothing sent
    assert history() == after
