"""The example notebooks run the whole cycle without a single error line, and their plots survive HTML export."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbclient
import nbformat
import pytest
from nbconvert import HTMLExporter

# The notebooks whose outputs are inspected here (magics print their errors instead of raising, so a clean run is
# checked output by output). Every notebook also runs under `pytest --nbval-lax`, which fails on any raised error.
NOTEBOOKS = sorted((Path(__file__).parent.parent / "example_notebooks").glob("0[123]-*.ipynb"))


@pytest.fixture(scope="module")
def executed(colearn_home) -> dict[str, nbformat.NotebookNode]:
    assert os.environ["COLEARN_HOME"] == str(colearn_home)  # the kernels share the test devnet
    out = {}
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        nbclient.NotebookClient(notebook, kernel_name="python3", timeout=600).execute()
        out[path.name] = notebook
    return out


def _outputs(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "code":
            yield from cell.outputs


@pytest.mark.parametrize("name", [p.name for p in NOTEBOOKS])
def test_notebook_runs_without_errors(executed, name):
    for output in _outputs(executed[name]):
        assert output.output_type != "error", output.get("evalue")
        if output.output_type == "stream" and output.name == "stderr":
            assert not output.text.startswith("colearn"), output.text


def test_cycle_notebook_plots_show_their_values_in_exported_html(executed):
    notebook = executed["02-collaborative-cycle-with-magics.ipynb"]
    figures = [o for o in _outputs(notebook) if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 3
    assert all("text/html" in o["data"] for o in figures)
    assert all(len(json.dumps(o["data"])) < 100_000 for o in figures)  # no plotly.js embedded in the notebook
    html, _ = HTMLExporter().from_notebook_node(notebook)
    assert "Plotly.newPlot" not in html and "cdn.plot.ly" not in html  # nothing to download when it is opened
    assert "Accuracy on the hidden test set per version" in html
    assert html.count("an interactive chart in JupyterLab; its values") >= 3  # each plot's values, as a table


def test_python_notebook_rejects_the_copy_and_the_mislabelled_row(executed):
    notebook = executed["01-marketplace-from-python.ipynb"]
    printed = "".join(o.text for o in _outputs(notebook) if o.output_type == "stream" and o.name == "stdout")
    assert "'kind': 4" in printed  # RowRejected of bob's copy, judged by the contract (ChallengeKind.Duplicate)
    assert "in its challenge window until" in printed
    assert "rows accepted 3, rejected 2, pending 0" in printed
