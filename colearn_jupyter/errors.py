"""Exceptions raised by colearn-jupyter.

Every error carries a message that says what went wrong and what to do about it. Faces (magics, widgets,
REST handlers, CLI) show ``str(error)`` to the user and keep the traceback for ``--debug``.
"""

from __future__ import annotations

from typing import Any


class ColearnError(Exception):
    """Base class of every error colearn-jupyter raises on purpose."""


class DevnetError(ColearnError):
    """The embedded devnet cannot be started, reached or changed."""


class ClockRefused(DevnetError):
    """The chain's clock may not be moved here: a real network (time passes in real time), or a class on the devnet
    where this account is a student (the clock is the whole class's, so only the instructor moves it)."""


class ChainError(ColearnError):
    """The chain cannot be reached or a transaction failed without a known reason."""


class TransactionRefused(ChainError):
    """A transaction certainly did not take effect: the node refused it, it reverted, or the devnet lost it in a
    crash and its nonce now belongs to another transaction. Files stored for it may be released."""


class TransactionInDoubt(ChainError):
    """A transaction was sent but its fate is unknown yet (not mined in time, or the wait was interrupted). It is
    settled later by looking for its hash; nothing stored for it may be released until then."""


class UnverifiableTrainingSet(ColearnError):
    """A model commits to training rows that no one but its owner can check (its published training data cannot
    be read, or does not match the commitment): its owner could prove any contributed row a copy of them and take
    its deposit, so nothing is contributed to it."""


class AccountError(ColearnError):
    """An account cannot be found or used on this chain."""


class NoAccountError(AccountError):
    """This process acts as no account (read-only): it can read the marketplace but not change it."""


class MarketplaceError(ColearnError):
    """The marketplace contract refused a call with one of its custom errors.

    Attributes
    ----------
    name:
        The Solidity error name without its ``Marketplace`` prefix, e.g. ``"IncorrectPayment"``.
    args:
        The error's arguments by name, as decoded from the revert data.
    """

    def __init__(self, name: str, args: dict[str, Any], message: str):
        super().__init__(message)
        self.name = name
        self.error_args = args
