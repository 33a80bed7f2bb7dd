"""The REST API through a real Jupyter server (pytest-jupyter's jp_fetch), against the devnet."""

from __future__ import annotations

import asyncio
import json

import pandas as pd
import pytest
from servers import server_config
from sklearn.linear_model import LogisticRegression
from tornado.httpclient import HTTPClientError

from colearn_jupyter import Session
from colearn_jupyter.contributions import model_metadata, prepare_batch

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def jp_server_config(jp_server_config):
    return server_config()


@pytest.fixture(scope="module")
def iris(iris_frame) -> pd.DataFrame:
    return iris_frame(random_state=5)


@pytest.fixture(scope="module")
def published(chain, iris):
    """A model, a good batch from alice and a batch from bob with three flipped labels."""
    owner = Session("owner", chain=chain)
    train, test = iris.iloc[:45], iris.iloc[45:95]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    card = owner.publish(clf, name="rest-iris", train=train, test=test, label="target")
    bad = iris.iloc[95:115].copy()
    bad.loc[bad.index[:3], "target"] = (
        bad["target"].iloc[:3].map({"setosa": "virginica", "versicolor": "setosa", "virginica": "setosa"})
    )
    sub = owner.as_account("bob").contribute(card.id, bad)
    return {"model": card.id, "submission": sub.id}


def _withheld(session: Session, model_id: int, frame: pd.DataFrame) -> tuple[int, bytes]:
    """Submit rows but keep the file to oneself (as a dishonest contributor could): the submission id and the file."""
    schema = model_metadata(session.market, session.storage, model_id).feature_schema
    batch = prepare_batch(frame, schema, session.account.address)
    receipt = session.market.contribute(session.account, model_id, batch.cid, batch.tree.root, batch.row_count)
    return receipt.event("SubmissionAdded").args["submission_id"], batch.parquet


async def _get(jp_fetch, *path, **params):
    response = await jp_fetch("colearn", "api", *path, params=params)
    return json.loads(response.body)


async def _post(jp_fetch, *path, body):
    response = await jp_fetch("colearn", "api", *path, method="POST", body=json.dumps(body))
    return response.code, json.loads(response.body)


async def _error(call) -> tuple[int, dict]:
    with pytest.raises(HTTPClientError) as caught:
        await call
    return caught.value.code, json.loads(caught.value.response.body)


async def test_status(jp_fetch, published, chain):
    status = await _get(jp_fetch, "status")
    assert status["chain"] == {"devnet": True, "url": chain.url, "chain_id": 31337}
    assert status["account"]["name"] == "owner" and status["pending_verifications"] >= 1


async def test_models_list_search_sort_and_detail(jp_fetch, published):
    page = await _get(jp_fetch, "models", search="rest-iris")
    assert page["total"] >= 1 and all("rest-iris" in m["name"] for m in page["models"])
    ordered = await _get(jp_fetch, "models", sort="id", order="desc", limit=2)
    assert [m["id"] for m in ordered["models"]] == sorted((m["id"] for m in ordered["models"]), reverse=True)
    detail = await _get(jp_fetch, "models", str(published["model"]))
    assert detail["model"]["name"] == "rest-iris" and detail["versions"][0]["version"] == 1
    assert (detail["versions"][0]["check"], detail["versions"][0]["measured_accuracy"]) == ("unverified", None)
    assert detail["model"]["rows_pending"] >= 20


async def test_index_follows_chain_events(jp_fetch, published, chain):
    before = (await _get(jp_fetch, "models", str(published["model"])))["model"]["reward_pool_wei"]
    Session("carol", chain=chain).market.fund_reward_pool("carol", published["model"], 12345)
    after = (await _get(jp_fetch, "models", str(published["model"])))["model"]["reward_pool_wei"]
    assert int(after) == int(before) + 12345


async def test_verify_challenge_resolve_and_claim(jp_fetch, published, chain, market, jp_root_dir, iris):
    queue = await _get(jp_fetch, "contributions", model=str(published["model"]))
    assert published["submission"] in [c["id"] for c in queue["contributions"]]
    assert all(c["forfeited"] is False for c in queue["contributions"])
    detail = await _get(jp_fetch, "contributions", str(published["submission"]))
    report = detail["report"]
    assert report["root_ok"] and report["count_ok"] and report["cid_ok"] and {0, 1, 2} <= set(report["suggested"])
    assert {"row": 0, "kind": "label"} in report["plan"] and [p["row"] for p in report["plan"]] == report["suggested"]
    first = report["rows"][0]
    assert set(first) == {"row", "label", "predicted", "fault", "copy_of", "challenge", "verdict", "challenge_id"}
    assert (first["verdict"], first["challenge"], first["fault"], first["copy_of"]) == (
        "suspicious",
        "label",
        None,
        None,
    )
    assert first["challenge_id"] is None
    terms = market.model(published["model"]).terms
    verifier = market.credit_of(chain.account("verifier").address)
    code, created = await _post(jp_fetch, "challenges", body={"submission": published["submission"], "rows": [0, 1]})
    assert code == 201 and len(created["challenges"]) == 2
    detail = await _get(jp_fetch, "contributions", str(published["submission"]))
    assert [r["challenge_id"] for r in detail["report"]["rows"][:2]] == created["challenges"]
    assert [r["verdict"] for r in detail["report"]["rows"][:2]] == ["challenged", "challenged"]
    assert detail["report"]["rows"][2]["challenge_id"] is None
    assert 0 not in detail["report"]["suggested"]  # already challenged: no longer planned
    pending = await _get(jp_fetch, "challenges", model=str(published["model"]))
    listed = {c["id"]: c for c in pending["challenges"]}
    assert set(listed) >= set(created["challenges"])
    assert {listed[c]["kind"] for c in created["challenges"]} == {"label"}
    assert set(listed[created["challenges"][0]]["values"]) == set(iris.columns)  # the revealed row, decoded
    code, verdict = await _post(
        jp_fetch, "challenges", str(created["challenges"][0]), "resolve", body={"verdict": "auto"}
    )
    assert code == 200 and verdict["upheld"] is True
    code, verdict = await _post(
        jp_fetch, "challenges", str(created["challenges"][1]), "resolve", body={"verdict": "reject"}
    )
    assert verdict["upheld"] is False
    # the verifier: bond back and the owner's fee for the row it caught; for the rejected one, the fee, its bond burned
    fee = terms.reward_per_row
    assert market.credit_of(chain.account("verifier").address) == verifier + terms.challenge_bond + 2 * fee
    detail = await _get(jp_fetch, "contributions", str(published["submission"]))
    assert detail["report"]["rows"][0]["verdict"] == "rejected"
    assert [r["challenge_id"] for r in detail["report"]["rows"][:2]] == created["challenges"]
    # contribute a CSV file from the server's root directory, then claim after the window
    iris.iloc[115:125].to_csv(jp_root_dir / "more.csv", index=False)
    code, contribution = await _post(
        jp_fetch, "contributions", body={"model": published["model"], "path": "more.csv", "account": "alice"}
    )
    assert code == 201 and contribution["rows"] == 10
    account = await _get(jp_fetch, "account", account="alice")
    assert int(account["locked_wei"]) >= 10 * 10**16
    chain.advance_time(3601)
    code, claimed = await _post(jp_fetch, "claims", body={"account": "alice"})
    assert code == 200 and int(claimed["withdrawn_wei"]) >= 10 * (10**16 + 2 * 10**15)
    code, retrained = await _post(jp_fetch, "models", str(published["model"]), "versions", body={})
    assert code == 201 and retrained["versions"][-1]["version"] == 2


@pytest.fixture(scope="module")
def late(chain, published, iris):
    """A batch of five good rows by erin, made when a test first asks for it (in its challenge window then)."""
    return Session("erin", chain=chain).contribute(published["model"], iris.iloc[133:138]).id


@pytest.fixture(scope="module")
def demands(chain, iris):
    """A model with a one-minute time-out and two batches whose files dave keeps to himself."""
    owner = Session("owner", chain=chain)
    train, test = iris.iloc[:45], iris.iloc[45:95]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    card = owner.publish(clf, name="rest-demands", train=train, test=test, label="target", timeout="1m")
    dave = owner.as_account("dave")
    answered, parquet = _withheld(dave, card.id, iris.iloc[125:130])
    forfeited, _ = _withheld(dave, card.id, iris.iloc[130:133])
    return {"model": card.id, "answered": answered, "forfeited": forfeited, "file": parquet, "session": owner}


async def test_demand_answer_and_expire(jp_fetch, demands, chain, market):
    detail = await _get(jp_fetch, "contributions", str(demands["answered"]))
    report = detail["report"]
    assert (report["cid_ok"], report["count_ok"], report["root_ok"]) == (False, False, False)
    # the server's account owns the model, so it cannot challenge the file (the owner judges that): it demands a row
    assert report["rows"] == [] and report["plan"] == [{"row": 4, "kind": "availability"}]
    assert "cannot be fetched" in report["problem"]
    code, created = await _post(jp_fetch, "challenges", body={"submission": demands["answered"], "rows": [None]})
    assert code == 201  # a null row: the whole file (as the verifier account)
    [file_challenge] = created["challenges"]
    code, created = await _post(jp_fetch, "challenges", body={"submission": demands["answered"], "rows": [4]})
    assert code == 201
    [demand] = created["challenges"]
    code, created = await _post(
        jp_fetch, "challenges", body={"submission": demands["forfeited"], "rows": [2], "account": "carol"}
    )
    [lost] = created["challenges"]
    listed = {c["id"]: c for c in (await _get(jp_fetch, "challenges", model=str(demands["model"])))["challenges"]}
    assert (listed[demand]["kind"], listed[demand]["values"], listed[demand]["row"]) == ("availability", {}, 4)
    assert (listed[file_challenge]["kind"], listed[file_challenge]["row"]) == ("file", None)
    detail = await _get(jp_fetch, "contributions", str(demands["answered"]))
    assert detail["contribution"]["file_judged"] and detail["report"]["plan"] == []  # the owner is judging the file

    # the file is nowhere: the demand cannot be answered from this server, nor expired before its time-out
    code, body = await _error(jp_fetch("colearn", "api", "challenges", str(demand), "answer", method="POST", body="{}"))
    assert code == 409 and "cannot be produced here" in body["message"]
    code, body = await _error(jp_fetch("colearn", "api", "challenges", str(lost), "expire", method="POST", body=""))
    assert code == 409 and "can't expire before" in body["message"]

    demands["session"].storage.add(demands["file"])  # the file shows up: anyone holding it answers
    terms = market.model(demands["model"]).terms
    alice = market.credit_of(chain.account("alice").address)
    code, answered = await _post(jp_fetch, "challenges", str(demand), "answer", body={"account": "alice"})
    assert (code, answered) == (200, {"challenge": demand, "status": "answered"})
    assert market.credit_of(chain.account("alice").address) == alice + terms.challenge_bond
    code, body = await _error(jp_fetch("colearn", "api", "challenges", str(demand), "answer", method="POST", body=""))
    assert code == 409 and "already settled (answered)" in body["message"]
    # the owner judges the file challenge: its client fetches the file now, so the challenge is rejected
    code, verdict = await _post(jp_fetch, "challenges", str(file_challenge), "resolve", body={"verdict": "auto"})
    assert (code, verdict) == (200, {"challenge": file_challenge, "upheld": False})

    chain.advance_time(120)
    carol, burned = market.credit_of(chain.account("carol").address), market.burned()
    code, expired = await _post(jp_fetch, "challenges", str(lost), "expire", body={"account": "erin"})
    assert (code, expired) == (200, {"challenge": lost, "status": "upheld", "forfeited": True})
    assert market.credit_of(chain.account("carol").address) == carol + terms.challenge_bond + 3 * terms.reward_per_row
    assert market.burned() == burned + 3 * terms.deposit_per_row
    everything = await _get(jp_fetch, "contributions", model=str(demands["model"]), state="all")
    forfeited = {c["id"]: c["forfeited"] for c in everything["contributions"]}
    assert forfeited == {demands["answered"]: False, demands["forfeited"]: True}
    pending = await _get(jp_fetch, "contributions", model=str(demands["model"]))
    assert [c["id"] for c in pending["contributions"]] == [demands["answered"]]  # a forfeited batch is settled
    statuses = await _get(jp_fetch, "challenges", model=str(demands["model"]), status="all")
    assert {c["id"]: c["status"] for c in statuses["challenges"]} == {
        file_challenge: "rejected",
        demand: "answered",
        lost: "upheld",
    }


async def test_only_availability_challenges_are_answered(jp_fetch, late):
    code, created = await _post(jp_fetch, "challenges", body={"submission": late, "rows": [0], "account": "carol"})
    [label] = created["challenges"]
    code, body = await _error(jp_fetch("colearn", "api", "challenges", str(label), "answer", method="POST", body=""))
    assert code == 409 and "only availability challenges are answered" in body["message"]
    code, _ = await _post(jp_fetch, "challenges", str(label), "resolve", body={"verdict": "reject"})
    assert code == 200


async def test_challenges_of_a_model_with_unreadable_metadata_are_listed(
    jp_fetch, market, publish, keyed_tree, fake_cid
):
    """One model whose metadata is not in this store must not break the listing of every challenge."""
    unreadable = publish("rest-unreadable-metadata", metadata_cid=fake_cid("rest metadata"))
    rows = [b"a row", b"another row"]  # never revealed: a demand needs only the commitment
    receipt = market.contribute("bob", unreadable, fake_cid("rest rows"), keyed_tree(rows, "bob").root, len(rows))
    submission = receipt.event("SubmissionAdded").args["submission_id"]
    demand = market.challenge_availability("carol", submission, 1).event("RowChallenged").args["challenge_id"]
    for params in ({}, {"model": str(unreadable)}, {"status": "all"}):
        listed = {c["id"]: c for c in (await _get(jp_fetch, "challenges", **params))["challenges"]}
        assert listed[demand]["kind"] == "availability" and listed[demand]["values"] == {}
    code, body = await _error(jp_fetch("colearn", "api", "contributions", str(submission)))
    assert code == 409 and body["message"]  # verifying needs the metadata: a clear refusal, not a server error


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        (("models",), {"limit": "0"}, "limit"),
        (("models",), {"sort": "price"}, "sort"),
        (("models",), {"offset": "x"}, "offset must be an integer"),
        (("contributions",), {"state": "late"}, "state"),
        (("models", "abc"), {}, "modelId must be an integer"),
    ],
)
async def test_malformed_queries_are_400_with_a_message(jp_fetch, path, params, message):
    code, body = await _error(jp_fetch("colearn", "api", *path, params=params))
    assert code == 400 and message in body["message"]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (("challenges",), {"rows": [1]}, "'submission' is a required property"),
        (("challenges",), {"submission": 1, "color": 1}, "Additional properties"),
        (("challenges", "1", "resolve"), {"verdict": "maybe"}, "verdict"),
        (("challenges", "1", "answer"), {"account": "bad name!"}, "account"),
        (("challenges", "1", "expire"), {"color": 1}, "Additional properties"),
        (("challenges", "0", "expire"), {}, "challengeId"),
        (("challenges",), {"submission": 1, "rows": [2**32]}, "rows/0"),
        (("contributions",), {"model": 1, "path": "../../etc/passwd"}, "inside the Jupyter server's root"),
        (("claims",), {"account": "bad name!"}, "account"),
    ],
)
async def test_malformed_bodies_are_400_with_a_message(jp_fetch, path, body, message, published):
    code, answer = await _error(jp_fetch("colearn", "api", *path, method="POST", body=json.dumps(body)))
    assert code == 400 and message in answer["message"]


async def test_unknown_ids_are_404_and_refusals_409(jp_fetch, late):
    code, body = await _error(jp_fetch("colearn", "api", "models", "999999"))
    assert code == 404 and "no model 999999" in body["message"]
    code, body = await _error(
        jp_fetch("colearn", "api", "claims", method="POST", body=json.dumps({"account": "mallory"}))
    )
    assert code == 400 and "unknown account 'mallory'" in body["message"]
    code, body = await _error(
        jp_fetch("colearn", "api", "challenges", method="POST",
                 body=json.dumps({"submission": late, "rows": [1], "account": "owner"}))
    )  # fmt: skip
    assert code == 409 and "cannot raise one" in body["message"]
    code, body = await _error(
        jp_fetch("colearn", "api", "challenges", method="POST",
                 body=json.dumps({"submission": late, "rows": [5]}))
    )  # fmt: skip
    assert code == 409 and "has 5 rows, so there is no row 5" in body["message"]
    for action in ("answer", "expire", "resolve"):
        body = {"verdict": "auto"} if action == "resolve" else {}
        code, answer = await _error(
            jp_fetch("colearn", "api", "challenges", "999999", action, method="POST", body=json.dumps(body))
        )
        assert code == 404 and "no challenge 999999" in answer["message"], action


@pytest.mark.parametrize(
    "path", ["status", "models", "contributions", "challenges", "account", "events", "openapi.json"]
)
async def test_every_endpoint_needs_authentication(jp_fetch, path):
    code, _ = await _error(jp_fetch("colearn", "api", path, headers={"Authorization": ""}))
    assert code == 403


async def test_writes_need_authentication(jp_fetch):
    for path in ("claims", "challenges", "contributions", "challenges/1/resolve", "challenges/1/answer",
                 "challenges/1/expire", "models/1/versions", "time/advance"):  # fmt: skip
        with pytest.raises(HTTPClientError) as caught:
            await jp_fetch("colearn", "api", *path.split("/"), method="POST", body="{}", headers={"Authorization": ""})
        assert caught.value.code == 403


async def test_events_stream_reports_new_chain_events(jp_fetch, published, chain):
    received: list[str] = []

    async def stream():  # the stream never ends by itself: it is cut by the request timeout
        await jp_fetch(
            "colearn", "api", "events", streaming_callback=lambda c: received.append(c.decode()), request_timeout=5
        )

    task = asyncio.ensure_future(stream())
    await asyncio.sleep(1.5)
    Session("dave", chain=chain).market.fund_reward_pool("dave", published["model"], 777)
    with pytest.raises(HTTPClientError):
        await task
    text = "".join(received)
    assert "event: RewardPoolFunded" in text and '"amount": 777' in text


async def test_every_event_stream_sees_every_event(jp_fetch, published, chain):
    """Two clients and a listing in between: each stream keeps its own position, so none loses an event."""
    streams: list[list[str]] = [[], []]

    async def stream(sink):
        await jp_fetch("colearn", "api", "events", streaming_callback=lambda c: sink.append(c.decode()),
                       request_timeout=5, params={"1795620713849": ""})  # fmt: skip

    tasks = [asyncio.ensure_future(stream(sink)) for sink in streams]
    await asyncio.sleep(1.5)
    Session("erin", chain=chain).market.fund_reward_pool("erin", published["model"], 4242)
    await _get(jp_fetch, "models")  # the index syncs too, with its own position
    for task in tasks:
        with pytest.raises(HTTPClientError):
            await task
    assert all('"amount": 4242' in "".join(sink) for sink in streams)


def test_no_colearn_endpoint_is_unauthenticated(recwarn, jp_serverapp):
    """The server starts with unauthenticated access off and warns about no colearn endpoint."""
    from jupyter_server.utils import JupyterServerAuthWarning

    from colearn_jupyter.server.handlers import ROUTES

    assert jp_serverapp.web_app.settings["colearn_service"] is not None
    warned = [str(w.message) for w in recwarn if issubclass(w.category, JupyterServerAuthWarning)]
    assert not [w for w in warned if "colearn" in w], warned
    for _, handler in ROUTES:
        for verb in ("get", "post"):
            method = handler.__dict__.get(verb) if handler else None  # verbs the handler itself defines
            if method is not None:
                assert hasattr(method, "__wrapped__"), f"{handler.__name__}.{verb} is not @authenticated"


def test_listing_answers_from_the_index_not_one_call_per_model(chain, market, publish, monkeypatch):
    """After the first load, a listing costs one call, for the latest block (plus a log query and one view call when
    blocks were mined)."""
    from colearn_jupyter import Chain, Marketplace
    from colearn_jupyter.config import ColearnSettings
    from colearn_jupyter.server.service import ColearnService

    for number in range(12):
        publish(f"indexed-{number}")
    calls: list[str] = []
    provider_class = type(chain.w3.provider)
    original, original_batch = provider_class.make_request, provider_class.make_batch_request

    def counting(provider, method, params):
        calls.append(method)
        return original(provider, method, params)

    def counting_batch(provider, requests):
        calls.extend(method for method, _ in requests)
        return original_batch(provider, requests)

    monkeypatch.setattr(provider_class, "make_request", counting)  # seen by connections made from now on
    monkeypatch.setattr(provider_class, "make_batch_request", counting_batch)
    service = ColearnService(ColearnSettings(), ".")
    counted = Chain()
    service._session = Session("owner", chain=counted, market=Marketplace(counted, market.address))
    first = service.models(0, 1000, "indexed-", "id", "asc")
    assert first["total"] >= 12
    calls.clear()
    page = service.models(0, 1000, "indexed-", "name", "desc")
    assert calls == ["eth_getBlockByNumber"] and page["total"] == first["total"]
    publish("indexed-late")
    calls.clear()
    page = service.models(0, 1000, "indexed-", "id", "asc")
    assert page["total"] == first["total"] + 1
    assert calls.count("eth_getLogs") == 1 and calls.count("eth_call") == 1  # only the touched model is re-read
    assert len(calls) == 3
