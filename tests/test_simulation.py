"""The incentive game played by agents on the test devnet (:mod:`colearn_jupyter.simulation`).

Each strategy of issue 9 plays alone against an honest owner, contributor and verifier, then they all play together.
Every run must meet the acceptance criteria (:meth:`SimulationResult.violations`): each adversary (with its second
account) ends below its start, or every attempt of it was refused before any transaction; every honest agent ends
at or above its start, gas counted; no version of the model is less accurate than it would be without the
adversaries' rows. Strategies found while building the simulation that still pay are ``xfail`` with the finding.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from colearn_jupyter import ColearnError, Session
from colearn_jupyter.cli import main as cli
from colearn_jupyter.simulation import (
    ADVERSARIES,
    ISSUE_STRATEGIES,
    KINDS,
    SimulationConfig,
    run,
    simulate_magic_args,
    sweep,
    sweep_figure,
)

SHORT = {"rounds": 2, "rows": 4, "onchain_rows": 2}
ETH = 10**18


@pytest.fixture(scope="module")
def session(chain, market) -> Session:
    return Session("owner", chain=chain, market=market)


def simulate(session: Session, seed: int, dataset: str = "breast_cancer", **adversaries: int):
    """Two rounds of one adversary kind against an honest owner, contributor and verifier (fresh accounts)."""
    agents = {"contributor": 1, "verifier": 1, **adversaries}
    config = SimulationConfig(agents=agents, seed=seed, dataset=dataset, **SHORT)
    return run(config, session=session, progress=False)


def actions(result, agent_prefix: str) -> pd.DataFrame:
    return result.actions[result.actions["agent"].str.startswith(agent_prefix)]


def check_acceptance(result) -> None:
    """The criteria, spelled out (``violations()`` checks the same; this shows each one fail on its own)."""
    coalitions = result.coalitions()
    for name, group in coalitions[~coalitions["honest"]].iterrows():
        refused = group["transactions"] == 0 and group["change (ETH)"] == 0
        assert group["change (ETH)"] < 0 or refused, f"{name} profits: {group.to_dict()}"
    final = result.final()
    honest = final[final["honest"] & (final["kind"] != "owner")]
    assert (honest["change (ETH)"] >= 0).all(), honest[["kind", "change (ETH)"]]
    owner = final.loc["owner"]
    judged = result.challenges["kind"].isin(["label", "file"]).sum() if not result.challenges.empty else 0
    budget = (final["rows submitted"].sum() + judged) * result.reward_per_row  # a reward per row and per judgement
    assert owner["change excluding gas (ETH)"] * ETH >= -budget - 1e3, "the owner paid more than the terms say"
    versions = result.versions
    assert (versions["accuracy"] >= versions["clean accuracy"] - 1e-9).all(), versions
    assert result.violations() == [], result.report()


# ---------------------------------------------------------------------------------------------------- alone
def test_phantom_rows_are_forfeited(session):
    result = simulate(session, seed=11, phantom=2)  # the two variants in every round: one-leaf tree, file never stored
    check_acceptance(result)
    played = " ".join(actions(result, "phantom")["action"])
    assert "one-leaf tree" in played and "never stored" in played
    final = result.final()
    phantoms = final[final["kind"] == "phantom"]
    assert (phantoms["rows accepted"] == 0).all() and (phantoms["rows rejected"] == phantoms["rows submitted"]).all()
    assert (result.summary().loc[phantoms.index, "recovered"] < 0.1).all()  # the ideal: under 10% of the stake back
    assert final.loc["verifier-1", "challenges upheld"] >= 2  # one demand per batch: forfeits it, bond and rewards back


def test_copies_are_proven_by_the_contract(session):
    result = simulate(session, seed=12, copier=3)  # 3 copiers x 2 rounds play the five variants
    check_acceptance(result)
    played = set(actions(result, "copier")["action"].str.replace(r" of submission \d+", "", regex=True))
    assert {"pending copy", "repeated row", "training copy", "test copy", "accepted copy"} <= played
    final = result.final()
    copiers = final[final["kind"] == "copier"]
    # only the first of a repeated row can stand: one row per repeated-row batch, everything else rejected
    repeated = actions(result, "copier").query("action == 'repeated row'").groupby("agent").size()
    assert (copiers["rows accepted"] <= repeated.reindex(copiers.index, fill_value=0)).all()
    owner_actions = actions(result, "owner")["action"]
    assert owner_actions.str.startswith("prove").any()  # copies of the hidden test set: only the owner can prove them
    assert (result.versions["adversarial rows trained"] <= repeated.sum()).all()


def test_self_dealing_loses_the_deposits(session):
    result = simulate(session, seed=13, **{"self-dealer": 1})
    check_acceptance(result)
    coalition = result.coalitions().loc["self-dealer-1"]
    final = result.final()
    rejected = final.loc["self-dealer-1", "rows rejected"]
    assert rejected == final.loc["self-dealer-1", "rows submitted"] > 0
    deposit, reward = 10**16, 2 * 10**15
    # every rejected row burns its deposit; the partner gets only the reward (and its bond) back
    assert coalition["change (ETH)"] * ETH <= -rejected * (deposit - reward)


def test_copycat_challenges_are_refused(session):
    result = simulate(session, seed=14, copycat=1, poison=1)  # the poison pill gets challenged: something to copy
    check_acceptance(result)
    replays = actions(result, "copycat")
    assert not replays.empty and (replays["outcome"] == "refused").all()
    assert result.final().loc["copycat-1", "challenges"] == 0


def test_perceptron_cannot_be_hijacked(session):
    result = simulate(session, seed=15, perceptron=1)
    check_acceptance(result)
    attacker = actions(result, "perceptron")
    beyond = attacker[attacker["action"].str.contains("beyond the bound")]
    assert len(beyond) == SHORT["rounds"] and (beyond["outcome"] == "refused").all()
    final = result.final()
    assert final.loc["perceptron-1", "rows accepted"] == 0
    assert final.loc["perceptron-1", "rows rejected"] == SHORT["rounds"] * SHORT["onchain_rows"]
    assert (result.versions["adversarial rows trained"] == 0).all()
    assert result.versions["accuracy"].min() == result.versions["accuracy"].iloc[0]


def test_poison_pill_is_challenged_row_by_row(session):
    result = simulate(session, seed=16, poison=1)
    check_acceptance(result)
    challenges = result.challenges.query("contributor == 'poison-1'")
    assert {"format", "duplicate", "label"} <= set(challenges["kind"])
    assert set(challenges["status"]) == {"upheld"} and set(challenges["challenger"]) == {"verifier-1"}
    assert not (result.actions["outcome"] == "refused").any()  # verify, challenge and retrain all worked
    final = result.final()
    good_rows = SHORT["rounds"]  # each pill has one correct row (repeated later: that copy is a duplicate)
    assert final.loc["poison-1", "rows accepted"] <= good_rows


def test_absurd_terms_are_refused_before_anything_moves(session):
    result = simulate(session, seed=17, **{"absurd-terms": 1})
    check_acceptance(result)
    attempts = actions(result, "absurd-terms")
    assert len(attempts) == 5 and (attempts["outcome"] == "refused").all()
    assert result.summary().loc["absurd-terms-1", "verdict"] == "zero impact (refused)"


def test_griefing_costs_the_griefer_and_pays_the_honest_contributor(session):
    result = simulate(session, seed=18, griefer=1)
    check_acceptance(result)
    final = result.final()
    assert final.loc["griefer-1", "challenges lost"] >= 1  # a good label: the owner rejects it, the bond burns
    answered = actions(result, "contributor").query("action == 'answer a demand'")
    assert not answered.empty  # a demand for an honest row: answered, the bond goes to the contributor


def test_front_running_a_contribution_finds_no_file_to_copy(session):
    """Found while building the simulation, fixed in the client: the file of a contribution used to be stored before
    its transaction was sent, so a front-runner watching the mempool could copy the rows under its own key, get them
    mined first with a higher tip, and prove the original rows to be its duplicates (the honest contributor lost
    every deposit). Now the file is stored once the transaction is mined."""
    result = simulate(session, seed=25, **{"front-runner": 1})
    check_acceptance(result)
    copies = actions(result, "front-runner")
    assert len(copies) == SHORT["rounds"] and (copies["outcome"] == "refused").all(), copies
    assert copies["detail"].str.contains("not in the embedded store").all()
    assert result.final().loc["contributor-1", "rows rejected"] == 0


def test_colluding_owner_loses_and_honest_agents_leave_it(session):
    """Finding (a protocol limit, not a client bug): the owner judges labels, so an owner with a second account can
    burn honest deposits (upholding its partner's challenges) and bonds (rejecting valid challenges of its partner's
    rows). The coalition still loses (its pool pays the reward either way; forfeits are burned, not paid to it), and
    honest agents, seeing the owner contradict its own published model, stop dealing with it after one round."""
    result = simulate(session, seed=19, **{"colluding-owner": 1})
    coalition = result.coalitions().loc["owner"]
    assert coalition["kinds"] == "colluding-owner + colluding-owner partner"
    assert coalition["change (ETH)"] < 0
    violations = result.violations()
    assert not [v for v in violations if v.startswith("adversary")]
    left = result.actions[result.actions["action"].isin(["leave the model", "stop label challenges"])]
    assert set(left["agent"]) == {"contributor-1", "verifier-1"} and (left["round"] == 2).all()
    contributions = actions(result, "contributor").query("action == 'contribute'")
    assert set(contributions["round"]) == {1}  # one batch at stake, then it left
    # what the honest agents lost: the deposits and bonds of that first round, at most
    final = result.final()
    assert final.loc["contributor-1", "change (ETH)"] * ETH >= -SHORT["rows"] * 10**16
    assert final.loc["verifier-1", "change (ETH)"] * ETH >= -SHORT["rows"] * 5 * 10**15 - 10**16  # bonds, and gas


# ---------------------------------------------------------------------------------------------------- findings
def test_withholding_the_file_does_not_pay(session):
    """Found while building the simulation: a contributor who never stores its file, answering every demand from
    memory, was paid for rows nobody could retrain on (and took the bond of each verifier who demanded one). Now the
    verifier's plan challenges the whole file, which no row answers; the owner's client cannot fetch it either and
    upholds: every deposit is burned."""
    result = simulate(session, seed=21, withholder=1)
    check_acceptance(result)
    files = result.challenges[result.challenges["kind"] == "file"]
    assert len(files) >= 1 and (files["status"] == "upheld").all(), result.challenges
    assert result.final().loc["withholder-1", "rows accepted"] == 0


def test_model_labelled_near_copies_do_not_pay(session):
    """Found while building the simulation: rows labelled by the current model itself (here near-copies of the
    public training rows) are never suspicious to the model. People judging rows see they are no real observations:
    challenged and upheld, each costs its deposit."""
    result = simulate(session, seed=22, echo=1)
    check_acceptance(result)
    assert result.final().loc["echo-1", "rows accepted"] == 0


def test_rows_mislabelled_the_way_the_model_errs_do_not_pay(session):
    """Found while building the simulation: rows the model gets wrong, sold with the model's wrong label. A person
    checking labels rejects them, and honest contributors no longer hold back the rows the model gets wrong."""
    result = simulate(session, seed=24, dataset="synthetic", mimic=1)  # a data set the model gets 87% right
    check_acceptance(result)
    final = result.final()
    assert final.loc["mimic-1", "rows accepted"] == 0 and final.loc["contributor-1", "rows held back"] == 0


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="a protocol limit, kept visible: when the owner lets its current model judge labels (resolve --auto), "
    "the rows the model gets wrong are accepted when mislabelled its way (and paid) and rejected when labelled right "
    "(an honest contributor must hold them back); accuracy falls. Labels need a person's judgement",
)
def test_a_model_as_the_judge_pays_for_its_own_errors(session):
    agents = {"contributor": 1, "verifier": 1, "mimic": 1}
    config = SimulationConfig(agents=agents, seed=24, dataset="synthetic", judge="model", **SHORT)
    check_acceptance(run(config, session=session, progress=False))


# ---------------------------------------------------------------------------------------------------- together
def test_mixed_run(session):
    agents = {"contributor": 2, "verifier": 2, "phantom": 1, "copier": 1, "self-dealer": 1, "copycat": 1,
              "poison": 1, "griefer": 1, "absurd-terms": 1, "front-runner": 1}  # fmt: skip
    config = SimulationConfig(agents=agents, rounds=2, rows=4, seed=23)
    result = run(config, session=session, progress=False)
    check_acceptance(result)
    frame = result.frame
    agents_total = sum(agents.values()) + 2  # the owner, the self-dealer's second account
    assert len(frame) == agents_total * (config.rounds + 2)  # start, every round, the settlement
    assert frame.groupby("agent")["round"].apply(list).map(lambda r: r == list(range(config.rounds + 2))).all()
    figures = result.figures()
    assert len(figures["balances"].data) == agents_total
    assert [trace.name for trace in figures["accuracy"].data] == ["accuracy", "clean accuracy"]
    assert len(result.versions) >= 2


def test_every_strategy_in_one_run(session):
    """Notebook 07's game: every adversary that plays against an honest owner and a file-based model, at once (the
    colluding owner and the perceptron attacker change the game for everyone and play alone above). Issue 14's
    criterion on the balances the run returns: each adversary ends below its start unless every attempt of it was
    refused before any transaction (then exactly at its start), each honest agent at or above its start."""
    alone = ("colluding-owner", "perceptron")
    agents = {"contributor": 2, "verifier": 1, **{kind: 1 for kind in ADVERSARIES if kind not in alone}}
    result = run(SimulationConfig(agents=agents, rounds=2, rows=3, seed=1), session=session, progress=False)
    check_acceptance(result)
    final = result.final()
    assert set(ADVERSARIES) - set(alone) <= set(final["kind"])
    for name, group in result.coalitions().iterrows():
        end, start = group["end (ETH)"], group["start (ETH)"]
        if not group["honest"]:
            assert end < start or (group["transactions"] == 0 and end == start), (name, group.to_dict())
        elif name != "owner":
            assert end >= start, (name, group.to_dict())
    refused = set(final.index[(final["transactions"] == 0) & ~final["honest"]])
    assert {"absurd-terms-1", "copycat-1", "front-runner-1"} <= refused  # refused before any transaction
    assert (final.loc[final["kind"].isin(["phantom", "withholder", "self-dealer"]), "rows accepted"] == 0).all()
    assert len(result.figures()["balances"].data) == len(final)


def test_deposit_and_bond_sizes_scale_what_attacks_cost(session):
    """Notebook 07's sweep: under thin and heavy terms alike the adversaries lose and the honest agents do not; a
    larger deposit and bond make each attack cost more, and pay the honest contributor more (a griefer's bond)."""
    small = SimulationConfig(agents={"contributor": 1, "verifier": 1, "phantom": 1, "self-dealer": 1, "griefer": 1},
                             rounds=1, rows=3, seed=1)  # fmt: skip
    settings = {"thin": {"deposit": "0.0025", "bond": "0.001"}, "heavy": {"deposit": "0.05", "bond": "0.02"}}
    frame = sweep(settings, small, session=session, progress=False)
    assert list(frame["setting"].unique()) == ["thin", "heavy"]
    assert set(frame.loc[frame["setting"] == "heavy", "deposit"]) == {"0.05"}
    for setting, rows in frame.groupby("setting"):
        adversaries = rows[~rows["honest"]]
        assert (adversaries["change (ETH)"] < 0).all(), (setting, adversaries)
        assert adversaries["verdict"].str.startswith("loses").all(), (setting, adversaries)
        honest = rows[rows["honest"] & (rows["coalition"] != "owner")]
        assert (honest["change (ETH)"] >= 0).all(), (setting, honest)
    change = frame.pivot(index="coalition", columns="setting", values="change (ETH)")
    for adversary in ("phantom-1", "self-dealer-1", "griefer-1"):
        assert change.loc[adversary, "heavy"] < change.loc[adversary, "thin"] < 0
    assert change.loc["contributor-1", "heavy"] >= change.loc["contributor-1", "thin"] >= 0
    figure = sweep_figure(frame)
    assert [trace.name.split(" ")[0] for trace in figure.data] == ["thin", "heavy"]
    assert list(figure.summary.columns) == ["coalition", "thin", "heavy"]


# ---------------------------------------------------------------------------------------------------- faces
DETERMINISTIC = ["round", "hours", "agent", "kind", "honest", "coalition", "start (ETH)",
                 "change excluding gas (ETH)", "rows submitted", "rows accepted", "rows rejected", "rows pending",
                 "rows held back", "challenges", "challenges upheld", "challenges lost", "refused", "version",
                 "accuracy", "clean accuracy"]  # fmt: skip


def test_same_seed_same_run_from_the_api_and_the_cli(session, capsys):
    line = "contributor=1 phantom=1 --rounds 1 --rows 3 --seed 5"
    config = simulate_magic_args(line)
    assert config.agents == {"contributor": 1, "verifier": 1, "phantom": 1} and config.rounds == 1
    first = run(config, session=session, progress=False).frame
    assert cli(["simulate", *line.split(), "--json"]) == 0
    second = pd.DataFrame(json.loads(capsys.readouterr().out))
    assert list(first["agent"]) == list(second["agent"])
    for column in DETERMINISTIC:
        a, b = first[column].to_numpy(), second[column].to_numpy()
        if a.dtype.kind == "f":
            assert np.allclose(a, b, rtol=0, atol=1e-9), column
        else:
            assert list(a) == list(b), column


def test_magic_arguments_are_checked():
    assert simulate_magic_args("").agents == {"contributor": 2, "verifier": 1, "phantom": 1, "copier": 1,
                                               "self-dealer": 1}  # fmt: skip
    config = simulate_magic_args("copier=2 verifier=0 --deposit 0.02 --reward 0.001 --window 2h --no-onchain")
    assert config.agents == {"contributor": 2, "copier": 2} and config.onchain is False
    assert config.terms.deposit_per_row == 2 * 10**16 and config.round_seconds == 7201
    with pytest.raises(ColearnError, match="no agent kind 'wizard'"):
        simulate_magic_args("wizard=1")
    with pytest.raises(ColearnError, match="KIND=N"):
        simulate_magic_args("phantom=many")
    with pytest.raises(ColearnError, match="rounds"):
        simulate_magic_args("--rounds 0")
    with pytest.raises(ColearnError, match="perceptron"):
        simulate_magic_args("perceptron=1 --no-onchain")
    with pytest.raises(ColearnError, match="usage"):
        simulate_magic_args("--help")
    assert set(ISSUE_STRATEGIES) <= set(KINDS)
