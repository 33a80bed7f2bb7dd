"""The sidebar's event stream (`GET /colearn/api/events`) when there is no devnet to stream from (issue 12).

Before, every connection ended in a traceback ("Cannot send error response after headers written") and the
browser reconnected every 3 s. Now the stream says what is wrong once, as an ``error`` event, logs one line, and
keeps trying quietly until the chain answers.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from servers import server_config
from tornado.httpclient import HTTPClientError

from colearn_jupyter import Devnet
from colearn_jupyter.server.handlers import EventsHandler

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def no_devnet(monkeypatch, tmp_path):
    """A fresh colearn home whose devnet cannot start: COLEARN_ANVIL names a file that does not exist."""
    home = tmp_path / "home"
    monkeypatch.setenv("COLEARN_HOME", str(home))
    monkeypatch.setenv("COLEARN_ANVIL", str(tmp_path / "no-such-anvil"))
    monkeypatch.setattr(EventsHandler, "first_backoff_seconds", 0.5)
    yield home
    Devnet(home).reset()  # if a test let it start


@pytest.fixture
def jp_server_config(no_devnet):
    return server_config()


def _events(text: str) -> list[tuple[str, dict]]:
    """The (event name, data as JSON) pairs of a server-sent event stream (comments left out)."""
    found = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in fields:
            found.append((fields.get("event", "message"), json.loads(fields["data"])))
    return found


async def _read(jp_fetch, seconds: float, during=None) -> str:
    """What the stream sends in ``seconds`` (it never ends by itself: the request timeout cuts it)."""
    received: list[str] = []
    task = asyncio.ensure_future(
        jp_fetch("colearn", "api", "events", streaming_callback=lambda c: received.append(c.decode()),
                 request_timeout=seconds)
    )  # fmt: skip
    if during is not None:
        await during(received)
    with pytest.raises(HTTPClientError) as cut:
        await task
    assert cut.value.code == 599  # the timeout, not an HTTP error
    return "".join(received)


def _log(caplog) -> str:
    return "\n".join(f"{r.levelname} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)


async def test_without_a_devnet_the_stream_says_so_once_and_logs_one_line(jp_fetch, caplog):
    caplog.set_level(logging.DEBUG)
    text = await _read(jp_fetch, 5)
    events = _events(text)
    assert [name for name, _ in events] == ["error"], text  # one message, though it tried again several times
    assert events[0][1]["code"] == "DevnetError" and "cannot run anvil" in events[0][1]["message"]
    assert "COLEARN_ANVIL" in events[0][1]["message"]
    assert text.count(": the chain does not answer yet") >= 2  # it kept trying (and finding the client there)
    assert "retry: " in text  # a browser that loses the stream waits before reconnecting
    logged = _log(caplog)
    assert "Traceback" not in logged and "Cannot send error response" not in logged, logged
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], logged
    assert len([r for r in caplog.records if "colearn events" in r.getMessage()]) == 1, logged

    # A second client (a reloaded page) is told too, and the server log stays quiet.
    again = _events(await _read(jp_fetch, 2))
    assert [name for name, _ in again] == ["error"] and again[0][1] == events[0][1]
    assert len([r for r in caplog.records if "colearn events" in r.getMessage()]) == 1, _log(caplog)


@pytest.mark.slow
async def test_the_stream_recovers_when_the_devnet_can_start(jp_fetch, caplog, monkeypatch, no_devnet):
    caplog.set_level(logging.INFO)
    received: list[str] = []
    task = asyncio.ensure_future(
        jp_fetch("colearn", "api", "events", streaming_callback=lambda c: received.append(c.decode()),
                 request_timeout=60)
    )  # fmt: skip
    while not _events("".join(received)):
        await asyncio.sleep(0.1)
    monkeypatch.delenv("COLEARN_ANVIL")  # as if anvil had been installed: a later try starts the devnet
    for _ in range(300):
        if "colearn events: the chain answers again" in _log(caplog):
            break
        await asyncio.sleep(0.1)
    task.cancel()
    assert "colearn events: the chain answers again" in _log(caplog)
    assert [name for name, _ in _events("".join(received))] == ["error"]
    assert Devnet(no_devnet).status().running
