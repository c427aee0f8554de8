"""Digit-shaped detectors: phone numbers, payment cards, US SSNs, IPv4 addresses and IBANs.

One linear pre-scan finds "digit clusters" (runs of digits joined by single separators, at
least seven characters long); the specific patterns then run only inside those small windows.
A prompt without such a cluster costs one regex scan, and a price or a year is never a cluster.
Every pattern here is bounded or anchored on a separator so that matching stays linear.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from obs_core.payloads._pii_findings import Finding, PiiKind
from obs_core.payloads._pii_validators import (
    IBAN_LENGTHS,
    card_ok,
    digits_of,
    iban_checksum_ok,
    ip_ok,
    ssn_ok,
)

NUMERIC_KINDS: Final = frozenset({PiiKind.PHONE, PiiKind.CARD, PiiKind.SSN, PiiKind.IP,
                                  PiiKind.IBAN})

# A cluster starts at a digit that begins nine or more digits (cards, phones, SSNs, IBANs), an
# IPv4 address, a seven-digit local number (for labelled phones) or eight digits after a "+". Dates,
# prices, versions and counts fail the lookahead inside the regex engine, never reaching Python;
# the lookbehind limits the attempts to the first digit of each run.
_CLUSTER: Final = re.compile(
    r"[0-9](?<![0-9][0-9])(?=(?:[ .\-/()]{0,2}[0-9]){8}|[0-9]{0,2}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]"
    r"|[0-9]{2}[ .\-][0-9]{4}(?![0-9])|(?<=\+[0-9])(?:[ .\-/()]{0,2}[0-9]){7})"
    r"[0-9()]*(?:[ .\-/][ (]?[0-9()]+)*"
)

_PHONE_INTL: Final = re.compile(
    r"(?<![\w+])\+(?:[0-9]{7,15}|[0-9]{1,4}"
    r"(?:[ .\-]?\([0-9]{1,5}\)[ .\-]?[0-9]{1,8}|[ .\-][0-9]{1,8}){1,7})(?![0-9])"
)
_PHONE_NANP: Final = re.compile(
    r"(?<![\w+\-./])(?:1[ .\-])?(?:\([0-9]{3}\)[ .\-]?|[0-9]{3}[ .\-])[0-9]{3}[ .\-][0-9]{4}"
    r"(?![0-9]|[.\-][0-9])"
)
_PHONE_TRUNK: Final = re.compile(
    r"(?<![\w+\-./(])(?<![0-9][ .\-])\(?0[0-9]{1,4}\)?(?:[ .\-][0-9]{2,8}){1,5}(?![0-9]|[.\-][0-9])"
)
_SSN: Final = re.compile(
    r"(?<![\w\-./])([0-9]{3})([ \-])([0-9]{2})\2([0-9]{4})(?![0-9]|[\-.][0-9])"
)
_CARD: Final = re.compile(r"(?<![\w\-./])[0-9](?:[ \-]?[0-9]){12,18}(?![0-9])")
_IPV4: Final = re.compile(r"(?<![\w.\-])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9]|\.[0-9])")
_IBAN_HINT: Final = re.compile(r"[A-Z]{2}[0-9]{2}")
_IBAN: Final = re.compile(r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z][0-9]{2}(?: ?[A-Z0-9]){11,32}")

_VERSION_CONTEXT: Final = re.compile(
    r"(?:\bv|version|\bver\.?|release|build|\brev\.?|==|>=|<=|~=)\s*$", re.IGNORECASE
)
_PHONE_LABEL: Final = re.compile(
    r"(?:phone|tel|telephone|mobile|cell|cellphone|fax|whatsapp|sms|"
    r"(?:call|text|reach|ring) me (?:at|on))\b[^\n\w]{0,6}(?:(?:is|at|on|number|no|nr)\b\W{0,4}){0,3}$",
    re.IGNORECASE,
)
_SSN_LABEL: Final = re.compile(
    r"\b(?:ssn|social security(?: number| no)?|soc\.? sec\.?)\b[^\n\w]{0,6}(?:(?:is|no|number)\b\W{0,4})?$",
    re.IGNORECASE,
)


def find_numeric(text: str, kinds: frozenset[str]) -> list[Finding]:
    """Every phone, card, SSN, IPv4 and IBAN finding among ``kinds`` in ``text``."""
    out: list[Finding] = []
    iban_done = -1
    n = len(text)
    cards, ssns = PiiKind.CARD in kinds, PiiKind.SSN in kinds
    phones, ips, ibans = PiiKind.PHONE in kinds, PiiKind.IP in kinds, PiiKind.IBAN in kinds
    for cluster in _CLUSTER.finditer(text):
        lo, hi = cluster.span()
        group = cluster.group()
        plus = lo > 0 and text[lo - 1] == "+"
        if lo and text[lo - 1] in "+(":
            lo -= 1
        digits = len(group) - sum([group.count(ch) for ch in _SEPARATORS])
        before = len(out)
        if cards and digits >= 13:
            _cards(text, lo, hi, out)
        if ssns and digits >= 9:
            _match_all(_SSN, PiiKind.SSN, text, lo, hi, out, _ssn_valid)
        if phones and (digits >= 9 or (plus and digits >= 8)):
            _phones(text, lo, hi, out)
        if ips and "." in group:
            _match_all(_IPV4, PiiKind.IP, text, lo, hi, out, _ipv4_valid)
        if ibans and digits >= 10 and hi > iban_done and _IBAN_HINT.search(
                text, max(0, lo - 44), hi):
            found = len(out)
            _ibans(text, max(lo - 44, iban_done, 0), min(n, hi + 44), out)
            iban_done = max([hi, *(f.end for f in out[found:])])
        if len(out) == before and 7 <= digits <= 15:
            _labelled(text, lo, hi, kinds, out)
    return out


_SEPARATORS: Final = (" ", ".", "-", "/", "(", ")")


def _add(out: list[Finding], kind: str, text: str, start: int, end: int) -> None:
    out.append(Finding(kind=kind, start=start, end=end, value=text[start:end]))


def _match_all(pattern: re.Pattern[str], kind: str, text: str, lo: int, hi: int,
               out: list[Finding], valid: Callable[[str, re.Match[str]], bool]) -> None:
    for m in pattern.finditer(text, lo, hi):
        if valid(text, m):
            _add(out, kind, text, m.start(), m.end())


def _ssn_valid(text: str, m: re.Match[str]) -> bool:
    return ssn_ok(m.group(1), m.group(3), m.group(4))


def _ipv4_valid(text: str, m: re.Match[str]) -> bool:
    return ip_ok(m.group()) and not _VERSION_CONTEXT.search(text, max(0, m.start() - 12),
                                                            m.start())


def _cards(text: str, lo: int, hi: int, out: list[Finding]) -> None:
    for m in _CARD.finditer(text, lo, hi):
        end = _card_end(m.group())
        if end:
            _add(out, PiiKind.CARD, text, m.start(), m.start() + end)


def _card_end(candidate: str) -> int:
    """Length of the longest card-number prefix of ``candidate`` ending on a group boundary."""
    seps = {ch for ch in candidate if ch in " -"}
    if len(seps) > 1:
        return 0
    if not seps:
        return len(candidate) if card_ok(candidate) else 0
    groups = candidate.split(seps.pop())
    if any(len(g) < 3 for g in groups[:-1]):
        return 0
    for count in range(len(groups), 1, -1):
        digits = "".join(groups[:count])
        if card_ok(digits):
            return sum(len(g) for g in groups[:count]) + count - 1
    return 0


def _phones(text: str, lo: int, hi: int, out: list[Finding]) -> None:
    for m in _PHONE_INTL.finditer(text, lo, hi):
        if 8 <= len(digits_of(m.group())) <= 15:
            _add(out, PiiKind.PHONE, text, m.start(), m.end())
    for m in _PHONE_NANP.finditer(text, lo, hi):
        _add(out, PiiKind.PHONE, text, m.start(), m.end())
    for m in _PHONE_TRUNK.finditer(text, lo, hi):
        digits = digits_of(m.group())
        if 9 <= len(digits) <= (15 if digits.startswith("00") else 12):
            _add(out, PiiKind.PHONE, text, m.start(), m.end())


def _ibans(text: str, lo: int, hi: int, out: list[Finding]) -> None:
    for m in _IBAN.finditer(text, lo, hi):
        end = _iban_end(text, m.start(), m.group())
        if end:
            _add(out, PiiKind.IBAN, text, m.start(), end)


def _iban_end(text: str, start: int, candidate: str) -> int:
    """End offset of the valid IBAN at ``start``, or 0. Trailing capitalised words are cut off
    by the country's fixed length rather than trusted to the regex."""
    length = IBAN_LENGTHS.get(candidate[:2])
    if length is None:
        return 0
    seen = 0
    for offset, ch in enumerate(candidate):
        if ch != " ":
            seen += 1
            if seen == length:
                end = start + offset + 1
                if end < len(text) and text[end].isalnum():
                    return 0
                compact = candidate[: offset + 1].replace(" ", "")
                return end if iban_checksum_ok(compact) else 0
    return 0


def _labelled(text: str, lo: int, hi: int, kinds: frozenset[str], out: list[Finding]) -> None:
    """Unformatted numbers that a label names: ``Phone: 5551234567``, ``SSN 123456789``."""
    context = max(0, lo - 40)
    window = text[context:lo].lower()
    if not any(hint in window for hint in _LABEL_HINTS):
        return
    digits = digits_of(text[lo:hi])
    if (PiiKind.SSN in kinds and len(digits) == 9 and _SSN_LABEL.search(text, context, lo)
            and ssn_ok(digits[:3], digits[3:5], digits[5:])):
        _add(out, PiiKind.SSN, text, lo, hi)
        return
    if PiiKind.PHONE in kinds and _PHONE_LABEL.search(text, context, lo):
        _add(out, PiiKind.PHONE, text, lo, hi)


_LABEL_HINTS: Final = ("phone", "tel", "mobile", "cell", "fax", "whatsapp", "sms", " me ", "ssn",
                       "social", "soc")
