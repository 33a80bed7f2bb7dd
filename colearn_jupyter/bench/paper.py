"""The source paper's Table 1 operations, timed through the Session API on a private throwaway devnet.

Ben Chaabene, Amayed & Cheriet (2022) time each step of their prototype (an IPFS node, a contract on a test
network, a 25,000-row text model growing by 500 rows). The same steps here: the first start (node, contract,
store), publishing a scikit-learn model trained on ``rows`` x ``features``, uploading 10 MB, contributing 500 rows
(validation, file, deposit), adding one row to a perceptron that learns on chain, retraining on every accepted
row and publishing the new version, and claiming and withdrawing after the window. The paper's figures are printed
beside ours, with the ratio; theirs ran against a public test network, whose blocks alone take seconds.

>>> from colearn_jupyter.bench import paper
>>> figures = paper.run(rows=2_000, features=20)        # doctest: +SKIP
>>> print(paper.format_table(figures))                  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .homes import throwaway_home

#: The paper's Table 1, in seconds (low, high), by our step names.
PAPER = {
    "first start (node, contract, store)": (17.0, 23.0),  # IPFS node 2-3 s + contract creation 15-20 s
    "publish the model": (None, None),
    "upload 10 MB": (2.0, 3.0),
    "contribute 500 rows (data + deposit)": (3.0, 5.0),  # data adding 1-2 s + deposit 2-3 s
    "one on-chain perceptron row": (1.0, 2.0),
    "retrain on every row and publish the version": (62.0, 83.0),  # 60-80 s + 2-3 s
    "claim and withdraw": (1.0, 2.0),
}


def run(rows: int = 25_000, features: int = 100, contributed: int = 500) -> dict[str, Any]:
    """Time each step once on a fresh home and devnet; returns ``{"steps": {name: seconds}, ...}``."""
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    from ..session import Session

    x, y = make_classification(n_samples=rows + 2_000 + contributed, n_features=features, random_state=0)
    frame = pd.DataFrame(x.round(6), columns=[f"f{i}" for i in range(features)]).assign(label=y)
    train, test, extra = frame.iloc[:rows], frame.iloc[rows : rows + 2_000], frame.iloc[rows + 2_000 :]
    steps: dict[str, float] = {}

    def timed(name: str, action: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = action()
        steps[name] = round(time.perf_counter() - start, 3)
        return result

    with throwaway_home("colearn-bench-paper-"):

        def first_start() -> Session:
            session = Session("owner")
            session.market  # noqa: B018 (connecting deploys the contract)
            session.storage.add(b"warm")
            return session

        owner = timed("first start (node, contract, store)", first_start)
        clf = LogisticRegression(max_iter=200).fit(train.drop(columns="label"), train["label"])
        card = timed(
            "publish the model",
            lambda: owner.publish(clf, name="paper", train=train, test=test, label="label", window="1m", pool="10"),
        )
        blob = np.random.default_rng(1).bytes(10 * 1024 * 1024)
        timed("upload 10 MB", lambda: owner.storage.add(blob))
        alice = owner.as_account("alice")
        timed("contribute 500 rows (data + deposit)", lambda: alice.contribute(card.id, extra))
        onchain_row(owner, alice, train, timed)
        owner.advance_time(61)
        timed("retrain on every row and publish the version", lambda: owner.retrain(card.id))
        timed("claim and withdraw", alice.claim)
    return {"rows": rows, "features": features, "contributed": contributed, "steps": steps, "paper": PAPER,
            "paper_over_ours": ratios(steps)}  # fmt: skip


def ratios(steps: dict[str, float]) -> dict[str, float]:
    """The paper's time (the middle of its range) over ours, for every step the paper timed."""
    out = {}
    for name, seconds in steps.items():
        low, high = PAPER.get(name, (None, None))
        if low is not None and high is not None and seconds > 0:
            out[name] = round((low + high) / 2 / seconds, 1)
    return out


def onchain_row(owner: Any, alice: Any, train: Any, timed: Callable[[str, Callable[[], Any]], Any]) -> None:
    """Publish a binary perceptron on 4 features that runs on chain (not timed), then time alice adding one row."""
    from sklearn.linear_model import Perceptron

    from ..onchain import LINEAR_SCALE

    small = train[[*train.columns[:4], "label"]]
    test, fit = small.iloc[:200], small.iloc[200:]
    perceptron = Perceptron(random_state=0).fit(fit.drop(columns="label"), fit["label"])
    card = owner.publish(perceptron, name="paper-onchain", train=fit, test=test, label="label", window="1m",
                         pool="1", onchain=True)  # fmt: skip
    row = test.iloc[0]
    features = [round(float(value) * LINEAR_SCALE) for value in row.drop("label")]
    timed("one on-chain perceptron row", lambda: owner.market.contribute_row(alice.account, card.id, features,
                                                                               int(row["label"])))  # fmt: skip


def format_table(figures: dict[str, Any]) -> str:
    lines = [
        f"the paper's Table 1 steps, {figures['rows']:,} x {figures['features']} base rows, "
        f"{figures['contributed']} contributed (seconds)",
        f"{'step':<48} {'colearn':>9} {'paper':>9} {'paper / colearn':>16}",
    ]
    for name, seconds in figures["steps"].items():
        low, high = PAPER.get(name, (None, None))
        theirs = f"{low:g}-{high:g}" if low is not None else "not timed"
        ratio = figures["paper_over_ours"].get(name)
        lines.append(f"{name:<48} {seconds:>9.3f} {theirs:>9} {'' if ratio is None else f'{ratio:g}x':>16}")
    return "\n".join(lines)
