"""A model grows with contributions over simulated days, through the real contracts and the core API.

:func:`grow` is the paper's experiment on the devnet a :class:`~colearn_jupyter.session.Session` is connected to:
the owner publishes a model trained on a base set, with a hidden test set; then, every simulated day,

1. each contributor offers that day's share of its rows (:meth:`Session.contribute`, paying a deposit per row; a
   copier's rows, which the client refuses, go straight to the contract as a stranger's client would send them);
2. a verifier checks every new batch (:meth:`Session.verify`) and challenges the copies it finds (proven to the
   contract, judged at once) and the rows whose label it knows to be wrong (judged by the owner);
3. the owner judges those labels as a person who knows the true label (not by its model's opinion);
4. the challenge window passes (the devnet's clock moves: time travel), and everyone claims: a contributor gets
   deposit and reward back for every row not rejected, the deposits of rejected rows are burned;
5. the owner retrains on the base set plus every accepted row and publishes the new version with its accuracy on
   the hidden test set (:meth:`Session.retrain`).

:attr:`Growth.versions` has one line per version (day, rows trained on, rows offered, accepted and rejected so far,
accuracy); :attr:`Growth.contributors` one line per contributor (rows offered, accepted, rejected, ETH gained or
lost); :func:`figure` draws the accuracy per day beside the paper's start and end.

>>> from colearn_jupyter import Session                                                       # doctest: +SKIP
>>> from colearn_jupyter.experiments import data
>>> split = data.text_split(base=1000, test=1000, fresh=600)
>>> plan = [Contributor("alice", split.fresh.iloc[:300]), Contributor("bob", split.fresh.iloc[300:])]
>>> result = grow(Session("owner"), data.text_classifier(), split, plan, days=3)           # doctest: +SKIP
>>> result.versions[["day", "rows trained", "accuracy"]]                                    # doctest: +SKIP
>>> figure(result, paper=PAPER["text"])                                                     # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import plots
from ..contributions import inspect_submission, model_metadata
from ..formats.data import encode_row, to_parquet
from ..merkle import MerkleTree, contributor_key
from ..session import Session
from ..storage.unixfs import FileBuilder
from ..units import parse_duration
from .data import Split, truth_of

__all__ = ["KINDS", "PAPER", "Contributor", "Growth", "PaperFigures", "compare", "figure", "grow"]

#: What a contributor does with its rows: ``honest`` offers them as they are; ``mislabelled`` offers them with
#: wrong labels (make them with :func:`~.data.mislabelled`); ``copier`` offers rows the model already has (make
#: them with :func:`~.data.copies`), sent past the client's refusal.
KINDS = ("honest", "mislabelled", "copier")


@dataclass(frozen=True)
class PaperFigures:
    """What the paper reports for one experiment: data set size and test accuracy, before and after, and days."""

    rows_before: int
    rows_after: int
    accuracy_before: float
    accuracy_after: float
    days: int
    contributors: int
    model: str


#: The paper's figures: the IMDB sentiment model (text, its Fig. 9 and 12) and hot dog / not hot dog (images, its
#: Fig. 10 and 12). The image experiment's days and contributors are not given: six days and two contributors, as
#: for the text, are assumed for drawing and comparing it.
PAPER = {
    "text": PaperFigures(25_000, 25_500, 0.78, 0.829, 6, 2, "IMDB sentiment (Keras, on chain)"),
    "image": PaperFigures(1_000, 1_100, 0.59, 0.63, 6, 2, "hot dog / not hot dog (Keras)"),
}


@dataclass(frozen=True)
class Contributor:
    """One contributor of the plan: a devnet account ``name``, the ``rows`` it offers over the days (split evenly,
    in order) and its ``kind`` (see :data:`KINDS`)."""

    name: str
    rows: pd.DataFrame = field(repr=False)
    kind: str = "honest"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown contributor kind {self.kind!r}; use one of {', '.join(KINDS)}")


@dataclass
class Growth:
    """What :func:`grow` produced: the model's id, one line per version and one per contributor, and the time the
    run took (``seconds``)."""

    model_id: int
    versions: pd.DataFrame
    contributors: pd.DataFrame
    seconds: float

    @property
    def gain(self) -> float:
        """Accuracy of the last version minus that of the first."""
        return float(self.versions["accuracy"].iloc[-1] - self.versions["accuracy"].iloc[0])


def grow(
    session: Session,
    estimator: Any,
    split: Split,
    contributors: Sequence[Contributor],
    *,
    days: int = 3,
    verifier: str = "verifier",
    name: str = "grows with contributions",
    truth: Callable[[pd.DataFrame], np.ndarray] | None = None,
    deposit: str = "0.01",
    reward: str = "0.002",
    window: str = "1h",
    seed: int = 0,
) -> Growth:
    """Publish ``estimator`` trained on ``split.base`` as ``session``'s account (the owner), then run ``days`` days
    of contributions by ``contributors``, checked by ``verifier``; a new version is published every day.

    ``truth`` is the person who judges labels (default: :func:`~.data.truth_of` the split). Needs a devnet (the
    window passes by moving its clock). A Keras estimator is fitted with seed ``seed`` every day.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    started = time.monotonic()
    truth = truth or truth_of(split)
    owner = session
    checker = session.as_account(verifier)
    people = {c.name: session.as_account(c.name) for c in contributors}
    accounts = [owner, checker, *people.values()]
    balances = {s.account.name: s.chain.balance(s.account) for s in accounts}

    with _keras_fitting(estimator, seed):
        model = _fit(estimator, split)
    card = owner.publish(
        model, name=_unique_name(owner, name), train=split.base, test=split.test, label=split.label,
        deposit=deposit, reward=reward, window=window, timeout=window, pool="5",
        description="colearn_jupyter.experiments.growth: the paper's experiment on the devnet",
    )  # fmt: skip
    model_id = card.id
    shares = {c.name: np.array_split(np.arange(len(c.rows)), days) for c in contributors}
    offered = {c.name: 0 for c in contributors}
    records = [_record(owner, model_id, 0, offered)]
    submissions: dict[int, str] = {}
    for day in range(1, days + 1):
        today = []
        for contributor in contributors:
            rows = contributor.rows.iloc[shares[contributor.name][day - 1]].reset_index(drop=True)
            if rows.empty:
                continue
            who = people[contributor.name]
            if contributor.kind == "copier":
                submission_id = _contribute_unchecked(who, model_id, rows)
            else:
                submission_id = who.contribute(model_id, rows).id
            submissions[submission_id] = contributor.name
            offered[contributor.name] += len(rows)
            today.append(submission_id)
        for submission_id in today:
            _check(checker, submission_id, truth)
        _judge(owner, model_id, truth, split)
        owner.advance_time(parse_duration(window) + 1)
        for submission_id in today:  # each its own batch (claim() alone would look through all its submissions)
            people[submissions[submission_id]].claim(submission_id)
        with _keras_fitting(estimator, seed):
            owner.retrain(model_id)
        records.append(_record(owner, model_id, day, offered))
    checker.claim()  # the verifier's bonds and fees, withdrawn
    versions = pd.DataFrame.from_records(records).set_index("version")
    people_frame = _contributors(owner, model_id, contributors, submissions, offered, balances, accounts)
    return Growth(model_id, versions, people_frame, time.monotonic() - started)


# ---------------------------------------------------------------------------------------------------- the roles
def _check(checker: Session, submission_id: int, truth: Callable[[pd.DataFrame], np.ndarray]) -> list[int]:
    """The verifier: challenges the copies and other objective faults :meth:`Session.verify` finds, and the rows
    whose label it knows to be wrong (not the ones the model merely doubts). Returns the challenges made."""
    report = checker.verify(submission_id)
    rows = [row for row, kind in report.plan if row is not None and kind != "label"]
    if any(row is None for row, _ in report.plan):
        rows = [None]  # the file itself is missing or does not match: the whole file is challenged
    elif not report.rows.empty:
        submission = checker.market.submission(submission_id)
        schema = model_metadata(checker.market, checker.storage, submission.model_id).feature_schema
        check = inspect_submission(checker.market, checker.storage, submission, schema)
        if check.frame is not None:
            true = truth(check.frame)
            label = check.frame[schema.label.name].to_numpy()
            free = report.rows["verdict"].isin(["ok", "suspicious"]).to_numpy()
            for position in range(len(label)):
                if free[position] and true[position] is not None and true[position] != label[position]:
                    if position not in rows:
                        rows.append(position)
    return checker.challenge(submission_id, sorted(rows, key=lambda r: -1 if r is None else r)) if rows else []


def _judge(owner: Session, model_id: int, truth: Callable[[pd.DataFrame], np.ndarray], split: Split) -> None:
    """The owner as a person: upholds a label challenge when the row's label is not its true label."""
    queue = owner.challenges(model_id)
    for challenge_id, row in queue.iterrows():
        if row["kind"] == "file":
            owner.resolve(int(challenge_id))  # its client fetches the file and checks it
        elif row["kind"] == "label":
            values = pd.DataFrame([row[[*split.features, split.label]]])
            true = truth(values)[0]
            owner.resolve(int(challenge_id), upheld=true is not None and true != row[split.label])


def _contribute_unchecked(who: Session, model_id: int, frame: pd.DataFrame) -> int:
    """A batch sent to the contract as it is, past the client's checks (as a stranger's own client could): the
    rows committed under ``who``'s key and the file stored once the transaction is mined."""
    schema = model_metadata(who.market, who.storage, model_id).feature_schema
    parquet = to_parquet(frame, schema)
    rows = [encode_row(schema, values) for values in frame[schema.names].itertuples(index=False, name=None)]
    tree = MerkleTree(rows, key=contributor_key(who.account.address))
    builder = FileBuilder()
    builder.write(parquet)
    cid = builder.finish()[0]
    receipt = who.market.contribute(who.account, model_id, cid, tree.root, len(rows))
    who.storage.add(parquet)
    return int(receipt.event("SubmissionAdded").args["submission_id"])


# ---------------------------------------------------------------------------------------------------- measures
def _record(owner: Session, model_id: int, day: int, offered: dict[str, int]) -> dict[str, Any]:
    import json

    version = owner.market.versions(model_id)[-1]
    info = owner.market.model(model_id)
    evaluation = json.loads(owner.storage.cat(version.evaluation_cid))
    trained = evaluation.get("trained_on_rows", info.training_row_count)
    return {
        "version": version.number,
        "day": day,
        "rows trained": int(trained),
        "rows offered": sum(offered.values()),
        "rows accepted": info.rows_accepted,
        "rows rejected": info.rows_rejected,
        "accuracy": version.accuracy,
    }


def _contributors(
    owner: Session,
    model_id: int,
    plan: Sequence[Contributor],
    submissions: dict[int, str],
    offered: dict[str, int],
    balances: dict[str, int],
    accounts: Sequence[Session],
) -> pd.DataFrame:
    accepted = dict.fromkeys(offered, 0)
    rejected = dict.fromkeys(offered, 0)
    for submission in owner.market.all_submissions(model_id):
        name = submissions.get(submission.id)
        if name is not None:
            rejected[name] += submission.rows_rejected
            accepted[name] += submission.row_count - submission.rows_rejected if submission.claimed else 0
    after = {s.account.name: s.chain.balance(s.account) for s in accounts}
    records = [
        {"contributor": c.name, "kind": c.kind, "rows offered": offered[c.name], "rows accepted": accepted[c.name],
         "rows rejected": rejected[c.name], "ETH gained": (after[c.name] - balances[c.name]) / 1e18}
        for c in plan
    ]  # fmt: skip
    verifier = accounts[1].account.name
    records.append({"contributor": verifier, "kind": "verifier", "rows offered": 0, "rows accepted": 0,
                    "rows rejected": 0, "ETH gained": (after[verifier] - balances[verifier]) / 1e18})  # fmt: skip
    return pd.DataFrame.from_records(records).set_index("contributor")


def compare(result: Growth, paper: PaperFigures) -> pd.DataFrame:
    """The paper's figures and ours side by side: rows and accuracy before and after, days, contributors.

    >>> run = Growth(1, pd.DataFrame({"day": [0, 1], "rows trained": [100, 150], "accuracy": [0.7, 0.75]}),
    ...              pd.DataFrame({"kind": ["honest"]}), 2.0)
    >>> compare(run, PAPER["image"]).loc["accuracy after"].tolist()
    ['63.0 %', '75.0 %']
    """
    versions = result.versions
    honest = int((result.contributors["kind"] == "honest").sum()) if "kind" in result.contributors else 0
    rows = {
        "rows before": (f"{paper.rows_before:,}", f"{int(versions['rows trained'].iloc[0]):,}"),
        "rows after": (f"{paper.rows_after:,}", f"{int(versions['rows trained'].iloc[-1]):,}"),
        "accuracy before": (f"{paper.accuracy_before:.1%}", f"{versions['accuracy'].iloc[0]:.1%}"),
        "accuracy after": (f"{paper.accuracy_after:.1%}", f"{versions['accuracy'].iloc[-1]:.1%}"),
        "days": (str(paper.days), str(int(versions["day"].iloc[-1]))),
        "honest contributors": (str(paper.contributors), str(honest)),
    }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["paper", "ours"])
    return frame.map(lambda text: text.replace("%", " %") if text.endswith("%") else text)


def figure(
    result: Growth | dict[str, Growth], paper: PaperFigures, *, title: str = "Accuracy per version"
) -> plots.Figure:
    """Accuracy on the hidden test set per day (one line per model given by name), beside the paper's start and
    end (a dashed line: the paper reports only those two), and the rows trained on, in the hover.

    >>> run = Growth(1, pd.DataFrame({"day": [0, 1], "rows trained": [100, 150], "accuracy": [0.7, 0.75]},
    ...                              index=pd.Index([1, 2], name="version")), pd.DataFrame(), 2.0)
    >>> [trace.name for trace in figure(run, PAPER["text"]).data]
    ['ours', 'paper: IMDB sentiment (Keras, on chain)']
    """
    import plotly.graph_objects as go

    runs = result if isinstance(result, dict) else {"ours": result}
    fig = plots.Figure(layout={**plots._LAYOUT, "title": title})
    days: list[int] = [0, paper.days]
    shares: list[float] = [paper.accuracy_before, paper.accuracy_after]
    for label, run in runs.items():
        versions = run.versions
        fig.add_trace(
            go.Scatter(
                x=versions["day"], y=versions["accuracy"], mode="lines+markers", name=label,
                customdata=np.stack([versions.index, versions["rows trained"]], axis=1),
                hovertemplate="version %{customdata[0]}: %{y:.1%} on %{customdata[1]:,} rows",
            )
        )  # fmt: skip
        days += versions["day"].tolist()
        shares += versions["accuracy"].tolist()
    fig.add_trace(
        go.Scatter(
            x=[0, paper.days], y=[paper.accuracy_before, paper.accuracy_after], mode="lines+markers",
            name=f"paper: {paper.model}", line={"dash": "dash"},
            hovertemplate=f"%{{y:.1%}} (paper: {paper.rows_before:,} → {paper.rows_after:,} rows)",
        )
    )  # fmt: skip
    fig.update_layout(
        xaxis={**plots.version_axis(sorted(set(days))), "title": "day (0: the base model)"},
        yaxis=plots.percent_axis(shares),
    )
    return fig


def _fit(estimator: Any, split: Split) -> Any:
    from ..formats.data import FeatureSchema
    from ..session import _fit as fit_to_schema

    return fit_to_schema(estimator, split.base, FeatureSchema.infer(split.base, label=split.label))


@contextlib.contextmanager
def _keras_fitting(estimator: Any, seed: int) -> Iterator[None]:
    """Around the fit of a Keras estimator: Keras seeded (the same run, the same weights) and PyTorch on one thread,
    restored after (a network this small fits ten times faster on one thread than on two that contend with other
    work). Nothing for scikit-learn."""
    if not type(estimator).__module__.startswith("keras"):
        yield
        return
    import keras
    import torch

    threads = torch.get_num_threads()
    keras.utils.set_random_seed(seed)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _unique_name(owner: Session, name: str) -> str:
    """``name``, or ``name (2)``... when the owner already has a model of that name."""
    mine = {m.name for m in owner.market.all_models() if m.owner.lower() == owner.account.address.lower()}
    candidate, number = name, 1
    while candidate in mine:
        number += 1
        candidate = f"{name} ({number})"
    return candidate
