"""Logistic regression in numpy, and the router artefact that stores it as JSON.

Training: features standardised (mean and scale stored), L2-penalised log-loss minimised by
full-batch Adam for a fixed number of steps from zeros — deterministic, no randomness.

The artefact is a JSON file (never a pickle)::

    {"format": "freehold-router", "version": 2, "policy": "cascade", "label": "gain",
     "recipe": {...feature recipe...}, "fingerprint": "<sha256 of the training records>",
     "trained_on": 643, "weights": [...], "bias": 0.1, "mean": [...], "scale": [...],
     "strong": {"recipe": {...}, "weights": [...], "bias": ..., "mean": [...], "scale": [...]}}

The top-level model estimates P(the cheap model's answer is acceptable); ``strong`` (version 2,
optional) estimates P(the strong model's answer is acceptable) from the prompt alone, so the
router can rank requests by the expected gain of escalating. Version 1 files (no ``strong``)
are still read. :func:`load` refuses another format or version, a recipe whose width does not
match the weights, or anything that is not plain JSON numbers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from freehold.routing.features import Recipe

FORMAT = "freehold-router"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)

Matrix = NDArray[np.float64]


class ArtefactError(ValueError):
    """A router file that is not a router this version can read."""


@dataclass(frozen=True, slots=True)
class Hyper:
    """Training settings."""

    l2: float = 1.0
    steps: int = 300
    rate: float = 0.05


@dataclass(slots=True)
class Logistic:
    """A fitted logistic model over standardised features."""

    weights: Matrix
    bias: float
    mean: Matrix
    scale: Matrix

    def probability(self, x: Matrix) -> Matrix:
        """P(label = 1) for each row of ``x``."""
        z = ((np.atleast_2d(x) - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


def fit(x: Matrix, y: Matrix, hyper: Hyper = Hyper()) -> Logistic:
    """Fit a logistic model to rows ``x`` and 0/1 labels ``y`` (full-batch Adam)."""
    n, d = x.shape
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    w, b = np.zeros(d), float(np.log((y.mean() + 1e-3) / (1 - y.mean() + 1e-3)))
    m, v, mb, vb = np.zeros(d), np.zeros(d), 0.0, 0.0
    beta1, beta2 = 0.9, 0.999
    for t in range(1, hyper.steps + 1):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w + b, -40.0, 40.0)))
        grad_w = z.T @ (p - y) / n + hyper.l2 * w / n
        grad_b = float((p - y).mean())
        m = beta1 * m + (1 - beta1) * grad_w
        v = beta2 * v + (1 - beta2) * grad_w**2
        mb = beta1 * mb + (1 - beta1) * grad_b
        vb = beta2 * vb + (1 - beta2) * grad_b**2
        correction = math.sqrt(1 - beta2**t) / (1 - beta1**t)
        w -= hyper.rate * correction * m / (np.sqrt(v) + 1e-8)
        b -= hyper.rate * correction * mb / (math.sqrt(vb) + 1e-8)
    return Logistic(w, b, mean, scale)


def _model_dict(model: Logistic) -> dict[str, Any]:
    return {
        "weights": model.weights.tolist(),
        "bias": model.bias,
        "mean": model.mean.tolist(),
        "scale": model.scale.tolist(),
    }


def _model_of(data: Any) -> Logistic:
    return Logistic(
        np.asarray(data["weights"], dtype=np.float64),
        float(data["bias"]),
        np.asarray(data["mean"], dtype=np.float64),
        np.asarray(data["scale"], dtype=np.float64),
    )


def _fits(model: Logistic, recipe: Recipe) -> bool:
    return len({len(model.weights), len(model.mean), len(model.scale), recipe.width}) == 1


@dataclass(slots=True)
class Strong:
    """The strong model's acceptability from the prompt alone."""

    recipe: Recipe
    model: Logistic


@dataclass(slots=True)
class Router:
    """A trained routing model with everything needed to reuse and audit it."""

    policy: str
    label: str
    recipe: Recipe
    model: Logistic
    fingerprint: str
    trained_on: int
    extra: dict[str, Any] = field(default_factory=dict)
    strong: Strong | None = None

    def to_dict(self) -> dict[str, Any]:
        strong = None
        if self.strong is not None:
            strong = {"recipe": self.strong.recipe.to_dict(), **_model_dict(self.strong.model)}
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "policy": self.policy,
            "label": self.label,
            "recipe": self.recipe.to_dict(),
            "fingerprint": self.fingerprint,
            "trained_on": self.trained_on,
            "weights": self.model.weights.tolist(),
            "bias": self.model.bias,
            "mean": self.model.mean.tolist(),
            "scale": self.model.scale.tolist(),
            "extra": self.extra,
            "strong": strong,
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict()) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: Any) -> Router:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ArtefactError("not a freehold router file")
        if data.get("version") not in READABLE_VERSIONS:
            raise ArtefactError(
                f"router format version {data.get('version')!r} is not supported "
                f"(this freehold reads version {FORMAT_VERSION}); retrain it"
            )
        try:
            recipe = Recipe.from_dict(data["recipe"])
            model = _model_of(data)
            strong_data = data.get("strong")
            strong = None
            if strong_data is not None:
                strong = Strong(Recipe.from_dict(strong_data["recipe"]), _model_of(strong_data))
            router = cls(
                str(data["policy"]),
                str(data["label"]),
                recipe,
                model,
                str(data["fingerprint"]),
                int(data["trained_on"]),
                dict(data.get("extra") or {}),
                strong,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtefactError(f"malformed router file: {exc}") from None
        if not _fits(model, recipe) or (
            strong is not None and not _fits(strong.model, strong.recipe)
        ):
            raise ArtefactError("the weights do not match the feature recipe")
        return router


def load(path: str | Path) -> Router:
    """A router saved by :meth:`Router.save`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtefactError(f"{path}: not a JSON router file ({exc})") from None
    return Router.from_dict(data)
