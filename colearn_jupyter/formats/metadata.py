"""Model metadata: a JSON document validated by the JSON Schema shipped in the package.

>>> from colearn_jupyter.formats.data import Column, FeatureSchema
>>> schema = FeatureSchema((Column("x", "float64"),), Column("y", "int64"), (0, 1))
>>> meta = ModelMetadata(name="demo", task="classification", framework="skops", feature_schema=schema)
>>> ModelMetadata.from_json(meta.to_json()) == meta
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .data import FeatureSchema, SchemaError
from .jsonsafe import load_json

SCHEMA_PATH = Path(__file__).parent.parent / "schemas" / "model-metadata.schema.json"


@lru_cache(maxsize=1)
def _validator() -> Any:
    """The schema's validator, except for ``uniqueItems`` of the labels, which :func:`_repeated_label` checks.

    jsonschema checks ``uniqueItems`` by sorting, and compares every pair when the items cannot be sorted (labels
    of mixed types, ``[1, "1", 2, …]``): a 55 KB document took 13 s, a 1 MiB one hours.
    """
    from .imports import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    labels = schema["properties"]["feature_schema"]["properties"]["labels"]
    assert labels.pop("uniqueItems") is True  # the schema's rule is kept, checked in linear time
    return jsonschema().Draft202012Validator(schema)


def _repeated_label(document: Any) -> str | None:
    """The schema's ``uniqueItems`` rule for ``feature_schema.labels``, in linear time: the message for a label
    given twice (equal as JSON Schema compares: ``1`` and ``1.0`` alike, ``true`` and ``1`` not), else None."""
    schema = document.get("feature_schema") if isinstance(document, dict) else None
    labels = schema.get("labels") if isinstance(schema, dict) else None
    if not isinstance(labels, list):
        return None  # not an array: the validator says so
    seen: set[tuple[str, Any]] = set()
    for label in labels:
        if isinstance(label, (dict, list)):
            return None  # not a label type: the validator says so
        key = ("bool" if isinstance(label, bool) else "str" if isinstance(label, str) else "number", label)
        if key in seen:
            return f"feature_schema/labels: {str(label)[:50]!r} is given more than once (labels must be unique)"
        seen.add(key)
    return None


#: The largest metadata document a client fetches (a model's is a few KB).
MAX_METADATA_BYTES = 1024 * 1024
_LISTED = 10


def validate_metadata(document: dict[str, Any]) -> None:
    """Raise :class:`SchemaError` listing the ways ``document`` breaks the metadata schema (the first ten, each cut
    short: a stranger's document is never echoed whole)."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: [str(p) for p in e.path])
    repeated = _repeated_label(document)
    if errors or repeated:
        lines = [f"{'/'.join(str(p)[:50] for p in e.path) or '(top)'}: {e.message}"[:200] for e in errors[:_LISTED]]
        lines += [repeated] if repeated else []
        more = [f"and {len(errors) - _LISTED} more"] if len(errors) > _LISTED else []
        raise SchemaError("the model metadata is invalid:\n  " + "\n  ".join(lines + more))


@dataclass(frozen=True)
class ModelMetadata:
    """What a model is: task, framework, feature schema, lineage and license."""

    name: str
    task: str
    framework: str
    feature_schema: FeatureSchema
    license: str = "CC-BY-4.0"
    description: str = ""
    estimator: str = ""
    lineage: dict[str, Any] = field(default_factory=lambda: {"version": 1})

    def to_dict(self) -> dict[str, Any]:
        document = {
            "schema_version": 1,
            "name": self.name,
            "task": self.task,
            "framework": self.framework,
            "feature_schema": self.feature_schema.to_dict(),
            "lineage": dict(self.lineage),
            "license": self.license,
            "row_encoding": "colearn-row-v1",
        }
        if self.description:
            document["description"] = self.description
        if self.estimator:
            document["estimator"] = self.estimator
        validate_metadata(document)
        return document

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> ModelMetadata:
        """The metadata in a JSON document; :class:`SchemaError`, and nothing else, for any other document."""
        if len(data) > MAX_METADATA_BYTES:
            raise SchemaError(f"the model metadata is larger than {MAX_METADATA_BYTES:,} bytes")
        try:
            document = load_json(data)
        except ValueError:
            raise SchemaError("the model metadata is not JSON (or nests too deep)") from None
        try:
            validate_metadata(document)
            return cls._from_document(document)
        except SchemaError:
            raise
        except Exception as error:  # noqa: BLE001 (nested too deep, or values the schema lets through badly)
            raise SchemaError(f"the model metadata cannot be read ({type(error).__name__})") from None

    @classmethod
    def _from_document(cls, document: dict[str, Any]) -> ModelMetadata:
        return cls(
            name=document["name"],
            task=document["task"],
            framework=document["framework"],
            feature_schema=FeatureSchema.from_dict(document["feature_schema"]),
            license=document["license"],
            description=document.get("description", ""),
            estimator=document.get("estimator", ""),
            lineage=document["lineage"],
        )
