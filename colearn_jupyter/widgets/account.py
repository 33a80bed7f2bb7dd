"""An account at a glance: balance, deposits locked in open submissions, claimable credit, and a Claim button."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from .. import htmlsafe
from ..units import DISPLAY_DECIMALS, format_duration, format_eth
from ._base import MUTED, Panel, account_chooser, acting, attempt, button, guard, heading, themed


class AccountCard(Panel):
    """Address, balance, deposits locked, claimable credit of an account (default: the session's), and Claim.

    Claim calls :meth:`Session.claim`: every settled submission of the account is claimed, then its credit is
    withdrawn to its balance.

    >>> AccountCard(session)                               # doctest: +SKIP
    """

    def __init__(self, session: Any, account: str | None = None):
        super().__init__(session)
        self.values: dict[str, Any] = {}
        self.account = account_chooser(session, account)
        self.card = widgets.HTML()
        self.claim_button = button("Claim", "download", "success", "claim settled submissions and withdraw the credit")
        self.refresh_button = button("Refresh", "refresh", tooltip="read the balances again")
        self.account.observe(lambda _: self.refresh(), names="value")
        self.claim_button.on_click(self._on_claim)
        self.refresh_button.on_click(lambda _: self.refresh())
        self.widget = widgets.VBox(
            [
                heading("Account"),
                widgets.HBox([self.account, self.claim_button, self.refresh_button]),
                self.status.widget,
                self.card,
            ]
        )
        self.refresh()

    @property
    def balance(self) -> int | None:
        """Wei in the account, as of the last refresh."""
        return self.values.get("balance")

    @property
    def locked(self) -> int | None:
        """Wei of deposits in the account's unsettled submissions (rejected rows and forfeited batches excluded)."""
        return self.values.get("locked")

    @property
    def claimable(self) -> int | None:
        """Wei of credit the marketplace holds for the account, ready to withdraw."""
        return self.values.get("claimable")

    def refresh(self) -> None:
        """Read the account's balance, submissions and credit again."""
        self.status.clear()
        self._load()

    def _load(self) -> None:
        found, values = guard(self.status, self._read)
        self.values = values if found else {}
        self.card.value = self._card_html() if found else ""

    def _read(self) -> dict[str, Any]:
        session = acting(self.session, self.account.value)
        account, market = session.account, session.market
        now = session.chain.timestamp()
        mine = session.my_submissions()
        unclaimed = [s for s in mine if not s.settled]  # a forfeited batch is settled: its deposits were burned
        waiting = [s.window_ends_at - now for s in unclaimed if s.window_ends_at > now]
        return {
            "name": account.name,
            "address": account.address,
            "balance": session.chain.balance(account),
            "locked": session.locked_deposits(unclaimed),
            "open submissions": len(unclaimed),
            "challenged": sum(1 for s in unclaimed if s.open_challenges),
            "forfeited": sum(1 for s in mine if s.forfeited),
            "next window ends in": min(waiting) if waiting else None,
            "claimable": market.credit_of(account.address),
        }

    def _card_html(self) -> str:
        v = self.values
        pending = f"{v['open submissions']} unclaimed submission{'s' * (v['open submissions'] != 1)}"
        if v["challenged"]:
            pending += f", {v['challenged']} with open challenges"
        if v["next window ends in"] is not None:
            pending += f"; the next challenge window closes in {format_duration(v['next window ends in'])}"
        if v["forfeited"]:
            pending += f"; {v['forfeited']} forfeited (a demanded row was never produced: deposits burned)"
        eth = {key: format_eth(v[key], DISPLAY_DECIMALS) for key in ("balance", "locked", "claimable")}
        rows = [
            ("account", f"<b>{htmlsafe.text(v['name'])}</b>"),
            ("address", htmlsafe.code(v["address"])),
            ("balance", eth["balance"]),
            ("deposits locked", f"{eth['locked']} <span style='{MUTED}'>({pending})</span>"),
            ("claimable credit", eth["claimable"]),
        ]
        head, cell = "text-align: left; padding-right: 1em", "text-align: left"
        body = "".join(
            f"<tr><th style='{head}'>{htmlsafe.text(k)}</th><td style='{cell}'>{value}</td></tr>" for k, value in rows
        )
        return themed(f"<table>{body}</table>")

    def _on_claim(self, _button: Any = None) -> None:
        if self.claim_button.disabled:
            return
        done, withdrawn = attempt(
            self.status,
            [self.claim_button],
            "claiming settled submissions and withdrawing",
            lambda: acting(self.session, self.account.value).claim(),
        )
        if done:
            self._load()
            if withdrawn:
                paid = format_eth(withdrawn, DISPLAY_DECIMALS)
                self.status.ok(f"withdrew {paid} to {self.values.get('name', 'the account')}")
                self.announce()
            else:
                self.status.info("nothing to withdraw yet: no submission is settled and no credit is waiting")
