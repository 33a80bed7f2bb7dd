"""HTML for the notebook and the ipywidgets panels, built only from escaped parts.

Almost every string a face shows comes from a stranger: a model's name, its metadata (description, feature and
label names, label values), the rows of a submission, even a CID or an address read from the chain. The
notebook renders a ``_repr_html_`` as HTML, and an ipywidgets ``HTML`` widget sets its value as ``innerHTML``, so
such a string must never reach HTML unescaped. Every ``_repr_html_`` and every ``HTML`` widget value is built
with this module: :func:`text` for any value (whatever its type or origin), :func:`code` for identifiers,
:func:`table` for a caption and rows, :func:`frame` for a DataFrame. Markup of our own (tags, styles) is
written literally, never taken from data.

>>> text('<img src=x onerror="alert(1)">')
'&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
>>> code("bafy'x")
'<code>bafy&#x27;x</code>'
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for the annotation: the module imports nothing heavy
    import pandas as pd


def text(value: Any) -> str:
    """``str(value)`` as HTML text: ``& < > " '`` escaped, so it is safe in an element and in a quoted attribute."""
    return escape(str(value), quote=True)


def code(value: Any) -> str:
    """``value`` (a CID, an address, a hash) as escaped ``<code>``."""
    return f"<code>{text(value)}</code>"


def table(caption: str, rows: Sequence[tuple[str, str]]) -> str:
    """A two-column table: the caption and the row names are escaped; each value is HTML built by this module."""
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{text(k)}</th><td style='text-align:left'>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table class='colearn'><caption style='text-align:left'><b>{text(caption)}</b></caption>{body}</table>"


def frame(data: pd.DataFrame, **kwargs: Any) -> str:
    """A DataFrame as an HTML table, every value, column name and index label escaped, no links rendered."""
    return data.to_html(escape=True, render_links=False, **kwargs)


__all__ = ["code", "frame", "table", "text"]
