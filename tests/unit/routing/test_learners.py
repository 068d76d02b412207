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
        truth = Truth(0.0 if hard else 1.0, 1.0, 0.001, 0.1)
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
    assert data["format"] == "freehold-router" and data["version"] == 1
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


def test_cascade_router_stores_its_answer_recipe() -> None:
    router = policies.train("cascade", examples(), check=lambda text: (1, 0))
    assert router.recipe.answer and router.label == "weak_correct"
    assert Recipe.from_dict(router.recipe.to_dict()) == router.recipe


def test_baselines_are_not_trained() -> None:
    with pytest.raises(ValueError, match="trained"):
        policies.train("oracle", examples())
