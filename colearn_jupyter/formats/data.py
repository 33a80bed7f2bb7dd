"""Data files: a declared feature schema, validation of DataFrames, Parquet files and canonical row hashes.

Canonical row encoding (``colearn-row-v1``), from which every row's Merkle leaf is computed: the row's values in
schema order (feature columns as declared, then the label column), each written as

==========  ======================================================================
dtype        bytes
==========  ======================================================================
``float64``  ``b"f"`` + IEEE 754 binary64, big-endian (``-0.0`` written as ``0.0``)
``int64``    ``b"i"`` + two's complement, 8 bytes, big-endian
``bool``     ``b"b"`` + one byte, 0 or 1
``string``   ``b"s"`` + length of the UTF-8 bytes as 4 bytes big-endian + the UTF-8 bytes
==========  ======================================================================

and concatenated. Row ``i`` of a file (zero based, in file order) is leaf ``i`` of a ``colearn-tree-v2`` Merkle
tree (:mod:`colearn_jupyter.merkle`: keyed leaves, positional tree bound to the row count), so anyone with the file
can rebuild the root stored on chain (:func:`merkle_tree`) and prove any single row.

The contract judges a revealed row with the schema's on-chain form (:func:`onchain_schema`, committed to by
:func:`schema_hash`): every tag must match its column, numbers must lie within ``max_abs``, strings must be valid
UTF-8 of at most ``max_string_bytes`` bytes, ``-0.0`` is not canonical, and the label must be an allowed one.
:func:`row_fault` applies the same rules, in the same order, in Python; :func:`validate` refuses DataFrames whose
rows would break them.

>>> import pandas as pd
>>> frame = pd.DataFrame({"x": [1.5, 2.0], "n": [3, 4], "label": ["ham", "spam"]})
>>> schema = FeatureSchema.infer(frame, label="label")
>>> encode_row(schema, (1.5, 3, "ham")).hex()
'663ff8000000000000690000000000000003730000000368616d'
>>> decode_row(schema, encode_row(schema, (1.5, 3, "ham")))
{'x': 1.5, 'n': 3, 'label': 'ham'}
>>> schema.max_abs  # 1000 times the largest value, at least 1e6, rounded up to a power of ten
1000000.0
>>> row_fault(schema, encode_row(schema, (1.5, 3, "eggs"))).name
'LABEL_NOT_ALLOWED'
"""

from __future__ import annotations

import enum
import io
import json
import math
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from .. import rowhash
from ..errors import ColearnError
from ..merkle import MerkleTree
from ..rowsets import PackedRows

DTYPES = ("float64", "int64", "bool", "string")
TAGS = {"float64": b"f", "int64": b"i", "bool": b"b", "string": b"s"}
ONCHAIN_SCHEMA_TYPE = "(bytes,bytes[],uint64,uint64,uint32)"
INT64_MAX = 2**63 - 1
_UINT32_MAX = 2**32 - 1
_MAX_INFERRED_ABS = 1e300
_SCHEMA_KEY = b"colearn.schema"
_MAX_LISTED = 10

#: What a client decodes from any one data file at most, whatever the file or the chain declares: rows, and bytes
#: of their canonical encodings (also the bound of the file's declared uncompressed size). A batch must fit both.
MAX_FILE_ROWS = 100_000
MAX_FILE_BYTES = 32 * 2**20
MAX_STORED_BYTES = 2 * MAX_FILE_BYTES  # fetched, at most, for one data file
_DECODE_BYTES = 4 * 2**20  # decoded at a time (one record batch)
_PHYSICAL_TYPES = {"float64": "DOUBLE", "int64": "INT64", "bool": "BOOLEAN", "string": "BYTE_ARRAY"}
_WIDTHS = {"float64": 9, "int64": 9, "bool": 2, "string": 5}  # canonical bytes of a value (a string's fewest)


_T = TypeVar("_T")


class SchemaError(ColearnError):
    """A DataFrame or file does not fit the model's schema. ``rows`` lists the offending row positions."""

    def __init__(self, message: str, rows: Sequence[int] = ()):
        super().__init__(message)
        self.rows = list(rows)


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise SchemaError(f"column {self.name!r}: dtype {self.dtype!r} is not one of {', '.join(DTYPES)}")


@dataclass(frozen=True)
class FeatureSchema:
    """Feature columns in order, the label column, the allowed labels (empty for regression), and value bounds.

    ``max_abs`` bounds the absolute value of every number (features and label), ``max_string_bytes`` the UTF-8
    length of every string.

    >>> schema = FeatureSchema((Column("x", "float64"),), Column("y", "int64"), (0, 1), max_abs=100)
    >>> FeatureSchema.from_dict(schema.to_dict()) == schema
    True
    >>> FeatureSchema.from_dict({"features": [{"name": "x", "dtype": "float64"}], "label": {"name": "y",
    ...     "dtype": "int64"}}).max_string_bytes
    1024
    """

    features: tuple[Column, ...]
    label: Column
    labels: tuple[Any, ...] = field(default=())
    max_abs: float = 1e9
    max_string_bytes: int = 1024

    def __post_init__(self) -> None:
        number = isinstance(self.max_abs, (int, float, np.integer, np.floating)) and not isinstance(self.max_abs, bool)
        try:
            max_abs = float(self.max_abs) if number else math.nan
        except OverflowError:
            max_abs = math.inf
        if not (math.isfinite(max_abs) and max_abs > 0):
            raise SchemaError(f"max_abs must be a finite number above 0, not {self.max_abs!r}")
        object.__setattr__(self, "max_abs", max_abs)
        size = self.max_string_bytes
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 1 <= size <= _UINT32_MAX:
            raise SchemaError(f"max_string_bytes must be an integer from 1 to {_UINT32_MAX}, not {size!r}")
        object.__setattr__(self, "max_string_bytes", int(size))
        names: set[str] = set()
        for column in (*self.features, self.label):
            if column.name in names:  # a frame selects one column by its name: rows would repeat or lose one
                raise _repeated_column(column.name)
            names.add(column.name)

    @classmethod
    def infer(
        cls, frame: pd.DataFrame, label: str, labels: Iterable[Any] | None = None, max_abs: float | None = None
    ) -> FeatureSchema:
        """The schema of a training DataFrame: its columns' dtypes, and its label column's distinct values.

        Without ``max_abs``, the bound is 1000 times the largest absolute number in the frame (at least ``1e6``,
        at most ``1e300``), rounded up to a power of ten.
        """
        if label not in frame.columns:
            raise SchemaError(f"the label column {label!r} is not in the DataFrame (columns: {list(frame.columns)})")
        _refuse_repeated_columns(frame)
        columns = tuple(Column(str(name), _dtype_of(frame[name])) for name in frame.columns if name != label)
        label_column = Column(label, _dtype_of(frame[label]))
        if labels is None:
            labels = () if label_column.dtype == "float64" else sorted(frame[label].dropna().unique().tolist())
        if max_abs is None:
            max_abs = _inferred_max_abs(frame)
        return cls(columns, label_column, tuple(_plain(v) for v in labels), max_abs=max_abs)

    @property
    def columns(self) -> tuple[Column, ...]:
        return (*self.features, self.label)

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": [asdict(c) for c in self.features],
            "label": asdict(self.label),
            "labels": list(self.labels),
            "max_abs": self.max_abs,
            "max_string_bytes": self.max_string_bytes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSchema:
        """The schema of :meth:`to_dict`; dictionaries written before the bounds existed get the defaults."""
        return cls(
            tuple(Column(**c) for c in data["features"]),
            Column(**data["label"]),
            tuple(data.get("labels", ())),
            max_abs=data.get("max_abs", cls.max_abs),
            max_string_bytes=data.get("max_string_bytes", cls.max_string_bytes),
        )


def _refuse_repeated_columns(frame: pd.DataFrame) -> None:
    """A DataFrame may name two columns alike; a schema may not (a frame selects a column by its name)."""
    repeated = frame.columns[frame.columns.duplicated()]
    if len(repeated):
        raise _repeated_column(str(repeated[0]))


def _repeated_column(name: str) -> SchemaError:
    return SchemaError(f"the column name {name[:50]!r} is given more than once: names must be unique")


def _inferred_max_abs(frame: pd.DataFrame) -> float:
    largest = 0.0
    for name in frame.columns:
        if _dtype_of(frame[name]) in ("float64", "int64"):
            values = np.abs(frame[name].to_numpy(dtype="float64", na_value=np.nan))
            values = values[np.isfinite(values)]
            if values.size:
                largest = max(largest, float(values.max()))
    bound = min(max(1e6, 1000 * largest), _MAX_INFERRED_ABS)
    exponent = math.ceil(math.log10(bound))
    while float(f"1e{exponent}") < bound:
        exponent += 1
    while float(f"1e{exponent - 1}") >= bound:
        exponent -= 1
    return float(f"1e{exponent}")


def _dtype_of(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int64"
    if pd.api.types.is_float_dtype(series):
        return "float64"
    if pd.api.types.is_string_dtype(series) or isinstance(series.dtype, pd.CategoricalDtype):
        return "string"
    raise SchemaError(f"column {series.name!r} has dtype {series.dtype}, which has no data format here")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# ---------------------------------------------------------------------------------------------------- encoding
def _encode_value(dtype: str, value: Any) -> bytes:
    if dtype == "float64":
        number = float(value)
        return b"f" + struct.pack(">d", 0.0 if number == 0 else number)
    if dtype == "int64":
        return b"i" + struct.pack(">q", int(value))
    if dtype == "bool":
        return b"b" + (b"\x01" if bool(value) else b"\x00")
    text = str(value).encode()
    return b"s" + struct.pack(">I", len(text)) + text


def encode_row(schema: FeatureSchema, values: Sequence[Any]) -> bytes:
    """Canonical bytes of one row, values in schema order (features, then label)."""
    return b"".join(_encode_value(c.dtype, v) for c, v in zip(schema.columns, values, strict=True))


def decode_row(schema: FeatureSchema, row: bytes) -> dict[str, Any]:
    """The values of a canonical row, by column name (the inverse of :func:`encode_row`).

    Raises :class:`SchemaError`, and nothing else, when the bytes do not follow the schema's layout: a wrong tag,
    a truncated value, a bool byte other than 0 or 1, a string that is not UTF-8, or bytes after the last column.
    Values outside the schema's bounds, ``-0.0`` and unknown labels decode as they are; :func:`row_fault` judges
    those.

    >>> schema = FeatureSchema((Column("x", "float64"),), Column("y", "string"))
    >>> decode_row(schema, b"f" + bytes(8) + b"s\\x00\\x00\\x00\\x02\\xc0\\xaf")
    Traceback (most recent call last):
    ...
    colearn_jupyter.formats.data.SchemaError: column 'y' holds bytes that are not valid UTF-8
    """
    if not isinstance(row, (bytes, bytearray, memoryview)):
        raise SchemaError(f"a row is bytes, not {type(row).__name__}")
    row = bytes(row)
    values: dict[str, Any] = {}
    pos = 0
    for column in schema.columns:
        if row[pos : pos + 1] != TAGS[column.dtype]:
            raise SchemaError(f"the row does not follow the schema at column {column.name!r}")
        if column.dtype in ("float64", "int64"):
            body = row[pos + 1 : pos + 9]
            if len(body) != 8:
                raise SchemaError(f"the row ends inside column {column.name!r}")
            values[column.name] = struct.unpack(">d" if column.dtype == "float64" else ">q", body)[0]
            pos += 9
        elif column.dtype == "bool":
            body = row[pos + 1 : pos + 2]
            if len(body) != 1:
                raise SchemaError(f"the row ends inside column {column.name!r}")
            if body[0] > 1:
                raise SchemaError(f"column {column.name!r} holds the bool byte {body[0]}, not 0 or 1")
            values[column.name] = body[0] == 1
            pos += 2
        else:
            header = row[pos + 1 : pos + 5]
            (length,) = struct.unpack(">I", header) if len(header) == 4 else (-1,)
            body = row[pos + 5 : pos + 5 + length] if length >= 0 else b""
            if length < 0 or len(body) != length:
                raise SchemaError(f"the row ends inside column {column.name!r}")
            try:
                values[column.name] = body.decode("utf-8")
            except UnicodeDecodeError:
                raise SchemaError(f"column {column.name!r} holds bytes that are not valid UTF-8") from None
            pos += 5 + length
    if pos != len(row):
        raise SchemaError("the row has bytes beyond the schema's columns")
    return values


# ---------------------------------------------------------------------------------------------------- on-chain rules
class RowFault(enum.IntEnum):
    """Why the contract refuses a revealed row (the same numbers as the contract's ``RowFault`` enum)."""

    NONE = 0
    MALFORMED = 1  # unknown or mismatched tag, or a truncated value
    OUT_OF_BOUNDS = 2  # |number| above the schema's max_abs (NaN and infinities included)
    NON_CANONICAL = 3  # -0.0
    BAD_BOOL = 4  # a bool byte other than 0 or 1
    STRING_TOO_LONG = 5  # more UTF-8 bytes than max_string_bytes
    BAD_UTF8 = 6  # string bytes that are not valid UTF-8
    TRAILING_BYTES = 7  # bytes after the last column
    LABEL_NOT_ALLOWED = 8  # a label outside the schema's labels


def float_bits(value: float) -> int:
    """The IEEE 754 binary64 bit pattern of ``value`` as an unsigned integer.

    >>> hex(float_bits(1.0))
    '0x3ff0000000000000'
    """
    return int.from_bytes(struct.pack(">d", float(value)), "big")


def onchain_schema(schema: FeatureSchema) -> tuple[bytes, list[bytes], int, int, int]:
    """The schema as the contract's ``RowSchema`` struct: ``(columns, labels, maxFloatBits, maxInt, maxStringBytes)``.

    ``columns`` holds one dtype tag per column (label last); ``labels`` the canonical encodings of the allowed
    labels, in the schema's order. Raises :class:`SchemaError` for a schema the contract refuses: no feature column,
    or a label beyond the schema's own bounds.

    >>> schema = FeatureSchema((Column("x", "float64"), Column("n", "int64")), Column("y", "string"), ("a",), 1e9)
    >>> onchain_schema(schema)
    (b'fis', [b's\\x00\\x00\\x00\\x01a'], 4741671816366391296, 1000000000, 1024)
    """
    if not schema.features:
        raise SchemaError("the contract needs at least one feature column besides the label")
    columns = b"".join(TAGS[c.dtype] for c in schema.columns)
    labels = [_encode_value(schema.label.dtype, value) for value in schema.labels]
    bounds = (float_bits(schema.max_abs), min(math.floor(schema.max_abs), INT64_MAX), schema.max_string_bytes)
    for value, label in zip(schema.labels, labels, strict=True):
        if _value_fault(label[0], label, 1, *bounds) != (RowFault.NONE, len(label)):
            raise SchemaError(f"the label {value!r} breaks the schema's own bounds (max_abs, max_string_bytes)")
    return (columns, labels, *bounds)


def schema_hash(schema: FeatureSchema) -> bytes:
    """``keccak256(abi.encode(schema))`` of the contract's ``RowSchema``: what a model commits to on chain.

    >>> schema = FeatureSchema((Column("x", "float64"),), Column("y", "int64"), (0, 1))
    >>> schema_hash(schema) == schema_hash(FeatureSchema.from_dict(schema.to_dict()))
    True
    """
    return keccak(abi_encode([ONCHAIN_SCHEMA_TYPE], [onchain_schema(schema)]))


def row_fault(schema: FeatureSchema, row: bytes) -> RowFault:
    """The first rule ``row`` breaks, column by column, exactly as the contract checks a revealed row.

    >>> schema = FeatureSchema((Column("x", "float64"),), Column("y", "bool"))
    >>> row_fault(schema, encode_row(schema, (2.5, True))).name
    'NONE'
    >>> row_fault(schema, b"f" + float_bits(float("nan")).to_bytes(8, "big") + b"b\\x01").name
    'OUT_OF_BOUNDS'
    >>> row_fault(schema, b"f" + bytes(8) + b"b\\x02").name
    'BAD_BOOL'
    """
    if not isinstance(row, (bytes, bytearray, memoryview)):
        raise TypeError(f"a row is bytes, not {type(row).__name__}")
    return _row_fault_onchain(onchain_schema(schema), bytes(row))


def row_faults(schema: FeatureSchema, rows: Sequence[bytes]) -> list[RowFault]:
    """:func:`row_fault` of every row, judged in one batch (:func:`colearn_jupyter.rowhash.row_faults`).

    >>> schema = FeatureSchema((Column("x", "float64"),), Column("y", "bool"))
    >>> [f.name for f in row_faults(schema, [encode_row(schema, (2.5, True)), b"f" + bytes(8) + b"b\\x02"])]
    ['NONE', 'BAD_BOOL']
    """
    members = list(RowFault)  # numbered 0, 1, ...: members[n] is RowFault(n)
    return [members[fault] for fault in fault_numbers(schema, rows).tolist()]


def fault_numbers(schema: FeatureSchema, rows: Sequence[bytes]) -> np.ndarray:
    """:func:`row_faults` as the faults' numbers (0 for none), an ``int8`` array: rows read from a file
    (:class:`~colearn_jupyter.rowsets.PackedRows`) are judged in their buffer, without a ``bytes`` object each.

    >>> schema = FeatureSchema((Column("x", "float64"),), Column("y", "bool"))
    >>> fault_numbers(schema, [encode_row(schema, (2.5, True)), b"f" + bytes(8) + b"b\\x02"]).tolist()
    [0, 4]
    """
    if isinstance(rows, PackedRows):
        return EncodedRows(rows.data, rows.offsets).faults(schema)
    for row in rows:
        if not isinstance(row, (bytes, bytearray, memoryview)):
            raise TypeError(f"a row is bytes, not {type(row).__name__}")
    plain = rows if all(type(row) is bytes for row in rows) else [bytes(row) for row in rows]
    return EncodedRows.of(plain).faults(schema)


def _row_fault_onchain(schema: tuple[bytes, list[bytes], int, int, int], row: bytes) -> RowFault:
    """:func:`row_fault` under the contract's form of the schema (:func:`onchain_schema`)."""
    columns, labels, *bounds = schema
    pos = label_start = 0
    for tag in columns:
        label_start = pos
        if pos >= len(row) or row[pos] != tag:
            return RowFault.MALFORMED
        fault, pos = _value_fault(tag, row, pos + 1, *bounds)
        if fault:
            return fault
    if pos != len(row):
        return RowFault.TRAILING_BYTES
    if labels and row[label_start:] not in labels:
        return RowFault.LABEL_NOT_ALLOWED
    return RowFault.NONE


def _value_fault(
    tag: int, row: bytes, pos: int, max_float_bits: int, max_int: int, max_string_bytes: int
) -> tuple[RowFault, int]:
    """The fault of the value with ``tag`` whose bytes start at ``pos`` (after the tag), and the next position."""
    if tag in b"fi":
        if len(row) < pos + 8:
            return RowFault.MALFORMED, pos
        bits = int.from_bytes(row[pos : pos + 8], "big")
        if tag == ord("f"):
            if bits == 0x8000000000000000:
                return RowFault.NON_CANONICAL, pos
            if bits & 0x7FFFFFFFFFFFFFFF > max_float_bits:
                return RowFault.OUT_OF_BOUNDS, pos
        elif abs(int.from_bytes(row[pos : pos + 8], "big", signed=True)) > max_int:  # |-2**63| is 2**63
            return RowFault.OUT_OF_BOUNDS, pos
        return RowFault.NONE, pos + 8
    if tag == ord("b"):
        if len(row) < pos + 1:
            return RowFault.MALFORMED, pos
        if row[pos] > 1:
            return RowFault.BAD_BOOL, pos
        return RowFault.NONE, pos + 1
    if len(row) < pos + 4:
        return RowFault.MALFORMED, pos
    length = int.from_bytes(row[pos : pos + 4], "big")
    if length > max_string_bytes:
        return RowFault.STRING_TOO_LONG, pos
    pos += 4
    if len(row) < pos + length:
        return RowFault.MALFORMED, pos
    try:
        row[pos : pos + length].decode("utf-8")
    except UnicodeDecodeError:
        return RowFault.BAD_UTF8, pos
    return RowFault.NONE, pos + length


# ---------------------------------------------------------------------------------------------------- batches
@dataclass(frozen=True)
class EncodedRows:
    """Canonical bytes of many rows as one ``uint8`` buffer: row ``m`` is ``data[offsets[m]:offsets[m + 1]]``."""

    data: np.ndarray
    offsets: np.ndarray

    @classmethod
    def of(cls, rows: Sequence[bytes]) -> EncodedRows:
        return cls(*rowhash.pack(rows))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def nbytes(self) -> int:
        """Bytes of all the rows' encodings together."""
        return int(self.offsets[-1] - self.offsets[0])

    def rows(self) -> list[bytes]:
        """Each row's canonical bytes."""
        raw, bounds = self.data.tobytes(), (self.offsets - self.offsets[0]).tolist()
        return [raw[bounds[m] : bounds[m + 1]] for m in range(len(self))]

    def hashes(self, *, parallel: bool = True) -> np.ndarray:
        """``keccak256`` of each row, as an ``(n, 32)`` array."""
        return rowhash.keccak_rows(self.data, self.offsets, parallel=parallel)

    def faults(self, schema: FeatureSchema) -> np.ndarray:
        """The :class:`RowFault` number of each row (0 for none), as :func:`row_fault` judges it."""
        return rowhash.row_faults(self.data, self.offsets, onchain_schema(schema))


#: Canonical bytes encoded at a time by :func:`iter_encoded` (then hashed, and dropped unless kept).
CHUNK_BYTES = 32 * 2**20
_FIXED = {"float64": (b"f", 8), "int64": (b"i", 8), "bool": (b"b", 1)}
_Piece = tuple[Any, ...]


def _fixed_source(column: Column, series: pd.Series) -> _Piece | None:
    """A column whose values NumPy converts exactly as :func:`_encode_value` does: floats of a float dtype, integers
    of a signed (or up to 32-bit unsigned) dtype, bools of the bool dtype."""
    dtype = series.dtype
    if column.dtype == "string" or not isinstance(dtype, np.dtype):
        return None
    exact = {"float64": dtype.kind == "f" and dtype.itemsize <= 8,
             "int64": dtype.kind == "i" or (dtype.kind == "u" and dtype.itemsize <= 4),
             "bool": dtype.kind == "b"}[column.dtype]  # fmt: skip
    return ("fixed", column.dtype, series.to_numpy()) if exact else None


def _string_source(series: pd.Series) -> _Piece | None:
    """A string column as the UTF-8 bytes of each value (Arrow's offsets and data), when every value is a ``str``
    (or the category of each is known): what ``str(value).encode()`` gives, without a Python call per value."""
    import pyarrow as pa

    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy().astype(np.int64)
        if len(codes) and codes.min() < 0:
            return None  # a missing value: the reference writes str(nan)
        texts = EncodedRows.of([_encode_value("string", value)[5:] for value in series.cat.categories.tolist()])
        lengths = np.diff(texts.offsets)[codes]
        offsets = np.zeros(len(codes) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        index = np.repeat(texts.offsets[:-1][codes] - offsets[:-1], lengths) + np.arange(offsets[-1])
        return ("text", offsets, texts.data[index])
    values = list(series)  # exactly what the reference iterates over
    if not all(type(value) is str for value in values):
        return None
    try:
        array = pa.array(values, type=pa.large_string())
    except (pa.ArrowException, ValueError, TypeError, UnicodeError):
        return None  # e.g. a lone surrogate, which the reference refuses with its own error
    _, offset_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=np.int64)[array.offset : array.offset + len(values) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    if len(values) and int(np.diff(offsets).max()) > 0xFFFFFFFF:
        return None  # beyond a 4-byte length: the reference raises
    return ("text", offsets - offsets[0], data[offsets[0] : offsets[-1]])


def _sources(schema: FeatureSchema, frame: pd.DataFrame) -> list[_Piece] | None:
    """How each column of ``frame`` (in schema order) is encoded: vectorized, or value by value through
    :func:`_encode_value` (``cells``) for what NumPy and Arrow cannot reproduce exactly. None when the frame's
    columns do not line up with the schema's (the reference then raises its own error)."""
    sources = []
    for column in schema.columns:
        series = frame[column.name]  # a column at a time: no copy of the whole frame
        if not isinstance(series, pd.Series):
            return None  # a name that several columns share
        source = _fixed_source(column, series) if column.dtype != "string" else _string_source(series)
        if source is None:
            cells = EncodedRows.of([_encode_value(column.dtype, value) for value in series])
            source = ("cells", cells.offsets, cells.data)
        if source[0] == "fixed" and sources and sources[-1][0] == "fixed" and sources[-1][1] == source[1]:
            sources[-1][2].append(source[2])  # a run of columns of one type is converted at once
        else:
            sources.append((*source[:2], [source[2]]) if source[0] == "fixed" else source)
    return sources


def _fill_fixed(into: np.ndarray, dtype: str, columns: list[np.ndarray], first: int, last: int) -> None:
    """Write the cells of a run of fixed-width columns over rows ``first:last`` into ``into``, a ``(rows, columns
    * (1 + size))`` byte matrix (or a view of one): each cell is the tag, then the value, big-endian. The bytes are
    seen as records of a tag and a big-endian value, so NumPy converts each column straight into place."""
    tag, size = _FIXED[dtype]
    value_type = {"float64": ">f8", "int64": ">i8", "bool": "u1"}[dtype]
    record = np.dtype({"names": ["tag", "value"], "formats": ["u1", value_type], "offsets": [0, 1],
                       "itemsize": 1 + size})  # fmt: skip
    cells = into.view(record)
    cells["tag"] = tag[0]
    values = cells["value"]
    for position, column in enumerate(columns):
        part = column[first:last]
        values[:, position] = part
        if dtype == "float64":
            zeros = np.flatnonzero(part == 0)
            if zeros.size:
                values[zeros, position] = 0.0  # -0.0 is written as 0.0 (NaN payloads stay as they are)


def _place(out: np.ndarray, starts: np.ndarray, cells: np.ndarray) -> None:
    out[starts[:, None] + np.arange(cells.shape[1])] = cells


def _encode_slice(sources: list[_Piece], first: int, last: int) -> EncodedRows:
    count = last - first
    if all(source[0] == "fixed" for source in sources):  # every row has the same width: a matrix
        width = sum(len(source[2]) * (1 + _FIXED[source[1]][1]) for source in sources)
        matrix = np.empty((count, width), dtype=np.uint8)
        position = 0
        for _, dtype, columns in sources:
            end = position + len(columns) * (1 + _FIXED[dtype][1])
            _fill_fixed(matrix[:, position:end], dtype, columns, first, last)
            position = end
        return EncodedRows(matrix.reshape(-1), np.arange(count + 1, dtype=np.int64) * width)
    lengths = np.zeros(count, dtype=np.int64)
    for source in sources:
        if source[0] == "fixed":
            lengths += len(source[2]) * (1 + _FIXED[source[1]][1])
        else:
            lengths += np.diff(source[1][first : last + 1]) + (5 if source[0] == "text" else 0)
    offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    out = np.empty(int(offsets[-1]), dtype=np.uint8)
    starts = offsets[:-1].copy()
    for source in sources:
        if source[0] == "fixed":
            cells = np.empty((count, len(source[2]) * (1 + _FIXED[source[1]][1])), dtype=np.uint8)
            _fill_fixed(cells, source[1], source[2], first, last)
            _place(out, starts, cells)
            starts += cells.shape[1]
            continue
        bounds, data = source[1][first : last + 1], source[2]
        sizes = np.diff(bounds)
        if source[0] == "text":  # b"s" + the length, 4 bytes big-endian
            head = np.empty((count, 5), dtype=np.uint8)
            head[:, 0] = ord("s")
            head[:, 1:] = sizes.astype(">u4").view(np.uint8).reshape(-1, 4)
            _place(out, starts, head)
            starts += 5
        total = int(bounds[-1] - bounds[0])
        if total:
            out[np.repeat(starts - (bounds[:-1] - bounds[0]), sizes) + np.arange(total)] = data[bounds[0] : bounds[-1]]
        starts += sizes
    return EncodedRows(out, offsets)


def _encode_reference(schema: FeatureSchema, frame: pd.DataFrame) -> list[bytes]:
    """The specification of the batch encoders: :func:`encode_row` of every row, one row at a time."""
    ordered = frame[schema.names]
    return [encode_row(schema, values) for values in ordered.itertuples(index=False, name=None)]


def _plan(
    schema: FeatureSchema, frame: pd.DataFrame, chunk_bytes: int | None
) -> tuple[list[_Piece], list[tuple[int, int]]] | None:
    """The column sources of ``frame`` and the row ranges to encode at a time: about ``chunk_bytes`` each, and
    enough of them for every core (all rows at once for None). None when the reference encoder must serve (see
    :func:`_sources`)."""
    sources = _sources(schema, frame)
    if sources is None:
        return None
    count = len(frame)
    if chunk_bytes is None:
        return sources, [(0, count)] if count else []
    fixed = sum(len(s[2]) * (1 + _FIXED[s[1]][1]) if s[0] == "fixed" else 5 for s in sources)
    varying = sum(int(s[1][-1]) for s in sources if s[0] != "fixed")
    return sources, rowhash.parts(count, most=max(1, chunk_bytes // max(1, fixed + varying // max(1, count))))


def iter_encoded(
    schema: FeatureSchema, frame: pd.DataFrame, *, chunk_bytes: int | None = CHUNK_BYTES
) -> Iterator[EncodedRows]:
    """Canonical bytes of a DataFrame's rows, a few MiB of rows at a time (all at once for ``chunk_bytes=None``),
    in order: the same bytes as :func:`encode_row`, each column converted at once (NumPy, Arrow) instead of value
    by value."""
    plan = _plan(schema, frame, chunk_bytes)
    if plan is None:
        yield EncodedRows.of(_encode_reference(schema, frame))
        return
    sources, ranges = plan
    for first, last in ranges:
        yield _encode_slice(sources, first, last)
    if not ranges:
        yield EncodedRows(np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64))


def encode_frame(schema: FeatureSchema, frame: pd.DataFrame) -> EncodedRows:
    """Canonical bytes of every row of a DataFrame, in one buffer (see :func:`iter_encoded`)."""
    (encoded,) = iter_encoded(schema, frame, chunk_bytes=None)
    return encoded


def encode_rows(schema: FeatureSchema, frame: pd.DataFrame) -> list[bytes]:
    """Canonical bytes of every row of a validated DataFrame.

    >>> schema = FeatureSchema((Column("x", "float64"),), Column("y", "string"))
    >>> encode_rows(schema, pd.DataFrame({"x": [-0.0, 2.5], "y": ["a", "bc"]})) == [
    ...     encode_row(schema, (0.0, "a")), encode_row(schema, (2.5, "bc"))]
    True
    """
    return encode_frame(schema, frame).rows()


def _progress(total: int, what: str, shown: bool = True) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=what, unit=" rows", disable=not shown or total < PROGRESS_ROWS, leave=False)


#: Operations on at least this many rows show a progress bar (tqdm.auto: a widget in Jupyter, text elsewhere).
PROGRESS_ROWS = 200_000


def row_digests(
    schema: FeatureSchema, frame: pd.DataFrame, *, keep: int = 0, what: str = "hashing rows", progress: bool = True
) -> tuple[np.ndarray, list[bytes] | None, int]:
    """``keccak256`` of every row's canonical bytes (an ``(n, 32)`` array), encoding each row once, a chunk at a
    time (chunks encoded and hashed on every core at once), with a progress bar on large frames. Also returns the
    rows' bytes while they take at most ``keep`` bytes (None beyond: a file could not hold them anyway), and their
    total size. ``progress=False``: no bar, whatever the size."""
    count = len(frame)
    digests = np.empty((count, 32), dtype=np.uint8)
    plan = _plan(schema, frame, CHUNK_BYTES)
    if plan is None:
        chunks: Iterable[tuple[int, EncodedRows]] = [(0, EncodedRows.of(_encode_reference(schema, frame)))]
    else:
        sources, ranges = plan

        def encoded(bounds: tuple[int, int]) -> tuple[int, EncodedRows]:
            part = _encode_slice(sources, *bounds)
            digests[bounds[0] : bounds[1]] = part.hashes(parallel=False)
            return bounds[0], part

        chunks = rowhash.ordered_map(encoded, ranges, total=count)
    kept: list[bytes] | None = [] if keep else None
    size = 0
    with _progress(count, what, progress) as bar:
        for first, part in chunks:
            if plan is None:
                digests[first : first + len(part)] = part.hashes()
            size += part.nbytes
            if kept is not None and size <= keep:
                kept.extend(part.rows())
            else:
                kept = None
            bar.update(len(part))
    return digests, kept, size


def merkle_tree(
    schema: FeatureSchema, frame: pd.DataFrame, *, key: bytes | None = None, keys: Sequence[bytes] | None = None
) -> MerkleTree:
    """The Merkle tree whose root a file of this DataFrame commits to on chain.

    ``key`` is the leaf key of every row (:func:`colearn_jupyter.merkle.contributor_key` of the submitter or the
    owner), ``keys`` one key per row (the hidden test set's :func:`colearn_jupyter.merkle.test_row_nonce`).
    """
    digests, _, _ = row_digests(schema, frame)
    return MerkleTree.from_row_hashes(digests, key=key, keys=keys)


# ---------------------------------------------------------------------------------------------------- validation
def _rows_text(positions: Sequence[int]) -> str:
    shown = ", ".join(str(p) for p in positions[:_MAX_LISTED])
    more = f" and {len(positions) - _MAX_LISTED} more" if len(positions) > _MAX_LISTED else ""
    return f"row{'s' if len(positions) > 1 else ''} {shown}{more}"


class KnownRows(Protocol):
    """Rows a model already has, asked about many digests at once (for example
    :class:`colearn_jupyter.contributions.RowIndex`), instead of a set holding every one of their hashes."""

    def known(self, digests: np.ndarray) -> np.ndarray:
        """Whether each of an ``(n, 32)`` array of row hashes is one of these rows (a ``bool`` array)."""
        ...


#: Rows already accepted: their hashes (32 bytes each), or an index asked in batches.
Accepted = set[bytes] | frozenset[bytes] | KnownRows


def validate(frame: pd.DataFrame, schema: FeatureSchema, *, accepted: Accepted = frozenset()) -> pd.DataFrame:
    """Check a DataFrame against a schema and return it with the schema's column order and dtypes.

    Raises :class:`SchemaError` naming the offending columns or rows (positions counted from 0) for: missing or
    unexpected columns, wrong dtypes, NaN or infinite values, numbers beyond the schema's ``max_abs``, strings
    longer than ``max_string_bytes`` in UTF-8 (or not encodable in it), unknown labels, rows repeated within the
    frame, and rows equal to already-accepted ones (``accepted`` holds their canonical encodings' hashes, see
    :func:`row_hashes`, or is a :class:`KnownRows`). So every row of a DataFrame it returns has
    :data:`RowFault.NONE` under :func:`row_fault`.
    """
    return validated_rows(frame, schema, accepted=accepted)[0]


@dataclass(frozen=True)
class ValidRows:
    """What validation computed of a DataFrame's rows, for whoever commits to them next: each row's ``keccak256``
    (an ``(n, 32)`` array), the rows' canonical bytes (kept up to ``keep`` bytes, else None) and their total size."""

    digests: np.ndarray
    rows: list[bytes] | None
    nbytes: int


def validated_rows(
    frame: pd.DataFrame,
    schema: FeatureSchema,
    *,
    accepted: Accepted = frozenset(),
    keep: int = 0,
    progress: bool = True,
) -> tuple[pd.DataFrame, ValidRows]:
    """:func:`validate`, also returning the rows' digests (and their bytes, up to ``keep`` bytes): each row is
    encoded and hashed once (with a progress bar on large frames, unless ``progress=False``)."""
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    if frame.empty:
        raise SchemaError("the DataFrame has no rows")
    _refuse_repeated_columns(frame)
    missing = [n for n in schema.names if n not in frame.columns]
    extra = [str(n) for n in frame.columns if n not in schema.names]
    if missing or extra:
        parts = [f"missing columns {missing}" if missing else "", f"unexpected columns {extra}" if extra else ""]
        raise SchemaError(f"the columns do not match the model's schema: {'; '.join(p for p in parts if p)}")
    out = frame[schema.names].reset_index(drop=True)
    for column in schema.columns:
        out[column.name] = _coerce(out[column.name], column, schema)
    bad_labels = _unknown_labels(out[schema.label.name], schema)
    if bad_labels:
        values = sorted({str(out[schema.label.name][i]) for i in bad_labels})[:_MAX_LISTED]
        raise SchemaError(
            f"unknown labels {values} at {_rows_text(bad_labels)}; the model's labels are {list(schema.labels)}",
            bad_labels,
        )
    digests, rows, size = row_digests(schema, out, keep=keep, what="validating rows", progress=progress)
    repeated = _repeated(digests)
    if repeated:
        raise SchemaError(f"{_rows_text(repeated)} repeat earlier rows of the same DataFrame", repeated)
    if accepted:
        seen = _accepted_rows(digests, accepted)
        if seen:
            raise SchemaError(f"{_rows_text(seen)} duplicate rows the model has already accepted", seen)
    return out, ValidRows(digests, rows, size)


def _accepted_rows(digests: np.ndarray, accepted: Accepted) -> list[int]:
    """Positions of the rows whose digest is in ``accepted``: asked of a :class:`KnownRows` in one call; for a set,
    the first 8 bytes of every digest are compared at once (a sort, not a Python lookup per row of a large frame),
    and the whole 32 bytes decide for those that match."""
    from ..rowsets import heads

    if not isinstance(accepted, (set, frozenset)):
        return np.flatnonzero(np.asarray(accepted.known(digests), dtype=bool)).tolist()
    if any(type(h) is not bytes or len(h) != 32 for h in accepted):  # not digests: compared as given, one by one
        return [i for i, h in enumerate(rowhash.as_list(digests)) if h in accepted]
    known = heads(np.frombuffer(b"".join(accepted), dtype=np.uint8).reshape(-1, 32))
    candidates = np.flatnonzero(np.isin(heads(digests), known))
    return [int(i) for i in candidates if digests[i].tobytes() in accepted]


def _unknown_labels(labels: pd.Series, schema: FeatureSchema) -> list[int]:
    """Positions of labels outside the schema's (none when it allows any): ``value not in set(schema.labels)``,
    compared column-wise where the types allow it exactly (integers with integers, strings with strings)."""
    allowed = set(schema.labels)
    if not allowed:
        return []
    kind = labels.dtype.kind if isinstance(labels.dtype, np.dtype) else ""
    if kind in "iub" and kind and all(type(a) in (int, bool) and -(2**63) <= a < 2**63 for a in allowed):
        known = np.isin(labels.to_numpy().astype(np.int64), np.array(sorted(allowed), dtype=np.int64))
        return np.flatnonzero(~known).tolist()
    if all(type(a) is str for a in allowed) and all(type(v) is str for v in labels):
        return np.flatnonzero(~labels.isin(list(allowed)).to_numpy()).tolist()
    return [i for i, v in enumerate(labels) if _plain(v) not in allowed]


def _repeated(digests: np.ndarray) -> list[int]:
    """Positions of rows whose digest an earlier row has (``duplicated()``, keeping the first): a hash table on the
    first 8 bytes finds the candidates, their 32 bytes decide."""
    if not len(digests):
        return []
    head = np.ascontiguousarray(digests[:, :8]).view("<u8").ravel()
    maybe = np.flatnonzero(pd.Series(head).duplicated(keep=False).to_numpy())
    first: dict[bytes, int] = {}
    repeated = []
    for position in maybe.tolist():
        digest = digests[position].tobytes()
        if digest in first:
            repeated.append(position)
        else:
            first[digest] = position
    return repeated


def _coerce(series: pd.Series, column: Column, schema: FeatureSchema) -> pd.Series:
    name, dtype = column.name, column.dtype
    if dtype in ("float64", "int64"):
        if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
            raise SchemaError(f"column {name!r} must be {dtype} but has dtype {series.dtype}")
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise SchemaError(f"column {name!r} has NaN or infinite values at {_rows_text(bad.tolist())}", bad.tolist())
        if dtype == "int64":
            if not pd.api.types.is_integer_dtype(series):
                fractional = np.flatnonzero(values != np.round(values)).tolist()
                if fractional:
                    raise SchemaError(
                        f"column {name!r} must hold integers; {_rows_text(fractional)} hold fractions", fractional
                    )
            _check_bounds(name, _int_beyond(series, values, min(math.floor(schema.max_abs), INT64_MAX)), schema)
            return series.astype("int64")
        _check_bounds(name, np.abs(values) > schema.max_abs, schema)
        return series.astype("float64")
    if series.isna().any():
        bad = np.flatnonzero(series.isna().to_numpy()).tolist()
        raise SchemaError(f"column {name!r} has missing values at {_rows_text(bad)}", bad)
    if dtype == "bool":
        if not pd.api.types.is_bool_dtype(series):
            raise SchemaError(f"column {name!r} must be bool but has dtype {series.dtype}")
        return series.astype(bool)
    if not (pd.api.types.is_string_dtype(series) or isinstance(series.dtype, pd.CategoricalDtype)):
        raise SchemaError(f"column {name!r} must hold strings but has dtype {series.dtype}")
    sizes = [_utf8_size(str(value)) for value in series]  # before astype(str), which fails on lone surrogates
    invalid = [i for i, size in enumerate(sizes) if size < 0]
    if invalid:
        raise SchemaError(f"column {name!r} has text that UTF-8 cannot encode at {_rows_text(invalid)}", invalid)
    long = [i for i, size in enumerate(sizes) if size > schema.max_string_bytes]
    if long:
        raise SchemaError(
            f"column {name!r} has strings longer than {schema.max_string_bytes} UTF-8 bytes (the schema's "
            f"max_string_bytes) at {_rows_text(long)}",
            long,
        )
    return series.astype(str)


def _utf8_size(text: str) -> int:
    """Length of the UTF-8 encoding, or -1 when there is none (lone surrogates)."""
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return -1


def _int_beyond(series: pd.Series, values: np.ndarray, max_int: int) -> np.ndarray:
    """Which integers of a column lie beyond ``±max_int``, compared exactly (not through float64)."""
    if not pd.api.types.is_integer_dtype(series):  # integral floats: beyond int64 they would wrap when cast
        beyond = np.abs(values) >= 2.0**63
        ints = np.where(beyond, 0, values).astype("int64")
    else:
        ints = series.to_numpy(dtype=getattr(series.dtype, "numpy_dtype", series.dtype))
        beyond = np.zeros(len(ints), dtype=bool)
        if ints.dtype.kind == "u":
            return ints > max_int
        ints = ints.astype("int64")
    return beyond | (ints > max_int) | (ints < -max_int)


def _check_bounds(name: str, beyond: np.ndarray, schema: FeatureSchema) -> None:
    bad = np.flatnonzero(beyond).tolist()
    if bad:
        raise SchemaError(
            f"column {name!r} has values beyond ±{schema.max_abs:g} (the schema's max_abs) at {_rows_text(bad)}", bad
        )


def row_hashes(encoded: Iterable[bytes]) -> list[bytes]:
    """keccak256 of each canonical row: what duplicate checks compare.

    >>> row_hashes([b"a"]) == [keccak(b"a")]
    True
    """
    return rowhash.as_list(EncodedRows.of(list(encoded)).hashes())


# ---------------------------------------------------------------------------------------------------- files
def to_parquet(frame: pd.DataFrame, schema: FeatureSchema) -> bytes:
    """A validated DataFrame as Parquet bytes (zstd, plain encoding), with the schema recorded in the file's
    metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = []
    for name in schema.names:  # a column at a time, NumPy's without a copy (no second frame of the rows)
        series = frame[name]
        numeric = isinstance(series.dtype, np.dtype) and series.dtype.kind in "fiub"
        arrays.append(pa.array(series.to_numpy()) if numeric else pa.Array.from_pandas(series))
    table = pa.Table.from_arrays(arrays, names=list(schema.names))
    table = table.replace_schema_metadata({_SCHEMA_KEY: json.dumps(schema.to_dict()).encode()})
    sink = io.BytesIO()
    # Plain encoding, no dictionaries: a value then takes no more bytes in the file's pages than in its canonical
    # encoding (which verifiers bound both), and writing unique floats is five times faster (zstd still compresses
    # repeated values). No column statistics: nothing reads them (a reader trusts no footer's minimum or maximum),
    # and computing them took half the time of writing a file of floats.
    pq.write_table(table, sink, compression="zstd", use_dictionary=False, write_statistics=False)
    return sink.getvalue()


def _mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB" if size >= 2**20 else f"{size:,} bytes"


def _open_parquet(data: bytes, schema: FeatureSchema, max_rows: int, max_bytes: int) -> Any:
    """The file, once its footer shows it can hold no more than ``max_rows`` rows of ``schema`` within ``max_bytes``.

    Nothing is decompressed yet: the footer's row count, its columns (flat, one per schema column, with the
    physical type of the column's dtype, so no value is wider than the schema allows), the uncompressed size it
    declares and the fewest canonical bytes of its rows are all checked first.
    """
    import pyarrow.parquet as pq

    max_rows = min(max_rows, MAX_FILE_ROWS)
    try:
        parquet = pq.ParquetFile(io.BytesIO(data), thrift_string_size_limit=8 * 2**20,
                                 thrift_container_size_limit=100_000, arrow_extensions_enabled=False)  # fmt: skip
        metadata = parquet.metadata
        declared = metadata.num_rows
        leaves = [metadata.schema.column(i) for i in range(metadata.num_columns)]
        chunks = [metadata.row_group(g).column(c) for g in range(metadata.num_row_groups) for c in range(len(leaves))]
        stored = sum(chunk.total_uncompressed_size for chunk in chunks)
    except Exception as error:  # noqa: BLE001 (any parse failure is the file's fault)
        raise SchemaError(f"not a readable Parquet file: {str(error)[:200]}") from None
    if declared > max_rows:
        limit = "a client reads from one file" if max_rows == MAX_FILE_ROWS else "committed"
        raise SchemaError(f"the file holds {declared:,} rows, more than the {max_rows:,} {limit}")
    types = {column.name: _PHYSICAL_TYPES[column.dtype] for column in schema.columns}
    names = [leaf.path for leaf in leaves]
    if sorted(names) != sorted(types) or any(leaf.name != leaf.path for leaf in leaves):
        shown = ", ".join(repr(name[:100]) for name in names[:_MAX_LISTED]) + (", ..." if len(names) > 10 else "")
        raise SchemaError(f"the file's columns [{shown}] are not the model's {schema.names}")
    wrong = [leaf.path for leaf in leaves if leaf.physical_type != types[leaf.path] or leaf.max_repetition_level]
    if wrong:
        raise SchemaError(f"the file's column {wrong[0]!r} is not stored as a flat {types[wrong[0]]} column")
    fewest = declared * sum(_WIDTHS[column.dtype] for column in schema.columns)
    if max(stored, fewest) > max_bytes:
        raise SchemaError(
            f"the file decodes to at least {_mib(max(stored, fewest))}, more than the {_mib(max_bytes)} a client reads "
            "from one file"
        )
    return parquet


def read_rows(
    data: bytes,
    schema: FeatureSchema,
    max_rows: int = MAX_FILE_ROWS,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    hashed: bool = False,
) -> tuple[pd.DataFrame, PackedRows]:
    """The rows of a Parquet file as they are (in schema order) and their canonical encodings, within bounds.

    At most ``max_rows`` rows (and :data:`MAX_FILE_ROWS`) whose encodings take at most ``max_bytes`` bytes: the
    footer is checked before anything is decompressed (so a small file that expands to millions of rows is refused
    at once), then the file is decoded a few MiB at a time and reading stops as soon as its rows go beyond either
    bound, so memory stays within the bounds whatever the file holds. Raises :class:`SchemaError`, and nothing
    else, for a file beyond them or not readable. Values are not validated: the caller judges them row by row.

    The encodings stay in one buffer (:class:`~colearn_jupyter.rowsets.PackedRows`, a ``Sequence[bytes]``), which
    :class:`~colearn_jupyter.merkle.MerkleTree` and :func:`fault_numbers` use as it is. With ``hashed``, each batch
    of rows is also hashed (``keccak256``) on another thread while the next ones are decoded and encoded, and the
    rows carry their hashes (``rows.hashes``: the tree of a file then hashes no row again).
    """
    parquet = _open_parquet(data, schema, max_rows, max_bytes)
    max_rows = min(max_rows, MAX_FILE_ROWS)
    widest = sum(_WIDTHS[c.dtype] + (c.dtype == "string") * schema.max_string_bytes for c in schema.columns)
    frames: list[pd.DataFrame] = []
    parts: list[EncodedRows] = []
    count = size = 0
    batches = parquet.iter_batches(batch_size=max(1, min(max_rows, _DECODE_BYTES // widest)), use_threads=False)

    def decode() -> tuple[int, pd.DataFrame] | None:
        batch = next(batches, None)
        return None if batch is None else (batch.num_rows, batch.to_pandas(ignore_metadata=True)[schema.names])

    hashing = ThreadPoolExecutor(1, thread_name_prefix="colearn-hash") if hashed else None
    digests: list[Future[np.ndarray]] = []
    try:
        for rows_in_batch, frame in _ahead(decode):
            if count + rows_in_batch > max_rows:
                raise SchemaError(f"the file holds more than the {max_rows:,} rows a client reads from it")
            try:
                encoded = encode_frame(schema, frame)
            except (TypeError, ValueError, OverflowError) as error:
                raise SchemaError(f"a value does not fit its column's type: {str(error)[:200]}") from None
            size += encoded.nbytes
            if size > max_bytes:
                raise SchemaError(f"the file's rows take more than the {_mib(max_bytes)} a client reads from one file")
            frames.append(frame)
            parts.append(encoded)
            count += len(encoded)
            if hashing is not None:
                digests.append(hashing.submit(rowhash.keccak_rows, encoded.data, encoded.offsets, parallel=False))
        hashes = [digest.result() for digest in digests]
    except SchemaError:
        raise
    except Exception as error:  # noqa: BLE001 (any decoding failure is the file's fault)
        raise SchemaError(f"not a readable Parquet file: {str(error)[:200]}") from None
    finally:
        if hashing is not None:
            hashing.shutdown(wait=True, cancel_futures=True)  # anything left is of a file refused
    rows = _joined(parts)
    if hashing is not None:
        rows.hashes = np.concatenate(hashes) if hashes else np.zeros((0, 32), dtype=np.uint8)
    if not frames:
        return pd.DataFrame({name: [] for name in schema.names}), rows
    return (frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)), rows


def _ahead(produce: Callable[[], _T | None]) -> Iterator[_T]:
    """``produce()`` until it gives None, each call made on another thread while the caller handles the previous
    result (one ahead): Parquet decodes a batch, releasing the GIL, while the last one is encoded. Whatever
    ``produce`` raises is raised here, in order."""
    with ThreadPoolExecutor(1, thread_name_prefix="colearn-decode") as pool:
        following = pool.submit(produce)
        while True:
            item = following.result()
            if item is None:
                return
            following = pool.submit(produce)
            try:
                yield item
            except GeneratorExit:
                following.cancel()
                raise


def _joined(parts: Sequence[EncodedRows]) -> PackedRows:
    """Consecutive batches of encoded rows as one :class:`~colearn_jupyter.rowsets.PackedRows`."""
    if len(parts) == 1:
        return PackedRows(parts[0].data, parts[0].offsets)
    offsets = np.zeros(sum(len(part) for part in parts) + 1, dtype=np.int64)
    pieces, row, start = [], 0, 0
    for part in parts:
        first, last = int(part.offsets[0]), int(part.offsets[-1])
        pieces.append(part.data[first:last])
        offsets[row + 1 : row + len(part) + 1] = part.offsets[1:] - first + start
        row, start = row + len(part), start + last - first
    return PackedRows(np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.uint8), offsets)


def check_size(count: int, size: int) -> None:
    """Refuse ``count`` rows whose canonical encodings take ``size`` bytes when one file may not hold them (more
    than :data:`MAX_FILE_ROWS` rows or :data:`MAX_FILE_BYTES`): verifiers would not read such a file whole."""
    if count > MAX_FILE_ROWS or size > MAX_FILE_BYTES:
        raise SchemaError(
            f"{count:,} rows taking {_mib(size)} are more than one file may hold ({MAX_FILE_ROWS:,} rows, "
            f"{_mib(MAX_FILE_BYTES)}): split the rows into smaller batches{_SPLIT_HINT}"
        )


def check_file(parquet: bytes, schema: FeatureSchema, rows: Sequence[bytes]) -> None:
    """Refuse a batch that verifiers would not read whole: more than :data:`MAX_FILE_ROWS` rows, rows whose
    canonical encodings take more than :data:`MAX_FILE_BYTES` (:func:`check_size`), or a file whose footer
    :func:`read_rows` refuses."""
    check_size(len(rows), sum(len(row) for row in rows))
    try:
        _open_parquet(parquet, schema, len(rows), MAX_FILE_BYTES)
    except SchemaError as error:
        raise SchemaError(f"{error}: split the rows into smaller batches{_SPLIT_HINT}") from None


#: How to contribute more rows than one file holds, in every refusal of a batch beyond the bounds.
_SPLIT_HINT = (
    ", or contribute them with Session.contribute_many(model, frame) (or %colearn contribute), which sends as many "
    "files as they need"
)


def read_data(
    data: bytes, schema: FeatureSchema, *, format: str = "parquet", max_rows: int = MAX_FILE_ROWS
) -> pd.DataFrame:
    """Read a Parquet (or CSV) data file and validate it against ``schema``; nothing in it is executed.

    A Parquet file is read within :func:`read_rows`' bounds (at most ``max_rows`` rows).
    """
    if format == "parquet":
        frame, _ = read_rows(data, schema, max_rows)
    elif format == "csv":
        frame = read_csv(io.BytesIO(data), schema)
    else:
        raise SchemaError(f"unknown data format {format!r}; use 'parquet' or 'csv'")
    return validate(frame, schema)


def read_csv(source: Any, schema: FeatureSchema) -> pd.DataFrame:
    """Read a CSV file with the dtypes the schema declares (so ``"007"`` stays a string)."""
    dtypes = {c.name: {"float64": "float64", "int64": "Int64", "bool": "boolean", "string": "string"}[c.dtype]
              for c in schema.columns}  # fmt: skip
    try:
        frame = pd.read_csv(source, dtype=dtypes)
    except (ValueError, TypeError) as error:
        raise SchemaError(f"the CSV file does not fit the schema: {error}") from None
    return frame
