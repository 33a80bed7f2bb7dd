"""REST handlers: thin faces over the core API, each on ``APIHandler`` and authenticated."""

from __future__ import annotations

import json
from dataclasses import asdict

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .._version import __version__
from ..config import ColearnSettings
from ..devnet import Devnet


class StatusHandler(APIHandler):
    """``GET /colearn/api/status``: which chain is used and whether the devnet runs. Never starts anything."""

    @tornado.web.authenticated
    def get(self) -> None:
        settings: ColearnSettings = self.settings["colearn_settings"]
        body: dict[str, object] = {"version": __version__, "uses_devnet": settings.uses_devnet}
        if settings.uses_devnet:
            body["devnet"] = asdict(Devnet(settings.home_path).status())
        else:
            body["rpc_url"] = settings.rpc_url
        self.finish(json.dumps(body))


def setup_handlers(server_app) -> None:
    web_app = server_app.web_app
    web_app.settings["colearn_settings"] = ColearnSettings(parent=server_app)
    base = web_app.settings["base_url"]
    web_app.add_handlers(".*$", [(url_path_join(base, "colearn", "api", "status"), StatusHandler)])
