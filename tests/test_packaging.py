"""The wheel ships the prebuilt JupyterLab extension and the config that enables the server extension."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.skipif(not (ROOT / "colearn_jupyter/labextension/package.json").is_file(), reason="extension not built")
def test_wheel_ships_prebuilt_extension_and_server_config(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--quiet", "-w", str(tmp_path)],
        check=True, timeout=600, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("colearn_jupyter-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = "colearn_jupyter-0.1.0.data/data/"
    assert f"{data}share/jupyter/labextensions/@colearn/jupyter/package.json" in names
    assert f"{data}share/jupyter/labextensions/@colearn/jupyter/static/style.js" in names
    assert f"{data}etc/jupyter/jupyter_server_config.d/colearn_jupyter.json" in names
    assert {"colearn_jupyter/artifacts/ModelMarketplace.json", "colearn_jupyter/server/openapi.json"} <= names


def test_extension_is_enabled_in_this_environment():
    listed = subprocess.run(
        [str(Path(sys.executable).with_name("jupyter")), "labextension", "list"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = (listed.stdout + listed.stderr).splitlines()
    line = next((entry for entry in lines if "@colearn/jupyter" in entry), "")
    assert "enabled" in line and "OK" in line, listed.stdout + listed.stderr
