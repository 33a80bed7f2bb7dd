"""The batch row path (vectorized encoding, compiled keccak, keyed leaves, tree levels, row faults) against the
reference it replaces, byte for byte: the contract checks these bytes, so not one may change.

Every test runs twice: with the compiled kernels (``native``) and with the reference code in Python that serves
small batches and machines without numba (``reference``). The references are the row-at-a-time functions that
stay in the package (``encode_row``, ``row_leaf``, ``reference_levels``, ``row_fault``) and, for the tree, one
written here independently.
"""

from __future__ import annotations

import io
import random
import struct

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from eth_utils import keccak

from colearn_jupyter import rowhash
from colearn_jupyter.formats import data
from colearn_jupyter.formats.data import (
    Column,
    EncodedRows,
    FeatureSchema,
    RowFault,
    SchemaError,
    encode_row,
    encode_rows,
    merkle_tree,
    onchain_schema,
    read_rows,
    row_digests,
    row_fault,
    row_faults,
    row_hashes,
    to_parquet,
    validate,
    validated_rows,
)
from colearn_jupyter.merkle import MerkleTree, contributor_key, reference_levels, row_leaf, verify_proof
from colearn_jupyter.merkle import test_row_nonce as row_nonce  # aliased: pytest would collect a test_* name

KEY = contributor_key("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
SIGNALING_NAN = struct.unpack(">d", bytes.fromhex("7ff0000000000001"))[0]
NEGATIVE_NAN = struct.unpack(">d", bytes.fromhex("fff8000000000123"))[0]


@pytest.fixture(params=["native", "reference"], autouse=True)
def mode(request, monkeypatch):
    """Both halves: the compiled kernels for every batch size, or the Python reference for every one."""
    monkeypatch.setattr(rowhash, "MODE", request.param)
    return request.param


def reference_encoding(schema: FeatureSchema, frame: pd.DataFrame) -> list[bytes]:
    """The encoder as it was: every row through ``encode_row``, as ``itertuples`` gives its values."""
    return [encode_row(schema, values) for values in frame[schema.names].itertuples(index=False, name=None)]


def reference_root(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    pairs = [leaves[i : i + 2] for i in range(0, len(leaves), 2)]
    return reference_root([keccak(p[0] + p[1]) if len(p) == 2 else p[0] for p in pairs])


# ---------------------------------------------------------------------------------------------------- keccak
def test_keccak_of_every_length_across_block_boundaries():
    rng = random.Random(1)
    messages = [bytes(rng.randrange(256) for _ in range(size)) for size in range(0, 420)]
    messages += [b"\x00" * 135, b"\xff" * 136, b"\x01" * 137, bytes(2000)]
    digests = rowhash.keccak_rows(*rowhash.pack(messages))
    assert rowhash.as_list(digests) == [keccak(m) for m in messages]
    assert row_hashes(messages) == [keccak(m) for m in messages]
    assert row_hashes([]) == []


def test_leaves_and_levels_match_the_reference():
    rng = random.Random(2)
    digests = np.frombuffer(bytes(rng.randrange(256) for _ in range(32 * 301)), dtype=np.uint8).reshape(-1, 32)
    leaves = rowhash.keyed_leaves(digests, KEY, start=5)
    rows = [bytes([i % 251]) * (i % 40) for i in range(301)]
    assert rowhash.as_list(rowhash.keyed_leaves(rowhash.keccak_rows(*rowhash.pack(rows)), KEY)) == [
        row_leaf(KEY, i, row) for i, row in enumerate(rows)
    ]
    keys = np.frombuffer(b"".join(row_nonce(b"\x07" * 32, i) for i in range(301)), dtype=np.uint8).reshape(-1, 32)
    per_row = rowhash.keyed_leaves(digests, keys, start=2**40)
    for m in (0, 1, 150, 300):
        inner = KEY + (5 + m).to_bytes(32, "big") + digests[m].tobytes()
        assert leaves[m].tobytes() == keccak(keccak(inner))
        inner = keys[m].tobytes() + (2**40 + m).to_bytes(32, "big") + digests[m].tobytes()
        assert per_row[m].tobytes() == keccak(keccak(inner))
    level = leaves
    for expected in reference_levels(rowhash.as_list(leaves))[1:]:
        level = rowhash.parent_level(level)
        assert rowhash.as_list(level) == expected
    with pytest.raises(ValueError, match="one 32-byte key"):
        rowhash.keyed_leaves(digests, keys[:3])


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6, 7, 33, 1000, 4099])
def test_trees_of_every_shape_match_the_reference(count):
    rows = [f"row {i}".encode() * (1 + i % 3) for i in range(count)]
    tree = MerkleTree(rows, key=KEY)
    leaves = [row_leaf(KEY, i, row) for i, row in enumerate(rows)]
    assert [[node.tobytes() for node in level] for level in tree.levels] == reference_levels(leaves)
    assert tree.root == reference_root(leaves)
    assert MerkleTree(leaves=leaves).root == tree.root
    assert MerkleTree.from_row_hashes(rowhash.keccak_rows(*rowhash.pack(rows)), key=KEY).root == tree.root
    assert rowhash.as_list(tree.row_hashes) == [keccak(row) for row in rows]
    for index in {0, count // 2, count - 1}:
        assert verify_proof(tree.root, count, KEY, index, rows[index], tree.proof(index))
        assert tree.leaf(index) == leaves[index] and tree.hash_of(index) == keccak(rows[index])
    nonces = [row_nonce(b"\x05" * 32, i) for i in range(count)]
    keyed = [row_leaf(nonce, i, row) for i, (nonce, row) in enumerate(zip(nonces, rows, strict=True))]
    assert MerkleTree(rows, keys=nonces).root == reference_root(keyed)


def test_tree_refusals_are_the_reference_ones():
    with pytest.raises(TypeError, match="a row is bytes, not str"):
        MerkleTree(["text"], key=KEY)
    with pytest.raises(ValueError, match="the leaf key must be 32 bytes"):
        MerkleTree([b"a"], key=b"short")
    with pytest.raises(ValueError, match="a leaf key must be 32 bytes"):
        MerkleTree([b"a", b"b"], keys=[KEY, b"short"])
    with pytest.raises(ValueError, match="a leaf must be 32 bytes"):
        MerkleTree(leaves=[KEY, b"x"])
    with pytest.raises(ValueError, match="at least one row"):
        MerkleTree.from_row_hashes(np.zeros((0, 32), np.uint8), key=KEY)
    assert MerkleTree([bytearray(b"ab"), memoryview(b"cd")], key=KEY).root == MerkleTree([b"ab", b"cd"], key=KEY).root


# ---------------------------------------------------------------------------------------------------- encoding
SCHEMA = FeatureSchema(
    (Column("f", "float64"), Column("i", "int64"), Column("b", "bool"), Column("s", "string"), Column("c", "string")),
    Column("y", "string"),
    ("ham", "spam"),
)


def varied_frame(count: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.normal(size=count) * 10.0 ** rng.integers(-300, 300, count)
    specials = [-0.0, 0.0, 1e308, -1.7976931348623157e308, 5e-324, -5e-324, 2.0**53 + 1, -(2.0**63), 123.25]
    floats[: len(specials)] = specials[:count]
    ints = rng.integers(-(2**63), 2**63 - 1, count, dtype=np.int64)
    ints[: min(count, 3)] = [-(2**63), 2**63 - 1, 0][: min(count, 3)]
    words = ["", "a", "é", "日本語", "emoji 😀", "x" * 300, "null", "nan", "0", "\x00zero"]
    return pd.DataFrame({
        "f": floats,
        "i": ints,
        "b": rng.integers(0, 2, count).astype(bool),
        "s": [words[k] for k in rng.integers(0, len(words), count)],
        "c": pd.Categorical(rng.choice(["cat", "dög", "", "日"], count)),
        "y": rng.choice(["ham", "spam"], count),
    })  # fmt: skip


WIDE = FeatureSchema(SCHEMA.features, SCHEMA.label, SCHEMA.labels, max_abs=1e300)


def valid_frame(count: int, seed: int = 0) -> pd.DataFrame:
    """A varied frame that validation accepts under :data:`WIDE` (numbers within its bounds, -0.0 kept)."""
    frame = varied_frame(count, seed)
    frame["f"] = frame["f"].clip(-1e300, 1e300)
    frame["i"] = frame["i"] // 2
    return frame


@pytest.mark.parametrize("count", [1, 2, 7, 3000])
def test_encoding_varied_frames(count):
    frame = varied_frame(count)
    expected = reference_encoding(SCHEMA, frame)
    assert encode_rows(SCHEMA, frame) == expected
    assert data.encode_frame(SCHEMA, frame).rows() == expected
    digests, rows, size = row_digests(SCHEMA, frame, keep=2**30)
    assert rows == expected and size == sum(map(len, expected))
    assert rowhash.as_list(digests) == [keccak(row) for row in expected]
    assert merkle_tree(SCHEMA, frame, key=KEY).root == reference_root([row_leaf(KEY, i, r) for i, r in
                                                                      enumerate(expected)])  # fmt: skip
    # in small chunks too: every slice boundary gives the same bytes
    parts = list(data.iter_encoded(SCHEMA, frame, chunk_bytes=200))
    assert len(parts) > 1 or count < 3
    assert [row for part in parts for row in part.rows()] == expected


@pytest.mark.parametrize(
    "column, values",
    [
        (Column("v", "float64"), np.array([1.5, -0.0, 3.0], dtype=np.float32)),
        (Column("v", "float64"), np.array([1.0, -0.0, 7.0], dtype=np.float16)),
        (Column("v", "float64"), np.array([-0.0, np.inf, -np.inf])),
        (Column("v", "float64"), np.array([np.nan, SIGNALING_NAN, NEGATIVE_NAN])),
        (Column("v", "float64"), pd.array([1.0, None, 2.5], dtype="Float64")),
        (Column("v", "float64"), np.array([1, 2**60, -3])),
        (Column("v", "float64"), np.array([1, 2, 3], dtype=object)),
        (Column("v", "int64"), np.array([-128, 0, 127], dtype=np.int8)),
        (Column("v", "int64"), np.array([0, 2**32 - 1, 7], dtype=np.uint32)),
        (Column("v", "int64"), np.array([0, 2**40, 7], dtype=np.uint64)),
        (Column("v", "int64"), pd.array([1, 2, 3], dtype="Int64")),
        (Column("v", "int64"), np.array([1.0, 2.0, 3.0])),
        (Column("v", "int64"), np.array([True, False, True])),
        (Column("v", "bool"), np.array([True, False, True])),
        (Column("v", "bool"), np.array([True, None, False], dtype=object)),
        (Column("v", "bool"), pd.array([True, False, True], dtype="boolean")),
        (Column("v", "string"), np.array(["a", "bc", ""], dtype=object)),
        (Column("v", "string"), pd.array(["a", None, "日本"], dtype="string")),
        (Column("v", "string"), pd.Series(["a", np.nan, "b"], dtype="str")),
        (Column("v", "string"), np.array(["a", 5, 2.5], dtype=object)),
        (Column("v", "string"), np.array([b"bytes", "text", None], dtype=object)),
        (Column("v", "string"), pd.Categorical([3, 1, 3])),
        (Column("v", "string"), pd.Categorical([1.5, None, 1.5])),
        (Column("v", "string"), pd.Categorical(["b", "a", "b"], categories=["b", "a", "unused"])),
        (Column("v", "string"), np.array([np.str_("numpy"), "plain", "x"], dtype=object)),
    ],
    ids=lambda x: getattr(x, "dtype", x).__str__() if not isinstance(x, Column) else x.dtype,
)
def test_encoding_every_kind_of_column(column, values):
    """A column of any dtype encodes as the reference does: converted at once where NumPy and Arrow give the same
    bytes, value by value (the reference's own code) elsewhere."""
    schema = FeatureSchema((Column("x", "float64"), column), Column("y", "int64"))
    frame = pd.DataFrame({"x": [0.5, 1.5, 2.5], "v": values, "y": [0, 1, 0]})
    try:
        expected = reference_encoding(schema, frame)
    except Exception as error:  # the reference's own refusal
        with pytest.raises(type(error)):
            encode_rows(schema, frame)
        return
    assert encode_rows(schema, frame) == expected


def test_encoding_refusals_are_the_reference_ones():
    schema = FeatureSchema((Column("x", "float64"),), Column("y", "string"))
    with pytest.raises(KeyError):
        encode_rows(schema, pd.DataFrame({"x": [1.0]}))
    twice = pd.DataFrame([[1.0, 2.0, "a"]], columns=["x", "x", "y"])
    with pytest.raises(ValueError, match="zip"):
        reference_encoding(schema, twice)
    with pytest.raises(ValueError, match="zip"):
        encode_rows(schema, twice)
    surrogate = pd.DataFrame({"x": [1.0], "y": pd.Series(["\ud800"], dtype=object)})
    with pytest.raises(UnicodeEncodeError):
        encode_rows(schema, surrogate)
    ints = FeatureSchema((Column("x", "float64"),), Column("y", "int64"))
    with pytest.raises(ValueError, match="NaN"):
        encode_rows(ints, pd.DataFrame({"x": [1.0], "y": [np.nan]}))
    assert encode_rows(schema, pd.DataFrame({"x": [], "y": []})) == []


def test_a_frame_with_an_index_and_extra_columns():
    frame = varied_frame(50).set_index(pd.Index(range(100, 0, -2)))
    frame["extra"] = 1
    frame = frame[["extra", *reversed(SCHEMA.names)]]
    assert encode_rows(SCHEMA, frame) == reference_encoding(SCHEMA, frame)


# ---------------------------------------------------------------------------------------------------- files
def test_reading_files_encodes_values_as_they_are():
    """A verifier encodes a file's values as they are (NaN, nulls, odd physical types): the same bytes as before."""
    schema = FeatureSchema(
        (Column("f", "float64"), Column("i", "int64"), Column("b", "bool"), Column("s", "string")),
        Column("y", "string"),
    )
    table = pa.table({
        "f": pa.array([1.5, None, SIGNALING_NAN, -0.0, NEGATIVE_NAN], pa.float64()),
        "i": pa.array([1, 2, -3, 2**62, 0], pa.int64()),
        "b": pa.array([True, None, False, True, False], pa.bool_()),
        "s": pa.array(["a", None, "日本", "", "z"], pa.string()),
        "y": pa.array([b"raw", b"\xff", b"", b"x", b"y"], pa.binary()),
    })  # fmt: skip
    sink = io.BytesIO()
    pq.write_table(table, sink)
    frame, rows = read_rows(sink.getvalue(), schema, 5)
    assert rows == reference_encoding(schema, frame)
    assert rows[1].startswith(b"f" + struct.pack(">d", np.nan))
    assert rows[2][1:9] == bytes.fromhex("7ff0000000000001") or rows[2][1:9] == struct.pack(">d", frame["f"][2])
    table = table.set_column(1, "i", pa.array([1, None, 3, 4, 5], pa.int64()))
    sink = io.BytesIO()
    pq.write_table(table, sink)
    with pytest.raises(SchemaError, match="does not fit its column's type: cannot convert float NaN to integer"):
        read_rows(sink.getvalue(), schema, 5)


@pytest.mark.parametrize("count", [500, 5000])
def test_a_round_trip_through_parquet_keeps_every_byte(count):
    frame = validate(valid_frame(count, seed=3), WIDE)
    again, rows = read_rows(to_parquet(frame, WIDE), WIDE, count)
    assert len(rows) == count
    assert rows == reference_encoding(WIDE, frame) == reference_encoding(WIDE, again)


# ---------------------------------------------------------------------------------------------------- validation
def test_validation_finds_the_same_rows():
    frame = valid_frame(40, seed=5)
    frame.loc[[7, 30], :] = frame.loc[[2, 2], :].to_numpy()
    with pytest.raises(SchemaError, match="rows 7, 30 repeat earlier rows") as repeated:
        validate(frame, WIDE)
    assert repeated.value.rows == [7, 30]
    unique = frame.drop(index=[7, 30]).reset_index(drop=True)
    accepted = {keccak(row) for row in reference_encoding(WIDE, validate(unique, WIDE).iloc[[3, 9]])}
    with pytest.raises(SchemaError, match="rows 3, 9 duplicate rows the model has already accepted"):
        validate(unique, WIDE, accepted=accepted)
    clean, valid = validated_rows(unique, WIDE, keep=2**20)
    assert valid.rows == reference_encoding(WIDE, clean)
    assert rowhash.as_list(valid.digests) == [keccak(row) for row in valid.rows]
    _, over = validated_rows(unique, WIDE, keep=100)
    assert over.rows is None and over.nbytes == sum(map(len, valid.rows))


def test_validation_refuses_nan_and_unknown_labels_as_before():
    frame = valid_frame(10)
    frame.loc[4, "f"] = np.nan
    with pytest.raises(SchemaError, match="column 'f' has NaN or infinite values at row 4"):
        validate(frame, WIDE)
    frame = valid_frame(10)
    frame.loc[[2, 6], "y"] = ["eggs", "ham "]
    with pytest.raises(SchemaError, match=r"unknown labels \['eggs', 'ham '\] at rows 2, 6") as unknown:
        validate(frame, WIDE)
    assert unknown.value.rows == [2, 6]
    numbers = FeatureSchema((Column("x", "float64"),), Column("y", "int64"), (0, 1, True))
    with pytest.raises(SchemaError, match="unknown labels") as unknown:
        validate(pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [1, 2, 0]}), numbers)
    assert unknown.value.rows == [1]
    bools = FeatureSchema((Column("x", "float64"),), Column("y", "bool"), (True,))
    with pytest.raises(SchemaError, match="unknown labels") as unknown:
        validate(pd.DataFrame({"x": [1.0, 2.0], "y": [False, True]}), bools)
    assert unknown.value.rows == [0]
    mixed = FeatureSchema((Column("x", "float64"),), Column("y", "string"), ("a", 1))
    with pytest.raises(SchemaError, match="unknown labels") as unknown:
        validate(pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "1"]}), mixed)
    assert unknown.value.rows == [1]


# ---------------------------------------------------------------------------------------------------- row faults
def test_row_faults_match_row_fault_on_hostile_rows():
    schema = FeatureSchema(
        (Column("x", "float64"), Column("n", "int64"), Column("b", "bool"), Column("s", "string")),
        Column("y", "string"),
        ("cat", "dog", "é"),
        max_abs=1e6,
        max_string_bytes=8,
    )
    rng = random.Random(4)
    texts = [b"cat", b"dog", "é".encode(), b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xf0\x9f\x98\x80",
             b"0123456789", b"\xe0\x80", b"abc\xff", b"", "日本".encode(), b"\xe2\x82", b"\xef\xbf\xbf"]  # fmt: skip
    floats = [0.0, -0.0, 1e7, 5.5, np.nan, np.inf, -1e6, 1e6, SIGNALING_NAN]
    ints = [0, -(2**63), 2**63 - 1, 10**6, -(10**6), 10**6 + 1, -5]

    def cell() -> bytes:
        kind = rng.random()
        if kind < 0.2:
            return b"f" + struct.pack(">d", rng.choice(floats))
        if kind < 0.35:
            return b"i" + struct.pack(">q", rng.choice(ints))
        if kind < 0.5:
            return b"b" + bytes([rng.choice([0, 1, 2, 255])])
        text = rng.choice(texts)
        size = len(text) if rng.random() < 0.9 else rng.choice([0, 1, 100, 2**32 - 1])
        return b"s" + struct.pack(">I", size) + text

    good = encode_row(schema, (1.5, 3, True, "ab", "cat"))
    rows = [good]
    for _ in range(4000):
        if rng.random() < 0.5:
            cells = [good[0:9], good[9:18], good[18:20], good[20:27], good[27:]]
            cells[rng.randrange(5)] = cell()
            row = b"".join(cells)
        else:
            row = b"".join(cell() for _ in range(rng.randrange(0, 7)))
        if rng.random() < 0.2 and row:
            row = row[: rng.randrange(len(row) + 1)] + bytes(rng.randrange(256) for _ in range(rng.randrange(3)))
        rows.append(row)
    faults = row_faults(schema, rows)
    assert faults == [row_fault(schema, row) for row in rows]
    assert set(faults) == set(RowFault)  # every fault occurs
    assert EncodedRows.of(rows).faults(schema).tolist() == [int(f) for f in faults]
    assert row_faults(FeatureSchema((Column("x", "float64"),), Column("y", "float64")), [b""]) == [RowFault.MALFORMED]
    with pytest.raises(TypeError, match="a row is bytes"):
        row_faults(schema, ["text"])
    assert rowhash.row_faults(*rowhash.pack([good]), onchain_schema(schema)).tolist() == [0]


def test_a_forked_child_hashes_with_workers_of_its_own(mode):
    """The worker threads are the parent's: a child forked after they started gets its own (else it would wait)."""
    import multiprocessing

    if mode == "reference":
        pytest.skip("the reference code uses no threads")
    rows = [f"row {i}".encode() for i in range(20_000)]  # two parts: the worker threads start
    assert rowhash.as_list(rowhash.keccak_rows(*rowhash.pack(rows))[:3]) == [keccak(r) for r in rows[:3]]
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        assert pool.apply_async(_root_of, (rows,)).get(timeout=120) == MerkleTree(rows, key=KEY).root


def _root_of(rows: list[bytes]) -> bytes:
    return MerkleTree(rows, key=KEY).root


def test_rows_already_accepted_are_found_by_their_whole_hash():
    """The accepted-row check compares 8 bytes of every digest at once; the whole 32 decide, so a digest sharing
    only its first 8 bytes with an accepted one (a contributor can search for such rows) is not refused."""
    rng = np.random.default_rng(9)
    digests = rng.integers(0, 256, (5000, 32), dtype=np.uint8)
    twin = digests[10].copy()
    twin[31] ^= 1  # the same first 8 bytes as row 10, another hash
    accepted = {digests[4000].tobytes(), digests[3].tobytes(), twin.tobytes(), bytes(32)}
    assert data._accepted_rows(digests, accepted) == [3, 4000]
    assert data._accepted_rows(digests, {b"not a digest", digests[7].tobytes()}) == [7]  # compared as given


def test_rows_already_accepted_can_be_asked_of_an_index():
    """validate asks an index (``known(digests)``, as RowIndex answers) in one call, instead of a set of every hash
    the model has."""
    frame = valid_frame(30, seed=8)
    digests = [keccak(row) for row in reference_encoding(WIDE, validate(frame, WIDE))]

    class Index:
        asked: list[int] = []

        def known(self, array):
            self.asked.append(len(array))
            return np.isin(np.arange(len(array)), [4, 21])

    index = Index()
    with pytest.raises(SchemaError, match="rows 4, 21 duplicate rows the model has already accepted") as refused:
        validate(frame, WIDE, accepted=index)
    assert refused.value.rows == [4, 21] and index.asked == [30]
    assert data._accepted_rows(np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 32), {digests[4]}) == [4]
