"""The verifier's queue (verify a pending submission, challenge rows) and the owner's (resolve challenges)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import pandas as pd

from .. import htmlsafe
from ..units import format_duration
from ._base import (
    ERROR,
    MUTED,
    SUCCESS,
    TEXT,
    WARN,
    Panel,
    account_chooser,
    acting,
    attempt,
    button,
    guard,
    heading,
    html_table,
    set_options,
    short,
    table_box,
)

ROW_LIMIT = 500  # verdicts shown in the report's table
CHECKBOX_LIMIT = 100  # planned rows offered with a checkbox
KIND_NOTE = {
    "label": "the owner judges; posts the bond",
    "format": "the contract judges at once",
    "duplicate": "the contract judges at once",
    "training copy": "the contract judges at once",
    "test copy": "the contract judges at once",
    "availability": "demands the row; posts the bond",
    "file": "the owner judges the whole file; posts the bond",
}


@dataclass
class ChallengeRow:
    """One pending challenge in the challenges section, with the buttons its kind allows.

    A label or file challenge of a model the session's account owns gets Uphold / Reject / Auto; an availability
    challenge gets Answer (anyone holding the file may produce the row); any challenge past its time-out gets Expire.
    """

    challenge_id: int
    kind: str
    widget: widgets.HBox
    uphold: widgets.Button | None = None
    reject: widgets.Button | None = None
    auto: widgets.Button | None = None
    answer: widgets.Button | None = None
    expire: widgets.Button | None = None

    @property
    def buttons(self) -> list[widgets.Button]:
        return [b for b in (self.uphold, self.reject, self.auto, self.answer, self.expire) if b is not None]


class VerificationQueue(Panel):
    """Pending submissions to verify and challenge (as ``account``, default ``verifier``), and the pending
    challenges with what the session's account may do about them: judge the label challenges of the models it owns
    (uphold, reject, or let the model judge), answer availability challenges whose files it holds, and expire
    challenges past their time-out.

    Verifying shows every row's verdict, its fault (and what it copies) and the challenge kind verify plans for it;
    "Challenge selected" challenges the checked rows, each with the kind of the plan.

    >>> VerificationQueue(owner)                           # doctest: +SKIP
    """

    def __init__(self, session: Any, *, account: str = "verifier", model: int | str | None = None):
        super().__init__(session)
        self.model_filter = model
        self.report: Any = None  # the last VerificationReport
        self.last_challenges: list[int] = []
        self.row_boxes: dict[int, widgets.Checkbox] = {}
        self.row_kinds: dict[int, str] = {}  # the plan of the last report: row -> challenge kind
        self.resolvers: dict[int, ChallengeRow] = {}
        self.account = account_chooser(session, account, description="verifier")
        self.pending = widgets.Select(description="pending", options=[], value=None, rows=6,
                                      layout=widgets.Layout(width="auto", min_width="32em"))  # fmt: skip
        self.verify_button = button(
            "Verify", "search", "info", "check the file against its commitment, judge every row"
        )
        self.refresh_button = button("Refresh", "refresh", tooltip="read the queues again")
        self.report_html = table_box()
        self.rows_box = widgets.VBox()
        self.challenge_button = button(
            "Challenge selected", "flag", "warning", "challenge each checked row with the kind verify plans for it"
        )
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
                heading(f"Pending challenges (acting as {session.account.name})"),
                self.owner_html,
                self.owner_box,
            ]
        )
        self.refresh()

    # ------------------------------------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        """Read the pending submissions and the pending challenges again."""
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
        """Every pending challenge (of the model filter): one listing, which a model with unreadable metadata
        does not break (its challenges are listed without decoded values)."""
        self.resolvers = {}
        self.owner_box.children = []
        found, frame = guard(self.status, lambda: self.session.challenges(self.model_filter))
        if not found:
            self.owner_html.value = f"<div style='{ERROR}'>the challenges could not be read</div>"
            return
        found, models = guard(self.status, self.session.market.all_models)
        address = self.session.account.address.lower()
        owned = {m.id for m in models or () if m.owner.lower() == address} if found else set()
        found, now = guard(self.status, self.session.chain.timestamp)
        for challenge_id, row in frame.iterrows() if found else ():
            self.resolvers[int(challenge_id)] = self._challenge_row(int(challenge_id), row, now, owned)
        kinds = pd.Series([r.kind for r in self.resolvers.values()], dtype=object).value_counts().to_dict()
        by_kind = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
        note = f"{len(self.resolvers)} pending challenge{'s' * (len(self.resolvers) != 1)}"
        self.owner_html.value = f"<div style='{MUTED}'>{note}{f': {htmlsafe.text(by_kind)}' if by_kind else ''}</div>"
        self.owner_box.children = [row.widget for row in self.resolvers.values()]

    def _challenge_row(self, challenge_id: int, row: pd.Series, now: int, owned: set[int]) -> ChallengeRow:
        from ..session import CHALLENGE_FIELDS

        fixed = set(CHALLENGE_FIELDS)
        values = ", ".join(f"{k}={v}" for k, v in row.items() if k not in fixed and not pd.isna(v))
        kind, model_id = str(row["kind"]), int(row["model"])
        left = int(row["resolve by"]) - now
        if kind == "availability":
            deadline = (
                f"answer within {format_duration(left)}" if left > 0 else "unanswered: the batch can be forfeited"
            )
        else:
            deadline = f"resolve within {format_duration(left)}" if left > 0 else "resolution time is over"
        where = "the file" if pd.isna(row["row"]) else f"row {int(row['row'])}"
        text = (
            f"<div style='{TEXT}'><b>#{challenge_id}</b> <span style='{WARN}'>{htmlsafe.text(kind)}</span>"
            f" · model {model_id}"
            f" · submission {htmlsafe.text(row['submission'])} {where}"
            f" · by {htmlsafe.text(short(str(row['challenger'])))} · {deadline}"
            f"<br><span style='{MUTED}'>{htmlsafe.text(values[:200]) or '&nbsp;'}</span></div>"
        )
        item = ChallengeRow(challenge_id, kind, widgets.HBox())
        if kind in ("label", "file") and model_id in owned and left > 0:
            file = kind == "file"
            wrong = "the file is unusable: the whole batch is rejected" if file else "the label is wrong: row rejected"
            item.uphold = button("Uphold", "check", "danger", wrong)
            fine = f"the {'file' if file else 'row'} is fine: the challenger's bond is burned"
            item.reject = button("Reject", "times", "success", fine)
            guess = "try to fetch the file and check it" if file else "let the current model judge the row"
            item.auto = button("Auto", "magic", tooltip=guess)
            for choice, verdict in ((item.uphold, True), (item.reject, False), (item.auto, None)):
                choice.on_click(lambda b, verdict=verdict: self._resolve(challenge_id, verdict))
        if kind == "availability" and left > 0:
            item.answer = button("Answer", "upload", "info", "produce the demanded row from the file; earns the bond")
            item.answer.on_click(lambda b: self._answer(challenge_id))
        if left < 0:
            item.expire = button(
                "Expire", "clock-o", "warning", "close it: a label stands, a demand forfeits the batch"
            )
            item.expire.on_click(lambda b: self._expire(challenge_id))
        item.widget.children = [*item.buttons, widgets.HTML(text)]
        return item

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
        self.row_kinds = {}
        self.rows_box.children = []

    def _sync(self, _change: Any = None) -> None:
        self.verify_button.disabled = self.pending.value is None
        self.challenge_button.disabled = self.report is None or not self.selected_rows()

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
        self.row_kinds = {None if row is None else int(row): kind for row, kind in report.plan}
        checks = " · ".join(
            f"<span style='{SUCCESS if good else ERROR}'>{name} {'✔' if good else '✘'}</span>"
            for name, good in (("CID", report.cid_ok), ("row count", report.count_ok),
                               ("Merkle root", report.root_ok), ("rows", report.schema_ok))
        )  # fmt: skip
        verdicts = report.rows["verdict"].value_counts().to_dict() if not report.rows.empty else {}
        counted = ", ".join(f"{count:,} {verdict}" for verdict, count in verdicts.items())
        kinds = pd.Series(list(self.row_kinds.values()), dtype=object).value_counts().to_dict()
        planned = ", ".join(f"{count:,} {kind}" for kind, count in kinds.items())
        problem = f"<div style='{ERROR}'>{htmlsafe.text(report.problem)}</div>" if report.problem else ""
        head = (
            f"<div style='{TEXT}'><b>Submission #{report.submission_id}</b> of model #{report.model_id}: {checks}; "
            f"{len(report.rows):,} rows{f' ({htmlsafe.text(counted)})' if counted else ''}, "
            f"<span style='{WARN if report.plan else MUTED}'>{len(report.plan):,} planned challenge"
            f"{'s' * (len(report.plan) != 1)}{f' ({htmlsafe.text(planned)})' if planned else ''}</span>{problem}</div>"
        )
        table = report.rows.head(ROW_LIMIT).rename(columns={"challenge": "challenge kind"})
        more = (
            f"<div style='{MUTED}'>first {ROW_LIMIT:,} of {len(report.rows):,} rows</div>"
            if len(report.rows) > ROW_LIMIT
            else ""
        )
        shown = "" if report.rows.empty else html_table(table.fillna("").astype(str), max_height="240px",
                                                        highlight=lambda i: i in self.row_kinds)  # fmt: skip
        self.report_html.value = head + shown + more
        self.row_boxes = {}
        for index, kind in list(self.row_kinds.items())[:CHECKBOX_LIMIT]:
            box = widgets.Checkbox(value=True, indent=False, description=self._describe(report, index, kind),
                                   layout=widgets.Layout(width="auto"))  # fmt: skip
            box.observe(self._sync, names="value")
            self.row_boxes[index] = box
        children: list[widgets.Widget] = list(self.row_boxes.values())
        if len(self.row_kinds) > CHECKBOX_LIMIT:
            children.append(
                widgets.HTML(f"<div style='{MUTED}'>first {CHECKBOX_LIMIT} of {len(self.row_kinds):,}</div>")
            )
        self.rows_box.children = children

    @staticmethod
    def _describe(report: Any, index: int | None, kind: str) -> str:
        """A checkbox's label: the row, why it is planned, and the challenge kind."""
        note = KIND_NOTE.get(kind, "")
        if index is None:
            return f"the whole file: {report.problem or 'unusable'} → {kind} ({note})"
        if index not in report.rows.index:  # a row of a file that cannot be read
            return f"row {index}: demand it ({kind}: {note})"
        row = report.rows.loc[index]
        if kind == "label":
            why = f"label {row['label']}, model says {row['predicted']}"
        else:
            why = str(row["fault"]) + (f" of {row['copy of']}" if row["copy of"] else "")
        return f"row {index}: {why} → {kind} ({note})"

    # ------------------------------------------------------------------------------------------------ challenge
    def selected_rows(self) -> list[int | None]:
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
            f"challenging {len(rows)} {'row' if rows != [None] else 'file'}{'s' * (len(rows) != 1)} of submission "
            f"#{submission_id}",
            lambda: acting(self.session, self.account.value).challenge(submission_id, rows),
        )
        if done:
            self.last_challenges = list(challenge_ids or ())
            for index in rows:
                self.row_boxes[index].value = False
                self.row_boxes[index].disabled = True
            self._load_pending()
            self._load_challenges()
            made = ", ".join(
                f"#{cid} ({self.row_kinds.get(row, 'label')})"
                for row, cid in zip(rows, self.last_challenges, strict=False)
            )
            self.status.ok(f"challenges {made} raised on submission #{submission_id}")
            self.announce()
        self._sync()

    # ------------------------------------------------------------------------------------------------ act on challenges
    def _run(self, challenge_id: int, what: str, action: Any) -> tuple[bool, Any]:
        row = self.resolvers.get(challenge_id)
        if row is None or not row.buttons or all(b.disabled for b in row.buttons):
            return False, None
        done, result = attempt(self.status, row.buttons, f"{what} challenge #{challenge_id}", action)
        if done:
            self._load_challenges()
            self._load_pending()
            self.announce()
        return done, result

    def _resolve(self, challenge_id: int, upheld: bool | None) -> None:
        done, verdict = self._run(challenge_id, "resolving", lambda: self.session.resolve(challenge_id, upheld))
        if done:
            self.status.ok(f"challenge #{challenge_id} {'upheld' if verdict else 'rejected'}")

    def _answer(self, challenge_id: int) -> None:
        done, answered = self._run(challenge_id, "answering", lambda: self.session.answer(challenge_id))
        if done and answered:
            self.status.ok(f"challenge #{challenge_id} answered: the row is on chain, the bond credited to "
                           f"{self.session.account.name}")  # fmt: skip
        elif done:
            self.status.error(f"challenge #{challenge_id} cannot be answered from here: its file is missing from "
                              "this storage or does not match its commitment")  # fmt: skip

    def _expire(self, challenge_id: int) -> None:
        done, expired = self._run(challenge_id, "expiring", lambda: self.session.expire(challenge_id))
        if done and expired:
            self.status.ok(f"challenge #{challenge_id} expired")
        elif done:
            self.status.error(f"challenge #{challenge_id} is not past its time-out")
