"""Safe model formats, the feature schema, validation errors that name rows, and canonical row hashes."""

from __future__ import annotations

import io
import pickle
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression, Perceptron
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from colearn_jupyter.formats.data import (
    Column,
    FeatureSchema,
    SchemaError,
    encode_rows,
    merkle_tree,
    read_csv,
    read_data,
    to_parquet,
    validate,
)
from colearn_jupyter.formats.metadata import ModelMetadata
from colearn_jupyter.formats.models import LinearModel, UnsafeFormatError, detect_format, load_model, save_model
from colearn_jupyter.merkle import MerkleTree, contributor_key


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    frame = load_iris(as_frame=True).frame
    frame["target"] = frame["target"].map(dict(enumerate(load_iris().target_names)))
    return frame


@pytest.fixture(scope="module")
def schema(iris) -> FeatureSchema:
    return FeatureSchema.infer(iris, label="target")


# ---------------------------------------------------------------------------------------------------- models
def test_sklearn_round_trip(iris):
    X, y = iris.drop(columns="target"), iris["target"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(X, y)
    blob = save_model(model)
    assert detect_format(blob) == "skops"
    assert (load_model(blob).predict(X) == model.predict(X)).all()
    assert save_model(load_model(blob)) == blob or detect_format(save_model(load_model(blob))) == "skops"


def test_linear_model_from_sklearn_matches_its_predictions():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    perceptron = Perceptron(random_state=0).fit(X, y)
    linear = LinearModel.from_sklearn(perceptron)
    assert linear.predict(X) == perceptron.predict(X).tolist()
    restored = load_model(save_model(linear))
    assert restored == linear
    weights, intercept = linear.to_onchain()
    assert LinearModel.from_onchain(weights, intercept).predict(X[:50]) == linear.predict(X[:50])


def test_pickles_are_refused_even_when_asked(iris):
    model = LogisticRegression(max_iter=300).fit(iris.drop(columns="target"), iris["target"])
    joblib_buffer = io.BytesIO()
    joblib.dump(model, joblib_buffer)
    compressed = io.BytesIO()
    joblib.dump(model, compressed, compress=("zlib", 3))
    disguised = io.BytesIO()  # a pickle inside a zip that claims to be a skops file
    with zipfile.ZipFile(disguised, "w") as archive:
        archive.writestr("schema.json", "{}")
        archive.writestr("model.pkl", pickle.dumps(model))
    for blob in (pickle.dumps(model), pickle.dumps(model, protocol=2), joblib_buffer.getvalue(), compressed.getvalue(),
                 disguised.getvalue(), b"#!/bin/sh\nrm -rf /\n", b'{"format": "other"}'):  # fmt: skip
        with pytest.raises(UnsafeFormatError, match=r"pickle|unknown model format|not a colearn-linear"):
            load_model(blob)
    with pytest.raises(UnsafeFormatError, match="never unpickles"):
        load_model(save_model(model), allow_pickle=True)


def test_untrusted_skops_types_are_refused_by_name():
    sneaky = FunctionTransformer(func=pickle.loads)
    with pytest.raises(UnsafeFormatError, match=r"_pickle\.loads"):
        load_model(save_model(sneaky))


def test_a_linear_model_file_of_millions_of_tiny_values_is_refused_before_it_is_parsed():
    """A colearn-linear file within its 16 MiB of ``{},`` weights: checking it (in the kernel or the server, for
    a stranger's model) built 5.6 million dicts, 450 MiB, before anything looked at them."""
    count = (16 * 2**20 - 100) // 3
    blob = b'{"format": "colearn-linear/1", "weights": [' + b"{}," * (count - 1) + b"{}]}"
    with pytest.raises(UnsafeFormatError, match="JSON holds about"):
        detect_format(blob)
    with pytest.raises(UnsafeFormatError, match="JSON holds about"):
        load_model(blob)


def test_keras_round_trip_in_safe_mode(iris):
    keras = pytest.importorskip("keras")
    X = iris.drop(columns="target").to_numpy()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    blob = save_model(model)
    assert detect_format(blob) == "keras"
    assert np.allclose(load_model(blob).predict(X, verbose=0), model.predict(X, verbose=0))
    unsafe = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda t: t * 2)])
    with pytest.raises(UnsafeFormatError, match="safe mode"):
        load_model(save_model(unsafe))


# ---------------------------------------------------------------------------------------------------- schema
def test_schema_inference_and_metadata_json(iris, schema):
    assert [c.dtype for c in schema.features] == ["float64"] * 4
    assert schema.labels == ("setosa", "versicolor", "virginica")
    meta = ModelMetadata(name="iris", task="classification", framework="skops", feature_schema=schema)
    assert ModelMetadata.from_json(meta.to_json()) == meta
    with pytest.raises(SchemaError, match="task"):
        ModelMetadata(name="x", task="clustering", framework="skops", feature_schema=schema).to_json()


def test_labels_of_mixed_types_are_checked_unique_in_linear_time():
    """A model's metadata (from a stranger, up to 1 MiB) lists 12,000 labels alternating numbers and strings.
    jsonschema compared every pair for ``uniqueItems`` when the labels could not be sorted: 30 s for 80 KB, hours
    for 1 MiB, in every kernel or server listing the model. Duplicates are still refused, as JSON Schema compares
    them (``1`` and ``1.0`` equal, ``true`` and ``1`` not)."""
    import json
    import time

    def document(labels: list) -> bytes:
        schema = {"features": [{"name": "x", "dtype": "float64"}], "label": {"name": "y", "dtype": "string"},
                  "labels": labels}  # fmt: skip
        return json.dumps({"schema_version": 1, "name": "m", "task": "classification", "framework": "skops",
                           "license": "MIT", "lineage": {"version": 1}, "feature_schema": schema}).encode()  # fmt: skip

    started = time.monotonic()
    read = ModelMetadata.from_json(document([i if i % 2 else str(i) for i in range(12_000)]))
    assert len(read.feature_schema.labels) == 12_000 and time.monotonic() - started < 5
    with pytest.raises(SchemaError, match=r"'1\.0' is given more than once"):
        ModelMetadata.from_json(document([1, "a", 1.0]))
    assert ModelMetadata.from_json(document([True, 1, "1"])).feature_schema.labels == (True, 1, "1")


def _bad(frame: pd.DataFrame, schema, match: str, rows=None, accepted=frozenset()):
    with pytest.raises(SchemaError, match=match) as caught:
        validate(frame, schema, accepted=accepted)
    if rows is not None:
        assert caught.value.rows == rows
    return caught.value


def test_column_names_must_be_unique(schema):
    """A schema naming one column twice (a stranger's metadata, or a frame with repeated column names) is refused:
    a frame selects a column by its name, so rows would repeat one value and lose another."""
    with pytest.raises(SchemaError, match="'x' is given more than once"):
        FeatureSchema((Column("x", "float64"), Column("x", "int64")), Column("label", "int64"), (0, 1))
    document = ModelMetadata(name="m", task="classification", framework="skops", feature_schema=schema).to_json()
    feature = schema.features[0].name
    hostile = document.replace(f'"name":"{schema.label.name}"'.encode(), f'"name":"{feature}"'.encode(), 1)
    assert hostile != document
    with pytest.raises(SchemaError, match="given more than once"):
        ModelMetadata.from_json(hostile)
    frame = pd.DataFrame([[1.0, 2.0, 0]], columns=["a", "a", "label"])
    with pytest.raises(SchemaError, match="given more than once"):
        FeatureSchema.infer(frame, label="label")
    with pytest.raises(SchemaError, match="'a' is given more than once"):  # a contributor's frame: not a crash
        validate(frame, FeatureSchema.infer(frame.iloc[:, 1:], label="label"))


def test_validation_names_the_offending_rows(iris, schema):
    good = iris.head(6).copy()
    assert validate(good, schema).shape == (6, 5)
    _bad(good.drop(columns="petal width (cm)"), schema, r"missing columns \['petal width \(cm\)'\]")
    _bad(good.assign(extra=1), schema, r"unexpected columns \['extra'\]")
    _bad(good.assign(**{"sepal length (cm)": "long"}), schema, "must be float64 but has dtype")
    nan = good.copy()
    nan.loc[[1, 4], "sepal width (cm)"] = [np.nan, np.inf]
    _bad(nan, schema, r"NaN or infinite values at rows 1, 4", [1, 4])
    labels = good.copy()
    labels.loc[3, "target"] = "rose"
    _bad(labels, schema, r"unknown labels \['rose'\] at row 3", [3])
    repeated = pd.concat([good, good.iloc[[2]]], ignore_index=True)
    _bad(repeated, schema, "row 6 repeat earlier rows", [6])
    accepted = {__import__("eth_utils").keccak(row) for row in encode_rows(schema, validate(good.iloc[[0, 5]], schema))}
    _bad(good, schema, "rows 0, 5 duplicate rows the model has already accepted", [0, 5], accepted)


def test_csv_input_uses_declared_dtypes(iris, schema):
    text = iris.head(4).to_csv(index=False)
    assert validate(read_csv(io.StringIO(text), schema), schema).equals(validate(iris.head(4), schema))
    broken = text.replace("5.1", "", 1)
    _bad(read_csv(io.StringIO(broken), schema), schema, "NaN or infinite values at row 0", [0])


def test_merkle_root_is_recomputable_from_the_file(iris, schema):
    key = contributor_key("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    clean = validate(iris.drop_duplicates(), schema)
    tree = merkle_tree(schema, clean, key=key)
    again = read_data(to_parquet(clean, schema), schema)
    assert MerkleTree(encode_rows(schema, again), key=key).root == tree.root
    assert len(tree) == 149  # iris repeats one row


_FIRST_CALL_CHECK = """
import json, sys
from sklearn.utils.discovery import all_estimators
from colearn_jupyter.formats.data import Column, FeatureSchema, SchemaError
from colearn_jupyter.formats.imports import jsonschema, skops_io
from colearn_jupyter.formats.metadata import ModelMetadata
from colearn_jupyter.formats.models import load_model, save_model
from sklearn.linear_model import LogisticRegression

sio, schema = skops_io(), jsonschema()
model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
blob = save_model(model)
loaded_model = load_model(blob).predict([[1.0]]).tolist()
columns = FeatureSchema((Column("x", "float64"),), Column("y", "int64"), (0, 1))
meta = ModelMetadata(name="m", task="classification", framework="skops", feature_schema=columns)
assert ModelMetadata.from_json(meta.to_json()) == meta
try:
    ModelMetadata.from_json(meta.to_json().replace(b'"classification"', b'"astrology"'))
    raise AssertionError("invalid metadata accepted")
except SchemaError:
    pass
before = {name: name in sys.modules for name in ("torch", "rfc3987_syntax")}
iri = [schema.FormatChecker().conforms(text, "iri") for text in ("http://example.org/a", "http://example.org/a b")]
from skops.io._trusted_types import SKLEARN_ESTIMATOR_TYPE_NAMES
expected = [f"{c.__module__}.{c.__name__}" for _, c in all_estimators() if c.__module__.startswith("sklearn.")]
print(json.dumps({"before": before, "iri": iri, "iri_loaded": "rfc3987_syntax" in sys.modules,
                  "trusted_same": sorted(SKLEARN_ESTIMATOR_TYPE_NAMES) == sorted(expected), "predicted": loaded_model}))
"""


def test_the_first_call_skips_slow_imports_without_changing_a_check():
    """A fresh interpreter saves, checks and loads a skops model and validates metadata without importing torch or
    compiling the IRI grammars; skops' default trusted types are the same, and jsonschema still checks IRIs (the
    grammars compiled on first use)."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _FIRST_CALL_CHECK], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["before"] == {"torch": False, "rfc3987_syntax": False}
    assert result["iri"] == [True, False] and result["iri_loaded"]
    assert result["trusted_same"] and result["predicted"] == [1]
