"""Sustained contributions per second, from one process or many, on a private throwaway devnet.

A model is published; then ``processes`` processes (forked, each with an account of its own funded by
``deployer``) each contribute 10-row batches through :meth:`Session.contribute` for ``seconds``, as fast as they
can. Printed: contributions per second over the whole run, the median, 95th and 99th percentile latency of a call,
and whether every call that returned is on chain exactly once (the submissions the chain holds are exactly those
the calls returned; none twice). The CPU time of every worker and of the node, per contribution, gives the
machine's ceiling whatever else runs on it: cores x 1000 / CPU ms (``cpu_ceiling_per_second``).
``python -m colearn_jupyter.bench.throughput`` or ``colearn bench throughput``.

>>> from colearn_jupyter.bench import throughput
>>> figures = throughput.run(processes=(1, 4), seconds=10)      # doctest: +SKIP
>>> print(throughput.format_table(figures))                     # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .homes import throwaway_home

FIRST_ACCOUNT = 9000  # mnemonic index of the first process's account: far from every other user of extra accounts
BATCH = 10


def _rows(seed: int, count: int = BATCH) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 10, count).round(6), rng.uniform(0, 10, count).round(6)
    return pd.DataFrame({"x": x, "y": y, "label": (x > y).astype("int64")})


def _worker(index: int, model_id: int, start_at: float, deadline: float, out: str) -> None:
    from ..accounts import devnet_extra_account
    from ..session import Session

    session = Session(devnet_extra_account(FIRST_ACCOUNT + index, f"bench-{index}"))
    seconds, ids, errors = [], [], []
    while time.time() < start_at:
        time.sleep(0.005)
    number, cpu = 0, time.process_time()
    while time.time() < deadline:
        number += 1
        frame = _rows(index * 1_000_000 + number)
        started = time.perf_counter()
        try:
            ids.append(session.contribute(model_id, frame).id)
        except Exception as error:  # noqa: BLE001 (counted, and named in the figures)
            errors.append(f"{type(error).__name__}: {error}"[:200])
            continue
        seconds.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu
    Path(out).write_text(json.dumps({"seconds": seconds, "ids": ids, "errors": errors, "cpu": cpu}))


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))] if ordered else float("nan")


def _one(processes: int, seconds: float) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    from ..accounts import devnet_extra_account
    from ..session import Session

    with throwaway_home("colearn-bench-throughput-") as home:
        owner = Session("owner")
        train, test = _rows(1, 40), _rows(2, 20)
        clf = LogisticRegression().fit(train[["x", "y"]], train["label"])
        model = owner.publish(clf, name="throughput", train=train, test=test, label="label", window="1d", pool="2000")
        deployer = owner.chain.account("deployer")
        for index in range(processes):
            owner.chain.transfer(deployer, devnet_extra_account(FIRST_ACCOUNT + index), 50 * 10**18)
        before = owner.market.submission_count()
        node = owner.chain.devnet.epoch if owner.chain.devnet is not None else None  # the node's pid
        context = multiprocessing.get_context("fork")
        start_at = time.time() + 1.0
        deadline = start_at + seconds
        outs = [Path(home) / f"worker-{i}.json" for i in range(processes)]
        workers = [
            context.Process(target=_worker, args=(i, model.id, start_at, deadline, str(outs[i])))
            for i in range(processes)
        ]
        node_cpu = _cpu_seconds(node)
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=seconds + 120)
            if worker.is_alive():
                worker.kill()
        node_cpu = _cpu_seconds(node) - node_cpu
        ended = max([deadline, *(o.stat().st_mtime for o in outs if o.exists())])
        results = [json.loads(o.read_text()) for o in outs if o.exists()]
        latencies = [s for r in results for s in r["seconds"]]
        ids = [i for r in results for i in r["ids"]]
        on_chain = [s.id for s in owner.market.all_submissions(model.id) if s.id > before and s.model_id == model.id]
        errors = [e for r in results for e in r["errors"]]
    cpu = sum(r["cpu"] for r in results) + node_cpu
    per = 1000 * cpu / max(1, len(ids))
    return {
        "processes": processes,
        "seconds": round(ended - start_at, 2),
        "contributions": len(ids),
        "per_second": round(len(ids) / max(1e-9, ended - start_at), 2),
        "p50": round(_percentile(latencies, 0.5), 3),
        "p95": round(_percentile(latencies, 0.95), 3),
        "p99": round(_percentile(latencies, 0.99), 3),
        "exactly_once": sorted(ids) == sorted(on_chain) and len(set(ids)) == len(ids),
        "cpu_ms_per_contribution": round(per, 1),
        "node_cpu_ms_per_contribution": round(1000 * node_cpu / max(1, len(ids)), 1),
        "cpu_ceiling_per_second": round((os.cpu_count() or 1) * 1000 / per, 1) if ids else None,
        "errors": len(errors),
        "error_sample": errors[:2],
        "finished": len(results) == processes,
    }


def _cpu_seconds(pid: int | None) -> float:
    """CPU seconds (user + system) a process has used so far; 0 when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(processes: Sequence[int] = (1, 4, 16), seconds: float = 20.0) -> dict[str, Any]:
    """One throwaway devnet per process count; ``seconds`` of sustained contributions on each."""
    return {"batch_rows": BATCH, "runs": [_one(count, seconds) for count in processes]}


def format_table(figures: dict[str, Any]) -> str:
    lines = [
        f"sustained {figures['batch_rows']}-row contributions through Session.contribute on a throwaway devnet",
        " processes  seconds  contributions  per second     p50     p95     p99  exactly once  errors"
        "  CPU ms each (node)  CPU ceiling/s",
    ]
    for run_ in figures["runs"]:
        lines.append(
            f"{run_['processes']:>10} {run_['seconds']:>8} {run_['contributions']:>14} {run_['per_second']:>11} "
            f"{run_['p50']:>7} {run_['p95']:>7} {run_['p99']:>7} {run_['exactly_once']!s:>13} {run_['errors']:>7}"
            f"  {run_['cpu_ms_per_contribution']:>10} ({run_['node_cpu_ms_per_contribution']:>5}) "
            f"{run_['cpu_ceiling_per_second']!s:>14}"
        )
        lines += [f"    e.g. {sample}" for sample in run_["error_sample"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = run(args.processes, args.seconds)
    print(json.dumps(figures, indent=1) if args.json else format_table(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
