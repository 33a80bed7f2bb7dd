"""Numba kernels behind :mod:`colearn_jupyter.rowhash`: Keccak-256 of many messages, keyed Merkle leaves, tree levels
and the contract's row rules, each in one compiled loop over a whole batch.

Imported only by :mod:`colearn_jupyter.rowhash`, and only for batches large enough to be worth it: importing numba
takes about half a second, and compiling these kernels a few seconds the first time on a machine (``cache=True``
keeps the machine code beside this file, or in numba's user cache when the package directory is read-only).

Every kernel is ``nogil``, so :mod:`colearn_jupyter.rowhash` runs parts of a batch on several threads. The
permutation is Keccak-f[1600] as the Keccak team's reference specifies it (24 rounds on 25 64-bit lanes, little
endian), with Keccak-256's padding (``0x01 ... 0x80``, rate 136 bytes): Ethereum's ``keccak256``, not SHA3-256.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_RATE = 136
_RC = np.array(
    [
        0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
        0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
        0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
        0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
        0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
        0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
    ],
    dtype=np.uint64,
)  # fmt: skip

# Row faults, the numbers of formats.data.RowFault (and of the contract's enum).
_MALFORMED, _OUT_OF_BOUNDS, _NON_CANONICAL, _BAD_BOOL = 1, 2, 3, 4
_STRING_TOO_LONG, _BAD_UTF8, _TRAILING_BYTES, _LABEL_NOT_ALLOWED = 5, 6, 7, 8


@njit(inline="always")
def _rotl(value, shift):
    return (value << np.uint64(shift)) | (value >> np.uint64(64 - shift))


@njit(nogil=True, cache=True)
def _permute(s):
    """Keccak-f[1600] on the 25 lanes of ``s``, in place (lane ``x + 5 y``)."""
    a0 = s[0]
    a1 = s[1]
    a2 = s[2]
    a3 = s[3]
    a4 = s[4]
    a5 = s[5]
    a6 = s[6]
    a7 = s[7]
    a8 = s[8]
    a9 = s[9]
    a10 = s[10]
    a11 = s[11]
    a12 = s[12]
    a13 = s[13]
    a14 = s[14]
    a15 = s[15]
    a16 = s[16]
    a17 = s[17]
    a18 = s[18]
    a19 = s[19]
    a20 = s[20]
    a21 = s[21]
    a22 = s[22]
    a23 = s[23]
    a24 = s[24]
    for r in range(24):
        c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20
        c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21
        c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22
        c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23
        c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24
        d0 = c4 ^ _rotl(c1, 1)
        d1 = c0 ^ _rotl(c2, 1)
        d2 = c1 ^ _rotl(c3, 1)
        d3 = c2 ^ _rotl(c4, 1)
        d4 = c3 ^ _rotl(c0, 1)
        b0 = a0 ^ d0
        b16 = _rotl(a5 ^ d0, 36)
        b7 = _rotl(a10 ^ d0, 3)
        b23 = _rotl(a15 ^ d0, 41)
        b14 = _rotl(a20 ^ d0, 18)
        b10 = _rotl(a1 ^ d1, 1)
        b1 = _rotl(a6 ^ d1, 44)
        b17 = _rotl(a11 ^ d1, 10)
        b8 = _rotl(a16 ^ d1, 45)
        b24 = _rotl(a21 ^ d1, 2)
        b20 = _rotl(a2 ^ d2, 62)
        b11 = _rotl(a7 ^ d2, 6)
        b2 = _rotl(a12 ^ d2, 43)
        b18 = _rotl(a17 ^ d2, 15)
        b9 = _rotl(a22 ^ d2, 61)
        b5 = _rotl(a3 ^ d3, 28)
        b21 = _rotl(a8 ^ d3, 55)
        b12 = _rotl(a13 ^ d3, 25)
        b3 = _rotl(a18 ^ d3, 21)
        b19 = _rotl(a23 ^ d3, 56)
        b15 = _rotl(a4 ^ d4, 27)
        b6 = _rotl(a9 ^ d4, 20)
        b22 = _rotl(a14 ^ d4, 39)
        b13 = _rotl(a19 ^ d4, 8)
        b4 = _rotl(a24 ^ d4, 14)
        a0 = b0 ^ (~b1 & b2)
        a1 = b1 ^ (~b2 & b3)
        a2 = b2 ^ (~b3 & b4)
        a3 = b3 ^ (~b4 & b0)
        a4 = b4 ^ (~b0 & b1)
        a5 = b5 ^ (~b6 & b7)
        a6 = b6 ^ (~b7 & b8)
        a7 = b7 ^ (~b8 & b9)
        a8 = b8 ^ (~b9 & b5)
        a9 = b9 ^ (~b5 & b6)
        a10 = b10 ^ (~b11 & b12)
        a11 = b11 ^ (~b12 & b13)
        a12 = b12 ^ (~b13 & b14)
        a13 = b13 ^ (~b14 & b10)
        a14 = b14 ^ (~b10 & b11)
        a15 = b15 ^ (~b16 & b17)
        a16 = b16 ^ (~b17 & b18)
        a17 = b17 ^ (~b18 & b19)
        a18 = b18 ^ (~b19 & b15)
        a19 = b19 ^ (~b15 & b16)
        a20 = b20 ^ (~b21 & b22)
        a21 = b21 ^ (~b22 & b23)
        a22 = b22 ^ (~b23 & b24)
        a23 = b23 ^ (~b24 & b20)
        a24 = b24 ^ (~b20 & b21)
        a0 ^= _RC[r]
    s[0] = a0
    s[1] = a1
    s[2] = a2
    s[3] = a3
    s[4] = a4
    s[5] = a5
    s[6] = a6
    s[7] = a7
    s[8] = a8
    s[9] = a9
    s[10] = a10
    s[11] = a11
    s[12] = a12
    s[13] = a13
    s[14] = a14
    s[15] = a15
    s[16] = a16
    s[17] = a17
    s[18] = a18
    s[19] = a19
    s[20] = a20
    s[21] = a21
    s[22] = a22
    s[23] = a23
    s[24] = a24


@njit(inline="always")
def _lane(data, pos):
    """The little-endian 64-bit lane of the 8 bytes at ``data[pos:pos + 8]``."""
    value = np.uint64(0)
    for j in range(8):
        value |= np.uint64(data[pos + j]) << np.uint64(8 * j)
    return value


@njit(nogil=True, cache=True)
def _keccak(data, start, end, s, out, row):
    """``out[row] = keccak256(data[start:end])``, with ``s`` (25 lanes) as scratch."""
    for i in range(25):
        s[i] = 0
    pos = start
    while end - pos >= _RATE:
        for i in range(_RATE // 8):
            s[i] ^= _lane(data, pos + 8 * i)
        _permute(s)
        pos += _RATE
    rest = end - pos
    full = rest // 8
    for i in range(full):
        s[i] ^= _lane(data, pos + 8 * i)
    for k in range(8 * full, rest):
        s[k >> 3] ^= np.uint64(data[pos + k]) << np.uint64(8 * (k & 7))
    s[rest >> 3] ^= np.uint64(1) << np.uint64(8 * (rest & 7))
    s[16] ^= np.uint64(0x80) << np.uint64(56)
    _permute(s)
    for i in range(4):
        value = s[i]
        for j in range(8):
            out[row, 8 * i + j] = np.uint8((value >> np.uint64(8 * j)) & np.uint64(0xFF))


@njit(nogil=True, cache=True)
def keccak_many(data, offsets, out, first, last):
    """``out[m] = keccak256(data[offsets[m]:offsets[m + 1]])`` for ``first <= m < last``."""
    s = np.zeros(25, dtype=np.uint64)
    for m in range(first, last):
        _keccak(data, offsets[m], offsets[m + 1], s, out, m)


@njit(nogil=True, cache=True)
def leaves(digests, keys, one_key, start, out, first, last):
    """``out[m] = keccak256(keccak256(key ++ uint256(start + m) ++ digests[m]))`` for ``first <= m < last``, with
    ``key = keys[0]`` when ``one_key`` else ``keys[m]``: the keyed leaf of row ``start + m``."""
    s = np.zeros(25, dtype=np.uint64)
    message = np.zeros(96, dtype=np.uint8)
    inner = np.zeros((1, 32), dtype=np.uint8)
    for m in range(first, last):
        k = 0 if one_key else m
        index = np.uint64(start + m)
        for j in range(32):
            message[j] = keys[k, j]
            message[64 + j] = digests[m, j]
        for j in range(24):
            message[32 + j] = 0
        for j in range(8):
            message[56 + j] = np.uint8((index >> np.uint64(8 * (7 - j))) & np.uint64(0xFF))
        _keccak(message, 0, 96, s, inner, 0)
        _keccak(inner[0], 0, 32, s, out, m)


@njit(nogil=True, cache=True)
def parents(level, out, first, last):
    """``out[k] = keccak256(level[2k] ++ level[2k + 1])`` for ``first <= k < last``."""
    s = np.zeros(25, dtype=np.uint64)
    pair = np.zeros(64, dtype=np.uint8)
    for k in range(first, last):
        for j in range(32):
            pair[j] = level[2 * k, j]
            pair[32 + j] = level[2 * k + 1, j]
        _keccak(pair, 0, 64, s, out, k)


@njit(inline="always")
def _utf8_ok(data, pos, end):
    """Whether ``data[pos:end]`` is UTF-8 as Python's strict decoder accepts it (no surrogates, no overlong forms,
    nothing above U+10FFFF)."""
    i = pos
    while i < end:
        lead = data[i]
        if lead < 0x80:
            i += 1
            continue
        if 0xC2 <= lead <= 0xDF:
            need, low, high = 1, 0x80, 0xBF
        elif lead == 0xE0:
            need, low, high = 2, 0xA0, 0xBF
        elif 0xE1 <= lead <= 0xEC or lead == 0xEE or lead == 0xEF:
            need, low, high = 2, 0x80, 0xBF
        elif lead == 0xED:
            need, low, high = 2, 0x80, 0x9F
        elif lead == 0xF0:
            need, low, high = 3, 0x90, 0xBF
        elif 0xF1 <= lead <= 0xF3:
            need, low, high = 3, 0x80, 0xBF
        elif lead == 0xF4:
            need, low, high = 3, 0x80, 0x8F
        else:
            return False
        if i + need >= end:
            return False  # the sequence runs past the string
        second = data[i + 1]
        if second < low or second > high:
            return False
        for j in range(2, need + 1):
            if data[i + j] < 0x80 or data[i + j] > 0xBF:
                return False
        i += need + 1
    return True


@njit(nogil=True, cache=True)
def row_faults(data, offsets, tags, max_float_bits, max_int, max_string_bytes, labels, label_offsets, out, first, last):
    """``out[m]``: the first rule row ``m`` breaks (0 for none), exactly as ``formats.data.row_fault`` and the
    contract check it, for ``first <= m < last``. ``tags`` holds the schema's column tags (label last); ``labels``
    and ``label_offsets`` the allowed labels' canonical encodings (none: any label)."""
    for m in range(first, last):
        out[m] = _row_fault(data, offsets[m], offsets[m + 1], tags, max_float_bits, max_int, max_string_bytes,
                            labels, label_offsets)  # fmt: skip


@njit(inline="always")
def _row_fault(data, start, end, tags, max_float_bits, max_int, max_string_bytes, labels, label_offsets):
    pos = start
    label_start = start
    for c in range(tags.shape[0]):
        tag = tags[c]
        label_start = pos
        if pos >= end or data[pos] != tag:
            return _MALFORMED
        pos += 1
        if tag == 102 or tag == 105:  # b"f", b"i"
            if end < pos + 8:
                return _MALFORMED
            bits = np.uint64(0)
            for j in range(8):
                bits = (bits << np.uint64(8)) | np.uint64(data[pos + j])
            if tag == 102:
                if bits == np.uint64(0x8000000000000000):
                    return _NON_CANONICAL
                if bits & np.uint64(0x7FFFFFFFFFFFFFFF) > max_float_bits:
                    return _OUT_OF_BOUNDS
            elif bits == np.uint64(0x8000000000000000):
                return _OUT_OF_BOUNDS  # |-2**63| is 2**63, beyond any int64 bound
            else:
                signed = np.int64(bits)
                if (signed if signed >= 0 else -signed) > max_int:
                    return _OUT_OF_BOUNDS
            pos += 8
        elif tag == 98:  # b"b"
            if end < pos + 1:
                return _MALFORMED
            if data[pos] > 1:
                return _BAD_BOOL
            pos += 1
        else:
            if end < pos + 4:
                return _MALFORMED
            length = np.int64(0)
            for j in range(4):
                length = (length << 8) | np.int64(data[pos + j])
            if length > max_string_bytes:
                return _STRING_TOO_LONG
            pos += 4
            if end < pos + length:
                return _MALFORMED
            if not _utf8_ok(data, pos, pos + length):
                return _BAD_UTF8
            pos += length
    if pos != end:
        return _TRAILING_BYTES
    count = label_offsets.shape[0] - 1
    if count == 0:
        return 0
    size = end - label_start
    for k in range(count):
        low = label_offsets[k]
        if label_offsets[k + 1] - low != size:
            continue
        same = True
        for j in range(size):
            if labels[low + j] != data[label_start + j]:
                same = False
                break
        if same:
            return 0
    return _LABEL_NOT_ALLOWED
