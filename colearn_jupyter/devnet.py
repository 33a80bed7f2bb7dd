"""The embedded devnet: one anvil node per colearn home, shared by every kernel of a Jupyter server.

The devnet starts on first use, listens on loopback only, and keeps its chain in ``<home>/devnet/state.json``.
Every process that uses it goes through the same lock file, so exactly one anvil runs per home. The node runs in
its own session: it outlives the kernel that started it and is stopped by ``colearn devnet stop``.

Durability: after every confirmed transaction the chain layer calls :meth:`Devnet.persist`, which dumps anvil's
state and atomically replaces the state file. A node killed with SIGKILL is restarted from that file by the next
call, so no confirmed transaction is lost.

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
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from .errors import DevnetError

CHAIN_ID = 31337
DEFAULT_PORT = 8645
MNEMONIC = "test test test test test test test test test test test junk"
ACCOUNT_COUNT = 10
ACCOUNT_BALANCE_ETH = 10_000
_START_TIMEOUT_S = 30.0
_ANVIL_PACKAGE = Path("node_modules") / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


@dataclass(frozen=True)
class DevnetStatus:
    """What ``colearn devnet status`` shows."""

    running: bool
    url: str | None
    pid: int | None
    block_number: int | None
    state_file: str
    state_bytes: int

    def _repr_html_(self) -> str:
        from . import htmlsafe

        return htmlsafe.table("colearn devnet", [(k, htmlsafe.text(v)) for k, v in asdict(self).items()])


def find_anvil() -> str:
    """Path of the anvil binary: ``$COLEARN_ANVIL``, the npm package beside this checkout, or ``PATH``."""
    override = os.environ.get("COLEARN_ANVIL")
    if override:
        return override
    here = Path(__file__).resolve()
    for folder in (Path.cwd(), *here.parents):
        candidate = folder / _ANVIL_PACKAGE
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("anvil")
    if found:
        return found
    raise DevnetError(
        "anvil, the devnet's node, is not installed. Run `make install` (or `npm install`) in the colearn-jupyter "
        "checkout, set COLEARN_ANVIL to an anvil binary, or set COLEARN_RPC_URL to use another chain."
    )


def rpc_call(url: str, method: str, params: list[Any] | None = None, timeout: float = 2.0) -> Any:
    """One JSON-RPC call with the standard library; raises ``OSError`` when the node does not answer."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})  # noqa: S310 (http URL we built)
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback URL we built)
        reply = json.load(response)
    if "error" in reply:
        raise DevnetError(f"the devnet refused {method}: {reply['error'].get('message', reply['error'])}")
    return reply["result"]


def _pid_is_anvil(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[-1][:1]
    except OSError:
        return False
    return b"anvil" in cmdline and state != "Z"


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class Devnet:
    """Supervisor of the anvil node kept under ``<home>/devnet``."""

    def __init__(self, home: str | os.PathLike[str], port: int | None = None):
        self.dir = Path(home).expanduser() / "devnet"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_file = self.dir / "state.json"
        self.info_file = self.dir / "devnet.json"
        self.log_file = self.dir / "anvil.log"
        self.preferred_port = port or int(os.environ.get("COLEARN_DEVNET_PORT", DEFAULT_PORT))
        self._lock = FileLock(str(self.dir / "devnet.lock"), timeout=120)

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

    @property
    def url(self) -> str | None:
        """The node's URL if it is running."""
        return self._live_url()

    def status(self) -> DevnetStatus:
        """Whether the node runs, where, and how much state it keeps."""
        url = self._live_url()
        info = self._info() or {}
        block = int(rpc_call(url, "eth_blockNumber"), 16) if url else None
        size = self.state_file.stat().st_size if self.state_file.exists() else 0
        return DevnetStatus(
            running=url is not None,
            url=url,
            pid=info.get("pid") if url else None,
            block_number=block,
            state_file=str(self.state_file),
            state_bytes=size,
        )

    # ------------------------------------------------------------------------------------------------ control
    def ensure_running(self) -> str:
        """Start the node unless it already runs (restoring its saved state) and return its URL."""
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
        port = info.get("port") or self.preferred_port
        if not port or not _port_is_free(port):
            port = _free_port()
        command = [
            find_anvil(),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--chain-id", str(CHAIN_ID),
            "--accounts", str(ACCOUNT_COUNT),
            "--balance", str(ACCOUNT_BALANCE_ETH),
            "--mnemonic", MNEMONIC,
        ]  # fmt: skip
        if self.state_file.exists():
            command += ["--load-state", str(self.state_file)]
        try:
            with open(self.log_file, "ab") as log:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
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
                    f"If the state file is damaged, `colearn devnet reset` starts a fresh chain."
                )
            try:
                rpc_call(url, "eth_chainId", timeout=1.0)
                break
            except (OSError, DevnetError):
                time.sleep(0.05)
        else:
            self._kill(process.pid)
            raise DevnetError(f"anvil did not answer on {url} within {_START_TIMEOUT_S:.0f} s; see {self.log_file}")
        self.info_file.write_text(json.dumps({"pid": process.pid, "port": port, "url": url, "started": time.time()}))
        return url

    def persist(self) -> None:
        """Save the node's whole chain to the state file, atomically. Called after every confirmed transaction."""
        with self._lock:
            url = self._live_url()
            if url is None:
                return
            dumped = rpc_call(url, "anvil_dumpState", timeout=60.0)
            data = bytes.fromhex(dumped[2:] if dumped.startswith("0x") else dumped)
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            _write_atomically(self.state_file, data)

    def stop(self) -> bool:
        """Save the state and stop the node. Returns False when it was not running."""
        with self._lock:
            info = self._info()
            if not info or not _pid_is_anvil(info["pid"]):
                self.info_file.unlink(missing_ok=True)
                return False
        self.persist()
        with self._lock:
            self._kill(info["pid"])
            self.info_file.unlink(missing_ok=True)
        return True

    def reset(self) -> None:
        """Stop the node and forget its chain: the next use starts from genesis."""
        with self._lock:
            info = self._info()
            if info and _pid_is_anvil(info["pid"]):
                self._kill(info["pid"])
            for path in (self.info_file, self.state_file):
                path.unlink(missing_ok=True)

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
        """Move the devnet's clock forward and mine a block; returns the new block timestamp."""
        if seconds < 0:
            raise DevnetError("time only moves forward on the devnet")
        url = self.ensure_running()
        rpc_call(url, "evm_increaseTime", [int(seconds)])
        rpc_call(url, "evm_mine")
        self.persist()
        return int(rpc_call(url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

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
