"""The hidden test set is sealed before it is stored (issue 10, finding 6): unreadable from storage before the
reveal, readable by anyone after it, and the commitment binds the exact bytes."""

from __future__ import annotations

import io
import uuid

import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import ColearnError, Session
from colearn_jupyter.testset import is_sealed, key_of, seal, unseal


def test_seal_is_deterministic_authenticated_and_salt_bound():
    salt, other = bytes(32), bytes([1]) + bytes(31)
    sealed = seal(b"rows", salt)
    assert sealed == seal(b"rows", salt) and sealed != seal(b"rows", other) and key_of(salt) != key_of(other)
    assert unseal(sealed, salt) == b"rows"
    with pytest.raises(ColearnError, match="does not open"):
        unseal(sealed, other)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(ColearnError, match="does not open"):
        unseal(tampered, salt)
    with pytest.raises(ColearnError, match="not a sealed"):
        unseal(b"PAR1 plain parquet", salt)
    with pytest.raises(ColearnError, match="32 bytes"):
        seal(b"rows", b"short")


def test_the_stored_test_set_is_unreadable_until_the_reveal(chain, iris_frame):
    owner, stranger = Session("owner", chain=chain), Session("carol", chain=chain)
    iris = iris_frame(random_state=12)
    train, test = iris.iloc[:45], iris.iloc[45:90]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    card = owner.publish(clf, name=f"sealed-{uuid.uuid4().hex[:6]}", train=train, test=test, label="target")

    secret = owner._load_secret(card.id)
    stored = owner.storage.cat(secret["test_cid"])
    assert is_sealed(stored)
    with pytest.raises(Exception):  # noqa: B017 - whatever pyarrow raises: the bytes are not a Parquet file
        pq.read_table(io.BytesIO(stored))
    assert f"{test.iloc[0]['sepal length (cm)']}".encode() not in stored
    assert stranger.revealed_test_set(card.id) is None  # nothing on chain yet
    assert stranger.market.model(card.id).test_set_cid == ""

    owner.reveal_test_set(card.id)
    revealed = stranger.revealed_test_set(card.id)  # anyone: the salt and the sealed file's CID are on chain now
    assert revealed is not None and len(revealed) == len(test)
    expected = test.reset_index(drop=True)
    pd.testing.assert_frame_equal(revealed[list(expected.columns)].reset_index(drop=True), expected, check_dtype=False)
    assert stranger.market.model(card.id).test_set_cid == secret["test_cid"]


def test_claimed_accuracies_are_checked_on_the_revealed_test_set(chain, iris_frame):
    """Finding 5: a version claiming 100% that measures less shows as disputed once the test set is revealed."""
    owner, stranger = Session("owner", chain=chain), Session("carol", chain=chain)
    iris = iris_frame(random_state=13)
    train, test = iris.iloc[:45], iris.iloc[45:90]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    card = owner.publish(clf, name=f"claims-{uuid.uuid4().hex[:6]}", train=train, test=test, label="target")
    assert card.check == "unverified" and "(unverified)" in card._repr_html_()
    # a second version: the same model file, claiming 100%
    owner.market.publish_version(owner.account, card.id, card.model_cid, 10_000)
    checks = stranger.accuracy_checks(card.id)
    assert list(checks["check"]) == ["unverified", "unverified"] and checks["measured accuracy"].isna().all()

    owner.reveal_test_set(card.id)
    checks = stranger.accuracy_checks(card.id)  # a stranger: the owner's model runs isolated
    assert list(checks["check"]) == ["verified", "disputed"]
    assert checks.loc[1, "measured accuracy"] == checks.loc[2, "measured accuracy"] == card.accuracy < 1.0
    history = stranger.history(card.id)
    assert list(history["check"]) == ["verified", "disputed"] and history.loc[2, "accuracy"] == 1.0
    latest = stranger.model(card.id)
    assert latest.check == "disputed" and "(disputed)" in latest._repr_html_()


def test_a_revealed_test_set_beyond_the_fetch_limit_is_a_refusal(chain, market, terms):
    """A stranger commits to and reveals a test set whose CID names three blocks that read as 261 MiB (a 256 KiB
    chunk linked 174 times by a node linked 6 times): checking the model's accuracies (its detail in the sidebar)
    stopped at the fetch limit with a bare MemoryError, a REST 500. A test set is a data file: fetched within the
    data-file bound, refused with a SchemaError that says so."""
    from colearn_jupyter.formats.data import SchemaError, onchain_schema
    from conftest import METADATA_CID, MODEL_CID, ROW_SCHEMA, repeated_chunk_file, test_rows

    viewer = Session("carol", chain=chain)
    root, _ = repeated_chunk_file(viewer.storage)
    salt = bytes([9]) * 32
    _, tree = test_rows(ROW_SCHEMA)
    receipt = market.publish_model(
        "grace", name=f"huge-test-set-{uuid.uuid4().hex[:6]}", model_cid=MODEL_CID, metadata_cid=METADATA_CID,
        test_set_commitment=market.test_set_commitment(salt, root), terms=terms, schema=onchain_schema(ROW_SCHEMA),
        test_root=tree.root, test_row_count=len(tree), training_root=b"\0" * 32, training_row_count=0,
        reward_pool=10**18, accuracy_bps=9000,
    )  # fmt: skip
    model_id = receipt.event("ModelPublished").args["model_id"]
    market.reveal_test_set("grace", model_id, salt, root)
    with pytest.raises(SchemaError, match="larger than the 64 MiB"):
        viewer.revealed_test_set(model_id)
    with pytest.raises(SchemaError, match="larger than the 64 MiB"):
        viewer.accuracy_checks(model_id)


def test_only_the_newest_versions_are_run_and_each_model_file_once(chain, iris_frame, monkeypatch):
    """A stranger's model of thousands of versions must not take minutes to look at: only the newest versions are
    run on the revealed test set (older ones are "unchecked"), and a model file's measure is kept for the process."""
    owner, stranger = Session("owner", chain=chain), Session("carol", chain=chain)
    iris = iris_frame(random_state=17)
    train, test = iris.iloc[:45], iris.iloc[45:90]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    card = owner.publish(clf, name=f"many-versions-{uuid.uuid4().hex[:6]}", train=train, test=test, label="target")
    claimed = round(card.accuracy * 10_000)
    owner.market.publish_version(owner.account, card.id, card.model_cid, 10_000)  # the same file, claiming 100%
    owner.market.publish_version(owner.account, card.id, card.model_cid, claimed)
    owner.reveal_test_set(card.id)
    runs = []
    model_at = Session._model_at
    monkeypatch.setattr(Session, "_model_at", lambda self, *args: runs.append(args) or model_at(self, *args))
    checks = stranger.accuracy_checks(card.id, newest=2)
    assert list(checks["check"]) == ["unchecked", "disputed", "verified"]
    assert pd.isna(checks.loc[1, "measured accuracy"]) and checks.loc[3, "measured accuracy"] == card.accuracy
    assert len(runs) == 1  # one model file: run once
    assert list(stranger.accuracy_checks(card.id)["check"]) == ["verified", "disputed", "verified"]
    assert len(runs) == 1  # looked at again: nothing runs
