"""Stored XSS: nothing a stranger publishes becomes markup in a notebook repr or an ipywidgets panel.

A model is published through the real devnet and contract with payloads in every field its publisher controls
(name, description, license, feature and label names, label values, string row values), a contributor submits
payload rows (some mislabelled), and a verifier challenges one of them so its row is revealed on chain. Every
face that shows them is rendered and parsed: no element, handler or link comes from a payload, and the payload
shows as text. ``labextension/ui-tests`` runs the same model through the sidebar and a notebook in chromium.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
import xss_payloads as xss
from xss_payloads import inspect, widget_html

from colearn_jupyter import Session, htmlsafe
from colearn_jupyter.accounts import Account
from colearn_jupyter.marketplace import Event, Receipt, Submission, Terms
from colearn_jupyter.session import ModelCard, VerificationReport
from colearn_jupyter.widgets import AccountCard, ContributePanel, MarketBrowser, VerificationQueue


@pytest.fixture(scope="module")
def owner(chain, market) -> Session:
    return Session("owner", chain=chain, market=market)


@pytest.fixture(scope="module")
def planted(owner) -> xss.Planted:
    return xss.plant(owner)


@pytest.fixture(scope="module")
def stranger(owner) -> Session:
    """A session whose account name is itself a payload (names are the user's own, but shown everywhere)."""
    signer = owner.chain.account("erin")._signer
    return owner.as_account(Account(xss.IMG, signer))


def _safe(face: str, html: str, *shown: str) -> str:
    findings, text = inspect(html)
    assert not findings, f"{face}: {findings}\n{html[:2000]}"
    for payload in shown:
        assert payload in text, f"{face} does not show {payload!r} as text:\n{text[:2000]}"
    return text


def test_helpers_escape_everything():
    for payload in xss.PAYLOADS:
        _safe("text", f"<div>{htmlsafe.text(payload)}</div>", payload)
        _safe("attribute", f"<span title='{htmlsafe.text(payload)}'>x</span>")
        _safe("attribute", f'<span title="{htmlsafe.text(payload)}">x</span>')
        _safe("code", htmlsafe.code(payload), payload)
        _safe("table", htmlsafe.table(payload, [(payload, htmlsafe.text(payload))]), payload)
        frame = pd.DataFrame({payload: [payload]}, index=pd.Index([payload], name=payload))
        _safe("frame", htmlsafe.frame(frame), payload)


def test_reprs_of_any_field_escape_it():
    """Every dataclass repr with a payload in each string field (even those the client decodes itself today, such
    as CIDs, addresses and event names)."""
    p = xss.IMG
    terms = Terms(10**16, 2 * 10**15, 10**16, 3600, 86400)
    submission = Submission(1, 2, p, p, p, 3, 0, 0, 0, 0, 10, 1, False, False)
    _safe("Submission", submission._repr_html_(), p)
    receipt = Receipt(xss.SCRIPT * 2, 1, 21000, 1, p, [Event(p, {}, 1, 0)])
    _safe("Receipt", receipt._repr_html_(), p)

    # ModelInfo's fields that the card shows, each a payload where it is a string
    info = SimpleNamespace(id=1, name=p, owner=xss.SCRIPT, terms=terms, reward_pool=0, rows_accepted=0,
                           rows_pending=0, rows_rejected=0)  # fmt: skip
    card = ModelCard(info, 0.5, 1, xss.SVG)  # type: ignore[arg-type]
    _safe("ModelCard", card._repr_html_(), p, xss.SCRIPT, xss.SVG)
    rows = pd.DataFrame({"label": [p], "predicted": [xss.SCRIPT], "fault": [xss.SVG], "copy of": [xss.ANCHOR]})
    report = VerificationReport(1, 2, True, False, False, rows, problem=xss.ANCHOR, plan=((0, p),))
    _safe("VerificationReport", report._repr_html_(), p, xss.SCRIPT, xss.SVG, xss.ANCHOR)


def test_notebook_reprs_show_payloads_as_text(owner, planted, stranger):
    verifier = owner.as_account("verifier")
    card = verifier.model(planted.model_id)
    assert card.name == xss.NAME
    _safe("model card", card._repr_html_(), xss.NAME)
    _safe("submission", verifier.market.submission(planted.submission_id)._repr_html_())
    report = verifier.verify(planted.submission_id)
    _safe("verification report", report._repr_html_(), *xss.LABELS)
    _safe("session", stranger._repr_html_(), xss.IMG)
    tables = {
        # the payload model's line (the whole table may be long enough for pandas to truncate it)
        "market table": (verifier.market_table().loc[[planted.model_id]], [xss.NAME]),
        "pending": (verifier.pending(planted.model_id), []),
        "challenges": (verifier.challenges(planted.model_id), [xss.NUMBER_FEATURE, xss.STRING_FEATURE, xss.LABEL]),
        "history": (verifier.history(planted.model_id), []),
    }
    for face, (frame, shown) in tables.items():
        _safe(face, frame._repr_html_(), *shown)
    challenges = tables["challenges"][0]
    values = " ".join(map(str, challenges.loc[list(planted.challenge_ids)].to_numpy().ravel()))
    assert any(s in values for s in xss.STRINGS) and any(label in values for label in xss.LABELS)
    _safe("challenge values", challenges._repr_html_(), *(s for s in xss.STRINGS + xss.LABELS if s in values))


def test_widgets_show_payloads_as_text(owner, planted, stranger):
    verifier = owner.as_account("verifier")
    browser = MarketBrowser(verifier)
    browser.select(planted.model_id)
    assert browser.status.kind != "error", browser.status.text
    html = dict(widget_html(browser))
    assert any(xss.NAME in inspect(value)[1] for value in html.values()), "the browser does not show the name"
    for face, value in html.items():
        _safe(f"market browser {face}", value)
    browser.search.value = xss.SCRIPT  # a search that matches nothing: the table says so
    for face, value in widget_html(browser):
        _safe(f"market browser (searched) {face}", value)

    queue = VerificationQueue(stranger, model=planted.model_id)
    queue.account.value = "verifier"
    queue.pending.value = planted.submission_id
    queue._on_verify()
    assert queue.report is not None, queue.status.text
    shown = " ".join(inspect(value)[1] for _, value in widget_html(queue))
    for payload in (*xss.LABELS, xss.IMG):  # labels in the report, the account's name in the heading
        assert payload in shown, payload
    assert any(s in shown for s in xss.STRINGS), "the challenged row's values are not shown"
    for face, value in widget_html(queue):
        _safe(f"verification queue {face}", value)
    for box in queue.rows_box.children:
        assert not getattr(box, "description_allow_html", False)

    contribute = ContributePanel(stranger, namespace={"rows": xss.frame(5, 99)})
    contribute.model = planted.model_id
    contribute.frames.value = "rows"
    assert contribute.preview_result is not None, contribute.status.text
    _safe("contribution preview", contribute.preview_html.value, xss.NAME)
    contribute.frame = xss.frame(3, 98).rename(columns={xss.LABEL: xss.ANCHOR})  # an invalid frame: the problem
    for face, value in widget_html(contribute):
        _safe(f"contribution panel {face}", value)

    card = AccountCard(stranger)
    card.status.error(xss.SCRIPT)
    for face, value in widget_html(card):
        _safe(f"account card {face}", value)
    _safe("status line", card.status.widget.value, xss.SCRIPT)
