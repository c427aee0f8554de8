"""PostgreSQL connection strings: telling them from paths, and keeping their password out of
every message obs prints or logs."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

_MASK = "***"
_URL_SCHEMES = ("postgresql://", "postgres://")
_KV_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_KV_ANY = re.compile(r"^\s*[A-Za-z_]+\s*=")


def is_dsn(target: str) -> bool:
    """A ``postgresql://`` URL or a libpq ``key=value`` string rather than a file path."""
    return target.startswith(_URL_SCHEMES) or bool(_KV_ANY.match(target))


def redact_dsn(dsn: str) -> str:
    """``dsn`` with its password (URL user-info, ``?password=`` or ``password=``) masked."""
    if dsn.startswith(_URL_SCHEMES):
        try:
            parts = urlsplit(dsn)
        except ValueError:
            return _MASK
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostinfo = netloc.rpartition("@")
            if ":" in userinfo:
                userinfo = userinfo.split(":", 1)[0] + ":" + _MASK
            netloc = f"{userinfo}@{hostinfo}"
        query = urlencode(
            [(k, _MASK if k.lower() == "password" else v)
             for k, v in parse_qsl(parts.query, keep_blank_values=True)],
            safe="*",
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    return _KV_PASSWORD.sub(lambda m: m.group(1) + _MASK, dsn)


def password_of(dsn: str) -> str | None:
    """The password written in ``dsn``, if any (without needing psycopg)."""
    if dsn.startswith(_URL_SCHEMES):
        try:
            parts = urlsplit(dsn)
        except ValueError:
            return None
        if parts.password:
            return unquote(parts.password)
        for key, value in parse_qsl(parts.query):
            if key.lower() == "password":
                return value
        return None
    match = _KV_PASSWORD.search(dsn)
    if match is None:
        return None
    value = match.group(2)
    if value.startswith("'") and value.endswith("'"):
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def redact_message(text: str, dsn: str) -> str:
    """An error message safe to log: the DSN and its bare password replaced by masked forms."""
    text = text.replace(dsn, redact_dsn(dsn))
    password = password_of(dsn)
    if password:
        for form in {password, quote(password, safe="")}:
            text = text.replace(form, _MASK)
    return text
