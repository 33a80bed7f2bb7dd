"""Row hashes of committed files are fetched and hashed once per colearn home, whichever process meets them first."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import Session, contributions, rowcache
from colearn_jupyter.contributions import RowIndex, model_metadata
from colearn_jupyter.rowcache import RowHashCache


@pytest.fixture(scope="module")
def contributed(chain, iris_frame):
    iris = iris_frame(random_state=11)
    owner = Session("owner", chain=chain)
    train, test = iris.iloc[:45], iris.iloc[45:95]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    card = owner.publish(clf, name="rowcache", train=train, test=test, label="target", window="1h", pool="1")
    submission = owner.as_account("alice").contribute(card.id, iris.iloc[95:110])
    return owner, card.id, submission


def _index(owner, model_id):
    schema = model_metadata(owner.market, owner.storage, model_id).feature_schema
    return RowIndex.build(owner.market, owner.storage, model_id, schema)


def _as_another_process(monkeypatch):
    """A new process of the same home: nothing in memory, and any fetch of a submission's file is an error."""
    monkeypatch.setattr(rowcache, "_CACHES", {})

    def no_fetch(*args, **kwargs):
        raise AssertionError("a file this home has already hashed was fetched again")

    monkeypatch.setattr(contributions, "inspect_submission", no_fetch)


def test_another_process_reads_the_hashes_instead_of_the_file(contributed, monkeypatch):
    owner, model_id, submission = contributed
    first = _index(owner, model_id).first
    mine = {digest for digest, (_, sid, _) in first.items() if sid == submission.id}
    assert len(mine) == submission.row_count == 15
    _as_another_process(monkeypatch)
    assert _index(owner, model_id).first == first  # the same index, from the home's database alone


def test_a_forked_process_opens_its_own_connection(contributed):
    owner, model_id, _ = contributed
    expected = _index(owner, model_id).hashes
    context = multiprocessing.get_context("fork")
    queue = context.Queue()

    def child():
        rowcache._CACHES.clear()
        contributions.inspect_submission = None  # any fetch fails: the hashes must come from the database
        queue.put(sorted(_index(owner, model_id).hashes))

    process = context.Process(target=child)
    process.start()
    found = queue.get(timeout=60)
    process.join(timeout=60)
    assert process.exitcode == 0 and set(found) == expected


def test_a_damaged_entry_is_ignored_and_rebuilt(tmp_path):
    cache = RowHashCache(tmp_path)
    key = ("cid", "0xroot", "0xabc", "{}")
    cache.put(key, [bytes(32)])
    cache._db().execute("UPDATE row_hashes SET hashes = ?", (b"\x01" * 33,))
    assert RowHashCache(tmp_path).get(key) is None  # not a whole number of hashes: computed again
    with pytest.raises(ValueError, match="32 bytes"):
        cache.put(key, [b"short"])


def test_an_array_of_hashes_is_kept_as_its_bytes(tmp_path):
    cache = RowHashCache(tmp_path)
    key = ("cid", "0xroot", "0xabc", "{}")
    hashes = np.arange(3 * 32, dtype=np.uint8).reshape(3, 32)
    cache.put(key, hashes)
    expected = tuple(row.tobytes() for row in hashes)
    assert cache.get(key) == expected and RowHashCache(tmp_path).get(key) == expected
    assert np.array_equal(cache.get_array(key), hashes)
    assert np.array_equal(RowHashCache(tmp_path).get_array(key), hashes)
    cache.put(key, [bytes(32)])  # written again as bytes: the array read next is the new entry
    assert cache.get_array(key).tobytes() == bytes(32)
    assert RowHashCache(tmp_path).get_array(("no", "such", "file", "{}")) is None
    with pytest.raises(ValueError, match=r"\(n, 32\) array"):
        cache.put(key, np.zeros((2, 31), dtype=np.uint8))


def test_a_new_process_checks_training_rows_without_fetching_the_training_file(chain, iris_frame, monkeypatch):
    """The owner's training file is fetched, checked and hashed once per home too: a new kernel's contribution and
    preview refuse its rows from the hashes alone."""
    from colearn_jupyter import session as session_module

    iris = iris_frame(random_state=31)
    owner = Session("owner", chain=chain)
    train, test = iris.iloc[:45], iris.iloc[45:95]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    card = owner.publish(clf, name="rowcache-training", train=train, test=test, label="target", window="1h", pool="1")
    owner.as_account("alice").contribute(card.id, iris.iloc[95:100])
    _as_another_process(monkeypatch)
    monkeypatch.setattr(session_module, "_TRAINING", {})

    def no_fetch(*args, **kwargs):
        raise AssertionError("the training file was fetched again")

    monkeypatch.setattr(session_module, "fetch_file", no_fetch)
    alice = Session("alice", chain=chain)
    assert alice.contribute(card.id, iris.iloc[100:105]).row_count == 5
    preview = alice.preview(card.id, train.iloc[:2])
    assert not preview["valid"] and "already accepted" in preview["problem"]
