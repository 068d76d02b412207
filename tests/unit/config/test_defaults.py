"""The zero-config defaults: local GGUF files and providers from the environment."""

from __future__ import annotations

from pathlib import Path

from freehold.config.defaults import default_settings


def test_nothing_configured(tmp_path: Path) -> None:
    settings = default_settings({"FREEHOLD_HOME": str(tmp_path)})
    assert settings.models == ()
    assert settings.ledger == f"sqlite:///{tmp_path / 'ledger.db'}"


def test_every_gguf_in_the_models_directory_is_a_local_model(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for name in ("Qwen2.5-0.5B-Instruct-Q4_K_M.gguf", "b.gguf", "c.gguf.part", "notes.txt"):
        (models / name).write_bytes(b"GGUF")
    settings = default_settings({"FREEHOLD_HOME": str(tmp_path)})
    assert [m.name for m in settings.models] == ["qwen2.5-0.5b-instruct-q4_k_m", "b"]
    first = settings.models[0]
    assert (first.backend, first.locality, first.path) == (
        "llamacpp",
        "local",
        str(models / "Qwen2.5-0.5B-Instruct-Q4_K_M.gguf"),
    )


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
