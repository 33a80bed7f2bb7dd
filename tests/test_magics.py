"""The %colearn magics in a real IPython shell against the test devnet: every subcommand and the state it leaves."""

from __future__ import annotations

import math
import uuid
from types import SimpleNamespace

import pandas as pd
import plotly.graph_objects as go
import pytest
from IPython.core.completer import provisionalcompleter
from IPython.core.interactiveshell import InteractiveShell
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import ColearnError, Session, plots
from colearn_jupyter import session as session_module
from colearn_jupyter.contributions import model_metadata, prepare_batch
from colearn_jupyter.formats import data as data_module
from colearn_jupyter.formats.data import SchemaError
from colearn_jupyter.magics import SUBCOMMANDS, complete
from colearn_jupyter.session import ModelCard, VerificationReport
from colearn_jupyter.units import format_percent, to_wei


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    frame = load_iris(as_frame=True).frame.drop_duplicates()
    return frame.sample(frac=1.0, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="module")
def ip(iris, chain) -> InteractiveShell:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "colearn_jupyter")
    features = iris.drop(columns="target")
    clf = LogisticRegression(max_iter=1000).fit(features.iloc[:50], iris["target"].iloc[:50])
    shell.user_ns.update(
        clf=clf,
        X_train=features.iloc[:50],
        y_train=iris["target"].iloc[:50],
        X_test=features.iloc[50:90],
        y_test=iris["target"].iloc[50:90],
        train_df=iris.iloc[:50],
        test_df=iris.iloc[50:90],
        alice_rows=iris.iloc[90:105],
        frank_rows=iris.iloc[105:120],
        unfitted=LogisticRegression(max_iter=500),
        bad_rows=iris.iloc[140:145].drop(columns="petal width (cm)"),
    )
    shell.run_line_magic("colearn", "connect")
    return shell


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def model(ip) -> ModelCard:
    """A model published with the cell form, shared by the cycle tests."""
    body = """
    --name {name} --train X_train y_train   # the label column is y_train's name: target
    --test X_test y_test
    --deposit 0.01 --reward 0.002 --window 1h
    """
    return ip.run_cell_magic("colearn", "publish clf", body.format(name=_name("iris-magic")))


def _magic(ip, line: str):
    return ip.run_line_magic("colearn", line)


def _raw_contribution(session: Session, model_id: int, frame: pd.DataFrame, *, store: bool = True) -> tuple[int, bytes]:
    """Submit rows as a careless or dishonest client could: no check against the model's rows, and the file stored
    or withheld. Returns the submission id and the Parquet file."""
    schema = model_metadata(session.market, session.storage, model_id).feature_schema
    batch = prepare_batch(frame, schema, session.account.address)
    if store:
        session.storage.add(batch.parquet)
    receipt = session.market.contribute(session.account, model_id, batch.cid, batch.tree.root, batch.row_count)
    return receipt.event("SubmissionAdded").args["submission_id"], batch.parquet


def test_load_ext_registers_line_and_cell_magics(ip):
    assert "colearn" in ip.magics_manager.magics["line"]
    assert "colearn" in ip.magics_manager.magics["cell"]


def test_help_guides_a_newcomer_through_every_subcommand(ip, capsys):
    assert _magic(ip, "help") is None
    guide = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert f"\n  {name} " in guide, name  # the list of subcommands
    steps = ["connect", "publish", "market", "contribute", "pending", "verify", "challenge", "challenges", "resolve",
             "answer", "advance", "expire", "claim", "retrain", "history"]  # fmt: skip
    positions = [guide.index(f"%colearn {step} ") for step in steps]
    assert positions == sorted(positions)  # the cycle, in order
    assert "--as alice" in guide and "--as verifier" in guide and "history iris --plot" in guide
    # how challenges work, one line each: commit-reveal, who judges which kind, who answers a demand
    rules = guide[guide.index("How challenges work") :].splitlines()[1:7]
    assert [line.split()[0] for line in rules] == ["commit,", "format,", "label", "file", "availability", "time-out"]
    assert "revealed in a later block" in rules[0] and "the contract judges" in rules[1]
    assert "the owner upholds" in rules[2] and "the owner judges it" in rules[3]
    assert "anyone holding the file answers" in rules[4]
    assert "attach" not in guide and "misclassified" not in guide
    _magic(ip, "help publish")
    usage = capsys.readouterr().out
    assert "usage: %colearn publish" in usage and "--train" in usage and "--window" in usage
    _magic(ip, "")  # no subcommand: the guide
    assert capsys.readouterr().out == guide


def test_connect_and_status(ip, chain):
    session = _magic(ip, "connect --account alice")
    assert isinstance(session, Session) and session.account.address == chain.account("alice").address
    assert _magic(ip, "status") is session
    bob = _magic(ip, "status --as bob")
    assert bob.account.address == chain.account("bob").address and bob.chain is session.chain
    assert "colearn session" in bob._repr_html_()
    owner = _magic(ip, "connect")
    assert owner.account.name == "owner" and _magic(ip, "status") is owner


def test_publish_cell_form_with_x_and_y(ip, market, chain, model):
    info = market.model(model.id)
    assert (info.name, info.owner) == (model.name, chain.account("owner").address)
    assert (info.terms.deposit_per_row, info.terms.reward_per_row) == (to_wei("0.01"), to_wei("0.002"))
    assert (info.terms.challenge_bond, info.terms.challenge_window) == (to_wei("0.01"), 3600)
    assert info.reward_pool == to_wei("1") and info.version_count == 1
    assert market.versions(model.id)[0].accuracy > 0.8


def test_publish_line_form_with_one_frame_and_label(ip, market, chain):
    name = _name("iris-frame")
    before = market.model_count()
    card = _magic(ip, f"publish clf --name {name} --train train_df --test test_df --label target --bond 0.005 "
                      "--pool 0.5 --timeout 2d --window 30m --description 'iris, one frame' --as bob")  # fmt: skip
    assert isinstance(card, ModelCard) and card.id > before
    info = market.model(card.id)
    assert (info.name, info.owner, info.reward_pool) == (name, chain.account("bob").address, to_wei("0.5"))
    assert (info.terms.challenge_bond, info.terms.challenge_window, info.terms.owner_timeout) == (
        to_wei("0.005"),
        1800,
        2 * 86400,
    )


def test_market(ip, market, model):
    table = _magic(ip, "market")
    assert isinstance(table, pd.DataFrame) and table.loc[model.id, "name"] == model.name
    found = _magic(ip, f"market --search {model.name}")
    assert list(found.index) == [model.id] and found.loc[model.id, "versions"] == 1
    # the percent format of the panels, ether amounts as typed
    accuracy = market.versions(model.id)[-1].accuracy
    assert found.loc[model.id, "accuracy"] == format_percent(accuracy) and "%" in found.loc[model.id, "accuracy"]
    assert (found.loc[model.id, "deposit (ETH)"], found.loc[model.id, "reward (ETH)"]) == ("0.01", "0.002")


def test_market_pages(ip, market, publish, capsys):
    """Twenty models a page, newest first, and a line that says which and how to see the next page."""
    prefix = _name("paged")
    for number in range(max(3, 21 - market.model_count())):
        publish(f"{prefix}-{number}")
    total = market.model_count()
    capsys.readouterr()

    first = _magic(ip, "market")
    assert len(first) == 20 and list(first.index) == list(range(total, total - 20, -1))
    assert capsys.readouterr().out == f"showing 1-20 of {total} models (newest first); next: %colearn market --page 2\n"
    pages = math.ceil(total / 20)
    last = _magic(ip, f"market --page {pages}")
    assert list(last.index) == list(range(total - 20 * (pages - 1), 0, -1))
    assert capsys.readouterr().out == f"showing {20 * (pages - 1) + 1}-{total} of {total} models (newest first)\n"
    assert _magic(ip, f"market --page {pages + 1}") is None
    assert capsys.readouterr().err.startswith(f"colearn market: there is no page {pages + 1}: {total} models make")

    paged = _magic(ip, f"market --search {prefix} --limit 2")
    assert len(paged) == 2 and all(name.startswith(prefix) for name in paged["name"])
    found = len(_magic(ip, f"market --search {prefix} --limit 100"))
    assert capsys.readouterr().out.startswith(
        f"showing 1-2 of {found} models (newest first); next: %colearn market --search {prefix} --limit 2 --page 2"
    )


def test_contribute_and_pending(ip, market, chain, model, capsys):
    before = chain.balance(chain.account("alice"))
    submission = _magic(ip, f"contribute {model.name} alice_rows --as alice")  # by name
    assert capsys.readouterr().out.startswith(f"submission {submission.id}: 15 rows to model {model.id}")
    stored = market.submission(submission.id)
    assert (stored.model_id, stored.row_count, stored.contributor) == (model.id, 15, chain.account("alice").address)
    assert stored.deposit_per_row == to_wei("0.01")
    assert chain.balance(chain.account("alice")) <= before - 15 * to_wei("0.01")
    pending = _magic(ip, f"pending {model.id}")
    assert pending.loc[submission.id, "rows"] == 15
    assert submission.id in _magic(ip, "pending").index


def test_contribute_a_frame_beyond_one_file(ip, iris, market, chain, model, capsys, monkeypatch):
    """A frame beyond one file's bounds is sent as several files by the same magic, and said so."""
    assert Session("alice", chain=chain)._training_hashes(model.id)  # checked under the real bounds
    monkeypatch.setattr(data_module, "MAX_FILE_ROWS", 5)
    monkeypatch.setattr(session_module, "_TRAINING", {})  # what small bounds make of the training file stays here
    rows = iris.iloc[90:102].copy()
    rows[rows.columns[0]] += 0.123  # rows no other test contributes
    ip.user_ns["split_rows"] = rows
    submissions = _magic(ip, f"contribute {model.id} split_rows --as alice")
    assert [s.row_count for s in submissions] == [4, 4, 4]
    out = capsys.readouterr().out
    assert f"submissions {submissions[0].id}-{submissions[-1].id}: 12 rows in 3 files to model {model.id}" in out
    assert all(market.submission(s.id).contributor == chain.account("alice").address for s in submissions)


def test_verify_challenge_and_resolve(ip, iris, market, chain, model, capsys):
    rows = iris.iloc[120:135].copy()
    rows.loc[rows.index[[2, 5]], "target"] = (rows["target"].iloc[[2, 5]] + 1) % 3  # two mislabelled rows
    ip.user_ns["bob_rows"] = rows
    submission = _magic(ip, f"contribute {model.id} bob_rows --as bob").id
    capsys.readouterr()

    report = _magic(ip, f"verify {submission} --as verifier")
    assert isinstance(report, VerificationReport) and report.ok and {2, 5} <= set(report.suggested)
    assert list(report.rows.columns) == ["label", "predicted", "fault", "copy of", "challenge", "verdict"]
    assert set(report.plan) >= {(2, "label"), (5, "label")}
    out = capsys.readouterr().out
    assert out.startswith(f"submission {submission}: 15 rows (") and "row 2 (label), row 5 (label)" in out
    ids = _magic(ip, f"challenge {submission} --suggested --as verifier")
    assert len(ids) == len(report.suggested)
    out = capsys.readouterr().out
    assert f"row 2 (label) → challenge {ids[report.suggested.index(2)]}" in out
    challenges = [market.challenge_info(c) for c in ids]
    assert [c.row_index for c in challenges] == report.suggested
    assert {(c.status, c.kind, c.challenger) for c in challenges} == {
        ("pending", "label", chain.account("verifier").address)
    }
    queue = _magic(ip, f"challenges {model.id}")
    assert set(ids) <= set(queue.index) and set(queue.loc[ids, "kind"]) == {"label"}

    # An explicit row the model agrees with (--rows); the owner rejects that challenge: carol's bond is burned.
    good_row = next(r for r in range(15) if r not in report.suggested)
    burned = market.burned()
    [explicit] = _magic(ip, f"challenge {submission} --rows {good_row} --as carol")
    assert market.challenge_info(explicit).row_index == good_row
    assert _magic(ip, f"resolve {explicit} --reject") is False
    assert market.challenge_info(explicit).status == "rejected"
    terms = market.model(model.id).terms
    assert market.burned() == burned + terms.challenge_bond

    # The first one upheld by hand, the others judged by the current model with --all. The verifier gets its bond
    # back and the owner's fee (the row's reward) for every row it caught; the rows' deposits and rewards are burned,
    # not paid to anyone (so no verdict can profit the owner or a partner of its).
    verifier, burned = market.credit_of(chain.account("verifier").address), market.burned()
    assert _magic(ip, f"resolve {ids[0]} --uphold") is True
    assert market.challenge_info(ids[0]).status == "upheld"
    verdicts = _magic(ip, f"resolve --all {model.id}")
    assert verdicts == dict.fromkeys(ids[1:], True)
    assert {market.challenge_info(c).status for c in ids} == {"upheld"}
    assert market.submission(submission).rows_rejected == len(ids)
    earned = market.credit_of(chain.account("verifier").address) - verifier
    assert earned == len(ids) * (terms.challenge_bond + terms.reward_per_row)
    assert market.burned() == burned + len(ids) * (terms.deposit_per_row + terms.reward_per_row)


def test_copies_are_judged_by_the_contract_and_labels_by_the_owner(ip, iris, market, chain, model, capsys):
    """A batch sent by a client that skips the checks: a copy of the owner's training row is proven to the contract
    at once (no bond), a wrong label goes to the owner; `resolve --all` only touches label challenges."""
    rows = iris.iloc[145:148].copy()
    rows.loc[rows.index[1], "target"] = (rows["target"].iloc[1] + 1) % 3
    rows = pd.concat([rows, iris.iloc[[0]]], ignore_index=True)  # row 3 copies training row 0
    session = _magic(ip, "status --as dave")
    submission, _ = _raw_contribution(session, model.id, rows)
    capsys.readouterr()
    report = _magic(ip, f"verify {submission} --as verifier")
    assert report.rows.loc[3, "fault"] == "training copy" and report.rows.loc[3, "copy of"] == "training row 0"
    assert report.rows.loc[3, "verdict"] == "bad" and not report.schema_ok and report.root_ok
    assert (1, "label") in report.plan and (3, "training copy") in report.plan
    assert "row 3 (training copy)" in capsys.readouterr().out

    terms = market.model(model.id).terms
    verifier = market.credit_of(chain.account("verifier").address)
    ids = _magic(ip, f"challenge {submission} 3 1 --as verifier")
    kinds = {market.challenge_info(c).kind: market.challenge_info(c) for c in ids}
    assert set(kinds) == {"training copy", "label"}
    assert kinds["training copy"].status == "upheld" and kinds["label"].status == "pending"
    out = capsys.readouterr().out
    assert "row 3 (training copy)" in out and "row 1 (label)" in out and "judged at once by the contract" in out
    # the copy is rejected at once: its reward to the verifier (no bond was posted for it)
    assert market.credit_of(chain.account("verifier").address) == verifier + terms.reward_per_row
    assert market.is_row_rejected(submission, 3)

    assert _magic(ip, f"resolve --all {model.id} --reject") == {kinds["label"].id: False}
    assert market.challenge_info(kinds["label"].id).status == "rejected"


def test_challenge_without_a_stored_report_asks_the_session(ip, iris, market, model):
    rows = iris.iloc[135:140].copy()
    rows.loc[rows.index[0], "target"] = (rows["target"].iloc[0] + 1) % 3
    ip.user_ns["carol_rows"] = rows
    submission = _magic(ip, f"contribute {model.id} carol_rows --as carol").id
    ip.run_line_magic("colearn", "connect")  # forgets the last report
    ids = _magic(ip, f"challenge {submission} --as verifier")
    assert 0 in [market.challenge_info(c).row_index for c in ids]
    _magic(ip, f"resolve --all {model.id} --uphold")
    assert {market.challenge_info(c).status for c in ids} == {"upheld"}


def test_answer_and_expire(ip, iris, market, chain, capsys):
    """A withheld file is demanded (availability); whoever holds the file answers and takes the bond, and an
    unanswered demand forfeits the batch once `expire` is run after the time-out; an unjudged label stands."""
    card = _magic(ip, f"publish clf --name {_name('iris-timeout')} --train train_df --test test_df --label target "
                      "--window 1h --timeout 1m --bond 0.005")  # fmt: skip
    terms = market.model(card.id).terms
    erin = _magic(ip, "status --as erin")
    answered_sub, parquet = _raw_contribution(erin, card.id, iris.iloc[90:95], store=False)  # the file is withheld
    forfeited_sub, _ = _raw_contribution(erin, card.id, iris.iloc[95:100], store=False)
    labelled_sub, _ = _raw_contribution(erin, card.id, iris.iloc[100:103])
    capsys.readouterr()

    report = _magic(ip, f"verify {answered_sub} --as verifier")
    assert not report.cid_ok and report.rows.empty and report.plan == ((None, "file"),)
    out = capsys.readouterr().out
    assert "cannot be fetched" in out and "plan: the file (file)" in out
    [demand] = _magic(ip, f"challenge {answered_sub} 4 --as verifier")  # a row of an unusable file: demanded
    [lost] = _magic(ip, f"challenge {forfeited_sub} --rows 4 --as verifier")
    assert "row 4 (availability)" in capsys.readouterr().out
    assert _magic(ip, f"resolve --all {card.id}") == {}  # the owner judges label and file challenges only
    assert "no pending label or file challenge" in capsys.readouterr().out
    [label] = _magic(ip, f"challenge {labelled_sub} 0 --as verifier")
    assert [market.challenge_info(c).kind for c in (demand, lost, label)] == ["availability", "availability", "label"]
    queue = _magic(ip, f"challenges {card.name}")
    assert queue.loc[[demand, lost, label], "kind"].tolist() == ["availability", "availability", "label"]
    capsys.readouterr()

    # nobody holds the file yet: nothing to answer
    assert _magic(ip, f"answer {demand} --as carol") == []
    assert f"nothing answered: challenge {demand} is not" in capsys.readouterr().out
    assert demand not in _magic(ip, "answer --as carol")
    erin.storage.add(parquet)  # the file shows up: anyone holding it answers and takes the bond
    carol = market.credit_of(chain.account("carol").address)
    assert _magic(ip, f"answer {demand} --as carol") == [demand]
    assert f"answered challenge {demand}: the row" in capsys.readouterr().out
    assert market.challenge_info(demand).status == "answered"
    assert market.credit_of(chain.account("carol").address) == carol + terms.challenge_bond
    assert _magic(ip, f"expire {lost}") == []  # before the time-out
    assert "nothing expired" in capsys.readouterr().out

    _magic(ip, "advance 2m")
    verifier, burned = market.credit_of(chain.account("verifier").address), market.burned()
    assert _magic(ip, f"expire {lost} --as frank") == [lost]  # anyone may
    assert _magic(ip, f"expire {label} --as frank") == [label]
    out = capsys.readouterr().out
    assert f"challenge {lost} (availability) expired: submission {forfeited_sub} is forfeited" in out
    assert f"challenge {label} (label) expired: row 0 of submission {labelled_sub} stands" in out
    assert market.submission(forfeited_sub).forfeited and market.submission(forfeited_sub).settled
    # the demand's bond and the batch's reserved rewards to the verifier, the label's bond back; deposits burned
    assert market.credit_of(chain.account("verifier").address) == verifier + 2 * terms.challenge_bond + 5 * (
        terms.reward_per_row
    )
    assert market.burned() == burned + 5 * terms.deposit_per_row
    assert not market.is_row_rejected(labelled_sub, 0)
    assert _magic(ip, f"challenges {card.id}").empty
    every = _magic(ip, f"challenges {card.id} --status all")
    assert every.loc[[demand, lost, label], "status"].tolist() == [
        "answered",
        "upheld",
        "expired",
    ]  # a demand unmet: upheld


def test_a_withheld_file_is_challenged_whole(ip, iris, market, chain, capsys):
    """`challenge --file` (what verify plans for a file nobody can fetch): the owner's `resolve --all` finds the file
    missing too and upholds it; the whole batch is rejected."""
    card = _magic(ip, f"publish clf --name {_name('iris-file')} --train train_df --test test_df --label target "
                      "--window 1h --timeout 10m")  # fmt: skip
    erin = _magic(ip, "status --as erin")
    withheld, _ = _raw_contribution(erin, card.id, iris.iloc[90:94], store=False)
    capsys.readouterr()
    assert _magic(ip, f"challenge {withheld} --file --suggested --as verifier") is None  # a usage error
    assert "--file" in capsys.readouterr().err
    [file_challenge] = _magic(ip, f"challenge {withheld} --file --as verifier")
    assert f"the file (file) → challenge {file_challenge}" in capsys.readouterr().out
    assert _magic(ip, f"challenges {card.id}").loc[file_challenge, "kind"] == "file"
    assert _magic(ip, f"resolve --all {card.id} --auto") == {file_challenge: True}
    assert f"challenge {file_challenge}: upheld (the whole batch is rejected)" in capsys.readouterr().out
    assert market.submission(withheld).forfeited


def test_advance_claim_and_retrain(ip, market, chain, model, capsys):
    submission = _magic(ip, f"contribute {model.id} frank_rows --as frank").id
    frank = chain.account("frank")
    start = chain.timestamp()
    now = _magic(ip, "advance 1h1m")
    assert now >= start + 3660 and chain.timestamp() == now
    assert "chain time is now" in capsys.readouterr().out

    balance, credit = chain.balance(frank), market.credit_of(frank)
    withdrawn = _magic(ip, f"claim {submission} --as frank")
    assert withdrawn == credit + 15 * (to_wei("0.01") + to_wei("0.002"))
    assert f"frank withdrew {withdrawn / 1e18:g} ETH" in capsys.readouterr().out
    assert market.submission(submission).claimed and market.credit_of(frank) == 0
    assert chain.balance(frank) > balance

    # Every other account settles too (no settled submission is left for later tests): the contributors of the
    # earlier tests, and the verifier with its bonds and the rewards of the rows it proved bad.
    for name in ("alice", "bob", "carol", "dave", "erin", "verifier"):
        account = chain.account(name)
        balance = chain.balance(account)
        withdrawn = _magic(ip, f"claim --as {name}")  # > 0 after the earlier tests of this module
        assert market.credit_of(account) == 0 and (chain.balance(account) > balance or not withdrawn), name
    assert _magic(ip, f"pending {model.id}").empty  # every submission of the model is settled
    _magic(ip, "claim --as frank")  # frank's batches of other models, if other test modules ran before
    capsys.readouterr()
    assert _magic(ip, "claim --as frank") == 0
    assert "nothing to withdraw for frank" in capsys.readouterr().out

    card = _magic(ip, f"retrain {model.id}")
    assert card.version == 2 and market.model(model.id).version_count == 2
    versions = market.versions(model.id)
    assert versions[1].parent == 1 and versions[1].rows_accepted >= 15
    card = _magic(ip, f"retrain {model.name} --estimator unfitted")
    assert card.version == 3 and len(market.versions(model.id)) == 3


def test_panels_shown_refresh_after_a_magic(ip, chain, model, iris):
    """An account card on screen is read again after `%colearn contribute` (and any magic that changes the chain)."""
    from colearn_jupyter.widgets import AccountCard

    card = AccountCard(ip.run_line_magic("colearn", "status"), account="grace")
    card.widget._view_count = 1  # displayed (the front end counts the views)
    locked = card.locked
    ip.user_ns["grace_rows"] = iris.iloc[140:143]
    submission = _magic(ip, f"contribute {model.id} grace_rows --as grace")
    assert card.locked == locked + submission.deposit
    assert card.balance == chain.balance(chain.account("grace"))


def test_history_growth_and_balances(ip, market, model):
    history = _magic(ip, f"history {model.id}")
    assert isinstance(history, pd.DataFrame) and list(history.index) == list(range(1, len(history) + 1))
    assert {"accuracy", "rows accepted", "model CID"} <= set(history.columns)
    figure = _magic(ip, f"history {model.id} --plot")
    assert isinstance(figure, plots.Figure) and isinstance(figure, go.Figure)
    assert figure.layout.yaxis.range[1] == 1.0 and figure.layout.xaxis.ticktext[0] == "v1"
    assert "plotly.js" not in str(figure._repr_mimebundle_())

    growth = _magic(ip, f"growth {model.name}")
    assert list(growth.columns) == ["time", "rows submitted", "rows accepted"]
    info = market.model(model.id)
    last = growth.iloc[-1] if len(growth) else {"rows submitted": 0, "rows accepted": 0}
    assert (last["rows submitted"], last["rows accepted"]) == (info.rows_submitted, info.rows_accepted)
    assert isinstance(_magic(ip, f"growth {model.id} --plot"), go.Figure)

    balances = _magic(ip, "balances alice frank")
    assert set(balances["account"]) <= {"alice", "frank"} and "owner" in set(_magic(ip, "balances")["account"])
    figure = _magic(ip, "balances alice frank --plot")
    assert isinstance(figure, go.Figure) and {t.name for t in figure.data} == set(balances["account"])


def _state(chain, market):
    return (
        market.model_count(),
        market.submission_count(),
        chain.balance(chain.account("alice")),
        chain.w3.eth.block_number,
    )


def test_errors_are_one_line_and_change_nothing(ip, chain, market, model, capsys):
    cases = [
        (f"contribute {model.id} nowhere --as alice", "colearn contribute: there is no notebook variable named"),
        (f"contribute {model.id} clf --as alice", "colearn contribute: 'clf' is a LogisticRegression, not a pandas"),
        (f"contribute {model.id} bad_rows --as alice", "colearn contribute: "),
        ("contribute no-such-model-here alice_rows --as alice", "colearn contribute: no model is named"),
        ("publish clf --name x --train X_train y_train --test X_test y_test --deposit lots",
         "colearn publish: argument --deposit: 'lots' is not an amount of ether"),
        ("publish clf --name x --train X_train y_train X_test --test X_test y_test", "colearn publish: --train takes"),
        ("publish clf --name x --train X_train --test X_test y_test", "colearn publish: --train X_train has no column"),
        ("publish clf", "colearn publish: the following arguments are required: --name, --train, --test"),
        ("frobnicate", "colearn: argument SUBCOMMAND: invalid choice: 'frobnicate'"),
        ("resolve", "colearn resolve: give one CHALLENGE id, or --all MODEL"),
        ("verify one", "colearn verify: argument SUBMISSION: 'one' is not an id"),
        ("challenge 99999999 --as verifier", "colearn challenge: "),
        (f"resolve 1 --uphold --reject {model.id}", "colearn resolve: "),
        ("advance soon", "colearn advance: argument DURATION: 'soon' is not a duration"),
        ("status --as nobody-at-all", "colearn status: "),
        ("market --search 'unclosed", "colearn market: cannot read the arguments"),
        ("market --page 0", "colearn market: argument --page: '0' is not a whole number from 1"),
        ("class create --students 3 --as alice",
         "colearn class: creating a class is the instructor's action (owner), and alice is not the class's instructor"),
        ("class fund --eth 1 --as bob", "colearn class: funding the class is the instructor's action (owner)"),
        ("class teach", "colearn class: argument ACTION: invalid choice: 'teach'"),
        ("class list student01", "colearn class: class list takes no STUDENTS (only fund does)"),
        ("class fund --students 3", "colearn class: --students and --names are for class create"),
        ("class create --students 3 --names a,b", "colearn class: give --students N or --names A,B, not both"),
        ("class create --names ' , '", "colearn class: --names takes the students' names separated by commas"),
        ("class create --students 0", "colearn class: argument --students: '0' is not a whole number from 1"),
        ("class fund --eth lots", "colearn class: argument --eth: 'lots' is not an amount of ether"),
    ]  # fmt: skip
    before = _state(chain, market)
    for line, message in cases:
        assert _magic(ip, line) is None, line
        captured = capsys.readouterr()
        assert captured.out == "", line
        assert captured.err.startswith(message), (line, captured.err)
        assert captured.err.count("\n") == 1 and "Traceback" not in captured.err, (line, captured.err)
    body = "--name x --train X_train y_train\n--test X_test y_test # comment\n--window never"
    assert ip.run_cell_magic("colearn", "publish clf", body) is None
    assert capsys.readouterr().err.startswith("colearn publish: argument --window: 'never' is not a duration")
    assert _state(chain, market) == before


def test_class_on_the_shared_devnet_lists_nobody(ip, capsys):
    """The shared test devnet has no class (test_classroom.py makes one on a devnet of its own): `class list` says
    how to make one, and the refusals of test_errors_are_one_line_and_change_nothing made none."""
    home = _magic(ip, "status").settings.home_path
    capsys.readouterr()
    roster = _magic(ip, "class list")
    assert isinstance(roster, pd.DataFrame) and roster.empty and list(roster.columns) == ["address", "balance (ETH)"]
    assert "`%colearn class create --students 30`" in capsys.readouterr().out
    assert not (home / "class.json").exists()
    _magic(ip, "help class")
    usage = capsys.readouterr().out
    assert "usage: %colearn class" in usage and "--students N" in usage and "fund: students to top up" in usage


def test_debug_shows_the_traceback(ip, chain, market, model):
    before = _state(chain, market)
    with pytest.raises(ColearnError, match="no model is named"):
        _magic(ip, "--debug contribute no-such-model-here alice_rows --as alice")
    with pytest.raises(SchemaError, match="missing columns"):
        _magic(ip, f"contribute {model.id} bad_rows --as alice --debug")
    with pytest.raises(ColearnError, match="invalid choice"):
        _magic(ip, "frobnicate --debug")
    assert _state(chain, market) == before


def test_completion_of_subcommands_options_and_models(ip, model):
    def complete_line(text: str) -> list[str]:
        return complete(ip, SimpleNamespace(line=text, symbol=text.split(" ")[-1], text_until_cursor=text))

    assert complete_line("%colearn ") == list(SUBCOMMANDS)
    assert complete_line("%colearn con") == ["connect", "contribute"]
    assert complete_line("%%colearn pu") == ["publish"]
    assert model.name in complete_line("%colearn contribute ")
    assert model.name in complete_line(f"%colearn history {model.name[:6]}")
    assert model.name in complete_line("%colearn resolve --all ")
    assert model.name in complete_line("%colearn challenges ")
    assert complete_line("%colearn challenges --status ") == ["pending", "upheld", "rejected", "expired", "answered",
                                                              "all"]  # fmt: skip
    assert complete_line(f"%colearn challenges {model.id} --status a") == ["answered", "all"]
    assert complete_line("%colearn ex") == ["expire"] and complete_line("%colearn an") == ["answer"]
    assert complete_line("%colearn challenge") == ["challenge", "challenges"]
    assert "--rows" in complete_line("%colearn challenge 3 --")
    frames = complete_line(f"%colearn contribute {model.id} ")
    assert {"alice_rows", "train_df", "X_test"} <= set(frames) and "clf" not in frames and "y_test" not in frames
    assert "clf" in complete_line("%colearn publish ")
    assert "--window" in complete_line("%colearn publish clf --w")
    assert complete_line("%colearn class ") == ["create", "list", "fund"]
    assert complete_line("%colearn cl") == ["claim", "class"]
    assert complete_line("%colearn class f") == ["fund"] and complete_line("%colearn class fund ") == []  # no class
    assert "--students" in complete_line("%colearn class create --")
    # Through IPython's own completer, as a Tab press in a notebook would.
    with provisionalcompleter():
        for text, expected in [("%colearn con", {"connect", "contribute"}), ("%%colearn verif", {"verify"}),
                               (f"%colearn retrain {model.id} --estimator ", {"unfitted"}),
                               (f"%colearn growth {model.name[:-2]}", {model.name})]:  # fmt: skip
            assert expected <= {c.text for c in ip.Completer.completions(text, len(text))}, text


def test_simulate_plays_the_incentive_game_on_the_session_chain(ip, capsys):
    """`%colearn simulate` is a face over colearn_jupyter.simulation: a phantom-row adversary against one honest
    contributor and a verifier, on the devnet the notebook is connected to."""
    result = _magic(ip, "simulate phantom=1 --rounds 1 --rows 3 --seed 5")
    summary = result.summary()
    assert {"phantom", "contributor", "verifier"} <= set(summary["kind"])
    phantom = summary[summary["kind"] == "phantom"]
    assert (phantom["change (ETH)"] < 0).all()  # the phantom batch is demanded, unanswered and forfeited
    capsys.readouterr()
    assert _magic(ip, "simulate --rounds nope") is None  # a usage error: one line, no traceback
    assert "simulate" in capsys.readouterr().err
