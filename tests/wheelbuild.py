"""The project's wheel, built once per test run and shared by tests/test_packaging.py and tests/test_wheel.py."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
EXTENSION_BUILT = (ROOT / "colearn_jupyter/labextension/package.json").is_file()


@functools.cache
def build_wheel() -> Path:
    """``pip wheel`` of the checkout, as a release would build it: it must carry anvil (``COLEARN_WHEEL_ANVIL``
    is ``required``, so a missing ``node_modules`` fails the build instead of giving a pure wheel)."""
    out = Path(tempfile.mkdtemp(prefix="colearn-wheel-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--quiet", "-w", str(out)],
        env={**os.environ, "COLEARN_WHEEL_ANVIL": "required"}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if built.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{built.stdout[-3000:]}\n{built.stderr[-3000:]}")
    (wheel,) = out.glob("colearn_jupyter-*.whl")
    return wheel
