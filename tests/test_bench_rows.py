"""The table of `colearn bench rows` (its quick run is checked with every other benchmark in test_bench_suite.py)."""

from __future__ import annotations

from colearn_jupyter.bench import rows


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
