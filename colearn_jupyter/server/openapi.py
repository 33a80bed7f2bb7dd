"""The published OpenAPI document, and validation of requests against it.

The handlers validate query parameters, path parameters and JSON bodies with the document's own schemas, so the
document shipped in the package is the contract: a request it does not allow gets a 400 with a message.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, validators
from referencing import Registry, Resource

from ..errors import ColearnError
from ..formats.jsonsafe import load_json

DOCUMENT_PATH = Path(__file__).parent / "openapi.json"
_ECHOED = 60  # characters of an input a message may quote

# An integer is a JSON number written as one: 3.0 (a float to Python, whatever its value) is not an id or a row.
_Validator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda checker, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


class RequestError(ColearnError):
    """A request the OpenAPI document does not allow."""


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The OpenAPI document as published."""
    return json.loads(DOCUMENT_PATH.read_text())


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` becomes a JSON Schema type union."""
    if isinstance(node, dict):
        out = {k: _to_json_schema(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") and "type" in node:
            out["type"] = [node["type"], "null"]
        return out
    if isinstance(node, list):
        return [_to_json_schema(v) for v in node]
    return node


@lru_cache(maxsize=1)
def _registry() -> Registry:
    root = _to_json_schema(copy.deepcopy(document()))
    return Registry().with_resource("openapi", Resource.opaque(root))


def _validator(schema: dict[str, Any]) -> Any:
    rebased = json.loads(json.dumps(_to_json_schema(schema)).replace('"#/components', '"openapi#/components'))
    return _Validator(rebased, registry=_registry())


def _quoted(value: Any) -> str:
    """``repr(value)``, cut short: an input is never echoed whole."""
    text = repr(value) if len(str(value)) < 10 * _ECHOED else repr(str(value)[: 2 * _ECHOED])
    return text if len(text) <= _ECHOED else f"{text[:_ECHOED]}... ({len(text):,} characters)"


def _message(error: Any) -> str:
    """A validation error's message without the (maybe huge) value it quotes."""
    message = str(error.message)
    quoted = repr(error.instance)
    if len(quoted) > _ECHOED and quoted in message:
        message = message.replace(quoted, _quoted(error.instance))
    return message[:500]


def _operation(path: str, method: str) -> dict[str, Any]:
    return document()["paths"][path][method]


def _parameters(path: str, method: str) -> list[dict[str, Any]]:
    resolved = []
    for parameter in _operation(path, method).get("parameters", []):
        if "$ref" in parameter:
            name = parameter["$ref"].rsplit("/", 1)[-1]
            parameter = document()["components"]["parameters"][name]
        resolved.append(parameter)
    return resolved


def _coerce(raw: str, schema: dict[str, Any], name: str) -> Any:
    if schema.get("type") == "integer":
        if not (raw.isascii() and raw.lstrip("-").isdigit() and raw.count("-") <= raw.startswith("-")):
            raise RequestError(f"{name} must be an integer, not {_quoted(raw)}")
        if len(raw.lstrip("-0")) > 20:  # beyond any bound in the document (and int()'s own limit)
            raise RequestError(f"{name} is out of range: {_quoted(raw)}")
        return int(raw)
    return raw


def parameters(path: str, method: str, query: dict[str, str], path_args: dict[str, str]) -> dict[str, Any]:
    """Validated parameters of a request by name, with defaults filled in and integers converted."""
    values: dict[str, Any] = {}
    for parameter in _parameters(path, method):
        name, schema = parameter["name"], parameter["schema"]
        source = path_args if parameter["in"] == "path" else query
        if name not in source:
            if parameter.get("required"):
                raise RequestError(f"{name} is required")
            if "default" in schema:
                values[name] = schema["default"]
            continue
        value = _coerce(source[name], schema, name)
        errors = list(_validator(schema).iter_errors(value))
        if errors:
            raise RequestError(f"{name}: {_message(errors[0])}")
        values[name] = value
    # Other query parameters are ignored: Jupyter's own (``token``) and JupyterLab's cache-busting numbers.
    return values


def body(path: str, method: str, raw: bytes) -> dict[str, Any]:
    """The validated JSON body of a request (an empty object when the body is optional and absent)."""
    spec = _operation(path, method).get("requestBody")
    if spec is None:
        return {}
    if not raw.strip():
        if spec.get("required"):
            raise RequestError("this request needs a JSON body")
        return {}
    try:
        data = load_json(raw)
    except ValueError:  # not JSON, not UTF-8, a number of too many digits, or nested too deep
        raise RequestError("the body is not valid JSON (or nests too deep)") from None
    schema = spec["content"]["application/json"]["schema"]
    try:
        errors = sorted(_validator(schema).iter_errors(data), key=lambda e: [str(p) for p in e.path])
    except RecursionError:
        raise RequestError("the body is nested too deeply") from None
    if errors:
        where = "/".join(str(p)[:_ECHOED] for p in errors[0].path) or "body"
        raise RequestError(f"{where}: {_message(errors[0])}")
    return data
