"""Throwaway colearn homes for benchmarks: one set as ``COLEARN_HOME`` (for the Session API, which reads it), or a
private devnet and its chain."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..chain import Chain


@contextlib.contextmanager
def throwaway_home(prefix: str) -> Iterator[str]:
    """A temporary home set as ``COLEARN_HOME`` (so forked processes find the same devnet); afterwards its devnet is
    stopped and removed and the variable restored."""
    from ..devnet import Devnet

    with tempfile.TemporaryDirectory(prefix=prefix) as home:
        previous = os.environ.get("COLEARN_HOME")
        os.environ["COLEARN_HOME"] = home
        try:
            yield home
        finally:
            Devnet(home).reset()
            if previous is None:
                os.environ.pop("COLEARN_HOME", None)
            else:
                os.environ["COLEARN_HOME"] = previous


@contextlib.contextmanager
def throwaway_devnet(prefix: str) -> Iterator[tuple[str, Chain]]:
    """A temporary home and a chain on its own devnet (``COLEARN_HOME`` untouched); afterwards the devnet is stopped
    and the home removed."""
    from ..chain import Chain
    from ..config import ColearnSettings

    with tempfile.TemporaryDirectory(prefix=prefix) as home:
        chain = Chain(ColearnSettings(home=home, rpc_url=""))
        try:
            yield home, chain
        finally:
            if chain.devnet is not None:
                chain.devnet.reset()
