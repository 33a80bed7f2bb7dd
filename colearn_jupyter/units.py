"""Amounts of ether and durations as people write them.

>>> to_wei("0.01")
10000000000000000
>>> format_eth(10**16)
'0.01 ETH'
>>> parse_duration("1h30m")
5400
"""

from __future__ import annotations

import re
from decimal import Decimal

WEI_PER_ETH = 10**18

_AMOUNT = re.compile(r"^\s*(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>ether|eth|gwei|wei)?\s*$", re.IGNORECASE)
_WEI_PER_UNIT = {"ether": WEI_PER_ETH, "eth": WEI_PER_ETH, "gwei": 10**9, "wei": 1}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)", re.IGNORECASE)
_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def to_wei(amount: str | int | float | Decimal, unit: str = "ether") -> int:
    """Convert an amount of ether (or of ``unit``: ``"gwei"``, ``"wei"``) to wei.

    A unit written after the number (``"5 gwei"``) wins over ``unit``. Negative amounts and fractions of a
    wei are refused.
    """
    match = _AMOUNT.match(str(amount))
    if match is None or isinstance(amount, bool):
        raise ValueError(f"{amount!r} is not an amount of ether; write it like 0.01, '5 gwei' or '7 wei'")
    value = Decimal(match["number"])
    wei = value * _WEI_PER_UNIT[(match["unit"] or unit).lower()]
    if wei != wei.to_integral_value():
        raise ValueError(f"{amount!r} is not a whole number of wei")
    return int(wei)


def format_eth(wei: int) -> str:
    """Show wei as ether without trailing zeros."""
    text = format(Decimal(wei) / WEI_PER_ETH, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} ETH"


def parse_duration(text: str | int) -> int:
    """Seconds in a duration such as ``"90s"``, ``"1h30m"``, ``"2d"`` or a plain number of seconds."""
    if isinstance(text, int):
        return text
    stripped = str(text).strip()
    if stripped.isdigit():
        return int(stripped)
    parts = _DURATION.findall(stripped)
    if not parts or _DURATION.sub("", stripped).strip():
        raise ValueError(f"{text!r} is not a duration; write it like 90s, 10m, 1h30m or 2d")
    return int(sum(Decimal(n) * _SECONDS[u.lower()] for n, u in parts))


def format_duration(seconds: int) -> str:
    """The shortest readable form of a number of seconds, e.g. ``'1h30m'``."""
    if seconds <= 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _SECONDS[unit])
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)
