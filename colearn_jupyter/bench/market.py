"""How fast a new process lists the marketplace from the home's market index, for 10 to 10,000 models.

On a private throwaway devnet, models are published in bulk (signed transactions sent in batches, not one
:meth:`Marketplace.publish_model` round trip each) until each size is reached; then, for each size:

* ``sync_seconds``: the running process brings the home's index up to date (the models just published);
* ``first_build_seconds``: an index built from nothing (a new home's first sync, every model read with the views);
* ``cold``: a new Python process lists models: the core (``MarketIndex.page``, its sync included) and the
  server's service layer (``ColearnService.models``, what the REST handler awaits, without HTTP; its first call
  also creates the server's session), imports left out and reported apart.

``submissions`` compares the two ways a contribution finds the submissions it checks for duplicates, on one model
with many: listing them over RPC (``Marketplace.all_submissions``, as before the index) and reading the index.

>>> from colearn_jupyter.bench import market
>>> figures = market.run(sizes=(10, 100))                  # doctest: +SKIP
>>> figures["sizes"]["100"]["cold"]["core_seconds"] < 0.2  # doctest: +SKIP
True
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from web3 import Web3
from web3.providers.rpc import HTTPProvider

from ..chain import Chain
from ..config import ColearnSettings
from ..devnet import rpc_batch
from ..formats.data import onchain_schema
from ..index import MarketIndex, market_index
from ..marketplace import Marketplace, Terms
from ..merkle import MerkleTree, contributor_key, test_row_nonce
from ..storage.cid import cid_to_bytes, raw_cid
from .gas import SAMPLE_CID, SCHEMA, _synthetic_rows
from .homes import throwaway_devnet

_BATCH = 100  # signed transactions a JSON-RPC batch sends
_ROWS = 10  # rows of each bulk submission

_COLD = r"""
import json, sys, time
start = time.perf_counter()
from colearn_jupyter.chain import Chain
from colearn_jupyter.config import ColearnSettings
from colearn_jupyter.index import MarketIndex
from colearn_jupyter.marketplace import Marketplace
from colearn_jupyter.server.service import ColearnService
imported = time.perf_counter() - start
home, address = sys.argv[1], sys.argv[2]
settings = ColearnSettings(home=home, rpc_url="")
start = time.perf_counter()
index = MarketIndex(Marketplace(Chain(settings), address))
total, page = index.page(0, 50, "", "name", "desc")
core = time.perf_counter() - start
queries = []
for search, sort in (("model-0", "accuracy"), ("", "rows_pending"), ("7", "id")):
    start = time.perf_counter()
    index.page(100, 50, search, sort, "desc")
    queries.append(time.perf_counter() - start)
service = ColearnService(settings, home)
start = time.perf_counter()
rest = service.models(0, 50, "", "name", "desc")
service_first = time.perf_counter() - start
start = time.perf_counter()
service.models(50, 50, "model-0", "accuracy", "desc")
service_next = time.perf_counter() - start
assert rest["total"] == total and len(page) == min(50, total)
print(json.dumps({"import_seconds": imported, "core_seconds": core, "core_next_seconds": max(queries),
                  "service_first_seconds": service_first, "service_next_seconds": service_next, "total": total}))
"""


def run(
    sizes: Iterable[int] = (10, 100, 1000, 10_000),
    submissions: int = 2000,
    *,
    models: int | None = None,
    runs: int = 3,
    progress: Callable[[str], object] | None = None,
) -> dict[str, Any]:
    """Publish up to each of ``sizes`` models and time syncing, building and cold listing (the median of ``runs``
    new processes); then compare listing ``submissions`` submissions of one model over RPC and from the index.

    ``models`` replaces ``sizes`` by 10, 100, ... below it and itself. Returns ``{"sizes": {n: figures}, ...}`` with
    ``cold_list_seconds_<n>`` for each size (the core's cold listing, its sync included). ``progress`` is called
    with a line after each step.
    """
    say = progress or (lambda line: None)
    if models is not None:
        sizes = [*(10**k for k in range(1, 6) if 10**k < models), models]
    figures: dict[str, Any] = {"sizes": {}}
    with throwaway_devnet("colearn-bench-market-") as (home, chain):
        market = Marketplace.connect(chain)
        bulk = _Bulk(market, chain.url)
        index = market_index(market)
        for size in sorted(set(sizes)):
            start = time.perf_counter()
            bulk.publish_up_to(size)
            publish_seconds = time.perf_counter() - start
            say(f"{size} models published in {publish_seconds:.1f} s")
            start = time.perf_counter()
            index.sync()
            sync_seconds = time.perf_counter() - start
            with tempfile.TemporaryDirectory(prefix="colearn-bench-index-") as other:
                start = time.perf_counter()
                MarketIndex(Marketplace(chain, market.address), other).sync()
                build_seconds = time.perf_counter() - start
            say(f"{size} models: synced in {sync_seconds:.2f} s, a new index built in {build_seconds:.2f} s")
            cold = _cold(home, market.address, runs)
            say(f"{size} models: cold listing {cold['core_seconds']:.3f} s")
            assert cold["total"] == size, cold
            figures[f"cold_list_seconds_{size}"] = round(cold["core_seconds"], 4)
            figures["sizes"][str(size)] = {
                "models": size,
                "publish_seconds": round(publish_seconds, 2),
                "sync_seconds": round(sync_seconds, 3),
                "first_build_seconds": round(build_seconds, 3),
                "cold": {k: round(v, 4) if isinstance(v, float) else v for k, v in cold.items()},
            }
        if submissions:
            figures["submissions"] = _submissions(market, bulk, submissions)
    return figures


def _cold(home: str, address: str, runs: int) -> dict[str, Any]:
    """The figures of :data:`_COLD`, each the median of ``runs`` new Python processes."""
    env = {**os.environ, "COLEARN_HOME": home}
    env.pop("COLEARN_RPC_URL", None)
    found = []
    for _ in range(max(1, runs)):
        done = subprocess.run(
            [sys.executable, "-c", _COLD, home, address], capture_output=True, text=True, env=env, timeout=600
        )
        if done.returncode != 0:
            raise RuntimeError(f"the cold listing failed:\n{done.stderr[-2000:]}")
        found.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in found) if key != "total" else found[0][key] for key in found[0]}


def _submissions(market: Marketplace, bulk: _Bulk, count: int) -> dict[str, Any]:
    """RPC calls and seconds to list a model's ``count`` submissions: over RPC, and from a warm index."""
    model_id = bulk.publish_one("many-submissions", pool=10**20)
    bulk.contribute(model_id, count)
    url = market.chain.url
    with _counting_rpc() as calls:
        counted = Marketplace(Chain(ColearnSettings(rpc_url=url, home=str(market.chain.home))), market.address)
        assert counted.chain.chain_id  # connected before counting
        calls.clear()
        start = time.perf_counter()
        listed = counted.all_submissions(model_id)
        rpc_seconds, rpc_calls = time.perf_counter() - start, len(calls)
        index = MarketIndex(counted)
        index.sync()
        bulk.contribute(model_id, 1)  # a contribution was mined since the last sync, as before one's own
        calls.clear()
        start = time.perf_counter()
        indexed = index.submissions(model_id)
        index_seconds, index_calls = time.perf_counter() - start, len(calls)
    assert len(listed) == count and len(indexed) == count + 1
    return {
        "submissions": count,
        "all_submissions": {"seconds": round(rpc_seconds, 4), "rpc_calls": rpc_calls},
        "index_after_one_new_block": {"seconds": round(index_seconds, 4), "rpc_calls": index_calls},
    }


@contextlib.contextmanager
def _counting_rpc() -> Iterator[list[str]]:
    """The JSON-RPC methods called through HTTP providers created inside the context."""
    calls: list[str] = []
    original = HTTPProvider.make_request

    def counting(provider: HTTPProvider, method: Any, params: Any) -> Any:
        calls.append(str(method))
        return original(provider, method, params)

    HTTPProvider.make_request = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        HTTPProvider.make_request = original  # type: ignore[method-assign]


class _Bulk:
    """Publishes models and adds submissions with pre-signed transactions sent in JSON-RPC batches."""

    def __init__(self, market: Marketplace, url: str):
        self.market, self.url = market, url
        self.w3 = market.chain.w3
        self.owner = market.chain.account("owner")
        self.alice = market.chain.account("alice")
        self.gas_price = 2 * self.w3.eth.gas_price + 10**9
        self.nonces = {
            a.address: self.w3.eth.get_transaction_count(a.address, "pending") for a in (self.owner, self.alice)
        }
        training, test = _synthetic_rows(3, offset=-10), _synthetic_rows(3, offset=-20)
        self.training_root = MerkleTree(training, key=contributor_key(self.owner.address)).root
        self.test_root = MerkleTree(test, keys=[test_row_nonce(b"\x01" * 32, i) for i in range(3)]).root
        self.terms = Terms.from_human(deposit="0.001", reward="0.0001", window="1h", timeout="1d")

    def _publish_data(self, name: str, accuracy_bps: int) -> str:
        cid = cid_to_bytes(SAMPLE_CID)
        model_input = (name, cid, cid, b"\x01" * 32, accuracy_bps, b"", self.training_root, 3, self.test_root, 3)
        args = [model_input, self.terms.as_tuple(), tuple(onchain_schema(SCHEMA)), (b"", 0, 0)]
        return self.market.contract.encode_abi("publishModel", args=args)

    def _send(self, account: Any, transactions: list[tuple[str, int, int]]) -> None:
        """Sign ``(data, value, gas)`` from ``account`` with consecutive nonces; send them in batches, each mined
        before the next is sent."""
        raws = []
        for data, value, gas in transactions:
            nonce = self.nonces[account.address]
            self.nonces[account.address] += 1
            tx = {"to": self.market.address, "data": data, "value": value, "gas": gas, "gasPrice": self.gas_price,
                  "nonce": nonce, "chainId": self.market.chain.chain_id}  # fmt: skip
            raws.append(Web3.to_hex(account.sign_transaction(tx)))
        for start in range(0, len(raws), _BATCH):  # a batch at a time: anvil 1.7 can stall on a pool of thousands
            batch = [("eth_sendRawTransaction", [raw]) for raw in raws[start : start + _BATCH]]
            hashes = rpc_batch(self.url, batch, timeout=600)
            receipt = self.w3.eth.wait_for_transaction_receipt(hashes[-1], timeout=600)
            if receipt["status"] != 1:
                raise RuntimeError("a bulk transaction failed")

    def publish_up_to(self, size: int) -> None:
        count = self.market.model_count()
        gas = 600_000
        self._send(
            self.owner, [(self._publish_data(f"model-{n:05d}", n * 37 % 10_000), 0, gas) for n in range(count, size)]
        )

    def publish_one(self, name: str, pool: int) -> int:
        receipt = self.market.publish_model(
            self.owner, name=name, model_cid=SAMPLE_CID, metadata_cid=SAMPLE_CID, test_set_commitment=b"\x01" * 32,
            terms=self.terms, schema=onchain_schema(SCHEMA), training_root=self.training_root, training_row_count=3,
            test_root=self.test_root, test_row_count=3, reward_pool=pool,
        )  # fmt: skip
        return receipt.event("ModelPublished").args["model_id"]

    def contribute(self, model_id: int, count: int) -> None:
        deposit = _ROWS * self.terms.deposit_per_row
        transactions = []
        for _ in range(count):
            nonce = self.nonces[self.alice.address] + len(transactions)
            cid = cid_to_bytes(raw_cid(f"bench submission {nonce}".encode()))
            root = Web3.keccak(text=f"root {nonce}")
            data = self.market.contract.encode_abi("contribute", args=[model_id, cid, root, _ROWS])
            transactions.append((data, deposit, 400_000))
        self._send(self.alice, transactions)


def format_table(figures: dict[str, Any]) -> str:
    lines = [
        "models   publish s   sync s   first build s   cold core s   cold core next s   cold service first s   "
        "service next s   (imports s)"
    ]
    for size, row in figures["sizes"].items():
        cold = row["cold"]
        lines.append(
            f"{size:>6}   {row['publish_seconds']:>9}   {row['sync_seconds']:>6}   {row['first_build_seconds']:>13}   "
            f"{cold['core_seconds']:>11}   {cold['core_next_seconds']:>16}   {cold['service_first_seconds']:>20}   "
            f"{cold['service_next_seconds']:>14}   ({cold['import_seconds']})"
        )
    lines.append(
        "cold: a new process lists 50 models (name, desc) from the home's index, its sync included; service: "
        "ColearnService.models (the REST handler's work, no HTTP); its first call also creates the server's session"
    )
    subs = figures.get("submissions")
    if subs:
        lines.append(
            f"listing the {subs['submissions']} submissions of one model: over RPC (all_submissions) "
            f"{subs['all_submissions']['seconds']} s, {subs['all_submissions']['rpc_calls']} RPC calls; from the "
            f"index after one new block {subs['index_after_one_new_block']['seconds']} s, "
            f"{subs['index_after_one_new_block']['rpc_calls']} RPC calls"
        )
    return "\n".join(lines)
