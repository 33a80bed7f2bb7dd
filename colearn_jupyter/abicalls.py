"""Contract reads without web3's per-call ABI machinery.

``contract.functions.f(*args).call()`` works out the function's types, normalizes every argument and every output
through recursive formatters, and, with ``decode_tuples=True``, builds a new named-tuple class (with ``eval``) for
every struct it returns: about 40 ms for one ``getModel`` on a busy machine, most of a contribution's CPU time.
:class:`ReadCalls` works out each function's selector and types once, encodes with :mod:`eth_abi`, sends one
``eth_call`` through :meth:`Chain.request <colearn_jupyter.chain.Chain.request>` (web3's error handling without its
request formatters: a revert raises the same ``ContractCustomError`` or ``ContractLogicError``) and decodes into
named tuples of classes made once per struct. The results are the same as web3's: addresses checksummed, one output
unwrapped, structs as named tuples with the ABI's field names. Transactions are encoded here too
(:meth:`ReadCalls.encode`): for arguments :mod:`eth_abi` takes as they are, the bytes are web3's.

>>> abi = [{"type": "function", "name": "pair", "stateMutability": "view", "inputs": [],
...         "outputs": [{"name": "", "type": "tuple", "internalType": "struct P", "components": [
...             {"name": "who", "type": "address"}, {"name": "n", "type": "uint256"}]}]}]
>>> calls = ReadCalls(abi)
>>> calls.decode("pair", bytes(12) + bytes.fromhex("ab" * 20) + (7).to_bytes(32, "big"))
P(who='0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB', n=7)
"""

from __future__ import annotations

import re
from collections import namedtuple
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address


def _type_string(entry: dict[str, Any]) -> str:
    """The canonical ABI type of an input or output: ``(address,uint256)[]`` for an array of structs."""
    kind = entry["type"]
    if not kind.startswith("tuple"):
        return kind
    return "(" + ",".join(_type_string(c) for c in entry["components"]) + ")" + kind[len("tuple") :]


@cache
def _struct_class(name: str, fields: tuple[str, ...]) -> type:
    return namedtuple(name, fields)  # made once per struct


def _shape(entry: dict[str, Any], value: Any) -> Any:
    """A decoded value as web3 returns it: addresses checksummed, structs as named tuples, arrays as lists."""
    kind = entry["type"]
    if kind.endswith("]"):
        inner = {**entry, "type": re.sub(r"\[\d*\]$", "", kind)}
        return [_shape(inner, item) for item in value]
    if kind == "tuple":
        components = entry["components"]
        name = re.sub(r"\[\d*\]", "", (entry.get("internalType") or "struct Tuple").split()[-1].split(".")[-1])
        cls = _struct_class(name, tuple(c["name"] for c in components))
        return cls(*(_shape(c, v) for c, v in zip(components, value, strict=True)))
    if kind == "address":
        return to_checksum_address(value)
    return value


class ReadCalls:
    """The view functions of one ABI, each encoded and decoded from types worked out once."""

    def __init__(self, abi: list[dict[str, Any]]):
        self._functions = {entry["name"]: entry for entry in abi if entry.get("type") == "function"}
        self._prepared: dict[str, tuple[bytes, list[str], list[str]]] = {}

    def _prepare(self, name: str) -> tuple[bytes, list[str], list[str]]:
        if name not in self._prepared:
            entry = self._functions[name]
            inputs = [_type_string(i) for i in entry["inputs"]]
            outputs = [_type_string(o) for o in entry["outputs"]]
            selector = function_signature_to_4byte_selector(f"{name}({','.join(inputs)})")
            self._prepared[name] = (selector, inputs, outputs)
        return self._prepared[name]

    def encode(self, name: str, *args: Any) -> bytes:
        """The call data of ``name(*args)``."""
        selector, inputs, _ = self._prepare(name)
        return selector + abi_encode(inputs, list(args))

    def decode(self, name: str, data: bytes) -> Any:
        """The outputs of ``name`` as web3 returns them (a single output unwrapped)."""
        _, _, outputs = self._prepare(name)
        values = abi_decode(outputs, bytes(data))
        shaped = [_shape(entry, value) for entry, value in zip(self._functions[name]["outputs"], values, strict=True)]
        return shaped[0] if len(shaped) == 1 else shaped

    def payable(self, name: str) -> bool:
        """Whether function ``name`` takes ether."""
        return self._functions[name].get("stateMutability") == "payable"

    def request(self, address: str, name: str, *args: Any, block: int | str = "latest") -> tuple[str, list[Any]]:
        """The JSON-RPC ``eth_call`` of view function ``name`` (method and parameters), to send alone or in a batch;
        :meth:`decode` its result."""
        data = "0x" + self.encode(name, *args).hex()
        return "eth_call", [{"to": address, "data": data}, hex(block) if isinstance(block, int) else block]

    def call(self, node: Any, address: str, name: str, *args: Any, block: int | str = "latest") -> Any:
        """Call view function ``name`` of the contract at ``address`` (at the latest block, or ``block``) through
        ``node``: a :class:`~colearn_jupyter.chain.Chain` (its :meth:`~colearn_jupyter.chain.Chain.request`, no
        web3 formatting) or a ``Web3`` (``w3.eth.call``)."""
        if hasattr(node, "request"):
            return self.decode(name, _bytes(node.request(*self.request(address, name, *args, block=block))))
        return self.decode(name, node.eth.call({"to": address, "data": self.encode(name, *args)}, block))


def _bytes(result: str | bytes) -> bytes:
    """An ``eth_call`` result (hex text from the node) as bytes."""
    return bytes.fromhex(result[2:]) if isinstance(result, str) else bytes(result)
