"""Contributing DataFrames and reading submissions back, with storage and the chain kept consistent.

A DataFrame is validated against the model's schema (read from its metadata CID) before anything moves: wrong
columns, dtypes, NaN or infinite values, numbers beyond the schema's bounds, unknown labels, repeated rows, and
rows the model already has (in any earlier submission, or in the owner's training data) all raise
:class:`~colearn_jupyter.formats.data.SchemaError` naming the rows. The Parquet file is stored only once the
contribution is mined: a refused contribution leaves chain and storage as they were, and nobody can read (and
front-run) the rows of a contribution while its transaction waits in the mempool. Meanwhile the file is kept
privately in the colearn home (:mod:`colearn_jupyter.inflight`), so an interrupted wait never loses the file of a
batch that ends up on chain.

Reading a submission back is the verifier's side: :func:`inspect_submission` never trusts the file. It fetches it
(checked against its CID), reads at most the declared number of rows and at most
:data:`~colearn_jupyter.formats.data.MAX_FILE_BYTES` of them (checked in the file's footer before anything is
decompressed, then while it is decoded, a few MiB at a time), encodes them as they are (a NaN stays a NaN, so the
rows hash as the contributor committed them) and compares the tree with the root on chain; whatever is wrong
becomes a finding, never an exception (a file beyond the bounds included: a batch must fit them, see
:func:`prepare_batch`).

>>> from colearn_jupyter.contributions import contribute_dataframe        # doctest: +SKIP
>>> receipt, batch = contribute_dataframe(market, store, "alice", model_id, frame)  # doctest: +SKIP
>>> batch.row_count                                                        # doctest: +SKIP
120
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .accounts import Account
from .errors import ColearnError, TransactionInDoubt
from .formats import data as _data
from .formats.data import (
    _WIDTHS,
    MAX_FILE_BYTES,
    MAX_STORED_BYTES,
    Accepted,
    FeatureSchema,
    SchemaError,
    check_file,
    check_size,
    row_hashes,
    to_parquet,
    validated_rows,
)
from .formats.data import read_rows as _read_rows
from .formats.metadata import MAX_METADATA_BYTES, ModelMetadata
from .index import market_index
from .inflight import FilesNotStored, Intent
from .marketplace import Marketplace, ModelInfo, Receipt, Submission
from .merkle import MerkleTree, contributor_key
from .rowcache import row_hash_cache
from .rowhash import as_list
from .rowsets import DigestTable, PackedRows
from .storage import IntegrityError, MissingContentError, Storage
from .storage.unixfs import FileBlocks, FileBuilder, file_blocks


@dataclass(frozen=True)
class Batch:
    """A validated DataFrame ready to submit, or a submission read back: rows, their tree and the file."""

    frame: pd.DataFrame
    rows: Sequence[bytes]
    tree: MerkleTree
    parquet: bytes

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @cached_property
    def cid(self) -> str:
        """The CID the Parquet file has in either storage backend (computed once)."""
        builder = FileBuilder()
        builder.write(self.parquet)
        return builder.finish()[0]

    def proof(self, index: int) -> list[bytes]:
        return self.tree.proof(index)


@dataclass(frozen=True)
class FileCheck:
    """What a verifier found in a submission's file. ``rows`` are canonical encodings, in file order."""

    cid_ok: bool
    count_ok: bool
    root_ok: bool
    frame: pd.DataFrame | None = None
    rows: Sequence[bytes] = field(default_factory=list)  # read from the file: PackedRows
    tree: MerkleTree | None = None
    problem: str = ""

    @property
    def usable(self) -> bool:
        """The file holds exactly the committed rows: proofs can be built from it."""
        return self.cid_ok and self.count_ok and self.root_ok

    def hashes(self) -> list[bytes]:
        """``keccak256`` of each row (hashed once, when the tree was built)."""
        return row_hashes(self.rows) if self.tree is None else leaf_hashes(self.tree, self.rows)


def leaf_hashes(tree: MerkleTree, rows: Sequence[bytes]) -> list[bytes]:
    """``keccak256`` of each row of ``tree``: kept from when the tree was built, else computed from ``rows``."""
    return as_list(tree.row_hashes) if tree.row_hashes is not None else row_hashes(rows)


def model_metadata(
    market: Marketplace, storage: Storage, model_id: int, info: ModelInfo | None = None
) -> ModelMetadata:
    """A model's metadata, fetched from storage and checked against its CID and the JSON Schema.

    ``info`` is the model as the caller read it already (its metadata CID never changes); else it is read here.
    Raises :class:`SchemaError` for a document that is too large (more than
    :data:`~colearn_jupyter.formats.metadata.MAX_METADATA_BYTES`, not fetched further) or not metadata.
    """
    cid = (info or market.model(model_id)).metadata_cid
    if cid in _METADATA:  # read and checked before: the bytes of a CID never change
        return _METADATA[cid]
    try:
        data = storage.cat(cid, limit=MAX_METADATA_BYTES)
    except MemoryError:
        raise SchemaError(f"the metadata of model {model_id} is larger than {MAX_METADATA_BYTES:,} bytes") from None
    metadata = _METADATA[cid] = ModelMetadata.from_json(data)
    while len(_METADATA) > _METADATA_KEPT:
        _METADATA.pop(next(iter(_METADATA)))
    return metadata


#: Metadata documents read and checked by this process, by CID (the oldest dropped past ``_METADATA_KEPT``).
_METADATA: dict[str, ModelMetadata] = {}
_METADATA_KEPT = 256


def fetch_file(storage: Storage, cid: str, *, limit: int = MAX_STORED_BYTES) -> bytes:
    """A data file, checked against its CID; :class:`SchemaError` once it is larger than ``limit`` bytes (no file
    within the decoding bounds is), whatever the storage raises when it cannot be fetched."""
    try:
        return storage.cat(cid, limit=limit)
    except MemoryError:
        raise SchemaError(f"the file {cid} is larger than the {limit // 2**20} MiB a client fetches") from None


def prepare_batch(frame: pd.DataFrame, schema: FeatureSchema, contributor: str, known: Accepted | None = None) -> Batch:
    """Validate a DataFrame and build its rows, its tree keyed by ``contributor`` and its Parquet file.

    ``known`` are the rows the model already has (a :class:`RowIndex`, or their hashes); repeating one is refused.
    Nothing is stored or sent.
    """
    clean, valid = validated_rows(frame, schema, accepted=known or set(), keep=MAX_FILE_BYTES)  # rows encoded once
    check_size(len(clean), valid.nbytes)  # a batch verifiers would refuse to read whole is refused here first
    assert valid.rows is not None  # kept: they fit in a file
    parquet = to_parquet(clean, schema)
    check_file(parquet, schema, valid.rows)
    tree = MerkleTree.from_row_hashes(valid.digests, key=contributor_key(contributor))
    return Batch(clean, valid.rows, tree, parquet)


def read_rows(
    data: bytes, schema: FeatureSchema, max_rows: int, *, max_bytes: int = MAX_FILE_BYTES, hashed: bool = False
) -> tuple[pd.DataFrame, PackedRows]:
    """The rows of a Parquet file as they are, canonically encoded, reading no more than ``max_rows`` of them.

    See :func:`colearn_jupyter.formats.data.read_rows`: the footer is checked before anything is decompressed (so
    a small file that expands to millions of rows is refused at once), then the file is decoded a few MiB at a
    time, never beyond ``max_rows`` rows (nor :data:`MAX_FILE_ROWS`) or ``max_bytes`` bytes of canonical rows.
    Values are not validated (the caller judges them row by row). ``hashed``: the rows are hashed meanwhile (see
    there).
    """
    return _read_rows(data, schema, max_rows, max_bytes=max_bytes, hashed=hashed)


def inspect_submission(
    market: Marketplace,
    storage: Storage,
    submission: Submission,
    schema: FeatureSchema,
    *,
    decoded: Callable[[pd.DataFrame, Sequence[bytes]], None] | None = None,
) -> FileCheck:
    """Fetch a submission's file and compare it with what the chain records; findings, never exceptions.

    ``decoded(frame, rows)`` is called once the file's rows are read, when they are as many as committed, before
    their tree is built (a verifier starts scoring them meanwhile); whatever it raises is the caller's.
    """
    try:
        data = fetch_file(storage, submission.data_cid)
    except SchemaError as error:
        return FileCheck(False, False, False, problem=str(error))
    except MissingContentError as error:  # a block is gone: the file cannot be checked, whatever its root says
        return FileCheck(
            False,
            False,
            False,
            problem=f"the file {submission.data_cid} cannot be fetched whole: {error}. Its rows can be neither "
            "checked nor proven until someone who holds the whole file stores it again",
        )
    except (ColearnError, OSError, ValueError) as error:
        return FileCheck(False, False, False, problem=f"the file {submission.data_cid} cannot be fetched: {error}")
    try:
        frame, rows = read_rows(data, schema, submission.row_count, hashed=True)  # hashed while they are read
    except SchemaError as error:
        return FileCheck(True, False, False, problem=str(error))
    if not rows:
        return FileCheck(True, False, False, frame, rows, problem="the file holds no rows")
    if decoded is not None and len(rows) == submission.row_count:
        decoded(frame, rows)
    tree = MerkleTree(rows, key=contributor_key(submission.contributor))
    count_ok = len(rows) == submission.row_count
    root_ok = count_ok and "0x" + tree.root.hex() == submission.merkle_root
    problem = ""
    if not count_ok:
        problem = f"the file holds {len(rows)} rows but {submission.row_count} are committed on chain"
    elif not root_ok:
        problem = "the file's rows do not build the Merkle root committed on chain"
    return FileCheck(True, count_ok, root_ok, frame, rows, tree, problem)


def load_batch(market: Marketplace, storage: Storage, submission_id: int, schema: FeatureSchema) -> Batch:
    """Fetch a submission's file, verify it against its CID and its on-chain root, and parse it (or raise)."""
    submission = market.submission(submission_id)
    check = inspect_submission(market, storage, submission, schema)
    if not check.usable or check.tree is None or check.frame is None:
        raise IntegrityError(f"submission {submission_id}: {check.problem}")
    return Batch(check.frame, check.rows, check.tree, storage.cat(submission.data_cid))


class RowIndex:
    """Where each row a model already has was first committed: earlier submissions and the owner's training data.

    Used to refuse duplicates before contributing, and by verifiers to find them. A submission whose file is
    missing or does not match its root is skipped (it is a finding of its own), so one broken file never blocks
    anyone. The submissions come from the home's market index (:mod:`.index`), and their files are fetched and
    hashed once per home (:mod:`.rowcache`: a committed file never changes).

    The rows of a model's submissions are kept for the process in one cumulative table per chain, marketplace,
    model and schema (:class:`~colearn_jupyter.rowsets.DigestTable`), which each :meth:`build` extends with the
    submissions it has not seen yet: each row is kept with the earliest submission that holds it, so an index of
    the submissions ``before`` an id is the table without the rows whose earliest submission is that id or later.
    The table checks the files it holds against the market index at every build (a devnet reset gives the same
    ids to other files) and starts over when one differs.
    """

    def __init__(
        self,
        training: DigestTable | None = None,
        submissions: DigestTable | None = None,
        before: int = 0,
        lock: threading.Lock | None = None,
    ) -> None:
        self._training = training if training is not None else DigestTable()
        self._submissions = submissions if submissions is not None else DigestTable()
        self._before = before  # the rows of submissions with a smaller id, only
        self._lock = lock or threading.Lock()  # held around the submissions' table, which other builds extend

    @classmethod
    def build(
        cls,
        market: Marketplace,
        storage: Storage,
        model_id: int,
        schema: FeatureSchema,
        *,
        before: int | None = None,
        training: list[bytes] | None = None,
        training_hashes: Sequence[bytes] | None = None,
    ) -> RowIndex:
        """The rows of ``model_id``'s submissions with an id below ``before`` (all if None), and of the owner's
        training rows: ``training`` (canonical rows), or ``training_hashes`` (their hashes, in order)."""
        table = _training_table(training, training_hashes)
        submissions = [s for s in market_index(market).submissions(model_id) if not s.on_chain_row]  # synced
        limit = before if before is not None else max((s.id for s in submissions), default=0) + 1
        schema_text = _schema_text(schema)
        known = _known_rows(market, model_id, schema_text)
        with known.lock:
            keys = {s.id: _file_key(s.data_cid, s.merkle_root, s.contributor, schema_text) for s in submissions}
            if any(keys.get(submission_id) != key for submission_id, key in known.files.items()):
                known.table, known.files = DigestTable(), {}  # a reset chain: the same ids, other files
            for submission in submissions:
                if submission.id >= limit or submission.id in known.files:
                    continue
                hashes = _row_hashes(market, storage, submission, schema)
                if len(hashes):  # an unusable file gives none, and is asked for again next time
                    known.table.add(hashes, submission.id)
                    known.files[submission.id] = keys[submission.id]
            return cls(table, known.table, limit, known.lock)

    def sources(self, digests: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where each of an ``(n, 32)`` array of row hashes was first committed, as three arrays: the kind (0 for
        a row the model does not have, :data:`TRAINING` or :data:`SUBMISSION`), the submission id (0 for
        training rows) and the row's position there."""
        digests = np.ascontiguousarray(digests, dtype=np.uint8).reshape(-1, 32)
        kinds = np.zeros(len(digests), dtype=np.int8)
        ids = np.zeros(len(digests), dtype=np.int64)
        positions = np.zeros(len(digests), dtype=np.int64)
        found = self._training.find(digests)
        hit = found >= 0
        kinds[hit], positions[hit] = TRAINING, self._training.positions[found[hit]]
        rest = np.flatnonzero(~hit)
        with self._lock:
            found = self._submissions.find(digests[rest])
            hit = found >= 0
            ids_found = self._submissions.sources[found[hit]]
            positions_found = self._submissions.positions[found[hit]]
        earlier = ids_found < self._before
        rest = rest[hit][earlier]
        kinds[rest], ids[rest], positions[rest] = SUBMISSION, ids_found[earlier], positions_found[earlier]
        return kinds, ids, positions

    def source(self, digest: bytes) -> tuple[str, int, int] | None:
        """Where the row with hash ``digest`` was first committed: ``("training", 0, position)``,
        ``("submission", id, position)``, or None."""
        kinds, ids, positions = self.sources(np.frombuffer(bytes(digest), dtype=np.uint8))
        if not kinds[0]:
            return None
        return ("training" if kinds[0] == TRAINING else "submission", int(ids[0]), int(positions[0]))

    def known(self, digests: np.ndarray) -> np.ndarray:
        """Whether each of an ``(n, 32)`` array of row hashes is a row the model has (a training row, or one of a
        submission before ``before``): what validation asks, without a set of every hash (see
        :class:`~colearn_jupyter.formats.data.KnownRows`)."""
        return self.sources(digests)[0] != 0

    def __contains__(self, digest: object) -> bool:
        return isinstance(digest, (bytes, bytearray)) and len(digest) == 32 and self.source(bytes(digest)) is not None

    @property
    def hashes(self) -> set[bytes]:
        """The hash of every row the index holds."""
        with self._lock:
            table = self._submissions
            earlier = table.digests[table.sources < self._before]
        return set(as_list(self._training.digests)).union(as_list(earlier))

    @property
    def first(self) -> dict[bytes, tuple[str, int, int]]:
        """Every row's hash and where it was first committed (as :meth:`source` gives it), in one dict."""
        first: dict[bytes, tuple[str, int, int]] = {}
        training = self._training
        for digest, position in zip(as_list(training.digests), training.positions.tolist(), strict=True):
            first[digest] = ("training", 0, position)
        with self._lock:
            table = self._submissions
            earlier = np.flatnonzero(table.sources < self._before)
            digests, ids, positions = table.digests[earlier], table.sources[earlier], table.positions[earlier]
        for digest, submission_id, position in zip(as_list(digests), ids.tolist(), positions.tolist(), strict=True):
            first.setdefault(digest, ("submission", submission_id, position))
        return first


#: :meth:`RowIndex.sources`' kinds of rows.
TRAINING, SUBMISSION = 1, 2


@dataclass
class _KnownRows:
    """The rows of a model's submissions known to this process (see :class:`RowIndex`)."""

    table: DigestTable = field(default_factory=DigestTable)
    files: dict[int, tuple[str, ...]] = field(default_factory=dict)  # submission id -> the file key of its rows
    lock: threading.Lock = field(default_factory=threading.Lock)


#: Models whose submissions' rows this process keeps (the least recently used dropped past ``_KNOWN_KEPT``).
_KNOWN: OrderedDict[tuple[Any, ...], _KnownRows] = OrderedDict()
_KNOWN_KEPT = 8
_KNOWN_LOCK = threading.Lock()


def _known_rows(market: Marketplace, model_id: int, schema_text: str) -> _KnownRows:
    """The cumulative table of ``model_id``'s submissions on ``market`` (see :class:`RowIndex`)."""
    key = (str(market.chain.home), market.chain.chain_id, market.address, model_id, schema_text)
    with _KNOWN_LOCK:
        known = _KNOWN.get(key)
        if known is None:
            known = _KNOWN[key] = _KnownRows()
        _KNOWN.move_to_end(key)
        while len(_KNOWN) > _KNOWN_KEPT:
            _KNOWN.popitem(last=False)
        return known


#: Training sets' tables, by the sequence of hashes they were built from (kept alive here, so its id is its own).
_TRAINING_TABLES: OrderedDict[int, tuple[Sequence[bytes], DigestTable]] = OrderedDict()
_TRAINING_KEPT = 8


def _training_table(training: list[bytes] | None, training_hashes: Sequence[bytes] | None) -> DigestTable:
    """The table of the owner's training rows (source 0): built once per sequence of hashes given (the home's
    row-hash cache gives a model's the same tuple every time), or from ``training``'s rows."""
    if training_hashes is None:
        table = DigestTable()
        digests = row_hashes(training or [])
        if digests:
            table.add(np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 32), 0)
        return table
    with _KNOWN_LOCK:
        kept = _TRAINING_TABLES.get(id(training_hashes))
        if kept is not None and kept[0] is training_hashes:
            _TRAINING_TABLES.move_to_end(id(training_hashes))
            return kept[1]
    table = DigestTable()
    if len(training_hashes):
        table.add(np.frombuffer(b"".join(training_hashes), dtype=np.uint8).reshape(-1, 32), 0)
    if isinstance(training_hashes, tuple):  # immutable: the table stays true to it
        with _KNOWN_LOCK:
            _TRAINING_TABLES[id(training_hashes)] = (training_hashes, table)
            while len(_TRAINING_TABLES) > _TRAINING_KEPT:
                _TRAINING_TABLES.popitem(last=False)
    return table


def _row_hashes(market: Marketplace, storage: Storage, submission: Submission, schema: FeatureSchema) -> np.ndarray:
    """The row hashes of a committed file, an ``(n, 32)`` array: fetched, checked and hashed once per colearn home
    (see :mod:`.rowcache`); a file that cannot be used now gives none and is not remembered (it may still
    appear)."""
    cache = row_hash_cache(market.chain.home)
    key = _file_key(submission.data_cid, submission.merkle_root, submission.contributor, schema)
    hashes = cache.get_array(key)
    if hashes is None:
        check = inspect_submission(market, storage, submission, schema)
        if not check.usable or check.tree is None or check.tree.row_hashes is None:
            return np.zeros((0, 32), dtype=np.uint8)
        hashes = check.tree.row_hashes  # hashed once, when the tree was built
        cache.put(key, hashes)
    return hashes


def _file_key(data_cid: str, merkle_root: str, contributor: str, schema: FeatureSchema | str) -> tuple[str, ...]:
    """What the row hashes of a committed file are kept under in the home's cache (``schema`` may be given as its
    JSON, keys sorted)."""
    return (data_cid, merkle_root, contributor, schema if isinstance(schema, str) else _schema_text(schema))


def _schema_text(schema: FeatureSchema) -> str:
    """``schema`` as the cache keys name it (its JSON), worked out once per schema object: a contribution names
    every submission of the model with the same schema."""
    found = _SCHEMA_TEXTS.get(id(schema))
    if found is None or found[0] is not schema:  # a schema is frozen, but an id may be reused once it is gone
        found = _SCHEMA_TEXTS[id(schema)] = (schema, json.dumps(schema.to_dict(), sort_keys=True))
        while len(_SCHEMA_TEXTS) > _METADATA_KEPT:
            _SCHEMA_TEXTS.pop(next(iter(_SCHEMA_TEXTS)))
    return found[1]


#: The JSON of schemas seen by this process, by id (each kept with its schema, so that the id stays its own).
_SCHEMA_TEXTS: dict[int, tuple[FeatureSchema, str]] = {}


def contribute_dataframe(
    market: Marketplace,
    storage: Storage,
    account: Account | str,
    model_id: int,
    frame: pd.DataFrame,
    *,
    training: list[bytes] | None = None,
    training_hashes: Sequence[bytes] | None = None,
    info: ModelInfo | None = None,
) -> tuple[Receipt, Batch]:
    """Validate, submit and store a DataFrame as one batch; every row is counted and challengeable alone.

    ``training`` are the owner's training rows (canonical), or ``training_hashes`` their hashes, refused like rows
    of earlier submissions; ``info`` the model, when the caller has read it. The file is stored once the transaction
    is mined, so nobody can read the rows of a
    contribution still in the mempool; until then it is kept privately in the colearn home by an
    :class:`~colearn_jupyter.inflight.Intent`, so an interrupted wait loses nothing: the next call
    (:func:`~colearn_jupyter.inflight.settle`) stores it once the transaction is found mined, or drops it if it never
    will be.
    """
    signer = market.chain.account(account)
    info = info or market.model(model_id)
    schema = model_metadata(market, storage, model_id, info).feature_schema
    known = RowIndex.build(market, storage, model_id, schema, training=training, training_hashes=training_hashes)
    batch = prepare_batch(frame, schema, signer.address, known)
    receipt = _submit(market, storage, signer, model_id, info, schema, batch.parquet, batch.cid, batch.tree)
    return receipt, batch


def _submit(
    market: Marketplace,
    storage: Storage,
    signer: Account,
    model_id: int,
    info: ModelInfo,
    schema: FeatureSchema,
    parquet: bytes | FileBlocks,
    cid: str,
    tree: MerkleTree,
) -> Receipt:
    """Send one prepared file's transaction, then store the file: exactly once, whatever interrupts it (an
    :class:`~colearn_jupyter.inflight.Intent` of its own). ``parquet`` may be cut in blocks already
    (:func:`~colearn_jupyter.storage.unixfs.file_blocks`): they are stored without hashing them again."""
    # The file is stored once the batch is on chain, never while its transaction waits to be mined: anyone reading
    # the file of a pending contribution could copy its rows under their own key and get them mined first (with a
    # higher tip), and the original rows, now repeating an earlier submission, would lose their deposits.
    chain = market.chain
    intent = Intent(chain.home, storage, chain.chain_id, kind="contribute")
    receipt = None
    try:
        with intent:
            intent.store_after(parquet, cid=cid)  # its CID computed once (its blocks too, when prepared)
            receipt = market.contribute(signer, model_id, cid, tree.root, len(tree),
                                        deposit_per_row=info.terms.deposit_per_row)  # fmt: skip
            # committed: the home's other processes take these rows' hashes from here, not from the file
            key = _file_key(cid, "0x" + tree.root.hex(), signer.address, schema)
            assert tree.row_hashes is not None
            row_hash_cache(chain.home).put(key, tree.row_hashes)
    except FilesNotStored as error:
        assert receipt is not None
        submission = receipt.event("SubmissionAdded").args["submission_id"]
        raise FilesNotStored(
            f"submission {submission} is on chain but its file could not be stored yet ({error.__cause__}); it is "
            "kept in this colearn home and stored by your next colearn call: make one before the batch's window "
            "ends, or a demand for one of its rows cannot be answered and forfeits the batch"
        ) from error
    return receipt


# ---------------------------------------------------------------------------------------------------- many files
class ContributionIncomplete(ColearnError):
    """A frame contributed in several files stopped part-way: the files before ``next_row`` are on chain (as
    ``submissions``, in order) and stay there; rows from ``next_row`` on were not contributed (or, for a
    transaction whose fate is unknown, see the cause)."""

    def __init__(
        self, message: str, submissions: Sequence[int], next_row: int, parts: int, receipts: Sequence[Receipt] = ()
    ):
        super().__init__(message)
        self.submissions = list(submissions)
        self.receipts = list(receipts)
        self.next_row = next_row
        self.parts = parts


#: Share of :data:`MAX_FILE_BYTES` a file's canonical rows are planned to take: room for the page headers of the
#: Parquet file, whose declared (uncompressed) size verifiers bound too (its plain values take fewer bytes than their
#: canonical encodings). A file beyond the bound all the same is cut in two before it is sent.
PLAN_SHARE = 0.97


def row_sizes(schema: FeatureSchema, frame: pd.DataFrame) -> np.ndarray:
    """Bytes of each row's canonical encoding (of a validated DataFrame), without encoding them."""
    fixed = sum(_WIDTHS[c.dtype] for c in schema.columns)
    sizes = np.full(len(frame), fixed, dtype=np.int64)
    for column in schema.columns:
        if column.dtype == "string":
            import pyarrow as pa
            import pyarrow.compute as pc

            lengths = pc.binary_length(pa.array(frame[column.name], type=pa.large_string()))
            sizes += lengths.to_numpy(zero_copy_only=False).astype(np.int64)
    return sizes


def plan_files(
    sizes: np.ndarray, *, max_rows: int | None = None, max_bytes: int | None = None
) -> list[tuple[int, int]]:
    """Consecutive row ranges ``(first, last)`` of rows of canonical ``sizes`` bytes, each within a file's bounds
    (:data:`MAX_FILE_ROWS` rows, :data:`PLAN_SHARE` of :data:`MAX_FILE_BYTES`), as few as they allow and about
    equal."""
    max_rows = _data.MAX_FILE_ROWS if max_rows is None else max_rows
    max_bytes = int(PLAN_SHARE * _data.MAX_FILE_BYTES) if max_bytes is None else max_bytes
    count = len(sizes)
    if not count:
        return []
    widest = int(sizes.max())
    if widest > max_bytes:
        row = int(np.argmax(sizes))
        raise SchemaError(f"row {row} alone takes {widest:,} bytes, more than one file may hold", [row])
    cumulative = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(sizes, out=cumulative[1:])
    total = int(cumulative[-1])
    files = max(-(-count // max_rows), -(-total // max_bytes))
    rows_each, bytes_each = min(max_rows, -(-count // files)), min(max_bytes, -(-total // files) + widest - 1)
    plan, first = [], 0
    while first < count:
        fit = int(np.searchsorted(cumulative, cumulative[first] + bytes_each, side="right")) - 1
        last = min(count, first + rows_each, max(fit, first + 1))
        plan.append((first, last))
        first = last
    return plan


@dataclass(frozen=True)
class _File:
    first: int
    last: int
    file: FileBlocks
    tree: MerkleTree


def contribute_frame(
    market: Marketplace,
    storage: Storage,
    account: Account | str,
    model_id: int,
    frame: pd.DataFrame,
    *,
    training_hashes: Sequence[bytes] | None = None,
    info: ModelInfo | None = None,
    progress: bool = True,
) -> list[Receipt]:
    """Contribute a DataFrame of any size: one file and one transaction for every part the file bounds need.

    The whole frame is validated first, every row encoded and hashed once: a schema fault, a row repeated anywhere
    in the frame (in one part or across parts) or one the model already has is refused before anything is sent.
    Each file then goes its own way exactly as :func:`contribute_dataframe` sends one (an
    :class:`~colearn_jupyter.inflight.Intent` each: stored once mined, never lost to an interruption), while the
    next file is prepared (Parquet, Merkle tree) on another thread. A tqdm progress bar counts the rows on chain
    when there is more than one file (``progress=False``: none, nor the bar of validating a large frame).

    When a part fails, the parts before it stay on chain and :class:`ContributionIncomplete` says which, and from
    which row to continue (its cause is the part's own error).
    """
    from tqdm.auto import tqdm

    signer = market.chain.account(account)
    info = info or market.model(model_id)
    schema = model_metadata(market, storage, model_id, info).feature_schema
    known = RowIndex.build(market, storage, model_id, schema, training_hashes=training_hashes)
    clean, valid = validated_rows(frame, schema, accepted=known, progress=progress)  # each row encoded once
    plan = plan_files(row_sizes(schema, clean) if any(c.dtype == "string" for c in schema.columns)
                       else np.full(len(clean), valid.nbytes // max(1, len(clean)), dtype=np.int64))  # fmt: skip
    key = contributor_key(signer.address)

    def prepare(bounds: tuple[int, int]) -> _File | None:
        first, last = bounds
        parquet = to_parquet(clean.iloc[first:last], schema)
        try:
            _data._open_parquet(parquet, schema, last - first, _data.MAX_FILE_BYTES)
        except SchemaError:
            if last - first > 1:
                return None  # Parquet's own size is beyond the bound: the range is cut in two
            raise
        tree = MerkleTree.from_row_hashes(valid.digests[first:last], key=key)
        return _File(first, last, file_blocks(parquet), tree)  # hashed into blocks once: stored from them

    receipts: list[Receipt] = []
    submissions: list[int] = []
    pending = deque(plan)
    parts = len(plan)
    with (
        ThreadPoolExecutor(1, thread_name_prefix="colearn-prepare") as pool,
        tqdm(total=len(clean), desc="contributing", unit=" rows", disable=not progress or len(plan) <= 1,
             leave=False) as bar,
    ):  # fmt: skip
        current = pending.popleft()
        ahead: Future[_File | None] | None = pool.submit(prepare, current)
        while ahead is not None:
            try:
                prepared = ahead.result()
                if prepared is None:  # cut in two, and prepared again
                    middle = (current[0] + current[1]) // 2
                    pending.extendleft([(middle, current[1]), (current[0], middle)])
                    parts += 1
                    current = pending.popleft()
                    ahead = pool.submit(prepare, current)
                    continue
                following = pending.popleft() if pending else None
                ahead = pool.submit(prepare, following) if following else None  # the next file, while this is sent
                receipt = _submit(market, storage, signer, model_id, info, schema, prepared.file, prepared.file.cid,
                                  prepared.tree)  # fmt: skip
            except BaseException as error:
                if ahead is not None:
                    ahead.cancel()
                _stopped(error, receipts, submissions, current, parts, len(clean))
                raise
            receipts.append(receipt)
            submissions.append(receipt.event("SubmissionAdded").args["submission_id"])
            bar.update(prepared.last - prepared.first)
            if following is not None:
                current = following
    return receipts


def _stopped(
    error: BaseException,
    receipts: list[Receipt],
    submissions: list[int],
    failed: tuple[int, int],
    parts: int,
    rows: int,
) -> None:
    """Raise :class:`ContributionIncomplete` for ``error`` in the part of rows ``failed`` when earlier parts are on
    chain (a note on an interruption); nothing when none is (the error says it all)."""
    if not submissions and not isinstance(error, FilesNotStored):
        return
    done = len(submissions)
    first, last = failed
    on_chain = (
        f"part{'s 1-' if done > 1 else ' '}{done} of {parts} (rows 0-{first - 1:,} of the DataFrame, submission"
        f"{'s' if done > 1 else ''} {', '.join(map(str, submissions))}) {'are' if done > 1 else 'is'} on chain and "
        "stay there"
        if done
        else "no earlier part was sent"
    )
    if isinstance(error, FilesNotStored):  # this part is on chain too; its file is stored by the next call
        what = f"part {done + 1} (rows {first:,}-{last - 1:,}) is on chain but its file is not stored yet"
        next_row = last
    elif isinstance(error, TransactionInDoubt) or not isinstance(error, Exception):
        what = f"part {done + 1} (rows {first:,}-{last - 1:,}) was interrupted: whether it is on chain is decided by "
        what += "your next colearn call (see the submissions of this account before contributing its rows again)"
        next_row = first
    else:
        what, next_row = f"part {done + 1} (rows {first:,}-{last - 1:,}) failed and nothing after it was sent", first
    rest = f"; to contribute the rest: contribute_many(model, frame.iloc[{next_row}:])" if next_row < rows else ""
    message = f"{on_chain}; {what}{rest}"
    if not isinstance(error, Exception):
        error.add_note(message)
        return
    raise ContributionIncomplete(f"{error}. {message}", submissions, next_row, parts, receipts) from error
