"""A write-ahead record of one state-changing call and the files that go with its transaction.

A call that stores files for a transaction (a model and its data for a publish, a batch's Parquet file for a
contribution) must never lose a file the chain ends up naming, nor keep files for a transaction that did not
happen. :class:`Intent` records, in ``<home>/inflight/<id>/record.json`` (written atomically and fsynced), which
files the call pinned and which it keeps aside, and, just before the transaction leaves the process (through
:func:`colearn_jupyter.chain.on_signed`), its hash, signed bytes, sender and nonce. Then:

- the call returns: the transaction is confirmed; the files kept aside are stored, and the record is dropped;
- it fails before signing, or with :class:`~colearn_jupyter.errors.TransactionRefused`: nothing happened on
  chain; the files this call newly pinned are unpinned (never one that was pinned before), the private copies
  deleted, the record dropped;
- it fails otherwise once signed (an interrupt, :class:`~colearn_jupyter.errors.TransactionInDoubt`, a lost
  connection): the record stays, *in doubt*, and :func:`settle` decides later from the chain.

Files kept aside with :meth:`Intent.store_after` stay private, in the record's folder, until the transaction is
confirmed: the rows of a contribution must not be readable while its transaction may still be pending (anyone
could copy them under their own key and get the copy mined first).

>>> with Intent(home, storage, chain.chain_id, kind="contribute") as intent:   # doctest: +SKIP
...     intent.store_after(parquet)
...     market.contribute("alice", model_id, cid, root, rows)
>>> settle(chain, storage, home)          # at the start of every state-changing call  # doctest: +SKIP
[]
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from web3 import Web3

from .chain import Chain, on_signed
from .durable import write_atomically
from .errors import ColearnError, TransactionInDoubt, TransactionRefused
from .rpcerrors import RefusedAtSend
from .storage.base import Storage
from .storage.unixfs import FileBlocks, file_cid

_FORMAT = "colearn-intent"
_NOTE = (
    "Its files are kept in this colearn home: the next colearn call (or `colearn storage gc`) settles it by its "
    "hash: not yet mined, the same signed transaction is sent again (so it happens once) and its files are stored; "
    "if another transaction took its nonce, it did not happen and they are released. Do not send the call again "
    "before that."
)


class FilesNotStored(ColearnError):
    """A confirmed transaction's files could not be stored yet; they are kept and stored by the next call."""


@dataclass(frozen=True)
class Settled:
    """What :func:`settle` decided for one record: ``confirmed`` (its files are stored), ``failed`` (released)
    or ``pending`` (still in doubt: its transaction was sent again, or its files could not be stored yet)."""

    id: str
    kind: str
    outcome: str
    tx_hash: str | None


# ---------------------------------------------------------------------------------------------------- files
def _root(home: str | os.PathLike[str]) -> Path:
    return Path(home) / "inflight"


def _pins_lock(home: str | os.PathLike[str]) -> FileLock:
    """Held while a call decides whether it pins a file newly, and while a release unpins."""
    root = _root(home)
    root.mkdir(parents=True, exist_ok=True)
    return FileLock(str(root / "pins.lock"), timeout=300)


def _read(folder: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((folder / "record.json").read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("format") == _FORMAT else None


def _live_uses(home: Path, but: str) -> set[str]:
    """The files every other record still uses (pinned for its call, newly or not)."""
    uses: set[str] = set()
    for folder in _root(home).iterdir():
        if folder.is_dir() and folder.name != but and (record := _read(folder)) is not None:
            uses.update(record.get("uses", []))
    return uses


def _release(home: Path, storage: Storage, folder: Path, record: dict[str, Any]) -> None:
    """The call did not happen: unpin what it newly pinned (unless another call in flight uses it), drop all."""
    with _pins_lock(home):
        others = _live_uses(home, folder.name)
        for cid in record.get("pinned", []):
            if cid not in others:
                storage.unpin(cid)
        shutil.rmtree(folder, ignore_errors=True)


def _store_kept(
    storage: Storage, folder: Path, record: dict[str, Any], prepared: dict[str, FileBlocks] | None = None
) -> None:
    """The call happened: store (and pin) the files kept aside, then drop the record. A file this process still
    holds cut in blocks (``prepared``, by CID) is stored from them, not read back from its copy."""
    for cid in record.get("after", []):
        blocks = (prepared or {}).get(cid)
        stored = storage.add_blocks(blocks) if blocks is not None else storage.add(folder / cid)
        if stored != cid:
            raise FilesNotStored(f"the file kept for {cid} reads as {stored}: the copy in {folder} is damaged")
    shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------- the record
class Intent:
    """The record of one state-changing call with one transaction, and the files that go with it.

    Parameters
    ----------
    home:
        The colearn home; records live in ``<home>/inflight``.
    storage:
        Where the files go.
    chain_id:
        The chain the transaction is for: only calls on that chain settle the record.
    kind:
        A word for people reading the record, e.g. ``"publish"``.

    Inside ``with``, every transaction this thread signs is recorded before it is sent (one per intent). The
    record is locked for the life of the call, so no other process settles it meanwhile.
    """

    def __init__(self, home: str | os.PathLike[str], storage: Storage, chain_id: int, *, kind: str):
        self.home = Path(home)
        self.storage = storage
        self.id = f"{time.time_ns()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.folder = _root(home) / self.id
        self.record: dict[str, Any] = {
            "format": _FORMAT,
            "id": self.id,
            "kind": kind,
            "chain_id": int(chain_id),
            "store": storage.location,
            "pid": os.getpid(),
            "created": time.time(),
            "state": "open",
            "pinned": [],
            "uses": [],
            "after": [],
            "tx": None,
        }
        #: ``confirmed``, ``released`` or ``in doubt`` once the ``with`` block has ended.
        self.outcome: str | None = None
        self._lock = FileLock(str(_root(home) / f"{self.id}.lock"), timeout=0)
        self._hook: contextlib.ExitStack | None = None
        self._prepared: dict[str, FileBlocks] = {}

    @property
    def tx_hash(self) -> str | None:
        """The hash of the transaction, once signed."""
        return self.record["tx"]["hash"] if self.record["tx"] else None

    def _save(self) -> None:
        write_atomically(self.folder / "record.json", json.dumps(self.record, sort_keys=True).encode())

    # ------------------------------------------------------------------------------------------------ files
    def pin(self, data: bytes) -> str:
        """Store and pin ``data`` now (readable by anyone at once); returns its CID.

        Recorded before it is stored, with whether this call pinned it newly: only then is it unpinned when the
        call does not happen.
        """
        cid = file_cid(data)
        with _pins_lock(self.home):
            if cid not in self.record["uses"]:
                self.record["uses"].append(cid)
                if cid not in self.storage.pins():
                    self.record["pinned"].append(cid)
                self._save()
            return self.storage.add(data)

    def store_after(self, data: bytes | FileBlocks, *, cid: str | None = None) -> str:
        """Keep ``data`` privately in the record's folder, to be stored (and pinned) only once the transaction
        is confirmed; returns its CID. ``cid``: the CID of ``data``, when the caller computed it already (storing
        checks it: a wrong one makes the file's storing fail, never stores it under another CID). ``data`` already
        cut in blocks (:func:`~.storage.unixfs.file_blocks`) is stored from them when this call confirms."""
        if isinstance(data, FileBlocks):
            self._prepared[data.cid] = data
            cid, data = data.cid, data.data
        cid = cid or file_cid(data)
        if cid not in self.record["after"]:
            write_atomically(self.folder / cid, bytes(data))
            self.record["after"].append(cid)
            self._save()
        return cid

    def signed(self, tx_hash: str, raw: str, sender: str, nonce: int) -> None:
        """The :func:`~colearn_jupyter.chain.on_signed` hook: record the transaction before it is sent."""
        if self.record["tx"] is not None:
            raise ColearnError(
                f"a {self.record['kind']} call records one transaction, and {self.tx_hash} was signed already: "
                "give each transaction its own Intent"
            )
        self.record["tx"] = {"hash": tx_hash, "raw": raw, "sender": sender, "nonce": int(nonce)}
        self.record["state"] = "sent"
        self._save()

    # ------------------------------------------------------------------------------------------------ the call
    def __enter__(self) -> Intent:
        _root(self.home).mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        try:
            self.folder.mkdir()
            self._save()
            self._hook = contextlib.ExitStack()
            self._hook.enter_context(on_signed(self.signed))
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if self._hook is not None:
            self._hook.close()
        try:
            if exc is None:
                self._confirm()
            elif self.record["tx"] is None or isinstance(exc, TransactionRefused):
                self._release()
            else:
                self.outcome = "in doubt"
                self._doubt(exc)
        finally:
            self._unlock()

    def _confirm(self) -> None:
        self.outcome = "confirmed"
        self.record["state"] = "confirmed"
        self._save()
        try:
            _store_kept(self.storage, self.folder, self.record, self._prepared)
        except (ColearnError, OSError) as error:
            raise FilesNotStored(
                f"the {self.record['kind']} transaction {self.tx_hash} is confirmed, but its files could not be "
                f"stored yet ({error}); they are kept in {self.folder} and stored by the next colearn call (or "
                "`colearn storage gc`)"
            ) from error

    def _release(self) -> None:
        """Nothing happened on chain; the error that says so propagates whatever happens here."""
        self.outcome = "released"
        try:
            if self.record["tx"] is not None:
                self.record["state"] = "refused"
                self._save()
            _release(self.home, self.storage, self.folder, self.record)
        except (ColearnError, OSError) as error:  # the record stays: the next call releases it
            warnings.warn(f"the files of a refused {self.record['kind']} call are released later: {error}",
                          stacklevel=3)  # fmt: skip

    def _doubt(self, exc: BaseException) -> None:
        what = f"the {self.record['kind']} transaction {self.tx_hash} was sent, but whether it was mined is unknown."
        if isinstance(exc, ColearnError):
            raise TransactionInDoubt(f"{exc}. {what} {_NOTE}") from exc
        exc.add_note(f"{what} {_NOTE}")

    def _unlock(self) -> None:
        self._lock.release()
        Path(self._lock.lock_file).unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------------- settling
def pending(home: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every record in the home (calls running now included), oldest first."""
    root = _root(home)
    if not root.is_dir():
        return []
    records = [_read(folder) for folder in sorted(root.iterdir()) if folder.is_dir()]
    return [record for record in records if record is not None]


def settle(chain: Chain, storage: Storage, home: str | os.PathLike[str], *, wait: float = 2.0) -> list[Settled]:
    """Decide every record left in doubt on this chain and storage, from the chain; returns what was decided.

    For each record whose call is no longer running: a receipt with status 1 (on the devnet, in a durable
    block) means confirmed (its kept files are stored, its pins stay); status 0 means failed (released); no
    receipt while the sender's confirmed nonce is past the record's means another transaction took the nonce:
    failed. With no receipt and the nonce unused, the signed bytes are sent again (the same hash, so it happens
    at most once) and the receipt is awaited up to ``wait`` seconds; otherwise a later call decides. A record
    without a transaction (its process died before signing) is released. Records of other chains or stores are
    left alone; a record that cannot be decided now (the store fails) stays, with a warning.
    """
    root = _root(home)
    if not root.is_dir():
        return []
    decided = []
    for folder in sorted(root.iterdir()):
        if not folder.is_dir():
            continue
        lock = FileLock(str(root / f"{folder.name}.lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            continue  # its call is still running
        try:
            record = _read(folder)
            if record is None:
                if folder.exists() and time.time() - folder.stat().st_mtime > 60:
                    shutil.rmtree(folder, ignore_errors=True)  # a record whose writer died before its first line
                continue
            if record.get("chain_id") != chain.chain_id or record.get("store") != storage.location:
                continue
            try:
                outcome = _settle_one(chain, storage, Path(home), folder, record, wait)
            except (ColearnError, OSError) as error:
                warnings.warn(f"the {record['kind']} call {record['id']} is not settled yet: {error}", stacklevel=2)
                outcome = "pending"
            tx = record.get("tx") or {}
            decided.append(Settled(record["id"], record["kind"], outcome, tx.get("hash")))
        finally:
            lock.release()
            if not folder.exists():
                Path(lock.lock_file).unlink(missing_ok=True)
    return decided


def _settle_one(chain: Chain, storage: Storage, home: Path, folder: Path, record: dict[str, Any], wait: float) -> str:
    tx = record.get("tx")
    if record.get("state") == "confirmed":
        _store_kept(storage, folder, record)
        return "confirmed"
    if tx is None or record.get("state") == "refused":
        _release(home, storage, folder, record)
        return "failed"
    status = _fate(chain, tx, wait)
    if status is None:
        return "pending"
    if status:
        _store_kept(storage, folder, record)
        return "confirmed"
    _release(home, storage, folder, record)
    return "failed"


def _fate(chain: Chain, tx: dict[str, Any], wait: float) -> bool | None:
    """True (mined and succeeded), False (failed, or will never be mined) or None (not known yet)."""
    status = _receipt_status(chain, tx["hash"])
    if status is not None:
        return status
    if _nonce_used(chain, tx):
        status = _receipt_status(chain, tx["hash"])  # mined between the two looks?
        return bool(status)
    try:
        if not chain.send_again(tx["hash"], Web3.to_bytes(hexstr=tx["raw"])):
            return False  # another transaction took its nonce: it will never be mined
    except RefusedAtSend:
        return None  # refused now (funds? another transaction of that nonce waiting?): decided once mined
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        status = _receipt_status(chain, tx["hash"])
        if status is not None:
            return status
        time.sleep(0.05)
    return None


def _receipt_status(chain: Chain, tx_hash: str) -> bool | None:
    """The receipt's status, or None when there is no receipt (on the devnet: none in a durable block)."""
    receipt = chain.durable_receipt(tx_hash)
    return None if receipt is None else receipt["status"] == 1


def _nonce_used(chain: Chain, tx: dict[str, Any]) -> bool:
    return chain.w3.eth.get_transaction_count(Web3.to_checksum_address(tx["sender"]), "latest") > int(tx["nonce"])
