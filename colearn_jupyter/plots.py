"""Inline plotly figures of a model's life: accuracy per version, dataset growth, balances over time.

Every function returns a :class:`Figure`, a plotly ``go.Figure`` that displays itself and changes nothing global:
importing this module or showing a figure leaves ``plotly.io.renderers.default`` as it was, so the user's own
figures keep their renderer. A figure's output holds two representations, and no plotly.js:

- ``application/vnd.plotly.v1+json``, the figure as JSON (a few KB), which JupyterLab draws with the plotly.js
  its plotly extension ships (``jupyterlab-plotly``, installed with plotly);
- ``text/html``, a static table of the values drawn (no script, no image), shown where plotly.js is not
  available: an exported HTML notebook, nbviewer, GitHub.

Why not plotly's ``notebook`` renderer: it writes the 4.6 MB plotly.js into the notebook (one plot made a 5.2 MB
notebook), and loading it from a CDN instead fails offline and downloads code at run time. The exported notebook
shows the numbers instead of the chart; ``fig.write_html(path)`` still writes a standalone interactive page.

Axes are made for the few values a model has: versions on integer ticks, accuracy within 0-100 % with distinct
ticks, time spanning at least an hour (a single point is not drawn on a millisecond axis), ETH with the decimals
its ticks need (:func:`colearn_jupyter.units.format_eth`).

>>> from colearn_jupyter import plots
>>> fig = plots.accuracy(owner.history("iris"))       # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from . import htmlsafe
from .units import DISPLAY_DECIMALS, WEI_PER_ETH, format_eth, format_percent

PLOTLY_MIME = "application/vnd.plotly.v1+json"
_LAYOUT = {"height": 360, "margin": {"l": 70, "r": 20, "t": 50, "b": 50}, "hovermode": "x unified"}
_TICKS = 5  # about as many ticks on a value axis
_MIN_TIME_SPAN = pd.Timedelta(hours=1)
_FALLBACK_ROWS = 50  # rows of the static table at most
_TIME = "%Y-%m-%d %H:%M UTC"


class Figure(go.Figure):
    """A plotly figure that displays as plotly's JSON with a static HTML table for exported notebooks.

    ``fig.summary`` is that table (a DataFrame of display strings), given by the function that drew the figure.
    """

    def __init__(self, *args: Any, summary: pd.DataFrame | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._summary = summary

    @property
    def summary(self) -> pd.DataFrame:
        """The values drawn, as display strings (the fallback table)."""
        return self._summary if self._summary is not None else _trace_table(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, Any]:
        return mimebundle(self)

    def _repr_html_(self) -> str:
        return fallback_html(self)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(mimebundle(self), raw=True)


def mimebundle(figure: go.Figure) -> dict[str, Any]:
    """What a notebook stores for ``figure``: its plotly JSON, a static HTML table and a line of text."""
    title = figure.layout.title.text or "plotly figure"
    return {
        PLOTLY_MIME: json.loads(figure.to_json()),
        "text/html": fallback_html(figure),
        "text/plain": f"<{title}: {len(figure.data)} trace{'s' * (len(figure.data) != 1)}>",
    }


def fallback_html(figure: go.Figure) -> str:
    """The static table shown where plotly.js is not available: the title and the values drawn (escaped)."""
    summary = figure.summary if isinstance(figure, Figure) else _trace_table(figure)
    title = figure.layout.title.text or "plotly figure"
    more = len(summary) - _FALLBACK_ROWS
    note = f"; the first {_FALLBACK_ROWS} of {len(summary)} rows" if more > 0 else ""
    return (
        f"<div class='colearn-figure'><b>{htmlsafe.text(title)}</b>"
        f"<div><small>an interactive chart in JupyterLab; its values{note}:</small></div>"
        f"{htmlsafe.frame(summary.head(_FALLBACK_ROWS), index=False)}</div>"
    )


def _trace_table(figure: go.Figure) -> pd.DataFrame:
    """The points of every trace (for a figure drawn by someone else)."""
    rows = [
        {"trace": trace.name or "", "x": str(x), "y": str(y)}
        for trace in figure.data
        for x, y in zip(trace.x if trace.x is not None else (), trace.y if trace.y is not None else (), strict=False)
    ]
    return pd.DataFrame(rows, columns=["trace", "x", "y"])


# ---------------------------------------------------------------------------------------------------- figures
def accuracy(history: pd.DataFrame, *, title: str = "Accuracy on the hidden test set per version") -> Figure:
    """Accuracy per version (x: version, on integer ticks), from :meth:`Session.history`."""
    frame = history.reset_index()
    versions = [int(v) for v in frame["version"]]
    shares = [float(a) for a in frame["accuracy"]]
    published = [_utc(t).strftime(_TIME) for t in frame["published"]]
    hover = [
        f"v{v}: {format_percent(a)}<br>rows accepted {int(rows):,}<br>published {when}"
        for v, a, rows, when in zip(versions, shares, frame["rows accepted"], published, strict=True)
    ]
    fig = Figure(
        go.Scatter(
            x=versions,
            y=shares,
            mode="lines+markers",
            name="accuracy",
            text=hover,
            hovertemplate="%{text}<extra></extra>",
            cliponaxis=False,
        ),
        summary=pd.DataFrame(
            {
                "version": [f"v{v}" for v in versions],
                "accuracy": [format_percent(a) for a in shares],
                "rows accepted": [f"{int(r):,}" for r in frame["rows accepted"]],
                "published": published,
            }
        ),
    )
    fig.update_layout(title=title, xaxis=version_axis(versions), yaxis=percent_axis(shares), **_LAYOUT)
    return fig


def growth(frame: pd.DataFrame, *, title: str = "Dataset growth") -> Figure:
    """Rows submitted and accepted over time, from :meth:`Session.growth`."""
    times = [_utc(t) for t in frame["time"]]
    columns = ("rows submitted", "rows accepted")
    fig = Figure(
        summary=pd.DataFrame(
            {"time": [t.strftime(_TIME) for t in times], **{c: [f"{int(n):,}" for n in frame[c]] for c in columns}}
        )
    )
    for column in columns:
        fig.add_trace(
            go.Scatter(x=times, y=frame[column], mode="lines+markers", line_shape="hv", name=column, cliponaxis=False)
        )
    counts = [float(n) for column in columns for n in frame[column]]
    fig.update_layout(title=title, xaxis=time_axis(times), yaxis=count_axis(counts, "rows"), **_LAYOUT)
    return fig


def balances(frame: pd.DataFrame, *, title: str = "Balances over time") -> Figure:
    """Each account's balance (ETH) after every recorded transaction, from :meth:`Session.balances`."""
    fig = Figure(summary=_balance_summary(frame))
    for account, rows in frame.groupby("account", sort=True):
        times = [_utc(t) for t in rows["time"]]
        text = [f"{account}: {format_eth(_wei(b), DISPLAY_DECIMALS)}" for b in rows["balance (ETH)"]]
        fig.add_trace(
            go.Scatter(
                x=times,
                y=rows["balance (ETH)"],
                mode="lines+markers",
                name=str(account),
                text=text,
                hovertemplate="%{text}<extra></extra>",
                cliponaxis=False,
            )
        )
    times = [_utc(t) for t in frame["time"]]
    fig.update_layout(title=title, xaxis=time_axis(times), yaxis=eth_axis(list(frame["balance (ETH)"])), **_LAYOUT)
    return fig


def _balance_summary(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for account, group in frame.groupby("account", sort=True):
        first, last = group["balance (ETH)"].iloc[0], group["balance (ETH)"].iloc[-1]
        rows.append(
            {
                "account": str(account),
                "records": f"{len(group):,}",
                "first": format_eth(_wei(first), DISPLAY_DECIMALS),
                "last": format_eth(_wei(last), DISPLAY_DECIMALS),
                "since": _utc(group["time"].iloc[0]).strftime(_TIME),
            }
        )
    return pd.DataFrame(rows, columns=["account", "records", "first", "last", "since"])


# ---------------------------------------------------------------------------------------------------- axes
def version_axis(versions: list[int]) -> dict[str, Any]:
    """An x axis of version numbers: integer ticks (``v1``, ``v2``…), half a version of room on either side."""
    low, high = (min(versions), max(versions)) if versions else (1, 1)
    step = max(1, round(_nice_step((high - low) / 8)))  # every version up to 8 or so, then every 2nd, 5th…
    ticks = [v for v in range(low, high + 1) if v % step == 0] if step > 1 else list(range(low, high + 1))
    return {"title": "version", "range": [low - 0.5, high + 0.5], "tickmode": "array", "tickvals": ticks,
            "ticktext": [f"v{t}" for t in ticks], "zeroline": False}  # fmt: skip


def percent_axis(shares: list[float]) -> dict[str, Any]:
    """A y axis of shares within 0-100 %, reaching down below the lowest value, with distinct percent ticks."""
    values = [s for s in shares if not math.isnan(s)] or [0.0, 1.0]
    low = max(0.0, min(values) - max(0.05, (max(values) - min(values)) * 0.1))
    ticks, step = _ticks(low, 1.0)
    ticks = [t for t in ticks if 0.0 <= t <= 1.0]
    decimals = _decimals(step * 100)
    return {"title": "accuracy", "range": [ticks[0], 1.0], "tickmode": "array", "tickvals": ticks,
            "ticktext": [format_percent(t, decimals) for t in ticks], "zeroline": False}  # fmt: skip


def count_axis(counts: list[float], title: str) -> dict[str, Any]:
    """A y axis of counts from zero, on whole-number ticks."""
    ticks, _ = _ticks(0.0, max([*counts, 1.0]), integer=True)
    return {"title": title, "range": [0, ticks[-1] * 1.05], "tickmode": "array", "tickvals": ticks,
            "ticktext": [f"{int(t):,}" for t in ticks]}  # fmt: skip


def eth_axis(amounts: list[float], title: str = "ETH") -> dict[str, Any]:
    """A y axis of ether amounts with the decimals its ticks need (never ``9.9998k``)."""
    values = [float(a) for a in amounts if not math.isnan(float(a))] or [0.0]
    low, high = min(values), max(values)
    if high - low < 1e-9:  # one value: a little room around it
        room = max(abs(high) * 1e-4, 1e-6)
        low, high = low - room, high + room
    ticks, step = _ticks(low, high)
    decimals = _decimals(step)
    return {"title": title, "range": [ticks[0], ticks[-1]], "tickmode": "array", "tickvals": ticks,
            "ticktext": [format_eth(_wei(t), decimals, unit="") for t in ticks]}  # fmt: skip


def time_axis(times: list[pd.Timestamp], title: str = "chain time (UTC)") -> dict[str, Any]:
    """An x axis of chain times spanning at least an hour (one point is centred, not drawn on milliseconds)."""
    if not times:
        return {"title": title, "type": "date"}
    low, high = min(times), max(times)
    room = max((high - low) * 0.05, (_MIN_TIME_SPAN - (high - low)) / 2, pd.Timedelta(minutes=1))
    return {"title": title, "type": "date", "range": [low - room, high + room], "hoverformat": "%Y-%m-%d %H:%M:%S"}


def _ticks(low: float, high: float, *, integer: bool = False) -> tuple[list[float], float]:
    """About :data:`_TICKS` round ticks (1, 2 or 5 times a power of ten apart) covering ``low``-``high``."""
    step = _nice_step((high - low) / _TICKS) if high > low else 1.0
    if integer:
        step = max(1.0, round(step))
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [round(k * step, 12) for k in range(first, last + 1)], step


def _nice_step(rough: float) -> float:
    if rough <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= rough * (1 - 1e-9))


def _decimals(step: float) -> int:
    """Decimals that tell ticks ``step`` apart."""
    return max(0, -math.floor(round(math.log10(step), 9)))


def _wei(eth: float) -> int:
    return round(float(eth) * WEI_PER_ETH)


def _utc(stamp: Any) -> pd.Timestamp:
    """A timestamp in UTC without its zone (plotly.js draws dates as written)."""
    value = pd.Timestamp(stamp)
    return value.tz_convert("UTC").tz_localize(None) if value.tzinfo is not None else value


__all__ = ["Figure", "accuracy", "balances", "fallback_html", "growth", "mimebundle"]
