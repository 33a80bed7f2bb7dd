"""Decompression bombs: a data file decodes to at most its declared rows and a size limit, streamed; beyond them it is
a verification finding, found from the file's footer before anything is decompressed, never a crash or a memory spike.

The bomb of the finding: 22 KB of Parquet (one constant row, dictionary and run-length encoded) holding 1,000,000
rows, as (a) the file of a batch declaring 10 rows, (b) the file of a batch honestly declaring all of them, and (c)
the training file a stranger's model names in its metadata. Figures before the bounds (one verify, this machine):
(a) refused from the footer already; (b) 193 s and 1.05 GiB of peak memory; (c) 131 s and 680 MiB. After: each
refused from the footer in under 0.3 s, with a few MiB.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import Session
from colearn_jupyter.contributions import model_metadata, prepare_batch, read_rows
from colearn_jupyter.errors import UnverifiableTrainingSet
from colearn_jupyter.formats import data as data_module
from colearn_jupyter.formats.data import (
    MAX_FILE_BYTES,
    MAX_FILE_ROWS,
    Column,
    FeatureSchema,
    SchemaError,
    encode_row,
    onchain_schema,
    to_parquet,
)
from colearn_jupyter.formats.metadata import ModelMetadata
from colearn_jupyter.merkle import MerkleTree, contributor_key

BOMB_ROWS = 1_000_000


def _bomb(schema: FeatureSchema, values: tuple, rows: int = BOMB_ROWS) -> bytes:
    """A Parquet file of ``rows`` copies of one row: a few KB whatever ``rows`` is."""
    table = pa.table({name: pa.array([value] * rows) for name, value in zip(schema.names, values, strict=True)})
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any Parquet page is decoded: refusals must come from the footer alone."""

    def refuse(*args, **kwargs):
        raise AssertionError("a page was decoded")

    for name in ("iter_batches", "read", "read_row_group", "read_row_groups"):
        monkeypatch.setattr(pq.ParquetFile, name, refuse)


@pytest.fixture(scope="module")
def iris(iris_frame) -> pd.DataFrame:
    return iris_frame(random_state=17)


@pytest.fixture(scope="module")
def model(chain, iris):
    """An iris model whose terms let a batch of a million rows through the contract's quarter-pool cap."""
    owner = Session("owner", chain=chain)
    train, test = iris.iloc[:40], iris.iloc[40:80]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    return owner.publish(clf, name="hostile-data", train=train, test=test, label="target", deposit="0.000001",
                         reward="0.0000001", bond="0.000001", window="1h", timeout="1d", pool="1")  # fmt: skip


@pytest.fixture(scope="module")
def schema(chain, model):
    session = Session("verifier", chain=chain)
    return model_metadata(session.market, session.storage, model.id).feature_schema


@pytest.fixture(scope="module")
def bomb(iris, schema) -> tuple[bytes, bytes]:
    """The 22 KB bomb under the iris schema, and the canonical row it repeats."""
    values = tuple(iris.iloc[100][schema.names])
    return _bomb(schema, values), encode_row(schema, values)


def test_the_bomb_is_refused_from_its_footer(bomb, schema, no_decoding):
    data, _ = bomb
    assert 20_000 < len(data) < 24_000  # the 22 KB of the finding
    for declared in (10, BOMB_ROWS):
        started = time.perf_counter()
        with pytest.raises(SchemaError, match="holds 1,000,000 rows, more than the"):
            read_rows(data, schema, declared)
        assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("declared", [10, BOMB_ROWS])
def test_a_batch_of_the_bomb_is_a_finding_in_under_a_second(chain, model, bomb, declared, no_decoding):
    alice, verifier = Session("alice", chain=chain), Session("verifier", chain=chain)
    data, row = bomb
    cid = alice.storage.add(data)
    root = MerkleTree([row] * min(declared, 11), key=contributor_key(alice.account.address)).root  # never reached
    receipt = alice.market.contribute(alice.account, model.id, cid, root, declared)  # the contract takes the million
    submission = receipt.event("SubmissionAdded").args["submission_id"]
    verifier.verify(submission)  # warm: the metadata and the file are fetched once
    started = time.perf_counter()
    report = verifier.verify(submission)
    assert time.perf_counter() - started < 1.0
    assert report.cid_ok and not report.ok and report.rows.empty
    limit = "10 committed" if declared == 10 else f"{MAX_FILE_ROWS:,} a client reads from one file"
    assert report.problem == f"the file holds 1,000,000 rows, more than the {limit}"
    assert report.plan == ((None, "file"),)  # the whole file is challenged, and its owner refuses it as well
    assert Session("owner", chain=chain).judge(verifier.challenge(submission)[0]) is True


def test_a_strangers_training_bomb_is_refused_at_once(chain, market, model, schema, bomb, iris, no_decoding):
    """A model whose metadata names the bomb as its training file, with a million training rows committed."""
    stranger, alice = Session("frank", chain=chain), Session("alice", chain=chain)
    data, row = bomb
    lineage = {"version": 1, "training_data_cids": [stranger.storage.add(data)], "trained_on_rows": BOMB_ROWS}
    metadata = ModelMetadata(name="hostile-training", task="classification", framework="skops",
                             feature_schema=schema, lineage=lineage)  # fmt: skip
    original = market.model(model.id)
    receipt = market.publish_model(
        stranger.account,
        name="hostile-training",
        model_cid=model.model_cid,
        metadata_cid=stranger.storage.add(metadata.to_json()),
        test_set_commitment=b"\1" * 32,
        terms=original.terms,
        schema=onchain_schema(schema),
        test_root=b"\2" * 32,
        test_row_count=4,
        training_root=MerkleTree([row] * 10, key=contributor_key(stranger.account.address)).root,
        training_row_count=BOMB_ROWS,
        reward_pool=10**18,
        accuracy_bps=9000,
    )
    hostile = receipt.event("ModelPublished").args["model_id"]
    started = time.perf_counter()
    assert alice._training(hostile) == ([], None)  # never decoded
    assert alice._training(hostile) == ([], None)  # kept: the file is never read again
    # no one can check rows against it, and its owner could prove copies of it: contributing is refused, at once
    before = (market.submission_count(), chain.balance(alice.account))
    with pytest.raises(UnverifiableTrainingSet, match="1,000,000 training rows"):
        alice.contribute(hostile, iris.iloc[120:125])
    assert time.perf_counter() - started < 5.0
    assert (market.submission_count(), chain.balance(alice.account)) == before


def test_decoding_is_streamed_within_the_byte_bound(tmp_path):
    """Rows within the row bound whose values expand (a 1 MiB string repeated 20,000 times: 20 GiB decoded, a few KB
    stored) are decoded a few MiB at a time and refused once their bytes pass the bound; memory stays near it."""
    wide = FeatureSchema((Column("x", "float64"),), Column("text", "string"), max_string_bytes=2**20)
    path = tmp_path / "expanding.parquet"
    rows = 20_000
    text = pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), pa.array(["a" * 2**20]))  # never dense
    sink = io.BytesIO()
    pq.write_table(pa.table({"x": pa.array([1.0] * rows), "text": text}), sink, compression="zstd")
    path.write_bytes(sink.getvalue())
    assert path.stat().st_size < 10_000
    script = f"""
import json, resource, time
from pathlib import Path
from colearn_jupyter.formats.data import FeatureSchema, SchemaError, read_rows
schema = FeatureSchema.from_dict({json.dumps(wide.to_dict())})
data = Path({str(path)!r}).read_bytes()
before, started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter()
try:
    read_rows(data, schema, {rows})
    problem = ""
except SchemaError as error:
    problem = str(error)
print(json.dumps({{"problem": problem, "seconds": time.perf_counter() - started,
                  "grown": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024}}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(done.stdout)
    assert result["problem"] == "the file's rows take more than the 32 MiB a client reads from one file"
    assert result["grown"] < 3 * MAX_FILE_BYTES  # the rows kept (32 MiB), their frame and one batch
    assert result["seconds"] < 5.0


def test_footers_that_do_not_fit_the_schema_are_refused(schema, iris, no_decoding):
    features = {name: [1.0] for name in schema.names[:-1]}
    cases = [
        (pa.table({"x": [1.0]}), "are not the model's"),
        (pa.table({**features, "target": ["setosa"], "extra": [1]}), "are not the model's"),
        (pa.table({**features, "target": [[1, 2]]}), "are not the model's"),  # a nested column
        (pa.table({**features, "target": [b"x" * 9]} | {schema.names[0]: ["1.0"]}), "not stored as a flat DOUBLE"),
        (pa.table({**features, "target": pa.array([b"x" * 9], pa.binary(9))}), "not stored as a flat BYTE_ARRAY"),
    ]
    for table, message in cases:
        sink = io.BytesIO()
        pq.write_table(table, sink)
        with pytest.raises(SchemaError, match=message):
            read_rows(sink.getvalue(), schema, 10)
    with pytest.raises(SchemaError, match="not a readable Parquet file"):
        read_rows(b"PAR1 not parquet at all PAR1", schema, 10)


def test_a_batch_beyond_the_bounds_is_refused_before_anything_moves(iris, schema, monkeypatch):
    monkeypatch.setattr(data_module, "MAX_FILE_ROWS", 5)
    with pytest.raises(SchemaError, match=r"more than one file may hold \(5 rows, 32 MiB\): split the rows"):
        prepare_batch(iris.iloc[:6], schema, "0x" + "00" * 20)
    assert prepare_batch(iris.iloc[:5], schema, "0x" + "00" * 20).row_count == 5
    # what a client writes, it reads back whole
    frame, rows = read_rows(to_parquet(iris.iloc[:5], schema), schema, 5)
    assert len(rows) == 5 and list(frame.columns) == schema.names
