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

SCHEMA_PATH = Path(__file__).parent.parent / "schemas" / "model-metadata.schema.json"


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def validate_metadata(document: dict[str, Any]) -> None:
    """Raise :class:`SchemaError` listing every way ``document`` breaks the metadata schema."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.path))
    if errors:
        lines = [f"{'/'.join(str(p) for p in e.path) or '(top)'}: {e.message}" for e in errors]
        raise SchemaError("the model metadata is invalid:\n  " + "\n  ".join(lines))


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
        try:
            document = json.loads(data)
        except ValueError:
            raise SchemaError("the model metadata is not JSON") from None
        validate_metadata(document)
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
