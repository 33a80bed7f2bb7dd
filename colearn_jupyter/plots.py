"""Inline plotly figures of a model's life: accuracy per version, dataset growth, balances over time.

The figures use plotly's default template, whose transparent-friendly colours read on JupyterLab's light and dark
themes. They render in JupyterLab and, because the figure's output also carries HTML with plotly.js, in an
exported HTML notebook too.

>>> from colearn_jupyter import plots
>>> fig = plots.accuracy(owner.history("iris"))       # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

# In a kernel plotly defaults to its MIME type alone, which JupyterLab renders but an exported HTML notebook does
# not. Adding the "notebook" renderer also writes plotly.js (once) and an HTML version of each figure.
if pio.renderers.default == "plotly_mimetype":
    pio.renderers.default = "plotly_mimetype+notebook"

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
