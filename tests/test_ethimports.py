"""web3's first import skips py_ecc's BLS12-381 tables without changing what eth_keyfile does (ethimports.py)."""

from __future__ import annotations

import json
import subprocess
import sys

_DEFERRED = """
import importlib.util, json, sys
import colearn_jupyter
spec_found = importlib.util.find_spec("eth_keyfile.keyfile") is not None  # looking does not use the deferral up
import web3
from eth_account import Account

deferred = not any(name in sys.modules for name in ("py_ecc.bls", "py_ecc.bls12_381", "py_ecc.optimized_bls12_381"))
finder_left = any(type(f).__name__ == "_KeyfileFinder" for f in sys.meta_path)
import eth_keyfile.keyfile as keyfile

key = bytes(range(1, 33))
v3 = Account.encrypt(key, "pw", iterations=2)  # the keystores colearn reads: unchanged
v3_back = bytes(Account.decrypt(v3, "pw")) == key
v4 = keyfile.create_keyfile_json(key, b"pw", version=4, iterations=2)  # BLS: py_ecc imported now
from py_ecc.bls import G2ProofOfPossession
from py_ecc.bls12_381 import curve_order

print(json.dumps({
    "spec_found": spec_found, "deferred": deferred, "finder_left": finder_left, "v3_back": v3_back,
    "max_v4": keyfile.MAX_V4_PRIVATE_KEY == curve_order - 1,
    "pubkey": v4["pubkey"] == G2ProofOfPossession.SkToPk(int.from_bytes(key, "big")).hex(),
    "v4_back": keyfile.decode_keyfile_json(v4, b"pw") == key,
    "real_bls": type(sys.modules["py_ecc.bls"]).__name__ == "module" and hasattr(sys.modules["py_ecc.bls"], "__file__"),
    "loader": type(keyfile.__loader__).__name__,
}))
"""

_ALREADY = """
import json, sys
import py_ecc.bls
import colearn_jupyter
import eth_keyfile.keyfile as keyfile
print(json.dumps({"same": keyfile.bls is py_ecc.bls.G2ProofOfPossession}))
"""


def _run(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_web3_imports_without_bls_tables_and_keystores_are_unchanged():
    """A fresh interpreter imports colearn_jupyter, web3 and eth_account without py_ecc's BLS modules; version 3
    keystores round-trip; a version 4 keystore made afterwards has the real BLS public key and the real bound, and
    py_ecc.bls is then the real module."""
    result = _run(_DEFERRED)
    assert result == {
        "spec_found": True,
        "deferred": True,
        "finder_left": False,
        "v3_back": True,
        "max_v4": True,
        "pubkey": True,
        "v4_back": True,
        "real_bls": True,
        "loader": "SourceFileLoader",
    }


def test_nothing_is_deferred_when_py_ecc_bls_is_already_imported():
    assert _run(_ALREADY) == {"same": True}


def test_the_curve_order_is_py_eccs():
    from py_ecc.bls12_381 import curve_order

    from colearn_jupyter.ethimports import BLS12_381_CURVE_ORDER

    assert BLS12_381_CURVE_ORDER == curve_order
