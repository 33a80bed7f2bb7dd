"""Content-addressed storage of models and data files: a real IPFS node, or the embedded store."""

from __future__ import annotations

from ..config import ColearnSettings
from .base import Storage
from .embedded import EmbeddedStorage
from .ipfs import IpfsError, IpfsStorage
from .unixfs import IntegrityError, MissingContentError


def open_storage(settings: ColearnSettings | None = None) -> Storage:
    """The IPFS node of ``settings.ipfs_url`` when one is configured, else the embedded store of the home."""
    settings = settings or ColearnSettings()
    if settings.ipfs_url:
        return IpfsStorage(settings.ipfs_url)
    return EmbeddedStorage(settings.home_path)


__all__ = [
    "EmbeddedStorage",
    "IntegrityError",
    "IpfsError",
    "IpfsStorage",
    "MissingContentError",
    "Storage",
    "open_storage",
]
