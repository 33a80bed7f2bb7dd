"""An account that cannot pay, through every face: one clear sentence that says what to do, nothing changed.

The account is ``env``: a fresh key in ``COLEARN_PRIVATE_KEY``, with no ether on the devnet.
"""

from __future__ import annotations

import json

import pytest
from eth_account import Account as EthAccount
from IPython.core.interactiveshell import InteractiveShell
from servers import server_config
from sklearn.linear_model import LogisticRegression
from tornado.httpclient import HTTPClientError

from colearn_jupyter import Session
from colearn_jupyter.cli import main as cli
from colearn_jupyter.rpcerrors import NodeRefusal
from colearn_jupyter.widgets import ContributePanel

pytest_plugins = ("pytest_jupyter.jupyter_server",)
ADVICE = "Fund the account"


@pytest.fixture
def jp_server_config(jp_server_config):
    return server_config()


@pytest.fixture(scope="module")
def poor() -> str:
    """An account with a key and no ether (module-wide, restored afterwards)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("COLEARN_PRIVATE_KEY", EthAccount.create().key.hex())
    yield "env"
    patch.undo()


@pytest.fixture(scope="module")
def model(chain, iris_frame):
    frame = iris_frame(random_state=21)
    train, test = frame.iloc[:45], frame.iloc[45:95]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    card = Session("owner", chain=chain).publish(clf, name="refusals-iris", train=train, test=test, label="target")
    return card.id, frame.iloc[95:105]


def _unchanged(market, model_id):
    return market.submission_count(), market.model(model_id).rows_pending


def test_python(chain, market, poor, model):
    model_id, rows = model
    before = _unchanged(market, model_id)
    with pytest.raises(NodeRefusal) as refused:
        Session(poor, chain=chain).contribute(model_id, rows)
    assert refused.value.kind == "funds" and ADVICE in str(refused.value)
    assert _unchanged(market, model_id) == before


def test_magics(chain, market, poor, model, capsys):
    model_id, rows = model
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "colearn_jupyter")
    shell.user_ns["poor_rows"] = rows
    before = _unchanged(market, model_id)
    shell.run_line_magic("colearn", f"contribute {model_id} poor_rows --as {poor}")
    err = capsys.readouterr().err
    assert err.startswith("colearn contribute: ") and ADVICE in err and "Traceback" not in err
    assert err.count("\n") == 1
    assert _unchanged(market, model_id) == before


def test_widgets(chain, market, poor, model):
    model_id, rows = model
    panel = ContributePanel(Session("owner", chain=chain), namespace={"poor_rows": rows}, model=model_id, account=poor)
    panel.frame = rows
    before = _unchanged(market, model_id)
    panel.confirm.click()
    assert panel.status.kind == "error" and ADVICE in panel.status.text and "Traceback" not in panel.status.widget.value
    assert _unchanged(market, model_id) == before


async def test_rest(jp_fetch, jp_root_dir, market, poor, model):
    model_id, rows = model
    rows.to_csv(jp_root_dir / "poor.csv", index=False)
    before = _unchanged(market, model_id)
    body = json.dumps({"model": model_id, "path": "poor.csv", "account": poor})
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("colearn", "api", "contributions", method="POST", body=body)
    answer = json.loads(refused.value.response.body)
    assert refused.value.code == 409 and answer["code"] == "NodeRefusal" and ADVICE in answer["message"]
    assert _unchanged(market, model_id) == before


def test_cli(poor, capsys):
    assert cli(["deploy", "--account", poor]) == 1
    err = capsys.readouterr().err
    assert err.startswith("colearn: ") and ADVICE in err and "Traceback" not in err
