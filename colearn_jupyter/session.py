"""The core API: one object to publish, browse, contribute, verify, challenge, resolve, claim and retrain.

Magics, widgets, REST handlers and the CLI are faces over :class:`Session`; it is also meant for plain scripts.

>>> from colearn_jupyter import Session                                          # doctest: +SKIP
>>> owner = Session.connect("owner")                  # the embedded devnet and store, no configuration
>>> model = owner.publish(clf, name="iris", train=train_df, label="species", test=test_df,
...                       deposit="0.01", reward="0.002", window="1h")          # doctest: +SKIP
>>> alice = owner.as_account("alice")                 # same chain and store, another account
>>> alice.contribute(model.id, new_rows)                                         # doctest: +SKIP
>>> owner.market_table()                              # a pandas DataFrame       # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from filelock import FileLock
from web3.exceptions import Web3Exception

from . import htmlsafe
from .accounts import Account
from .chain import Chain
from .config import ColearnSettings
from .contributions import (
    SUBMISSION,
    TRAINING,
    ContributionIncomplete,
    FileCheck,
    RowIndex,
    contribute_dataframe,
    contribute_frame,
    fetch_file,
    inspect_submission,
    leaf_hashes,
    model_metadata,
    read_rows,
)
from .errors import AccountError, ClockRefused, ColearnError, UnverifiableTrainingSet
from .formats import data as _data
from .formats.data import (
    FeatureSchema,
    RowFault,
    SchemaError,
    decode_row,
    encode_rows,
    fault_numbers,
    onchain_schema,
    read_data,
    row_fault,
    row_hashes,
    to_parquet,
    validate,
)
from .formats.metadata import ModelMetadata
from .formats.models import LinearModel, UnsafeFormatError, framework_of, load_model, predict_labels, save_model
from .index import market_index
from .inflight import Intent, settle
from .marketplace import (
    LINEAR_SCALE,
    WHOLE_FILE,
    DuplicateSource,
    LinearTerms,
    Marketplace,
    ModelInfo,
    Receipt,
    Submission,
    Terms,
)
from .merkle import MerkleTree, contributor_key, test_row_nonce
from .names import check_new_name
from .names import resolve as resolve_name
from .onchain import encode_onchain_row
from .rowcache import row_hash_cache
from .rowsets import first_occurrences, heads
from .sandbox import IsolatedModel
from .storage import Storage, open_storage
from .storage.base import CAT_LIMIT
from .storage.cid import cid_from_bytes
from .testset import is_sealed, seal, unseal
from .units import DISPLAY_DECIMALS, format_duration, format_eth, to_wei

_SUGGEST_LIMIT = 50
#: The fields of every line of :meth:`Session.challenges`; the other columns are the challenged row's values.
CHALLENGE_FIELDS = ("challenge", "model", "submission", "row", "kind", "status", "challenger", "resolve by")


#: How many of a model's newest versions :meth:`Session.accuracy_checks` runs on the revealed test set.
CHECKED_VERSIONS = 20
#: Accuracies measured on a revealed test set, by chain, marketplace, model, model file and test set.
_MEASURED: OrderedDict[tuple[Any, ...], float | None] = OrderedDict()
_MEASURED_KEPT = 4096


@dataclass(frozen=True)
class ModelCard:
    """A model with its latest version, as shown in the marketplace."""

    info: ModelInfo
    accuracy: float | None
    version: int
    model_cid: str
    check: str = "unverified"  # the claimed accuracy against the revealed test set (see Session.accuracy_checks)

    @property
    def id(self) -> int:
        return self.info.id

    @property
    def name(self) -> str:
        return self.info.name

    def _repr_html_(self) -> str:
        info, terms = self.info, self.info.terms
        accuracy = "n/a" if self.accuracy is None else f"{self.accuracy:.1%} ({self.check})"
        rows = [
            ("model", f"#{info.id} <b>{htmlsafe.text(info.name)}</b> v{self.version}"),
            ("owner", htmlsafe.code(info.owner)),
            ("accuracy", accuracy),
            ("rows", f"{info.rows_accepted} accepted, {info.rows_pending} pending, {info.rows_rejected} rejected"),
            ("terms", htmlsafe.text(terms)),
            ("reward pool", format_eth(info.reward_pool)),
            ("model CID", htmlsafe.code(self.model_cid)),
        ]
        return htmlsafe.table("colearn model", rows)


@dataclass(frozen=True)
class VerificationReport:
    """What a verifier found in a submission: integrity checks, a verdict for every row, and a challenge plan.

    ``rows`` has one line per row of the file: its ``label``, the current model's ``predicted`` label (for rows
    without a fault), the objective ``fault`` the contract would judge (a format fault such as ``out of bounds``,
    or ``duplicate``, ``training copy``, ``test copy``), where a copy comes from (``copy of``), and the
    ``verdict``: ``ok``, ``suspicious`` (the model disagrees with the label: the owner judges), ``bad`` (an
    objective fault: the contract judges), or ``rejected``/``challenged`` when the chain already says so.
    ``plan`` lists the challenges worth making as ``(row, kind)``. When the file itself is missing or does not
    match its commitment, the plan challenges the whole file (``(None, "file")``, judged by the owner, who will
    find the same); once the file was challenged and the challenge ended without a verdict or was rejected, it
    demands one row instead (``availability``: judged by the contract, but anyone holding the file may answer
    and take the bond).
    """

    submission_id: int
    model_id: int
    cid_ok: bool
    root_ok: bool
    schema_ok: bool
    rows: pd.DataFrame = field(repr=False)
    problem: str = ""
    count_ok: bool = True
    plan: tuple[tuple[int | None, str], ...] = ()

    @property
    def suggested(self) -> list[int | None]:
        """Rows worth challenging, in :attr:`plan` order (None: the whole file)."""
        return [row for row, _ in self.plan]

    @property
    def ok(self) -> bool:
        """The file is there, matches its commitment, and no row has an objective fault."""
        return self.cid_ok and self.root_ok and self.schema_ok

    def _repr_html_(self) -> str:
        checks = " · ".join(
            f"{name} {'✔' if good else '✘'}"
            for name, good in (
                ("CID", self.cid_ok),
                ("row count", self.count_ok),
                ("Merkle root", self.root_ok),
                ("rows", self.schema_ok),
            )
        )
        kinds = ", ".join(sorted({kind for _, kind in self.plan}))
        head = (
            f"<div><b>Submission {self.submission_id}</b> of model {self.model_id}: {checks}; "
            f"{len(self.rows)} rows, {len(self.plan)} suggested for challenge"
            f"{f' ({htmlsafe.text(kinds)})' if kinds else ''}"
            f"{' — ' + htmlsafe.text(self.problem) if self.problem else ''}</div>"
        )
        return head + (htmlsafe.frame(self.rows.head(_SUGGEST_LIMIT)) if not self.rows.empty else "")


class Session:
    """A connection to the marketplace as one account, with storage. Cheap to copy for another account."""

    def __init__(
        self,
        account: str | Account | None = None,
        *,
        settings: ColearnSettings | None = None,
        chain: Chain | None = None,
        market: Marketplace | None = None,
        storage: Storage | None = None,
    ):
        self.settings = settings or (chain.settings if chain else ColearnSettings())
        self.chain = chain or Chain(self.settings)
        self._market = market
        self.storage = storage or open_storage(self.settings)
        self.account = self.chain.account(account) if account is not None else self._default_account()

    def _default_account(self) -> Account:
        """``COLEARN_ACCOUNT``, the hub's student in a class, or ``owner`` on the devnet; when none of them can act
        here, a watch-only account: the marketplace can be read, and every action says what to configure."""
        from .classroom import default_account_name

        name = default_account_name(self.settings.home_path, self.settings.account)
        if name is None:
            return Account.watch_only(
                "this kernel acts as no account: this devnet has a class and JUPYTERHUB_USER names none of its "
                "students. Connect as yourself (`%colearn connect student07`, Session('student07')) or set "
                "COLEARN_ACCOUNT"
            )
        try:
            return self.chain.account(name)
        except AccountError as error:
            return Account.watch_only(
                f"this session acts as no account on chain {self.chain.chain_id} ({error}). Name one: "
                "Session('path/to/keystore.json'), a keystore kept in <home>/keystores, or set COLEARN_ACCOUNT"
            )

    @classmethod
    def connect(cls, account: str | None = None, *, rpc_url: str | None = None, ipfs_url: str | None = None) -> Session:
        """Connect as ``account`` (default: ``COLEARN_ACCOUNT``, the hub's student in a class, or ``owner`` on the
        devnet); the embedded devnet and store unless URLs are given (or configured)."""
        settings = ColearnSettings()
        if rpc_url is not None:
            settings.rpc_url = rpc_url
        if ipfs_url is not None:
            settings.ipfs_url = ipfs_url
        return cls(account, settings=settings)

    def as_account(self, account: str | Account) -> Session:
        """The same chain, marketplace and storage, acting as another account."""
        return Session(account, settings=self.settings, chain=self.chain, market=self.market, storage=self.storage)

    @property
    def market(self) -> Marketplace:
        if self._market is None:
            self._market = Marketplace.connect(self.chain)
        return self._market

    # ------------------------------------------------------------------------------------------------ status
    def status(self) -> dict[str, Any]:
        """Chain, account, balances and storage backend."""
        return {
            "chain": self.chain.describe(),
            "marketplace": self.market.address,
            "account": self.account.name,
            "address": self.account.address,
            "balance": format_eth(self.chain.balance(self.account), DISPLAY_DECIMALS),
            "claimable": format_eth(self.market.credit_of(self.account.address), DISPLAY_DECIMALS),
            "storage": self.storage.name,
        }

    def _repr_html_(self) -> str:
        try:
            rows = list(self.status().items())
        except ColearnError as error:
            rows = [("error", str(error))]
        return htmlsafe.table("colearn session", [(k, htmlsafe.text(v)) for k, v in rows])

    def __repr__(self) -> str:
        return f"Session({self.account.name!r} on {self.chain!r})"

    # ------------------------------------------------------------------------------------------------ models
    def resolve_model(self, model: int | str, *, prefer_own: bool = False) -> int:
        """A model id from an id (``7``, ``"7"``, ``"#7"``), ``"owner/name"`` or a name.

        A name the models of several owners share is refused with the candidates
        (:class:`~colearn_jupyter.names.AmbiguousModelName`), unless ``prefer_own`` (the owner's own actions:
        retrain, history, reveal) and one of them is this account's: a stranger's model is never picked silently.
        One owner's models of one name resolve to the newest.
        """
        if isinstance(model, int) and not isinstance(model, bool):
            return model
        return resolve_name(market_index(self.market).models(), model, me=self.account.address, prefer_own=prefer_own,
                            owner_of=lambda name: self.chain.account(name).address)  # fmt: skip

    def model(self, model: int | str) -> ModelCard:
        model_id = self.resolve_model(model)
        versions = self.market.versions(model_id)
        latest = versions[-1]
        info = self.market.model(model_id)
        check = "unverified"
        if info.test_set_cid:  # revealed: anyone can measure the latest version on it
            check = str(self.accuracy_checks(model_id, latest_only=True)["check"].iloc[-1])
        return ModelCard(info, latest.accuracy, latest.number, latest.model_cid, check)

    def market_table(self, search: str = "") -> pd.DataFrame:
        """Every model whose name contains ``search`` (case-insensitive) as a DataFrame, from the home's market index
        (synced first: one block query when nothing was mined)."""
        _, models = market_index(self.market).page(0, 2**62, search, "id", "asc")
        records = [
            {
                "id": m["id"],
                "name": m["name"],
                "owner": m["owner"],
                "accuracy": m["accuracy"],
                "versions": m["versions"],
                "rows accepted": m["rows_accepted"],
                "rows pending": m["rows_pending"],
                "deposit (ETH)": int(m["deposit_wei"]) / 1e18,
                "reward (ETH)": int(m["reward_wei"]) / 1e18,
                "window": format_duration(m["window_s"]),
            }
            for m in models
        ]
        columns = ["id", "name", "owner", "accuracy", "versions", "rows accepted", "rows pending",
                   "deposit (ETH)", "reward (ETH)", "window"]  # fmt: skip
        return pd.DataFrame.from_records(records, columns=columns).set_index("id")

    def publish(
        self,
        model: Any,
        *,
        name: str,
        train: pd.DataFrame,
        test: pd.DataFrame,
        label: str,
        deposit: str | float = "0.01",
        reward: str | float = "0.002",
        bond: str | float | None = None,
        window: str | int = "1h",
        timeout: str | int = "1d",
        pool: str | float = "1",
        onchain: bool = False,
        license: str = "CC-BY-4.0",
        description: str = "",
    ) -> ModelCard:
        """Publish a fitted model with its schema (from ``train``), a hidden test set and incentive terms.

        ``train`` and ``test`` hold the features and the ``label`` column. The chain gets the row schema (column
        types, labels, and the bound of every number: a thousand times the largest magnitude in ``train``), the
        root of the training rows (so copies of them can be proven) and the root of the hidden test rows, each
        keyed by a nonce derived from a secret salt (so a contributor who copies a test row can be caught by the
        owner, without revealing the others). The salt stays in this machine's colearn home until
        :meth:`reveal_test_set`. ``onchain=True`` also runs a binary perceptron on chain, which learns every on-chain
        row that is accepted. The terms must keep the game fair: the reward per row below the deposit, a bond, and
        a window and time-out between a minute and 30 days.

        The files (model, training data, sealed test set, metadata, evaluation) are stored and pinned before the
        transaction: when the contract refuses it, the files this call pinned are unpinned again; when the call
        is interrupted after sending, they are kept and the next call settles it (:mod:`colearn_jupyter.inflight`).
        """
        self._settle()
        clash = check_new_name(name, self.market.all_models(), me=self.account.address)
        if clash:
            import warnings

            warnings.warn(clash, UserWarning, stacklevel=2)
        schema = FeatureSchema.infer(train, label=label)
        train_clean, test_clean = validate(train, schema), validate(test, schema)
        if onchain:
            model = model if isinstance(model, LinearModel) else LinearModel.from_sklearn(model, schema.names[:-1])
        accuracy = _accuracy(model, test_clean, schema)
        terms = Terms.from_human(deposit=deposit, reward=reward, bond=bond, window=window, timeout=timeout)
        _check_terms(terms)
        salt = os.urandom(32)
        train_rows, test_rows = encode_rows(schema, train_clean), encode_rows(schema, test_clean)
        _refuse_unreadable_training(train_rows)
        training_tree = MerkleTree(train_rows, key=contributor_key(self.account.address))
        test_tree = MerkleTree(test_rows, keys=[test_row_nonce(salt, i) for i in range(len(test_rows))])
        linear = None
        if onchain:
            weights, intercept = model.to_onchain()
            bound = min(2**40, round(schema.max_abs * LINEAR_SCALE))
            linear = LinearTerms(tuple(weights), intercept, bound)
        secret = {"salt": salt.hex(), "sealed": "1"}
        pending_secret: Path | None = None
        intent = self._intent("publish")
        try:
            with intent:
                model_cid = intent.pin(save_model(model))
                train_cid = intent.pin(to_parquet(train_clean, schema))
                test_cid = intent.pin(seal(to_parquet(test_clean, schema), salt))  # unreadable until the reveal
                metadata = ModelMetadata(
                    name=name,
                    task="classification",
                    framework=framework_of(model),
                    feature_schema=schema,
                    license=license,
                    description=description,
                    estimator=f"{type(model).__module__}.{type(model).__qualname__}",
                    lineage={"version": 1, "training_data_cids": [train_cid], "trained_on_rows": len(train_clean)},
                )
                metadata_cid = intent.pin(metadata.to_json())
                evaluation_cid = intent.pin(_evaluation(accuracy, len(test_clean), 1))
                commitment = self.market.test_set_commitment(salt, test_cid)
                secret["test_cid"] = test_cid
                # Kept before sending, under the commitment: a publish interrupted, then found mined, still has its
                # salt (without it the test set could never be revealed, nor copies of test rows proven).
                pending_secret = self._save_secret_for(commitment, secret)
                receipt = self.market.publish_model(
                    self.account,
                    name=name,
                    model_cid=model_cid,
                    metadata_cid=metadata_cid,
                    test_set_commitment=commitment,
                    terms=terms,
                    schema=onchain_schema(schema),
                    training_root=training_tree.root,
                    training_row_count=len(train_rows),
                    test_root=test_tree.root,
                    test_row_count=len(test_rows),
                    linear=linear,
                    reward_pool=to_wei(pool),
                    accuracy_bps=round(accuracy * 10_000),
                    evaluation_cid=evaluation_cid,
                )
        except BaseException:
            if pending_secret is not None and intent.outcome == "released":
                pending_secret.unlink(missing_ok=True)  # nothing was published: the salt protects nothing
            raise
        model_id = receipt.event("ModelPublished").args["model_id"]
        self._save_secret(model_id, secret)
        assert pending_secret is not None
        pending_secret.unlink(missing_ok=True)
        self._record_balances(receipt)
        return self.model(model_id)

    def reveal_test_set(self, model: int | str) -> Receipt:
        """Reveal the hidden test set (salt and CID) so anyone can re-check the published accuracies."""
        self._settle()
        model_id = self.resolve_model(model, prefer_own=True)
        secret = self._load_secret(model_id)
        receipt = self.market.reveal_test_set(self.account, model_id, bytes.fromhex(secret["salt"]), secret["test_cid"])
        self._record_balances(receipt)
        return receipt

    # ------------------------------------------------------------------------------------------------ contributors
    def contribute(self, model: int | str, frame: pd.DataFrame) -> Submission:
        """Validate, store and submit a DataFrame as one batch, paying the deposit for every row.

        Rows the model already has (in an earlier submission or the owner's training data) are refused before
        anything moves: the contract would let anyone prove them copies and burn their deposit. The model's owner is
        refused the rows of its hidden test set too (:meth:`preview` says which): contributing them would publish
        them. The file is stored once the transaction is mined (kept privately until then; an interrupted call's
        file is stored by the next call that finds it mined). A frame beyond one file's bounds is refused:
        :meth:`contribute_many` sends it as several files.
        """
        self._settle()
        model_id = self.resolve_model(model)
        info = self._model_info(model_id)
        self._refuse_own_test_rows(model_id, frame, info=info)
        training = self._checked_training(model_id, info)
        receipt, _ = contribute_dataframe(
            self.market, self.storage, self.account, model_id, frame, training_hashes=training, info=info
        )
        submission_id = receipt.event("SubmissionAdded").args["submission_id"]
        return self._record_balances(receipt, reads=[("getSubmission", submission_id)])[0]

    def contribute_many(self, model: int | str, frame: pd.DataFrame, *, progress: bool = True) -> list[Submission]:
        """:meth:`contribute` a DataFrame of any size: one file and one transaction for every part the file bounds
        need (:data:`~colearn_jupyter.formats.data.MAX_FILE_ROWS` rows, 32 MiB of rows), in order.

        The whole DataFrame is validated before anything is sent: a row repeated anywhere in it, across parts too,
        is refused as within one file. Each part is then sent exactly as :meth:`contribute` sends one (stored once
        mined, never lost to an interruption), with a progress bar when there is more than one
        (``progress=False``: none). If a part fails, the parts before it stay on chain and
        :class:`~colearn_jupyter.contributions.ContributionIncomplete` says which and the row to go on from
        (``error.submissions``, ``error.next_row``).
        """
        self._settle()
        model_id = self.resolve_model(model)
        info = self._model_info(model_id)
        self._refuse_own_test_rows(model_id, frame, info=info)
        try:
            receipts = contribute_frame(
                self.market,
                self.storage,
                self.account,
                model_id,
                frame,
                info=info,
                training_hashes=self._checked_training(model_id, info),
                progress=progress,
            )
        except ContributionIncomplete as error:
            self._record_balances(*error.receipts)
            raise
        ids = [r.event("SubmissionAdded").args["submission_id"] for r in receipts]
        return self._record_balances(*receipts, reads=[("getSubmissions", ids)])[0] if ids else []

    def _model_info(self, model_id: int) -> ModelInfo:
        """A model as the home's index has it (what never changes of it: owner, terms, metadata CID), read from
        the chain when the index does not have it yet (which refuses an unknown model)."""
        return market_index(self.market).model(model_id) or self.market.model(model_id)

    def preview(self, model: int | str, frame: pd.DataFrame) -> dict[str, Any]:
        """What contributing ``frame`` would do, without doing it: rows, deposit, and the validation result.

        ``problem`` is what :meth:`contribute` would refuse (``""`` when nothing): a schema fault, rows the model
        already has, or, for the model's owner, rows of its own hidden test set."""
        model_id = self.resolve_model(model)
        info = self.market.model(model_id)
        schema = model_metadata(self.market, self.storage, model_id).feature_schema
        try:
            training = self._checked_training(model_id, info)
            known = RowIndex.build(self.market, self.storage, model_id, schema, training_hashes=training)
            self._refuse_own_test_rows(model_id, validate(frame, schema, accepted=known), schema)
            problem = ""
        except (SchemaError, UnverifiableTrainingSet) as error:
            problem = str(error)
        rows = len(frame) if isinstance(frame, pd.DataFrame) else 0
        return {
            "model": info.name,
            "rows": rows,
            "deposit": rows * info.terms.deposit_per_row,
            "reward if accepted": rows * info.terms.reward_per_row,
            "valid": not problem,
            "problem": problem,
            "schema": schema,
        }

    def _refuse_own_test_rows(
        self, model_id: int, frame: pd.DataFrame, schema: FeatureSchema | None = None, info: ModelInfo | None = None
    ) -> None:
        """Raise :class:`SchemaError` naming the rows of ``frame`` that are in the hidden test set of ``model_id``,
        when this account owns the model and this home holds the set. Anyone else cannot know the hidden rows (and
        is not told them: that would reveal the test set), so nothing is checked for them."""
        if (info or self.market.model(model_id)).owner.lower() != self.account.address.lower():
            return
        test = self._test_rows(model_id)
        if not test:  # published from another home: its test set is not here
            return
        schema = schema or model_metadata(self.market, self.storage, model_id, info).feature_schema
        digests = row_hashes(encode_rows(schema, validate(frame, schema)))
        own = [position for position, digest in enumerate(digests) if digest in test]
        if own:
            shown = ", ".join(map(str, own[:10])) + (f" and {len(own) - 10} more" if len(own) > 10 else "")
            raise SchemaError(
                f"row{'s' * (len(own) > 1)} {shown} of this DataFrame {'are' if len(own) > 1 else 'is'} in the hidden "
                f"test set of your own model {model_id}: contributing them would publish them. Contribute new rows "
                "only",
                own,
            )

    def claim(self, submission: int | None = None) -> int:
        """Claim every settled submission of this account (or one), then withdraw; returns the wei withdrawn.

        A claim with nothing to claim or withdraw sends nothing (and adds nothing to the balance history).
        """
        self._settle()
        now = self.chain.timestamp()
        candidates = [self.market.submission(submission)] if submission else self.my_submissions()
        with self._recording() as receipts:
            for sub in candidates:
                if not sub.settled and sub.window_ends_at <= now and sub.open_challenges == 0:
                    receipts.append(self.market.claim(self.account, sub.id))
            if not self.market.credit_of(self.account.address):
                return 0
            receipt = self.market.withdraw(self.account)
            receipts.append(receipt)
        # What the withdrawal paid, as its own event says: a verdict mined between the read above and the
        # withdrawal (the owner resolving this account's challenge, say) is paid too and must be reported too.
        return sum(e.args["amount"] for e in receipt.events if e.name == "Withdrawn")

    def locked_deposits(self, submissions: Iterable[Submission] | None = None) -> int:
        """Wei of this account's deposits still locked: rows not rejected, of submissions not yet claimed."""
        mine = self.my_submissions() if submissions is None else submissions
        return sum((s.row_count - s.rows_rejected) * s.deposit_per_row for s in mine if not s.settled)

    def my_submissions(self) -> list[Submission]:
        """Every submission this account made (one log query, then one view call per submission)."""
        mine = []
        for log in self.market.contract.events.SubmissionAdded.get_logs(
            argument_filters={"contributor": self.account.address}, from_block=0
        ):
            mine.append(self.market.submission(log["args"]["submissionId"]))
        return mine

    # ------------------------------------------------------------------------------------------------ verifiers
    def pending(self, model: int | str | None = None) -> pd.DataFrame:
        """Unsettled submissions (of one model or all): rows, contributor, window end, open challenges."""
        index = market_index(self.market)
        model_ids = [self.resolve_model(model)] if model is not None else index.model_ids()
        now = self.chain.timestamp()
        records = []
        for model_id in model_ids:
            records += [
                {
                    "submission": s.id,
                    "model": s.model_id,
                    "contributor": s.contributor,
                    "rows": s.row_count,
                    "data CID": s.data_cid or "(on chain)",
                    "window left": format_duration(max(0, s.window_ends_at - now)),
                    "open challenges": s.open_challenges,
                    "rejected": s.rows_rejected,
                    "challengeable": s.window_ends_at > now,
                }
                for s in index.submissions(model_id)
                if not s.settled
            ]
        columns = ["submission", "model", "contributor", "rows", "data CID", "window left", "open challenges",
                   "rejected", "challengeable"]  # fmt: skip
        return pd.DataFrame.from_records(records, columns=columns).set_index("submission")

    def verify(self, submission_id: int) -> VerificationReport:
        """Fetch a submission, check it against its commitment, and judge every row; plan the challenges.

        Nothing in the file is trusted: a missing file, a row count or root that does not match, rows that do not
        decode, numbers beyond the model's bounds and copies are findings in the report, never errors. Rows with
        an objective fault are not given to the model.
        """
        return self._verify(self.market.submission(submission_id))[0]

    def _verify(self, submission: Submission) -> tuple[VerificationReport, FileCheck | None, FeatureSchema]:
        """:meth:`verify`, also returning the file check it made (None for an on-chain row) and the schema."""
        submission_id, model_id = submission.id, submission.model_id
        schema = model_metadata(self.market, self.storage, model_id).feature_schema
        if submission.on_chain_row:
            return self._verify_onchain(submission), None, schema
        states = self._row_states(submission_id)
        early: list[_EarlyScores | None] = []
        check = inspect_submission(self.market, self.storage, submission, schema,
                                   decoded=lambda frame, rows: early.append(self._score_early(model_id, schema, frame,
                                                                                              rows)))  # fmt: skip
        if not check.usable:
            plan = () if submission.settled else self._unusable_file_plan(submission, check, states)
            report = VerificationReport(submission_id, model_id, check.cid_ok, False, check.cid_ok and check.count_ok,
                                        pd.DataFrame(), check.problem, check.count_ok, plan)  # fmt: skip
            return report, check, schema
        rows = self._judge_rows(submission, schema, check, states, early[0] if early else None)
        plan: tuple[tuple[int | None, str], ...] = ()
        if not submission.settled and self.chain.timestamp() < submission.window_ends_at:
            verdicts = rows["verdict"].to_numpy()  # rows are numbered 0, 1, ...: positions are row numbers
            judged = [i for i, state in states.items() if state == "label judged"]
            bad = np.flatnonzero(verdicts == "bad")  # neither rejected nor challenged
            suspicious = np.flatnonzero((verdicts == "suspicious") & ~np.isin(np.arange(len(rows)), judged))
            kinds = rows["challenge"].to_numpy()[bad].tolist()
            plan = tuple(zip(bad.tolist(), map(str, kinds), strict=True)) + tuple(
                (i, "label") for i in suspicious.tolist()
            )
        schema_ok = not rows["fault"].astype(bool).any()
        return VerificationReport(submission_id, model_id, True, True, schema_ok, rows, "", True, plan), check, schema

    def _score_early(
        self, model_id: int, schema: FeatureSchema, frame: pd.DataFrame, rows: Sequence[bytes]
    ) -> _EarlyScores | None:
        """Start the model's predictions of every row of a file without an objective fault, on another thread (the
        model runs in its worker process), while the file's tree is built; the judge keeps those of the rows
        without a finding. A model that cannot be loaded fails the judge, as it would have then. None when the
        rows cannot be prepared for the model here (the judge then scores its rows itself, and says why)."""
        faults = fault_numbers(schema, rows)
        given = np.flatnonzero(faults == 0)
        if not len(given):
            return _EarlyScores(faults, given, None)
        try:
            model = self._current_model(model_id)
        except Exception as error:  # noqa: BLE001 (raised by the judge, if it needs the model)
            future: Future[np.ndarray] = Future()
            future.set_exception(error)
            return _EarlyScores(faults, given, future)
        try:
            features = frame if len(given) == len(frame) else frame.iloc[given]
            features = _split(features.astype(_dtypes(schema)), schema)[0]
        except Exception:  # noqa: BLE001 (a file whose tree may not even match its root: nothing is raised here)
            return None
        return _EarlyScores(faults, given, _scoring().submit(_predicted, model, features, schema))

    def _judge_rows(
        self,
        submission: Submission,
        schema: FeatureSchema,
        check: FileCheck,
        states: dict[int, str],
        early: _EarlyScores | None = None,
    ) -> pd.DataFrame:
        """Every row's finding and verdict: its objective fault, else whether it copies a row of the training set,
        of an earlier submission, an earlier row of this file or (when this home holds it) a row of the hidden test
        set; the model predicts the rest. Judged in arrays: only rows with a finding take Python work each.
        ``early``: the faults, and predictions started while the tree was built (:meth:`_score_early`)."""
        model_id = submission.model_id
        index = RowIndex.build(
            self.market,
            self.storage,
            model_id,
            schema,
            before=submission.id,
            training_hashes=self._training_hashes(model_id),
        )
        count = len(check.rows)
        if check.tree is not None and check.tree.row_hashes is not None:
            digests = check.tree.row_hashes  # hashed once, when the tree was built
        else:
            digests = np.frombuffer(b"".join(check.hashes()), dtype=np.uint8).reshape(-1, 32)
        faults = early.faults if early is not None else fault_numbers(schema, check.rows)
        sources, source_ids, source_rows = index.sources(digests)
        first = first_occurrences(digests)
        kinds = np.where(faults != 0, _FORMAT, 0).astype(np.int8)
        kinds[(kinds == 0) & (sources == TRAINING)] = _TRAINING_COPY
        kinds[(kinds == 0) & (sources == SUBMISSION)] = _EARLIER_SUBMISSION
        kinds[(kinds == 0) & (first != np.arange(count))] = _EARLIER_ROW
        test_rows = np.full(count, -1, dtype=np.int64)
        test = self._test_rows(model_id)
        if test:
            rest = np.flatnonzero(kinds == 0)
            test_heads = heads(np.frombuffer(b"".join(test), dtype=np.uint8).reshape(-1, 32))
            for position in rest[np.isin(heads(digests[rest]), test_heads)].tolist():
                found = test.get(digests[position].tobytes())
                if found is not None:
                    kinds[position], test_rows[position] = _TEST_COPY, found
        copies = {}  # position -> the row it copies, for the rows that copy one
        for position in np.flatnonzero(kinds >= _TRAINING_COPY).tolist():
            kind = kinds[position]
            if kind == _TRAINING_COPY:
                copies[position] = f"training row {source_rows[position]}"
            elif kind == _EARLIER_SUBMISSION:
                copies[position] = f"submission {source_ids[position]} row {source_rows[position]}"
            elif kind == _EARLIER_ROW:
                copies[position] = f"row {first[position]}"
            else:
                copies[position] = f"test row {test_rows[position]}"
        frame = check.frame if check.frame is not None else pd.DataFrame()
        labels = frame[schema.label.name].to_numpy() if not frame.empty else np.array([], dtype=object)
        clean = np.flatnonzero(kinds == 0)
        predicted: Any = np.full(count, None, dtype=object)
        wrong = np.zeros(count, dtype=bool)  # predicted, and not the row's label
        if len(clean) and early is not None and early.future is not None:
            values = early.future.result()  # of the rows without a fault: those without a finding are kept
            scored = _column(values[np.searchsorted(early.given, clean)])
        elif len(clean):
            model = self._current_model(model_id)
            features = frame if len(clean) == count else frame.iloc[clean]
            scored = _column(_predicted(model, _split(features.astype(_dtypes(schema)), schema)[0], schema))
        if len(clean):
            wrong[clean] = _differ(scored.to_numpy(), labels[clean])
            predicted = _with_gaps(scored, clean, count)
        verdicts = np.where(kinds != 0, _BAD, np.where(wrong, _SUSPICIOUS, _OK)).astype(np.int8)
        for position, state in states.items():
            if not 0 <= position < count:
                continue
            if state in ("rejected", "challenged"):
                verdicts[position] = _VERDICTS.index(state)
            elif not kinds[position] and state == "label challenged":
                verdicts[position] = _VERDICTS.index("challenged")
        challenges = kinds.copy()
        judged = [i for i, state in states.items() if state == "label judged"]  # one label challenge per row
        label = (verdicts == _SUSPICIOUS) & ~np.isin(np.arange(count), judged)
        challenges[label] = _KINDS.index("label")
        fault_names = np.where(faults != 0, len(_KINDS) + faults.astype(np.int64), kinds)
        copy_codes = np.zeros(count, dtype=np.int64)
        copy_codes[list(copies)] = np.arange(1, len(copies) + 1)
        rows = pd.DataFrame({
            "label": labels,
            "predicted": predicted,
            "fault": _text([*_KINDS, *_FAULT_NAMES], fault_names),
            "copy of": _text(["", *copies.values()], copy_codes),
            "challenge": _text(list(_KINDS), challenges),
            "verdict": _text(list(_VERDICTS), verdicts),
        })  # fmt: skip
        rows.index.name = "row"
        return rows

    def _unusable_file_plan(
        self, submission: Submission, check: FileCheck, states: dict[int, str]
    ) -> tuple[tuple[int | None, str], ...]:
        """What to challenge in a batch whose file is unusable: the whole file, judged by the owner (nobody can
        answer it from a copy of the rows kept to themselves), unless the model's owner is asking, or the file was
        challenged already; then, once that challenge has ended, one row to demand (one the file cannot hold, or
        the last one)."""
        if self.chain.timestamp() >= submission.window_ends_at:
            return ()
        owner = self.market.model(submission.model_id).owner == self.account.address
        if not submission.file_judged and not owner:
            return ((None, "file"),)
        if submission.file_judged and self._file_challenge(submission.id, pending=True):
            return ()  # the owner is judging the file: a demand now could be answered from a withheld copy
        start = len(check.rows) if check.cid_ok and len(check.rows) < submission.row_count else submission.row_count - 1
        for index in [start, *range(submission.row_count - 1, -1, -1)]:
            if index not in states:
                return ((index, "availability"),)
        return ()

    def _file_challenge(self, submission_id: int, *, pending: bool = False) -> int | None:
        """The file challenge of a submission (the pending one only, with ``pending``), or None."""
        for log in self.market.contract.events.RowChallenged.get_logs(
            argument_filters={"submissionId": submission_id}, from_block=0
        ):
            if log["args"]["rowIndex"] == WHOLE_FILE:
                challenge_id = log["args"]["challengeId"]
                if not pending or self.market.challenge_info(challenge_id).status == "pending":
                    return challenge_id
        return None

    def _row_states(self, submission_id: int) -> dict[int, str]:
        """What the chain says of each challenged row: ``challenged`` (a challenge is pending; ``label challenged``
        when it is a label challenge, which does not shield the row from faults the contract judges), ``rejected``,
        ``label judged`` (a label challenge ended without rejecting it: the contract allows one per row) or
        ``revealed`` (produced on chain)."""
        order = {"revealed": 0, "label judged": 1, "rejected": 2, "challenged": 3, "label challenged": 3}
        states: dict[int, str] = {}
        for log in self.market.contract.events.RowChallenged.get_logs(
            argument_filters={"submissionId": submission_id}, from_block=0
        ):
            info = self.market.challenge_info(log["args"]["challengeId"])
            if info.row_index is None:
                continue  # a challenge of the whole file
            if info.status == "pending":
                state = "label challenged" if info.kind == "label" else "challenged"
            elif self.market.is_row_rejected(submission_id, info.row_index):
                state = "rejected"
            else:
                state = "label judged" if info.kind == "label" else "revealed"
            if order[state] >= order[states.get(info.row_index, "revealed")]:
                states[info.row_index] = state
        return states

    def _verify_onchain(self, submission: Submission) -> VerificationReport:
        features, label = self.market.row(submission.id)
        # the perceptron as it is now: it learns a row only once the row is claimed, so not this one yet
        predicted = self.market.predict(submission.model_id, features)
        states = self._row_states(submission.id)
        state = states.get(0, "")
        verdict = (
            "challenged" if state == "label challenged" else state if state in ("rejected", "challenged") else "ok"
        )
        if verdict == "ok" and predicted is not None and predicted != label:
            verdict = "suspicious"
        challenge = "label" if verdict == "suspicious" and state != "label judged" else ""
        rows = pd.DataFrame([{"label": label, "predicted": predicted, "fault": "", "copy of": "",
                              "challenge": challenge, "verdict": verdict}])  # fmt: skip
        rows.index.name = "row"
        open_window = not submission.settled and self.chain.timestamp() < submission.window_ends_at
        plan = ((0, "label"),) if challenge and open_window else ()
        return VerificationReport(submission.id, submission.model_id, True, True, True, rows, "", True, plan)

    def challenge(self, submission_id: int, rows: Iterable[int | None] | None = None) -> list[int]:
        """Challenge rows of a submission (default: :meth:`verify`'s plan); returns the challenge ids.

        Each row is challenged the way that fits it: a format fault or a copy is proven to the contract (judged at
        once, no bond), a label the model disagrees with goes to the owner (with the bond). A file that is missing
        or does not match its commitment is challenged as a whole (``None`` among ``rows``; with the bond), and the
        owner judges it; a row of such a file can also be demanded (with the bond; unanswered, the batch is
        forfeited). Every challenge is committed first and revealed in the next block, so nobody can copy it.
        """
        self._settle()
        submission = self.market.submission(submission_id)
        report, check, schema = self._verify(submission)
        planned = dict(report.plan)
        chosen = report.suggested if rows is None else [None if i is None else int(i) for i in rows]
        for index in chosen:
            if index is not None and not 0 <= index < submission.row_count:
                count = submission.row_count
                raise ColearnError(f"submission {submission_id} has {count} rows, so there is no row {index}")
        ids = []
        with self._recording() as receipts:
            for index in chosen:
                if index is None:
                    receipt = self.market.challenge_file(self.account, submission_id)
                else:
                    kind = planned.get(index, "label" if check is None or check.usable else "availability")
                    receipt = self._challenge_row(submission, schema, check, report, index, kind)
                receipts.append(receipt)
                ids.append(receipt.event("RowChallenged").args["challenge_id"])
        return ids

    def _challenge_row(
        self,
        submission: Submission,
        schema: FeatureSchema,
        check: FileCheck | None,
        report: VerificationReport,
        index: int,
        kind: str,
    ) -> Receipt:
        market, sid = self.market, submission.id
        if kind == "availability":
            return market.challenge_availability(self.account, sid, index)
        if check is None:  # a row stored on chain
            return market.challenge_label(self.account, sid, index, encode_onchain_row(*market.row(sid)), [])
        if not check.usable or check.tree is None:
            raise ColearnError(
                f"submission {sid}'s file does not match its commitment ({check.problem}), so its rows cannot be "
                "proven; demand one instead (its plan suggests which)"
            )
        row, proof = check.rows[index], check.tree.proof(index)
        if kind == "label":
            return market.challenge_label(self.account, sid, index, row, proof)
        if kind == "format":
            return market.challenge_format(self.account, sid, index, row, proof, onchain_schema(schema))
        return market.challenge_duplicate(
            self.account, sid, index, row, proof, self._source(submission, schema, check, index, kind)
        )

    def _source(
        self, submission: Submission, schema: FeatureSchema, check: FileCheck, index: int, kind: str
    ) -> DuplicateSource:
        """The evidence that row ``index`` repeats an earlier committed row."""
        from eth_utils import keccak

        digest = keccak(check.rows[index])
        if kind == "training copy":
            rows, tree = self._training(submission.model_id)
            position = [keccak(r) for r in rows].index(digest)
            return DuplicateSource("training", position, tuple(tree.proof(position)))
        if kind == "test copy":
            position = self._test_rows(submission.model_id)[digest]
            salt = bytes.fromhex(self._load_secret(submission.model_id)["salt"])
            test_rows = self._test_rows_list(submission.model_id)
            nonces = [test_row_nonce(salt, i) for i in range(len(test_rows))]
            tree = MerkleTree(test_rows, keys=nonces)
            return DuplicateSource("test", position, tuple(tree.proof(position)), nonce=nonces[position])
        earlier = [i for i, r in enumerate(check.rows[:index]) if keccak(r) == digest]
        if earlier:
            assert check.tree is not None
            return DuplicateSource("submission", earlier[0], tuple(check.tree.proof(earlier[0])), submission.id)
        index_ = RowIndex.build(self.market, self.storage, submission.model_id, schema, before=submission.id)
        found = index_.source(digest)
        if found is None:
            raise ColearnError(f"row {index} of submission {submission.id} repeats no row committed before it")
        _, source_id, position = found
        source = self.market.submission(source_id)
        source_check = inspect_submission(self.market, self.storage, source, schema)
        assert source_check.tree is not None  # the index only holds rows of usable files
        return DuplicateSource("submission", position, tuple(source_check.tree.proof(position)), source_id)

    def answer(self, challenge_id: int | None = None) -> list[int]:
        """Produce the rows demanded by pending availability challenges (one, or all) whose files this session
        can read; each answer earns the challenger's bond. Returns the challenges answered.

        Contributors should run it during their windows (any holder of the file may answer, so a batch is never
        forfeited while its file is available). Files of contributions interrupted while their transactions were
        pending are stored first, once found mined.
        """
        self._settle()
        answered = []
        now = self.chain.timestamp()
        with self._recording() as receipts:
            for info, submission in self._pending_challenges(challenge_id, kinds=("availability",)):
                if info.resolve_by < now:
                    continue  # past its time-out: it can only be expired now
                try:
                    schema = model_metadata(self.market, self.storage, submission.model_id).feature_schema
                except (ColearnError, OSError, ValueError):
                    continue  # a model whose metadata cannot be read: its rows cannot be read either (nor block others)
                check = inspect_submission(self.market, self.storage, submission, schema)
                if check.usable and check.tree is not None:
                    row = info.row_index
                    proof = check.tree.proof(row)
                    receipts.append(self.market.answer_challenge(self.account, info.id, check.rows[row], proof))
                    answered.append(info.id)
        return answered

    def expire(self, challenge_id: int | None = None) -> list[int]:
        """Close pending challenges (one, or all) whose time-out has passed; returns the challenges closed.

        An unresolved label challenge returns its bond and the row stands; an unanswered demand forfeits its batch.
        """
        self._settle()
        now = self.chain.timestamp()
        expired = []
        with self._recording() as receipts:
            for info, _ in self._pending_challenges(challenge_id):
                if info.resolve_by < now:
                    receipts.append(self.market.expire_challenge(self.account, info.id))
                    expired.append(info.id)
        return expired

    def _pending_challenges(self, challenge_id: int | None, kinds: Sequence[str] = ()) -> list[tuple[Any, Submission]]:
        ids = (
            [challenge_id]
            if challenge_id is not None
            else [
                log["args"]["challengeId"] for log in self.market.contract.events.RowChallenged.get_logs(from_block=0)
            ]
        )
        found = []
        for cid in ids:
            info = self.market.challenge_info(cid)
            if info.status == "pending" and (not kinds or info.kind in kinds):
                found.append((info, self.market.submission(info.submission_id)))
        return found

    def challenges(self, model: int | str | None = None, *, status: str | None = "pending") -> pd.DataFrame:
        """Challenges (of one model or all; ``status="all"`` or ``None`` for every status, else ``"pending"``,
        ``"upheld"``…), with the challenged row decoded where it was revealed.

        A model whose metadata cannot be read still lists its challenges (without decoded values): one broken
        entry never hides the others.
        """
        status = None if status == "all" else status
        filters = {"modelId": self.resolve_model(model)} if model is not None else {}
        records = []
        schemas: dict[int, FeatureSchema | None] = {}
        for log in self.market.contract.events.RowChallenged.get_logs(argument_filters=filters, from_block=0):
            args = log["args"]
            info = self.market.challenge_info(args["challengeId"])
            if status and info.status != status:
                continue
            model_id = args["modelId"]
            if model_id not in schemas:
                try:
                    schemas[model_id] = model_metadata(self.market, self.storage, model_id).feature_schema
                except (ColearnError, OSError, ValueError):
                    schemas[model_id] = None
            values: dict[str, Any] = {}
            schema = schemas[model_id]
            if schema is not None and args["row"]:
                try:
                    values = decode_row(schema, bytes(args["row"]))
                except SchemaError:
                    values = {}
            line = (info.id, model_id, info.submission_id, info.row_index, info.kind, info.status, info.challenger,
                    info.resolve_by)  # fmt: skip
            fixed = dict(zip(CHALLENGE_FIELDS, line, strict=True))
            # a stranger's column named like a fixed one ("challenger", "kind"…) never overwrites it
            records.append({**fixed, **{f"value: {k}" if k in fixed else k: v for k, v in values.items()}})
        if not records:
            return pd.DataFrame(columns=list(CHALLENGE_FIELDS)).set_index("challenge")
        frame = pd.DataFrame.from_records(records).set_index("challenge")
        return frame.astype({"row": "Int64"})  # a challenge of the whole file has no row (<NA>)

    def resolve(self, challenge_id: int, upheld: bool | None = None) -> bool:
        """The owner's verdict on a label or file challenge; ``upheld=None`` takes :meth:`judge`'s suggestion (the
        current model judges a label; a file is upheld when this session cannot fetch it or it does not hold the
        committed rows).

        Whatever the verdict, the owner's pool pays the challenger the same fee, and the rewards of rejected rows
        are burned with their deposits: no verdict profits the owner or anyone it could collude with. A label is
        a matter for a person: the model's opinion is a suggestion, blind to rows labelled the way it errs.
        """
        self._settle()
        if upheld is None:
            upheld = self.judge(challenge_id)
        self._record_balances(self.market.resolve_challenge(self.account, challenge_id, upheld))
        return upheld

    def judge(self, challenge_id: int) -> bool:
        """What the owner's client finds, as a suggested verdict: for a label challenge, whether the current model
        disagrees with the row's label (the row looks bad); for a file challenge, whether the file cannot be fetched
        from this session's storage or does not hold the committed rows."""
        info = self.market.challenge_info(challenge_id)
        submission = self.market.submission(info.submission_id)
        if info.kind == "file":
            try:
                schema = model_metadata(self.market, self.storage, submission.model_id).feature_schema
            except (ColearnError, OSError, ValueError):
                return True  # a model whose schema cannot be read: nobody can read the rows either
            return not inspect_submission(self.market, self.storage, submission, schema).usable
        logs = self.market.contract.events.RowChallenged.get_logs(
            argument_filters={"challengeId": challenge_id}, from_block=0
        )
        raw = bytes(logs[0]["args"]["row"])
        if submission.on_chain_row:
            features, label = self.market.row(submission.id)
            return self.market.predict(submission.model_id, features) != label
        schema = model_metadata(self.market, self.storage, submission.model_id).feature_schema
        if row_fault(schema, raw) != RowFault.NONE:
            return True
        values = decode_row(schema, raw)
        frame = pd.DataFrame([values]).astype(_dtypes(schema))
        return bool(_score(self._current_model(submission.model_id), frame, schema)["verdict"].iloc[0] == "suspicious")

    # ------------------------------------------------------------------------------------------------ owner
    def retrain(self, model: int | str, estimator: Any = None) -> ModelCard:
        """Retrain on the original training data plus every accepted row, evaluate, publish a new version.

        Accepted rows are the rows of claimed submissions that were not rejected; a file that cannot be fetched or
        does not match its commitment is left out (with a warning), never blocking the retrain, and rows that repeat
        training, test or earlier rows are dropped. An on-chain linear model is not refitted: its current on-chain
        weights (learned from accepted on-chain rows) become the new version.
        """
        self._settle()
        model_id = self.resolve_model(model, prefer_own=True)
        metadata = model_metadata(self.market, self.storage, model_id)
        schema = metadata.feature_schema
        current = self._current_model(model_id)
        test = read_data(self._test_set_bytes(model_id), schema)
        info = self.market.model(model_id)
        if info.has_linear_model:
            weights, intercept, _ = self.market.linear_model(model_id)
            new_model: Any = LinearModel.from_onchain(weights, intercept, features=schema.names[:-1],
                                                      classes=list(current.classes))  # fmt: skip
            rows = 0
        else:
            accepted = [frame for _, frame in self.accepted_rows(model_id, stacklevel=3)]
            data = pd.concat([self._training_frame(model_id), *accepted], ignore_index=True).astype(_dtypes(schema))
            new_model = _fit(estimator if estimator is not None else current, data, schema)
            rows = len(data)
        accuracy = _accuracy(new_model, test, schema)
        versions = self.market.versions(model_id)
        with self._intent("version") as intent:  # a refused version leaves no pinned files behind
            model_cid = intent.pin(save_model(new_model))
            evaluation_cid = intent.pin(_evaluation(accuracy, len(test), len(versions) + 1, rows))
            receipt = self.market.publish_version(
                self.account, model_id, model_cid, round(accuracy * 10_000), evaluation_cid
            )
        self._record_balances(receipt)
        return self.model(model_id)

    def accepted_rows(self, model: int | str, *, stacklevel: int = 2) -> list[tuple[Submission, pd.DataFrame]]:
        """The rows :meth:`retrain` adds to the owner's training data, submission by submission, in order.

        For every claimed off-chain submission whose file is fetched whole and matches its commitment (CID, row count
        and Merkle root, checked as :meth:`verify` does), the rows that were not rejected, have no format fault and
        repeat no training row, no hidden test row (known to the owner's home only) and no earlier accepted row. A
        file that cannot be used is left out with a warning (``stacklevel`` points it at the caller).

        >>> [(s.id, len(rows)) for s, rows in owner.accepted_rows("iris")]  # doctest: +SKIP
        [(3, 30), (4, 27)]
        """
        import warnings

        from eth_utils import keccak

        model_id = self.resolve_model(model, prefer_own=True)
        schema = model_metadata(self.market, self.storage, model_id).feature_schema
        seen = {keccak(row) for row in self._test_rows_list(model_id)}
        seen |= {keccak(row) for row in self._training(model_id)[0]}
        rejected = self._rejected_rows(model_id)
        out = []
        for submission in market_index(self.market).submissions(model_id):
            if not submission.claimed or submission.on_chain_row:
                continue
            check = inspect_submission(self.market, self.storage, submission, schema)
            if not check.usable or check.frame is None:
                warnings.warn(f"submission {submission.id} left out: {check.problem}", stacklevel=stacklevel)
                continue
            keep = []
            for position, row in enumerate(check.rows):
                digest = keccak(row)
                if (submission.id, position) in rejected or digest in seen or row_fault(schema, row) != RowFault.NONE:
                    continue
                seen.add(digest)
                keep.append(position)
            out.append((submission, check.frame.iloc[keep]))
        return out

    def _current_model(self, model_id: int) -> Any:
        """The current version of a model: loaded here if this session's account published it, otherwise an
        :class:`~colearn_jupyter.sandbox.IsolatedModel` (checked now, loaded and run only in the worker process)."""
        return self._model_at(model_id, self.market.versions(model_id)[-1].model_cid)

    def _model_at(self, model_id: int, model_cid: str) -> Any:
        """A version's model: loaded here if this session's account published it, otherwise isolated."""
        try:
            data = self.storage.cat(model_cid)
        except MemoryError:  # the fetch limit, not the machine: a refusal of this file like any other
            raise UnsafeFormatError(
                f"the model file {model_cid} is larger than the {CAT_LIMIT:,} bytes colearn fetches for a model: it "
                "was not fetched further"
            ) from None
        if self.market.model(model_id).owner.lower() == self.account.address.lower():
            return load_model(data)
        return IsolatedModel(data)

    def _rejected_rows(self, model_id: int) -> set[tuple[int, int]]:
        """(submission, row) of every row of the model rejected by a challenge (one log query)."""
        ids = {s.id for s in market_index(self.market).submissions(model_id)}
        return {
            (log["args"]["submissionId"], log["args"]["rowIndex"])
            for log in self.market.contract.events.RowRejected.get_logs(from_block=0)
            if log["args"]["submissionId"] in ids
        }

    def _training(self, model_id: int) -> tuple[list[bytes], MerkleTree | None]:
        """The owner's training rows (canonical) and their tree, checked against the root on chain.

        Empty when the training file cannot be read or does not match: only the owner could then tell which rows
        copy it, so contributing is refused (:meth:`_checked_training`). Like committed submission files, a file
        that was read is kept for the process.
        """
        info = self._model_info(model_id)
        # what a model commits to and publishes, on this chain: another devnet's model of that id differs
        key = (self.chain.chain_id, self.market.address, model_id, info.owner, info.training_root, info.metadata_cid)
        if key not in _TRAINING:
            rows: list[bytes] = []
            tree = None
            try:
                metadata = model_metadata(self.market, self.storage, model_id)
                cids = metadata.lineage.get("training_data_cids", [])
                if cids and info.training_row_count:
                    try:
                        data = fetch_file(self.storage, cids[0])
                        _, rows = read_rows(data, metadata.feature_schema, info.training_row_count)
                    except SchemaError:  # unreadable, or beyond what a client decodes: for good, so it is kept
                        rows = []
                    tree = MerkleTree(rows, key=contributor_key(info.owner)) if rows else None
                    matches = tree is not None and "0x" + tree.root.hex() == info.training_root
                    if not matches or len(rows) != info.training_row_count:
                        rows, tree = [], None
            except (ColearnError, OSError, ValueError):
                return [], None  # not cached: a file that cannot be fetched now may be later
            _TRAINING[key] = (rows, tree)
        return _TRAINING[key]

    def _training_hashes(self, model_id: int, info: ModelInfo | None = None) -> tuple[bytes, ...]:
        """The hashes of the owner's training rows, in order (none when :meth:`_training` finds no usable file):
        read from the home's row-hash cache (:mod:`.rowcache`) when any process of the home hashed that file, so
        a new kernel's first contribution neither fetches nor hashes it. ``info``: the model, if read already."""
        info = info or self.market.model(model_id)
        if not info.training_row_count:
            return ()
        try:
            metadata = model_metadata(self.market, self.storage, model_id, info)
        except (ColearnError, OSError, ValueError):
            return ()
        cids = metadata.lineage.get("training_data_cids", [])
        if not cids:
            return ()
        schema = json.dumps(metadata.feature_schema.to_dict(), sort_keys=True)
        key = ("training", str(cids[0]), info.training_root, info.owner, schema)
        cache = row_hash_cache(self.chain.home)
        hashes = cache.get(key)
        if hashes is None:
            rows, tree = self._training(model_id)
            if tree is None:
                return ()
            hashes = tuple(leaf_hashes(tree, rows))
            cache.put(key, hashes)
        return hashes

    def _checked_training(self, model_id: int, info: ModelInfo) -> tuple[bytes, ...]:
        """:meth:`_training_hashes`, or :class:`UnverifiableTrainingSet` when the model commits to training rows
        that its published training data does not give (unreadable, missing, or another root): a contributor could
        not tell which of its rows the owner may prove copies of them (and take their deposits)."""
        hashes = self._training_hashes(model_id, info)
        if info.training_row_count and len(hashes) != info.training_row_count:
            raise UnverifiableTrainingSet(
                f"model {model_id} commits to {info.training_row_count:,} training rows, but its published training "
                "data cannot be read or does not match that commitment: no one but its owner can tell which rows "
                "copy them, and the owner could take the deposit of any such row. Nothing was contributed. If the "
                "storage was unreachable, try again later; otherwise ask the owner to publish the training data it "
                "committed to"
            )
        return hashes

    def _training_frame(self, model_id: int) -> pd.DataFrame:
        metadata = model_metadata(self.market, self.storage, model_id)
        cids = metadata.lineage.get("training_data_cids", [])
        return read_data(self.storage.cat(cids[0]), metadata.feature_schema) if cids else pd.DataFrame()

    def _test_rows_list(self, model_id: int) -> list[bytes]:
        """The hidden test rows (canonical), when this home published the model; empty otherwise."""
        try:
            secret = self._load_secret(model_id)
        except ColearnError:
            return []
        schema = model_metadata(self.market, self.storage, model_id).feature_schema
        return encode_rows(schema, read_data(self._test_set_bytes(model_id, secret), schema))

    def _test_set_bytes(self, model_id: int, secret: dict[str, str] | None = None) -> bytes:
        """The owner's hidden test set (Parquet), unsealed with the salt kept in this home."""
        secret = secret or self._load_secret(model_id)
        blob = self.storage.cat(secret["test_cid"])
        return unseal(blob, bytes.fromhex(secret["salt"])) if secret.get("sealed") else blob

    def revealed_test_set(self, model: int | str) -> pd.DataFrame | None:
        """The test set a model's owner revealed on chain (None before the reveal), fetched, checked against its
        CID, unsealed with the revealed salt and read under the model's schema: anyone can re-check accuracies."""
        model_id = self.resolve_model(model)
        logs = self.market.contract.events.TestSetRevealed.get_logs(
            argument_filters={"modelId": model_id}, from_block=0
        )
        if not logs:
            return None
        salt, cid = bytes(logs[-1]["args"]["salt"]), cid_from_bytes(bytes(logs[-1]["args"]["testSetCid"]))
        blob = fetch_file(self.storage, cid)  # a data file: fetched within the data-file bound (SchemaError past it)
        data = unseal(blob, salt) if is_sealed(blob) else blob  # test sets published before sealing are plain
        return read_data(data, model_metadata(self.market, self.storage, model_id).feature_schema)

    def _test_rows(self, model_id: int) -> dict[bytes, int]:
        return {digest: i for i, digest in enumerate(row_hashes(self._test_rows_list(model_id)))}

    # ------------------------------------------------------------------------------------------------ history
    def history(self, model: int | str) -> pd.DataFrame:
        """The accuracy history of a model: one row per version, with lineage."""
        model_id = self.resolve_model(model, prefer_own=True)
        records = [
            {
                "version": v.number,
                "parent": v.parent,
                "accuracy": v.accuracy,
                "rows accepted": v.rows_accepted,
                "published": pd.Timestamp(v.published_at, unit="s", tz="UTC"),
                "model CID": v.model_cid,
            }
            for v in self.market.versions(model_id)
        ]
        checks = self.accuracy_checks(model_id)[["measured accuracy", "check"]]
        return pd.DataFrame.from_records(records).set_index("version").join(checks)

    def accuracy_checks(
        self, model: int | str, *, latest_only: bool = False, newest: int = CHECKED_VERSIONS
    ) -> pd.DataFrame:
        """Every version's claimed accuracy beside its accuracy measured on the revealed test set.

        ``check`` is ``verified`` (equal to the basis point the chain records), ``disputed`` (not equal),
        ``unverified`` (the owner has not revealed the test set yet), ``unreadable`` (the version's model cannot
        be loaded or run) or ``unchecked`` (older than the ``newest`` versions, which alone are run: a stranger's
        model of thousands of versions would otherwise take minutes to look at). Anyone can run it once the test
        set is revealed; a stranger's models run isolated. A version's measure is kept for the process (by its
        model file and the test set), so looking again runs nothing.
        """
        model_id = self.resolve_model(model)
        versions = self.market.versions(model_id)
        if latest_only:
            versions = versions[-1:]
        test_cid = self.market.model(model_id).test_set_cid
        test = self.revealed_test_set(model_id) if test_cid else None
        schema = model_metadata(self.market, self.storage, model_id).feature_schema if test is not None else None
        records = []
        for position, v in enumerate(versions):
            measured, check = None, "unverified"
            if test is not None and schema is not None:
                if position < len(versions) - newest:
                    check = "unchecked"
                else:
                    measured = self._measured(model_id, v.model_cid, test_cid, test, schema)
                    check = (
                        "unreadable" if measured is None
                        else "verified" if round(measured * 10_000) == round(v.accuracy * 10_000) else "disputed"
                    )  # fmt: skip
            records.append({"version": v.number, "claimed accuracy": v.accuracy, "measured accuracy": measured,
                            "check": check})  # fmt: skip
        return pd.DataFrame.from_records(records).set_index("version")

    def _measured(
        self, model_id: int, model_cid: str, test_cid: str, test: pd.DataFrame, schema: FeatureSchema
    ) -> float | None:
        """A version's accuracy on the revealed test set (to 4 decimals), None when its model cannot be loaded or
        run; kept for the process, except a failure to fetch (which may pass)."""
        key = (self.chain.chain_id, self.market.address, model_id, model_cid, test_cid)
        if key in _MEASURED:
            _MEASURED.move_to_end(key)
            return _MEASURED[key]
        try:
            measured: float | None = (
                round(_accuracy(self._model_at(model_id, model_cid), test, schema) * 10_000) / 10_000
            )
        except OSError:
            return None
        except (ColearnError, ValueError):
            measured = None
        _MEASURED[key] = measured
        while len(_MEASURED) > _MEASURED_KEPT:
            _MEASURED.popitem(last=False)
        return measured

    def growth(self, model: int | str) -> pd.DataFrame:
        """Rows submitted and accepted over time (from the chain's events)."""
        model_id = self.resolve_model(model, prefer_own=True)
        events = self.market.contract.events
        points = []
        for log in events.SubmissionAdded.get_logs(argument_filters={"modelId": model_id}, from_block=0):
            points.append((log["blockNumber"], "submitted", log["args"]["rowCount"]))
        for log in events.SubmissionClaimed.get_logs(argument_filters={"modelId": model_id}, from_block=0):
            points.append((log["blockNumber"], "accepted", log["args"]["rowsAccepted"]))
        points.sort()
        submitted = accepted = 0
        records = []
        for block, kind, count in points:
            submitted += count if kind == "submitted" else 0
            accepted += count if kind == "accepted" else 0
            stamp = self.chain.w3.eth.get_block(block)["timestamp"]
            records.append({"time": pd.Timestamp(stamp, unit="s", tz="UTC"), "rows submitted": submitted,
                            "rows accepted": accepted})  # fmt: skip
        return pd.DataFrame.from_records(records, columns=["time", "rows submitted", "rows accepted"])

    def balances(self, accounts: Sequence[str] | None = None) -> pd.DataFrame:
        """Balance history of accounts, as recorded after every transaction any session made on this home."""
        path = self._balances_path()
        if not path.exists():
            return pd.DataFrame(columns=["time", "account", "balance (ETH)", "claimable (ETH)"])
        frame = pd.read_json(path, lines=True)
        if accounts:
            frame = frame[frame["account"].isin(list(accounts))]
        frame["time"] = pd.to_datetime(frame["time"], unit="s", utc=True)
        return frame.reset_index(drop=True)

    def _balances_path(self) -> Path:
        return self.settings.home_path / f"balances-{self.chain.chain_id}-{self.market.address}.jsonl"

    def _record_balances(self, *receipts: Receipt | None, reads: Sequence[tuple[Any, ...]] = ()) -> list[Any]:
        """Add a line to the balance history after confirmed transactions of this account that changed its balance
        or credit: read at the block of the last receipt (durable once a receipt is returned), never for a call
        that sent nothing, and never twice for the same balance.

        ``reads`` are marketplace views (``(function, *args)``, see :meth:`Marketplace.view_result`) to read at the
        latest block in the same request to the node; their results are returned (a read that fails raises)."""
        done = [receipt for receipt in receipts if receipt is not None]
        if not done:
            return [self.market.view_result(r[0], result) for r, result in zip(reads, self.chain.batch(
                [self.market.view_request(*r) for r in reads]), strict=True)]  # fmt: skip
        block = max(receipt.block_number for receipt in done)
        address = self.account.address
        market = self.market
        found = self.chain.batch([
            ("eth_getBalance", [address, hex(block)]),
            market.view_request("creditOf", address, block=block),
            ("eth_getBlockByNumber", [hex(block), False]),
            *(market.view_request(*r) for r in reads),
        ])  # fmt: skip
        try:
            balance = int(_raised(found[0]), 16)
            credit = market.view_result("creditOf", found[1])
            stamp = int(_raised(found[2])["timestamp"], 16)
        except (ValueError, Web3Exception):  # the node no longer keeps that block's state: the latest holds it too
            balance, credit = self.chain.balance(self.account), self.market.credit_of(address)
            stamp = self.chain.timestamp()
        record = {"time": stamp, "account": self.account.name, "balance (ETH)": balance / 1e18,
                  "claimable (ETH)": credit / 1e18}  # fmt: skip
        path = self._balances_path()
        with FileLock(str(path) + ".lock", timeout=60):
            last = _last_record(path, self.account.name)
            if last is None or (last["balance (ETH)"], last["claimable (ETH)"]) != (
                record["balance (ETH)"],
                record["claimable (ETH)"],
            ):
                with open(path, "a") as handle:
                    handle.write(json.dumps(record) + "\n")
        return [market.view_result(r[0], result) for r, result in zip(reads, found[3:], strict=True)]

    @contextlib.contextmanager
    def _recording(self) -> Iterator[list[Receipt]]:
        """Collect the receipts of a call's transactions and record the balance once, after them: also when the
        call fails part way (what was confirmed before the failure did change the balance)."""
        receipts: list[Receipt] = []
        try:
            yield receipts
        except BaseException:
            with contextlib.suppress(Exception):  # never hide the call's own error
                self._record_balances(*receipts)
            raise
        self._record_balances(*receipts)

    # ------------------------------------------------------------------------------------------------ in flight
    def _settle(self) -> None:
        """Before a state-changing call: refuse at once if this session acts as no account, then decide the calls
        left in doubt (interrupted after sending)."""
        self.account.refuse_unless_signer()
        settle(self.chain, self.storage, self.chain.home)

    def _intent(self, kind: str) -> Intent:
        """The write-ahead record of a call that stores files for its transaction (see :mod:`.inflight`)."""
        return Intent(self.chain.home, self.storage, self.chain.chain_id, kind=kind)

    # ------------------------------------------------------------------------------------------------ devnet
    def advance_time(self, duration: str | int) -> int:
        """Move the clock of the devnet (or a local development node) forward, e.g. ``"1h"``; returns the new
        chain time. In a class the clock is everyone's, so only the instructor (``owner``) may move it."""
        from .classroom import is_instructor
        from .units import parse_duration

        self.account.refuse_unless_signer()  # a read-only session acts as nobody: it moves nobody's clock
        if self.chain.is_devnet and not is_instructor(self.settings.home_path, self.account):
            raise ClockRefused(
                f"moving the clock moves it for the whole class, so only the instructor may; {self.account.name} "
                "is a student here. Ask the instructor to let the window pass (`%colearn advance 1h` as owner)"
            )
        return self.chain.advance_time(parse_duration(duration))

    # ------------------------------------------------------------------------------------------------ secrets
    def _secret_path(self, model_id: int | str) -> Path:
        folder = self.settings.home_path / "secrets"
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder / f"{self.chain.chain_id}-{self.market.address}-{model_id}.json"

    def _save_secret(self, model_id: int, secret: dict[str, str]) -> None:
        _write_private(self._secret_path(model_id), secret)

    def _pending_secret_path(self, commitment: bytes | str) -> Path:
        """Where a publish keeps its secret before its model has an id: under the test set's commitment."""
        key = commitment.hex() if isinstance(commitment, bytes) else commitment.lower().removeprefix("0x")
        return self._secret_path(f"commitment-{key}")

    def _save_secret_for(self, commitment: bytes, secret: dict[str, str]) -> Path:
        path = self._pending_secret_path(commitment)
        _write_private(path, secret)
        return path

    def _load_secret(self, model_id: int) -> dict[str, str]:
        path = self._secret_path(model_id)
        if not path.exists():  # a publish that was settled after an interrupt kept it under its commitment
            try:
                pending = self._pending_secret_path(self.market.model(model_id).test_set_commitment)
            except (ColearnError, ValueError, Web3Exception):  # no such model
                pending = None
            if pending is not None and pending.exists():
                self._save_secret(model_id, json.loads(pending.read_text()))
                pending.unlink(missing_ok=True)
        try:
            return json.loads(path.read_text())
        except OSError:
            raise ColearnError(
                f"the hidden test set of model {model_id} is not in this colearn home: only the machine that "
                "published it can evaluate or reveal it"
            ) from None


def _write_private(path: Path, secret: dict[str, str]) -> None:
    """Write a secret readable by this user only, durably: losing it would make a test set unrevealable."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(secret, handle)
        handle.flush()
        os.fsync(handle.fileno())


# The owner's training rows of each model, by (marketplace, model id): committed at publish, they never change.
_TRAINING: dict[tuple[Any, ...], tuple[list[bytes], MerkleTree | None]] = {}


def _refuse_unreadable_training(rows: list[bytes]) -> None:
    """Refuse to publish training rows that a contributor's client would not read from one file: contributing to a
    model is refused when its training rows cannot be checked (anyone may prove a copy of them, and the owner
    could take the deposit of rows only it could tell were copies)."""
    size = sum(map(len, rows))
    try:
        _data.check_size(len(rows), size)  # the bounds a client reads one file within
    except SchemaError:
        raise SchemaError(
            f"the training set has {len(rows):,} rows taking {size / 2**20:.1f} MiB, more than a contributor's "
            f"client reads from one file ({_data.MAX_FILE_ROWS:,} rows, {_data.MAX_FILE_BYTES // 2**20} MiB): no one "
            "could check their rows against it, so no one could contribute. Publish with at most that many training "
            "rows (a sample of them: the model may have been trained on more)"
        ) from None


def _raised(result: Any) -> Any:
    """A result of :meth:`Chain.batch`, raising it if it is an error."""
    if isinstance(result, BaseException):
        raise result
    return result


def _last_record(path: Path, account: str) -> dict[str, Any] | None:
    """The last line of the balance history for ``account`` (None when there is none)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("account") == account:
            return record
    return None


def _check_terms(terms: Terms) -> None:
    """Refuse terms the contract would refuse, with the reason, before anything is stored."""
    if terms.reward_per_row >= terms.deposit_per_row:
        raise ColearnError(
            f"the reward per row ({format_eth(terms.reward_per_row)}) must be less than the deposit per row "
            f"({format_eth(terms.deposit_per_row)}): otherwise a contributor would profit from proving their own "
            "rows bad"
        )
    for name, value in (("window", terms.challenge_window), ("time-out", terms.owner_timeout)):
        if not Terms.MIN_PERIOD <= value <= Terms.MAX_PERIOD:
            raise ColearnError(f"the {name} must be between 1 minute and 30 days, not {format_duration(value)}")
    if terms.challenge_bond == 0:
        raise ColearnError("the challenge bond must be more than zero")


def _dtypes(schema: FeatureSchema) -> dict[str, Any]:
    return {
        c.name: {"float64": "float64", "int64": "int64", "bool": bool, "string": str}[c.dtype] for c in schema.columns
    }


# ---------------------------------------------------------------------------------------------------- ML helpers
def _split(frame: pd.DataFrame, schema: FeatureSchema) -> tuple[pd.DataFrame, pd.Series]:
    return frame[schema.names[:-1]], frame[schema.label.name]


def _predict(model: Any, features: pd.DataFrame, schema: FeatureSchema) -> np.ndarray:
    if isinstance(model, IsolatedModel):
        return model.predict_labels(features, schema.labels)
    return predict_labels(model, features, schema.labels)


def _accuracy(model: Any, frame: pd.DataFrame, schema: FeatureSchema) -> float:
    features, labels = _split(frame, schema)
    return float((_predict(model, features, schema) == labels.to_numpy()).mean())


#: Rows a call to the model's isolated worker gives it: about ``_SCORE_BYTES`` of features, and from
#: ``_SCORE_ROWS[0]`` to ``_SCORE_ROWS[1]`` rows. Each call costs milliseconds whatever its size: 100,000 rows of 20
#: floats took twice the CPU time (here and in the worker) in calls of 8,192 rows as in calls of 50,000.
_SCORE_BYTES = 16 * 2**20
_SCORE_ROWS = (8192, 65536)


def _predicted(model: Any, features: pd.DataFrame, schema: FeatureSchema) -> np.ndarray:
    """The model's label for each row of ``features``, in calls of about 16 MiB of features (8,192 to 65,536 rows)
    to its isolated worker (a progress bar past four calls), in one array: ``int64``, ``float64`` or ``bool`` when
    every call gave that dtype, else the Python values (objects). See :func:`_column`."""
    from tqdm.auto import tqdm

    parts = []
    step = min(max(_SCORE_BYTES // (8 * max(1, features.shape[1])), _SCORE_ROWS[0]), _SCORE_ROWS[1])
    for start in tqdm(range(0, len(features), step), desc="scoring rows", disable=len(features) <= 4 * step,
                      leave=False):  # fmt: skip
        parts.append(np.asarray(_predict(model, features.iloc[start : start + step], schema)))
    if parts and parts[0].dtype in _PLAIN and all(part.dtype == parts[0].dtype for part in parts):
        return np.concatenate(parts)
    values = [value for part in parts for value in part.tolist()]
    return np.fromiter(values, dtype=object, count=len(values))


#: Dtypes of predictions kept as they are: pandas gives the same to the list of their Python values.
_PLAIN = (np.dtype(np.int64), np.dtype(np.float64), np.dtype(bool))


def _column(values: np.ndarray) -> pd.Series:
    """Predictions (of :func:`_predicted`) as the column pandas makes of the list of their values (``int64``,
    ``float64``, ``bool``; ``str`` for strings)."""
    return pd.Series(values) if values.dtype in _PLAIN else pd.Series(values.tolist())


@dataclass(frozen=True)
class _EarlyScores:
    """What :meth:`Session._score_early` started: each row's fault number, the rows given to the model (those
    without a fault) and its predictions of them (None when there were none to give)."""

    faults: np.ndarray
    given: np.ndarray
    future: Future[np.ndarray] | None


_SCORING: ThreadPoolExecutor | None = None
_SCORING_LOCK = threading.Lock()


def _scoring() -> ThreadPoolExecutor:
    """The thread that waits on the model's worker while a file's tree is built (one per process)."""
    global _SCORING
    with _SCORING_LOCK:
        if _SCORING is None:
            _SCORING = ThreadPoolExecutor(1, thread_name_prefix="colearn-score")
        return _SCORING


def _forked() -> None:
    """A forked child has none of its parent's threads: it starts a scoring thread of its own when it needs one."""
    global _SCORING, _SCORING_LOCK
    _SCORING, _SCORING_LOCK = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def _score(model: Any, frame: pd.DataFrame, schema: FeatureSchema) -> pd.DataFrame:
    features, labels = _split(frame, schema)
    rows = pd.DataFrame({"label": labels.to_numpy(), "predicted": _column(_predicted(model, features, schema))})
    rows["verdict"] = np.where(rows["label"] == rows["predicted"], "ok", "suspicious")
    rows.index.name = "row"
    return rows


#: Kinds of findings of :meth:`Session._judge_rows`, as numbers (the text of the ``challenge`` column; a copy of
#: an earlier submission and one of an earlier row of the same file are both duplicates), and verdicts.
_KINDS = ("", "format", "training copy", "duplicate", "duplicate", "test copy", "label")
_FORMAT, _TRAINING_COPY, _EARLIER_SUBMISSION, _EARLIER_ROW, _TEST_COPY = 1, 2, 3, 4, 5
_VERDICTS = ("ok", "suspicious", "bad", "challenged", "rejected")
_OK, _SUSPICIOUS, _BAD = 0, 1, 2
#: Each :class:`RowFault` (by number) as the ``fault`` column says it.
_FAULT_NAMES = tuple(fault.name.lower().replace("_", " ") for fault in RowFault)


def _text(words: list[str], codes: np.ndarray) -> Any:
    """A column of ``words[code]`` for each of ``codes``, of the dtype pandas gives a list of strings (``str``),
    built without a Python string per row."""
    dtype = pd.Series([""]).dtype
    if getattr(dtype, "storage", None) == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        return pd.array(pc.take(pa.array(words, pa.large_string()), pa.array(codes)), dtype=dtype)
    return pd.Series(np.array(words, dtype=object)[codes].tolist()).array


def _differ(predicted: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``predicted[i] != labels[i]`` for each row, as Python compares them (numbers of one kind in arrays)."""
    kinds = (predicted.dtype.kind, labels.dtype.kind)
    if all(kind in "biu" for kind in kinds) or kinds == ("f", "f"):
        return np.asarray(predicted != labels, dtype=bool)
    pairs = zip(predicted.tolist(), labels.tolist() if labels.dtype != object else labels, strict=True)
    return np.fromiter((bool(p != label) for p, label in pairs), dtype=bool, count=len(predicted))


def _with_gaps(scored: pd.Series, clean: np.ndarray, count: int) -> Any:
    """The ``predicted`` column: ``scored`` at the positions ``clean`` and None elsewhere, of the dtype pandas
    gives that list (``float64`` with NaN gaps for numbers; ``object`` for booleans with gaps)."""
    if len(clean) == count:
        return scored.array
    values = scored.to_numpy()
    if values.dtype in (np.dtype(np.int64), np.dtype(np.float64)):
        column = np.full(count, np.nan)
        column[clean] = values
        return column
    column = np.full(count, None, dtype=object)
    column[clean] = scored.tolist()
    if values.dtype == np.dtype(bool):
        return column  # booleans with None: pandas keeps them as objects
    return pd.Series(column.tolist()).array  # whatever pandas makes of the list (strings: str, with NaN gaps)


def _fit(template: Any, data: pd.DataFrame, schema: FeatureSchema) -> Any:
    features, labels = _split(data, schema)
    if framework_of(template) == "keras":
        import keras

        model = keras.models.clone_model(template)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        index = {label: i for i, label in enumerate(schema.labels)}
        model.fit(features.to_numpy(dtype="float32"), labels.map(index).to_numpy(), epochs=20, verbose=0)
        return model
    from sklearn.base import clone

    return clone(template).fit(features, labels)


def _evaluation(accuracy: float, test_rows: int, version: int, trained_rows: int | None = None) -> bytes:
    report = {"accuracy": accuracy, "test_rows": test_rows, "version": version, "evaluated_at": int(time.time())}
    if trained_rows is not None:
        report["trained_on_rows"] = trained_rows
    return json.dumps(report, sort_keys=True).encode()


__all__ = ["ModelCard", "Session", "VerificationReport"]
