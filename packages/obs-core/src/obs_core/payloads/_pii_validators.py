"""Checksums and range rules that turn digit-shaped candidates into findings.

Regexes only propose; these functions decide. Keeping the arithmetic here is what lets the
numeric detectors leave ordinary numbers (order ids, timestamps, prices) alone.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from typing import Final

# Country code -> IBAN length (ISO 13616 registry).
IBAN_LENGTHS: Final[dict[str, int]] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check every payment card number carries."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_ok(digits: str) -> bool:
    """A plausible card number: 13-19 digits, a major-network leading digit, a valid Luhn.

    Leading digits 2-6 cover Mastercard, Amex, Diners, JCB, Visa, Discover and UnionPay; excluding
    1, 7, 8, 9 and 0 spares millisecond timestamps and most zero-padded ids that pass Luhn by chance.
    """
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_ok(digits)


def iban_checksum_ok(compact: str) -> bool:
    """ISO 7064 mod 97-10 over an IBAN without spaces, upper case."""
    rearranged = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


def ssn_ok(area: str, group: str, serial: str) -> bool:
    """US SSN ranges: area 001-899 except 666, group 01-99, serial 0001-9999."""
    a = int(area)
    return 0 < a < 900 and a != 666 and group != "00" and serial != "0000"


def jwt_header_ok(segment: str) -> bool:
    """Whether the first JWT segment base64url-decodes to a JSON object."""
    if len(segment) > 2048:
        return False
    padded = segment + "=" * (-len(segment) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded)
        header = json.loads(raw)
    except (binascii.Error, ValueError):
        return False
    return isinstance(header, dict)


def ip_ok(candidate: str) -> bool:
    """A real IPv4 or IPv6 address that can point at someone.

    Loopback and unspecified addresses (``127.0.0.1``, ``0.0.0.0``, ``::1``, ``::``) identify
    nobody and appear in every config snippet, so they are left in place.
    """
    try:
        addr = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return not (addr.is_loopback or addr.is_unspecified)


_NON_DIGITS: Final = re.compile(r"[^0-9]+")


def digits_of(text: str) -> str:
    return _NON_DIGITS.sub("", text)
