"""Wheel build hook: the wheel carries the devnet's node, anvil, as ruff's and uv's wheels carry their binaries.

When hatchling builds a (non-editable) wheel, this hook copies the anvil binary that ``npm ci`` put in
``node_modules/@foundry-rs/anvil-<os>-<cpu>/bin/anvil`` into the wheel as ``colearn_jupyter/bin/anvil`` (mode 755,
so it stays executable once installed) and tags the wheel for the platform the binary runs on, e.g.
``py3-none-manylinux_2_35_x86_64`` (any Python 3; the glibc version is the newest one the binary asks for). Then
``pip install colearn-jupyter`` alone gives a working devnet: ``find_anvil()`` looks in the package's own ``bin``
right after ``$COLEARN_ANVIL``.

Without an anvil in ``node_modules`` (an sdist built into a wheel, a machine without ``npm ci``), the wheel is pure
Python (``py3-none-any``) and the build says so in a warning: such an installation needs anvil on ``PATH`` or in
``$COLEARN_ANVIL``. ``COLEARN_WHEEL_ANVIL`` chooses:

- unset or ``auto``: carry anvil when ``node_modules`` has it, else build a pure wheel with a warning;
- ``required``: carry anvil, or fail the build saying what to do (for release builds);
- ``none``: build a pure wheel without anvil, deliberately.

Editable installs (``pip install -e .``, what ``make install`` does) carry nothing: they find the binary in
``node_modules`` beside the checkout.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: npm's anvil packages this hook knows, and the wheel platform (without its glibc part) of each.
ANVIL_PACKAGES = {
    "anvil-linux-amd64": "x86_64",
    "anvil-linux-arm64": "aarch64",
}
PACKAGED_PATH = "colearn_jupyter/bin/anvil"
MODES = ("auto", "required", "none")


class AnvilBuildError(RuntimeError):
    """The build was asked to carry anvil and cannot."""


class AnvilHook(BuildHookInterface):
    PLUGIN_NAME = "colearn-anvil"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        mode = os.environ.get("COLEARN_WHEEL_ANVIL", "auto").strip().lower() or "auto"
        if mode not in MODES:
            raise AnvilBuildError(f"COLEARN_WHEEL_ANVIL is {mode!r}; it must be one of {', '.join(MODES)}")
        if mode == "none":
            self.app.display_info("colearn: COLEARN_WHEEL_ANVIL=none: a pure Python wheel without anvil")
            return
        found = find_npm_anvil(Path(self.root))
        if found is None:
            why = (
                "no anvil binary in node_modules/@foundry-rs/anvil-linux-<cpu>/bin/ (run `npm ci` in the checkout, "
                "or `make install`)"
            )
            if mode == "required":
                raise AnvilBuildError(f"COLEARN_WHEEL_ANVIL=required, but there is {why}")
            self.app.display_warning(
                f"colearn: {why}; building a pure Python wheel WITHOUT anvil. Whoever installs it needs anvil on "
                "PATH or in COLEARN_ANVIL for the embedded devnet (or COLEARN_RPC_URL for another chain)."
            )
            return
        binary, cpu = found
        if not binary.stat().st_mode & stat.S_IXUSR:
            raise AnvilBuildError(f"{binary} is not executable: reinstall it with `npm ci`")
        tag = f"py3-none-{platform_tag(binary, cpu)}"
        build_data["force_include"][str(binary)] = PACKAGED_PATH
        build_data["pure_python"] = False
        build_data["tag"] = tag
        size = binary.stat().st_size / 1e6
        self.app.display_info(f"colearn: the wheel carries anvil ({binary}, {size:.0f} MB) as {PACKAGED_PATH}: {tag}")


def find_npm_anvil(root: Path) -> tuple[Path, str] | None:
    """The anvil binary of the first npm package in :data:`ANVIL_PACKAGES` found under ``root``, and its CPU."""
    for package, cpu in ANVIL_PACKAGES.items():
        binary = root / "node_modules" / "@foundry-rs" / package / "bin" / "anvil"
        if binary.is_file():
            return binary, cpu
    return None


def platform_tag(binary: Path, cpu: str) -> str:
    """``manylinux_<glibc>_<cpu>`` for a binary that needs glibc (the newest symbol version it names), otherwise
    ``linux_<cpu>``."""
    versions = {(int(major), int(minor)) for major, minor in re.findall(rb"GLIBC_(\d+)\.(\d+)", binary.read_bytes())}
    if not versions:
        return f"linux_{cpu}"
    major, minor = max(versions)
    return f"manylinux_{major}_{minor}_{cpu}"
