"""REST handlers: thin faces over :class:`ColearnService`, each on ``APIHandler`` and authenticated.

Every request is validated against the OpenAPI document shipped beside this module; errors come back as JSON
``{"message", "code"}`` with a status the UI can act on (see the document's description). A request body is read
only up to :data:`MAX_BODY_BYTES` (a larger one is refused with 413 from its ``Content-Length`` before it is read,
or as soon as it grows past the limit), and no message echoes more than a few hundred characters of any input.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import tornado.iostream
import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .._version import __version__
from ..config import ColearnSettings
from ..devnet import Devnet
from ..errors import (
    AccountError,
    ChainError,
    ClockRefused,
    ColearnError,
    DevnetError,
    MarketplaceError,
    NoAccountError,
)
from ..rpcerrors import NodeRefusal
from ..storage import IpfsError
from . import openapi
from .service import ColearnService


def _status_for(error: Exception) -> int:
    if isinstance(error, NoAccountError):
        return 403
    if isinstance(error, (openapi.RequestError, AccountError)):
        return 400
    if isinstance(error, MarketplaceError) and error.name.startswith("Unknown"):
        return 404
    if isinstance(error, (NodeRefusal, ClockRefused)):  # the node answered and refused, or may not: not an outage
        return 409
    if isinstance(error, (ChainError, DevnetError, IpfsError)):
        return 503
    return 409


Action = Callable[[dict[str, Any], dict[str, Any]], tuple[Callable[..., Any], tuple[Any, ...]]]

#: The largest request body read (every body the API takes is a small JSON object).
MAX_BODY_BYTES = 64 * 1024
#: The longest error message sent back: none echoes a large input.
MAX_MESSAGE_CHARS = 1000


class BodyTooLarge(openapi.RequestError):
    """A request body beyond :data:`MAX_BODY_BYTES` (a 413)."""


def _too_large() -> str:
    return f"the request body is larger than the {MAX_BODY_BYTES:,} bytes this API reads"


def _bounded(message: str) -> str:
    """``message``, cut to :data:`MAX_MESSAGE_CHARS` with a note of how much was left out."""
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 30] + f"... ({len(message) - MAX_MESSAGE_CHARS + 30:,} more)"
    return message


@tornado.web.stream_request_body
class ColearnHandler(APIHandler):
    """Base handler: the service, validation against the OpenAPI document, a bounded body, and JSON errors."""

    #: The OpenAPI path this handler serves, e.g. ``"/models/{modelId}"``.
    spec_path = ""

    async def prepare(self) -> None:
        await super().prepare()
        if self._finished:
            return
        self._body_parts: list[bytes] = []
        self._body_size = 0
        declared = self.request.headers.get("Content-Length", "0")
        if not (declared.isascii() and declared.isdigit()) or int(declared[:20]) > MAX_BODY_BYTES:
            self.refuse(BodyTooLarge(_too_large()))  # before any of it is read (then the connection is closed)

    def data_received(self, chunk: bytes) -> None:
        """Keep the body while it is within the limit; past it, drop every chunk (answered 413 once read)."""
        self._body_size += len(chunk)
        if self._body_size <= MAX_BODY_BYTES:
            self._body_parts.append(chunk)
        else:
            self._body_parts.clear()

    @property
    def body(self) -> bytes:
        if self._body_size > MAX_BODY_BYTES:
            raise BodyTooLarge(_too_large())
        return b"".join(self._body_parts)

    @property
    def service(self) -> ColearnService:
        return self.settings["colearn_service"]

    def refuse(self, error: ColearnError) -> None:
        self.set_status(413 if isinstance(error, BodyTooLarge) else _status_for(error))
        self.finish(json.dumps({"message": _bounded(str(error)), "code": type(error).__name__}))

    async def dispatch(self, method: str, action: Action, *, status: int = 200, **path_args: str) -> None:
        """Validate the request, run ``action``'s core call off the event loop, and answer with its JSON."""
        try:
            query = {k: self.get_query_argument(k) for k in self.request.query_arguments}
            params = openapi.parameters(self.spec_path, method, query, path_args)
            body = openapi.body(self.spec_path, method, self.body)
            function, args = action(params, body)
            result = await self.service.run(function, *args)
        except ColearnError as error:
            return self.refuse(error)
        self.set_status(status)
        self.finish(json.dumps(result))


class StatusHandler(ColearnHandler):
    spec_path = "/status"

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.dispatch("get", lambda p, b: (self._status, ()))

    def _status(self) -> dict[str, Any]:
        settings = self.service.settings
        out: dict[str, Any] = {"version": __version__, "storage": "ipfs" if settings.ipfs_url else "embedded"}
        try:
            return {**out, **self.service.status()}
        except (ChainError, DevnetError) as error:  # still answer: the UI shows what is wrong
            url = settings.rpc_url or (Devnet(settings.home_path).url or "" if settings.uses_devnet else "")
            chain = {"devnet": settings.uses_devnet, "url": url, "chain_id": 0}
            return {**out, "chain": chain, "account": {"name": "", "address": ""}, "pending_verifications": 0,
                    "error": str(error)}  # fmt: skip


class ModelsHandler(ColearnHandler):
    spec_path = "/models"

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.dispatch(
            "get", lambda p, b: (self.service.models, (p["offset"], p["limit"], p["search"], p["sort"], p["order"]))
        )


class ModelHandler(ColearnHandler):
    spec_path = "/models/{modelId}"

    @tornado.web.authenticated
    async def get(self, model_id: str) -> None:
        await self.dispatch("get", lambda p, b: (self.service.model, (p["modelId"],)), modelId=model_id)


class VersionsHandler(ColearnHandler):
    spec_path = "/models/{modelId}/versions"

    @tornado.web.authenticated
    async def post(self, model_id: str) -> None:
        action: Action = lambda p, b: (self.service.retrain, (p["modelId"], b.get("account")))  # noqa: E731
        await self.dispatch("post", action, status=201, modelId=model_id)


class ContributionsHandler(ColearnHandler):
    spec_path = "/contributions"

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.dispatch("get", lambda p, b: (self.service.contributions, (p.get("model"), p["state"])))

    @tornado.web.authenticated
    async def post(self) -> None:
        action: Action = lambda p, b: (self.service.contribute_file, (b["model"], b["path"], b.get("account")))  # noqa: E731
        await self.dispatch("post", action, status=201)


class ContributionHandler(ColearnHandler):
    spec_path = "/contributions/{submissionId}"

    @tornado.web.authenticated
    async def get(self, submission_id: str) -> None:
        action: Action = lambda p, b: (self.service.contribution, (p["submissionId"],))  # noqa: E731
        await self.dispatch("get", action, submissionId=submission_id)


class ChallengesHandler(ColearnHandler):
    spec_path = "/challenges"

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.dispatch("get", lambda p, b: (self.service.challenges, (p.get("model"), p["status"])))

    @tornado.web.authenticated
    async def post(self) -> None:
        action: Action = lambda p, b: (self.service.challenge, (b["submission"], b.get("rows"), b.get("account")))  # noqa: E731
        await self.dispatch("post", action, status=201)


class ResolveHandler(ColearnHandler):
    spec_path = "/challenges/{challengeId}/resolve"

    @tornado.web.authenticated
    async def post(self, challenge_id: str) -> None:
        action: Action = lambda p, b: (self.service.resolve, (p["challengeId"], b["verdict"], b.get("account")))  # noqa: E731
        await self.dispatch("post", action, challengeId=challenge_id)


class AnswerHandler(ColearnHandler):
    spec_path = "/challenges/{challengeId}/answer"

    @tornado.web.authenticated
    async def post(self, challenge_id: str) -> None:
        action: Action = lambda p, b: (self.service.answer, (p["challengeId"], b.get("account")))  # noqa: E731
        await self.dispatch("post", action, challengeId=challenge_id)


class ExpireHandler(ColearnHandler):
    spec_path = "/challenges/{challengeId}/expire"

    @tornado.web.authenticated
    async def post(self, challenge_id: str) -> None:
        action: Action = lambda p, b: (self.service.expire, (p["challengeId"], b.get("account")))  # noqa: E731
        await self.dispatch("post", action, challengeId=challenge_id)


class AccountHandler(ColearnHandler):
    spec_path = "/account"

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.dispatch("get", lambda p, b: (self.service.account, (p.get("account"),)))


class ClaimsHandler(ColearnHandler):
    spec_path = "/claims"

    @tornado.web.authenticated
    async def post(self) -> None:
        await self.dispatch("post", lambda p, b: (self.service.claim, (b.get("account"),)))


class TimeHandler(ColearnHandler):
    spec_path = "/time/advance"

    @tornado.web.authenticated
    async def post(self) -> None:
        await self.dispatch("post", lambda p, b: (self.service.advance_time, (b["duration"], b.get("account"))))


class EventsHandler(ColearnHandler):
    """Server-sent events: marketplace events as JSON, one per ``data:`` line, polled once a second.

    When the chain cannot be reached (no devnet: anvil missing, a node that does not answer), the stream stays open
    and says so once, as ``event: error`` with ``data: {"message", "code"}`` (the error's own words), and logs one
    line; it then tries again quietly, backing off up to :attr:`max_backoff_seconds`, and streams the events from
    where it was once the chain answers. It never ends in a traceback.
    """

    spec_path = "/events"
    poll_seconds = 1.0
    first_backoff_seconds = 2.0
    max_backoff_seconds = 30.0
    #: How long a browser waits before reconnecting by itself if the stream ends (the ``retry:`` field).
    retry_ms = 10_000

    @tornado.web.authenticated
    async def get(self) -> None:
        try:
            query = {k: self.get_query_argument(k) for k in self.request.query_arguments}
            openapi.parameters(self.spec_path, "get", query, {})
        except ColearnError as error:
            return self.refuse(error)
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.write(": colearn events\n\n")
        position: int | None = None  # the last block this stream has sent the events of
        failing: str | None = None  # the failure this stream has reported, while it lasts
        backoff = self.first_backoff_seconds
        try:
            await self.flush()
            while not self.request.connection.stream.closed():
                try:
                    position, events = await self.service.run(self._poll, position)
                except Exception as error:  # noqa: BLE001 (reported to the client; the stream keeps trying)
                    message = _bounded(str(error) or type(error).__name__)
                    if failing is None:
                        payload = {"message": message, "code": type(error).__name__}
                        self.write(f"retry: {self.retry_ms}\nevent: error\ndata: {json.dumps(payload)}\n\n")
                        self._log_failure(error, message)
                    else:
                        self.write(": the chain does not answer yet\n\n")  # finds a closed connection
                    failing = message
                    await self.flush()
                    await self._pause(backoff)
                    backoff = min(2 * backoff, self.max_backoff_seconds)
                    continue
                if failing is not None:
                    self.log.info("colearn events: the chain answers again")
                    self.settings.get("colearn_events_failures", set()).discard(failing)
                    failing, backoff = None, self.first_backoff_seconds
                for event in events:
                    payload = {"name": event.name, "block": event.block_number, "args": event.args}
                    self.write(f"event: {event.name}\ndata: {json.dumps(payload, default=str)}\n\n")
                await self.flush()
                await self._pause(self.poll_seconds)
        except tornado.iostream.StreamClosedError:
            pass
        finally:
            if not self._finished:
                self.finish()

    def _poll(self, position: int | None) -> tuple[int, list]:
        """Off the event loop: the events mined after ``position`` and the new position (at first, the head)."""
        market = self.service.session.market
        if position is None:
            return market.chain.w3.eth.block_number, []
        return _events_after(market, position)

    def _log_failure(self, error: Exception, message: str) -> None:
        """One line for a failure, the first time this server sees it (not once per stream or per retry)."""
        seen: set[str] = self.settings.setdefault("colearn_events_failures", set())
        if message in seen:
            return
        seen.add(message)
        self.log.warning("colearn events: the chain does not answer (%s: %s)", type(error).__name__, message)
        if not isinstance(error, ColearnError):
            self.log.debug("colearn events: unexpected failure", exc_info=error)

    async def _pause(self, seconds: float) -> None:
        """Sleep, waking up early when the client goes away."""
        stream = self.request.connection.stream
        deadline = asyncio.get_running_loop().time() + seconds
        while not stream.closed():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            await asyncio.sleep(min(left, 1.0))


def _events_after(market, block: int) -> tuple[int, list]:
    """This stream's own cursor: the events mined after ``block``, and the new position."""
    latest = market.chain.w3.eth.block_number
    if latest <= block:
        return block, []
    return latest, market.events(block + 1, latest)


ROUTES = [
    ("status", StatusHandler),
    ("models", ModelsHandler),
    (r"models/([^/]+)", ModelHandler),
    (r"models/([^/]+)/versions", VersionsHandler),
    ("contributions", ContributionsHandler),
    (r"contributions/([^/]+)", ContributionHandler),
    ("challenges", ChallengesHandler),
    (r"challenges/([^/]+)/resolve", ResolveHandler),
    (r"challenges/([^/]+)/answer", AnswerHandler),
    (r"challenges/([^/]+)/expire", ExpireHandler),
    ("account", AccountHandler),
    ("claims", ClaimsHandler),
    ("time/advance", TimeHandler),
    ("events", EventsHandler),
    ("openapi.json", None),
]


class OpenAPIHandler(ColearnHandler):
    """``GET /colearn/api/openapi.json``: the published API document."""

    @tornado.web.authenticated
    def get(self) -> None:
        self.finish(json.dumps(openapi.document()))


def setup_handlers(server_app) -> None:
    web_app = server_app.web_app
    settings = ColearnSettings(parent=server_app)
    web_app.settings["colearn_settings"] = settings
    service = ColearnService(settings, server_app.root_dir)
    web_app.settings["colearn_service"] = service
    if settings.warm_up:
        service.warm_up()
    base = url_path_join(web_app.settings["base_url"], "colearn", "api")
    handlers = [(url_path_join(base, path) + "$", handler or OpenAPIHandler) for path, handler in ROUTES]
    web_app.add_handlers(".*$", handlers)
