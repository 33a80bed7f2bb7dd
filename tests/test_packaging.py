"""The wheel ships the prebuilt JupyterLab extension, the config that enables the server extension, and anvil."""

from __future__ import annotations

import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.tags import parse_tag
from wheelbuild import EXTENSION_BUILT, ROOT, build_wheel


@pytest.mark.skipif(not EXTENSION_BUILT, reason="extension not built")
def test_wheel_ships_prebuilt_extension_server_config_and_anvil():
    wheel = build_wheel()
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    data = "colearn_jupyter-0.1.0.data/data/"
    assert f"{data}share/jupyter/labextensions/@colearn/jupyter/package.json" in names
    assert f"{data}share/jupyter/labextensions/@colearn/jupyter/static/style.js" in names
    assert f"{data}etc/jupyter/jupyter_server_config.d/colearn_jupyter.json" in names
    assert {"colearn_jupyter/artifacts/ModelMarketplace.json", "colearn_jupyter/server/openapi.json"} <= names

    # anvil, executable, byte for byte the one npm installed
    anvil = archive.getinfo("colearn_jupyter/bin/anvil")
    npm_anvil = ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
    assert stat.S_IMODE(anvil.external_attr >> 16) == 0o755
    assert anvil.file_size == npm_anvil.stat().st_size
    # a platform wheel (any Python 3), never `any`: it says so in its name and in WHEEL
    tag = wheel.name.removesuffix(".whl").split("-", 2)[2]
    assert tag.startswith("py3-none-manylinux_2_") and tag.endswith("_x86_64"), tag
    assert all(t.platform != "any" for t in parse_tag(tag))
    wheel_file = archive.read("colearn_jupyter-0.1.0.dist-info/WHEEL").decode()
    assert f"Tag: {tag}" in wheel_file and "Root-Is-Purelib: false" in wheel_file
    # and what a default install brings: JupyterLab and a kernel
    metadata = archive.read("colearn_jupyter-0.1.0.dist-info/METADATA").decode()
    requires = [line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist: ")]
    defaults = {r.split(">")[0].split("<")[0].split("=")[0].strip() for r in requires if "extra ==" not in r}
    assert {"jupyterlab", "ipykernel"} <= defaults, requires


def test_extension_is_enabled_in_this_environment():
    listed = subprocess.run(
        [str(Path(sys.executable).with_name("jupyter")), "labextension", "list"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = (listed.stdout + listed.stderr).splitlines()
    line = next((entry for entry in lines if "@colearn/jupyter" in entry), "")
    assert "enabled" in line and "OK" in line, listed.stdout + listed.stderr
