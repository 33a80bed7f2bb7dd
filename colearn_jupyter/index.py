"""The marketplace as every process of one colearn home knows it: models, versions and submissions, fed from events.

Listing models, and the submissions a contribution checks for duplicates, used to cost every process one RPC
listing each time (growing with the marketplace). :class:`MarketIndex` keeps them in a SQLite database of the home
(``<home>/index/market.sqlite``, WAL mode, see :mod:`.homedb`), shared by the kernels, the server and the CLI:

* a sync reads the marketplace's events mined since the block the index was synced to (one log query), and reads
  again with the views (one call per page) only the models and submissions those events name; the first sync of a
  market reads them all. The index never records what an event says about a model's or submission's state without
  reading it back from the views, validated by :class:`~colearn_jupyter.marketplace.Marketplace` as any read is;
* what a sync read is written in one transaction, with the block (number and hash) it reached, and only if no other
  process wrote in between (otherwise it starts again from where that process left the index);
* a chain that went backwards (a reset devnet: a lower block number, or another block at the indexed height) is
  indexed again from scratch. Entries are keyed by chain id and marketplace address, so one home used with several
  chains or markets never mixes them;
* listing (:meth:`MarketIndex.page`) filters, sorts and pages in SQL, so a new process lists 10,000 models in
  milliseconds.

The row hashes of submitted files are in the same home (:mod:`.rowcache`), keyed by file, and are read from there.

>>> from colearn_jupyter.index import market_index
>>> index = market_index(market)                                    # doctest: +SKIP
>>> total, models = index.page(search="iris", sort="accuracy", order="desc")  # doctest: +SKIP
>>> [s.id for s in index.submissions(models[0]["id"])]              # doctest: +SKIP
[3, 4]
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from web3.exceptions import BlockNotFound, ContractLogicError, Web3RPCError

from .homedb import HomeDatabase
from .marketplace import Marketplace, ModelInfo, Submission, Terms, Version, version_from_event

#: The columns :meth:`MarketIndex.page` sorts by, as the REST API names them.
SORT_COLUMNS = {
    "id": "id",
    "name": "name_key",
    "accuracy": "accuracy_key",
    "rows_accepted": "rows_accepted",
    "rows_pending": "rows_pending",
}
_INT64 = (-(2**63), 2**63 - 1)
_SYNC_ATTEMPTS = 5  # another process wrote first: read again from where it left the index
_PAGE = 200  # models a view call reads
_SUBMISSION_PAGE = 100  # submissions a view call reads (as Marketplace.submissions_by_id pages them)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS markets (
    market TEXT PRIMARY KEY,          -- "<chain id>:<marketplace address, lower case>"
    block INTEGER NOT NULL,           -- the block the index was synced to
    block_hash TEXT NOT NULL          -- its hash: another block there means the chain was reset
);
CREATE TABLE IF NOT EXISTS models (
    market TEXT NOT NULL,
    id INTEGER NOT NULL,
    name_key TEXT NOT NULL,           -- name.lower() (Python's): searched and sorted on
    accuracy_key REAL NOT NULL,       -- the latest version's accuracy, -1 for none
    rows_accepted INTEGER NOT NULL,   -- clamped to int64 for sorting; exact in summary
    rows_pending INTEGER NOT NULL,
    summary TEXT NOT NULL,            -- the REST API's ModelSummary, as JSON
    info TEXT NOT NULL,               -- the ModelInfo the views returned, as JSON
    PRIMARY KEY (market, id)
);
CREATE INDEX IF NOT EXISTS models_by_name ON models (market, name_key, id);
CREATE INDEX IF NOT EXISTS models_by_accuracy ON models (market, accuracy_key, id);
CREATE INDEX IF NOT EXISTS models_by_accepted ON models (market, rows_accepted, id);
CREATE INDEX IF NOT EXISTS models_by_pending ON models (market, rows_pending, id);
CREATE TABLE IF NOT EXISTS versions (
    market TEXT NOT NULL,
    model_id INTEGER NOT NULL,
    block INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    version TEXT NOT NULL,            -- the Version, as JSON
    PRIMARY KEY (market, block, log_index)
);
CREATE INDEX IF NOT EXISTS versions_by_model ON versions (market, model_id, block, log_index);
CREATE TABLE IF NOT EXISTS submissions (
    market TEXT NOT NULL,
    id INTEGER NOT NULL,
    model_id INTEGER NOT NULL,
    submission TEXT NOT NULL,         -- the Submission the views returned, as JSON
    PRIMARY KEY (market, id)
);
CREATE INDEX IF NOT EXISTS submissions_by_model ON submissions (market, model_id, id);
"""


def summary(info: ModelInfo, accuracy: float | None) -> dict[str, Any]:
    """A model as the REST API shows it (ModelSummary in the OpenAPI document)."""
    terms = info.terms
    return {
        "id": info.id,
        "name": info.name,
        "owner": info.owner,
        "accuracy": accuracy,
        "versions": info.version_count,
        "rows_accepted": info.rows_accepted,
        "rows_pending": info.rows_pending,
        "rows_rejected": info.rows_rejected,
        "deposit_wei": str(terms.deposit_per_row),
        "reward_wei": str(terms.reward_per_row),
        "bond_wei": str(terms.challenge_bond),
        "window_s": terms.challenge_window,
        "timeout_s": terms.owner_timeout,
        "reward_pool_wei": str(info.reward_pool),
    }


#: How nodes refuse a block past their head (anvil, geth, erigon, hardhat): after a node went back, possibly mined
#: the same block again by the time the sync looks (a devnet replaying its journal).
_PAST_HEAD = re.compile(r"BlockOutOfRange|block height is|header not found|beyond current head|unknown block", re.I)


def _no_such_block(error: Exception) -> bool:
    """Whether ``error`` is a node saying it has no block of a number it named as mined a moment before."""
    return isinstance(error, BlockNotFound) or (isinstance(error, Web3RPCError) and bool(_PAST_HEAD.search(str(error))))


@dataclasses.dataclass
class _Changes:
    """What one sync read from the chain, written in one transaction."""

    rebuild: bool
    models: list[ModelInfo] = dataclasses.field(default_factory=list)
    versions: list[tuple[int, int, int, Version]] = dataclasses.field(default_factory=list)  # model, block, log
    submissions: list[Submission] = dataclasses.field(default_factory=list)


class MarketIndex:
    """Models, versions and submissions of one marketplace, in the colearn home's database, synced from events.

    Parameters
    ----------
    market:
        The marketplace to index; its chain's home holds the database.
    home:
        Another home for the database (default: the chain's).

    Use :func:`market_index` for the one index of a marketplace in this process. Every read syncs first unless
    ``sync=False`` is given; a sync costs one block query when nothing was mined.
    """

    def __init__(self, market: Marketplace, home: str | Path | None = None):
        self.market = market
        self.path = Path(home or market.chain.home) / "index" / "market.sqlite"
        self.key = f"{market.chain.chain_id}:{market.address.lower()}"
        self._database = HomeDatabase(self.path, _SCHEMA)
        self._lock = threading.RLock()  # one sync at a time, and the connection used by one thread at a time

    # ------------------------------------------------------------------------------------------------ sync
    def sync(self) -> int:
        """Bring the index up to the chain's latest block; returns that block's number.

        Reads only what was mined since the last sync (of any process of the home): one call when nothing was (the
        latest block, whose hash is checked against the indexed one). When something was: the logs of the blocks
        mined since, then every view their events call for, in one batch; when this process knows that blocks
        were mined since (its own transactions, :attr:`Chain.newest_block <colearn_jupyter.chain.Chain.newest_block>`),
        their logs come in one batch with the latest block. A chain that went backwards (a lower block number, or
        another block at the indexed height) is indexed again from scratch.
        """
        chain = self.market.chain
        with self._lock:
            latest = -1
            for attempt in range(_SYNC_ATTEMPTS):
                head: tuple[int, str] | None = None
                try:
                    state = self._state()
                    known = chain.newest_block  # mined, and durable: these blocks exist
                    ahead = state is not None and known > state[0]
                    calls = [("eth_getBlockByNumber", ["latest", False])]
                    if ahead:
                        calls.append(self.market.logs_request(state[0] + 1, known))  # type: ignore[index]
                    found = chain.batch(calls)
                    block = _raised(found[0])
                    latest = int(block["number"], 16)
                    head = (latest, block["hash"])
                    if state == head:
                        return latest
                    if state is None or state[0] >= latest:
                        rebuild = True
                    elif state[0] == latest - 1:  # one block mined since (the usual case): its parent is the indexed
                        rebuild = block["parentHash"] != state[1]
                    else:  # the indexed block must still be there
                        indexed = chain.request("eth_getBlockByNumber", [hex(state[0]), False])
                        rebuild = indexed["hash"] != state[1]
                    logs = None
                    if ahead and not rebuild and known <= latest and not isinstance(found[1], BaseException):
                        logs = list(found[1])
                        if known < latest:  # others mined since
                            logs += chain.request(*self.market.logs_request(known + 1, latest))
                    changes = self._read(-1 if rebuild else state[0], latest, rebuild, logs)  # type: ignore[index]
                except (BlockNotFound, Web3RPCError, ContractLogicError) as error:
                    # the node went back between two calls (restarted from its journal): again. A log query past
                    # its new head is refused (anvil: BlockOutOfRangeError), a view of a submission it lost reverts
                    if attempt == _SYNC_ATTEMPTS - 1 or not (_no_such_block(error) or self._gone(head)):
                        raise
                    time.sleep(0.2)
                    continue
                if self._write(state, changes, head):
                    return latest
            return latest  # other processes kept writing: what they wrote is as recent

    def _gone(self, head: tuple[int, str] | None) -> bool:
        """Whether the block ``head`` (number, hash) this sync read is no longer the node's at its height."""
        if head is None:
            return False
        try:
            block = self.market.chain.request("eth_getBlockByNumber", [hex(head[0]), False])
        except BlockNotFound:
            return True
        return block is None or block["hash"] != head[1]

    def _state(self) -> tuple[int, str] | None:
        row = self._db().execute("SELECT block, block_hash FROM markets WHERE market = ?", (self.key,)).fetchone()
        return None if row is None else (row[0], row[1])

    def _read(self, after: int, latest: int, rebuild: bool, logs: list[Any] | None = None) -> _Changes:
        """The models, versions and submissions the events of blocks ``after + 1`` to ``latest`` name, read from the
        views (all of them for a rebuild). ``logs`` are these blocks' logs, when the caller has them already."""
        market = self.market
        changes = _Changes(rebuild)
        names = ["VersionPublished", "SubmissionAdded", "ModelPublished"] if rebuild else None
        model_ids: set[int] = set()
        submission_ids: set[int] = set()
        events = market.decode_logs(logs) if logs is not None else market.raw_events(after + 1, latest, names)
        for name, args, block, log_index in events:
            if "modelId" in args:
                model_ids.add(args["modelId"])
            if "submissionId" in args:
                submission_ids.add(args["submissionId"])
            if name == "VersionPublished":
                changes.versions.append((args["modelId"], block, log_index, version_from_event(args)))
        changes.versions = [v for v in changes.versions if _fits(v[0])]
        if rebuild:
            model_ids = set(range(1, market.model_count() + 1))
            submission_ids = set(range(1, market.submission_count() + 1))
        else:  # what the index read before: no log query for its names and CIDs
            known = {i: Submission(**json.loads(text)) for i, text in self._known("submissions", "submission",
                                                                                   submission_ids).items()}  # fmt: skip
            market.remember(submissions=list(known.values()))
            added = {args["submissionId"]: args["modelId"] for name, args, _, _ in events if name == "SubmissionAdded"}
            if self._read_at_once(changes, model_ids, submission_ids, known, added):
                return changes
            if set(added) - set(known):  # a view would refuse an id of no submission (a batch of them with it)
                count = market.submission_count()
                added = {i: m for i, m in added.items() if 1 <= i <= count}
            submission_ids = {i for i in submission_ids if i in known or i in added}
        changes.submissions = market.submissions_by_id(sorted(submission_ids))
        model_ids |= {s.model_id for s in changes.submissions}  # a rejected row changes its model's counts
        model_ids = {i for i in model_ids if _fits(i) and i > 0}
        if not rebuild:
            market.remember(
                models=[_info_from_json(text) for text in self._known("models", "info", model_ids).values()]
            )
        for offset, length in _pages(model_ids):
            changes.models += market.models(offset, length)
        return changes

    def _read_at_once(
        self,
        changes: _Changes,
        model_ids: set[int],
        submission_ids: set[int],
        known: dict[int, Submission],
        added: dict[int, int],
    ) -> bool:
        """Read the submissions and models a sync's events name with every view call in one request; True when
        done. False, with nothing changed, when any call failed (a view refuses a batch that names a submission
        that does not exist): the caller reads them one call at a time, as it always did (which leaves out what
        does not exist)."""
        market = self.market
        ids = sorted(i for i in submission_ids if i in known or i in added)
        # a submission's model never changes: the index knows it, or the SubmissionAdded event names it
        models = {i for i in model_ids | {known[i].model_id if i in known else added[i] for i in ids}}
        models = {i for i in models if _fits(i) and i > 0}
        market.remember(models=[_info_from_json(text) for text in self._known("models", "info", models).values()])
        calls: list[tuple[Any, ...]] = [("getSubmissions", ids[start : start + _SUBMISSION_PAGE]) for start in
                                        range(0, len(ids), _SUBMISSION_PAGE)]  # fmt: skip
        pages = list(_pages(models))
        calls += [("getModels", offset, length) for offset, length in pages]
        if not calls:
            return True
        results = market.read_many(calls)
        if any(isinstance(result, BaseException) for result in results):
            return False
        submissions = [s for page in results[: len(results) - len(pages)] for s in page]
        if {s.model_id for s in submissions if _fits(s.model_id) and s.model_id > 0} - models:
            return False  # (never, as a submission's model never changes) read as it always was
        changes.submissions = submissions
        changes.models = [m for page in results[len(results) - len(pages) :] for m in page]
        return True

    def _known(self, table: str, column: str, ids: set[int]) -> dict[int, str]:
        """The JSON records of ``ids`` in ``table`` (models or submissions), by id."""
        wanted = sorted(i for i in ids if _fits(i))
        found: dict[int, str] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(
                self._db().execute(
                    f"SELECT id, {column} FROM {table} WHERE market = ? AND id IN ({','.join('?' * len(chunk))})",  # noqa: S608
                    (self.key, *chunk),
                )
            )
        return found

    def _write(self, state: tuple[int, str] | None, changes: _Changes, head: tuple[int, str]) -> bool:
        """Write what a sync read, in one transaction, unless another process wrote since ``state`` was read."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            if self._state() != state:
                db.execute("ROLLBACK")
                return False
            key = self.key
            if changes.rebuild:
                for table in ("models", "versions", "submissions"):
                    db.execute(f"DELETE FROM {table} WHERE market = ?", (key,))  # noqa: S608 (table names above)
            versions = [(key, model, block, log, _json(v)) for model, block, log, v in changes.versions]
            db.executemany("INSERT OR REPLACE INTO versions VALUES (?, ?, ?, ?, ?)", versions)
            submissions = [(key, s.id, s.model_id, _json(s)) for s in changes.submissions if _fits(s.id)]
            db.executemany("INSERT OR REPLACE INTO submissions VALUES (?, ?, ?, ?)", submissions)
            rows = []
            for info in changes.models:
                found = db.execute(
                    "SELECT version FROM versions WHERE market = ? AND model_id = ? ORDER BY block DESC, log_index DESC"
                    " LIMIT 1",
                    (key, info.id),
                ).fetchone()
                accuracy = None if found is None else json.loads(found[0])["accuracy_bps"] / 10_000
                shown = summary(info, accuracy)
                rows.append((
                    key, info.id, info.name.lower(), -1.0 if accuracy is None else accuracy,
                    _clamp(info.rows_accepted), _clamp(info.rows_pending), json.dumps(shown), _json(info),
                ))  # fmt: skip
            db.executemany(
                "INSERT OR REPLACE INTO models (market, id, name_key, accuracy_key, rows_accepted, rows_pending, "
                "summary, info) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [row for row in rows if _fits(row[1])],
            )
            db.execute("INSERT OR REPLACE INTO markets (market, block, block_hash) VALUES (?, ?, ?)", (key, *head))
            db.execute("COMMIT")
            return True
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _db(self) -> sqlite3.Connection:
        return self._database.connection()

    # ------------------------------------------------------------------------------------------------ reads
    def page(
        self,
        offset: int = 0,
        limit: int = 50,
        search: str = "",
        sort: str = "id",
        order: str = "asc",
        *,
        sync: bool = True,
    ) -> tuple[int, list[dict[str, Any]]]:
        """The number of models whose name contains ``search`` (case-insensitive), and one page of their summaries
        (:func:`summary`) sorted by ``sort`` (a key of :data:`SORT_COLUMNS`; ties in id order) in ``order``."""
        if sort not in SORT_COLUMNS or order not in ("asc", "desc"):
            raise ValueError(f"sort by one of {', '.join(SORT_COLUMNS)}, in asc or desc order")
        if sync:
            self.sync()
        where, params = "market = ?", [self.key]
        if search:
            where += " AND instr(name_key, ?) > 0"
            params.append(search.lower())
        column = SORT_COLUMNS[sort]
        with self._lock:
            db = self._db()
            total = db.execute(f"SELECT count(*) FROM models WHERE {where}", params).fetchone()[0]  # noqa: S608
            found = db.execute(
                f"SELECT summary FROM models WHERE {where} ORDER BY {column} {order.upper()}, id LIMIT ? OFFSET ?",  # noqa: S608
                [*params, max(0, limit), max(0, offset)],
            ).fetchall()
        return total, [json.loads(row[0]) for row in found]

    def summary(self, model_id: int, *, sync: bool = True) -> dict[str, Any] | None:
        """A model's summary (:func:`summary`), or None when the index has no such model."""
        row = self._one("SELECT summary FROM models WHERE market = ? AND id = ?", model_id, sync)
        return None if row is None else json.loads(row[0])

    def model(self, model_id: int, *, sync: bool = True) -> ModelInfo | None:
        """A model as the views last returned it, or None when the index has no such model."""
        row = self._one("SELECT info FROM models WHERE market = ? AND id = ?", model_id, sync)
        return None if row is None else _info_from_json(row[0])

    def models(self, *, sync: bool = True) -> list[ModelInfo]:
        """Every model in id order, as :meth:`Marketplace.all_models` gives them, read from the index."""
        if sync:
            self.sync()
        with self._lock:
            rows = self._db().execute("SELECT info FROM models WHERE market = ? ORDER BY id", (self.key,)).fetchall()
        return [_info_from_json(row[0]) for row in rows]

    def model_ids(self, *, sync: bool = True) -> list[int]:
        """Every model's id, in order."""
        if sync:
            self.sync()
        with self._lock:
            return [r[0] for r in self._db().execute("SELECT id FROM models WHERE market = ? ORDER BY id", (self.key,))]

    def versions(self, model_id: int, *, sync: bool = True) -> list[Version]:
        """Every version of a model, in chain order (as :meth:`Marketplace.versions`)."""
        return [
            Version(**json.loads(text))
            for text in self._of_model(
                "SELECT version FROM versions WHERE market = ? AND model_id = ? ORDER BY block, log_index",
                model_id,
                sync,
            )
        ]

    def submissions(self, model_id: int, *, sync: bool = True) -> list[Submission]:
        """Every submission of a model in id order, as :meth:`Marketplace.all_submissions` gives them (an unknown
        model is refused the same way), read from the index instead of listed over RPC."""
        return [
            Submission(**json.loads(text))
            for text in self._of_model(
                "SELECT submission FROM submissions WHERE market = ? AND model_id = ? ORDER BY id", model_id, sync
            )
        ]

    def __len__(self) -> int:
        with self._lock:
            return self._db().execute("SELECT count(*) FROM models WHERE market = ?", (self.key,)).fetchone()[0]

    def _one(self, sql: str, model_id: int, sync: bool) -> tuple[Any, ...] | None:
        if sync:
            self.sync()
        if not _fits(model_id):
            return None
        with self._lock:
            return self._db().execute(sql, (self.key, model_id)).fetchone()

    def _of_model(self, sql: str, model_id: int, sync: bool) -> list[str]:
        if self._one("SELECT 1 FROM models WHERE market = ? AND id = ?", model_id, sync) is None:
            self.market.model(model_id)  # an unknown model is refused as the marketplace refuses it
            return []  # published since the sync
        with self._lock:
            return [row[0] for row in self._db().execute(sql, (self.key, model_id))]


_INDEXES_LOCK = threading.Lock()


def market_index(market: Marketplace) -> MarketIndex:
    """The index of ``market`` in its chain's home: one per :class:`Marketplace` object (sessions of one kernel
    share theirs); every index of the home reads and writes the same database."""
    with _INDEXES_LOCK:
        index = market.__dict__.get("_market_index")
        if index is None:
            index = market.__dict__["_market_index"] = MarketIndex(market)
        return index


def _pages(model_ids: Iterable[int]) -> Iterator[tuple[int, int]]:
    """The ``getModels(offset, limit)`` pages that read ``model_ids``: runs of consecutive ids, at most
    ``_PAGE`` models each. ``[1, 2, 3, 7]`` gives (0, 3) and (6, 1)."""
    for start, length in _runs(sorted(model_ids)):
        for offset in range(start - 1, start - 1 + length, _PAGE):
            yield offset, min(_PAGE, start - 1 + length - offset)


def _raised(result: Any) -> Any:
    """A result of :meth:`Chain.batch <colearn_jupyter.chain.Chain.batch>`, raising it if it is an error."""
    if isinstance(result, BaseException):
        raise result
    return result


def _runs(ids: Iterable[int]) -> Iterator[tuple[int, int]]:
    """Runs of consecutive ids as (first, length): [1, 2, 3, 7] gives (1, 3) and (7, 1)."""
    start = length = 0
    for i in ids:
        if length and i == start + length:
            length += 1
            continue
        if length:
            yield start, length
        start, length = i, 1
    if length:
        yield start, length


def _fits(value: int) -> bool:
    return 0 <= value <= _INT64[1]


def _clamp(value: int) -> int:
    return min(max(value, _INT64[0]), _INT64[1])


def _json(record: Any) -> str:
    """A dataclass (ModelInfo, Version, Submission) as JSON."""
    return json.dumps(dataclasses.asdict(record))


def _info_from_json(text: str) -> ModelInfo:
    data = json.loads(text)
    data["terms"] = Terms(**data["terms"])
    return ModelInfo(**data)
