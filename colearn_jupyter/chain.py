"""A connection to an EVM chain, and the one place where transactions are signed and sent.

:class:`Chain` talks to the embedded devnet by default and to any JSON-RPC URL when one is configured
(``COLEARN_RPC_URL`` or ``c.ColearnSettings.rpc_url``). Sending is safe for several kernels using one account at
once: the nonce is read and the transaction sent while holding a per-account lock file. On the devnet, a crashed
node is restarted transparently, and a transaction is reported confirmed only once its block is in the devnet's
journal; one lost in a crash is sent again (the same signed bytes, so it happens at most once).

Code that must keep something consistent with a transaction (the files it names) registers with
:func:`on_signed`: it learns the hash and signed bytes before they leave this process. Failures say whether the
transaction certainly did not happen (:class:`~colearn_jupyter.errors.TransactionRefused`) or may still
(:class:`~colearn_jupyter.errors.TransactionInDoubt`, or an interrupt).

>>> from colearn_jupyter import Chain
>>> chain = Chain()                      # doctest: +SKIP
>>> chain.account("alice").address       # doctest: +SKIP
'0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import select
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from filelock import FileLock
from web3 import Web3
from web3._utils.http_session_manager import HTTPSessionManager
from web3._utils.method_formatters import get_error_formatters, get_null_result_formatters, receipt_formatter
from web3.datastructures import AttributeDict
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound, Web3RPCError
from web3.providers.rpc import HTTPProvider

from .accounts import Account, load_account
from .config import ColearnSettings
from .devnet import Devnet
from .errors import ChainError, ClockRefused, DevnetError, TransactionInDoubt, TransactionRefused
from .rpcerrors import RefusedAtSend, explain, node_message

_GAS_HEADROOM = 1.25
_RECEIPT_TIMEOUT_S = 120
_RESEND_AFTER_S = 1.0  # the devnet mines at once: a transaction missing this long was lost with a crashed node

#: Called with (tx hash, signed bytes, sender, nonce) just before a transaction leaves this process.
SignedHook = Callable[[str, str, str, int], None]
_SIGNED_HOOK: ContextVar[SignedHook | None] = ContextVar("colearn_signed_hook", default=None)


@contextlib.contextmanager
def on_signed(hook: SignedHook) -> Iterator[None]:
    """Call ``hook(tx_hash, raw, sender, nonce)`` for every transaction this context signs, before it is sent.

    >>> with on_signed(lambda tx_hash, raw, sender, nonce: print(tx_hash)):   # doctest: +SKIP
    ...     market.claim("alice", 3)
    """
    token = _SIGNED_HOOK.set(hook)
    try:
        yield
    finally:
        _SIGNED_HOOK.reset(token)


def is_loopback_http(url: str) -> bool:
    """Whether ``url`` is plain HTTP to this machine (``localhost``, ``127.0.0.0/8``, ``::1``): no proxy, certificate
    or netrc setting of the environment can apply to it.

    >>> is_loopback_http("http://127.0.0.1:8645"), is_loopback_http("http://localhost:8545/")
    (True, True)
    >>> is_loopback_http("https://localhost:8545"), is_loopback_http("http://10.0.0.5:8545")
    (False, False)
    """
    parts = urlsplit(url)
    if parts.scheme != "http":
        return False
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _LoopbackSessions(HTTPSessionManager):
    """How web3's HTTP provider posts to a node on this machine: over one kept-alive ``http.client`` connection per
    thread and URL, never reading the environment. requests re-reads the proxy variables (HTTP(S)_PROXY, NO_PROXY)
    and the netrc file for every request, and prepares, hooks and adapts each one: about a fifth of a
    contribution's CPU, although none of it applies to loopback. Failures raise what requests raises (a
    ``requests.ConnectionError`` when the node is gone, which the devnet's provider answers by restarting it;
    ``requests.Timeout``; ``requests.HTTPError`` for an error status), so the callers see no difference.
    ``cache_and_return_session`` (GET requests, which colearn does not make) gives a requests session that does
    not read the environment either."""

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()

    def cache_and_return_session(  # type: ignore[override]
        self, endpoint_uri: Any, session: requests.Session | None = None, request_timeout: float | None = None
    ) -> requests.Session:
        cached = getattr(self._local, "session", None)
        if cached is None:
            cached = self._local.session = requests.Session()
            cached.trust_env = False
        return cached

    def make_post_request(self, endpoint_uri: Any, data: bytes | dict[str, Any], **kwargs: Any) -> bytes:  # type: ignore[override]
        if not isinstance(data, (bytes, str)) or kwargs.get("stream"):
            return super().make_post_request(endpoint_uri, data, **kwargs)  # what colearn never sends: as web3 does
        timeout = kwargs.get("timeout") or 60
        connections: dict[str, http.client.HTTPConnection] = self._local.__dict__.setdefault("connections", {})
        connection = connections.get(endpoint_uri)
        if connection is not None and _dropped(connection):
            connection.close()
            connection = None
        if connection is None:
            parts = urlsplit(endpoint_uri)
            connection = connections[endpoint_uri] = http.client.HTTPConnection(
                parts.hostname, parts.port or 80, timeout=timeout
            )
        try:
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
            connection.request("POST", urlsplit(endpoint_uri).path or "/", data, kwargs.get("headers") or {})
            response = connection.getresponse()
            body = response.read()
        except TimeoutError as error:
            connections.pop(endpoint_uri, None)
            connection.close()
            raise requests.exceptions.Timeout(f"{endpoint_uri} did not answer within {timeout} s") from error
        except (OSError, http.client.HTTPException) as error:
            connections.pop(endpoint_uri, None)
            connection.close()
            raise requests.exceptions.ConnectionError(f"{endpoint_uri}: {error!r}") from error
        if response.will_close:
            connections.pop(endpoint_uri, None)
            connection.close()
        if response.status >= 400:
            raise requests.exceptions.HTTPError(f"{response.status} {response.reason} from {endpoint_uri}")
        return body


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether a kept-alive connection was closed by the node (its socket reads as ready: end of file), as urllib3
    checks before it reuses one."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class _Provider(HTTPProvider):
    """web3's HTTP provider; a node on this machine over plain HTTP is reached without reading proxy settings
    (:class:`_LoopbackSessions`), any other URL exactly as web3 reaches it (proxies, CA bundles and all)."""

    def __init__(self, url: str):
        super().__init__(url, request_kwargs={"timeout": 60})
        self.loopback = is_loopback_http(url)
        if self.loopback:
            self._request_session_manager = _LoopbackSessions()


class _DevnetProvider(_Provider):
    """An HTTP provider that restarts the devnet (with its saved state) when the node has gone away."""

    def __init__(self, devnet: Devnet):
        self._devnet = devnet
        super().__init__(devnet.ensure_running())

    def make_request(self, method, params):  # type: ignore[override]
        try:
            return super().make_request(method, params)
        except requests.exceptions.ConnectionError:
            self.endpoint_uri = self._devnet.ensure_running()
            return super().make_request(method, params)

    def make_batch_request(self, batch_requests):  # type: ignore[override]
        try:
            return super().make_batch_request(batch_requests)
        except requests.exceptions.ConnectionError:
            self.endpoint_uri = self._devnet.ensure_running()
            return super().make_batch_request(batch_requests)


@cache
def _formatters(method: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """web3's own error and null-result handling of ``method``: a revert raises ``ContractLogicError`` or
    ``ContractCustomError``, a missing receipt ``TransactionNotFound``, as through ``w3.eth``."""
    return get_error_formatters(method), get_null_result_formatters(method)  # type: ignore[arg-type]


def _rpc_value(value: Any) -> Any:
    """A transaction field as JSON-RPC has it: integers and bytes in hex."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    return value


def rpc_transaction(transaction: dict[str, Any]) -> dict[str, Any]:
    """A transaction dict (as web3 builds them: ``chainId``, ``maxFeePerGas``, ``data``…) as a JSON-RPC parameter:
    integers and bytes in hex, and, as web3 sends it, no empty ``to`` (a contract creation) or ``gasPrice``.

    >>> rpc_transaction({"from": "0xAb", "value": 10, "data": b"\\x01", "chainId": 31337, "to": b""})
    {'from': '0xAb', 'value': '0xa', 'data': '0x01', 'chainId': '0x7a69'}
    """
    return {
        key: _rpc_value(value)
        for key, value in transaction.items()
        if not (key in ("to", "gasPrice") and value in ("", b"", None))
    }


class Chain:
    """A web3 connection plus transaction sending.

    Parameters
    ----------
    settings:
        Where to connect. Defaults to :class:`ColearnSettings` read from the environment.
    rpc_url:
        Shortcut for ``ColearnSettings(rpc_url=...)``.
    """

    def __init__(self, settings: ColearnSettings | None = None, *, rpc_url: str | None = None):
        if settings is None:
            settings = ColearnSettings(rpc_url=rpc_url) if rpc_url is not None else ColearnSettings()
        self.settings = settings
        self.devnet: Devnet | None = Devnet(settings.home_path) if settings.uses_devnet else None
        self._w3: Web3 | None = None
        self._chain_id: int | None = None
        self._local_node: bool | None = None
        self._home: Path | None = None
        #: The newest block in which this process found one of the transactions it sent (or settled) mined and
        #: durable (-1: none yet): a block that certainly exists, which the market index reads events up to.
        self.newest_block = -1

    # ------------------------------------------------------------------------------------------------ connection
    @property
    def w3(self) -> Web3:
        """The web3 instance, connected on first use (starting the devnet if needed)."""
        if self._w3 is None:
            if self.devnet is not None:
                provider: HTTPProvider = _DevnetProvider(self.devnet)
            else:
                provider = _Provider(self.settings.rpc_url)
            w3 = Web3(provider)
            # Neither is of use here and both cost at every call: "validation" asks the node for its chain id before
            # each eth_call, estimate and send (the transactions built here carry the id read once, below), and
            # "ens_name_to_address" walks every argument looking for ENS names (addresses are given as addresses).
            for name in ("validation", "ens_name_to_address"):
                w3.middleware_onion.remove(name)
            try:
                self._chain_id = w3.eth.chain_id
            except requests.exceptions.RequestException as error:
                raise ChainError(
                    f"no node answers at {self.settings.rpc_url}: {error.__class__.__name__}. Start it, or unset "
                    "COLEARN_RPC_URL to use the embedded devnet."
                ) from None
            self._w3 = w3
        return self._w3

    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One JSON-RPC call; its result as the node sent it (hex strings, no web3 result formatting).

        It skips web3's request formatters and middleware (a large share of a contribution's CPU) but not its
        error handling: a refusal raises what ``w3.eth`` would raise for the method (``Web3RPCError``; for
        ``eth_call`` and ``eth_estimateGas`` a revert raises ``ContractLogicError`` or ``ContractCustomError`` with
        the revert data; a missing receipt ``TransactionNotFound``).
        """
        w3, params = self.w3, list(params)
        response = w3.provider.make_request(method, params)  # type: ignore[arg-type]
        return w3.manager.formatted_response(response, params, *_formatters(method))

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several independent JSON-RPC calls in one HTTP request (a JSON-RPC batch): each call's result as
        :meth:`request` returns it, or the exception it would raise (returned, not raised). A node that does not
        take batches is asked one call at a time."""
        w3 = self.w3
        calls = [(method, list(params)) for method, params in calls]
        if len(calls) < 2:
            return [self._result_or_error(method, params) for method, params in calls]
        try:
            responses = w3.provider.make_batch_request(calls)  # type: ignore[attr-defined, arg-type]
        except (Web3RPCError, ValueError, TypeError, KeyError, requests.exceptions.HTTPError):
            responses = None  # a node that refuses batches (an error status, or an answer that is not a batch)
        if not isinstance(responses, list) or len(responses) != len(calls):
            responses = [None] * len(calls)
        results: list[Any] = []
        for (method, params), response in zip(calls, responses, strict=True):
            if response is None or "id" not in response:
                results.append(self._result_or_error(method, params))
                continue
            try:
                results.append(w3.manager.formatted_response(response, params, *_formatters(method)))
            except Exception as error:  # noqa: BLE001 (handed to the caller, who raises it where it matters)
                results.append(error)
        return results

    def _result_or_error(self, method: str, params: Sequence[Any]) -> Any:
        try:
            return self.request(method, params)
        except Exception as error:  # noqa: BLE001 (handed to the caller, as batch hands errors)
            return error

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            _ = self.w3
        assert self._chain_id is not None
        return self._chain_id

    @property
    def is_devnet(self) -> bool:
        """True on the embedded devnet, where named test accounts and time travel are available."""
        return self.devnet is not None

    @property
    def url(self) -> str:
        return self.w3.provider.endpoint_uri  # type: ignore[attr-defined]

    @property
    def home(self) -> Path:
        """The colearn home (created on first use; looked up once: a contribution asks for it once per submission
        of the model, and ``settings.home_path`` makes sure the directory exists every time)."""
        if self._home is None:
            self._home = self.settings.home_path
        return self._home

    def describe(self) -> str:
        """One line naming the chain, for status displays."""
        return f"devnet ({self.url})" if self.is_devnet else f"chain {self.chain_id} at {self.settings.rpc_url}"

    def account(self, spec: str | Account) -> Account:
        """An :class:`Account` from a devnet name, a student of the devnet's class, the name of a keystore kept in
        ``<home>/keystores/<name>.json``, ``"env"`` or a keystore path (see :func:`load_account`)."""
        if isinstance(spec, Account):
            return spec
        if self.is_devnet:
            from .classroom import roster_account

            student = roster_account(self.home, spec)
            if student is not None:
                return student
        keystore = self.home / "keystores" / f"{spec}.json"
        if spec.replace("-", "").replace("_", "").isalnum() and keystore.is_file():
            return load_account(str(keystore), self.chain_id)
        return load_account(spec, self.chain_id)

    def balance(self, who: str | Account) -> int:
        """Balance in wei of an account or address."""
        address = who.address if isinstance(who, Account) else who
        return self.w3.eth.get_balance(Web3.to_checksum_address(address))

    def timestamp(self) -> int:
        """Timestamp of the latest block."""
        return self.w3.eth.get_block("latest")["timestamp"]

    # ------------------------------------------------------------------------------------------------ sending
    def _nonce_lock(self, address: str) -> FileLock:
        locks = self.home / "locks"
        locks.mkdir(exist_ok=True)
        return FileLock(str(locks / f"{self.chain_id}-{address.lower()}.lock"), timeout=300)

    def send(
        self,
        account: Account,
        build: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        value: int = 0,
        decode_error: Callable[[Exception], Exception] | None = None,
        before_send: Callable[[], object] | None = None,
    ) -> dict[str, Any]:
        """Sign and send one transaction from ``account`` and wait for its receipt.

        ``build`` turns the base transaction fields (``from``, ``value``) into a full transaction: for a
        contract function, ``fn.build_transaction``. The transaction is simulated first, so a call the contract
        would refuse raises (through ``decode_error``) before anything is signed, and nothing changes on chain.
        ``before_send`` runs after that simulation succeeded and before signing (for example to store the file
        that the transaction names), so a refused call leaves storage unchanged too.

        The node is asked three things before the receipt: the fees with the account's next nonce (one batch,
        under the account's lock, which is held until the transaction is sent), the simulation, and the send.
        """
        account.refuse_unless_signer()
        base = {"from": account.address, "value": value, "chainId": self.chain_id}
        with self._nonce_lock(account.address):
            try:
                fees, nonce = self._fees_and_nonce(account.address)
                # Built once, with every field web3 would otherwise ask the node for (fees, and a gas placeholder
                # that the estimate replaces), so a send costs one simulation and no second encoding.
                draft = {k: v for k, v in build({**base, **fees, "gas": 0}).items() if k != "gas"}
                gas = int(self.estimate_gas(draft) * _GAS_HEADROOM) + 10_000
            except (ContractCustomError, ContractLogicError) as error:
                raise (decode_error(error) if decode_error else ChainError(str(error))) from None
            except (ValueError, Web3RPCError) as error:  # e.g. insufficient funds
                raise explain(error) from None
            if before_send is not None:
                before_send()
            transaction = {**draft, "gas": gas, "nonce": nonce}
            raw = bytes(account.sign_transaction(transaction))
            tx_hash = Web3.keccak(raw)
            hook = _SIGNED_HOOK.get()
            if hook is not None:
                hook(Web3.to_hex(tx_hash), Web3.to_hex(raw), account.address, nonce)
            try:
                self.send_raw(raw)
            except (ValueError, Web3RPCError) as error:
                # The devnet may have taken it, died before answering and been rebuilt with it (another process made
                # its block durable) while the provider sent it again: the node then refuses the repeat ("nonce too
                # low", "already imported") but knows this very transaction, which happened. Otherwise: refused.
                if not self._node_has(tx_hash):
                    raise explain(error, cls=RefusedAtSend) from None
        receipt = self._wait(tx_hash, raw)
        if receipt["status"] != 1:
            raise self._failed(tx_hash, transaction, receipt, decode_error)
        return receipt

    def _failed(
        self,
        tx_hash: bytes,
        transaction: dict[str, Any],
        receipt: dict[str, Any],
        decode_error: Callable[[Exception], Exception] | None,
    ) -> TransactionRefused:
        """The error of a transaction mined as failed, with why: its gas ran out, or the contract's reason.

        Its simulation had passed, so another transaction changed the contract in between (another account's call:
        a race). The reason is found by calling it again on the state before its block, then after it (when the
        other transaction came first in the same block); a node that no longer has that state gives no reason.
        """
        block = int(receipt["blockNumber"])
        failed = f"transaction {Web3.to_hex(tx_hash)} was mined in block {block} but failed"
        paid = "It changed nothing on chain, but its fee was paid."
        if int(receipt["gasUsed"]) >= int(transaction["gas"]):
            return TransactionRefused(
                f"{failed}: it ran out of gas ({int(transaction['gas']):,}). {paid} Send it again."
            )
        call = rpc_transaction({k: v for k, v in transaction.items() if k in ("from", "to", "data", "value", "gas")})
        for at in (hex(block - 1), hex(block)):
            try:
                self.request("eth_call", [call, at])
            except (ContractCustomError, ContractLogicError) as error:
                reason = decode_error(error) if decode_error else ChainError(str(error))
                return TransactionRefused(
                    f"{failed}: another transaction changed the contract after this call was checked. "
                    f"The contract's reason: {reason} {paid}"
                )
            except (ValueError, Web3RPCError, OSError):  # no state of that block any more
                break
        return TransactionRefused(f"{failed}: the contract reverted it. {paid}")

    def _wait(self, tx_hash: bytes, raw: bytes) -> dict[str, Any]:
        """The receipt of a sent transaction, once durable; a progress line appears when it takes over 2 s.

        On the devnet, a transaction missing for a second (the node mines at once) or mined in a block that never
        reached the journal was lost with a crashed node: it is sent again, as the same signed bytes, so it happens
        at most once. If another transaction took its nonce meanwhile, it certainly did not happen.
        """
        from tqdm.auto import tqdm

        deadline = time.monotonic() + _RECEIPT_TIMEOUT_S
        sent = time.monotonic()
        with tqdm(desc=f"waiting for {Web3.to_hex(tx_hash)[:10]}… to be mined", bar_format="{desc} {elapsed}", delay=2,
                  leave=False) as bar:  # fmt: skip
            while time.monotonic() < deadline:
                receipt = self.durable_receipt(tx_hash)
                if receipt is not None:
                    return receipt
                if self.devnet is not None and time.monotonic() - sent > _RESEND_AFTER_S:
                    if not self.send_again(tx_hash, raw):
                        raise TransactionRefused(
                            f"transaction {Web3.to_hex(tx_hash)} was lost when the devnet stopped, and its nonce is "
                            "now used by another transaction: it did not happen, and nothing it would have done was "
                            "done. Run the call again."
                        )
                    sent = time.monotonic()
                bar.update()
                time.sleep(0.001 if time.monotonic() - sent < 0.05 else 0.02)  # the devnet mines at once
        raise TransactionInDoubt(
            f"transaction {Web3.to_hex(tx_hash)} was sent but not mined within {_RECEIPT_TIMEOUT_S} s; "
            "check it later with its hash before sending it again"
        )

    def estimate_gas(self, transaction: dict[str, Any]) -> int:
        """The node's gas estimate for a transaction dict: a simulation, so a call the contract refuses raises
        ``ContractLogicError`` or ``ContractCustomError`` (with the revert data), as ``w3.eth.estimate_gas`` does."""
        return int(self.request("eth_estimateGas", [rpc_transaction(transaction)]), 16)

    def send_raw(self, raw: bytes | str) -> None:
        """Hand signed transaction bytes to the node (a refusal raises ``Web3RPCError``, as through ``w3.eth``)."""
        self.request("eth_sendRawTransaction", [raw if isinstance(raw, str) else Web3.to_hex(raw)])

    def _fees_and_nonce(self, address: str) -> tuple[dict[str, int], int]:
        """EIP-1559 fees for a transaction sent now (the node's suggested tip, and room for the base fee to double)
        and the account's next nonce, counting its pending transactions: one request to the node."""
        block, tip, nonce = self.batch([
            ("eth_getBlockByNumber", ["latest", False]),
            ("eth_maxPriorityFeePerGas", []),
            ("eth_getTransactionCount", [address, "pending"]),
        ])  # fmt: skip
        for result in (block, nonce):
            if isinstance(result, BaseException):
                raise result
        base_fee = block.get("baseFeePerGas")
        if base_fee is None:  # a node without EIP-1559
            return {"gasPrice": self.w3.eth.gas_price}, int(nonce, 16)
        # a node without the method: web3 works a tip out from the fee history (and warns), as it always did
        tip = self.w3.eth.max_priority_fee if isinstance(tip, BaseException) else int(tip, 16)
        return {"maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * int(base_fee, 16) + tip}, int(nonce, 16)

    def durable_receipt(self, tx_hash: bytes | str) -> dict[str, Any] | None:
        """The receipt of a mined transaction, or None when there is none yet; on the devnet, only once its block
        is in the journal (None when that block was lost with a crashed node: the rebuilt chain does not have it).
        """
        try:
            found = self.request("eth_getTransactionReceipt", [_hex(tx_hash)])
        except TransactionNotFound:
            return None
        receipt = dict(AttributeDict.recursive(receipt_formatter(found)))  # as w3.eth.get_transaction_receipt gives
        if receipt.get("blockHash") is None:
            return None
        if self.devnet is not None and not self.devnet.commit(
            receipt["blockNumber"], "0x" + bytes(receipt["blockHash"]).hex()
        ):
            return None
        self.newest_block = max(self.newest_block, receipt["blockNumber"])
        return receipt

    def send_again(self, tx_hash: bytes | str, raw: bytes | str) -> bool:
        """Send a signed transaction once more, as the same bytes (the same hash: it happens at most once).

        True when the node took it, already has it, or mined it; False when it is not mined and another
        transaction took its nonce: it will never happen. Any other refusal raises :class:`RefusedAtSend`.
        """
        try:
            self.send_raw(raw)
        except (ValueError, Web3RPCError) as error:
            message = node_message(error).lower()
            if "nonce too low" in message:
                try:
                    self.w3.eth.get_transaction_receipt(tx_hash)
                except TransactionNotFound:
                    return False
                return True  # it was mined after all
            if "already" not in message:  # "already known": it is in the pool and will be mined
                raise explain(error, cls=RefusedAtSend) from None
        return True

    def _node_has(self, tx_hash: bytes) -> bool:
        """Whether the node knows this very transaction, pending or mined."""
        try:
            self.w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            return False
        return True

    def transfer(self, account: Account, to: str | Account, value: int) -> dict[str, Any]:
        """Send ``value`` wei from ``account`` to an address or account."""
        address = Web3.to_checksum_address(to.address if isinstance(to, Account) else to)
        return self.send(account, lambda tx: {**tx, "to": address}, value=value)

    def deploy(self, account: Account, abi: list[dict[str, Any]], bytecode: str) -> str:
        """Deploy a contract and return its address."""
        factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
        receipt = self.send(account, lambda tx: factory.constructor().build_transaction(tx))
        return receipt["contractAddress"]

    # ------------------------------------------------------------------------------------------------ devnet only
    @property
    def is_local_node(self) -> bool:
        """True for the embedded devnet and for a development node on this machine (anvil, hardhat, ganache) that
        mines on demand and lets its clock be moved; False for any real network."""
        if self.devnet is not None:
            return True
        if self._local_node is None:
            from urllib.parse import urlsplit

            host = urlsplit(self.url).hostname or ""
            try:
                client = str(self.w3.client_version).lower()
            except Exception:  # noqa: BLE001 (a node without web3_clientVersion is not a known development node)
                client = ""
            loopback = host in {"localhost", "127.0.0.1", "::1"}
            self._local_node = loopback and client.startswith(("anvil", "hardhatnetwork", "ganache"))
        return self._local_node

    def advance_time(self, seconds: int) -> int:
        """Move the clock of a local node forward by ``seconds``; returns the new block timestamp."""
        if self.devnet is None:
            if not self.is_local_node:
                raise ClockRefused(
                    "time travel works only on the devnet or a development node on this machine (anvil, hardhat), "
                    "not on a real network: there, windows and time-outs pass in real time"
                )
            if seconds < 0:
                raise DevnetError("time only moves forward")
            self.w3.provider.make_request("evm_increaseTime", [int(seconds)])
            self.w3.provider.make_request("evm_mine", [])
            return self.timestamp()
        return self.devnet.advance_time(seconds)

    def wait_for_block_after(self, block_number: int, timeout: float = _RECEIPT_TIMEOUT_S) -> int:
        """Return once the chain's latest block is past ``block_number`` (e.g. to reveal what was committed in it).

        A local devnet mines only when asked, so an empty block is mined there; elsewhere this waits for the next
        block. Returns the latest block number.
        """
        latest = self.w3.eth.block_number
        if latest > block_number:
            return latest
        if self.devnet is not None:
            self.devnet.advance_time(0)
        elif self.is_local_node:
            self.w3.provider.make_request("evm_mine", [])
        deadline = time.monotonic() + timeout
        while (latest := self.w3.eth.block_number) <= block_number:
            if time.monotonic() > deadline:
                raise ChainError(
                    f"no block after block {block_number} within {timeout:.0f} s; is the chain producing blocks?"
                )
            time.sleep(0.5)
        return latest

    def __repr__(self) -> str:
        where = "devnet" if self.is_devnet else self.settings.rpc_url
        return f"Chain({where})"


def _hex(value: bytes | str) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()
