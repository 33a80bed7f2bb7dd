"""JSON from someone else, parsed only when it nests within a bound.

Deep enough nesting overflows the C stack of the JSON decoder and kills the whole process, not just the call (the
eth stack raises Python's recursion limit to 100,000, so ``RecursionError`` does not come first). The depth is
found before parsing, on the bytes, with strings blanked out: fast on any size.

>>> load_json(b'{"a": [1, {"b": "[[["}]}')
{'a': [1, {'b': '[[['}]}
>>> load_json(b"[" * 40 + b"]" * 40)
Traceback (most recent call last):
...
ValueError: JSON nested 40 deep, more than 32
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MAX_JSON_DEPTH", "TooManyValues", "load_json"]

#: The deepest nesting read by default (metadata nests 4 deep, request bodies 3, linear model files 2).
MAX_JSON_DEPTH = 32
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


class TooManyValues(ValueError):
    """JSON that would build more Python objects than the caller reads (a few bytes each: ``{},{},…``)."""


def load_json(data: bytes | str, max_depth: int = MAX_JSON_DEPTH, max_values: int | None = None) -> Any:
    """``json.loads`` of someone else's bytes; ``ValueError`` (and nothing else) for anything but JSON nested at most
    ``max_depth`` deep and, when ``max_values`` is given, holding at most about that many values
    (:class:`TooManyValues`; counted on the bytes before parsing, one for every ``{``, ``[`` and ``,`` outside
    strings).

    >>> load_json(b"[{}, {}, {}]", max_values=5)
    Traceback (most recent call last):
    ...
    colearn_jupyter.formats.jsonsafe.TooManyValues: JSON holds about 6 values, more than 5
    """
    import numpy as np

    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    brackets = np.frombuffer(_STRING.sub(b'""', raw), dtype=np.uint8)
    opening = (brackets == ord("[")) | (brackets == ord("{"))
    if max_values is not None:  # first: it needs no running sum over the bytes
        values = int(np.count_nonzero(opening)) + int(np.count_nonzero(brackets == ord(",")))
        if values > max_values:
            raise TooManyValues(f"JSON holds about {values:,} values, more than {max_values:,}")
    steps = opening.view(np.int8) - ((brackets == ord("]")) | (brackets == ord("}"))).view(np.int8)
    depth = int(np.cumsum(steps, dtype=np.int64).max(initial=0))
    if depth > max_depth:
        raise ValueError(f"JSON nested {depth:,} deep, more than {max_depth}")
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
