"""Model files in safe formats only; nothing from the marketplace is ever unpickled.

Three formats are written and read:

- ``skops``: scikit-learn estimators saved with skops and loaded only when every type in the file is one colearn
  supports, by exact name (:mod:`.allowlist`: no ``FunctionTransformer``, no function called by name; anything
  else is refused and named, before anything is loaded).
- ``keras``: Keras 3 models as ``.keras`` archives, loaded with ``safe_mode=True`` (torch backend).
- ``colearn-linear``: a small JSON format for the linear models trained on chain (:class:`LinearModel`).

Any other file (pickle, joblib, an archive of unknown shape) is refused by :func:`load_model` with
:class:`UnsafeFormatError`, whatever the caller asks: there is no switch that unpickles. :func:`predict_labels` is
the one way colearn predicts with a loaded model, in the kernel and in the worker that runs other accounts' models
(:mod:`colearn_jupyter.sandbox`).

>>> blob = save_model(LinearModel(weights=[0.5, -1.0], intercept=0.25, features=["a", "b"]))
>>> detect_format(blob)
'colearn-linear'
>>> load_model(blob).predict([[2.0, 0.5]])
[1]
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ColearnError
from .allowlist import refusal, refused_types
from .imports import skops_io
from .jsonsafe import TooManyValues, load_json

LINEAR_FORMAT = "colearn-linear/1"
LINEAR_SCALE = 10**6
MAX_LINEAR_BYTES = 16 << 20  # room for hundreds of thousands of weights
#: Values of a colearn-linear file parsed at most (its weights and feature names, one each per feature): 16 MiB of
#: ``{},`` would otherwise build 5.6 million dicts, 450 MiB, in whoever checks the file.
MAX_LINEAR_VALUES = 2_000_000
#: Bytes of an archive's central directory (its list of entries) read at most: about 50,000 entries, where a forest
#: of 500 trees saved with skops lists 2,500 in 160 KB. Each entry costs about 1.5 KiB and 20 µs to parse, thrice.
MAX_CENTRAL_DIRECTORY = 4 << 20
_PICKLE_HINT = (
    "colearn never loads pickle or joblib files, because loading them can run any code. Save scikit-learn models "
    "with colearn (skops) and Keras models as .keras instead"
)


class UnsafeFormatError(ColearnError):
    """A model file is not in one of the safe formats (or would need untrusted types to load)."""


@dataclass
class LinearModel:
    """A binary linear classifier: ``1 if w·x + b >= 0 else 0``, the model the contract can run."""

    weights: list[float]
    intercept: float = 0.0
    features: list[str] = field(default_factory=list)
    classes: list[Any] = field(default_factory=lambda: [0, 1])

    def decision_function(self, rows: Any) -> list[float]:
        return [sum(w * float(x) for w, x in zip(self.weights, row, strict=True)) + self.intercept for row in rows]

    def predict(self, rows: Any) -> list[Any]:
        return [self.classes[1] if score >= 0 else self.classes[0] for score in self.decision_function(_rows(rows))]

    def to_onchain(self, scale: int = LINEAR_SCALE) -> tuple[list[int], int]:
        """Fixed-point weights and intercept of the on-chain perceptron given at publish (features scaled alike)."""
        return [round(w * scale) for w in self.weights], round(self.intercept * scale)

    @classmethod
    def from_onchain(cls, weights: list[int], intercept: int, scale: int = LINEAR_SCALE, **kwargs: Any) -> LinearModel:
        return cls([w / scale for w in weights], intercept / scale, **kwargs)

    @classmethod
    def from_sklearn(cls, estimator: Any, features: list[str] | None = None) -> LinearModel:
        """From a fitted binary scikit-learn linear classifier (Perceptron, LogisticRegression, SGDClassifier…)."""
        coef = getattr(estimator, "coef_", None)
        if coef is None or len(coef) != 1 or len(getattr(estimator, "classes_", [])) != 2:
            raise UnsafeFormatError("only fitted binary linear classifiers can become an on-chain linear model")
        names = features or [str(n) for n in getattr(estimator, "feature_names_in_", range(len(coef[0])))]
        return cls(
            [float(w) for w in coef[0]], float(estimator.intercept_[0]), names, [c.item() for c in estimator.classes_]
        )


def _rows(rows: Any) -> list[list[float]]:
    values = rows.to_numpy() if hasattr(rows, "to_numpy") else rows
    return [list(row) for row in values]


# ---------------------------------------------------------------------------------------------------- detection
def detect_format(data: bytes) -> str:
    """``"skops"``, ``"keras"`` or ``"colearn-linear"``; raises :class:`UnsafeFormatError` for anything else."""
    head = data[:4]
    if head.startswith(b"PK\x03\x04"):
        listed = _central_directory_size(data)
        if listed > MAX_CENTRAL_DIRECTORY:
            raise UnsafeFormatError(
                f"the archive lists {listed:,} bytes of entries, more than the {MAX_CENTRAL_DIRECTORY:,} a model file "
                "has: it is not read"
            )
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            raise UnsafeFormatError("the file looks like a zip archive but cannot be read") from None
        if any(n.endswith((".pkl", ".pickle", ".joblib")) for n in names):
            raise UnsafeFormatError(f"the archive contains pickled objects. {_PICKLE_HINT}")
        if "schema.json" in names:
            return "skops"
        if {"config.json", "metadata.json"} <= names:
            return "keras"
        raise UnsafeFormatError("the archive is neither a skops file nor a .keras model")
    if data.lstrip()[:1] == b"{":
        if len(data) > MAX_LINEAR_BYTES:
            raise UnsafeFormatError(f"a {LINEAR_FORMAT} model file holds at most {MAX_LINEAR_BYTES:,} bytes")
        try:
            if load_json(data, 32, MAX_LINEAR_VALUES).get("format") == LINEAR_FORMAT:
                return "colearn-linear"
        except TooManyValues as error:
            raise UnsafeFormatError(f"a {LINEAR_FORMAT} model file: {error}") from None
        except (ValueError, AttributeError):
            pass
        raise UnsafeFormatError(f"the JSON file is not a {LINEAR_FORMAT} model")
    if (head[:1] == b"\x80" and 2 <= head[1:2][0] <= 5) if len(head) > 1 else False:
        raise UnsafeFormatError(f"this is a pickle file. {_PICKLE_HINT}")
    if head[:2] in (b"\x78\x9c", b"\x78\x01", b"\x78\xda", b"\x1f\x8b") or head[:3] in (b"BZh", b"\xfd7z"):
        raise UnsafeFormatError(f"this is a compressed file, as joblib writes pickles. {_PICKLE_HINT}")
    raise UnsafeFormatError(f"unknown model format. {_PICKLE_HINT}")


def _central_directory_size(data: bytes) -> int:
    """The size the archive's end record gives its central directory (what ``zipfile`` parses whole on opening
    it), read from the end record alone; 0 when there is none (``zipfile`` then refuses the file)."""
    try:
        end = zipfile._EndRecData(io.BytesIO(data))  # zipfile's own reading of it (zip64 included)
    except (OSError, ValueError, zipfile.BadZipFile):
        return 0
    return int(end[zipfile._ECD_SIZE]) if end else 0


# ---------------------------------------------------------------------------------------------------- save
def framework_of(model: Any) -> str:
    """The format a model object is saved in."""
    if isinstance(model, LinearModel):
        return "colearn-linear"
    module = type(model).__module__
    if module.startswith("keras") or (hasattr(model, "save") and hasattr(model, "get_config")):
        return "keras"
    if module.startswith("sklearn") or hasattr(model, "get_params"):
        return "skops"
    raise UnsafeFormatError(f"cannot save a {type(model).__name__}: use a scikit-learn estimator or a Keras model")


def save_model(model: Any) -> bytes:
    """The bytes of a model in its safe format."""
    kind = framework_of(model)
    if kind == "colearn-linear":
        return json.dumps({"format": LINEAR_FORMAT, **asdict(model)}, sort_keys=True).encode()
    if kind == "skops":
        data = skops_io().dumps(model)
        refused = refused_types(data)
        if refused:  # the owner learns now, not every verifier later
            raise UnsafeFormatError(refusal(refused))
        return data
    _keras()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path)
        return path.read_bytes()


# ---------------------------------------------------------------------------------------------------- load
def check_model(data: bytes) -> str:
    """The format of a model file that colearn may load; raises :class:`UnsafeFormatError` (naming the types a
    skops file uses that colearn does not load) for any other. Nothing is loaded."""
    kind = detect_format(data)
    if kind == "skops":
        refused = refused_types(data)
        if refused:
            raise UnsafeFormatError(refusal(refused))
    return kind


def load_model(data: bytes, **options: Any) -> Any:
    """Load a model from bytes in a safe format; refuses pickles and unknown or untrusted content.

    There are no options: passing any (``allow_pickle=True``, ``trusted=True``…) is refused too.
    """
    if options:
        raise UnsafeFormatError(f"load_model takes no options ({', '.join(options)}): colearn never unpickles")
    kind = check_model(data)
    if kind == "colearn-linear":
        fields = load_json(data, 32, MAX_LINEAR_VALUES)
        fields.pop("format")
        return LinearModel(**fields)
    if kind == "skops":
        sio = skops_io()
        trusted = sio.get_untrusted_types(data=data)  # explicit list, all of them allowed (checked above)
        return sio.loads(data, trusted=trusted)
    keras = _keras()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        path.write_bytes(data)
        try:
            return keras.saving.load_model(path, safe_mode=True)
        except ValueError as error:
            raise UnsafeFormatError(f"Keras refused to load the model in safe mode: {error}") from None


def predict_labels(model: Any, features: Any, labels: Sequence[Any] | None = None) -> np.ndarray:
    """The labels a loaded model predicts for a feature frame.

    A Keras model gives one score per label: the label of the highest score is taken from ``labels`` (the
    schema's labels, in order), or its index without them.
    """
    if framework_of(model) == "keras":
        scores = np.asarray(model.predict(features.to_numpy(dtype="float32"), verbose=0))
        index = scores.argmax(axis=1)
        return index if labels is None else np.asarray(labels, dtype=object)[index]
    return np.asarray(model.predict(features))


def _keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    return keras
