from pathlib import Path

import pytest

from freehold.config import ConfigError, load_settings, parse_settings

MODEL = {"name": "m", "backend": "openai", "base_url": "http://127.0.0.1:9/v1"}


def problems(data: object, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(data, "c.yaml", env or {})
    return [p.render("c.yaml") for p in caught.value.problems]


def test_full_example_parses(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(
        """
server: {host: 127.0.0.1, port: 8080, max_body_bytes: 4000000}
ledger: sqlite:///path/to/ledger.db
models:
  - name: cloud-big
    backend: openai
    base_url: http://127.0.0.1:9001/v1
    api_key: env:UPSTREAM_KEY
    upstream_model: gpt-4o
    locality: remote
    jurisdiction: us
    price: {input_per_mtok: 2.5, output_per_mtok: 10.0}
    timeout_s: 60
"""
    )
    settings = load_settings(path, env={"UPSTREAM_KEY": "sk-1"})
    model = settings.models[0]
    assert model.api_key is not None and model.api_key.get_secret_value() == "sk-1"
    assert "sk-1" not in repr(settings)
    assert model.wire_model == "gpt-4o"
    assert str(model.price.output_per_mtok) == "10.0"
    assert settings.server.port == 8080


def test_every_problem_is_reported_with_its_key_path() -> None:
    data = {
        "server": {"port": 0, "colour": "red"},
        "models": [
            {**MODEL, "backend": "bedrock"},
            {"name": "x", "backend": "openai"},
            {**MODEL, "api_key": "env:NOPE", "price": {"input_per_mtok": -1}},
        ],
    }
    assert problems(data) == [
        "c.yaml:server.port: Input should be greater than or equal to 1",
        "c.yaml:server.colour: unknown key",
        "c.yaml:models[0].backend: Input should be 'openai', 'anthropic' or 'llamacpp'",
        "c.yaml:models[1].base_url: required key is missing",
        "c.yaml:models[2].api_key: environment variable NOPE is not set",
        "c.yaml:models[2].price.input_per_mtok: Input should be greater than or equal to 0",
    ]


def test_duplicate_names_are_reported() -> None:
    assert problems({"models": [MODEL, {**MODEL, "base_url": "http://x/v1"}]}) == [
        "c.yaml:models[1].name: duplicate model name 'm' (also models[0])"
    ]


def test_bad_ledger_url() -> None:
    assert problems({"ledger": "mysql://x"}) == [
        "c.yaml:ledger: must be sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
    ]


def test_top_level_must_be_a_mapping() -> None:
    assert problems(["a"]) == ["c.yaml: the top level must be a mapping of keys"]


def test_yaml_syntax_error_has_a_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("models:\n  - name: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    (problem,) = caught.value.problems
    assert problem.render(str(path)).startswith(f"{path}: line 3, column 1: invalid YAML")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "none.yaml")
    assert "cannot read file" in caught.value.problems[0].reason


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    settings = load_settings(path)
    assert settings.models == () and settings.server.max_body_bytes == 4_000_000
