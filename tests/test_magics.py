"""The %colearn magics in a real IPython shell against the test devnet: every subcommand and the state it leaves."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pandas as pd
import plotly.graph_objects as go
import pytest
from IPython.core.completer import provisionalcompleter
from IPython.core.interactiveshell import InteractiveShell
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import ColearnError, Session
from colearn_jupyter.formats.data import SchemaError
from colearn_jupyter.magics import SUBCOMMANDS, complete
from colearn_jupyter.session import ModelCard, VerificationReport
from colearn_jupyter.units import to_wei


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


def test_load_ext_registers_line_and_cell_magics(ip):
    assert "colearn" in ip.magics_manager.magics["line"]
    assert "colearn" in ip.magics_manager.magics["cell"]


def test_help_guides_a_newcomer_through_every_subcommand(ip, capsys):
    assert _magic(ip, "help") is None
    guide = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert f"\n  {name} " in guide, name  # the list of subcommands
    steps = ["connect", "publish", "market", "contribute", "pending", "verify", "challenge", "resolve", "advance",
             "claim", "retrain", "history"]  # fmt: skip
    positions = [guide.index(f"%colearn {step}") for step in steps]
    assert positions == sorted(positions)  # the cycle, in order
    assert "--as alice" in guide and "--as verifier" in guide and "history iris --plot" in guide
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


def test_market(ip, model):
    table = _magic(ip, "market")
    assert isinstance(table, pd.DataFrame) and table.loc[model.id, "name"] == model.name
    found = _magic(ip, f"market --search {model.name}")
    assert list(found.index) == [model.id] and found.loc[model.id, "versions"] == 1


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


def test_verify_challenge_and_resolve(ip, iris, market, chain, model, capsys):
    rows = iris.iloc[120:135].copy()
    rows.loc[rows.index[[2, 5]], "target"] = (rows["target"].iloc[[2, 5]] + 1) % 3  # two mislabelled rows
    ip.user_ns["bob_rows"] = rows
    submission = _magic(ip, f"contribute {model.id} bob_rows --as bob").id

    report = _magic(ip, f"verify {submission} --as verifier")
    assert isinstance(report, VerificationReport) and report.ok and {2, 5} <= set(report.suggested)
    capsys.readouterr()
    ids = _magic(ip, f"challenge {submission} --suggested --as verifier")
    assert len(ids) == len(report.suggested)
    assert f"challenge(s) {', '.join(map(str, ids))}" in capsys.readouterr().out
    challenges = [market.challenge_info(c) for c in ids]
    assert [c.row_index for c in challenges] == report.suggested
    assert {(c.status, c.challenger) for c in challenges} == {("pending", chain.account("verifier").address)}

    # An explicit row the model agrees with; the owner rejects that challenge.
    good_row = next(r for r in range(15) if r not in report.suggested)
    [explicit] = _magic(ip, f"challenge {submission} {good_row} --as carol")
    assert market.challenge_info(explicit).row_index == good_row
    assert _magic(ip, f"resolve {explicit} --reject") is False
    assert market.challenge_info(explicit).status == "rejected"

    # The first one upheld by hand, the others judged by the current model with --all.
    assert _magic(ip, f"resolve {ids[0]} --uphold") is True
    assert market.challenge_info(ids[0]).status == "upheld"
    verdicts = _magic(ip, f"resolve --all {model.id}")
    assert verdicts == dict.fromkeys(ids[1:], True)
    assert {market.challenge_info(c).status for c in ids} == {"upheld"}
    assert market.submission(submission).rows_rejected == len(ids)


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
    # earlier tests, and the verifier with its bonds and the rejected rows' deposits.
    for name in ("alice", "bob", "carol", "verifier"):
        account = chain.account(name)
        balance = chain.balance(account)
        withdrawn = _magic(ip, f"claim --as {name}")  # > 0 after the earlier tests of this module
        assert market.credit_of(account) == 0 and (chain.balance(account) > balance or not withdrawn), name
    assert _magic(ip, f"pending {model.id}").empty  # every submission of the model is settled
    assert _magic(ip, "claim --as frank") == 0
    assert "nothing to withdraw for frank" in capsys.readouterr().out

    card = _magic(ip, f"retrain {model.id}")
    assert card.version == 2 and market.model(model.id).version_count == 2
    versions = market.versions(model.id)
    assert versions[1].parent == 1 and versions[1].rows_accepted >= 15
    card = _magic(ip, f"retrain {model.name} --estimator unfitted")
    assert card.version == 3 and len(market.versions(model.id)) == 3


def test_history_growth_and_balances(ip, market, model):
    history = _magic(ip, f"history {model.id}")
    assert isinstance(history, pd.DataFrame) and list(history.index) == list(range(1, len(history) + 1))
    assert {"accuracy", "rows accepted", "model CID"} <= set(history.columns)
    assert isinstance(_magic(ip, f"history {model.id} --plot"), go.Figure)

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
    frames = complete_line(f"%colearn contribute {model.id} ")
    assert {"alice_rows", "train_df", "X_test"} <= set(frames) and "clf" not in frames and "y_test" not in frames
    assert "clf" in complete_line("%colearn publish ")
    assert "--window" in complete_line("%colearn publish clf --w")
    # Through IPython's own completer, as a Tab press in a notebook would.
    with provisionalcompleter():
        for text, expected in [("%colearn con", {"connect", "contribute"}), ("%%colearn verif", {"verify"}),
                               (f"%colearn retrain {model.id} --estimator ", {"unfitted"}),
                               (f"%colearn growth {model.name[:-2]}", {model.name})]:  # fmt: skip
            assert expected <= {c.text for c in ip.Completer.completions(text, len(text))}, text
