"""Contributing DataFrames: validated before any deposit moves, stored, committed, read back and verified."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.datasets import load_wine

from colearn_jupyter import MarketplaceError
from colearn_jupyter.contributions import accepted_row_hashes, contribute_dataframe, load_batch, model_metadata
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
def wine_model(market, store, publish, wine, terms):
    schema = FeatureSchema.infer(wine, label="target")
    meta = ModelMetadata(name="wine", task="classification", framework="skops", feature_schema=schema)
    metadata_cid = store.add(meta.to_json())
    model_id = publish("wine")
    receipt = market.publish_model(
        "owner",
        name="wine",
        model_cid=metadata_cid,
        metadata_cid=metadata_cid,
        test_set_commitment=b"\x01" * 32,
        terms=terms,
        reward_pool=10**18,
    )
    del model_id
    return receipt.event("ModelPublished").args["model_id"]


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
    challenge = market.challenge("verifier", sub_id, 17, again.rows[17], again.proof(17))
    assert challenge.event("RowChallenged").args["row_index"] == 17


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


def test_refused_transaction_leaves_storage_unchanged(chain, market, store, terms, wine):
    schema = FeatureSchema.infer(wine, label="target")
    meta_cid = store.add(ModelMetadata("poor", "classification", "skops", schema).to_json())
    poor = market.publish_model(
        "owner", name="poor", model_cid=meta_cid, metadata_cid=meta_cid, test_set_commitment=b"\x02" * 32,
        terms=terms, reward_pool=terms.reward_per_row,  # enough reward for one row only
    ).event("ModelPublished").args["model_id"]  # fmt: skip
    before = _state(chain, market, store, poor)
    with pytest.raises(MarketplaceError, match="reward pool"):
        contribute_dataframe(market, store, "alice", poor, wine.iloc[60:70])
    assert _state(chain, market, store, poor) == before


def test_accepted_rows_cannot_be_sold_twice(chain, market, store, wine_model, wine, terms):
    receipt, _ = contribute_dataframe(market, store, "bob", wine_model, wine.iloc[100:110])
    chain.advance_time(terms.challenge_window + 1)
    market.claim("bob", receipt.event("SubmissionAdded").args["submission_id"])
    schema = model_metadata(market, store, wine_model).feature_schema
    assert len(accepted_row_hashes(market, store, wine_model, schema)) >= 10
    with pytest.raises(SchemaError, match="rows 0, 1 duplicate rows the model has already accepted"):
        contribute_dataframe(market, store, "carol", wine_model, wine.iloc[[100, 105, 120]])


def test_a_file_that_does_not_match_its_root_is_caught(market, store, wine_model, wine):
    from colearn_jupyter.contributions import prepare_batch

    schema = model_metadata(market, store, wine_model).feature_schema
    honest, other = prepare_batch(wine.iloc[130:140], schema), prepare_batch(wine.iloc[140:150], schema)
    cid = store.add(other.parquet)  # the file says one thing, the root another
    sub = market.contribute("dave", wine_model, cid, honest.tree.root, 10).event("SubmissionAdded").args
    with pytest.raises(IntegrityError, match="Merkle root"):
        load_batch(market, store, sub["submission_id"], schema)


def test_settled_files_are_fetched_once(chain, market, store, wine_model, wine, terms, monkeypatch):
    receipt, _ = contribute_dataframe(market, store, "erin", wine_model, wine.iloc[150:160])
    chain.advance_time(terms.challenge_window + 1)
    market.claim("erin", receipt.event("SubmissionAdded").args["submission_id"])
    market.withdraw("erin")  # leave erin with nothing claimable, as later tests expect of accounts
    schema = model_metadata(market, store, wine_model).feature_schema
    first = accepted_row_hashes(market, store, wine_model, schema)
    fetched: list[str] = []
    original = type(store).cat
    monkeypatch.setattr(type(store), "cat", lambda self, cid, **kw: fetched.append(cid) or original(self, cid, **kw))
    assert accepted_row_hashes(market, store, wine_model, schema) == first
    assert fetched == []  # every settled file came from the cache
