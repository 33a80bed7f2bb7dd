"""The core API: one object to publish, browse, contribute, verify, challenge, resolve, claim and retrain.

Magics, widgets, REST handlers and the CLI are faces over :class:`Session`; it is also meant for plain scripts.

>>> from colearn_jupyter import Session                                          # doctest: +SKIP
>>> owner = Session.connect("owner")                  # the embedded devnet and store, no configuration
>>> model = owner.publish(clf, name="iris", train=train_df, label="species", test=test_df,
...                       deposit="0.01", reward="0.002", window="1h")          # doctest: +SKIP
>>> alice = owner.as_account("alice")                 # same chain and store, another account
>>> alice.contribute(model.id, new_rows)                                         # doctest: +SKIP
>>> owner.market()                                    # a pandas DataFrame       # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .accounts import Account
from .chain import Chain
from .config import ColearnSettings
from .contributions import Batch, accepted_row_hashes, contribute_dataframe, load_batch, model_metadata
from .errors import ColearnError
from .formats.data import FeatureSchema, SchemaError, decode_row, read_data, to_parquet, validate
from .formats.metadata import ModelMetadata
from .formats.models import LinearModel, framework_of, load_model, save_model
from .marketplace import Marketplace, ModelInfo, Receipt, Submission, Terms
from .merkle import encode_onchain_row
from .storage import Storage, open_storage
from .units import format_duration, format_eth, to_wei

_SUGGEST_LIMIT = 50


@dataclass(frozen=True)
class ModelCard:
    """A model with its latest version, as shown in the marketplace."""

    info: ModelInfo
    accuracy: float | None
    version: int
    model_cid: str

    @property
    def id(self) -> int:
        return self.info.id

    @property
    def name(self) -> str:
        return self.info.name

    def _repr_html_(self) -> str:
        info, terms = self.info, self.info.terms
        accuracy = "n/a" if self.accuracy is None else f"{self.accuracy:.1%}"
        rows = [
            ("model", f"#{info.id} <b>{escape(info.name)}</b> v{self.version}"),
            ("owner", f"<code>{info.owner}</code>"),
            ("accuracy", accuracy),
            ("rows", f"{info.rows_accepted} accepted, {info.rows_pending} pending, {info.rows_rejected} rejected"),
            ("terms", escape(str(terms))),
            ("reward pool", format_eth(info.reward_pool)),
            ("model CID", f"<code>{self.model_cid}</code>"),
        ]
        return _table("colearn model", rows)


@dataclass(frozen=True)
class VerificationReport:
    """What a verifier found in a submission: integrity checks and a verdict for every row."""

    submission_id: int
    model_id: int
    cid_ok: bool
    root_ok: bool
    schema_ok: bool
    rows: pd.DataFrame = field(repr=False)
    problem: str = ""

    @property
    def suggested(self) -> list[int]:
        """Rows the current model disagrees with: the ones worth challenging."""
        if self.rows.empty:
            return []
        return self.rows.index[self.rows["verdict"] == "suspicious"].tolist()

    @property
    def ok(self) -> bool:
        return self.cid_ok and self.root_ok and self.schema_ok

    def _repr_html_(self) -> str:
        checks = " · ".join(
            f"{name} {'✔' if good else '✘'}"
            for name, good in (("CID", self.cid_ok), ("Merkle root", self.root_ok), ("schema", self.schema_ok))
        )
        head = (
            f"<div><b>Submission {self.submission_id}</b> of model {self.model_id}: {checks}; "
            f"{len(self.rows)} rows, {len(self.suggested)} suggested for challenge"
            f"{' — ' + escape(self.problem) if self.problem else ''}</div>"
        )
        return head + (self.rows.head(_SUGGEST_LIMIT).to_html() if not self.rows.empty else "")


class Session:
    """A connection to the marketplace as one account, with storage. Cheap to copy for another account."""

    def __init__(
        self,
        account: str | Account = "owner",
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
        self.account = self.chain.account(account)

    @classmethod
    def connect(cls, account: str = "owner", *, rpc_url: str | None = None, ipfs_url: str | None = None) -> Session:
        """Connect as ``account``; the embedded devnet and store unless URLs are given (or configured)."""
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
            "balance": format_eth(self.chain.balance(self.account)),
            "claimable": format_eth(self.market.credit_of(self.account.address)),
            "storage": self.storage.name,
        }

    def _repr_html_(self) -> str:
        try:
            rows = list(self.status().items())
        except ColearnError as error:
            rows = [("error", str(error))]
        return _table("colearn session", [(k, escape(str(v))) for k, v in rows])

    def __repr__(self) -> str:
        return f"Session({self.account.name!r} on {self.chain!r})"

    # ------------------------------------------------------------------------------------------------ models
    def resolve_model(self, model: int | str) -> int:
        """A model id from an id or a name (the newest model of that name)."""
        if isinstance(model, int) or str(model).isdigit():
            return int(model)
        matches = [m.id for m in self.market.all_models() if m.name == model]
        if not matches:
            raise ColearnError(f"no model is named {model!r}; `market()` lists the models")
        return matches[-1]

    def model(self, model: int | str) -> ModelCard:
        model_id = self.resolve_model(model)
        versions = self.market.versions(model_id)
        latest = versions[-1]
        return ModelCard(self.market.model(model_id), latest.accuracy, latest.number, latest.model_cid)

    def market_table(self, search: str = "") -> pd.DataFrame:
        """Every model as a DataFrame (one paged call for the models, one log query for the accuracies)."""
        models = self.market.all_models()
        latest: dict[int, float] = {}
        for log in self.market.contract.events.VersionPublished.get_logs(from_block=0):
            latest[log["args"]["modelId"]] = log["args"]["accuracyBps"] / 10_000
        records = [
            {
                "id": m.id,
                "name": m.name,
                "owner": m.owner,
                "accuracy": latest.get(m.id),
                "versions": m.version_count,
                "rows accepted": m.rows_accepted,
                "rows pending": m.rows_pending,
                "deposit (ETH)": m.terms.deposit_per_row / 1e18,
                "reward (ETH)": m.terms.reward_per_row / 1e18,
                "window": format_duration(m.terms.challenge_window),
            }
            for m in models
            if search.lower() in m.name.lower()
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

        ``train`` and ``test`` hold the features and the ``label`` column. The test set is stored but only its
        salted commitment goes on chain; the salt stays in this machine's colearn home until
        :meth:`reveal_test_set`. ``onchain=True`` also runs a binary linear model on chain (on-chain rows are
        judged and learned automatically).
        """
        schema = FeatureSchema.infer(train, label=label)
        train_clean, test_clean = validate(train, schema), validate(test, schema)
        if onchain:
            model = model if isinstance(model, LinearModel) else LinearModel.from_sklearn(model, schema.names[:-1])
        accuracy = _accuracy(model, test_clean, schema)
        model_cid = self.storage.add(save_model(model))
        train_cid = self.storage.add(to_parquet(train_clean, schema))
        test_cid = self.storage.add(to_parquet(test_clean, schema))
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
        metadata_cid = self.storage.add(metadata.to_json())
        evaluation_cid = self.storage.add(_evaluation(accuracy, len(test_clean), 1))
        salt = os.urandom(32)
        terms = Terms.from_human(deposit=deposit, reward=reward, bond=bond, window=window, timeout=timeout)
        receipt = self.market.publish_model(
            self.account,
            name=name,
            model_cid=model_cid,
            metadata_cid=metadata_cid,
            test_set_commitment=self.market.test_set_commitment(salt, test_cid),
            terms=terms,
            reward_pool=to_wei(pool),
            accuracy_bps=round(accuracy * 10_000),
            evaluation_cid=evaluation_cid,
        )
        model_id = receipt.event("ModelPublished").args["model_id"]
        self._save_secret(model_id, {"salt": salt.hex(), "test_cid": test_cid})
        if onchain:
            weights, intercept = model.to_onchain()
            self.market.attach_linear_model(self.account, model_id, weights, intercept)
        self._record_balances()
        return self.model(model_id)

    def reveal_test_set(self, model: int | str) -> Receipt:
        """Reveal the hidden test set (salt and CID) so anyone can re-check the published accuracies."""
        model_id = self.resolve_model(model)
        secret = self._load_secret(model_id)
        return self.market.reveal_test_set(self.account, model_id, bytes.fromhex(secret["salt"]), secret["test_cid"])

    # ------------------------------------------------------------------------------------------------ contributors
    def contribute(self, model: int | str, frame: pd.DataFrame) -> Submission:
        """Validate, store and submit a DataFrame as one batch, paying the deposit for every row."""
        model_id = self.resolve_model(model)
        receipt, _ = contribute_dataframe(self.market, self.storage, self.account, model_id, frame)
        self._record_balances()
        return self.market.submission(receipt.event("SubmissionAdded").args["submission_id"])

    def preview(self, model: int | str, frame: pd.DataFrame) -> dict[str, Any]:
        """What contributing ``frame`` would do, without doing it: rows, deposit, and the validation result."""
        model_id = self.resolve_model(model)
        info = self.market.model(model_id)
        schema = model_metadata(self.market, self.storage, model_id).feature_schema
        try:
            validate(frame, schema, accepted=accepted_row_hashes(self.market, self.storage, model_id, schema))
            problem = ""
        except SchemaError as error:
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

    def claim(self, submission: int | None = None) -> int:
        """Claim every settled submission of this account (or one), then withdraw; returns the wei withdrawn."""
        now = self.chain.timestamp()
        candidates = [self.market.submission(submission)] if submission else self.my_submissions()
        for sub in candidates:
            if not sub.claimed and sub.window_ends_at <= now and sub.open_challenges == 0:
                self.market.claim(self.account, sub.id)
        credit = self.market.credit_of(self.account.address)
        if credit:
            self.market.withdraw(self.account)
        self._record_balances()
        return credit

    def locked_deposits(self, submissions: Iterable[Submission] | None = None) -> int:
        """Wei of this account's deposits still locked: rows not rejected, of submissions not yet claimed."""
        mine = self.my_submissions() if submissions is None else submissions
        return sum((s.row_count - s.rows_rejected) * s.deposit_per_row for s in mine if not s.claimed)

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
        model_ids = [self.resolve_model(model)] if model is not None else [m.id for m in self.market.all_models()]
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
                for s in self.market.all_submissions(model_id)
                if not s.claimed
            ]
        columns = ["submission", "model", "contributor", "rows", "data CID", "window left", "open challenges",
                   "rejected", "challengeable"]  # fmt: skip
        return pd.DataFrame.from_records(records, columns=columns).set_index("submission")

    def verify(self, submission_id: int) -> VerificationReport:
        """Fetch a submission, check its CID and Merkle root, and score every row with the current model."""
        submission = self.market.submission(submission_id)
        model_id = submission.model_id
        schema = model_metadata(self.market, self.storage, model_id).feature_schema
        empty = pd.DataFrame()
        if submission.on_chain_row:
            return self._verify_onchain(submission, schema)
        try:
            batch = load_batch(self.market, self.storage, submission_id, schema)
        except SchemaError as error:
            return VerificationReport(submission_id, model_id, True, False, False, empty, str(error))
        except ColearnError as error:  # IntegrityError: CID or Merkle root
            cid_failed = "does not match its CID" in str(error)
            return VerificationReport(submission_id, model_id, not cid_failed, False, True, empty, str(error))
        model = self._current_model(model_id)
        rows = _score(model, batch.frame, schema)
        return VerificationReport(submission_id, model_id, True, True, True, rows)

    def _verify_onchain(self, submission: Submission, schema: FeatureSchema) -> VerificationReport:
        features, label = self.market.row(submission.id)
        info = self.market.model(submission.model_id)
        predicted = self.market.predict(submission.model_id, features) if info.has_linear_model else None
        verdict = "suspicious" if predicted is not None and predicted != label else "ok"
        rows = pd.DataFrame([{"label": label, "predicted": predicted, "verdict": verdict}])
        return VerificationReport(submission.id, submission.model_id, True, True, True, rows)

    def challenge(self, submission_id: int, rows: Iterable[int] | None = None) -> list[int]:
        """Challenge rows of a submission (default: the ones :meth:`verify` suggests); returns challenge ids."""
        submission = self.market.submission(submission_id)
        schema = model_metadata(self.market, self.storage, submission.model_id).feature_schema
        if rows is None:
            rows = self.verify(submission_id).suggested
        batch: Batch | None = (
            None if submission.on_chain_row else load_batch(self.market, self.storage, submission_id, schema)
        )
        ids = []
        for index in rows:
            if batch is None:
                row, proof = encode_onchain_row(*self.market.row(submission_id)), []
            else:
                row, proof = batch.rows[index], batch.proof(index)
            receipt = self.market.challenge(self.account, submission_id, int(index), row, proof)
            ids.append(receipt.event("RowChallenged").args["challenge_id"])
        self._record_balances()
        return ids

    def challenges(self, model: int | str | None = None, *, status: str | None = "pending") -> pd.DataFrame:
        """Challenges (of one model or all), with the challenged row decoded: the owner's queue."""
        filters = {"modelId": self.resolve_model(model)} if model is not None else {}
        records = []
        schemas: dict[int, FeatureSchema] = {}
        for log in self.market.contract.events.RowChallenged.get_logs(argument_filters=filters, from_block=0):
            args = log["args"]
            info = self.market.challenge_info(args["challengeId"])
            if status and info.status != status:
                continue
            model_id = args["modelId"]
            if model_id not in schemas:
                schemas[model_id] = model_metadata(self.market, self.storage, model_id).feature_schema
            try:
                values = decode_row(schemas[model_id], bytes(args["row"]))
            except SchemaError:
                values = {}
            records.append({"challenge": info.id, "model": model_id, "submission": info.submission_id,
                            "row": info.row_index, "status": info.status, "challenger": info.challenger,
                            "resolve by": info.resolve_by, **values})  # fmt: skip
        return pd.DataFrame.from_records(records).set_index("challenge") if records else pd.DataFrame()

    def resolve(self, challenge_id: int, upheld: bool | None = None) -> bool:
        """The owner's verdict; ``upheld=None`` lets the current model judge the challenged row."""
        if upheld is None:
            upheld = self.judge(challenge_id)
        self.market.resolve_challenge(self.account, challenge_id, upheld)
        self._record_balances()
        return upheld

    def judge(self, challenge_id: int) -> bool:
        """Whether the current model disagrees with the challenged row's label (the row looks bad)."""
        info = self.market.challenge_info(challenge_id)
        submission = self.market.submission(info.submission_id)
        schema = model_metadata(self.market, self.storage, submission.model_id).feature_schema
        logs = self.market.contract.events.RowChallenged.get_logs(
            argument_filters={"challengeId": challenge_id}, from_block=0
        )
        values = decode_row(schema, bytes(logs[0]["args"]["row"]))
        frame = pd.DataFrame([values]).astype({c.name: c.dtype if c.dtype != "string" else str for c in schema.columns})
        return bool(_score(self._current_model(submission.model_id), frame, schema)["verdict"].iloc[0] == "suspicious")

    # ------------------------------------------------------------------------------------------------ owner
    def retrain(self, model: int | str, estimator: Any = None) -> ModelCard:
        """Retrain on the original training data plus every accepted row, evaluate, publish a new version.

        An on-chain linear model is not refitted: its current on-chain weights become the new version.
        """
        model_id = self.resolve_model(model)
        metadata = model_metadata(self.market, self.storage, model_id)
        schema = metadata.feature_schema
        current = self._current_model(model_id)
        test = read_data(self.storage.cat(self._load_secret(model_id)["test_cid"]), schema)
        info = self.market.model(model_id)
        if info.has_linear_model:
            weights, intercept, _ = self.market.linear_model(model_id)
            new_model: Any = LinearModel.from_onchain(weights, intercept, features=schema.names[:-1],
                                                      classes=list(current.classes))  # fmt: skip
            rows = 0
        else:
            frames = [
                read_data(self.storage.cat(cid), schema) for cid in metadata.lineage.get("training_data_cids", [])
            ]
            frames += [
                load_batch(self.market, self.storage, s, schema).frame for s in self._accepted_submissions(model_id)
            ]
            data = pd.concat(frames, ignore_index=True)
            new_model = _fit(estimator if estimator is not None else current, data, schema)
            rows = len(data)
        accuracy = _accuracy(new_model, test, schema)
        versions = self.market.versions(model_id)
        model_cid = self.storage.add(save_model(new_model))
        evaluation_cid = self.storage.add(_evaluation(accuracy, len(test), len(versions) + 1, rows))
        self.market.publish_version(self.account, model_id, model_cid, round(accuracy * 10_000), evaluation_cid)
        self._record_balances()
        return self.model(model_id)

    def _accepted_submissions(self, model_id: int) -> list[int]:
        return [s.id for s in self.market.all_submissions(model_id) if s.claimed and not s.on_chain_row]

    def _current_model(self, model_id: int) -> Any:
        return load_model(self.storage.cat(self.market.versions(model_id)[-1].model_cid))

    # ------------------------------------------------------------------------------------------------ history
    def history(self, model: int | str) -> pd.DataFrame:
        """The accuracy history of a model: one row per version, with lineage."""
        model_id = self.resolve_model(model)
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
        return pd.DataFrame.from_records(records).set_index("version")

    def growth(self, model: int | str) -> pd.DataFrame:
        """Rows submitted and accepted over time (from the chain's events)."""
        model_id = self.resolve_model(model)
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

    def _record_balances(self) -> None:
        record = {
            "time": self.chain.timestamp(),
            "account": self.account.name,
            "balance (ETH)": self.chain.balance(self.account) / 1e18,
            "claimable (ETH)": self.market.credit_of(self.account.address) / 1e18,
        }
        with open(self._balances_path(), "a") as handle:
            handle.write(json.dumps(record) + "\n")

    # ------------------------------------------------------------------------------------------------ devnet
    def advance_time(self, duration: str | int) -> int:
        """Move the devnet clock forward (devnet only), e.g. ``"1h"``; returns the new chain time."""
        from .units import parse_duration

        return self.chain.advance_time(parse_duration(duration))

    # ------------------------------------------------------------------------------------------------ secrets
    def _secret_path(self, model_id: int) -> Path:
        folder = self.settings.home_path / "secrets"
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder / f"{self.chain.chain_id}-{self.market.address}-{model_id}.json"

    def _save_secret(self, model_id: int, secret: dict[str, str]) -> None:
        path = self._secret_path(model_id)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(secret, handle)

    def _load_secret(self, model_id: int) -> dict[str, str]:
        try:
            return json.loads(self._secret_path(model_id).read_text())
        except OSError:
            raise ColearnError(
                f"the hidden test set of model {model_id} is not in this colearn home: only the machine that "
                "published it can evaluate or reveal it"
            ) from None


# ---------------------------------------------------------------------------------------------------- ML helpers
def _split(frame: pd.DataFrame, schema: FeatureSchema) -> tuple[pd.DataFrame, pd.Series]:
    return frame[schema.names[:-1]], frame[schema.label.name]


def _predict(model: Any, features: pd.DataFrame, schema: FeatureSchema) -> np.ndarray:
    if framework_of(model) == "keras":
        scores = np.asarray(model.predict(features.to_numpy(dtype="float32"), verbose=0))
        return np.asarray(schema.labels, dtype=object)[scores.argmax(axis=1)]
    return np.asarray(model.predict(features))


def _accuracy(model: Any, frame: pd.DataFrame, schema: FeatureSchema) -> float:
    features, labels = _split(frame, schema)
    return float((_predict(model, features, schema) == labels.to_numpy()).mean())


def _score(model: Any, frame: pd.DataFrame, schema: FeatureSchema) -> pd.DataFrame:
    from tqdm.auto import tqdm

    features, labels = _split(frame, schema)
    predicted = []
    step = 2048
    for start in tqdm(range(0, len(frame), step), desc="scoring rows", disable=len(frame) <= 4 * step, leave=False):
        predicted.extend(_predict(model, features.iloc[start : start + step], schema).tolist())
    rows = pd.DataFrame({"label": labels.to_numpy(), "predicted": predicted})
    rows["verdict"] = np.where(rows["label"] == rows["predicted"], "ok", "suspicious")
    rows.index.name = "row"
    return rows


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


def _table(caption: str, rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{k}</th><td style='text-align:left'>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table class='colearn'><caption style='text-align:left'><b>{caption}</b></caption>{body}</table>"


__all__ = ["ModelCard", "Session", "VerificationReport"]
