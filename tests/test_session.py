"""The core API from a plain script: the whole cycle with three accounts, checked on chain and in storage."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression, Perceptron
from sklearn.preprocessing import StandardScaler

from colearn_jupyter import ColearnError, Session
from colearn_jupyter.formats.data import SchemaError
from colearn_jupyter.formats.models import load_model


@pytest.fixture(scope="module")
def iris(iris_frame) -> pd.DataFrame:
    return iris_frame(random_state=3)


@pytest.fixture
def owner(chain) -> Session:
    return Session("owner", chain=chain)


def _flip(frame: pd.DataFrame, rows: list[int]) -> pd.DataFrame:
    flipped = frame.copy()
    swap = {"setosa": "virginica", "versicolor": "setosa", "virginica": "setosa"}
    flipped.loc[flipped.index[rows], "target"] = flipped["target"].iloc[rows].map(swap).to_numpy()
    return flipped


def test_full_cycle(owner, iris, market):
    train, test, extra = iris.iloc[:45], iris.iloc[45:95], iris.iloc[95:]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    card = owner.publish(clf, name="iris-session", train=train, test=test, label="target", window="1h", pool="1")
    assert card.version == 1 and 0.8 <= card.accuracy <= 1.0
    assert card.id in owner.market_table(search="iris-session").index
    alice, bob, verifier = (owner.as_account(n) for n in ("alice", "bob", "verifier"))

    good = alice.contribute(card.id, extra.iloc[:30])
    bad = bob.contribute(card.id, _flip(extra.iloc[30:], [0, 2, 4]))
    assert set(owner.pending(card.id).index) >= {good.id, bad.id}

    report = verifier.verify(bad.id)
    assert report.ok and {0, 2, 4} <= set(report.suggested)  # the flipped rows, and any row the model gets wrong
    suggested = report.rows.loc[report.suggested]
    assert (suggested["label"] != suggested["predicted"]).all()
    challenge_ids = verifier.challenge(bad.id, [0, 2, 4])
    queue = owner.challenges(card.id)
    assert set(queue.index) == set(challenge_ids) and (queue["status"] == "pending").all()
    assert all(owner.resolve(c) for c in challenge_ids)  # the model agrees: upheld

    owner.advance_time("1h")
    owner.advance_time(1)
    before = owner.chain.balance(owner.chain.account("alice"))
    # claim() settles every claimable submission of the account (earlier tests may have left some)
    assert alice.claim() >= 30 * (10**16 + 2 * 10**15)
    assert owner.chain.balance(owner.chain.account("alice")) > before
    assert bob.claim() >= (len(extra) - 30 - 3) * (10**16 + 2 * 10**15)
    assert market.submission(good.id).claimed and market.submission(bad.id).claimed
    assert market.submission(bad.id).rows_rejected == 3
    assert verifier.claim() >= 3 * 2 * 10**16  # three deposits and three bonds back

    new = owner.retrain(card.id)
    assert new.version == 2
    history = owner.history(card.id)
    assert list(history.index) == [1, 2] and history.loc[2, "parent"] == 1
    assert history.loc[2, "rows accepted"] == len(extra) - 3
    retrained = load_model(owner.storage.cat(history.loc[2, "model CID"]))
    assert hasattr(retrained, "predict")
    growth = owner.growth(card.id)
    assert growth["rows accepted"].iloc[-1] == len(extra) - 3
    assert {"alice", "bob", "verifier", "owner"} <= set(owner.balances()["account"])
    assert market.model(card.id).rows_rejected == 3

    owner.reveal_test_set(card.id)
    assert market.model(card.id).test_set_cid


def test_onchain_linear_model_publish_and_version(owner):
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.iloc[:, [0, 1, 2, 3, -1]].drop_duplicates().reset_index(drop=True)
    features = frame.columns[:-1]
    frame[features] = StandardScaler().fit_transform(frame[features]).round(3)
    train, test = frame.iloc[:300], frame.iloc[300:]
    perceptron = Perceptron(random_state=0).fit(train[features], train["target"])
    card = owner.publish(perceptron, name="cancer-onchain", train=train, test=test, label="target", onchain=True)
    assert card.info.has_linear_model
    retrained = owner.retrain(card.id)
    assert retrained.version == 2 and retrained.accuracy == pytest.approx(card.accuracy)


def test_errors_are_clear(owner, iris):
    with pytest.raises(ColearnError, match="no model is named"):
        owner.model("no-such-model")
    train = iris.iloc[:40]
    clf = LogisticRegression(max_iter=300).fit(train.drop(columns="target"), train["target"])
    card = owner.publish(clf, name="iris-errors", train=train, test=iris.iloc[40:80], label="target")
    with pytest.raises(SchemaError, match="missing columns"):
        owner.as_account("alice").contribute(card.id, iris.iloc[80:90].drop(columns="petal length (cm)"))
    preview = owner.as_account("alice").preview(card.id, iris.iloc[80:90])
    assert preview["valid"] and preview["rows"] == 10 and preview["deposit"] == 10 * 10**16
    stranger = Session("alice", chain=owner.chain)
    with pytest.raises(ColearnError, match="not in this colearn home"):
        stranger._load_secret(10**9)
