"""A model file that runs its publisher's code in whoever uses it, as skops would load it if trusted by prefix.

A scikit-learn Pipeline whose first steps are ``FunctionTransformer(numpy.testing...build_err_msg)``, which turns
the file's code into a string, and ``FunctionTransformer(numpy.testing...runstring)``, which ``exec``s it: every
type in it starts with ``sklearn.`` or ``numpy.``. The code writes a marker file, so a test sees whether it ran.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import skops.io as sio
from numpy.testing._private.utils import build_err_msg, runstring
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer


def code_running_model(marker: Path, features: list[str]) -> bytes:
    """The skops bytes of a Pipeline over ``features`` that writes ``marker`` when it predicts (saved with skops
    directly: colearn's own ``save_model`` refuses it)."""
    code = f"\nimport pathlib\npathlib.Path({str(marker)!r}).write_text('the publisher ran code here')\n"
    sample = pd.DataFrame([[float(i == j) for j in range(len(features))] for i in range(2)], columns=features)
    final = LogisticRegression().fit(sample, [0, 1])  # fitted alone: fitting the pipeline would run the code here
    pipeline = Pipeline(
        [
            ("message", FunctionTransformer(build_err_msg, kw_args={"err_msg": code, "header": "", "verbose": False})),
            ("run", FunctionTransformer(runstring, kw_args={"dict": {}})),
            ("classify", final),
        ]
    )
    return sio.dumps(pipeline)
