"""Virtual key secrets: format, salted hashes, constant-time match, stored form."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from freehold.auth.keys import Limits, from_json, key_id_of, new_key, to_json, valid_tag

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_a_new_secret_names_its_record_and_matches_only_itself() -> None:
    key, secret = new_key("ci", NOW)
    assert secret.startswith("fh-")
    assert key_id_of(secret) == key.id
    assert key.matches(secret)
    assert not key.matches(secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    other, other_secret = new_key("ci", NOW)
    assert not key.matches(other_secret)
    assert other.salt != key.salt


def test_the_stored_form_holds_a_salted_hash_never_the_secret() -> None:
    key, secret = new_key(
        "ci", NOW, Limits(budget_nusd=5, period="day", rpm=3), ("m",), ("team=a",)
    )
    stored = json.dumps(to_json(key))
    assert secret not in stored
    assert secret.split(".", 1)[1] not in stored
    again = from_json(json.loads(stored))
    assert again == key
    assert again.matches(secret)
    assert "hash" not in key.public() and "salt" not in key.public()


def test_foreign_tokens_name_no_record() -> None:
    assert key_id_of("sk-proj-abc") is None
    assert key_id_of("fh-XYZ.abc") is None
    assert key_id_of("fh-0123456789ab.short") is None


def test_scope_and_revocation() -> None:
    key, _ = new_key("ci", NOW, models=("small",))
    assert key.allows("small") and not key.allows("big")
    assert new_key("any", NOW)[0].allows("big")
    revoked = key.revoke(NOW)
    assert revoked.revoked == NOW
    assert revoked.revoke(datetime(2027, 1, 1, tzinfo=UTC)).revoked == NOW


def test_tags_are_name_equals_value() -> None:
    assert valid_tag("team=search")
    assert valid_tag("project=blue-bird.2")
    assert not valid_tag("team")
    assert not valid_tag("team=")
    assert not valid_tag("team=a b")
