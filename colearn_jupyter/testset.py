"""The hidden test set, sealed before it is stored: unreadable until its owner reveals the salt on chain.

A file on IPFS is readable by anyone who learns its CID, so the owner's hidden test set is never stored in the
clear. :func:`seal` encrypts the Parquet file with AES-256-GCM under a key derived from the model's secret salt,
and the chain's commitment (``keccak256(salt ++ cid)``) names the CID of the *sealed* file. Nothing else is
needed to check the set later: revealing the test set publishes the salt and that CID on chain, and anyone can
then fetch the sealed file (checked against its CID), derive the key and :func:`unseal` it. The key and the
nonce are derived from the salt, which is random and used for one file only, so sealing is deterministic, and the
authentication tag makes any other plaintext fail to open: the commitment binds the exact bytes.

>>> salt = bytes(range(32))
>>> sealed = seal(b"the hidden rows", salt)
>>> is_sealed(sealed) and b"hidden" not in sealed
True
>>> unseal(sealed, salt)
b'the hidden rows'
"""

from __future__ import annotations

from Crypto.Cipher import AES
from eth_utils import keccak

from .errors import ColearnError

__all__ = ["SEALED_MAGIC", "is_sealed", "key_of", "seal", "unseal"]

#: The first bytes of a sealed test set (then the ciphertext, then the 16-byte tag).
SEALED_MAGIC = b"colearn-sealed-test-set/1\n"
_KEY_DOMAIN = b"colearn-test-set-key/1"
_NONCE_DOMAIN = b"colearn-test-set-nonce/1"
_TAG_BYTES = 16


def key_of(salt: bytes) -> bytes:
    """The AES-256 key of the test set committed with ``salt``: ``keccak256("colearn-test-set-key/1" ++ salt)``."""
    return keccak(_KEY_DOMAIN + bytes(salt))


def _cipher(salt: bytes) -> AES:
    nonce = keccak(_NONCE_DOMAIN + bytes(salt))[:12]
    return AES.new(key_of(salt), AES.MODE_GCM, nonce=nonce, mac_len=_TAG_BYTES)


def seal(data: bytes, salt: bytes) -> bytes:
    """``data`` encrypted and authenticated under the key of ``salt`` (a 32-byte secret used for one file only)."""
    if len(salt) != 32:
        raise ColearnError("a test-set salt is 32 bytes")
    ciphertext, tag = _cipher(salt).encrypt_and_digest(bytes(data))
    return SEALED_MAGIC + ciphertext + tag


def is_sealed(blob: bytes) -> bool:
    """Whether ``blob`` is a sealed test set (rather than a plain file, as test sets were stored before sealing)."""
    return bytes(blob[: len(SEALED_MAGIC)]) == SEALED_MAGIC


def unseal(blob: bytes, salt: bytes) -> bytes:
    """The plaintext of a sealed test set; refuses a blob the salt does not open (wrong salt, or altered bytes)."""
    if not is_sealed(blob) or len(blob) < len(SEALED_MAGIC) + _TAG_BYTES:
        raise ColearnError("this file is not a sealed colearn test set")
    body = bytes(blob[len(SEALED_MAGIC) :])
    try:
        return _cipher(salt).decrypt_and_verify(body[:-_TAG_BYTES], body[-_TAG_BYTES:])
    except ValueError:
        raise ColearnError("the salt does not open this sealed test set: wrong salt, or the file was altered") from None
