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


@pytest.fixture
def publish(market, terms):
    """Publish a model as ``owner`` and return its id."""

    def _publish(name: str = "model", *, pool: int = 10**18, terms: Terms = terms, owner: str = "owner") -> int:
        receipt = market.publish_model(
            owner,
            name=name,
            model_cid="bafkreidivzimqfqtoqxkrpge6bjyhlvxqs3rhe73owtmdulaxr5do5in7u",
            metadata_cid="bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
            test_set_commitment=market.test_set_commitment(b"\x07" * 32, "bafytestset"),
            terms=terms,
            reward_pool=pool,
            accuracy_bps=8000,
        )
        return receipt.event("ModelPublished").args["model_id"]

    return _publish


def pytest_report_header(config):
    return f"colearn home: {_HOME}"
