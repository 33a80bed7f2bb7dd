"""A stranger's model cannot run code in whoever looks at it.

The allowlist refuses a model file that names anything but supported estimators before anything is loaded, through
every face: the Python API (verify, judge), the magics, the widgets and the REST endpoint the sidebar calls. A
stranger's legitimate model is loaded and predicted in the worker process (same predictions as in the kernel), and
the worker refuses the hostile file too when handed it directly.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import uuid
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from hostile_models import code_running_model
from IPython.core.interactiveshell import InteractiveShell
from servers import server_config
from sklearn import ensemble, linear_model, naive_bayes, neighbors, pipeline, preprocessing, svm, tree
from sklearn.preprocessing import FunctionTransformer
from tornado.httpclient import HTTPClientError

from colearn_jupyter import Session
from colearn_jupyter.contributions import model_metadata, prepare_batch
from colearn_jupyter.formats.allowlist import refused_types
from colearn_jupyter.formats.models import LinearModel, UnsafeFormatError, load_model, save_model
from colearn_jupyter.sandbox import IsolatedModel, ModelWorker, SandboxError, shared_worker
from colearn_jupyter.widgets import VerificationQueue

pytest_plugins = ("pytest_jupyter.jupyter_server",)

REFUSED = "types colearn does not load"


@pytest.fixture
def jp_server_config(jp_server_config):
    return server_config()


@pytest.fixture(scope="module")
def iris(iris_frame) -> pd.DataFrame:
    return iris_frame(random_state=23)


@pytest.fixture(scope="module")
def marker(tmp_path_factory) -> Path:
    """Where the hostile model writes when its code runs: it must never exist."""
    return tmp_path_factory.mktemp("hostile") / "marker"


@pytest.fixture(scope="module")
def market_setup(chain, iris, marker) -> SimpleNamespace:
    """A stranger (grace) publishes an honest model and a model whose current version is the hostile file (stored and
    published with the raw binding, past colearn's own checks); alice contributes to both."""
    stranger = Session("grace", chain=chain)
    train, test = iris.iloc[:40], iris.iloc[40:80]
    features = train.drop(columns="target")
    clf = linear_model.LogisticRegression(max_iter=500).fit(features, train["target"])
    tag = uuid.uuid4().hex[:6]
    terms = dict(deposit="0.01", reward="0.002", bond="0.005", window="1h", timeout="1d", pool="1")
    honest = stranger.publish(clf, name=f"honest-{tag}", train=train, test=test, label="target", **terms)
    hostile = stranger.publish(clf, name=f"hostile-{tag}", train=train, test=test, label="target", **terms)
    payload = code_running_model(marker, list(features.columns))
    stranger.market.publish_version(stranger.account, hostile.id, stranger.storage.add(payload), 10_000)
    alice = stranger.as_account("alice")
    hostile_submission, batch = _raw_contribution(alice, hostile.id, iris.iloc[80:90])
    honest_submission = alice.contribute(honest.id, iris.iloc[90:100]).id
    verifier = stranger.as_account("verifier")
    verifier.market.challenge_label(verifier.account, hostile_submission, 0, batch.rows[0], batch.tree.proof(0))
    challenge = max(c for c in _challenges(verifier, hostile_submission))
    return SimpleNamespace(stranger=stranger, verifier=verifier, payload=payload, honest=honest.id,
                           hostile=hostile.id, hostile_submission=hostile_submission,
                           honest_submission=honest_submission, challenge=challenge)  # fmt: skip


def _raw_contribution(session: Session, model_id: int, rows: pd.DataFrame) -> tuple[int, Any]:
    """Rows stored and submitted with the raw binding, past the client's checks of the model (its current version
    may be a file colearn would refuse): the submission's id and its batch."""
    schema = model_metadata(session.market, session.storage, model_id).feature_schema
    batch = prepare_batch(rows, schema, session.account.address)
    assert session.storage.add(batch.parquet) == batch.cid
    receipt = session.market.contribute(session.account, model_id, batch.cid, batch.tree.root, batch.row_count)
    return receipt.event("SubmissionAdded").args["submission_id"], batch


def _challenges(session: Session, submission_id: int) -> list[int]:
    logs = session.market.contract.events.RowChallenged.get_logs(
        argument_filters={"submissionId": submission_id}, from_block=0
    )
    return [log["args"]["challengeId"] for log in logs]


@pytest.fixture
def worker_calls(monkeypatch) -> list[str]:
    """The digests of the models the worker was asked to run during a test."""
    calls: list[str] = []
    predict = ModelWorker.predict

    def spy(self, data, digest, *args, **kwargs):
        calls.append(digest)
        return predict(self, data, digest, *args, **kwargs)

    monkeypatch.setattr(ModelWorker, "predict", spy)
    return calls


# ---------------------------------------------------------------------------------------------------- allowlist
def test_the_payload_is_live_where_types_were_trusted_by_prefix(tmp_path, iris):
    """What colearn used to accept (every type from sklearn., numpy. or scipy.) runs the file's code."""
    marker = tmp_path / "ran"
    payload = code_running_model(marker, list(iris.columns[:-1]))
    untrusted = sio.get_untrusted_types(data=payload)
    assert untrusted and all(t.startswith(("sklearn.", "numpy.", "scipy.")) for t in untrusted)
    with pytest.raises(ValueError):  # runstring returns None, which the classifier refuses: after the exec
        sio.loads(payload, trusted=untrusted).predict(iris.iloc[:2, :-1])
    assert marker.exists()


def test_the_allowlist_refuses_callables_by_exact_name(tmp_path, iris):
    payload = code_running_model(tmp_path / "never", list(iris.columns[:-1]))
    assert refused_types(payload) == [
        "numpy.testing._private.utils.build_err_msg (called by name)",
        "numpy.testing._private.utils.runstring (called by name)",
        "sklearn.preprocessing._function_transformer.FunctionTransformer",
    ]
    with pytest.raises(UnsafeFormatError, match=rf"{REFUSED}: numpy\.testing.*rebuild it from supported"):
        load_model(payload)
    callables = {  # builtins, a NumPy ufunc (which skops trusts), os
        eval: "builtins.eval",
        print: "builtins.print",
        pickle.loads: "_pickle.loads",
        np.exp: "numpy.exp",
        os.system: "posix.system",
    }
    for func, name in callables.items():
        blob = sio.dumps(FunctionTransformer(func))
        assert name in {t.removesuffix(" (called by name)") for t in refused_types(blob)}, func
        with pytest.raises(UnsafeFormatError, match=REFUSED):
            IsolatedModel(blob)
    with pytest.raises(UnsafeFormatError, match=REFUSED):  # the owner is told at save time, not every verifier later
        save_model(FunctionTransformer(np.exp))
    assert not (tmp_path / "never").exists()


def test_a_schema_that_cannot_be_read_is_refused_not_a_crash():
    """Deep nesting overflows the JSON decoder's C stack where the recursion limit is raised (as under pytest)."""

    def skops_file(schema: str) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("schema.json", schema)
        return buffer.getvalue()

    odd_loader = {"__class__": "dict", "__module__": "builtins", "__loader__": "NoSuchNode", "content": {}}
    for schema in ("[" * 100_000, "not json", json.dumps({**odd_loader, "protocol": 2})):
        with pytest.raises(UnsafeFormatError, match=REFUSED):
            load_model(skops_file(schema))
    with pytest.raises(UnsafeFormatError, match="not a colearn-linear/1 model"):  # nesting that would crash json
        load_model(b'{"format": ' + b"[" * 100_000)


def test_a_small_skops_file_that_unpacks_to_gigabytes_is_refused_before_skops_reads_it(monkeypatch):
    """A skops file of a supported scaler whose schema names one 64 MiB array of zeros (64 KiB deflated) 17
    times: listing its types made skops read every mention whole, in the kernel or the Jupyter server, before the
    worker saw it (a 500 KiB file took 2.7 GiB, a 256 MiB one would take hundreds). Refused from the sizes the
    archive declares, skops never asked."""
    from colearn_jupyter.formats import imports

    scaler = preprocessing.StandardScaler().fit(np.random.default_rng(0).random((10, 3)))
    honest = zipfile.ZipFile(io.BytesIO(sio.dumps(scaler)))
    schema = json.loads(honest.read("schema.json"))
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (8 << 20,)})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in honest.namelist():
            if name != "schema.json":
                archive.writestr(name, honest.read(name))
        with archive.open("zeros.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            for _ in range(64):
                member.write(bytes(1 << 20))
        array = {"__class__": "ndarray", "__module__": "numpy", "__loader__": "NdArrayNode", "type": "numpy"}
        for i in range(17):
            schema["content"]["content"][f"bomb_{i}"] = {**array, "file": "zeros.npy"}
        archive.writestr("schema.json", json.dumps(schema))
    blob = buffer.getvalue()
    assert len(blob) < 1 << 20

    def never(**_):
        raise AssertionError("skops was asked to read the bomb")

    monkeypatch.setattr(imports.skops_io(), "get_untrusted_types", never)
    with pytest.raises(UnsafeFormatError, match="once unpacked"):
        IsolatedModel(blob)
    with pytest.raises(UnsafeFormatError, match="once unpacked"):
        load_model(blob)


def test_an_archive_of_a_million_tiny_entries_is_refused_from_its_end_record():
    """A zip of 200,000 empty entries and a schema.json (17 MB; a 256 MiB one holds 3 million): each check parsed
    the whole list of entries three times (format, allowlist, skops) in the kernel or the server, about 9 s and
    0.8 GiB for 32 MiB of entries (70 s and 3.5 GiB at 256 MiB), on every look at the model. Refused from the
    central directory's size in the end record, before any entry is parsed."""
    import time

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for number in range(200_000):
            archive.writestr(zipfile.ZipInfo(f"{number:x}"), b"")
        archive.writestr("schema.json", b"{}")
    blob = buffer.getvalue()
    started = time.monotonic()
    for check in (IsolatedModel, load_model):
        with pytest.raises(UnsafeFormatError, match="bytes of entries"):
            check(blob)
    assert time.monotonic() - started < 1


def test_a_schema_of_millions_of_tiny_values_is_refused_before_it_is_parsed():
    """schema.json of 16 MiB of ``{},`` deflates to 16 KB: parsing it built 5.6 million dicts (0.8 GiB, 4 s) in the
    kernel or the server before anything looked at them, and skops parsed it again (64 MiB: 3 GiB, 14 s). Refused
    from a count on the bytes; an honest boosted forest of 500 trees holds 200,000 values."""
    count = 16 * 2**20 // 3  # five times MAX_SCHEMA_VALUES
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", b"[" + b"{}," * (count - 1) + b"{}]")
    blob = buffer.getvalue()
    assert len(blob) < 64 * 1024
    with pytest.raises(UnsafeFormatError, match=r"schema\.json: JSON holds about"):
        IsolatedModel(blob)


SUPPORTED = [
    linear_model.LogisticRegression(max_iter=500),
    linear_model.Perceptron(),
    linear_model.SGDClassifier(),
    tree.DecisionTreeClassifier(),
    ensemble.RandomForestClassifier(n_estimators=5),
    ensemble.GradientBoostingClassifier(n_estimators=5),
    ensemble.HistGradientBoostingClassifier(max_iter=5),
    naive_bayes.GaussianNB(),
    neighbors.KNeighborsClassifier(),
    svm.SVC(),
    pipeline.make_pipeline(preprocessing.StandardScaler(), preprocessing.MinMaxScaler(), linear_model.Perceptron()),
]


@pytest.mark.parametrize("estimator", SUPPORTED, ids=lambda e: type(e).__name__)
def test_the_allowlist_accepts_the_supported_estimators(estimator, iris):
    features, labels = iris.drop(columns="target"), iris["target"]
    fitted = estimator.fit(features, labels)
    blob = save_model(fitted)
    assert refused_types(blob) == []
    assert (load_model(blob).predict(features) == fitted.predict(features)).all()


# ---------------------------------------------------------------------------------------------------- worker
def test_the_worker_predicts_like_the_kernel_in_its_own_clean_process(iris, marker):
    features, labels = iris.drop(columns="target"), iris["target"]
    fitted = ensemble.RandomForestClassifier(n_estimators=5, random_state=0).fit(features, labels)
    isolated = IsolatedModel(save_model(fitted))
    assert isolated.predict(features).tolist() == fitted.predict(features).tolist()
    worker = shared_worker()
    assert worker.pid is not None and worker.pid != os.getpid()
    environment = dict(
        item.split("=", 1) for item in Path(f"/proc/{worker.pid}/environ").read_text().split("\0") if "=" in item
    )
    assert not [name for name in environment if name.startswith("COLEARN")]
    home = Path(environment["HOME"])
    assert home.name.startswith("colearn-worker-") and Path(os.readlink(f"/proc/{worker.pid}/cwd")) == home
    limits = re.search(r"Max address space\s+(\d+)\s+(\d+)", Path(f"/proc/{worker.pid}/limits").read_text())
    assert limits and limits.groups() == (str(4 << 30), str(4 << 30))
    # handed the hostile file directly (past IsolatedModel's check), the worker refuses it as well
    with pytest.raises(SandboxError, match=REFUSED):
        worker.predict(code_running_model(marker, list(features.columns)), "hostile", features.iloc[:3])
    assert not marker.exists()
    assert isolated.predict(features.iloc[:5]).tolist() == fitted.predict(features.iloc[:5]).tolist()


def test_a_scikit_learn_model_does_not_load_torch_in_the_worker(iris):
    """The worker imports skops without scikit-learn's package walk importing torch (2.6 s of its start here): a
    scikit-learn model runs in a worker that has not mapped libtorch. (A Keras model loads torch when it comes.)"""
    worker = ModelWorker()
    try:
        fitted = linear_model.LogisticRegression(max_iter=500).fit(iris.drop(columns="target"), iris["target"])
        blob = save_model(fitted)
        predicted = worker.predict(blob, "lr", iris.drop(columns="target").iloc[:5])
        assert predicted.tolist() == fitted.predict(iris.drop(columns="target").iloc[:5]).tolist()
        assert "libtorch" not in Path(f"/proc/{worker.pid}/maps").read_text()
    finally:
        worker.close()


def _predict_in_a_forked_child(blob: bytes, features: pd.DataFrame, out: str) -> None:
    from colearn_jupyter import sandbox

    predicted = IsolatedModel(blob).predict(features).tolist()
    child_worker = sandbox.shared_worker().pid
    sandbox.shared_worker().close()  # as a child's exit would: it must not stop its parent's worker
    Path(out).write_text(json.dumps({"predicted": predicted, "worker": child_worker}))


def test_a_forked_child_has_a_worker_of_its_own_and_leaves_its_parents_alone(iris, tmp_path):
    """A process forked after its worker started (multiprocessing, a forking server, pytest-xdist's soak) must not
    talk through its parent's pipes, nor stop its parent's worker when it ends."""
    import multiprocessing

    features, labels = iris.drop(columns="target"), iris["target"]
    blob = save_model(naive_bayes.GaussianNB().fit(features, labels))
    expected = IsolatedModel(blob).predict(features.iloc[:5]).tolist()
    parent_worker = shared_worker().pid
    assert parent_worker is not None
    child = multiprocessing.get_context("fork").Process(
        target=_predict_in_a_forked_child, args=(blob, features.iloc[:5], str(tmp_path / "child.json"))
    )
    child.start()
    child.join(timeout=300)
    assert child.exitcode == 0
    answer = json.loads((tmp_path / "child.json").read_text())
    assert answer["predicted"] == expected and answer["worker"] not in (None, parent_worker)
    assert shared_worker().pid == parent_worker  # still running, and still answering
    assert IsolatedModel(blob).predict(features.iloc[:5]).tolist() == expected


def test_a_worker_that_cannot_run_gives_a_clear_error(iris):
    blob = save_model(naive_bayes.GaussianNB().fit(iris.drop(columns="target"), iris["target"]))
    starved = ModelWorker(memory_limit=64 << 20, start_timeout=120)  # too little to import NumPy
    with pytest.raises(SandboxError, match=r"could not be run .*MiB of memory"):
        IsolatedModel(blob, starved).predict(iris.drop(columns="target").iloc[:3])
    assert starved.pid is None


def test_a_worker_that_answers_with_millions_of_values_is_stopped_not_parsed(monkeypatch):
    """The worker is the second wall: one a model took over can answer anything within 256 MiB. An answer of 8 MiB
    of ``{},`` (2.8 million dicts, 0.4 GiB in the kernel or the server; 85 million at 256 MiB) is refused from a
    count on its bytes: an answer holds one label per row and a few values around them."""
    import subprocess
    import sys
    import time

    script = (  # a worker that starts, then answers any call with 8 MiB of {},
        "import sys, json\n"
        "out = sys.stdout.buffer\n"
        "def send(data):\n"
        "    out.write(len(data).to_bytes(8, 'big') + data); out.flush()\n"
        "send(json.dumps({'ready': True}).encode())\n"
        f"send(b'{{\"ok\": true, \"labels\": [' + b'{{}},' * {8 * 2**20 // 3} + b'{{}}]}}')\n"
        "sys.stdin.buffer.read()\n"
    )

    def hostile_start(self):
        if self._process is not None and self._process.poll() is None:
            return
        self._process = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        os.set_blocking(self._process.stdin.fileno(), False)
        os.set_blocking(self._process.stdout.fileno(), False)
        assert self._read(time.monotonic() + 60, "start").get("ready")

    monkeypatch.setattr(ModelWorker, "_ensure_started", hostile_start)
    worker = ModelWorker(call_timeout=60)
    model = IsolatedModel(save_model(LinearModel([1.0], features=["x"])), worker)
    with pytest.raises(SandboxError, match="more than the labels asked for"):
        model.predict(pd.DataFrame({"x": [2.0, -1.0]}))
    assert worker.pid is None  # stopped


# ---------------------------------------------------------------------------------------------------- faces
def test_the_api_refuses_the_model_and_runs_nothing(market_setup, marker):
    ms = market_setup
    for session in (ms.verifier, ms.stranger):  # a stranger (worker path) and the publisher itself (kernel path)
        with pytest.raises(UnsafeFormatError, match=REFUSED):
            session.verify(ms.hostile_submission)
        with pytest.raises(UnsafeFormatError, match=REFUSED):
            session.judge(ms.challenge)
    assert not marker.exists()


def test_a_strangers_honest_model_runs_in_the_worker_with_the_same_predictions(market_setup, worker_calls):
    ms = market_setup
    in_kernel = ms.stranger.verify(ms.honest_submission)  # the stranger published it: loaded in its own process
    assert worker_calls == []
    isolated = ms.verifier.verify(ms.honest_submission)
    assert len(worker_calls) == 1
    assert isolated.rows["predicted"].tolist() == in_kernel.rows["predicted"].tolist()
    assert isolated.rows["verdict"].tolist() == in_kernel.rows["verdict"].tolist()
    assert shared_worker().pid not in (None, os.getpid())


def test_the_magic_refuses_the_model_and_runs_nothing(market_setup, marker, capsys):
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "colearn_jupyter")
    shell.run_line_magic("colearn", "connect")
    capsys.readouterr()
    shell.run_line_magic("colearn", f"verify {market_setup.hostile_submission} --as verifier")
    assert f"colearn verify: the model file uses {REFUSED}: numpy.testing" in capsys.readouterr().err
    shell.run_line_magic("colearn", f"verify {market_setup.honest_submission} --as verifier")  # others still work
    assert capsys.readouterr().out.startswith(f"submission {market_setup.honest_submission}: 10 rows")
    assert not marker.exists()


def test_the_widget_refuses_the_model_and_runs_nothing(market_setup, marker):
    queue = VerificationQueue(market_setup.stranger, model=market_setup.hostile)
    queue.pending.value = market_setup.hostile_submission
    queue.verify_button.click()
    assert queue.status.kind == "error" and REFUSED in queue.status.text and queue.report is None
    assert not marker.exists()
    honest = VerificationQueue(market_setup.stranger, model=market_setup.honest)
    honest.pending.value = market_setup.honest_submission
    honest.verify_button.click()
    assert honest.status.kind == "" and honest.report.ok


async def test_the_rest_endpoint_refuses_the_model_and_runs_nothing(jp_fetch, market_setup, marker, worker_calls):
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("colearn", "api", "contributions", str(market_setup.hostile_submission))
    body = json.loads(caught.value.response.body)
    assert caught.value.code == 409 and REFUSED in body["message"] and body["code"] == "UnsafeFormatError"
    assert not marker.exists()
    # the server's account ("owner") did not publish stranger's honest model: the server runs it in the worker
    response = await jp_fetch("colearn", "api", "contributions", str(market_setup.honest_submission))
    report = json.loads(response.body)["report"]
    assert report["root_ok"] and all(row["predicted"] is not None for row in report["rows"])
    assert worker_calls and shared_worker().pid not in (None, os.getpid())


async def test_a_model_file_beyond_the_fetch_limit_is_a_refusal_not_a_500(jp_fetch, chain, iris, market_setup):
    """A stranger's version names a model file of 261 MiB built from three blocks (one 256 KiB chunk linked 174
    times by a node linked 6 times): fetching it for a verification stopped at the 256 MiB limit with a bare
    MemoryError, which the REST API answered with a 500 and the kernel raised as if the machine were out of memory.
    It is a refusal that names the file and the limit (a ColearnError: accuracy checks call the version unreadable)."""
    from colearn_jupyter.storage.base import CAT_LIMIT
    from conftest import repeated_chunk_file

    stranger = market_setup.stranger
    root, size = repeated_chunk_file(stranger.storage)
    assert size > CAT_LIMIT
    train, test = iris.iloc[:40], iris.iloc[40:80]
    clf = linear_model.LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    terms = dict(deposit="0.01", reward="0.002", bond="0.005", window="1h", timeout="1d", pool="1")
    model = stranger.publish(clf, name=f"huge-{uuid.uuid4().hex[:6]}", train=train, test=test, label="target", **terms)
    stranger.market.publish_version(stranger.account, model.id, str(root), 10_000)
    submission, _ = _raw_contribution(stranger.as_account("alice"), model.id, iris.iloc[100:110])
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("colearn", "api", "contributions", str(submission))
    body = json.loads(caught.value.response.body)
    assert caught.value.code == 409 and "larger than" in body["message"] and str(root) in body["message"]
    with pytest.raises(UnsafeFormatError, match="larger than"):
        stranger.as_account("verifier").verify(submission)
