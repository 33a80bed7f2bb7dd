"""Browse the marketplace: search, sort, pick a model, see its card and accuracy history, contribute to it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import pandas as pd

from .. import plots
from ..units import DISPLAY_DECIMALS, WEI_PER_ETH, format_eth, format_percent
from ._base import Panel, button, guard, heading, html_table, set_options, short, show_figure, table_box, themed
from .contribute import ContributePanel

SORTS = {"name": "name", "accuracy": "accuracy", "rows accepted": "rows accepted", "rows pending": "rows pending",
         "newest": "id"}  # fmt: skip


class MarketBrowser(Panel):
    """The models of the marketplace (:meth:`Session.market_table`), searchable and sortable.

    Choosing a model in ``models`` shows its card, its accuracy per version and a :class:`ContributePanel`
    preset to it.

    >>> MarketBrowser(session)                             # doctest: +SKIP
    """

    def __init__(self, session: Any, *, namespace: Mapping[str, Any] | None = None):
        super().__init__(session)
        self.table_frame = pd.DataFrame()  # Session.market_table() as of the last refresh
        self.search = widgets.Text(description="search", placeholder="part of a model's name")
        self.sort = widgets.Dropdown(description="sort by", options=list(SORTS), value="newest")
        self.ascending = widgets.ToggleButton(value=False, description="ascending", icon="sort-amount-asc",
                                              tooltip="sort in ascending order")  # fmt: skip
        self.refresh_button = button("Refresh", "refresh", tooltip="read the marketplace again")
        self.table = table_box()
        self.models = widgets.Dropdown(description="model", options=[], value=None)
        self.card = widgets.HTML()
        self.history = widgets.Output()
        self.contribute = ContributePanel(session, namespace=namespace, on_submitted=self._submitted)
        self.details = widgets.VBox([self.card, self.history, self.contribute.widget])
        self.details.layout.display = "none"
        for control in (self.search, self.sort, self.ascending):
            control.observe(self._render, names="value")
        self.models.observe(self._selected, names="value")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.widget = widgets.VBox(
            [
                heading("colearn marketplace"),
                widgets.HBox([self.search, self.sort, self.ascending, self.refresh_button]),
                self.status.widget,
                self.table,
                self.models,
                self.details,
            ]
        )
        self.refresh()

    def parts(self) -> list[Panel]:
        return [self, self.contribute]

    def refresh(self) -> None:
        """Read the models again, and the chosen model's card, history and contribution form."""
        self.status.clear()
        self.contribute.refresh()
        self._reload()

    def _reload(self) -> None:
        found, table = guard(self.status, self.session.market_table)
        if found:
            self.table_frame = table
        self._render()
        self._selected()

    def _submitted(self, _submission: Any) -> None:
        self._reload()  # rows pending and the reward pool changed; the contribution form keeps its result

    def select(self, model_id: int | None) -> None:
        """Choose a model, as picking it in the ``models`` dropdown does."""
        self.models.value = model_id

    def shown(self) -> pd.DataFrame:
        """The rows of :meth:`Session.market_table` that the search keeps, in the chosen order."""
        frame = self.table_frame
        if frame.empty:
            return frame
        needle = self.search.value.strip().lower()
        frame = frame[frame["name"].str.lower().str.contains(needle, regex=False)] if needle else frame
        key = SORTS[self.sort.value]
        if key == "id":
            return frame.sort_index(ascending=self.ascending.value)
        return frame.sort_values(key, ascending=self.ascending.value, na_position="last", kind="stable")

    def _render(self, _change: Any = None) -> None:
        frame = self.shown()
        keep = self.models.value
        with self.quietly():
            set_options(self.models, [(f"#{i} {name}", i) for i, name in frame["name"].items()] if len(frame) else [],
                        keep)  # fmt: skip
        self.table.value = html_table(_display(frame), highlight=lambda i: i == self.models.value)
        if self.models.value != keep:
            self._selected()

    def _selected(self, _change: Any = None) -> None:
        if self._quiet:
            return
        model_id = self.models.value
        self.table.value = html_table(_display(self.shown()), highlight=lambda i: i == model_id)
        if model_id is None:
            self.details.layout.display = "none"
            self.card.value, self.history.outputs = "", ()
            return
        self.details.layout.display = None
        self.status.clear()
        found, card = guard(self.status, lambda: self.session.model(model_id))
        self.card.value = themed(card._repr_html_()) if found else ""
        found, history = guard(self.status, lambda: self.session.history(model_id))
        if found:
            show_figure(self.history, plots.accuracy(history))
        else:
            self.history.outputs = ()
        self.contribute.model = model_id


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    """Market table values as people read them (the percentages and ether amounts of ``%colearn market``)."""
    if frame.empty:
        return frame
    shown = frame.copy()
    shown["accuracy"] = shown["accuracy"].map(format_percent)
    shown["owner"] = shown["owner"].map(short)
    for column in ("deposit (ETH)", "reward (ETH)"):
        shown[column] = shown[column].map(lambda eth: format_eth(round(eth * WEI_PER_ETH), DISPLAY_DECIMALS, unit=""))
    return shown[["name", "accuracy", "versions", "rows accepted", "rows pending", "deposit (ETH)", "reward (ETH)",
                  "window", "owner"]]  # fmt: skip
