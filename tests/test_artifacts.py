"""The artifacts shipped in the package match the Solidity sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from colearn_jupyter.artifacts import load_artifact, sources_sha256

SRC = Path(__file__).parent.parent / "contracts" / "src"


@pytest.mark.skipif(not SRC.is_dir(), reason="runs in a source checkout")
def test_artifact_is_not_stale():
    artifact = load_artifact()
    assert artifact["sourcesSha256"] == sources_sha256(SRC), (
        "contracts/src changed since the artifacts were built: run `make contracts` and commit the result"
    )


def test_artifact_has_abi_and_bytecode():
    artifact = load_artifact()
    names = {item.get("name") for item in artifact["abi"]}
    assert {
        "publishModel", "contribute", "contributeRow", "commitChallenge", "challengeLabel", "challengeFormat",
        "challengeDuplicate", "challengeAvailability", "answerChallenge", "expireChallenge", "resolveChallenge",
        "claim", "claimRow", "withdraw", "burned", "rowChecker",
    } <= names  # fmt: skip
    assert not {"challenge", "attachLinearModel", "reportMisclassified"} & names  # the old protocol's
    assert not {"getRow", "getVersion", "getVersions"} & names  # rows and versions are in events only
    assert {item.get("name") for item in artifact["rowCheckerAbi"]} >= {"fault", "check"}
    assert artifact["bytecode"].startswith("0x") and len(artifact["bytecode"]) > 1000
    assert artifact["compiler"].startswith("0.8.")


def test_deployed_code_is_the_artifact(chain, market):
    code = bytes(chain.w3.eth.get_code(market.address))
    assert code == bytes.fromhex(load_artifact()["deployedBytecode"][2:])
