"""Writing files so that a crash leaves either the old content or the new one, on disk: never half of it.

>>> from pathlib import Path
>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "state.json"
>>> write_atomically(path, b"{}")
>>> path.read_bytes()
b'{}'
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a folder's entries (a file created, renamed or removed in it) durable."""
    fd = os.open(path, os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data``: written to a temporary file beside it, fsynced, renamed over it, and the
    folder fsynced, so readers see the old file or the new one, and a crash after the call keeps the new one."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    fsync_dir(target.parent)
