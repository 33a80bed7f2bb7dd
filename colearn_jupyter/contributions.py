"""Contributing DataFrames and reading submissions back, with storage and the chain kept consistent.

A DataFrame is validated against the model's schema (read from its metadata CID) before anything moves: wrong
columns, dtypes, NaN or infinite values, unknown labels, repeated rows and duplicates of rows the model already
accepted all raise :class:`~colearn_jupyter.formats.data.SchemaError` naming the rows. The Parquet file is
stored only after the contract accepted the call in simulation, so a refused contribution leaves chain and
storage as they were.

>>> from colearn_jupyter.contributions import contribute_dataframe        # doctest: +SKIP
>>> receipt, batch = contribute_dataframe(market, store, "alice", model_id, frame)  # doctest: +SKIP
>>> batch.row_count                                                        # doctest: +SKIP
120
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from .accounts import Account
from .formats.data import FeatureSchema, encode_rows, read_data, row_hashes, to_parquet, validate
from .formats.metadata import ModelMetadata
from .marketplace import Marketplace, Receipt, Submission
from .merkle import MerkleTree
from .storage import IntegrityError, Storage
from .storage.unixfs import FileBuilder


@dataclass(frozen=True)
class Batch:
    """A validated DataFrame ready to submit, or a submission read back: rows, their tree and the file."""

    frame: pd.DataFrame
    rows: list[bytes]
    tree: MerkleTree
    parquet: bytes

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def cid(self) -> str:
        """The CID the Parquet file has in either storage backend."""
        builder = FileBuilder()
        builder.write(self.parquet)
        return builder.finish()[0]

    def proof(self, index: int) -> list[bytes]:
        return self.tree.proof(index)


def model_metadata(market: Marketplace, storage: Storage, model_id: int) -> ModelMetadata:
    """A model's metadata, fetched from storage and checked against its CID and the JSON Schema."""
    return ModelMetadata.from_json(storage.cat(market.model(model_id).metadata_cid))


def prepare_batch(frame: pd.DataFrame, schema: FeatureSchema, accepted: set[bytes] | None = None) -> Batch:
    """Validate a DataFrame and build its rows, Merkle tree and Parquet file (nothing is stored or sent)."""
    clean = validate(frame, schema, accepted=accepted or set())
    rows = encode_rows(schema, clean)
    return Batch(clean, rows, MerkleTree(rows), to_parquet(clean, schema))


def load_batch(market: Marketplace, storage: Storage, submission_id: int, schema: FeatureSchema) -> Batch:
    """Fetch a submission's file, verify it against its CID and its on-chain Merkle root, and parse it."""
    submission = market.submission(submission_id)
    data = storage.cat(submission.data_cid)
    frame = read_data(data, schema)
    rows = encode_rows(schema, frame)
    tree = MerkleTree(rows)
    if len(rows) != submission.row_count or "0x" + tree.root.hex() != submission.merkle_root:
        raise IntegrityError(
            f"submission {submission_id}: its file holds {len(rows)} rows whose Merkle root is 0x{tree.root.hex()}, "
            f"but the chain records {submission.row_count} rows with root {submission.merkle_root}"
        )
    return Batch(frame, rows, tree, data)


def accepted_row_hashes(market: Marketplace, storage: Storage, model_id: int, schema: FeatureSchema) -> set[bytes]:
    """Hashes of the rows a model has accepted: rows of claimed file submissions not found bad by a challenge."""
    upheld: set[tuple[int, int]] = set()
    for log in market.contract.events.RowChallenged.get_logs(argument_filters={"modelId": model_id}, from_block=0):
        challenge = market.challenge_info(log["args"]["challengeId"])
        if challenge.status == "upheld":
            upheld.add((challenge.submission_id, challenge.row_index))
    hashes: set[bytes] = set()
    for submission in market.all_submissions(model_id):
        if not submission.claimed or submission.on_chain_row:
            continue
        rows = _settled_row_hashes(market, storage, submission, schema)
        hashes.update(h for i, h in enumerate(rows) if (submission.id, i) not in upheld)
    return hashes


# Row hashes of settled submissions, by (data CID, Merkle root, schema): a settled file never changes, so it is
# fetched and verified once per process instead of at every contribution or preview.
_SETTLED: dict[tuple[str, str, str], tuple[bytes, ...]] = {}


def _settled_row_hashes(
    market: Marketplace, storage: Storage, submission: Submission, schema: FeatureSchema
) -> tuple[bytes, ...]:
    key = (submission.data_cid, submission.merkle_root, json.dumps(schema.to_dict(), sort_keys=True))
    if key not in _SETTLED:
        _SETTLED[key] = tuple(row_hashes(load_batch(market, storage, submission.id, schema).rows))
    return _SETTLED[key]


def contribute_dataframe(
    market: Marketplace, storage: Storage, account: Account | str, model_id: int, frame: pd.DataFrame
) -> tuple[Receipt, Batch]:
    """Validate, store and submit a DataFrame as one batch; every row is counted and challengeable alone."""
    schema = model_metadata(market, storage, model_id).feature_schema
    batch = prepare_batch(frame, schema, accepted_row_hashes(market, storage, model_id, schema))
    cid = batch.cid
    pinned_before = cid in storage.pins()
    stored: list[str] = []
    try:
        receipt = market.contribute(
            account,
            model_id,
            cid,
            batch.tree.root,
            batch.row_count,
            before_send=lambda: stored.append(storage.add(batch.parquet)),
        )
    except BaseException:
        if stored and not pinned_before:  # the transaction failed after the file was stored: release it
            storage.unpin(cid)
        raise
    return receipt, batch
