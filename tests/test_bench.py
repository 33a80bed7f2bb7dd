"""`colearn bench gas` with batches smaller than the challenge targets (the full quick run: test_bench_suite.py)."""

from __future__ import annotations

import json

from colearn_jupyter.cli import main as cli


def test_bench_gas_with_small_batches(capsys, colearn_home):
    """Batches too small to hold the challenge targets: they are challenged in a batch of their own."""
    assert cli(["bench", "gas", "--json", "--rows", "1", "3"]) == 0
    gas = json.loads(capsys.readouterr().out)["gas"]
    assert {"contribute_1_rows", "contribute_3_rows", "challenge_format_reveal", "expire"} <= set(gas)
