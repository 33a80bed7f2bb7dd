"""Fault injection (issue 11, "nothing confirmed is ever lost"): the devnet's node is killed, or its journal torn,
at every step boundary of publish, contribute, challenge, resolve and claim.

Each fault runs on a private colearn home (its own devnet), never on the test session's shared one. After every
injection the call must have completed (or raised a clear ColearnError with nothing applied); then everything ever
confirmed must still be on chain and in the journal, each transaction exactly once, every balance must reconcile
to the wei with the receipts the calls returned, a fresh ``Marketplace.connect(Chain())`` must find the same
marketplace, and the next operation must work. The counts of injections are printed as a table (docs/reliability.md
quotes them); set ``COLEARN_FAULTS_REPORT`` to a path to get them as JSON too.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests
from sklearn.linear_model import LogisticRegression
from web3.providers.rpc import HTTPProvider

from colearn_jupyter import Chain, ColearnError, Devnet, Marketplace, Session
from colearn_jupyter import chain as chain_module
from colearn_jupyter.devnet import ACCOUNT_BALANCE_ETH, rpc_batch, rpc_call
from colearn_jupyter.journal import Journal

pytestmark = pytest.mark.slow

GENESIS_BALANCE = ACCOUNT_BALANCE_ETH * 10**18
ACCOUNTS = ("owner", "alice", "bob", "carol", "verifier", "deployer")
FOUNDRY_TMP = Path.home() / ".foundry" / "anvil" / "tmp"

#: Where each fault strikes, by the name the report uses.
KINDS = {
    "before send": "SIGKILL in the on_signed hook, right before the signed transaction leaves",
    "reply lost": "SIGKILL after the node took the transaction, before it answered (its block not journaled)",
    "reply lost, journaled": "the same, but another process journaled the block before the node died",
    "before receipt": "SIGKILL after sending, before the receipt is read (Chain._wait)",
    "before durable": "SIGKILL after the receipt, before its block is journaled (Devnet.commit)",
    "torn write, node killed": "the journal append writes half its last line, then the node is SIGKILLed",
    "torn write, node alive": "the journal append writes half its last line and fails (an I/O error)",
}
#: Faults that strike once per transaction sent; the others once per block made durable (Devnet.commit).
PER_TRANSACTION = ("before send", "reply lost", "reply lost, journaled", "before receipt")


# ---------------------------------------------------------------------------------------------------- injection
class Injector:
    """Counts the boundaries each fault point passes and fires a fault at the n-th one of one kind."""

    def __init__(self) -> None:
        self.kind: str | None = None
        self.at = -1
        self.seen: Counter[str] = Counter()
        self.fired = 0

    def arm(self, kind: str | None, at: int = -1) -> None:
        self.kind, self.at, self.seen, self.fired = kind, at, Counter(), 0

    def hit(self, kind: str) -> bool:
        index = self.seen[kind]
        self.seen[kind] += 1
        if kind == self.kind and index == self.at:
            self.fired += 1
            return True
        return False


@dataclass
class Confirmed:
    """A transaction some call was told is confirmed (``Chain.send`` returned its receipt)."""

    hash: str
    sender: str
    nonce: int
    value: int
    fee: int
    block: int
    block_hash: str
    logs: list[Any]
    events: list[Any] | None = None  # the marketplace's events among the logs, decoded once


class _HookTap:
    """Stands in for chain.py's hook variable: every hook set with on_signed still runs, then the tap."""

    def __init__(self, variable: Any, tap: Callable[..., None]):
        self._variable, self._tap = variable, tap

    def get(self) -> Callable[..., None]:
        inner = self._variable.get()

        def hook(tx_hash: str, raw: str, sender: str, nonce: int) -> None:
            if inner is not None:
                inner(tx_hash, raw, sender, nonce)
            self._tap(tx_hash, raw, sender, nonce)

        return hook

    def set(self, value: Any) -> Any:
        return self._variable.set(value)

    def reset(self, token: Any) -> None:
        self._variable.reset(token)


def _tear(journal: Journal, blocks: list[Any]) -> None:
    """Write ``blocks`` as a writer killed in the middle of its last line leaves them."""
    journal.refresh()
    data = b"".join(block.to_line() for block in blocks)
    keep = len(data) - len(blocks[-1].to_line()) // 2
    fd = os.open(journal.path, os.O_WRONLY)
    try:
        os.truncate(fd, journal._offset)
        os.lseek(fd, journal._offset, os.SEEK_SET)
        os.write(fd, data[:keep])
        os.fsync(fd)
    finally:
        os.close(fd)


def _foundry_tmp() -> set[str]:
    return set(os.listdir(FOUNDRY_TMP)) if FOUNDRY_TMP.is_dir() else set()


# ---------------------------------------------------------------------------------------------------- the workload
class Harness:
    """A private devnet with a published model, the fault points patched in, and the ledger of confirmed txs."""

    def __init__(self, home: Path, monkeypatch: pytest.MonkeyPatch):
        self.home = home
        self.injector = Injector()
        self.confirmed: dict[str, Confirmed] = {}
        self.signed: dict[str, tuple[str, int]] = {}  # tx hash -> (sender, nonce), from the on_signed hook
        self.outcomes: list[tuple[str, str, int, str]] = []  # (operation, fault, boundary, "completed" or error)
        self.last_seen: Counter[str] = Counter()  # the boundaries the last run passed
        self.counter = itertools.count()
        self.rng = np.random.default_rng(11)
        self._patch(monkeypatch)
        self.chain = Chain()
        self.devnet = self.chain.devnet
        assert self.devnet is not None
        self.owner = Session("owner", chain=self.chain)
        self.market = self.owner.market  # deployed now, through the patched send
        self.address = self.market.address
        self.addresses = {name: self.chain.account(name).address for name in ACCOUNTS}
        self.sessions = {name: self.owner.as_account(name) for name in ("alice", "bob", "verifier")}
        self.train, self.test = self.rows(40), self.rows(20)
        self.clf = LogisticRegression().fit(self.train[["x", "y"]], self.train["label"])
        card = self.owner.publish(self.clf, name="faults", train=self.train, test=self.test, label="label", pool="5")
        self.model_id = card.id
        self.to_challenge: list[int] = []  # alice's submissions, row 0 mislabelled
        self.to_resolve: list[int] = []  # pending label challenges
        self.to_claim: list[int] = []  # bob's submissions, every row right

    # ------------------------------------------------------------------------------------------------ patches
    def _patch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        harness, injector = self, self.injector
        real_send, real_wait, real_commit = Chain.send, Chain._wait, Devnet.commit
        real_append, real_request = Journal.append, HTTPProvider.make_request

        def tap(tx_hash: str, raw: str, sender: str, nonce: int) -> None:
            harness.signed[tx_hash] = (sender, nonce)
            if injector.hit("before send"):
                harness.devnet.kill_for_test()

        def send(self: Chain, account: Any, build: Any, *, value: int = 0, **kwargs: Any) -> dict[str, Any]:
            receipt = real_send(self, account, build, value=value, **kwargs)
            tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
            harness.confirmed[tx_hash] = Confirmed(
                hash=tx_hash,
                sender=receipt["from"],
                nonce=harness.signed[tx_hash][1],
                value=value,
                fee=receipt["gasUsed"] * receipt["effectiveGasPrice"],
                block=receipt["blockNumber"],
                block_hash="0x" + bytes(receipt["blockHash"]).hex(),
                logs=list(receipt["logs"]),
            )
            return receipt

        def wait(self: Chain, tx_hash: bytes, raw: bytes) -> dict[str, Any]:
            if injector.hit("before receipt"):
                harness.devnet.kill_for_test()
            return real_wait(self, tx_hash, raw)

        def commit(self: Devnet, block_number: int, block_hash: str) -> bool:
            if injector.hit("before durable"):
                self.kill_for_test()
            return real_commit(self, block_number, block_hash)

        def append(self: Journal, blocks: list[Any]) -> None:
            torn_killed, torn_alive = injector.hit("torn write, node killed"), injector.hit("torn write, node alive")
            if torn_killed or torn_alive:
                _tear(self, blocks)
                if torn_killed:
                    harness.devnet.kill_for_test()
                raise OSError(5, "simulated: the journal write stopped in the middle of a line")
            real_append(self, blocks)

        def make_request(self: HTTPProvider, method: str, params: Any) -> Any:
            response = real_request(self, method, params)
            if method == "eth_sendRawTransaction" and isinstance(self, chain_module._DevnetProvider):
                lost, journaled = injector.hit("reply lost"), injector.hit("reply lost, journaled")
                if lost or journaled:
                    if journaled:  # another process commits the block before the node dies
                        _wait_mined(self.endpoint_uri, response["result"])
                        harness.devnet.sync()
                    harness.devnet.kill_for_test()
                    raise requests.exceptions.ConnectionError("simulated: the node died before it answered")
            return response

        monkeypatch.setattr(chain_module, "_SIGNED_HOOK", _HookTap(chain_module._SIGNED_HOOK, tap))
        monkeypatch.setattr(Chain, "send", send)
        monkeypatch.setattr(Chain, "_wait", wait)
        monkeypatch.setattr(Devnet, "commit", commit)
        monkeypatch.setattr(Journal, "append", append)
        monkeypatch.setattr(HTTPProvider, "make_request", make_request)

    # ------------------------------------------------------------------------------------------------ data
    def rows(self, count: int, mislabel_first: bool = False) -> pd.DataFrame:
        """Fresh rows (label: x > y); the first one far from the boundary and mislabelled when asked."""
        x, y = self.rng.uniform(0, 10, count).round(4), self.rng.uniform(0, 10, count).round(4)
        frame = pd.DataFrame({"x": x, "y": y, "label": (x > y).astype("int64")})
        if mislabel_first:
            frame.loc[0, ["x", "y", "label"]] = [9 + next(self.counter) / 1e4, 0.5, 0]
        return frame

    # ------------------------------------------------------------------------------------------------ operations
    def publish(self) -> None:
        name = f"faults-{next(self.counter)}"
        before = self.market.model_count()
        card = self.owner.publish(self.clf, name=name, train=self.train, test=self.test, label="label", pool="0.01")
        assert self.market.model_count() == before + 1
        assert (card.id, card.name, card.info.owner) == (before + 1, name, self.addresses["owner"])

    def contribute(self, who: str = "alice") -> None:
        before = self.market.submission_count()
        submission = self.sessions[who].contribute(self.model_id, self.rows(4, mislabel_first=who == "alice"))
        assert self.market.submission_count() == before + 1
        assert (submission.id, submission.contributor, submission.row_count) == (before + 1, self.addresses[who], 4)
        (self.to_challenge if who == "alice" else self.to_claim).append(submission.id)

    def challenge(self) -> None:
        submission_id = self.to_challenge.pop(0)
        before = self.market._call("challengeCount")
        (challenge_id,) = self.sessions["verifier"].challenge(submission_id, [0])
        info = self.market.challenge_info(challenge_id)
        assert challenge_id == before + 1 and self.market._call("challengeCount") == before + 1
        assert (info.submission_id, info.row_index, info.kind, info.status) == (submission_id, 0, "label", "pending")
        self.to_resolve.append(challenge_id)

    def resolve(self) -> None:
        challenge_id = self.to_resolve.pop(0)
        assert self.owner.resolve(challenge_id, upheld=True) is True
        assert self.market.challenge_info(challenge_id).status == "upheld"

    def claim(self) -> None:
        submission_id = self.to_claim.pop(0)
        bob = self.addresses["bob"]
        terms = self.market.model(self.model_id).terms
        assert self.sessions["bob"].claim(submission_id) == 4 * (terms.deposit_per_row + terms.reward_per_row)
        assert self.market.submission(submission_id).claimed and self.market.credit_of(bob) == 0

    # ------------------------------------------------------------------------------------------------ checks
    def run(self, operation: str, kind: str | None, at: int) -> None:
        """One operation with one fault armed (``kind`` None: none); records its outcome, then checks everything."""
        self.injector.arm(kind, at)
        try:
            getattr(self, operation)()
            outcome = "completed"
        except ColearnError as error:  # anything else fails the test: it is not a clear error
            outcome = f"{type(error).__name__}: {error}"
        finally:
            fired, self.last_seen = self.injector.fired, Counter(self.injector.seen)
            self.injector.arm(None)
        if kind is not None:
            assert fired == 1, f"{operation}: fault {kind!r} at boundary {at} never struck"
        self.outcomes.append((operation, kind or "none", at, outcome))
        self.check()

    def expected(self) -> dict[str, Any]:
        """The marketplace's state as the confirmed receipts tell it."""
        state: dict[str, Any] = {"models": {}, "submissions": {}, "challenges": {}, "withdrawn": Counter()}
        for tx in self.confirmed.values():
            if tx.events is None:
                decoded = (self.market._decode_log(log) for log in tx.logs if log["address"] == self.address)
                tx.events = [event for event in decoded if event is not None]
            for event in tx.events:
                args = event.args
                if event.name == "ModelPublished":
                    assert args["model_id"] not in state["models"], f"model {args['model_id']} published twice"
                    state["models"][args["model_id"]] = (args["owner"], args["name"])
                elif event.name == "SubmissionAdded":
                    assert args["submission_id"] not in state["submissions"], "a submission added twice"
                    state["submissions"][args["submission_id"]] = [args["contributor"], args["row_count"], 0, False]
                elif event.name == "RowRejected":
                    state["submissions"][args["submission_id"]][2] += 1
                elif event.name == "SubmissionClaimed":
                    assert not state["submissions"][args["submission_id"]][3], "a submission claimed twice"
                    state["submissions"][args["submission_id"]][3] = True
                elif event.name == "RowChallenged":
                    assert args["challenge_id"] not in state["challenges"], "a challenge revealed twice"
                    state["challenges"][args["challenge_id"]] = [args["submission_id"], "pending"]
                elif event.name == "ChallengeResolved":
                    state["challenges"][args["challenge_id"]][1] = "upheld" if args["upheld"] else "rejected"
                elif event.name == "Withdrawn":
                    state["withdrawn"][args["account"]] += args["amount"]
        return state

    def check(self) -> None:
        """Everything confirmed is on chain exactly once and durable; balances reconcile to the wei."""
        url = self.devnet.ensure_running()
        journal = Journal(self.devnet.journal.path)  # a fresh reader: what is on disk
        head = journal.head()
        latest = rpc_call(url, "eth_getBlockByNumber", ["latest", False])
        assert int(latest["number"], 16) >= head[0]
        # Every block of the chain is durable and holds only transactions some call was told are confirmed.
        numbers = list(range(1, head[0] + 1))
        on_chain: list[str] = []
        for first in range(0, len(numbers), 256):
            calls = [("eth_getBlockByNumber", [hex(n), False]) for n in numbers[first : first + 256]]
            for block in rpc_batch(url, calls):
                assert journal.hash_at(int(block["number"], 16)) == block["hash"]
                on_chain += block["transactions"]
        assert len(on_chain) == len(set(on_chain))
        unknown, lost = set(on_chain) - set(self.confirmed), set(self.confirmed) - set(on_chain)
        assert not unknown and not lost, (
            f"lost: {lost}; on chain but never confirmed to anyone: {unknown} (signed here: "
            f"{[self.signed.get(h) for h in unknown]}); last runs: {self.outcomes[-2:]}"
        )
        receipts = rpc_batch(url, [("eth_getTransactionReceipt", [h]) for h in self.confirmed])
        for tx, receipt in zip(self.confirmed.values(), receipts, strict=True):
            assert (receipt["blockHash"], int(receipt["status"], 16)) == (tx.block_hash, 1), tx.hash
            assert journal.hash_at(tx.block) == tx.block_hash
        # No nonce used twice; every account's nonce is its count of confirmed transactions.
        by_sender: dict[str, list[int]] = defaultdict(list)
        for tx in self.confirmed.values():
            by_sender[tx.sender].append(tx.nonce)
        state = self.expected()
        w3 = self.chain.w3
        for address in self.addresses.values():
            nonces = sorted(by_sender.get(address, []))
            assert nonces == list(range(len(nonces))), f"nonces of {address}: {nonces}"
            assert w3.eth.get_transaction_count(address) == len(nonces)
            spent = sum(tx.value + tx.fee for tx in self.confirmed.values() if tx.sender == address)
            assert self.chain.balance(address) == GENESIS_BALANCE - spent + state["withdrawn"][address], address
        paid_in = sum(tx.value for tx in self.confirmed.values())
        assert self.chain.balance(self.address) == paid_in - sum(state["withdrawn"].values())
        # The marketplace holds exactly what the receipts say: nothing lost, nothing twice.
        market = self.market
        assert {m.id: (m.owner, m.name) for m in market.all_models()} == state["models"]
        assert market.submission_count() == len(state["submissions"])
        submissions = market.all_submissions(self.model_id)  # every submission is to the first model
        assert {s.id: [s.contributor, s.row_count, s.rows_rejected, s.claimed] for s in submissions} == state[
            "submissions"
        ]
        assert market._call("challengeCount") == len(state["challenges"])
        for challenge_id, (submission_id, status) in state["challenges"].items():
            info = market.challenge_info(challenge_id)
            assert (info.submission_id, info.status) == (submission_id, status)
        # The same marketplace for anyone who connects afresh.
        assert Marketplace.connect(Chain()).address == self.address


def _wait_mined(url: str, tx_hash: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while rpc_call(url, "eth_getTransactionReceipt", [tx_hash]) is None:
        assert time.monotonic() < deadline, f"{tx_hash} was not mined"
        time.sleep(0.01)


@pytest.fixture
def private_home(tmp_path, monkeypatch):
    """A colearn home of its own (its own devnet), so the shared devnet of other tests is never touched."""
    monkeypatch.setenv("COLEARN_HOME", str(tmp_path))
    yield tmp_path
    Devnet(tmp_path).reset()


# ---------------------------------------------------------------------------------------------------- the matrix
OPERATIONS = ("publish", "contribute", "challenge", "resolve", "claim")
#: A restart after a SIGKILL keeps the node's port: the warning that it moved fails a test that expects none.
PORT_MOVED_IS_AN_ERROR = "error:port .* is taken by another program:UserWarning"


@pytest.mark.filterwarnings(PORT_MOVED_IS_AN_ERROR)
def test_a_fault_at_every_step_boundary_loses_nothing(private_home, monkeypatch, capsys):
    foundry_before = _foundry_tmp()
    started = time.monotonic()
    harness = Harness(private_home, monkeypatch)
    boundaries: dict[str, Counter[str]] = {}
    injected: dict[tuple[str, str], int] = Counter()
    for operation in OPERATIONS:
        if operation == "challenge":  # enough mislabelled submissions for every run, and right ones to claim
            while len(harness.to_challenge) < 4 * 2 + 3 * 3 + 1:
                harness.contribute("alice")
            while len(harness.to_claim) < 4 * 2 + 3 * 2 + 1:
                harness.contribute("bob")
        if operation == "claim":  # every window over
            harness.owner.advance_time("1h")
            harness.owner.advance_time(1)
        harness.run(operation, None, -1)  # a dry run counts the boundaries
        seen = harness.last_seen
        boundaries[operation] = Counter(seen)
        transactions, commits = seen["before send"], seen["before durable"]
        assert transactions >= 1 and commits >= transactions
        assert seen["before receipt"] == seen["reply lost"] == transactions
        assert seen["torn write, node killed"] == commits
        for kind in KINDS:
            for at in range(transactions if kind in PER_TRANSACTION else commits):
                harness.run(operation, kind, at)
                injected[operation, kind] += 1
    # The next operations work, and the same marketplace is still there for a new process.
    harness.contribute("bob")
    harness.check()
    out = subprocess.run(
        [sys.executable, "-c", "from colearn_jupyter import Chain, Marketplace; print(Marketplace.connect(Chain()))"],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ,
    )
    assert harness.address in out.stdout, out.stderr
    failed = [outcome for outcome in harness.outcomes if outcome[3] != "completed"]
    assert not failed, failed  # one process alone: every call completes, whatever was killed
    assert _foundry_tmp() <= foundry_before, "the node wrote outside the colearn home"

    total = sum(injected.values())
    lines = [f"{'fault':<26}" + "".join(f"{op:>11}" for op in OPERATIONS) + f"{'total':>8}"]
    for kind in KINDS:
        counts = [injected[op, kind] for op in OPERATIONS]
        lines.append(f"{kind:<26}" + "".join(f"{c:>11}" for c in counts) + f"{sum(counts):>8}")
    lines.append(f"{'total':<26}" + "".join(f"{sum(injected[op, k] for k in KINDS):>11}" for op in OPERATIONS)
                 + f"{total:>8}")  # fmt: skip
    summary = (
        f"{total} faults injected in {time.monotonic() - started:.0f} s; every call completed; "
        f"{len(harness.confirmed)} transactions confirmed, all on chain once, balances to the wei"
    )
    with capsys.disabled():
        print("\n" + "\n".join(lines) + "\n" + summary)
    report = os.environ.get("COLEARN_FAULTS_REPORT")
    if report:
        Path(report).write_text(
            json.dumps(
                {
                    "injected": {f"{op} / {kind}": n for (op, kind), n in injected.items()},
                    "boundaries": {op: dict(c) for op, c in boundaries.items()},
                    "total": total,
                    "confirmed_transactions": len(harness.confirmed),
                    "seconds": round(time.monotonic() - started, 1),
                },
                indent=1,
            )
        )


# ---------------------------------------------------------------------------------------------------- restarts
@pytest.mark.filterwarnings(PORT_MOVED_IS_AN_ERROR)
def test_twenty_clean_restarts_keep_the_marketplace_and_the_durable_head(private_home):
    foundry_before = _foundry_tmp()
    chain = Chain()
    address = Marketplace.connect(chain).address
    devnet = chain.devnet
    alice, bob, deployer = (chain.account(name) for name in ("alice", "bob", "deployer"))
    chain.transfer(alice, bob, 1)
    bob_balance = chain.balance(bob)
    heads = []
    for _ in range(20):
        head = Journal(devnet.journal.path).head()
        assert devnet.stop() is True and not devnet.status().running
        assert not devnet.node_home.exists()  # stop removes the node's own files
        leftover = devnet.node_home / ".foundry" / "anvil" / "tmp" / "left-by-a-node"
        leftover.parent.mkdir(parents=True)
        leftover.write_text("a node killed before it cleaned up")
        fresh = Chain()
        assert Marketplace.connect(fresh).address == address  # the same marketplace, never redeployed
        latest = fresh.w3.eth.get_block("latest")
        assert Journal(devnet.journal.path).head() == head == (latest["number"], "0x" + latest["hash"].hex())
        assert not leftover.exists()  # the node's directory is emptied at every start
        assert fresh.balance(bob) == bob_balance
        assert fresh.w3.eth.get_transaction_count(deployer.address) == 1
        fresh.transfer(alice, bob, 1)  # and the chain goes on from there
        bob_balance += 1
        heads.append(head[0])
        assert len(devnet._snapshots()) <= 3  # the newest two, and none kept forever
    assert heads == list(range(heads[0], heads[0] + 20))  # one block a round: nothing lost, nothing added
    assert devnet.status().durable_block == heads[-1] + 1
    assert _foundry_tmp() <= foundry_before, "the node wrote outside the colearn home"


def test_a_killed_node_restarts_on_its_port_unless_another_program_took_it(private_home):
    foundry_before = _foundry_tmp()
    chain = Chain()
    address = Marketplace.connect(chain).address
    devnet = chain.devnet
    alice, bob = chain.account("alice"), chain.account("bob")
    port = int(devnet.url.rsplit(":", 1)[1])
    pids = set()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="port .* is taken")
        for _ in range(10):
            pids.add(devnet.kill_for_test())
            leftover = devnet.node_home / "cache" / "left-by-a-killed-node"
            leftover.parent.mkdir(parents=True, exist_ok=True)
            leftover.write_text("x")
            chain.transfer(alice, bob, 1)  # the provider restarts the node on the port it had
            assert devnet.url == f"http://127.0.0.1:{port}" and devnet.status().port_note == ""
            assert not leftover.exists()
    assert len(pids) == 10
    # Another program takes the port while the node is down: the devnet says so, and listens elsewhere.
    devnet.kill_for_test()
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the killed node's connections linger
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.warns(UserWarning, match=f"port {port} is taken by another program, so the devnet listens on"):
            url = devnet.ensure_running()
        moved = int(url.rsplit(":", 1)[1])
        assert moved != port
        assert devnet.status().port_note.startswith(f"port {port} is taken by another program")
        fresh = Chain()  # (the old connection would reach the squatter, which never answers)
        assert Marketplace.connect(fresh).address == address
        fresh.transfer(alice, bob, 1)
    # The port it moved to is its port from now on.
    devnet.kill_for_test()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="port .* is taken")
        assert devnet.ensure_running() == f"http://127.0.0.1:{moved}"
    assert Marketplace.connect(Chain()).address == address
    assert _foundry_tmp() <= foundry_before, "the node wrote outside the colearn home"


# ---------------------------------------------------------------------------------------------------- a dying writer
_DYING_WRITER = """
import os, sys
from colearn_jupyter import Chain
from colearn_jupyter.chain import on_signed
from colearn_jupyter.journal import Journal

def append_and_die(self, blocks):  # the process dies in the middle of the journal's last line
    self.refresh()
    data = b"".join(block.to_line() for block in blocks)
    fd = os.open(self.path, os.O_WRONLY)
    os.truncate(fd, self._offset)
    os.lseek(fd, self._offset, os.SEEK_SET)
    os.write(fd, data[: len(data) - len(blocks[-1].to_line()) // 2])
    os.fsync(fd)
    os._exit(9)

Journal.append = append_and_die
chain = Chain()
with on_signed(lambda tx_hash, raw, sender, nonce: print(tx_hash, flush=True)):
    chain.transfer(chain.account("carol"), chain.account("bob"), 12345)
"""


def test_a_writer_process_that_dies_in_the_middle_of_a_line(private_home, capsys):
    """Another process dies while it writes the journal (its transaction's call never returns): its torn line is
    ignored and cut off; its transaction happened if and only if the node kept the block until the next commit."""
    chain = Chain()
    devnet = chain.devnet
    alice, bob, carol = (chain.account(name) for name in ("alice", "bob", "carol"))
    chain.transfer(alice, bob, 1)
    carol_balance, carol_nonce = chain.balance(carol), 0
    for node_survives in (True, False):
        path = devnet.journal.path
        head, size = Journal(path).head(), path.stat().st_size
        child = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(_DYING_WRITER)],
            capture_output=True,
            text=True,
            timeout=120,
            env=os.environ,
        )
        assert child.returncode == 9, child.stderr
        tx_hash = child.stdout.split()[-1]
        data = path.read_bytes()
        assert len(data) > size and not data.endswith(b"\n")  # a torn line
        assert Journal(path).head() == head  # that readers ignore
        if not node_survives:
            devnet.kill_for_test()
        chain.transfer(alice, bob, 1)  # the next call works, and cuts the torn line off
        data = path.read_bytes()
        assert data.endswith(b"\n") and all(json.loads(line) for line in data.splitlines())
        receipt = rpc_call(devnet.url, "eth_getTransactionReceipt", [tx_hash])
        assert (receipt is not None) == node_survives
        if receipt is not None:  # journaled by the next commit: it happened, once
            journal = Journal(path)
            assert journal.hash_at(int(receipt["blockNumber"], 16)) == receipt["blockHash"]
            carol_balance -= 12345 + int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
            carol_nonce += 1
        assert chain.balance(carol) == carol_balance
        assert chain.w3.eth.get_transaction_count(carol.address) == carol_nonce
    with capsys.disabled():
        print("\na writer process killed in the middle of a journal line: 2 injections (node kept / node killed)")
