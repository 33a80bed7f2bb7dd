"""Beyond the embedded devnet: a second EVM (hardhat), keystore accounts, and what nodes say when they refuse.

Two hardhat nodes are started here, on loopback: one with chain id 1337, a "real network" as far as colearn can
tell (devnet names refused, keystores required, no automatic deployment), and one with the devnet's chain id and
public test keys, on which the example notebook runs unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import nbclient
import nbformat
import pytest
from eth_abi import encode as abi_encode
from eth_account import Account as EthAccount
from eth_utils import keccak
from servers import server_config
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import AccountError, ColearnError, MarketplaceError, Session
from colearn_jupyter.accounts import ENV_KEYSTORE_PASSWORD, devnet_account
from colearn_jupyter.artifacts import load_artifact
from colearn_jupyter.cli import main as cli
from colearn_jupyter.marketplace import _MESSAGES, _ErrorDecoder
from colearn_jupyter.rpcerrors import NodeRefusal

ROOT = Path(__file__).resolve().parent.parent
HARDHAT = ROOT / "node_modules" / ".bin" / "hardhat"
PASSWORD = "correct horse battery staple"  # a test keystore's password


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_hardhat(chain_id: int, log: Path) -> tuple[subprocess.Popen, str]:
    if not HARDHAT.exists():
        pytest.fail("hardhat is not installed: run `make install` (npm ci installs it from package.json)")
    port = _free_port()
    process = subprocess.Popen(
        [str(HARDHAT), "--config", "tests/hardhat/hardhat.config.js", "node", "--hostname", "127.0.0.1",
         "--port", str(port)],
        cwd=ROOT, env={**os.environ, "HARDHAT_CHAIN_ID": str(chain_id)}, stdout=log.open("wb"),
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"hardhat exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("hardhat did not start within 90 s")


#: Keystore names in the hardhat home's keystores folder, and the hardhat (= devnet mnemonic) account each holds.
KEYSTORES = {"ada": "owner", "bea": "alice", "cy": "verifier"}


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """A hardhat node with chain id 1337, a home of its own with keystores for three of its accounts (in
    ``<home>/keystores``, so they can be named), and the marketplace deployed there with the CLI."""
    home = tmp_path_factory.mktemp("hardhat-home")
    process, url = _start_hardhat(1337, home / "hardhat.log")
    (home / "keystores").mkdir()
    keystores = {}
    for name, devnet_name in KEYSTORES.items():
        key = devnet_account(devnet_name)._signer.key  # hardhat funds the same mnemonic's accounts
        path = home / "keystores" / f"{name}.json"
        path.write_text(json.dumps(EthAccount.encrypt(key, PASSWORD, kdf="scrypt", iterations=1024)))
        keystores[name] = str(path)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv("COLEARN_MARKETPLACE", raising=False)
            patch.setenv("COLEARN_RPC_URL", url)
            patch.setenv("COLEARN_HOME", str(home))
            patch.setenv(ENV_KEYSTORE_PASSWORD, PASSWORD)
            assert cli(["deploy", "--account", keystores["ada"]]) == 0
            yield url, keystores
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def test_every_custom_error_is_decoded_whatever_the_node(chain):
    """Each custom error of the contract, in the shape anvil, geth and hardhat give it, becomes a readable
    MarketplaceError (never the raw selector)."""
    abi = load_artifact()["abi"]
    decode = _ErrorDecoder(abi)
    errors = [item for item in abi if item.get("type") == "error"]
    assert len(errors) >= 20
    for item in errors:
        types = [i["type"] for i in item["inputs"]]
        values = [_sample(t) for t in types]
        data = "0x" + (keccak(text=f"{item['name']}({','.join(types)})")[:4] + abi_encode(types, values)).hex()
        shapes = {
            "anvil": _WithData("execution reverted: custom error", data),
            "geth": ValueError({"code": 3, "message": "execution reverted", "data": data}),
            "hardhat": ValueError(
                "execution reverted: Error: VM Exception while processing transaction: reverted with an "
                f"unrecognized custom error (return data: {data})",
                {"message": f"… reverted with an unrecognized custom error (return data: {data})", "data": data},
            ),
            "hardhat-message-only": ValueError(
                {"message": f"reverted with an unrecognized custom error (return data: {data})"}
            ),
        }
        for node, error in shapes.items():
            decoded = decode(error)
            assert isinstance(decoded, MarketplaceError), (node, item["name"], decoded)
            assert decoded.name == item["name"].removeprefix("Marketplace"), node
            assert decoded.name in _MESSAGES, f"{decoded.name} has no readable message"
            assert data[2:10] not in str(decoded) and str(decoded).endswith("."), (node, str(decoded))


class _WithData(Exception):
    def __init__(self, message: str, data: str):
        super().__init__(message)
        self.data = data


def _sample(solidity_type: str):
    if solidity_type.endswith("[]"):
        return []
    if solidity_type.startswith(("uint", "int")):
        return 7
    if solidity_type == "address":
        return "0x" + "11" * 20
    if solidity_type == "bool":
        return True
    if solidity_type.startswith("bytes") and solidity_type != "bytes":
        return b"\x01" * int(solidity_type[5:])
    if solidity_type == "bytes":
        return b"\x01\x02"
    if solidity_type == "string":
        return "x"
    raise AssertionError(f"no sample for {solidity_type}")


def test_full_cycle_on_hardhat_with_keystore_accounts(network, iris_frame):
    _, keystores = network
    with pytest.raises(AccountError, match="keystore"):
        Session("owner").account  # noqa: B018 (devnet names are refused on a real chain id)
    owner = Session(keystores["ada"])
    assert not owner.chain.is_devnet and owner.chain.chain_id == 1337 and owner.chain.is_local_node
    frame = iris_frame(random_state=11)
    train, test, extra = frame.iloc[:45], frame.iloc[45:95], frame.iloc[95:]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    card = owner.publish(clf, name="iris-on-hardhat", train=train, test=test, label="target", window="1h")
    alice, verifier = owner.as_account("bea"), owner.as_account("cy")  # keystores named from the home
    flipped = extra.iloc[:20].copy()
    flipped.loc[flipped.index[0], "target"] = "setosa" if flipped["target"].iloc[0] != "setosa" else "virginica"
    submission = alice.contribute(card.id, flipped)
    report = verifier.verify(submission.id)
    assert report.ok and 0 in report.suggested
    (challenge_id,) = verifier.challenge(submission.id, [0])
    assert owner.resolve(challenge_id) is True
    with pytest.raises(MarketplaceError, match="window"):  # the contract's custom error, decoded on hardhat
        owner.market.claim(alice.account, submission.id)
    owner.advance_time("1h")
    owner.advance_time(1)
    assert alice.claim() > 0
    assert owner.retrain(card.id).version == 2
    assert owner.market.model(card.id).rows_rejected == 1


def test_contract_refusals_and_poor_accounts_on_hardhat(network):
    _, keystores = network
    owner = Session(keystores["ada"])
    with pytest.raises(MarketplaceError, match="There is no submission 999"):
        owner.market.submission(999)
    with pytest.raises(MarketplaceError, match="no submission"):
        owner.market.claim(owner.account, 999)
    poor = EthAccount.create()
    path = Path(keystores["ada"]).parent.parent / "poor.json"
    path.write_text(json.dumps(EthAccount.encrypt(poor.key, PASSWORD, kdf="scrypt", iterations=1024)))
    with pytest.raises(NodeRefusal) as refused:
        owner.chain.transfer(owner.chain.account(str(path)), owner.account, 10**18)
    assert refused.value.kind == "funds" and "Fund the account" in str(refused.value)
    assert isinstance(refused.value, ColearnError)
    assert cli(["deploy", "--account", str(path)]) == 1  # the CLI prints the reason, no traceback


def test_example_notebook_runs_on_hardhat_with_test_keys(tmp_path):
    """On a development node using the devnet's chain id and public test keys, the marketplace deploys itself and
    the Python notebook runs unchanged."""
    process, url = _start_hardhat(31337, tmp_path / "hardhat.log")
    try:
        notebook = nbformat.read(ROOT / "example_notebooks" / "01-marketplace-from-python.ipynb", as_version=4)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("COLEARN_RPC_URL", url)
            patch.setenv("COLEARN_HOME", str(tmp_path / "home"))
            nbclient.NotebookClient(notebook, kernel_name="python3", timeout=600).execute()
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "rows accepted 3, rejected 2, pending 0" in printed
    assert not [o for o in outputs if o.output_type == "error"]
    shutil.rmtree(tmp_path / "home", ignore_errors=True)


# ---------------------------------------------------------------------------------------------------- REST
pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def jp_server_config(jp_server_config, network, request):
    """The server extension on the hardhat chain; acting as the keystore the test names (none: read-only)."""
    account = getattr(request, "param", "")
    return server_config(account=account) if account else server_config()


async def _rest(jp_fetch, method: str, *path: str, body: dict | None = None, **params: str) -> tuple[int, dict]:
    from tornado.httpclient import HTTPClientError

    try:
        if method == "GET":
            response = await jp_fetch("colearn", "api", *path, params=params)
        else:
            response = await jp_fetch("colearn", "api", *path, method=method, body=json.dumps(body or {}))
    except HTTPClientError as error:
        return error.code, json.loads(error.response.body)
    return response.code, json.loads(response.body)


async def test_rest_without_an_account_reads_but_refuses_to_act(jp_fetch, network):
    code, status = await _rest(jp_fetch, "GET", "status")
    assert code == 200 and status["chain"]["chain_id"] == 1337 and status["chain"]["devnet"] is False
    assert status["account"]["read_only"] is True and "acts as no account" in status["account"]["why"]
    code, models = await _rest(jp_fetch, "GET", "models")
    assert code == 200 and models["total"] >= 0
    code, refused = await _rest(jp_fetch, "POST", "claims", body={})
    assert code == 403 and "acts as no account" in refused["message"] and "keystore" in refused["message"]
    code, refused = await _rest(jp_fetch, "POST", "claims", body={"account": "owner"})
    assert code == 400 and "keystore" in refused["message"]  # devnet names mean nothing here


@pytest.mark.parametrize("jp_server_config", ["ada"], indirect=True)
async def test_rest_full_cycle_on_hardhat_as_a_keystore_account(jp_fetch, jp_root_dir, network, iris_frame):
    code, status = await _rest(jp_fetch, "GET", "status")
    assert status["account"]["name"] == "ada" and status["account"]["read_only"] is False and status["time_travel"]
    owner = Session("ada")
    frame = iris_frame(random_state=12)
    train, test, extra = frame.iloc[:45], frame.iloc[45:95], frame.iloc[95:]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    card = owner.publish(clf, name="rest-on-hardhat", train=train, test=test, label="target", window="1h")
    code, listed = await _rest(jp_fetch, "GET", "models", search="rest-on-hardhat")
    assert code == 200 and [m["id"] for m in listed["models"]] == [card.id]
    rows = extra.iloc[:12].copy()
    rows.loc[rows.index[0], "target"] = "setosa" if rows["target"].iloc[0] != "setosa" else "virginica"
    rows.to_csv(jp_root_dir / "hardhat-rows.csv", index=False)
    code, contribution = await _rest(
        jp_fetch, "POST", "contributions", body={"model": card.id, "path": "hardhat-rows.csv", "account": "bea"}
    )
    assert code == 201 and contribution["rows"] == 12
    code, detail = await _rest(jp_fetch, "GET", "contributions", str(contribution["id"]))
    assert code == 200 and detail["report"]["cid_ok"] and 0 in detail["report"]["suggested"]
    code, created = await _rest(
        jp_fetch, "POST", "challenges", body={"submission": contribution["id"], "rows": [0], "account": "cy"}
    )
    assert code == 201 and len(created["challenges"]) == 1
    code, verdict = await _rest(
        jp_fetch, "POST", "challenges", str(created["challenges"][0]), "resolve", body={"verdict": "uphold"}
    )
    assert code == 200 and verdict["upheld"] is True
    owner.advance_time("1h")
    owner.advance_time(1)
    code, claimed = await _rest(jp_fetch, "POST", "claims", body={"account": "bea"})
    assert code == 200 and int(claimed["withdrawn_wei"]) > 0
    code, account = await _rest(jp_fetch, "GET", "account", account="bea")
    assert code == 200 and int(account["claimable_wei"]) == 0 and int(account["locked_wei"]) == 0
    code, retrained = await _rest(jp_fetch, "POST", "models", str(card.id), "versions", body={})
    assert code == 201 and retrained["versions"][-1]["version"] == 2
