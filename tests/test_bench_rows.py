"""`colearn bench rows --quick --json`: every figure is there, with the right shape (timings are not asserted: a
benchmark prints them), and the tree the benchmark built is the one the reference code builds."""

from __future__ import annotations

import json

import pytest

from colearn_jupyter import rowhash
from colearn_jupyter.bench import rows
from colearn_jupyter.cli import main as cli
from colearn_jupyter.formats.data import FeatureSchema, encode_rows
from colearn_jupyter.merkle import MerkleTree, contributor_key


@pytest.mark.slow
def test_bench_rows_quick_json(capsys, monkeypatch):
    assert cli(["bench", "rows", "--quick", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) == {"machine", "tree", "contribute", "verify"}
    tree, contribute, verify = figures["tree"], figures["contribute"], figures["verify"]
    quick = rows.QUICK
    assert (tree["rows"], tree["features"], tree["row_bytes"]) == (quick["tree_rows"], quick["features"], 189)
    timed = ("kernels_seconds", "validate_and_hash_seconds", "tree_seconds", "seconds", "cpu_seconds", "peak_rss_mb")
    for name in timed:
        assert isinstance(tree[name], (int, float)) and tree[name] >= 0, name
    assert tree["rows_per_second"] > 0 and tree["native"] is True
    assert (contribute["rows"], contribute["batches"]) == (quick["contribute_rows"], 1)
    assert contribute["seconds"] > 0 and contribute["peak_rss_mb"] > 0
    assert verify["rows"] == quick["verify_rows"] and verify["usable"] is True
    assert sum(verify["verdicts"].values()) == quick["verify_rows"]
    assert set(verify["verdicts"]) <= {"ok", "suspicious"}  # honest rows: nothing to prove wrong
    assert verify["rows_per_second"] > 0 and verify["again_rows_per_second"] > 0
    # the root the child built with the kernels is the reference's, row by row in Python
    frame = rows._frame(quick["tree_rows"], quick["features"], seed=1)
    schema = FeatureSchema.infer(frame.iloc[:1000], label="label")
    monkeypatch.setattr(rowhash, "MODE", "reference")
    reference = MerkleTree(encode_rows(schema, frame), key=contributor_key("0x" + "a1" * 20))
    assert tree["root"] == reference.root.hex()


def test_bench_rows_table():
    figures = {
        "machine": {"cores": 2, "load_average": [1.0, 1.0, 1.0]},
        "tree": {"rows": 10, "features": 2, "row_bytes": 27, "seconds": 0.1, "rows_per_second": 100,
                 "validate_and_hash_seconds": 0.05, "tree_seconds": 0.05, "cpu_seconds": 0.1, "peak_rss_mb": 200.0,
                 "rss_before_mb": 190.0, "frame_mb": 0.1, "kernels_seconds": 0.5},
        "contribute": {"rows": 10, "features": 2, "batches": 1, "rows_per_batch": 10, "seconds": 0.2,
                       "rows_per_second": 50, "peak_rss_mb": 300.0, "peak_above_input_mb": 5.0},
        "verify": {"rows": 10, "features": 2, "seconds": 0.1, "rows_per_second": 100, "again_seconds": 0.1,
                   "again_rows_per_second": 100, "first_call_seconds": 3.0, "kernels_seconds": 0.5,
                   "peak_rss_mb": 300.0, "peak_above_start_mb": 1.0, "verdicts": {"ok": 10}},
    }  # fmt: skip
    table = rows.format_table(figures)
    assert "encode, hash and tree of 10 rows x 2 floats" in table
    assert "contribute 10 rows x 2 floats in 1 batch(es)" in table
    assert "verify 10 rows x 2 floats, linear model: 0.1 s (100 rows/s)" in table
