"""The embedded devnet: shared between processes, persistent across crashes, controlled from the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from colearn_jupyter import Chain, Devnet, DevnetError, Marketplace
from colearn_jupyter.cli import main as cli
from colearn_jupyter.devnet import HARDFORK, _free_port, rpc_call

BEACON_ROOTS = "0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02"  # EIP-4788
HISTORY_STORAGE = "0x0000F90827F1C53a10cb7A02335B175320002935"  # EIP-2935


def _python(code: str) -> str:
    """Run code in a fresh interpreter (another 'kernel') with the same environment; return its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, env=os.environ
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_second_process_sees_published_model(market, publish):
    model_id = publish("shared-with-another-kernel")
    out = _python(
        """
        from colearn_jupyter import Chain, Marketplace
        market = Marketplace.connect(Chain())
        print(market.address, [m.name for m in market.all_models()])
        """
    )
    address, names = out.split(" ", 1)
    assert address == market.address
    assert "shared-with-another-kernel" in names
    assert market.model(model_id).name == "shared-with-another-kernel"


def test_sigkill_loses_no_confirmed_transaction(chain, market, publish):
    model_id = publish("survives-sigkill")
    block = chain.w3.eth.block_number
    before = market.model(model_id)
    killed = chain.devnet.kill_for_test()
    assert not chain.devnet.status().running
    # The next call restarts the node from its saved state, transparently.
    assert market.model(model_id) == before
    assert chain.w3.eth.block_number >= block
    status = chain.devnet.status()
    assert status.running and status.pid != killed
    # And the restarted chain keeps working.
    assert market.model(publish("after-restart")).name == "after-restart"


def test_one_node_for_concurrent_starters(colearn_home):
    devnet = Devnet(colearn_home)
    urls = _python(
        """
        from concurrent.futures import ThreadPoolExecutor
        from colearn_jupyter import Devnet, ColearnSettings
        devnet = Devnet(ColearnSettings().home_path)
        with ThreadPoolExecutor(4) as pool:
            print(sorted(set(pool.map(lambda _: devnet.ensure_running(), range(8)))))
        """
    )
    assert urls.strip() == repr([devnet.url])


def test_parallel_processes_share_one_account(chain, market, publish):
    model_id = publish("nonce-race")
    pool_before = market.model(model_id).reward_pool
    code = f"""
        from colearn_jupyter import Chain, Marketplace
        market = Marketplace.connect(Chain())
        for _ in range(4):
            market.fund_reward_pool("carol", {model_id}, 1000)
        """
    processes = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=os.environ) for _ in range(3)]
    assert [p.wait(timeout=120) for p in processes] == [0, 0, 0]
    assert market.model(model_id).reward_pool == pool_before + 12 * 1000


def test_time_travel_moves_the_clock(chain):
    before = chain.timestamp()
    assert chain.advance_time(3600) >= before + 3600
    with pytest.raises(DevnetError, match="forward"):
        chain.advance_time(-1)


def test_cli_status_stop_start_reset(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLEARN_HOME", str(tmp_path))
    assert cli(["devnet", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["running"] is False
    assert cli(["devnet", "start"]) == 0
    assert "running at http://127.0.0.1:" in capsys.readouterr().out
    market = Marketplace.connect(Chain())
    assert cli(["devnet", "stop"]) == 0
    assert "state saved" in capsys.readouterr().out
    # A restart after a clean stop keeps the chain, so the recorded marketplace is still there.
    assert Marketplace.connect(Chain()).address == market.address
    assert cli(["devnet", "reset"]) == 0
    capsys.readouterr()
    assert not (tmp_path / "devnet" / "journal.jsonl").exists()
    assert cli(["devnet", "status"]) == 0
    assert "stopped" in capsys.readouterr().out


def test_missing_anvil_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("COLEARN_ANVIL", str(tmp_path / "no-such-anvil"))
    with pytest.raises(DevnetError, match="cannot run anvil"):
        Devnet(tmp_path).ensure_running()
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("COLEARN_ANVIL")
    monkeypatch.chdir(tmp_path)
    from colearn_jupyter import devnet as devnet_module

    monkeypatch.setattr(devnet_module, "__file__", str(tmp_path / "devnet.py"))
    with pytest.raises(DevnetError, match="COLEARN_RPC_URL"):
        devnet_module.find_anvil()


def test_restarts_never_switch_to_a_new_marketplace(tmp_path, monkeypatch):
    """Issue 11, finding 1: anvil may report another genesis hash after a restart from its saved state, and the
    marketplace was recorded under the genesis hash, so a new, empty marketplace was deployed. The home's devnet
    now records its marketplace under the devnet itself: stops, kills and a changed genesis hash keep it."""
    monkeypatch.setenv("COLEARN_HOME", str(tmp_path))
    chain = Chain()
    market = Marketplace.connect(chain)
    address, nonce = market.address, chain.w3.eth.get_transaction_count(chain.account("deployer").address)
    for round_ in range(3):
        if round_ % 2:
            chain.devnet.kill_for_test()
        else:
            assert cli(["devnet", "stop"]) == 0
        assert Marketplace.connect(Chain()).address == address
    fresh = Chain()
    real_get_block = fresh.w3.eth.get_block

    def another_genesis(block: object, *args: object, **kwargs: object) -> object:
        found = real_get_block(block, *args, **kwargs)
        return {**found, "hash": bytes(32)} if block == 0 else found

    monkeypatch.setattr(fresh.w3.eth, "get_block", another_genesis)
    assert Marketplace.connect(fresh).address == address  # a genesis hash that changed: still the same marketplace
    assert fresh.w3.eth.get_transaction_count(fresh.account("deployer").address) == nonce  # nothing redeployed
    assert json.loads((tmp_path / "deployments.json").read_text()) == {"31337:devnet": address}
    assert cli(["devnet", "stop"]) == 0


def test_a_new_devnet_runs_shanghai_rules_and_an_older_journal_keeps_its_own(tmp_path):
    """From Cancun on, every block writes into the storage of system contracts (EIP-4788's beacon roots, EIP-2935's
    block hashes), and anvil computes each block's state root over all storage: a block cost more than the last, up
    to 8,191 blocks (measured in docs/reliability.md). A new devnet runs Shanghai rules, recorded in its journal,
    so its state does not grow by itself; a journal written before that setting keeps anvil's default rules, or its
    blocks would no longer replay to the same hashes."""
    devnet = Devnet(tmp_path / "new", port=_free_port())
    try:
        url = devnet.ensure_running()
        assert devnet.journal.header["hardfork"] == HARDFORK == "shanghai"
        assert rpc_call(url, "anvil_nodeInfo", [])["hardFork"].lower() == "shanghai"
        rpc_call(url, "anvil_mine", [hex(50)])
        latest = rpc_call(url, "eth_getBlockByNumber", ["latest", False])
        assert "parentBeaconBlockRoot" not in latest and "requestsHash" not in latest
        for system_contract in BEACON_ROOTS, HISTORY_STORAGE:  # nothing written there, block after block
            assert rpc_call(url, "eth_getStorageAt", [system_contract, "0x0", "latest"]) == "0x" + "00" * 32
            assert rpc_call(url, "eth_getCode", [system_contract, "latest"]) == "0x"
    finally:
        devnet.reset()

    older = Devnet(tmp_path / "older", port=_free_port())
    timestamp = 1_700_000_000
    process, url = older._spawn(_free_port(), timestamp=timestamp)  # anvil's default rules, as before the setting
    try:
        genesis = rpc_call(url, "eth_getBlockByNumber", ["0x0", False])
    finally:
        older._kill(process.pid)
    older.journal.create({"chain_id": 31337, "genesis_timestamp": timestamp, "genesis_hash": genesis["hash"]})
    try:
        url = older.ensure_running()
        assert rpc_call(url, "anvil_nodeInfo", [])["hardFork"].lower() != "shanghai"
        chain = Chain(rpc_url=url)
        block = chain.transfer(chain.account("alice"), chain.account("bob"), 1)["blockHash"]
        assert older.sync() == 1
        older.kill_for_test()
        url = older.ensure_running()  # rebuilt from its journal under the same rules: the same blocks
        assert rpc_call(url, "eth_getBlockByNumber", ["0x0", False])["hash"] == genesis["hash"]
        assert rpc_call(url, "eth_getBlockByNumber", ["0x1", False])["hash"] == "0x" + bytes(block).hex()
    finally:
        older.reset()
