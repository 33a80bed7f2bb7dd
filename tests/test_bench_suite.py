"""`colearn bench --quick --json`: every benchmark runs at small sizes, its figures have the right shape, and the
gas ratios hold (gas is deterministic, so it is asserted; times never are), the report and the chart are written.

The benchmarks' own small-size tests live here too, on the figures of this one run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import plotly.graph_objects as go
import pytest

from colearn_jupyter import rowhash
from colearn_jupyter.bench import firstcall, paper, rows, suite
from colearn_jupyter.bench.gas import CHALLENGE_KINDS
from colearn_jupyter.formats.data import FeatureSchema, encode_rows
from colearn_jupyter.merkle import MerkleTree, contributor_key


@pytest.fixture(scope="module")
def quick(colearn_home, tmp_path_factory) -> dict:
    """The command as CI and a user type it, in its own process (the gas benchmark on this worker's devnet)."""
    out = tmp_path_factory.mktemp("bench")
    report, chart = out / "benchmarks.md", out / "bench.html"
    command = [str(Path(sys.executable).parent / "colearn"), "bench", "--quick", "--json"]
    done = subprocess.run([*command, "--report", str(report), "--chart", str(chart)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "COLEARN_HOME": str(colearn_home)})  # fmt: skip
    figures = json.loads(done.stdout)
    return {"code": done.returncode, "stderr": done.stderr, "figures": figures, "report": report.read_text(),
            "chart": chart.read_text()}  # fmt: skip


def test_every_benchmark_ran(quick):
    figures = quick["figures"]
    failed = {name: result["error"] for name, result in figures["benches"].items() if "error" in result}
    assert not failed and quick["code"] == 0, (failed, quick["stderr"][-2000:])
    assert list(figures["benches"]) == list(suite.BENCHES) and figures["quick"] is True
    assert set(figures["machine"]) >= {"date", "cpu", "cores", "memory_gib", "load_average", "commit"}
    assert all(seconds > 0 for seconds in figures["seconds"].values())


def test_targets_are_read_only_at_their_sizes(quick):
    targets = {(t["bench"], t["what"]): t for t in quick["figures"]["targets"]}
    assert len(targets) == len(suite.TARGETS)
    # Quick sizes measure none of the size-bound targets: they must say so, not claim to meet them.
    for what in ("encode, hash and tree of 1M rows x 100 floats", "contribute 1M rows x 100 floats in one call "
                 "(files, storage, transactions)", "peak memory above the input, contribute 1M rows"):  # fmt: skip
        assert targets[("rows", what)]["now"] is None, what
    assert targets[("verify", "peak memory above the start, verification of 1,000,000 rows")]["now"] is None
    assert targets[("throughput", "contributions per second from 16 processes")]["met"] is None
    # Gas is the same at any size: every gas target is measured, and met.
    gas = [t for t in targets.values() if t["bench"] == "gas"]
    assert gas and all(t["met"] is True for t in gas), gas


def test_report_and_chart(quick):
    report = quick["report"]
    assert report.startswith("# Benchmarks") and "| benchmark | figure | before | now | target | met |" in report
    for name in suite.BENCHES:
        assert f"### `colearn bench {name}`" in report
    assert "not measured in this run" in report and "failed" not in report
    assert "plotly" in quick["chart"].lower() and "contributions per second" in quick["chart"]


def test_a_rerun_replaces_its_figures_and_keeps_the_others(quick):
    earlier = quick["figures"]
    gas = {**earlier["benches"]["gas"], "gas": {**earlier["benches"]["gas"]["gas"], "publish": 999_999}}
    when = {"date": "2030-01-01 00:00 UTC", "commit": "abc1234", "load_average": [0.1, 0.1, 0.1]}
    later = {"machine": earlier["machine"], "quick": True, "seconds": {"gas": 1.5}, "benches": {"gas": gas},
             "measured": {"gas": when}}  # fmt: skip
    merged = suite.merge(earlier, later)
    assert list(merged["benches"]) == list(suite.BENCHES)  # every benchmark, in the usual order
    assert merged["benches"]["gas"] is gas and merged["benches"]["ops"] == earlier["benches"]["ops"]
    assert merged["measured"]["gas"] == when and merged["measured"]["ops"] == earlier["measured"]["ops"]
    assert merged["seconds"]["gas"] == 1.5 and merged["seconds"]["ops"] == earlier["seconds"]["ops"]
    (publish,) = [t for t in merged["targets"] if (t["bench"], t["what"]) == ("gas", "publish")]
    assert (publish["now"], publish["met"]) == (999_999, False)  # the targets are read again
    report = suite.report(merged)
    assert "measured 2030-01-01 00:00 UTC at commit abc1234, load average 0.1, 0.1, 0.1" in report
    with pytest.raises(ValueError, match="quick sizes"):
        suite.merge(earlier, {**later, "quick": False})


def test_the_command_reruns_named_benchmarks_into_a_figures_file(quick, colearn_home, tmp_path):
    figures, report = tmp_path / "figures.json", tmp_path / "report.md"
    figures.write_text(json.dumps(quick["figures"]))
    command = [str(Path(sys.executable).parent / "colearn"), "bench", "market", "--quick", "--figures", str(figures),
               "--report", str(report)]  # fmt: skip
    env = {**os.environ, "COLEARN_HOME": str(colearn_home)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    updated = json.loads(figures.read_text())
    assert list(updated["benches"]) == list(suite.BENCHES)
    assert updated["benches"]["gas"] == quick["figures"]["benches"]["gas"]  # kept as it was
    assert updated["measured"]["market"] != quick["figures"]["measured"]["market"]  # measured again
    assert all(f"### `colearn bench {name}`" in report.read_text() for name in suite.BENCHES)
    full = subprocess.run([*command[:3], "--figures", str(figures)], capture_output=True, text=True, timeout=60,
                          env=env)  # fmt: skip
    assert full.returncode == 2 and "quick" in full.stderr  # full-size figures are not mixed with quick ones


def test_gas(quick):
    figures = quick["figures"]["benches"]["gas"]
    gas = figures["gas"]
    expected = {
        "publish", "publish_with_perceptron", "contribute_first_batch", "contribute_1_rows", "contribute_100_rows",
        "contribute_10000_rows", "answer", "resolve", "resolve_file", "expire", "claim", "withdraw",
        "contribute_onchain_row", "claim_onchain_row_trained",
    } | {f"challenge_{kind}_{step}" for kind in CHALLENGE_KINDS for step in ("commit", "reveal")}  # fmt: skip
    assert expected <= set(gas)
    assert all(isinstance(v, int) and 21_000 < v < 3_000_000 for v in gas.values()), gas
    # A batch of 10,000 rows costs within 5% of a single row.
    assert abs(gas["contribute_10000_rows"] - gas["contribute_1_rows"]) <= 0.05 * gas["contribute_1_rows"]
    assert figures["ratios"]["contribute_10000_over_1"] <= 1.05
    # A commitment costs the same whatever it commits to (within a few zero bytes of calldata).
    commits = [gas[f"challenge_{kind}_commit"] for kind in CHALLENGE_KINDS]
    assert max(commits) - min(commits) <= 100
    assert set(figures["seconds"]) == set(gas)
    # Issue 13's targets (gas is deterministic): registry calls, and on-chain rows that cost what they contain.
    assert gas["publish"] <= 300_000 and gas["contribute_10000_rows"] <= 200_000
    assert gas["contribute_onchain_row_4f_4nz"] <= 120_000
    for name in ("contribute_onchain_row", "claim_onchain_row"):
        row = [gas[key] for key in gas if key.startswith(f"{name}_1000f_100nz")]
        assert row and max(row) <= 250_000, row  # with or without a weight update
    # A row's gas follows its non-zero features, not the model's width.
    assert figures["ratios"]["onchain_row_1000f_over_100f_at_100nz"] <= 1.05
    assert gas["contribute_onchain_row_1000f_1000nz"] > 3 * gas["contribute_onchain_row_1000f_100nz"]


def test_ops_beside_the_paper(quick):
    figures = quick["figures"]["benches"]["ops"]
    assert list(figures["steps"]) == list(paper.PAPER)
    assert all(seconds > 0 for seconds in figures["steps"].values())
    timed_by_paper = {name for name, (low, _) in paper.PAPER.items() if low is not None}
    assert set(figures["paper_over_ours"]) == timed_by_paper and "one on-chain perceptron row" in timed_by_paper
    table = paper.format_table(figures)
    assert "17-23" in table and "retrain on every row" in table and "paper / colearn" in table


def test_throughput(quick):
    figures = quick["figures"]["benches"]["throughput"]
    assert [run["processes"] for run in figures["runs"]] == [1, 2]
    for run in figures["runs"]:
        assert run["finished"] and run["exactly_once"] and run["errors"] == 0, run
        assert run["contributions"] > 0 and 0 < run["p50"] <= run["p95"] <= run["p99"]
        assert 0 < run["node_cpu_ms_per_contribution"] < run["cpu_ms_per_contribution"]
        assert run["cpu_ceiling_per_second"] > 0


def test_growth(quick):
    """The devnet benchmark at a tiny scale: every SIGKILL recovery ends at the head."""
    figures = quick["figures"]["benches"]["growth"]
    samples = figures["samples"]
    assert [point["transactions"] for point in figures["points"]] == [20, 60]
    for point in figures["points"]:
        assert point["blocks"] >= point["transactions"]
        assert 0 < point["send_ms"]["median"] <= point["send_ms"]["p95"] <= point["send_ms"]["max"]
        assert 0 < point["commit_ms"]["median"] <= point["commit_ms"]["p95"] <= point["send_ms"]["max"]
        assert 200 < point["journal_bytes_per_tx"] < 2000  # a raw transfer, its hashes and its time
        rebuild = point["recovery"]
        assert rebuild["killed_at_block"] == point["blocks"] - samples  # killed before the samples
        assert 0 < rebuild["replayed_blocks"] <= rebuild["killed_at_block"] and rebuild["seconds"] > 0
    assert figures["points"][0]["recovery"]["replayed_blocks"] == figures["points"][0]["recovery"]["killed_at_block"]
    assert figures["full_replay"]["blocks"] == figures["points"][-1]["blocks"]
    assert "rebuild s" in suite.tables(quick["figures"])["growth"]


def test_verify(quick):
    figures = quick["figures"]["benches"]["verify"]
    (size,) = figures["sizes"]
    assert (size["rows"], size["features"], size["submissions"]) == (2_000, 10, 1) and size["usable"]
    assert sum(size["verdicts"].values()) == 2_000 and set(size["verdicts"]) <= {"ok", "suspicious"}
    assert size["rows_per_second"] > 0 and size["peak_rss_mb"] > 0


def test_rows(quick, monkeypatch):
    figures = quick["figures"]["benches"]["rows"]
    assert set(figures) == {"machine", "tree", "contribute", "verify"}
    tree, contribute, verify = figures["tree"], figures["contribute"], figures["verify"]
    small = rows.QUICK
    assert (tree["rows"], tree["features"], tree["row_bytes"]) == (small["tree_rows"], small["features"], 189)
    timed = ("kernels_seconds", "validate_and_hash_seconds", "tree_seconds", "seconds", "cpu_seconds", "peak_rss_mb")
    for name in timed:
        assert isinstance(tree[name], (int, float)) and tree[name] >= 0, name
    assert tree["rows_per_second"] > 0 and tree["native"] is True
    assert (contribute["rows"], contribute["batches"]) == (small["contribute_rows"], 1)
    assert contribute["seconds"] > 0 and contribute["peak_rss_mb"] > 0
    assert verify["rows"] == small["verify_rows"] and verify["usable"] is True
    assert sum(verify["verdicts"].values()) == small["verify_rows"]
    assert set(verify["verdicts"]) <= {"ok", "suspicious"}  # honest rows: nothing to prove wrong
    assert verify["rows_per_second"] > 0 and verify["again_rows_per_second"] > 0
    # the root the child built with the kernels is the reference's, row by row in Python
    frame = rows._frame(small["tree_rows"], small["features"], seed=1)
    schema = FeatureSchema.infer(frame.iloc[:1000], label="label")
    monkeypatch.setattr(rowhash, "MODE", "reference")
    reference = MerkleTree(encode_rows(schema, frame), key=contributor_key("0x" + "a1" * 20))
    assert tree["root"] == reference.root.hex()


def test_market(quick):
    figures = quick["figures"]["benches"]["market"]
    assert list(figures["sizes"]) == ["10", "100"] and figures["cold_list_seconds_100"] > 0
    for size, row in figures["sizes"].items():
        assert row["models"] == row["cold"]["total"] == int(size)
        assert row["first_build_seconds"] > 0 and row["cold"]["core_seconds"] > 0
        assert row["cold"]["service_first_seconds"] > 0 and row["cold"]["service_next_seconds"] > 0
    listed = figures["submissions"]
    assert listed["submissions"] == 20 and listed["all_submissions"]["rpc_calls"] >= 2
    assert listed["index_after_one_new_block"]["rpc_calls"] > 0


def test_storage(quick):
    figures = quick["figures"]["benches"]["storage"]
    assert figures["file_mib"] == 8 and list(figures) == ["file_mib", "embedded"]
    assert figures["embedded"]["round_trip_ok"] and figures["embedded"]["bytes"] == 8 * 2**20


def test_first_call(quick):
    """A first call in a fresh interpreter loads neither torch, nor the IRI grammars, nor py_ecc's BLS tables."""
    figures = quick["figures"]["benches"]["first-call"]
    assert figures["runs"] == 1 and figures["loaded"] == {"torch": False, "rfc3987_syntax": False, "py_ecc.bls": False}
    for phase in firstcall._PHASES:
        assert figures[phase]["median"] > 0, phase
    table = firstcall.format_table(figures)
    assert "first call (both)" in table and "first verification detail" in table


def test_chart_of_full_shaped_figures():
    figures = {"benches": {
        "throughput": {"runs": [{"processes": 1, "per_second": 9.7}, {"processes": 16, "per_second": 4.6}]},
        "ops": {"steps": {"claim and withdraw": 0.1, "publish the model": 3.0},
                "paper": {"claim and withdraw": (1.0, 2.0), "publish the model": (None, None)}},
    }}  # fmt: skip
    fig = suite.chart(figures)
    assert isinstance(fig, go.Figure) and len(fig.data) == 3
    assert list(fig.data[1].x) == ["claim and withdraw"] and fig.data[2].y[0] == 1.5


def test_unknown_benchmark_is_refused():
    with pytest.raises(ValueError, match="no benchmark named nope; choose from ops, gas"):
        suite.run(["nope"])
