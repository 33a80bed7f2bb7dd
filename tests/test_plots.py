"""The plotly figures: nothing global changes, no plotly.js in the notebook, axes that read well for one or many
versions, ETH and percentages formatted as everywhere else. No devnet needed: the figures take plain frames."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import plotly.graph_objects as go
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.display import display
from IPython.utils.capture import capture_output

from colearn_jupyter import plots
from colearn_jupyter.units import DISPLAY_DECIMALS, format_eth, format_percent

T0 = 1_750_000_000  # a chain timestamp


def _history(accuracies: list[float], *, gap: int = 3600) -> pd.DataFrame:
    """A frame shaped like Session.history: one row per version."""
    count = len(accuracies)
    return pd.DataFrame(
        {
            "version": range(1, count + 1),
            "parent": [0, *range(1, count)],
            "accuracy": accuracies,
            "rows accepted": [40 * i for i in range(count)],
            "published": pd.to_datetime([T0 + gap * i for i in range(count)], unit="s", utc=True),
            "model CID": ["bafkreidivzimqfqtoqxkrpge6bjyhlvxqs3rhe73owtmdulaxr5do5in7u"] * count,
        }
    ).set_index("version")


def _balances(values: dict[str, list[float]]) -> pd.DataFrame:
    records = [
        {"time": pd.Timestamp(T0 + 60 * i, unit="s", tz="UTC"), "account": name, "balance (ETH)": v,
         "claimable (ETH)": 0.0}
        for name, series in values.items()
        for i, v in enumerate(series)
    ]  # fmt: skip
    return pd.DataFrame.from_records(records)


def _distinct(labels) -> bool:
    return len(set(labels)) == len(labels)


_RENDERER_CHECK = """
import json, sys
import plotly.io as pio
import plotly.graph_objects as go
pio.renderers.default = "plotly_mimetype"  # what plotly chooses in a kernel
import pandas as pd
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from colearn_jupyter import plots
after_import = pio.renderers.default
history = pd.DataFrame({"version": [1], "accuracy": [0.9], "rows accepted": [0],
                        "published": pd.to_datetime([1750000000], unit="s", utc=True)}).set_index("version")
shell = InteractiveShell.instance()
shell.user_ns["fig"] = plots.accuracy(history)
shell.user_ns["mine"] = go.Figure(go.Bar(y=[1, 2]))
with capture_output() as ours:
    shell.run_cell("fig")
after_show = pio.renderers.default
with capture_output() as theirs:
    shell.run_cell("mine")
print(json.dumps({"after_import": after_import, "after_show": after_show,
                  "ours": [sorted(o.data) for o in ours.outputs], "theirs": [sorted(o.data) for o in theirs.outputs],
                  "plotly_js": "plotly.js" in json.dumps([o.data for o in ours.outputs])}))
"""


def test_nothing_global_changes_and_the_users_figures_keep_their_renderer():
    done = subprocess.run([sys.executable, "-c", _RENDERER_CHECK], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["after_import"] == result["after_show"] == "plotly_mimetype"
    assert result["ours"] == [sorted([plots.PLOTLY_MIME, "text/html", "text/plain"])]
    assert result["theirs"] == [["application/vnd.plotly.v1+json"]]  # plotly's own renderer, untouched
    assert not result["plotly_js"]


def test_the_bundle_holds_plotly_json_and_a_small_static_table_without_plotly_js():
    fig = plots.accuracy(_history([0.9, 0.9667, 1.0, 0.9967, 1.0]))
    bundle = fig._repr_mimebundle_()
    assert set(bundle) == {plots.PLOTLY_MIME, "text/html", "text/plain"}
    size = len(json.dumps(bundle))
    assert size < 50_000, size
    assert bundle[plots.PLOTLY_MIME]["data"][0]["y"] == [0.9, 0.9667, 1.0, 0.9967, 1.0]
    html = bundle["text/html"]
    assert "<script" not in html and "<img" not in html and "<svg" not in html and "cdn" not in html.lower()
    for shown in ("v1", "v5", "96.7%", "100.0%", "Accuracy on the hidden test set per version"):
        assert shown in html, shown
    # through IPython's display, as a notebook stores it
    InteractiveShell.instance()
    with capture_output() as captured:
        display(fig)
    (output,) = captured.outputs
    assert set(output.data) == set(bundle) and "plotly.js" not in json.dumps(output.data)
    assert isinstance(fig, go.Figure) and fig._repr_html_() == html


def test_widget_figures_use_the_same_bundle():
    from ipywidgets import Output

    from colearn_jupyter.widgets._base import show_figure

    output = Output()
    show_figure(output, plots.accuracy(_history([0.8, 0.85])))
    (shown,) = output.outputs
    assert set(shown["data"]) == {plots.PLOTLY_MIME, "text/html", "text/plain"}
    assert "<script" not in shown["data"]["text/html"]


@pytest.mark.parametrize(
    "accuracies",
    [[1.0], [0.9], [0.9967, 1.0], [1.0, 1.0, 1.0], [0.5, 0.99], [0.05, 0.3], [0.0, 1.0],
     [0.91 + i / 1000 for i in range(76)]],
)  # fmt: skip
def test_accuracy_axes_are_bounded_with_distinct_ticks(accuracies):
    fig = plots.accuracy(_history(accuracies))
    y, x = fig.layout.yaxis, fig.layout.xaxis
    low, high = y.range
    assert 0.0 <= low < high == 1.0 and low <= min(accuracies)
    assert all(0.0 <= t <= 1.0 for t in y.tickvals) and _distinct(y.ticktext) and len(y.ticktext) >= 3
    assert all(re.fullmatch(r"\d{1,3}(\.\d)?%", t) for t in y.ticktext), y.ticktext
    # versions on whole-number ticks, labelled v1, v2, ...; one version is not stretched over a time axis
    assert all(float(t).is_integer() for t in x.tickvals) and _distinct(x.ticktext)
    assert all(text == f"v{int(t)}" for t, text in zip(x.tickvals, x.ticktext, strict=True))
    assert x.range == (0.5, len(accuracies) + 0.5)
    assert len(x.tickvals) <= 20


def test_a_single_point_gets_an_hour_of_time_axis_and_whole_row_ticks():
    growth = pd.DataFrame(
        {"time": [pd.Timestamp(T0, unit="s", tz="UTC")], "rows submitted": [15], "rows accepted": [0]}
    )
    fig = plots.growth(growth)
    low, high = (pd.Timestamp(t) for t in fig.layout.xaxis.range)
    assert pd.Timedelta(hours=1) <= high - low <= pd.Timedelta(hours=2)
    assert low < pd.Timestamp(T0, unit="s") < high and fig.layout.xaxis.type == "date"
    assert all(float(t).is_integer() for t in fig.layout.yaxis.tickvals) and _distinct(fig.layout.yaxis.ticktext)
    assert fig.layout.yaxis.range[0] == 0 and fig.layout.yaxis.range[1] >= 15
    assert list(fig.summary.columns) == ["time", "rows submitted", "rows accepted"]


@pytest.mark.parametrize(
    "values",
    [
        {"alice": [9999.9998, 9999.85, 9999.9], "bob": [10000.0]},
        {"owner": [10000.0]},
        {"owner": [8999.123456789, 9000.0], "alice": [10000.0, 9998.2]},
        {"dave": [0.000123, 0.00013]},
    ],
)
def test_balances_are_ether_with_sensible_precision(values):
    fig = plots.balances(_balances(values))
    y = fig.layout.yaxis
    assert _distinct(y.ticktext) and len(y.ticktext) >= 3
    assert not any(t.endswith(("k", "m", "µ")) for t in y.ticktext), y.ticktext  # never 9.9998k
    assert all(len(t.split(".")[1]) <= 9 for t in y.ticktext if "." in t)
    flat = [v for series in values.values() for v in series]
    assert y.range[0] <= min(flat) and y.range[1] >= max(flat)
    hover = [text for trace in fig.data for text in trace.text]
    assert all(text.endswith(" ETH") and not re.search(r"\.\d{7,}", text) for text in hover), hover
    assert {trace.name for trace in fig.data} == set(values)


def test_eth_and_percent_formats():
    assert format_eth(10**16) == "0.01 ETH"  # terms stay exact
    assert format_eth(9_998_123_456_789_012_345_678, DISPLAY_DECIMALS) == "9,998.123457 ETH"
    assert format_eth(123_456_789_012_345_678_901_234_567_890, DISPLAY_DECIMALS) == "123,456,789,012.345679 ETH"
    assert format_eth(1_234_550_000_000_000, 5) == "0.00123 ETH"  # half up, as the sidebar rounds
    assert format_eth(999_999_999_999_999_999, 6) == "1 ETH"
    assert format_eth(1, 6) == "< 0.000001 ETH" and format_eth(0, 6) == "0 ETH"
    assert format_percent(0.96666) == "96.7%" and format_percent(float("nan")) == "n/a"


def test_eth_amounts_beyond_28_digits_are_exact():
    """Amounts a stranger's terms can make (a uint96 deposit per row times a batch's rows, a uint256 read from the
    chain) have more than Decimal's default 28 digits: they were shown rounded (``…985,000,000…``) and, with
    decimals, raised ``decimal.InvalidOperation`` instead of giving text."""
    largest = 2**256 - 1
    exact = f"{largest // 10**18:,}.{largest % 10**18:018d}"
    assert format_eth(largest) == f"{exact} ETH"
    assert format_eth(largest, DISPLAY_DECIMALS) == f"{exact[:-13]}8 ETH"  # ...457.584007|913...: rounded up
    assert format_eth(10**40, DISPLAY_DECIMALS) == "10,000,000,000,000,000,000,000 ETH"
    assert format_eth(-(10**40) - 5 * 10**11, DISPLAY_DECIMALS) == "-10,000,000,000,000,000,000,000.000001 ETH"


def test_the_static_table_escapes_names():
    payload = "<img src=x onerror=alert(1)>"
    fig = plots.balances(_balances({payload: [1.0, 2.0]}))
    html = plots.fallback_html(fig)
    assert payload not in html and "&lt;img" in html


def test_a_figure_made_elsewhere_gets_a_table_of_its_points():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4], name="mine"), layout={"title": "mine"})
    bundle = plots.mimebundle(fig)
    assert "mine" in bundle["text/html"] and "<script" not in bundle["text/html"]
    assert bundle[plots.PLOTLY_MIME]["data"][0]["y"] == [3, 4]


def test_an_interactive_shell_shows_the_figure_as_the_cells_value():
    shell = InteractiveShell.instance()
    shell.user_ns["fig"] = plots.accuracy(_history([0.7]))
    with capture_output() as captured:
        shell.run_cell("fig")
    (output,) = captured.outputs
    assert plots.PLOTLY_MIME in output.data
