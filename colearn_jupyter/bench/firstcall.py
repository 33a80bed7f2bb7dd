"""How long a fresh kernel waits for its first ``%colearn`` call: ``%load_ext colearn_jupyter`` and a first publish.

Each run is a fresh interpreter (a child process) on a warm machine: the devnet is running and the marketplace
deployed before it starts, and the child prepares its notebook (IPython, pandas, scikit-learn, a fitted
``LogisticRegression`` on iris) before the clock starts. It then times ``%load_ext colearn_jupyter``, a first
``%colearn publish`` and a second one, and says which slow, optional modules the first call loaded (torch, the
IRI grammars of ``rfc3987_syntax``, see :mod:`colearn_jupyter.formats.imports`; py_ecc's BLS12-381 tables, see
:mod:`colearn_jupyter.ethimports`). Last, as the server extension: it starts the model worker (what the server does
when it starts) and times the first verification detail the sidebar opens, of a submission to another account's
model (whose model runs in that worker).

>>> from colearn_jupyter.bench import firstcall
>>> figures = firstcall.run(runs=3)                     # doctest: +SKIP
>>> figures["first_call_seconds"]["median"] < 2         # doctest: +SKIP
True
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

#: Modules that only slow the first call down, and whether the child loaded them.
WATCHED = ("torch", "rfc3987_syntax", "py_ecc.bls")
_PHASES = (
    "load_ext_seconds",
    "first_publish_seconds",
    "first_call_seconds",
    "second_publish_seconds",
    "server_worker_start_seconds",
    "first_detail_seconds",
)


def run(runs: int = 3) -> dict[str, Any]:
    """Start a throwaway devnet with the marketplace, then time ``runs`` fresh interpreters (see :func:`measure`).

    Returns the median and the maximum of every phase over the runs, and every run's figures.
    """
    from ..chain import Chain
    from ..config import ColearnSettings
    from ..marketplace import Marketplace

    with tempfile.TemporaryDirectory(prefix="colearn-bench-firstcall-") as home:
        chain = Chain(ColearnSettings(home=home, rpc_url=""))
        try:
            Marketplace.connect(chain)  # a warm machine: the node runs and the marketplace is deployed
            samples = [measure(home) for _ in range(runs)]
        finally:
            if chain.devnet is not None:
                chain.devnet.reset()
    return summarize(samples)


def measure(home: str) -> dict[str, Any]:
    """One fresh interpreter using the devnet of the colearn home ``home``: its phases in seconds and the watched
    modules it loaded."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLEARN_RPC_URL", "COLEARN_MARKETPLACE")}
    env["COLEARN_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-m", "colearn_jupyter.bench.firstcall"], capture_output=True, text=True, env=env, timeout=600
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise RuntimeError(f"the first-call child failed: {lines[-1] if lines else done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarize(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The median and maximum of each phase over ``samples`` (from :func:`measure`), and the samples."""
    figures: dict[str, Any] = {"runs": len(samples)}
    for phase in _PHASES:
        values = [sample[phase] for sample in samples]
        figures[phase] = {"median": round(statistics.median(values), 3), "max": round(max(values), 3)}
    figures["loaded"] = {name: any(sample["loaded"][name] for sample in samples) for name in WATCHED}
    figures["samples"] = samples
    return figures


def format_table(figures: dict[str, Any]) -> str:
    names = {
        "load_ext_seconds": "%load_ext colearn_jupyter",
        "first_publish_seconds": "first %colearn publish",
        "first_call_seconds": "first call (both)",
        "second_publish_seconds": "second %colearn publish",
        "server_worker_start_seconds": "server start: model worker",
        "first_detail_seconds": "first verification detail",
    }
    lines = [f"fresh interpreters: {figures['runs']}", f"{'':<28}{'median s':>10}{'max s':>10}"]
    for phase, name in names.items():
        lines.append(f"{name:<28}{figures[phase]['median']:>10}{figures[phase]['max']:>10}")
    loaded = ", ".join(f"{name} {'loaded' if used else 'not loaded'}" for name, used in figures["loaded"].items())
    lines.append(f"during the first call: {loaded}")
    return "\n".join(lines)


def _child() -> dict[str, Any]:
    """Runs in the fresh interpreter: prepare a notebook, then time the first and second calls."""
    from IPython.core.interactiveshell import InteractiveShell
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    frame = load_iris(as_frame=True).frame.drop_duplicates().sample(frac=1.0, random_state=0)
    train, test = frame.iloc[:50], frame.iloc[50:90]
    shell = InteractiveShell.instance()
    shell.user_ns.update(
        clf=LogisticRegression(max_iter=1000).fit(train.drop(columns="target"), train["target"]),
        train=train,
        test=test,
    )
    loaded_before = {name: name in sys.modules for name in WATCHED}

    def publish() -> float:
        line = f"publish clf --name first-call-{uuid.uuid4().hex[:8]} --train train --test test --label target"
        start = time.perf_counter()
        card = shell.run_line_magic("colearn", line)
        seconds = time.perf_counter() - start
        if card is None:  # the magic printed its error
            raise RuntimeError("the publish failed")
        return seconds

    start = time.perf_counter()
    shell.run_line_magic("load_ext", "colearn_jupyter")
    load_ext = time.perf_counter() - start
    first = publish()
    loaded = {name: name in sys.modules and not loaded_before[name] for name in WATCHED}
    second = publish()
    worker_start, detail = _first_detail(shell.user_ns["clf"], train, test, frame.iloc[90:110])
    return {
        "load_ext_seconds": round(load_ext, 3),
        "first_publish_seconds": round(first, 3),
        "first_call_seconds": round(load_ext + first, 3),
        "second_publish_seconds": round(second, 3),
        "server_worker_start_seconds": round(worker_start, 3),
        "first_detail_seconds": round(detail, 3),
        "loaded": loaded,
    }


def _first_detail(clf: Any, train: Any, test: Any, rows: Any) -> tuple[float, float]:
    """As the server extension: start the model worker, then open the verification detail of bob's submission to
    alice's model (the server acts as owner, so alice's model runs isolated). Returns both durations."""
    from ..config import ColearnSettings
    from ..sandbox import shared_worker
    from ..server.service import ColearnService
    from ..session import Session

    alice = Session("alice")
    card = alice.publish(clf, name=f"first-detail-{uuid.uuid4().hex[:8]}", train=train, test=test, label="target")
    submission = alice.as_account("bob").contribute(card.id, rows)
    service = ColearnService(ColearnSettings(), tempfile.gettempdir())
    start = time.perf_counter()
    shared_worker().start()  # what ColearnService.warm_up does in the background when the server starts
    worker_start = time.perf_counter() - start
    start = time.perf_counter()
    service.contribution(submission.id)
    return worker_start, time.perf_counter() - start


if __name__ == "__main__":
    print(json.dumps(_child()))
