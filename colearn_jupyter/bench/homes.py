"""A throwaway colearn home for a benchmark that goes through the Session API (which reads ``COLEARN_HOME``)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator


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
