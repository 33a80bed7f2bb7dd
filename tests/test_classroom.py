"""A class of 30 on one devnet: accounts made and funded from one mnemonic, each student acting as itself."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest
from classrooms import class_devnet
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import AccountError, DevnetError, Session
from colearn_jupyter.classroom import Classroom, default_account_name, student_name
from colearn_jupyter.cli import main as cli
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
