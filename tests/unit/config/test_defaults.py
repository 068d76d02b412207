"""The zero-config defaults: local GGUF files and providers from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from freehold.config.defaults import default_settings
from freehold.core.names import by_folded_case, canonical_name


def test_nothing_configured(tmp_path: Path) -> None:
    settings = default_settings({"FREEHOLD_HOME": str(tmp_path)})
    assert settings.models == ()
    assert settings.ledger == f"sqlite:///{tmp_path / 'ledger.db'}"


def test_every_gguf_in_the_models_directory_is_a_local_model(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for name in ("Qwen2.5-0.5B-Instruct-Q4_K_M.gguf", "b.GGUF", "c.gguf.part", "notes.txt"):
        (models / name).write_bytes(b"GGUF")
    (models / "folder.gguf").mkdir()
    settings = default_settings({"FREEHOLD_HOME": str(tmp_path)})
    assert [m.name for m in settings.models] == ["Qwen2.5-0.5B-Instruct-Q4_K_M", "b"]
    first = settings.models[0]
    assert (first.backend, first.locality, first.path) == (
        "llamacpp",
        "local",
        str(models / "Qwen2.5-0.5B-Instruct-Q4_K_M.gguf"),
    )


@pytest.mark.parametrize(
    ("file", "name"),
    [
        ("SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct.Q4_1"),  # as written
        ("my model  v2.gguf", "my-model-v2"),  # a model name has no spaces
        ("tab\tname.gguf", "tab-name"),
    ],
)
def test_a_model_is_named_after_its_file_as_written(tmp_path: Path, file: str, name: str) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / file).write_bytes(b"GGUF")
    settings = default_settings({"FREEHOLD_HOME": str(tmp_path)})
    assert [m.name for m in settings.models] == [name]


def test_names_match_exactly_else_ignoring_case() -> None:
    index = by_folded_case(["SmolLM2-135M-Instruct.Q4_1", "gpt-4o"])
    assert canonical_name("SmolLM2-135M-Instruct.Q4_1", index) == "SmolLM2-135M-Instruct.Q4_1"
    assert canonical_name("smollm2-135m-instruct.q4_1", index) == "SmolLM2-135M-Instruct.Q4_1"
    assert canonical_name("GPT-4O", index) == "gpt-4o"
    assert canonical_name("gpt-4", index) is None
    assert canonical_name("", index) is None


def test_names_differing_only_in_case_match_exactly_only() -> None:
    index = by_folded_case(["Model", "model", "other"])
    assert canonical_name("Model", index) == "Model"
    assert canonical_name("model", index) == "model"
    assert canonical_name("MODEL", index) is None  # ambiguous
    assert canonical_name("OTHER", index) == "other"


def test_the_case_insensitive_index_takes_any_names() -> None:
    """What the pipeline can use for route names too."""
    index = by_folded_case(["fast", "Cheap", "cheap-v2", "Straße"])
    assert canonical_name("FAST", index) == "fast"
    assert canonical_name("cheap", index) == "Cheap"
    assert canonical_name("STRASSE", index) == "Straße"  # full case folding
    assert canonical_name("nope", index) is None


def test_providers_from_the_environment(tmp_path: Path) -> None:
    env = {"FREEHOLD_HOME": str(tmp_path), "OPENAI_API_KEY": "sk-o", "ANTHROPIC_API_KEY": "sk-a"}
    settings = default_settings(env)
    names = [m.name for m in settings.models]
    assert "gpt-4o-mini" in names and "claude-sonnet-4-5" in names
    mini = settings.model("gpt-4o-mini")
    assert mini is not None and mini.base_url == "https://api.openai.com/v1"
    assert mini.api_key is not None and mini.api_key.get_secret_value() == "sk-o"
    assert str(mini.price.input_per_mtok) == "0.15"
    claude = settings.model("claude-sonnet-4-5")
    assert claude is not None and claude.backend == "anthropic"


def test_a_self_hosted_openai_compatible_server(tmp_path: Path) -> None:
    env = {
        "FREEHOLD_HOME": str(tmp_path),
        "OPENAI_API_KEY": "x",
        "OPENAI_BASE_URL": "http://127.0.0.1:11434/v1",
        "FREEHOLD_OPENAI_MODELS": "llama3, qwen",
    }
    settings = default_settings(env)
    assert [(m.name, m.base_url) for m in settings.models] == [
        ("llama3", "http://127.0.0.1:11434/v1"),
        ("qwen", "http://127.0.0.1:11434/v1"),
    ]
    assert all(m.price.to_price().is_free for m in settings.models)
