"""What every panel shares: the display protocol, the status line, long actions, accounts, tables and figures.

Colours come from JupyterLab's CSS variables only, so the panels read well in light and dark themes. Buttons are
as wide as their text and tables scroll sideways rather than cut columns off. After an action that changes the
chain (in a panel, or a ``%colearn`` magic), every panel shown in the notebook reads the chain again
(:func:`refresh_panels`), so an account card is never stale after a contribution made elsewhere.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import ipywidgets as widgets
import pandas as pd

from .. import htmlsafe
from ..accounts import DEVNET_NAMES
from ..errors import ColearnError

T = TypeVar("T")
log = logging.getLogger("colearn_jupyter.widgets")

TEXT = "color: var(--jp-ui-font-color1); font-family: var(--jp-ui-font-family); font-size: var(--jp-ui-font-size1)"
MUTED = "color: var(--jp-ui-font-color2)"
ERROR = "color: var(--jp-error-color1)"
SUCCESS = "color: var(--jp-success-color1)"
WARN = "color: var(--jp-warn-color1)"
_CELL = "padding: 2px 8px; border-bottom: 1px solid var(--jp-border-color2); text-align: right; white-space: nowrap"
_HIGHLIGHT = "background: var(--jp-layout-color2)"


_PANELS: weakref.WeakSet[Panel] = weakref.WeakSet()  # every panel made in this process


class Panel:
    """A panel over a :class:`~colearn_jupyter.session.Session`; displays as its root widget ``.widget``."""

    def __init__(self, session: Any):
        self.session = session
        self.status = StatusLine()
        self._quiet = False
        _PANELS.add(self)

    @property
    def widget(self) -> widgets.Widget:
        """The root widget, which the front end tells the number of its views (see :attr:`on_screen`)."""
        return self._widget

    @widget.setter
    def widget(self, root: widgets.Widget) -> None:
        if root._view_count is None:
            root._view_count = 0  # ipywidgets counts views only when asked to
        self._widget = root

    @property
    def on_screen(self) -> bool:
        """Whether the notebook shows the panel now (in some cell's output)."""
        return bool(getattr(getattr(self, "_widget", None), "_view_count", 0))

    def parts(self) -> list[Panel]:
        """This panel and the panels inside it (which it refreshes itself)."""
        return [self]

    def announce(self) -> None:
        """This panel changed the chain: every other panel shown reads it again (see :func:`refresh_panels`)."""
        refresh_panels(source=self)

    @contextmanager
    def quietly(self) -> Iterator[None]:
        """Change widgets without running the panel's own observers (they check ``self._quiet``)."""
        quiet, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = quiet

    def refresh(self) -> None:  # pragma: no cover - every panel overrides it
        raise NotImplementedError

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.session!r})"


class StatusLine:
    """A one-line ``HTML`` label: empty, "working…", a success, or an error in the theme's error colour."""

    def __init__(self) -> None:
        self.widget = widgets.HTML()
        self.kind = ""  # "", "working", "ok", "info" or "error"
        self.text = ""

    def _show(self, kind: str, text: str, style: str, prefix: str = "") -> None:
        self.kind, self.text = kind, text
        self.widget.value = (
            f"<span style='{style}' title='{htmlsafe.text(text)}'>{prefix}{htmlsafe.text(text)}</span>" if text else ""
        )

    def clear(self) -> None:
        self._show("", "", TEXT)

    def working(self, what: str) -> None:
        self._show("working", f"working… {what}", MUTED, "⏳ ")

    def ok(self, text: str) -> None:
        self._show("ok", text, SUCCESS, "✔ ")

    def info(self, text: str) -> None:
        self._show("info", text, MUTED)

    def error(self, error: BaseException | str) -> None:
        text = str(error).strip() or type(error).__name__
        self._show("error", text.splitlines()[0], ERROR, "✘ ")


def refresh_panels(source: Panel | None = None) -> None:
    """Read the chain again in every panel the notebook shows, after an action changed it.

    The panel that acted (``source``), the panels inside it and the panel holding it are left alone: they show
    the action's outcome and update themselves. A panel that fails to refresh shows the failure in its status line.
    """
    skip = set(source.parts()) if source is not None else set()
    skip |= {panel for panel in list(_PANELS) if source is not None and source in panel.parts()}
    shown = [panel for panel in list(_PANELS) if panel not in skip and panel.on_screen]
    inner = {part for panel in shown for part in panel.parts()[1:]}  # refreshed by the panel holding them
    for panel in shown:
        if panel not in inner:
            guard(panel.status, panel.refresh)


def guard(status: StatusLine, action: Callable[[], T]) -> tuple[bool, T | None]:
    """Run ``action``; a failure becomes one red line in ``status`` (never a traceback in the notebook)."""
    try:
        return True, action()
    except ColearnError as error:
        status.error(error)
    except Exception as error:  # a bug or an unwrapped library error: one line here, the traceback in the debug log
        log.debug("colearn panel action failed", exc_info=True)
        status.error(f"unexpected {type(error).__name__}: {error}")
    return False, None


def attempt(
    status: StatusLine, buttons: Sequence[widgets.Button], what: str, action: Callable[[], T]
) -> tuple[bool, T | None]:
    """A long action: its buttons disabled and "working…" shown while it runs, then :func:`guard`'s outcome.

    The buttons are re-enabled afterwards; callers then set them from their own state.
    """
    for button in buttons:
        button.disabled = True
    status.working(what)
    try:
        done, result = guard(status, action)
    finally:
        for button in buttons:
            button.disabled = False
    if done:
        status.clear()
    return done, result


def account_chooser(session: Any, default: str | None = None, description: str = "account") -> widgets.ValueWidget:
    """A ``Dropdown`` of the devnet's named accounts and students, or a ``Text`` (``env`` or a keystore path) on
    other chains. The account asked for (``default``, else the session's own) is the one chosen."""
    own = session.account.name
    if session.chain.is_devnet:
        from ..classroom import read_roster

        names = list(DEVNET_NAMES) + sorted((read_roster(session.chain.home) or {}).get("students", {}))
        for extra in (own, default):  # an account asked for is offered as it is, never swapped for another
            if extra and extra not in names:
                names.append(extra)
        value = default or own
        return widgets.Dropdown(options=names, value=value, description=description)
    return widgets.Text(
        value=own, description=description, placeholder="env or a keystore path", continuous_update=False
    )


def acting(session: Any, name: str) -> Any:
    """The session itself, or the same session acting as the account named in a chooser."""
    name = (name or "").strip()
    return session if not name or name == session.account.name else session.as_account(name)


def set_options(choice: widgets.Dropdown | widgets.Select, options: list[tuple[str, Any]], keep: Any) -> None:
    """Replace a chooser's options, keeping its value when it is still offered (else no selection)."""
    values = [value for _, value in options]
    choice.options = options
    choice.value = keep if keep in values else None


def short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}" if address and len(address) > 12 else address


def html_table(
    frame: pd.DataFrame, *, highlight: Callable[[Any], bool] | None = None, max_height: str = "320px"
) -> str:
    """A DataFrame of display strings as a themed, scrollable HTML table (index first)."""
    if frame.empty:
        return f"<div style='{MUTED}'>nothing to show</div>"
    head_style = f"{_CELL}; position: sticky; top: 0; background: var(--jp-layout-color1)"
    names = [frame.index.name or "", *map(str, frame.columns)]
    head = "".join(f"<th style='{head_style}'>{htmlsafe.text(name)}</th>" for name in names)
    body = []
    for key, row in frame.iterrows():
        style = f" style='{_HIGHLIGHT}'" if highlight and highlight(key) else ""
        cells = "".join(f"<td style='{_CELL}'>{htmlsafe.text(value)}</td>" for value in (key, *row.tolist()))
        body.append(f"<tr{style}>{cells}</tr>")
    return (
        f"<div style='max-height: {max_height}; max-width: 100%; overflow: auto; {TEXT}'>"
        f"<table style='border-collapse: collapse'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def table_box() -> widgets.HTML:
    """An ``HTML`` widget for a wide table: as wide as the panel, scrolling sideways instead of cutting columns."""
    return widgets.HTML(layout=widgets.Layout(width="100%", overflow="auto"))


def themed(html: str) -> str:
    """Wrap an HTML snippet (e.g. a ``_repr_html_``, built with :mod:`colearn_jupyter.htmlsafe`) in the theme's text
    colour and font."""
    return f"<div style='{TEXT}'>{html}</div>"


def heading(text: str) -> widgets.HTML:
    """A panel's title: ``text`` is plain text (escaped here)."""
    return widgets.HTML(
        f"<div style='{TEXT}; font-weight: bold; font-size: var(--jp-ui-font-size2)'>{htmlsafe.text(text)}</div>"
    )


def show_figure(output: widgets.Output, figure: Any) -> None:
    """Put a plotly figure into an ``Output`` widget: plotly's JSON (JupyterLab) with a static table as the
    fallback, no plotly.js (:func:`colearn_jupyter.plots.mimebundle`)."""
    from ..plots import mimebundle

    output.outputs = ({"output_type": "display_data", "data": mimebundle(figure), "metadata": {}},)


def button(description: str, icon: str = "", style: str = "", tooltip: str = "") -> widgets.Button:
    """A button as wide as its text (ipywidgets' fixed width cut "Confirm contribution" to "Confirm contri…")."""
    return widgets.Button(description=description, icon=icon, button_style=style, tooltip=tooltip or description,
                          layout=widgets.Layout(width="auto", min_width="fit-content", flex="0 0 auto"))  # fmt: skip


def ids(values: Iterable[int]) -> str:
    return ", ".join(f"#{value}" for value in values)
