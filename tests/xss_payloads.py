"""Stored-XSS payloads planted in every field a stranger controls, and every face that shows them.

Shared by ``tests/test_xss.py`` (the notebook reprs and the ipywidgets panels, parsed) and the UI test set-up
(``labextension/ui-tests/setup_marketplace.py``, which plants the same model for the sidebar and for a notebook
run in the browser). Each payload sets ``window.__xss`` when it runs; shown as text, it sets nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pandas as pd

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = '"><script>window.__xss=1</script>'
SVG = "'><svg onload=window.__xss=1>"
LINK = "javascript:window.__xss=1"
ANCHOR = '<a href="javascript:window.__xss=1">click</a>'
PAYLOADS = (IMG, SCRIPT, SVG, LINK, ANCHOR)

#: the model's name (the contract allows 128 bytes) and description
NAME = f"xss {IMG}"
DESCRIPTION = f"{SCRIPT} {SVG} {ANCHOR}"
#: feature names (a number and a string column) and the label column's name
NUMBER_FEATURE = f"n {IMG}"
STRING_FEATURE = f"s {SCRIPT}"
LABEL = f"y {SVG}"
#: the label values (a classification's classes) and the string feature's values
LABELS = (IMG, SCRIPT, ANCHOR)
STRINGS = (SVG, LINK, ANCHOR, IMG)

#: tags that our own markup uses (pandas adds ``style`` to a DataFrame's repr)
ALLOWED_TAGS = {"div", "span", "b", "code", "table", "thead", "tbody", "tr", "th", "td", "caption", "br", "style"}


def frame(rows: int, seed: int) -> pd.DataFrame:
    """Rows whose label follows the number feature (a model can learn it), with payload strings everywhere."""
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, len(LABELS), size=rows)
    return pd.DataFrame(
        {
            NUMBER_FEATURE: classes * 10.0 + rng.integers(0, 3, size=rows),
            STRING_FEATURE: [f"{STRINGS[i % len(STRINGS)]} {seed}-{i}" for i in range(rows)],
            LABEL: [LABELS[c] for c in classes],
        }
    )


def model() -> Any:
    """A pipeline that reads both features (one-hot encoded: the numbers take a few values) with classes that are
    payloads; only allowlisted classes, so a verifier loads it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    return Pipeline([("encode", OneHotEncoder(handle_unknown="ignore")), ("classify", LogisticRegression())])


@dataclass(frozen=True)
class Planted:
    model_id: int
    submission_id: int
    challenge_ids: tuple[int, ...]
    flipped: tuple[int, ...]


def plant(owner: Any, contributor: str = "carol", verifier: str = "verifier", *, seed: int = 5) -> Planted:
    """Publish the payload model as ``owner`` (a Session), a batch of ``contributor``'s with payload rows and
    mislabelled rows, and a label challenge of ``verifier``'s on one of them (its row is revealed on chain)."""
    train, test, batch = frame(60, seed), frame(30, seed + 1), frame(12, seed + 2)
    fitted = model().fit(train[[NUMBER_FEATURE, STRING_FEATURE]], train[LABEL])
    card = owner.publish(fitted, name=NAME, train=train, test=test, label=LABEL, description=DESCRIPTION,
                         license=ANCHOR, deposit="0.01", reward="0.002", window="1h", pool="0.1")  # fmt: skip
    flipped = (1, 4, 7)
    for i in flipped:
        batch.loc[i, LABEL] = next(label for label in LABELS if label != batch.loc[i, LABEL])
    submission = owner.as_account(contributor).contribute(card.id, batch)
    checker = owner.as_account(verifier)
    report = checker.verify(submission.id)
    assert report.schema_ok and report.root_ok, report
    challenged = [row for row, kind in report.plan if kind == "label"][:1]
    assert challenged, report.plan
    challenge_ids = checker.challenge(submission.id, challenged)
    return Planted(card.id, submission.id, tuple(challenge_ids), flipped)


# ---------------------------------------------------------------------------------------------------- checking
class _Parsed(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.findings: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in ALLOWED_TAGS:
            self.findings.append(f"element <{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.findings.append(f"handler {name}= on <{tag}>")
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                self.findings.append(f"{name}= on <{tag}>")
            if name != "title" and value and ("javascript:" in value.lower() or "__xss" in value):
                self.findings.append(f"payload in {name}= of <{tag}>")  # a title is text; anything else is not

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def inspect(html: str) -> tuple[list[str], str]:
    """What in ``html`` could run (elements beyond our own, handlers, links), and its text as a reader sees it."""
    parsed = _Parsed()
    parsed.feed(html)
    parsed.close()
    return parsed.findings, "".join(parsed.text)


def widget_html(root: Any) -> Iterator[tuple[str, str]]:
    """``(path, HTML)`` of every ``HTML`` widget under an ipywidgets widget (or a panel's ``.widget``), and every
    description a widget would render as HTML (none should)."""
    import ipywidgets as widgets

    def walk(widget: Any, path: str) -> Iterator[tuple[str, str]]:
        name = f"{path}/{type(widget).__name__}"
        if isinstance(widget, widgets.HTML | widgets.HTMLMath):
            yield name, widget.value
        if getattr(widget, "description_allow_html", False):
            yield f"{name}.description", widget.description
        for i, child in enumerate(getattr(widget, "children", ())):
            yield from walk(child, f"{name}[{i}]")

    yield from walk(getattr(root, "widget", root), "")
