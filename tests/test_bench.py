"""`colearn bench gas --json`: figures for every operation; batch gas independent of batch size."""

from __future__ import annotations

import json

from colearn_jupyter.bench.gas import CHALLENGE_KINDS
from colearn_jupyter.cli import main as cli


def test_bench_gas_json(capsys, colearn_home):
    assert cli(["bench", "gas", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
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


def test_bench_gas_with_small_batches(capsys, colearn_home):
    """Batches too small to hold the challenge targets: they are challenged in a batch of their own."""
    assert cli(["bench", "gas", "--json", "--rows", "1", "3"]) == 0
    gas = json.loads(capsys.readouterr().out)["gas"]
    assert {"contribute_1_rows", "contribute_3_rows", "challenge_format_reveal", "expire"} <= set(gas)


def test_bench_api_lists_every_published_model(capsys, colearn_home):
    assert cli(["bench", "api", "--models", "12", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["models"] == 12 and figures["list_seconds"]["requests"] == 50
    assert (
        figures["index_first_load_seconds"] > 0 and figures["list_seconds"]["max"] >= figures["list_seconds"]["median"]
    )


def test_bench_paper_times_every_table_1_step(colearn_home):
    from colearn_jupyter.bench import paper

    figures = paper.run(rows=1_000, features=8, contributed=50)
    assert list(figures["steps"]) == list(paper.PAPER)
    assert all(seconds > 0 for seconds in figures["steps"].values())
    table = paper.format_table(figures)
    assert "17-23" in table and "retrain on every row" in table
