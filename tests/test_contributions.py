"""Contributing DataFrames: validated before any deposit moves, stored, committed, read back and verified."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.datasets import load_wine

from colearn_jupyter import MarketplaceError
from colearn_jupyter.contributions import RowIndex, contribute_dataframe, load_batch, model_metadata, prepare_batch
from colearn_jupyter.formats.data import FeatureSchema, SchemaError
from colearn_jupyter.formats.metadata import ModelMetadata
from colearn_jupyter.storage import EmbeddedStorage, IntegrityError


@pytest.fixture(scope="module")
def wine() -> pd.DataFrame:
    frame = load_wine(as_frame=True).frame
    return frame.sample(frac=1.0, random_state=0).reset_index(drop=True)


@pytest.fixture
def store(colearn_home) -> EmbeddedStorage:
    return EmbeddedStorage(colearn_home)


@pytest.fixture
def wine_model(store, publish, wine):
    schema = FeatureSchema.infer(wine, label="target")
    meta = ModelMetadata(name="wine", task="classification", framework="skops", feature_schema=schema)
    return publish("wine", schema=schema, metadata_cid=store.add(meta.to_json()))


def _hashes(market, store, model_id, schema):
    return RowIndex.build(market, store, model_id, schema).hashes


def _state(chain, market, store, model_id):
    return (
        market.model(model_id),
        market.submission_count(),
        chain.balance(chain.account("alice")),
        store.pins(),
        chain.w3.eth.block_number,
    )


def test_contribute_read_back_and_challenge_a_file_row(chain, market, store, wine_model, wine, terms):
    receipt, batch = contribute_dataframe(market, store, "alice", wine_model, wine.iloc[:40])
    sub_id = receipt.event("SubmissionAdded").args["submission_id"]
    submission = market.submission(sub_id)
    assert (submission.row_count, submission.data_cid) == (40, batch.cid)
    assert batch.cid in store.pins()
    schema = model_metadata(market, store, wine_model).feature_schema
    again = load_batch(market, store, sub_id, schema)
    assert again.tree.root == batch.tree.root and again.frame.equals(batch.frame)
    # Any single row of the file can be challenged with its proof.
    assert again.tree.root == prepare_batch(wine.iloc[:40], schema, chain.account("alice").address).tree.root
    challenge = market.challenge_label("verifier", sub_id, 17, again.rows[17], again.proof(17))
    assert challenge.event("RowChallenged").args["row_index"] == 17
    assert market.challenge_info(challenge.event("RowChallenged").args["challenge_id"]).kind == "label"


def test_bad_frames_change_nothing(chain, market, store, wine_model, wine):
    before = _state(chain, market, store, wine_model)
    nan = wine.iloc[:5].copy()
    nan.loc[2, "alcohol"] = float("nan")
    labels = wine.iloc[:5].copy()
    labels.loc[4, "target"] = 9
    cases = [
        (wine.iloc[:5].drop(columns="proline"), "missing columns"),
        (wine.iloc[:5].astype({"magnesium": str}), "must be float64"),
        (nan, "NaN or infinite values at row 2"),
        (labels, r"unknown labels \['9'\] at row 4"),
        (pd.concat([wine.iloc[:3], wine.iloc[[1]]]), "row 3 repeat"),
    ]
    for frame, message in cases:
        with pytest.raises(SchemaError, match=message):
            contribute_dataframe(market, store, "alice", wine_model, frame)
    assert _state(chain, market, store, wine_model) == before


def test_refused_transaction_leaves_storage_unchanged(chain, market, store, publish, terms, wine):
    schema = FeatureSchema.infer(wine, label="target")
    meta_cid = store.add(ModelMetadata("poor", "classification", "skops", schema).to_json())
    poor = publish("poor", schema=schema, metadata_cid=meta_cid, pool=terms.reward_per_row)  # reward for one row
    before = _state(chain, market, store, poor)
    with pytest.raises(MarketplaceError, match="reward pool"):
        contribute_dataframe(market, store, "alice", poor, wine.iloc[60:70])
    assert _state(chain, market, store, poor) == before
    rich = publish("rich", schema=schema, metadata_cid=meta_cid, pool=8 * terms.reward_per_row)
    before = _state(chain, market, store, rich)
    with pytest.raises(MarketplaceError, match="split the rows into smaller batches"):
        contribute_dataframe(market, store, "alice", rich, wine.iloc[60:63])  # 3 rows > a quarter of 8 rows' reward
    assert _state(chain, market, store, rich) == before


def test_accepted_rows_cannot_be_sold_twice(chain, market, store, wine_model, wine, terms):
    receipt, _ = contribute_dataframe(market, store, "bob", wine_model, wine.iloc[100:110])
    chain.advance_time(terms.challenge_window + 1)
    market.claim("bob", receipt.event("SubmissionAdded").args["submission_id"])
    schema = model_metadata(market, store, wine_model).feature_schema
    assert len(_hashes(market, store, wine_model, schema)) >= 10
    with pytest.raises(SchemaError, match="rows 0, 1 duplicate rows the model has already accepted"):
        contribute_dataframe(market, store, "carol", wine_model, wine.iloc[[100, 105, 120]])
    # Rows of a pending submission are refused too: anyone could prove them copies and burn their deposit.
    contribute_dataframe(market, store, "bob", wine_model, wine.iloc[110:115])
    with pytest.raises(SchemaError, match="row 1 duplicate rows the model has already accepted"):
        contribute_dataframe(market, store, "carol", wine_model, wine.iloc[[120, 112]])


def test_a_file_that_does_not_match_its_root_is_caught(chain, market, store, wine_model, wine):
    from colearn_jupyter.contributions import inspect_submission

    schema = model_metadata(market, store, wine_model).feature_schema
    dave = chain.account("dave").address
    honest, other = prepare_batch(wine.iloc[130:140], schema, dave), prepare_batch(wine.iloc[140:150], schema, dave)
    cid = store.add(other.parquet)  # the file says one thing, the root another
    sub = market.contribute("dave", wine_model, cid, honest.tree.root, 10).event("SubmissionAdded").args
    with pytest.raises(IntegrityError, match="Merkle root"):
        load_batch(market, store, sub["submission_id"], schema)
    check = inspect_submission(market, store, market.submission(sub["submission_id"]), schema)
    assert (check.cid_ok, check.count_ok, check.root_ok, check.usable) == (True, True, False, False)
    # The same rows under another account's key build another root: a copy cannot reuse a commitment.
    erin = prepare_batch(wine.iloc[130:140], schema, chain.account("erin").address)
    assert erin.cid == honest.cid and erin.tree.root != honest.tree.root


def test_settled_files_are_fetched_once(chain, market, store, wine_model, wine, terms, monkeypatch):
    receipt, _ = contribute_dataframe(market, store, "erin", wine_model, wine.iloc[150:160])
    chain.advance_time(terms.challenge_window + 1)
    market.claim("erin", receipt.event("SubmissionAdded").args["submission_id"])
    market.withdraw("erin")  # leave erin with nothing claimable, as later tests expect of accounts
    schema = model_metadata(market, store, wine_model).feature_schema
    first = _hashes(market, store, wine_model, schema)
    fetched: list[str] = []
    original = type(store).cat
    monkeypatch.setattr(type(store), "cat", lambda self, cid, **kw: fetched.append(cid) or original(self, cid, **kw))
    assert _hashes(market, store, wine_model, schema) == first
    assert fetched == []  # every settled file came from the cache
