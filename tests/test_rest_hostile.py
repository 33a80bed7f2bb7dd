"""The REST API never answers 500 to input, and one stranger's broken entry never breaks anyone's listing.

Out-of-range and malformed integers are 400s (the OpenAPI document bounds every integer), bodies are read only up to
64 KiB (a larger one is refused from its Content-Length before it is read: 413), no message echoes a large input,
and a model whose metadata is junk (nested too deep, too large, not metadata) is listed like any other.
"""

from __future__ import annotations

import asyncio
import json
import tracemalloc

import pytest
from servers import server_config
from tornado.httpclient import HTTPClientError

from colearn_jupyter import Session
from colearn_jupyter.server.handlers import MAX_BODY_BYTES

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def jp_server_config(jp_server_config):
    return server_config()


async def _error(call) -> tuple[int, dict, int]:
    """Status, JSON body and size of the body of a refused request."""
    with pytest.raises(HTTPClientError) as caught:
        await call
    body = caught.value.response.body
    return caught.value.code, json.loads(body), len(body)


async def _post(jp_fetch, *path, body: str):
    return await _error(jp_fetch("colearn", "api", *path, method="POST", body=body))


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        (("models", str(2**300)), {}, "modelId is out of range"),
        (("models", "9" * 100), {}, "modelId is out of range"),
        (("models", str(2**53)), {}, "modelId: 9007199254740992 is greater than the maximum of 9007199254740991"),
        (("models", "-1"), {}, "less than the minimum of 1"),
        (("models", " 1"), {}, "modelId must be an integer"),
        (("models", "\u0663"), {}, "modelId must be an integer"),  # an Arabic-Indic three is not an id
        (("contributions", "1.0"), {}, "submissionId must be an integer"),
        (("models",), {"offset": "9" * 5000}, "offset is out of range"),
        (("challenges",), {"model": str(2**64)}, "model: 18446744073709551616 is greater than the maximum"),
        (("contributions",), {"model": "0"}, "less than the minimum of 1"),
    ],
)
async def test_out_of_range_integers_are_400_with_a_short_message(jp_fetch, path, params, message):
    code, body, size = await _error(jp_fetch("colearn", "api", *path, params=params))
    assert code == 400 and message in body["message"] and size < 300


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"submission": 3.0}, "submission: 3.0 is not of type 'integer'"),  # was a 500 (web3's MismatchedABI)
        ({"submission": 1, "rows": [1.0]}, "rows/0: 1.0 is not of type 'integer', 'null'"),
        ({"submission": 1e300}, "is not of type 'integer'"),
        ({"submission": 2**53}, "is greater than the maximum of 9007199254740991"),
        ({"submission": 1, "rows": [2**40]}, "rows/0: 1099511627776 is greater than the maximum of 4294967295"),
        ({"submission": 1, "rows": [-1]}, "rows/0: -1 is less than the minimum of 0"),
        ({"submission": True}, "True is not of type 'integer'"),
        ({"submission": "a" * 60_000}, "submission: 'aaaaaaaa"),
        ({"submission": 1, "account": "b" * 60_000}, "account: 'bbbbbbbb"),
    ],
)
async def test_malformed_bodies_are_400_without_echoing_them(jp_fetch, body, message):
    code, answer, size = await _post(jp_fetch, "challenges", body=json.dumps(body))
    assert code == 400 and message in answer["message"] and size < 300, answer


@pytest.mark.parametrize(
    "raw",
    ["[" * 30_000 + "]" * 30_000, '{"submission": ' + "9" * 5_000 + "}", "{\udcff}", b"\xff\xfe".decode("latin1")],
)
async def test_bodies_that_are_not_json_or_nest_deeply_are_400(jp_fetch, raw):
    code, answer, size = await _post(jp_fetch, "challenges", body=raw.encode("utf-8", "surrogateescape"))
    assert code == 400 and answer["code"] == "RequestError" and size < 300, answer


async def _raw_request(
    port: int, base: str, headers: dict, head: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"POST {base}colearn/api/challenges HTTP/1.1", f"Host: 127.0.0.1:{port}",
             "Content-Type: application/json", *(f"{k}: {v}" for k, v in headers.items()), head]  # fmt: skip
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    return reader, writer


async def test_a_large_body_is_refused_before_it_is_read(jp_fetch, jp_http_port, jp_base_url, jp_auth_header):
    """200 MB announced: the answer comes before a byte of it is sent (and the connection is closed)."""
    reader, writer = await _raw_request(jp_http_port, jp_base_url, jp_auth_header, "Content-Length: 200000000")
    answer = await asyncio.wait_for(reader.read(), 10)  # read to the end: the server closes the connection
    writer.close()
    status, _, body = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 413") and len(answer) < 1000
    message = f"the request body is larger than the {MAX_BODY_BYTES:,} bytes this API reads"
    assert json.loads(body) == {"message": message, "code": "BodyTooLarge"}


async def test_a_large_chunked_body_is_dropped_as_it_comes(jp_fetch, jp_http_port, jp_base_url, jp_auth_header):
    """100 MB without a length (chunked): kept only up to the limit, then dropped; answered 413, memory flat."""
    reader, writer = await _raw_request(jp_http_port, jp_base_url, jp_auth_header, "Transfer-Encoding: chunked")
    chunk = b"%x\r\n%s\r\n" % (2**20, b"[" * 2**20)
    tracemalloc.start()
    try:
        for _ in range(100):
            writer.write(chunk)
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(2000), 30)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 413") and len(answer) < 1000 and b"BodyTooLarge" in answer
    assert peak < 8 * 2**20  # the server runs in this process: it kept none of the 100 MB
    code, answer, _ = await _post(jp_fetch, "challenges", body="{}")  # and it still answers
    assert code == 400 and "'submission' is a required property" in answer["message"]


@pytest.fixture
def junk_models(chain, market, publish, keyed_tree, fake_cid):
    """Models whose metadata CIDs name junk: JSON nested too deep, a document over 1 MiB, JSON that is not
    metadata, a number too large for a float; each with a batch and a pending demand."""
    storage = Session("frank", chain=chain).storage
    junk = [b"[" * 100_000, b" " * (2**20 + 1), b'{"name": 1}', b'{"schema_version": 1e999}', b"\xff\xfe"]
    out = []
    for number, document in enumerate(junk):
        model_id = publish(f"rest-junk-{number}", metadata_cid=storage.add(document))
        rows = [b"a row", b"another row"]
        receipt = market.contribute("bob", model_id, fake_cid(f"junk rows {number}"), keyed_tree(rows, "bob").root, 2)
        submission = receipt.event("SubmissionAdded").args["submission_id"]
        demand = market.challenge_availability("carol", submission, 1).event("RowChallenged").args["challenge_id"]
        out.append((model_id, submission, demand))
    return out


async def test_junk_metadata_never_breaks_a_listing(jp_fetch, chain, junk_models, publish):
    honest = publish("rest-honest-neighbour")
    listed = json.loads((await jp_fetch("colearn", "api", "challenges", params={"status": "all"})).body)
    ids = {c["id"] for c in listed["challenges"]}
    assert {demand for _, _, demand in junk_models} <= ids
    for model_id, submission, demand in junk_models:
        for params in ({"model": str(model_id)}, {"model": str(model_id), "status": "all"}):
            mine = json.loads((await jp_fetch("colearn", "api", "challenges", params=params)).body)["challenges"]
            assert [(c["id"], c["values"]) for c in mine] == [(demand, {})]
        contributions = json.loads(
            (await jp_fetch("colearn", "api", "contributions", params={"model": str(model_id)})).body
        )
        assert [c["id"] for c in contributions["contributions"]] == [submission]
        code, body, size = await _error(jp_fetch("colearn", "api", "contributions", str(submission)))
        assert code == 409 and "metadata" in body["message"] and size < 1200  # verifying needs it: a refusal
        detail = json.loads((await jp_fetch("colearn", "api", "models", str(model_id))).body)
        assert detail["model"]["id"] == model_id
    assert json.loads((await jp_fetch("colearn", "api", "challenges", params={"model": str(honest)})).body) == {
        "challenges": []
    }
    models = json.loads((await jp_fetch("colearn", "api", "models", params={"search": "rest-", "limit": "1000"})).body)
    assert {m for m, _, _ in junk_models} | {honest} <= {m["id"] for m in models["models"]}
    every = json.loads((await jp_fetch("colearn", "api", "contributions")).body)["contributions"]
    assert {s for _, s, _ in junk_models} <= {c["id"] for c in every}
    # the Session API as well
    session = Session("verifier", chain=chain)
    frame = session.challenges()
    assert {demand for _, _, demand in junk_models} <= set(frame.index)
    assert {s for _, s, _ in junk_models} <= set(session.pending().index)
    for _, submission, _ in junk_models:
        with pytest.raises(Exception, match="metadata") as caught:
            session.verify(submission)
        assert type(caught.value).__name__ == "SchemaError" and len(str(caught.value)) < 1200


async def test_metadata_that_is_a_dag_bomb_never_hangs_a_listing(
    jp_fetch, chain, market, publish, keyed_tree, fake_cid
):
    """A model whose metadata CID names seven small blocks that link each other 174 times a level (an empty leaf
    at the bottom): reading it fetched 174^6 blocks, so listing every challenge (which reads the metadata of each
    challenged model) hung the server's thread for ever. The read is refused at once and the model listed as junk."""
    from colearn_jupyter.storage.cid import DAG_PB, RAW, make_cid
    from colearn_jupyter.storage.unixfs import _encode_node, _Link

    storage = Session("frank", chain=chain).storage

    def put(block: bytes, codec: int):
        cid = make_cid(block, codec)
        storage.put_block(str(cid), block)
        return cid

    level = put(b"", RAW)
    for _ in range(6):
        level = put(_encode_node([_Link(level, 0, 0)] * 174), DAG_PB)
    model_id = publish("rest-dag-bomb", metadata_cid=str(level))
    rows = [b"a row", b"another row"]
    receipt = market.contribute("bob", model_id, fake_cid("dag bomb rows"), keyed_tree(rows, "bob").root, 2)
    submission = receipt.event("SubmissionAdded").args["submission_id"]
    demand = market.challenge_availability("carol", submission, 1).event("RowChallenged").args["challenge_id"]
    for params in ({"status": "all"}, {"model": str(model_id), "status": "all"}):
        listed = json.loads((await asyncio.wait_for(jp_fetch("colearn", "api", "challenges", params=params), 60)).body)
        assert (demand, {}) in [(c["id"], c["values"]) for c in listed["challenges"]]
    code, body, size = await _error(asyncio.wait_for(jp_fetch("colearn", "api", "contributions", str(submission)), 60))
    assert code == 409 and "blocks for 0 bytes" in body["message"] and size < 1200
