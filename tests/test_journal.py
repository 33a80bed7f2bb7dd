"""The devnet's journal (colearn_jupyter.journal) alone: no node, just the file and its rules.

A block is durable once its whole line is on disk; a writer that dies mid-line leaves a torn line that readers
ignore and the next writer (or repair at start) cuts off; a block that does not follow the head is refused; and
readers only read what was appended since they last looked.
"""

from __future__ import annotations

import json

import pytest

from colearn_jupyter import journal as journal_module
from colearn_jupyter.errors import DevnetError
from colearn_jupyter.journal import FORMAT, VERSION, Journal, JournalBlock

GENESIS = "0x" + "00" * 31 + "01"


def _hash(number: int, fork: int = 0) -> str:
    return "0x" + f"{fork:02x}" + f"{number:062x}"


def _chain(first: int, last: int, parent: str | None = None, fork: int = 0) -> list[JournalBlock]:
    """Blocks ``first``..``last`` linked by hash, each with one made-up raw transaction."""
    blocks = []
    parent = parent if parent is not None else (GENESIS if first == 1 else _hash(first - 1, fork))
    for number in range(first, last + 1):
        block = JournalBlock(number, _hash(number, fork), parent, 1_700_000_000 + number, (f"0x02{number:04x}",))
        blocks.append(block)
        parent = block.hash
    return blocks


@pytest.fixture
def journal(tmp_path) -> Journal:
    created = Journal(tmp_path / "journal.jsonl")
    created.create({"chain_id": 31337, "genesis_timestamp": 1_700_000_000, "genesis_hash": GENESIS})
    return created


def _tear(path, block: JournalBlock) -> bytes:
    """Append the first half of ``block``'s line, as a writer killed in the middle of its write leaves it."""
    line = block.to_line()
    torn = line[: len(line) // 2]
    with open(path, "ab") as handle:
        handle.write(torn)
    return torn


def test_create_then_append_refresh_and_hash_at(tmp_path, journal):
    assert journal.exists() and journal.head() == (0, GENESIS)
    assert journal.header == {
        "format": FORMAT,
        "version": VERSION,
        "chain_id": 31337,
        "genesis_timestamp": 1_700_000_000,
        "genesis_hash": GENESIS,
    }
    assert journal.hash_at(0) == GENESIS and journal.hash_at(1) is None
    blocks = _chain(1, 3)
    journal.append(blocks[:1])
    journal.append(blocks[1:])
    assert journal.head() == (3, _hash(3))
    assert [journal.hash_at(n) for n in range(5)] == [GENESIS, _hash(1), _hash(2), _hash(3), None]
    # What is on disk is exactly one header line and one line per block, read back as the same blocks.
    lines = journal.path.read_bytes().splitlines(keepends=True)
    assert len(lines) == 4 and all(line.endswith(b"\n") for line in lines)
    assert lines[1:] == [block.to_line() for block in blocks]
    assert list(journal.blocks()) == blocks
    assert list(journal.blocks(after=1)) == blocks[1:]
    assert list(journal.blocks(after=3)) == []
    # Another reader (another process) sees the same durable head from the file alone.
    other = Journal(journal.path)
    assert other.head() == (3, _hash(3)) and other.hash_at(2) == _hash(2)
    assert journal.size == journal.path.stat().st_size == sum(len(line) for line in lines)
    assert Journal(tmp_path / "none.jsonl").size == 0 and not Journal(tmp_path / "none.jsonl").exists()


def test_a_line_keeps_the_raw_transactions_in_order(journal):
    block = JournalBlock(1, _hash(1), GENESIS, 1_700_000_001, ("0x02aa", "0x02bb", "0x01cc"))
    empty = JournalBlock(2, _hash(2), _hash(1), 1_700_000_009)
    journal.append([block, empty])
    record = json.loads(block.to_line())
    assert list(record) == ["n", "h", "p", "t", "txs"]  # number and hash first: indexed without parsing
    assert JournalBlock.from_record(record) == block
    assert list(Journal(journal.path).blocks()) == [block, empty]


def test_create_starts_over_and_keeps_a_base(tmp_path, journal):
    journal.append(_chain(1, 2))
    base = {"n": 40, "h": _hash(40)}
    journal.create({"chain_id": 31337, "genesis_timestamp": 1, "genesis_hash": GENESIS, "base": base})
    assert journal.head() == (40, _hash(40)) and journal.hash_at(1) is None
    assert list(journal.blocks()) == []
    journal.append(_chain(41, 42))
    assert Journal(journal.path).head() == (42, _hash(42))
    assert not (tmp_path / "journal.jsonl.tmp").exists()  # created through a temporary file, then renamed
    with pytest.raises(DevnetError, match="does not follow"):
        journal.append(_chain(1, 1))


def test_a_torn_last_line_is_ignored_by_readers(journal):
    blocks = _chain(1, 3)
    journal.append(blocks[:2])
    size = journal.size
    torn = _tear(journal.path, blocks[2])
    assert journal.path.read_bytes().endswith(torn) and journal.size == size + len(torn)
    for reader in (journal, Journal(journal.path)):  # one that indexed the file before, and a new one
        assert reader.head() == (2, _hash(2))
        assert reader.hash_at(3) is None
        assert list(reader.blocks()) == blocks[:2]


def test_the_next_append_cuts_off_a_torn_line(journal):
    blocks = _chain(1, 4)
    journal.append(blocks[:2])
    _tear(journal.path, blocks[2])
    writer = Journal(journal.path)  # the next writer, in another process
    writer.append(blocks[2:3])
    assert journal.path.read_bytes().splitlines(keepends=True)[1:] == [b.to_line() for b in blocks[:3]]
    # The first object, which indexed the file before the torn line, appends after the good line, not the torn one.
    _tear(journal.path, blocks[3])
    journal.append(blocks[3:])
    assert list(Journal(journal.path).blocks()) == blocks
    assert Journal(journal.path).head() == (4, _hash(4))


def test_a_torn_line_of_a_block_that_is_written_again_differently(journal):
    """A node killed after the torn write mined a different block 3 after its rebuild: the new block is kept."""
    journal.append(_chain(1, 2))
    _tear(journal.path, _chain(3, 3)[0])
    other = JournalBlock(3, _hash(3, fork=7), _hash(2), 1_700_000_050, ("0x02ffff",))
    journal.append([other])
    assert list(Journal(journal.path).blocks(after=2)) == [other]


def test_repair_cuts_off_a_torn_line(journal):
    blocks = _chain(1, 2)
    journal.append(blocks)
    good = journal.path.read_bytes()
    journal.repair()  # nothing to cut
    assert journal.path.read_bytes() == good
    _tear(journal.path, _chain(3, 3)[0])
    fresh = Journal(journal.path)
    fresh.repair()
    assert journal.path.read_bytes() == good
    assert fresh.head() == (2, _hash(2)) and journal.head() == (2, _hash(2))


def test_a_torn_header_or_another_file_is_refused(tmp_path):
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(b'{"format":"colearn-devnet-jou')
    with pytest.raises(DevnetError, match="no complete header"):
        Journal(torn).head()
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"format": "something-else", "version": VERSION}) + "\n")
    with pytest.raises(DevnetError, match="not a colearn devnet journal"):
        Journal(other).head()
    newer = tmp_path / "newer.jsonl"
    newer.write_text(json.dumps({"format": FORMAT, "version": VERSION + 1, "genesis_hash": GENESIS}) + "\n")
    with pytest.raises(DevnetError, match="this version can read"):
        Journal(newer).head()


def test_a_damaged_line_inside_the_journal_is_reported(journal):
    journal.append(_chain(1, 3))
    data = journal.path.read_bytes()
    lines = data.splitlines(keepends=True)
    damaged = b"".join([lines[0], lines[1], b"x" * (len(lines[2]) - 1) + b"\n", lines[3]])
    journal.path.write_bytes(damaged)
    with pytest.raises(DevnetError, match="damaged"):
        Journal(journal.path).head()


@pytest.mark.parametrize(
    ("block", "why"),
    [
        (JournalBlock(4, _hash(4), _hash(2), 1), "skips block 3"),
        (JournalBlock(3, _hash(3), _hash(2, fork=9), 1), "names another parent"),
        (JournalBlock(2, _hash(2, fork=5), _hash(1), 1), "repeats block 2"),
        (JournalBlock(0, GENESIS, GENESIS, 1), "repeats genesis"),
    ],
)
def test_append_refuses_a_block_that_does_not_follow_the_head(journal, block, why):
    journal.append(_chain(1, 2))
    before = journal.path.read_bytes()
    with pytest.raises(DevnetError, match="does not follow the journal's block 2"):
        journal.append([block])
    assert journal.path.read_bytes() == before, why
    assert journal.head() == (2, _hash(2))
    journal.append(_chain(3, 3))  # the journal still takes the right block
    assert Journal(journal.path).head() == (3, _hash(3))


def test_append_refuses_a_batch_broken_in_its_middle_whole(journal):
    blocks = _chain(1, 4)
    broken = [blocks[0], blocks[1], JournalBlock(3, _hash(3), _hash(1), 1), blocks[3]]
    with pytest.raises(DevnetError, match="block 3 does not follow the journal's block 2"):
        journal.append(broken)
    assert journal.head() == (0, GENESIS) and list(Journal(journal.path).blocks()) == []
    journal.append([])  # nothing to do
    assert journal.head() == (0, GENESIS)


def test_refresh_reads_only_what_another_writer_appended(journal, monkeypatch):
    reader = Journal(journal.path)
    writer = Journal(journal.path)  # another process appending
    writer.append(_chain(1, 50))
    assert reader.head() == (50, _hash(50))

    reads: list[tuple[int, int]] = []  # (where reading started, bytes read) of every open by the journal module
    real_open = open

    class Spy:
        def __init__(self, handle):
            self._handle, self._start, self._read = handle, 0, 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            reads.append((self._start, self._read))
            self._handle.close()

        def seek(self, offset, whence=0):
            self._start = offset
            return self._handle.seek(offset, whence)

        def readline(self):
            line = self._handle.readline()
            self._read += len(line)
            return line

        def __iter__(self):
            for line in self._handle:
                self._read += len(line)
                yield line

    monkeypatch.setattr(journal_module, "open", lambda *a, **k: Spy(real_open(*a, **k)), raising=False)
    assert reader.head() == (50, _hash(50)) and reads == []  # nothing new: the file is not even opened
    before = journal.size
    new = _chain(51, 52)
    writer.append(new)
    assert reader.hash_at(52) == _hash(52)
    assert reads == [(before, sum(len(b.to_line()) for b in new))]  # from where it stopped, the new lines only
    monkeypatch.undo()

    # Proof by damage: a line the reader indexed already is never read again; a new reader does read it.
    data = bytearray(journal.path.read_bytes())
    second = data.index(b"\n") + 1
    data[second : second + 5] = b"XXXXX"
    journal.path.write_bytes(bytes(data))
    writer.append(_chain(53, 53))
    assert reader.head() == (53, _hash(53))
    with pytest.raises(DevnetError, match="damaged"):
        Journal(journal.path).head()


def test_an_append_is_durable_line_by_line(journal, monkeypatch):
    """Every append is fsynced before it returns: a block is never reported durable while only in a cache."""
    synced: list[int] = []
    real_fsync = journal_module.os.fsync
    monkeypatch.setattr(journal_module.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    journal.append(_chain(1, 1))
    assert len(synced) == 1
    journal.append(_chain(2, 3))
    assert len(synced) == 2  # one fsync per batch, whatever its number of blocks
