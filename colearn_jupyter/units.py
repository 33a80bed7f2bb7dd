"""Amounts of ether, shares and durations as people write and read them: every face formats with these.

>>> to_wei("0.01")
10000000000000000
>>> format_eth(10**16)
'0.01 ETH'
>>> format_eth(9_998_123_456_789_012_345_678, DISPLAY_DECIMALS)    # a balance after some gas
'9,998.123457 ETH'
>>> format_percent(0.96666)
'96.7%'
>>> parse_duration("1h30m")
5400
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext

WEI_PER_ETH = 10**18
#: Decimals of ether shown for balances and other amounts that gas makes ragged (as the JupyterLab sidebar does).
DISPLAY_DECIMALS = 6

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


def format_eth(wei: int, decimals: int | None = None, *, unit: str = " ETH") -> str:
    """Wei as ether, thousands separated, without trailing zeros: exact, or rounded (half up) to ``decimals``.

    The same text as the JupyterLab sidebar's ``formatWei``: an amount too small for ``decimals`` is not shown
    as zero but as ``< 0.000001 ETH``. ``unit=""`` gives the number alone (axis ticks under an "ETH" title).

    >>> format_eth(1234 * 10**18 + 5 * 10**15)
    '1,234.005 ETH'
    >>> format_eth(10**18 // 3, 4)
    '0.3333 ETH'
    >>> format_eth(1_234_567_890, DISPLAY_DECIMALS)       # 1.23 gwei
    '< 0.000001 ETH'
    >>> format_eth(-25 * 10**15, 2, unit=""), format_eth(-25 * 10**14, 2, unit="")   # a change, an axis tick
    ('-0.03', '> -0.01')
    """
    with localcontext() as exact:  # as many digits as the amount has: Decimal's default 28 rounded larger amounts
        exact.prec = max(28, len(str(abs(int(wei)))) + (decimals or 0) + 2)
        value = Decimal(int(wei)) / WEI_PER_ETH
        if decimals is not None:
            rounded = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
            if value and not rounded:  # never shown as zero
                bound = f"{Decimal(1).scaleb(-decimals):f}"
                return f"< {bound}{unit}" if value > 0 else f"> -{bound}{unit}"
            value = rounded
    text = format(value, ",f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}{unit}"


def format_percent(share: float | None, decimals: int = 1) -> str:
    """A share (0.9667) as a percentage (``'96.7%'``); ``'n/a'`` for none (``None``, NaN, ``pd.NA``).

    >>> format_percent(1.0), format_percent(0.5, 0), format_percent(None)
    ('100.0%', '50%', 'n/a')
    """
    try:
        number = float(share)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if math.isnan(number) else f"{number:.{decimals}%}"


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
