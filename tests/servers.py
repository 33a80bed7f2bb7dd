"""The Jupyter server every test of the server extension starts (through pytest-jupyter's ``jp_serverapp``)."""

from __future__ import annotations

from typing import Any


def server_config(**colearn_settings: Any) -> dict[str, Any]:
    """colearn's server extension enabled, every request authenticated; ``colearn_settings`` go to
    :class:`~colearn_jupyter.config.ColearnSettings` (e.g. ``account="ada"``).

    >>> server_config(account="ada")["ColearnSettings"]
    {'account': 'ada'}
    """
    config: dict[str, Any] = {
        "ServerApp": {"jpserver_extensions": {"colearn_jupyter": True}, "allow_unauthenticated_access": False}
    }
    if colearn_settings:
        config["ColearnSettings"] = colearn_settings
    return config
