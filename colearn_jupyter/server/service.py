"""The server's core object: one Session (created lazily), the model index, and a thread pool for chain work.

Created once when the extension loads; nothing touches the chain until the first request, so a Jupyter server
starts fast even when the devnet is not running yet.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from ..accounts import Account
from ..chain import Chain
from ..classroom import default_account_name, read_roster
from ..config import ColearnSettings
from ..contributions import model_metadata
from ..errors import AccountError, ColearnError
from ..formats.data import read_csv, read_data
from ..marketplace import WHOLE_FILE, Submission
from ..sandbox import shared_worker
from ..session import CHALLENGE_FIELDS, Session, VerificationReport
from ..units import format_duration, parse_duration
from .index import ModelIndex
from .openapi import RequestError

T = TypeVar("T")
_log = logging.getLogger(__name__)


class ColearnService:
    """Everything the REST handlers need, in one place."""

    def __init__(self, settings: ColearnSettings, root_dir: str, default_account: str | None = None):
        self.settings = settings
        self.root_dir = Path(root_dir).resolve()
        self.default_account = default_account  # None: the configured account, the hub user's, or 'owner'
        self._session: Session | None = None
        self._index: ModelIndex | None = None
        self._lock = threading.RLock()  # `index` creates the session under the same lock
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="colearn")

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking core work off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    @property
    def session(self) -> Session:
        """The session of the account this server acts as; read-only (a watch-only account) when it has none."""
        with self._lock:
            if self._session is None:
                self._session = self._make_session()
            return self._session

    def _make_session(self) -> Session:
        chain = Chain(self.settings)
        home = self.settings.home_path
        name = self.default_account or default_account_name(home, self.settings.account)
        if name is None:
            why = (
                "this server acts as no account: there is a class on this devnet and JUPYTERHUB_USER names none of "
                "its students. Set COLEARN_ACCOUNT (or c.ColearnSettings.account) to your student name, or name an "
                "account in the sidebar's account box"
            )
        else:
            try:
                return Session(chain.account(name), settings=self.settings, chain=chain)
            except AccountError as error:
                why = (
                    f"this server acts as no account on chain {chain.chain_id}, so it shows the marketplace but "
                    f"cannot change it ({error}). Set c.ColearnSettings.account or COLEARN_ACCOUNT to a keystore "
                    f"file (password in COLEARN_KEYSTORE_PASSWORD) and restart the server, or put a keystore in "
                    f"{home / 'keystores'} and name it in the sidebar's account box"
                )
        return Session(Account.watch_only(why), settings=self.settings, chain=chain)

    def as_account(self, account: str | None) -> Session:
        """The server's own session, or, when a request names another account, that account's (an explicit
        choice: on the devnet, a named account or a student; elsewhere, a keystore kept in the colearn home)."""
        if not account or account == self.session.account.name:
            return self.session
        return self.session.as_account(account)

    def acting_as(self, account: str | None) -> Session:
        """:meth:`as_account` for an action: refused at once (403) when that session cannot sign."""
        session = self.as_account(account)
        session.account.refuse_unless_signer()
        return session

    def _challenger(self, account: str | None) -> Session:
        if account:
            return self.acting_as(account)
        devnet_demo = self.session.chain.is_devnet and read_roster(self.settings.home_path) is None
        return self.acting_as("verifier" if devnet_demo else None)

    def warm_up(self) -> None:
        """Build the model index in the background when the server starts, so the first listing is instant.

        Failures are ignored here (no chain yet, say): the first request then builds it, or reports the problem.
        """

        def build() -> None:
            try:
                self.index.sync()
            except Exception as error:  # noqa: BLE001 (a background convenience; requests report real errors)
                _log.info("colearn: the model index will be built on the first request (%s)", error)

        def start_worker() -> None:  # other accounts' models run there: the first verification need not wait
            try:
                shared_worker().start()
            except Exception as error:  # noqa: BLE001 (likewise: the first isolated prediction starts it)
                _log.info("colearn: the model worker will start on the first verification (%s)", error)

        self.executor.submit(build)
        self.executor.submit(start_worker)

    @property
    def index(self) -> ModelIndex:
        with self._lock:
            if self._index is None:
                self._index = ModelIndex(self.session.market)
            return self._index

    # ------------------------------------------------------------------------------------------------ views
    def status(self) -> dict[str, Any]:
        session = self.session
        return {
            "chain": {"devnet": session.chain.is_devnet, "url": session.chain.url, "chain_id": session.chain.chain_id},
            "marketplace": session.market.address,
            "account": {
                "name": session.account.name,
                "address": session.account.address,
                "read_only": not session.account.can_sign,
                "why": "" if session.account.can_sign else session.account._why,
            },
            "time_travel": session.chain.is_local_node,
            "chain_time": session.chain.timestamp(),
            "storage": session.storage.name,
            "pending_verifications": len(session.pending()),
        }

    def models(self, offset: int, limit: int, search: str, sort: str, order: str) -> dict[str, Any]:
        self.index.sync()
        total, page = self.index.page(offset, limit, search, sort, order)
        return {"total": total, "offset": offset, "limit": limit, "models": page}

    def model(self, model_id: int) -> dict[str, Any]:
        self.index.sync()
        summary = self.index.get(model_id)
        if summary is None:
            self.session.market.model(model_id)  # raises the marketplace's "unknown model"
        checks = self.session.accuracy_checks(model_id)  # measured on the revealed test set, stranger's models isolated
        versions = [
            {"version": v.number, "parent": v.parent, "accuracy": v.accuracy, "rows_accepted": v.rows_accepted,
             "published_at": v.published_at, "model_cid": v.model_cid, "evaluation_cid": v.evaluation_cid,
             "measured_accuracy": _plain(checks.loc[v.number, "measured accuracy"]),
             "check": str(checks.loc[v.number, "check"])}
            for v in self.session.market.versions(model_id)
        ]  # fmt: skip
        return {"model": self.index.get(model_id), "versions": versions}

    def contributions(self, model_id: int | None, state: str) -> dict[str, Any]:
        index = self.index.core
        index.sync()
        model_ids = [model_id] if model_id else index.model_ids(sync=False)
        out = [
            contribution(s)
            for mid in model_ids
            for s in index.submissions(mid, sync=False)  # an unknown model is refused as the views refuse it
            if state == "all" or not s.settled
        ]
        return {"contributions": out}

    def contribution(self, submission_id: int) -> dict[str, Any]:
        market = self.session.market
        submission = market.submission(submission_id)
        challenged = {
            log["args"]["rowIndex"]: log["args"]["challengeId"]
            for log in market.contract.events.RowChallenged.get_logs(
                argument_filters={"submissionId": submission_id}, from_block=0
            )
            if log["args"]["rowIndex"] != WHOLE_FILE
        }
        return {
            "contribution": contribution(submission),
            "report": report(self.session.verify(submission_id), challenged),
        }

    def challenges(self, model_id: int | None, status: str) -> dict[str, Any]:
        frame = self.session.challenges(model_id, status=None if status == "all" else status)
        out = []
        fixed = set(CHALLENGE_FIELDS)
        for challenge_id, row in frame.iterrows():
            # the row's decoded values; none for an availability or file challenge, or a model whose metadata is
            # unreadable
            values = {k: _plain(v) for k, v in row.items() if k not in fixed and _plain(v) is not None}
            out.append({"id": int(challenge_id), "model": int(row["model"]), "submission": int(row["submission"]),
                        "row": _row_number(row["row"]), "kind": row["kind"], "status": row["status"],
                        "challenger": row["challenger"], "resolve_by": int(row["resolve by"]),
                        "values": values})  # fmt: skip
        return {"challenges": out}

    def account(self, name: str | None) -> dict[str, Any]:
        session = self.as_account(name)
        market, address = session.market, session.account.address
        return {
            "name": session.account.name,
            "address": address,
            "balance_wei": str(session.chain.balance(address)),
            "locked_wei": str(session.locked_deposits()),
            "claimable_wei": str(market.credit_of(address)),
        }

    # ------------------------------------------------------------------------------------------------ actions
    def contribute_file(self, model_id: int, path: str, account: str | None) -> dict[str, Any]:
        try:
            target = (self.root_dir / path).resolve()
            inside, exists = target.is_relative_to(self.root_dir), target.is_file()
        except (OSError, ValueError) as error:  # e.g. a name too long for the file system
            raise RequestError(f"unusable path: {error}") from None
        if not inside:
            raise RequestError("the path must stay inside the Jupyter server's root directory")
        if not exists:
            raise RequestError(f"there is no file {path[:200]!r} under the server's root directory")
        session = self.acting_as(account)
        schema = model_metadata(session.market, session.storage, model_id).feature_schema
        if target.suffix.lower() == ".parquet":
            frame = read_data(target.read_bytes(), schema)
        elif target.suffix.lower() == ".csv":
            frame = read_csv(target, schema)
        else:
            raise RequestError("contribute a .csv or .parquet file")
        return contribution(session.contribute(model_id, frame))

    def challenge(self, submission_id: int, rows: list[int | None] | None, account: str | None) -> dict[str, Any]:
        return {"challenges": self._challenger(account).challenge(submission_id, rows)}

    def resolve(self, challenge_id: int, verdict: str, account: str | None) -> dict[str, Any]:
        upheld = {"uphold": True, "reject": False, "auto": None}[verdict]
        return {"challenge": challenge_id, "upheld": self.acting_as(account).resolve(challenge_id, upheld)}

    def answer(self, challenge_id: int, account: str | None) -> dict[str, Any]:
        """Produce the row an availability challenge demands, from this server's storage (earns the bond)."""
        session = self.acting_as(account)
        if not session.answer(challenge_id):
            raise NotPossible(_why_not(session, challenge_id, "answer"))
        return {"challenge": challenge_id, "status": session.market.challenge_info(challenge_id).status}

    def expire(self, challenge_id: int, account: str | None) -> dict[str, Any]:
        """Close a challenge past its time-out: a label stands (bond back), an unanswered demand forfeits."""
        session = self.acting_as(account)
        if not session.expire(challenge_id):
            raise NotPossible(_why_not(session, challenge_id, "expire"))
        info = session.market.challenge_info(challenge_id)
        forfeited = session.market.submission(info.submission_id).forfeited
        return {"challenge": challenge_id, "status": info.status, "forfeited": forfeited}

    def claim(self, account: str | None) -> dict[str, Any]:
        return {"withdrawn_wei": str(self.acting_as(account).claim())}

    def retrain(self, model_id: int, account: str | None) -> dict[str, Any]:
        self.acting_as(account).retrain(model_id)
        return self.model(model_id)

    def advance_time(self, duration: str, account: str | None) -> dict[str, Any]:
        """Move the chain's clock forward (:meth:`Session.advance_time`): on the devnet or a development node on this
        machine, and in a class only as the instructor."""
        try:
            seconds = parse_duration(duration)
        except ValueError as error:
            raise RequestError(str(error)) from None
        if not 0 < seconds <= MAX_ADVANCE_SECONDS:
            raise RequestError(f"move the clock by 1 second to {format_duration(MAX_ADVANCE_SECONDS)} at a time")
        session = self.acting_as(account)
        return {"advanced_seconds": seconds, "chain_time": session.advance_time(seconds)}


#: The most one request moves the clock: a year (every window and time-out is at most 30 days).
MAX_ADVANCE_SECONDS = 365 * 86400


class NotPossible(ColearnError):
    """An action the chain's state does not allow now (a 409)."""


def _why_not(session: Session, challenge_id: int, action: str) -> str:
    """Why ``session.answer``/``session.expire`` left a challenge alone, read from the chain."""
    info = session.market.challenge_info(challenge_id)  # an unknown id raises the marketplace's "unknown challenge"
    if info.status != "pending":
        return f"challenge {challenge_id} is already settled ({info.status})"
    until = datetime.fromtimestamp(info.resolve_by, tz=timezone.utc)
    if action == "answer":
        if info.kind != "availability":
            return f"challenge {challenge_id} is a {info.kind} challenge: only availability challenges are answered"
        if info.resolve_by < session.chain.timestamp():
            return f"challenge {challenge_id} had to be answered by {until:%Y-%m-%d %H:%M:%S} UTC; expire it now"
        return (
            f"the file of submission {info.submission_id} is not in this server's storage or does not match its "
            "commitment, so the demanded row cannot be produced here"
        )
    return f"challenge {challenge_id} may be settled until {until:%Y-%m-%d %H:%M:%S} UTC; it can't expire before"


def contribution(submission: Submission) -> dict[str, Any]:
    return {
        "id": submission.id,
        "model": submission.model_id,
        "contributor": submission.contributor,
        "rows": submission.row_count,
        "data_cid": submission.data_cid,
        "window_ends_at": submission.window_ends_at,
        "open_challenges": submission.open_challenges,
        "rows_rejected": submission.rows_rejected,
        "claimed": submission.claimed,
        "forfeited": submission.forfeited,
        "file_judged": submission.file_judged,
    }


def report(result: VerificationReport, challenged: dict[int, int] | None = None) -> dict[str, Any]:
    """A verification report as JSON; ``challenged`` maps row numbers to the latest challenge raised on them.

    Every row has its ``verdict``, its objective ``fault`` and what it is a ``copy_of`` (or null), and the
    ``challenge`` kind verify would use for it (or null); ``plan`` lists the challenges worth making.
    """
    challenged = challenged or {}
    rows = [
        {"row": int(index), "label": _plain(row["label"]), "predicted": _plain(row["predicted"]),
         "fault": row["fault"] or None, "copy_of": row["copy of"] or None, "challenge": row["challenge"] or None,
         "verdict": row["verdict"], "challenge_id": challenged.get(int(index))}
        for index, row in result.rows.iterrows()
    ]  # fmt: skip
    return {
        "cid_ok": result.cid_ok,
        "count_ok": result.count_ok,
        "root_ok": result.root_ok,
        "schema_ok": result.schema_ok,
        "problem": result.problem,
        "rows": rows,
        "plan": [{"row": None if row is None else int(row), "kind": kind} for row, kind in result.plan],
        "suggested": [None if i is None else int(i) for i in result.suggested],
    }


def _row_number(value: Any) -> int | None:
    """A challenge's row as JSON: null for a challenge of the whole file."""
    try:
        return int(value)
    except (TypeError, ValueError):  # None, NaN or pandas' NA
        return None


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
