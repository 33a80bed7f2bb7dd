"""web3 and eth_account imported without computing py_ecc's BLS12-381 pairing tables, which colearn never uses.

``import web3`` imports ``eth_account``, which imports ``eth_keyfile``, which takes two names from ``py_ecc`` for
version 4 keystores (EIP-2335, BLS12-381 keys): ``G2ProofOfPossession`` from ``py_ecc.bls``, used only to derive the
public key of a version 4 keystore it creates, and ``curve_order`` from ``py_ecc.bls12_381``, the largest version 4
key plus one. Importing those two modules computes py_ecc's pairing tables (powers in a degree-12 extension field):
about half a second, a quarter of a fresh kernel's first ``%colearn`` call. colearn signs secp256k1 transactions and
reads version 3 keystores; it makes no BLS key.

:func:`install` (called when ``colearn_jupyter`` is imported) lets the next import of ``eth_keyfile.keyfile``, by
whoever makes it, see two stand-ins instead: ``curve_order`` is the group order itself (a constant of the curve; a
test compares it with py_ecc's), and ``G2ProofOfPossession`` is a proxy that imports the real ``py_ecc.bls`` on
first use and hands every attribute over to the real class. The stand-ins are in ``sys.modules`` only while
``eth_keyfile.keyfile`` runs, so every other import of ``py_ecc`` gets the real modules; when ``py_ecc.bls`` or
``eth_keyfile.keyfile`` is already imported, nothing changes. No check changes: version 4 keystores are written and
read with the same values, only later.

>>> import importlib
>>> keyfile = importlib.import_module("eth_keyfile.keyfile")
>>> keyfile.MAX_V4_PRIVATE_KEY == BLS12_381_CURVE_ORDER - 1
True
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any

#: The order r of BLS12-381's groups (``py_ecc.bls12_381.curve_order``).
BLS12_381_CURVE_ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
_KEYFILE = "eth_keyfile.keyfile"
_BLS = "py_ecc.bls"
_CURVE = "py_ecc.bls12_381"


class _ProofOfPossession:
    """Stands for ``py_ecc.bls.G2ProofOfPossession``: the real class, imported when an attribute is first asked."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(_BLS).G2ProofOfPossession, name)

    def __repr__(self) -> str:
        return "<py_ecc.bls.G2ProofOfPossession, imported on first use>"


class _DeferredBlsLoader(importlib.abc.Loader):
    """Runs ``eth_keyfile.keyfile`` with the stand-ins of the two py_ecc modules in ``sys.modules``."""

    def __init__(self, loader: Any):
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        uninstall()  # once: every later import of the module is a plain one
        module.__loader__ = self._loader  # tracebacks and inspect read the source through the real loader
        if _BLS in sys.modules or _CURVE in sys.modules:  # the real modules are there: nothing to save
            self._loader.exec_module(module)
            return
        bls = ModuleType(_BLS, "stands for py_ecc.bls while eth_keyfile.keyfile is imported")
        bls.G2ProofOfPossession = _ProofOfPossession()  # type: ignore[attr-defined]
        curve = ModuleType(_CURVE, "stands for py_ecc.bls12_381 while eth_keyfile.keyfile is imported")
        curve.curve_order = BLS12_381_CURVE_ORDER  # type: ignore[attr-defined]
        stand_ins = {_BLS: bls, _CURVE: curve}
        sys.modules.update(stand_ins)
        try:
            self._loader.exec_module(module)
        finally:
            for name, stand_in in stand_ins.items():
                if sys.modules.get(name) is stand_in:
                    del sys.modules[name]


class _KeyfileFinder(importlib.abc.MetaPathFinder):
    """Finds ``eth_keyfile.keyfile`` as the path finder does, with its loader wrapped (which removes this finder when
    it runs; removing it here, while the import system walks ``sys.meta_path``, could skip the next finder)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name != _KEYFILE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _DeferredBlsLoader(spec.loader)
        return spec


_FINDER = _KeyfileFinder()


def install() -> None:
    """Let the next import of ``eth_keyfile.keyfile`` defer py_ecc's BLS modules (nothing when it is imported)."""
    if _KEYFILE not in sys.modules and _BLS not in sys.modules and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
