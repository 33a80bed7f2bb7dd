"""Contract reads through :class:`~colearn_jupyter.abicalls.ReadCalls` give exactly what web3 gives, for every view
function of the marketplace, on the real contract."""

from __future__ import annotations

import itertools

import pytest
from eth_utils import to_checksum_address

from colearn_jupyter.abicalls import ReadCalls
from colearn_jupyter.artifacts import load_artifact

SAMPLE = {
    "address": lambda market: [market.chain.account("alice").address, market.address],
    "uint256": lambda market: [0, 1, max(1, market.model_count()), max(1, market.submission_count())],
    "uint32": lambda market: [0, 1, 3],
    "uint256[]": lambda market: [[1, max(1, market.submission_count())], []],
    "int256[]": lambda market: [[1, -2, 3, 4], []],
    "int64[]": lambda market: [[1, -2, 3, 4], []],
    "bytes32": lambda market: [bytes(32), bytes(range(32))],
    "bytes": lambda market: [b"", bytes(range(40))],
    "bool": lambda market: [True],
}


def _view_functions():
    abi = load_artifact()["abi"]
    return sorted(e["name"] for e in abi if e.get("type") == "function" and e["stateMutability"] in ("view", "pure"))


def _same(ours, theirs):
    if hasattr(theirs, "_asdict"):
        assert hasattr(ours, "_asdict") and list(ours._asdict()) == list(theirs._asdict())
        return all(_same(a, b) for a, b in zip(ours, theirs, strict=True))
    if isinstance(theirs, list | tuple):
        return len(ours) == len(theirs) and all(_same(a, b) for a, b in zip(ours, theirs, strict=True))
    return type(ours) is type(theirs) and ours == theirs


@pytest.mark.parametrize("name", _view_functions())
def test_every_view_function_reads_as_web3_reads_it(market, publish, name):
    if market.model_count() == 0:
        publish("abicalls")
    abi = {e["name"]: e for e in load_artifact()["abi"] if e.get("type") == "function"}
    inputs = [i["type"] for i in abi[name]["inputs"]]
    if any(kind not in SAMPLE for kind in inputs):
        pytest.skip(f"no sample arguments for {inputs}")
    reads = ReadCalls(load_artifact()["abi"])
    compared = 0
    for args in itertools.islice(itertools.product(*(SAMPLE[kind](market) for kind in inputs)), 12):
        try:
            theirs = getattr(market.contract.functions, name)(*args).call()
        except Exception as error:  # a revert: ours reverts the same way, through web3 or the chain's lean request
            for node in (market.chain.w3, market.chain):
                with pytest.raises(type(error)):
                    reads.call(node, market.address, name, *args)
            continue
        ours = reads.call(market.chain.w3, market.address, name, *args)
        assert _same(ours, theirs), (name, args, ours, theirs)
        assert reads.call(market.chain, market.address, name, *args) == ours
        compared += 1
    assert compared or inputs, f"{name} never answered"


def test_addresses_come_back_checksummed_and_structs_named(market, publish):
    model_id = publish("abicalls-struct")
    info = ReadCalls(load_artifact()["abi"]).call(market.chain.w3, market.address, "getModel", model_id)
    assert info.owner == to_checksum_address(info.owner) == market.chain.account("owner").address
    assert (
        info._asdict()["terms"]._asdict().keys()
        == market.contract.functions.getModel(model_id).call().terms._asdict().keys()
    )
