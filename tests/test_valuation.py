"""What each contributor's data was worth (:mod:`colearn_jupyter.valuation`), on a model of the test devnet.

Three contributors add rows to a digits classifier over two versions: alice fresh, correctly labelled images, bob
mislabelled ones, carol near-copies of the owner's training images; one of alice's rows is mislabelled, challenged
and rejected. The valuation works from what the marketplace records (the claimed submissions' files, checked
against their commitments, without rejected rows) and the owner's hidden test set.
"""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import ColearnError, Session
from colearn_jupyter.valuation import near_copies, value_data, value_frames


@pytest.fixture(scope="module")
def owner(chain, market) -> Session:
    return Session("owner", chain=chain, market=market)


@pytest.fixture(scope="module")
def digits() -> pd.DataFrame:
    frame = load_digits(as_frame=True).frame.drop_duplicates().sample(frac=1.0, random_state=3)
    return frame.reset_index(drop=True).astype({"target": "int64"})


@pytest.fixture(scope="module")
def model(owner, digits):
    """A digits classifier after three versions: v2 with round 1's rows, v3 with round 2's."""
    base = digits.groupby("target").head(3)  # three images of every digit
    rest = digits.drop(base.index)
    test, fresh = rest.iloc[:300], rest.iloc[300:]
    clf = LogisticRegression(max_iter=2000).fit(base.drop(columns="target"), base["target"])
    card = owner.publish(clf, name=f"valuation-{uuid.uuid4().hex[:8]}", train=base, test=test, label="target",
                         deposit="0.01", reward="0.002", window="1h", pool="1")  # fmt: skip
    alice, bob, carol = (owner.as_account(name) for name in ("alice", "bob", "carol"))
    mislabelled = fresh.iloc[60:80].assign(target=lambda f: (f["target"] + 3) % 10)
    alice_first = fresh.iloc[:30].copy()
    alice_first.loc[alice_first.index[0], "target"] = (alice_first["target"].iloc[0] + 1) % 10  # a slip
    rounds = [
        [(alice, alice_first), (bob, mislabelled.iloc[:10]), (carol, near_copies(base, "target"))],
        [(alice, fresh.iloc[30:60]), (bob, mislabelled.iloc[10:]), (carol, near_copies(base, "target", 3).iloc[30:])],
    ]
    submissions = []
    for number, batches in enumerate(rounds):
        subs = [who.contribute(card.id, rows) for who, rows in batches]
        submissions += subs
        if number == 0:  # the slip is seen, challenged and rejected; nobody checks the rest
            verifier = owner.as_account("verifier")
            (challenge,) = verifier.challenge(subs[0].id, [0])
            owner.resolve(challenge, upheld=True)
        owner.advance_time("1h")
        owner.advance_time(1)
        for who, _ in batches:
            who.claim()
        owner.retrain(card.id)
    return card.id, submissions


def test_useful_rows_are_worth_more_than_mislabelled_or_copied_ones(owner, model):
    model_id, _ = model
    worth = value_data(owner, model_id, by="contributor", permutations=30, seed=1, progress=False)
    table = worth.table
    assert list(table.index) == ["alice", "bob", "carol"]
    assert table["rank"].to_dict() == {"alice": 1, "carol": 2, "bob": 3}, table
    for method in ("leave-one-out", "shapley"):
        assert table.loc["alice", method] > max(table.loc["bob", method], table.loc["carol", method]), table
    assert table.loc["alice", "shapley"] > 0 > table.loc["bob", "shapley"]
    # what the marketplace records: the rejected row is left out, the rest counted
    assert table.loc["alice", ["submitted", "rejected", "rows"]].tolist() == [60, 1, 59]
    assert table.loc["carol", ["submitted", "rows"]].tolist() == [90, 90]
    # the full coalition is the latest version (same estimator, same rows); the values add up to its gain
    assert worth.version == 3 and round(worth.full_accuracy, 4) == worth.version_accuracy
    assert np.isclose(table["shapley"].sum(), worth.full_accuracy - worth.base_accuracy, atol=1e-12)
    assert worth.fits <= 2**3 and worth.notes == []
    figure = worth.figure()
    assert [trace.name for trace in figure.data] == ["leave-one-out", "Shapley (Monte-Carlo)"]
    assert list(figure.data[1].x) == ["alice", "bob", "carol"]


def test_by_submission_and_the_same_seed_gives_the_same_values(owner, model):
    model_id, submissions = model
    first = value_data(owner, model_id, by="submission", permutations=40, seed=5, progress=False)
    again = value_data(owner, model_id, by="submission", permutations=40, seed=5, progress=False)
    pd.testing.assert_frame_equal(first.table, again.table)
    assert list(first.table["submissions"]) == [str(s.id) for s in submissions]
    kinds = dict(zip(first.table.index, ["alice", "bob", "carol"] * 2, strict=True))
    shapley = first.table["shapley"]
    for name, value in shapley.items():
        if kinds[name] == "alice":
            assert value > max(shapley[n] for n, k in kinds.items() if k != "alice"), first.table


def test_refusals(owner, model):
    model_id, _ = model
    with pytest.raises(ColearnError, match="'submission' or 'contributor'"):
        value_data(owner, model_id, by="row")


def test_values_without_a_chain_and_truncation(digits):
    base = digits.groupby("target").head(3)
    rest = digits.drop(base.index)
    test = rest.iloc[:200]
    players = {f"p{i}": rest.iloc[200 + 20 * i : 220 + 20 * i] for i in range(6)}
    players["empty"] = rest.iloc[:0]
    exact = value_frames(LogisticRegression(max_iter=2000), base, players, test, label="target", permutations=200,
                         tolerance=-0.0, patience=99, progress=False)  # fmt: skip
    truncated = value_frames(LogisticRegression(max_iter=2000), base, players, test, label="target",
                             permutations=200, tolerance=0.02, patience=1, progress=False)  # fmt: skip
    assert exact.table.loc["empty", ["rows", "shapley", "leave-one-out"]].tolist() == [0, 0, 0]
    assert truncated.fits <= exact.fits <= 2**6
    assert np.isclose(exact.table["shapley"].sum(), exact.full_accuracy - exact.base_accuracy, atol=1e-12)
    assert abs(truncated.table["shapley"].sum() - (exact.full_accuracy - exact.base_accuracy)) <= 0.02 + 1e-12
    assert exact.table["shapley"].sum() > 0  # fresh, correctly labelled rows help (not every batch of 20 does)
    with pytest.raises(ColearnError, match="permutations"):
        value_frames(LogisticRegression(), base, players, test, label="target", permutations=0)
