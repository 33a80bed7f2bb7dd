"""ipywidgets panels over a :class:`~colearn_jupyter.session.Session`: a thin face, all logic stays in the session.

=====================  ===============================================================================
:class:`MarketBrowser`  search and sort the models; a model's card, accuracy history and a contribution form
:class:`ContributePanel` choose a DataFrame, preview the deposit and validation, confirm the contribution
:class:`VerificationQueue` verify submissions, challenge rows as planned; resolve, answer or expire challenges
:class:`AccountCard`    balance, deposits locked, claimable credit, and a Claim button
=====================  ===============================================================================

A panel displays when it is the last expression of a cell; its root widget is ``panel.widget`` and
``panel.refresh()`` reads the chain again. Long actions disable their button and say "working…"; a failure is one
red line in the panel, never a traceback. :func:`panel` makes any of them by name.

>>> from colearn_jupyter import Session                                          # doctest: +SKIP
>>> from colearn_jupyter.widgets import panel                                    # doctest: +SKIP
>>> alice = Session.connect("alice")                                             # doctest: +SKIP
>>> panel("market", alice)                       # the same as MarketBrowser(alice)  # doctest: +SKIP
>>> panel("contribute", alice, model="iris")     # ContributePanel(alice, model="iris")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from ._base import Panel
from .account import AccountCard
from .contribute import ContributePanel
from .market import MarketBrowser
from .verify import VerificationQueue

PANELS: dict[str, type[Panel]] = {
    "market": MarketBrowser,
    "contribute": ContributePanel,
    "verify": VerificationQueue,
    "account": AccountCard,
}


def panel(kind: str, session: Any, **options: Any) -> Panel:
    """A panel by name: ``"market"``, ``"contribute"``, ``"verify"`` or ``"account"``; options go to its class.

    >>> panel("wallet", None)
    Traceback (most recent call last):
    ...
    ValueError: no panel is called 'wallet'; the panels are market, contribute, verify, account
    """
    try:
        cls = PANELS[kind]
    except KeyError:
        raise ValueError(f"no panel is called {kind!r}; the panels are {', '.join(PANELS)}") from None
    return cls(session, **options)


def market_browser(session: Any, **options: Any) -> MarketBrowser:
    """:class:`MarketBrowser` of ``session``."""
    return MarketBrowser(session, **options)


def contribute_panel(session: Any, **options: Any) -> ContributePanel:
    """:class:`ContributePanel` of ``session`` (options: ``namespace``, ``model``, ``account``)."""
    return ContributePanel(session, **options)


def verification_queue(session: Any, **options: Any) -> VerificationQueue:
    """:class:`VerificationQueue` of ``session`` (options: ``account``, ``model``)."""
    return VerificationQueue(session, **options)


def account_card(session: Any, **options: Any) -> AccountCard:
    """:class:`AccountCard` of ``session`` (option: ``account``)."""
    return AccountCard(session, **options)


__all__ = [
    "AccountCard",
    "ContributePanel",
    "MarketBrowser",
    "Panel",
    "VerificationQueue",
    "account_card",
    "contribute_panel",
    "market_browser",
    "panel",
    "verification_queue",
]
