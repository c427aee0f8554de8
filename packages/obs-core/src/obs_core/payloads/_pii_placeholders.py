"""Numbered placeholders that stay consistent within one trace or session."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from typing import Final

from obs_core.payloads._pii_findings import PiiKind
from obs_core.payloads._pii_namelists import fold

_NON_DIGITS: Final = re.compile(r"[^0-9]")
_SPACES: Final = re.compile(r"\s+")


class PlaceholderMap:
    """Gives each distinct value of a kind a stable number: the same address twice becomes
    ``<EMAIL_1>`` both times, another one ``<EMAIL_2>``, so a reader can still follow who is who.

    Create one per trace or session (:meth:`Scrubber.session` does) and pass it to
    :meth:`Scrubber.scrub`. Values are compared after normalisation (case for e-mails, spacing
    and punctuation for numbers) and held only as keyed digests under a per-map random key, so
    the map itself never keeps the data it is hiding. Thread-safe.
    """

    def __init__(self) -> None:
        self._key = os.urandom(16)
        self._numbers: dict[bytes, int] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def number(self, kind: str, value: str) -> int:
        """The 1-based number of ``value`` among the values of ``kind`` seen so far."""
        normal = _normalise(kind, value)
        digest = hashlib.blake2b(
            f"{kind}\0{normal}".encode("utf-8", "surrogatepass"), key=self._key, digest_size=16,
        ).digest()
        with self._lock:
            found = self._numbers.get(digest)
            if found is None:
                found = self._counts.get(kind, 0) + 1
                self._counts[kind] = found
                self._numbers[digest] = found
            return found

    def counts(self) -> dict[str, int]:
        """How many distinct values of each kind were seen: safe to log or put on a span."""
        with self._lock:
            return dict(self._counts)

    def __len__(self) -> int:
        with self._lock:
            return len(self._numbers)


def _normalise(kind: str, value: str) -> str:
    if kind in (PiiKind.PHONE, PiiKind.CARD, PiiKind.SSN):
        return _NON_DIGITS.sub("", value)
    if kind == PiiKind.IBAN:
        return value.replace(" ", "").upper()
    if kind == PiiKind.PERSON:
        return _SPACES.sub(" ", fold(value).strip())
    if kind in (PiiKind.EMAIL, PiiKind.IP):
        return value.lower()
    return value
