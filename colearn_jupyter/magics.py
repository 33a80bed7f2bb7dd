"""The ``%colearn`` line magic and ``%%colearn`` cell magic: a thin notebook face over :class:`Session`.

Load them with ``%load_ext colearn_jupyter``, then ``%colearn help`` prints the whole cycle, one line per step::

    %colearn connect
    %colearn publish clf --name iris --train X_train y_train --test X_test y_test --deposit 0.01 --window 1h
    %colearn contribute iris new_rows --as alice

The cell form takes the subcommand on its first line and more options in the body (``#`` starts a comment)::

    %%colearn publish clf
    --name spam --train X_train y_train
    --test X_test y_test             # the hidden test set
    --deposit 0.01 --reward 0.002 --window 1h

Notebook variables are given by name. Every subcommand returns its main result (``cards = %colearn market``);
DataFrames, model cards, reports and figures are displayed by IPython as the cell's value. Errors are shown as one
line (``colearn publish: ...``); ``--debug`` anywhere on the line shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import pandas as pd
from IPython.core.magic import Magics, line_cell_magic, magics_class

from .errors import ColearnError
from .units import DISPLAY_DECIMALS, WEI_PER_ETH, format_duration, format_eth, format_percent, parse_duration, to_wei

if TYPE_CHECKING:
    from .marketplace import Challenge, Submission
    from .session import ModelCard, Session, VerificationReport

_COMPLETION_CACHE_SECONDS = 10.0
CHALLENGE_STATUSES = ("pending", "upheld", "rejected", "expired", "answered")
MARKET_PAGE = 20  # models a page of `%colearn market` shows
# Subcommands that change the chain: the ipywidgets panels shown in the notebook read it again after them.
_CHANGES_CHAIN = frozenset(
    "publish contribute challenge answer expire resolve claim retrain advance simulate class".split()
)


class MagicUsageError(ColearnError):
    """A magic's line could not be understood: bad arguments, or a notebook variable missing or of the wrong type."""

    def __init__(self, message: str, subcommand: str | None = None):
        super().__init__(message)
        self.subcommand = subcommand


class _HelpShown(Exception):
    """argparse printed a help text (``-h``) and wanted to exit: nothing more to do."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of printing usage and calling ``sys.exit``."""

    commands: dict[str, argparse.ArgumentParser]  # the subparsers by name (on the top-level parser)

    def error(self, message: str) -> NoReturn:
        raise MagicUsageError(message, _subcommand_of(self.prog))

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            raise MagicUsageError(message.strip(), _subcommand_of(self.prog))
        raise _HelpShown()


def _subcommand_of(prog: str) -> str | None:
    parts = prog.split()
    return parts[1] if len(parts) > 1 else None


# ---------------------------------------------------------------------------------------------------- argument types
def _eth(text: str) -> str:
    """An amount of ether, checked here so that a typo is a usage error, not a traceback."""
    try:
        to_wei(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _duration(text: str) -> str:
    try:
        parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _id(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (a whole number)")
    return int(text)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1")
    return int(text)


# ---------------------------------------------------------------------------------------------------- the parser
SUBCOMMANDS: dict[str, str] = {
    "connect": "connect to the devnet (or --rpc/--ipfs) as an account; later commands use this session",
    "status": "chain, account, balance, claimable credit and storage of the session",
    "publish": "publish a fitted model with its training schema, a hidden test set and incentive terms",
    "market": "every model with its accuracy, rows and terms, newest first, 20 a page (--search TEXT, --page N)",
    "contribute": "validate a DataFrame of new rows and submit it to a model, paying the deposit",
    "pending": "submissions still in their challenge window (of one model or all)",
    "verify": "check a submission's file against its commitment, judge every row and plan the challenges",
    "challenge": "challenge rows of a submission (given rows, or the plan of verify), each the way the plan says",
    "challenges": "challenges of one model or all, with their kind (--status pending, the default, or all, ...)",
    "answer": "produce the rows demanded by pending availability challenges whose files you hold; earns the bond",
    "expire": "close pending challenges past their time-out (a label stands; an unanswered demand forfeits)",
    "resolve": "the owner judges a label or file challenge (--uphold, --reject, or --auto: a suggestion); --all MODEL",
    "claim": "settle submissions whose window passed and withdraw everything credited to the account",
    "retrain": "retrain on the original data plus the accepted rows and publish a new version",
    "history": "accuracy of every version of a model (--plot draws it)",
    "growth": "rows submitted and accepted over time (--plot draws it)",
    "balances": "balances of accounts after every recorded transaction (--plot draws them)",
    "advance": "move the devnet clock forward, e.g. past a challenge window (devnet only)",
    "simulate": "play the incentive game with honest agents and adversaries on the devnet (`simulate -h` for options)",
    "class": "the instructor's class on the devnet: `class create --students 30`, `class list`, `class fund --eth 100`",
    "help": "this guide; `help SUBCOMMAND` shows the options of one subcommand",
}

CLASS_ACTIONS = ("create", "list", "fund")
# Subcommands whose first positional argument is a model (an id or a name), for tab completion.
_MODEL_ARGUMENT = frozenset({"contribute", "pending", "challenges", "retrain", "history", "growth"})

_GUIDE = """\
%colearn: collaborative, data-centric machine learning on a chain, from this notebook.

The whole cycle, one step a line (the devnet starts by itself; its accounts owner, alice, bob, carol, verifier, …
are funded; notebook variables are given by name; MODEL is a model id (7 or #7), a name, or owner/name when
several owners use the name):

  %colearn connect                                  # be the model owner (account `owner`)
  %colearn publish clf --name iris --train X_train y_train --test X_test y_test --deposit 0.01 --window 1h
  %colearn market                                   # every model, its accuracy and terms
  %colearn contribute iris new_rows --as alice      # alice submits the DataFrame new_rows; note the submission id
  %colearn pending iris                             # submissions still in their challenge window
  %colearn verify 1 --as verifier                   # check submission 1: every row's fault, copy and verdict
  %colearn challenge 1 --suggested --as verifier    # challenge the rows of the plan (or: --rows 1 3 7)
  %colearn challenges iris                          # pending challenges and their kind
  %colearn resolve --all iris                       # the owner judges label and file challenges (or: 4 --uphold)
  %colearn answer --as alice                        # alice produces any row demanded of her files
  %colearn advance 1h                               # devnet only: let the challenge window pass
  %colearn expire                                   # close challenges nobody settled in time
  %colearn claim --as alice                         # alice is paid deposit + reward for her accepted rows
  %colearn retrain iris                             # version 2, trained on the accepted rows too
  %colearn history iris --plot                      # accuracy per version

How challenges work (verify plans a kind for every row it flags; `challenge` follows the plan):
  commit, then reveal  every challenge is committed, then revealed in a later block: nobody can copy or front-run it
  format, duplicate    the contract judges at once (a schema fault; a copy of an earlier, training or test row)
  label                posts the bond; the owner upholds (bond + fee paid, the row burned) or rejects (bond burned)
  file                 a missing file, with the bond: the owner judges it (upheld: the whole batch is burned)
  availability         demands a row, with the bond; anyone holding the file answers and takes it
  time-out             `expire`: an unjudged label or file stands (bond back); an unanswered demand forfeits the batch

A class shares one devnet; the instructor (owner) makes and funds an account for every student:
  %colearn class create --students 30               # student01 … student30, 100 ETH each from the devnet's deployer
  %colearn class list                               # names, addresses, balances
  %colearn class fund --eth 100                     # top everyone up again (or name students: fund student07)
Each student then acts as itself (`%colearn connect student07`); only the instructor moves the clock (`advance`).

Any subcommand takes --as ACCOUNT to act as another account once, and --debug to show full tracebacks. In a cell,
write `%%colearn SUBCOMMAND ...` on the first line and more options on the lines below.

Subcommands:
"""


def build_parser() -> _Parser:
    """The argparse parser of ``%colearn``: one subparser per subcommand."""
    parser = _Parser(prog="%colearn", description="colearn-jupyter magics", add_help=True)
    commands = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND", parser_class=_Parser)
    acting = _Parser(add_help=False)
    acting.add_argument("--as", dest="as_account", metavar="ACCOUNT", help="act as this account for this call only")

    def add(name: str, *, shared: bool = True) -> _Parser:
        return commands.add_parser(
            name, help=SUBCOMMANDS[name], description=SUBCOMMANDS[name], parents=[acting] if shared else []
        )

    connect = add("connect", shared=False)
    connect.add_argument("--account", default="owner", help="devnet name, 'env', or keystore path (default owner)")
    connect.add_argument("--rpc", metavar="URL", help="JSON-RPC URL (default: configured, or the embedded devnet)")
    connect.add_argument("--ipfs", metavar="URL", help="IPFS RPC API URL (default: configured, or the embedded store)")

    add("status")

    publish = add("publish")
    publish.add_argument("model", metavar="MODEL_VAR", help="notebook variable holding the fitted model")
    publish.add_argument("--name", required=True, help="model name shown in the marketplace")
    publish.add_argument("--train", nargs="+", required=True, metavar="VAR",
                         help="training data: one DataFrame with the label column, or two variables X y")  # fmt: skip
    publish.add_argument("--test", nargs="+", required=True, metavar="VAR",
                         help="hidden test set: one DataFrame with the label column, or X y")  # fmt: skip
    publish.add_argument("--label", help="label column (default: the name of y, or 'label')")
    publish.add_argument("--deposit", type=_eth, default="0.01", metavar="ETH", help="deposit per row (0.01)")
    publish.add_argument("--reward", type=_eth, default="0.002", metavar="ETH", help="reward per accepted row (0.002)")
    publish.add_argument("--bond", type=_eth, metavar="ETH", help="challenge bond (default: the deposit)")
    publish.add_argument("--window", type=_duration, default="1h", metavar="DUR", help="challenge window (1h)")
    publish.add_argument("--timeout", type=_duration, default="1d", metavar="DUR", help="owner's time to resolve (1d)")
    publish.add_argument("--pool", type=_eth, default="1", metavar="ETH", help="reward pool to fund (1)")
    publish.add_argument("--onchain", action="store_true", help="also run a binary linear model on chain")
    publish.add_argument("--license", default="CC-BY-4.0", help="data license (CC-BY-4.0)")
    publish.add_argument("--description", default="", help="a sentence about the model")

    market = add("market")
    market.add_argument("--search", default="", metavar="TEXT", help="only models whose name contains TEXT")
    market.add_argument("--page", type=_positive, default=1, metavar="N", help="page N of the listing (1)")
    market.add_argument("--limit", type=_positive, default=MARKET_PAGE, metavar="N",
                        help=f"models a page ({MARKET_PAGE})")  # fmt: skip

    contribute = add("contribute")
    contribute.add_argument("model", metavar="MODEL", help="model id or name")
    contribute.add_argument("frame", metavar="DF_VAR", help="notebook variable holding the DataFrame of new rows")

    pending = add("pending")
    pending.add_argument("model", nargs="?", metavar="MODEL", help="model id or name (default: every model)")

    verify = add("verify")
    verify.add_argument("submission", type=_id, metavar="SUBMISSION", help="submission id")

    challenge = add("challenge")
    challenge.add_argument("submission", type=_id, metavar="SUBMISSION", help="submission id")
    challenge.add_argument("rows", nargs="*", type=_id, metavar="ROWS", help="row numbers to challenge")
    challenge.add_argument("--rows", dest="more_rows", nargs="+", type=_id, default=[], metavar="ROW",
                           help="row numbers to challenge (the same as giving them after SUBMISSION)")  # fmt: skip
    challenge.add_argument("--suggested", action="store_true",
                           help="challenge the rows of verify's plan (the default when no rows are given)")  # fmt: skip
    challenge.add_argument("--file", action="store_true",
                           help="challenge the whole file: it cannot be fetched or does not hold its rows")  # fmt: skip

    challenges = add("challenges")
    challenges.add_argument("model", nargs="?", metavar="MODEL", help="model id or name (default: every model)")
    challenges.add_argument("--status", default="pending", choices=[*CHALLENGE_STATUSES, "all"],
                            help="challenges in this state (default pending; all: every challenge)")  # fmt: skip

    for name, what in (("answer", "pending availability challenge to answer"), ("expire", "challenge to expire")):
        sub = add(name)
        sub.add_argument("challenge", nargs="?", type=_id, metavar="CHALLENGE", help=f"one {what} (default: all)")

    resolve = add("resolve")
    resolve.add_argument("challenge", nargs="?", type=_id, metavar="CHALLENGE", help="a label or file challenge's id")
    resolve.add_argument("--all", dest="all_of", metavar="MODEL",
                         help="resolve every pending label and file challenge of MODEL")  # fmt: skip
    verdict = resolve.add_mutually_exclusive_group()
    verdict.add_argument("--uphold", dest="verdict", action="store_const", const=True, help="the row is bad")
    verdict.add_argument("--reject", dest="verdict", action="store_const", const=False, help="the row is fine")
    verdict.add_argument("--auto", dest="verdict", action="store_const", const=None,
                         help="the current model judges the row (default)")  # fmt: skip

    claim = add("claim")
    claim.add_argument("submission", nargs="?", type=_id, metavar="SUBMISSION", help="one submission (default: all)")

    retrain = add("retrain")
    retrain.add_argument("model", metavar="MODEL", help="model id or name")
    retrain.add_argument("--estimator", metavar="VAR", help="notebook variable: an unfitted estimator to fit instead")

    for name in ("history", "growth"):
        sub = add(name)
        sub.add_argument("model", metavar="MODEL", help="model id or name")
        sub.add_argument("--plot", action="store_true", help="return a plotly figure instead of the table")

    balances = add("balances")
    balances.add_argument("accounts", nargs="*", metavar="ACCOUNTS", help="account names (default: all recorded)")
    balances.add_argument("--plot", action="store_true", help="return a plotly figure instead of the table")

    advance = add("advance")
    advance.add_argument("duration", type=_duration, metavar="DURATION", help="e.g. 90s, 1h30m, 2d")

    classroom = add("class")
    classroom.add_argument("action", choices=CLASS_ACTIONS, metavar="ACTION", help="create, list or fund")
    classroom.add_argument("who", nargs="*", metavar="STUDENTS", help="fund: students to top up (default: all)")
    classroom.add_argument("--students", type=_positive, metavar="N", help="create: how many (student01 …; 30)")
    classroom.add_argument("--names", metavar="A,B", help="create: comma-separated names instead (e.g. hub users)")
    classroom.add_argument("--prefix", default="student", help="create: prefix of the numbered names (student)")
    classroom.add_argument("--eth", type=_eth, default="100", metavar="ETH",
                           help="ETH each student has after create or fund (100)")  # fmt: skip

    simulate = add("simulate", shared=False)
    simulate.add_argument(
        "options",
        nargs=argparse.REMAINDER,
        metavar="...",
        help="agents as kind=count (e.g. phantom=1 copier=1) and --rounds, --seed, --deposit, ...",
    )

    help_ = add("help", shared=False)
    help_.add_argument("topic", nargs="?", choices=list(SUBCOMMANDS), metavar="SUBCOMMAND", help="a subcommand")
    parser.commands = commands.choices
    return parser


def _tokens(line: str, cell: str | None) -> list[str]:
    """Shell-like words of the magic's line and of every body line, ``#`` comments dropped."""
    try:
        words = shlex.split(line, comments=True)
        for body_line in (cell or "").splitlines():
            words += shlex.split(body_line, comments=True)
    except ValueError as error:  # an unclosed quote
        raise MagicUsageError(f"cannot read the arguments: {error}") from None
    return words


# ---------------------------------------------------------------------------------------------------- the magics
@magics_class
class ColearnMagics(Magics):
    """``%colearn SUBCOMMAND ...`` and ``%%colearn SUBCOMMAND ...``: see ``%colearn help``."""

    def __init__(self, shell: Any):
        super().__init__(shell)
        self.parser = build_parser()
        self._session: Session | None = None
        self.last_report: VerificationReport | None = None  # the last `verify` report
        self._model_names: tuple[float, list[str]] = (-_COMPLETION_CACHE_SECONDS, [])

    @line_cell_magic
    def colearn(self, line: str, cell: str | None = None) -> Any:
        """Collaborative ML on a chain: ``%colearn help`` prints the whole cycle and every subcommand."""
        debug = "--debug" in (line + "\n" + (cell or "")).split()
        subcommand = next((word for word in line.split() if word in SUBCOMMANDS), None)
        try:
            words = [word for word in _tokens(line, cell) if word != "--debug"] or ["help"]
            if words[0] == "simulate" and "-h" not in words and "--help" not in words:
                # its own options, read by the simulation (argparse cannot pass leading options through)
                args = argparse.Namespace(subcommand="simulate", options=words[1:])
            else:
                args = self.parser.parse_args(words)
            result = HANDLERS[args.subcommand](self, args)
            if args.subcommand in _CHANGES_CHAIN:
                _refresh_panels()
            return result
        except _HelpShown:
            return None
        except ColearnError as error:
            if debug:
                raise
            name = getattr(error, "subcommand", None) or subcommand
            text = " ".join(part.strip() for part in str(error).splitlines() if part.strip())
            print(f"colearn{' ' + name if name else ''}: {text}", file=sys.stderr)
            return None

    # ------------------------------------------------------------------------------------------------ helpers
    @property
    def session(self) -> Session:
        """The current session, connected as ``owner`` on first use if ``connect`` was never called."""
        if self._session is None:
            from .session import Session

            self._session = Session.connect("owner")
        return self._session

    def use(self, session: Session) -> None:
        """Make ``session`` the current one (``connect``): forget the last report and the cached model names."""
        self._session, self.last_report = session, None
        self.forget_model_names()

    def forget_model_names(self) -> None:
        self._model_names = (-_COMPLETION_CACHE_SECONDS, [])

    def session_for(self, args: argparse.Namespace) -> Session:
        """The current session, or the same chain and storage as ``--as ACCOUNT``."""
        account = getattr(args, "as_account", None)
        if not account:
            return self.session
        self.session.market  # noqa: B018 (connect the marketplace once, so that the copy shares it)
        return self.session.as_account(account)

    def variable(self, name: str, kind: str, check: Callable[[Any], bool]) -> Any:
        """The notebook variable ``name``, which must be a ``kind`` (``check`` says whether it is)."""
        namespace = self.shell.user_ns if self.shell is not None else {}
        if name not in namespace:
            raise MagicUsageError(f"there is no notebook variable named {name!r} (expected {kind})")
        value = namespace[name]
        if not check(value):
            raise MagicUsageError(f"{name!r} is a {type(value).__name__}, not {kind}")
        return value

    def frame(self, name: str) -> pd.DataFrame:
        return self.variable(name, "a pandas DataFrame", lambda v: isinstance(v, pd.DataFrame))

    def model_names(self) -> list[str]:
        """Names of the models in the current session's market, cached briefly; nothing before a session exists."""
        at, names = self._model_names
        if self._session is None or time.monotonic() - at < _COMPLETION_CACHE_SECONDS:
            return names
        try:
            names = sorted({m.name for m in self._session.market.all_models()})
        except Exception:  # noqa: BLE001 (completion must never fail: no names then)
            names = []
        self._model_names = (time.monotonic(), names)
        return names


# ---------------------------------------------------------------------------------------------------- handlers
def _connect(magics: ColearnMagics, args: argparse.Namespace) -> Session:
    from .session import Session

    session = Session.connect(args.account, rpc_url=args.rpc, ipfs_url=args.ipfs)
    magics.use(session)
    return session


def _status(magics: ColearnMagics, args: argparse.Namespace) -> Session:
    return magics.session_for(args)


def _labelled(magics: ColearnMagics, option: str, names: list[str], label: str | None) -> tuple[pd.DataFrame, str]:
    """One DataFrame holding the label column, from ``DF`` (with its label column) or ``X y``."""
    if len(names) > 2:
        raise MagicUsageError(f"{option} takes one DataFrame with its label column, or two variables X y")
    features = magics.frame(names[0])
    if len(names) == 1:
        label = label or "label"
        if label not in features.columns:
            raise MagicUsageError(
                f"{option} {names[0]} has no column {label!r}: name its label column with --label, or give X y",
                "publish",
            )
        return features, label
    y = magics.variable(
        names[1],
        "a pandas Series (or a 1-D array) of labels",
        lambda v: isinstance(v, pd.Series) or (isinstance(v, np.ndarray) and v.ndim == 1),
    )
    label = label or (str(y.name) if isinstance(y, pd.Series) and y.name is not None else "label")
    if len(y) != len(features):
        raise MagicUsageError(f"{option}: {names[0]} has {len(features)} rows but {names[1]} has {len(y)}")
    if label in features.columns:
        raise MagicUsageError(f"{option}: {names[0]} already has a column {label!r}; name the label with --label")
    return features.assign(**{label: np.asarray(y)}), label


def _publish(magics: ColearnMagics, args: argparse.Namespace) -> ModelCard:
    model = magics.variable(args.model, "a fitted model (with a predict method)", lambda v: hasattr(v, "predict"))
    train, label = _labelled(magics, "--train", args.train, args.label)
    test, _ = _labelled(magics, "--test", args.test, label)
    session = magics.session_for(args)
    card = session.publish(
        model, name=args.name, train=train, test=test, label=label, deposit=args.deposit, reward=args.reward,
        bond=args.bond, window=args.window, timeout=args.timeout, pool=args.pool, onchain=args.onchain,
        license=args.license, description=args.description,
    )  # fmt: skip
    magics.forget_model_names()
    return card


def _market(magics: ColearnMagics, args: argparse.Namespace) -> pd.DataFrame:
    page, note = market_page(magics.session_for(args).market_table(args.search), args.page, args.limit, args.search)
    if note:
        print(note)
    return page


def market_page(
    table: pd.DataFrame, page: int = 1, limit: int = MARKET_PAGE, search: str = ""
) -> tuple[pd.DataFrame, str]:
    """One page of :meth:`Session.market_table`, newest model first, as people read it (accuracy ``96.7%``, ether
    amounts), and the line that says which models it shows and how to see the next page ("" for a single page).

    >>> table = pd.DataFrame({"name": [f"m{i}" for i in range(1, 6)], "accuracy": [0.9667] * 5,
    ...                       "deposit (ETH)": [0.01] * 5, "reward (ETH)": [0.002] * 5}, index=range(1, 6))
    >>> page, note = market_page(table, 1, 2)
    >>> list(page.index), page.loc[5, "accuracy"], note
    ([5, 4], '96.7%', 'showing 1-2 of 5 models (newest first); next: %colearn market --limit 2 --page 2')
    """
    pages = max(1, math.ceil(len(table) / limit))
    if page > pages:
        raise MagicUsageError(f"there is no page {page}: {len(table)} models make {pages} page{'s' * (pages > 1)} "
                              f"of {limit}", "market")  # fmt: skip
    start = (page - 1) * limit
    shown = table.sort_index(ascending=False).iloc[start : start + limit].copy()
    shown["accuracy"] = shown["accuracy"].map(format_percent).astype(object)
    for column in ("deposit (ETH)", "reward (ETH)"):
        shown[column] = shown[column].map(lambda eth: format_eth(round(eth * WEI_PER_ETH), DISPLAY_DECIMALS, unit=""))
    if pages == 1:
        return shown, ""
    note = f"showing {start + 1}-{start + len(shown)} of {len(table)} models (newest first)"
    if page < pages:
        options = (f" --search {shlex.quote(search)}" if search else "") + (
            f" --limit {limit}" if limit != MARKET_PAGE else ""
        )
        note += f"; next: %colearn market{options} --page {page + 1}"
    return shown, note


def _contribute(magics: ColearnMagics, args: argparse.Namespace) -> Submission | list[Submission]:
    """One submission for a frame that fits one file; beyond, as many files as it needs (one call, a progress bar),
    and the list of their submissions."""
    frame = magics.frame(args.frame)
    submissions = magics.session_for(args).contribute_many(args.model, frame)
    first, last = submissions[0], submissions[-1]
    window = format_duration(first.window_ends_at - first.created_at)
    ids = f"submission {first.id}" if len(submissions) == 1 else f"submissions {first.id}-{last.id}"
    files = "" if len(submissions) == 1 else f" in {len(submissions)} files"
    print(
        f"{ids}: {sum(s.row_count for s in submissions):,} rows{files} to model {first.model_id}, "
        f"deposit {format_eth(sum(s.deposit for s in submissions))}; challenge window {window}"
    )
    return first if len(submissions) == 1 else submissions


def _pending(magics: ColearnMagics, args: argparse.Namespace) -> pd.DataFrame:
    return magics.session_for(args).pending(args.model)


def _verify(magics: ColearnMagics, args: argparse.Namespace) -> VerificationReport:
    report = magics.session_for(args).verify(args.submission)
    magics.last_report = report
    print(plan_text(report))
    return report


def plan_text(report: VerificationReport, limit: int = 20) -> str:
    """One line: the rows' verdicts and the challenges verify plans, with their kinds."""
    counts = report.rows["verdict"].value_counts().to_dict() if not report.rows.empty else {}
    verdicts = ", ".join(f"{count} {verdict}" for verdict, count in counts.items())
    head = f"submission {report.submission_id}: {len(report.rows)} rows" + (f" ({verdicts})" if verdicts else "")
    if report.problem:
        head += f"; {report.problem}"
    if not report.plan:
        return f"{head}; plan: nothing to challenge"
    planned = ", ".join(f"{_where(row)} ({kind})" for row, kind in report.plan[:limit])
    more = f" and {len(report.plan) - limit} more" if len(report.plan) > limit else ""
    return f"{head}; plan: {planned}{more}"


def _where(row: int | None) -> str:
    return "the file" if row is None else f"row {row}"


def _challenge(magics: ColearnMagics, args: argparse.Namespace) -> list[int]:
    chosen: list[int | None] = [*args.rows, *args.more_rows, *([None] if args.file else [])]
    if chosen and args.suggested:
        raise MagicUsageError("give ROWS (or --file) or --suggested, not both")
    session = magics.session_for(args)
    ids = session.challenge(args.submission, chosen or None)  # each row the way verify's plan says
    if not ids:
        print(f"nothing challenged: verify plans no challenge of submission {args.submission}")
        return ids
    kinds = [session.market.challenge_info(i) for i in ids]
    made = ", ".join(f"{_where(c.row_index)} ({c.kind}) → challenge {c.id}" for c in kinds)
    print(f"challenged submission {args.submission}: {made}")
    judged = [c for c in kinds if c.status != "pending"]
    if judged:
        print(f"judged at once by the contract: {', '.join(f'challenge {c.id} {c.status}' for c in judged)}")
    return ids


def _challenges(magics: ColearnMagics, args: argparse.Namespace) -> pd.DataFrame:
    return magics.session_for(args).challenges(args.model, status=None if args.status == "all" else args.status)


def _answer(magics: ColearnMagics, args: argparse.Namespace) -> list[int]:
    session = magics.session_for(args)
    answered = session.answer(args.challenge)
    if answered:
        print(
            f"answered challenge{'s' * (len(answered) > 1)} {', '.join(map(str, answered))}: the rows are on chain "
            f"and the bond{'s' * (len(answered) > 1)} credited to {session.account.name}"
        )
    else:
        which = f"challenge {args.challenge} is not" if args.challenge else "no challenge is"
        print(f"nothing answered: {which} a pending availability challenge whose file {session.account.name} holds")
    return answered


def _expire(magics: ColearnMagics, args: argparse.Namespace) -> list[int]:
    session = magics.session_for(args)
    expired = session.expire(args.challenge)
    for challenge in (session.market.challenge_info(i) for i in expired):
        outcome = (
            f"submission {challenge.submission_id} is forfeited (its row {challenge.row_index} was never produced)"
            if challenge.kind == "availability"
            else f"{_where(challenge.row_index)} of submission {challenge.submission_id} stands, the bond is returned"
        )
        print(f"challenge {challenge.id} ({challenge.kind}) expired: {outcome}")
    if not expired:
        which = f"challenge {args.challenge} is not" if args.challenge else "no challenge is"
        print(f"nothing expired: {which} pending past its time-out")
    return expired


def _resolve(magics: ColearnMagics, args: argparse.Namespace) -> bool | dict[int, bool]:
    if (args.challenge is None) == (args.all_of is None):
        raise MagicUsageError("give one CHALLENGE id, or --all MODEL")
    session = magics.session_for(args)
    if args.challenge is not None:
        upheld = session.resolve(args.challenge, args.verdict)
        print(f"challenge {args.challenge}: {_verdict_text(upheld, session.market.challenge_info(args.challenge))}")
        return upheld
    from .marketplace import OWNER_JUDGED

    queue = session.challenges(args.all_of, status="pending")
    judged = queue.index[queue["kind"].isin(OWNER_JUDGED)] if not queue.empty else []
    verdicts = {int(challenge): session.resolve(int(challenge), args.verdict) for challenge in judged}
    for challenge, upheld in verdicts.items():
        print(f"challenge {challenge}: {_verdict_text(upheld, session.market.challenge_info(challenge))}")
    if not verdicts:
        print(f"no pending label or file challenge for model {args.all_of}")
    return verdicts


def _verdict_text(upheld: bool, challenge: Challenge) -> str:
    if not upheld:
        return "rejected"
    return "upheld (the whole batch is rejected)" if challenge.kind == "file" else "upheld (the row is rejected)"


def _claim(magics: ColearnMagics, args: argparse.Namespace) -> int:
    session = magics.session_for(args)
    withdrawn = session.claim(args.submission)
    if withdrawn:
        print(f"{session.account.name} withdrew {format_eth(withdrawn)}")
    else:
        print(f"nothing to withdraw for {session.account.name} yet: windows still open or challenges pending")
    return withdrawn


def _retrain(magics: ColearnMagics, args: argparse.Namespace) -> ModelCard:
    estimator = None
    if args.estimator:
        estimator = magics.variable(args.estimator, "an estimator (with a fit method)", lambda v: hasattr(v, "fit"))
    return magics.session_for(args).retrain(args.model, estimator)


def _history(magics: ColearnMagics, args: argparse.Namespace) -> Any:
    history = magics.session_for(args).history(args.model)
    if not args.plot:
        return history
    from . import plots

    return plots.accuracy(history)


def _growth(magics: ColearnMagics, args: argparse.Namespace) -> Any:
    growth = magics.session_for(args).growth(args.model)
    if not args.plot:
        return growth
    from . import plots

    return plots.growth(growth)


def _balances(magics: ColearnMagics, args: argparse.Namespace) -> Any:
    balances = magics.session_for(args).balances(args.accounts or None)
    if not args.plot:
        return balances
    from . import plots

    return plots.balances(balances)


def _refresh_panels() -> None:
    """Let the ipywidgets panels shown in the notebook read the chain again (when any panel was ever made)."""
    base = sys.modules.get("colearn_jupyter.widgets._base")
    if base is not None:
        base.refresh_panels()


def _advance(magics: ColearnMagics, args: argparse.Namespace) -> int:
    now = magics.session_for(args).advance_time(args.duration)
    stamp = datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    print(f"chain time is now {stamp} (+{format_duration(parse_duration(args.duration))})")
    return now


def _class(magics: ColearnMagics, args: argparse.Namespace) -> pd.DataFrame:
    """The class of the session's devnet (:class:`~colearn_jupyter.classroom.Classroom`): creating and funding it
    are the instructor's; returns the roster (or the students funded)."""
    from .classroom import Classroom

    if args.who and args.action != "fund":
        raise MagicUsageError(f"class {args.action} takes no STUDENTS (only fund does); create takes --names A,B")
    if args.action != "create" and (args.students or args.names):
        raise MagicUsageError("--students and --names are for class create")
    if args.students and args.names:
        raise MagicUsageError("give --students N or --names A,B, not both")
    session = magics.session_for(args)
    room = Classroom(session.chain, acting=None if args.action == "list" else session.account)
    shown: list[str] | None = None
    if args.action == "create":
        names = [name.strip() for name in (args.names or "").split(",") if name.strip()]
        if args.names is not None and not names:
            raise MagicUsageError("--names takes the students' names separated by commas, e.g. --names ada,bea")
        added = room.create(names or args.students or 30, prefix=args.prefix, eth=args.eth)
        print(
            f"class of {len(room.students)} students ({len(added)} new, each funded with {args.eth} ETH from "
            f"deployer); the instructor is {room.instructor}"
        )
    elif args.action == "fund":
        sent = room.fund(args.who or None, eth=args.eth)
        shown = [room.account(name).name for name in args.who] or None
        print(f"topped up to {args.eth} ETH: {format_eth(sent, DISPLAY_DECIMALS)} sent from deployer")
    table = pd.DataFrame(room.table(DISPLAY_DECIMALS), columns=["student", "address", "balance"])
    table = table.rename(columns={"balance": "balance (ETH)"}).set_index("student")
    table["balance (ETH)"] = table["balance (ETH)"].str.removesuffix(" ETH")
    if shown is not None:
        table = table.loc[shown]
    if table.empty:
        print("no class on this devnet yet: the instructor makes one with `%colearn class create --students 30`")
    return table


def _help(magics: ColearnMagics, args: argparse.Namespace) -> None:
    if args.topic:
        print(magics.parser.commands[args.topic].format_help())
        return
    width = max(map(len, SUBCOMMANDS))
    print(_GUIDE + "\n".join(f"  {name:<{width}}  {text}" for name, text in SUBCOMMANDS.items()))


def _simulate(magics: ColearnMagics, args: argparse.Namespace) -> Any:
    """Run the simulation on this session's chain; returns its result (``.frame``, ``.figures()``)."""
    from .simulation import run, simulate_magic_args

    config = simulate_magic_args(shlex.join(args.options))
    return run(config, session=magics.session)


HANDLERS: dict[str, Callable[[ColearnMagics, argparse.Namespace], Any]] = {
    "connect": _connect,
    "status": _status,
    "publish": _publish,
    "market": _market,
    "contribute": _contribute,
    "pending": _pending,
    "verify": _verify,
    "challenge": _challenge,
    "challenges": _challenges,
    "answer": _answer,
    "expire": _expire,
    "simulate": _simulate,
    "class": _class,
    "resolve": _resolve,
    "claim": _claim,
    "retrain": _retrain,
    "history": _history,
    "growth": _growth,
    "balances": _balances,
    "advance": _advance,
    "help": _help,
}


# ---------------------------------------------------------------------------------------------------- completion
def complete(shell: Any, event: SimpleNamespace) -> list[str]:
    """Tab completion after ``%colearn``: subcommands, options, model names and notebook variable names."""
    magics = shell.magics_manager.registry.get("ColearnMagics")
    if magics is None:
        return []
    text = event.text_until_cursor
    words = text.split()
    if words and words[0].lstrip("%") == "colearn":
        words = words[1:]
    current = "" if not words or text[-1:].isspace() else words.pop()
    if not words:
        return [name for name in SUBCOMMANDS if name.startswith(current)]
    subcommand = words[0]
    if subcommand not in SUBCOMMANDS:
        return []
    parser = magics.parser.commands[subcommand]
    if current.startswith("-"):
        return sorted(option for option in parser._option_string_actions if option.startswith("--"))
    previous = words[-1]
    option = parser._option_string_actions.get(previous)
    if option is not None and option.choices:
        return [str(choice) for choice in option.choices if str(choice).startswith(current)]
    if subcommand == "class":
        return _complete_class(magics, words[1:], current)
    if previous == "--all" or (subcommand in _MODEL_ARGUMENT and _positionals(parser, words[1:]) == 0):
        return magics.model_names()
    namespace = shell.user_ns
    if previous in ("--train", "--test") or (subcommand == "contribute" and _positionals(parser, words[1:]) == 1):
        return sorted(n for n, v in namespace.items() if not n.startswith("_") and isinstance(v, pd.DataFrame))
    if (subcommand == "publish" and _positionals(parser, words[1:]) == 0) or previous == "--estimator":
        return sorted(n for n, v in namespace.items() if not n.startswith("_") and hasattr(v, "fit"))
    return []


def _complete_class(magics: ColearnMagics, words: list[str], current: str) -> list[str]:
    """After ``%colearn class``: the actions, then (after ``fund``) the students of the session's class."""
    if _positionals(magics.parser.commands["class"], words) == 0:
        return [action for action in CLASS_ACTIONS if action.startswith(current)]
    if words[0] != "fund" or magics._session is None:
        return []
    from .classroom import read_roster

    roster = read_roster(magics._session.settings.home_path) or {"students": {}}
    return sorted(name for name in roster["students"] if name.startswith(current) and name not in words)


def _positionals(parser: argparse.ArgumentParser, words: list[str]) -> int:
    """How many positional arguments ``words`` hold (skipping options and their values); -1 when unsure."""
    count, index = 0, 0
    while index < len(words):
        action = parser._option_string_actions.get(words[index])
        if action is not None:
            if action.nargs in ("+", "*"):
                return -1
            index += 1 + (action.nargs if isinstance(action.nargs, int) else 1)
            continue
        count, index = count + 1, index + 1
    return count


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics and their tab completion (``%load_ext colearn_jupyter`` calls this)."""
    ipython.register_magics(ColearnMagics(ipython))
    for key in ("%colearn", "%%colearn"):
        ipython.set_hook("complete_command", complete, str_key=key)


__all__ = ["ColearnMagics", "MagicUsageError", "build_parser", "complete", "load_ipython_extension"]
