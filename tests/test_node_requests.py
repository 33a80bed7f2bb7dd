"""What a contribution asks the node, and how: few requests, independent reads batched, and no proxy settings read
for a node on this machine (while a remote node is reached through the environment's proxy as before)."""

from __future__ import annotations

import collections
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests
from sklearn.linear_model import LogisticRegression
from web3.exceptions import ContractCustomError, TransactionNotFound

import colearn_jupyter.devnet as devnet_module
from colearn_jupyter import Chain, ChainError, MarketplaceError, Session
from colearn_jupyter.bench.homes import throwaway_devnet
from colearn_jupyter.chain import _DevnetProvider, _Provider, is_loopback_http

#: HTTP requests to the node that one 10-row contribution made before (web3 calls one by one: 17, and the devnet's
#: journal commit 4), and the most it may make now, measured with nothing else mining (9 to 10, as the first
#: receipt poll sometimes comes before the node has mined the transaction).
REQUESTS_BEFORE = 21
REQUESTS_NOW = 11


def _rows(seed: int, count: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 10, count).round(6), rng.uniform(0, 10, count).round(6)
    return pd.DataFrame({"x": x, "y": y, "label": (x > y).astype("int64")})


class _FakeProxy(http.server.BaseHTTPRequestHandler):
    """An HTTP proxy that answers every JSON-RPC request itself (chain id 1337, block 7) and records the URLs."""

    seen: list[str] = []

    def do_POST(self) -> None:
        self.seen.append(self.path)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answers = {"eth_chainId": "0x539", "eth_blockNumber": "0x7"}
        replies = [{"jsonrpc": "2.0", "id": c["id"], "result": answers.get(c["method"], "0x0")} for c in
                   (body if isinstance(body, list) else [body])]  # fmt: skip
        data = json.dumps(replies if isinstance(body, list) else replies[0]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy(monkeypatch) -> Iterator[list[str]]:
    """A fake proxy set as the environment's HTTP(S) proxy (nothing bypasses it); the URLs it was asked for."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeProxy)
    _FakeProxy.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    try:
        yield _FakeProxy.seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_remote_node_is_reached_through_the_environments_proxy(proxy):
    chain = Chain(rpc_url="http://colearn-remote-node.invalid:8545")
    assert isinstance(chain.w3.provider, _Provider) and not chain.w3.provider.loopback
    assert chain.chain_id == 1337  # answered by the proxy: the host does not exist
    assert int(chain.request("eth_blockNumber"), 16) == 7
    assert [int(n, 16) for n in chain.batch([("eth_blockNumber", []), ("eth_chainId", [])])] == [7, 1337]
    assert len(proxy) == 3 and all(url.startswith("http://colearn-remote-node.invalid:8545") for url in proxy)


def test_a_node_on_this_machine_never_reads_proxy_settings(proxy, chain, monkeypatch):
    def read(*args, **kwargs):
        raise AssertionError("the proxy settings were read for a node on this machine")

    monkeypatch.setattr(requests.utils, "get_environ_proxies", read)
    monkeypatch.setattr(requests.sessions, "get_environ_proxies", read)
    devnet_chain = Chain(chain.settings)  # the devnet: its checks and its journal commits too
    assert isinstance(devnet_chain.w3.provider, _DevnetProvider) and devnet_chain.w3.provider.loopback
    assert devnet_chain.chain_id == chain.chain_id
    devnet_chain.transfer(devnet_chain.account("deployer"), devnet_chain.account("carol"), 1)
    assert devnet_chain.devnet is not None and devnet_chain.devnet.url
    assert proxy == []


class _FakeNode(_FakeProxy):
    """A JSON-RPC node (chain id 1337, block 7) that keeps connections alive (HTTP/1.1), or, with ``hang_up``, closes
    each one after answering without saying so; counts the connections it accepted."""

    protocol_version = "HTTP/1.1"
    hang_up = False
    connections = 0
    closed = 0

    def setup(self) -> None:
        type(self).connections += 1
        super().setup()

    def finish(self) -> None:
        super().finish()
        type(self).closed += 1

    def do_POST(self) -> None:
        super().do_POST()
        self.close_connection = self.hang_up


@pytest.mark.parametrize("hang_up", [False, True])
def test_a_node_on_this_machine_is_asked_over_one_kept_connection(hang_up):
    handler = type("Node", (_FakeNode,), {"hang_up": hang_up, "connections": 0, "closed": 0, "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    chain = Chain(rpc_url=f"http://127.0.0.1:{server.server_address[1]}")

    def hung_up() -> None:  # until the node has closed the connection (reusing one as it closes fails, as before)
        deadline = time.monotonic() + 10
        while hang_up and handler.closed < handler.connections and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.02 if hang_up else 0)

    try:
        assert chain.chain_id == 1337
        for _ in range(3):
            hung_up()
            assert int(chain.request("eth_blockNumber"), 16) == 7
        hung_up()
        assert [int(n, 16) for n in chain.batch([("eth_blockNumber", []), ("eth_chainId", [])])] == [7, 1337]
        assert len(handler.seen) == 5
        assert handler.connections == (5 if hang_up else 1)  # a connection the node closed is opened again
    finally:
        server.shutdown()
        server.server_close()
    if hang_up:  # no connection left: the node is gone, as requests says it (the devnet's provider restarts on it)
        with pytest.raises(requests.exceptions.ConnectionError):
            chain.request("eth_blockNumber")
    with pytest.raises(ChainError, match="no node answers at"):
        _ = Chain(rpc_url=chain.settings.rpc_url).chain_id


class _NoBatches(_FakeNode):
    """A node that answers a batch with an error status."""

    def do_POST(self) -> None:
        if self.rfile.peek(1)[:1] == b"[":
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_error(400, "batches are not served here")
            return
        super().do_POST()


def test_a_node_that_refuses_batches_is_asked_one_call_at_a_time():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), type("Node", (_NoBatches,), {"seen": []}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        chain = Chain(rpc_url=f"http://127.0.0.1:{server.server_address[1]}")
        assert [int(n, 16) for n in chain.batch([("eth_blockNumber", []), ("eth_chainId", [])])] == [7, 1337]
    finally:
        server.shutdown()
        server.server_close()


def test_loopback_urls():
    assert is_loopback_http("http://127.0.0.5:8545") and is_loopback_http("http://[::1]:8545")
    assert not is_loopback_http("http://localhost.example.org:8545") and not is_loopback_http("ws://127.0.0.1:1")


def test_a_batch_hands_back_each_calls_result_or_error(chain, market):
    unknown = "0x" + "ab" * 32
    block, receipt, call = chain.batch([
        ("eth_getBlockByNumber", ["latest", False]),
        ("eth_getTransactionReceipt", [unknown]),
        market.view_request("getSubmission", 10**9),
    ])  # fmt: skip
    assert int(block["number"], 16) == chain.w3.eth.block_number
    assert isinstance(receipt, TransactionNotFound)  # as w3.eth raises it
    assert isinstance(call, ContractCustomError)  # a revert, with its data, as w3.eth.call raises it
    with pytest.raises(MarketplaceError, match="There is no submission 1000000000") as refused:
        market.view_result("getSubmission", call)  # as market.submission(10**9) refuses it
    assert refused.value.name == "UnknownSubmission"
    assert chain.batch([]) == []


def test_a_contribution_asks_the_node_few_things(monkeypatch):
    """Counted through the provider (requests and batches) and the devnet's journal commits, on a devnet of its
    own (nothing else mining): at most REQUESTS_NOW requests, where there were REQUESTS_BEFORE."""
    with throwaway_devnet("colearn-requests-") as (_, chain):
        owner = Session("owner", chain=chain)
        train, test = _rows(1, 40), _rows(2, 20)
        clf = LogisticRegression().fit(train[["x", "y"]], train["label"])
        model = owner.publish(clf, name="requests", train=train, test=test, label="label", window="1d", pool="1")
        alice = owner.as_account("alice")
        alice.contribute(model.id, _rows(3))  # warm: the index, the model's metadata, the connections

        sent: collections.Counter[str] = collections.Counter()
        calls: collections.Counter[str] = collections.Counter()

        def counted(owner: object, name: str, kind: str, methods: Callable[..., list[str]]) -> None:
            real = getattr(owner, name)

            def wrapper(*args: Any, **kwargs: Any) -> Any:
                sent[kind] += 1
                calls.update(methods(*args))
                return real(*args, **kwargs)

            monkeypatch.setattr(owner, name, wrapper)

        provider = type(chain.w3.provider)
        counted(provider, "make_request", "one", lambda _, method, params: [method])
        counted(provider, "make_batch_request", "batch", lambda _, batch: [method for method, _ in batch])
        counted(devnet_module, "_kept_batch", "journal", lambda _, batch, **k: [method for method, _ in batch])
        counted(devnet_module, "rpc_call", "devnet", lambda _, method, *a, **k: [method])
        counted(devnet_module, "rpc_batch", "devnet", lambda _, batch, *a, **k: [method for method, _ in batch])
        rounds = 5
        for seed in range(rounds):
            submission = alice.contribute(model.id, _rows(100 + seed))
            assert submission.row_count == 10 and submission.contributor == alice.account.address
        per_contribution = sum(sent.values()) / rounds
        assert per_contribution <= REQUESTS_NOW < REQUESTS_BEFORE, (sent, calls)
        assert sent["devnet"] == 0 and sent["journal"] == rounds  # one request to make each block durable
        assert calls["eth_sendRawTransaction"] == rounds and calls["eth_estimateGas"] == rounds  # still simulated
        assert calls["eth_blockNumber"] == 0 and calls["eth_chainId"] == 0
