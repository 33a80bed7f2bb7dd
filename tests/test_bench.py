"""`colearn bench gas --json`: figures for every operation; batch gas independent of batch size."""

from __future__ import annotations

import json

from colearn_jupyter.cli import main as cli


def test_bench_gas_json(capsys, colearn_home):
    assert cli(["bench", "gas", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    gas = figures["gas"]
    expected = {
        "publish", "contribute_1_rows", "contribute_100_rows", "contribute_10000_rows", "challenge", "resolve",
        "claim", "withdraw", "contribute_onchain_row", "contribute_onchain_row_trained", "contribute_first_batch",
    }  # fmt: skip
    assert expected <= set(gas)
    assert all(isinstance(v, int) and 21_000 < v < 3_000_000 for v in gas.values()), gas
    # A batch of 10,000 rows costs within 5% of a single row.
    assert abs(gas["contribute_10000_rows"] - gas["contribute_1_rows"]) <= 0.05 * gas["contribute_1_rows"]
    assert figures["ratios"]["contribute_10000_over_1"] <= 1.05
    assert set(figures["seconds"]) == set(gas)
