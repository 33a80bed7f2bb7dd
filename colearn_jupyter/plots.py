"""Inline plotly figures of a model's life: accuracy per version, dataset growth, balances over time.

The figures follow the notebook's theme (``plotly_white`` in light themes; JupyterLab's dark theme is detected by
plotly's own template handling when ``template=None``). They render in JupyterLab and, because the figure's
HTML carries plotly.js, in an exported HTML notebook too.

>>> from colearn_jupyter import plots
>>> fig = plots.accuracy(owner.history("iris"))       # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

_LAYOUT = {"height": 360, "margin": {"l": 50, "r": 20, "t": 50, "b": 40}, "hovermode": "x unified"}


def accuracy(history: pd.DataFrame, *, title: str = "Accuracy on the hidden test set per version") -> go.Figure:
    """Accuracy per version (x: publication time), from :meth:`Session.history`."""
    frame = history.reset_index()
    fig = go.Figure(
        go.Scatter(
            x=frame["published"],
            y=frame["accuracy"],
            mode="lines+markers+text",
            text=[f"v{v}" for v in frame["version"]],
            textposition="top center",
            customdata=frame[["rows accepted"]],
            hovertemplate="accuracy %{y:.1%}<br>rows accepted %{customdata[0]}<extra></extra>",
            name="accuracy",
        )
    )
    fig.update_layout(title=title, yaxis={"tickformat": ".0%", "title": "accuracy"}, xaxis_title="published", **_LAYOUT)
    return fig


def growth(frame: pd.DataFrame, *, title: str = "Dataset growth") -> go.Figure:
    """Rows submitted and accepted over time, from :meth:`Session.growth`."""
    fig = go.Figure()
    for column in ("rows submitted", "rows accepted"):
        fig.add_trace(go.Scatter(x=frame["time"], y=frame[column], mode="lines+markers", line_shape="hv", name=column))
    fig.update_layout(title=title, yaxis_title="rows", xaxis_title="chain time", **_LAYOUT)
    return fig


def balances(frame: pd.DataFrame, *, title: str = "Balances over time") -> go.Figure:
    """Each account's balance (ETH) after every recorded transaction, from :meth:`Session.balances`."""
    fig = go.Figure()
    for account, rows in frame.groupby("account", sort=True):
        fig.add_trace(go.Scatter(x=rows["time"], y=rows["balance (ETH)"], mode="lines+markers", name=str(account)))
    fig.update_layout(title=title, yaxis_title="ETH", xaxis_title="chain time", **_LAYOUT)
    return fig
