"""A devnet of its own with a class on it, for the tests that need one: a class changes who a kernel acts as by
default and who may move the clock, so it must not touch the devnet the other tests share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from colearn_jupyter import Chain, ColearnSettings
from colearn_jupyter.cli import main as cli


@contextmanager
def class_devnet(home: Path, students: int, eth: int) -> Iterator[Chain]:
    """COLEARN_HOME set to ``home`` (no COLEARN_ACCOUNT, no JUPYTERHUB_USER), its devnet, and a class of
    ``students`` (student01...) funded with ``eth`` each by ``colearn class create``; the devnet is removed after."""
    patch = pytest.MonkeyPatch()
    patch.setenv("COLEARN_HOME", str(home))
    patch.delenv("COLEARN_ACCOUNT", raising=False)
    patch.delenv("JUPYTERHUB_USER", raising=False)
    chain = Chain(ColearnSettings())
    try:
        assert cli(["class", "create", "--students", str(students), "--eth", str(eth)]) == 0
        yield chain
    finally:
        chain.devnet.reset()
        patch.undo()
