"""The Jupyter server extension: the core API over REST under ``/colearn/api/``."""

from __future__ import annotations

from .handlers import setup_handlers


def load(server_app) -> None:
    """Called by jupyter_server when the extension loads (enabled by ``jupyter-config`` on install)."""
    setup_handlers(server_app)
    server_app.log.info("colearn-jupyter server extension loaded under /colearn/api/")
