"""Accounts: devnet names, keystores, environment keys; keys never shown."""

from __future__ import annotations

import json
import pickle

import pytest
from eth_account import Account as EthAccount

from colearn_jupyter import AccountError, devnet_account, load_account
from colearn_jupyter.accounts import DEVNET_NAMES

KEY = "0x" + "ab" * 32


def test_devnet_names_are_anvil_accounts(chain):
    assert [devnet_account(n).address for n in DEVNET_NAMES] == chain.w3.eth.accounts
    assert devnet_account(1) == devnet_account("alice")


def test_repr_and_pickle_never_show_the_key():
    alice = devnet_account("alice")
    key = alice._signer.key.hex()
    assert key not in repr(alice) and key not in str(alice)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(alice)


def test_devnet_names_refused_on_other_chains():
    with pytest.raises(AccountError, match="public"):
        load_account("alice", chain_id=1)
    with pytest.raises(AccountError, match="no account named"):
        devnet_account("mallory")


def test_env_key(monkeypatch):
    monkeypatch.setenv("COLEARN_PRIVATE_KEY", KEY)
    account = load_account("env", chain_id=1)
    assert account.address == EthAccount.from_key(KEY).address
    monkeypatch.setenv("COLEARN_PRIVATE_KEY", "not-a-key")
    with pytest.raises(AccountError) as caught:
        load_account("env", chain_id=1)
    assert "not-a-key" not in str(caught.value)


def test_keystore(tmp_path, monkeypatch):
    path = tmp_path / "carol.json"
    path.write_text(json.dumps(EthAccount.encrypt(KEY, "s3cret", iterations=2)))
    monkeypatch.setenv("COLEARN_KEYSTORE_PASSWORD", "s3cret")
    account = load_account(str(path), chain_id=5)
    assert (account.name, account.address) == ("carol", EthAccount.from_key(KEY).address)
    monkeypatch.setenv("COLEARN_KEYSTORE_PASSWORD", "wrong")
    with pytest.raises(AccountError, match="wrong password"):
        load_account(str(path), chain_id=5)


def test_keystore_account_signs_on_chain(chain, market, monkeypatch, tmp_path):
    """A keystore account, funded by a devnet account, sends a real transaction."""
    path = tmp_path / "funded.json"
    path.write_text(json.dumps(EthAccount.encrypt(KEY, "pw", iterations=2)))
    monkeypatch.setenv("COLEARN_KEYSTORE_PASSWORD", "pw")
    account = chain.account(str(path))
    grace = devnet_account("grace")
    chain.transfer(grace, account, 10**17)
    assert chain.balance(account) >= 10**17
    with pytest.raises(Exception, match="nothing to withdraw"):
        market.withdraw(account)


def test_signatures_use_libsecp256k1_and_give_the_pure_python_bytes():
    """coincurve (a dependency) is eth-keys' backend: a signature in well under a millisecond, byte for byte what
    eth-keys' own Python code signs (RFC 6979 signatures are deterministic)."""
    from eth_keys import KeyAPI
    from eth_keys.backends import CoinCurveECCBackend, NativeECCBackend, get_backend

    assert isinstance(get_backend(), CoinCurveECCBackend)
    account = devnet_account("alice")
    transaction = {"to": "0x" + "11" * 20, "value": 1, "gas": 21_000, "maxFeePerGas": 10**10,
                   "maxPriorityFeePerGas": 10**9, "nonce": 7, "chainId": 31337, "type": 2}  # fmt: skip
    signed = bytes(account.sign_transaction(transaction))
    key = KeyAPI(NativeECCBackend).PrivateKey(
        bytes.fromhex(
            EthAccount.from_mnemonic(
                "test test test test test test test test test test test junk", account_path="m/44'/60'/0'/0/1"
            ).key.hex()
        )
    )
    message = b"colearn"
    assert (
        key.sign_msg(message).to_bytes()
        == KeyAPI(CoinCurveECCBackend).PrivateKey(key.to_bytes()).sign_msg(message).to_bytes()
    )
    assert EthAccount.recover_transaction(signed) == account.address
