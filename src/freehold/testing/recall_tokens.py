"""Credential values for the recall corpus, generated as their issuers issue them.

Alphabets, lengths and structure follow the providers' published formats, never
freehold's regexes: GitHub and npm tokens end in the base62 CRC-32 of their random part;
a PyPI token is ``pypi-`` and a base64url macaroon whose location is ``pypi.org``; a JWT is
three base64url parts of real JSON headers and claims with a signature of its algorithm's
size; a private key is PEM around the DER (or ``openssh-key-v1``) structure of its type;
an AWS access key id is ``AKIA``/``ASIA`` and 16 base32 characters. The settings each one is
written into live in :mod:`freehold.testing.recall_secrets`.
"""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
import zlib

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
B64URL = string.ascii_letters + string.digits + "-_"
HEX = "0123456789abcdef"


def chars(rng: random.Random, n: int, alphabet: str = B62) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def crc_token(prefix: str, rng: random.Random) -> str:
    """GitHub's (and npm's) token shape: 30 random base62 characters, then the base62
    CRC-32 of them in six characters."""
    body = chars(rng, 30)
    crc = zlib.crc32(body.encode())
    tail = ""
    for _ in range(6):
        crc, digit = divmod(crc, 62)
        tail = B62[digit] + tail
    return prefix + body + tail


def github(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(["ghp", "ghp", "fine-grained", "fine-grained", "gho", "ghs", "ghu"])
    if kind == "fine-grained":
        return kind, "github_pat_11" + chars(rng, 20, string.ascii_uppercase + string.digits) + (
            "_" + chars(rng, 59, string.ascii_letters + string.digits)
        )
    return kind, crc_token(kind + "_", rng)


def pypi(rng: random.Random) -> tuple[str, str]:
    """A PyPI API token: ``pypi-`` + a v2 binary macaroon (location ``pypi.org``, a UUID
    identifier, one caveat, a 32-byte signature), base64url without padding."""
    ident = str(uuid.UUID(int=rng.getrandbits(128), version=4)).encode()
    scope = rng.choice(["user", "project"])
    caveat = {"version": 1, "permissions": "user"}
    if scope == "project":
        caveat = {"version": 1, "permissions": {"projects": [rng.choice(["acme-sdk", "tidy"])]}}
    blob = json.dumps(caveat).encode()
    data = b"\x02\x01\x08pypi.org\x02" + bytes([len(ident)]) + ident + b"\x00\x02"
    data += bytes([len(blob)]) + blob + b"\x00\x00\x06\x20" + rng.randbytes(32)
    return scope, "pypi-" + b64url(data)


def openai(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(["proj", "proj", "proj", "legacy", "svcacct", "admin"])
    alphabet = string.ascii_letters + string.digits + "-_"
    if kind == "legacy":
        return kind, "sk-" + chars(rng, 20) + "T3BlbkFJ" + chars(rng, 20)
    return kind, f"sk-{kind}-" + chars(rng, 74, alphabet) + "T3BlbkFJ" + chars(rng, 74, alphabet)


def anthropic(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(["api03", "api03", "api03", "admin01"])
    return kind, f"sk-ant-{kind}-" + chars(rng, 93, B64URL) + "AA"


def aws_key_id(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(["AKIA", "AKIA", "ASIA"])
    return kind, kind + chars(rng, 16, string.ascii_uppercase + "234567")


def slack_token(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(["xoxb", "xoxb", "xoxb", "xoxp", "xapp"])
    team, user = chars(rng, rng.randint(10, 13), string.digits), chars(rng, 13, string.digits)
    if kind == "xoxb":
        return kind, f"xoxb-{team}-{user}-{chars(rng, 24, string.ascii_letters + string.digits)}"
    if kind == "xoxp":
        return kind, f"xoxp-{team}-{user}-{chars(rng, 13, string.digits)}-{chars(rng, 32, HEX)}"
    app = "A0" + chars(rng, 9, string.ascii_uppercase + string.digits)
    return kind, f"xapp-1-{app}-{chars(rng, 13, string.digits)}-{chars(rng, 64, HEX)}"


def slack_webhook(rng: random.Random) -> tuple[str, str]:
    """A Slack incoming webhook: workspace id, channel hook id, then a 24-character secret."""
    upper = string.ascii_uppercase + string.digits
    secret = chars(rng, 24, string.ascii_letters + string.digits)
    path = f"T{chars(rng, 10, upper)}/B{chars(rng, 10, upper)}/{secret}"
    return "services", "https://hooks.slack.com/services/" + path


def teams_webhook(rng: random.Random) -> tuple[str, str]:
    def guid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    kind = rng.choice(["webhookb2", "webhookb2-v2", "outlook"])
    path = f"{guid()}@{guid()}/IncomingWebhook/{chars(rng, 32, HEX)}/{guid()}"
    if kind == "outlook":
        return kind, f"https://outlook.office.com/webhook/{path}"
    tenant = rng.choice(["contoso", "fabrikam", "acmecorp", "northwind"])
    url = f"https://{tenant}.webhook.office.com/webhookb2/{path}"
    if kind == "webhookb2-v2":
        url += "/V2" + chars(rng, 43, B64URL)
    return kind, url


def stripe(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(["sk_live-24", "sk_live-99", "rk_live"])
    alnum = string.ascii_letters + string.digits
    if kind == "sk_live-24":
        return kind, "sk_live_" + chars(rng, 24, alnum)
    prefix = "sk_live_51" if kind == "sk_live-99" else "rk_live_51"
    return kind, prefix + chars(rng, 97, alnum)


def jwt(rng: random.Random) -> tuple[str, str]:
    alg = rng.choice(["HS256", "RS256", "ES256"])
    header: dict[str, str] = {"alg": alg, "typ": "JWT"}
    if alg != "HS256":
        header["kid"] = chars(rng, 16, B64URL)
    issued = rng.randint(1_600_000_000, 1_760_000_000)
    claims = {
        "sub": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "iss": rng.choice(["https://auth.acme-corp.com/", "https://accounts.example.org"]),
        "aud": rng.choice(["api", "billing"]),
        "iat": issued,
        "exp": issued + 3600,
        "scope": rng.choice(["read", "read write", "admin"]),
    }
    size = {"HS256": 32, "RS256": 256, "ES256": 64}[alg]
    parts = [json.dumps(p, separators=(",", ":")).encode() for p in (header, claims)]
    return alg, ".".join([b64url(parts[0]), b64url(parts[1]), b64url(rng.randbytes(size))])


def _der_length(n: int) -> bytes:
    return bytes([n]) if n < 128 else bytes([0x82, n >> 8, n & 0xFF])


def _pem(label: str, der: bytes, width: int = 64) -> str:
    body = base64.b64encode(der).decode()
    lines = "\n".join(body[i : i + width] for i in range(0, len(body), width))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----"


def private_key(rng: random.Random) -> tuple[str, str]:
    """A PEM private key: PKCS#1 RSA, SEC1 EC (P-256), OpenSSH (ed25519) or PKCS#8 (RSA
    or ed25519), with the DER framing of its type around random key material."""
    kind = rng.choice(["rsa", "ec", "openssh", "pkcs8-rsa", "pkcs8-ed25519"])
    rsa = b"\x02\x01\x00\x02\x82\x01\x01\x00" + rng.randbytes(1180)
    rsa = b"\x30" + _der_length(len(rsa)) + rsa
    if kind == "rsa":
        return kind, _pem("RSA PRIVATE KEY", rsa)
    if kind == "ec":
        ec = b"\x02\x01\x01\x04\x20" + rng.randbytes(32)
        ec += b"\xa0\x0a\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07\xa1\x44\x03\x42\x00\x04"
        ec += rng.randbytes(64)
        return kind, _pem("EC PRIVATE KEY", b"\x30" + _der_length(len(ec)) + ec)
    if kind == "openssh":
        public = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + rng.randbytes(32)
        blob = b"openssh-key-v1\x00" + b"\x00\x00\x00\x04none" * 2 + b"\x00\x00\x00\x00"
        blob += b"\x00\x00\x00\x01" + len(public).to_bytes(4, "big") + public
        blob += b"\x00\x00\x00\x90" + rng.randbytes(144)
        return kind, _pem("OPENSSH PRIVATE KEY", blob, 70)
    if kind == "pkcs8-rsa":
        algorithm = b"\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00"
        inner = b"\x02\x01\x00" + algorithm + b"\x04" + _der_length(len(rsa)) + rsa
        return kind, _pem("PRIVATE KEY", b"\x30" + _der_length(len(inner)) + inner)
    inner = b"\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20" + rng.randbytes(32)
    return kind, _pem("PRIVATE KEY", b"\x30" + _der_length(len(inner)) + inner)


def password(rng: random.Random, json_safe: bool = False) -> tuple[str, str]:
    """A password as people pick them: random (from a manager), a word with digits and a
    symbol, or a passphrase; ``json_safe`` allows quotes and backslashes."""
    kind = rng.choice(["random", "random", "word", "passphrase"])
    symbols = "!@#%^&*-_=+.?~" + ('"\\' if json_safe else "")
    if kind == "random":
        rest = chars(rng, rng.randint(11, 23), string.ascii_letters + string.digits + symbols)
        return kind, rng.choice(string.ascii_letters) + rest
    words = ["sunflower", "harbour", "velvet", "granite", "falcon", "orchid", "tundra"]
    words += ["copper", "maple", "lantern", "cobalt", "meadow", "quartz", "saffron", "willow"]
    if kind == "word":
        word = rng.choice(words).title()
        return kind, f"{word}{rng.randint(10, 9999)}{rng.choice('!@#$%&*?')}"
    return kind, "-".join(rng.sample(words, 4)) + rng.choice(["", str(rng.randint(1, 99))])


def url_password(rng: random.Random) -> str:
    """A password as written in a URL: unreserved characters and percent-escapes."""
    text = rng.choice(string.ascii_letters) + chars(
        rng, rng.randint(11, 23), string.ascii_letters + string.digits + "-._~"
    )
    if rng.random() < 0.3:
        at = rng.randrange(1, len(text))
        text = text[:at] + rng.choice(["%40", "%23", "%21", "%24"]) + text[at:]
    return text
