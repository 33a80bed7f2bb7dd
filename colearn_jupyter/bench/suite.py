"""Every benchmark by name, at full or quick sizes, with the targets of issue 13 and the figures before it.

``colearn bench`` with no name runs them all (``--quick`` for CI, where only the shape of the figures is checked);
``make bench`` runs them at full size and rewrites ``docs/benchmarks.md`` with the machine, the targets, the figures
before and after, and each benchmark's own table.

>>> from colearn_jupyter.bench import suite
>>> sorted(suite.BENCHES)[:3]
['first-call', 'gas', 'growth']
>>> figures = suite.run(["ops"], quick=True)          # doctest: +SKIP
>>> figures["benches"]["ops"]["steps"]["claim and withdraw"] > 0   # doctest: +SKIP
True
"""

from __future__ import annotations

import datetime
import importlib
import os
import platform
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Bench:
    """One benchmark: ``module.run(**full)`` measures, ``module.format_table`` prints."""

    module: str
    describe: str
    full: Mapping[str, Any] = field(default_factory=dict)
    quick: Mapping[str, Any] = field(default_factory=dict)
    run: str = "run"
    table: str = "format_table"

    def functions(self) -> tuple[Callable[..., dict[str, Any]], Callable[[dict[str, Any]], str]]:
        module = importlib.import_module(f"colearn_jupyter.bench.{self.module}")
        return getattr(module, self.run), getattr(module, self.table)


BENCHES: dict[str, Bench] = {
    "ops": Bench("paper", "the paper's Table 1 operations, its figures beside ours and the ratio",
                 quick={"rows": 1_000, "features": 8, "contributed": 50}),
    "gas": Bench("gas", "gas of every operation; on-chain rows at several widths and densities",
                 quick={"rows": (1, 100, 10_000)}),
    "throughput": Bench("throughput", "sustained contributions per second from 1, 4 and 16 processes",
                        quick={"processes": (1, 2), "seconds": 3.0}),
    "growth": Bench("devnet", "a durable send after 100, 1,000 and 10,000 transactions; rebuild after a SIGKILL",
                    quick={"points": (20, 60), "samples": 5}),
    "verify": Bench("rows", "Session.verify of 10k, 100k and 1M rows: rows per second and peak memory",
                    quick={"sizes": (2_000,), "features": 10}, run="run_verify", table="format_verify_table"),
    "rows": Bench("rows", "encode, hash and tree of 1M rows x 100 floats; a contribution; a verification",
                  quick={"quick": True}),
    "market": Bench("market", "cold listing of 10 to 10,000 models from the home's index, core and service",
                    quick={"sizes": (10, 100), "submissions": 20, "runs": 1}),
    "storage": Bench("storage", "MB/s and peak memory of add and cat on each storage backend",
                     full={"size_mb": 256}, quick={"size_mb": 8, "backends": ("embedded",)}),
    "first-call": Bench("firstcall", "seconds of `%load_ext colearn_jupyter` and a first publish in a new kernel",
                        quick={"runs": 1}),
}  # fmt: skip


@dataclass(frozen=True)
class Target:
    """A figure of issue 13, how to read it from the figures, the figure before the work, and the bound."""

    bench: str
    what: str
    before: str
    target: str
    read: Callable[[dict[str, Any]], float | None]
    met: Callable[[float], bool]
    unit: str = ""


def _at(figures: dict[str, Any], *keys: Any) -> Any:
    for key in keys:
        if isinstance(figures, list):
            figures = next((item for item in figures if key(item)), None) if callable(key) else figures[key]
        elif isinstance(figures, dict):
            figures = figures.get(key)
        if figures is None:
            return None
    return figures


def _processes(count: int) -> Callable[[dict[str, Any]], bool]:
    return lambda run: run["processes"] == count


def _million(figures: dict[str, Any]) -> bool:
    return (_at(figures, "tree", "rows"), _at(figures, "tree", "features")) == (1_000_000, 100)


def _contributed_million(figures: dict[str, Any]) -> bool:
    return (_at(figures, "contribute", "rows"), _at(figures, "contribute", "features")) == (1_000_000, 100)


TARGETS = (
    Target("throughput", "contributions per second from 16 processes", "4.9", ">= 200",
           lambda f: _at(f, "runs", _processes(16), "per_second"), lambda v: v >= 200, "/s"),
    Target("throughput", "p99 latency from 16 processes", "6.1 s", "< 0.5 s",
           lambda f: _at(f, "runs", _processes(16), "p99"), lambda v: v < 0.5, " s"),
    Target("throughput", "CPU per contribution, every worker and the node, 16 processes", "not measured",
           "<= 10 ms (what 200/s on 2 cores allows)",
           lambda f: _at(f, "runs", _processes(16), "cpu_ms_per_contribution"), lambda v: v <= 10, " ms"),
    Target("growth", "median send at the last point / at the first (100 to 10,000 transactions)",
           "13 (45 ms to 587 ms at 5,000)", "flat (<= 1.5)",
           lambda f: f["median_ratio_last_to_first"] if f["points"][-1]["transactions"] >= 10_000 else None,
           lambda v: v <= 1.5),
    Target("rows", "encode, hash and tree of 1M rows x 100 floats", "78-150 s", "< 10 s",
           lambda f: _at(f, "tree", "seconds") if _million(f) else None, lambda v: v < 10, " s"),
    Target("rows", "peak memory above the input, tree of 1M rows", "not measured", "< 500 MB",
           lambda f: _at(f, "tree", "peak_above_input_mb") if _million(f) else None, lambda v: v < 500, " MB"),
    Target("rows", "contribute 1M rows x 100 floats in one call (files, storage, transactions)",
           "329 s (40.6 s a file at a time)", "< 10 s",
           lambda f: _at(f, "contribute", "seconds") if _contributed_million(f) else None, lambda v: v < 10, " s"),
    Target("rows", "peak memory above the input, contribute 1M rows", "not measured", "< 500 MB",
           lambda f: _at(f, "contribute", "peak_above_input_mb") if _contributed_million(f) else None,
           lambda v: v < 500, " MB"),
    Target("verify", "verification rows per second, 100,000 rows, linear model", "4,000-9,000", ">= 50,000",
           lambda f: _at(f, "sizes", lambda s: s["rows"] == 100_000, "rows_per_second"), lambda v: v >= 50_000, "/s"),
    Target("verify", "verification of 1,000,000 rows", "not possible (11-33 s for 100,000)", "< 10 s",
           lambda f: _at(f, "sizes", lambda s: s["rows"] == 1_000_000, "seconds"), lambda v: v < 10, " s"),
    Target("verify", "peak memory above the start, verification of 1,000,000 rows", "1.05 GB peak for 100,000",
           "< 500 MB", lambda f: _at(f, "sizes", lambda s: s["rows"] == 1_000_000, "peak_above_start_mb"),
           lambda v: v < 500, " MB"),
    Target("market", "cold listing of 10,000 models", "not measured (1.77 s first load at 1,000)", "< 0.2 s",
           lambda f: f.get("cold_list_seconds_10000"), lambda v: v < 0.2, " s"),
    Target("gas", "publish", "430,000-447,000", "<= 300,000",
           lambda f: _at(f, "gas", "publish"), lambda v: v <= 300_000),
    Target("gas", "batch contribute (10,000 rows)", "281,000", "<= 200,000",
           lambda f: _at(f, "gas", "contribute_10000_rows"), lambda v: v <= 200_000),
    Target("gas", "batch of 10,000 rows over 1 row", "1.0", "<= 1.05",
           lambda f: _at(f, "ratios", "contribute_10000_over_1"), lambda v: v <= 1.05),
    Target("gas", "on-chain 4-feature row", "319,000", "<= 120,000",
           lambda f: _at(f, "gas", "contribute_onchain_row_4f_4nz"), lambda v: v <= 120_000),
    Target("gas", "on-chain row, 100 of 1,000 features non-zero", "3,680,000", "<= 250,000",
           lambda f: _at(f, "gas", "contribute_onchain_row_1000f_100nz"), lambda v: v <= 250_000),
    Target("gas", "its claim with a weight update", "5,270,000", "<= 250,000",
           lambda f: max((v for k, v in f.get("gas", {}).items() if k.startswith("claim_onchain_row_1000f_100nz")),
                         default=None), lambda v: v <= 250_000),
)  # fmt: skip


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or ""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "commit": _commit(),
    }


def _commit() -> str:
    """The checkout's commit when colearn runs from a git checkout (with a + when it has changes), else ''."""
    import subprocess

    source = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        head = subprocess.run(["git", "-C", source, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", source, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return ""
    return head + ("+" if head and dirty else "")


def run(
    names: Iterable[str] | None = None,
    *,
    quick: bool = False,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run ``names`` (default: every benchmark) at quick or full sizes; a benchmark that fails reports its error
    in its place and the others still run. Returns ``{"machine", "quick", "seconds", "benches", "targets"}``."""
    chosen = list(names or BENCHES)
    unknown = [name for name in chosen if name not in BENCHES]
    if unknown:
        raise ValueError(f"no benchmark named {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    figures: dict[str, Any] = {"machine": machine(), "quick": quick, "seconds": {}, "benches": {}, "measured": {}}
    for name in chosen:
        bench = BENCHES[name]
        kwargs = {**(bench.quick if quick else bench.full), **(overrides or {}).get(name, {})}
        if progress:
            progress(f"colearn bench {name}: {bench.describe}")
        figures["measured"][name] = _when()
        started = time.perf_counter()
        try:
            measure, _ = bench.functions()
            figures["benches"][name] = measure(**kwargs)
        except Exception as error:  # noqa: BLE001 (one failing benchmark must not hide the others' figures)
            figures["benches"][name] = {"error": f"{type(error).__name__}: {error}",
                                        "trace": traceback.format_exc(limit=3)}  # fmt: skip
        figures["seconds"][name] = round(time.perf_counter() - started, 1)
    figures["targets"] = evaluate(figures["benches"])
    return figures


def _when() -> dict[str, Any]:
    """When and on what a benchmark starts: the date, the commit and the load average of that moment."""
    now = machine()
    return {key: now[key] for key in ("date", "commit", "load_average")}


def merge(earlier: Mapping[str, Any], later: Mapping[str, Any]) -> dict[str, Any]:
    """The figures of ``earlier`` with every benchmark that ``later`` ran replaced by its new figures (its time,
    commit and load average kept with it), and the targets evaluated again: rerunning a few benchmarks after a
    change updates the report without running them all (``colearn bench NAME... --figures PATH``).

    Quick figures and full-size ones are never mixed: merging them raises :class:`ValueError`.
    """
    if bool(earlier.get("quick")) != bool(later.get("quick")):
        raise ValueError("these figures were measured at quick sizes and those at full size: run every benchmark again")
    merged: dict[str, Any] = {"machine": dict(later["machine"]), "quick": later["quick"]}
    for part in ("seconds", "benches", "measured"):
        merged[part] = {**earlier.get(part, {}), **later.get(part, {})}
    for name in earlier.get("benches", {}):  # figures written before benchmarks kept their own date
        merged["measured"].setdefault(name, {k: earlier["machine"].get(k) for k in ("date", "commit", "load_average")})
    ordered = [name for name in BENCHES if name in merged["benches"]]
    for part in ("seconds", "benches", "measured"):
        merged[part] = {name: merged[part][name] for name in ordered if name in merged[part]}
    merged["targets"] = evaluate(merged["benches"])
    return merged


def evaluate(benches: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target of a benchmark that ran: its figure now (``None`` when the run did not measure it) and whether
    it is met."""
    out = []
    for target in TARGETS:
        figures = benches.get(target.bench)
        if figures is None:
            continue
        try:
            value = target.read(figures) if "error" not in figures else None
        except (KeyError, TypeError, IndexError):
            value = None
        out.append({
            "bench": target.bench, "what": target.what, "before": target.before, "target": target.target,
            "now": value, "unit": target.unit, "met": None if value is None else bool(target.met(value)),
        })  # fmt: skip
    return out


def tables(figures: dict[str, Any]) -> dict[str, str]:
    """Each benchmark's own printed table (or its error)."""
    out = {}
    for name, result in figures["benches"].items():
        if "error" in result:
            out[name] = f"failed: {result['error']}"
            continue
        _, table = BENCHES[name].functions()
        out[name] = table(result)
    return out


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "not measured in this run"
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"
    return f"{text}{unit}"


def report(figures: dict[str, Any]) -> str:
    """``docs/benchmarks.md``: the machine, the targets with the figures before and now, each table."""
    m = figures["machine"]
    measured = figures.get("measured", {})
    dates = sorted({when["date"] for when in measured.values() if when.get("date")}) or [m["date"]]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`colearn bench --report docs/benchmarks.md --figures docs/benchmarks.json`); do",
        "not edit by hand. `colearn bench NAME... --report docs/benchmarks.md --figures docs/benchmarks.json` reruns",
        "some benchmarks and keeps the others' figures. Every figure comes from a run on this machine, at the date,",
        "commit and load average its section gives. Benchmarks print figures and never assert on time; CI runs",
        "`colearn bench --quick --json` and checks only the shape of the output and the gas ratios.",
        "",
        f"- Measured: {dates[0]}{f' to {dates[-1]}' if len(dates) > 1 else ''}"
        f"{' (quick sizes)' if figures['quick'] else ''}",
        f"- Machine: {m['cpu'] or 'unknown CPU'}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}",
        "- Read ratios rather than absolute times where the load average was high: the benchmarks share the cores",
        "  with whatever else runs",
        "",
        "## Targets (issue 13)",
        "",
        "| benchmark | figure | before | now | target | met |",
        "|---|---|---:|---:|---:|:---:|",
    ]
    for t in figures["targets"]:
        met = {True: "yes", False: "**no**", None: ""}[t["met"]]
        lines.append(f"| {t['bench']} | {t['what']} | {t['before']} | {_number(t['now'], t['unit'])} | "
                     f"{t['target']} | {met} |")  # fmt: skip
    lines += ["", "## Figures", ""]
    for name, table in tables(figures).items():
        seconds = figures["seconds"].get(name)
        when = measured.get(name) or {k: m.get(k) for k in ("date", "commit", "load_average")}
        at = f" at commit {when['commit']}" if when.get("commit") else ""
        load = ", ".join(map(str, when.get("load_average") or []))
        lines += [f"### `colearn bench {name}`", "", f"{BENCHES[name].describe} ({seconds} s to run; measured "
                  f"{when.get('date')}{at}, load average {load}).", "", "```", table, "```", ""]  # fmt: skip
    return "\n".join(lines)


def chart(figures: dict[str, Any]) -> Any:
    """A plotly figure of the headline figures: throughput by processes, send latency by chain length, the paper's
    operations beside ours, and verification speed by size (the panels whose benchmark ran)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    benches = figures["benches"]
    panels: list[tuple[str, list[Any]]] = []
    throughput = benches.get("throughput", {}).get("runs")
    if throughput:
        panels.append(("contributions per second", [go.Bar(x=[str(r["processes"]) for r in throughput],
                                                           y=[r["per_second"] for r in throughput],
                                                           name="contributions/s")]))  # fmt: skip
    growth = benches.get("growth", {}).get("points")
    if growth:
        panels.append(("median send (ms) by transactions", [go.Scatter(
            x=[p["transactions"] for p in growth], y=[p["send_ms"]["median"] for p in growth], name="send ms",
            mode="lines+markers")]))  # fmt: skip
    ops = benches.get("ops", {})
    if "steps" in ops:
        names = [n for n in ops["steps"] if ops["paper"].get(n, (None, None))[0] is not None]
        panels.append(("Table 1 operations (s, log)", [
            go.Bar(x=names, y=[ops["steps"][n] for n in names], name="colearn"),
            go.Bar(x=names, y=[sum(ops["paper"][n]) / 2 for n in names], name="paper"),
        ]))  # fmt: skip
    verify = benches.get("verify", {}).get("sizes")
    if verify:
        panels.append(("verification rows/s by rows", [go.Bar(x=[f"{s['rows']:,}" for s in verify],
                                                              y=[s["rows_per_second"] for s in verify],
                                                              name="rows/s")]))  # fmt: skip
    fig = make_subplots(rows=max(1, len(panels)), cols=1, subplot_titles=[title for title, _ in panels] or [""])
    for row, (title, traces) in enumerate(panels, start=1):
        for trace in traces:
            fig.add_trace(trace, row=row, col=1)
        if title.endswith("(s, log)"):
            fig.update_yaxes(type="log", row=row, col=1)
    fig.update_layout(height=300 * max(1, len(panels)), title="colearn bench")
    return fig
