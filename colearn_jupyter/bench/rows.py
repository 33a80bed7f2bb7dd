"""Rows at the speed of the machine (issue 13): encoding, hashing and Merkle trees of many rows, then a contribution
and a verification through the Session API on a throwaway devnet.

Each measurement runs in a fresh child process, so that its peak resident memory is the operation's own: the peak
(``VmHWM``) is reset once the input is ready, and reported beside the memory the input itself holds.

- ``tree``: what a contribution computes before its file: validate a DataFrame of ``rows`` rows of ``features``
  floats and an integer label (every row encoded and hashed once) and build the Merkle tree of its rows. The
  compiled kernels are loaded first and timed apart (numba's import, and the machine code read from its cache or
  compiled the first time).
- ``contribute``: :meth:`Session.contribute_many` of ``contribute_rows`` such rows in one call, end to end
  (validation, files, storage, transactions, receipts) to a published model, as a user makes it: as many files as
  the bounds need (:data:`~colearn_jupyter.formats.data.MAX_FILE_ROWS` rows and
  :data:`~colearn_jupyter.formats.data.MAX_FILE_BYTES` of rows a file, with room for Parquet's overhead: 31,250 rows
  of 100 floats), the next file prepared while one is mined. ``phases_seconds`` says where the time went (seconds
  inside each step, summed over threads, so overlapping work counts in each).
- ``verify``: :meth:`Session.verify` of a submission of ``verify_rows`` rows of ``verify_features`` floats to a model
  that is a scikit-learn ``LogisticRegression``, as another account in a fresh process: once the kernels are loaded
  and a 100-row submission verified (the first call of a kernel, when the model's sandboxed worker starts; both
  timed apart), the large one, a file the process has never seen, then the same again: rows per second and peak
  memory.

>>> from colearn_jupyter.bench import rows
>>> figures = rows.run(tree_rows=1_000_000)         # doctest: +SKIP
>>> figures["tree"]["seconds"] < 10                 # doctest: +SKIP
True
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .storage import _peak_rss_kib

#: Rows contributed by default: the issue's million, in as many files as the bounds need.
CONTRIBUTE_ROWS = 1_000_000
#: ``run(quick=True)``: sizes for CI, where only the shape of the figures is checked.
QUICK = {"tree_rows": 20_000, "features": 20, "contribute_rows": 5_000, "verify_rows": 5_000, "verify_features": 10}


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Start the peak resident memory (``VmHWM``) over from the current one (Linux: ``clear_refs`` 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _frame(rows: int, features: int, seed: int) -> Any:
    """``rows`` rows of ``features`` standard normal floats and a 0/1 label (a linear function of them plus noise),
    built without a second copy of the floats."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    values = rng.standard_normal((features, rows)).T  # columns contiguous: one block, as pandas keeps them
    frame = pd.DataFrame(values, columns=[f"x{i:03d}" for i in range(features)], copy=False)
    weights = np.linspace(-1.0, 1.0, features)
    frame["label"] = ((values @ weights + rng.standard_normal(rows)) > 0).astype(np.int64)
    return frame


def _tree(rows: int, features: int) -> dict[str, Any]:
    """Runs in the child: validate (encode and hash once) and build the tree of ``rows`` rows."""
    from .. import rowhash
    from ..formats.data import FeatureSchema, validated_rows
    from ..merkle import MerkleTree, contributor_key

    kernels = rowhash.warm_up()  # import numba and read (or compile) the kernels
    frame = _frame(rows, features, seed=1)
    schema = FeatureSchema.infer(frame.iloc[:1000], label="label")
    frame_kib, reset = _rss_kib(), _reset_peak()
    start, cpu = time.perf_counter(), time.process_time()
    _, valid = validated_rows(frame, schema)
    validated = time.perf_counter()
    tree = MerkleTree.from_row_hashes(valid.digests, key=contributor_key("0x" + "a1" * 20))
    built, cpu = time.perf_counter(), time.process_time() - cpu
    return {
        "rows": rows,
        "features": features,
        "row_bytes": valid.nbytes // rows,
        "kernels_seconds": round(kernels, 3),
        "validate_and_hash_seconds": round(validated - start, 3),
        "tree_seconds": round(built - validated, 3),
        "seconds": round(built - start, 3),
        "cpu_seconds": round(cpu, 3),
        "rows_per_second": round(rows / (built - start)),
        "frame_mb": round(frame.memory_usage(index=False).sum() / 2**20, 1),
        "rss_before_mb": round(frame_kib / 1024, 1),
        "peak_rss_mb": round(_peak_rss_kib() / 1024, 1),
        "peak_above_input_mb": round((_peak_rss_kib() - frame_kib) / 1024, 1) if reset else None,
        "native": rowhash.loaded(),
        "threads": rowhash._threads(),
        "root": tree.root.hex(),
    }


def _publish(features: int, name: str) -> Any:
    from sklearn.linear_model import LogisticRegression

    from ..session import Session

    owner = Session("owner")
    train, test = _frame(2_000, features, seed=2), _frame(500, features, seed=3)
    clf = LogisticRegression(max_iter=1000).fit(train.drop(columns="label"), train["label"])
    return owner, owner.publish(clf, name=name, train=train, test=test, label="label", deposit="0.000001",
                                reward="0.0000002", window="1d")  # fmt: skip


def _timed(owner: Any, name: str, phase: str, spent: dict[str, float], first: dict[str, float]) -> None:
    """Replace ``owner.name`` (a function of a module, a method of an object) by one that adds the seconds of
    each call to ``spent[phase]`` (summed over threads: work that overlaps counts in each phase) and keeps when the
    first call ended in ``first[phase]``."""
    function = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            end = time.perf_counter()
            spent[phase] = spent.get(phase, 0.0) + end - start
            first.setdefault(phase, end)

    setattr(owner, name, timed)


def _contribute(rows: int, features: int) -> dict[str, Any]:
    """Runs in the child: publish a model, then contribute ``rows`` rows as alice in one call
    (:meth:`Session.contribute_many`: as many files as the bounds need), timing where the time goes."""
    from .. import contributions, rowhash
    from ..merkle import MerkleTree

    owner, card = _publish(features, "bench-contribute")
    alice = owner.as_account("alice")
    rowhash.warm_up()  # kernels loaded, as in a kernel that has used them
    frame = _frame(rows, features, seed=4)
    spent: dict[str, float] = {}
    ends: dict[str, float] = {}
    for owner_of, name, phase in (
        (contributions.RowIndex, "build", "known_rows"),
        (contributions, "validated_rows", "validate_and_hash"),
        (contributions, "to_parquet", "parquet"),
        (contributions, "file_blocks", "cid"),
        (MerkleTree, "from_row_hashes", "tree"),
        (alice.market, "contribute", "transaction"),
        (alice.storage, "add_blocks", "storage"),
    ):
        _timed(owner_of, name, phase, spent, ends)
    input_kib, reset = _rss_kib(), _reset_peak()
    start, cpu = time.perf_counter(), time.process_time()
    submissions = alice.contribute_many(card.id, frame, progress=False)
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "rows": rows,
        "features": features,
        "batches": len(submissions),
        "rows_per_batch": max(s.row_count for s in submissions),
        "seconds": round(total, 3),
        "cpu_seconds": round(cpu, 3),  # this process's (not the node's)
        "first_batch_seconds": round(ends["transaction"] - start, 3),  # until the first transaction is mined
        "phases_seconds": {phase: round(seconds, 3) for phase, seconds in spent.items()},
        "rows_per_second": round(rows / total),
        "rss_before_mb": round(input_kib / 1024, 1),
        "peak_rss_mb": round(_peak_rss_kib() / 1024, 1),
        "peak_above_input_mb": round((_peak_rss_kib() - input_kib) / 1024, 1) if reset else None,
    }


def _setup_verify(rows: int, features: int) -> dict[str, Any]:
    """Runs in a child: publish a linear model, then contribute a 100-row batch and ``rows`` rows to it as alice,
    in one call (as many files as the bounds need; not timed)."""
    owner, card = _publish(features, "bench-verify")
    alice = owner.as_account("alice")
    small = alice.contribute(card.id, _frame(100, features, seed=6))
    large = [submission.id for submission in alice.contribute_many(card.id, _frame(rows, features, seed=5),
                                                                    progress=False)]  # fmt: skip
    return {"small": small.id, "large": large}


def _verify(small: int, *large: int) -> dict[str, Any]:
    """Runs in a fresh child: as another account, load the kernels, verify the small submission (the first call of
    a kernel: the model's sandboxed worker starts), then the large ones (files this process has never seen), then
    the large ones again."""
    from .. import rowhash
    from ..session import Session

    verifier = Session("verifier")
    kernels = rowhash.warm_up()
    start = time.perf_counter()
    verifier.verify(small)
    first_call = time.perf_counter() - start
    rss_kib, reset = _rss_kib(), _reset_peak()
    start, cpu = time.perf_counter(), time.process_time()
    reports = [verifier.verify(submission) for submission in large]
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_kib = _peak_rss_kib()
    start = time.perf_counter()
    for submission in large:
        verifier.verify(submission)
    again = time.perf_counter() - start
    rows = sum(len(report.rows) for report in reports)
    verdicts: dict[str, int] = {}
    for report in reports:
        for verdict, count in report.rows["verdict"].value_counts().items():
            verdicts[verdict] = verdicts.get(verdict, 0) + int(count)
    return {
        "rows": rows,
        "submissions": len(reports),
        "usable": all(report.cid_ok and report.root_ok for report in reports),
        "verdicts": verdicts,
        "kernels_seconds": round(kernels, 3),
        "first_call_seconds": round(first_call, 3),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),  # this process's (the model's worker is another)
        "rows_per_second": round(rows / seconds),
        "again_seconds": round(again, 3),
        "again_rows_per_second": round(rows / again),
        "rss_before_mb": round(rss_kib / 1024, 1),
        "peak_rss_mb": round(peak_kib / 1024, 1),
        "peak_above_start_mb": round((peak_kib - rss_kib) / 1024, 1) if reset else None,
        "native": rowhash.loaded(),
    }


_PHASES = {"tree": _tree, "contribute": _contribute, "setup-verify": _setup_verify, "verify": _verify}


def _child(phase: str, home: str | None, *args: int) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLEARN_RPC_URL", "COLEARN_MARKETPLACE")}
    if home is not None:
        env["COLEARN_HOME"] = home
    done = subprocess.run(
        [sys.executable, "-m", "colearn_jupyter.bench.rows", phase, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise RuntimeError(f"bench rows {phase} failed: {lines[-1] if lines else done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(
    *,
    tree_rows: int = 1_000_000,
    features: int = 100,
    contribute_rows: int | None = None,
    verify_rows: int = 100_000,
    verify_features: int = 20,
    quick: bool = False,
) -> dict[str, Any]:
    """Every measurement (see the module), each in a fresh process; the devnet ones on a throwaway devnet.

    ``contribute_rows`` defaults to :data:`CONTRIBUTE_ROWS` (the issue's million); ``quick`` uses :data:`QUICK`.
    """
    from ..marketplace import Marketplace
    from .homes import throwaway_devnet

    if quick:
        tree_rows, features = QUICK["tree_rows"], QUICK["features"]
        contribute_rows, verify_rows, verify_features = (QUICK[k] for k in ("contribute_rows", "verify_rows",
                                                                           "verify_features"))  # fmt: skip
    if contribute_rows is None:
        contribute_rows = CONTRIBUTE_ROWS
    figures: dict[str, Any] = {"machine": {"cores": os.cpu_count(), "load_average": list(os.getloadavg())}}
    figures["tree"] = _child("tree", None, tree_rows, features)
    with throwaway_devnet("colearn-bench-rows-") as (home, chain):
        Marketplace.connect(chain)  # the node runs and the marketplace is deployed before anything is timed
        figures["contribute"] = _child("contribute", home, contribute_rows, features)
        figures["verify"] = _verify_once(home, verify_rows, verify_features)
    return figures


def _verify_once(home: str, rows: int, features: int) -> dict[str, Any]:
    submissions = _child("setup-verify", home, rows, features)
    return {"features": features, **_child("verify", home, submissions["small"], *submissions["large"])}


def run_verify(sizes: Iterable[int] = (10_000, 100_000, 1_000_000), features: int = 20) -> dict[str, Any]:
    """``colearn bench verify``: :meth:`Session.verify` of ``sizes`` rows of ``features`` floats (a file's worth a
    submission) by a fresh process, on one throwaway devnet: rows per second and peak memory at each size."""
    from ..chain import Chain
    from ..config import ColearnSettings
    from ..marketplace import Marketplace

    figures: dict[str, Any] = {"machine": {"cores": os.cpu_count(), "load_average": list(os.getloadavg())}}
    with tempfile.TemporaryDirectory(prefix="colearn-bench-verify-") as home:
        chain = Chain(ColearnSettings(home=home, rpc_url=""))
        try:
            Marketplace.connect(chain)
            figures["sizes"] = [_verify_once(home, rows, features) for rows in sizes]
        finally:
            if chain.devnet is not None:
                chain.devnet.reset()
    return figures


def format_verify_table(figures: dict[str, Any]) -> str:
    lines = [
        "Session.verify by a fresh process, linear model (a file's worth of rows a submission)",
        f"{'rows':>10}{'features':>9}{'files':>6}{'seconds':>9}{'rows/s':>9}{'again rows/s':>13}{'peak MB':>9}",
    ]
    for size in figures["sizes"]:
        lines.append(
            f"{size['rows']:>10,}{size['features']:>9}{size['submissions']:>6}{size['seconds']:>9}"
            f"{size['rows_per_second']:>9,}{size['again_rows_per_second']:>13,}{size['peak_rss_mb']:>9}"
        )
    return "\n".join(lines)


def format_table(figures: dict[str, Any]) -> str:
    tree, contribute, verify = figures["tree"], figures["contribute"], figures["verify"]
    return "\n".join([
        f"machine: {figures['machine']['cores']} cores, load average {figures['machine']['load_average'][0]:.2f}",
        f"encode, hash and tree of {tree['rows']:,} rows x {tree['features']} floats ({tree['row_bytes']} bytes a "
        f"row): {tree['seconds']} s ({tree['rows_per_second']:,} rows/s; validate and hash "
        f"{tree['validate_and_hash_seconds']} s, tree {tree['tree_seconds']} s; {tree['cpu_seconds']} s of CPU), "
        f"peak memory {tree['peak_rss_mb']} MB of which {tree['rss_before_mb']} MB before (the frame: "
        f"{tree['frame_mb']} MB); kernels loaded in {tree['kernels_seconds']} s",
        f"contribute {contribute['rows']:,} rows x {contribute['features']} floats in {contribute['batches']} "
        f"batch(es) of up to {contribute['rows_per_batch']:,}: {contribute['seconds']} s "
        f"({contribute['rows_per_second']:,} rows/s), peak memory {contribute['peak_rss_mb']} MB "
        f"({contribute['peak_above_input_mb']} MB above the input)"
        + "".join(f"; {phase} {seconds} s" for phase, seconds in contribute.get("phases_seconds", {}).items()),
        f"verify {verify['rows']:,} rows x {verify['features']} floats, linear model: {verify['seconds']} s "
        f"({verify['rows_per_second']:,} rows/s), {verify['again_seconds']} s again "
        f"({verify['again_rows_per_second']:,} rows/s), after a first call of {verify['first_call_seconds']} s "
        f"(100 rows: the model's worker starts) and kernels loaded in {verify['kernels_seconds']} s; peak memory "
        f"{verify['peak_rss_mb']} MB ({verify['peak_above_start_mb']} MB above the start); verdicts "
        f"{verify['verdicts']}",
    ])  # fmt: skip


if __name__ == "__main__":
    phase, *numbers = sys.argv[1:]
    print(json.dumps(_PHASES[phase](*map(int, numbers))))
