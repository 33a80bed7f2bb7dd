"""`colearn bench storage`: figures per backend, and memory that does not grow with the file."""

from __future__ import annotations

import json

from colearn_jupyter.cli import main as cli


def test_bench_storage_streams(capsys, ipfs_node, monkeypatch):
    monkeypatch.setenv("COLEARN_IPFS_URL", ipfs_node.url)
    # 256 MiB: a store that read the file whole would need more than the 200 MB bound checked here.
    assert cli(["bench", "storage", "--size-mb", "256", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert "cid" in figures["embedded"] and "cid" in figures["ipfs"], figures  # else the backend's error
    assert figures["embedded"]["cid"] == figures["ipfs"]["cid"]
    for backend in ("embedded", "ipfs"):
        row = figures[backend]
        assert row["round_trip_ok"] and row["bytes"] == 256 * 1024 * 1024
        assert row["add_mb_per_s"] > 0 and row["cat_mb_per_s"] > 0
        assert row["peak_rss_mb"] < 200, row
