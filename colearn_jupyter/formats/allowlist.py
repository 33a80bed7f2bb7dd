"""The exact types colearn loads from a skops file, and the check that refuses every other one before loading.

Loading a skops file builds objects of the types it names. A type that calls something chosen by the file
(``FunctionTransformer(func=...)``, a function named by its module, anything from ``numpy.testing``) runs the
publisher's code in whoever uses the model. So colearn loads a skops file only if every type it names is in
:data:`SUPPORTED_ESTIMATORS`, :data:`SUPPORTED_INTERNALS` or the few NumPy, SciPy and builtin types skops needs,
by exact name, and if nothing in it is a function or method loaded by name. The check reads the file's
``schema.json`` itself and also takes skops' own :func:`skops.io.get_untrusted_types` report, before anything is
built.

>>> from sklearn.preprocessing import FunctionTransformer
>>> import skops.io as sio
>>> refused_types(sio.dumps(FunctionTransformer()))
['sklearn.preprocessing._function_transformer.FunctionTransformer']
"""

from __future__ import annotations

import functools
import importlib
import io
import zipfile
from typing import Any

from .jsonsafe import TooManyValues, load_json

#: The public scikit-learn estimators and transformers colearn loads, as ``(module, class)``.
SUPPORTED_ESTIMATORS: tuple[tuple[str, str], ...] = tuple(
    (module, name)
    for module, names in {
        "sklearn.linear_model": "LogisticRegression LogisticRegressionCV Perceptron SGDClassifier SGDRegressor "
        "RidgeClassifier RidgeClassifierCV Ridge RidgeCV Lasso ElasticNet LinearRegression",
        "sklearn.tree": "DecisionTreeClassifier DecisionTreeRegressor ExtraTreeClassifier ExtraTreeRegressor",
        "sklearn.ensemble": "RandomForestClassifier RandomForestRegressor ExtraTreesClassifier ExtraTreesRegressor "
        "GradientBoostingClassifier GradientBoostingRegressor HistGradientBoostingClassifier "
        "HistGradientBoostingRegressor AdaBoostClassifier AdaBoostRegressor BaggingClassifier BaggingRegressor "
        "VotingClassifier VotingRegressor StackingClassifier StackingRegressor",
        "sklearn.naive_bayes": "GaussianNB MultinomialNB BernoulliNB ComplementNB CategoricalNB",
        "sklearn.neighbors": "KNeighborsClassifier KNeighborsRegressor NearestCentroid",
        "sklearn.svm": "SVC NuSVC SVR LinearSVC LinearSVR",
        "sklearn.discriminant_analysis": "LinearDiscriminantAnalysis QuadraticDiscriminantAnalysis",
        "sklearn.neural_network": "MLPClassifier MLPRegressor",
        "sklearn.pipeline": "Pipeline FeatureUnion",
        "sklearn.compose": "ColumnTransformer",
        "sklearn.feature_extraction.text": "TfidfVectorizer CountVectorizer TfidfTransformer",
        "sklearn.preprocessing": "StandardScaler MinMaxScaler MaxAbsScaler RobustScaler Normalizer Binarizer "
        "PolynomialFeatures OneHotEncoder OrdinalEncoder LabelEncoder LabelBinarizer KBinsDiscretizer",
        "sklearn.impute": "SimpleImputer",
        "sklearn.decomposition": "PCA TruncatedSVD",
        "sklearn.dummy": "DummyClassifier DummyRegressor",
        "sklearn.multiclass": "OneVsRestClassifier OneVsOneClassifier",
        "sklearn.calibration": "CalibratedClassifierCV",
        "sklearn.isotonic": "IsotonicRegression",
    }.items()
    for name in names.split()
)

#: Internal scikit-learn types the supported estimators hold once fitted (trees, losses, search trees...).
SUPPORTED_INTERNALS: tuple[tuple[str, str], ...] = (
    ("sklearn.tree._tree", "Tree"),
    ("sklearn.ensemble._hist_gradient_boosting.binning", "_BinMapper"),
    ("sklearn.ensemble._hist_gradient_boosting.predictor", "TreePredictor"),
    ("sklearn.neighbors._kd_tree", "KDTree"),
    ("sklearn.neighbors._ball_tree", "BallTree"),
    ("sklearn.metrics._dist_metrics", "EuclideanDistance64"),
    ("sklearn.metrics._dist_metrics", "ManhattanDistance64"),
    ("sklearn.metrics._dist_metrics", "MinkowskiDistance64"),
    ("sklearn.metrics._dist_metrics", "ChebyshevDistance64"),
    ("sklearn.neural_network._stochastic_optimizers", "AdamOptimizer"),
    ("sklearn.neural_network._stochastic_optimizers", "SGDOptimizer"),
    ("sklearn.calibration", "_CalibratedClassifier"),
    ("sklearn.calibration", "_SigmoidCalibration"),
    ("sklearn.utils._bunch", "Bunch"),
)

#: Modules whose loss and link classes (plain arithmetic, nothing called by name) fitted models hold.
LOSS_MODULES = ("sklearn._loss.loss", "sklearn._loss.link", "sklearn._loss._loss", "sklearn.linear_model._sgd_fast")

_NUMPY_SCALARS = "bool_ int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 str_ bytes_"

#: The NumPy, SciPy and builtin types skops needs for arrays, random states, sparse matrices and containers.
SUPPORTED_DATA_TYPES: tuple[str, ...] = (
    *(f"builtins.{t}" for t in "dict list tuple set str int float bool bytes slice".split()),
    "numpy.ndarray",
    "numpy.dtype",
    *(f"numpy.{t}" for t in _NUMPY_SCALARS.split()),
    "numpy.random.mtrand.RandomState",
    "numpy.random._generator.Generator",
    *(f"scipy.sparse._{kind[:3]}.{kind}" for kind in ("csr_matrix", "csc_matrix", "csr_array", "csc_array")),
)

#: Text vectorizers that read the files (or URLs) their rows name unless their ``input`` is ``"content"``: a file
#: from someone else must keep it so, or the model would read what a row names (``/home/you/.ssh/id_rsa``).
TEXT_VECTORIZERS = frozenset(
    f"sklearn.feature_extraction.text.{name}" for name in ("TfidfVectorizer", "CountVectorizer", "HashingVectorizer")
)

#: skops loaders that fetch a function or method by its name: refused whatever the name.
CALLABLE_LOADERS = ("FunctionNode", "MethodNode", "PartialNode", "OperatorFuncNode")

_MAX_SCHEMA = 64 << 20  # bytes of schema.json read at most (a fitted forest of 500 trees stays far below)
#: Values (objects, arrays, numbers, strings) of schema.json parsed at most: a boosted forest of 500 trees holds
#: 200,000 in 10 MB, where 64 MiB of ``{},`` (60 KB deflated) holds 21 million, 3 GiB and 14 s to parse and walk.
MAX_SCHEMA_VALUES = 1_000_000
#: Bytes of arrays a skops file may unpack, counting each array as often as the schema names it: skops reads every
#: one into memory to list the file's types (in the kernel or the server, before the worker sees the file).
MAX_ARRAY_BYTES = 1 << 30
MAX_JSON_DEPTH = 200  # nesting of schema.json read at most (a stacked ensemble in a pipeline nests 30 deep)
_HINT = (
    "colearn loads only scikit-learn's common estimators and transformers (listed in "
    "colearn_jupyter.formats.allowlist.SUPPORTED_ESTIMATORS), because other types can run code chosen by whoever "
    "saved the file. Do not use this model; if it is yours, rebuild it from supported estimators only."
)


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__name__}"


@functools.cache
def allowed_types() -> frozenset[str]:
    """Every type name a skops file may use, exactly as skops writes it (``module.Class``)."""
    names = set(SUPPORTED_DATA_TYPES)
    for module, name in SUPPORTED_ESTIMATORS + SUPPORTED_INTERNALS:
        cls = getattr(_import(module), name, None)
        if isinstance(cls, type):
            names.add(_name(cls))
    for module_name in LOSS_MODULES:
        module = _import(module_name)
        names |= {_name(v) for v in vars(module).values() if isinstance(v, type) and v.__module__ == module_name}
    return frozenset(names)


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:  # another scikit-learn version: its types are simply not allowed
        return None


def refused_types(data: bytes) -> list[str]:
    """The types of a skops file colearn does not load (empty: the file may be loaded), each named.

    A function or method loaded by name is named with ``(called by name)``. A file whose schema cannot be read is
    refused as a whole.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("schema.json")
            if info.file_size > _MAX_SCHEMA:
                return [f"schema.json of {info.file_size:,} bytes (more than {_MAX_SCHEMA:,})"]
            schema = load_json(archive.read(info), MAX_JSON_DEPTH, MAX_SCHEMA_VALUES)
            sizes = {member.filename: member.file_size for member in archive.infolist()}
    except TooManyValues as error:
        return [f"schema.json: {error}"]
    except (KeyError, ValueError, zipfile.BadZipFile, RecursionError):
        return ["an unreadable schema.json"]
    allowed = allowed_types()
    refused: set[str] = set()
    unpacked = 0
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "file" in node:  # an array skops reads whole from the archive, once per mention
                unpacked += sizes.get(node["file"], 0) if isinstance(node["file"], str) else 0
            if "__class__" in node or "__module__" in node or "__loader__" in node:
                name = f"{node.get('__module__')}.{node.get('__class__')}"
                if node.get("__loader__") in CALLABLE_LOADERS:
                    refused.add(f"{name} (called by name)")
                elif name not in allowed:
                    refused.add(name)
                elif name in TEXT_VECTORIZERS and _parameter(node, "input") != '"content"':
                    refused.add(f"{name} (input other than 'content': it would read the files its rows name)")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    if unpacked > MAX_ARRAY_BYTES:
        refused.add(
            f"arrays of {unpacked:,} bytes once unpacked (more than {MAX_ARRAY_BYTES:,}; a decompression bomb "
            "when the file is small)"
        )
    if refused:  # never give skops a file naming modules outside the allowlist, nor a bomb: its report builds a tree
        return sorted(refused)
    from .imports import skops_io

    try:
        reported = skops_io().get_untrusted_types(data=data)
    except Exception:  # noqa: BLE001 (whatever skops cannot parse is not loaded)
        return ["a schema.json skops cannot read"]
    return sorted(t for t in reported if t not in allowed)


def _parameter(node: dict[str, Any], name: str) -> Any:
    """The JSON text of a parameter of an object in a skops schema (None when it is not there as plain JSON)."""
    state = node.get("content")
    attributes = state.get("content") if isinstance(state, dict) else None
    value = attributes.get(name) if isinstance(attributes, dict) else None
    return value.get("content") if isinstance(value, dict) and value.get("is_json") else None


def refusal(refused: list[str]) -> str:
    """The message for a skops file that uses ``refused`` types: what they are and what to do."""
    shown = ", ".join(refused[:10]) + (f" and {len(refused) - 10} more" if len(refused) > 10 else "")
    return f"the model file uses types colearn does not load: {shown}. {_HINT}"
