"""Settings shared by every face of colearn-jupyter.

Settings come, in order of precedence, from environment variables, from Jupyter's traitlets
configuration (``c.ColearnSettings.rpc_url = ...`` in ``jupyter_server_config.py``), and from defaults.
With no setting at all, everything runs against the embedded devnet.

>>> from colearn_jupyter.config import ColearnSettings
>>> ColearnSettings(rpc_url="http://127.0.0.1:8545").uses_devnet
False
"""

from __future__ import annotations

import os
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir
from traitlets import Bool, Unicode, default
from traitlets.config import Configurable

ENV_RPC_URL = "COLEARN_RPC_URL"
ENV_HOME = "COLEARN_HOME"
ENV_MARKETPLACE = "COLEARN_MARKETPLACE"
ENV_IPFS_URL = "COLEARN_IPFS_URL"
ENV_ACCOUNT = "COLEARN_ACCOUNT"


class ColearnSettings(Configurable):
    """Where colearn-jupyter keeps its state and which chain it talks to."""

    rpc_url = Unicode(
        "",
        config=True,
        help="JSON-RPC URL of the chain to use. Empty means the embedded devnet (anvil), "
        f"started on demand. The environment variable {ENV_RPC_URL} overrides it.",
    )
    marketplace_address = Unicode(
        "",
        config=True,
        help="Address of the marketplace contract on a chain other than the devnet (where it is deployed "
        f"automatically). The environment variable {ENV_MARKETPLACE} overrides it.",
    )
    ipfs_url = Unicode(
        config=True,
        help="URL of an IPFS node's HTTP RPC API (kubo or js-ipfs), e.g. http://127.0.0.1:5001. Empty means the "
        f"embedded content-addressed store. The environment variable {ENV_IPFS_URL} overrides it.",
    )
    account = Unicode(
        config=True,
        help="The account kernels and the server act as by default: a devnet name, a student of the devnet's class, "
        "'env' (the key in COLEARN_PRIVATE_KEY) or the path of a keystore file (password in "
        "COLEARN_KEYSTORE_PASSWORD). Empty means: on the devnet, the student JUPYTERHUB_USER names if there is a "
        "class, else 'owner'; on another chain, no account (the marketplace can be read, not changed). The "
        f"environment variable {ENV_ACCOUNT} overrides it.",
    )
    warm_up = Bool(
        True,
        config=True,
        help="Whether the server extension builds its model index when the server starts (which starts the "
        "devnet if it is the chain in use), so that the sidebar's first listing is instant.",
    )
    home = Unicode(
        config=True,
        help="Directory for devnet state, deployments and locks. Defaults to "
        f"<jupyter data dir>/colearn; the environment variable {ENV_HOME} overrides it.",
    )

    @default("rpc_url")
    def _default_rpc_url(self) -> str:
        return os.environ.get(ENV_RPC_URL, "")

    @default("marketplace_address")
    def _default_marketplace_address(self) -> str:
        return os.environ.get(ENV_MARKETPLACE, "")

    @default("ipfs_url")
    def _default_ipfs_url(self) -> str:
        return os.environ.get(ENV_IPFS_URL, "")

    @default("account")
    def _default_account(self) -> str:
        return os.environ.get(ENV_ACCOUNT, "")

    @default("home")
    def _default_home(self) -> str:
        return os.environ.get(ENV_HOME) or str(Path(jupyter_data_dir()) / "colearn")

    @property
    def uses_devnet(self) -> bool:
        """True when no RPC URL is set and the embedded devnet is used."""
        return not self.rpc_url

    @property
    def home_path(self) -> Path:
        path = Path(self.home).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        return path
