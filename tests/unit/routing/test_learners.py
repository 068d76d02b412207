"""The logistic learner and the router artefact: JSON round trip, fingerprint, version."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from freehold.routing import policies
from freehold.routing.features import Recipe
from freehold.routing.learners import ArtefactError, Hyper, fit, load
from freehold.routing.records import Example, Record, Truth, fingerprint


def examples() -> list[Example]:
    """Long prompts: the weak model fails; short ones: it succeeds."""
    out = []
    for i in range(40):
        hard = i % 2 == 0
        prompt = ("Prove the theorem about integrals " * 6 if hard else "Say hi") + f" {i}"
        truth = Truth(0.0 if hard else 1.0, 0.0 if i % 8 == 0 else 1.0, 0.001, 0.1)
        out.append(Example(Record(f"r{i}", "t", prompt, "ok #### 3"), truth))
    return out


def test_fit_separates_separable_data() -> None:
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = fit(x, np.array([0.0, 0.0, 1.0, 1.0]), Hyper(l2=0.01, steps=500, rate=0.1))
    p = model.probability(x)
    assert p[0] < 0.5 < p[3]


def test_artefact_round_trip_is_json_and_predicts_the_same(tmp_path: Path) -> None:
    router = policies.train("predictive", examples())
    path = tmp_path / "router.json"
    router.save(path)
    raw = path.read_bytes()
    assert not raw.startswith(b"\x80")  # not a pickle
    data = json.loads(raw)
    assert data["format"] == "freehold-router" and data["version"] == 2
    assert data["label"] == "gain" and data["strong"]["recipe"]["answer"] is False
    assert data["recipe"] == router.recipe.to_dict()
    assert data["fingerprint"] == fingerprint(examples())
    again = load(path)
    records = [e.record for e in examples()]
    assert np.allclose(policies.escalation(again, records), policies.escalation(router, records))
    hard, easy = policies.escalation(again, records[:2])
    assert hard > easy


def test_fingerprint_changes_with_the_data() -> None:
    data = examples()
    changed = [*data[:-1], replace(data[-1], truth=Truth(1.0, 0.0, 0.001, 0.1))]
    assert fingerprint(data) != fingerprint(changed)
    assert len(fingerprint(data)) == 64


def test_other_versions_are_refused(tmp_path: Path) -> None:
    router = policies.train("predictive", examples())
    data = router.to_dict()
    path = tmp_path / "r.json"
    path.write_text(json.dumps({**data, "version": 99}))
    with pytest.raises(ArtefactError, match="version 99"):
        load(path)
    path.write_text(json.dumps({**data, "weights": data["weights"][:-1]}))
    with pytest.raises(ArtefactError, match="recipe"):
        load(path)
    path.write_text(json.dumps({**data, "recipe": {**data["recipe"], "version": 7}}))
    with pytest.raises(ArtefactError, match="malformed"):
        load(path)
    path.write_bytes(b"\x80\x04K\x01.")  # a pickle
    with pytest.raises(ArtefactError, match="not a JSON"):
        load(path)


def test_version_1_files_are_read_as_weak_only(tmp_path: Path) -> None:
    router = policies.train("predictive", examples())
    data = router.to_dict()
    del data["strong"]
    path = tmp_path / "v1.json"
    path.write_text(json.dumps({**data, "version": 1}))
    old = load(path)
    records = [e.record for e in examples()]
    assert old.strong is None
    expected = 1.0 - router.model.probability(
        np.vstack([policies.matrix([r], router.recipe) for r in records])
    )
    assert np.allclose(policies.escalation(old, records), expected)
    broken = router.to_dict()
    broken["strong"]["weights"] = broken["strong"]["weights"][:-1]
    path.write_text(json.dumps(broken))
    with pytest.raises(ArtefactError, match="recipe"):
        load(path)


def test_escalation_ranks_by_the_expected_gain() -> None:
    """Long prompts: weak fails; those with 'riddle' fail the strong model too, so asking it
    gains nothing there: they rank below the long prompts the strong model gets right."""
    out = []
    for i in range(60):
        kind = i % 3  # 0 easy, 1 hard for weak only, 2 hard for both
        prompt = "Say hi" if kind == 0 else "Prove the theorem about integrals " * 6
        if kind == 2:
            prompt = "riddle riddle " + prompt
        truth = Truth(1.0 if kind == 0 else 0.0, 0.0 if kind == 2 else 1.0, 0.001, 0.1)
        out.append(Example(Record(f"r{i}", "t", prompt + f" {i}"), truth))
    router = policies.train(
        "predictive", out, settings=policies.Settings(Recipe(hash_dims=64), Hyper(l2=1.0))
    )
    assert router.strong is not None
    scores = policies.escalation(router, [e.record for e in out[:3]])
    easy, weak_only, both = scores
    assert weak_only > both and weak_only > easy


def test_without_strong_labels_the_router_keeps_the_weak_model_alone() -> None:
    same = [replace(e, truth=replace(e.truth, strong_score=1.0)) for e in examples()]
    router = policies.train("predictive", same)
    assert router.strong is None
    records = [e.record for e in same]
    hard, easy = policies.escalation(router, records[:2])
    assert hard > easy


def test_cascade_router_stores_its_answer_recipe() -> None:
    router = policies.train("cascade", examples(), check=lambda text: [("1+2", "3", 3.0, True)])
    assert router.recipe.answer and router.label == "gain"
    assert router.strong is not None and not router.strong.recipe.answer
    assert Recipe.from_dict(router.recipe.to_dict()) == router.recipe


def test_baselines_are_not_trained() -> None:
    with pytest.raises(ValueError, match="trained"):
        policies.train("oracle", examples())
