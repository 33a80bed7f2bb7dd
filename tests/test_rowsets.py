"""Rows in one buffer, the table of row hashes, and the cumulative index of a model's rows (no chain needed)."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest

from colearn_jupyter import contributions
from colearn_jupyter.contributions import SUBMISSION, TRAINING, RowIndex
from colearn_jupyter.formats.data import Column, FeatureSchema
from colearn_jupyter.merkle import MerkleTree, contributor_key
from colearn_jupyter.rowsets import DigestTable, PackedRows, first_occurrences

SCHEMA = FeatureSchema((Column("x", "float64"),), Column("y", "int64"), (0, 1))


def _digests(rng: np.random.Generator, count: int, *, collide: int = 0) -> np.ndarray:
    """``count`` distinct random digests; the last ``collide`` share their first 8 bytes with the first ones."""
    digests = rng.integers(0, 256, (count, 32), dtype=np.uint8)
    digests[count - collide :, :8] = digests[:collide, :8]
    assert len({d.tobytes() for d in digests}) == count
    return digests


# ---------------------------------------------------------------------------------------------------- PackedRows
def test_packed_rows_behave_as_a_list_of_bytes():
    rows = [b"first", b"", b"\x00\x01", b"last row"]
    packed = PackedRows.of(rows)
    assert len(packed) == 4 and list(packed) == rows and packed == rows and rows == packed
    assert packed[0] == b"first" and packed[-1] == b"last row" and packed[np.int64(2)] == b"\x00\x01"
    assert packed[1:3] == rows[1:3] and packed[::-1] == rows[::-1]
    assert packed != rows[:3] and packed != [b"other", b"", b"\x00\x01", b"last row"]
    assert packed.nbytes == sum(map(len, rows))
    with pytest.raises(IndexError):
        packed[4]
    with pytest.raises(IndexError):
        packed[-5]
    assert pickle.loads(pickle.dumps(packed)) == rows
    # offsets that do not start at zero (a slice of a larger buffer)
    data = np.frombuffer(b"xxabcdef", dtype=np.uint8)
    assert PackedRows(data, np.array([2, 4, 8])) == [b"ab", b"cdef"]


def test_a_tree_of_packed_rows_is_the_tree_of_their_bytes():
    rng = np.random.default_rng(1)
    rows = [rng.bytes(int(n)) for n in rng.integers(0, 40, 3000)]
    key = contributor_key("0x" + "a1" * 20)
    packed, listed = MerkleTree(PackedRows.of(rows), key=key), MerkleTree(rows, key=key)
    assert packed.root == listed.root and np.array_equal(packed.row_hashes, listed.row_hashes)
    with pytest.raises(ValueError, match="2 keys for 3000 rows"):
        MerkleTree(PackedRows.of(rows), keys=[bytes(32)] * 2)


# ---------------------------------------------------------------------------------------------------- DigestTable
def test_first_occurrences_match_a_dict():
    rng = np.random.default_rng(2)
    distinct = _digests(rng, 300, collide=40)
    digests = distinct[rng.integers(0, 300, 2000)]
    first: dict[bytes, int] = {}
    expected = [first.setdefault(d.tobytes(), i) for i, d in enumerate(digests)]
    assert first_occurrences(digests).tolist() == expected
    assert first_occurrences(digests[:1]).tolist() == [0] and first_occurrences(digests[:0]).tolist() == []


def test_the_table_keeps_each_digest_with_its_smallest_source_and_first_position():
    rng = np.random.default_rng(3)
    distinct = _digests(rng, 5000, collide=500)  # 500 pairs share their first 8 bytes
    table, reference = DigestTable(), {}
    for source in rng.permutation(12).tolist():  # sources added in any order
        rows = distinct[rng.integers(0, 5000, 800)]  # repeats within a source too
        table.add(rows, source)
        for position, digest in enumerate(rows):
            known = reference.get(digest.tobytes())
            if known is None or known[0] > source:
                reference[digest.tobytes()] = (source, position)
    assert len(table) == len(reference)
    queries = np.concatenate([distinct, _digests(rng, 1000)])
    found = table.find(queries)
    for digest, row in zip(queries, found.tolist(), strict=True):
        expected = reference.get(digest.tobytes())
        if expected is None:
            assert row == -1
        else:
            assert table.digests[row].tobytes() == digest.tobytes()
            assert (int(table.sources[row]), int(table.positions[row])) == expected
    assert DigestTable().find(queries[:3]).tolist() == [-1, -1, -1]


# ---------------------------------------------------------------------------------------------------- RowIndex
@dataclass
class _Market:
    """What RowIndex.build reads of a marketplace: its chain's home and id, its address, and the market index."""

    submissions: list[SimpleNamespace] = field(default_factory=list)
    address: str = "0x" + "12" * 20
    chain: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(home="/nowhere", chain_id=31337))


def _submission(submission_id: int, cid: str, *, on_chain_row: bool = False) -> SimpleNamespace:
    return SimpleNamespace(id=submission_id, data_cid=cid, merkle_root="0x" + cid, contributor="0x" + "ab" * 20,
                           on_chain_row=on_chain_row)  # fmt: skip


@pytest.fixture
def fake(monkeypatch):
    """A market whose submissions are ``market.submissions`` and whose files' row hashes are ``files[cid]`` (a file
    missing from it is unusable); each build fetches the files it needs through ``fetched``."""
    market, files, fetched = _Market(), {}, []

    def row_hashes(market_, storage, submission, schema):
        fetched.append(submission.id)
        hashes = files.get(submission.data_cid, ())
        return np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(-1, 32)  # as the cache gives them

    monkeypatch.setattr(contributions, "_KNOWN", type(contributions._KNOWN)())
    monkeypatch.setattr(contributions, "market_index", lambda m: SimpleNamespace(submissions=lambda i: m.submissions))
    monkeypatch.setattr(contributions, "_row_hashes", row_hashes)
    return market, files, fetched


def _reference(market, files, training, before):
    """RowIndex.first as it was built before the cumulative index: training rows first, then each submission in
    id order, the first occurrence kept."""
    first = {}
    for position, digest in enumerate(training):
        first.setdefault(digest, ("training", 0, position))
    for submission in market.submissions:
        if submission.on_chain_row or (before is not None and submission.id >= before):
            continue
        for position, digest in enumerate(files.get(submission.data_cid, ())):
            first.setdefault(digest, ("submission", submission.id, position))
    return first


def _check(market, files, training, before, queries):
    index = RowIndex.build(market, None, 1, SCHEMA, before=before, training_hashes=training)
    expected = _reference(market, files, training, before)
    assert index.first == expected and index.hashes == set(expected)
    kinds, ids, positions = index.sources(np.frombuffer(b"".join(queries), dtype=np.uint8).reshape(-1, 32))
    known = index.known(np.frombuffer(b"".join(queries), dtype=np.uint8).reshape(-1, 32))
    assert known.tolist() == [digest in expected for digest in queries]  # what validation asks
    for digest, kind, sid, position in zip(queries, kinds.tolist(), ids.tolist(), positions.tolist(), strict=True):
        source = expected.get(digest)
        assert index.source(digest) == source and (digest in index) == (source is not None)
        if source is None:
            assert kind == 0
        else:
            assert ({TRAINING: "training", SUBMISSION: "submission"}[kind], sid, position) == source


def test_the_cumulative_index_answers_as_a_fresh_build_for_every_before(fake):
    market, files, fetched = fake
    rng = np.random.default_rng(4)
    pool = [d.tobytes() for d in _digests(rng, 3000, collide=300)]
    training = tuple(pool[:200])
    for sid in (1, 2, 3, 4, 6, 7, 8, 9):
        files[f"cid{sid}"] = [pool[i] for i in rng.integers(0, 3000, 400)]  # copies across files and within
        market.submissions.append(_submission(sid, f"cid{sid}"))
    market.submissions.insert(4, _submission(5, "", on_chain_row=True))  # an on-chain row: in no file
    queries = pool[::7] + [d.tobytes() for d in _digests(rng, 50)]
    for before in [7, 3, None, 0, 1, 10, 5, 2, 9, 6, 4, 8]:
        _check(market, files, training, before, queries)
    assert sorted(fetched) == [1, 2, 3, 4, 6, 7, 8, 9]  # each file's hashes read once
    fetched.clear()
    market.submissions.append(_submission(10, "cid10"))  # a new submission: read once, when first needed
    files["cid10"] = pool[:50] + pool[2900:]
    _check(market, files, training, 10, queries)
    assert fetched == []
    _check(market, files, training, None, queries)
    _check(market, files, (), 11, queries)  # without training rows
    assert fetched == [10]


def test_a_file_unusable_at_first_is_read_again_until_it_can_be(fake):
    market, files, fetched = fake
    rng = np.random.default_rng(5)
    pool = [d.tobytes() for d in _digests(rng, 100)]
    market.submissions = [_submission(1, "a"), _submission(2, "b"), _submission(3, "c")]
    files.update(a=pool[:10], c=pool[5:30])  # b is missing: unusable, skipped
    _check(market, files, (), None, pool)
    assert fetched == [1, 2, 3]
    files["b"] = pool[20:40]  # stored again: its rows are now the earliest copies of rows of c
    _check(market, files, (), None, pool)
    _check(market, files, (), 3, pool)
    assert fetched == [1, 2, 3, 2]


def test_the_index_starts_over_after_a_reset(fake):
    market, files, fetched = fake
    rng = np.random.default_rng(6)
    pool = [d.tobytes() for d in _digests(rng, 100)]
    market.submissions = [_submission(1, "a"), _submission(2, "b")]
    files.update(a=pool[:40], b=pool[30:60])
    _check(market, files, (), None, pool)
    # a reset devnet: the same ids, other files (and fewer of them)
    market.submissions = [_submission(1, "c")]
    files["c"] = pool[50:90]
    _check(market, files, (), None, pool)
    _check(market, files, (), 2, pool)
    assert fetched == [1, 2, 1]
    # the same marketplace on another chain or home has its own index
    market.chain = SimpleNamespace(home="/elsewhere", chain_id=31337)
    _check(market, files, (), None, pool)
    assert fetched == [1, 2, 1, 1]


@pytest.mark.parametrize("decode_bytes", [4 * 2**20, 2000])  # one batch, or many
def test_rows_read_and_hashed_meanwhile_are_the_rows_of_the_file(monkeypatch, decode_bytes):
    import pandas as pd

    from colearn_jupyter.formats import data as data_module
    from colearn_jupyter.formats.data import encode_rows, read_rows, row_hashes, to_parquet

    monkeypatch.setattr(data_module, "_DECODE_BYTES", decode_bytes)
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"x": rng.standard_normal(5000), "y": rng.integers(0, 2, 5000)})
    again, rows = read_rows(to_parquet(frame, SCHEMA), SCHEMA, 5000, hashed=True)
    assert again.equals(frame) and rows == encode_rows(SCHEMA, frame)
    assert rows.hashes is not None and [bytes(h) for h in rows.hashes] == row_hashes(list(rows))
    key = contributor_key("0x" + "a1" * 20)
    assert MerkleTree(rows, key=key).root == MerkleTree(list(rows), key=key).root
    _, plain = read_rows(to_parquet(frame, SCHEMA), SCHEMA, 5000)
    assert plain.hashes is None and plain == rows
