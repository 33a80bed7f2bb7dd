"""Model names that cannot be hijacked: how a name, an id or ``owner/name`` becomes one model.

Names are not unique on chain: anyone may publish a model called ``wine-quality``. So a name alone only ever
resolves to a model when one owner has it (its newest model of that name), or, where the caller means its own
model, to the caller's newest model of that name; otherwise the caller gets the candidates and the two unambiguous
ways to address one: its id (``7`` or ``#7``) or its owner and name (``0x70997970…/wine-quality``, or
``alice/wine-quality`` with a devnet account name). Digits always mean an id, so names made only of digits are
refused at publish.

>>> from types import SimpleNamespace as M
>>> from colearn_jupyter.marketplace import Terms
>>> terms = Terms(10**16, 2 * 10**15, 10**16, 3600, 86400)
>>> models = [M(id=1, name="wine", owner="0xA", terms=terms, version_count=1),
...           M(id=2, name="wine", owner="0xB", terms=terms, version_count=3)]
>>> resolve(models, "#2", me="0xA")
2
>>> resolve(models, "wine", me="0xA", prefer_own=True)
1
>>> resolve(models, "0xB/wine", me="0xA")
2
>>> resolve(models, "wine", me="0xC")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
colearn_jupyter.names.AmbiguousModelName: 2 models are named 'wine': ...
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .errors import ColearnError
from .units import format_eth

__all__ = ["AmbiguousModelName", "check_new_name", "resolve"]


class AmbiguousModelName(ColearnError):
    """A name that several models share; ``candidates`` holds their ids."""

    def __init__(self, message: str, candidates: Sequence[int]):
        super().__init__(message)
        self.candidates = list(candidates)


_LISTS = "`%colearn market` or `Session.market_table()` lists the models"


def _describe(model: Any) -> str:
    terms = model.terms
    return (
        f"#{model.id} by {model.owner} (deposit {format_eth(terms.deposit_per_row)}, reward "
        f"{format_eth(terms.reward_per_row)} a row, {model.version_count} version{'s' * (model.version_count != 1)})"
    )


def resolve(
    models: Sequence[Any],
    ref: int | str,
    *,
    me: str,
    prefer_own: bool = False,
    owner_of: Callable[[str], str] | None = None,
) -> int:
    """The id of the model ``ref`` names, among ``models`` (each with ``id``, ``name``, ``owner``, ``terms``).

    ``ref`` is an id (an int, ``"7"`` or ``"#7"``), ``owner/name`` (``owner_of`` turns an account name into an
    address; a 0x address is taken as it is) or a name. A name several models share is refused with the candidates
    (:class:`AmbiguousModelName`), unless they all belong to one owner (the newest is taken), or ``prefer_own`` and
    some of them belong to ``me`` (its newest is taken).
    """
    if isinstance(ref, int) and not isinstance(ref, bool):
        return ref
    text = str(ref).strip()
    digits = text[1:] if text.startswith("#") else text
    if digits.isdigit():
        return int(digits)
    if "/" in text:
        owner_text, name = (part.strip() for part in text.split("/", 1))
        owner = owner_text if owner_text.lower().startswith("0x") or owner_of is None else owner_of(owner_text)
        matches = [m for m in models if m.name == name and m.owner.lower() == owner.lower()]
        if not matches:
            raise ColearnError(f"{owner_text} has no model named {name!r}; {_LISTS}")
        return matches[-1].id  # one owner's models of one name: the newest (the owner chose to repeat it)
    matches = [m for m in models if m.name == text]
    if not matches:
        raise ColearnError(f"no model is named {text!r}; {_LISTS}")
    owners = {m.owner.lower() for m in matches}
    if len(owners) == 1:
        return matches[-1].id  # one owner's models of one name: the newest (nobody else can take it over)
    mine = [m for m in matches if m.owner.lower() == me.lower()]
    if prefer_own and mine:
        return mine[-1].id
    listed = "; ".join(_describe(m) for m in matches)
    example = matches[-1]
    raise AmbiguousModelName(
        f"{len(matches)} models are named {text!r}: {listed}. Address one by its id (e.g. {example.id}) or as "
        f"owner/name (e.g. {example.owner}/{text})",
        [m.id for m in matches],
    )


def check_new_name(name: str, models: Sequence[Any], *, me: str) -> str | None:
    """Refuse a name that could never be addressed by name; return a warning when others use it already.

    >>> check_new_name("2024", [], me="0xA")
    Traceback (most recent call last):
    ...
    colearn_jupyter.errors.ColearnError: a model name cannot be only digits ('2024' would read as a model id); ...
    """
    text = name.strip()
    if not text or text != name:
        raise ColearnError("a model name must be non-empty, without spaces around it")
    if (text[1:] if text.startswith("#") else text).isdigit():
        raise ColearnError(
            f"a model name cannot be only digits ({text!r} would read as a model id); add a word, e.g. 'model-{text}'"
        )
    if "/" in text:
        raise ColearnError(f"a model name cannot contain '/' ({text!r}): 'owner/name' addresses a model")
    others = [m for m in models if m.name == text and m.owner.lower() != me.lower()]
    if not others:
        return None
    return (
        f"{', '.join(_describe(m) for m in others)} already {'uses' if len(others) == 1 else 'use'} the name {text!r}: "
        "contributors will have to address your model by its id or as owner/name"
    )
