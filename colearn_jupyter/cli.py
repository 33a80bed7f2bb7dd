"""The ``colearn`` command line: a thin face over the core API.

Examples::

    colearn devnet start        # start the shared devnet (it also starts on first use)
    colearn devnet status --json
    colearn devnet stop         # save the chain and stop the node
    colearn devnet reset        # forget the chain
    colearn class create --students 30   # a funded account for every student (devnet)
    colearn deploy --account ./keystore.json   # deploy the marketplace on a configured RPC URL
    colearn bench --quick --json   # every benchmark at small sizes (CI checks the shape)
    colearn bench --report docs/benchmarks.md --chart bench.html   # all, full size (make bench keeps the figures)
    colearn bench ops           # the source paper's Table 1 operations, its figures beside ours and the ratio
    colearn bench gas --json    # gas of every marketplace operation
    colearn bench throughput    # sustained contributions per second from 1, 4 and 16 processes
    colearn bench growth        # a durable send after 100, 1,000 and 10,000 transactions
    colearn bench verify        # Session.verify of 10k, 100k and 1M rows: rows/s and peak memory
    colearn bench rows          # encode, hash and tree of 1,000,000 rows; a contribution; a 100,000-row verification
    colearn bench market        # cold listing of 10 to 10,000 models from the home's index, core and service
    colearn bench storage       # MB/s and peak memory of add and cat on each storage backend
    colearn bench first-call    # seconds of `%load_ext colearn_jupyter` and a first publish in a fresh kernel
    colearn storage gc          # settle interrupted calls, then remove blocks no pin and no chain record needs
    colearn simulate phantom=1 copier=1 --rounds 4 --seed 7   # honest agents against adversaries, on the devnet
    colearn simulate --json     # every agent's balance, rows and the model's accuracy per round, as JSON records
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING

from .errors import ColearnError

if TYPE_CHECKING:
    from .storage import Storage


def _devnet(args: argparse.Namespace) -> int:
    from .config import ColearnSettings
    from .devnet import Devnet

    devnet = Devnet(ColearnSettings().home_path)
    if args.action == "start":
        print(f"devnet running at {devnet.ensure_running()}")
    elif args.action == "stop":
        print("devnet stopped, state saved" if devnet.stop() else "devnet was not running")
    elif args.action == "reset":
        devnet.reset()
        print("devnet reset: the next use starts a fresh chain")
    status = devnet.status()
    if args.action == "status":
        if args.json:
            print(json.dumps(asdict(status)))
        else:
            state = f"running at {status.url} (pid {status.pid}, block {status.block_number})"
            durable = "no chain yet" if status.durable_block is None else f"durable to block {status.durable_block}"
            print(
                f"devnet {state if status.running else 'stopped'}; {durable} in {status.journal_file} "
                f"({status.journal_bytes:,} bytes; snapshot at block {status.snapshot_block}, "
                f"{status.snapshot_bytes:,} bytes)"
            )
            if status.port_note:
                print(status.port_note)
    return 0


def _deploy(args: argparse.Namespace) -> int:
    from .chain import Chain
    from .marketplace import Marketplace

    chain = Chain(rpc_url=args.rpc_url) if args.rpc_url else Chain()
    market = Marketplace.deploy(chain, chain.account(args.account))
    print(f"marketplace deployed at {market.address} on chain {chain.chain_id}")
    return 0


#: ``colearn bench`` options: the benchmark and the keyword of its ``run`` each one sets (when given).
_BENCH_OPTIONS = {
    "rows": [("gas", "rows")], "size_mb": [("storage", "size_mb")], "backends": [("storage", "backends")],
    "models": [("market", "models")], "runs": [("first-call", "runs")],
    "processes": [("throughput", "processes")], "seconds": [("throughput", "seconds")],
    "points": [("growth", "points")], "samples": [("growth", "samples")], "sizes": [("verify", "sizes")],
    "tree_rows": [("rows", "tree_rows")], "features": [("rows", "features")],
    "contribute_rows": [("rows", "contribute_rows")], "verify_rows": [("rows", "verify_rows")],
    "verify_features": [("rows", "verify_features"), ("verify", "features")],
}  # fmt: skip
_BENCH_ALIASES = {"paper": "ops", "api": "market"}


def _bench(args: argparse.Namespace) -> int:
    from .bench import suite

    overrides: dict[str, dict[str, object]] = {}
    for option, targets in _BENCH_OPTIONS.items():
        value = getattr(args, option)
        if value is not None:
            for name, keyword in targets:
                overrides.setdefault(name, {})[keyword] = tuple(value) if isinstance(value, list) else value
    names = list(dict.fromkeys(_BENCH_ALIASES.get(name, name) for name in args.what)) or None
    unknown = [name for name in names or [] if name not in suite.BENCHES]
    if unknown:
        print(f"colearn bench: no benchmark named {', '.join(unknown)}; choose from {', '.join(suite.BENCHES)} "
              f"(or {', '.join(_BENCH_ALIASES)})", file=sys.stderr)  # fmt: skip
        return 2
    progress = None if args.json or names else (lambda line: print(line, file=sys.stderr, flush=True))
    earlier = None
    if args.figures and os.path.exists(args.figures):
        with open(args.figures, encoding="utf-8") as handle:
            earlier = json.load(handle)
        if bool(earlier.get("quick")) != args.quick:
            print(f"colearn bench: {args.figures} holds {'quick' if earlier.get('quick') else 'full-size'} figures; "
                  "run with the same sizes, or give another --figures file", file=sys.stderr)  # fmt: skip
            return 2
    figures = suite.run(names, quick=args.quick, overrides=overrides, progress=progress)
    report = suite.merge(earlier, figures) if earlier is not None else figures
    if args.figures:
        with open(args.figures, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1)
            handle.write("\n")
    figures = report if args.figures else figures
    if args.report:
        with open(args.report, "w", encoding="utf-8") as handle:
            handle.write(suite.report(figures) + "\n")
    if args.chart:
        suite.chart(figures).write_html(args.chart, include_plotlyjs=True)
    if args.json:
        print(json.dumps(figures["benches"][names[0]] if names and len(names) == 1 else figures, indent=1))
    elif names and len(names) == 1:
        print(suite.tables(figures)[names[0]])
    else:
        for name, table in suite.tables(figures).items():
            print(f"== colearn bench {name} ({figures['seconds'][name]} s)\n{table}\n")
    failed = [name for name, result in figures["benches"].items() if "error" in result]
    for name in failed:
        print(f"colearn bench {name} failed: {figures['benches'][name]['error']}", file=sys.stderr)
    return 1 if failed else 0


def _storage(args: argparse.Namespace) -> int:
    from .storage import open_storage

    store = open_storage()
    if args.action == "gc":
        keep, note = _files_to_keep(store)
        removed = store.gc(keep)
        print(
            f"{store.name} store: removed {len(removed)} unpinned block(s); {len(store.pins())} pinned file(s) kept"
            f"{note}"
        )
    elif args.action == "pins":
        for cid in sorted(store.pins()):
            print(cid)
    elif args.action == "add":
        for path in args.paths:
            print(f"{store.add(path)}  {path}")
    elif args.action == "get":
        cid, target = args.paths
        print(store.get(cid, target))
    return 0


def _files_to_keep(store: Storage) -> tuple[set[str], str]:
    """What gc must keep beyond pins, and a note saying so: calls left in doubt are settled first, then every file
    the marketplace and this home refer to is kept. A home whose devnet never had a marketplace refers to none."""
    from .chain import Chain
    from .config import ColearnSettings
    from .inflight import pending, settle
    from .marketplace import Marketplace
    from .storage.references import referenced_files, secret_files

    settings = ColearnSettings()
    home = settings.home_path
    if settings.uses_devnet and not settings.marketplace_address and not (home / "deployments.json").exists():
        if pending(home):
            raise ColearnError(
                f"{home / 'inflight'} records calls in doubt but this home's devnet has no marketplace: start the "
                "devnet the calls were made on (`colearn devnet start`), or delete those records if that chain is gone"
            )
        return secret_files(home), ""
    chain = Chain(settings)
    try:
        decided = settle(chain, store, home)
        keep = referenced_files(Marketplace.connect(chain), store, home)
    except ColearnError as error:
        raise ColearnError(f"gc keeps every file the marketplace refers to, so it needs the chain: {error}") from error
    doubt = sum(1 for d in decided if d.outcome == "pending")
    note = f"; {len(keep)} file(s) the chain or this home refer to kept"
    if decided:
        note += f"; {len(decided) - doubt} interrupted call(s) settled"
    if doubt:
        note += f", {doubt} still in doubt (their files are kept)"
    return keep, note


def _simulate(args: argparse.Namespace) -> int:
    from .session import Session
    from .simulation import config_from_args, run

    result = run(config_from_args(args), session=Session.connect("owner"), progress=not args.json)
    if args.json:
        print(result.frame.to_json(orient="records", date_format="iso"))
    else:
        print(result.report())
    return 0


def _class(args: argparse.Namespace) -> int:
    from .chain import Chain
    from .classroom import Classroom

    room = Classroom(Chain())
    if args.action == "create":
        students = [n for n in args.names.split(",") if n] if args.names else args.students
        added = room.create(students, prefix=args.prefix, eth=args.eth)
        print(f"class of {len(room.students)} students ({len(added)} new, each funded with {args.eth} ETH)")
    elif args.action == "fund":
        sent = room.fund(args.who or None, eth=args.eth)
        print(f"topped up to {args.eth} ETH: {sent / 10**18:g} ETH sent from deployer")
    table = room.table()
    if args.json:
        print(json.dumps(table))
    elif args.action == "list" or args.verbose:
        width = max((len(row["student"]) for row in table), default=7)
        for row in table:
            print(f"{row['student']:<{width}}  {row['address']}  {row['balance']}")
    return 0


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="colearn", description="colearn-jupyter: collaborative ML on a chain")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True)

    devnet = commands.add_parser("devnet", help="control the embedded devnet (anvil)")
    devnet.add_argument("action", choices=["start", "stop", "status", "reset"])
    devnet.add_argument("--json", action="store_true", help="status as JSON")
    devnet.set_defaults(handler=_devnet)

    classroom = commands.add_parser(
        "class",
        help="a class on the devnet: an account for every student",
        description="Create, list and fund a class's accounts on the embedded devnet. Each student gets an account "
        "of the devnet's mnemonic, funded from `deployer`; a student's kernel acts as that student when "
        "COLEARN_ACCOUNT (or JUPYTERHUB_USER on a hub) names it. Only the instructor (`owner`) moves the clock.",
    )
    classroom.add_argument("action", choices=["create", "list", "fund"])
    classroom.add_argument("who", nargs="*", help="fund: students to top up (default: all)")
    classroom.add_argument("--students", type=int, default=30, help="create: how many (named student01, …)")
    classroom.add_argument("--names", default="", help="create: comma-separated names instead (e.g. hub user names)")
    classroom.add_argument("--prefix", default="student", help="create: prefix of numbered names")
    classroom.add_argument("--eth", default="100", help="ETH each student has after create or fund")
    classroom.add_argument("--json", action="store_true", help="print the class as JSON")
    classroom.add_argument("-v", "--verbose", action="store_true", help="print the class after create or fund")
    classroom.set_defaults(handler=_class)

    deploy = commands.add_parser("deploy", help="deploy the marketplace contract")
    deploy.add_argument("--account", required=True, help="devnet name, 'env', or keystore path")
    deploy.add_argument("--rpc-url", help="JSON-RPC URL (default: COLEARN_RPC_URL or the devnet)")
    deploy.set_defaults(handler=_deploy)

    bench = commands.add_parser(
        "bench",
        help="measure costs and speeds",
        description="Run the named benchmarks, or all of them when none is named. Benchmarks print figures; they "
        "never assert on time. --quick uses small sizes (CI checks only the shape of the figures); make bench writes "
        "docs/benchmarks.md with --report, keeping the figures in docs/benchmarks.json (--figures) so that a rerun "
        "of a few benchmarks keeps the others'.",
    )
    names = ["ops", "gas", "throughput", "growth", "verify", "rows", "market", "storage", "first-call", "paper", "api"]
    bench.add_argument(
        "what",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run, of {', '.join(names)} (default: all; paper = ops, api = market)",
    )
    bench.add_argument("--figures", metavar="PATH", help="a JSON file of figures: the benchmarks run now replace "
                       "theirs in it, the others are kept, and --report and --chart show them all")  # fmt: skip
    bench.add_argument("--quick", action="store_true", help="small sizes: seconds, not minutes")
    bench.add_argument("--json", action="store_true", help="print figures as JSON")
    bench.add_argument("--report", metavar="PATH", help="write the Markdown report (the targets, before and now)")
    bench.add_argument("--chart", metavar="PATH", help="write a plotly chart of the headline figures (HTML)")
    bench.add_argument("--rows", type=int, nargs="+", help="gas: batch sizes (default 1 100 10000)")
    bench.add_argument("--size-mb", type=int, help="storage: file size in MiB (default 256)")
    bench.add_argument("--backends", nargs="+", choices=["embedded", "ipfs"], help="storage: backends (default both)")
    bench.add_argument("--models", type=int, help="market: the most models listed (10, 100, ..., it; default 10,000)")
    bench.add_argument("--runs", type=int, help="first-call: fresh interpreters to time (default 3)")
    bench.add_argument("--processes", type=int, nargs="+", help="throughput: process counts (default 1 4 16)")
    bench.add_argument("--seconds", type=float, help="throughput: seconds of load at each count (default 20)")
    bench.add_argument("--points", type=int, nargs="+", help="growth: transactions (default 100 1000 10000)")
    bench.add_argument("--samples", type=int, help="growth: sends measured at each point (default 50)")
    bench.add_argument("--sizes", type=int, nargs="+", help="verify: rows (default 10000 100000 1000000)")
    bench.add_argument("--tree-rows", type=int, help="rows: rows to encode, hash and tree (default 1,000,000)")
    bench.add_argument("--features", type=int, help="rows: floats a row, tree and contribution (default 100)")
    bench.add_argument("--contribute-rows", type=int, help="rows: rows to contribute in one call (default: 1,000,000)")
    bench.add_argument("--verify-rows", type=int, help="rows: rows of the verified submission (default 100,000)")
    bench.add_argument("--verify-features", type=int, help="rows and verify: floats a verified row (default 20)")
    bench.set_defaults(handler=_bench)

    storage = commands.add_parser("storage", help="the content-addressed store (IPFS node or embedded)")
    storage.add_argument("action", choices=["gc", "pins", "add", "get"])
    storage.add_argument("paths", nargs="*", help="add: files; get: CID and target path")
    storage.set_defaults(handler=_storage)

    simulate = commands.add_parser(
        "simulate",
        help="play the incentive game on the devnet: honest agents against adversaries",
        description="Run honest contributors, verifiers and an owner against adversaries on the devnet, in "
        "accelerated time, and print every agent's start, end and stake, the model's accuracy per version, and "
        "whether each adversary lost and each honest agent came out ahead.",
    )
    simulate.add_argument("--json", action="store_true", help="print every agent's record per round as JSON")
    simulate.set_defaults(handler=_simulate)
    if "simulate" in (sys.argv[1:] if argv is None else argv):  # its options load the simulation: only if needed
        from .simulation import add_arguments

        add_arguments(simulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    try:
        return args.handler(args)
    except ColearnError as error:
        if args.debug:
            raise
        print(f"colearn: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
