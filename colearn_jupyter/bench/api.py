"""How fast the REST API lists models from its event-fed index, with many models on chain.

Publishes ``models`` models on a private throwaway devnet, then measures the server's model listing: the first
load of the index (paged calls, 200 models each) and then list requests answered from memory after syncing new
events (one block-number call and one log query each).

>>> from colearn_jupyter.bench import api
>>> figures = api.run(models=1000)                  # doctest: +SKIP
>>> figures["list_seconds"]["max"] < 1              # doctest: +SKIP
True
"""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any

from ..chain import Chain
from ..config import ColearnSettings
from ..formats.data import onchain_schema
from ..marketplace import Marketplace, Terms
from ..merkle import MerkleTree, contributor_key, test_row_nonce
from ..server.service import ColearnService
from .gas import SAMPLE_CID, SCHEMA, _synthetic_rows


def run(models: int = 1000, requests: int = 50) -> dict[str, Any]:
    """Publish ``models`` models, then time the index's first load and ``requests`` list requests."""
    with tempfile.TemporaryDirectory(prefix="colearn-bench-api-") as home:
        devnet_chain = Chain(ColearnSettings(home=home, rpc_url=""))
        try:
            market = Marketplace.connect(devnet_chain)
            # Publish through the node's URL as a plain RPC chain: the devnet's per-transaction state file is
            # not what is measured here, and would dominate the set-up time.
            bulk = Marketplace(Chain(ColearnSettings(home=home, rpc_url=devnet_chain.url)), market.address)
            terms = Terms.from_human(deposit="0.001", reward="0.0001", window="1h", timeout="1d")
            training, test = _synthetic_rows(3, offset=-10), _synthetic_rows(3, offset=-20)
            owner = devnet_chain.account("owner").address
            training_root = MerkleTree(training, key=contributor_key(owner)).root
            test_root = MerkleTree(test, keys=[test_row_nonce(b"\x01" * 32, i) for i in range(3)]).root
            start = time.perf_counter()
            for number in range(models):
                bulk.publish_model(
                    "owner", name=f"model-{number:05d}", model_cid=SAMPLE_CID, metadata_cid=SAMPLE_CID,
                    test_set_commitment=b"\x01" * 32, terms=terms, accuracy_bps=number % 10_000,
                    schema=onchain_schema(SCHEMA), training_root=training_root, training_row_count=3,
                    test_root=test_root, test_row_count=3,
                )  # fmt: skip
            publish_seconds = time.perf_counter() - start
            service = ColearnService(ColearnSettings(home=home, rpc_url=""), home)
            start = time.perf_counter()
            first = service.models(0, 50, "", "id", "asc")
            load_seconds = time.perf_counter() - start
            timings, listed = [], 0
            for number in range(requests):
                sort = ("id", "name", "accuracy", "rows_accepted", "rows_pending")[number % 5]
                start = time.perf_counter()
                page = service.models(number % 20 * 50, 50, "model-00" if number % 2 else "", sort, "desc")
                timings.append(time.perf_counter() - start)
                listed += len(page["models"])
            assert first["total"] == models and listed
        finally:
            if devnet_chain.devnet is not None:
                devnet_chain.devnet.reset()
    return {
        "models": models,
        "publish_seconds_per_model": round(publish_seconds / models, 4),
        "index_first_load_seconds": round(load_seconds, 3),
        "list_seconds": {
            "median": round(statistics.median(timings), 4),
            "max": round(max(timings), 4),
            "requests": requests,
        },
    }


def format_table(figures: dict[str, Any]) -> str:
    listing = figures["list_seconds"]
    return "\n".join(
        [
            f"models on chain:               {figures['models']}",
            f"publish, seconds per model:    {figures['publish_seconds_per_model']}",
            f"index first load, seconds:     {figures['index_first_load_seconds']}",
            f"list request, seconds:         median {listing['median']}, max {listing['max']} "
            f"({listing['requests']} requests)",
        ]
    )
