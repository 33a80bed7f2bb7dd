"""Gas of every marketplace operation, measured on a private, throwaway devnet.

>>> from colearn_jupyter.bench import gas
>>> figures = gas.run(rows=[1, 100])      # doctest: +SKIP
>>> figures["gas"]["contribute_100_rows"] # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable

from ..chain import Chain
from ..config import ColearnSettings
from ..marketplace import Marketplace, Receipt, Terms
from ..merkle import MerkleTree
from ..units import to_wei

# A real CIDv1 (raw leaves) of a small file, the length of every CID the marketplace stores.
SAMPLE_CID = "bafkreidivzimqfqtoqxkrpge6bjyhlvxqs3rhe73owtmdulaxr5do5in7u"


def _synthetic_rows(count: int) -> list[bytes]:
    return [f"{i},{i * 7 % 13},{i % 2}".encode() for i in range(count)]


def run(rows: Iterable[int] = (1, 100, 10_000)) -> dict[str, dict[str, float]]:
    """Publish, contribute batches of each size, challenge, resolve, claim and add on-chain rows; report gas.

    Returns ``{"gas": {operation: gas}, "seconds": {operation: seconds}, "ratios": {...}}``.
    """
    sizes = sorted(set(rows))
    gas: dict[str, float] = {}
    seconds: dict[str, float] = {}

    def measure(name: str, action: Callable[[], Receipt]) -> Receipt:
        start = time.perf_counter()
        receipt = action()
        seconds[name] = round(time.perf_counter() - start, 4)
        gas[name] = receipt.gas_used
        return receipt

    with tempfile.TemporaryDirectory(prefix="colearn-bench-") as home:
        chain = Chain(ColearnSettings(home=home, rpc_url=""))
        try:
            market = Marketplace.connect(chain)
            terms = Terms.from_human(deposit="0.0001", reward="0.00001", window="1h", timeout="1d")
            publish = measure(
                "publish",
                lambda: market.publish_model(
                    "owner", name="bench", model_cid=SAMPLE_CID, metadata_cid=SAMPLE_CID,
                    test_set_commitment=market.test_set_commitment(b"\x01" * 32, SAMPLE_CID),
                    terms=terms, reward_pool=to_wei("1"), accuracy_bps=9000, evaluation_cid=SAMPLE_CID,
                ),
            )  # fmt: skip
            model_id = publish.event("ModelPublished").args["model_id"]
            # The first batch of a model also initialises its counters (zero to non-zero storage writes);
            # it is reported apart so that the batch sizes below are compared in the same steady state.
            warm_up = MerkleTree(_synthetic_rows(1))
            measure("contribute_first_batch", lambda: market.contribute("alice", model_id, SAMPLE_CID, warm_up.root, 1))
            batches = {}
            for size in sizes:
                data = _synthetic_rows(size)
                tree = MerkleTree(data)
                receipt = measure(
                    f"contribute_{size}_rows",
                    lambda data=data, tree=tree: market.contribute("alice", model_id, SAMPLE_CID, tree.root, len(data)),
                )
                batches[size] = (receipt.event("SubmissionAdded").args["submission_id"], data, tree)
            submission_id, data, tree = batches[sizes[-1]]
            index = len(data) // 2
            challenge = measure(
                "challenge", lambda: market.challenge("verifier", submission_id, index, data[index], tree.proof(index))
            )
            challenge_id = challenge.event("RowChallenged").args["challenge_id"]
            measure("resolve", lambda: market.resolve_challenge("owner", challenge_id, True))
            measure("contribute_onchain_row", lambda: market.contribute_row("bob", model_id, [1, 2, 3, 4], 1))
            linear = market.publish_model(
                "owner", name="bench-linear", model_cid=SAMPLE_CID, metadata_cid=SAMPLE_CID,
                test_set_commitment=b"\x02" * 32, terms=terms, reward_pool=to_wei("1"),
            ).event("ModelPublished").args["model_id"]  # fmt: skip
            market.attach_linear_model("owner", linear, [0, 0, 0, 0], 0)
            measure(
                "contribute_onchain_row_trained",
                lambda: market.contribute_row("bob", linear, [1_000_000, -2_000_000, 500_000, 0], 0),
            )
            chain.advance_time(terms.challenge_window + 1)
            measure("claim", lambda: market.claim("alice", submission_id))
            measure("withdraw", lambda: market.withdraw("alice"))
        finally:
            if chain.devnet is not None:
                chain.devnet.reset()
    ratios = {}
    if len(sizes) > 1:
        smallest, largest = sizes[0], sizes[-1]
        ratios[f"contribute_{largest}_over_{smallest}"] = round(
            gas[f"contribute_{largest}_rows"] / gas[f"contribute_{smallest}_rows"], 4
        )
        ratios[f"gas_per_row_at_{largest}"] = round(gas[f"contribute_{largest}_rows"] / largest, 2)
    return {"gas": gas, "seconds": seconds, "ratios": ratios}


def format_table(figures: dict[str, dict[str, float]]) -> str:
    """The figures as an aligned text table."""
    lines = [f"{'operation':<34}{'gas':>12}{'seconds':>10}"]
    for name, value in figures["gas"].items():
        lines.append(f"{name:<34}{int(value):>12,}{figures['seconds'].get(name, 0):>10.3f}")
    lines += [f"{name:<34}{value:>12}" for name, value in figures["ratios"].items()]
    return "\n".join(lines)
