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

and concatenated. Row ``i`` of a file (zero based, in file order) has the leaf
``keccak256(keccak256(abi.encode(uint256 i, keccak256(row))))``, so anyone with the file can rebuild the Merkle
root stored on chain (:func:`merkle_tree`) and prove any single row.

>>> import pandas as pd
>>> frame = pd.DataFrame({"x": [1.5, 2.0], "n": [3, 4], "label": ["ham", "spam"]})
>>> schema = FeatureSchema.infer(frame, label="label")
>>> encode_row(schema, (1.5, 3, "ham")).hex()
'663ff8000000000000690000000000000003730000000368616d'
>>> decode_row(schema, encode_row(schema, (1.5, 3, "ham")))
{'x': 1.5, 'n': 3, 'label': 'ham'}
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ColearnError
from ..merkle import MerkleTree

DTYPES = ("float64", "int64", "bool", "string")
_SCHEMA_KEY = b"colearn.schema"
_MAX_LISTED = 10


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
    """Feature columns in order, the label column, and the allowed labels (empty for regression)."""

    features: tuple[Column, ...]
    label: Column
    labels: tuple[Any, ...] = field(default=())

    @classmethod
    def infer(cls, frame: pd.DataFrame, label: str, labels: Iterable[Any] | None = None) -> FeatureSchema:
        """The schema of a training DataFrame: its columns' dtypes, and its label column's distinct values."""
        if label not in frame.columns:
            raise SchemaError(f"the label column {label!r} is not in the DataFrame (columns: {list(frame.columns)})")
        columns = tuple(Column(str(name), _dtype_of(frame[name])) for name in frame.columns if name != label)
        label_column = Column(label, _dtype_of(frame[label]))
        if labels is None:
            labels = () if label_column.dtype == "float64" else sorted(frame[label].dropna().unique().tolist())
        return cls(columns, label_column, tuple(_plain(v) for v in labels))

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
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSchema:
        return cls(tuple(Column(**c) for c in data["features"]), Column(**data["label"]), tuple(data.get("labels", ())))


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
    """The values of a canonical row, by column name (the inverse of :func:`encode_row`)."""
    values: dict[str, Any] = {}
    pos = 0
    for column in schema.columns:
        tag = row[pos : pos + 1]
        expected = {"float64": b"f", "int64": b"i", "bool": b"b", "string": b"s"}[column.dtype]
        if tag != expected:
            raise SchemaError(f"the row does not follow the schema at column {column.name!r}")
        if column.dtype == "float64":
            values[column.name] = struct.unpack(">d", row[pos + 1 : pos + 9])[0]
            pos += 9
        elif column.dtype == "int64":
            values[column.name] = struct.unpack(">q", row[pos + 1 : pos + 9])[0]
            pos += 9
        elif column.dtype == "bool":
            values[column.name] = row[pos + 1] == 1
            pos += 2
        else:
            (length,) = struct.unpack(">I", row[pos + 1 : pos + 5])
            values[column.name] = row[pos + 5 : pos + 5 + length].decode()
            pos += 5 + length
    if pos != len(row):
        raise SchemaError("the row has bytes beyond the schema's columns")
    return values


def encode_rows(schema: FeatureSchema, frame: pd.DataFrame) -> list[bytes]:
    """Canonical bytes of every row of a validated DataFrame."""
    ordered = frame[schema.names]
    return [encode_row(schema, values) for values in ordered.itertuples(index=False, name=None)]


def merkle_tree(schema: FeatureSchema, frame: pd.DataFrame) -> MerkleTree:
    """The Merkle tree whose root a submission of this DataFrame commits to on chain."""
    return MerkleTree(encode_rows(schema, frame))


# ---------------------------------------------------------------------------------------------------- validation
def _rows_text(positions: Sequence[int]) -> str:
    shown = ", ".join(str(p) for p in positions[:_MAX_LISTED])
    more = f" and {len(positions) - _MAX_LISTED} more" if len(positions) > _MAX_LISTED else ""
    return f"row{'s' if len(positions) > 1 else ''} {shown}{more}"


def validate(
    frame: pd.DataFrame, schema: FeatureSchema, *, accepted: set[bytes] | frozenset[bytes] = frozenset()
) -> pd.DataFrame:
    """Check a DataFrame against a schema and return it with the schema's column order and dtypes.

    Raises :class:`SchemaError` naming the offending columns or rows (positions counted from 0) for: missing or
    unexpected columns, wrong dtypes, NaN or infinite values, unknown labels, rows repeated within the frame, and
    rows equal to already-accepted ones (``accepted`` holds their canonical encodings' hashes, see
    :func:`row_hashes`).
    """
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    if frame.empty:
        raise SchemaError("the DataFrame has no rows")
    missing = [n for n in schema.names if n not in frame.columns]
    extra = [str(n) for n in frame.columns if n not in schema.names]
    if missing or extra:
        parts = [f"missing columns {missing}" if missing else "", f"unexpected columns {extra}" if extra else ""]
        raise SchemaError(f"the columns do not match the model's schema: {'; '.join(p for p in parts if p)}")
    out = frame[schema.names].reset_index(drop=True)
    for column in schema.columns:
        out[column.name] = _coerce(out[column.name], column)
    allowed = set(schema.labels)
    bad_labels = [i for i, v in enumerate(out[schema.label.name]) if _plain(v) not in allowed] if allowed else []
    if bad_labels:
        values = sorted({str(out[schema.label.name][i]) for i in bad_labels})[:_MAX_LISTED]
        raise SchemaError(
            f"unknown labels {values} at {_rows_text(bad_labels)}; the model's labels are {list(schema.labels)}",
            bad_labels,
        )
    encoded = encode_rows(schema, out)
    repeated = [i for i in np.flatnonzero(pd.Series(encoded).duplicated().to_numpy())]
    if repeated:
        raise SchemaError(f"{_rows_text(repeated)} repeat earlier rows of the same DataFrame", repeated)
    if accepted:
        seen = [i for i, h in enumerate(row_hashes(encoded)) if h in accepted]
        if seen:
            raise SchemaError(f"{_rows_text(seen)} duplicate rows the model has already accepted", seen)
    return out


def _coerce(series: pd.Series, column: Column) -> pd.Series:
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
            return series.astype("int64")
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
    return series.astype(str)


def row_hashes(encoded: Iterable[bytes]) -> list[bytes]:
    """keccak256 of each canonical row: what duplicate checks compare."""
    from eth_utils import keccak

    return [keccak(row) for row in encoded]


# ---------------------------------------------------------------------------------------------------- files
def to_parquet(frame: pd.DataFrame, schema: FeatureSchema) -> bytes:
    """A validated DataFrame as Parquet bytes, with the schema recorded in the file's metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame[schema.names], preserve_index=False)
    table = table.replace_schema_metadata({_SCHEMA_KEY: json.dumps(schema.to_dict()).encode()})
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def read_data(data: bytes, schema: FeatureSchema, *, format: str = "parquet") -> pd.DataFrame:
    """Read a Parquet (or CSV) data file and validate it against ``schema``; nothing in it is executed."""
    if format == "parquet":
        import pyarrow.parquet as pq

        try:
            frame = pq.read_table(io.BytesIO(data)).to_pandas()
        except Exception as error:  # noqa: BLE001 (any parse failure is the file's fault)
            raise SchemaError(f"not a readable Parquet file: {error}") from None
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
