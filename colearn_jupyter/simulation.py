"""Agents playing the integrity game against the real marketplace contracts, in accelerated time.

:func:`run` publishes a model on the devnet a :class:`~colearn_jupyter.session.Session` is connected to (the
embedded devnet by default; the tests' private devnet under pytest) and lets a mix of agents play ``rounds``
rounds of the incentive game. Every agent has its own account (derived from the devnet's mnemonic and funded by
``deployer``), every action goes through the real contracts and the core API, and each round moves the chain's
clock past the challenge window and the time-out, so a strategy that pays here would pay on chain.

>>> from colearn_jupyter.simulation import SimulationConfig, run
>>> result = run(SimulationConfig(agents={"contributor": 2, "verifier": 1, "phantom": 1}, rounds=4))  # doctest: +SKIP
>>> result.summary()                # start, end, at risk and verdict of every agent          # doctest: +SKIP
>>> result.figures()["balances"]    # plotly figures: balances over time, accuracy per version  # doctest: +SKIP

**Agents** (:attr:`SimulationConfig.agents` counts them by kind; :data:`KINDS` describes each). The honest ones:
a ``contributor`` adds a batch of correctly labelled fresh rows every round (on-chain rows when the model has an
on-chain perceptron), answers demands for its rows (:meth:`Session.answer`) and claims. A ``verifier`` runs
:meth:`Session.verify` on every open submission, makes the plan's objective and file challenges, and challenges
the label of every row it finds wrong (leaving a row alone once it is demanded), expires its timed-out challenges
and claims. The owner (always one, honest unless a ``colluding-owner`` takes its place) resolves label challenges,
resolves file challenges by its client's check of the file (:meth:`Session.judge`), proves copies of its hidden
test set (only it can) and retrains every ``retrain_every`` rounds. **Who judges labels** is
:attr:`SimulationConfig.judge`: ``person`` (the default) models people checking rows, as the paper's owner
validates data by hand: they know the true label of every real observation of the data set and see a row that is
none (a fabricated near-copy); ``model`` lets the current model's opinion decide (``resolve(upheld=None)``), and
then an honest contributor holds back the rows the model labels otherwise (``rows held back``: such a row is sure
to be challenged and rejected), and the rows the model gets wrong can be sold with its wrong label. Honest agents
stop dealing with an owner who judges unfairly (upholds a challenge of a row a fair judge keeps, or rejects one a
fair judge upholds). Each adversary plays one strategy of issue 9 (or a new one), rotating through its variants
round by round.

**A round**: every agent, in the order of :attr:`World.agents`, expires what timed out, claims, contributes,
attacks, verifies, copies others' challenges, answers demands; then the owner judges and retrains, and the clock
moves ``max(window, timeout) + 1`` seconds. After the last round a settlement pass lets everything pending
expire, be claimed and withdrawn, and the owner retrains once more. When a ``front-runner`` plays, the devnet
mines honest contributions on demand (:meth:`World.race`), so that it sees them pending as in a public mempool.

**What is measured** (:attr:`SimulationResult.frame`, one row per agent per round; round 0 is the start and the
last round is the settlement): ``balance (ETH)`` is the account's ether plus its claimable credit, and for the
model's owner also the unallocated reward pool (which it can withdraw at any time). ``change (ETH)`` compares it
with the balance before the model was published, so gas fees count as losses; ``gas (ETH)`` and ``change
excluding gas (ETH)`` split them out. ``at risk (ETH)`` is everything the agent sent to the contract (deposits,
bonds, the reward pool) plus its gas; ``staked (ETH)`` is what it has locked in the contract right now (deposits
of rows pending, bonds of challenges pending). ``rows held back`` counts the correct rows an honest contributor
kept to itself because the judge would have rejected them. ``accuracy`` is the latest version's accuracy on the
owner's hidden test set and ``clean accuracy`` that of the same retrain without any row of an adversary (equal
when no adversarial row was trained on). :attr:`SimulationResult.challenges` lists every challenge.

**The criteria** (:meth:`SimulationResult.violations`). An adversary (with its second account, and for a
colluding owner its pool spend, counted as one coalition) must end below its start, or have had every attempt
refused before any transaction (zero impact, as ``absurd-terms`` must); ``recovered`` is the share of what it put
at risk that came back, ideally below 10%. Honest contributors and verifiers must end at or above their start
**with gas counted**: on a 1-gwei devnet a batch, a claim or a challenge costs about 1e-4 ETH while a row earns
2e-3 ETH, so the criterion holds with gas and there is no need to leave it out. The honest owner buys rows: it
must not pay more than the terms say (:meth:`SimulationResult.owner_budget`: a reward per row submitted to its
model and at most one per label challenge it was asked to judge). Every version's accuracy must be at least its
clean accuracy, unless the owner is the adversary (an owner may train its own model on anything).

**Determinism.** The same seed gives the same data split, the same rows, the same actions in the same order, the
same rows accepted and rejected and the same accuracies, whatever else the chain holds. Balances excluding gas
are deterministic too; gas fees are not quite (challenge salts are random, and their zero bytes cost less
calldata gas), nor are the chain timestamps in ``time`` (``hours`` is the simulated time).
"""

from __future__ import annotations

import argparse
import io
import json
import shlex
import shutil
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from . import htmlsafe
from .accounts import Account, devnet_extra_account
from .chain import Chain
from .config import ColearnSettings
from .contributions import FileCheck, inspect_submission, model_metadata, prepare_batch, read_rows
from .devnet import CHAIN_ID, Devnet
from .errors import ColearnError
from .formats.data import FeatureSchema, RowFault, decode_row, encode_row, onchain_schema, row_fault, to_parquet
from .formats.models import LinearModel
from .marketplace import (
    LINEAR_SCALE,
    OWNER_JUDGED,
    Challenge,
    Marketplace,
    Submission,
    Terms,
    _cid_text,
    _deployment_key,
)
from .merkle import MerkleTree, contributor_key
from .session import Session, _accuracy, _fit, _predict
from .storage.cid import cid_to_bytes
from .storage.unixfs import FileBuilder
from .units import to_wei

__all__ = [
    "ADVERSARIES",
    "DEFAULT_AGENTS",
    "HONEST",
    "ISSUE_STRATEGIES",
    "KINDS",
    "SimulationConfig",
    "SimulationResult",
    "add_arguments",
    "config_from_args",
    "run",
    "simulate_magic_args",
    "sweep",
    "sweep_figure",
]

#: Honest agent kinds (the owner is implied: one per run).
HONEST = {
    "contributor": "adds correctly labelled fresh rows every round, answers demands for them, claims",
    "verifier": "verifies every open submission, challenges the plan and the labels it finds wrong, expires, claims",
}
#: Adversaries: the strategies of issue 9, and the ones found since.
ADVERSARIES = {
    "phantom": "declares rows it does not have: a one-leaf tree for many rows, or the CID of a file never stored",
    "copier": "resubmits rows that exist: another contributor's pending or accepted rows, one row many times, the "
    "owner's training rows (public in the lineage), rows of the hidden test set (from the public data set)",
    "self-dealer": "contributes mislabelled rows and challenges them from a second account before verifiers do",
    "copycat": "a verifier that only challenges rows someone else already revealed",
    "colluding-owner": "a dishonest owner whose second account challenges honest rows (upheld) and contributes "
    "mislabelled rows (valid challenges of them rejected)",
    "perceptron": "feeds the on-chain perceptron extreme rows with flipped labels, and rows beyond its bound",
    "poison": "a crafted Parquet file: mislabelled rows, NaN, 1e308, a label outside the set, repeated rows",
    "absurd-terms": "tries to publish a model with absurd terms (reward >= deposit, a window of 2**64-1 s, 100 years)",
    "griefer": "challenges labels of honest rows and demands honest rows, to make honest agents pay",
    "withholder": "contributes real rows but never stores the file; answers every demand itself and takes the bond",
    "echo": "near-copies of the public training rows, labelled by the current model: no labelling work at all",
    "mimic": "the rows the current model gets wrong, with the model's wrong label (when the model judges labels, the "
    "rows honest contributors hold back)",
    "front-runner": "watches the mempool for contributions, copies the rows of their file under its own key and gets "
    "them mined first with a higher tip, so that the original rows repeat its rows",
}
KINDS = {**HONEST, **ADVERSARIES}
#: The strategies issue 9 lists; the others were found while building the simulation.
ISSUE_STRATEGIES = ("phantom", "copier", "self-dealer", "copycat", "colluding-owner", "perceptron", "poison",
                    "absurd-terms")  # fmt: skip
DEFAULT_AGENTS = {"contributor": 2, "verifier": 1, "phantom": 1, "copier": 1, "self-dealer": 1}
DATASETS = ("breast_cancer", "synthetic")
#: Who judges labels: ``person`` (the owner and the verifiers know the true label of a real observation, and see a
#: row that is none, as people checking rows do) or ``model`` (the current model's opinion decides: the rows it
#: gets wrong can be sold with its wrong label, which is why a person must judge labels).
JUDGES = ("person", "model")
_TRAIN_ROWS, _TEST_ROWS = 100, 150
_LABEL = "target"
_ETH = 10**18


# ---------------------------------------------------------------------------------------------------- configuration
@dataclass
class SimulationConfig:
    """What to simulate: the agent mix, the model's terms, the length of the run and the seed.

    ``agents`` counts agents by kind (see :data:`KINDS`); the owner is implied. Amounts are ether, durations
    like ``"1h"``; ``timeout`` defaults to the window. ``rows`` is the size of a batch, ``onchain_rows`` the
    number of rows stored on chain per round by each contributor when the model has an on-chain perceptron
    (``onchain``: by default only when a ``perceptron`` attacker plays). ``dataset`` is scikit-learn's bundled
    ``breast_cancer`` (30 standardized features, binary) or ``synthetic`` (``make_classification``, sized to
    the run). ``fund`` is the ether each agent receives at the start (the owner also gets the pool).
    """

    agents: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_AGENTS))
    deposit: str = "0.01"
    reward: str = "0.002"
    bond: str = "0.005"
    window: str = "1h"
    timeout: str = ""
    pool: str = "2"
    rounds: int = 4
    rows: int = 6
    onchain_rows: int = 3
    retrain_every: int = 1
    seed: int = 0
    dataset: str = "breast_cancer"
    onchain: bool | None = None
    fund: str = "2"
    judge: str = "person"

    def __post_init__(self) -> None:
        agents: dict[str, int] = {}
        for kind, count in dict(self.agents).items():
            if kind not in KINDS:
                raise ColearnError(f"there is no agent kind {kind!r}; the kinds are {', '.join(KINDS)}")
            if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
                raise ColearnError(f"the number of {kind} agents must be a whole number >= 0, not {count!r}")
            if count:
                agents[kind] = int(count)
        if agents.get("colluding-owner", 0) > 1:
            raise ColearnError("a model has one owner: at most one colluding-owner")
        self.agents = agents
        for name in ("rounds", "rows", "onchain_rows", "retrain_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ColearnError(f"{name} must be a whole number >= 1, not {value!r}")
        if self.rows < 3:
            raise ColearnError("a batch needs at least 3 rows (rows >= 3)")
        if self.dataset not in DATASETS:
            raise ColearnError(f"unknown data set {self.dataset!r}; use one of {', '.join(DATASETS)}")
        if self.judge not in JUDGES:
            raise ColearnError(f"unknown judge {self.judge!r}; use one of {', '.join(JUDGES)}")
        if self.onchain is False and agents.get("perceptron"):
            raise ColearnError("the perceptron attacker needs a model with an on-chain perceptron (onchain=True)")
        try:  # amounts and durations must parse; whether the terms are fair is the owner's publish to check
            _ = self.terms, to_wei(self.pool), to_wei(self.fund)
        except ValueError as error:
            raise ColearnError(str(error)) from None
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or not 0 <= self.seed < 2**32:
            raise ColearnError(f"the seed must be a whole number from 0 to 2**32 - 1, not {self.seed!r}")

    @property
    def terms(self) -> Terms:
        return Terms.from_human(deposit=self.deposit, reward=self.reward, bond=self.bond, window=self.window,
                                timeout=self.timeout or self.window)  # fmt: skip

    @property
    def uses_onchain(self) -> bool:
        """Whether the model gets an on-chain perceptron."""
        return bool(self.agents.get("perceptron")) if self.onchain is None else self.onchain

    @property
    def round_seconds(self) -> int:
        """How far the clock moves each round: past the window and the time-out of everything done in it."""
        terms = self.terms
        return max(terms.challenge_window, terms.owner_timeout) + 1


# ---------------------------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class _Data:
    train: pd.DataFrame
    test: pd.DataFrame
    fresh: pd.DataFrame  # correctly labelled rows nobody has submitted yet, handed out in order

    @property
    def features(self) -> list[str]:
        return [c for c in self.train.columns if c != _LABEL]

    @property
    def truth(self) -> dict[tuple[Any, ...], int]:
        """The true label of every real observation, by its features (as floats, and as on-chain fixed point)."""
        if not hasattr(self, "_truth"):
            truth: dict[tuple[Any, ...], int] = {}
            for frame in (self.train, self.test, self.fresh):
                for values, label in zip(frame[self.features].itertuples(index=False, name=None), frame[_LABEL],
                                         strict=True):  # fmt: skip
                    truth[tuple(float(v) for v in values)] = int(label)
                    truth[tuple(_fixed_point(values))] = int(label)
            object.__setattr__(self, "_truth", truth)
        return self._truth  # type: ignore[attr-defined]


def _load_data(config: SimulationConfig) -> _Data:
    """A seeded split of a bundled data set: the owner's training and hidden test rows, and fresh rows."""
    per_round = sum(config.agents.values()) + 2 + Mimic.SEARCH * config.agents.get("mimic", 0)
    rows_needed = config.rounds * config.rows * per_round
    if config.dataset == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        raw = load_breast_cancer(as_frame=True).frame
        features, labels = raw.drop(columns=_LABEL), raw[_LABEL]
    else:
        from sklearn.datasets import make_classification

        x, y = make_classification(n_samples=_TRAIN_ROWS + _TEST_ROWS + rows_needed, n_features=10,
                                   n_informative=6, class_sep=1.5, random_state=config.seed)  # fmt: skip
        features, labels = pd.DataFrame(x, columns=[f"x{i}" for i in range(10)]), pd.Series(y)
    scaled = ((features - features.mean()) / features.std()).round(3)
    frame = scaled.assign(**{_LABEL: labels.astype("int64").to_numpy()}).drop_duplicates(subset=list(scaled.columns))
    frame = frame.sample(frac=1.0, random_state=config.seed).reset_index(drop=True)
    end = _TRAIN_ROWS + _TEST_ROWS
    return _Data(frame.iloc[:_TRAIN_ROWS].reset_index(drop=True), frame.iloc[_TRAIN_ROWS:end].reset_index(drop=True),
                 frame.iloc[end:].reset_index(drop=True))  # fmt: skip


def _flip(frame: pd.DataFrame) -> pd.DataFrame:
    """The same rows with the other label (binary tasks)."""
    return frame.assign(**{_LABEL: 1 - frame[_LABEL].to_numpy()})


def _fixed_point(values: Sequence[float]) -> list[int]:
    return [round(float(v) * LINEAR_SCALE) for v in values]


def _saturate(value: int) -> int:
    return max(-(2**63), min(2**63 - 1, value))


def _cid_of(data: bytes) -> str:
    """The CID ``data`` would have in storage, without storing it."""
    builder = FileBuilder()
    builder.write(data)
    return builder.finish()[0]


# ---------------------------------------------------------------------------------------------------- agents
class Agent:
    """One player with its own account and :class:`Session`; each phase of a round is a method (no-op here)."""

    kind = ""
    honest = True

    def __init__(self, world: World, name: str, account: Account, *, coalition: str | None = None):
        self.world, self.name, self.account = world, name, account
        self.coalition = coalition or name
        self.number = int(name.rsplit("-", 1)[1]) - 1 if name.rsplit("-", 1)[-1].isdigit() else 0  # n in kind-n
        self.session = world.session_for(account)
        self.rng = np.random.default_rng([world.config.seed, len(world.agents)])
        self.trusting = True  # honest agents stop dealing with an owner who contradicts its own model

    @property
    def address(self) -> str:
        return self.account.address

    def act(self, action: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one action; a refusal (any :class:`ColearnError`) is logged, not raised. Returns its result or None."""
        try:
            result = call(*args, **kwargs)
        except ColearnError as error:
            self.world.log(self, action, "refused", str(error))
            return None
        self.world.log(self, action, "done", _describe(result))
        return result

    # phases, in the order of a round
    def expire(self) -> None:
        """Close timed-out challenges this agent raised, and label challenges the owner left holding up its rows."""
        world, now = self.world, self.world.timestamp()
        for info in world.pending_challenges():
            blocks_mine = info.kind in OWNER_JUDGED and world.submission(info.submission_id).contributor == self.address
            if (info.challenger == self.address or blocks_mine) and info.resolve_by < now:
                self.act(f"expire {info.kind} challenge", self.session.expire, info.id)

    def settle(self) -> None:
        """Claim the submissions whose window ended; at the settlement, claim and withdraw everything."""
        world = self.world
        for sub in world.claimable(self):
            self.act(f"claim submission {sub.id}", world.market.claim, self.account, sub.id)
        if world.settling and world.market.credit_of(self.address):
            self.act("withdraw", world.market.withdraw, self.account)

    def contribute(self) -> None: ...

    def attack(self) -> None: ...

    def verify(self) -> None: ...

    def copy(self) -> None: ...

    def respond(self) -> None: ...

    def judge(self) -> None: ...


def _describe(result: Any) -> str:
    if isinstance(result, Submission):
        return f"submission {result.id}: {result.row_count} rows"
    if isinstance(result, list):
        return f"ids {result}" if result else "nothing"
    if hasattr(result, "tx_hash"):
        return f"gas {result.gas_used:,}"
    return "" if result is None else str(result)[:120]


class Contributor(Agent):
    """Correctly labelled fresh rows every round; answers demands; leaves an owner who judges its rows unfairly.

    When the model judges labels (``judge="model"``), it holds back the rows the current model labels otherwise:
    verifiers would challenge them and the owner's model would uphold the challenge, burning their deposits, and the
    model is public, so this is known in advance.
    """

    kind = "contributor"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.expected: dict[int, bool] = {}  # label challenge of my rows -> whether a fair judge upholds it

    def contribute(self) -> None:
        world = self.world
        if not self.trusting:
            return
        rows = world.take_rows(self, world.config.onchain_rows if world.onchain else world.config.rows)
        judged = world.model_agrees(self.session, rows) if world.config.judge == "model" else np.ones(len(rows), bool)
        if not judged.all():
            world.held_back[self.name] += int((~judged).sum())
            self.world.log(self, "hold back rows the model labels otherwise", "done", f"{int((~judged).sum())} rows")
        rows = rows[judged].reset_index(drop=True)
        if rows.empty:
            return
        if world.onchain:
            for features, label in world.onchain_rows(rows):
                self.act("contribute an on-chain row", world.market.contribute_row, self.account, world.model_id,
                         features, label)  # fmt: skip
        else:
            world.race(self, "contribute", self.session.contribute, world.model_id, rows)

    def respond(self) -> None:
        world = self.world
        for info in world.pending_challenges():
            if world.submission(info.submission_id).contributor != self.address:
                continue
            if info.kind == "availability":
                self.act("answer a demand", self.session.answer, info.id)
            elif info.kind in OWNER_JUDGED and info.id not in self.expected:
                self.expected[info.id] = world.fair_verdict(self.session, info)

    def settle(self) -> None:
        super().settle()
        for challenge_id, model_disagrees in list(self.expected.items()):
            status = self.world.challenge(challenge_id).status
            if status != "pending":
                del self.expected[challenge_id]
                if status == "upheld" and not model_disagrees and self.trusting:
                    self.trusting = False
                    self.world.log(self, "leave the model", "done", f"the owner upheld challenge {challenge_id} "
                                   "of a row a fair judge would have kept")  # fmt: skip


class Verifier(Agent):
    """Verifies every open submission and challenges the plan; stops label challenges if the owner proves unfair.

    With ``judge="person"`` it is a person checking the rows: the plan's objective and file challenges, and a label
    challenge of every row whose label it knows to be wrong, or that is no real observation (not the model's
    suspicions, which may be the model's own errors).
    """

    kind = "verifier"

    def verify(self) -> None:
        world = self.world
        by_model = world.config.judge == "model"
        for sub in world.open_submissions():
            if sub.contributor == self.address:
                continue
            if by_model and self.trusting and not world.has_pending(sub.id, "availability"):  # one verification
                self.act(f"challenge the plan of submission {sub.id}", self.session.challenge, sub.id)
                continue
            report = self.act(f"verify submission {sub.id}", self.session.verify, sub.id)
            if report is None:
                continue
            plan = [(row, kind) for row, kind in report.plan if (by_model and self.trusting) or kind != "label"]
            if not by_model and self.trusting and not report.rows.empty:
                planned = {row for row, _ in plan}
                states = self.session._row_states(sub.id)
                check = None if sub.on_chain_row else inspect_submission(world.market, world.storage, sub, world.schema)
                for index, row in report.rows.iterrows():
                    free = row["verdict"] in ("ok", "suspicious") and states.get(int(index)) != "label judged"
                    if free and index not in planned and world.person_disagrees(sub, int(index), row["label"], check):
                        plan.append((int(index), "label"))
            if world.has_pending(sub.id, "availability"):  # one unanswered demand forfeits the batch: no second bond
                plan = [(row, kind) for row, kind in plan if kind != "availability"]
            if plan:
                kinds = ", ".join(sorted({kind for _, kind in plan}))
                self.act(f"challenge {len(plan)} rows ({kinds}) of submission {sub.id}", self.session.challenge,
                         sub.id, [row for row, _ in plan])  # fmt: skip

    def settle(self) -> None:
        super().settle()
        lost = [c for c in self.world.challenges() if c.challenger == self.address and c.status == "rejected"]
        if lost and self.trusting:
            self.trusting = False  # with an honest owner a challenge backed by its own model is never rejected
            self.world.log(self, "stop label challenges", "done", f"the owner rejected challenge {lost[0].id}, "
                           "which its own model supports")  # fmt: skip


class Owner(Agent):
    """The honest owner: judges labels (as a person, or by its model) and files (its client fetches them), proves
    copies of its test set, retrains on a schedule."""

    kind = "owner"

    def judge(self) -> None:
        world = self.world
        now = world.timestamp()
        for info in world.pending_challenges():
            if info.kind in OWNER_JUDGED and info.resolve_by >= now:
                self.act(f"resolve {info.kind} challenge {info.id}", self.resolve, info)
        for sub in world.open_submissions():
            rows = self.test_copies(sub)
            if rows:
                self.act(f"prove {len(rows)} test copies in submission {sub.id}", self.session.challenge, sub.id, rows)
        if world.round % world.config.retrain_every == 0 or world.settling:
            world.retrain()

    def resolve(self, info: Challenge) -> bool:
        return self.session.resolve(info.id, self.world.fair_verdict(self.session, info))

    def test_copies(self, sub: Submission) -> list[int]:
        """Rows of a submission that copy the hidden test set (only the owner, holding its salt, can tell)."""
        from eth_utils import keccak

        if sub.on_chain_row:
            return []
        world = self.world
        test = world.test_hashes
        check = inspect_submission(world.market, world.storage, sub, world.schema)
        states = {c.row_index for c in world.challenges() if c.submission_id == sub.id}
        return (
            [i for i, row in enumerate(check.rows) if keccak(row) in test and i not in states] if check.usable else []
        )


class ColludingOwner(Owner):
    """Upholds its partner's challenges, rejects challenges of its partner's rows, judges the rest honestly."""

    kind = "colluding-owner"
    honest = False
    partner: Agent

    def resolve(self, info: Challenge) -> bool:
        contributor = self.world.submission(info.submission_id).contributor
        if info.challenger == self.partner.address:
            return self.session.resolve(info.id, True)
        if contributor == self.partner.address:
            return self.session.resolve(info.id, False)
        return super().resolve(info)


class ColludingPartner(Agent):
    """The colluding owner's second account: mislabelled rows of its own, challenges of honest rows."""

    kind = "colluding-owner partner"
    honest = False

    def contribute(self) -> None:
        world = self.world
        self.act("contribute mislabelled rows", self.session.contribute, world.model_id,
                 _flip(world.take_rows(self, world.config.rows)))  # fmt: skip

    def attack(self) -> None:
        world = self.world
        for sub in world.open_submissions():
            if world.is_honest(sub.contributor) and not sub.on_chain_row:
                rows = list(range(max(1, sub.row_count // 2)))
                self.act(f"challenge {len(rows)} honest rows of submission {sub.id}", self.session.challenge, sub.id,
                         rows)  # fmt: skip


class Phantom(Agent):
    """Rows that do not exist: a one-leaf tree declaring many rows, or the CID of a file never stored."""

    kind = "phantom"
    honest = False

    def contribute(self) -> None:
        world = self.world
        if (world.round + self.number) % 2:
            declared = world.affordable_rows(5 * world.config.rows)
            one = world.take_rows(self, 1)
            parquet = to_parquet(one, world.schema)
            rows = [encode_row(world.schema, v) for v in one[world.schema.names].itertuples(index=False, name=None)]
            tree = MerkleTree(rows, key=contributor_key(self.address))
            self.act(f"declare {declared} rows with a one-leaf tree", world.raw_contribute, self, _cid_of(parquet),
                     tree.root, declared, parquet)  # fmt: skip
        else:
            ghost = _cid_of(b"never stored " + self.rng.bytes(16))
            self.act("declare rows in a file never stored", world.raw_contribute, self, ghost, self.rng.bytes(32),
                     world.config.rows, None)  # fmt: skip


class Copier(Agent):
    """Rows that already exist, one variant a round."""

    kind = "copier"
    honest = False
    VARIANTS = ("pending copy", "repeated row", "training copy", "test copy", "accepted copy")

    def contribute(self) -> None:
        world = self.world
        copiers = world.config.agents.get(self.kind, 1)  # together the copiers play every variant as soon as they can
        variant = self.VARIANTS[((world.round - 1) * copiers + self.number) % len(self.VARIANTS)]
        honest = [s for s in world.submissions() if world.is_honest(s.contributor) and not s.on_chain_row]
        pending = [s for s in honest if not s.settled and s.window_ends_at > world.timestamp()]
        accepted = [s for s in honest if s.claimed]
        if variant == "pending copy" and not pending:
            variant = "repeated row"
        if variant == "accepted copy" and not accepted:
            variant = "training copy"
        if variant in ("pending copy", "accepted copy"):
            source = (pending or accepted)[-1] if variant == "pending copy" else accepted[-1]
            _, rows = read_rows(world.storage.cat(source.data_cid), world.schema, source.row_count)
            tree = MerkleTree(rows, key=contributor_key(self.address))  # the same file, under its own key
            self.act(f"{variant} of submission {source.id}", world.raw_contribute, self, source.data_cid, tree.root,
                     len(rows), None)  # fmt: skip
            return
        if variant == "repeated row":
            frame = pd.concat([world.take_rows(self, 1)] * world.config.rows, ignore_index=True)
        elif variant == "training copy":
            cid = model_metadata(world.market, world.storage, world.model_id).lineage["training_data_cids"][0]
            training, _ = read_rows(world.storage.cat(cid), world.schema, 10**6)  # public: in the model's lineage
            picks = self.rng.choice(len(training), size=world.config.rows, replace=False)
            frame = training.iloc[np.sort(picks)]
        else:  # rows of the public data set that happen to be in the owner's hidden test set
            picks = self.rng.choice(len(world.data.test), size=world.config.rows, replace=False)
            frame = world.data.test.iloc[np.sort(picks)]
        self.act(variant, world.contribute_file, self, frame.reset_index(drop=True))


class SelfDealer(Agent):
    """Mislabelled rows, challenged at once by its own second account."""

    kind = "self-dealer"
    honest = False
    partner: SelfDealerPartner

    def contribute(self) -> None:
        world = self.world
        submission = self.act("contribute mislabelled rows", self.session.contribute, world.model_id,
                              _flip(world.take_rows(self, world.config.rows)))  # fmt: skip
        if submission is not None:
            self.partner.targets.append(submission)


class SelfDealerPartner(Agent):
    kind = "self-dealer partner"
    honest = False

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.targets: list[Submission] = []

    def attack(self) -> None:
        while self.targets:
            sub = self.targets.pop(0)
            self.act(f"challenge its partner's rows of submission {sub.id}", self.session.challenge, sub.id,
                     list(range(sub.row_count)))  # fmt: skip


class Copycat(Agent):
    """Replays challenges others revealed this round (commit-reveal: the reveal is refused, the commit's gas lost)."""

    kind = "copycat"
    honest = False
    ATTEMPTS = 3

    def copy(self) -> None:
        world = self.world
        seen: set[tuple[int, int]] = set()
        for info in world.challenges(since_round=world.round):
            key = (info.submission_id, info.row_index)
            if info.challenger == self.address or key in seen:
                continue
            seen.add(key)
            if len(seen) > self.ATTEMPTS:
                break
            self.act(f"replay challenge {info.id}", self.session.challenge, info.submission_id, [info.row_index])


class Perceptron(Agent):
    """Extreme rows with the label the on-chain perceptron does not predict, and rows beyond its bound."""

    kind = "perceptron"
    honest = False

    def contribute(self) -> None:
        world = self.world
        bound, width = world.linear_bound, len(world.data.features)
        self.act("contribute a row beyond the bound", world.market.contribute_row, self.account, world.model_id,
                 [bound + 1] * width, 1)  # fmt: skip
        for _ in range(world.config.onchain_rows):
            signs = self.rng.choice([-1, 1], size=width)
            features = [int(s) * int(bound - self.rng.integers(0, 10**6)) for s in signs]
            predicted = world.market.predict(world.model_id, features)
            self.act("contribute an extreme row with a flipped label", world.market.contribute_row, self.account,
                     world.model_id, features, 1 - predicted)  # fmt: skip


class Poison(Agent):
    """A crafted file: mislabelled rows, NaN, 1e308, a label outside the set and repeated rows, with a valid tree."""

    kind = "poison"
    honest = False

    def contribute(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        world = self.world
        schema, features = world.schema, world.data.features
        base = world.take_rows(self, max(3, world.config.rows - 5))
        good = base.iloc[[0]]
        nan, huge, unknown = good.copy(), good.copy(), good.copy()
        nan.loc[:, features[0]] = float("nan")
        huge.loc[:, features[1]] = 1e308
        unknown.loc[:, _LABEL] = 7
        flipped = _flip(base.iloc[1:])
        raw = pd.concat([good, flipped, nan, huge, unknown, flipped.iloc[[0]], good], ignore_index=True)
        rows = [encode_row(schema, values) for values in raw[schema.names].itertuples(index=False, name=None)]
        tree = MerkleTree(rows, key=contributor_key(self.address))
        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(raw[schema.names], preserve_index=False), sink)
        parquet = sink.getvalue()
        self.act("contribute a poison pill", world.raw_contribute, self, _cid_of(parquet), tree.root, len(rows),
                 parquet)  # fmt: skip


class AbsurdTerms(Agent):
    """Tries to publish with terms that would break the game; the client and the contract refuse before any gas."""

    kind = "absurd-terms"
    honest = False

    def contribute(self) -> None:
        from sklearn.linear_model import LogisticRegression

        world = self.world
        if world.round != 1:
            return
        data = world.data
        model = LogisticRegression(max_iter=1000).fit(data.train[data.features], data.train[_LABEL])
        century = 100 * 365 * 86400
        attempts = {
            "reward equal to the deposit": {"deposit": "0.01", "reward": "0.01"},
            "a window of 2**64-1 s": {"window": 2**64 - 1},
            "a window of 100 years": {"window": century},
            "a time-out of 100 years": {"timeout": century},
        }
        for name, terms in attempts.items():
            self.act(f"publish with {name}", self.session.publish, model, name="absurd", train=data.train,
                     test=data.test, label=_LABEL, pool="1", **terms)  # fmt: skip
        terms = Terms(10**16, 2 * 10**15, 10**16, 2**64 - 1, 2**64 - 1)
        cid = _cid_of(b"absurd model")
        self.act("publish_model with windows of 2**64-1 s (bypassing the client)", world.market.publish_model,
                 self.account, name="absurd", model_cid=cid, metadata_cid=cid, test_set_commitment=b"\1" * 32,
                 terms=terms, schema=onchain_schema(world.schema), test_root=b"\2" * 32, test_row_count=1,
                 reward_pool=10**18)  # fmt: skip


class Griefer(Agent):
    """Challenges honest labels (the owner rejects: the bond burns) and demands honest rows (answered: bond lost)."""

    kind = "griefer"
    honest = False

    def attack(self) -> None:
        world = self.world
        for sub in world.open_submissions():
            if not world.is_honest(sub.contributor) or sub.on_chain_row:
                continue
            report = self.act(f"verify submission {sub.id}", self.session.verify, sub.id)
            if report is None or report.rows.empty:
                continue
            good = [int(i) for i in report.rows.index[report.rows["verdict"] == "ok"]]
            if good:
                self.act("challenge a good label", self.session.challenge, sub.id, [good[0]])
            if len(good) > 1:
                self.act("demand an honest row", world.market.challenge_availability, self.account, sub.id, good[-1])


class Withholder(Agent):
    """Real rows whose file it never stores; it answers each demand itself, from memory."""

    kind = "withholder"
    honest = False

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.batches: dict[int, Any] = {}

    def contribute(self) -> None:
        world = self.world
        batch = prepare_batch(world.take_rows(self, world.config.rows), world.schema, self.address)
        sid = self.act("contribute rows without storing the file", world.raw_contribute, self, batch.cid,
                       batch.tree.root, batch.row_count, None)  # fmt: skip
        if sid is not None:
            self.batches[sid] = batch

    def respond(self) -> None:
        world = self.world
        for info in world.pending_challenges():
            batch = self.batches.get(info.submission_id)
            if batch is not None and info.kind == "availability":
                row = info.row_index
                self.act("answer a demand from memory", world.market.answer_challenge, self.account, info.id,
                         batch.rows[row], batch.proof(row))  # fmt: skip


class Echo(Agent):
    """Near-copies of the public training rows, labelled by the current model."""

    kind = "echo"
    honest = False

    def contribute(self) -> None:
        world = self.world
        train, features = world.data.train, world.data.features
        picks = np.sort(self.rng.choice(len(train), size=world.config.rows, replace=False))
        noise = self.rng.normal(0.0, 0.05, size=(len(picks), len(features)))
        frame = (train.iloc[picks][features].to_numpy() + noise).round(3)
        frame = pd.DataFrame(frame, columns=features)
        model = self.session._current_model(world.model_id)
        frame[_LABEL] = np.asarray(model.predict(frame), dtype="int64")
        self.act("contribute model-labelled near-copies", self.session.contribute, world.model_id, frame)


class Mimic(Agent):
    """Looks through many rows for the ones the current model gets wrong and submits them with the model's label."""

    kind = "mimic"
    honest = False
    SEARCH = 10  # rows looked at per row of a batch

    def contribute(self) -> None:
        world = self.world
        size = world.config.onchain_rows if world.onchain else world.config.rows
        found = world.take_rows(self, self.SEARCH * size)
        wrong = _flip(found[~world.model_agrees(self.session, found)]).head(size).reset_index(drop=True)
        if wrong.empty:
            world.log(self, "find rows the model gets wrong", "refused", f"none in {len(found)} rows")
        elif world.onchain:
            for features, label in world.onchain_rows(wrong):
                self.act("contribute a row the model gets wrong, labelled its way", world.market.contribute_row,
                         self.account, world.model_id, features, label)  # fmt: skip
        else:
            self.act("contribute rows the model gets wrong, labelled its way", self.session.contribute,
                     world.model_id, wrong)  # fmt: skip


class FrontRunner(Agent):
    """Copies a contribution seen pending in the mempool (if its file can already be read) and gets in first."""

    kind = "front-runner"
    honest = False

    def front_run(self, pending: dict[str, Any], side: Chain) -> None:
        """Called by :meth:`World.race` with a pending transaction, on a connection of its own."""
        world = self.world
        function, params = world.market.contract.decode_function_input(pending["input"])
        if function.fn_name != "contribute" or params["modelId"] != world.model_id:
            return
        cid = _cid_text(params["dataCid"])
        self.act(f"copy the batch of {cid[:16]}... seen in the mempool", self._copy, cid, params["rowCount"],
                 pending, side)  # fmt: skip

    def _copy(self, cid: str, count: int, pending: dict[str, Any], side: Chain) -> str:
        world = self.world
        _, rows = read_rows(world.storage.cat(cid), world.schema, count)  # refused while the file is not stored
        tree = MerkleTree(rows, key=contributor_key(self.address))
        tip = 2 * int(pending["maxPriorityFeePerGas"], 16) + 1
        contract = side.w3.eth.contract(address=world.market.address, abi=world.market.contract.abi)
        transaction = contract.functions.contribute(world.model_id, cid_to_bytes(cid), tree.root, len(rows))
        transaction = transaction.build_transaction({
            "from": self.address, "value": len(rows) * world.terms.deposit_per_row, "chainId": CHAIN_ID,
            "nonce": side.w3.eth.get_transaction_count(self.address, "pending"), "gas": 600_000,
            "maxPriorityFeePerGas": tip, "maxFeePerGas": int(pending["maxFeePerGas"], 16) + tip,
        })  # fmt: skip
        return "0x" + bytes(side.w3.eth.send_raw_transaction(self.account.sign_transaction(transaction))).hex()

    def attack(self) -> None:
        """Prove that the originals repeat its rows: their deposits burn and their rewards are its."""
        world = self.world
        if not any(s.contributor == self.address for s in world.submissions()):
            return
        for sub in world.open_submissions():
            if world.is_honest(sub.contributor):
                self.act(f"prove submission {sub.id} repeats its rows", self.session.challenge, sub.id)


_AGENT_CLASSES: dict[str, type[Agent]] = {
    cls.kind: cls
    for cls in (
        Contributor,
        Verifier,
        Phantom,
        Copier,
        SelfDealer,
        Copycat,
        ColludingOwner,
        Perceptron,
        Poison,
        AbsurdTerms,
        Griefer,
        Withholder,
        Echo,
        Mimic,
        FrontRunner,
    )
}


# ---------------------------------------------------------------------------------------------------- the world
class _Ledger:
    """Gas paid and value sent by the watched accounts, read from every block mined since the start."""

    def __init__(self, world: World, start_block: int):
        self.world = world
        self.next_block = start_block + 1
        self.watch: dict[str, str] = {}
        self.gas: dict[str, int] = defaultdict(int)
        self.sent: dict[str, int] = defaultdict(int)
        self.transactions: dict[str, int] = defaultdict(int)

    def update(self) -> None:
        w3 = self.world.chain.w3
        latest = w3.eth.block_number
        for number in range(self.next_block, latest + 1):
            for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
                name = self.watch.get(tx["from"].lower())
                if name is None:
                    continue
                receipt = w3.eth.get_transaction_receipt(tx["hash"])
                self.gas[name] += receipt["gasUsed"] * receipt["effectiveGasPrice"]
                self.sent[name] += tx["value"]
                self.transactions[name] += 1
        self.next_block = latest + 1


class World:
    """The shared state of one run: chain, marketplace, storage, the model, the data and the agents."""

    def __init__(self, config: SimulationConfig, session: Session, progress: bool):
        if session.chain.chain_id != CHAIN_ID:
            raise ColearnError(
                "the simulation moves the chain's clock and funds agents from the devnet's accounts: "
                f"it runs on a devnet (chain id {CHAIN_ID}), not on chain {session.chain.chain_id}"
            )
        self.config, self.progress = config, progress
        self.chain, self.devnet = _fast_chain(session.chain)
        self.market, self.storage = Marketplace(self.chain, session.market.address), session.storage
        self.terms = config.terms
        self.onchain = config.uses_onchain
        self.data = _load_data(config)
        self.home = Path(tempfile.mkdtemp(prefix="colearn-simulation-"))
        self.agents: list[Agent] = []
        self.actions: list[dict[str, Any]] = []
        self.records: list[dict[str, Any]] = []
        self.versions: list[dict[str, Any]] = []
        self.round = 0
        self.settling = False
        self.model_id = 0
        self.schema: FeatureSchema
        self.linear_bound = 0
        self._fresh = 0
        self._challenge_cache: dict[int, Challenge] = {}
        self._cached: dict[str, tuple[int, Any]] = {}
        self._actions_taken = 0
        self._challenge_rounds: dict[int, int] = {}
        self._start: dict[str, int] = {}
        self._trained = (-1, -1)
        self.test_hashes: dict[bytes, int] = {}
        self.held_back: dict[str, int] = defaultdict(int)
        self._side: Chain | None = None

    # ------------------------------------------------------------------------------------------------ set-up
    def session_for(self, account: Account) -> Session:
        """A session of its own (its own colearn home: the owner's secrets stay the owner's) on the shared chain."""
        settings = ColearnSettings(home=str(self.home / account.name.replace("/", "-")))
        return Session(account, settings=settings, chain=self.chain, market=self.market, storage=self.storage)

    def build_agents(self) -> None:
        counts = self.config.agents
        plan: list[tuple[str, str]] = [("colluding-owner" if counts.get("colluding-owner") else "owner", "owner")]
        for kind in KINDS:
            if kind != "colluding-owner":
                plan += [(kind, f"{kind}-{i + 1}") for i in range(counts.get(kind, 0))]
        extra = [(f"{name}-partner", name) for kind, name in plan if kind in ("self-dealer", "colluding-owner")]
        accounts = _fresh_accounts(self.chain, [name for _, name in plan] + [name for name, _ in extra])
        by_name = {account.name: account for account in accounts}
        for kind, name in plan:
            cls = Owner if kind == "owner" else _AGENT_CLASSES[kind]
            self.agents.append(cls(self, name, by_name[name]))
        for partner_name, principal_name in extra:
            principal = next(a for a in self.agents if a.name == principal_name)
            cls = SelfDealerPartner if isinstance(principal, SelfDealer) else ColludingPartner
            partner = cls(self, partner_name, by_name[partner_name], coalition=principal.name)
            principal.partner = partner  # type: ignore[attr-defined]
            self.agents.append(partner)
        # contributors act before the adversaries that copy them; verifiers after both (the list order is the turn)
        order = {"owner": 0, "colluding-owner": 0, "contributor": 1, "verifier": 3, "copycat": 4}
        self.agents.sort(key=lambda a: order.get(a.kind, 2))

    @property
    def owner(self) -> Owner:
        return next(a for a in self.agents if isinstance(a, Owner))

    def fund_and_publish(self) -> None:
        from sklearn.linear_model import LogisticRegression

        config, chain = self.config, self.chain
        deployer = chain.account("deployer")
        fund, pool = to_wei(config.fund), to_wei(config.pool)
        for agent in self.agents:
            amount = fund + (pool if isinstance(agent, Owner) else 0)
            if chain.balance(deployer) < amount + 10**17:
                raise ColearnError("the devnet's deployer account cannot fund the agents; `colearn devnet reset`")
            chain.transfer(deployer, agent.account, amount)
        self.ledger = _Ledger(self, chain.w3.eth.block_number)
        self.ledger.watch = {agent.address.lower(): agent.name for agent in self.agents}
        self._start = {agent.name: chain.balance(agent.account) for agent in self.agents}
        data = self.data
        self.estimator = LogisticRegression(max_iter=1000).fit(data.train[data.features], data.train[_LABEL])
        owner = self.owner
        with warnings.catch_warnings():  # every run of a seed has the same name: the model is addressed by its id
            warnings.filterwarnings("ignore", message=r".* already uses? the name", category=UserWarning)
            card = owner.session.publish(
                self.estimator, name=f"simulation (seed {config.seed})", train=data.train, test=data.test,
                label=_LABEL, deposit=config.deposit, reward=config.reward, bond=config.bond, window=config.window,
                timeout=config.timeout or config.window, pool=config.pool, onchain=self.onchain,
                description="an incentive-game simulation (colearn_jupyter.simulation)",
            )  # fmt: skip
        self.model_id = card.id
        self.first_block = chain.w3.eth.block_number
        self.schema = model_metadata(self.market, self.storage, self.model_id).feature_schema
        self.test_hashes = owner.session._test_rows(self.model_id)  # the owner's secret: only its agent uses it
        if self.onchain:
            weights, intercept, _ = self.market.linear_model(self.model_id)
            self.linear_start = (list(weights), intercept)
            self.linear_bound = min(2**40, round(self.schema.max_abs * LINEAR_SCALE))
        self.versions.append({"version": 1, "round": 0, "accuracy": card.accuracy, "clean accuracy": card.accuracy,
                              "rows trained": len(data.train), "adversarial rows trained": 0})  # fmt: skip

    # ------------------------------------------------------------------------------------------------ the run
    def play(self) -> None:
        from tqdm.auto import tqdm

        config = self.config
        phases = ("expire", "settle", "contribute", "attack", "verify", "copy", "respond", "judge")
        with tqdm(total=config.rounds + 1, desc="simulating", disable=not self.progress, leave=False) as bar:
            self.measure()
            for number in range(1, config.rounds + 1):
                self.round = number
                for phase in phases:
                    for agent in list(self.agents):
                        getattr(agent, phase)()
                self.chain.advance_time(config.round_seconds)
                self._actions_taken += 1
                self.measure()
                bar.update()
            self.round, self.settling = config.rounds + 1, True
            for phase in ("expire", "settle", "expire", "settle", "judge"):
                for agent in list(self.agents):
                    getattr(agent, phase)()
            self.measure()
            bar.update()

    def log(self, agent: Agent, action: str, outcome: str, detail: str = "") -> None:
        self._actions_taken += 1  # refused or done, an action may have changed the chain: cached views are stale
        self.actions.append({"round": self.round, "agent": agent.name, "kind": agent.kind, "action": action,
                             "outcome": outcome, "detail": detail})  # fmt: skip

    # ------------------------------------------------------------------------------------------------ helpers
    def race(self, victim: Agent, action: str, call: Callable[..., Any], *args: Any) -> Any:
        """``victim.act(action, call, *args)`` (a contribution), exposed to front-runners when there are any.

        The devnet then mines only on demand: the contribution runs in a thread until its transaction is pending,
        every front-runner sees it (in ``txpool_content``, on a connection of its own) and may send its own
        transaction, and one block mines them all, the highest tip first, as a public mempool would.
        """
        runners = [a for a in self.agents if isinstance(a, FrontRunner)]
        if not runners:
            return victim.act(action, call, *args)
        import threading

        side = self._side_chain()
        outcome: dict[str, Any] = {}
        thread = threading.Thread(target=lambda: outcome.update(result=victim.act(action, call, *args)), daemon=True)
        side.w3.provider.make_request("evm_setAutomine", [False])
        try:
            thread.start()
            pending = self._pending_from(side, victim.address, thread)
            if pending is not None:
                for runner in runners:
                    runner.front_run(pending, side)
                side.w3.provider.make_request("evm_mine", [])
        finally:
            side.w3.provider.make_request("evm_setAutomine", [True])
            thread.join(timeout=180)
        return outcome.get("result")

    def _side_chain(self) -> Chain:
        if self._side is None:
            self._side, _ = _fast_chain(self.chain)
        return self._side

    @staticmethod
    def _pending_from(side: Chain, address: str, thread: Any) -> dict[str, Any] | None:
        """The first transaction of ``address`` waiting in the devnet's mempool (None if it sends none)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pool = side.w3.provider.make_request("txpool_content", [])["result"].get("pending", {})
            for sender, transactions in pool.items():
                if sender.lower() == address.lower() and transactions:
                    return next(iter(transactions.values()))
            if not thread.is_alive():
                return None
            time.sleep(0.002)
        return None

    def take_rows(self, agent: Agent, count: int) -> pd.DataFrame:
        """The next ``count`` correctly labelled rows nobody has used."""
        fresh = self.data.fresh
        if self._fresh + count > len(fresh):
            raise ColearnError(f"the {self.config.dataset} data set has no fresh rows left for {agent.name}; use "
                               "fewer rounds, smaller batches or dataset='synthetic'")  # fmt: skip
        rows = fresh.iloc[self._fresh : self._fresh + count].reset_index(drop=True)
        self._fresh += count
        return rows

    def model_agrees(self, session: Session, frame: pd.DataFrame) -> np.ndarray:
        """Which rows' labels the current model (the owner's judge; on chain, the perceptron) predicts."""
        if self.onchain:
            predicted = [self.market.predict(self.model_id, features) for features, _ in self.onchain_rows(frame)]
        else:
            predicted = _predict(session._current_model(self.model_id), frame[self.data.features], self.schema)
        return np.asarray(predicted) == frame[_LABEL].to_numpy()

    def person_disagrees(self, sub: Submission, index: int, label: Any, check: FileCheck | None = None) -> bool:
        """Whether a person who knows the data would reject row ``index`` of ``sub`` (labelled ``label``): its label
        is not the true one, or it is no real observation (a fabricated row has no true label to check). ``check`` is
        the submission's file check when the caller already made it (one per submission, not one per row)."""
        if sub.on_chain_row:
            features, _ = self.market.row(sub.id)
            key: tuple[Any, ...] = tuple(features)
        else:
            check = check or inspect_submission(self.market, self.storage, sub, self.schema)
            if not check.usable or index >= len(check.rows) or row_fault(self.schema, check.rows[index]):
                return False  # the contract or the owner judges such rows (format, file)
            values = decode_row(self.schema, check.rows[index])
            key = tuple(float(values[f]) for f in self.data.features)
        truth = self.data.truth.get(key)
        return truth is None or truth != int(label)

    def fair_verdict(self, session: Session, info: Challenge) -> bool:
        """The verdict an honest owner gives: a file is upheld when the owner's client cannot use it; a label as a
        person would judge it (``judge="person"``) or as the current model does (``judge="model"``)."""
        if info.kind == "file" or self.config.judge == "model":
            return session.judge(info.id)
        sub = self.submission(info.submission_id)
        if sub.on_chain_row:
            label = self.market.row(sub.id)[1]
        else:
            log = self.market.contract.events.RowChallenged.get_logs(
                argument_filters={"challengeId": info.id}, from_block=self.first_block
            )[0]
            raw = bytes(log["args"]["row"])
            if row_fault(self.schema, raw) != RowFault.NONE:
                return True
            label = decode_row(self.schema, raw)[_LABEL]
        assert info.row_index is not None
        return self.person_disagrees(sub, info.row_index, label)

    def onchain_rows(self, frame: pd.DataFrame) -> list[tuple[list[int], int]]:
        features = self.data.features
        return [(_fixed_point(row[features]), int(row[_LABEL])) for _, row in frame.iterrows()]

    def affordable_rows(self, wanted: int) -> int:
        """At most ``wanted`` rows, as many as one batch may reserve (a quarter of the unallocated pool)."""
        pool = self.market.model(self.model_id).reward_pool
        return max(1, min(wanted, pool // 4 // max(1, self.terms.reward_per_row)))

    def raw_contribute(self, agent: Agent, cid: str, root: bytes, count: int, parquet: bytes | None) -> int:
        """``market.contribute`` directly, bypassing the client's checks; stores ``parquet`` if given."""
        store = (lambda: self.storage.add(parquet)) if parquet is not None else None
        receipt = self.market.contribute(agent.account, self.model_id, cid, root, count, before_send=store)
        return receipt.event("SubmissionAdded").args["submission_id"]

    def contribute_file(self, agent: Agent, frame: pd.DataFrame) -> int:
        """A file of ``frame``'s rows as they are (not validated), committed under the agent's key."""
        parquet = to_parquet(frame, self.schema)
        rows = [encode_row(self.schema, v) for v in frame[self.schema.names].itertuples(index=False, name=None)]
        tree = MerkleTree(rows, key=contributor_key(agent.address))
        return self.raw_contribute(agent, _cid_of(parquet), tree.root, len(rows), parquet)

    def _per_block(self, name: str, read: Callable[[], Any]) -> Any:
        """``read()``, read again only after an action (every change to the chain is one) or a move of the clock."""
        cached = self._cached.get(name)
        if cached is None or cached[0] != self._actions_taken:
            cached = self._cached[name] = (self._actions_taken, read())
        return cached[1]

    def timestamp(self) -> int:
        return self._per_block("timestamp", self.chain.timestamp)

    def submissions(self) -> list[Submission]:
        return self._per_block("submissions", lambda: self.market.all_submissions(self.model_id))

    def submission(self, submission_id: int) -> Submission:
        found = [s for s in self.submissions() if s.id == submission_id]
        return found[0] if found else self.market.submission(submission_id)

    def open_submissions(self) -> list[Submission]:
        """Submissions still in their window, not settled."""
        now = self.timestamp()
        return [s for s in self.submissions() if not s.settled and s.window_ends_at > now]

    def is_honest(self, address: str) -> bool:
        return any(a.address == address and a.honest for a in self.agents)

    def challenges(self, since_round: int | None = None) -> list[Challenge]:
        """Every challenge of the model's rows (statuses read fresh unless final)."""
        every = self._per_block("challenges", self._read_challenges)
        return [c for c in every if since_round is None or self._challenge_rounds[c.id] >= since_round]

    def _read_challenges(self) -> list[Challenge]:
        logs = self.market.contract.events.RowChallenged.get_logs(argument_filters={"modelId": self.model_id},
                                                                  from_block=self.first_block)  # fmt: skip
        out = []
        for log in logs:
            cid = log["args"]["challengeId"]
            self._challenge_rounds.setdefault(cid, self.round)
            out.append(self.challenge(cid))
        return out

    def challenge(self, challenge_id: int) -> Challenge:
        cached = self._challenge_cache.get(challenge_id)
        if cached is not None:
            return cached
        info = self.market.challenge_info(challenge_id)
        if info.status != "pending":
            self._challenge_cache[challenge_id] = info
        return info

    def challenge_table(self) -> pd.DataFrame:
        names = {agent.address: agent.name for agent in self.agents}
        records = [{"challenge": c.id, "round": self._challenge_rounds[c.id], "submission": c.submission_id,
                    "row": c.row_index, "kind": c.kind, "status": c.status,
                    "challenger": names.get(c.challenger, c.challenger),
                    "contributor": names.get(self.submission(c.submission_id).contributor, "")}
                   for c in self.challenges()]  # fmt: skip
        columns = ["challenge", "round", "submission", "row", "kind", "status", "challenger", "contributor"]
        return pd.DataFrame.from_records(records, columns=columns)

    def pending_challenges(self) -> list[Challenge]:
        return [c for c in self.challenges() if c.status == "pending"]

    def has_pending(self, submission_id: int, kind: str) -> bool:
        return any(c.submission_id == submission_id and c.kind == kind for c in self.pending_challenges())

    def claimable(self, agent: Agent) -> list[Submission]:
        """The agent's submissions it can claim now and that pay something (a claim of no row only costs gas)."""
        now = self.timestamp()
        return [s for s in self.submissions() if s.contributor == agent.address and not s.settled
                and s.window_ends_at <= now and not s.open_challenges and s.rows_rejected < s.row_count]  # fmt: skip

    # ------------------------------------------------------------------------------------------------ the owner's model
    def retrain(self) -> None:
        """The owner's scheduled retrain, when rows were accepted since the last one; records the version."""
        info = self.market.model(self.model_id)
        updates = self.market.linear_model(self.model_id)[2] if self.onchain else 0
        if (info.rows_accepted, updates) == self._trained or info.rows_accepted == 0:
            return
        self._trained = (info.rows_accepted, updates)
        owner = self.owner
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            card = owner.act("retrain and publish a version", owner.session.retrain, self.model_id)
        for warning in caught:
            self.log(owner, "retrain", "warning", str(warning.message))
        if card is None:
            return
        if self.onchain:  # the perceptron saw every accepted on-chain row (and learned from those it got wrong)
            trained = self.market.model(self.model_id).rows_accepted
        else:
            evaluation = self.market.versions(self.model_id)[-1].evaluation_cid
            trained = json.loads(self.storage.cat(evaluation)).get("trained_on_rows", 0) if evaluation else 0
        clean, adversarial = self._clean_accuracy(card.accuracy)
        clean = round(clean * 10_000) / 10_000  # in basis points, as the chain records accuracies
        self.versions.append({"version": card.version, "round": self.round, "accuracy": card.accuracy,
                              "clean accuracy": clean, "rows trained": trained,
                              "adversarial rows trained": adversarial})  # fmt: skip

    def _clean_accuracy(self, accuracy: float) -> tuple[float, int]:
        """The accuracy of the same retrain without the adversaries' rows, and how many of them it used."""
        suspects = [s for s in self.submissions() if s.claimed and s.rows_rejected < s.row_count
                    and not self.is_honest(s.contributor)]  # fmt: skip
        if not suspects:
            return accuracy, 0
        if self.onchain:
            return self._clean_perceptron(accuracy)
        owner, model_id, schema = self.owner.session, self.model_id, self.schema
        clean = [owner._training_frame(model_id)]
        adversarial = 0
        with warnings.catch_warnings():  # a file left out: the retrain itself has just said so
            warnings.simplefilter("ignore", UserWarning)
            accepted = owner.accepted_rows(model_id)  # the selection of Session.retrain, told apart by contributor
        for sub, rows in accepted:
            if self.is_honest(sub.contributor):
                clean.append(rows)
            else:
                adversarial += len(rows)
        if not adversarial:
            return accuracy, 0
        data = pd.concat(clean, ignore_index=True).astype({_LABEL: "int64"})
        model = _fit(self.estimator, data, schema)
        return _accuracy(model, self.data.test, schema), adversarial

    def _clean_perceptron(self, accuracy: float) -> tuple[float, int]:
        """Replays the perceptron's learning (as the contract does) on the accepted honest on-chain rows only."""
        weights, intercept = list(self.linear_start[0]), self.linear_start[1]
        claims = self.market.contract.events.SubmissionClaimed.get_logs(
            argument_filters={"modelId": self.model_id}, from_block=self.first_block
        )
        adversarial = 0
        for log in claims:
            sub = self.submission(log["args"]["submissionId"])
            if not sub.on_chain_row or log["args"]["rowsAccepted"] != 1:
                continue
            if not self.is_honest(sub.contributor):
                adversarial += 1
                continue
            features, label = self.market.row(sub.id)
            score = intercept * LINEAR_SCALE + sum(w * x for w, x in zip(weights, features, strict=True))
            if (1 if score >= 0 else 0) != label:
                step = 1 if label == 1 else -1
                weights = [_saturate(w + step * x) for w, x in zip(weights, features, strict=True)]
                intercept = _saturate(intercept + step * LINEAR_SCALE)
        if not adversarial:
            return accuracy, 0
        model = LinearModel.from_onchain(weights, intercept, features=self.data.features, classes=[0, 1])
        return _accuracy(model, self.data.test, self.schema), adversarial

    # ------------------------------------------------------------------------------------------------ measurement
    def measure(self) -> None:
        """One record per agent: balance, gas, stake, rows and challenges, and the model's accuracy."""
        self.ledger.update()
        chain, market = self.chain, self.market
        pool = market.model(self.model_id).reward_pool
        subs, challenges = self.submissions(), self.challenges()
        version = self.versions[-1]
        stamp = pd.Timestamp(chain.timestamp(), unit="s", tz="UTC")
        refused = defaultdict(int)
        for action in self.actions:
            refused[action["agent"]] += action["outcome"] == "refused"
        for agent in self.agents:
            owner_pool = pool if isinstance(agent, Owner) else 0
            value = chain.balance(agent.account) + market.credit_of(agent.address) + owner_pool
            start, gas = self._start[agent.name], self.ledger.gas[agent.name]
            mine = [s for s in subs if s.contributor == agent.address]
            raised = [c for c in challenges if c.challenger == agent.address]
            staked = sum((s.row_count - s.rows_rejected) * s.deposit_per_row for s in mine if not s.settled)
            staked += sum(c.bond for c in raised if c.status == "pending")
            self.records.append({
                "round": self.round,
                "hours": self.round * self.config.round_seconds / 3600,
                "time": stamp,
                "agent": agent.name,
                "kind": agent.kind,
                "honest": agent.honest,
                "coalition": agent.coalition,
                "balance (ETH)": value / _ETH,
                "start (ETH)": start / _ETH,
                "change (ETH)": (value - start) / _ETH,
                "gas (ETH)": gas / _ETH,
                "change excluding gas (ETH)": (value - start + gas) / _ETH,
                "at risk (ETH)": (self.ledger.sent[agent.name] + gas) / _ETH,
                "staked (ETH)": staked / _ETH,
                "transactions": self.ledger.transactions[agent.name],
                "rows submitted": sum(s.row_count for s in mine),
                "rows accepted": sum(s.row_count - s.rows_rejected for s in mine if s.claimed),
                "rows rejected": sum(s.rows_rejected for s in mine),
                "rows pending": sum(s.row_count - s.rows_rejected for s in mine if not s.settled),
                "rows held back": self.held_back[agent.name],
                "challenges": len(raised),
                "challenges upheld": sum(c.status == "upheld" for c in raised),
                "challenges lost": sum(c.status == "rejected" for c in raised),
                "refused": refused[agent.name],
                "version": version["version"],
                "accuracy": version["accuracy"],
                "clean accuracy": version["clean accuracy"],
                "adversarial rows trained": version["adversarial rows trained"],
            })  # fmt: skip


def _fast_chain(chain: Chain) -> tuple[Chain, Devnet | None]:
    """A second connection to the same chain for the agents, which does not save the devnet's state after each of
    their transactions (the run saves it once at the end; the caller's connection is left as it is)."""
    fast = Chain(chain.settings)
    _ = fast.w3  # connected now, restarting the devnet if it went away (the provider keeps doing so)
    devnet, fast.devnet = fast.devnet, None
    provider = fast.w3.provider
    if hasattr(provider, "cache_allowed_requests"):
        provider.cache_allowed_requests = True  # the chain id never changes: one eth_chainId, not one per call
    return fast, devnet


def _fresh_accounts(chain: Any, names: list[str]) -> list[Account]:
    """Accounts of the devnet's mnemonic never used on this chain, one per name (a counter in the home skips used
    ones quickly; each is checked to have no transaction and no balance)."""
    from filelock import FileLock

    path = chain.home / "simulation-accounts.json"
    with FileLock(str(path) + ".lock", timeout=60):
        try:
            counters = json.loads(path.read_text())
        except (OSError, ValueError):
            counters = {}
        key = _deployment_key(chain)
        index = max(int(counters.get(key, 1000)), 1000)
        accounts: list[Account] = []
        for name in names:
            while True:
                account = devnet_extra_account(index, name)
                index += 1
                if not chain.w3.eth.get_transaction_count(account.address) and not chain.balance(account):
                    accounts.append(account)
                    break
        counters[key] = index
        path.write_text(json.dumps(counters))
    return accounts


# ---------------------------------------------------------------------------------------------------- results
@dataclass
class SimulationResult:
    """What a run produced: the tidy :attr:`frame`, the model's :attr:`versions`, every agent's :attr:`actions` and
    every :attr:`challenges` (round, kind, status, challenger and contributor by agent name)."""

    config: SimulationConfig
    model_id: int
    frame: pd.DataFrame
    versions: pd.DataFrame
    actions: pd.DataFrame
    challenges: pd.DataFrame
    reward_per_row: int

    def final(self) -> pd.DataFrame:
        """The last record of every agent (after the settlement)."""
        return self.frame[self.frame["round"] == self.frame["round"].max()].set_index("agent")

    def summary(self) -> pd.DataFrame:
        """One line per agent: start, end, change, gas, at risk, share recovered, rows and the verdict."""
        final = self.final()
        out = final[
            [
                "kind",
                "honest",
                "coalition",
                "start (ETH)",
                "balance (ETH)",
                "change (ETH)",
                "gas (ETH)",
                "at risk (ETH)",
                "rows submitted",
                "rows accepted",
                "rows rejected",
                "rows held back",
                "challenges",
                "challenges upheld",
                "challenges lost",
                "refused",
            ]
        ].rename(columns={"balance (ETH)": "end (ETH)"})
        out.insert(8, "recovered", _recovered(final["change (ETH)"], final["at risk (ETH)"]))
        verdicts = self._verdicts()
        out["verdict"] = [verdicts.get(name, "") for name in out.index]
        return out

    def coalitions(self) -> pd.DataFrame:
        """Agents acting together (an adversary and its second account) summed."""
        final = self.final()
        grouped = final.groupby("coalition", sort=False)
        out = grouped[["start (ETH)", "balance (ETH)", "change (ETH)", "gas (ETH)", "at risk (ETH)"]].sum()
        out = out.rename(columns={"balance (ETH)": "end (ETH)"})
        out.insert(0, "kinds", grouped["kind"].agg(lambda kinds: " + ".join(kinds)))
        out.insert(1, "honest", grouped["honest"].all())
        out["recovered"] = _recovered(out["change (ETH)"], out["at risk (ETH)"])
        out["transactions"] = grouped["transactions"].sum()
        out["refused"] = grouped["refused"].sum()
        return out

    def _verdicts(self) -> dict[str, str]:
        verdicts = {}
        coalitions = self.coalitions()
        final = self.final()
        for name, row in final.iterrows():
            if row["kind"] in ("owner",):
                verdicts[name] = "ok" if self._owner_ok(row) else "overpaid"
            elif row["honest"]:
                verdicts[name] = "ok" if row["change (ETH)"] >= 0 else "lost"
            else:
                group = coalitions.loc[row["coalition"]]
                if group["change (ETH)"] == 0 and group["transactions"] == 0:
                    verdicts[name] = "zero impact (refused)"  # every attempt refused before any transaction
                elif row["kind"] == "absurd-terms":
                    verdicts[name] = "had an impact"
                elif group["change (ETH)"] >= 0:
                    verdicts[name] = "PROFITS"
                else:
                    verdicts[name] = "loses" + (" (<10% recovered)" if group["recovered"] < 0.1 else "")
        return verdicts

    def owner_budget(self) -> int:
        """Wei the terms let the owner's pool pay: a reward per row submitted, and at most as much per label or file
        challenge (the fee the challenger earns for asking the owner's judgement)."""
        submitted = int(self.final()["rows submitted"].sum())
        judged = int(self.challenges["kind"].isin(OWNER_JUDGED).sum()) if not self.challenges.empty else 0
        return (submitted + judged) * self.reward_per_row

    def _owner_ok(self, row: pd.Series) -> bool:
        return row["change excluding gas (ETH)"] * _ETH + self.owner_budget() >= -1e3  # float rounding

    @property
    def dishonest_owner(self) -> bool:
        return bool((self.frame["kind"] == "colluding-owner").any())

    def violations(self) -> list[str]:
        """Every acceptance criterion that does not hold (see the module's documentation); empty when all hold."""
        out = []
        verdicts = self._verdicts()
        final = self.final()
        for name, verdict in verdicts.items():
            row = final.loc[name]
            change = f"{row['change (ETH)']:+.6f} ETH"
            if verdict == "PROFITS":
                out.append(
                    f"adversary {name} ({row['kind']}, coalition {row['coalition']}) ends at or above its "
                    f"start: {self.coalitions().loc[row['coalition'], 'change (ETH)']:+.6f} ETH"
                )
            elif verdict == "had an impact":  # publishing with absurd terms must be refused before anything moves
                out.append(f"{name} ({row['kind']}) had an impact: {change}, {row['transactions']} transactions")
            elif verdict == "lost":
                out.append(f"honest {name} ({row['kind']}) ends below its start: {change}")
            elif verdict == "overpaid":
                budget = self.owner_budget() / _ETH
                out.append(
                    f"the owner paid more than the terms say ({budget:.6f} ETH) for rows and judgements: {change}"
                )
        if not self.dishonest_owner:
            for _, version in self.versions.iterrows():
                if version["accuracy"] < version["clean accuracy"] - 1e-9:
                    out.append(f"version {version['version']} has accuracy {version['accuracy']:.4f}, below the "
                               f"{version['clean accuracy']:.4f} it has without the adversaries' "
                               f"{version['adversarial rows trained']} rows")  # fmt: skip
        return out

    def figures(self) -> dict[str, Any]:
        """Plotly figures: ``balances`` (each agent's change over simulated time) and ``accuracy`` (per version)."""
        import plotly.graph_objects as go

        from .plots import _LAYOUT, Figure, percent_axis, version_axis

        balances = Figure()  # plotly's JSON and a table of the values, never plotly.js in the notebook
        for name, rows in self.frame.groupby("agent", sort=False):
            honest = bool(rows["honest"].iloc[0])
            balances.add_trace(go.Scatter(
                x=rows["hours"], y=rows["change (ETH)"], mode="lines+markers", name=f"{name}",
                line={"dash": "solid" if honest else "dot"},
                customdata=rows[["kind", "at risk (ETH)", "rows accepted", "rows rejected"]],
                hovertemplate="%{customdata[0]}: %{y:+.4f} ETH<br>at risk %{customdata[1]:.4f} ETH<br>"
                              "rows accepted %{customdata[2]}, rejected %{customdata[3]}<extra>" + str(name)
                              + "</extra>",
            ))  # fmt: skip
        balances.update_layout(title="Balance change of each agent (honest solid, adversaries dotted)",
                               yaxis_title="ETH since the start", xaxis_title="simulated hours", **_LAYOUT)  # fmt: skip
        accuracy = Figure()
        versions = self.versions
        for column, dash in (("accuracy", "solid"), ("clean accuracy", "dot")):
            accuracy.add_trace(go.Scatter(
                x=versions["version"], y=versions[column], mode="lines+markers", name=column, line={"dash": dash},
                customdata=versions[["round", "rows trained", "adversarial rows trained"]],
                hovertemplate="%{y:.1%} after round %{customdata[0]}<br>%{customdata[1]} rows trained, "
                              "%{customdata[2]} of them an adversary's<extra></extra>",
            ))  # fmt: skip
        shares = [*versions["accuracy"], *versions["clean accuracy"]]
        accuracy.update_layout(title="Accuracy on the hidden test set per version (clean: without adversaries' rows)",
                               yaxis={**percent_axis(shares), "title": "accuracy"},
                               xaxis={**version_axis(list(versions["version"])), "title": "version"},
                               **_LAYOUT)  # fmt: skip
        return {"balances": balances, "accuracy": accuracy}

    def report(self) -> str:
        """A plain-text report: the agents, the coalitions, the versions and the criteria."""
        pd_options = {"display.width": 200, "display.max_columns": 30, "display.float_format": "{:.6f}".format}
        with pd.option_context(*[item for pair in pd_options.items() for item in pair]):
            parts = [
                f"model {self.model_id}: {self.config.rounds} rounds, seed {self.config.seed}, agents "
                + ", ".join(f"{k}={v}" for k, v in self.config.agents.items()),
                self.summary().to_string(),
                self.coalitions().to_string(),
                self.versions.to_string(index=False),
            ]
            violations = self.violations()
            parts.append("every criterion holds" if not violations else "criteria violated:\n- " + "\n- ".join(
                violations))  # fmt: skip
        return "\n\n".join(parts)

    def _repr_html_(self) -> str:
        violations = self.violations()
        verdict = "every criterion holds" if not violations else "<br>".join(map(htmlsafe.text, violations))
        return f"<div><b>Simulation</b> of model {self.model_id}: {verdict}</div>" + htmlsafe.frame(self.summary())


def _recovered(change: pd.Series, at_risk: pd.Series) -> pd.Series:
    """Share of what was put at risk that came back (1 + change / at risk); NaN when nothing was at risk."""
    risk = at_risk.where(at_risk > 0)
    return 1 + change / risk


# ---------------------------------------------------------------------------------------------------- entry points
def run(config: SimulationConfig | None = None, *, session: Session | None = None, progress: bool = True
        ) -> SimulationResult:  # fmt: skip
    """Run a simulation on the devnet ``session`` is connected to (:meth:`Session.connect` by default)."""
    config = config or SimulationConfig()
    session = session or Session.connect("owner")
    world = World(config, session, progress)
    try:
        world.build_agents()
        world.fund_and_publish()
        world.play()
    finally:
        shutil.rmtree(world.home, ignore_errors=True)
        if world.devnet is not None:
            world.devnet.sync()
    return SimulationResult(
        config=config,
        model_id=world.model_id,
        frame=pd.DataFrame.from_records(world.records),
        versions=pd.DataFrame.from_records(world.versions),
        actions=pd.DataFrame.from_records(
            world.actions, columns=["round", "agent", "kind", "action", "outcome", "detail"]
        ),
        challenges=world.challenge_table(),
        reward_per_row=world.terms.reward_per_row,
    )


def sweep(
    settings: Mapping[str, Mapping[str, str]],
    config: SimulationConfig | None = None,
    *,
    session: Session | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """The same game under other terms: one :func:`run` of ``config`` per setting (a name and the terms it changes,
    e.g. ``{"thin": {"deposit": "0.0025", "bond": "0.001"}}``), same agents and seed.

    One line per setting and coalition (an adversary with its second account counted as one): the terms, the
    coalition's ``kinds``, whether it is ``honest``, its ``change (ETH)`` (gas counted), ``at risk (ETH)``,
    ``recovered`` and the ``verdict`` of :meth:`SimulationResult.summary`. :func:`sweep_figure` draws it.

    >>> frame = sweep({"thin": {"deposit": "0.0025", "bond": "0.001"}, "heavy": {"deposit": "0.05"}},
    ...               SimulationConfig(agents={"contributor": 1, "verifier": 1, "griefer": 1}))  # doctest: +SKIP
    >>> frame.pivot(index="kinds", columns="setting", values="change (ETH)")                     # doctest: +SKIP
    """
    import dataclasses

    from tqdm.auto import tqdm

    config = config or SimulationConfig()
    session = session or Session.connect("owner")
    frames = []
    for name, changes in tqdm(settings.items(), desc="settings", disable=not progress, leave=False):
        result = run(dataclasses.replace(config, **changes), session=session, progress=progress)
        verdicts = result.summary()["verdict"]
        table = result.coalitions().reset_index()
        terms = result.config
        table.insert(0, "setting", name)
        table.insert(1, "deposit", terms.deposit)
        table.insert(2, "reward", terms.reward)
        table.insert(3, "bond", terms.bond)
        table["verdict"] = [verdicts.get(coalition, "") for coalition in table["coalition"]]
        frames.append(table)
    columns = ["setting", "deposit", "reward", "bond", "coalition", "kinds", "honest", "change (ETH)", "gas (ETH)",
               "at risk (ETH)", "recovered", "transactions", "refused", "verdict"]  # fmt: skip
    return pd.concat(frames, ignore_index=True)[columns]


def sweep_figure(frame: pd.DataFrame, *, title: str = "Who wins under which terms: each coalition's change") -> Any:
    """Grouped bars of a :func:`sweep`: each coalition's change (ETH, gas counted) under every setting.

    >>> sweep_figure(sweep({"thin": {"deposit": "0.0025"}, "heavy": {"deposit": "0.05"}}))  # doctest: +SKIP
    """
    import plotly.graph_objects as go

    from .plots import _LAYOUT, Figure

    summary = frame.pivot_table(index="coalition", columns="setting", values="change (ETH)", sort=False)
    figure = Figure(summary=summary.map(lambda value: f"{value:+.4f} ETH").reset_index())
    for setting, rows in frame.groupby("setting", sort=False):
        terms = f"deposit {rows['deposit'].iloc[0]}, reward {rows['reward'].iloc[0]}, bond {rows['bond'].iloc[0]}"
        hover = "%{customdata[0]}: %{y:+.4f} ETH, %{customdata[1]}<extra></extra>"
        figure.add_trace(go.Bar(x=rows["coalition"], y=rows["change (ETH)"], name=f"{setting} ({terms})",
                                customdata=rows[["kinds", "verdict"]], hovertemplate=hover))  # fmt: skip
    layout = {**_LAYOUT, "hovermode": "closest"}
    figure.update_layout(title=title, barmode="group", yaxis_title="ETH since the start (gas counted)",
                         xaxis={"title": "coalition", "type": "category"}, **layout)  # fmt: skip
    return figure


# ---------------------------------------------------------------------------------------------------- arguments
def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The simulation's options, shared by ``colearn simulate`` and ``%colearn simulate``."""
    defaults = SimulationConfig.__dataclass_fields__
    parser.add_argument("agents", nargs="*", metavar="KIND=N",
                        help="agents by kind, added to 2 contributors and 1 verifier (e.g. phantom=1 copier=2); "
                             f"kinds: {', '.join(KINDS)}; none given: "
                             + " ".join(f"{k}={v}" for k, v in DEFAULT_AGENTS.items()))  # fmt: skip
    for name, helptext in (("deposit", "ETH per row"), ("reward", "ETH per row"), ("bond", "ETH per challenge"),
                           ("pool", "ETH in the reward pool"), ("fund", "ETH given to each agent")):  # fmt: skip
        parser.add_argument(f"--{name}", default=defaults[name].default, help=f"{helptext} (%(default)s)")
    parser.add_argument("--window", default=defaults["window"].default, help="challenge window (%(default)s)")
    parser.add_argument("--timeout", default="", help="owner's time-out (default: the window)")
    integers = {
        "rounds": "rounds to play",
        "rows": "rows per batch",
        "onchain-rows": "on-chain rows per contributor and round",
        "retrain-every": "rounds between the owner's retrains",
        "seed": "random seed",
    }
    for name, helptext in integers.items():
        key = name.replace("-", "_")
        parser.add_argument(f"--{name}", type=int, default=defaults[key].default, help=f"{helptext} (%(default)s)")
    parser.add_argument("--dataset", choices=DATASETS, default=defaults["dataset"].default,
                        help="bundled data set (%(default)s)")  # fmt: skip
    parser.add_argument("--judge", choices=JUDGES, default=defaults["judge"].default,
                        help="who judges labels: a person who knows the data, or the model (%(default)s)")  # fmt: skip
    parser.add_argument(
        "--onchain",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="give the model an on-chain perceptron (default: when a perceptron attacker plays)",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> SimulationConfig:
    """A :class:`SimulationConfig` from parsed :func:`add_arguments` options."""
    if args.agents:
        agents = {"contributor": 2, "verifier": 1}
        for token in args.agents:
            kind, _, count = token.partition("=")
            try:
                agents[kind.strip()] = int(count) if count else 1
            except ValueError:
                raise ColearnError(f"{token!r} is not KIND=N (N a whole number)") from None
    else:
        agents = dict(DEFAULT_AGENTS)
    return SimulationConfig(agents=agents, deposit=args.deposit, reward=args.reward, bond=args.bond, window=args.window,
                            timeout=args.timeout, pool=args.pool, rounds=args.rounds, rows=args.rows,
                            onchain_rows=args.onchain_rows, retrain_every=args.retrain_every, seed=args.seed,
                            dataset=args.dataset, onchain=args.onchain, fund=args.fund,
                            judge=getattr(args, "judge", "person"))  # fmt: skip


class _MagicParser(argparse.ArgumentParser):
    """Raises instead of printing and exiting: the usage or help text travels in the :class:`ColearnError`."""

    def print_help(self, file: Any = None) -> None:
        pass

    def error(self, message: str) -> NoReturn:
        raise ColearnError(f"{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise ColearnError(message.strip() if message else self.format_help())


def simulate_magic_args(line: str) -> SimulationConfig:
    """The configuration of a ``%colearn simulate`` line, e.g. ``"phantom=1 copier=1 --rounds 4 --seed 7"``.

    Raises :class:`ColearnError` with the usage for a line it cannot read (and the help text for ``-h``).

    >>> config = simulate_magic_args("phantom=1 --rounds 4 --seed 7")
    >>> config.agents, config.rounds, config.seed
    ({'contributor': 2, 'verifier': 1, 'phantom': 1}, 4, 7)
    """
    parser = add_arguments(_MagicParser(prog="%colearn simulate", add_help=True,
                                        description="Simulate the incentive game on the devnet."))  # fmt: skip
    return config_from_args(parser.parse_args(shlex.split(line, comments=True)))
