"""schemathesis against the OpenAPI document on a live Jupyter server: no request may cause a server error."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

SPEC = Path(__file__).parent.parent / "colearn_jupyter" / "server" / "openapi.json"


@pytest.fixture
def live_server(tmp_path, chain, market):
    """`jupyter server` with the extension, on a free loopback port, sharing the test devnet."""
    token = secrets.token_hex(16)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}", "--allow-root"]  # fmt: skip
    log = open(tmp_path / "server.log", "wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            request = urllib.request.Request(f"{url}/colearn/api/status", headers={"Authorization": f"token {token}"})
            urllib.request.urlopen(request, timeout=5).read()
            break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail((tmp_path / "server.log").read_text()[-2000:])
    yield url, token
    process.terminate()
    process.wait(timeout=30)
    log.close()


def test_no_server_errors(live_server, tmp_path):
    url, token = live_server
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")), "run", str(SPEC),
            "--url", f"{url}/colearn/api",
            "--header", f"Authorization: token {token}",
            "--checks", "not_a_server_error",
            "--max-examples", "15",
            "--exclude-path", "/events",
            "--request-timeout", "60",
            "--generation-deterministic",
        ],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Server error" not in done.stdout and " generated" in done.stdout
    # every operation but the event stream was exercised, answering and expiring challenges included
    paths = json.loads(SPEC.read_text())["paths"]
    operations = [(path, verb) for path, item in paths.items() for verb in item if path != "/events"]
    assert ("/challenges/{challengeId}/answer", "post") in operations
    assert ("/challenges/{challengeId}/expire", "post") in operations
    assert f"Tested: {len(operations)}" in done.stdout, done.stdout[-2000:]
