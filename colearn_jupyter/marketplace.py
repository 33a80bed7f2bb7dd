"""Typed Python bindings of the ``ModelMarketplace`` contract.

Every transaction method signs with the given account, is simulated first (so a refused call raises a
:class:`~colearn_jupyter.errors.MarketplaceError` with a readable message and changes nothing), and returns a
:class:`Receipt` whose events are decoded. Views return dataclasses.

>>> from colearn_jupyter import Chain, Marketplace, Terms
>>> market = Marketplace.connect(Chain())                                            # doctest: +SKIP
>>> terms = Terms.from_human(deposit="0.01", reward="0.002", bond="0.01", window="1h", timeout="1d")
>>> terms.challenge_window
3600
"""

from __future__ import annotations

import json
import os
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, TypeVar

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak
from filelock import FileLock
from web3 import Web3

from . import htmlsafe
from .abicalls import ReadCalls
from .accounts import Account
from .artifacts import load_artifact
from .chain import Chain
from .devnet import CHAIN_ID
from .errors import ChainError, MarketplaceError, TransactionRefused
from .merkle import contributor_key, verify_proof
from .onchain import LINEAR_SCALE as LINEAR_SCALE  # where the on-chain rows and perceptron are computed
from .onchain import (
    Features,
    decode_onchain_row,
    dense,
    encode_sparse_row,
    learn,
    pack_weights,
    predict,
    unpack_weights,
)
from .storage.cid import cid_from_bytes, cid_to_bytes
from .units import format_duration, format_eth, parse_duration, to_wei

T = TypeVar("T")
_CLAIM_ATTEMPTS = 5  # a claim of an on-chain row retries when another claim changed the weights first


# ---------------------------------------------------------------------------------------------------- dataclasses
def _snake(name: str) -> str:
    out = "".join("_" + c.lower() if c.isupper() else c for c in name)
    return out.replace("_c_i_d", "_cid").replace("_b_p_s", "_bps").lstrip("_")


def _from_tuple(cls: type[T], value: Any) -> T:
    """Build a dataclass from a decoded struct (a named tuple with camelCase fields)."""
    data = value._asdict() if hasattr(value, "_asdict") else dict(value)
    kwargs = {}
    for name, item in data.items():
        key = _snake(name)
        if key == "terms":
            item = _from_tuple(Terms, item)
        elif key.endswith("_cid") and isinstance(item, bytes):
            item = _cid_text(item)
        elif isinstance(item, bytes):
            item = "0x" + item.hex()
        kwargs[key] = item
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in kwargs.items() if k in known})


@dataclass(frozen=True)
class Terms:
    """Incentive terms of a model, in wei and seconds."""

    deposit_per_row: int
    reward_per_row: int
    challenge_bond: int
    challenge_window: int
    owner_timeout: int

    MIN_PERIOD = 60  # seconds: the contract's bounds of the window and the time-out
    MAX_PERIOD = 30 * 86400

    @classmethod
    def from_human(
        cls,
        deposit: str | float = "0.01",
        reward: str | float = "0.002",
        bond: str | float | None = None,
        window: str | int = "1h",
        timeout: str | int = "1d",
    ) -> Terms:
        """Terms from ether amounts and durations as people write them; the bond defaults to the deposit."""
        deposit_wei = to_wei(deposit)
        return cls(
            deposit_per_row=deposit_wei,
            reward_per_row=to_wei(reward),
            challenge_bond=deposit_wei if bond is None else to_wei(bond),
            challenge_window=parse_duration(window),
            owner_timeout=parse_duration(timeout),
        )

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return (
            self.deposit_per_row,
            self.reward_per_row,
            self.challenge_bond,
            self.challenge_window,
            self.owner_timeout,
        )

    def __str__(self) -> str:
        return (
            f"deposit {format_eth(self.deposit_per_row)}/row, reward {format_eth(self.reward_per_row)}/row, "
            f"bond {format_eth(self.challenge_bond)}, window {format_duration(self.challenge_window)}, "
            f"owner time-out {format_duration(self.owner_timeout)}"
        )


@dataclass(frozen=True)
class LinearTerms:
    """An on-chain perceptron given at publish: fixed-point weights (scale 1e6) and the bound of |feature|."""

    weights: tuple[int, ...]
    intercept: int
    max_abs_feature: int

    def as_tuple(self) -> tuple[bytes, int, int]:
        """The contract's ``LinearModelInput``: the weights packed (int64 big-endian, 8 bytes each)."""
        return (pack_weights(self.weights), self.intercept, self.max_abs_feature)


@dataclass(frozen=True)
class DuplicateSource:
    """Where a challenged row is claimed to come from: an earlier submission's row, or the owner's data."""

    kind: str  # "submission", "training" or "test"
    row_index: int
    proof: tuple[bytes, ...]
    submission_id: int = 0
    nonce: bytes = b"\0" * 32  # the leaf key of a test row

    def as_tuple(self) -> tuple[int, int, int, bytes, list[bytes]]:
        return (SOURCE_KINDS[self.kind], self.submission_id, self.row_index, self.nonce, list(self.proof))


@dataclass(frozen=True)
class ModelInfo:
    """A model in the registry."""

    id: int
    owner: str
    name: str
    metadata_cid: str
    test_set_commitment: str
    test_set_cid: str
    schema_hash: str
    training_root: str
    test_root: str
    training_row_count: int
    test_row_count: int
    terms: Terms
    reward_pool: int
    created_at: int
    version_count: int
    submission_count: int
    rows_submitted: int
    rows_rejected: int
    rows_accepted: int
    has_linear_model: bool

    @property
    def rows_pending(self) -> int:
        return self.rows_submitted - self.rows_rejected - self.rows_accepted


@dataclass(frozen=True)
class Version:
    """One published version of a model (from its ``VersionPublished`` event: the chain keeps only the count)."""

    number: int
    model_cid: str
    evaluation_cid: str
    accuracy_bps: int
    parent: int
    published_at: int
    rows_accepted: int

    @property
    def accuracy(self) -> float:
        return self.accuracy_bps / 10_000


@dataclass(frozen=True)
class Submission:
    """A batch of rows (or one on-chain row) added to a model."""

    id: int
    model_id: int
    contributor: str
    data_cid: str
    merkle_root: str
    row_count: int
    rows_rejected: int
    open_challenges: int
    created_at: int
    window_ends_at: int
    deposit_per_row: int
    reward_per_row: int
    on_chain_row: bool
    claimed: bool
    forfeited: bool = False
    file_judged: bool = False  # a file challenge was raised (one per submission)

    @property
    def settled(self) -> bool:
        """Claimed, or forfeited (a demanded row was not produced, or the owner found the file unavailable)."""
        return self.claimed or self.forfeited

    @property
    def deposit(self) -> int:
        """Wei locked by this submission when it was made."""
        return self.row_count * self.deposit_per_row

    def _repr_html_(self) -> str:
        state = (
            "forfeited" if self.forfeited else "settled" if self.claimed else f"open challenges: {self.open_challenges}"
        )
        where = htmlsafe.code(self.data_cid) if self.data_cid else "a row stored on chain"
        return (
            f"<div><b>Submission {self.id}</b> to model {self.model_id} by {htmlsafe.code(self.contributor)}: "
            f"{self.row_count} rows in {where}, deposit {format_eth(self.deposit)}, "
            f"{self.rows_rejected} rejected, {state}; window ends "
            f"{datetime.fromtimestamp(self.window_ends_at, tz=timezone.utc):%Y-%m-%d %H:%M UTC}</div>"
        )


CHALLENGE_STATUS = ("none", "pending", "upheld", "rejected", "expired", "answered")
CHALLENGE_KINDS = ("none", "label", "availability", "format", "duplicate", "training copy", "test copy", "file")
#: Challenges the model's owner judges (within the time-out); the contract judges the others.
OWNER_JUDGED = ("label", "file")
#: The row index the chain records for a challenge of a whole file; :class:`Challenge` shows it as ``None``.
WHOLE_FILE = 2**32 - 1
SOURCE_KINDS = {"submission": 0, "training": 1, "test": 2}


@dataclass(frozen=True)
class Challenge:
    """A challenge of one row of a submission, or of its whole file (``kind == "file"``, ``row_index`` None)."""

    id: int
    submission_id: int
    challenger: str
    row_index: int | None
    kind: str
    status: str
    bond: int
    resolve_by: int
    fee: int = 0  # label and file challenges: paid by the owner's pool to the challenger on either verdict


@dataclass(frozen=True)
class Event:
    """A decoded contract event."""

    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int


@dataclass(frozen=True)
class Receipt:
    """What a confirmed transaction did: its hash, gas, block and decoded events."""

    tx_hash: str
    block_number: int
    gas_used: int
    gas_price: int
    sender: str
    events: list[Event] = field(default_factory=list)

    @property
    def fee(self) -> int:
        """Wei the sender paid for gas."""
        return self.gas_used * self.gas_price

    def event(self, name: str) -> Event:
        """The first event called ``name``; raises ``KeyError`` when there is none."""
        for event in self.events:
            if event.name == name:
                return event
        raise KeyError(f"no {name} event in transaction {self.tx_hash}")

    def _repr_html_(self) -> str:
        events = htmlsafe.text(", ".join(e.name for e in self.events) or "none")
        return (
            f"<div><b>Transaction</b> {htmlsafe.code(self.tx_hash[:18] + '…')} in block {self.block_number}, "
            f"gas {self.gas_used:,}; events: {events}</div>"
        )


# ---------------------------------------------------------------------------------------------------- errors
class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "eth":
            return format_eth(value)
        if format_spec == "time":
            return datetime.fromtimestamp(value, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        return super().format_field(value, format_spec)


_MESSAGES = {
    "UnknownModel": "there is no model {modelId}; list the models to find its id",
    "UnknownSubmission": "there is no submission {submissionId}",
    "UnknownChallenge": "there is no challenge {challengeId}",
    "NotModelOwner": "only the owner of model {modelId} can do this, and {caller} is not; use the owner's account",
    "InvalidTerms": "the incentive terms are invalid: {reason}",
    "InvalidInput": "invalid input: {reason}",
    "InvalidCid": "the {what} is not a CIDv1 of a raw or dag-pb block with a sha2-256 digest",
    "InvalidSchema": "the row schema cannot be committed: {reason}",
    "IncorrectPayment": "this needs exactly {expected:eth}, but {received:eth} was sent",
    "InsufficientRewardPool": (
        "model {modelId}'s reward pool holds {available:eth}, less than the {required:eth} this needs from it (the "
        "reward these rows would earn, or the amount withdrawn); the owner can top it up with fund_reward_pool"
    ),
    "BatchTooLarge": (
        "one batch may reserve at most a quarter of model {modelId}'s reward pool ({maxReward:eth}), and these rows "
        "would reserve {reward:eth}; split the rows into smaller batches"
    ),
    "RootAlreadySubmitted": "these exact rows were already submitted to model {modelId} by this account",
    "ChallengeWindowClosed": "the challenge window of submission {submissionId} closed at {closedAt:time}",
    "ChallengeWindowOpen": (
        "submission {submissionId} is in its challenge window until {closesAt:time}; wait until then "
        "(on the devnet, advance time)"
    ),
    "RowIndexOutOfRange": "submission {submissionId} has {rowCount} rows, so there is no row {rowIndex}",
    "RowAlreadyRejected": "row {rowIndex} of submission {submissionId} is already rejected",
    "RowChallengePending": (
        "row {rowIndex} of submission {submissionId} already has a pending challenge ({challengeId}); wait for it"
    ),
    "RowAlreadyJudged": "the label of row {rowIndex} of submission {submissionId} was already judged ({challengeId})",
    "RowAlreadyRevealed": (
        "row {rowIndex} of submission {submissionId} is already on chain, so it cannot be demanded; challenge its "
        "content instead"
    ),
    "SubmissionForfeited": (
        "submission {submissionId} was forfeited: a demanded row was not produced in time, or the owner found its "
        "file unavailable"
    ),
    "FileAlreadyJudged": "the file of submission {submissionId} was already challenged (one file challenge each)",
    "InvalidProof": (
        "the Merkle proof does not show that this is row {rowIndex} of submission {submissionId}; "
        "check the row's encoding and index"
    ),
    "InvalidSourceProof": "the proof does not show that the row is row {rowIndex} of the source named",
    "NotADuplicate": "not a duplicate: {reason}",
    "RowIsValid": "row {rowIndex} of submission {submissionId} fits the model's schema: there is no format fault",
    "SchemaMismatch": "the schema given is not the one model {modelId} committed to",
    "NotApplicable": "this challenge does not apply: {reason}",
    "CommitmentUnknown": "no challenge was committed for this row by this account (or it was already revealed)",
    "CommitmentTooRecent": "the challenge was committed in this block; reveal it in a later block",
    "CommitmentExists": "this challenge commitment was already made",
    "OwnerCannotChallenge": (
        "the owner of model {modelId} judges label and file challenges, so cannot raise one; use another account"
    ),
    "ChallengeNotPending": "challenge {challengeId} is already settled",
    "WrongChallengeKind": "challenge {challengeId} is not of a kind this applies to",
    "ResolutionTimedOut": "challenge {challengeId} had to be settled by {resolveBy:time}; anyone may expire it now",
    "ResolutionPending": "challenge {challengeId} may be settled until {resolveBy:time}; it can't expire before",
    "OpenChallenges": (
        "submission {submissionId} has {openChallenges} open challenge(s); they must be settled or expired first"
    ),
    "AlreadyClaimed": "submission {submissionId} is already settled",
    "NoLinearModel": "model {modelId} has no on-chain linear model",
    "FeatureCountMismatch": "the model takes {expected} features, not {received}",
    "FeatureOutOfRange": "feature {index} is {value}, beyond the model's bound of {maxAbs} (fixed point)",
    "FeatureIndexOutOfRange": "the model takes {featureCount} features, so there is no feature {index}",
    "MalformedRow": "the on-chain row is malformed: {reason}",
    "InvalidLabel": "label {label} is neither 0 nor 1, the labels of an on-chain linear model",
    "DuplicateRow": "this row repeats the on-chain row of submission {submissionId} of model {modelId}",
    "NotOnChainRow": "submission {submissionId} is a file, not a row stored on chain",
    "RowRequired": (
        "submission {submissionId} is an on-chain row: claim it with its row and the perceptron's weights (claimRow), "
        "so that the perceptron learns it"
    ),
    "WeightsMismatch": (
        "the weights given are not model {modelId}'s current perceptron (another claim may have just changed it); "
        "read them again"
    ),
    "NothingToWithdraw": "{account} has nothing to withdraw",
    "WithdrawFailed": "sending {amount:eth} to {account} failed; can that address receive ether?",
    "TestSetMismatch": "the salt and test-set CID do not match model {modelId}'s commitment",
    "TestSetAlreadyRevealed": "model {modelId}'s test set is already revealed",
    "SafeCastOverflowedIntDowncast": "a value does not fit in int{bits}",
    "SafeCastOverflowedUintDowncast": "a value does not fit in uint{bits}",
    "ReentrancyGuardReentrantCall": "the contract refused a re-entrant call",
}


_HEX_DATA = re.compile(r"0x[0-9a-fA-F]{8,}")


def revert_data(error: Exception) -> bytes:
    """The revert data a node attached to a refused call, whatever its shape.

    anvil and geth put it in the error's ``data`` as a hex string; hardhat nests it in a dict (``{"message": …,
    "data": "0x…"}``) or only writes it into the message ("reverted with an unrecognized custom error (return data:
    0x…)"). Returns ``b""`` when there is none.

    >>> revert_data(ValueError({"message": "reverted (return data: 0x225d2089000000)"})).hex()
    '225d2089000000'
    """
    candidates: list[Any] = [getattr(error, "data", None), *error.args]
    while candidates:
        item = candidates.pop(0)
        if isinstance(item, dict):
            candidates += [item.get("data"), item.get("message")]
        elif isinstance(item, (bytes, bytearray)) and item:
            return bytes(item)
        elif isinstance(item, str):
            if re.fullmatch(r"0x[0-9a-fA-F]*", item) and len(item) >= 10 and len(item) % 2 == 0:
                return bytes.fromhex(item[2:])
            marker = max(item.find("return data:"), item.find("custom error"))
            found = _HEX_DATA.search(item, marker if marker >= 0 else len(item))
            if found and len(found[0]) % 2 == 0:
                return bytes.fromhex(found[0][2:])
    return b""


class _ErrorDecoder:
    def __init__(self, abi: list[dict[str, Any]]):
        self._errors = {}
        for item in abi:
            if item.get("type") == "error":
                types = [i["type"] for i in item["inputs"]]
                selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
                self._errors[selector] = (item["name"], [i["name"] for i in item["inputs"]], types)

    def __call__(self, error: Exception) -> Exception:
        raw = revert_data(error)
        if raw[:4] not in self._errors:
            return ChainError(f"the marketplace refused the call: {error}")
        name, names, types = self._errors[raw[:4]]
        args = dict(zip(names, abi_decode(types, raw[4:]), strict=True))
        return _refusal(name.removeprefix("Marketplace"), **args)


def _refusal(name: str, **args: Any) -> MarketplaceError:
    """The error the contract's ``Marketplace<name>`` error becomes, with its readable message."""
    template = _MESSAGES.get(name, name + " {args}")
    message = _Formatter().format(template, args=args, **args)
    return MarketplaceError(name, args, message[0].upper() + message[1:] + ".")


# ---------------------------------------------------------------------------------------------------- binding
class Marketplace:
    """The model registry contract on one chain.

    Use :meth:`connect` to find (or, on the devnet, deploy) the shared marketplace.
    """

    def __init__(self, chain: Chain, address: str):
        artifact = load_artifact()
        self.chain = chain
        self.address = Web3.to_checksum_address(address)
        self.contract = chain.w3.eth.contract(address=self.address, abi=artifact["abi"], decode_tuples=True)
        self._decode_error = _ErrorDecoder(artifact["abi"])
        self._reads = ReadCalls(artifact["abi"])
        self._checker: Any = None
        # What the chain keeps in events only (see the contract's IModelMarketplace), read with eth_abi directly.
        self._codecs = _EventCodecs(artifact["abi"])
        self._published: dict[int, tuple[str, bytes, str, str]] = {}  # id: owner, test-set commitment, name, metadata
        self._published_to = -1  # the block up to which ModelPublished was read
        self._added: dict[int, tuple[str, bytes, str]] = {}  # submission id: contributor, Merkle root, data CID
        self._perceptrons: dict[int, tuple[bytes, list[int]]] = {}  # model id: weights hash, weights

    # ------------------------------------------------------------------------------------------------ location
    @classmethod
    def connect(cls, chain: Chain | None = None) -> Marketplace:
        """The marketplace of this chain: configured, recorded in the home's deployments, or deployed now (on the
        devnet, or on a development node on this machine that uses the devnet's public test keys)."""
        chain = chain or Chain()
        if chain.settings.marketplace_address:
            market = cls(chain, chain.settings.marketplace_address)
            market._require_code()
            return market
        with FileLock(str(chain.home / "deploy.lock"), timeout=120):
            deployments = _read_deployments(chain)
            for key in _deployment_keys(chain):
                recorded = deployments.get(key)
                if recorded and _code_matches(chain, recorded):
                    return cls(chain, recorded)
            if not chain.is_devnet and not (chain.chain_id == CHAIN_ID and chain.is_local_node):
                raise ChainError(
                    f"no marketplace is known on chain {chain.chain_id}: deploy one with "
                    "`colearn deploy --account <keystore>` or set COLEARN_MARKETPLACE to its address"
                )
            return cls.deploy(chain, chain.account("deployer"))

    @classmethod
    def deploy(cls, chain: Chain, account: Account) -> Marketplace:
        """Deploy a new marketplace from ``account`` and record it as this chain's marketplace."""
        artifact = load_artifact()
        address = chain.deploy(account, artifact["abi"], artifact["bytecode"])
        deployments = _read_deployments(chain)
        deployments[_deployment_key(chain)] = address
        (chain.home / "deployments.json").write_text(json.dumps(deployments, indent=1))
        return cls(chain, address)

    def _require_code(self) -> None:
        if not self.chain.w3.eth.get_code(self.address):
            raise ChainError(f"there is no contract at {self.address} on chain {self.chain.chain_id}")

    # ------------------------------------------------------------------------------------------------ plumbing
    def _send(
        self,
        account: Account | str,
        function: str,
        *args: Any,
        value: int = 0,
        before_send: Callable[[], object] | None = None,
    ) -> Receipt:
        signer = self.chain.account(account)
        receipt = self.chain.send(
            signer, self._builder(function, args, value), value=value, decode_error=self._decode_error,
            before_send=before_send,
        )  # fmt: skip
        return self._receipt(receipt)

    def _builder(self, function: str, args: Sequence[Any], value: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """What turns the base fields of a transaction into a call of ``function(*args)``: the call data encoded
        once with the types worked out once (:class:`~colearn_jupyter.abicalls.ReadCalls`, the same bytes), or,
        for arguments only web3's normalizers take (a hex string for bytes, say) and for ether sent to a function
        that takes none (which web3 refuses), web3's own ``build_transaction``."""
        try:
            data = None if value and not self._reads.payable(function) else self._reads.encode(function, *args)
        except Exception:  # noqa: BLE001 (web3 encodes it, or raises its own error, below)
            data = None
        if data is None:
            return getattr(self.contract.functions, function)(*args).build_transaction
        call = {"to": self.address, "data": "0x" + data.hex()}
        return lambda transaction: {**transaction, **call}

    def _call(self, function: str, *args: Any) -> Any:
        try:
            return self._reads.call(self.chain, self.address, function, *args)
        except Exception as error:
            decoded = self._decode_error(error)
            if isinstance(decoded, MarketplaceError):
                raise decoded from None
            raise

    def read_many(self, calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Several view calls in one request to the node: for each ``(function, *args)``, what
        :meth:`view_result` gives, or the error it would raise, returned in its place."""
        results = self.chain.batch([self.view_request(function, *args) for function, *args in calls])
        out: list[Any] = []
        for (function, *_), result in zip(calls, results, strict=True):
            try:
                out.append(self.view_result(function, result))
            except Exception as error:  # noqa: BLE001 (handed back in its place)
                out.append(error)
        return out

    def view_request(self, function: str, *args: Any, block: int | str = "latest") -> tuple[str, list[Any]]:
        """The JSON-RPC call (method and parameters) of view ``function(*args)`` at ``block``, to send in a batch
        with other calls (:meth:`Chain.batch <colearn_jupyter.chain.Chain.batch>`); :meth:`view_result` reads
        its result."""
        return self._reads.request(self.address, function, *args, block=block)

    def view_result(self, function: str, result: Any) -> Any:
        """What the read of this class gives for a :meth:`view_request` of ``function`` whose result (or error, as
        :meth:`Chain.batch <colearn_jupyter.chain.Chain.batch>` hands it) is ``result``: ``getModel``/``getModels``
        as :meth:`model`/:meth:`models`, ``getSubmission``/``getSubmissions`` as :meth:`submission`/
        :meth:`submissions_by_id`, any other view decoded as :meth:`_call` decodes it. An error raises as
        :meth:`_call` would raise it (a contract error as its :class:`MarketplaceError`)."""
        try:
            if isinstance(result, BaseException):
                raise result
            value = self._reads.decode(function, _raw(result))
        except Exception as error:
            decoded = self._decode_error(error)
            if isinstance(decoded, MarketplaceError):
                raise decoded from None
            raise
        if function in ("getModel", "getModels"):
            models = self._with_publication([value] if function == "getModel" else value)
            return models[0] if function == "getModel" else models
        if function in ("getSubmission", "getSubmissions"):
            submissions = self._with_data_cids([value] if function == "getSubmission" else value)
            return submissions[0] if function == "getSubmission" else submissions
        return value

    def _receipt(self, receipt: dict[str, Any]) -> Receipt:
        events = []
        for log in receipt["logs"]:
            if log["address"] != self.address:
                continue
            decoded = self._decode_log(log)
            if decoded is not None:
                events.append(decoded)
        return Receipt(
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            block_number=receipt["blockNumber"],
            gas_used=receipt["gasUsed"],
            gas_price=receipt["effectiveGasPrice"],
            sender=receipt["from"],
            events=events,
        )

    def events(self, from_block: int, to_block: int | str = "latest") -> list[Event]:
        """Every marketplace event mined in a block range, decoded, in chain order (one log query)."""
        logs = self.chain.w3.eth.get_logs({"address": self.address, "fromBlock": from_block, "toBlock": to_block})
        events = [event for event in (self._decode_log(log) for log in logs) if event is not None]
        for event in events:  # what the views no longer hold, remembered so that reading these models costs no query
            args = event.args
            if event.name == "ModelPublished":
                owner, commitment = args["owner"].lower(), bytes.fromhex(args["test_set_commitment"][2:])
                self._published[args["model_id"]] = (owner, commitment, args["name"], args["metadata_cid"])
            elif event.name == "SubmissionAdded":
                root = bytes.fromhex(args["merkle_root"][2:])
                self._added[args["submission_id"]] = (args["contributor"].lower(), root, args["data_cid"])
        return events

    def raw_events(
        self, from_block: int, to_block: int, names: Sequence[str] | None = None
    ) -> list[tuple[str, dict[str, Any], int, int]]:
        """The events ``names`` (default: all) of a block range as ``(name, arguments, block number, log index)``, in
        chain order: one log query, decoded with eth_abi (much faster than :meth:`events`, for indexers). Arguments
        are named and typed as the contract's ABI has them (``modelId``, bytes as bytes). A log that does not decode
        is left out. What only events hold (names, metadata and data CIDs) is remembered, so that reading these
        models and submissions with the views costs no further query."""
        return self.decode_logs(self.chain.request(*self.logs_request(from_block, to_block, names)))

    def logs_request(self, from_block: int, to_block: int, names: Sequence[str] | None = None) -> tuple[str, list[Any]]:
        """The JSON-RPC ``eth_getLogs`` of :meth:`raw_events` (method and parameters), to send alone or in a batch
        (:meth:`Chain.batch <colearn_jupyter.chain.Chain.batch>`); :meth:`decode_logs` decodes its result."""
        wanted = [Web3.to_hex(self._codecs.topics[name]) for name in (names or self._codecs.topics)]
        return "eth_getLogs", [
            {"address": self.address, "fromBlock": hex(from_block), "toBlock": hex(to_block), "topics": [wanted]}
        ]

    def decode_logs(self, logs: Sequence[Any]) -> list[tuple[str, dict[str, Any], int, int]]:
        """The result of :meth:`logs_request` (logs as the node sends them) as :meth:`raw_events` gives it."""
        out = []
        for log in logs:
            try:
                name, args = self._codecs.decode(log)
            except Exception:  # noqa: BLE001, S112 (not this contract's event as its ABI has it: nothing to index)
                continue
            if name == "ModelPublished":
                self._published[args["modelId"]] = (
                    args["owner"].lower(),
                    bytes(args["testSetCommitment"]),
                    args["name"],
                    _cid_text(args["metadataCid"]),
                )
            elif name == "SubmissionAdded":
                self._remember_added(args)
            out.append((name, args, _integer(log["blockNumber"]), _integer(log["logIndex"])))
        return out

    def remember(self, models: Sequence[ModelInfo] = (), submissions: Sequence[Submission] = ()) -> None:
        """Remember what only events hold of models and submissions read before (by an index), so that reading them
        again with the views costs no log query. As for what the events give, an entry is used only while the views
        show the same owner and test-set commitment (model) or contributor and root (submission)."""
        for model in models:
            commitment = bytes.fromhex(model.test_set_commitment.removeprefix("0x"))
            self._published.setdefault(model.id, (model.owner.lower(), commitment, model.name, model.metadata_cid))
        for submission in submissions:
            if not submission.on_chain_row:
                root = bytes.fromhex(submission.merkle_root.removeprefix("0x"))
                self._added.setdefault(submission.id, (submission.contributor.lower(), root, submission.data_cid))

    def _logs(
        self, names: Sequence[str], *topics: int | None, from_block: int = 0, to_block: int | str = "latest"
    ) -> list[tuple[str, dict[str, Any]]]:
        """The logs of the events ``names`` whose indexed uint256 arguments are ``topics`` (None: any), decoded
        (argument names as in the contract), in chain order: one log query."""
        wanted: list[Any] = [[Web3.to_hex(self._codecs.topics[name]) for name in names]]
        wanted += [None if t is None else Web3.to_hex(int(t).to_bytes(32, "big")) for t in topics]
        logs = self.chain.w3.eth.get_logs(
            {"address": self.address, "fromBlock": from_block, "toBlock": to_block, "topics": wanted}
        )
        return [self._codecs.decode(log) for log in logs]

    def _decode_log(self, log: Any) -> Event | None:
        for event in self.contract.events:
            if event.topic == "0x" + bytes(log["topics"][0]).hex():
                decoded = event().process_log(log)
                args = {_snake(k): _plain(v, _snake(k)) for k, v in decoded["args"].items()}
                return Event(decoded["event"], args, log["blockNumber"], log["logIndex"])
        return None

    # ------------------------------------------------------------------------------------------------ owner
    def publish_model(
        self,
        account: Account | str,
        *,
        name: str,
        model_cid: str,
        metadata_cid: str,
        test_set_commitment: bytes | str,
        terms: Terms,
        schema: Sequence[Any],
        test_root: bytes | str,
        test_row_count: int,
        training_root: bytes | str = b"\0" * 32,
        training_row_count: int = 0,
        linear: LinearTerms | None = None,
        reward_pool: int = 0,
        accuracy_bps: int = 0,
        evaluation_cid: str = "",
    ) -> Receipt:
        """Register a model (its version 1) with its incentive terms, its committed row schema and data roots.

        ``schema`` is the contract's ``RowSchema`` tuple (see :func:`~colearn_jupyter.formats.data.onchain_schema`);
        ``training_root`` and ``test_root`` are the roots of the owner's training and hidden test rows
        (:mod:`colearn_jupyter.merkle`); ``linear`` gives an on-chain perceptron. ``reward_pool`` wei is sent.
        """
        model_input = (
            name,
            _cid_bytes(model_cid),
            _cid_bytes(metadata_cid),
            _bytes32(test_set_commitment),
            accuracy_bps,
            _cid_bytes(evaluation_cid),
            _bytes32(training_root),
            training_row_count,
            _bytes32(test_root),
            test_row_count,
        )
        linear_input = linear.as_tuple() if linear else (b"", 0, 0)
        return self._send(
            account, "publishModel", model_input, terms.as_tuple(), tuple(schema), linear_input, value=reward_pool
        )

    def publish_version(
        self, account: Account | str, model_id: int, model_cid: str, accuracy_bps: int, evaluation_cid: str = ""
    ) -> Receipt:
        """Publish a new version of a model with its accuracy on the hidden test set."""
        return self._send(
            account, "publishVersion", model_id, _cid_bytes(model_cid), accuracy_bps, _cid_bytes(evaluation_cid)
        )

    def fund_reward_pool(self, account: Account | str, model_id: int, amount: int) -> Receipt:
        """Add ``amount`` wei to a model's reward pool."""
        return self._send(account, "fundRewardPool", model_id, value=amount)

    def withdraw_reward_pool(self, account: Account | str, model_id: int, amount: int) -> Receipt:
        """Move unallocated reward back to the owner's credit."""
        return self._send(account, "withdrawRewardPool", model_id, amount)

    def resolve_challenge(self, account: Account | str, challenge_id: int, upheld: bool) -> Receipt:
        """The owner's verdict on a label or file challenge: ``upheld=True`` means the label is wrong (or the file
        cannot be fetched or does not hold the committed rows)."""
        return self._send(account, "resolveChallenge", challenge_id, upheld)

    def reveal_test_set(self, account: Account | str, model_id: int, salt: bytes, test_set_cid: str) -> Receipt:
        """Reveal the hidden test set so anyone can re-check the published accuracies."""
        return self._send(account, "revealTestSet", model_id, salt, _cid_bytes(test_set_cid))

    # ------------------------------------------------------------------------------------------------ contributors
    def contribute(
        self,
        account: Account | str,
        model_id: int,
        data_cid: str,
        merkle_root: bytes | str,
        row_count: int,
        *,
        before_send: Callable[[], object] | None = None,
        deposit_per_row: int | None = None,
    ) -> Receipt:
        """Add a batch of rows stored at ``data_cid``, committed by ``merkle_root``; pays the deposit.

        The root must be that of the rows' tree keyed by the contributing account
        (:func:`~colearn_jupyter.merkle.contributor_key`). ``before_send`` runs once the contract has accepted the
        call in simulation, before it is signed. ``deposit_per_row`` is the model's (its terms never change), when
        the caller has read it already; else it is read here. A wrong one is refused by the contract.
        """
        if deposit_per_row is None:
            deposit_per_row = self.model(model_id).terms.deposit_per_row
        root = _bytes32(merkle_root)
        cid = _cid_bytes(data_cid, what="data CID")
        receipt = self._send(account, "contribute", model_id, cid, root, row_count, value=row_count * deposit_per_row,
                             before_send=before_send)  # fmt: skip
        for event in receipt.events:  # what only this event holds: reading the submission again needs no log query
            if event.name == "SubmissionAdded":
                args = event.args
                self._added[args["submission_id"]] = (args["contributor"].lower(), _bytes32(args["merkle_root"]),
                                                      args["data_cid"])  # fmt: skip
        return receipt

    def contribute_row(self, account: Account | str, model_id: int, features: Sequence[int], label: int) -> Receipt:
        """Add one row on chain for a model with an on-chain perceptron (fixed-point features, one per feature of the
        model); pays the deposit. It is sent in its sparse form (:mod:`~colearn_jupyter.onchain`): the same row as
        :meth:`contribute_sparse_row` with its non-zero features."""
        count = self._call("linearModel", model_id).featureCount
        if len(features) != count:
            raise _refusal("FeatureCountMismatch", expected=count, received=len(features))
        return self.contribute_sparse_row(account, model_id, {i: v for i, v in enumerate(features) if v}, label)

    def contribute_sparse_row(self, account: Account | str, model_id: int, features: Features, label: int) -> Receipt:
        """Add one row on chain given by its non-zero features (``{index: value}`` or pairs, fixed point); gas follows
        their number, not the model's width. Pays the deposit."""
        model = self.model(model_id)
        linear = self._call("linearModel", model_id)
        if label not in (0, 1):
            raise _refusal("InvalidLabel", label=label)
        pairs = list(features.items() if isinstance(features, Mapping) else features)
        for index, value in pairs:
            if not -(2**63) <= int(value) < 2**63:
                raise _refusal("FeatureOutOfRange", index=index, value=value, maxAbs=linear.maxAbsFeature)
        try:
            row = encode_sparse_row(pairs, label)
        except ValueError as error:
            raise _refusal("MalformedRow", reason=str(error)) from None
        return self._send(account, "contributeRow", model_id, row, value=model.terms.deposit_per_row)

    def claim(self, account: Account | str, submission_id: int) -> Receipt:
        """Credit the contributor with deposit and reward of every row not rejected (after the window). An on-chain
        row that was not rejected is claimed with its row and the perceptron's current weights, and the perceptron
        learns it; should another claim change the weights first, this reads them again and retries."""
        raw = self._call("getSubmission", submission_id)
        if not (raw.onChainRow and raw.rowsRejected == 0 and not raw.claimed):
            return self._send(account, "claim", submission_id)
        row, model_id = self._onchain_row(submission_id)
        for attempt in range(1, _CLAIM_ATTEMPTS + 1):
            weights, _, _ = self.linear_model(model_id)
            try:
                return self._send(account, "claimRow", submission_id, row, pack_weights(weights))
            except MarketplaceError as error:
                if error.name != "WeightsMismatch" or attempt == _CLAIM_ATTEMPTS:
                    raise
            except TransactionRefused:  # mined after another claim had changed the weights: simulate again
                if attempt == _CLAIM_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def withdraw(self, account: Account | str) -> Receipt:
        """Pay out everything credited to the account."""
        return self._send(account, "withdraw")

    # ------------------------------------------------------------------------------------------------ challengers
    def commit_challenge(self, account: Account | str, submission_id: int, row_index: int) -> bytes:
        """Commit to challenging a row (one transaction); returns the secret salt that reveals it.

        The commitment names neither the row nor the submission, so nobody can copy or front-run the challenge;
        the reveal must come in a later block, from the same account: this returns once there is one.
        """
        signer = self.chain.account(account)
        salt = os.urandom(32)
        commitment = self.challenge_commitment(signer.address, submission_id, row_index, salt)
        receipt = self._send(signer, "commitChallenge", commitment)
        self.chain.wait_for_block_after(receipt.block_number)
        return salt

    def challenge_label(
        self, account: Account | str, submission_id: int, row_index: int, row: bytes, proof: Sequence[bytes]
    ) -> Receipt:
        """Challenge a row whose label looks wrong (commit, then reveal with the bond); the owner judges it."""
        bond = self._bond_of(submission_id)
        self._check_challengeable(account, submission_id, row_index, row, proof, label=True)
        salt = self.commit_challenge(account, submission_id, row_index)
        return self._send(account, "challengeLabel", submission_id, row_index, row, list(proof), salt, value=bond)

    def challenge_format(
        self,
        account: Account | str,
        submission_id: int,
        row_index: int,
        row: bytes,
        proof: Sequence[bytes],
        schema: Sequence[Any],
    ) -> Receipt:
        """Challenge a row that fails the model's committed schema; the contract judges it at once."""
        self._check_challengeable(account, submission_id, row_index, row, proof, objective=True)
        salt = self.commit_challenge(account, submission_id, row_index)
        return self._send(account, "challengeFormat", submission_id, row_index, row, list(proof), tuple(schema), salt)

    def challenge_duplicate(
        self,
        account: Account | str,
        submission_id: int,
        row_index: int,
        row: bytes,
        proof: Sequence[bytes],
        source: DuplicateSource,
    ) -> Receipt:
        """Challenge a row that repeats an earlier row, or the owner's training or test data; judged at once."""
        self._check_challengeable(account, submission_id, row_index, row, proof, objective=True)
        salt = self.commit_challenge(account, submission_id, row_index)
        return self._send(
            account, "challengeDuplicate", submission_id, row_index, row, list(proof), source.as_tuple(), salt
        )

    def challenge_availability(self, account: Account | str, submission_id: int, row_index: int) -> Receipt:
        """Demand that a row be produced (commit, then reveal with the bond); unanswered, the batch is forfeited."""
        bond = self._bond_of(submission_id)
        self._check_challengeable(account, submission_id, row_index)
        salt = self.commit_challenge(account, submission_id, row_index)
        return self._send(account, "challengeAvailability", submission_id, row_index, salt, value=bond)

    def challenge_file(self, account: Account | str, submission_id: int) -> Receipt:
        """Challenge a batch whose file cannot be fetched or does not hold its committed rows (commit, then reveal
        with the bond); the owner judges it, and upheld, the whole batch is rejected."""
        bond = self._bond_of(submission_id)
        submission = self.submission(submission_id)
        if submission.on_chain_row:
            raise _refusal("NotApplicable", reason="an on-chain row has no file")
        if submission.file_judged:
            raise _refusal("FileAlreadyJudged", submissionId=submission_id)
        self._check_challengeable(account, submission_id, None, label=True)
        salt = self.commit_challenge(account, submission_id, WHOLE_FILE)
        return self._send(account, "challengeFile", submission_id, salt, value=bond)

    def answer_challenge(
        self, account: Account | str, challenge_id: int, row: bytes, proof: Sequence[bytes]
    ) -> Receipt:
        """Produce a demanded row with its proof; the challenger's bond is credited to the answering account."""
        return self._send(account, "answerChallenge", challenge_id, row, list(proof))

    def expire_challenge(self, account: Account | str, challenge_id: int) -> Receipt:
        """Close a challenge whose time-out passed (a label stands; an unanswered demand forfeits the batch)."""
        return self._send(account, "expireChallenge", challenge_id)

    def _check_challengeable(
        self,
        account: Account | str,
        submission_id: int,
        row_index: int | None,
        row: bytes | None = None,
        proof: Sequence[bytes] = (),
        *,
        label: bool = False,
        objective: bool = False,
    ) -> None:
        """Refuse, before the commitment is sent, a challenge whose reveal the contract would refuse for a reason
        visible now (so a doomed challenge costs no commitment and changes nothing): a forfeited batch, a closed
        window, a row index out of range, a rejected row or one with a pending challenge (except a pending label
        challenge, which does not shield a row from an ``objective`` one: the contract's verdict closes it), the owner
        raising a label (or, ``row_index`` None, a file) challenge, a proof that does not hold."""
        submission = self.submission(submission_id)
        if submission.forfeited:
            raise _refusal("SubmissionForfeited", submissionId=submission_id)
        if self.chain.timestamp() >= submission.window_ends_at:
            raise _refusal("ChallengeWindowClosed", submissionId=submission_id, closedAt=submission.window_ends_at)
        if row_index is not None:
            self._check_row_challengeable(submission, row_index, objective=objective)
        signer = self.chain.account(account)
        if label and self.model(submission.model_id).owner == signer.address:
            raise _refusal("OwnerCannotChallenge", modelId=submission.model_id)
        if row is not None:
            if submission.on_chain_row:  # no tree: the row must be the one stored, with an empty proof
                valid = row_index == 0 and not proof and bytes(row) == self._onchain_row(submission_id)[0]
            else:
                key = contributor_key(submission.contributor)
                root = bytes.fromhex(submission.merkle_root[2:])
                valid = verify_proof(root, submission.row_count, key, row_index, bytes(row), [bytes(p) for p in proof])
            if not valid:
                raise _refusal("InvalidProof", submissionId=submission_id, rowIndex=row_index)

    def _check_row_challengeable(self, submission: Submission, row_index: int, *, objective: bool) -> None:
        submission_id = submission.id
        if not 0 <= row_index < submission.row_count:
            raise _refusal(
                "RowIndexOutOfRange", submissionId=submission_id, rowIndex=row_index, rowCount=submission.row_count
            )
        if self.is_row_rejected(submission_id, row_index):
            raise _refusal("RowAlreadyRejected", submissionId=submission_id, rowIndex=row_index)
        latest = self.challenge_of(submission_id, row_index)
        pending = self.challenge_info(latest) if latest else None
        if pending is not None and pending.status == "pending" and not (objective and pending.kind == "label"):
            raise _refusal("RowChallengePending", submissionId=submission_id, rowIndex=row_index, challengeId=latest)

    def _bond_of(self, submission_id: int) -> int:
        return self.model(self.submission(submission_id).model_id).terms.challenge_bond

    # ------------------------------------------------------------------------------------------------ views
    def model_count(self) -> int:
        return self._call("modelCount")

    def model(self, model_id: int) -> ModelInfo:
        return self._with_publication([self._call("getModel", model_id)])[0]

    def models(self, offset: int = 0, limit: int = 100) -> list[ModelInfo]:
        """A page of models in id order (one call per page, not per model; names from one log query)."""
        return self._with_publication(self._call("getModels", offset, limit))

    def all_models(self, page: int = 200) -> list[ModelInfo]:
        """Every model, in id order (one call per page)."""
        return _all_pages(lambda offset: self.models(offset, page), page)

    def _with_publication(self, raws: Sequence[Any]) -> list[ModelInfo]:
        """Models from the views, with what only their ``ModelPublished`` events hold (name, metadata CID): read
        once per process, one log query for every model not seen yet. An entry is used only for the same owner and
        test-set commitment (a devnet reset may give the id to another model)."""

        def known(raw: Any) -> bool:
            entry = self._published.get(raw.id)
            return entry is not None and entry[:2] == (raw.owner.lower(), bytes(raw.testSetCommitment))

        stale = [raw for raw in raws if not known(raw)]
        if stale:
            restart = any(raw.id in self._published for raw in stale)
            start = 0 if restart else self._published_to + 1
            latest = self.chain.w3.eth.block_number
            for _, args in self._logs(["ModelPublished"], from_block=start, to_block=max(start, latest)):
                self._published[args["modelId"]] = (
                    args["owner"].lower(),
                    bytes(args["testSetCommitment"]),
                    args["name"],
                    _cid_text(args["metadataCid"]),
                )
            self._published_to = max(self._published_to, latest)
        out = []
        for raw in raws:
            _, _, name, metadata = self._published.get(raw.id, ("", b"", "", ""))
            out.append(_from_tuple(ModelInfo, {**raw._asdict(), "name": name, "metadataCid": metadata}))
        return out

    def versions(self, model_id: int) -> list[Version]:
        """Every version of a model, from its ``VersionPublished`` events (one log query)."""
        logs = self._logs(["VersionPublished"], model_id)
        if not logs:
            self.model(model_id)  # an unknown model is refused
        return [version_from_event(args) for _, args in logs]

    def submission_count(self) -> int:
        return self._call("submissionCount")

    def submission(self, submission_id: int) -> Submission:
        return self._with_data_cids([self._call("getSubmission", submission_id)])[0]

    def submissions(self, model_id: int, offset: int = 0, limit: int = 100) -> list[Submission]:
        """A page of a model's submissions in id order (their ids from one log query, then one call)."""
        page = self._submission_ids(model_id)[offset : offset + limit]
        return self._with_data_cids(self._call("getSubmissions", page)) if page else []

    def all_submissions(self, model_id: int, page: int = 100) -> list[Submission]:
        """Every submission of a model, in id order (one log query, then one call per page)."""
        ids = self._submission_ids(model_id)
        out: list[Submission] = []
        for start in range(0, len(ids), page):
            out += self._with_data_cids(self._call("getSubmissions", ids[start : start + page]))
        return out

    def submissions_by_id(self, ids: Sequence[int], page: int = 100) -> list[Submission]:
        """Submissions by id, in the order given (one call per page); every id must exist."""
        out: list[Submission] = []
        for start in range(0, len(ids), page):
            out += self._with_data_cids(self._call("getSubmissions", list(ids[start : start + page])))
        return out

    def _submission_ids(self, model_id: int) -> list[int]:
        """The ids of a model's submissions, from its ``SubmissionAdded`` events (which also give their CIDs)."""
        logs = self._logs(["SubmissionAdded"], model_id)
        if not logs:
            self.model(model_id)  # an unknown model is refused
        for _, args in logs:
            self._remember_added(args)
        return [args["submissionId"] for _, args in logs]

    def _remember_added(self, args: dict[str, Any]) -> None:
        self._added[args["submissionId"]] = (
            args["contributor"].lower(),
            bytes(args["merkleRoot"]),
            _cid_text(args["dataCid"]),
        )

    def _with_data_cids(self, raws: Sequence[Any]) -> list[Submission]:
        """Submissions from the views, with the data CID that only their ``SubmissionAdded`` event holds (read once
        per process, and used only for the same contributor and root)."""
        out = []
        for raw in raws:
            cid = ""
            if not raw.onChainRow:
                key = (raw.contributor.lower(), bytes(raw.merkleRoot))
                if self._added.get(raw.id, ("", b""))[:2] != key:
                    for _, args in self._logs(["SubmissionAdded"], None, raw.id):
                        self._remember_added(args)
                cid = self._added.get(raw.id, ("", b"", ""))[2]
            out.append(_from_tuple(Submission, {**raw._asdict(), "dataCid": cid}))
        return out

    def challenge_info(self, challenge_id: int) -> Challenge:
        raw = self._call("getChallenge", challenge_id)._asdict()
        raw["status"] = CHALLENGE_STATUS[raw["status"]]
        raw["kind"] = CHALLENGE_KINDS[raw["kind"]]
        if raw["kind"] == "file":
            raw["row_index" if "row_index" in raw else "rowIndex"] = None
        return _from_tuple(Challenge, raw)

    def challenge_of(self, submission_id: int, row_index: int) -> int:
        """The latest challenge of a row (0 if none)."""
        return self._call("challengeOf", submission_id, row_index)

    def is_row_rejected(self, submission_id: int, row_index: int) -> bool:
        return self._call("isRowRejected", submission_id, row_index)

    def row(self, submission_id: int) -> tuple[list[int], int]:
        """The dense features and the label of an on-chain row (from its ``RowAdded`` event)."""
        row, model_id = self._onchain_row(submission_id)
        features, label = decode_onchain_row(row)
        return dense(features, self._call("linearModel", model_id).featureCount), label

    def _onchain_row(self, submission_id: int) -> tuple[bytes, int]:
        """The canonical bytes of an on-chain row, and its model (one log query)."""
        logs = self._logs(["RowAdded"], None, submission_id)
        if not logs:
            self.submission(submission_id)  # an unknown submission is refused
            raise _refusal("NotOnChainRow", submissionId=submission_id)
        return bytes(logs[-1][1]["row"]), logs[-1][1]["modelId"]

    def linear_model(self, model_id: int) -> tuple[list[int], int, int]:
        """The on-chain perceptron: weights, intercept and number of updates. The chain keeps the weights' hash; the
        weights are rebuilt from the model's events (one log query, only when they changed since the last read) and
        checked against it."""
        info = self._call("linearModel", model_id)
        digest = bytes(info.weightsHash)
        cached = self._perceptrons.get(model_id)
        if cached is not None and cached[0] == digest:
            return list(cached[1]), info.intercept, info.updates
        weights: list[int] | None = None
        intercept = 0
        rows: dict[int, tuple[dict[int, int], int]] = {}
        for name, args in self._logs(["LinearModelPublished", "RowAdded", "LinearModelUpdated"], model_id):
            if name == "LinearModelPublished":
                weights, intercept = unpack_weights(args["weights"]), args["intercept"]
            elif name == "RowAdded":
                rows[args["submissionId"]] = decode_onchain_row(args["row"])
            elif weights is not None and args["submissionId"] in rows:
                weights, intercept, _ = learn(weights, intercept, *rows[args["submissionId"]])
        if weights is None or keccak(pack_weights(weights)) != digest or intercept != info.intercept:
            raise ChainError(f"model {model_id}'s perceptron cannot be rebuilt from its events")
        self._perceptrons[model_id] = (digest, weights)
        return list(weights), intercept, info.updates

    def predict(self, model_id: int, features: Sequence[int]) -> int:
        """The label the on-chain perceptron predicts for a dense row (computed here, exactly as the contract does)."""
        weights, intercept, _ = self.linear_model(model_id)
        if len(features) != len(weights):
            raise _refusal("FeatureCountMismatch", expected=len(weights), received=len(features))
        return predict(weights, intercept, {i: int(v) for i, v in enumerate(features) if v})

    def credit_of(self, who: Account | str) -> int:
        """Wei credited to an account (or address) and not yet withdrawn."""
        address = who if isinstance(who, str) and Web3.is_address(who) else self.chain.account(who).address
        return self._call("creditOf", Web3.to_checksum_address(address))

    def burned(self) -> int:
        """Wei burned so far: deposits of rejected rows and bonds of rejected label challenges."""
        return self._call("burned")

    def row_fault(self, schema: Sequence[Any], row: bytes) -> int:
        """The contract's verdict on a row against a ``RowSchema`` tuple (0: no fault), from its RowChecker."""
        if self._checker is None:
            checker = self._call("rowChecker")
            self._checker = self.chain.w3.eth.contract(address=checker, abi=load_artifact()["rowCheckerAbi"])
        return self._checker.functions.fault(tuple(schema), row).call()

    def challenge_commitment(self, challenger: str, submission_id: int, row_index: int, salt: bytes) -> bytes:
        """``keccak256(abi.encode(challenger, submissionId, rowIndex, salt))``, computed locally."""
        encoded = abi_encode(
            ["address", "uint256", "uint32", "bytes32"],
            [Web3.to_checksum_address(challenger), submission_id, row_index, salt],
        )
        return keccak(encoded)

    def test_set_commitment(self, salt: bytes, test_set_cid: str) -> bytes:
        """``keccak256(abi.encodePacked(salt, binaryCid))``, computed locally."""
        return keccak(bytes(salt) + cid_to_bytes(test_set_cid))

    def __repr__(self) -> str:
        return f"Marketplace({self.address} on {self.chain!r})"


def _plain(value: Any, name: str = "") -> Any:
    if isinstance(value, bytes):
        return _cid_text(value) if name.endswith("_cid") else "0x" + value.hex()
    if hasattr(value, "_asdict"):
        return {_snake(k): _plain(v, _snake(k)) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def version_from_event(args: Mapping[str, Any]) -> Version:
    """A :class:`Version` from the arguments of its ``VersionPublished`` event (as the contract names them)."""
    return Version(
        number=args["version"],
        model_cid=_cid_text(args["modelCid"]),
        evaluation_cid=_cid_text(args["evaluationCid"]),
        accuracy_bps=args["accuracyBps"],
        parent=args["parent"],
        published_at=args["publishedAt"],
        rows_accepted=args["rowsAccepted"],
    )


def _cid_text(value: bytes) -> str:
    """A binary CID from the chain as text ("" for none); anything malformed is shown as hex, never trusted."""
    if not value:
        return ""
    try:
        return cid_from_bytes(bytes(value))
    except ValueError:
        return "0x" + bytes(value).hex()


def _cid_bytes(cid: str, what: str = "CID") -> bytes:
    """A CID string as the contract stores it (binary CIDv1); "" stays empty."""
    if not cid:
        return b""
    try:
        return cid_to_bytes(cid)
    except ValueError as error:
        raise MarketplaceError("InvalidCid", {"what": what}, f"The {what} {cid!r} is not usable: {error}.") from None


def _abi_type(entry: dict[str, Any]) -> str:
    """The canonical type of an ABI input: ``(uint128,uint64)`` for a struct."""
    kind = entry["type"]
    if not kind.startswith("tuple"):
        return kind
    return "(" + ",".join(_abi_type(c) for c in entry["components"]) + ")" + kind[len("tuple") :]


class _EventCodecs:
    """The marketplace's events decoded with eth_abi (web3's ``process_log`` takes far longer per log)."""

    def __init__(self, abi: list[dict[str, Any]]):
        self.topics: dict[str, bytes] = {}
        self._events: dict[bytes, dict[str, Any]] = {}
        for item in abi:
            if item.get("type") == "event":
                topic = keccak(text=f"{item['name']}({','.join(_abi_type(i) for i in item['inputs'])})")
                self.topics[item["name"]] = topic
                self._events[topic] = item

    def decode(self, log: Any) -> tuple[str, dict[str, Any]]:
        """A log's event name and arguments; the log as web3 gives it (bytes) or as the node sends it (hex)."""
        item = self._events[_raw(log["topics"][0])]
        indexed = [i for i in item["inputs"] if i["indexed"]]
        plain = [i for i in item["inputs"] if not i["indexed"]]
        topics = log["topics"][1:]
        args = {i["name"]: abi_decode([i["type"]], _raw(t))[0] for i, t in zip(indexed, topics, strict=True)}
        values = abi_decode([_abi_type(i) for i in plain], _raw(log["data"]))
        args.update(zip((i["name"] for i in plain), values, strict=True))
        return item["name"], args


def _raw(value: bytes | str) -> bytes:
    """Bytes from a node's hex text, or bytes as they are."""
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def _integer(value: int | str) -> int:
    """An integer from a node's hex text, or an integer as it is."""
    return int(value, 16) if isinstance(value, str) else value


def _all_pages(fetch: Callable[[int], list[T]], page: int) -> list[T]:
    """Concatenate pages from ``fetch(offset)`` until a page comes back short."""
    out: list[T] = []
    while True:
        batch = fetch(len(out))
        out.extend(batch)
        if len(batch) < page:
            return out


def _bytes32(value: bytes | str) -> bytes:
    return Web3.to_bytes(hexstr=value) if isinstance(value, str) else bytes(value)


def _deployment_key(chain: Chain) -> str:
    """Where this chain's marketplace is recorded: for the home's own devnet, the devnet itself (anvil may report
    another genesis hash after a restart from its saved state, and its marketplace is the same); for any other chain,
    its id and genesis block."""
    if chain.is_devnet:
        return f"{chain.chain_id}:devnet"
    genesis = chain.w3.eth.get_block(0)["hash"]
    return f"{chain.chain_id}:{bytes(genesis).hex()}"


def _deployment_keys(chain: Chain) -> list[str]:
    """The keys a recorded marketplace may be under, newest scheme first (devnet records of older versions were
    keyed by genesis hash)."""
    keys = [_deployment_key(chain)]
    if chain.is_devnet:
        keys.append(f"{chain.chain_id}:{bytes(chain.w3.eth.get_block(0)['hash']).hex()}")
    return keys


def _read_deployments(chain: Chain) -> dict[str, str]:
    try:
        return json.loads((chain.home / "deployments.json").read_text())
    except (OSError, ValueError):
        return {}


def _code_matches(chain: Chain, address: str) -> bool:
    code = bytes(chain.w3.eth.get_code(Web3.to_checksum_address(address)))
    return code == bytes.fromhex(load_artifact()["deployedBytecode"].removeprefix("0x"))
