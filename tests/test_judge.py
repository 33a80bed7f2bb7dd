"""Session._judge_rows, judged in arrays, gives the report the row-by-row judge gave (no chain needed)."""

from __future__ import annotations

import struct
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import session as session_module
from colearn_jupyter.contributions import FileCheck, RowIndex
from colearn_jupyter.formats.data import Column, FeatureSchema, RowFault, encode_frame, row_faults
from colearn_jupyter.merkle import MerkleTree
from colearn_jupyter.rowsets import DigestTable, PackedRows
from colearn_jupyter.session import Session, _dtypes, _predict, _split

COUNT = 3000


def _old_score(model: Any, frame: pd.DataFrame, schema: FeatureSchema) -> pd.DataFrame:
    """``session._score`` as it was: predictions gathered in a list."""
    features, labels = _split(frame, schema)
    predicted = []
    for start in range(0, len(frame), 8192):
        predicted.extend(_predict(model, features.iloc[start : start + 8192], schema).tolist())
    rows = pd.DataFrame({"label": labels.to_numpy(), "predicted": predicted})
    rows["verdict"] = np.where(rows["label"] == rows["predicted"], "ok", "suspicious")
    rows.index.name = "row"
    return rows


def _old_judge(self: Any, submission: Any, schema: FeatureSchema, check: FileCheck, states: dict[int, str]) -> Any:
    """``Session._judge_rows`` as it was, row by row: the specification of the judge in arrays."""
    model_id = submission.model_id
    index = session_module.RowIndex.build(self.market, self.storage, model_id, schema, before=submission.id,
                                          training_hashes=self._training_hashes(model_id))  # fmt: skip
    first_sources = index.first
    test = self._test_rows(model_id)
    faults, copies, kinds = [], [], []
    first_in_batch: dict[bytes, int] = {}
    for position, (digest, fault) in enumerate(zip(check.hashes(), row_faults(schema, check.rows), strict=True)):
        source = first_sources.get(digest)
        kind, copy = "", ""
        if fault != RowFault.NONE:
            kind = "format"
        elif source is not None:
            kind = "training copy" if source[0] == "training" else "duplicate"
            copy = f"training row {source[2]}" if source[0] == "training" else f"submission {source[1]} row {source[2]}"
        elif digest in first_in_batch:
            kind, copy = "duplicate", f"row {first_in_batch[digest]}"
        elif digest in test:
            kind, copy = "test copy", f"test row {test[digest]}"
        first_in_batch.setdefault(digest, position)
        faults.append(fault.name.lower().replace("_", " ") if fault != RowFault.NONE else kind)
        copies.append(copy)
        kinds.append(kind)
    frame = check.frame if check.frame is not None else pd.DataFrame()
    labels = frame[schema.label.name].to_numpy() if not frame.empty else []
    predicted: list[Any] = [None] * len(check.rows)
    clean = [i for i, kind in enumerate(kinds) if not kind]
    if clean:
        model = self._current_model(model_id)
        scored = _old_score(model, frame.iloc[clean].astype(_dtypes(schema)), schema)
        for position, value in zip(clean, scored["predicted"], strict=True):
            predicted[position] = value
    rows = pd.DataFrame({"label": labels, "predicted": predicted, "fault": faults, "copy of": copies,
                         "challenge": kinds})  # fmt: skip
    verdicts = []
    for position in range(len(rows)):
        state = states.get(position)
        if state in ("rejected", "challenged"):
            verdicts.append(state)
        elif kinds[position]:
            verdicts.append("bad")
        elif state == "label challenged":
            verdicts.append("challenged")
        elif predicted[position] is not None and predicted[position] != labels[position]:
            verdicts.append("suspicious")
        else:
            verdicts.append("ok")
    rows["verdict"] = verdicts
    judged = [i for i, state in states.items() if state == "label judged"]
    rows.loc[(rows["verdict"] == "suspicious") & ~rows.index.isin(judged), "challenge"] = "label"
    rows.index.name = "row"
    return rows


def _schema(label: str) -> FeatureSchema:
    labels = {"int64": (0, 1), "string": ("no", "yes"), "bool": (False, True)}[label]
    return FeatureSchema((Column("a", "float64"), Column("b", "float64")), Column("y", label), labels, 1e6)


def _frame(label: str, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(COUNT), rng.standard_normal(COUNT)
    truth = (a + b + rng.standard_normal(COUNT)) > 0
    y: Any = {"int64": truth.astype(np.int64), "string": np.where(truth, "yes", "no"), "bool": truth}[label]
    return pd.DataFrame({"a": a, "b": b, "y": y})


def _digest(rows: list[bytes], *positions: int) -> np.ndarray:
    tree = MerkleTree([rows[p] for p in positions], key=bytes(32))
    assert tree.row_hashes is not None
    return tree.row_hashes


def _case(label: str, *, findings: bool) -> tuple[FeatureSchema, pd.DataFrame, list[bytes], RowIndex, dict, Any, dict]:
    """A file's frame and rows with every kind of finding (when ``findings``), its index, test rows and states."""
    schema, frame = _schema(label), _frame(label)
    model = LogisticRegression().fit(frame[["a", "b"]].iloc[:1000], frame["y"].iloc[:1000])
    states: dict[int, str] = {}
    if not findings:
        rows = encode_frame(schema, frame).rows()
        return schema, frame, rows, RowIndex(before=5), {}, model, states
    frame.loc[[10, 61], "a"] = np.nan  # out of bounds (NaN), and row 61 repeats the faulty row 10 below
    frame.loc[11, "b"] = 1e9  # out of bounds
    frame.loc[[60, 73, 50], ["a", "b", "y"]] = frame.loc[[55, 70, 20], ["a", "b", "y"]].to_numpy()  # repeats
    prediction = model.predict(frame[["a", "b"]].iloc[[103]])[0]
    frame["y"] = frame["y"].astype(object)
    frame.loc[103, "y"] = schema.labels[1] if prediction == schema.labels[0] else schema.labels[0]  # suspicious
    frame["y"] = frame["y"].astype(_frame(label)["y"].dtype)
    rows = encode_frame(schema, frame).rows()
    rows[13] = b"f" + struct.pack(">Q", 0x8000000000000000) + rows[13][9:]  # -0.0: not canonical
    rows[14] = rows[14][:-2]  # truncated
    if label == "int64":
        rows[12] = rows[12][:-8] + (5).to_bytes(8, "big")  # a label the schema does not allow
        rows[62] = rows[12]
    training, submissions = DigestTable(), DigestTable()
    training.add(np.concatenate([_digest(rows, 20, 21, 22, 23, 24), np.full((3, 32), 7, np.uint8)]), 0)
    submissions.add(_digest(rows, 200, 30, 31, 32, 33, 34), 2)  # the earliest copies of rows 30-34
    submissions.add(_digest(rows, 33, 34, 35, 36, 21), 3)
    submissions.add(_digest(rows, 40, 41, 36), 7)  # after the batch judged (5): not earlier, so not copies
    test = {digest.tobytes(): i for i, digest in enumerate(_digest(rows, 900, 70, 71, 72, 21, 80))}
    states = {100: "rejected", 101: "challenged", 102: "label challenged", 10: "label challenged", 103: "label judged",
              104: "revealed", 20: "rejected", 33: "challenged", COUNT + 10: "rejected"}  # fmt: skip
    return schema, frame, rows, RowIndex(training, submissions, 5), test, model, states


@pytest.mark.parametrize(
    ("label", "findings"), [("int64", True), ("int64", False), ("string", True), ("string", False), ("bool", True)]
)
def test_the_judge_in_arrays_gives_the_same_report(monkeypatch, label, findings):
    schema, frame, rows, index, test, model, states = _case(label, findings=findings)
    monkeypatch.setattr(session_module.RowIndex, "build", lambda *args, **kwargs: index)
    stub = SimpleNamespace(market=None, storage=None, _training_hashes=lambda model_id: (),
                           _test_rows=lambda model_id: test, _current_model=lambda model_id: model)  # fmt: skip
    submission = SimpleNamespace(id=5, model_id=1)
    for packed, early in ((PackedRows.of(rows), True), (PackedRows.of(rows), False), (rows, False)):
        check = FileCheck(True, True, True, frame, packed, MerkleTree(packed, key=bytes(32)))
        scores = Session._score_early(stub, 1, schema, frame, packed) if early else None  # type: ignore[arg-type]
        new = Session._judge_rows(stub, submission, schema, check, states, scores)  # type: ignore[arg-type]
        old = _old_judge(stub, submission, schema, check, states)
        pd.testing.assert_frame_equal(new, old, check_exact=True)
    if findings:
        verdicts, kinds = old["verdict"].value_counts(), set(old["challenge"])
        assert {"ok", "suspicious", "bad", "challenged", "rejected"} <= set(verdicts.index)
        assert {"format", "training copy", "duplicate", "test copy", "label"} <= kinds
        assert old.loc[103, "verdict"] == "suspicious" and old.loc[103, "challenge"] == ""  # judged once already
        assert set(old.loc[[30, 33, 35, 50, 60, 61, 70, 73], "copy of"]) == {
            "submission 2 row 1", "submission 2 row 4", "submission 3 row 2", "training row 0", "row 55", "",
            "test row 1", "row 70"}  # fmt: skip


def test_a_file_of_faulty_rows_only(monkeypatch):
    schema, frame, _, _, _, model, _ = _case("int64", findings=False)
    frame = frame.iloc[:50].copy()
    frame["a"] = np.nan
    rows = encode_frame(schema, frame).rows()
    monkeypatch.setattr(session_module.RowIndex, "build", lambda *args, **kwargs: RowIndex(before=5))
    stub = SimpleNamespace(market=None, storage=None, _training_hashes=lambda model_id: (),
                           _test_rows=lambda model_id: {}, _current_model=lambda model_id: model)  # fmt: skip
    check = FileCheck(True, True, True, frame, PackedRows.of(rows), MerkleTree(rows, key=bytes(32)))
    submission, states = SimpleNamespace(id=5, model_id=1), {3: "label challenged"}
    old = _old_judge(stub, submission, schema, check, states)
    for early in (None, Session._score_early(stub, 1, schema, frame, check.rows)):  # type: ignore[arg-type]
        new = Session._judge_rows(stub, submission, schema, check, states, early)  # type: ignore[arg-type]
        pd.testing.assert_frame_equal(new, old, check_exact=True)
    assert set(new["verdict"]) == {"bad"} and new["predicted"].isna().all()


def test_a_model_that_cannot_be_loaded_fails_the_judge(monkeypatch):
    schema, frame, rows, index, test, _, states = _case("int64", findings=True)
    monkeypatch.setattr(session_module.RowIndex, "build", lambda *args, **kwargs: index)

    def unloadable(model_id):
        raise session_module.ColearnError("the model cannot be loaded")

    stub = SimpleNamespace(market=None, storage=None, _training_hashes=lambda model_id: (),
                           _test_rows=lambda model_id: test, _current_model=unloadable)  # fmt: skip
    check = FileCheck(True, True, True, frame, PackedRows.of(rows), MerkleTree(rows, key=bytes(32)))
    early = Session._score_early(stub, 1, schema, frame, check.rows)  # type: ignore[arg-type]
    with pytest.raises(session_module.ColearnError, match="cannot be loaded"):
        Session._judge_rows(stub, SimpleNamespace(id=5, model_id=1), schema, check, states, early)  # type: ignore[arg-type]


def test_rows_that_cannot_be_prepared_for_the_model_are_left_to_the_judge():
    schema, frame, rows, _, _, model, _ = _case("int64", findings=False)
    odd = frame.astype({"a": object})
    odd.loc[5, "a"] = "not a number"  # a frame the file's rows do not describe: astype fails, nothing is raised
    stub = SimpleNamespace(_current_model=lambda model_id: model)
    assert Session._score_early(stub, 1, schema, odd, PackedRows.of(rows)) is None  # type: ignore[arg-type]
    early = Session._score_early(stub, 1, schema, frame, PackedRows.of(rows))  # type: ignore[arg-type]
    assert early is not None and early.future is not None and len(early.future.result()) == COUNT
