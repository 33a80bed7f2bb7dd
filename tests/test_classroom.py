"""A class of 30 on one devnet: accounts made and funded from one mnemonic, each student acting as itself."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
from classrooms import class_devnet
from IPython.core.interactiveshell import InteractiveShell
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import AccountError, DevnetError, Session
from colearn_jupyter.accounts import Account
from colearn_jupyter.classroom import Classroom, default_account_name, student_name
from colearn_jupyter.cli import main as cli
from colearn_jupyter.errors import NoAccountError
from colearn_jupyter.magics import ColearnMagics, _complete_class
from colearn_jupyter.units import to_wei


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """A home and devnet of its own (a class changes who a kernel is by default), with a class of 30."""
    with class_devnet(tmp_path_factory.mktemp("class-home"), students=30, eth=5) as chain:
        yield Classroom(chain)


def test_thirty_students_funded_from_one_mnemonic(room, capsys):
    students = room.students
    assert [s.name for s in students] == [f"student{n:02d}" for n in range(1, 31)]
    addresses = {s.account.address for s in students}
    assert len(addresses) == 30
    assert all(room.chain.balance(s.account) == to_wei(5) for s in students)
    assert room.create(30, eth=5) == []  # again: nobody new, nobody paid twice
    assert all(room.chain.balance(s.account) == to_wei(5) for s in students)
    assert cli(["class", "list", "--json"]) == 0
    assert '"student30"' in capsys.readouterr().out
    with pytest.raises(AccountError, match="devnet's names"):
        room.create(["alice"])


def test_students_act_concurrently_each_as_itself(room, iris_frame):
    frame = iris_frame(random_state=31)
    train, test, extra = frame.iloc[:45], frame.iloc[45:95], frame.iloc[95:]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    owner = Session("owner", chain=room.chain)
    card = owner.publish(clf, name="class-iris", train=train, test=test, label="target", deposit="0.01")
    count = owner.market.submission_count()

    def contribute(number: int) -> tuple[str, str]:
        student = room.students[number]
        session = owner.as_account(student.name)  # a student's name is an account on this devnet
        rows = extra.iloc[[number % len(extra)]].copy()
        rows.iloc[0, 0] = round(4.0 + number / 10, 1)  # rows of their own: no two alike
        submission = session.contribute(card.id, rows)
        return submission.contributor, session.account.address

    with ThreadPoolExecutor(30) as pool:
        done = list(pool.map(contribute, range(30)))
    assert all(contributor == address for contributor, address in done)
    assert owner.market.submission_count() == count + 30
    for student in room.students:
        paid = to_wei(5) - room.chain.balance(student.account)
        assert to_wei("0.01") < paid < to_wei("0.011")  # one row's deposit and the gas


def test_a_students_kernel_acts_as_the_student(room, monkeypatch):
    home = room.home
    assert default_account_name(home) == "owner"  # one Jupyter server: kernels cannot tell students apart
    monkeypatch.setenv("JUPYTERHUB_USER", "Student07")
    assert default_account_name(home) == "student07"
    monkeypatch.setenv("JUPYTERHUB_USER", "someone-else")
    assert default_account_name(home) is None  # a hub user not in the class: acting as someone is chosen
    with pytest.raises(AccountError, match="acts as no account"):
        Session(chain=room.chain).claim()
    assert default_account_name(home, "student03") == "student03"
    assert student_name("Jane.Doe@school.org") == "jane-doe-school-org"
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(
            """
            from colearn_jupyter import Session
            print(Session().account.name)
            """
        )],
        env={**os.environ, "JUPYTERHUB_USER": "student12"}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "student12"


def test_only_the_instructor_moves_the_clock(room):
    student = Session("student04", chain=room.chain)
    with pytest.raises(DevnetError, match="instructor"):
        student.advance_time("1h")
    before = room.chain.timestamp()
    assert Session("owner", chain=room.chain).advance_time("1h") >= before + 3600
    nobody = Session(Account.watch_only("this server acts as no account"), chain=room.chain)
    with pytest.raises(NoAccountError, match="acts as no account"):
        nobody.advance_time("1h")  # a read-only session moves nobody's clock, through any face


def test_the_class_magic_is_a_face_the_instructor_uses(room, capsys):
    """`%colearn class create|list|fund` calls Classroom for the session's account: the instructor lists, adds and
    tops up students; a student or another devnet account is refused with what to do, and nothing changes."""
    magics = ColearnMagics(InteractiveShell.instance())  # not registered: the shared shell keeps its own session
    magics.use(Session("owner", chain=room.chain))
    roster = magics.colearn("class list")
    assert isinstance(roster, pd.DataFrame) and list(roster.columns) == ["address", "balance (ETH)"]
    assert list(roster.index) == [s.name for s in room.students] and roster.index.name == "student"
    assert roster.loc["student07", "address"] == room.account("student07").address
    assert "student07" in roster._repr_html_()

    first = room.account("student01")

    def state() -> tuple[int, list[str], int]:
        return room.chain.w3.eth.block_number, [s.name for s in room.students], room.chain.balance(first)

    before = state()
    capsys.readouterr()
    for line, who in [("class create --students 32 --as student04", "student04 is a student here"),
                      ("class fund --eth 50 --as alice", "alice is not the class's instructor")]:  # fmt: skip
        assert magics.colearn(line) is None, line
        err = capsys.readouterr().err
        assert err.startswith("colearn class: ") and "is the instructor's action (owner)" in err and who in err, err
        assert "%colearn connect owner" in err and err.count("\n") == 1
    with pytest.raises(AccountError, match="funding the class is the instructor's action"):
        magics.colearn("class fund --eth 50 --as student04 --debug")
    with pytest.raises(AccountError, match="instructor"):
        Classroom(room.chain, acting=room.account("student04")).create(31)
    assert state() == before

    assert magics.colearn("class fund student02 nobody --eth 50") is None  # every name checked before paying
    assert "there is no student 'nobody'" in capsys.readouterr().err
    assert state() == before

    added = magics.colearn("class create --students 32 --eth 6")
    assert len(added) == 32 and list(added.index[-2:]) == ["student31", "student32"]
    assert "32 students (2 new, each funded with 6 ETH" in capsys.readouterr().out
    assert room.chain.balance(room.account("student32")) == to_wei(6)
    assert added.loc["student32", "balance (ETH)"] == "6"

    funded = magics.colearn("class fund student01 Student31 --eth 7")
    assert list(funded.index) == ["student01", "student31"] and list(funded["balance (ETH)"]) == ["7", "7"]
    assert "topped up to 7 ETH" in capsys.readouterr().out
    assert room.chain.balance(room.account("student02")) < to_wei(6)  # not named: not paid
    assert _complete_class(magics, ["fund"], "student3") == ["student30", "student31", "student32"]
    assert _complete_class(magics, ["fund", "student30"], "student3") == ["student31", "student32"]
    assert _complete_class(magics, [], "") == ["create", "list", "fund"]
