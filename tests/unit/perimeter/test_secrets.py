"""Credentials (the gitleaks rule set plus freehold's own rules) and the high-entropy rule."""

from __future__ import annotations

import json
import random
import string

import pytest

from freehold.perimeter.entropy import EntropyDetector, shannon_entropy
from freehold.perimeter.secrets import SecretDetector

RNG = random.Random(11)
B62 = string.ascii_letters + string.digits


def rand(n: int, alphabet: str = B62) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def kinds(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.value) for f in SecretDetector().find(text)]


CASES = [
    ("aws_access_key_id", "AKIA" + rand(16, string.ascii_uppercase + "234567"), "key id {v} here"),
    ("aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     "aws_secret_access_key = {v}"),
    ("aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     '{{"AWS_SECRET_ACCESS_KEY": "{v}"}}'),
    ("gcp_service_account", "0123456789abcdef0123456789abcdef01234567",
     '{{"type": "service_account", "private_key_id": "{v}"}}'),
    ("gcp_api_key", "AIza" + rand(35), "key={v}&q=1"),
    ("azure_connection_string", rand(86) + "==",
     "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={v};EndpointSuffix=x"),
    ("github_token", "ghp_" + rand(36), "token: {v}"),
    ("github_token", "github_pat_" + rand(82, B62 + "_"), "export GH={v}"),
    ("gitlab_token", "glpat-" + rand(20), "GITLAB_TOKEN={v}"),
    ("slack_token", "xoxb-123456789012-1234567890123-" + rand(24), "slack {v}"),
    ("slack_webhook", "https://hooks.slack.com/services/T0" + rand(8, string.ascii_uppercase)
     + "/B0" + rand(8, string.ascii_uppercase) + "/" + rand(24), "post to {v}."),
    ("stripe_key", "sk_live_" + rand(24), "stripe.api_key = '{v}'"),
    ("openai_key", "sk-proj-" + rand(48, B62 + "_-"), "OPENAI_API_KEY={v}"),
    ("openai_key", "sk-" + rand(48), "Authorization: Bearer {v}"),
    ("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9",
     "Bearer {v}"),
    ("url_password", "s3cr3t-P4ss", "DATABASE_URL=postgres://admin:{v}@db.internal:5432/app"),
    ("private_key",
     "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
     "```\n{v}\n```"),
    ("private_key", "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqh\\n-----END PRIVATE KEY-----",
     '{{"private_key": "{v}\\n"}}'),
    # the kinds a reviewer found missing, and the major hubs, registries and clouds
    ("huggingface_access_token", "hf_" + rand(34, string.ascii_letters), "HF_TOKEN={v}"),
    ("huggingface_access_token", "hf_" + rand(34, string.ascii_letters),
     "My Hugging Face token is {v}."),
    ("npm_access_token", "npm_" + rand(36), "//registry.npmjs.org/:_authToken={v}"),
    ("pypi_upload_token", "pypi-AgEIcHlwaS5vcmc" + rand(70, B62 + "_-"),
     "[pypi]\nusername = __token__\npassword = {v}"),
    ("dockerhub_pat", "dckr_pat_" + rand(27, B62 + "_-"), "docker login -u me -p {v}"),
    ("anthropic_api_key", "sk-ant-api03-" + rand(93, B62 + "_-") + "AA",
     "ANTHROPIC_API_KEY={v}"),
    ("sendgrid_api_token", "SG." + rand(22, B62 + "_-") + "." + rand(43, B62 + "_-"),
     "SENDGRID_API_KEY='{v}'"),
    ("microsoft_teams_webhook",
     "https://acme.webhook.office.com/webhookb2/" + "a1b2c3d4-0000-4000-8000-0123456789ab@"
     "a1b2c3d4-0000-4000-8000-0123456789ab/IncomingWebhook/" + rand(32, "0123456789abcdef")
     + "/a1b2c3d4-0000-4000-8000-0123456789ab", "hook: {v}"),
    ("discord_webhook_url", "https://discord.com/api/webhooks/" + "1" * 18 + "/" + rand(68),
     "notify {v}"),
    ("url_password", "Zq9-pL2v", "MONGO=mongodb+srv://app:{v}@cluster0.abcde.mongodb.net/db"),
    ("url_password", "r3d1s-Pw", "redis://:{v}@cache.internal:6379/0"),
    ("url_password", "My5ql!pw", "mysql://root:{v}@10.0.0.5/shop"),
    ("password", "S3cr3t!pw", "database:\n  host: db\n  password: {v}\n"),
    ("password", "hunter2x", "  - name: smtp\n    smtp_password: '{v}'"),
    ("password", "sunshine", "password: {v}"),
    ("password", "Tr0ub4dor&3", "DB_PASSWORD={v}"),
    ("password", "c0rrect-h0rse", '{{"user": "ana", "password": "{v}"}}'),
    ("password", "pa55w0rd", "[mysql]\nuser = app\npasswd = {v}\n"),
    ("password", "Sql!2024x", "Server=db;Database=app;User Id=sa;Password={v};"),
    ("password", "qs-Pw_991", "jdbc:postgresql://db/app?user=app&password={v}&ssl=true"),
    ("password", "Tr0ub4dor&3", "my password is {v}, please reset it"),
    ("password", "S3cret!23", "Password: {v}"),
    # inside JSON strings (escaped quotes and newlines), XML, compose files, answers
    ("password", "Willow1142%", '{{"note": "database:\\n  db_password: {v}", "ok": true}}'),
    ("password", "gS#JK=8jEuxqeSCeaSm", '{{"stdout": "user: app\\n  password: {v}"}}'),
    ("password", "Aaaaaa9999!", '{{"note": "password = \\"{v}\\"", "ok": true}}'),
    ("password", "S^.p1R\\\\A3#5s", '{{\n  "admin_password": "{v}"\n}}'),
    ("password", "x9!Lk2#Qw", "<config><db_password>{v}</db_password></config>"),
    ("password", "bVXb&G@7m05=eNGvCQsmT", "environment:\n  - MYSQL_ROOT_PASSWORD={v}"),
    ("password", "VaHB_LedrJWxGme.U", "jdbc:postgresql://db/o?user=app&password={v}"),
    ("password", "wwwvImkqGMDHF", "What's the password of the database user?\n{v}"),
    ("password", 'See^xkLP"%yucd', "And the password?\n{v}"),
    ("aws_secret_access_key", "ini1VEy2xMn029nocdjfBNPGAmigRuluTQVpeExm",
     "the AWS secret access key is {v}, it stopped working"),
    ("aws_secret_access_key", "C1bOdmaVYTCILJ32k/TzlaRbjSddJimSHnyQEkDl",
     "And the AWS secret access key?\n{v}"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "value", "template"), CASES)
def test_secret_shapes(kind: str, value: str, template: str) -> None:
    assert (kind, value) in kinds(template.format(v=value))


@pytest.mark.parametrize(
    "text",
    [
        "postgres://user:password@localhost/db",  # a placeholder password
        "postgres://user:${DB_PASSWORD}@localhost/db",
        "https://example.com/path?x=1",
        "AKIA is a prefix; AKIAIOSFODNN7EXAMPL is too short",
        "sk-learn and sk_test are words; pk_live_" + rand(24) + " is publishable",
        "ghp_short",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqh\n-----END PUBLIC KEY-----",
        "eyJ not a jwt",
        "AKIAIOSFODNN7EXAMPLE is the key id in AWS's documentation",
        "password: ${DB_PASSWORD}",
        "password = os.environ['DB_PASSWORD']",
        "password = args.password",
        "self.secret = secret_manager.get(name)",
        'api_key: "your-api-key"',
        "password: '********'",
        "password: null\nsecret: true",
        "Choose a password that is hard to guess.",
        "The password is reset every 90 days; the secret: keep it short.",
        "Reset your password: click the link and follow the steps.",
        "The key to the puzzle: think about symmetry.",
        "Answer key: B. The token economy is a behavioural therapy.",
        "secret_key_length = 32",
        "password_min_length: 12",
        "database:\n  password: \n  timeout: 30",  # an empty setting
        "What is your password?\nForgot",  # a word answers without being a password
        "The secret: practice.\nsecret = settings.SECRET_KEY",
        "DATABASE_URL=postgresql+psycopg2://app@db/orders",
    ],
)
def test_secret_look_alikes_are_not_flagged(text: str) -> None:
    assert kinds(text) == []


def test_a_truncated_private_key_block_is_still_flagged() -> None:
    text = "here is my key:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n"
    [(kind, value)] = kinds(text)
    assert kind == "private_key"
    assert value.startswith("-----BEGIN OPENSSH") and "b3BlbnNzaC1rZXktdjEAAAA" in value


def test_a_secret_inside_json_keeps_its_exact_span() -> None:
    token = "ghp_" + rand(36)
    text = json.dumps({"messages": [{"content": f"my token is {token}"}]})
    [finding] = SecretDetector().find(text)
    assert text[finding.start : finding.end] == token


# ---- entropy ----------------------------------------------------------------------------


def test_shannon_entropy() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)


def test_random_tokens_are_high_entropy() -> None:
    detector = EntropyDetector()
    hits = sum(bool(detector.find(f"key {rand(32)} end")) for _ in range(200))
    assert hits >= 195


@pytest.mark.parametrize(
    "text",
    [
        "commit 3f786850e387550fdab836ed7e6dc881de23001b",  # git SHA
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "id 123e4567-e89b-12d3-a456-426614174000",  # UUID
        "UUID 123E4567-E89B-12D3-A456-426614174000",
        "colour #FF00AA and #a1b2c3",
        "getUserAccountById2024Version and HttpRequestHandlerFactory3",
        "src/freehold/perimeter/scan_request_2024.py",
        "order_number_20240115_final_v2",
        "VERSION_2_0_1_RELEASE_CANDIDATE_BUILD_42",
    ],
)
def test_ordinary_code_tokens_are_not_high_entropy(text: str) -> None:
    assert EntropyDetector().find(text) == []


def test_an_environment_setting_name_is_not_part_of_a_token() -> None:
    detector = EntropyDetector()
    assert detector.find("DATABASE_URL=postgresql+psycopg2") == []
    token = rand(32)
    [finding] = detector.find(f"API_TOKEN={token}")
    assert finding.value == token


def test_the_threshold_is_tunable() -> None:
    token = "aB3" * 8 + "Xy7zQ1wE5r"  # 34 characters: the threshold applies unscaled
    h = shannon_entropy(token)
    assert EntropyDetector(threshold=h - 0.01).find(token)
    assert not EntropyDetector(threshold=h + 0.01).find(token)
