"""Configuration: YAML parsed once into immutable, validated settings."""

from freehold.config.loader import ConfigError, Problem, load_settings, parse_settings
from freehold.config.schema import ModelSettings, PriceSettings, ServerSettings, Settings

__all__ = [
    "ConfigError",
    "ModelSettings",
    "PriceSettings",
    "Problem",
    "ServerSettings",
    "Settings",
    "load_settings",
    "parse_settings",
]
