"""A stranger's column named like a field of the challenge listing (``challenger``, ``kind``, ``model``…) never
overwrites that field: nobody can fake who raised a challenge, or its kind, in anyone's queue."""

from __future__ import annotations

import uuid

from sklearn.linear_model import LogisticRegression

from colearn_jupyter import Session
from colearn_jupyter.widgets import VerificationQueue


def test_row_values_never_overwrite_the_challenge_fields(chain, iris_frame):
    iris = iris_frame(random_state=14)
    features = [c for c in iris.columns if c != "target"]
    frame = iris.rename(columns=dict(zip(features, ["challenger", "kind", "model", "row"], strict=True)))
    train, test = frame.iloc[:45], frame.iloc[45:90]
    owner, frank, verifier = (Session(n, chain=chain) for n in ("owner", "frank", "verifier"))
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    card = owner.publish(clf, name=f"columns-{uuid.uuid4().hex[:6]}", train=train, test=test, label="target")
    submission = frank.contribute(card.id, frame.iloc[90:93])
    [challenge] = verifier.challenge(submission.id, [0])

    listed = owner.challenges(card.id).loc[challenge]
    assert listed["challenger"] == verifier.account.address and listed["kind"] == "label"
    assert listed["model"] == card.id and listed["row"] == 0
    assert listed["value: challenger"] == frame.iloc[90]["challenger"]  # the row's own value, under its own name
    queue = VerificationQueue(owner, model=card.id)  # the owner's panel still lists it, with its verdict buttons
    assert queue.resolvers[challenge].kind == "label" and queue.resolvers[challenge].uphold is not None
    owner.resolve(challenge, False)
