"""The embedded devnet: one anvil node per colearn home, shared by every kernel of a Jupyter server.

The devnet starts on first use, listens on loopback only, and keeps its chain under ``<home>/devnet``. Every
process that uses it goes through the same lock file, so exactly one anvil runs per home. The node runs in its own
session: it outlives the kernel that started it and is stopped by ``colearn devnet stop``.

Durability, as a database has it: every block the node mines is appended to an fsynced journal
(:mod:`colearn_jupyter.journal`) of raw signed transactions and timestamps before any transaction in it is
reported confirmed (:meth:`Devnet.commit`). After a crash, the next use rebuilds the chain on a private port, by
loading the last snapshot and replaying the journal after it (same blocks, same hashes, same addresses and ids),
takes a new snapshot, and only then opens the usual port. Snapshots are taken every ``SNAPSHOT_EVERY`` blocks and
at a clean stop, so replay stays short; a commit costs the size of the new blocks, not of the chain.

The node keeps no history it does not need (``--prune-history``) and writes nothing outside ``<home>/devnet``;
what a killed node leaves behind is removed at the next start.

>>> from colearn_jupyter.devnet import Devnet
>>> devnet = Devnet("/tmp/colearn-doc")           # doctest: +SKIP
>>> url = devnet.ensure_running()                 # doctest: +SKIP
>>> devnet.status().running                       # doctest: +SKIP
True
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from .durable import write_atomically
from .errors import DevnetError
from .journal import Journal, JournalBlock

CHAIN_ID = 31337
DEFAULT_PORT = 8645
MNEMONIC = "test test test test test test test test test test test junk"
ACCOUNT_COUNT = 10
ACCOUNT_BALANCE_ETH = 10_000
#: Blocks between two snapshots taken while the node runs (replay after a crash is at most this long).
SNAPSHOT_EVERY = 2_000
#: Historical states anvil keeps in memory (calls at older blocks fail; nothing in colearn makes them).
PRUNE_HISTORY = 16
#: The fork rules of a new devnet. From Cancun on, every block writes into system contracts' storage (EIP-4788's
#: beacon roots, EIP-2935's block hashes: ring buffers of 8,191 entries), and anvil computes each block's state root
#: over all storage, so each block cost more than the last until 8,191 blocks (a 1-wei transfer 1.5 ms at genesis,
#: 39 ms after 10,000 blocks); under Shanghai it stays 1.5 ms. The contracts are compiled for Shanghai too, so
#: they run on it and on any later network. A journal from before this setting has none and keeps anvil's default.
HARDFORK = "shanghai"
_START_TIMEOUT_S = 30.0
_JOURNAL_BATCH = 256
#: Blocks past the one a commit needs that it asks for in the same request, and journals if the node has them.
_JOURNAL_AHEAD = 8
_ANVIL_PACKAGE = Path("node_modules") / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


@dataclass(frozen=True)
class DevnetStatus:
    """What ``colearn devnet status`` shows."""

    running: bool
    url: str | None
    pid: int | None
    block_number: int | None
    durable_block: int | None
    journal_file: str
    journal_bytes: int
    snapshot_block: int | None
    snapshot_bytes: int
    port_note: str = ""

    def _repr_html_(self) -> str:
        from . import htmlsafe

        return htmlsafe.table("colearn devnet", [(k, htmlsafe.text(v)) for k, v in asdict(self).items()])


def find_anvil() -> str:
    """Path of the anvil binary: ``$COLEARN_ANVIL``; the one the wheel carries (``colearn_jupyter/bin/anvil``);
    the npm package beside this checkout or the working directory (an editable install); or ``PATH``."""
    override = os.environ.get("COLEARN_ANVIL")
    if override:
        return override
    here = Path(__file__).resolve()
    packaged = here.parent / "bin" / "anvil"
    if packaged.is_file():
        return str(packaged)
    for folder in (Path.cwd(), *here.parents):
        candidate = folder / _ANVIL_PACKAGE
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("anvil")
    if found:
        return found
    raise DevnetError(
        "anvil, the devnet's node, is not installed: not in this package (a pure wheel carries none), nor in the "
        "node_modules of a checkout, nor on PATH. Install Foundry's anvil and put it on PATH or set COLEARN_ANVIL "
        "to it (in a checkout: `make install`), or set COLEARN_RPC_URL to use another chain."
    )


#: Opens the devnet's loopback URLs directly: urllib would otherwise send them to the proxy of HTTP_PROXY when
#: NO_PROXY does not name the loopback addresses (where the proxy would reach its own loopback, or nothing).
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def rpc_call(url: str, method: str, params: list[Any] | None = None, timeout: float = 2.0) -> Any:
    """One JSON-RPC call with the standard library; raises ``OSError`` when the node does not answer."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})  # noqa: S310 (http URL we built)
    with _DIRECT.open(request, timeout=timeout) as response:
        reply = json.load(response)
    if "error" in reply:
        raise DevnetError(f"the devnet refused {method}: {reply['error'].get('message', reply['error'])}")
    return reply["result"]


def rpc_batch(url: str, calls: list[tuple[str, list[Any]]], timeout: float = 30.0) -> list[Any]:
    """Several read-only JSON-RPC calls in one request; results in the order of ``calls``."""
    if not calls:
        return []
    body = json.dumps(
        [{"jsonrpc": "2.0", "id": i, "method": method, "params": params} for i, (method, params) in enumerate(calls)]
    ).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})  # noqa: S310 (loopback URL)
    with _DIRECT.open(request, timeout=timeout) as response:
        replies = {reply["id"]: reply for reply in json.load(response)}
    results = []
    for i, (method, _) in enumerate(calls):
        reply = replies.get(i) or {"error": {"message": "no answer"}}
        if "error" in reply:
            raise DevnetError(f"the devnet refused {method}: {reply['error'].get('message', reply['error'])}")
        results.append(reply["result"])
    return results


class _Connection:
    """Sequential JSON-RPC calls over one kept-alive loopback connection (for replay, where order matters)."""

    def __init__(self, url: str, timeout: float = 60.0):
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        self._http = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self._id = 0

    def __call__(self, method: str, *params: Any) -> Any:
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)})
        self._http.request("POST", "/", body, {"Content-Type": "application/json"})
        reply = json.loads(self._http.getresponse().read())
        if "error" in reply:
            raise DevnetError(f"the devnet refused {method}: {reply['error'].get('message', reply['error'])}")
        return reply["result"]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """Several calls in one JSON-RPC batch; each call's reply (``result`` or ``error``), in the order of
        ``calls``."""
        first = self._id + 1
        self._id += len(calls)
        body = json.dumps(
            [{"jsonrpc": "2.0", "id": first + i, "method": method, "params": params} for i, (method, params) in
             enumerate(calls)]
        )  # fmt: skip
        self._http.request("POST", "/", body, {"Content-Type": "application/json"})
        replies = json.loads(self._http.getresponse().read())
        if not isinstance(replies, list):
            raise DevnetError(f"the devnet refused a batch: {replies.get('error', replies)}")
        by_id = {reply.get("id"): reply for reply in replies}
        return [by_id.get(first + i) or {"error": {"message": "no answer"}} for i in range(len(calls))]

    def close(self) -> None:
        self._http.close()


_KEPT = threading.local()  # this thread's kept-alive connections to devnet nodes, by URL


def _kept_batch(url: str, calls: list[tuple[str, list[Any]]], timeout: float = 30.0) -> list[dict[str, Any]]:
    """Read-only calls in one JSON-RPC batch over this thread's kept-alive connection to the node at ``url`` (a
    new TCP connection for every call, as :func:`rpc_batch` makes, costs node and caller alike); each reply in the
    order of ``calls``. A connection the node closed is opened again once (the calls only read); raises
    ``OSError`` when the node does not answer."""
    import http.client

    connections: dict[str, _Connection] = _KEPT.__dict__.setdefault("connections", {})
    for attempt in range(2):
        connection = connections.get(url)
        if connection is None:
            connection = connections[url] = _Connection(url, timeout=timeout)
        try:
            return connection.batch(calls)
        except (OSError, http.client.HTTPException, ValueError) as error:
            connections.pop(url, None)
            connection.close()
            if attempt == 1:
                raise OSError(f"the devnet at {url} did not answer: {error}") from error
    raise AssertionError("unreachable")


def _journal_block(block: dict[str, Any], raw_transactions: list[str]) -> JournalBlock:
    """A block as the node gives it (``eth_getBlockByNumber``, hex fields) with its transactions' raw bytes, in
    order, as the journal keeps it."""
    return JournalBlock(
        number=int(block["number"], 16),
        hash=block["hash"],
        parent=block["parentHash"],
        timestamp=int(block["timestamp"], 16),
        transactions=tuple(raw_transactions),
    )


def _pid_is_anvil(pid: int) -> bool:
    """Whether ``pid`` is an anvil that may still hold its port. A killed node's first thread turns zombie (and its
    command line empty) before its other threads have exited and closed its sockets: it counts until they have."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    name, fields = stat[stat.find("(") + 1 : stat.rfind(")")], stat[stat.rfind(")") + 2 :].split()
    if b"anvil" not in cmdline and "anvil" not in name:
        return False
    return fields[0] != "Z" or int(fields[17]) > 1  # state, number of threads


def _port_is_free(port: int) -> bool:
    """Whether the port can be bound now: a port a killed node left in TIME_WAIT counts as free, as it is for
    anvil, which binds with SO_REUSEADDR too."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dumped_state(hex_or_bytes: str) -> bytes:
    data = bytes.fromhex(hex_or_bytes[2:] if hex_or_bytes.startswith("0x") else hex_or_bytes)
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


class Devnet:
    """Supervisor of the anvil node kept under ``<home>/devnet``."""

    def __init__(self, home: str | os.PathLike[str], port: int | None = None):
        self.dir = Path(home).expanduser() / "devnet"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.journal = Journal(self.dir / "journal.jsonl")
        self.legacy_state_file = self.dir / "state.json"  # written by versions before the journal
        self.info_file = self.dir / "devnet.json"
        self.log_file = self.dir / "anvil.log"
        self.node_home = self.dir / "node"  # anvil's HOME: whatever it writes stays in the colearn home
        self.preferred_port = port or int(os.environ.get("COLEARN_DEVNET_PORT", DEFAULT_PORT))
        self._lock = FileLock(str(self.dir / "devnet.lock"), timeout=300)

    # ------------------------------------------------------------------------------------------------ queries
    def _info(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.info_file.read_text())
        except (OSError, ValueError):
            return None

    def _live_url(self) -> str | None:
        """URL of the running node, or None when it is not running or does not answer."""
        info = self._info()
        if not info or not _pid_is_anvil(info["pid"]):
            return None
        try:
            rpc_call(info["url"], "eth_chainId", timeout=2.0)
        except (OSError, DevnetError):
            return None
        return info["url"]

    def _running_url(self) -> str | None:
        """URL of the node this home started, while its process runs (whether it answers is for the caller's next
        request to find out: an ``OSError``)."""
        info = self._info()
        if not info or not _pid_is_anvil(info["pid"]):
            return None
        return info["url"]

    @property
    def url(self) -> str | None:
        """The node's URL if it is running."""
        return self._live_url()

    @property
    def epoch(self) -> int | None:
        """The running node's pid: it changes whenever the node was restarted (and its chain rebuilt)."""
        info = self._info()
        return info.get("pid") if info else None

    def status(self) -> DevnetStatus:
        """Whether the node runs, where, what is durable, and how much the home keeps."""
        url = self._live_url()
        info = self._info() or {}
        block = int(rpc_call(url, "eth_blockNumber"), 16) if url else None
        snapshot = self._snapshots()[:1]
        return DevnetStatus(
            running=url is not None,
            url=url,
            pid=info.get("pid") if url else None,
            block_number=block,
            durable_block=self.journal.head()[0] if self.journal.exists() else None,
            journal_file=str(self.journal.path),
            journal_bytes=self.journal.size,
            snapshot_block=snapshot[0][0] if snapshot else None,
            snapshot_bytes=snapshot[0][1].stat().st_size if snapshot else 0,
            port_note=info.get("port_note", "") if url else "",
        )

    def disk_usage(self) -> int:
        """Bytes the devnet keeps on disk: journal, snapshots, log and the node's own files."""
        return sum(path.stat().st_size for path in self.dir.rglob("*") if path.is_file())

    # ------------------------------------------------------------------------------------------------ control
    def ensure_running(self) -> str:
        """Start the node unless it already runs (rebuilding its chain from the journal) and return its URL."""
        url = self._live_url()
        if url:
            return url
        with self._lock:
            return self._live_url() or self._start_locked()

    start = ensure_running

    def _start_locked(self) -> str:
        info = self._info() or {}
        stale_pid = info.get("pid")
        if stale_pid and _pid_is_anvil(stale_pid):  # alive but not answering: replace it
            self._kill(stale_pid)
        self.info_file.unlink(missing_ok=True)
        shutil.rmtree(self.node_home, ignore_errors=True)  # what a killed node left behind
        if not self.journal.exists():
            self._create_journal()
        self.journal.repair()
        head = self.journal.head()
        port, note = self._choose_port(info.get("port"))
        for attempt in range(2):
            base = self._usable_snapshot(head[0])
            if (base is None and head[0] > 0) or (base is not None and base[0] < head[0]):
                base = self._rebuild(base, head)
            process, url = self._spawn(port, load=base[1] if base else None)
            try:
                self._expect_head(url, head)
                break
            except DevnetError:
                self._kill(process.pid)
                if base is None or attempt:
                    raise
                base[1].rename(base[1].with_suffix(".damaged"))  # rebuild without it
        info = {"pid": process.pid, "port": port, "url": url, "started": time.time(), "port_note": note}
        self.info_file.write_text(json.dumps(info))
        return url

    def _choose_port(self, last: int | None) -> tuple[int, str]:
        """The port used last time (or the preferred one) unless another program holds it."""
        port = last or self.preferred_port
        if port == 0:  # COLEARN_DEVNET_PORT=0: any free port
            return _free_port(), ""
        if _port_is_free(port):
            return port, ""
        other = _free_port()
        note = f"port {port} is taken by another program, so the devnet listens on {other} this time"
        warnings.warn(f"{note}; free the port or set COLEARN_DEVNET_PORT to choose one", stacklevel=4)
        return other, note

    # ------------------------------------------------------------------------------------------------ the node
    def _spawn(
        self,
        port: int,
        *,
        load: Path | None = None,
        timestamp: int | None = None,
        hardfork: str | None = None,
        replay: bool = False,
    ) -> tuple[Any, str]:
        """Start anvil on ``port`` (from genesis, or from the snapshot ``load``); wait until it answers.

        The genesis timestamp and the fork rules are the journal's, unless given (for a new journal)."""
        if timestamp is None:
            assert self.journal.header is not None
            timestamp = int(self.journal.header["genesis_timestamp"])
            hardfork = self.journal.header.get("hardfork")
        self.node_home.mkdir(exist_ok=True)
        command = [
            find_anvil(),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--chain-id", str(CHAIN_ID),
            "--accounts", str(ACCOUNT_COUNT),
            "--balance", str(ACCOUNT_BALANCE_ETH),
            "--mnemonic", MNEMONIC,
            "--timestamp", str(timestamp),  # the same genesis at every start
            "--prune-history", str(PRUNE_HISTORY),  # no state snapshots on disk, a few in memory
        ]  # fmt: skip
        if hardfork:
            command += ["--hardfork", hardfork]
        if replay:  # a replayed block keeps the journal's order; the public node orders by tip, as mempools do
            command += ["--order", "fifo"]
        if load is not None:
            command += ["--load-state", str(load)]
        environment = {**os.environ, "HOME": str(self.node_home), "XDG_CACHE_HOME": str(self.node_home / "cache")}
        try:
            with open(self.log_file, "ab") as log:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=environment,
                    start_new_session=True,  # outlives the kernel that started it
                )
        except OSError as error:
            raise DevnetError(
                f"cannot run anvil at {command[0]}: {error.strerror}. Fix COLEARN_ANVIL, run `make install`, "
                "or set COLEARN_RPC_URL to use another chain."
            ) from None
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = self.log_file.read_text(errors="replace")[-800:]
                raise DevnetError(
                    f"anvil exited with code {process.returncode} while starting. Its log ends with:\n{tail}\n"
                    "If the devnet's files are damaged, `colearn devnet reset` starts a fresh chain."
                )
            try:
                rpc_call(url, "eth_chainId", timeout=1.0)
                return process, url
            except (OSError, DevnetError):
                time.sleep(0.05)
        self._kill(process.pid)
        raise DevnetError(f"anvil did not answer on {url} within {_START_TIMEOUT_S:.0f} s; see {self.log_file}")

    def _expect_head(self, url: str, head: tuple[int, str]) -> None:
        """Check the node's latest block is ``head`` and set its clock to that block's time (chain time stops
        while the node is down, and never goes back)."""
        block = rpc_call(url, "eth_getBlockByNumber", ["latest", False])
        if (int(block["number"], 16), block["hash"]) != head:
            raise DevnetError(
                f"the rebuilt devnet ends at block {int(block['number'], 16)} ({block['hash'][:10]}…), not at the "
                f"journal's block {head[0]} ({head[1][:10]}…). Nothing was changed; report this with "
                f"{self.dir} attached, or `colearn devnet reset` to start a fresh chain."
            )
        rpc_call(url, "anvil_setTime", [int(block["timestamp"], 16)])

    def _create_journal(self) -> None:
        """A new journal: from a new genesis, or based on the state file of a version before the journal."""
        if self.legacy_state_file.exists():
            self._migrate_legacy_state()
            return
        timestamp = int(time.time())
        process, url = self._spawn(_free_port(), timestamp=timestamp, hardfork=HARDFORK)
        try:
            genesis = rpc_call(url, "eth_getBlockByNumber", ["0x0", False])
        finally:
            self._kill(process.pid)
        self.journal.create(
            {
                "chain_id": CHAIN_ID,
                "genesis_timestamp": timestamp,
                "genesis_hash": genesis["hash"],
                "hardfork": HARDFORK,
            }
        )

    def _migrate_legacy_state(self) -> None:
        """Adopt a ``state.json`` written before the journal as the journal's base snapshot."""
        with open(self.legacy_state_file, "rb") as handle:
            blocks = json.load(handle).get("blocks", [])
        genesis_time = min(
            (int(b["header"]["timestamp"], 16) for b in blocks if int(b["header"]["number"], 16) == 0),
            default=int(time.time()),
        )
        process, url = self._spawn(_free_port(), load=self.legacy_state_file, timestamp=genesis_time)
        try:
            latest = rpc_call(url, "eth_getBlockByNumber", ["latest", False])
            genesis = rpc_call(url, "eth_getBlockByNumber", ["0x0", False])
            number = int(latest["number"], 16)
            self._write_snapshot(number, _dumped_state(rpc_call(url, "anvil_dumpState", timeout=300.0)))
        finally:
            self._kill(process.pid)
        self.journal.create(
            {
                "chain_id": CHAIN_ID,
                "genesis_timestamp": genesis_time,
                "genesis_hash": genesis["hash"],
                "base": {"n": number, "h": latest["hash"]},
            }
        )
        os.replace(self.legacy_state_file, self.legacy_state_file.with_suffix(".json.migrated"))

    # ------------------------------------------------------------------------------------------------ snapshots
    def _snapshots(self) -> list[tuple[int, Path]]:
        """(block, path) of every snapshot on disk, newest first."""
        found = []
        for path in self.dir.glob("snapshot-*.json"):
            try:
                found.append((int(path.stem.split("-", 1)[1]), path))
            except ValueError:
                continue
        return sorted(found, reverse=True)

    def _usable_snapshot(self, head: int) -> tuple[int, Path] | None:
        """The newest snapshot not past the journal's head (its hash is checked once loaded)."""
        for number, path in self._snapshots():
            if number <= head:
                return number, path
        return None

    def _write_snapshot(self, number: int, data: bytes) -> Path:
        """Save a dump of the chain at block ``number``; keep it and the one before, and a journal's base."""
        path = self.dir / f"snapshot-{number}.json"
        write_atomically(path, data)
        base = (self.journal.header or {}).get("base", {}).get("n") if self.journal.exists() else None
        for old, old_path in self._snapshots()[2:]:
            if old != base:
                old_path.unlink(missing_ok=True)
        return path

    def _rebuild(self, base: tuple[int, Path] | None, head: tuple[int, str]) -> tuple[int, Path]:
        """Replay the journal after ``base`` into a node on a private port, check every block's hash, and save a
        snapshot at the head. Nothing can talk to this node but us: the usual port opens only afterwards."""
        header_base = (self.journal.header or {}).get("base")
        while True:
            process, url = self._spawn(_free_port(), load=base[1] if base else None, replay=True)
            try:
                start = base[0] if base else 0
                block = rpc_call(url, "eth_getBlockByNumber", ["latest", False])
                if (int(block["number"], 16), block["hash"]) != (start, self.journal.hash_at(start)):
                    if base is None:
                        raise DevnetError(
                            f"the devnet's genesis differs from its journal's ({self.journal.path}); "
                            "`colearn devnet reset` starts a fresh chain"
                        )
                    base[1].rename(base[1].with_suffix(".damaged"))  # fall back to an older base
                    base = self._usable_snapshot(start - 1)
                    if base is None and header_base:
                        raise DevnetError(
                            f"the devnet's base snapshot (block {header_base['n']}) is damaged and its journal "
                            "starts after it; `colearn devnet reset` starts a fresh chain"
                        )
                    continue
                self._replay(url, start, head)
                data = _dumped_state(rpc_call(url, "anvil_dumpState", timeout=300.0))
                return head[0], self._write_snapshot(head[0], data)
            finally:
                self._kill(process.pid)

    def _replay(self, url: str, start: int, head: tuple[int, str]) -> None:
        from tqdm.auto import tqdm

        call = _Connection(url)
        try:
            call("evm_setAutomine", False)
            with tqdm(total=head[0] - start, desc="rebuilding the devnet", unit="block", delay=2, leave=False) as bar:
                for block in self.journal.blocks(after=start):
                    for raw in block.transactions:
                        call("eth_sendRawTransaction", raw)
                    call("evm_setNextBlockTimestamp", block.timestamp)
                    call("evm_mine")
                    mined = call("eth_getBlockByNumber", "latest", False)
                    if (int(mined["number"], 16), mined["hash"]) != (block.number, block.hash):
                        raise DevnetError(
                            f"replaying the devnet's journal gave block {int(mined['number'], 16)} "
                            f"({mined['hash'][:10]}…), not block {block.number} ({block.hash[:10]}…). Nothing was "
                            f"changed; report this with {self.dir} attached, or `colearn devnet reset`."
                        )
                    bar.update()
            call("evm_setAutomine", True)
        finally:
            call.close()

    # ------------------------------------------------------------------------------------------------ durability
    def _journal_new_blocks(self, url: str, upto: int | None = None) -> tuple[int, str]:
        """Append every block the node mined past the journal's head (under the lock), or those up to block
        ``upto``; returns the new head."""
        if upto is not None:
            return self._journal_blocks_upto(url, upto)
        head = self.journal.head()
        latest = int(rpc_call(url, "eth_blockNumber", timeout=30.0), 16)
        for first in range(head[0] + 1, latest + 1, _JOURNAL_BATCH):
            numbers = range(first, min(latest, first + _JOURNAL_BATCH - 1) + 1)
            blocks = rpc_batch(url, [("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
            hashes = [tx for block in blocks for tx in block["transactions"]]
            raws = iter(rpc_batch(url, [("eth_getRawTransactionByHash", [tx]) for tx in hashes]))
            self.journal.append([_journal_block(b, [next(raws) for _ in b["transactions"]]) for b in blocks])
        return self.journal.head()

    def _journal_blocks_upto(self, url: str, upto: int) -> tuple[int, str]:
        """Append the blocks after the journal's head up to block ``upto`` at least (under the lock), and those the
        node mined after it among the next ``_JOURNAL_AHEAD`` (so that the commits of other processes, whose
        transactions they hold, find them durable without taking the lock); returns the new head.

        One batch asks for each block and its first transaction's raw bytes (a devnet block mostly holds one
        transaction), kept only when they hash to the block's first transaction; any other transaction is asked
        for by hash. A block up to ``upto`` that the node does not have (it went back) raises
        :class:`DevnetError`; past ``upto``, the blocks are journaled up to the first one it does not have yet.
        """
        from eth_utils import keccak

        head = self.journal.head()
        last = max(upto, head[0]) + _JOURNAL_AHEAD
        for first in range(head[0] + 1, last + 1, _JOURNAL_BATCH):
            numbers = range(first, min(last, first + _JOURNAL_BATCH - 1) + 1)
            calls = [("eth_getBlockByNumber", [hex(n), False]) for n in numbers]
            calls += [("eth_getRawTransactionByBlockNumberAndIndex", [hex(n), "0x0"]) for n in numbers]
            replies = _kept_batch(url, calls)
            blocks, raws = [], {}
            for number, reply, raw in zip(numbers, replies[: len(numbers)], replies[len(numbers) :], strict=True):
                block = reply.get("result")
                if not block:
                    if number <= upto:
                        raise DevnetError(f"the devnet has no block {number}: {reply.get('error', 'not found')}")
                    break  # not mined yet
                blocks.append(block)
                first_raw = raw.get("result")
                if block["transactions"] and isinstance(first_raw, str) and first_raw.startswith("0x"):
                    if "0x" + keccak(hexstr=first_raw).hex() == block["transactions"][0]:
                        raws[block["transactions"][0]] = first_raw
            missing = [tx for block in blocks for tx in block["transactions"] if tx not in raws]
            replies = _kept_batch(url, [("eth_getRawTransactionByHash", [tx]) for tx in missing]) if missing else []
            for tx, reply in zip(missing, replies, strict=True):
                if not isinstance(reply.get("result"), str):
                    raise DevnetError(f"the devnet refused eth_getRawTransactionByHash: {reply.get('error')}")
                raws[tx] = reply["result"]
            self.journal.append([_journal_block(b, [raws[tx] for tx in b["transactions"]]) for b in blocks])
            if len(blocks) < len(numbers):
                break
        return self.journal.head()

    def commit(self, block_number: int, block_hash: str) -> bool:
        """Make the block that holds a transaction durable; True once it is in the journal.

        False means the node stopped before the block reached the journal: the block is lost (its transactions
        did not happen, as far as anyone will ever see) and the caller may send them again. The journal is brought
        up to that block (later blocks are journaled by the commits that need them): usually one request to the
        node, on a connection kept for the next commit.
        """
        if self.journal.exists() and self.journal.hash_at(block_number) == block_hash:
            return True  # another process journaled it already
        with self._lock:
            if self.journal.hash_at(block_number) is None:
                url = self._running_url()
                if url is None:
                    return False
                try:
                    head = self._journal_new_blocks(url, upto=block_number)
                    self._maybe_snapshot(url, head[0])
                except (OSError, DevnetError):
                    pass  # the node died meanwhile: what was journaled stays, the rest is lost
            return self.journal.hash_at(block_number) == block_hash

    def sync(self) -> int:
        """Journal every block the running node has mined; returns the durable head (0 when there is none)."""
        with self._lock:
            url = self._live_url()
            if url is None:
                return self.journal.head()[0] if self.journal.exists() else 0
            return self._journal_new_blocks(url)[0]

    persist = sync

    def _maybe_snapshot(self, url: str, head: int) -> None:
        last = self._snapshots()[:1]
        if head - (last[0][0] if last else 0) >= SNAPSHOT_EVERY:
            self._snapshot_live(url)

    def _snapshot_live(self, url: str) -> None:
        """Dump the running node's chain and keep it as a snapshot once its block is durable (under the lock)."""
        data = _dumped_state(rpc_call(url, "anvil_dumpState", timeout=300.0))
        number = int(str(json.loads(data)["best_block_number"]), 0)
        self._journal_new_blocks(url)
        if self.journal.hash_at(number) is not None:
            self._write_snapshot(number, data)  # its hash is checked against the journal when it is loaded

    def stop(self) -> bool:
        """Journal what is left, save a snapshot and stop the node. Returns False when it was not running."""
        with self._lock:
            info = self._info()
            if not info or not _pid_is_anvil(info["pid"]):
                self.info_file.unlink(missing_ok=True)
                return False
            url = self._live_url()
            if url is not None:
                head = self._journal_new_blocks(url)
                last = self._snapshots()[:1]
                if not last or last[0][0] < head[0]:
                    self._snapshot_live(url)
            self._kill(info["pid"])
            self.info_file.unlink(missing_ok=True)
            shutil.rmtree(self.node_home, ignore_errors=True)
        return True

    def reset(self) -> None:
        """Stop the node and forget its chain: the next use starts from a new genesis."""
        with self._lock:
            info = self._info()
            if info and _pid_is_anvil(info["pid"]):
                self._kill(info["pid"])
            for path in (self.info_file, self.journal.path, self.legacy_state_file, *self.dir.glob("snapshot-*")):
                path.unlink(missing_ok=True)
            shutil.rmtree(self.node_home, ignore_errors=True)
            self.journal = Journal(self.journal.path)

    def kill_for_test(self) -> int:
        """Kill the node with SIGKILL, as a crash would. Returns the killed pid."""
        info = self._info()
        if not info:
            raise DevnetError("the devnet is not running")
        os.kill(info["pid"], signal.SIGKILL)
        self._wait_gone(info["pid"])
        return info["pid"]

    # ------------------------------------------------------------------------------------------------ time
    def advance_time(self, seconds: int) -> int:
        """Move the devnet's clock forward and mine a block (made durable); returns the new block timestamp."""
        if seconds < 0:
            raise DevnetError("time only moves forward on the devnet")
        for _ in range(3):
            url = self.ensure_running()
            try:
                rpc_call(url, "evm_increaseTime", [int(seconds)])
                rpc_call(url, "evm_mine")
                block = rpc_call(url, "eth_getBlockByNumber", ["latest", False])
            except OSError:
                continue  # the node died: the next round restarts it
            if self.commit(int(block["number"], 16), block["hash"]):
                return int(block["timestamp"], 16)
        raise DevnetError(f"the devnet stopped three times while its clock was moved; see {self.log_file}")

    # ------------------------------------------------------------------------------------------------ helpers
    @staticmethod
    def _wait_gone(pid: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while _pid_is_anvil(pid) and time.monotonic() < deadline:
            try:  # reap it if it is our child
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.02)

    def _kill(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        self._wait_gone(pid, timeout=5.0)
        if _pid_is_anvil(pid):
            os.kill(pid, signal.SIGKILL)
            self._wait_gone(pid)
