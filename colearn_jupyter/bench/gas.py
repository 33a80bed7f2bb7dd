"""Gas of every marketplace operation, measured on a private, throwaway devnet.

Measured: ``publish`` (with its row schema, training and test roots), ``publish_with_perceptron``, batches of each
size (``contribute_<n>_rows``; gas does not depend on the size), every challenge kind with its commitment and its
reveal apart (``challenge_<kind>_commit``, ``challenge_<kind>_reveal``), ``answer`` (an availability challenge
answered with the row), ``resolve`` (a label challenge upheld), ``resolve_file`` (a file challenge upheld: the
batch is forfeited), ``expire`` (an unanswered availability challenge: the batch is forfeited), ``claim``,
``withdraw``, ``publish_version``, and on-chain rows for models with a perceptron at several widths and densities
(``ONCHAIN_ROWS``): ``contribute_onchain_row_<features>f_<non-zero>nz``, and the claims of two such rows, one the
perceptron gets wrong (``claim_onchain_row_<…>_trained``: claiming it teaches the perceptron) and one it gets right
(``…_untrained``). ``contribute_onchain_row`` and ``claim_onchain_row_trained`` are the 4-feature row's.

>>> from colearn_jupyter.bench import gas
>>> figures = gas.run(rows=[1, 100])      # doctest: +SKIP
>>> figures["gas"]["contribute_100_rows"] # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..chain import Chain
from ..config import ColearnSettings
from ..formats.data import Column, FeatureSchema, encode_row, onchain_schema
from ..marketplace import LINEAR_SCALE, WHOLE_FILE, DuplicateSource, LinearTerms, Marketplace, Receipt, Terms
from ..merkle import MerkleTree, contributor_key, test_row_nonce
from ..onchain import predict
from ..units import to_wei

# A real CIDv1 (raw leaves) of a small file, the length of every CID the marketplace stores.
SAMPLE_CID = "bafkreidivzimqfqtoqxkrpge6bjyhlvxqs3rhe73owtmdulaxr5do5in7u"
SCHEMA = FeatureSchema((Column("a", "float64"), Column("b", "int64")), Column("label", "int64"), (0, 1), 1e6)
CHALLENGE_KINDS = ("label", "format", "duplicate", "training_copy", "test_copy", "availability", "file")
_TARGETS = 12  # the smallest batch that holds the challenge targets (a smaller one is challenged in a batch of 12)
#: On-chain rows measured: (features of the model, non-zero features of the row), the non-zero ones spread evenly.
ONCHAIN_ROWS = ((4, 4), (100, 100), (1000, 100), (1000, 1000))


def _row(i: int) -> bytes:
    return encode_row(SCHEMA, (i / 4, i * 7 % 13, i % 2))


def _synthetic_rows(count: int, offset: int = 0) -> list[bytes]:
    return [_row(offset + i) for i in range(count)]


def run(rows: Iterable[int] = (1, 100, 10_000)) -> dict[str, dict[str, float]]:
    """Publish, contribute batches of each size, challenge in every way, answer, resolve, expire, claim, withdraw,
    and add and claim on-chain rows; report gas.

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
            terms = Terms.from_human(deposit="0.0001", reward="0.00001", bond="0.0001", window="1h", timeout="1d")
            salt = b"\x01" * 32
            owner = chain.account("owner").address
            training = [_row(-1 - i) for i in range(3)]
            test = [_row(-100 - i) for i in range(3)]
            nonces = [test_row_nonce(salt, i) for i in range(len(test))]
            training_tree = MerkleTree(training, key=contributor_key(owner))
            test_tree = MerkleTree(test, keys=nonces)

            def publish(name: str, linear: LinearTerms | None = None, schema: FeatureSchema = SCHEMA) -> Receipt:
                return market.publish_model(
                    "owner", name=name, model_cid=SAMPLE_CID, metadata_cid=SAMPLE_CID,
                    test_set_commitment=market.test_set_commitment(salt, SAMPLE_CID), terms=terms,
                    schema=onchain_schema(schema), training_root=training_tree.root,
                    training_row_count=len(training), test_root=test_tree.root, test_row_count=len(test),
                    linear=linear, reward_pool=to_wei("10"), accuracy_bps=9000, evaluation_cid=SAMPLE_CID,
                )  # fmt: skip

            # The pool holds 10 ETH of reward, so a batch may reserve 2.5 ETH: 250,000 rows at 0.00001 ETH.
            model_id = measure("publish", lambda: publish("bench")).event("ModelPublished").args["model_id"]
            measure("publish_version", lambda: market.publish_version("owner", model_id, SAMPLE_CID, 9100, SAMPLE_CID))

            def contribute(name: str | None, who: str, data: list[bytes]) -> tuple[int, list[bytes], MerkleTree]:
                tree = MerkleTree(data, key=contributor_key(chain.account(who).address))
                call = lambda: market.contribute(who, model_id, SAMPLE_CID, tree.root, len(data))  # noqa: E731
                receipt = measure(name, call) if name else call()
                return receipt.event("SubmissionAdded").args["submission_id"], data, tree

            # The first batch of a model also initialises its counters (zero to non-zero storage writes);
            # it is reported apart so that the batch sizes below are compared in the same steady state.
            contribute("contribute_first_batch", "alice", _synthetic_rows(1, offset=10**7))
            batches = {}
            offset = 0
            for size in sizes:
                data = _synthetic_rows(size, offset)
                offset += size
                if size == sizes[-1] and size >= _TARGETS:
                    data = _with_targets(data, training[0], test[0])
                batches[size] = contribute(f"contribute_{size}_rows", "alice", data)
            if sizes[-1] >= _TARGETS:
                target = batches[sizes[-1]]
            else:
                target = contribute(
                    None, "alice", _with_targets(_synthetic_rows(_TARGETS, offset), training[0], test[0])
                )

            def challenge(
                kind: str, function: str, index: int, *args: Any, value: int = 0, of: int | None = None
            ) -> Receipt:
                """Commit, then reveal in a later block: the two transactions every challenge takes. A file
                challenge (``index`` WHOLE_FILE) names no row in its reveal."""
                verifier = chain.account("verifier")
                secret = os.urandom(32)
                submission = target[0] if of is None else of
                commitment = market.challenge_commitment(verifier.address, submission, index, secret)
                commit = measure(
                    f"challenge_{kind}_commit", lambda: market._send(verifier, "commitChallenge", commitment)
                )
                chain.wait_for_block_after(commit.block_number)
                named = () if index == WHOLE_FILE else (index,)
                return measure(
                    f"challenge_{kind}_reveal",
                    lambda: market._send(verifier, function, submission, *named, *args, secret, value=value),
                )

            submission_id, data, tree = target
            base = len(data) // 2
            schema = onchain_schema(SCHEMA)
            bond = terms.challenge_bond

            def revealed(index: int) -> tuple[bytes, list[bytes]]:
                return data[index], tree.proof(index)

            label = challenge("label", "challengeLabel", base + 4, *revealed(base + 4), value=bond)
            challenge("format", "challengeFormat", base, *revealed(base), schema)
            source = DuplicateSource("submission", 0, tuple(tree.proof(0)), submission_id)
            challenge("duplicate", "challengeDuplicate", base + 1, *revealed(base + 1), source.as_tuple())
            source = DuplicateSource("training", 0, tuple(training_tree.proof(0)))
            challenge("training_copy", "challengeDuplicate", base + 2, *revealed(base + 2), source.as_tuple())
            source = DuplicateSource("test", 0, tuple(test_tree.proof(0)), nonce=nonces[0])
            challenge("test_copy", "challengeDuplicate", base + 3, *revealed(base + 3), source.as_tuple())
            demand = challenge("availability", "challengeAvailability", base + 5, value=bond)
            demand_id = demand.event("RowChallenged").args["challenge_id"]
            measure("answer", lambda: market.answer_challenge("bob", demand_id, *revealed(base + 5)))
            label_id = label.event("RowChallenged").args["challenge_id"]
            measure("resolve", lambda: market.resolve_challenge("owner", label_id, True))

            # A batch whose file nobody produces: its demand expires and the batch is forfeited.
            lost, _, _ = contribute(None, "bob", _synthetic_rows(2, offset=2 * 10**7))
            unanswered = market.challenge_availability("verifier", lost, 1).event("RowChallenged").args["challenge_id"]

            # A batch whose file the owner finds unusable: its file challenge is upheld and the batch forfeited.
            withheld, _, _ = contribute(None, "bob", _synthetic_rows(2, offset=3 * 10**7))
            filed = challenge("file", "challengeFile", WHOLE_FILE, value=bond, of=withheld)
            file_id = filed.event("RowChallenged").args["challenge_id"]
            measure("resolve_file", lambda: market.resolve_challenge("owner", file_id, True))

            # On-chain rows need a model published with a perceptron; a claimed row it misclassifies trains it.
            onchain = [
                _onchain_rows(market, publish, measure, width, nonzero, first=i == 0)
                for i, (width, nonzero) in enumerate(ONCHAIN_ROWS)
            ]
            chain.advance_time(terms.challenge_window + 1)
            measure("claim", lambda: market.claim("alice", submission_id))
            measure("withdraw", lambda: market.withdraw("alice"))
            for (width, nonzero), (wrong, right) in zip(ONCHAIN_ROWS, onchain, strict=True):
                name = f"claim_onchain_row_{width}f_{nonzero}nz"
                # the row it gets right first: learning the other one could change its prediction
                untrained = measure(f"{name}_untrained", lambda row=right: market.claim("bob", row))
                if any(e.name == "LinearModelUpdated" for e in untrained.events):
                    raise AssertionError("the perceptron learned a row it predicted right")
                trained = measure(f"{name}_trained", lambda row=wrong: market.claim("bob", row))
                trained.event("LinearModelUpdated")  # raises if the row did not train the perceptron
            width, nonzero = ONCHAIN_ROWS[0]
            for alias, name in (
                ("contribute_onchain_row", f"contribute_onchain_row_{width}f_{nonzero}nz"),
                ("claim_onchain_row_trained", f"claim_onchain_row_{width}f_{nonzero}nz_trained"),
            ):
                gas[alias], seconds[alias] = gas[name], seconds[name]
            chain.advance_time(terms.owner_timeout + 1)
            expired = measure("expire", lambda: market.expire_challenge("alice", unanswered))
            expired.event("SubmissionForfeited")
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
    # On-chain rows: gas follows the non-zero features, not the model's width.
    row = "contribute_onchain_row_{}f_{}nz".format
    if {row(100, 100), row(1000, 100), row(1000, 1000)} <= set(gas):
        ratios["onchain_row_1000f_over_100f_at_100nz"] = round(gas[row(1000, 100)] / gas[row(100, 100)], 4)
        ratios["onchain_row_gas_per_nonzero"] = round((gas[row(1000, 1000)] - gas[row(1000, 100)]) / 900, 1)
    return {"gas": gas, "seconds": seconds, "ratios": ratios}


def _onchain_rows(
    market: Marketplace,
    publish: Callable[..., Receipt],
    measure: Callable[[str, Callable[[], Receipt]], Receipt],
    width: int,
    nonzero: int,
    *,
    first: bool,
) -> tuple[int, int]:
    """Publish a perceptron of ``width`` features and add two rows of ``nonzero`` features (spread evenly) as bob:
    one it gets wrong, then one it gets right. Returns their submission ids."""
    scale = LINEAR_SCALE
    columns = tuple(Column(f"x{i}", "float64") for i in range(width))
    schema = FeatureSchema(columns, Column("label", "int64"), (0, 1), 1e6)
    weights = [(-1) ** i * (100_000 + i * 7_919 % 900_000) for i in range(width)]
    linear = LinearTerms(tuple(weights), 0, 10 * scale)
    name = "publish_with_perceptron" if first else f"publish_with_perceptron_{width}f"
    receipt = measure(name, lambda: publish(f"bench-perceptron-{width}", linear, schema))
    model_id = receipt.event("ModelPublished").args["model_id"]
    step = width // nonzero
    ids = []
    for wrong in (True, False):
        features = {k * step: (-1) ** (k + wrong) * (scale // 3 + k * 12_345 % scale) for k in range(nonzero)}
        predicted = predict(weights, 0, features)
        label = 1 - predicted if wrong else predicted
        row = f"contribute_onchain_row_{width}f_{nonzero}nz"
        call = lambda f=features, y=label: market.contribute_sparse_row("bob", model_id, f, y)  # noqa: E731
        added = measure(row, call) if wrong else call()
        ids.append(added.event("SubmissionAdded").args["submission_id"])
    return ids[0], ids[1]


def _with_targets(data: Sequence[bytes], training_row: bytes, test_row: bytes) -> list[bytes]:
    """The rows with challenge targets in the middle: a format fault, a repeat of row 0, a training and a test
    row (the rows after them take the label and availability challenges)."""
    out = list(data)
    base = len(out) // 2
    out[base] = encode_row(SCHEMA, (float("nan"), 0, 0))
    out[base + 1] = out[0]
    out[base + 2] = training_row
    out[base + 3] = test_row
    return out


def format_table(figures: dict[str, dict[str, float]]) -> str:
    """The figures as an aligned text table."""
    lines = [f"{'operation':<34}{'gas':>12}{'seconds':>10}"]
    for name, value in figures["gas"].items():
        lines.append(f"{name:<34}{int(value):>12,}{figures['seconds'].get(name, 0):>10.3f}")
    lines += [f"{name:<34}{value:>12}" for name, value in figures["ratios"].items()]
    return "\n".join(lines)
