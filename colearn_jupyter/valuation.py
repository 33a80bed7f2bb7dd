"""What each contributor's data was worth: leave-one-out and Shapley values of accepted rows on the hidden test set.

A model's owner (or anyone, once the test set is revealed) asks what the rows of each submission, or of each
contributor, added to the model. The players of the game are those submissions (or contributors); the rows are
what the marketplace records: :meth:`Session.accepted_rows`, the rows a retrain trains on, each file fetched and
checked against its CID, row count and Merkle root, without rejected rows or repeats. The value of a coalition of
players is the accuracy on the test set of the model's own estimator (a scikit-learn ``clone`` of the current
version, so the same hyper-parameters) refitted off-chain on the owner's training rows plus the coalition's rows.

- **leave-one-out**: the accuracy of the model trained on everything minus that of the model trained on everything
  but the player's rows. Cheap (one refit a player) but blind to redundancy: two players holding the same
  information each get about zero.
- **Shapley value** (approximated by truncated Monte-Carlo permutations, Ghorbani & Zou 2019, "Data Shapley"): the
  player's marginal gain averaged over random orders of arrival. In each order, once the accuracy of the rows so
  far has stayed within ``tolerance`` of the accuracy of all rows for ``patience`` arrivals, the players still to
  come add nothing and are not refitted. With ``tolerance=0`` the values of every order sum exactly to the gain of
  all rows over the training rows alone (efficiency), so the values add up to what the contributions did to the
  model.

Every coalition is fitted once (a cache keyed by the set of players), so with a handful of players the Monte-Carlo
estimate costs at most ``2**players`` refits and converges to the exact Shapley value. Random orders come from
``numpy.random.default_rng(seed)``, and an estimator whose ``random_state`` is unset gets the seed: the same seed
gives the same values.

>>> from colearn_jupyter import Session
>>> from colearn_jupyter.valuation import value_data
>>> owner = Session.connect("owner")                                                         # doctest: +SKIP
>>> worth = value_data(owner, "iris-demo", by="contributor", permutations=200, seed=0)       # doctest: +SKIP
>>> worth.table[["rows", "leave-one-out", "shapley"]]                                         # doctest: +SKIP
>>> worth.figure()                                                                            # doctest: +SKIP

Without a chain, :func:`value_frames` values any DataFrames the same way:

>>> import pandas as pd
>>> from sklearn.tree import DecisionTreeClassifier
>>> base = pd.DataFrame({"x": [0.0, 1.0], "y": ["a", "b"]})
>>> test = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": ["a", "b", "b", "c"]})
>>> players = {"useful": pd.DataFrame({"x": [3.0], "y": ["c"]}), "wrong": pd.DataFrame({"x": [2.5], "y": ["a"]})}
>>> worth = value_frames(DecisionTreeClassifier(), base, players, test, label="y", permutations=20, progress=False)
>>> worth.base_accuracy, worth.full_accuracy  # the right label of x=3 is learned, x=2 is mislabelled by "wrong"
(0.75, 0.75)
>>> worth.table[["leave-one-out", "shapley"]].to_dict("index")
{'useful': {'leave-one-out': 0.25, 'shapley': 0.25}, 'wrong': {'leave-one-out': -0.25, 'shapley': -0.25}}
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import htmlsafe
from .errors import ColearnError
from .formats.data import FeatureSchema

__all__ = ["Game", "Valuation", "leave_one_out", "near_copies", "tmc_shapley", "value_data", "value_frames"]

BY = ("submission", "contributor")
#: Players in a row arriving with the accuracy within the tolerance of the full accuracy before an order is truncated.
PATIENCE = 3


# ---------------------------------------------------------------------------------------------------- rows
def near_copies(frame: pd.DataFrame, label: str, copies: int = 1) -> pd.DataFrame:
    """``copies`` near-copies of every row of ``frame``: one numeric feature moved by one unit (up, or down at the
    column's maximum), the next feature for each copy of a row. They repeat the information of the rows without
    being exact repeats (which the marketplace refuses), as a contributor padding a batch would.

    >>> import pandas as pd
    >>> rows = pd.DataFrame({"a": [0, 5], "b": [3, 5], "y": ["p", "q"]})
    >>> near_copies(rows, "y", copies=2)
       a  b  y
    0  1  3  p
    1  5  4  q
    2  0  4  p
    3  4  5  q
    """
    features = [c for c in frame.columns if c != label and pd.api.types.is_numeric_dtype(frame[c])]
    if not 1 <= copies <= len(features):
        raise ColearnError(f"near copies move one of the {len(features)} numeric features: 1 to {len(features)} copies")
    frame, top = frame.reset_index(drop=True), frame[features].max()
    out = []
    for copy in range(copies):
        moved = frame.copy()
        for position in range(len(frame)):
            column = features[(position + copy) % len(features)]
            where = (moved.index[position], column)
            moved.loc[where] = moved.loc[where] + 1 if moved.loc[where] < top[column] else moved.loc[where] - 1
        out.append(moved)
    return pd.concat(out, ignore_index=True)


# ---------------------------------------------------------------------------------------------------- the game
class Game:
    """The cooperative game of data: a coalition of players is worth the accuracy of the estimator refitted on the
    base rows plus the coalition's rows, on the test set. Each coalition is fitted once (``fits`` counts them), on
    ``threads`` BLAS/OpenMP threads (one by default: on the few hundred rows of a marketplace batch, threads cost
    more than they give, ten times more on two busy cores; None leaves the libraries' default). With ``ordered``,
    the rows are fitted in the order of their index (base and players' rows together), so that a coalition's rows
    are in the order a retrain sees them whatever the players (a solver's result can depend on the order).

    >>> import pandas as pd
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from colearn_jupyter.formats.data import FeatureSchema
    >>> base = pd.DataFrame({"x": [0.0, 1.0], "y": ["a", "b"]})
    >>> schema = FeatureSchema.infer(base, label="y")
    >>> game = Game(DecisionTreeClassifier(), base, [pd.DataFrame({"x": [2.0], "y": ["b"]})], base, schema)
    >>> game.utility(frozenset()), game.utility(frozenset({0})), game.fits
    (1.0, 1.0, 2)
    """

    def __init__(
        self, estimator: Any, base: pd.DataFrame, players: Sequence[pd.DataFrame], test: pd.DataFrame,
        schema: FeatureSchema, *, threads: int | None = 1, ordered: bool = False,
    ) -> None:  # fmt: skip
        self.threads, self.ordered = threads, ordered
        self.estimator = estimator
        self.base = base
        self.players = list(players)
        self.test = test
        self.schema = schema
        self._cache: dict[frozenset[int], float] = {}
        self.unconverged = 0  # refits that stopped at the estimator's iteration limit (scikit-learn's warning)

    @property
    def size(self) -> int:
        """The number of players."""
        return len(self.players)

    @property
    def fits(self) -> int:
        """How many coalitions were fitted so far."""
        return len(self._cache)

    def utility(self, coalition: frozenset[int]) -> float:
        """Accuracy on the test set of the estimator fitted on the base rows plus the rows of ``coalition``."""
        if coalition not in self._cache:
            from threadpoolctl import threadpool_limits

            from .session import _accuracy, _dtypes, _fit

            data = pd.concat([self.base, *(self.players[i] for i in sorted(coalition))])
            if self.ordered:
                data = data.sort_index(kind="stable")
            data = data.reset_index(drop=True).astype(_dtypes(self.schema))
            with threadpool_limits(limits=self.threads), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self._cache[coalition] = _accuracy(_fit(self.estimator, data, self.schema), self.test, self.schema)
            for warning in caught:  # one line in the result, not one warning a refit
                if warning.category.__name__ == "ConvergenceWarning":
                    self.unconverged += 1
                else:
                    warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        return self._cache[coalition]


def leave_one_out(game: Game) -> np.ndarray:
    """Each player's leave-one-out value: the accuracy with every player minus the accuracy without it (blind to
    redundancy: see :func:`tmc_shapley`'s example, where two copies of the same row each get 0 here)."""
    everyone = frozenset(range(game.size))
    full = game.utility(everyone)
    return np.array([full - game.utility(everyone - {i}) for i in range(game.size)])


def tmc_shapley(
    game: Game,
    permutations: int = 100,
    *,
    tolerance: float = 0.0,
    patience: int = PATIENCE,
    seed: int = 0,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Truncated Monte-Carlo Shapley values of every player, and their standard errors.

    In each of ``permutations`` random orders, players arrive one by one and each is credited with the accuracy it
    adds; once ``patience`` players in a row arrived with the accuracy so far within ``tolerance`` of the accuracy
    of all players, the rest are credited nothing (and not fitted). The standard error is that of the mean over the
    orders.

    >>> import pandas as pd
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from colearn_jupyter.formats.data import FeatureSchema
    >>> base = pd.DataFrame({"x": [0.0, 1.0], "y": ["a", "b"]})
    >>> test = pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": ["a", "b", "c"]})
    >>> same = pd.DataFrame({"x": [2.0], "y": ["c"]})
    >>> game = Game(DecisionTreeClassifier(), base, [same, same], test, FeatureSchema.infer(test, label="y"))
    >>> leave_one_out(game)  # each copy is redundant given the other
    array([0., 0.])
    >>> values, errors = tmc_shapley(game, 200, progress=False)
    >>> round(float(values.sum()), 4), bool(abs(values[0] - values[1]) < 0.1)  # the copies share the gain of one
    (0.3333, True)
    """
    from tqdm.auto import tqdm

    if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)) or permutations < 1:
        raise ColearnError(f"permutations must be a whole number >= 1, not {permutations!r}")
    if not tolerance >= 0:
        raise ColearnError(f"the tolerance must be >= 0, not {tolerance!r}")
    rng = np.random.default_rng(seed)
    empty, everyone = frozenset(), frozenset(range(game.size))
    full = game.utility(everyone)
    marginals = np.zeros((permutations, game.size))
    for sample in tqdm(range(permutations), desc="Shapley permutations", disable=not progress, leave=False):
        coalition, before, close = empty, game.utility(empty), 0
        for player in rng.permutation(game.size):
            if close >= patience:
                break  # the rest add nothing: truncated
            coalition = coalition | {int(player)}
            after = game.utility(coalition)
            marginals[sample, player] = after - before
            before = after
            close = close + 1 if abs(full - after) <= tolerance else 0
    errors = marginals.std(axis=0, ddof=1) / math.sqrt(permutations) if permutations > 1 else np.zeros(game.size)
    return marginals.mean(axis=0), errors


# ---------------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Valuation:
    """The worth of every player's rows. ``table`` has one line per player (index ``player``): its ``rows``, its
    ``leave-one-out`` and ``shapley`` values (accuracy points, as fractions), the ``shapley error`` (standard error
    of the Monte-Carlo mean) and the players' ``rank`` by Shapley value (1 = most useful); for a marketplace model
    also the ``contributor``, the ``submissions`` and the rows ``submitted`` and ``rejected``. Players with no
    usable rows are in the table with value 0 and are not in the game.

    ``base_accuracy`` is the accuracy of the owner's training rows alone, ``full_accuracy`` that of every player's
    rows with them; ``version_accuracy`` the accuracy the chain records for the latest version (None outside a
    marketplace), which ``full_accuracy`` equals when the latest version was trained on exactly these rows.
    ``notes`` says what to know about the result: submissions not claimed yet (valued as no rows), refits that
    stopped at the estimator's iteration limit (counted here instead of a warning a refit).
    """

    table: pd.DataFrame
    base_accuracy: float
    full_accuracy: float
    by: str = "player"
    permutations: int = 0
    seed: int = 0
    fits: int = 0
    model_id: int | None = None
    version: int | None = None
    version_accuracy: float | None = None
    estimator: str = ""
    notes: list[str] = field(default_factory=list)

    def figure(self, *, title: str | None = None) -> Any:
        """A plotly bar chart (:class:`colearn_jupyter.plots.Figure`): leave-one-out and Shapley value of every
        player, in accuracy points, with the Shapley value's standard error.

        >>> value_data(owner, "digits", by="submission").figure()  # doctest: +SKIP
        """
        import plotly.graph_objects as go

        from .plots import _LAYOUT, Figure

        table = self.table
        names = [str(name) for name in table.index]
        points = {column: [100 * float(v) for v in table[column]] for column in ("leave-one-out", "shapley")}
        errors = [100 * float(v) for v in table["shapley error"]]
        summary = pd.DataFrame(
            {
                self.by: names,
                "rows": [f"{int(n):,}" for n in table["rows"]],
                "leave-one-out (points)": [f"{v:+.2f}" for v in points["leave-one-out"]],
                "shapley (points)": [f"{v:+.2f} ± {e:.2f}" for v, e in zip(points["shapley"], errors, strict=True)],
            }
        )
        fig = Figure(summary=summary)
        fig.add_trace(go.Bar(x=names, y=points["leave-one-out"], name="leave-one-out",
                             hovertemplate="%{x}: %{y:+.2f} points<extra>leave-one-out</extra>"))  # fmt: skip
        fig.add_trace(go.Bar(x=names, y=points["shapley"], name="Shapley (Monte-Carlo)",
                             error_y={"type": "data", "array": errors, "visible": True},
                             hovertemplate="%{x}: %{y:+.2f} points<extra>Shapley</extra>"))  # fmt: skip
        gain = 100 * (self.full_accuracy - self.base_accuracy)
        fig.update_layout(
            title=title or f"Accuracy each {self.by}'s rows added ({gain:+.1f} points in all)",
            barmode="group",
            xaxis={"title": self.by, "type": "category"},
            yaxis={"title": "accuracy points on the test set", "zeroline": True},
            **{**_LAYOUT, "hovermode": "closest"},
        )
        return fig

    def _repr_html_(self) -> str:
        head = (
            f"<div><b>Data valuation</b> by {htmlsafe.text(self.by)}: accuracy {self.base_accuracy:.1%} on the "
            f"training rows alone, {self.full_accuracy:.1%} with every {htmlsafe.text(self.by)}'s rows "
            f"({self.fits} fits, {self.permutations} permutations, seed {self.seed})</div>"
        )
        notes = "".join(f"<div>{htmlsafe.text(note)}</div>" for note in self.notes)
        return head + notes + htmlsafe.frame(self.table)


# ---------------------------------------------------------------------------------------------------- entry points
def value_frames(
    estimator: Any,
    base: pd.DataFrame,
    players: Mapping[str, pd.DataFrame],
    test: pd.DataFrame,
    *,
    label: str | None = None,
    schema: FeatureSchema | None = None,
    permutations: int = 100,
    tolerance: float = 0.0,
    patience: int = PATIENCE,
    seed: int = 0,
    progress: bool = True,
    by: str = "player",
    threads: int | None = 1,
    ordered: bool = False,
) -> Valuation:
    """Leave-one-out and truncated Monte-Carlo Shapley values of the DataFrames in ``players`` (by name), added to
    ``base`` and scored on ``test``. Give the ``label`` column (or a ``schema``). An estimator whose
    ``random_state`` is unset gets ``seed``."""
    if schema is None:
        if label is None:
            raise ColearnError("value_frames needs the label column (label=...) or the row schema (schema=...)")
        schema = FeatureSchema.infer(pd.concat([base, test, *players.values()], ignore_index=True), label=label)
    names = list(players)
    usable = [name for name in names if len(players[name])]
    game = Game(
        _seeded(estimator, seed),
        base,
        [players[name] for name in usable],
        test,
        schema,
        threads=threads,
        ordered=ordered,
    )
    loo, shapley, errors = np.zeros(len(names)), np.zeros(len(names)), np.zeros(len(names))
    if usable:
        where = [names.index(name) for name in usable]
        loo[where] = leave_one_out(game)
        shapley[where], errors[where] = tmc_shapley(game, permutations, tolerance=tolerance, patience=patience,
                                                    seed=seed, progress=progress)  # fmt: skip
    table = pd.DataFrame(
        {
            "rows": [len(players[name]) for name in names],
            "leave-one-out": loo,
            "shapley": shapley,
            "shapley error": errors,
        },
        index=pd.Index(names, name=by),
    )
    table["rank"] = table["shapley"].rank(ascending=False, method="min").astype(int)
    everyone = frozenset(range(game.size))
    base_accuracy, full_accuracy = game.utility(frozenset()), game.utility(everyone)
    notes = [f"{game.unconverged} of {game.fits} refits stopped at the estimator's iteration limit "
             "(scikit-learn's ConvergenceWarning)"] if game.unconverged else []  # fmt: skip
    return Valuation(
        table=table,
        base_accuracy=base_accuracy,
        full_accuracy=full_accuracy,
        by=by,
        permutations=permutations,
        seed=seed,
        fits=game.fits,
        estimator=type(estimator).__name__,
        notes=notes,
    )


def value_data(
    session: Any,
    model: int | str,
    *,
    by: str = "contributor",
    estimator: Any = None,
    permutations: int = 100,
    tolerance: float = 0.0,
    patience: int = PATIENCE,
    seed: int = 0,
    progress: bool = True,
    names: Mapping[str, str] | None = None,
    threads: int | None = 1,
) -> Valuation:
    """What each contributor's (``by="contributor"``) or each submission's (``by="submission"``) accepted rows
    added to a marketplace model's accuracy on its test set.

    ``session`` is the owner's :class:`~colearn_jupyter.session.Session` (its home holds the hidden test set), or
    anyone's once the owner revealed the test set. The rows are :meth:`Session.accepted_rows` (the rows the next
    retrain would use: those of the latest version when nothing was claimed since), the base is the owner's
    training file, and the estimator is the current version's own (cloned and refitted; give ``estimator=`` for a
    model this session cannot load: a stranger's model only runs isolated). ``names`` maps addresses to names
    (the devnet's named accounts are known).

    >>> worth = value_data(owner, "digits", by="submission", permutations=200, seed=0)  # doctest: +SKIP
    >>> worth.table.sort_values("shapley", ascending=False).head(3)                   # doctest: +SKIP
    """
    from .contributions import model_metadata
    from .formats.data import read_data
    from .sandbox import IsolatedModel

    if by not in BY:
        raise ColearnError(f"value by {' or '.join(map(repr, BY))}, not {by!r}")
    model_id = session.resolve_model(model, prefer_own=True)
    schema = model_metadata(session.market, session.storage, model_id).feature_schema
    test = _test_set(session, model_id, schema, read_data)
    if estimator is None:
        estimator = session._current_model(model_id)
        if isinstance(estimator, IsolatedModel):
            raise ColearnError(
                f"model {model_id} is not this account's: its model only runs isolated and cannot be refitted "
                "here. Give the estimator to refit (estimator=...)"
            )
    accepted = session.accepted_rows(model_id, stacklevel=3)
    base = session._training_frame(model_id)
    base.index = pd.RangeIndex(-len(base), 0)  # fitted first, then every accepted row in the order retrain sees it
    used, start = {}, 0
    for submission, frame in accepted:
        used[submission.id] = frame.set_axis(pd.RangeIndex(start, start + len(frame)))
        start += len(frame)
    named = _address_names(session.chain.chain_id, names)
    submissions = [s for s in session.market.all_submissions(model_id) if not s.on_chain_row]
    key: Callable[[Any], str] = (
        (lambda s: f"#{s.id} {named.get(s.contributor.lower(), s.contributor)}")
        if by == "submission"
        else (lambda s: named.get(s.contributor.lower(), s.contributor))
    )
    groups: dict[str, list[Any]] = {}
    for submission in submissions:
        groups.setdefault(key(submission), []).append(submission)
    players = {
        name: pd.concat([used[s.id] for s in subs if s.id in used] or [test.iloc[:0]]) for name, subs in groups.items()
    }
    worth = value_frames(estimator, base, players, test, schema=schema, permutations=permutations,
                         tolerance=tolerance, patience=patience, seed=seed, progress=progress, by=by, threads=threads,
                         ordered=True)  # fmt: skip
    table = worth.table
    table.insert(0, "contributor", [named.get(groups[n][0].contributor.lower(), groups[n][0].contributor)
                                    for n in table.index])  # fmt: skip
    table.insert(1, "submissions", [", ".join(str(s.id) for s in groups[n]) for n in table.index])
    table.insert(2, "submitted", [sum(s.row_count for s in groups[n]) for n in table.index])
    table.insert(3, "rejected", [sum(s.rows_rejected for s in groups[n]) for n in table.index])
    unclaimed = [s.id for s in submissions if not s.claimed]
    notes = [f"submission{'s' * (len(unclaimed) > 1)} {', '.join(map(str, unclaimed))} not claimed yet: valued as no "
             "rows"] if unclaimed else []  # fmt: skip
    notes += worth.notes
    latest = session.market.versions(model_id)[-1]
    return Valuation(
        table=table,
        base_accuracy=worth.base_accuracy,
        full_accuracy=worth.full_accuracy,
        by=by,
        permutations=permutations,
        seed=seed,
        fits=worth.fits,
        model_id=model_id,
        version=latest.number,
        version_accuracy=latest.accuracy,
        estimator=worth.estimator,
        notes=notes,
    )


def _test_set(session: Any, model_id: int, schema: FeatureSchema, read_data: Callable[..., pd.DataFrame]
              ) -> pd.DataFrame:  # fmt: skip
    """The owner's hidden test set when this home holds its salt, else the revealed one; else an error."""
    try:
        return read_data(session._test_set_bytes(model_id), schema)
    except ColearnError:
        revealed = session.revealed_test_set(model_id)
        if revealed is None:
            raise ColearnError(
                f"the test set of model {model_id} is hidden: only its owner's home can value the data, or anyone "
                "once the owner reveals it"
            ) from None
        return revealed


def _seeded(estimator: Any, seed: int) -> Any:
    """A clone of a scikit-learn estimator with ``random_state=seed`` when it has one unset (others as given)."""
    try:
        from sklearn.base import clone

        params = estimator.get_params()
    except (AttributeError, TypeError):
        return estimator
    if "random_state" in params and params["random_state"] is None:
        return clone(estimator).set_params(random_state=seed)
    return estimator


def _address_names(chain_id: int, names: Mapping[str, str] | None) -> dict[str, str]:
    """Lower-case address -> name: the devnet's named accounts (on its chain id), then ``names``."""
    from .accounts import DEVNET_NAMES, devnet_account
    from .devnet import CHAIN_ID

    out = {devnet_account(n).address.lower(): n for n in DEVNET_NAMES} if chain_id == CHAIN_ID else {}
    out.update({address.lower(): name for address, name in (names or {}).items()})
    return out
