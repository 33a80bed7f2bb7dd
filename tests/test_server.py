"""The server extension loads with authentication on and answers its status endpoint."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def jp_server_config(jp_server_config):
    return {"ServerApp": {"jpserver_extensions": {"colearn_jupyter": True}, "allow_unauthenticated_access": False}}


async def test_status(jp_fetch, colearn_home, chain):
    assert chain.w3.eth.block_number >= 0  # the devnet runs
    response = await jp_fetch("colearn", "api", "status")
    body = json.loads(response.body)
    assert body["uses_devnet"] is True
    assert body["devnet"]["running"] is True
    assert body["devnet"]["url"] == chain.url


async def test_status_needs_authentication(jp_fetch):
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("colearn", "api", "status", headers={"Authorization": ""})
    assert caught.value.code == 403
