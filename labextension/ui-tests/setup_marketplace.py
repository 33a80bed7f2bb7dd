"""Publish a model, a contribution with mislabelled rows and a demanded one for the UI test, with the core API.

Run with COLEARN_HOME set to a private directory (run.sh does): the devnet and store live there, and the
Jupyter server started afterwards with the same COLEARN_HOME sees the same marketplace. Prints one line of
JSON: {"model_id", "model_name", "submission_id", "flipped_rows", "demanded_submission", "demand_id", "csv",
"xss_model_id", "xss_submission_id", "xss_challenge_id", "xss_notebook", "xss_name", "xss_strings", "growth_model_id",
"growth_model_name", "widgets_notebook"}.

The growth model is published first, on six rows: four contributors add batches, the clock is moved past each
window, and every claim is followed by a retrain, so its card shows a five-version accuracy chart (the
screenshots). Moving the clock first leaves the other models' windows and time-outs untouched.

The demanded submission is dave's batch, submitted while its file was kept back: the verifier demands its last
row (an availability challenge; its plan would challenge the whole file), and the file is stored only afterwards,
so the UI can answer the demand from the server's storage.

The XSS model is a stranger's (``tests/xss_payloads.py``): payloads in its name, description, feature and label
names, label values and row values, erin's batch of payload rows and a label challenge of one of them; the
notebook ``xss.ipynb`` under the root shows its reprs and the ipywidgets panels (xss.spec.ts runs it).
``widgets.ipynb`` shows the market browser on the growth model and alice's account card (screenshots.spec.ts).

    python setup_marketplace.py --root-dir /tmp/lab-root [--name iris-ui-1234]
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import Session
from colearn_jupyter.contributions import model_metadata, prepare_batch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
import xss_payloads  # the payloads the Python test plants too

LABEL = "species"


def iris_frame() -> pd.DataFrame:
    iris = load_iris(as_frame=True)
    frame = iris.frame.rename(columns={"target": LABEL})
    frame[LABEL] = frame[LABEL].map(dict(enumerate(iris.target_names)))
    # iris has a duplicated row; the marketplace refuses a row twice
    return frame.drop_duplicates().reset_index(drop=True)


#: The growth model's contributors and the size of each one's batch.
GROWTH_BATCHES = {"alice": 8, "carol": 12, "frank": 20, "grace": 40}


def growth_model(owner: Session, name: str) -> int:
    """A model that learns: published on six rows, then four batches, each claimed and followed by a retrain (five
    versions). A strongly regularised logistic regression, so that more rows visibly help (about 62% to 92%)."""
    frame = iris_frame().sample(frac=1.0, random_state=3).reset_index(drop=True)
    test, train = frame.iloc[:40], frame.iloc[40:46]
    features = [c for c in frame.columns if c != LABEL]
    clf = LogisticRegression(C=0.1, max_iter=500).fit(train[features], train[LABEL])
    card = owner.publish(
        clf, name=name, train=train, test=test, label=LABEL, deposit="0.001", reward="0.0002", window="10m",
        description="iris, learning from its contributors",
    )  # fmt: skip
    start = 46
    contributors = {}
    for account, size in GROWTH_BATCHES.items():
        contributors[account] = owner.as_account(account)
        contributors[account].contribute(card.id, frame.iloc[start : start + size])
        start += size
    owner.advance_time("10m")
    owner.advance_time(1)
    for contributor in contributors.values():
        contributor.claim()
        owner.retrain(card.id)
    return card.id


def widgets_notebook(model: int) -> dict:
    """A notebook that shows the ipywidgets panels: the market browser on the growth model and an account card."""
    cells = [
        "from colearn_jupyter import Session\nfrom colearn_jupyter.widgets import account_card, market_browser\n"
        'alice = Session.connect("alice")',
        f"browser = market_browser(alice)\nbrowser.select({model})\nbrowser",
        "account_card(alice)",
        'print("widgets notebook done")',
    ]
    return _notebook("widgets", cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root-dir", type=Path, required=True, help="the Jupyter server's root directory")
    parser.add_argument("--name", default=f"iris-ui-{secrets.token_hex(3)}", help="the model's name")
    parser.add_argument("--flip", type=int, default=3, help="labels to flip in the contributed batch")
    args = parser.parse_args()

    frame = iris_frame().sample(frac=1.0, random_state=7).reset_index(drop=True)
    train, test, batch = frame.iloc[:80], frame.iloc[80:115], frame.iloc[115:135]
    withheld, spare = frame.iloc[135:140], frame.iloc[140:]

    features = [c for c in frame.columns if c != LABEL]
    clf = LogisticRegression(max_iter=500).fit(train[features], train[LABEL])

    owner = Session.connect("owner")
    growth_name = f"iris-growth-{secrets.token_hex(3)}"
    growth = growth_model(owner, growth_name)  # first: it moves the clock

    card = owner.publish(
        clf, name=args.name, train=train, test=test, label=LABEL, deposit="0.01", reward="0.002", window="1h"
    )

    # mislabel a few rows of bob's batch: each gets a class the model does not predict
    batch = batch.copy().reset_index(drop=True)
    classes = sorted(frame[LABEL].unique())
    rng = np.random.default_rng(11)
    flipped = sorted(int(i) for i in rng.choice(len(batch), size=args.flip, replace=False))
    for i in flipped:
        batch.loc[i, LABEL] = next(c for c in classes if c != batch.loc[i, LABEL])
    submission = owner.as_account("bob").contribute(card.id, batch)

    # dave submits five rows but keeps the file: the verifier's plan challenges the file (the owner would judge it);
    # the verifier demands its last row instead, then the file shows up
    dave = owner.as_account("dave")
    schema = model_metadata(dave.market, dave.storage, card.id).feature_schema
    kept = prepare_batch(withheld, schema, dave.account.address)
    receipt = dave.market.contribute(dave.account, card.id, kept.cid, kept.tree.root, kept.row_count)
    demanded = receipt.event("SubmissionAdded").args["submission_id"]
    verifier = owner.as_account("verifier")
    plan = verifier.verify(demanded).plan
    assert plan == ((None, "file"),), plan
    [demand] = verifier.challenge(demanded, [kept.row_count - 1])  # a row of an unusable file: demanded
    dave.storage.add(kept.parquet)

    # a clean file under the server's root, for "Contribute file…"
    args.root_dir.mkdir(parents=True, exist_ok=True)
    csv = args.root_dir / "extra_rows.csv"
    spare.to_csv(csv, index=False)

    xss = xss_payloads.plant(owner, contributor="erin", verifier="verifier")
    notebook = args.root_dir / "xss.ipynb"
    notebook.write_text(json.dumps(xss_notebook(xss)))
    widgets = args.root_dir / "widgets.ipynb"
    widgets.write_text(json.dumps(widgets_notebook(growth)))

    print(
        json.dumps(
            {
                "model_id": card.id,
                "model_name": args.name,
                "submission_id": submission.id,
                "flipped_rows": flipped,
                "demanded_submission": demanded,
                "demand_id": demand,
                "csv": csv.name,
                "xss_model_id": xss.model_id,
                "xss_submission_id": xss.submission_id,
                "xss_challenge_id": xss.challenge_ids[0],
                "xss_notebook": notebook.name,
                "xss_name": xss_payloads.NAME,
                "xss_strings": list(xss_payloads.STRINGS),
                "growth_model_id": growth,
                "growth_model_name": growth_name,
                "widgets_notebook": widgets.name,
            }
        )
    )


def xss_notebook(xss: xss_payloads.Planted) -> dict:
    """A notebook that shows the XSS model's every repr and the ipywidgets panels over it, then prints a marker."""
    model, submission = xss.model_id, xss.submission_id
    cells = [
        "from colearn_jupyter import Session\nfrom colearn_jupyter.widgets import MarketBrowser, VerificationQueue\n"
        'verifier = Session.connect("verifier")',
        f"verifier.model({model})",
        f"verifier.market.submission({submission})",
        f"verifier.verify({submission})",
        f"verifier.challenges({model})",
        "verifier.market_table()",
        f"browser = MarketBrowser(verifier)\nbrowser.select({model})\nbrowser",
        f"queue = VerificationQueue(verifier, model={model})\nqueue.pending.value = {submission}\n"
        "queue.verify_button.click()\nqueue",
        'print("xss notebook done")',
    ]
    return _notebook("xss", cells)


def _notebook(prefix: str, cells: list[str]) -> dict:
    """A notebook of code cells, not run yet."""
    return {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"{prefix}-{i}", "metadata": {}, "outputs": [],
             "source": source}
            for i, source in enumerate(cells)
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip


if __name__ == "__main__":
    main()
