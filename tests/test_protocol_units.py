"""The pure-Python halves of the integrity protocol, byte for byte: row trees, binary CIDs, the on-chain row schema.

No chain here: these are the building blocks the contract must agree with.
"""

from __future__ import annotations

import base64
import json
import math
import random
import struct

import numpy as np
import pandas as pd
import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from colearn_jupyter.formats.data import (
    Column,
    FeatureSchema,
    RowFault,
    SchemaError,
    decode_row,
    encode_row,
    encode_rows,
    float_bits,
    merkle_tree,
    onchain_schema,
    read_data,
    row_fault,
    schema_hash,
    to_parquet,
    validate,
)
from colearn_jupyter.formats.metadata import ModelMetadata, validate_metadata
from colearn_jupyter.merkle import MerkleTree, contributor_key, row_leaf, verify_proof
from colearn_jupyter.merkle import test_row_nonce as row_nonce  # aliased: pytest would collect a test_* name
from colearn_jupyter.storage.cid import CID, DAG_PB, RAW, cid_from_bytes, cid_to_bytes, decode_cid, make_cid, raw_cid

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
KEY = contributor_key(ALICE)
OTHER_KEY = contributor_key("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC")


# ---------------------------------------------------------------------------------------------------- trees
def reference_leaf(key: bytes, index: int, row: bytes) -> bytes:
    return keccak(keccak(abi_encode(["bytes32", "uint256", "bytes32"], [key, index, keccak(row)])))


def reference_root(leaves: list[bytes]) -> bytes:
    """The positional tree, written independently: recursion over levels, odd last node promoted."""
    if len(leaves) == 1:
        return leaves[0]
    pairs = [leaves[i : i + 2] for i in range(0, len(leaves), 2)]
    return reference_root([keccak(p[0] + p[1]) if len(p) == 2 else p[0] for p in pairs])


def rows_of(n: int) -> list[bytes]:
    return [f"row {i}".encode() for i in range(n)]


def test_keys_and_leaves_follow_the_abi():
    assert KEY == abi_encode(["uint256"], [int(ALICE, 16)])
    assert contributor_key(ALICE.lower()) == KEY
    assert row_nonce(b"\x07" * 32, 5) == keccak(abi_encode(["bytes32", "uint256"], [b"\x07" * 32, 5]))
    assert row_leaf(KEY, 3, b"abc") == reference_leaf(KEY, 3, b"abc")
    assert row_leaf(KEY, 2**256 - 1, b"") == reference_leaf(KEY, 2**256 - 1, b"")
    for bad in ("0x1234", "70997970C51812dc3A010C7d01b50e0d17dc79C8", ALICE + "00", "0x" + "g" * 40):
        with pytest.raises(ValueError, match="not an Ethereum address"):
            contributor_key(bad)
    with pytest.raises(ValueError, match="32 bytes"):
        row_leaf(b"short", 0, b"row")
    with pytest.raises(ValueError, match="32 bytes"):
        row_nonce(b"short", 0)


@pytest.mark.parametrize("n", range(1, 10))
def test_positional_roots_match_an_independent_tree(n):
    rows = rows_of(n)
    leaves = [reference_leaf(KEY, i, row) for i, row in enumerate(rows)]
    tree = MerkleTree(rows, key=KEY)
    assert len(tree) == n
    assert tree.root == reference_root(leaves)
    assert MerkleTree(leaves=leaves).root == tree.root
    salt = b"\x42" * 32
    nonces = [row_nonce(salt, i) for i in range(n)]
    test_tree = MerkleTree(rows, keys=nonces)
    assert test_tree.root == reference_root(
        [reference_leaf(k, i, r) for i, (k, r) in enumerate(zip(nonces, rows, strict=True))]
    )


def test_small_trees_by_hand():
    rows = rows_of(6)
    leaf = [reference_leaf(KEY, i, r) for i, r in enumerate(rows)]

    def h(a, b):
        return keccak(a + b)

    assert MerkleTree(rows[:1], key=KEY).root == leaf[0]
    assert MerkleTree(rows[:2], key=KEY).root == h(leaf[0], leaf[1])
    assert MerkleTree(rows[:3], key=KEY).root == h(h(leaf[0], leaf[1]), leaf[2])
    assert MerkleTree(rows[:5], key=KEY).root == h(h(h(leaf[0], leaf[1]), h(leaf[2], leaf[3])), leaf[4])
    assert MerkleTree(rows[:6], key=KEY).root == h(h(h(leaf[0], leaf[1]), h(leaf[2], leaf[3])), h(leaf[4], leaf[5]))
    # not sorted pairs: swapping two rows changes the root
    assert MerkleTree([rows[1], rows[0]], key=KEY).root != MerkleTree(rows[:2], key=KEY).root


def path_shape(index: int, count: int) -> list[bool]:
    """For each level up to the root, whether the node of row ``index`` has a sibling there."""
    shape, width = [], count
    while width > 1:
        shape.append(not (index % 2 == 0 and index == width - 1))
        index, width = index // 2, (width + 1) // 2
    return shape


@pytest.mark.parametrize("n", [*range(1, 10), 16, 17, 33])
def test_proofs_verify_only_their_own_row(n):
    rows = rows_of(n)
    tree = MerkleTree(rows, key=KEY)
    for i, row in enumerate(rows):
        proof = tree.proof(i)
        assert verify_proof(tree.root, n, KEY, i, row, proof)
        assert tree.verify(i, row, proof, KEY)
        assert not tree.verify(i, row, proof, OTHER_KEY)
        assert not verify_proof(tree.root, n, OTHER_KEY, i, row, proof)
        assert not verify_proof(tree.root, n, KEY, i, row + b"!", proof)
        assert not verify_proof(tree.root, n, KEY, i, rows[(i + 1) % n], proof) or n == 1
        for j in range(-1, n + 2):
            if j != i:
                assert not verify_proof(tree.root, n, KEY, j, row, proof), (i, j)
        for count in range(2 * n + 3):
            # another count takes the proof only where it gives the row the very same path (e.g. row 0 of 3 or 4)
            same_path = i < count and path_shape(i, count) == path_shape(i, n)
            assert verify_proof(tree.root, count, KEY, i, row, proof) == same_path, (i, count)
        assert not verify_proof(tree.root, n, KEY, i, row, [*proof, bytes(32)])
        assert not verify_proof(tree.root, n, KEY, i, row, [*proof, proof[-1]] if proof else [tree.root])
        if proof:
            assert not verify_proof(tree.root, n, KEY, i, row, proof[:-1])
            tampered = [*proof[:-1], bytes(a ^ 1 for a in proof[-1])]
            assert not verify_proof(tree.root, n, KEY, i, row, tampered)
    assert not verify_proof(tree.root, 0, KEY, 0, rows[0], tree.proof(0))
    assert not verify_proof(tree.root, n, KEY, n, rows[0], tree.proof(0))


def test_proof_lengths_are_fixed_by_index_and_count():
    for n in range(1, 40):
        tree = MerkleTree(rows_of(n), key=KEY)
        for i in range(n):
            assert len(tree.proof(i)) == sum(path_shape(i, n))


def test_one_leaf_trees_take_an_empty_proof():
    tree = MerkleTree([b"only"], key=KEY)
    assert tree.root == reference_leaf(KEY, 0, b"only")
    assert tree.proof(0) == []
    assert verify_proof(tree.root, 1, KEY, 0, b"only", [])
    assert not verify_proof(tree.root, 1, KEY, 0, b"only", [bytes(32)])
    assert not verify_proof(tree.root, 1, KEY, 1, b"only", [])
    assert not verify_proof(tree.root, 1, OTHER_KEY, 0, b"only", [])
    assert not verify_proof(tree.root, 0, KEY, 0, b"only", [])


def test_verify_proof_never_raises():
    tree = MerkleTree(rows_of(3), key=KEY)
    proof = tree.proof(1)
    for args in [
        (tree.root, 3, KEY, -1, b"row 1", proof),
        (tree.root, -3, KEY, 1, b"row 1", proof),
        (tree.root[:31], 3, KEY, 1, b"row 1", proof),
        (tree.root, 3, KEY[:20], 1, b"row 1", proof),
        (tree.root, 3, KEY, 1, b"row 1", [proof[0][:31], *proof[1:]]),
        (tree.root, 3, KEY, 1, "row 1", proof),
        (tree.root, 3, KEY, 1, b"row 1", [None]),
        (None, 3, KEY, 1, b"row 1", proof),
        (tree.root, 2**300, KEY, 2**280, b"row 1", proof),
    ]:
        assert verify_proof(*args) is False, args


def test_tree_arguments():
    with pytest.raises(TypeError, match="exactly one of"):
        MerkleTree([b"a"])
    with pytest.raises(TypeError, match="exactly one of"):
        MerkleTree([b"a"], key=KEY, keys=[KEY])
    with pytest.raises(ValueError, match="one key per row"):
        MerkleTree([b"a", b"b"], keys=[KEY])
    with pytest.raises(ValueError, match="at least one row"):
        MerkleTree([], key=KEY)
    with pytest.raises(IndexError, match="no row 3"):
        MerkleTree([b"a"] * 3, key=KEY).proof(3)
    assert MerkleTree((r for r in rows_of(5)), key=KEY).root == MerkleTree(rows_of(5), key=KEY).root


def test_a_parquet_file_rebuilds_the_same_root():
    frame = pd.DataFrame({"x": [0.5, -1.25, 3.0], "n": [1, 2, 3], "y": ["a", "b", "a"]})
    schema = FeatureSchema.infer(frame, label="y")
    again = read_data(to_parquet(validate(frame, schema), schema), schema)
    rows = encode_rows(schema, again)
    assert merkle_tree(schema, again, key=KEY).root == reference_root(
        [reference_leaf(KEY, i, r) for i, r in enumerate(rows)]
    )


# ---------------------------------------------------------------------------------------------------- CIDs
def test_binary_cids_round_trip():
    raw = raw_cid(b"hello world")
    assert raw.startswith("bafk")
    binary = cid_to_bytes(raw)
    assert len(binary) == 36
    assert binary[:4] == bytes([0x01, 0x55, 0x12, 0x20])
    assert binary[4:] == decode_cid(raw).digest == decode_cid(raw).to_bytes()[4:]
    assert cid_from_bytes(binary) == raw

    dag = str(make_cid(b"\x12\x05block", DAG_PB))
    assert dag.startswith("bafy")
    assert cid_to_bytes(dag)[:4] == bytes([0x01, 0x70, 0x12, 0x20])
    assert cid_from_bytes(cid_to_bytes(dag)) == dag
    recorded = "bafybeifwp2ckiq7kaefcrxkcalv6bs5x7e7ozrigy4ypvcqwetgnxfb2hi"  # test_storage: a two-chunk file
    assert cid_from_bytes(cid_to_bytes(recorded)) == recorded
    assert cid_from_bytes(bytearray(cid_to_bytes(recorded))) == recorded

    v0 = str(make_cid(b"\x12\x05block", DAG_PB, version=0))
    assert v0.startswith("Qm")
    assert cid_to_bytes(v0) == cid_to_bytes(dag)
    assert cid_from_bytes(cid_to_bytes(v0)) == dag


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "../../etc/passwd",
        "bafk",
        "b!!!!",
        "Qm" + "0" * 44,  # '0' is not base58
        "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQ",  # 45 characters
        raw_cid(b"x").upper(),
        "B" + raw_cid(b"x")[1:],
        raw_cid(b"x") + "a",
        raw_cid(b"x")[:-2],
        "z" + raw_cid(b"x")[1:],
        str(CID(1, 0x71, bytes(32))),  # dag-cbor
        str(CID(1, 0x0129, bytes(32))),  # dag-json, a two-byte codec varint
        "b" + base64.b32encode(bytes([1, RAW, 0x13, 0x40]) + bytes(64)).decode().lower().rstrip("="),
        "b" + base64.b32encode(bytes([1, RAW, 0x12, 0x14]) + bytes(20)).decode().lower().rstrip("="),
        "b" + base64.b32encode(bytes([0x12, 0x20]) + bytes(32)).decode().lower().rstrip("="),
    ],
)
def test_cid_to_bytes_refuses_anything_else(text):
    with pytest.raises(ValueError):
        cid_to_bytes(text)


def test_cid_from_bytes_refuses_anything_else():
    good = cid_to_bytes(raw_cid(b"x"))
    for bad in [
        b"",
        good[:35],
        good + b"\0",
        bytes([0x00]) + good[1:],
        bytes([0x01, 0x71]) + good[2:],
        bytes([0x01, 0x55, 0x13]) + good[3:],
        bytes([0x01, 0x55, 0x12, 0x21]) + good[4:],
        good[2:] + bytes(2),
        "01551220" + "00" * 32,
        None,
    ]:
        with pytest.raises(ValueError):
            cid_from_bytes(bad)


# ---------------------------------------------------------------------------------------------------- row schema
SCHEMA = FeatureSchema(
    (Column("x", "float64"), Column("n", "int64"), Column("flag", "bool"), Column("text", "string")),
    Column("y", "string"),
    ("cat", "dog"),
    max_abs=1e9,
    max_string_bytes=8,
)


def fcell(value: float | int) -> bytes:
    """A float64 cell from a float, or from raw bits when given an int."""
    return b"f" + (value.to_bytes(8, "big") if isinstance(value, int) else struct.pack(">d", value))


def icell(value: int) -> bytes:
    return b"i" + value.to_bytes(8, "big", signed=True)


def bcell(byte: int) -> bytes:
    return b"b" + bytes([byte])


def scell(data: bytes | str, length: int | None = None) -> bytes:
    data = data.encode() if isinstance(data, str) else data
    return b"s" + (len(data) if length is None else length).to_bytes(4, "big") + data


GOOD_CELLS = {"x": fcell(1.5), "n": icell(7), "flag": bcell(1), "text": scell("hi"), "y": scell("cat")}


def make_row(**cells: bytes) -> bytes:
    """A row of SCHEMA: the good cells, some replaced."""
    return b"".join({**GOOD_CELLS, **cells}.values())


def test_a_canonical_row_has_no_fault():
    assert make_row() == encode_row(SCHEMA, (1.5, 7, True, "hi", "cat"))
    assert row_fault(SCHEMA, make_row()) is RowFault.NONE
    assert decode_row(SCHEMA, make_row()) == {"x": 1.5, "n": 7, "flag": True, "text": "hi", "y": "cat"}


@pytest.mark.parametrize(
    ("cells", "fault"),
    [
        ({"x": fcell(math.nan)}, RowFault.OUT_OF_BOUNDS),
        ({"x": fcell(0x7FF8000000000001)}, RowFault.OUT_OF_BOUNDS),  # a signalling NaN
        ({"x": fcell(0xFFF8000000000000)}, RowFault.OUT_OF_BOUNDS),  # a negative NaN
        ({"x": fcell(math.inf)}, RowFault.OUT_OF_BOUNDS),
        ({"x": fcell(-math.inf)}, RowFault.OUT_OF_BOUNDS),
        ({"x": fcell(1e308)}, RowFault.OUT_OF_BOUNDS),
        ({"x": fcell(-1e308)}, RowFault.OUT_OF_BOUNDS),
        ({"x": fcell(math.nextafter(1e9, math.inf))}, RowFault.OUT_OF_BOUNDS),
        ({"x": fcell(1e9)}, RowFault.NONE),
        ({"x": fcell(-1e9)}, RowFault.NONE),
        ({"x": fcell(5e-324)}, RowFault.NONE),  # the smallest subnormal
        ({"x": fcell(0.0)}, RowFault.NONE),
        ({"x": fcell(0x8000000000000000)}, RowFault.NON_CANONICAL),  # -0.0
        ({"x": fcell(-0.0)}, RowFault.NON_CANONICAL),
        ({"n": icell(-(2**63))}, RowFault.OUT_OF_BOUNDS),
        ({"n": icell(2**63 - 1)}, RowFault.OUT_OF_BOUNDS),
        ({"n": icell(10**9 + 1)}, RowFault.OUT_OF_BOUNDS),
        ({"n": icell(-(10**9) - 1)}, RowFault.OUT_OF_BOUNDS),
        ({"n": icell(10**9)}, RowFault.NONE),
        ({"n": icell(-(10**9))}, RowFault.NONE),
        ({"flag": bcell(0)}, RowFault.NONE),
        ({"flag": bcell(2)}, RowFault.BAD_BOOL),
        ({"flag": bcell(0xFF)}, RowFault.BAD_BOOL),
        ({"text": scell(b"\xc0\xaf")}, RowFault.BAD_UTF8),  # overlong '/'
        ({"text": scell(b"\xe0\x80\xaf")}, RowFault.BAD_UTF8),  # overlong, three bytes
        ({"text": scell(b"\xed\xa0\x80")}, RowFault.BAD_UTF8),  # surrogate U+D800
        ({"text": scell(b"\xf4\x90\x80\x80")}, RowFault.BAD_UTF8),  # U+110000
        ({"text": scell(b"\xe2\x82")}, RowFault.BAD_UTF8),  # truncated sequence
        ({"text": scell(b"\x80")}, RowFault.BAD_UTF8),  # lone continuation byte
        ({"text": scell("é€")}, RowFault.NONE),
        ({"text": scell("😀😀")}, RowFault.NONE),  # 8 bytes: exactly the limit
        ({"text": scell("")}, RowFault.NONE),
        ({"text": scell("123456789")}, RowFault.STRING_TOO_LONG),
        ({"text": scell("😀😀a")}, RowFault.STRING_TOO_LONG),  # 3 characters, 9 bytes
        ({"text": scell(b"", length=2**32 - 1)}, RowFault.STRING_TOO_LONG),  # too long even though the bytes are absent
        ({"text": scell(b"abc", length=8)}, RowFault.MALFORMED),  # within the limit but truncated
        ({"y": scell("cow")}, RowFault.LABEL_NOT_ALLOWED),
        ({"y": scell("cat ")}, RowFault.LABEL_NOT_ALLOWED),
        ({"y": scell("dog")}, RowFault.NONE),
        ({"x": icell(1)}, RowFault.MALFORMED),  # wrong tag
        ({"x": b"F" + struct.pack(">d", 1.0)}, RowFault.MALFORMED),
        ({"flag": b"x\x01"}, RowFault.MALFORMED),  # unknown tag
        ({"y": b""}, RowFault.MALFORMED),  # the label is missing
        # the first fault in column order wins
        ({"x": fcell(math.nan), "flag": bcell(2), "y": scell("cow")}, RowFault.OUT_OF_BOUNDS),
        ({"flag": bcell(2), "text": scell(b"\xc0\xaf")}, RowFault.BAD_BOOL),
        ({"text": scell(b"\xc0\xaf"), "y": scell("cow")}, RowFault.BAD_UTF8),
        ({"y": scell("cow") + b"\0"}, RowFault.TRAILING_BYTES),  # trailing bytes before the label check
    ],
)
def test_row_faults(cells, fault):
    assert row_fault(SCHEMA, make_row(**cells)) is fault


def test_trailing_and_truncated_rows():
    good = make_row()
    assert row_fault(SCHEMA, good + b"\0") is RowFault.TRAILING_BYTES
    assert row_fault(SCHEMA, good + scell("extra")) is RowFault.TRAILING_BYTES
    for cut in range(len(good)):
        assert row_fault(SCHEMA, good[:cut]) is RowFault.MALFORMED, cut
        with pytest.raises(SchemaError):
            decode_row(SCHEMA, good[:cut])
    with pytest.raises(SchemaError, match="beyond the schema"):
        decode_row(SCHEMA, good + b"\0")


def test_integer_bounds_are_capped_at_int64():
    huge = FeatureSchema((Column("n", "int64"),), Column("y", "int64"), max_abs=1e300)
    assert onchain_schema(huge)[3] == 2**63 - 1
    assert row_fault(huge, icell(2**63 - 1) + icell(-(2**63) + 1)) is RowFault.NONE
    assert row_fault(huge, icell(-(2**63)) + icell(0)) is RowFault.OUT_OF_BOUNDS  # |-2**63| = 2**63
    fractional = FeatureSchema((Column("n", "int64"),), Column("y", "int64"), max_abs=1.5)
    assert onchain_schema(fractional)[3] == 1
    assert row_fault(fractional, icell(-1) + icell(1)) is RowFault.NONE
    assert row_fault(fractional, icell(2) + icell(0)) is RowFault.OUT_OF_BOUNDS


def test_labels_of_every_type():
    ints = FeatureSchema((Column("x", "float64"),), Column("y", "int64"), (0, 1, 2))
    assert row_fault(ints, fcell(1.0) + icell(2)) is RowFault.NONE
    assert row_fault(ints, fcell(1.0) + icell(3)) is RowFault.LABEL_NOT_ALLOWED
    bools = FeatureSchema((Column("x", "float64"),), Column("y", "bool"), (True,))
    assert row_fault(bools, fcell(1.0) + bcell(1)) is RowFault.NONE
    assert row_fault(bools, fcell(1.0) + bcell(0)) is RowFault.LABEL_NOT_ALLOWED
    regression = FeatureSchema((Column("x", "float64"),), Column("y", "float64"))
    assert row_fault(regression, fcell(1.0) + fcell(123.25)) is RowFault.NONE
    assert row_fault(regression, fcell(1.0) + fcell(0x8000000000000000)) is RowFault.NON_CANONICAL


def _contract_is_utf8(text: bytes) -> bool:
    """RowCodec._isUtf8 of the contract, line by line (RFC 3629 table of well-formed byte sequences)."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c < 0x80:
            i += 1
            continue
        low, high = 0x80, 0xBF
        if 0xC2 <= c <= 0xDF:
            extra = 1
        elif 0xE0 <= c <= 0xEF:
            extra = 2
            low = 0xA0 if c == 0xE0 else low
            high = 0x9F if c == 0xED else high
        elif 0xF0 <= c <= 0xF4:
            extra = 3
            low = 0x90 if c == 0xF0 else low
            high = 0x8F if c == 0xF4 else high
        else:
            return False
        if i + extra >= n:
            return False
        if not low <= text[i + 1] <= high:
            return False
        if any(not 0x80 <= text[i + k] <= 0xBF for k in range(2, extra + 1)):
            return False
        i += extra + 1
    return True


def test_utf8_judgement_matches_the_contract_algorithm():
    schema = FeatureSchema((Column("x", "float64"),), Column("y", "string"), max_string_bytes=64)
    rng = random.Random(7)
    samples = [bytes([a]) for a in range(256)] + [bytes([a, c]) for a in range(0xC0, 0x100) for c in range(256)]
    for lead in range(0xE0, 0xF5):
        samples += [bytes([lead, c, d]) for c in range(0x70, 0xD0) for d in (0x7F, 0x80, 0xBF, 0xC0)]
        samples += [bytes([lead, c, 0x80, d]) for c in range(0x70, 0xD0) for d in (0x7F, 0x80, 0xBF, 0xC0)]
    samples += [bytes(rng.choice([0x41, 0x80, 0xBF, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xF5]) for _ in range(6))
                for _ in range(5000)]  # fmt: skip
    for text in samples:
        try:
            text.decode("utf-8")
            valid = True
        except UnicodeDecodeError:
            valid = False
        assert valid == _contract_is_utf8(text), text
        assert (row_fault(schema, fcell(1.0) + scell(text)) is RowFault.NONE) == valid, text


def test_rows_encoded_from_a_valid_frame_have_no_fault():
    frame = pd.DataFrame(
        {
            "x": [0.0, -0.0, 1e9, -1e9, 5e-324, 3.25],
            "n": [0, -(10**9), 10**9, 1, 2, 3],
            "flag": [True, False, True, False, True, False],
            "text": ["", "é", "😀😀", "abc", "12345678", "x"],
            "y": ["cat", "dog", "cat", "dog", "cat", "dog"],
        }
    )
    clean = validate(frame, SCHEMA)
    for encoded in encode_rows(SCHEMA, clean):
        assert row_fault(SCHEMA, encoded) is RowFault.NONE
        assert encode_row(SCHEMA, list(decode_row(SCHEMA, encoded).values())) == encoded
    assert encode_rows(SCHEMA, clean)[1].startswith(fcell(0.0))  # -0.0 written as 0.0


def test_decode_row_raises_only_schema_errors():
    rng = random.Random(11)
    good = make_row()
    for _ in range(3000):
        mutated = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            position = rng.randrange(len(mutated) + 1)
            if op < 0.5 and mutated:
                mutated[min(position, len(mutated) - 1)] = rng.randrange(256)
            elif op < 0.75:
                mutated.insert(position, rng.randrange(256))
            elif mutated:
                del mutated[min(position, len(mutated) - 1)]
        try:
            decode_row(SCHEMA, bytes(mutated))
        except SchemaError:
            pass
        row_fault(SCHEMA, bytes(mutated))  # never raises either
    for bad in (
        make_row(text=scell(b"\xc0\xaf")),
        make_row(text=scell(b"\xed\xa0\x80")),
        make_row(flag=bcell(2)),
        make_row(x=icell(1)),
        b"",
        b"\xff",
    ):
        with pytest.raises(SchemaError):
            decode_row(SCHEMA, bad)
    # bounds and labels are row_fault's job
    assert decode_row(SCHEMA, make_row(x=fcell(1e308), y=scell("cow")))["y"] == "cow"


# ---------------------------------------------------------------------------------------------------- schema hash
def test_onchain_schema_and_its_hash():
    columns, labels, max_float_bits, max_int, max_string_bytes = onchain_schema(SCHEMA)
    assert columns == b"fibss"
    assert labels == [scell("cat"), scell("dog")]
    assert max_float_bits == 0x41CDCD6500000000 == float_bits(1e9)
    assert (max_int, max_string_bytes) == (10**9, 8)
    encoded = abi_encode(["(bytes,bytes[],uint64,uint64,uint32)"], [onchain_schema(SCHEMA)])
    assert schema_hash(SCHEMA) == keccak(encoded)
    assert schema_hash(SCHEMA).hex() == "230163519967e0983361c0b1e316e8caa84e0fdc6f9df772ffa609b8a02447ba"
    assert schema_hash(FeatureSchema.from_dict(SCHEMA.to_dict())) == schema_hash(SCHEMA)
    changed = [
        FeatureSchema(SCHEMA.features, SCHEMA.label, ("dog", "cat"), 1e9, 8),
        FeatureSchema(SCHEMA.features, SCHEMA.label, ("cat",), 1e9, 8),
        FeatureSchema(SCHEMA.features, SCHEMA.label, (), 1e9, 8),
        FeatureSchema(SCHEMA.features, SCHEMA.label, SCHEMA.labels, 1e10, 8),
        FeatureSchema(SCHEMA.features, SCHEMA.label, SCHEMA.labels, 1e9, 9),
        FeatureSchema(SCHEMA.features[::-1], SCHEMA.label, SCHEMA.labels, 1e9, 8),
    ]
    hashes = {schema_hash(other) for other in changed}
    assert len(hashes) == len(changed) and schema_hash(SCHEMA) not in hashes
    # column names are not part of it: the contract never sees them
    renamed = FeatureSchema(tuple(Column(c.name + "_", c.dtype) for c in SCHEMA.features), Column("z", "string"),
                            SCHEMA.labels, 1e9, 8)  # fmt: skip
    assert schema_hash(renamed) == schema_hash(SCHEMA)


def test_schemas_the_contract_would_refuse():
    with pytest.raises(SchemaError, match="at least one feature"):
        onchain_schema(FeatureSchema((), Column("y", "int64")))
    with pytest.raises(SchemaError, match="label 'much too long'"):
        onchain_schema(FeatureSchema((Column("x", "float64"),), Column("y", "string"), ("much too long",), 1e9, 4))
    with pytest.raises(SchemaError, match="label 5000"):
        schema_hash(FeatureSchema((Column("x", "float64"),), Column("y", "int64"), (1, 5000), max_abs=1000))


# ---------------------------------------------------------------------------------------------------- FeatureSchema
def test_feature_schema_round_trips_with_and_without_bounds():
    data = SCHEMA.to_dict()
    assert data["max_abs"] == 1e9 and data["max_string_bytes"] == 8
    assert FeatureSchema.from_dict(data) == SCHEMA
    old = {k: v for k, v in data.items() if k not in ("max_abs", "max_string_bytes")}
    restored = FeatureSchema.from_dict(old)
    assert (restored.max_abs, restored.max_string_bytes) == (1e9, 1024)
    assert FeatureSchema.from_dict(restored.to_dict()) == restored
    meta = ModelMetadata(name="units", task="classification", framework="skops", feature_schema=SCHEMA)
    assert ModelMetadata.from_json(meta.to_json()).feature_schema == SCHEMA
    document = meta.to_dict()
    document["feature_schema"] = old
    assert ModelMetadata.from_json(json.dumps(document)).feature_schema == restored
    for bad in ({"max_abs": 0}, {"max_abs": -1}, {"max_string_bytes": 0}, {"max_string_bytes": 1.5},
                {"max_string_bytes": 2**32}, {"other": 1}):  # fmt: skip
        with pytest.raises(SchemaError, match="feature_schema"):
            validate_metadata({**document, "feature_schema": {**data, **bad}})


@pytest.mark.parametrize(
    "kwargs", [{"max_abs": 0}, {"max_abs": -1.0}, {"max_abs": math.nan}, {"max_abs": math.inf}, {"max_abs": True},
               {"max_abs": "1e9"}, {"max_abs": 10**400}, {"max_string_bytes": 0}, {"max_string_bytes": 2**32},
               {"max_string_bytes": 8.0}, {"max_string_bytes": True}],
)  # fmt: skip
def test_feature_schema_refuses_bad_bounds(kwargs):
    with pytest.raises(SchemaError, match="max_"):
        FeatureSchema((Column("x", "float64"),), Column("y", "int64"), **kwargs)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([0.0, 1.0], 1e6), ([5, -999.0], 1e6), ([1000.0, 1.0], 1e6), ([1000.5, 0], 1e7), ([-12345.6, 1], 1e8),
     ([1e4, 0], 1e7), ([1e296, 0], 1e299), ([1e299, 0], 1e300), ([1.7e308, 0], 1e300)],
)  # fmt: skip
def test_inferred_max_abs(values, expected):
    frame = pd.DataFrame({"x": values, "y": ["a", "b"]})
    assert FeatureSchema.infer(frame, label="y").max_abs == expected
    assert FeatureSchema.infer(frame, label="y", max_abs=42).max_abs == 42.0


def test_inferred_max_abs_counts_int_and_label_columns():
    frame = pd.DataFrame({"flag": [True, False], "n": [3, -(10**7)], "y": [0.5, 2e5]})
    assert FeatureSchema.infer(frame, label="y").max_abs == 1e10
    assert FeatureSchema.infer(frame.assign(n=[1, 2]), label="y").max_abs == 1e9


# ---------------------------------------------------------------------------------------------------- validate
def test_validate_refuses_values_beyond_the_bounds():
    frame = pd.DataFrame(
        {"x": [1.0, 1e308, 2.0, -1e10], "n": [1, 2, 3, 4], "flag": [True] * 4, "text": ["a", "b", "c", "d"],
         "y": ["cat", "dog", "cat", "dog"]}
    )  # fmt: skip
    with pytest.raises(SchemaError, match=r"column 'x' has values beyond ±1e\+09 .* rows 1, 3") as caught:
        validate(frame, SCHEMA)
    assert caught.value.rows == [1, 3]
    ints = frame.assign(x=1.0, n=[1, 10**9 + 1, -(10**9), -(2**63)])
    with pytest.raises(SchemaError, match=r"column 'n' has values beyond .* rows 1, 3") as caught:
        validate(ints, SCHEMA)
    assert caught.value.rows == [1, 3]
    floats_for_ints = frame.assign(x=1.0, n=[1.0, 1e19, 3.0, 4.0])  # would wrap if cast to int64 unchecked
    with pytest.raises(SchemaError, match=r"column 'n' has values beyond .* row 1") as caught:
        validate(floats_for_ints, SCHEMA)
    assert caught.value.rows == [1]
    unsigned = frame.assign(x=1.0, n=np.array([1, 2**64 - 1, 3, 4], dtype="uint64"))
    with pytest.raises(SchemaError, match=r"column 'n' has values beyond .* row 1"):
        validate(unsigned, SCHEMA)
    assert validate(frame.assign(x=[1.0, 1e9, -1e9, 0.0]), SCHEMA)["x"].tolist() == [1.0, 1e9, -1e9, 0.0]


def test_validate_refuses_over_long_and_unencodable_strings():
    frame = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0], "n": [1, 2, 3], "flag": [True] * 3, "text": ["fits", "123456789", "😀😀a"],
         "y": ["cat", "dog", "cat"]}
    )  # fmt: skip
    with pytest.raises(SchemaError, match=r"column 'text' has strings longer than 8 UTF-8 bytes .* rows 1, 2") as e:
        validate(frame, SCHEMA)
    assert e.value.rows == [1, 2]
    with pytest.raises(SchemaError, match=r"column 'text' has text that UTF-8 cannot encode at row 1"):
        validate(frame.assign(text=pd.Series(["ok", "\ud800", "ok"], dtype=object)), SCHEMA)
    loose = FeatureSchema(SCHEMA.features, SCHEMA.label, SCHEMA.labels, 1e9, 1024)
    assert len(validate(frame, loose)) == 3
