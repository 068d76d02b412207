"""Credentials for the recall corpus, each written into the settings people paste: ``.env``
lines, YAML, JSON, INI, TOML, code, HTTP headers, command lines, URLs and prose.

A kind is a value maker (:mod:`freehold.testing.recall_tokens`) and the contexts it is
written in; a sample's variant is ``<context>:<token type>`` (``env:fine-grained``), so a
miss says how the value was written and which shape it had.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field

from freehold.testing import recall_tokens as tokens
from freehold.testing.sensitive_corpus import Sample, Spec

Writer = Callable[[str], str]
Maker = Callable[[random.Random], tuple[str, str]]


@dataclass(frozen=True)
class Credential:
    """One kind: how to make a value and the names it goes by in settings."""

    kind: str
    make: Maker
    env: str
    key: str
    noun: str
    question: str
    parent: str = "auth"
    generic: tuple[str, ...] = ("env", "env-quoted", "yaml", "json", "prose")
    extra: dict[str, Writer] = field(default_factory=dict)

    def writers(self) -> dict[str, tuple[Writer, str]]:
        """Context → (writer, code-block language)."""
        env, key, parent, noun = self.env, self.key, self.parent, self.noun
        table: dict[str, tuple[Writer, str]] = {
            "env": (lambda v: f"APP_ENV=production\n{env}={v}\nLOG_LEVEL=info", "bash"),
            "env-quoted": (lambda v: f'{env}="{v}"', "bash"),
            "yaml": (lambda v: f"{parent}:\n  {key}: {v}\n  timeout: 30", "yaml"),
            "json": (lambda v: json.dumps({parent: {key: v, "timeout": 30}}, indent=2), "json"),
            "ini": (lambda v: f"[{parent}]\n{key} = {v}\nretries = 3", "ini"),
            "toml": (lambda v: f'[{parent}]\n{key} = "{v}"', "toml"),
            "python": (lambda v: f'{key} = "{v}"\nclient = connect({key})', "python"),
            "bearer": (lambda v: f"Authorization: Bearer {v}", "http"),
            "prose": (lambda v: f"{noun} is {v}, it stopped working this morning", ""),
        }
        chosen = {name: table[name] for name in self.generic}
        chosen.update({name: (writer, "") for name, writer in self.extra.items()})
        return chosen

    def spec(self) -> Spec:
        writers = self.writers()

        def make(rng: random.Random, variant: str) -> Sample:
            shape, value = self.make(rng)
            writer, language = writers[variant]
            return Sample(
                self.kind, f"{variant}:{shape}", value, writer(value), self.question, language
            )

        return Spec("secret", tuple(writers), make)


def _fixed(shape: str, make: Callable[[random.Random], str]) -> Maker:
    return lambda rng: (shape, make(rng))


_ALNUM = string.ascii_letters + string.digits
_AZURE = "DefaultEndpointsProtocol=https;AccountName=acmelogs;AccountKey={};"
_AZURE += "EndpointSuffix=core.windows.net"
_POST_JSON = "curl -X POST -H 'Content-type: application/json' --data '{{\"text\":\"done\"}}' {}"


def _aws_json(field: str) -> Writer:
    """The answer of ``aws iam create-access-key``."""
    return lambda v: json.dumps({"AccessKey": {"UserName": "ci", field: v, "Status": "Active"}})


def _terraform(field: str) -> Writer:
    return lambda v: f'provider "aws" {{\n  region = "us-east-1"\n  {field} = "{v}"\n}}'


CREDENTIALS: tuple[Credential, ...] = (
    Credential(
        "hf_token",
        _fixed("hf", lambda r: "hf_" + tokens.chars(r, 34, string.ascii_letters)),
        env="HF_TOKEN",
        key="token",
        noun="my Hugging Face token",
        question="Which Hugging Face token does CI use?",
        parent="huggingface",
        extra={
            "login": lambda v: f'from huggingface_hub import login\nlogin(token="{v}")',
            "cli": lambda v: f"huggingface-cli login --token {v}",
            "hub-env": lambda v: f"export HUGGING_FACE_HUB_TOKEN={v}",
            "curl": lambda v: (
                f"curl -H 'Authorization: Bearer {v}' https://huggingface.co/api/whoami-v2"
            ),
        },
    ),
    Credential(
        "npm_token",
        _fixed("npm", lambda r: tokens.crc_token("npm_", r)),
        env="NPM_TOKEN",
        key="npm_token",
        noun="the npm publish token",
        question="Which npm token publishes the package?",
        extra={
            "npmrc": lambda v: (
                f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={v}"
            ),
            "cli": lambda v: f"npm config set //registry.npmjs.org/:_authToken {v}",
        },
    ),
    Credential(
        "pypi_token",
        tokens.pypi,
        env="TWINE_PASSWORD",
        key="password",
        noun="the PyPI upload token",
        question="What token uploads to PyPI?",
        parent="pypi",
        extra={
            "pypirc": lambda v: f"[pypi]\nusername = __token__\npassword = {v}",
            "cli": lambda v: f"twine upload -u __token__ -p {v} dist/*",
            "uv-env": lambda v: f"UV_PUBLISH_TOKEN={v}",
        },
    ),
    Credential(
        "docker_pat",
        _fixed("dckr_pat", lambda r: "dckr_pat_" + tokens.chars(r, 27, tokens.B64URL)),
        env="DOCKERHUB_TOKEN",
        key="password",
        noun="the Docker Hub access token",
        question="Which Docker Hub token does the runner use?",
        parent="registry",
        extra={
            "cli": lambda v: f"docker login -u acme-bot -p {v}",
            "stdin": lambda v: f"echo {v} | docker login -u acme-bot --password-stdin",
            "actions": lambda v: f"- uses: docker/login-action@v3\n  with:\n    password: {v}",
        },
    ),
    Credential(
        "github_token",
        tokens.github,
        env="GITHUB_TOKEN",
        key="token",
        noun="the GitHub token",
        question="Which GitHub token should the bot use?",
        parent="github",
        extra={
            "remote": lambda v: (
                f"git remote set-url origin https://x-access-token:{v}@github.com/acme/api.git"
            ),
            "header": lambda v: f"curl -H 'Authorization: token {v}' https://api.github.com/user",
            "gh-env": lambda v: f"export GH_TOKEN={v}",
        },
    ),
    Credential(
        "gitlab_token",
        _fixed("glpat", lambda r: "glpat-" + tokens.chars(r, 20, tokens.B64URL)),
        env="GITLAB_TOKEN",
        key="private_token",
        noun="the GitLab token",
        question="Which GitLab token should I use?",
        parent="gitlab",
        extra={
            "header": lambda v: (
                f"curl --header 'PRIVATE-TOKEN: {v}' https://gitlab.com/api/v4/projects"
            ),
            "remote": lambda v: f"git clone https://oauth2:{v}@gitlab.com/acme/infra.git",
        },
    ),
    Credential(
        "openai_key",
        tokens.openai,
        env="OPENAI_API_KEY",
        key="api_key",
        noun="our OpenAI key",
        question="Which OpenAI key is in production?",
        parent="openai",
        generic=("env", "env-quoted", "yaml", "json", "prose", "bearer"),
        extra={"client": lambda v: f'from openai import OpenAI\nclient = OpenAI(api_key="{v}")'},
    ),
    Credential(
        "anthropic_key",
        tokens.anthropic,
        env="ANTHROPIC_API_KEY",
        key="api_key",
        noun="the Anthropic API key",
        question="Which Anthropic key should I use?",
        parent="anthropic",
        extra={
            "client": lambda v: f'import anthropic\nclient = anthropic.Anthropic(api_key="{v}")',
            "header": lambda v: f"curl https://api.anthropic.com/v1/messages -H 'x-api-key: {v}'",
        },
    ),
    Credential(
        "aws_access_key_id",
        tokens.aws_key_id,
        env="AWS_ACCESS_KEY_ID",
        key="aws_access_key_id",
        noun="the AWS access key id",
        question="What's the AWS access key id?",
        parent="default",
        generic=("env", "ini", "yaml", "prose"),
        extra={
            "cli-json": _aws_json("AccessKeyId"),
            "boto3": lambda v: f'boto3.client("s3", aws_access_key_id="{v}")',
            "terraform": _terraform("access_key"),
        },
    ),
    Credential(
        "aws_secret_access_key",
        _fixed("secret", lambda r: tokens.chars(r, 40, _ALNUM + "/+")),
        env="AWS_SECRET_ACCESS_KEY",
        key="aws_secret_access_key",
        noun="the AWS secret access key",
        question="And the AWS secret access key?",
        parent="default",
        generic=("env", "env-quoted", "ini", "yaml", "prose"),
        extra={
            "cli-json": _aws_json("SecretAccessKey"),
            "boto3": lambda v: f'boto3.client("s3", aws_secret_access_key="{v}")',
            "terraform": _terraform("secret_key"),
        },
    ),
    Credential(
        "gcp_api_key",
        _fixed("AIza", lambda r: "AIza" + tokens.chars(r, 35, tokens.B64URL)),
        env="GOOGLE_API_KEY",
        key="api_key",
        noun="the Google Maps key",
        question="Which Google API key does the site use?",
        parent="google",
        extra={
            "url": lambda v: (
                f"https://maps.googleapis.com/maps/api/geocode/json?address=Berlin&key={v}"
            ),
            "firebase": lambda v: f'const firebaseConfig = {{\n  apiKey: "{v}",\n}};',
        },
    ),
    Credential(
        "azure_connection_string",
        _fixed("AccountKey", lambda r: tokens.b64(r.randbytes(64))),
        env="AZURE_STORAGE_CONNECTION_STRING",
        key="connection_string",
        noun="the storage connection string",
        question="What's the storage account's connection string?",
        generic=(),
        extra={
            "env": lambda v: f'AZURE_STORAGE_CONNECTION_STRING="{_AZURE.format(v)}"',
            "appsettings": lambda v: json.dumps({"ConnectionStrings": {"Blob": _AZURE.format(v)}}),
            "client": lambda v: f'BlobServiceClient.from_connection_string("{_AZURE.format(v)}")',
            "yaml": lambda v: f"storage:\n  connection_string: {_AZURE.format(v)}",
            "prose": lambda v: f"the connection string is {_AZURE.format(v)}",
        },
    ),
    Credential(
        "slack_token",
        tokens.slack_token,
        env="SLACK_BOT_TOKEN",
        key="bot_token",
        noun="the Slack bot token",
        question="Which Slack token does the bot use?",
        parent="slack",
        extra={"client": lambda v: f'client = slack_sdk.WebClient(token="{v}")'},
    ),
    Credential(
        "slack_webhook",
        tokens.slack_webhook,
        env="SLACK_WEBHOOK_URL",
        key="webhook_url",
        noun="the Slack webhook",
        question="Where should alerts be posted?",
        parent="alerts",
        extra={"curl": _POST_JSON.format},
    ),
    Credential(
        "teams_webhook",
        tokens.teams_webhook,
        env="TEAMS_WEBHOOK_URL",
        key="webhook_url",
        noun="the Teams channel webhook",
        question="Which Teams webhook gets the alerts?",
        parent="alerts",
        extra={"curl": _POST_JSON.format},
    ),
    Credential(
        "stripe_key",
        tokens.stripe,
        env="STRIPE_SECRET_KEY",
        key="secret_key",
        noun="the Stripe live key",
        question="Which Stripe key is live?",
        parent="stripe",
        extra={
            "client": lambda v: f'import stripe\nstripe.api_key = "{v}"',
            "curl": lambda v: f"curl https://api.stripe.com/v1/charges -u {v}:",
        },
    ),
    Credential(
        "sendgrid_key",
        _fixed(
            "SG",
            lambda r: (
                f"SG.{tokens.chars(r, 22, tokens.B64URL)}.{tokens.chars(r, 43, tokens.B64URL)}"
            ),
        ),
        env="SENDGRID_API_KEY",
        key="api_key",
        noun="the SendGrid key",
        question="Which SendGrid key sends the mail?",
        parent="sendgrid",
        generic=("env", "env-quoted", "yaml", "json", "prose", "bearer"),
        extra={"client": lambda v: f'sg = SendGridAPIClient("{v}")'},
    ),
    Credential(
        "twilio_key",
        _fixed("SK", lambda r: "SK" + tokens.chars(r, 32, tokens.HEX)),
        env="TWILIO_API_KEY",
        key="api_key",
        noun="the Twilio API key",
        question="Which Twilio API key do we use?",
        parent="twilio",
        extra={"client": lambda v: f'client = Client("{v}", os.environ["TWILIO_API_SECRET"])'},
    ),
    Credential(
        "jwt",
        tokens.jwt,
        env="ACCESS_TOKEN",
        key="access_token",
        noun="my session token",
        question="Can you paste the token from the failing request?",
        generic=("env", "json", "prose", "bearer"),
        extra={
            "cookie": lambda v: f"Cookie: theme=dark; session={v}",
            "curl": lambda v: (
                f"curl -H 'Authorization: Bearer {v}' https://api.acme-corp.com/v1/me"
            ),
            "storage": lambda v: f'localStorage.setItem("id_token", "{v}");',
        },
    ),
)


def _database(rng: random.Random, variant: str) -> Sample:
    """A database URL with a password; the password is the value."""
    pw = tokens.url_password(rng)
    host = rng.choice(["db.internal", "10-db.prod.acme-corp.com", "localhost", "pg-main"])
    scheme, url = rng.choice(
        [
            ("postgres", f"postgres://app:{pw}@{host}:5432/orders"),
            ("postgresql", f"postgresql://analytics:{pw}@{host}/warehouse?sslmode=require"),
            ("sqlalchemy", f"postgresql+psycopg2://etl:{pw}@{host}:5432/etl"),
            ("mysql", f"mysql://root:{pw}@{host}:3306/shop"),
            ("mongodb", f"mongodb+srv://admin:{pw}@cluster0.ab1cd.mongodb.net/app?w=majority"),
            ("redis", f"redis://:{pw}@{host}:6379/0"),
            ("rediss", f"rediss://default:{pw}@{host}:6380"),
            ("amqp", f"amqp://worker:{pw}@{host}:5672/jobs"),
            ("jdbc", f"jdbc:postgresql://{host}:5432/orders?user=app&password={pw}"),
        ]
    )
    snippet, language = {
        "env": (f"DATABASE_URL={url}", "bash"),
        "yaml": (f"database:\n  url: {url}\n  pool: 5", "yaml"),
        "json": (json.dumps({"database": {"url": url}}, indent=2), "json"),
        "python": (f'engine = create_engine("{url}")', "python"),
        "prose": (f"we connect with {url} from the worker", ""),
        "compose": (f"services:\n  api:\n    environment:\n      - DATABASE_URL={url}", "yaml"),
    }[variant]
    question = "What's the password of the database user?"
    return Sample("db_url_password", f"{variant}:{scheme}", pw, snippet, question, language)


_PASSWORD_KEYS = ["password", "passwd", "db_password", "admin_password", "smtp_password", "pwd"]
_PASSWORD_ENVS = ["DB_PASSWORD", "POSTGRES_PASSWORD", "MYSQL_ROOT_PASSWORD", "SMTP_PASSWORD"]
_PASSWORD_ENVS += ["REDIS_PASSWORD", "ADMIN_PASSWORD", "PGPASSWORD"]


def _password(rng: random.Random, variant: str) -> Sample:
    """A password written as a setting: .env, YAML, ``key: value``, JSON, INI, TOML, XML, an
    ADO.NET connection string, code, a compose file, prose."""
    shape, pw = tokens.password(rng, json_safe=variant == "json")
    key, env = rng.choice(_PASSWORD_KEYS), rng.choice(_PASSWORD_ENVS)
    snippet, language = {
        "env": (f"DB_HOST=db.internal\n{env}={pw}\nDB_PORT=5432", "bash"),
        "export": (f"export {env}='{pw}'", "bash"),
        "yaml": (f"database:\n  user: app\n  {key}: {pw}", "yaml"),
        "settings": (f"Host: mail.acme-corp.com\nUser: reports\nPassword: {pw}", ""),
        "json": (json.dumps({"user": "app", key: pw}, indent=2), "json"),
        "ini": (f"[database]\nuser = app\n{key} = {pw}", "ini"),
        "toml": (f'[database]\nuser = "app"\n{key} = "{pw}"', "toml"),
        "xml": (f"<credentials>\n  <password>{pw}</password>\n</credentials>", "xml"),
        "ado": (f"Server=sql01;Database=Sales;User Id=sa;Password={pw};", ""),
        "python": (f'conn = psycopg.connect(user="app", password="{pw}")', "python"),
        "compose": (f"environment:\n  - {env}={pw}", "yaml"),
        "prose": (f"the admin password is {pw} but it expired", ""),
    }[variant]
    question = "What's the password for the staging database?"
    return Sample("password", f"{variant}:{shape}", pw, snippet, question, language)


def _private_key(rng: random.Random, variant: str) -> Sample:
    """A private key: PEM as is, JSON-escaped in a service-account file, escaped on one
    ``.env`` line, indented in a YAML block, or in prose."""
    shape, pem = tokens.private_key(rng)
    escaped = pem.replace("\n", "\\n")
    indented = "\n".join("    " + line for line in pem.splitlines())
    snippet, language = {
        "pem": (pem, ""),
        "service-account": (
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": "acme-prod",
                    "private_key": pem + "\n",
                    "token_uri": "https://oauth2.googleapis.com/token",
                },
                indent=2,
            ),
            "json",
        ),
        "env-escaped": (f'JWT_PRIVATE_KEY="{escaped}"', "bash"),
        "yaml-block": (f"tls:\n  key: |\n{indented}", "yaml"),
        "prose": (f"here is the deploy key, keep it safe:\n{pem}", ""),
    }[variant]
    question = "Can you paste the deploy key?"
    return Sample("private_key", f"{variant}:{shape}", pem, snippet, question, language)


SPECS: dict[str, Spec] = {c.kind: c.spec() for c in CREDENTIALS}
SPECS["db_url_password"] = Spec(
    "secret", ("env", "yaml", "json", "python", "prose", "compose"), _database
)
_PASSWORD_CONTEXTS = ("env", "export", "yaml", "settings", "json", "ini", "toml", "xml")
SPECS["password"] = Spec(
    "secret", (*_PASSWORD_CONTEXTS, "ado", "python", "compose", "prose"), _password
)
SPECS["private_key"] = Spec(
    "secret", ("pem", "service-account", "env-escaped", "yaml-block", "prose"), _private_key
)
