"""The ipywidgets panels, driven as a user would: set values, click buttons, then read the chain."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from types import SimpleNamespace

import ipywidgets as widgets
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import Session
from colearn_jupyter import session as session_module
from colearn_jupyter.contributions import model_metadata, prepare_batch
from colearn_jupyter.formats import data as data_module
from colearn_jupyter.units import format_percent
from colearn_jupyter.widgets import (
    AccountCard,
    ContributePanel,
    MarketBrowser,
    VerificationQueue,
    account_card,
    panel,
)
from colearn_jupyter.widgets.contribute import DIRECT


@dataclass(frozen=True)
class Published:
    id: int
    model: LogisticRegression
    fresh: pd.DataFrame  # rows the model has not seen, for contributions (tests take disjoint slices)
    deposit: int
    reward: int
    train: pd.DataFrame  # the owner's training rows
    test: pd.DataFrame  # the owner's hidden test rows


def _publish(
    session: Session, frame: pd.DataFrame, name: str, train: int, test: int, pool: str, timeout: str = "1d"
) -> Published:
    frame = frame.drop_duplicates().sample(frac=1.0, random_state=3).reset_index(drop=True)
    train_rows, test_rows = frame.iloc[:train], frame.iloc[train : train + test]
    model = LogisticRegression(max_iter=5000).fit(train_rows.drop(columns="target"), train_rows["target"])
    card = session.publish(model, name=name, train=train_rows, test=test_rows, label="target", deposit="0.01",
                           reward="0.002", window="1h", timeout=timeout, pool=pool)  # fmt: skip
    fresh = frame.iloc[train + test :].reset_index(drop=True)
    terms = card.info.terms
    return Published(card.id, model, fresh, terms.deposit_per_row, terms.reward_per_row, train_rows, test_rows)


@pytest.fixture(scope="module")
def owner(chain, market) -> Session:
    return Session("owner", chain=chain, market=market)


@pytest.fixture(scope="module")
def iris(owner) -> Published:
    return _publish(owner, load_iris(as_frame=True).frame, "widgets-iris", 50, 40, pool="1")


@pytest.fixture(scope="module")
def wine(owner) -> Published:
    """A model whose reward pool pays for two rows only."""
    return _publish(owner, load_wine(as_frame=True).frame, "widgets-wine", 80, 40, pool="0.004")


def _withheld(session: Session, model_id: int, frame: pd.DataFrame) -> tuple[int, bytes]:
    """Submit rows but keep the file to oneself (as a dishonest contributor could): the submission id and the file."""
    schema = model_metadata(session.market, session.storage, model_id).feature_schema
    batch = prepare_batch(frame, schema, session.account.address)
    receipt = session.market.contribute(session.account, model_id, batch.cid, batch.tree.root, batch.row_count)
    return receipt.event("SubmissionAdded").args["submission_id"], batch.parquet


def _values(choice) -> list:
    return [value for _, value in choice.options]


def _record(widget, name: str) -> list:
    seen: list = []
    widget.observe(lambda change: seen.append(change["new"]), names=name)
    return seen


def _no_hard_colours(*htmls: str) -> None:
    for html in htmls:
        assert not re.search(r"(background|color)\s*:\s*(white|black|#fff|#000)", html, re.IGNORECASE), html


def test_contribute_a_frame_beyond_one_file(owner, market, chain, iris, monkeypatch):
    """Confirming a frame beyond one file's bounds sends it as several files, and the status says so."""
    assert owner._training_hashes(iris.id)  # checked under the real bounds (the small ones would not read it)
    monkeypatch.setattr(data_module, "MAX_FILE_ROWS", 4)
    monkeypatch.setattr(session_module, "_TRAINING", {})  # what small bounds make of the training file stays here
    rows = iris.fresh.iloc[0:9].copy()
    rows[rows.columns[0]] += 0.321  # rows no other test contributes
    contribute = ContributePanel(owner, namespace={}, model=iris.id, account="frank", frame=rows)
    assert contribute.preview_result and contribute.preview_result["valid"], contribute.status.text
    contribute.confirm.click()
    assert contribute.status.kind == "ok", contribute.status.text
    submissions = contribute.last_submissions
    assert [s.row_count for s in submissions] == [3, 3, 3] and contribute.last_submission == submissions[-1]
    assert all(market.submission(s.id).contributor == chain.account("frank").address for s in submissions)
    assert f"submissions #{submissions[0].id}-#{submissions[-1].id}: 9 rows in 3 files" in contribute.status.text


def test_contribute_a_good_frame(owner, market, chain, iris):
    rows = iris.fresh.iloc[0:10]
    contribute = ContributePanel(owner, namespace={"new_rows": rows, "_": rows, "answer": 42}, model=iris.id)
    # nothing is chosen for the user: the rows to pay for are picked, never a default
    assert _values(contribute.frames) == ["new_rows"] and contribute.frames.value is None
    assert contribute.preview_result is None and contribute.confirm.disabled
    assert "choose a DataFrame" in contribute.preview_html.value
    contribute.frames.value = "new_rows"
    contribute.account.value = "carol"
    assert contribute.preview_result["valid"] and contribute.preview_result["rows"] == 10
    assert "0.1 ETH" in contribute.preview_html.value and "carol" in contribute.preview_html.value
    assert not contribute.confirm.disabled
    count, before = market.submission_count(), market.model(iris.id)
    disabled, status = _record(contribute.confirm, "disabled"), _record(contribute.status.widget, "value")

    contribute.confirm.click()

    assert contribute.status.kind == "ok", contribute.status.text
    assert disabled[0] is True and any("working…" in value for value in status)  # progress while it ran
    submission = market.submission(contribute.last_submission.id)
    assert market.submission_count() == count + 1
    assert (submission.model_id, submission.row_count) == (iris.id, 10)
    assert submission.contributor == chain.account("carol").address
    assert market.model(iris.id).rows_pending == before.rows_pending + 10
    assert f"submission #{submission.id}" in contribute.status.text
    assert contribute.confirm.disabled  # no second deposit for the same inputs by a double click
    _no_hard_colours(contribute.preview_html.value, contribute.status.widget.value)


def test_a_bad_frame_shows_its_problem_and_changes_nothing(owner, market, chain, iris):
    bad = iris.fresh.iloc[10:15].reset_index(drop=True)
    bad.loc[3, "petal width (cm)"] = np.nan
    contribute = ContributePanel(owner, namespace={}, model="widgets-iris", account="bob")
    assert contribute.model == iris.id and contribute.frames.options == ()
    assert contribute.confirm.disabled
    before = (market.submission_count(), market.model(iris.id), chain.balance(chain.account("bob")))

    contribute.frame = bad
    assert contribute.frames.value == DIRECT and contribute.frame is bad
    assert not contribute.preview_result["valid"]
    assert "NaN or infinite values at row 3" in contribute.preview_html.value
    assert "var(--jp-error-color1)" in contribute.preview_html.value
    assert contribute.confirm.disabled
    contribute.confirm.click()  # a disabled button does nothing, even clicked from code
    assert (market.submission_count(), market.model(iris.id), chain.balance(chain.account("bob"))) == before

    contribute.frame = bad.dropna()
    assert contribute.preview_result["valid"] and contribute.preview_result["rows"] == 4
    assert not contribute.confirm.disabled


def test_a_refused_contribution_is_one_red_line(owner, market, wine):
    contribute = ContributePanel(owner, namespace={"wine_rows": wine.fresh.iloc[:5]}, model=wine.id, account="dave",
                                 frame="wine_rows")  # fmt: skip
    assert contribute.preview_result["valid"] and not contribute.confirm.disabled
    count = market.submission_count()

    contribute.confirm.click()

    assert contribute.status.kind == "error"
    assert "reward pool" in contribute.status.text and "\n" not in contribute.status.text
    assert "var(--jp-error-color1)" in contribute.status.widget.value
    assert "Traceback" not in contribute.status.widget.value
    assert market.submission_count() == count
    assert not contribute.confirm.disabled  # the user may try again once the pool is topped up


def test_a_model_whose_metadata_is_missing_is_one_red_line(owner, publish, iris):
    unreadable = publish("unreadable-metadata")  # its metadata CID is not in this store
    contribute = ContributePanel(owner, namespace={"rows": iris.fresh.iloc[:3]}, model=unreadable, frame="rows")
    assert contribute.model == unreadable and contribute.preview_result is None
    assert contribute.status.kind == "error" and "\n" not in contribute.status.text
    assert contribute.confirm.disabled


def test_verify_challenge_and_resolve(owner, market, chain, iris):
    batch = iris.fresh.iloc[15:35].reset_index(drop=True)
    predicted = iris.model.predict(batch.drop(columns="target"))
    flipped = [2, 7, 11]
    batch.loc[flipped, "target"] = (predicted[flipped] + 1) % 3  # labels the model certainly disagrees with
    submission = owner.as_account("dave").contribute(iris.id, batch)

    queue = VerificationQueue(owner)
    assert queue.account.value == "verifier"
    assert submission.id in _values(queue.pending)
    assert queue.verify_button.disabled  # nothing chosen yet
    queue.pending.value = submission.id
    disabled = _record(queue.verify_button, "disabled")
    queue.verify_button.click()

    assert disabled[0] is True and queue.status.kind == "", queue.status.text
    report = queue.report
    assert report.ok and report.submission_id == submission.id and set(flipped) <= set(report.suggested)
    assert set(queue.row_boxes) == set(report.suggested) and queue.row_kinds == dict(report.plan)
    assert all(box.value for box in queue.row_boxes.values())  # pre-checked
    assert "→ label (the owner judges" in queue.row_boxes[flipped[0]].description
    html = queue.report_html.value
    assert f"Submission #{submission.id}" in html and "suspicious" in html and "planned challenge" in html
    for column in ("fault", "copy of", "challenge kind", "verdict"):
        assert f">{column}</th>" in html, column
    assert not queue.challenge_button.disabled
    for index, box in queue.row_boxes.items():
        box.value = index in flipped
    queue.challenge_button.click()

    assert queue.status.kind == "ok", queue.status.text
    assert "(label)" in queue.status.text
    challenges = [market.challenge_info(i) for i in queue.last_challenges]
    assert sorted(c.row_index for c in challenges) == flipped
    assert {(c.submission_id, c.status, c.kind, c.challenger) for c in challenges} == {
        (submission.id, "pending", "label", chain.account("verifier").address)
    }
    assert market.submission(submission.id).open_challenges == 3

    # The pending challenges section lists them with their kind; the owner (the session's account) gets its verdict
    # buttons on label challenges, and nothing else to do with them.
    upheld, rejected, judged = queue.last_challenges
    assert {upheld, rejected, judged} <= set(queue.resolvers)
    row = queue.resolvers[upheld]
    assert row.kind == "label" and row.answer is None and row.expire is None
    assert [b.description for b in row.buttons] == ["Uphold", "Reject", "Auto"]
    assert "label</span>" in row.widget.children[-1].value
    terms = market.model(iris.id).terms
    verifier, burned = market.credit_of(chain.account("verifier").address), market.burned()
    queue.resolvers[upheld].uphold.click()
    assert market.challenge_info(upheld).status == "upheld" and queue.status.kind == "ok"
    queue.resolvers[rejected].reject.click()
    assert market.challenge_info(rejected).status == "rejected"
    queue.resolvers[judged].auto.click()  # the model disagrees with the flipped label: upheld
    assert market.challenge_info(judged).status == "upheld"
    assert not {upheld, rejected, judged} & set(queue.resolvers)
    after = market.submission(submission.id)
    assert (after.open_challenges, after.rows_rejected) == (0, 2)
    # the verifier: its bond back and the owner's fee (the row's reward) for each row it caught, the fee alone for the
    # rejected challenge (its bond burned); the bad rows' deposits and rewards are burned
    assert (
        market.credit_of(chain.account("verifier").address)
        == verifier + 2 * (terms.challenge_bond + terms.reward_per_row) + terms.reward_per_row
    )
    assert market.burned() == burned + 2 * (terms.deposit_per_row + terms.reward_per_row) + terms.challenge_bond
    _no_hard_colours(queue.report_html.value, queue.owner_html.value, queue.status.widget.value)


def test_demand_a_withheld_file_answer_and_expire(owner, market, chain):
    """A file nobody can fetch: the report plans a challenge of the whole file, which the owner judges (Auto: its
    client cannot fetch the file either, so the batch is rejected). A demanded row shows an Answer button, which
    produces the row once the file is there; another demand, unanswered, is expired and forfeits its batch."""
    model = _publish(owner, load_iris(as_frame=True).frame, "demands-in-widgets", 50, 40, pool="1", timeout="1m")
    dave = owner.as_account("dave")
    answered, parquet = _withheld(dave, model.id, model.fresh.iloc[0:4])
    forfeited, _ = _withheld(dave, model.id, model.fresh.iloc[4:7])
    filed, _ = _withheld(dave, model.id, model.fresh.iloc[7:10])
    terms = market.model(model.id).terms

    queue = VerificationQueue(owner, model=model.id)
    assert {answered, forfeited, filed} <= set(_values(queue.pending))
    queue.pending.value = filed
    queue.verify_button.click()
    assert queue.status.kind == "", queue.status.text
    report = queue.report
    assert not report.cid_ok and report.rows.empty and report.plan == ((None, "file"),)
    assert "CID ✘" in queue.report_html.value and "1 planned challenge (1 file)" in queue.report_html.value
    assert "cannot be fetched" in queue.report_html.value
    assert queue.row_boxes[None].value and "the whole file" in queue.row_boxes[None].description
    queue.challenge_button.click()
    assert queue.status.kind == "ok" and "(file)" in queue.status.text, queue.status.text
    [file_challenge] = queue.last_challenges
    item = queue.resolvers[file_challenge]
    assert item.kind == "file" and [b.description for b in item.buttons] == ["Uphold", "Reject", "Auto"]
    item.auto.click()
    assert queue.status.kind == "ok" and "upheld" in queue.status.text, queue.status.text
    assert market.submission(filed).forfeited and filed not in _values(queue.pending)

    verifier = chain.account("verifier")
    demands = {
        submission: market.challenge_availability(verifier, submission, row).event("RowChallenged").args["challenge_id"]
        for submission, row in ((answered, 3), (forfeited, 2))
    }
    queue.refresh()

    # Answer: offered on a demand, never Uphold/Reject (nobody judges it). Without the file it cannot be answered.
    item = queue.resolvers[demands[answered]]
    assert item.kind == "availability" and item.uphold is None and item.expire is None
    assert [b.description for b in item.buttons] == ["Answer"]
    item.answer.click()
    assert queue.status.kind == "error" and "cannot be answered from here" in queue.status.text
    assert market.challenge_info(demands[answered]).status == "pending"
    owner.storage.add(parquet)  # the file shows up in this storage
    credit = market.credit_of(owner.account.address)
    queue.resolvers[demands[answered]].answer.click()
    assert queue.status.kind == "ok" and "answered" in queue.status.text, queue.status.text
    assert market.challenge_info(demands[answered]).status == "answered"
    assert market.credit_of(owner.account.address) == credit + terms.challenge_bond  # the answerer takes the bond
    assert demands[answered] not in queue.resolvers

    # Past the time-out: Expire (anyone may), which forfeits the batch whose row never came.
    owner.advance_time("2m")
    queue.refresh()
    item = queue.resolvers[demands[forfeited]]
    assert [b.description for b in item.buttons] == ["Expire"]
    verifier, burned = market.credit_of(chain.account("verifier").address), market.burned()
    item.expire.click()
    assert queue.status.kind == "ok", queue.status.text
    assert market.submission(forfeited).forfeited and forfeited not in _values(queue.pending)
    assert market.credit_of(chain.account("verifier").address) == verifier + terms.challenge_bond + 3 * (
        terms.reward_per_row
    )
    assert market.burned() == burned + 3 * terms.deposit_per_row

    # dave's account card: the forfeited batch locks nothing any more, and says so
    card = AccountCard(owner, account="dave")
    assert "forfeited" in card.card.value and card.values["forfeited"] >= 1
    assert card.locked == owner.as_account("dave").locked_deposits()


def test_label_challenges_of_another_owners_model_get_no_verdict_buttons(owner, market, iris):
    batch = iris.fresh.iloc[50:53].reset_index(drop=True)
    submission = owner.as_account("frank").contribute(iris.id, batch)
    [challenge] = owner.as_account("verifier").challenge(submission.id, [0])
    queue = VerificationQueue(owner.as_account("alice"), model=iris.id)  # alice owns no model
    item = queue.resolvers[challenge]
    assert item.kind == "label" and item.buttons == []
    assert VerificationQueue(owner, model=iris.id).resolvers[challenge].uphold is not None
    owner.resolve(challenge, False)


def test_market_browser_search_sort_select(owner, iris, wine):
    browser = MarketBrowser(owner, namespace={"more_rows": iris.fresh.iloc[45:50]})
    models = _values(browser.models)
    assert models == sorted(models, reverse=True)  # newest first
    assert browser.models.value is None and browser.details.layout.display == "none"

    browser.search.value = "WIDGETS-"
    assert set(_values(browser.models)) == {iris.id, wine.id}
    assert "widgets-iris" in browser.table.value and "widgets-wine" in browser.table.value
    assert browser.table.value.count("<tr") == 3  # the header and two models
    browser.sort.value, browser.ascending.value = "name", True
    assert _values(browser.models) == [iris.id, wine.id]
    browser.ascending.value = False
    assert _values(browser.models) == [wine.id, iris.id]

    browser.select(iris.id)
    assert f"#{iris.id}" in browser.card.value and "widgets-iris" in browser.card.value
    (figure,) = browser.history.outputs
    assert figure["data"]["application/vnd.plotly.v1+json"]["data"][0]["name"] == "accuracy"
    assert "<script" not in figure["data"]["text/html"] and len(json.dumps(figure["data"])) < 50_000
    assert browser.details.layout.display is None
    assert browser.contribute.model == iris.id and browser.contribute.frames.value is None  # chosen by the user
    browser.contribute.frames.value = "more_rows"
    assert browser.contribute.preview_result["valid"]
    # one percent format (as %colearn market), ether amounts as typed, columns that scroll instead of being cut
    accuracy = browser.table_frame.loc[iris.id, "accuracy"]
    assert f">{format_percent(accuracy)}</td>" in browser.table.value and ">0.01</td>" in browser.table.value
    assert browser.table.layout.overflow == "auto" and "max-width: 100%" in browser.table.value

    browser.search.value = "no model is called like this"
    assert browser.models.options == () and browser.models.value is None
    assert browser.details.layout.display == "none" and browser.history.outputs == ()
    _no_hard_colours(browser.table.value, browser.card.value)


def test_account_card_claims_after_the_window(owner, market, chain, iris):
    erin = chain.account("erin")
    owner.as_account("erin").claim()  # settle what earlier tests left to erin (the suite shares one devnet)
    card = AccountCard(owner, account="erin")
    assert card.values["address"] == erin.address and erin.address in card.card.value
    locked_before = card.locked
    submission = owner.as_account("erin").contribute(iris.id, iris.fresh.iloc[35:45])
    card.refresh()
    assert card.locked == locked_before + 10 * iris.deposit
    assert "deposits locked" in card.card.value

    card.claim_button.click()  # still in its challenge window: nothing to claim
    assert card.status.kind == "info" and not market.submission(submission.id).claimed

    owner.advance_time(submission.window_ends_at - chain.timestamp() + 1)
    balance, credit = chain.balance(erin), market.credit_of(erin.address)
    disabled = _record(card.claim_button, "disabled")
    card.claim_button.click()

    assert card.status.kind == "ok", card.status.text
    assert disabled[0] is True
    assert market.submission(submission.id).claimed
    assert market.credit_of(erin.address) == 0 and card.claimable == 0
    assert chain.balance(erin) > balance + credit  # deposits and rewards came back, minus gas
    assert card.balance == chain.balance(erin)
    assert card.locked <= locked_before
    _no_hard_colours(card.card.value)


def test_panels_display_themselves_and_can_be_made_by_name(owner):
    card = panel("account", owner)
    assert isinstance(card, AccountCard) and isinstance(account_card(owner), AccountCard)
    bundle = card._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == card.widget.model_id
    assert isinstance(card.widget, widgets.VBox) and callable(card._ipython_display_)
    with pytest.raises(ValueError, match="no panel is called 'wallet'"):
        panel("wallet", owner)


def test_the_default_namespace_is_the_notebooks(owner, iris, monkeypatch):
    shell = SimpleNamespace(user_ns={"rows": iris.fresh.iloc[:3], "_hidden": iris.fresh, "n": 1})
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    assert _values(ContributePanel(owner).frames) == ["rows"]
    monkeypatch.setattr("IPython.get_ipython", lambda: None)
    assert ContributePanel(owner).frames.options == ()  # outside IPython there is no user namespace


def test_the_owner_cannot_contribute_its_own_training_or_test_rows(owner, iris):
    """The owner's whole data set is never contributed by accident: its training rows are refused as rows the model
    already has, its hidden test rows as its own test set (contributing them would publish them)."""
    fresh = iris.fresh.iloc[56:59]
    contribute = ContributePanel(owner, namespace={}, model=iris.id)
    assert contribute.account.value == "owner"

    contribute.frame = pd.concat([fresh, iris.test.iloc[[3, 7]]], ignore_index=True)
    assert not contribute.preview_result["valid"] and contribute.confirm.disabled
    assert "rows 3, 4 of this DataFrame are in the hidden test set of your own model" in contribute.preview_html.value
    contribute.frame = iris.train.iloc[:5]
    assert not contribute.preview_result["valid"] and "already accepted" in contribute.preview_result["problem"]
    contribute.frame = fresh
    assert contribute.preview_result["valid"] and not contribute.confirm.disabled
    # another account cannot know the hidden test set: only the owner's panel checks it
    contribute.account.value = "alice"
    contribute.frame = iris.test.iloc[:2]
    assert contribute.preview_result["valid"]


def test_panels_shown_refresh_after_an_action_elsewhere(owner, chain, iris):
    """An account card shown in the notebook reads the chain again after a contribution made in another panel; a
    panel nobody displays is left alone."""
    card, hidden = AccountCard(owner, account="grace"), AccountCard(owner, account="grace")
    card.widget._view_count = 1  # displayed once (the front end counts the views)
    assert card.on_screen and not hidden.on_screen
    locked, balance = card.locked, card.balance
    contribute = ContributePanel(owner, namespace={}, model=iris.id, account="grace", frame=iris.fresh.iloc[53:56])

    contribute.confirm.click()

    assert contribute.status.kind == "ok", contribute.status.text
    assert card.locked == locked + 3 * iris.deposit and card.balance == chain.balance(chain.account("grace"))
    assert card.balance < balance - 3 * iris.deposit  # the deposit and the gas
    assert hidden.locked == locked
    # balances with the sidebar's precision (at most 6 decimals), thousands separated; buttons as wide as their text
    assert not re.search(r"\d\.\d{7,}", card.card.value) and re.search(r"\d,\d{3}", card.card.value)
    assert all(b.layout.width == "auto" for b in (contribute.confirm, card.claim_button, card.refresh_button))
