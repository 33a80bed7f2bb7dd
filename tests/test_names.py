"""Names that cannot be hijacked (issue 10, finding 4): a name several models share is refused with the candidates,
ids and ``owner/name`` are unambiguous, an owner's own model comes first for its own actions, digits are ids."""

from __future__ import annotations

import uuid
import warnings

import pytest
from sklearn.linear_model import LogisticRegression

from colearn_jupyter import ColearnError, Session
from colearn_jupyter.names import AmbiguousModelName, check_new_name


@pytest.fixture(scope="module")
def squatted(chain, iris_frame):
    """A class: alice publishes "homework"; mallory republishes the name with a 50x deposit; bob has one too."""
    name = f"homework-{uuid.uuid4().hex[:6]}"
    iris = iris_frame(random_state=8)
    train, test = iris.iloc[:45], iris.iloc[45:90]
    clf = LogisticRegression(max_iter=500).fit(train.drop(columns="target"), train["target"])
    alice, mallory, bob = (Session(n, chain=chain) for n in ("alice", "frank", "bob"))
    common = {"train": train, "test": test, "label": "target", "pool": "0.5"}
    honest = alice.publish(clf, name=name, **common)
    with pytest.warns(UserWarning, match=f"#{honest.id} by {alice.account.address}.*already uses the name"):
        squatter = mallory.publish(clf, name=name, deposit="0.5", reward="0.01", **common)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        other = bob.publish(clf, name=name, **common)
    return {"name": name, "sessions": (alice, mallory, bob), "ids": (honest.id, squatter.id, other.id),
            "rows": iris.iloc[90:93]}  # fmt: skip


def test_a_shared_name_is_refused_with_the_candidates(squatted, chain):
    name, (honest, squatter, other) = squatted["name"], squatted["ids"]
    carol = Session("carol", chain=chain)
    credit, submissions = carol.market.credit_of(carol.account.address), len(carol.my_submissions())
    with pytest.raises(AmbiguousModelName, match=f"3 models are named '{name}'") as refused:
        carol.contribute(name, squatted["rows"])  # contributing by name, as the README teaches, never pays a squatter
    assert refused.value.candidates == [honest, squatter, other]
    message = str(refused.value)
    assert "deposit 0.5 ETH" in message and f"#{squatter} by" in message and "owner/name" in message
    assert carol.market.credit_of(carol.account.address) == credit and len(carol.my_submissions()) == submissions


def test_ids_and_owner_slash_name_are_unambiguous(squatted, chain):
    name, (honest, squatter, _) = squatted["name"], squatted["ids"]
    alice = squatted["sessions"][0]
    carol = Session("carol", chain=chain)
    assert carol.resolve_model(f"#{honest}") == honest == carol.resolve_model(str(honest))
    assert carol.resolve_model(f"alice/{name}") == honest  # a devnet account name
    assert carol.resolve_model(f"{alice.account.address}/{name}") == honest
    assert carol.resolve_model(f"frank/{name}") == squatter
    with pytest.raises(ColearnError, match="has no model named"):
        carol.resolve_model(f"carol/{name}")


def test_an_owner_means_its_own_model_for_its_own_actions(squatted):
    name, (honest, squatter, other) = squatted["name"], squatted["ids"]
    alice, mallory, bob = squatted["sessions"]
    assert alice.resolve_model(name, prefer_own=True) == honest
    assert mallory.resolve_model(name, prefer_own=True) == squatter
    assert list(bob.history(name).index) == [1] and bob.resolve_model(name, prefer_own=True) == other
    with pytest.raises(AmbiguousModelName):
        alice.resolve_model(name)  # contributing is not an own action: a student never contributes by accident


def test_names_that_could_not_be_addressed_are_refused_at_publish(chain, iris_frame):
    owner = Session("owner", chain=chain)
    iris = iris_frame(random_state=9)
    clf = LogisticRegression(max_iter=500).fit(iris.iloc[:45].drop(columns="target"), iris.iloc[:45]["target"])
    before = owner.market.model_count()
    for bad, why in (("12345", "only digits"), ("#7", "only digits"), ("a/b", "cannot contain '/'"),
                     (" padded ", "without spaces")):  # fmt: skip
        with pytest.raises(ColearnError, match=why):
            owner.publish(clf, name=bad, train=iris.iloc[:45], test=iris.iloc[45:90], label="target")
    assert owner.market.model_count() == before  # refused before anything was stored or sent


def test_check_new_name_warns_only_about_other_owners():
    from types import SimpleNamespace

    from colearn_jupyter.marketplace import Terms

    terms = Terms(10**16, 2 * 10**15, 10**16, 3600, 86400)
    mine = SimpleNamespace(id=1, name="wine", owner="0xA", terms=terms, version_count=1)
    theirs = SimpleNamespace(id=2, name="wine", owner="0xB", terms=terms, version_count=2)
    assert check_new_name("wine", [mine], me="0xa") is None  # a new version of one's own name: no warning
    assert "#2 by 0xB" in check_new_name("wine", [mine, theirs], me="0xA")
    assert check_new_name("beer", [mine, theirs], me="0xA") is None


def test_one_owners_models_of_one_name_resolve_to_the_newest():
    from types import SimpleNamespace

    from colearn_jupyter.marketplace import Terms
    from colearn_jupyter.names import resolve

    terms = Terms(10**16, 2 * 10**15, 10**16, 3600, 86400)
    models = [SimpleNamespace(id=i, name="iris", owner="0xA", terms=terms, version_count=1) for i in (3, 5)]
    assert resolve(models, "iris", me="0xC") == 5  # nobody else can take the name over: no ambiguity
    models.append(SimpleNamespace(id=9, name="iris", owner="0xB", terms=terms, version_count=1))
    assert resolve(models, "iris", me="0xA", prefer_own=True) == 5
    with pytest.raises(AmbiguousModelName):
        resolve(models, "iris", me="0xA")
