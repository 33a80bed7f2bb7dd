"""What the client must catch under the integrity protocol, through :class:`Session` against the real contract.

(a) a file that was never stored is demanded, and unanswered, forfeits its batch; (b) an honest batch's file answers
any demand; (c) copies of another account's rows or of the owner's training rows are proven duplicates; (d) a crafted
file with NaN, huge and repeated rows is judged row by row without raising; (e) none of this blocks a retrain.
"""

from __future__ import annotations

import io
import warnings

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import MarketplaceError, Session
from colearn_jupyter.contributions import model_metadata, prepare_batch
from colearn_jupyter.errors import UnverifiableTrainingSet
from colearn_jupyter.formats.data import SchemaError, encode_row
from colearn_jupyter.merkle import MerkleTree, contributor_key
from colearn_jupyter.storage.cid import raw_cid


@pytest.fixture(scope="module")
def iris(iris_frame) -> pd.DataFrame:
    return iris_frame(random_state=11)


@pytest.fixture
def owner(chain) -> Session:
    return Session("owner", chain=chain)


@pytest.fixture
def model(owner, iris, request):
    """A fresh iris model per test (each test moves the clock past its own windows)."""
    train, test = iris.iloc[:40], iris.iloc[40:80]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    card = owner.publish(clf, name=f"integrity-{request.node.name}", train=train, test=test, label="target",
                         deposit="0.01", reward="0.002", bond="0.005", window="1h", timeout="1d", pool="1")  # fmt: skip
    return card


def _schema(session: Session, model_id: int):
    return model_metadata(session.market, session.storage, model_id).feature_schema


def _raw_contribution(session: Session, model_id: int, frame: pd.DataFrame, *, store: bool = True) -> int:
    """Submit rows as a careless or dishonest client would: no duplicate check, and maybe no stored file."""
    batch = prepare_batch(frame, _schema(session, model_id), session.account.address)
    if store:
        assert session.storage.add(batch.parquet) == batch.cid
    receipt = session.market.contribute(session.account, model_id, batch.cid, batch.tree.root, batch.row_count)
    return receipt.event("SubmissionAdded").args["submission_id"]


def _missing_file(session: Session, model_id: int, frame: pd.DataFrame) -> int:
    """A submission whose CID names bytes nobody ever stored."""
    schema = _schema(session, model_id)
    rows = [encode_row(schema, values) for values in frame[schema.names].itertuples(index=False, name=None)]
    tree = MerkleTree(rows, key=contributor_key(session.account.address))
    cid = raw_cid(b"never stored: " + tree.root)
    receipt = session.market.contribute(session.account, model_id, cid, tree.root, len(rows))
    return receipt.event("SubmissionAdded").args["submission_id"]


def _past_window(session: Session) -> None:
    session.advance_time("1h")
    session.advance_time(1)


# ---------------------------------------------------------------------------------------------------- (a)
def test_a_missing_file_is_demanded_and_its_batch_forfeited(owner, model, iris, market):
    alice, verifier = owner.as_account("alice"), owner.as_account("verifier")
    terms = model.info.terms
    submission_id = _missing_file(alice, model.id, iris.iloc[80:85])

    report = verifier.verify(submission_id)  # never raises for a bad file
    assert not report.cid_ok and not report.ok and "cannot be fetched" in report.problem
    assert report.rows.empty
    assert report.plan == ((None, "file"),) and report.suggested == [None]  # the owner would judge the file
    assert owner.verify(submission_id).plan == ((4, "availability"),)  # the owner cannot: it demands a row

    (challenge_id,) = verifier.challenge(submission_id, [4])  # a row of an unusable file: demanded
    info = market.challenge_info(challenge_id)
    assert (info.kind, info.status, info.bond) == ("availability", "pending", terms.challenge_bond)
    queue = owner.challenges(model.id)
    assert queue.loc[challenge_id, "kind"] == "availability" and queue.loc[challenge_id, "row"] == 4
    assert owner.verify(submission_id).plan == ((3, "availability"),)  # row 4 is already demanded
    assert challenge_id not in alice.answer()  # nobody can produce the row
    assert verifier.expire(challenge_id) == []  # not before the time-out

    credit, burned = market.credit_of(verifier.account.address), market.burned()
    alice_credit = market.credit_of(alice.account.address)
    owner.advance_time("1d")
    owner.advance_time(2)
    assert verifier.expire(challenge_id) == [challenge_id]  # (expire() with no id closes every stale challenge)
    submission = market.submission(submission_id)
    assert submission.forfeited and submission.settled and not submission.claimed
    assert submission.rows_rejected == 5 and market.model(model.id).rows_rejected == 5
    assert market.challenge_info(challenge_id).status == "upheld"
    # The challenger gets the rows' rewards and the bond back; the contributor's deposits are burned.
    assert market.credit_of(verifier.account.address) == credit + 5 * terms.reward_per_row + terms.challenge_bond
    assert market.burned() == burned + 5 * terms.deposit_per_row
    assert market.credit_of(alice.account.address) == alice_credit  # the contributor gets nothing back
    alice.claim()  # skips the forfeited submission
    assert not market.submission(submission_id).claimed
    with pytest.raises(MarketplaceError, match="forfeited"):
        market.claim(alice.account, submission_id)
    assert verifier.verify(submission_id).plan == ()
    assert submission_id not in owner.pending(model.id).index


def test_a_missing_file_is_challenged_whole_and_the_owner_forfeits_it(owner, model, iris, market):
    """A file nobody can fetch, whose rows its contributor could still produce one by one (withholding it): the
    file challenge cannot be answered with a row, and the owner, unable to fetch the file too, upholds it."""
    alice, verifier = owner.as_account("alice"), owner.as_account("verifier")
    terms = model.info.terms
    withheld = _raw_contribution(alice, model.id, iris.iloc[80:85], store=False)
    pool, burned = market.model(model.id).reward_pool, market.burned()
    credit = market.credit_of(verifier.account.address)

    with pytest.raises(MarketplaceError, match="judges label and file challenges"):
        market.challenge_file(owner.account, withheld)
    (challenge_id,) = verifier.challenge(withheld)  # the plan: the whole file
    info = market.challenge_info(challenge_id)
    assert (info.kind, info.row_index, info.status, info.fee) == ("file", None, "pending", terms.reward_per_row)
    assert market.submission(withheld).file_judged
    assert verifier.verify(withheld).plan == ()  # while the owner judges, no demand a withheld copy could answer
    queue = owner.challenges(model.id)
    assert queue.loc[challenge_id, "kind"] == "file" and pd.isna(queue.loc[challenge_id, "row"])
    assert challenge_id not in alice.answer()  # a file challenge is not answered with a row
    with pytest.raises(MarketplaceError, match="already challenged"):
        market.challenge_file(owner.as_account("bob").account, withheld)

    assert owner.judge(challenge_id) is True  # the owner's client cannot fetch it either
    assert owner.resolve(challenge_id) is True
    submission = market.submission(withheld)
    assert submission.forfeited and submission.rows_rejected == 5
    assert market.challenge_info(challenge_id).status == "upheld"
    # the challenger: bond back and the fee; deposits and rewards burned; the pool paid the fee
    assert market.credit_of(verifier.account.address) == credit + terms.challenge_bond + terms.reward_per_row
    assert market.burned() == burned + 5 * (terms.deposit_per_row + terms.reward_per_row)
    assert market.model(model.id).reward_pool == pool - terms.reward_per_row
    assert verifier.verify(withheld).plan == ()


def test_a_file_challenge_of_an_available_file_is_rejected_by_the_owner(owner, model, iris, market):
    alice, verifier = owner.as_account("alice"), owner.as_account("verifier")
    terms = model.info.terms
    submission = alice.contribute(model.id, iris.iloc[86:90])
    credit, burned = market.credit_of(verifier.account.address), market.burned()
    (challenge_id,) = verifier.challenge(submission.id, [None])  # None: the whole file
    assert owner.judge(challenge_id) is False  # the owner fetches it and it holds the committed rows
    assert owner.resolve(challenge_id) is False
    assert market.challenge_info(challenge_id).status == "rejected"
    assert market.credit_of(verifier.account.address) == credit + terms.reward_per_row  # the fee, not the bond
    assert market.burned() == burned + terms.challenge_bond
    assert not market.submission(submission.id).forfeited


# ---------------------------------------------------------------------------------------------------- (b)
def test_an_honest_file_answers_a_demand_and_nothing_is_lost(owner, model, iris, market):
    alice, bob, verifier = owner.as_account("alice"), owner.as_account("bob"), owner.as_account("verifier")
    terms = model.info.terms
    submission = alice.contribute(model.id, iris.iloc[80:86])
    assert verifier.verify(submission.id).ok
    demand = market.challenge_availability(verifier.account, submission.id, 2).event("RowChallenged").args
    challenge_id = demand["challenge_id"]
    assert owner.challenges(model.id).loc[challenge_id, "kind"] == "availability"

    credit = market.credit_of(bob.account.address)
    assert challenge_id in bob.answer()  # anyone holding the file answers, and takes the bond
    assert market.challenge_info(challenge_id).status == "answered"
    assert market.credit_of(bob.account.address) == credit + terms.challenge_bond
    assert challenge_id not in owner.challenges(model.id).index  # no longer pending
    answered = owner.challenges(model.id, status="answered")
    assert answered.loc[challenge_id, "row"] == 2
    with pytest.raises(MarketplaceError, match="already on chain"):
        market.challenge_availability(verifier.account, submission.id, 2)

    # A demand nobody answers in time forfeits even an honest batch: holders of the file must run answer().
    neglected = alice.contribute(model.id, iris.iloc[86:88])
    late = market.challenge_availability(verifier.account, neglected.id, 0).event("RowChallenged").args
    owner.advance_time("1d")
    owner.advance_time(2)
    assert late["challenge_id"] not in bob.answer()  # past its time-out it can only expire, and answer() knows
    before = market.credit_of(alice.account.address)
    market.claim(alice.account, submission.id)
    assert market.credit_of(alice.account.address) == before + 6 * (terms.deposit_per_row + terms.reward_per_row)
    assert not market.submission(submission.id).forfeited and market.submission(submission.id).rows_rejected == 0
    assert late["challenge_id"] in verifier.expire()
    assert market.submission(neglected.id).forfeited
    alice.claim()  # withdraw


# ---------------------------------------------------------------------------------------------------- (c)
def test_copies_of_accepted_rows_and_of_training_rows_are_proven_duplicates(owner, model, iris, market):
    alice, bob, verifier = owner.as_account("alice"), owner.as_account("bob"), owner.as_account("verifier")
    terms = model.info.terms
    original = alice.contribute(model.id, iris.iloc[80:84])
    _past_window(owner)
    alice.claim()
    assert market.submission(original.id).claimed

    copy = _raw_contribution(bob, model.id, iris.iloc[80:84])  # the same rows, under bob's key: another root
    report = verifier.verify(copy)
    assert report.ok is False and report.cid_ok and report.root_ok  # the file is fine; its rows are not
    assert report.rows["verdict"].tolist() == ["bad"] * 4
    assert report.rows["challenge"].tolist() == ["duplicate"] * 4
    assert report.rows["copy of"].tolist() == [f"submission {original.id} row {i}" for i in range(4)]
    assert report.plan == tuple((i, "duplicate") for i in range(4))

    training = _raw_contribution(bob, model.id, iris.iloc[:3])  # the owner's own training rows
    training_report = verifier.verify(training)
    assert training_report.rows["challenge"].tolist() == ["training copy"] * 3
    assert training_report.rows["copy of"].tolist() == [f"training row {i}" for i in range(3)]
    assert training_report.plan == tuple((i, "training copy") for i in range(3))

    # Two hidden test rows: only the home that published the model holds the salt that proves them copies.
    hidden = _raw_contribution(bob, model.id, iris.iloc[[40, 41, 85]])
    owner_report = owner.verify(hidden)
    assert owner_report.rows.loc[[0, 1], "copy of"].tolist() == ["test row 0", "test row 1"]
    assert dict(owner_report.plan) == {0: "test copy", 1: "test copy"} | (
        {2: "label"} if (2, "label") in owner_report.plan else {}
    )

    credit, burned = market.credit_of(verifier.account.address), market.burned()
    ids = verifier.challenge(copy) + verifier.challenge(training)
    assert len(ids) == 7
    assert {market.challenge_info(i).kind for i in ids} == {"duplicate", "training copy"}
    assert {market.challenge_info(i).status for i in ids} == {"upheld"}  # judged by the contract at once
    assert all(market.is_row_rejected(copy, i) for i in range(4))
    assert all(market.is_row_rejected(training, i) for i in range(3))
    # No bond for a proof the contract judges: the verifier earns the rows' rewards; the deposits are burned.
    assert market.credit_of(verifier.account.address) == credit + 7 * terms.reward_per_row
    assert market.burned() == burned + 7 * terms.deposit_per_row
    owner_ids = owner.challenge(hidden, [0, 1])
    assert {market.challenge_info(i).kind for i in owner_ids} == {"test copy"}
    assert verifier.verify(copy).rows["verdict"].tolist() == ["rejected"] * 4


def test_a_training_set_nobody_can_check_is_refused_before_any_deposit(owner, iris, market, monkeypatch):
    """The training-set trap: an owner commits to training rows (which anyone may prove copies of, and be paid) but
    publishes other training data, so only it knows which rows it can prove copies. Contributing is refused before
    anything moves, and the preview says why; a model whose training data matches takes the same rows."""
    import colearn_jupyter.session as session_module

    written = []
    real = session_module.to_parquet

    def other_training_file(frame, schema):  # the first file publish writes is the training data: one row left out
        written.append(len(frame))
        return real(frame.iloc[:-1] if len(written) == 1 else frame, schema)

    train, test = iris.iloc[:40], iris.iloc[40:80]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    terms = {"train": train, "test": test, "label": "target", "deposit": "0.01", "reward": "0.002", "bond": "0.005",
             "window": "1h", "timeout": "1d", "pool": "1"}  # fmt: skip
    with monkeypatch.context() as patch:
        patch.setattr(session_module, "to_parquet", other_training_file)
        trap = owner.publish(clf, name="integrity-training-trap", **terms)
    assert written[0] == 40
    alice = owner.as_account("alice")
    rows = iris.iloc[80:85]
    before = (market.submission_count(), alice.chain.balance(alice.account))
    with pytest.raises(UnverifiableTrainingSet, match="commits to 40 training rows"):
        alice.contribute(trap.id, rows)
    with pytest.raises(UnverifiableTrainingSet):
        alice.contribute_many(trap.id, rows)
    assert (market.submission_count(), alice.chain.balance(alice.account)) == before  # nothing moved
    preview = alice.preview(trap.id, rows)
    assert not preview["valid"] and "does not match that commitment" in preview["problem"]
    fair = owner.publish(clf, name="integrity-training-fair", **terms)
    assert alice.preview(fair.id, rows)["valid"]
    assert alice.contribute(fair.id, rows).row_count == 5


# ---------------------------------------------------------------------------------------------------- (d)
def test_a_pending_label_challenge_does_not_shield_a_copy(owner, model, iris, market):
    """The label shield through the client: an accomplice label-challenges bob's copy of the training rows, so that
    (were the owner to stay idle) no other challenge could reach it. The verifier's plan still proves the copy; the
    contract's verdict closes the accomplice's challenge (its bond back, the fee back to the pool) and burns bob's
    deposit."""
    bob, carol, verifier = owner.as_account("bob"), owner.as_account("carol"), owner.as_account("verifier")
    terms = model.info.terms
    copy = _raw_contribution(bob, model.id, iris.iloc[3:5])  # two of the owner's training rows
    batch = prepare_batch(iris.iloc[3:5], _schema(bob, model.id), bob.account.address)  # what bob committed
    receipt = market.challenge_label(carol.account, copy, 0, batch.rows[0], batch.proof(0))  # commit + reveal, bond
    shield = receipt.event("RowChallenged").args["challenge_id"]
    assert market.challenge_info(shield).kind == "label" and market.challenge_info(shield).status == "pending"

    report = verifier.verify(copy)
    assert report.rows["verdict"].tolist() == ["bad", "bad"]  # the pending label challenge hides nothing
    assert report.plan == ((0, "training copy"), (1, "training copy"))
    carol_credit, pool = market.credit_of(carol.account.address), market.model(model.id).reward_pool
    ids = verifier.challenge(copy)
    assert {market.challenge_info(i).status for i in ids} == {"upheld"}
    assert all(market.is_row_rejected(copy, i) for i in range(2))
    assert market.challenge_info(shield).status == "expired"
    assert market.credit_of(carol.account.address) == carol_credit + terms.challenge_bond
    assert market.model(model.id).reward_pool == pool + terms.reward_per_row  # the fee went back
    assert market.submission(copy).open_challenges == 0


def _crafted_parquet(frame: pd.DataFrame) -> bytes:
    """A Parquet file written by hand, without the client's validation."""
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue()


def test_a_crafted_file_is_judged_row_by_row(owner, model, iris, market):
    mallory, verifier = owner.as_account("erin"), owner.as_account("verifier")
    schema = _schema(owner, model.id)
    rows = iris.iloc[90:94][schema.names].reset_index(drop=True)
    nan, huge = rows.iloc[[0]].copy(), rows.iloc[[1]].copy()
    nan.iloc[0, 0] = float("nan")
    huge.iloc[0, 1] = 1e308
    crafted = pd.concat([rows, nan, huge, rows.iloc[[2]]], ignore_index=True)  # rows 4, 5, 6 are bad
    values = list(crafted.itertuples(index=False, name=None))
    encoded = [encode_row(schema, v) for v in values]
    tree = MerkleTree(encoded, key=contributor_key(mallory.account.address))
    cid = mallory.storage.add(_crafted_parquet(crafted))
    receipt = market.contribute(mallory.account, model.id, cid, tree.root, len(encoded))
    submission_id = receipt.event("SubmissionAdded").args["submission_id"]

    report = verifier.verify(submission_id)
    assert report.cid_ok and report.root_ok and report.count_ok and not report.schema_ok
    objective = {row: kind for row, kind in report.plan if kind != "label"}
    assert objective == {4: "format", 5: "format", 6: "duplicate"}
    assert report.rows.loc[[4, 5], "fault"].tolist() == ["out of bounds", "out of bounds"]
    assert report.rows.loc[6, "copy of"] == "row 2"
    assert report.rows.loc[[4, 5, 6], "verdict"].tolist() == ["bad"] * 3
    assert report.rows.loc[[4, 5, 6], "predicted"].isna().all()  # faulty rows are never given to the model

    ids = verifier.challenge(submission_id, [4, 5, 6])
    assert [market.challenge_info(i).kind for i in ids] == ["format", "format", "duplicate"]
    assert all(market.is_row_rejected(submission_id, i) for i in (4, 5, 6))
    assert market.submission(submission_id).rows_rejected == 3

    _past_window(owner)
    mallory.claim()
    assert market.submission(submission_id).claimed
    before = market.versions(model.id)[-1].number
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the file matches its commitment: nothing is left out
        card = owner.retrain(model.id)
    assert card.version == before + 1
    assert owner.history(model.id).loc[card.version, "rows accepted"] == market.model(model.id).rows_accepted


# ---------------------------------------------------------------------------------------------------- (e)
def test_retrain_is_not_blocked_by_missing_or_forfeited_files(owner, model, iris, market):
    alice, bob, carol = (owner.as_account(name) for name in ("alice", "bob", "carol"))
    verifier = owner.as_account("verifier")
    honest = alice.contribute(model.id, iris.iloc[95:105])
    forfeited = _missing_file(bob, model.id, iris.iloc[105:110])
    unchallenged = _missing_file(carol, model.id, iris.iloc[110:113])
    # Contributions and verifications go on while files are missing.
    later = alice.contribute(model.id, iris.iloc[113:118])
    assert verifier.verify(later.id).ok
    verifier.challenge(forfeited, [4])  # a demand nobody answers
    owner.advance_time("1d")
    owner.advance_time(2)
    verifier.expire()
    assert market.submission(forfeited).forfeited
    alice.claim()
    carol.claim()
    assert market.submission(unchallenged).claimed  # nobody demanded a row: its deposit came back
    assert market.submission(honest.id).claimed and market.submission(later.id).claimed

    with pytest.warns(UserWarning, match=f"submission {unchallenged} left out"):
        card = owner.retrain(model.id)
    assert card.version == 2
    evaluation = owner.history(model.id)
    assert list(evaluation.index) == [1, 2]
    report = owner.storage.cat(market.versions(model.id)[-1].evaluation_cid)
    assert b'"trained_on_rows": 55' in report  # 40 training rows and the 15 honest ones


def test_a_training_set_beyond_what_clients_read_is_not_published(owner, iris, market, monkeypatch):
    """An owner is refused, before anything is stored or sent, training rows that contributors' clients would not
    read from one file: no one could contribute to that model (its training rows could not be checked)."""
    from colearn_jupyter.formats import data as data_module

    train, test = iris.iloc[:40], iris.iloc[40:80]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    monkeypatch.setattr(data_module, "MAX_FILE_ROWS", 30)
    count = market.model_count()
    with pytest.raises(SchemaError, match=r"the training set has 40 rows .* at most that many training rows"):
        owner.publish(clf, name="integrity-training-too-large", train=train, test=test, label="target")
    assert market.model_count() == count
    card = owner.publish(clf, name="integrity-training-sample", train=train.iloc[:30], test=test, label="target")
    assert card.info.training_row_count == 30
