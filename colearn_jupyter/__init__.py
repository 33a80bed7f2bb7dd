"""colearn-jupyter: collaborative, data-centric machine learning with integrity assurance, inside Jupyter.

The core API is usable from any Python script; the ``%colearn`` magics, widgets, REST handlers and the
``colearn`` command line are thin faces over it.

>>> from colearn_jupyter import Chain, Marketplace          # doctest: +SKIP
>>> market = Marketplace.connect(Chain())                    # the embedded devnet, started on demand
"""

from ._version import __version__
from .accounts import Account, devnet_account, load_account
from .chain import Chain
from .config import ColearnSettings
from .devnet import Devnet
from .errors import AccountError, ChainError, ColearnError, DevnetError, MarketplaceError
from .marketplace import Marketplace, Terms



def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "colearn_jupyter"}]


def _load_jupyter_server_extension(server_app) -> None:
    from .server import load

    load(server_app)


__all__ = [
    "Account",
    "AccountError",
    "Chain",
    "ChainError",
    "ColearnError",
    "ColearnSettings",
    "Devnet",
    "DevnetError",
    "Marketplace",
    "MarketplaceError",
    "Terms",
    "__version__",
    "devnet_account",
    "load_account",
]
