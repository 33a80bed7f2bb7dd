"""`make lab`: as root (or not), on a chosen port, without a browser; a failed start leaves nothing running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from colearn_jupyter import Devnet

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _make_lab(home: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "COLEARN_HOME": str(home), "PORT": str(port), "NO_BROWSER": "1", "COLEARN_DEVNET_PORT": "0"}
    env.pop("JUPYTER_CONFIG_DIR", None)
    return subprocess.Popen(
        ["make", "--no-print-directory", "-o", "install", "lab"],  # -o install: the checkout is set up already
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def _stop_group(process: subprocess.Popen, seconds: float = 60) -> None:
    """SIGTERM the lab's process group (make, JupyterLab, its kernels) and wait until every one of them has exited,
    not only make; SIGKILL what is left after ``seconds``."""
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=seconds)
    deadline = time.monotonic() + seconds
    while True:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            return
        time.sleep(0.2)


def _answers(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def test_make_lab_serves_on_the_port_it_is_given(tmp_path):
    port = _free_port()
    process = _make_lab(tmp_path / "home", port, tmp_path / "lab.log")
    try:
        deadline = time.monotonic() + 120
        while _answers(port) is None:
            assert process.poll() is None, (tmp_path / "lab.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "JupyterLab did not answer within 120 s"
            time.sleep(0.5)
        log = (tmp_path / "lab.log").read_text()
        assert f":{port}/lab" in log
        assert "Running as root is not recommended" not in log  # as root (as here in CI), --allow-root was added
    finally:
        _stop_group(process)
        Devnet(tmp_path / "home").reset()  # after the server is gone: a server still stopping would restart it


def test_a_failed_start_leaves_nothing_running(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = _make_lab(tmp_path / "home", port, tmp_path / "lab.log")
        assert process.wait(timeout=180) != 0  # the port is taken: no silent move to another one
    log = (tmp_path / "lab.log").read_text()
    assert str(port) in log
    assert not Devnet(tmp_path / "home").status().running
    if (tmp_path / "home" / "devnet" / "devnet.json").exists():
        pytest.fail("a devnet was left running:\n" + log[-3000:])
