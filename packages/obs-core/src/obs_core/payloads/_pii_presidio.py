"""Optional Microsoft Presidio analyser, for users who install it and opt in.

Presidio is never a dependency: it pulls spaCy and a language model. When requested but not
importable, the scrubber logs once and runs on its own detectors.
"""

from __future__ import annotations

import importlib
import logging
import threading
from typing import Any, Final

from obs_core.payloads._pii_findings import Finding, PiiKind

logger = logging.getLogger("obs.payloads")

ENTITY_KINDS: Final[dict[str, str]] = {
    "PERSON": PiiKind.PERSON,
    "EMAIL_ADDRESS": PiiKind.EMAIL,
    "PHONE_NUMBER": PiiKind.PHONE,
    "CREDIT_CARD": PiiKind.CARD,
    "IBAN_CODE": PiiKind.IBAN,
    "US_SSN": PiiKind.SSN,
    "IP_ADDRESS": PiiKind.IP,
}
"""Presidio entity -> our kind. Other entities (dates, locations, URLs) are ignored: they are not
what the built-in placeholders promise to hide, and dates in prompts are rarely personal."""


class PresidioDetector:
    """Lazily builds one ``AnalyzerEngine`` (slow: it loads a spaCy model) on first use."""

    def __init__(self, *, min_score: float = 0.5, language: str = "en") -> None:
        self._min_score = min_score
        self._language = language
        self._engine: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def available() -> bool:
        try:
            importlib.import_module("presidio_analyzer")
        except ImportError:
            return False
        return True

    def _analyzer(self) -> Any:
        with self._lock:
            if self._engine is None:
                module = importlib.import_module("presidio_analyzer")
                self._engine = module.AnalyzerEngine()
            return self._engine

    def find(self, text: str, kinds: frozenset[str]) -> list[Finding]:
        entities = [e for e, kind in ENTITY_KINDS.items() if kind in kinds]
        if not entities:
            return []
        results = self._analyzer().analyze(text=text, language=self._language, entities=entities)
        out: list[Finding] = []
        for result in results:
            kind = ENTITY_KINDS.get(str(result.entity_type))
            start, end = int(result.start), int(result.end)
            if kind is not None and float(result.score) >= self._min_score and start < end:
                out.append(Finding(kind=kind, start=start, end=end, value=text[start:end]))
        return out
