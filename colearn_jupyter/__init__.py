"""colearn-jupyter: collaborative, data-centric machine learning with integrity assurance, inside Jupyter.

The core API is usable from any Python script; the ``%colearn`` magics, widgets, REST handlers and the
``colearn`` command line are thin faces over it.

>>> from colearn_jupyter import Chain, Marketplace          # doctest: +SKIP
>>> market = Marketplace.connect(Chain())                    # the embedded devnet, started on demand
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from . import ethimports
from ._version import __version__

# web3's first import, whenever it comes, skips py_ecc's BLS tables (half a second of the first call).
ethimports.install()

# Public names and their modules, imported on first use so that loading the server extension stays fast.
_EXPORTS = {
    "Account": "accounts",
    "devnet_account": "accounts",
    "load_account": "accounts",
    "Chain": "chain",
    "ColearnSettings": "config",
    "ContributionIncomplete": "contributions",
    "Devnet": "devnet",
    "AccountError": "errors",
    "ChainError": "errors",
    "ColearnError": "errors",
    "DevnetError": "errors",
    "MarketplaceError": "errors",
    "TransactionInDoubt": "errors",
    "TransactionRefused": "errors",
    "Marketplace": "marketplace",
    "Terms": "marketplace",
    "Session": "session",
}

if TYPE_CHECKING:
    from .accounts import Account, devnet_account, load_account
    from .chain import Chain
    from .config import ColearnSettings
    from .contributions import ContributionIncomplete
    from .devnet import Devnet
    from .errors import (
        AccountError,
        ChainError,
        ColearnError,
        DevnetError,
        MarketplaceError,
        TransactionInDoubt,
        TransactionRefused,
    )
    from .marketplace import Marketplace, Terms
    from .session import Session


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "colearn_jupyter"}]


def _load_jupyter_server_extension(server_app) -> None:
    from .server import load

    load(server_app)


def load_ipython_extension(ipython) -> None:
    """Register the ``%colearn`` magics: ``%load_ext colearn_jupyter``."""
    from .magics import load_ipython_extension as load

    load(ipython)


__all__ = [
    "Account",
    "AccountError",
    "Chain",
    "ChainError",
    "ColearnError",
    "ColearnSettings",
    "ContributionIncomplete",
    "Devnet",
    "DevnetError",
    "Marketplace",
    "MarketplaceError",
    "Session",
    "Terms",
    "TransactionInDoubt",
    "TransactionRefused",
    "__version__",
    "devnet_account",
    "load_account",
]
