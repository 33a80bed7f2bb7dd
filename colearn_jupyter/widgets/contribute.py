"""Contribute a DataFrame to a model: choose it, see what it costs and whether it is valid, confirm."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import pandas as pd

from .. import htmlsafe
from ..units import format_eth
from ._base import (
    ERROR,
    MUTED,
    SUCCESS,
    TEXT,
    Panel,
    account_chooser,
    acting,
    attempt,
    button,
    guard,
    heading,
    set_options,
)

DIRECT = "(set in code)"  # the frames dropdown's value for a DataFrame given as ``panel.frame = df``


def user_namespace() -> Mapping[str, Any]:
    """The IPython user namespace when running in IPython, else an empty one."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


class ContributePanel(Panel):
    """Contribute a DataFrame to a model, paying the deposit of every row: one batch, or as many files as a frame
    beyond one file's bounds needs.

    The DataFrame is chosen in the ``frames`` dropdown (the ``DataFrame`` variables of ``namespace``, by default
    the notebook's), given as ``frame`` (a variable's name or a DataFrame) or set with ``panel.frame = df``;
    nothing is chosen by default, so no data set is contributed by accident. The preview shows
    :meth:`Session.preview` of the chosen account: rows, deposit, and the validation problem naming the rows (rows
    the model already has, its owner's training rows included, are refused there; when the account owns the model,
    rows of its hidden test set too). The confirm button is enabled only for a valid frame and calls
    ``session.as_account(account).contribute_many(model, frame)``; then every other panel shown reads the chain
    again.

    >>> panel = ContributePanel(session, model="iris", frame="new_rows")      # doctest: +SKIP
    >>> panel.frame = new_rows                                                 # doctest: +SKIP
    >>> panel                                                                  # doctest: +SKIP
    """

    def __init__(
        self,
        session: Any,
        namespace: Mapping[str, Any] | None = None,
        model: int | str | None = None,
        *,
        account: str | None = None,
        frame: str | pd.DataFrame | None = None,
        on_submitted: Callable[[Any], None] | None = None,
    ):
        super().__init__(session)
        self.namespace = user_namespace() if namespace is None else namespace
        self._direct: pd.DataFrame | None = None
        self._submitted = False  # the current inputs were contributed: confirm stays off until they change
        self._on_submitted = on_submitted
        self.preview_result: dict[str, Any] | None = None
        self.last_submission: Any = None  # the last of the last confirm's submissions
        self.last_submissions: list[Any] = []  # every one of them: one a file, when the frame needs several
        self.frames = widgets.Dropdown(description="DataFrame", options=[], value=None)
        self.models = widgets.Dropdown(description="model", options=[], value=None)
        self.account = account_chooser(session, account)
        self.preview_html = widgets.HTML()
        self.confirm = button("Confirm contribution", "check", "primary", "pay the deposit and submit these rows")
        self.confirm.disabled = True
        self.refresh_button = button("Refresh", "refresh", tooltip="look for DataFrames and models again")
        self.frames.observe(self._changed, names="value")
        self.models.observe(self._changed, names="value")
        self.account.observe(self._changed, names="value")
        self.confirm.on_click(self._on_confirm)
        self.refresh_button.on_click(lambda _: self.refresh())
        self.widget = widgets.VBox(
            [
                heading("Contribute data"),
                widgets.HBox([self.frames, self.models]),
                widgets.HBox([self.account, self.refresh_button]),
                self.preview_html,
                widgets.HBox([self.confirm, self.status.widget]),
            ]
        )
        self.refresh()
        if model is not None:
            found, model_id = guard(self.status, lambda: self.session.resolve_model(model))
            if found:
                self.model = model_id
        if isinstance(frame, pd.DataFrame):
            self.frame = frame
        elif frame is not None:
            self.frames.value = frame

    # ------------------------------------------------------------------------------------------------ state
    @property
    def frame(self) -> pd.DataFrame | None:
        """The DataFrame to contribute: the one chosen in the dropdown, or the one set directly."""
        name = self.frames.value
        if name == DIRECT:
            return self._direct
        value = self.namespace.get(name) if name is not None else None
        return value if isinstance(value, pd.DataFrame) else None

    @frame.setter
    def frame(self, frame: pd.DataFrame | None) -> None:
        if frame is not None and not isinstance(frame, pd.DataFrame):
            raise TypeError(f"a pandas DataFrame is needed, not {type(frame).__name__}")
        self._direct = frame
        keep = DIRECT if frame is not None else None if self.frames.value == DIRECT else self.frames.value
        with self.quietly():
            self._frame_options(keep)
        self._changed()

    @property
    def model(self) -> int | None:
        """The id of the chosen model."""
        return self.models.value

    @model.setter
    def model(self, model_id: int | None) -> None:
        if model_id is not None and model_id not in [value for _, value in self.models.options]:
            with self.quietly():
                self._model_options(self.models.value)
        self.models.value = model_id

    # ------------------------------------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        """Look for DataFrames in the namespace and for models on chain again, then preview."""
        self.status.clear()
        with self.quietly():
            self._frame_options(self.frames.value)
            self._model_options(self.models.value)
        self._changed()

    def _frame_options(self, keep: str | None) -> None:
        options = [
            (f"{name} ({len(value):,} rows)", name)
            for name, value in list(self.namespace.items())
            if isinstance(value, pd.DataFrame) and not name.startswith("_")
        ]
        if self._direct is not None:
            options.insert(0, (f"{DIRECT}, {len(self._direct):,} rows", DIRECT))
        set_options(self.frames, options, keep)  # never a default: the user picks the rows to pay for

    def _model_options(self, keep: int | None) -> None:
        found, models = guard(self.status, self.session.market.all_models)
        options = [(f"#{m.id} {m.name}", m.id) for m in reversed(models or [])] if found else []
        set_options(self.models, options, keep)

    # ------------------------------------------------------------------------------------------------ preview
    def _changed(self, _change: Any = None) -> None:
        if self._quiet:
            return
        self._submitted = False
        self.preview_result = None
        self.status.clear()
        frame, model = self.frame, self.model
        if frame is None or model is None:
            self.preview_html.value = f"<div style='{MUTED}'>choose a DataFrame and a model to see a preview</div>"
        else:
            found, result = guard(self.status, lambda: self._preview(model, frame))
            self.preview_result = result if found else None
            self.preview_html.value = self._preview_html(model, result) if found else ""
        self._sync()

    def _preview(self, model: int, frame: pd.DataFrame) -> dict[str, Any]:
        """:meth:`Session.preview` as the chosen account (which refuses its own model's hidden test rows)."""
        return acting(self.session, self.account.value).preview(model, frame)

    def _preview_html(self, model: int, result: dict[str, Any]) -> str:
        verdict = (
            f"<div style='{SUCCESS}'>✔ valid: ready to contribute</div>"
            if result["valid"]
            else f"<div style='{ERROR}'>✘ {htmlsafe.text(result['problem'])}</div>"
        )
        return (
            f"<div style='{TEXT}'><b>{result['rows']:,} rows</b> for model #{model}"
            f" <b>{htmlsafe.text(result['model'])}</b> as <b>{htmlsafe.text(self.account.value)}</b>"
            f"<br>deposit to pay: <b>{format_eth(result['deposit'])}</b>"
            f" <span style='{MUTED}'>(returned with up to {format_eth(result['reward if accepted'])} of reward "
            f"for the rows accepted; a row proven bad loses its deposit)</span>{verdict}</div>"
        )

    def _sync(self) -> None:
        valid = bool(self.preview_result and self.preview_result["valid"])
        self.confirm.disabled = not valid or self._submitted

    # ------------------------------------------------------------------------------------------------ confirm
    def _on_confirm(self, _button: Any = None) -> None:
        if self.confirm.disabled:
            return
        frame, model, name = self.frame, self.model, self.account.value
        done, submissions = attempt(
            self.status,
            [self.confirm],
            f"contributing {len(frame):,} rows to model #{model}",
            lambda: acting(self.session, name).contribute_many(model, frame, progress=False),
        )
        submission = submissions[-1] if done else None
        if done:
            self.last_submission, self.last_submissions = submission, submissions
            self._submitted = True
            paid = format_eth(sum(s.deposit for s in submissions))
            rows = sum(s.row_count for s in submissions)
            if len(submissions) == 1:
                self.status.ok(f"submission #{submission.id}: {rows:,} rows, deposit {paid} paid")
            else:
                self.status.ok(f"submissions #{submissions[0].id}-#{submission.id}: {rows:,} rows in "
                               f"{len(submissions)} files, deposit {paid} paid")  # fmt: skip
        self._sync()
        if done and self._on_submitted is not None:
            self._on_submitted(submission)
        if done:
            self.announce()
