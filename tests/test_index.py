"""The market index (colearn_jupyter.index): one SQLite database per colearn home, fed from chain events, shared by
every process of the home; listing and the submissions a contribution checks come from it, not from RPC listings."""

from __future__ import annotations

import multiprocessing

import pytest
from sklearn.linear_model import LogisticRegression
from web3.exceptions import BlockNotFound, Web3RPCError

from colearn_jupyter import Chain, Marketplace, Session, Terms
from colearn_jupyter.config import ColearnSettings
from colearn_jupyter.errors import MarketplaceError
from colearn_jupyter.formats.data import onchain_schema
from colearn_jupyter.index import MarketIndex, market_index, summary
from colearn_jupyter.server.index import ModelIndex
from conftest import METADATA_CID, MODEL_CID, ROW_SCHEMA, TEST_SALT, TEST_SET_CID, test_rows

#: How the server listed models before the index was persistent (in memory, sorted in Python): the reference.
OLD_SORT_KEYS = {
    "id": lambda m: m["id"],
    "name": lambda m: m["name"].lower(),
    "accuracy": lambda m: -1.0 if m["accuracy"] is None else m["accuracy"],
    "rows_accepted": lambda m: m["rows_accepted"],
    "rows_pending": lambda m: m["rows_pending"],
}

ODD_NAMES = [
    "idx-UPPER ÄÖ",
    "idx-with\x00nul",
    "idx-100% sure",
    "idx-under_score",
    "idx-emoji 😀",
    "idx-<script>alert(1)</script>",
    "idx-' OR 1=1 --",
    "idx-" + "ß" * 60,
    "IDX-lower",
]


def _reference(market: Marketplace, offset=0, limit=50, search="", sort="id", order="asc"):
    """The listing as the former in-memory index computed it: every model read with the views, sorted in Python."""
    accuracies = {
        log["args"]["modelId"]: log["args"]["accuracyBps"] / 10_000
        for log in market.contract.events.VersionPublished.get_logs(from_block=0)
    }
    models = [summary(m, accuracies.get(m.id)) for m in market.all_models()]
    models = [m for m in models if search.lower() in m["name"].lower()]
    models.sort(key=OLD_SORT_KEYS[sort], reverse=order == "desc")
    return len(models), models[offset : offset + limit]


def _publish(market: Marketplace, name: str, accuracy_bps: int = 0, pool: int = 0) -> int:
    """Publish a fixture model as ``owner`` through the binding; its id."""
    _, tree = test_rows()
    receipt = market.publish_model(
        "owner", name=name, model_cid=MODEL_CID, metadata_cid=METADATA_CID,
        test_set_commitment=market.test_set_commitment(TEST_SALT, TEST_SET_CID),
        terms=Terms.from_human(window="1h", timeout="1d"), schema=onchain_schema(ROW_SCHEMA), test_root=tree.root,
        test_row_count=len(tree), reward_pool=pool, accuracy_bps=accuracy_bps,
    )  # fmt: skip
    return receipt.event("ModelPublished").args["model_id"]


def _iris_model(chain: Chain, iris_frame, seed: int, name: str):
    """The owner's session, a scikit-learn model of iris published by it, and the shuffled iris rows."""
    iris = iris_frame(random_state=seed)
    owner = Session("owner", chain=chain)
    train, test = iris.iloc[:45], iris.iloc[45:95]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    return owner, owner.publish(clf, name=name, train=train, test=test, label="target", window="1h", pool="1"), iris


@pytest.fixture(scope="module")
def odd_models(market):
    """Models with odd names and different accuracies, published through the binding."""
    return [_publish(market, name, (number * 3_737) % 10_000, 10**17) for number, name in enumerate(ODD_NAMES)]


def _fresh(market: Marketplace, home=None) -> MarketIndex:
    """An index as a new process of the home has it: nothing in memory."""
    return MarketIndex(Marketplace(market.chain, market.address), home)


def test_listing_matches_the_former_in_memory_index(market, odd_models):
    index = _fresh(market)
    for search in ("", "idx-", "IDX", "%", "_", "äö", "\x00", "😀", "'", "no such model"):
        for sort in OLD_SORT_KEYS:
            for order in ("asc", "desc"):
                for offset, limit in ((0, 50), (2, 3), (0, 10_000), (10_000, 5)):
                    expected = _reference(market, offset, limit, search, sort, order)
                    assert index.page(offset, limit, search, sort, order) == expected, (search, sort, order, offset)
    total, found = index.page(search="%")
    assert total == 1 and found[0]["name"] == "idx-100% sure"  # LIKE's wildcards are plain characters here
    assert [m["name"] for m in index.page(search="_")[1]] == ["idx-under_score"]
    assert [m["name"] for m in index.page(search="ä")[1]] == ["idx-UPPER ÄÖ"]  # Python's lower(), not ASCII's
    with pytest.raises(ValueError, match="sort by one of"):
        index.page(sort="name; DROP TABLE models")


def test_summary_versions_and_submissions_match_the_views(chain, market, iris_frame):
    owner, card, iris = _iris_model(chain, iris_frame, 23, "idx-iris")
    owner.as_account("alice").contribute(card.id, iris.iloc[95:105])
    owner.as_account("bob").contribute(card.id, iris.iloc[105:115])
    owner.retrain(card.id)
    index = _fresh(market)
    assert index.submissions(card.id) == market.all_submissions(card.id)
    assert index.versions(card.id) == market.versions(card.id) and len(index.versions(card.id)) == 2
    assert index.model(card.id) == market.model(card.id)
    assert index.summary(card.id) == summary(market.model(card.id), market.versions(card.id)[-1].accuracy)
    with pytest.raises(MarketplaceError, match="There is no model"):
        index.submissions(10**9)
    assert index.summary(10**9) is None and index.summary(2**70) is None


def test_sync_reads_only_what_was_mined_since(market, publish, monkeypatch):
    index = _fresh(market)
    synced = index.sync()
    reads: list[tuple[int, int]] = []
    logs_request = Marketplace.logs_request

    def counted(self, from_block, to_block, names=None):
        reads.append((from_block, to_block))
        return logs_request(self, from_block, to_block, names)

    monkeypatch.setattr(Marketplace, "logs_request", counted)  # every log query of a sync is made by it
    monkeypatch.setattr(Marketplace, "all_models", lambda *a, **k: pytest.fail("a sync listed every model"))
    assert index.sync() == synced and reads == []  # nothing mined: nothing read
    model_id = publish("idx-incremental")
    latest = index.sync()
    assert reads == [(synced + 1, latest)]
    assert index.summary(model_id, sync=False)["name"] == "idx-incremental"
    market.fund_reward_pool("carol", model_id, 777)
    assert int(index.summary(model_id)["reward_pool_wei"]) == 10**18 + 777


def test_a_block_the_node_no_longer_has_is_read_again(market, publish, monkeypatch, tmp_path):
    """The node went back between two calls of a sync (a devnet restarted from its journal while blocks not yet
    durable were lost, as the class soak does): the block it named is not found, and the sync reads again."""
    index = _fresh(market, tmp_path)
    index.sync()
    publish("idx-block-gone")
    publish("idx-block-gone-2")  # two blocks since: the sync reads the indexed block's hash by number
    real, failures = market.chain.request, []

    def flaky(method, params=()):
        if method == "eth_getBlockByNumber" and params[0] != "latest" and not failures:
            failures.append(params[0])
            raise BlockNotFound(f"Block with id: {params[0]!r} not found.")
        return real(method, params)

    monkeypatch.setattr(market.chain, "request", flaky)
    latest = index.sync()
    assert failures and latest == market.chain.w3.eth.block_number
    assert {"idx-block-gone", "idx-block-gone-2"} <= {m["name"] for m in index.page(limit=10**6)[1]}


ANVIL_PAST_HEAD = "{'code': -32602, 'message': 'BlockOutOfRangeError: block height is 880 but requested was 881'}"


def _refuse_next_log_query(market, monkeypatch, message: str, gone: bool = False) -> list[str]:
    """Make the next log query of a sync refused with ``message``; with ``gone``, the block the sync read as the
    latest is no longer the node's when asked (it went back and mined another block at that height)."""
    real, events = market.chain.request, []

    def flaky(method, params=()):
        if method == "eth_getLogs" and not events:
            events.append("refused")
            raise Web3RPCError(message)
        if method == "eth_getBlockByNumber" and params[0] != "latest" and events == ["refused"] and gone:
            events.append("another block")
            return {**real(method, params), "hash": "0x" + "ee" * 32}
        return real(method, params)

    monkeypatch.setattr(market.chain, "request", flaky)
    return events


@pytest.mark.parametrize(
    "message, gone",
    [
        (ANVIL_PAST_HEAD, False),  # restarted, replaying its journal: the same block is back by the time one looks
        ("{'code': -32000, 'message': 'execution aborted'}", True),  # any refusal, and another block at that height
    ],
    ids=["past-the-head", "another-block"],
)
def test_a_log_query_refused_by_a_node_that_went_back_is_made_again(market, monkeypatch, tmp_path, message, gone):
    """The node went back between the sync's latest block and its log query (the class soak's SIGKILLed devnet,
    restarted from its journal): the refused query is made again from a fresh latest block, not raised."""
    index = _fresh(market, tmp_path)
    index.sync()
    model_id = _publish(Marketplace(Chain(), market.address), "idx-went-back")  # another process: logs are queried
    events = _refuse_next_log_query(market, monkeypatch, message, gone)
    latest = index.sync()
    assert events == (["refused", "another block"] if gone else ["refused"])
    assert latest == market.chain.w3.eth.block_number
    assert index.summary(model_id, sync=False)["name"] == "idx-went-back"


def test_a_refused_log_query_of_a_node_that_did_not_go_back_is_raised(market, monkeypatch, tmp_path):
    """A refusal that names no missing block, while the block the sync read is still the node's: raised at once."""
    index = _fresh(market, tmp_path)
    index.sync()
    _publish(Marketplace(Chain(), market.address), "idx-refused")
    events = _refuse_next_log_query(market, monkeypatch, "{'code': -32005, 'message': 'query returned more than 10000 "
                                                          "results'}")  # fmt: skip
    with pytest.raises(Web3RPCError, match="more than 10000"):
        index.sync()
    assert events == ["refused"]


def test_another_process_uses_what_one_process_synced(market, publish, monkeypatch):
    """A forked process syncs the home's index; this process then reads it without reading any event again."""
    model_id = publish("idx-from-another-process")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()

    def child():
        chain = Chain()
        queue.put(MarketIndex(Marketplace(chain, market.address)).sync())

    process = context.Process(target=child)
    process.start()
    synced = queue.get(timeout=120)
    process.join(timeout=60)
    assert process.exitcode == 0
    index = _fresh(market)
    monkeypatch.setattr(Marketplace, "raw_events", lambda *a, **k: pytest.fail("events were read again"))
    monkeypatch.setattr(Marketplace, "model_count", lambda *a, **k: pytest.fail("models were read again"))
    assert market.chain.w3.eth.block_number == synced  # nothing mined since: the hash of that block is checked
    assert index.page(search="idx-from-another")[1][0]["id"] == model_id


def test_two_processes_building_one_index_at_once_agree(market, odd_models, tmp_path):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()

    def child():
        queue.put(MarketIndex(Marketplace(Chain(), market.address), tmp_path).page(limit=10**6)[0])

    processes = [context.Process(target=child) for _ in range(2)]
    for process in processes:
        process.start()
    totals = [queue.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    index = _fresh(market, tmp_path)
    assert totals[0] == totals[1] == index.page(sync=False)[0]
    assert index.page(0, 10**6, sync=False) == _reference(market, 0, 10**6)


def test_a_contribution_reads_submissions_from_the_index(chain, iris_frame, monkeypatch):
    """Once the index is warm, contributing and previewing list no submissions over RPC."""
    owner, card, iris = _iris_model(chain, iris_frame, 29, "idx-contribute")
    alice = owner.as_account("alice")
    first = alice.contribute(card.id, iris.iloc[95:100])

    def refused(*args, **kwargs):
        raise AssertionError("all_submissions was called")

    monkeypatch.setattr(Marketplace, "all_submissions", refused)
    second = alice.contribute(card.id, iris.iloc[100:105])
    assert second.id > first.id
    preview = alice.preview(card.id, iris.iloc[100:102])  # rows of the second batch: known from the index
    assert not preview["valid"] and "already" in preview["problem"]
    assert [s.id for s in market_index(alice.market).submissions(card.id)][-2:] == [first.id, second.id]


def test_a_reset_chain_is_indexed_again_from_scratch(tmp_path, monkeypatch):
    """A devnet reset gives a new chain with the same id, often the marketplace at the same address: the index
    notices a lower block number, or another block at the height it reached, and forgets the old chain."""
    home = tmp_path / "home"
    monkeypatch.setenv("COLEARN_HOME", str(home))
    settings = ColearnSettings(home=str(home), rpc_url="")

    def fresh_chain() -> tuple[Chain, Marketplace]:
        chain = Chain(settings)
        return chain, Marketplace.connect(chain)

    chain, market = fresh_chain()
    try:
        for number in range(3):
            _publish(market, f"before-{number}")
        index = MarketIndex(market)
        assert [m["name"] for m in index.page()[1]] == ["before-0", "before-1", "before-2"]
        height = chain.w3.eth.block_number
        chain.devnet.reset()

        chain, market = fresh_chain()  # a lower block number than indexed
        address = market.address
        _publish(market, "after-0")
        assert chain.w3.eth.block_number < height
        index = MarketIndex(market)
        assert [m["name"] for m in index.page()[1]] == ["after-0"]
        chain.devnet.reset()

        chain, market = fresh_chain()  # past the indexed height, with other blocks
        assert market.address == address
        _publish(market, "again-0")
        chain.w3.provider.make_request("anvil_mine", [hex(height + 5)])
        _publish(market, "again-1")
        index = MarketIndex(market)
        assert [m["name"] for m in index.page()[1]] == ["again-0", "again-1"]
        assert index.submissions(1) == []
    finally:
        if chain.devnet is not None:
            chain.devnet.reset()


def test_the_server_face_lists_from_the_core(market, odd_models):
    face = ModelIndex(market)
    face.sync()
    assert face.page(0, 5, "idx-", "accuracy", "desc") == _reference(market, 0, 5, "idx-", "accuracy", "desc")
    assert face.get(odd_models[0]) == face.core.summary(odd_models[0]) and len(face) >= len(odd_models)


def test_the_market_table_lists_from_the_index(chain, market, odd_models, monkeypatch):
    """Session.market_table (the `%colearn models` magic and the market widget) reads the index, as before the
    index listed every model with the views."""
    monkeypatch.setattr(Marketplace, "all_models", lambda *a, **k: pytest.fail("every model was listed over RPC"))
    table = Session("owner", chain=chain).market_table("IDX-")
    assert list(table.index) == sorted(table.index) and set(odd_models) <= set(table.index)
    assert all("idx-" in name.lower() for name in table["name"])
    first = table.loc[odd_models[0]]
    info = market.model(odd_models[0])
    assert (first["name"], first["owner"], first["versions"]) == (info.name, info.owner, 1)
    assert first["deposit (ETH)"] == info.terms.deposit_per_row / 1e18 and first["window"] == "1h"
    assert first["accuracy"] == market.versions(odd_models[0])[-1].accuracy
