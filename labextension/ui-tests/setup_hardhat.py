"""The UI test's second chain: a hardhat node with chain id 1337, keystore accounts and a published model.

``run-hardhat.sh`` starts the node and runs, with COLEARN_HOME, COLEARN_RPC_URL and COLEARN_KEYSTORE_PASSWORD set:

    python setup_hardhat.py setup --root-dir /tmp/lab-root   # keystores, deploy, publish; prints one line of JSON

``setup`` writes keystores for three of the node's funded accounts into ``<home>/keystores/{ada,bea,cy}.json``
(hardhat funds the devnet mnemonic's accounts: ada holds owner's key, bea alice's, cy verifier's), deploys the
marketplace as ada with ``colearn deploy --account <keystore>``, publishes an iris model as ada (a one-hour window),
and writes ``hardhat_rows.csv`` under the root: twelve new rows, the first with a wrong label. It prints
{"model_id", "model_name", "csv", "flipped_row", "rows", "accounts": {name: address}}.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path

from eth_account import Account as EthAccount
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import Session
from colearn_jupyter.accounts import ENV_KEYSTORE_PASSWORD, devnet_account
from colearn_jupyter.cli import main as cli

LABEL = "species"
#: Keystore names in the home, and the devnet (= hardhat) account whose key each holds.
KEYSTORES = {"ada": "owner", "bea": "alice", "cy": "verifier"}


def home() -> Path:
    return Path(os.environ["COLEARN_HOME"])


def setup(root: Path) -> dict:
    password = os.environ[ENV_KEYSTORE_PASSWORD]
    folder = home() / "keystores"
    folder.mkdir(parents=True, exist_ok=True)
    addresses = {}
    for name, devnet_name in KEYSTORES.items():
        signer = devnet_account(devnet_name)._signer
        keystore = EthAccount.encrypt(signer.key, password, kdf="scrypt", iterations=1024)
        (folder / f"{name}.json").write_text(json.dumps(keystore))
        addresses[name] = signer.address
    if cli(["deploy", "--account", str(folder / "ada.json")]) != 0:
        raise SystemExit("setup_hardhat.py: colearn deploy failed")

    iris = load_iris(as_frame=True)
    frame = iris.frame.rename(columns={"target": LABEL})
    frame[LABEL] = frame[LABEL].map(dict(enumerate(iris.target_names)))
    frame = frame.drop_duplicates().sample(frac=1.0, random_state=5).reset_index(drop=True)
    train, test, rows = frame.iloc[:60], frame.iloc[60:100], frame.iloc[100:112].copy().reset_index(drop=True)
    features = [c for c in frame.columns if c != LABEL]
    clf = LogisticRegression(max_iter=500).fit(train[features], train[LABEL])
    name = f"iris-hardhat-{secrets.token_hex(3)}"
    ada = Session("ada")
    card = ada.publish(clf, name=name, train=train, test=test, label=LABEL, deposit="0.01", reward="0.002", window="1h")

    # row 0 gets a class the model does not predict: the verification plans a label challenge of it
    predicted = clf.predict(rows[features].iloc[:1])[0]
    rows.loc[0, LABEL] = next(c for c in iris.target_names if c not in (rows.loc[0, LABEL], predicted))
    root.mkdir(parents=True, exist_ok=True)
    csv = root / "hardhat_rows.csv"
    rows.to_csv(csv, index=False)
    return {
        "model_id": card.id,
        "model_name": name,
        "csv": csv.name,
        "flipped_row": 0,
        "rows": len(rows),
        "accounts": addresses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    first = commands.add_parser("setup", help="keystores, deployment and a published model")
    first.add_argument("--root-dir", type=Path, required=True, help="the Jupyter server's root directory")
    args = parser.parse_args()
    if not os.environ.get("COLEARN_RPC_URL") or "COLEARN_HOME" not in os.environ:
        raise SystemExit("setup_hardhat.py: set COLEARN_RPC_URL and COLEARN_HOME (run-hardhat.sh does)")
    print(json.dumps(setup(args.root_dir)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
