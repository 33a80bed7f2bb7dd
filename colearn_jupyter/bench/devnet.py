"""What durability costs on the devnet, and whether it grows with the chain: measured on a private, throwaway devnet.

The chain is filled quickly to each point (100, 1,000 and 10,000 transactions by default): transfers signed here
and sent raw over one kept-alive connection, about one block each, then journaled at once (:meth:`Devnet.sync`),
with a snapshot as the live node leaves them (its last one ``SNAPSHOT_EVERY - 1`` blocks back at most; before the
first, none). At each point the node is SIGKILLed and its rebuild timed (the last snapshot loaded, the journal's
blocks after it replayed: the worst case), then ``samples`` small transactions (a 1-wei transfer) go through
:meth:`Chain.send`, which returns only once the block is in the fsynced journal: their median and 95th percentile
latencies, and the part spent in :meth:`Devnet.commit` (journaling the block), which should stay flat whatever the
chain's length (a commit appends the new block and reads only the journal's new lines); the rest is the node's,
and anvil's time to mine a block grows with the chain. Also the journal's bytes per transaction, the devnet
directory's size, and at the end a replay of the whole journal from genesis.

>>> from colearn_jupyter.bench import devnet
>>> figures = devnet.run(points=(100, 1000, 10_000))     # doctest: +SKIP
>>> print(devnet.format_table(figures))                   # doctest: +SKIP

``python -m colearn_jupyter.bench.devnet [--points 100 1000 10000] [--samples 50] [--json]`` prints them
(``make bench-devnet``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eth_account import Account as _EthAccount

from ..accounts import devnet_account
from ..chain import Chain
from ..config import ColearnSettings
from ..devnet import SNAPSHOT_EVERY, Devnet, _Connection, _free_port

_FEE = {"maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9, "gas": 21_000}


def _fill(devnet: Devnet, url: str, count: int, nonce: int) -> int:
    """Mine ``count`` transfers (one block each) signed here and sent raw over one connection, and journal them.
    Returns the next nonce."""
    sender, receiver = devnet_account("dave"), devnet_account("erin")
    key = sender._signer._key_obj  # signing with the parsed key skips deriving its public key at every transaction
    call = _Connection(url)
    try:
        for _ in range(count):
            transfer = {"to": receiver.address, "value": 1, "nonce": nonce, "chainId": 31337, **_FEE}
            raw = _EthAccount.sign_transaction(transfer, key).raw_transaction
            call("eth_sendRawTransaction", "0x" + bytes(raw).hex())
            nonce += 1
        # the node mines each at once; wait until the last is in a block before journaling
        deadline = time.monotonic() + 60
        while int(call("eth_getTransactionCount", sender.address, "latest"), 16) < nonce:
            if time.monotonic() > deadline:
                raise RuntimeError("the devnet did not mine the filling transactions")
            time.sleep(0.01)
    finally:
        call.close()
    devnet.sync()
    return nonce


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def run(points: Sequence[int] = (100, 1_000, 10_000), samples: int = 50) -> dict[str, Any]:
    """Fill a throwaway devnet to each of ``points`` transactions and measure there; see the module's text."""
    figures: dict[str, Any] = {"points": [], "samples": samples, "snapshot_every": SNAPSHOT_EVERY}
    with tempfile.TemporaryDirectory(prefix="colearn-bench-devnet-") as home:
        chain = Chain(ColearnSettings(home=home, rpc_url=""))
        chain.devnet = devnet = Devnet(home, port=_free_port())  # never the user's port
        try:
            url = devnet.ensure_running()
            alice, bob = chain.account("alice"), chain.account("bob")
            chain.transfer(alice, bob, 1)  # connect and warm up
            filled, nonce = 0, 0
            for point in sorted(points):
                started = time.perf_counter()
                count = point - filled
                if count >= SNAPSHOT_EVERY:  # the live node snapshots every SNAPSHOT_EVERY blocks: its last one
                    nonce = _fill(devnet, url, count - SNAPSHOT_EVERY + 1, nonce)  # is at most that far back
                    with devnet._lock:
                        devnet._snapshot_live(url)
                    count = SNAPSHOT_EVERY - 1
                nonce = _fill(devnet, url, count, nonce)
                fill_seconds, filled = time.perf_counter() - started, point
                recovery = _rebuild_after_kill(devnet)
                latencies, commits = [], []
                for _ in range(samples):
                    committing = _time_commits(devnet)
                    started = time.perf_counter()
                    chain.transfer(alice, bob, 1)
                    latencies.append(time.perf_counter() - started)
                    commits.append(sum(committing))
                del devnet.commit  # the class's again
                head = devnet.journal.head()[0]
                figures["points"].append(
                    {
                        "transactions": point,
                        "blocks": head,
                        "fill_seconds": round(fill_seconds, 1),
                        "send_ms": {
                            "median": round(1000 * statistics.median(latencies), 2),
                            "p95": round(1000 * _percentile(latencies, 0.95), 2),
                            "max": round(1000 * max(latencies), 2),
                        },
                        "commit_ms": {
                            "median": round(1000 * statistics.median(commits), 2),
                            "p95": round(1000 * _percentile(commits, 0.95), 2),
                        },
                        "journal_bytes": devnet.journal.size,
                        "journal_bytes_per_tx": round(devnet.journal.size / max(1, head), 1),
                        "disk_bytes": devnet.disk_usage(),
                        "recovery": recovery,
                    }
                )
            figures["full_replay"] = _full_replay(devnet)
        finally:
            devnet.reset()
    first, last = figures["points"][0]["send_ms"]["median"], figures["points"][-1]["send_ms"]["median"]
    figures["median_ratio_last_to_first"] = round(last / first, 2)
    return figures


def _time_commits(devnet: Devnet) -> list[float]:
    """Time every :meth:`Devnet.commit` of ``devnet`` from now on (making the block durable: the journal's part)."""
    seconds: list[float] = []
    commit = type(devnet).commit

    def timed(block_number: int, block_hash: str) -> bool:
        started = time.perf_counter()
        try:
            return commit(devnet, block_number, block_hash)
        finally:
            seconds.append(time.perf_counter() - started)

    devnet.commit = timed  # type: ignore[method-assign]
    return seconds


def _rebuild_after_kill(devnet: Devnet) -> dict[str, Any]:
    """SIGKILL the node and time its rebuild: the last snapshot loaded, the journal's blocks after it replayed."""
    head = devnet.journal.head()
    snapshots = devnet._snapshots()
    devnet.kill_for_test()
    started = time.perf_counter()
    devnet.ensure_running()
    seconds = time.perf_counter() - started
    if devnet.journal.head() != head:
        raise RuntimeError("the rebuilt devnet does not end at the journal's head")
    return {
        "killed_at_block": head[0],
        "replayed_blocks": head[0] - (snapshots[0][0] if snapshots else 0),
        "seconds": round(seconds, 2),
    }


def _full_replay(devnet: Devnet) -> dict[str, Any]:
    """SIGKILL the node with every snapshot set aside: the whole journal is replayed from genesis."""
    head = devnet.journal.head()
    devnet.kill_for_test()
    for _, path in devnet._snapshots():
        path.rename(path.with_suffix(".set-aside"))
    started = time.perf_counter()
    devnet.ensure_running()
    seconds = time.perf_counter() - started
    if devnet.journal.head() != head:
        raise RuntimeError("the devnet replayed from genesis does not end at the journal's head")
    for path in Path(devnet.dir).glob("*.set-aside"):
        path.unlink()
    return {"blocks": head[0], "seconds": round(seconds, 2), "blocks_per_second": round(head[0] / seconds)}


def format_table(figures: dict[str, Any]) -> str:
    lines = [
        f"one durable 1-wei transfer through Chain.send, {figures['samples']} samples at each point (ms; 'commit': "
        f"the part spent making its block durable); before them a SIGKILL and the rebuild (the last snapshot + the "
        f"blocks after it; snapshots every {figures['snapshot_every']:,})",
        f"{'transactions':>13}{'blocks':>8}{'median':>9}{'p95':>9}{'max':>9}{'commit':>9}{'p95':>8}"
        f"{'journal B/tx':>14}{'devnet MiB':>12}{'rebuild s':>11}{'replayed':>10}",
    ]
    for point in figures["points"]:
        ms, commit, rebuild = point["send_ms"], point["commit_ms"], point["recovery"]
        lines.append(
            f"{point['transactions']:>13,}{point['blocks']:>8,}{ms['median']:>9}{ms['p95']:>9}{ms['max']:>9}"
            f"{commit['median']:>9}{commit['p95']:>8}{point['journal_bytes_per_tx']:>14}"
            f"{point['disk_bytes'] / 2**20:>12.1f}{rebuild['seconds']:>11}{rebuild['replayed_blocks']:>10,}"
        )
    lines.append(f"median at the last point / at the first: {figures['median_ratio_last_to_first']}")
    full = figures.get("full_replay")
    if full:
        lines.append(
            f"the whole journal replayed from genesis: {full['blocks']:,} blocks in {full['seconds']} s "
            f"({full['blocks_per_second']:,} blocks/s)"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m colearn_jupyter.bench.devnet", description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, nargs="+", default=[100, 1_000, 10_000], help="transactions")
    parser.add_argument("--samples", type=int, default=50, help="durable sends measured at each point")
    parser.add_argument("--json", action="store_true", help="print figures as JSON")
    args = parser.parse_args(argv)
    figures = run(points=args.points, samples=args.samples)
    print(json.dumps(figures, indent=1) if args.json else format_table(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
