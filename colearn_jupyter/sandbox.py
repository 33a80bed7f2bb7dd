"""Models of other accounts are loaded and run in a separate worker process, never in the caller's.

The allowlist (:mod:`.formats.allowlist`) already keeps code out of every model colearn loads; this is the second
wall, for a flaw in it or in a loader. A model the session's account did not publish is an :class:`IsolatedModel`:
its file is checked at once (format and allowed types, nothing loaded), then loaded and run only in the worker, a
fresh Python interpreter (not a fork: it shares no memory with the kernel or the Jupyter server, so no keys) that
is started with an empty environment (no ``COLEARN_*`` variable, no user ``HOME``: a temporary directory is its
home, working directory and temporary directory), Python's isolated mode, one thread for the numeric libraries,
bounded address space (``RLIMIT_AS``) and bounded CPU time per call (``RLIMIT_CPU``, besides the caller's
wall-clock deadline, after which the worker is killed). It receives the model's bytes and a feature frame (Arrow)
and answers with the predicted labels as JSON, never a pickle; the caller reads at most a bounded answer.

One worker per process is started on first use and kept (loaded models are cached there by digest), so only the
first prediction pays for starting it.

>>> model = IsolatedModel(save_model(LinearModel([1.0], features=["x"])))   # doctest: +SKIP
>>> model.predict(pd.DataFrame({"x": [2.0, -1.0]})).tolist()               # doctest: +SKIP
[1, 0]
"""

from __future__ import annotations

import atexit
import hashlib
import io
import json
import logging
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import numpy as np

from .errors import ColearnError
from .formats.jsonsafe import TooManyValues, load_json
from .formats.models import check_model

MEMORY_LIMIT = 4 << 30  # bytes of address space of the worker (PyTorch alone maps about 1.5 GiB for Keras)
CALL_TIMEOUT = 300.0  # seconds of wall clock (and of CPU) for one call: loading a model and predicting a chunk
START_TIMEOUT = 300.0  # seconds to start the worker (imports are slow on a busy machine)
MAX_ANSWER = 256 << 20  # bytes of one answer read at most
_ANSWER_OVERHEAD = 64  # JSON values of an answer besides one label per row
_CACHED_MODELS = 4
_log = logging.getLogger(__name__)


class SandboxError(ColearnError):
    """A model could not be run in the worker (it failed, ran out of memory or time, or the worker died)."""


class IsolatedModel:
    """A model of another account: checked here, loaded and run only in the worker.

    ``predict`` gives the predicted labels (for a Keras model, the index of the highest score), as a
    scikit-learn estimator does; ``predict_labels`` gives a Keras model's labels from the schema's ``labels``.
    """

    def __init__(self, data: bytes, worker: ModelWorker | None = None):
        self.framework = check_model(data)  # refuses unsafe files here, before any process sees them
        self.data = data
        self.digest = hashlib.sha256(data).hexdigest()
        self._worker = worker

    def __repr__(self) -> str:
        return f"IsolatedModel({self.framework}, sha256 {self.digest[:12]}…)"

    @property
    def worker(self) -> ModelWorker:
        return self._worker or shared_worker()

    def predict(self, features: Any) -> np.ndarray:
        return self.predict_labels(features)

    def predict_labels(self, features: Any, labels: Sequence[Any] | None = None) -> np.ndarray:
        return self.worker.predict(self.data, self.digest, features, labels)


class ModelWorker:
    """One worker process and the protocol to it; calls from several threads are served one at a time."""

    def __init__(self, *, memory_limit: int = MEMORY_LIMIT, call_timeout: float = CALL_TIMEOUT,
                 start_timeout: float = START_TIMEOUT):  # fmt: skip
        self.memory_limit, self.call_timeout, self.start_timeout = memory_limit, call_timeout, start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._home: Path | None = None
        self._loaded: set[str] = set()
        self._lock = threading.Lock()
        self._owner = os.getpid()  # the process that started the worker: only it may stop it

    @property
    def pid(self) -> int | None:
        """The worker's process id, or None when it is not running."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def predict(self, data: bytes, digest: str, features: Any, labels: Sequence[Any] | None = None) -> np.ndarray:
        """The labels the model in ``data`` predicts for the frame ``features``, computed in the worker."""
        import pyarrow as pa

        sink = io.BytesIO()
        table = pa.Table.from_pandas(features, preserve_index=False)
        with pa.ipc.new_stream(sink, table.schema) as stream:
            stream.write_table(table)
        frame = sink.getvalue()
        header = {"digest": digest, "labels": None if labels is None else [_plain(v) for v in labels]}
        most = len(features) + _ANSWER_OVERHEAD  # one value per row's label, the few around them
        with self._lock:
            self._ensure_started()
            answer = self._call(header, data if digest not in self._loaded else None, frame, most)
            if answer.get("missing"):  # the worker dropped it from its cache
                answer = self._call(header, data, frame, most)
            self._loaded.add(digest)
        if not answer.get("ok"):
            raise SandboxError(f"the model failed in the isolated worker: {str(answer.get('error'))[:500]}")
        values = answer.get("labels")
        if not isinstance(values, list) or len(values) != len(features):
            raise SandboxError("the isolated worker gave no prediction for every row")
        predicted = np.asarray(values)
        return predicted.astype(object) if predicted.dtype.kind == "U" else predicted

    def start(self) -> None:
        """Start the worker now (it is otherwise started by the first call), e.g. when a server starts, so that
        the first isolated prediction does not wait for its imports."""
        with self._lock:
            self._ensure_started()

    def close(self) -> None:
        """Stop the worker (the next call starts a new one)."""
        with self._lock:
            self._stop()

    # ------------------------------------------------------------------------------------------------ process
    def _ensure_started(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        self._stop()
        self._home = Path(tempfile.mkdtemp(prefix="colearn-worker-"))
        package_parent = str(Path(__file__).resolve().parent.parent)
        bootstrap = (
            f"import sys; sys.path.append({package_parent!r}); "
            "from colearn_jupyter.sandbox import serve; serve(int(sys.argv[1]))"
        )
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-c", bootstrap, str(self.memory_limit)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(self._home / "stderr").open("wb"),
            cwd=self._home,
            env=_clean_environment(self._home),
            close_fds=True,
            start_new_session=True,  # not in the terminal's process group: a Ctrl-C reaches the caller only
        )
        self._loaded = set()
        assert self._process.stdin is not None and self._process.stdout is not None
        os.set_blocking(self._process.stdin.fileno(), False)
        os.set_blocking(self._process.stdout.fileno(), False)
        ready = self._read(time.monotonic() + self.start_timeout, "start")
        if not ready.get("ready"):
            self._fail("the isolated worker did not start")

    def _call(self, header: dict[str, Any], model: bytes | None, frame: bytes, most: int) -> dict[str, Any]:
        deadline = time.monotonic() + self.call_timeout
        header = {**header, "has_model": model is not None, "cpu_seconds": int(self.call_timeout) + 1}
        message = _frame(json.dumps(header).encode()) + (_frame(model) if model is not None else b"") + _frame(frame)
        self._write(message, deadline)
        return self._read(deadline, "call", most)

    def _write(self, message: bytes, deadline: float) -> None:
        assert self._process is not None and self._process.stdin is not None
        fd, view = self._process.stdin.fileno(), memoryview(message)
        while view:
            self._wait(fd, deadline, "call", write=True)
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError):
                self._fail("the isolated worker stopped")

    def _read(self, deadline: float, step: str, most: int = _ANSWER_OVERHEAD) -> dict[str, Any]:
        """The worker's next answer: at most :data:`MAX_ANSWER` bytes holding about ``most`` JSON values (a worker
        a model took over could answer with 256 MiB of ``{},``, 85 million dicts in the caller)."""
        size = int.from_bytes(self._read_exact(8, deadline, step), "big")
        if size > MAX_ANSWER:
            self._fail(f"the isolated worker answered with {size:,} bytes (at most {MAX_ANSWER:,} are read)")
        try:
            answer = load_json(self._read_exact(size, deadline, step), 32, most)
        except TooManyValues as error:
            self._fail(f"the isolated worker answered with more than the labels asked for ({error})")
        except ValueError:
            self._fail("the isolated worker answered with something that is not JSON")
        if not isinstance(answer, dict):
            self._fail("the isolated worker answered with something that is not a JSON object")
        return answer

    def _read_exact(self, size: int, deadline: float, step: str) -> bytes:
        assert self._process is not None and self._process.stdout is not None
        fd, chunks, left = self._process.stdout.fileno(), [], size
        while left:
            self._wait(fd, deadline, step)
            try:
                chunk = os.read(fd, min(left, 1 << 20))
            except BlockingIOError:
                continue
            if not chunk:
                self._fail("the isolated worker stopped")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _wait(self, fd: int, deadline: float, step: str, *, write: bool = False) -> None:
        left = deadline - time.monotonic()
        ready = select.select([], [fd], [], max(left, 0))[1] if write else select.select([fd], [], [], max(left, 0))[0]
        if not ready and time.monotonic() >= deadline:
            limit = self.start_timeout if step == "start" else self.call_timeout
            self._fail(f"the isolated worker took more than {limit:.0f} s to {step}")

    def _fail(self, what: str) -> NoReturn:
        """Stop the worker and raise the reason (with how it ended, e.g. out of memory)."""
        process = self._process
        self._stop()
        code = process.returncode if process is not None else None
        why = {-9: "killed", -24: "out of CPU time"}.get(code or 0, f"exit status {code}" if code else "")
        raise SandboxError(
            f"{what}{f' ({why})' if why else ''}: the model could not be run (it may need more than "
            f"{self.memory_limit >> 20:,} MiB of memory or {self.call_timeout:.0f} s, or be hostile). Do not rely on "
            "this model; if it is yours, check that it loads and predicts in a fresh Python"
        )

    def _stop(self) -> None:
        process, self._process, self._loaded = self._process, None, set()
        if os.getpid() != self._owner:  # a forked copy of this object: the worker is its parent's, leave it be
            self._home, self._owner = None, os.getpid()
            return
        if process is not None:
            if process.poll() is None:
                process.kill()
            process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()
            try:
                stderr = (self._home / "stderr").read_bytes()[-2000:] if self._home else b""
            except OSError:  # its folder is gone (removed from outside): nothing to report
                stderr = b""
            if stderr.strip():
                _log.debug("model worker %s ended; its last output:\n%s", process.pid, stderr.decode(errors="replace"))
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None


_shared: ModelWorker | None = None
_shared_lock = threading.Lock()


def _forget_after_fork() -> None:
    """In a forked child (multiprocessing, a forking server): start a worker of its own when it needs one, never
    share the parent's pipes (the calls of two processes would interleave) nor stop the parent's worker."""
    global _shared, _shared_lock
    _shared, _shared_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def shared_worker() -> ModelWorker:
    """This process's worker (created on first use, stopped when the process exits)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ModelWorker()
            atexit.register(_shared.close)  # in a forked child this stops nothing of the parent's (see _stop)
        return _shared


def _clean_environment(home: Path) -> dict[str, str]:
    """Only what a numeric Python needs: no COLEARN_* variable, no user home, no proxies or tokens."""
    return {
        "HOME": str(home),
        "TMPDIR": str(home),
        "PATH": os.defpath,
        "LANG": "C.UTF-8",
        "KERAS_BACKEND": "torch",
        **{name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
    }


def _frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(8, "big") + payload


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


# ---------------------------------------------------------------------------------------------------- worker side
def serve(memory_limit: int) -> None:
    """The worker's loop: read a request, load (or reuse) the model, predict, answer; until stdin closes."""
    import resource

    answers = os.fdopen(os.dup(1), "wb")  # the protocol's channel; what anything prints goes to stderr instead
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    for limit, value in ((resource.RLIMIT_AS, memory_limit), (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError) as error:  # e.g. RLIMIT_AS on macOS: time bounds still hold
            print(f"colearn model worker: limit {limit} not set: {error}", file=sys.stderr)
    import pandas  # noqa: F401  (imported before the first request, so that its time is not the call's)
    import pyarrow as pa

    from .formats.imports import skops_io
    from .formats.models import load_model, predict_labels

    skops_io()  # likewise: loading the first scikit-learn model is then quick (and torch is not imported for it)

    models: OrderedDict[str, Any] = OrderedDict()
    _answer(answers, {"ready": True, "pid": os.getpid()})
    while True:
        header_bytes = _read_frame(requests)
        if header_bytes is None:
            return
        header = json.loads(header_bytes)
        data = _read_frame(requests) if header["has_model"] else None
        frame = _read_frame(requests) or b""
        used = resource.getrusage(resource.RUSAGE_SELF)
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        resource.setrlimit(resource.RLIMIT_CPU, (int(used.ru_utime + used.ru_stime) + header["cpu_seconds"], hard))
        try:
            if data is not None:
                models[header["digest"]] = load_model(data)
                while len(models) > _CACHED_MODELS:
                    models.popitem(last=False)
            elif header["digest"] not in models:
                _answer(answers, {"missing": True})
                continue
            models.move_to_end(header["digest"])
            features = pa.ipc.open_stream(frame).read_all().to_pandas()
            labels = predict_labels(models[header["digest"]], features, header["labels"])
            _answer(answers, {"ok": True, "labels": [_plain(v) for v in labels.tolist()]})
        except Exception as error:  # noqa: BLE001 (every failure is the model's, reported to the caller)
            _answer(answers, {"ok": False, "error": f"{type(error).__name__}: {error}"})


def _read_frame(stream: BinaryIO) -> bytes | None:
    head = stream.read(8)
    if len(head) < 8:
        return None
    return stream.read(int.from_bytes(head, "big"))


def _answer(stream: BinaryIO, answer: dict[str, Any]) -> None:
    stream.write(_frame(json.dumps(answer).encode()))
    stream.flush()
