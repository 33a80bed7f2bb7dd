"""What a node's refusal means, said so a user knows what to do, whichever node said it.

anvil, hardhat and geth word the same problems differently ("Insufficient funds for gas * price + value", "Sender
doesn't have enough funds to send tx", "insufficient funds for gas * price + value: balance 0, tx cost …"), and
web3.py hands them over as a dict inside a ``Web3RPCError`` or a ``ValueError``. :func:`explain` turns any of them
into a :class:`~colearn_jupyter.errors.ChainError` whose message names the problem and the fix.

>>> explain(ValueError({"code": -32003, "message": "Insufficient funds for gas * price + value"})).kind
'funds'
>>> explain(ValueError({"message": "nonce too low: next nonce 4, tx nonce 3"})).kind
'nonce'
>>> explain(ValueError({"message": "Out of gas: gas required exceeds allowance: 0"})).kind
'funds'
"""

from __future__ import annotations

import re
from typing import Any

from .errors import ChainError, TransactionRefused

_KINDS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "funds",
        re.compile(
            # "gas required exceeds allowance" is what anvil and geth say when the balance cannot buy the gas
            r"insufficient funds|enough funds|balance is too low|exceeds balance|gas required exceeds allowance",
            re.I,
        ),
        "the account cannot pay for this transaction (its value plus gas). Fund the account, or lower the amount"
        " (on the devnet, `colearn class fund` or a transfer from `deployer` pays any account)",
    ),
    (
        "nonce",
        re.compile(
            r"nonce too (low|high)|nonce has already been used|already known|replacement transaction underpriced"
            r"|invalid nonce|known transaction",
            re.I,
        ),
        "another transaction from this account was sent at the same moment (from another kernel or wallet); run the"
        " call again",
    ),
    (
        "gas",
        re.compile(
            r"intrinsic gas too low|out of gas|exceeds block gas limit"
            r"|max fee per gas less than block base fee|fee cap less than block base fee|gas too low",
            re.I,
        ),
        "the transaction's gas or fee does not fit the chain right now; run the call again (colearn estimates gas"
        " and fees afresh each time), or check the node's gas price and block gas limit",
    ),
)


class NodeRefusal(ChainError):
    """A node refused a transaction; ``kind`` is ``"funds"``, ``"nonce"``, ``"gas"`` or ``"other"``."""

    def __init__(self, message: str, kind: str, node_message: str):
        super().__init__(message)
        self.kind = kind
        self.node_message = node_message


def node_message(error: BaseException) -> str:
    """The node's own words inside a web3 error (a JSON-RPC error dict, or its text)."""
    for item in (getattr(error, "rpc_response", None), *getattr(error, "args", ())):
        if isinstance(item, dict):
            inner = item.get("error", item)
            if isinstance(inner, dict) and isinstance(inner.get("message"), str):
                return inner["message"]
        elif isinstance(item, str) and item:
            return item
    return str(error)


def explain(error: BaseException, *, what: str = "the transaction", cls: type[NodeRefusal] = NodeRefusal) -> Any:
    """A :class:`NodeRefusal` (or ``cls``) for a node's refusal, saying what it means and what to do."""
    said = node_message(error)
    for kind, pattern, advice in _KINDS:
        if pattern.search(said):
            return cls(f"the node refused {what}: {advice}. (The node said: {said})", kind, said)
    return cls(f"the node refused {what}: {said}", "other", said)


class RefusedAtSend(NodeRefusal, TransactionRefused):
    """A node refused a signed transaction as it was sent: it certainly did not happen."""
