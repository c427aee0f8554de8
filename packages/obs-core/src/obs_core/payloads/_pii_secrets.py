"""API keys, tokens and credentials.

Provider tokens are recognised by their published prefixes. Candidates come from cheap anchors
(the ``-``/``_`` right after a prefix, a few literal markers) and only then meet the full
pattern, so a prompt without any of them costs a handful of ``str.find`` calls. Generic
``key = "value"`` assignments are found from the key word outward.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from typing import Final

from obs_core.payloads._pii_assignments import find_assignments
from obs_core.payloads._pii_findings import Finding, PiiKind
from obs_core.payloads._pii_validators import jwt_header_ok

_TOKEN_CHARS: Final = r"[A-Za-z0-9_\-]"
_END: Final = r"(?![A-Za-z0-9_\-])"

# Prefix before the first "-" or "_" -> the full token pattern, anchored at the prefix.
_BY_PREFIX: Final[dict[str, re.Pattern[str]]] = {
    "sk": re.compile(rf"sk-(?:ant-|proj-|svcacct-|admin-|or-)?{_TOKEN_CHARS}{{20,}}{_END}"
                     rf"|sk_(?:live|test)_[A-Za-z0-9]{{16,}}{_END}"),
    "rk": re.compile(rf"rk_(?:live|test)_[A-Za-z0-9]{{16,}}{_END}"),
    "whsec": re.compile(rf"whsec_[A-Za-z0-9]{{20,}}{_END}"),
    "ghp": re.compile(rf"gh[pousr]_[A-Za-z0-9]{{30,255}}{_END}"),
    "github": re.compile(rf"github_pat_[A-Za-z0-9_]{{22,255}}{_END}"),
    "xoxa": re.compile(rf"xox[abeoprs]-[A-Za-z0-9\-]{{10,}}{_END}"),
    "hf": re.compile(rf"hf_[A-Za-z0-9]{{30,}}{_END}"),
    "gsk": re.compile(rf"gsk_[A-Za-z0-9]{{30,}}{_END}"),
    "glpat": re.compile(rf"glpat-[A-Za-z0-9_\-]{{20,}}{_END}"),
    "npm": re.compile(rf"npm_[A-Za-z0-9]{{36}}{_END}"),
    "pypi": re.compile(rf"pypi-[A-Za-z0-9_\-]{{50,}}{_END}"),
    "xai": re.compile(rf"xai-[A-Za-z0-9]{{20,}}{_END}"),
    "dop": re.compile(rf"dop_v1_[a-f0-9]{{64}}{_END}"),
}
for _alias, _target in (("gho", "ghp"), ("ghu", "ghp"), ("ghs", "ghp"), ("ghr", "ghp"),
                        ("xoxb", "xoxa"), ("xoxe", "xoxa"), ("xoxo", "xoxa"), ("xoxp", "xoxa"),
                        ("xoxr", "xoxa"), ("xoxs", "xoxa")):
    _BY_PREFIX[_alias] = _BY_PREFIX[_target]

_PREFIX_TAILS: Final = frozenset(p[-2:] for p in _BY_PREFIX)
"""Last two letters of every prefix: one slice and set lookup rejects most ``-``/``_``."""

# Tokens without a separator after the prefix, found from a literal marker. The AWS and Google
# patterns share a leading "A" so that one scan (a literal-prefix search) covers them.
_A_TOKENS: Final = re.compile(
    rf"A(?:KIA[A-Z0-9]{{16}}|SIA[A-Z0-9]{{16}}|Iza[0-9A-Za-z_\-]{{35}}){_END}"
)
_GOOGLE_OAUTH: Final = re.compile(rf"ya29\.[0-9A-Za-z_\-]{{20,}}{_END}")
_JWT: Final = re.compile(
    r"(eyJ[A-Za-z0-9_\-]{8,})\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*(?![A-Za-z0-9_\-.])"
)
_BEARER: Final = re.compile(r"(?i:bearer)[ \t]+([A-Za-z0-9\-._~+/]{8,4096}=*)(?![A-Za-z0-9\-._~+/=])")
_URL_CREDENTIALS: Final = re.compile(r"://[^\s:/@]{1,128}:([^\s@/]{1,256})@")
_KEY_BEGIN: Final = re.compile(r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----")
_KEY_END: Final = re.compile(r"-----END[A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----")
_KEY_BODY: Final = re.compile(r"[A-Za-z0-9+/=\s:,\-]{0,16384}")
_KEY_SPAN_LIMIT: Final = 20_000


def find_secrets(text: str, lowered: str) -> list[Finding]:
    """``lowered`` is ``text`` in lower case with the same length (offsets are shared)."""
    out: list[Finding] = []
    out.extend(_prefixed(text))
    out.extend(_group(text, m, 0) for m in _A_TOKENS.finditer(text)
               if _boundary_before(text, m.start()))
    if "ya29." in text:
        out.extend(_marked(text, "ya29.", _GOOGLE_OAUTH))
    out.extend(_jwts(text, "eyJ"))
    if "bearer" in lowered:
        out.extend(_bearers(text, lowered))
    if "://" in text and "@" in text:
        out.extend(_group(text, m, 1) for m in _URL_CREDENTIALS.finditer(text))
    if "PRIVATE KEY" in text:
        out.extend(_private_keys(text))
    out.extend(find_assignments(text, lowered))
    return out


def _group(text: str, m: re.Match[str], group: int) -> Finding:
    return Finding(kind=PiiKind.SECRET, start=m.start(group), end=m.end(group),
                   value=m.group(group))


def _boundary_before(text: str, i: int) -> bool:
    return i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_-")


def _prefixed(text: str) -> Iterator[Finding]:
    for sep in ("-", "_"):
        i = text.find(sep)
        while i != -1:
            if i < 2 or text[i - 2:i] not in _PREFIX_TAILS:
                i = text.find(sep, i + 1)
                continue
            start = i
            while start > 0 and i - start < 6 and text[start - 1].isalnum():
                start -= 1
            pattern = _BY_PREFIX.get(text[start:i]) if start < i else None
            if pattern is not None and _boundary_before(text, start):
                m = pattern.match(text, start)
                if m is not None:
                    yield Finding(kind=PiiKind.SECRET, start=start, end=m.end(), value=m.group())
            i = text.find(sep, i + 1)


def _marked(text: str, marker: str, pattern: re.Pattern[str]) -> Iterator[Finding]:
    i = text.find(marker)
    while i != -1:
        if _boundary_before(text, i):
            m = pattern.match(text, i)
            if m is not None:
                yield Finding(kind=PiiKind.SECRET, start=i, end=m.end(), value=m.group())
        i = text.find(marker, i + 1)


def _jwts(text: str, marker: str) -> Iterator[Finding]:
    i = text.find(marker)
    while i != -1:
        m = _JWT.match(text, i) if _boundary_before(text, i) else None
        if m is not None and jwt_header_ok(m.group(1)):
            yield Finding(kind=PiiKind.SECRET, start=i, end=m.end(), value=m.group())
            i = text.find(marker, m.end())
        else:
            i = text.find(marker, i + 1)


def _bearers(text: str, lowered: str) -> Iterator[Finding]:
    i = lowered.find("bearer")
    while i != -1:
        m = _BEARER.match(text, i) if _boundary_before(text, i) else None
        if m is not None and _looks_like_token(m.group(1)):
            yield _group(text, m, 1)
        i = lowered.find("bearer", i + 1)


def _looks_like_token(value: str) -> bool:
    """Spares prose ("the bearer instrument"): a real token is long or mixes in non-letters."""
    return len(value) >= 20 or not value.isalpha()


def _private_keys(text: str) -> Iterator[Finding]:
    ends = [m.end() for m in _KEY_END.finditer(text)]
    done = 0
    for begin in _KEY_BEGIN.finditer(text):
        if begin.start() < done:
            continue
        k = bisect.bisect_left(ends, begin.end())
        if k < len(ends) and ends[k] - begin.start() <= _KEY_SPAN_LIMIT:
            end = ends[k]
        else:
            body = _KEY_BODY.match(text, begin.end())
            end = body.end() if body is not None else begin.end()
        done = end
        yield Finding(kind=PiiKind.SECRET, start=begin.start(), end=end,
                      value=text[begin.start():end])
