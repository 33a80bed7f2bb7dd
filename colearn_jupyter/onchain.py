"""On-chain rows and the on-chain perceptron, exactly as the contract computes them.

An on-chain row is stored in its canonical sparse form: one byte, the label (0 or 1), then for every non-zero
feature in increasing index order its index (uint32) and its value (int64, fixed point, scale 1e6), big-endian:
1 + 12 bytes a non-zero feature. A dense row has exactly one sparse form, so it is the same row (for the contract's
refusal of repeats, and for challenges) however it was written. The chain keeps only its hash; the row is in the
``RowAdded`` event.

The perceptron's weights are one int64 per feature, packed big-endian (8 bytes each); the chain keeps their hash,
and they are in ``LinearModelPublished``, then follow from every ``LinearModelUpdated`` (which names the row learned).

>>> row = encode_onchain_row([0, 2_000_000, 0, -1], 1)
>>> row.hex()
'010000000100000000001e848000000003ffffffffffffffff'
>>> decode_onchain_row(row)
({1: 2000000, 3: -1}, 1)
>>> encode_sparse_row({3: -1, 1: 2_000_000}, 1) == row
True
>>> weights = [1_000_000, -500_000, 0, 7]
>>> unpack_weights(pack_weights(weights)) == weights
True
>>> predict(weights, 0, {1: 2_000_000, 3: -1})
0
>>> learn(weights, 0, {1: 2_000_000, 3: -1}, 1)
([1000000, 1500000, 0, 6], 1000000, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

LINEAR_SCALE = 10**6  # fixed-point scale of the on-chain linear model's weights and features
FEATURE_BYTES = 12
WEIGHT_BYTES = 8
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

Features = Mapping[int, int] | Iterable[tuple[int, int]]


def encode_sparse_row(features: Features, label: int) -> bytes:
    """The canonical bytes of a row given by its non-zero features (``{index: value}`` or pairs); zeros are left
    out and the indices sorted. Raises ``ValueError`` for a repeated index or a value outside int64."""
    pairs = sorted((features.items() if isinstance(features, Mapping) else features), key=lambda p: p[0])
    if label not in (0, 1):
        raise ValueError(f"label {label} is neither 0 nor 1, the labels of an on-chain linear model")
    out = bytearray([label])
    previous = -1
    for index, value in pairs:
        index, value = int(index), int(value)
        if index == previous:
            raise ValueError(f"feature {index} is given twice")
        if not 0 <= index < 2**32:
            raise ValueError(f"feature index {index} is not a uint32")
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"feature {index} is {value}, not an int64")
        previous = index
        if value:
            out += index.to_bytes(4, "big") + value.to_bytes(8, "big", signed=True)
    return bytes(out)


def encode_onchain_row(features: Sequence[int], label: int) -> bytes:
    """The canonical bytes of a dense row (fixed-point features, in order): its sparse form."""
    return encode_sparse_row(((i, v) for i, v in enumerate(features) if v), label)


def decode_onchain_row(row: bytes) -> tuple[dict[int, int], int]:
    """The non-zero features (``{index: value}``) and the label of a row's canonical bytes."""
    row = bytes(row)
    if not row or (len(row) - 1) % FEATURE_BYTES:
        raise ValueError("an on-chain row is a label byte and 12 bytes a feature")
    features = {}
    for at in range(1, len(row), FEATURE_BYTES):
        features[int.from_bytes(row[at : at + 4], "big")] = int.from_bytes(row[at + 4 : at + 12], "big", signed=True)
    return features, row[0]


def dense(features: Mapping[int, int], count: int) -> list[int]:
    """The dense list of ``count`` features with the given non-zero ones."""
    out = [0] * count
    for index, value in features.items():
        out[index] = value
    return out


def pack_weights(weights: Sequence[int]) -> bytes:
    """Weights as the contract hashes them: int64 big-endian, 8 bytes each."""
    return b"".join(int(w).to_bytes(WEIGHT_BYTES, "big", signed=True) for w in weights)


def unpack_weights(packed: bytes) -> list[int]:
    packed = bytes(packed)
    return [int.from_bytes(packed[i : i + WEIGHT_BYTES], "big", signed=True) for i in range(0, len(packed), 8)]


def predict(weights: Sequence[int], intercept: int, features: Mapping[int, int]) -> int:
    """1 if ``intercept * 1e6 + sum(w_i * x_i) >= 0``, else 0 (as the contract computes it)."""
    score = intercept * LINEAR_SCALE + sum(weights[i] * x for i, x in features.items())
    return 1 if score >= 0 else 0


def _saturate(value: int) -> int:
    return max(INT64_MIN, min(INT64_MAX, value))


def learn(
    weights: Sequence[int], intercept: int, features: Mapping[int, int], label: int
) -> tuple[list[int], int, bool]:
    """The perceptron after it is shown a row: unchanged when it predicts the label, else every weight of a
    non-zero feature moves by ``x_i`` (label 1) or ``-x_i`` (label 0) and the intercept by ±1e6, saturating at the
    int64 bounds. Returns ``(weights, intercept, learned)``."""
    new = list(weights)
    if predict(weights, intercept, features) == label:
        return new, intercept, False
    step = 1 if label == 1 else -1
    for index, value in features.items():
        new[index] = _saturate(new[index] + step * value)
    return new, _saturate(intercept + step * LINEAR_SCALE), True
