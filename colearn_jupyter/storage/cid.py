"""Content identifiers as IPFS computes them: multihash, CIDv0/CIDv1, multibase base32 and base58btc.

>>> cid = raw_cid(b"hello world")
>>> cid
'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'
>>> decode_cid(cid).codec == RAW
True

The marketplace contract stores a CID in binary CIDv1 form, 36 bytes (:func:`cid_to_bytes`, :func:`cid_from_bytes`):

>>> cid_from_bytes(cid_to_bytes(cid)) == cid
True
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

RAW = 0x55
DAG_PB = 0x70
SHA2_256 = 0x12
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def varint(value: int) -> bytes:
    """Unsigned LEB128, as multiformats and protobuf use."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """Decode a varint at ``pos``; returns ``(value, next position)``."""
    shift = result = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58[rem] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + _B58.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


@dataclass(frozen=True)
class CID:
    """A parsed CID: version, codec, and the sha2-256 digest of the block it names."""

    version: int
    codec: int
    digest: bytes

    @property
    def multihash(self) -> bytes:
        return bytes([SHA2_256, len(self.digest)]) + self.digest

    def to_bytes(self) -> bytes:
        if self.version == 0:
            return self.multihash
        return varint(1) + varint(self.codec) + self.multihash

    def __str__(self) -> str:
        if self.version == 0:
            return _b58encode(self.multihash)
        return "b" + base64.b32encode(self.to_bytes()).decode().lower().rstrip("=")

    def matches(self, block: bytes) -> bool:
        """True when ``block`` is the content this CID names."""
        return hashlib.sha256(block).digest() == self.digest


def make_cid(block: bytes, codec: int, version: int = 1) -> CID:
    if version == 0 and codec != DAG_PB:
        raise ValueError("CIDv0 names dag-pb blocks only")
    return CID(version, codec, hashlib.sha256(block).digest())


def raw_cid(block: bytes) -> str:
    """The CIDv1 of a raw block, as ``ipfs add --cid-version=1`` gives for a file of at most 256 KiB."""
    return str(make_cid(block, RAW))


#: The longest CID string parsed: a sha2-256 CID is at most 72 characters in base32, fewer in base58. A longer
#: string (a metadata document can hold a megabyte of one) is refused before decoding, which is quadratic in base58.
MAX_CID_CHARS = 128


def decode_cid(value: str | bytes | CID) -> CID:
    """Parse a CID from its string (base32 ``b…``, base58btc ``z…`` or CIDv0 ``Qm…``) or binary form."""
    if isinstance(value, CID):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_CID_CHARS:
            raise ValueError(f"{text[:20]!r}… ({len(text):,} characters) is not a CID: one has at most {MAX_CID_CHARS}")
        try:
            if text.startswith("Qm") and len(text) == 46:
                raw = _b58decode(text)
            elif text.startswith("z"):  # base58btc multibase, as js-ipfs prints CIDv1 by default
                raw = _b58decode(text[1:])
            elif text.startswith("b"):
                raw = base64.b32decode(text[1:].upper() + "=" * (-len(text[1:]) % 8))
            else:
                raise ValueError
        except (ValueError, TypeError):
            raise ValueError(f"{value!r} is not a CID this store understands (base32 CIDv1 or base58 CIDv0)") from None
    else:
        raw = bytes(value)
    if raw[:2] == bytes([SHA2_256, 32]) and len(raw) == 34:
        return CID(0, DAG_PB, raw[2:])
    version, pos = read_varint(raw, 0)
    codec, pos = read_varint(raw, pos)
    hash_code, pos = read_varint(raw, pos)
    length, pos = read_varint(raw, pos)
    if version != 1 or hash_code != SHA2_256 or length != 32 or len(raw) != pos + 32:
        raise ValueError(f"{value!r}: only sha2-256 CIDv0/CIDv1 are supported")
    return CID(1, codec, raw[pos:])


CID_BYTES = 36  # version, codec, hash function and digest length (one byte each), then the 32-byte digest
_ONCHAIN_CODECS = {RAW: "raw", DAG_PB: "dag-pb"}


def cid_to_bytes(cid: str) -> bytes:
    """The 36-byte binary CIDv1 the contract stores for ``cid``: ``0x01``, codec, ``0x12``, ``0x20``, sha2-256 digest.

    Takes the base32 CIDv1 strings (``bafk…`` for raw blocks, ``bafy…`` for dag-pb) that storage gives, or a
    CIDv0 ``Qm…``, which becomes the CIDv1 of the same dag-pb block. Anything else raises :class:`ValueError`.

    >>> cid_to_bytes(raw_cid(b"hello world")).hex()[:8]
    '01551220'
    >>> v0 = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    >>> cid_from_bytes(cid_to_bytes(v0)) == str(CID(1, DAG_PB, decode_cid(v0).digest))
    True
    """
    if not isinstance(cid, str):
        raise ValueError(f"a CID is given as a string here, not {type(cid).__name__}")
    text = cid.strip()
    if not (text.startswith("b") or (text.startswith("Qm") and len(text) == 46)):
        raise ValueError(f"{cid!r} is not a base32 CIDv1 (b…) or a CIDv0 (Qm…)")
    parsed = decode_cid(text)  # raises ValueError for bad characters, other hash functions and lengths
    if parsed.codec not in _ONCHAIN_CODECS:
        raise ValueError(f"{cid!r} has codec 0x{parsed.codec:x}; only raw (0x55) and dag-pb (0x70) CIDs are stored")
    if str(parsed) != text:  # uppercase, padding, stray bits, or a bare multihash written in base32
        raise ValueError(f"{cid!r} is not a CID in canonical form (lowercase base32 CIDv1 or base58 CIDv0)")
    return bytes([1, parsed.codec, SHA2_256, 32]) + parsed.digest


def cid_from_bytes(data: bytes) -> str:
    """The base32 CIDv1 string of a 36-byte binary CID as :func:`cid_to_bytes` makes it.

    >>> cid_from_bytes(bytes([1, RAW, SHA2_256, 32]) + hashlib.sha256(b"hello world").digest())
    'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"a binary CID is bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) != CID_BYTES:
        raise ValueError(f"a binary CID is {CID_BYTES} bytes, not {len(data)}: 0x{data.hex()}")
    if data[0] != 1 or data[1] not in _ONCHAIN_CODECS or data[2] != SHA2_256 or data[3] != 32:
        raise ValueError(
            f"0x{data[:4].hex()} does not start a binary CID: expected 0x01 (CIDv1), 0x55 (raw) or 0x70 (dag-pb),"
            " 0x12 (sha2-256) and 0x20 (32-byte digest)"
        )
    return str(CID(1, data[1], data[4:]))
