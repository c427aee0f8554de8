"""Credentials written as assignments: ``password=...``, ``"api_key": "..."``, ``Cookie: ...``.

The key decides, the value only has to look like one: a key is split into words (snake, kebab,
camel case) and counts when a word names a credential and no word marks it as metadata about
one (``max_tokens``, ``token_url``, ``secret_name``, ``auth_method``). Only the value is
redacted, so ``password=<SECRET>`` still tells a reader what was there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from obs_core.payloads._pii_findings import Finding, PiiKind

_KEYWORDS: Final = ("pass", "pwd", "secret", "token", "key", "auth", "credential", "cookie")
_IDENT_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")

_ASSIGN: Final = re.compile(
    r"([A-Za-z0-9_.\-]{1,64})(?:\\?[\"'])?[ \t]{0,4}(?::=|=>|[:=])[ \t]{0,4}"
    r"(?:\"((?:[^\"\\\n]|\\.){1,1024})\""
    r"|'([^'\n]{1,1024})'"
    r"|\\\"((?:[^\"\\\n]|\\[^\"\n]){1,1024})\\\""
    r"|((?:(?i:bearer|basic|token|digest)[ \t]+)?[^\s\"'`,;<>{}\[\]()\\]{1,1024}))"
)
_HEADER_LINE: Final = re.compile(r"[^\r\n\"]{1,4096}")
_AWS_SECRET: Final = re.compile(
    r"(?i:secret)[ _\-]?(?i:access[ _\-]?)?(?i:key)[\"']?[ \t]{0,4}(?:[:=]|is)?[ \t]{0,4}[\"']?"
    r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
)
_PROSE: Final = re.compile(
    r"(?i:pass(?:word|code|phrase))[ \t]+(?i:is|was)[ \t]*:?[ \t]+([^\s\"'`]{3,128})"
)
_WORDS: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

_SECRET_WORDS: Final = frozenset({
    "password", "passwd", "pwd", "passphrase", "passcode", "pass", "secret", "secrets", "token",
    "credential", "credentials", "apikey", "cookie", "auth", "authorization", "privatekey",
    "accesskey", "secretkey", "clientsecret", "accesstoken", "refreshtoken",
})
_SHORT_VALUE_OK: Final = frozenset({"password", "passwd", "pwd", "passphrase", "passcode", "pass"})
_KEY_QUALIFIERS: Final = frozenset({
    "api", "secret", "private", "access", "signing", "encryption", "license", "licence", "master",
    "client", "app", "auth", "service", "account", "admin", "webhook", "shared", "ssh", "hmac",
    "jwt", "crypto", "wallet", "bot", "consumer", "deploy", "write", "read", "subscription",
    "stripe", "openai", "anthropic", "cohere", "groq", "mistral", "google", "gemini", "azure",
    "aws", "gcp", "github", "gitlab", "slack", "twilio", "sendgrid", "mailgun", "pinecone", "hf",
    "huggingface", "replicate", "together", "fireworks", "deepseek", "perplexity", "serpapi",
    "tavily", "langsmith", "langchain", "weaviate", "qdrant", "algolia", "mapbox", "firebase",
    "supabase", "sentry", "datadog", "dd", "newrelic", "x",
})
_METADATA_WORDS: Final = frozenset({
    "count", "counts", "limit", "limits", "max", "min", "num", "number", "total", "usage", "type",
    "types", "length", "len", "size", "budget", "url", "uri", "urls", "endpoint", "path", "file",
    "filename", "name", "names", "id", "ids", "method", "methods", "mode", "header", "expiry",
    "expires", "expire", "expiration", "ttl", "timeout", "format", "version", "enabled", "enable",
    "required", "provider", "policy", "rotation", "hint", "label", "tokens", "tokenizer", "prefix",
    "suffix", "field", "env", "var", "location", "strength", "reset", "changed",
})
_PLACEHOLDER_VALUES: Final = frozenset({
    "true", "false", "null", "none", "nil", "undefined", "yes", "no", "on", "off", "required",
    "optional", "redacted", "hidden", "masked", "n/a", "na", "tbd", "todo", "string", "str", "int",
    "bool", "any", "secret", "password", "token", "env", "changeme", "example",
})


def find_assignments(text: str, lowered: str) -> Iterator[Finding]:
    """``lowered`` is ``text.lower()``, shared with the caller to avoid a second pass."""
    seen: set[int] = set()
    for keyword in _KEYWORDS:
        done = 0  # keyword hits inside a value already taken are not keys
        k = lowered.find(keyword)
        while k != -1:
            start = k
            while start > 0 and k - start < 48 and lowered[start - 1] in _IDENT_CHARS:
                start -= 1
            if start not in seen and k >= done:
                seen.add(start)
                for finding in _assignment(text, start):
                    done = max(done, finding.end)
                    yield finding
                if keyword == "pass":
                    yield from _prose(text, k)
                elif keyword == "secret":
                    m = _AWS_SECRET.match(text, k)
                    if m is not None:
                        yield _finding(text, m.start(1), m.end(1))
            k = lowered.find(keyword, k + len(keyword))


def _finding(text: str, start: int, end: int) -> Finding:
    return Finding(kind=PiiKind.SECRET, start=start, end=end, value=text[start:end])


def _assignment(text: str, start: int) -> Iterator[Finding]:
    m = _ASSIGN.match(text, start)
    if m is None:
        return
    family = _credential_family(m.group(1))
    if family is None:
        return
    if family == "cookie" and m.group(5) is not None:
        line = _HEADER_LINE.match(text, m.start(5))
        if line is not None:
            yield _finding(text, line.start(), line.end())
            return
    group = next(g for g in (2, 3, 4, 5) if m.group(g) is not None)
    s, e = m.start(group), m.end(group)
    value = m.group(group)
    if group == 5:
        if start and text[start - 1] in "?&" and "&" in value:  # a URL query: a=1&b=2
            value = value[: value.index("&")]
            e = s + len(value)
        trimmed = value.rstrip(".,:;!?")
        e -= len(value) - len(trimmed)
        value = trimmed
    if _value_ok(value, short_ok=family in _SHORT_VALUE_OK):
        yield _finding(text, s, e)


def _credential_family(key: str) -> str | None:
    """The credential word a key names (``password``, ``token``, ``key``...), or ``None``."""
    words: list[str] = [w.lower() for w in _WORDS.findall(key)]
    if not words or any(w in _METADATA_WORDS for w in words):
        return None
    joined = "".join(words)
    if joined in ("cookie", "setcookie"):
        return "cookie"
    for i, word in enumerate(words):
        if word in _SECRET_WORDS:
            return word
        if word in ("key", "keys") and i and words[i - 1] in _KEY_QUALIFIERS:
            return "key"
    for suffix in ("apikey", "secretkey", "privatekey", "accesstoken", "password"):
        if joined.endswith(suffix):
            return suffix
    return None


def _value_ok(value: str, *, short_ok: bool) -> bool:
    v = value.strip()
    low = v.lower()
    if len(v) < (3 if short_ok else 6) or low in _PLACEHOLDER_VALUES:
        return False
    if v[0] in "<$%{" or set(v) <= set("*x•·.-_#"):
        return False
    if "environ" in low or "getenv" in low or "process.env" in low:
        return False
    return short_ok or not (v.isdigit() and len(v) <= 9)


def _prose(text: str, k: int) -> Iterator[Finding]:
    m = _PROSE.match(text, k)
    if m is None:
        return
    value = m.group(1).rstrip(".,:;!?)")
    if value.isalpha() and value.islower():
        return
    yield _finding(text, m.start(1), m.start(1) + len(value))
