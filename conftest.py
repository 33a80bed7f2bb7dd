"""Shared test fixtures: one private colearn home and devnet (a real anvil) for the whole test session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_iris

from colearn_jupyter import Chain, Devnet, Marketplace, Terms
from colearn_jupyter.errors import DevnetError
from colearn_jupyter.formats.data import Column, FeatureSchema, encode_row, onchain_schema
from colearn_jupyter.marketplace import LinearTerms
from colearn_jupyter.merkle import MerkleTree, contributor_key, test_row_nonce
from colearn_jupyter.storage.cid import raw_cid

# One private home for the whole run, set before anything starts, so that the example notebooks' kernels
# (other processes) share the test devnet and nothing touches the user's own devnet.
_HOME = Path(tempfile.mkdtemp(prefix="colearn-test-home-"))
os.environ["COLEARN_HOME"] = str(_HOME)
os.environ["COLEARN_DEVNET_PORT"] = "0"  # any free port
os.environ.pop("COLEARN_RPC_URL", None)
os.environ.pop("COLEARN_MARKETPLACE", None)
os.environ.pop("COLEARN_IPFS_URL", None)
os.environ.setdefault("KERAS_BACKEND", "torch")


def pytest_sessionfinish(session, exitstatus):
    # A thread of this process still running (a daemon a test gave up on, a server's warm-up) must not start the
    # devnet again once it is reset: that node would run on after the tests, in its own session.
    def _ended(self: Devnet) -> str:
        raise DevnetError("the test session has ended: no devnet starts now")

    Devnet.ensure_running = Devnet.start = _ended  # type: ignore[method-assign]
    Devnet(_HOME).reset()
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def colearn_home() -> Path:
    return _HOME


@pytest.fixture(scope="session")
def ipfs_node(tmp_path_factory):
    """A real IPFS node (js-ipfs from npm, kubo's HTTP RPC API) for the session; yields its API URL.

    Skipped with the reason only when the npm package is not installed; a node that is installed but fails to
    start fails the tests that need it.
    """
    scripts = Path(__file__).parent / "scripts" / "ipfs-node"
    if not (Path(__file__).parent / "node_modules" / "ipfs" / "src" / "cli.js").is_file():
        pytest.skip("no IPFS node: npm package ipfs@0.66.1 is not installed (run `make install`)")
    repo = tmp_path_factory.mktemp("ipfs-repo")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = subprocess.run(
        ["bash", str(scripts / "start.sh"), str(repo), str(port)], capture_output=True, text=True, timeout=120
    )
    if started.returncode != 0:
        pytest.fail(f"the IPFS test node did not start:\n{started.stderr}")
    yield IpfsNode(started.stdout.strip(), repo)
    subprocess.run(["bash", str(scripts / "stop.sh"), str(repo)], capture_output=True, timeout=60)


@dataclass(frozen=True)
class IpfsNode:
    url: str
    repo: Path


@pytest.fixture(scope="session")
def chain(colearn_home) -> Chain:
    return Chain()


@pytest.fixture(scope="session")
def market(chain) -> Marketplace:
    return Marketplace.connect(chain)


@pytest.fixture(scope="session")
def iris_frame():
    """scikit-learn's iris without its one repeated row, shuffled by ``random_state``, species names as labels."""

    def _frame(random_state: int) -> pd.DataFrame:
        data = load_iris(as_frame=True)
        frame = data.frame.drop_duplicates().sample(frac=1.0, random_state=random_state).reset_index(drop=True)
        frame["target"] = frame["target"].map(dict(enumerate(data.target_names)))
        return frame

    return _frame


@pytest.fixture
def terms() -> Terms:
    return Terms.from_human(deposit="0.01", reward="0.002", bond="0.005", window="1h", timeout="1d")


# The row schema of models published by the `publish` fixture: two numeric features and a 0/1 label.
ROW_SCHEMA = FeatureSchema((Column("x", "float64"), Column("n", "int64")), Column("label", "int64"), (0, 1), 1e6)
TEST_SALT = b"\x07" * 32
TEST_SET_CID = raw_cid(b"the hidden test set of a fixture model")
MODEL_CID = "bafkreidivzimqfqtoqxkrpge6bjyhlvxqs3rhe73owtmdulaxr5do5in7u"
METADATA_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


def schema_row(x: float, n: int, label: int, schema: FeatureSchema = ROW_SCHEMA) -> bytes:
    """A canonical row of :data:`ROW_SCHEMA`."""
    return encode_row(schema, (x, n, label))


def test_rows(schema: FeatureSchema = ROW_SCHEMA, count: int = 4) -> tuple[list[bytes], MerkleTree]:
    """Hidden test rows of a fixture model and their tree, keyed by nonces of :data:`TEST_SALT`."""
    rows = [encode_row(schema, _values(schema, 1000 + i)) for i in range(count)]
    return rows, MerkleTree(rows, keys=[test_row_nonce(TEST_SALT, i) for i in range(count)])


test_rows.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, whatever its name


def _values(schema: FeatureSchema, seed: int) -> list:
    """Values of a distinct valid row of ``schema`` (numbers only, labels from the schema)."""
    out: list = []
    for position, column in enumerate(schema.features):
        out.append(float(seed + position) / 8 if column.dtype == "float64" else seed + position)
    out.append(schema.labels[seed % len(schema.labels)] if schema.labels else float(seed))
    return out


@pytest.fixture
def publish(market, terms):
    """Publish a model as ``owner`` through the low-level binding and return its id.

    The model commits to a row schema (:data:`ROW_SCHEMA` unless ``schema`` is given), four hidden test rows
    (``test_rows``) and, when ``training`` rows are given, their tree keyed by the owner's address; ``linear`` gives
    an on-chain perceptron (its weights must match the schema's feature count).
    """

    def _publish(
        name: str = "model",
        *,
        pool: int = 10**18,
        terms: Terms = terms,
        owner: str = "owner",
        schema: FeatureSchema = ROW_SCHEMA,
        training: list[bytes] | None = None,
        linear: LinearTerms | None = None,
        metadata_cid: str = METADATA_CID,
        accuracy_bps: int = 8000,
    ) -> int:
        _, test_tree = test_rows(schema)
        training_tree = (
            MerkleTree(training, key=contributor_key(market.chain.account(owner).address)) if training else None
        )
        receipt = market.publish_model(
            owner,
            name=name,
            model_cid=MODEL_CID,
            metadata_cid=metadata_cid,
            test_set_commitment=market.test_set_commitment(TEST_SALT, TEST_SET_CID),
            terms=terms,
            schema=onchain_schema(schema),
            test_root=test_tree.root,
            test_row_count=len(test_tree),
            training_root=training_tree.root if training_tree else b"\0" * 32,
            training_row_count=len(training_tree) if training_tree else 0,
            linear=linear,
            reward_pool=pool,
            accuracy_bps=accuracy_bps,
        )
        return receipt.event("ModelPublished").args["model_id"]

    return _publish


def repeated_chunk_file(storage) -> tuple[str, int]:
    """A UnixFS file of three blocks stored in ``storage`` that reads as 261 MiB (one 256 KiB chunk of zeros linked
    174 times by a node linked 6 times): a stranger's file beyond every fetch limit. Its CID and declared size."""
    from colearn_jupyter.storage.cid import DAG_PB, RAW, make_cid
    from colearn_jupyter.storage.unixfs import CHUNK_SIZE, _encode_node, _Link

    def put(block: bytes, codec: int):
        cid = make_cid(block, codec)
        storage.put_block(str(cid), block)
        return cid

    leaf = put(bytes(CHUNK_SIZE), RAW)
    middle = put(_encode_node([_Link(leaf, CHUNK_SIZE, CHUNK_SIZE)] * 174), DAG_PB)
    size = 174 * CHUNK_SIZE
    return str(put(_encode_node([_Link(middle, size, size)] * 6), DAG_PB)), 6 * size


@pytest.fixture
def keyed_tree(chain):
    """``keyed_tree(rows, account)``: the row tree a submission of ``rows`` by ``account`` commits to."""

    def _tree(rows: list[bytes], account: str) -> MerkleTree:
        return MerkleTree(rows, key=contributor_key(chain.account(account).address))

    return _tree


@pytest.fixture
def fake_cid():
    """``fake_cid(text)``: a valid CID of bytes that are never stored (the chain only checks the CID's form)."""
    return lambda text: raw_cid(f"never stored: {text}".encode())


def pytest_report_header(config):
    return f"colearn home: {_HOME}"
