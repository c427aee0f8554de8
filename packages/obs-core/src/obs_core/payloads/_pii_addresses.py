"""E-mail and IPv6 addresses.

Both are found from a cheap anchor (``@``, or a colon pair) outward, never by sliding a full
pattern across the text: the local part of an address is a character class that also matches
ordinary words, and scanning with it everywhere is both slow and, unbounded, quadratic.
"""

from __future__ import annotations

import re
from typing import Final

from obs_core.payloads._pii_findings import Finding, PiiKind
from obs_core.payloads._pii_validators import ip_ok

_LOCAL_CHARS: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-"
)
_DOMAIN: Final = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)
# "@2x.png" and friends: image and asset names, not mailboxes.
_FILE_TLDS: Final = frozenset({
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "css", "js", "map",
    "mp4", "mp3", "pdf", "zip",
})

_IPV6: Final = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}|:)(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}"
)
_COLON_PAIR: Final = re.compile(r":[0-9A-Fa-f]{0,4}:")
_HEX: Final = frozenset("0123456789abcdefABCDEF")


def find_emails(text: str) -> list[Finding]:
    """Each ``@`` is expanded left over at most 64 local-part characters (a plain loop, so a
    megabyte of letters before an ``@`` costs 64 steps) and right with an anchored domain match."""
    out: list[Finding] = []
    done = 0
    at = text.find("@")
    while at != -1:
        start = at
        floor = max(done, at - 64)
        while start > floor and text[start - 1] in _LOCAL_CHARS:
            start -= 1
        if start < at:
            m = _DOMAIN.match(text, at + 1)
            if m is not None and m.group().rsplit(".", 1)[-1].lower() not in _FILE_TLDS:
                out.append(Finding(kind=PiiKind.EMAIL, start=start, end=m.end(),
                                   value=text[start:m.end()]))
                done = m.end()
        at = text.find("@", at + 1)
    return out


def find_ipv6(text: str) -> list[Finding]:
    if "::" not in text and text.count(":") < 7:
        return []
    out: list[Finding] = []
    n = len(text)
    done = 0
    for pair in _COLON_PAIR.finditer(text):
        if pair.start() < done:
            continue
        start = pair.start()
        while start > 0 and pair.start() - start < 4 and text[start - 1] in _HEX:
            start -= 1
        if start and (text[start - 1].isalnum() or text[start - 1] in "_:."):
            continue
        m = _IPV6.match(text, start, min(n, start + 46))
        if m is None:
            continue
        candidate = m.group().rstrip(".:") if not m.group().endswith("::") else m.group()
        end = m.start() + len(candidate)
        done = max(done, m.end())
        if end < n and (text[end].isalnum() or text[end] == "_"):
            continue
        if candidate.count(":") >= 2 and ip_ok(candidate):
            out.append(Finding(kind=PiiKind.IP, start=m.start(), end=end, value=candidate))
    return out
