"""Throughput and peak memory of storing and fetching a large file, on each storage backend.

Each backend is measured in a fresh child process, so its peak resident memory (``VmHWM``) is that of the add
and the fetch alone. The file is generated on disk by streaming, never held in memory.

>>> from colearn_jupyter.bench import storage
>>> figures = storage.run(size_mb=64)             # doctest: +SKIP
>>> figures["embedded"]["add_mb_per_s"] > 0       # doctest: +SKIP
True
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_PIECE = 1 << 20
_IPFS_SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "ipfs-node"


def _write_file(path: Path, size: int) -> None:
    piece = (bytes(range(251)) * (_PIECE // 251 + 2))[: _PIECE + 251]
    with open(path, "wb") as handle:
        written = 0
        while written < size:
            count = min(_PIECE, size - written)
            offset = written % 251
            handle.write(piece[offset : offset + count])
            written += count


def _child(backend: str, target: str, path: str) -> dict[str, Any]:
    """Runs in the child process: add the file, fetch it back to disk, report seconds and peak memory."""
    from ..storage import EmbeddedStorage, IpfsStorage

    store = EmbeddedStorage(target) if backend == "embedded" else IpfsStorage(target, timeout=600)
    size = os.path.getsize(path)
    start = time.perf_counter()
    cid = store.add(path)
    added = time.perf_counter()
    out = store.get(cid, Path(path).with_suffix(".out"))
    fetched = time.perf_counter()
    same = out.stat().st_size == size
    out.unlink()
    return {
        "cid": cid,
        "bytes": size,
        "round_trip_ok": same,
        "add_seconds": round(added - start, 3),
        "cat_seconds": round(fetched - added, 3),
        "add_mb_per_s": round(size / 1e6 / (added - start), 1),
        "cat_mb_per_s": round(size / 1e6 / (fetched - added), 1),
        "peak_rss_mb": round(_peak_rss_kib() / 1024, 1),
    }


def _peak_rss_kib() -> int:
    """This process's peak resident memory. ``VmHWM`` belongs to the process image alone, whereas ``ru_maxrss``
    on Linux keeps the high-water mark of the parent that forked it across ``exec``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _measure(backend: str, target: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "colearn_jupyter.bench.storage", backend, target, str(path)],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout)


def _start_ipfs(repo: Path) -> str | None:
    if not (_IPFS_SCRIPTS / "start.sh").is_file():
        return None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = subprocess.run(
        ["bash", str(_IPFS_SCRIPTS / "start.sh"), str(repo), str(port)], capture_output=True, text=True, timeout=120
    )
    return started.stdout.strip() if started.returncode == 0 else None


def run(size_mb: int = 1024, backends: tuple[str, ...] = ("embedded", "ipfs")) -> dict[str, Any]:
    """Measure every backend on a generated file of ``size_mb`` MiB.

    The IPFS backend uses ``$COLEARN_IPFS_URL`` when set, else starts the js-ipfs test node of a source checkout;
    when neither is available its entry says why.
    """
    figures: dict[str, Any] = {"file_mib": size_mb}
    with tempfile.TemporaryDirectory(prefix="colearn-bench-storage-") as tmp:
        work = Path(tmp)
        path = work / "file.bin"
        _write_file(path, size_mb * 1024 * 1024)
        for backend in backends:
            if backend == "embedded":
                figures[backend] = _measure(backend, str(work / "home"), path)
                continue
            repo = work / "ipfs-repo"
            url = os.environ.get("COLEARN_IPFS_URL") or _start_ipfs(repo)
            if not url:
                figures[backend] = {"skipped": "no IPFS node: set COLEARN_IPFS_URL or `make install` (npm ipfs)"}
                continue
            try:
                figures[backend] = _measure(backend, url, path)
            finally:
                if not os.environ.get("COLEARN_IPFS_URL"):
                    subprocess.run(["bash", str(_IPFS_SCRIPTS / "stop.sh"), str(repo)], capture_output=True)
    return figures


def format_table(figures: dict[str, Any]) -> str:
    lines = [f"file: {figures['file_mib']} MiB", f"{'backend':<10}{'add MB/s':>10}{'cat MB/s':>10}{'peak MB':>10}"]
    for backend, row in figures.items():
        if not isinstance(row, dict):
            continue
        if "add_mb_per_s" in row:
            lines.append(f"{backend:<10}{row['add_mb_per_s']:>10}{row['cat_mb_per_s']:>10}{row['peak_rss_mb']:>10}")
        else:
            lines.append(f"{backend:<10}  {row.get('skipped') or row.get('error')}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(json.dumps(_child(*sys.argv[1:4])))
