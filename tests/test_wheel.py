"""`pip install colearn-jupyter` is enough (issue 12): the wheel alone, in a fresh virtual environment outside the
checkout, with no node or npm on PATH, starts the devnet from the anvil it carries and runs the whole cycle.

Installing every dependency from PyPI would take minutes, so the wheel is installed with ``--no-deps`` and a
``.pth`` file lists this venv's site-packages for the third-party packages. Plain paths in a ``.pth`` are added to
``sys.path`` after the fresh venv's own site-packages, and the ``.pth`` files inside them (the editable install of
this checkout) are not read: the subprocess checks that ``colearn_jupyter`` is the wheel's copy.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from wheelbuild import EXTENSION_BUILT, ROOT, build_wheel

from colearn_jupyter import Devnet

CYCLE = textwrap.dedent(
    """
    import json, os, re, sys
    from importlib.metadata import requires, version
    from pathlib import Path

    import colearn_jupyter
    from colearn_jupyter.devnet import find_anvil

    venv = Path(sys.prefix).resolve()
    package = Path(colearn_jupyter.__file__).resolve().parent
    assert package.is_relative_to(venv), f"not the wheel's copy: {package}"
    anvil = find_anvil()
    assert anvil == str(package / "bin" / "anvil") and os.access(anvil, os.X_OK), anvil
    # the dependencies a default install brings (JupyterLab and a kernel among them) are all here
    needed = [re.split(r"[<>=!~;\\[ ]", r, maxsplit=1)[0] for r in requires("colearn-jupyter") if "extra ==" not in r]
    assert {"jupyterlab", "ipykernel"} <= set(needed), needed
    missing = []
    for name in needed:
        try:
            version(name)
        except Exception:
            missing.append(name)
    assert not missing, missing

    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from colearn_jupyter import Session

    data = load_iris(as_frame=True)
    frame = data.frame.drop_duplicates().sample(frac=1.0, random_state=12).reset_index(drop=True)
    frame["target"] = frame["target"].map(dict(enumerate(data.target_names)))
    train, test, extra = frame.iloc[:45], frame.iloc[45:95], frame.iloc[95:125]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])

    owner = Session.connect("owner")
    devnet = owner.chain.devnet.status()
    node = os.path.realpath(f"/proc/{devnet.pid}/exe")
    assert node == os.path.realpath(anvil), node
    card = owner.publish(clf, name="wheel-iris", train=train, test=test, label="target", window="1h", pool="1")
    alice, verifier = owner.as_account("alice"), owner.as_account("verifier")
    sub = alice.contribute(card.id, extra)
    report = verifier.verify(sub.id)
    assert report.ok and report.cid_ok and report.root_ok and report.count_ok, report
    owner.advance_time("1h")
    owner.advance_time(1)
    terms = owner.market.model(card.id).terms
    paid = alice.claim()
    assert paid >= len(extra) * (terms.deposit_per_row + terms.reward_per_row), paid
    assert owner.market.submission(sub.id).claimed
    print(json.dumps({"package": str(package), "anvil": anvil, "node": node, "model": card.id, "paid": paid}))
    """
)


@pytest.mark.slow
@pytest.mark.skipif(not EXTENSION_BUILT, reason="extension not built")
def test_the_wheel_alone_runs_the_whole_cycle(tmp_path):
    wheel = build_wheel()
    assert not tmp_path.is_relative_to(ROOT)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "--quiet",
         str(wheel)],
        check=True, timeout=300, capture_output=True,
    )  # fmt: skip
    fresh = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (Path(fresh) / "third-party.pth").write_text("\n".join(ours) + "\n")
    assert (venv / "bin" / "colearn").is_file()  # the console script, in the fresh venv

    work, home = tmp_path / "work", tmp_path / "colearn-home"
    work.mkdir()
    env = {
        "PATH": str(venv / "bin"),  # no node, npm or anvil: only what the wheel installed
        "HOME": str(tmp_path / "user"),
        "COLEARN_HOME": str(home),
        "COLEARN_DEVNET_PORT": "0",
        "LANG": "C.UTF-8",
    }
    for tool in ("node", "npm", "anvil"):
        assert shutil.which(tool, path=env["PATH"]) is None, tool
    try:
        ran = subprocess.run([str(python), "-c", CYCLE], cwd=work, env=env, capture_output=True, text=True, timeout=240)
    finally:
        Devnet(home).reset()
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-6000:]
    result = json.loads(ran.stdout.strip().splitlines()[-1])
    assert result["anvil"] == str(Path(fresh).resolve() / "colearn_jupyter" / "bin" / "anvil")
    assert result["paid"] > 0
