"""jsonschema and skops, imported without the slow start-up work colearn never uses (the first call was 7-13 s).

Both libraries do expensive work when they are imported, not when they are used:

- ``import jsonschema`` imports ``rfc3987_syntax`` (when installed) for its ``iri`` and ``iri-reference`` format
  checks, which compiles 38 Lark grammars (1.4 s). colearn's metadata schema checks no format, so
  :func:`jsonschema` gives jsonschema a stand-in whose ``is_valid_syntax`` imports the real module the first time
  an ``iri`` is checked: those checks are unchanged, only later.
- ``import skops.io`` lists every scikit-learn estimator (skops' default trusted types) by walking all of
  scikit-learn's packages, and walking imports ``sklearn.externals.array_api_compat.torch``, hence torch (1.1 s),
  although the listing skips ``sklearn.externals`` anyway. :func:`skops_io` hides that one package while skops is
  imported, so the listing is the same and torch is not loaded. colearn never relies on skops' defaults anyway:
  :mod:`.allowlist` names every type it loads.

Neither changes a check: when the module is already imported, or the slow dependency already loaded, the plain
import happens.

>>> jsonschema().Draft202012Validator({"type": "integer"}).is_valid(3)
True
>>> jsonschema().FormatChecker().conforms("http://example.org/a b", "iri")
False
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

_IRI_SYNTAX = "rfc3987_syntax"
_TORCH_COMPAT = "sklearn.externals.array_api_compat.torch"


def jsonschema() -> ModuleType:
    """The ``jsonschema`` module, imported without compiling ``rfc3987_syntax``'s grammars until an IRI is checked."""
    if "jsonschema" in sys.modules or _IRI_SYNTAX in sys.modules or not _installed(_IRI_SYNTAX):
        return importlib.import_module("jsonschema")
    stand_in = ModuleType(_IRI_SYNTAX, "imports the real rfc3987_syntax when first used")
    stand_in.is_valid_syntax = _is_valid_syntax  # type: ignore[attr-defined]
    with _replaced(_IRI_SYNTAX, stand_in):
        return importlib.import_module("jsonschema")


def _is_valid_syntax(*args: Any, **kwargs: Any) -> bool:
    """``rfc3987_syntax.is_valid_syntax``, imported on first use."""
    from rfc3987_syntax import is_valid_syntax

    return is_valid_syntax(*args, **kwargs)


def skops_io() -> ModuleType:
    """The ``skops.io`` module, imported without importing torch through scikit-learn's package walk."""
    if "skops.io" in sys.modules or "torch" in sys.modules or _TORCH_COMPAT in sys.modules:
        return importlib.import_module("skops.io")
    with _replaced(_TORCH_COMPAT, None):  # None: "not importable", which pkgutil.walk_packages skips
        return importlib.import_module("skops.io")


@contextmanager
def _replaced(name: str, module: ModuleType | None) -> Iterator[None]:
    """``sys.modules[name]`` is ``module`` inside the block, and absent again after it (the real module is then
    imported normally by whoever needs it)."""
    sys.modules[name] = module  # type: ignore[assignment]
    try:
        yield
    finally:
        if sys.modules.get(name, False) is module:
            del sys.modules[name]


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
