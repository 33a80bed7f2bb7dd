"""The verifier's queue (verify a pending submission, challenge rows) and the owner's (resolve challenges)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..units import format_duration
from ._base import (
    ERROR,
    MUTED,
    SUCCESS,
    TEXT,
    WARN,
    Panel,
    StatusLine,
    account_chooser,
    acting,
    attempt,
    button,
    guard,
    heading,
    html_table,
    ids,
    set_options,
    short,
)

ROW_LIMIT = 500  # verdicts shown in the report's table
CHECKBOX_LIMIT = 100  # suggested rows offered with a checkbox


@dataclass
class ChallengeRow:
    """One pending challenge in the owner's section, with its three buttons."""

    challenge_id: int
    uphold: widgets.Button
    reject: widgets.Button
    auto: widgets.Button
    widget: widgets.HBox


class VerificationQueue(Panel):
    """Pending submissions to verify and challenge (as ``account``, default ``verifier``), and, for the session's
    account as model owner, the pending challenges of its models to uphold, reject or let the model judge.

    >>> VerificationQueue(owner)                           # doctest: +SKIP
    """

    def __init__(self, session: Any, *, account: str = "verifier", model: int | str | None = None):
        super().__init__(session)
        self.model_filter = model
        self.report: Any = None  # the last VerificationReport
        self.last_challenges: list[int] = []
        self.row_boxes: dict[int, widgets.Checkbox] = {}
        self.resolvers: dict[int, ChallengeRow] = {}
        self.account = account_chooser(session, account, description="verifier")
        self.pending = widgets.Select(description="pending", options=[], value=None, rows=6,
                                      layout=widgets.Layout(width="auto", min_width="32em"))  # fmt: skip
        self.verify_button = button("Verify", "search", "info", "check the file and score every row")
        self.refresh_button = button("Refresh", "refresh", tooltip="read the queues again")
        self.report_html = widgets.HTML()
        self.rows_box = widgets.VBox()
        self.challenge_button = button("Challenge selected", "flag", "warning", "post a bond for each checked row")
        self.owner_html = widgets.HTML()
        self.owner_box = widgets.VBox()
        self.pending.observe(self._pending_changed, names="value")
        self.verify_button.on_click(self._on_verify)
        self.challenge_button.on_click(self._on_challenge)
        self.refresh_button.on_click(lambda _: self.refresh())
        self.widget = widgets.VBox(
            [
                heading("Verification queue"),
                widgets.HBox([self.account, self.refresh_button]),
                self.pending,
                widgets.HBox([self.verify_button, self.challenge_button]),
                self.status.widget,
                self.report_html,
                self.rows_box,
                heading(f"Challenges to resolve as owner ({escape(session.account.name)})"),
                self.owner_html,
                self.owner_box,
            ]
        )
        self.refresh()

    # ------------------------------------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        """Read the pending submissions and the owner's pending challenges again."""
        self.status.clear()
        self._load_pending()
        self._load_challenges()

    def _load_pending(self) -> None:
        found, frame = guard(self.status, lambda: self.session.pending(self.model_filter))
        options = [
            (f"#{sid} · model {row['model']} · {row['rows']:,} rows by {short(row['contributor'])} · "
             f"{row['window left']} left · {row['open challenges']} open challenges", sid)
            for sid, row in (frame.iterrows() if found else ())
        ]  # fmt: skip
        keep = self.pending.value
        with self.quietly():
            set_options(self.pending, options, keep)
        if self.pending.value != keep:
            self._clear_report()
        self._sync()

    def _load_challenges(self) -> None:
        address = self.session.account.address.lower()
        found, models = guard(self.status, self.session.market.all_models)
        owned = [m.id for m in models or () if m.owner.lower() == address] if found else []
        if self.model_filter is not None:
            found, wanted = guard(self.status, lambda: self.session.resolve_model(self.model_filter))
            owned = [m for m in owned if found and m == wanted]
        frames, failed, problem = [], [], StatusLine()
        for model_id in owned:  # one model at a time: a model whose metadata is unreadable does not hide the rest
            found, frame = guard(problem, lambda model_id=model_id: self.session.challenges(model_id))
            if found:
                frames.append(frame)
            else:
                failed.append(model_id)
        found, now = guard(self.status, self.session.chain.timestamp)
        self.resolvers = {}
        frames = frames if found else []
        for frame in frames:
            for challenge_id, row in frame.iterrows():
                self.resolvers[int(challenge_id)] = self._challenge_row(int(challenge_id), row, now)
        note = f"{len(self.resolvers)} pending challenge{'s' * (len(self.resolvers) != 1)}"
        if failed:
            note += f"; <span style='{ERROR}'>models {ids(failed)} could not be read: {escape(problem.text)}</span>"
        self.owner_html.value = f"<div style='{MUTED}'>{note}</div>"
        self.owner_box.children = [row.widget for row in self.resolvers.values()]

    def _challenge_row(self, challenge_id: int, row: pd.Series, now: int) -> ChallengeRow:
        fixed = {"model", "submission", "row", "status", "challenger", "resolve by"}
        values = ", ".join(f"{k}={v}" for k, v in row.items() if k not in fixed and not pd.isna(v))
        left = int(row["resolve by"]) - now
        deadline = f"resolve within {format_duration(left)}" if left > 0 else "resolution time is over"
        text = (
            f"<div style='{TEXT}'><b>#{challenge_id}</b> · model {row['model']} · submission {row['submission']} "
            f"row {row['row']} · by {short(row['challenger'])} · {deadline}"
            f"<br><span style='{MUTED}'>{escape(values[:200])}</span></div>"
        )
        uphold = button("Uphold", "check", "danger", "the row is bad: the contributor loses its deposit")
        reject = button("Reject", "times", "success", "the row is fine: the challenger loses the bond")
        auto = button("Auto", "magic", tooltip="let the current model judge the row")
        for choice, verdict in ((uphold, True), (reject, False), (auto, None)):
            choice.on_click(lambda b, verdict=verdict: self._resolve(challenge_id, verdict))
        box = widgets.HBox([uphold, reject, auto, widgets.HTML(text)])
        return ChallengeRow(challenge_id, uphold, reject, auto, box)

    # ------------------------------------------------------------------------------------------------ verify
    def _pending_changed(self, _change: Any) -> None:
        if not self._quiet:
            self.status.clear()
            self._clear_report()
            self._sync()

    def _clear_report(self) -> None:
        self.report = None
        self.report_html.value = ""
        self.row_boxes = {}
        self.rows_box.children = []

    def _sync(self, _change: Any = None) -> None:
        self.verify_button.disabled = self.pending.value is None
        report_ok = self.report is not None and self.report.ok
        self.challenge_button.disabled = not report_ok or not any(box.value for box in self.row_boxes.values())

    def _on_verify(self, _button: Any = None) -> None:
        submission_id = self.pending.value
        if self.verify_button.disabled or submission_id is None:
            return
        self._clear_report()
        done, report = attempt(
            self.status,
            [self.verify_button, self.challenge_button],
            f"verifying submission #{submission_id}",
            lambda: acting(self.session, self.account.value).verify(submission_id),
        )
        if done:
            self._show_report(report)
        self._sync()

    def _show_report(self, report: Any) -> None:
        self.report = report
        checks = " · ".join(
            f"<span style='{SUCCESS if good else ERROR}'>{name} {'✔' if good else '✘'}</span>"
            for name, good in (("CID", report.cid_ok), ("Merkle root", report.root_ok), ("schema", report.schema_ok))
        )
        suggested = report.suggested
        problem = f"<div style='{ERROR}'>{escape(report.problem)}</div>" if report.problem else ""
        head = (
            f"<div style='{TEXT}'><b>Submission #{report.submission_id}</b> of model #{report.model_id}: {checks}; "
            f"{len(report.rows):,} rows, <span style='{WARN if suggested else MUTED}'>{len(suggested):,} suggested "
            f"for challenge</span> (the current model disagrees with their label){problem}</div>"
        )
        rows = report.rows.head(ROW_LIMIT).astype(str)
        more = (
            f"<div style='{MUTED}'>first {ROW_LIMIT:,} of {len(report.rows):,} rows</div>"
            if len(report.rows) > ROW_LIMIT
            else ""
        )
        flagged = set(suggested)
        self.report_html.value = head + html_table(rows, highlight=lambda i: i in flagged, max_height="240px") + more
        self.row_boxes = {}
        for index in suggested[:CHECKBOX_LIMIT]:
            label, predicted = report.rows.loc[index, "label"], report.rows.loc[index, "predicted"]
            description = f"row {index}: label {label}, model says {predicted}"
            box = widgets.Checkbox(value=True, indent=False, description=description)
            box.observe(self._sync, names="value")
            self.row_boxes[int(index)] = box
        children: list[widgets.Widget] = list(self.row_boxes.values())
        if len(suggested) > CHECKBOX_LIMIT:
            children.append(widgets.HTML(f"<div style='{MUTED}'>first {CHECKBOX_LIMIT} of {len(suggested):,}</div>"))
        self.rows_box.children = children

    # ------------------------------------------------------------------------------------------------ challenge
    def selected_rows(self) -> list[int]:
        """The checked rows of the last report."""
        return [index for index, box in self.row_boxes.items() if box.value and not box.disabled]

    def _on_challenge(self, _button: Any = None) -> None:
        rows = self.selected_rows()
        if self.challenge_button.disabled or self.report is None or not rows:
            return
        submission_id = self.report.submission_id
        done, challenge_ids = attempt(
            self.status,
            [self.verify_button, self.challenge_button],
            f"challenging {len(rows)} row{'s' * (len(rows) != 1)} of submission #{submission_id}",
            lambda: acting(self.session, self.account.value).challenge(submission_id, rows),
        )
        if done:
            self.last_challenges = list(challenge_ids)
            for index in rows:
                self.row_boxes[index].value = False
                self.row_boxes[index].disabled = True
            self._load_pending()
            self._load_challenges()
            self.status.ok(f"challenges {ids(challenge_ids)} raised on submission #{submission_id}")
        self._sync()

    # ------------------------------------------------------------------------------------------------ resolve
    def _resolve(self, challenge_id: int, upheld: bool | None) -> None:
        row = self.resolvers.get(challenge_id)
        if row is None or row.uphold.disabled:
            return
        done, verdict = attempt(
            self.status,
            [row.uphold, row.reject, row.auto],
            f"resolving challenge #{challenge_id}",
            lambda: self.session.resolve(challenge_id, upheld),
        )
        if done:
            self._load_challenges()
            self._load_pending()
            self.status.ok(f"challenge #{challenge_id} {'upheld' if verdict else 'rejected'}")
