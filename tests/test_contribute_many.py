"""A DataFrame beyond one file's bounds contributed in one call: split into files, each on chain with its rows,
duplicates across the parts refused before anything is sent, a failure part-way reported with what is on chain."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import tqdm.auto
from sklearn.linear_model import LogisticRegression

import colearn_jupyter
from colearn_jupyter import Session
from colearn_jupyter.contributions import ContributionIncomplete, load_batch, model_metadata, plan_files
from colearn_jupyter.errors import ChainError
from colearn_jupyter.formats import data as data_module
from colearn_jupyter.formats.data import SchemaError


@pytest.fixture(scope="module")
def iris(iris_frame) -> pd.DataFrame:
    return iris_frame(random_state=11)


@pytest.fixture
def model(chain, iris):
    owner = Session("owner", chain=chain)
    train = iris.iloc[:20]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    card = owner.publish(clf, name="iris-many", train=train, test=iris.iloc[20:40], label="target", window="1h",
                         pool="1")  # fmt: skip
    return owner, card


@pytest.fixture
def small_files(monkeypatch):
    """Files of at most 20 rows, so that a few dozen rows need several."""
    monkeypatch.setattr(data_module, "MAX_FILE_ROWS", 20)


def test_a_frame_beyond_one_file_is_split_and_every_part_is_on_chain(model, iris, small_files):
    owner, card = model
    alice = owner.as_account("alice")
    extra = iris.iloc[40:90]  # 50 rows: three files of 17, 17 and 16
    with pytest.raises(SchemaError, match=r"more than one file may hold .*Session\.contribute_many"):
        alice.contribute(card.id, extra)
    submissions = alice.contribute_many(card.id, extra, progress=False)
    assert [s.row_count for s in submissions] == [17, 17, 16]
    assert all(s.contributor == alice.account.address and s.model_id == card.id for s in submissions)
    assert [s.id for s in submissions] == list(range(submissions[0].id, submissions[0].id + 3))
    schema = model_metadata(owner.market, owner.storage, card.id).feature_schema
    read = [load_batch(owner.market, owner.storage, s.id, schema).frame for s in submissions]  # CID and root checked
    assert pd.concat(read, ignore_index=True).equals(extra[schema.names].reset_index(drop=True))
    assert all(owner.as_account("verifier").verify(s.id).ok for s in submissions)
    # a frame that fits one file is one submission, as contribute makes it
    (single,) = alice.contribute_many(card.id, iris.iloc[90:100], progress=False)
    assert single.row_count == 10


def test_rows_repeated_across_parts_are_refused_before_anything_is_sent(model, iris, small_files, market):
    owner, card = model
    alice = owner.as_account("alice")
    extra = pd.concat([iris.iloc[40:80], iris.iloc[[42]]], ignore_index=True)  # row 40 repeats row 2, 2 files apart
    before = market.submission_count()
    with pytest.raises(SchemaError, match="row 40 repeat") as refused:
        alice.contribute_many(card.id, extra)
    assert refused.value.rows == [40]
    with pytest.raises(SchemaError, match="duplicate rows the model has already accepted"):  # training rows
        alice.contribute_many(card.id, pd.concat([iris.iloc[40:80], iris.iloc[[3]]], ignore_index=True))
    assert market.submission_count() == before


def test_a_failure_in_part_two_leaves_part_one_on_chain_and_says_how_to_go_on(model, iris, small_files, monkeypatch):
    owner, card = model
    alice = owner.as_account("alice")
    extra = iris.iloc[40:90]
    send, calls = alice.market.contribute, []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise ChainError("the node refused the transaction")
        return send(*args, **kwargs)

    monkeypatch.setattr(alice.market, "contribute", failing)
    with pytest.raises(ContributionIncomplete) as stopped:
        alice.contribute_many(card.id, extra, progress=False)
    error = stopped.value
    assert isinstance(error, colearn_jupyter.ContributionIncomplete) and isinstance(error, colearn_jupyter.ColearnError)
    assert isinstance(error.__cause__, ChainError) and len(calls) == 2
    (first,) = error.submissions
    assert (error.next_row, error.parts) == (17, 3)
    message = str(error)
    assert "the node refused the transaction" in message
    assert f"part 1 of 3 (rows 0-16 of the DataFrame, submission {first}) is on chain" in message
    assert "part 2 (rows 17-33) failed and nothing after it was sent" in message
    assert "contribute_many(model, frame.iloc[17:])" in message
    on_chain = owner.market.submission(first)
    assert (on_chain.row_count, on_chain.contributor) == (17, alice.account.address)
    assert on_chain.data_cid in owner.storage.pins()
    assert owner.market.submission_count() == first  # nothing after it (ids count from 1)
    monkeypatch.setattr(alice.market, "contribute", send)
    rest = alice.contribute_many(card.id, extra.iloc[error.next_row :], progress=False)  # as the message says
    assert [s.row_count for s in rest] == [17, 16]


class _Bar:
    made: list[_Bar] = []

    def __init__(self, *args, total=None, desc="", disable=False, **kwargs):
        self.total, self.desc, self.disable, self.done = total, desc, disable, 0
        _Bar.made.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, count=1):
        self.done += count


def test_the_progress_bar_counts_rows_and_can_be_turned_off(model, iris, small_files, monkeypatch):
    owner, card = model
    alice = owner.as_account("alice")
    monkeypatch.setattr(tqdm.auto, "tqdm", _Bar)
    monkeypatch.setattr(data_module, "PROGRESS_ROWS", 1)  # the validation's bar too, at any size
    _Bar.made = []
    alice.contribute_many(card.id, iris.iloc[40:70])
    (bar,) = [bar for bar in _Bar.made if bar.desc == "contributing"]
    assert not bar.disable and (bar.total, bar.done) == (30, 30)
    assert [bar.disable for bar in _Bar.made if bar.desc == "validating rows"] == [False]
    _Bar.made = []
    alice.contribute_many(card.id, iris.iloc[70:90])  # one file: no bar of files
    assert [bar.disable for bar in _Bar.made if bar.desc == "contributing"] == [True]
    _Bar.made = []
    alice.contribute_many(card.id, iris.iloc[90:130], progress=False)  # turned off: no bar at all
    assert all(bar.disable for bar in _Bar.made if bar.desc in ("contributing", "validating rows"))
    assert {bar.desc for bar in _Bar.made} >= {"contributing", "validating rows"}


def test_plan_files_keeps_every_file_within_the_bounds():
    rng = np.random.default_rng(0)
    sizes = rng.integers(10, 200, size=1000)
    plan = plan_files(sizes, max_rows=70, max_bytes=5000)
    assert plan[0][0] == 0 and plan[-1][1] == 1000 and all(a[1] == b[0] for a, b in itertools.pairwise(plan))
    assert all(last - first <= 70 and sizes[first:last].sum() <= 5000 for first, last in plan)
    assert len(plan) <= max(-(-1000 // 70), -(-int(sizes.sum()) // 5000)) + 1
    assert plan_files(np.full(100, 9), max_rows=30, max_bytes=10**6) == [(0, 25), (25, 50), (50, 75), (75, 100)]
    with pytest.raises(SchemaError, match="row 1 alone"):
        plan_files(np.array([10, 6000]), max_rows=70, max_bytes=5000)
