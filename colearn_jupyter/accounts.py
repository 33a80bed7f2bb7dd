"""Accounts that sign transactions.

On the devnet (chain id 31337) the ten funded accounts of anvil's test mnemonic have names, so a notebook needs
no keys at all: ``owner``, ``alice``, ``bob``, ``carol``, ``verifier``, ``dave``, ``erin``, ``frank``, ``grace``
and ``deployer``. On any other chain an account comes from an encrypted keystore file or from the
``COLEARN_PRIVATE_KEY`` environment variable. A key is never printed, logged, or kept in a notebook: an
:class:`Account` shows its name and address only.

>>> from colearn_jupyter.accounts import devnet_account
>>> devnet_account("alice")
Account('alice', 0x70997970C51812dc3A010C7d01b50e0d17dc79C8)
"""

from __future__ import annotations

import getpass
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from eth_account import Account as _EthAccount
from eth_account._utils.signing import sign_transaction_dict
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes

from .devnet import CHAIN_ID, MNEMONIC
from .errors import AccountError, NoAccountError

DEVNET_NAMES = ("owner", "alice", "bob", "carol", "verifier", "dave", "erin", "frank", "grace", "deployer")
ENV_PRIVATE_KEY = "COLEARN_PRIVATE_KEY"
ENV_KEYSTORE_PASSWORD = "COLEARN_KEYSTORE_PASSWORD"  # noqa: S105 (a variable name, not a password)


class Account:
    """A named signer. The key stays inside; ``repr`` and ``str`` show the name and address only."""

    __slots__ = ("_signer", "_why", "address", "name")

    def __init__(self, name: str, signer: LocalAccount | None, address: str | None = None):
        self.name = name
        self.address: str = signer.address if signer is not None else str(address)
        self._signer = signer
        self._why = "this account cannot sign"

    @classmethod
    def watch_only(cls, why: str, address: str = "0x" + "00" * 20) -> Account:
        """An account that reads but cannot sign; every transaction is refused with ``why`` (what to configure)."""
        account = cls("nobody", None, address)
        account._why = why
        return account

    @property
    def can_sign(self) -> bool:
        return self._signer is not None

    def sign_transaction(self, transaction: dict[str, Any]) -> HexBytes:
        """Sign a transaction dict and return the raw bytes to send.

        The same bytes as ``LocalAccount.sign_transaction``, without what it does first on every call: deriving
        the public key from the private key again (an elliptic-curve multiplication, a third of the time) to check
        ``from``, which is checked here against the address kept.
        """
        if self._signer is None:
            raise NoAccountError(self._why)
        if "from" in transaction and transaction["from"] != self.address:
            return self._signer.sign_transaction(transaction).raw_transaction  # eth_account's own refusal
        unsigned = {key: value for key, value in transaction.items() if key != "from"}
        return HexBytes(sign_transaction_dict(self._signer._key_obj, unsigned)[3])  # type: ignore[arg-type]

    def refuse_unless_signer(self) -> None:
        """Raise the reason this account cannot sign, if it cannot (before anything is prepared for a send)."""
        if self._signer is None:
            raise NoAccountError(self._why)

    def __repr__(self) -> str:
        return f"Account({self.name!r}, {self.address})"

    __str__ = __repr__

    def __reduce__(self):  # never let a key travel by pickling (e.g. into a saved kernel state)
        raise TypeError("colearn accounts cannot be pickled: they hold a private key")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Account) and other.address == self.address

    def __hash__(self) -> int:
        return hash(self.address)


@cache
def _devnet_signer(index: int) -> LocalAccount:
    _EthAccount.enable_unaudited_hdwallet_features()
    return _EthAccount.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def devnet_account(name: str | int) -> Account:
    """One of the devnet's funded accounts, by name or index."""
    if isinstance(name, int) or str(name).isdigit():
        index = int(name)
        if not 0 <= index < len(DEVNET_NAMES):
            raise AccountError(f"the devnet has accounts 0 to {len(DEVNET_NAMES) - 1}, not {index}")
        return Account(DEVNET_NAMES[index], _devnet_signer(index))
    if name not in DEVNET_NAMES:
        raise AccountError(f"the devnet has no account named {name!r}; its accounts are {', '.join(DEVNET_NAMES)}")
    return Account(name, _devnet_signer(DEVNET_NAMES.index(name)))


def devnet_extra_account(index: int, name: str | None = None) -> Account:
    """Account number ``index`` of the devnet's mnemonic beyond the ten named ones (unfunded until someone pays it).

    The simulation gives each of its agents one, funded from ``deployer``.

    >>> devnet_extra_account(10).address == devnet_extra_account(10, "agent").address
    True
    """
    if isinstance(index, bool) or not isinstance(index, int) or not len(DEVNET_NAMES) <= index < 2**31:
        raise AccountError(f"extra devnet accounts are numbered from {len(DEVNET_NAMES)} to 2**31 - 1, not {index!r}")
    return Account(name or f"account-{index}", _devnet_signer(index))


def load_account(spec: str, chain_id: int) -> Account:
    """Resolve an account spec on a chain.

    ``spec`` is a devnet name (only on chain id 31337, whose test keys are public), ``"env"`` for the key in
    ``$COLEARN_PRIVATE_KEY``, or the path of an encrypted keystore JSON file whose password comes from
    ``$COLEARN_KEYSTORE_PASSWORD`` or, failing that, from a prompt.
    """
    if spec == "env":
        key = os.environ.get(ENV_PRIVATE_KEY)
        if not key:
            raise AccountError(f"set {ENV_PRIVATE_KEY} to the account's private key (it is never printed)")
        try:
            return Account("env", _EthAccount.from_key(key))
        except Exception:  # noqa: BLE001 (never echo the bad key back)
            raise AccountError(f"{ENV_PRIVATE_KEY} does not hold a valid private key") from None
    path = Path(spec).expanduser()
    if path.suffix == ".json" or path.is_file():
        return _keystore_account(path)
    if spec in DEVNET_NAMES or spec in {str(i) for i in range(len(DEVNET_NAMES))}:
        if chain_id != CHAIN_ID:
            raise AccountError(
                f"{spec!r} is a devnet test account, whose key is public; chain {chain_id} needs a real account: "
                f"a keystore file path or 'env' with {ENV_PRIVATE_KEY} set"
            )
        return devnet_account(spec)
    raise AccountError(
        f"unknown account {spec!r}: use a devnet name ({', '.join(DEVNET_NAMES)}), 'env', or a keystore file path"
    )


def _keystore_account(path: Path) -> Account:
    try:
        keystore = json.loads(path.read_text())
    except OSError as error:
        raise AccountError(f"cannot read the keystore {path}: {error.strerror}") from None
    except ValueError:
        raise AccountError(f"{path} is not a keystore JSON file") from None
    password = os.environ.get(ENV_KEYSTORE_PASSWORD)
    if password is None:
        password = getpass.getpass(f"Password for {path.name}: ")
    try:
        key = _EthAccount.decrypt(keystore, password)
    except ValueError:
        raise AccountError(f"wrong password for the keystore {path}") from None
    return Account(path.stem, _EthAccount.from_key(key))
