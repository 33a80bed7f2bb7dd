"""Compiled contracts shipped inside the package, and the check that they match their sources.

``scripts/build-contracts.mjs`` compiles ``contracts/src`` with the pinned solc-js and writes
``colearn_jupyter/artifacts/<Name>.json`` with the ABI, the bytecode and ``sourcesSha256``, a digest of the
sources computed by :func:`sources_sha256`. A test recomputes the digest to catch stale artifacts.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

ARTIFACTS_DIR = Path(__file__).parent / "artifacts"


@cache
def load_artifact(name: str = "ModelMarketplace") -> dict[str, Any]:
    """The artifact of a contract: ``abi``, ``bytecode``, ``deployedBytecode``, ``compiler``, ``sourcesSha256``."""
    return json.loads((ARTIFACTS_DIR / f"{name}.json").read_text())


def sources_sha256(src_dir: str | Path) -> str:
    """SHA-256 over every ``.sol`` file under ``src_dir``: sorted relative path, NUL, bytes, NUL, for each."""
    root = Path(src_dir)
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.sol"), key=lambda p: p.relative_to(root).as_posix()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
