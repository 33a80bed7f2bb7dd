"""A class on one devnet: named, funded accounts for every student, and an instructor who holds the clock.

The devnet's ten named accounts are not enough for a class, and their keys are shared by everyone. A class roster
(``<home>/class.json``, shared by every kernel and the server of one Jupyter server or hub) gives each student an
account of its own from the devnet's mnemonic, funded by the instructor's ``deployer`` account. A student's kernel
acts as that student by default when it can tell who the student is (``COLEARN_ACCOUNT``, or ``JUPYTERHUB_USER`` on
JupyterHub; on one shared Jupyter server each student connects as itself once); acting as another account is then
an explicit choice (``Session.as_account``, ``--as``), shown as such.
Moving the devnet's clock moves it for the whole class, so only the instructor may do it once a class exists.

>>> from colearn_jupyter import Chain
>>> from colearn_jupyter.classroom import Classroom
>>> room = Classroom(Chain())                          # doctest: +SKIP
>>> room.create(students=30)                           # doctest: +SKIP
>>> room.account("student07").address                  # doctest: +SKIP
'0x…'
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from .accounts import DEVNET_NAMES, Account, devnet_extra_account
from .errors import AccountError, DevnetError
from .units import format_eth, to_wei

if TYPE_CHECKING:
    from .chain import Chain

#: Mnemonic index of the first student account (the simulation's agents start at 1000).
FIRST_INDEX = 100
MAX_STUDENTS = 500
INSTRUCTOR = "owner"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Student:
    """One student of the roster: a name and an account of the devnet's mnemonic."""

    name: str
    index: int

    @property
    def account(self) -> Account:
        return devnet_extra_account(self.index, self.name)


def student_name(user: str) -> str:
    """The roster name of a user name (a hub's user names may hold '.', '@' …): lower case, other signs as '-'.

    >>> student_name("Jane.Doe@school.org")
    'jane-doe-school-org'
    """
    return re.sub(r"[^a-z0-9_-]", "-", str(user).strip().lower())


def roster_path(home: Path) -> Path:
    return home / "class.json"


def read_roster(home: Path) -> dict[str, Any] | None:
    """The class roster of a colearn home, or None when there is no class."""
    try:
        roster = json.loads(roster_path(home).read_text())
    except (OSError, ValueError):
        return None
    return roster if isinstance(roster, dict) and isinstance(roster.get("students"), dict) else None


def roster_account(home: Path, name: str) -> Account | None:
    """The account of student ``name`` in the home's class, or None."""
    roster = read_roster(home)
    index = (roster or {}).get("students", {}).get(name)
    return devnet_extra_account(int(index), name) if isinstance(index, int) else None


def default_account_name(home: Path, configured: str = "") -> str | None:
    """The account this process acts as when nobody says otherwise.

    ``configured`` (``COLEARN_ACCOUNT`` or ``c.ColearnSettings.account``) wins. On JupyterHub with a class, the
    student the hub says this is (``JUPYTERHUB_USER``), or nobody when the hub's user is not on the roster: acting
    as someone must then be chosen (``%colearn connect student07``). Elsewhere (one Jupyter server, a script), the
    devnet's ``owner``: there a process cannot tell students apart, so each one connects as itself.
    """
    if configured:
        return configured
    user = os.environ.get("JUPYTERHUB_USER", "")
    roster = read_roster(home)
    if roster is None or not user:
        return INSTRUCTOR
    name = student_name(user)
    return name if name in roster["students"] else None


def is_instructor(home: Path, account: Account) -> bool:
    """True when there is no class, or ``account`` is the class's instructor."""
    roster = read_roster(home)
    return roster is None or account.name == roster.get("instructor", INSTRUCTOR)


def instructor_name(home: Path) -> str:
    """The name of the class's instructor: the roster's, or the one a new class gets (``owner``)."""
    return str((read_roster(home) or {}).get("instructor", INSTRUCTOR))


class Classroom:
    """The class of one devnet: create it, list it, fund it.

    ``acting`` is the account a session acts as (the magics give it): creating or funding the class is then refused
    unless it is the instructor, as moving the clock is. Without it (``colearn class``, run by whoever runs the
    server), nobody is checked.
    """

    def __init__(self, chain: Chain, acting: Account | None = None):
        if not chain.is_devnet:
            raise DevnetError(
                "a class lives on the embedded devnet, whose accounts come from one public mnemonic; on a real "
                "network each student brings a keystore"
            )
        self.chain = chain
        self.home = chain.home
        self.acting = acting
        self._lock = FileLock(str(roster_path(self.home)) + ".lock", timeout=60)

    @property
    def instructor(self) -> str:
        return instructor_name(self.home)

    def _require_instructor(self, action: str) -> None:
        """Refuse ``action`` (e.g. "creating a class") when the acting account is not the instructor."""
        instructor = self.instructor
        if self.acting is None or self.acting.name == instructor:
            return
        who = "a student here" if roster_account(self.home, self.acting.name) else "not the class's instructor"
        raise AccountError(
            f"{action} is the instructor's action ({instructor}), and {self.acting.name} is {who}. Connect as the "
            f"instructor (`%colearn connect {instructor}`, or --as {instructor}) or ask them to do it"
        )

    @property
    def students(self) -> list[Student]:
        roster = read_roster(self.home) or {"students": {}}
        return [Student(name, index) for name, index in sorted(roster["students"].items(), key=lambda i: i[1])]

    def account(self, name: str) -> Account:
        found = roster_account(self.home, student_name(name))
        if found is None:
            raise AccountError(
                f"there is no student {name!r} in this class; `colearn class list` (`%colearn class list`) shows them"
            )
        return found

    def create(
        self, students: int | Iterable[str] = 30, *, prefix: str = "student", eth: str | float = 100
    ) -> list[Student]:
        """Add students (a count, named ``student01``…, or a list of names) and fund each with ``eth`` ETH.

        Creating again keeps existing students (and their accounts); new names get new accounts. Returns the
        students added.
        """
        self._require_instructor("creating a class")
        names = _names(students, prefix)
        with self._lock:
            roster = read_roster(self.home) or {"instructor": INSTRUCTOR, "students": {}}
            taken = set(roster["students"].values())
            next_index = max(taken, default=FIRST_INDEX - 1) + 1
            added = []
            for name in names:
                if name in roster["students"]:
                    continue
                while next_index in taken:
                    next_index += 1
                roster["students"][name] = next_index
                added.append(Student(name, next_index))
                taken.add(next_index)
            if len(roster["students"]) > MAX_STUDENTS:
                raise AccountError(f"a class has at most {MAX_STUDENTS} students")
            tmp = roster_path(self.home).with_suffix(".tmp")
            tmp.write_text(json.dumps(roster, indent=1))
            os.replace(tmp, roster_path(self.home))
        self.fund([s.name for s in added], eth=eth)
        return added

    def fund(self, names: Iterable[str] | None = None, *, eth: str | float = 100) -> int:
        """Top up students (all by default) to at least ``eth`` ETH from ``deployer``; returns the wei sent.

        Every name is checked before anything is sent."""
        self._require_instructor("funding the class")
        target = to_wei(eth)
        payer = self.chain.account("deployer")
        sent = 0
        accounts = [self.account(name) for name in (list(names) if names is not None else self._names())]
        for account in accounts:
            missing = target - self.chain.balance(account)
            if missing > 0:
                self.chain.transfer(payer, account, missing)
                sent += missing
        return sent

    def _names(self) -> list[str]:
        return [s.name for s in self.students]

    def table(self, decimals: int | None = None) -> list[dict[str, Any]]:
        """Name, address and balance of every student (exact, or rounded to ``decimals``)."""
        return [
            {
                "student": s.name,
                "address": s.account.address,
                "balance": format_eth(self.chain.balance(s.account), decimals),
            }
            for s in self.students
        ]


def _names(students: int | Iterable[str], prefix: str) -> list[str]:
    if isinstance(students, int):
        if not 1 <= students <= MAX_STUDENTS:
            raise AccountError(f"a class has 1 to {MAX_STUDENTS} students, not {students}")
        width = max(2, len(str(students)))
        students = [f"{prefix}{number:0{width}d}" for number in range(1, students + 1)]
    names = [student_name(name) for name in students]
    for name in names:
        if not _NAME.match(name) or name in DEVNET_NAMES or name in {"env"}:
            raise AccountError(
                f"{name!r} cannot be a student's name: use lower-case letters, digits, '_' or '-' (up to 64), "
                f"starting with a letter, and none of the devnet's names ({', '.join(DEVNET_NAMES)})"
            )
    if len(set(names)) != len(names):
        raise AccountError("the students' names repeat")
    return names
