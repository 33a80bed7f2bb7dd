"""What a contribution asks the node, and how: few requests, independent reads batched, and no proxy settings read
for a node on this machine (while a remote node is reached through the environment's proxy as before)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest
import requests
from web3.exceptions import ContractCustomError, TransactionNotFound

from colearn_jupyter import Chain, MarketplaceError
from colearn_jupyter.chain import _DevnetProvider, _Provider, is_loopback_http


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
