"""POST /time/advance: the sidebar's clock, a thin face over Session.advance_time, on a devnet with a class.

The module has a home and devnet of its own: a class changes who may move the clock, and moving it would close the
windows that other modules' fixtures rely on.
"""

from __future__ import annotations

import json

import pytest
from classrooms import class_devnet
from servers import server_config
from tornado.httpclient import HTTPClientError

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture(scope="module")
def classroom_chain(tmp_path_factory):
    """A devnet of its own with a class of two (student01, student02); owner is the instructor."""
    with class_devnet(tmp_path_factory.mktemp("clock-home"), students=2, eth=1) as chain:
        yield chain


@pytest.fixture
def jp_server_config(jp_server_config, classroom_chain, request, monkeypatch):
    """The server extension on the class's devnet; as the hub user the test names, if any (set before it starts)."""
    hub_user = getattr(request, "param", "")
    if hub_user:
        monkeypatch.setenv("JUPYTERHUB_USER", hub_user)
    # No warm-up: the module resets its devnet at the end, and a warm-up still running then (the last test's server
    # builds its index in a thread) would start that devnet again and leave it running after the tests.
    return server_config(warm_up=False)


async def _advance(jp_fetch, body: dict) -> tuple[int, dict]:
    try:
        response = await jp_fetch("colearn", "api", "time", "advance", method="POST", body=json.dumps(body))
    except HTTPClientError as error:
        return error.code, json.loads(error.response.body)
    return response.code, json.loads(response.body)


async def test_the_instructor_moves_the_chains_clock(jp_fetch, classroom_chain):
    status = json.loads((await jp_fetch("colearn", "api", "status")).body)
    assert status["account"]["name"] == "owner" and status["time_travel"] is True
    before = classroom_chain.timestamp()
    assert status["chain_time"] == before
    code, moved = await _advance(jp_fetch, {"duration": "1h30m"})
    assert code == 200 and moved["advanced_seconds"] == 5400
    assert moved["chain_time"] == classroom_chain.timestamp() >= before + 5400
    status = json.loads((await jp_fetch("colearn", "api", "status")).body)
    assert status["chain_time"] == moved["chain_time"]


async def test_a_student_is_refused_with_why(jp_fetch, classroom_chain):
    before = classroom_chain.timestamp()
    code, refused = await _advance(jp_fetch, {"duration": "1h", "account": "student01"})
    assert code == 409 and refused["code"] == "ClockRefused"
    assert "only the instructor may" in refused["message"] and "student01 is a student" in refused["message"]
    assert classroom_chain.timestamp() == before  # nothing mined


@pytest.mark.parametrize("jp_server_config", ["not-in-the-class"], indirect=True)  # a hub user not on the roster
async def test_a_read_only_server_is_refused(jp_fetch, classroom_chain):
    status = json.loads((await jp_fetch("colearn", "api", "status")).body)
    assert status["account"]["read_only"] is True
    before = classroom_chain.timestamp()
    code, refused = await _advance(jp_fetch, {"duration": "1h"})
    assert code == 403 and refused["code"] == "NoAccountError" and "acts as no account" in refused["message"]
    assert classroom_chain.timestamp() == before


@pytest.mark.parametrize("jp_server_config", ["not-in-the-class"], indirect=True)
async def test_a_read_only_server_refuses_a_claim_as_its_document_says(jp_fetch, classroom_chain):
    """Every signing endpoint documents the read-only 403 (and the 413 of a large body, the 503 of a node that does
    not answer); a claim on a read-only server gets it, with nothing sent."""
    spec = json.loads((await jp_fetch("colearn", "api", "openapi.json")).body)
    for path, operations in spec["paths"].items():
        if "post" in operations:
            assert {"403", "413", "503"} <= set(operations["post"]["responses"]), path
    block = classroom_chain.w3.eth.block_number
    try:
        await jp_fetch("colearn", "api", "claims", method="POST", body="{}")
        raise AssertionError("a read-only server claimed")
    except HTTPClientError as error:
        code, refused = error.code, json.loads(error.response.body)
    assert code == 403 and refused["code"] == "NoAccountError" and "acts as no account" in refused["message"]
    assert classroom_chain.w3.eth.block_number == block


@pytest.mark.parametrize(
    "body, message",
    [
        ({"duration": "soon"}, "is not a duration; write it like 90s, 10m, 1h30m or 2d"),
        ({"duration": "0"}, "1 second to 365d at a time"),
        ({"duration": "400d"}, "1 second to 365d at a time"),
        ({"duration": "9" * 32}, "1 second to 365d at a time"),
        ({"duration": ""}, "duration:"),
        ({}, "'duration' is a required property"),
        ({"duration": 3600}, "duration: 3600 is not of type 'string'"),
        ({"duration": "1h", "when": "now"}, "Additional properties are not allowed"),
    ],
)
async def test_bad_durations_are_400_and_move_nothing(jp_fetch, classroom_chain, body, message):
    before = classroom_chain.timestamp()
    code, refused = await _advance(jp_fetch, body)
    assert code == 400 and message in refused["message"], refused
    assert classroom_chain.timestamp() == before
