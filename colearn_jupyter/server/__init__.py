"""The Jupyter server extension: the core API over REST under ``/colearn/api/``."""

from __future__ import annotations

from .handlers import setup_handlers


def load(server_app) -> None:
    """Called by jupyter_server when the extension loads (enabled by ``jupyter-config`` on install)."""
    setup_handlers(server_app)
    server_app.log.info("colearn-jupyter server extension loaded under /colearn/api/")


def unload(server_app) -> None:
    """Called by jupyter_server when the server stops: the service's background work ends with it (work queued and
    not started is dropped), so nothing of this server reaches the chain afterwards (a warm-up that ran late would
    start the devnet again after it was stopped)."""
    service = server_app.web_app.settings.get("colearn_service")
    if service is not None:
        service.close()
