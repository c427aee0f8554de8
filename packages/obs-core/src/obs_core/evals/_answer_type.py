"""What kind of answer a question asks for, and whether an answer contains one.

Shared by relevance (an answer of the asked-for type addresses the question even with no word
in common: "When did it open?" → "In 1998") and conciseness (short factual questions deserve
short answers).
"""

from __future__ import annotations

import re
from enum import Enum

from obs_core.evals._text import MONTHS, NUMBER_WORDS, fold, raw_tokens, wordlist


class AnswerType(str, Enum):
    YES_NO = "yes_no"
    NUMBER = "number"
    DATE = "date"
    ENTITY = "entity"
    """A person, place, organisation or title."""
    OPEN = "open"
    """Explanations, procedures, opinions: no short expected form."""


_AUXILIARIES = frozenset(
    {"is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "should",
     "has", "have", "had", "may", "might", "must", "shall", "am", "isn't", "aren't", "wasn't",
     "doesn't", "didn't", "don't", "won't", "can't"}
)
_DATE_RE = re.compile(r"\b(?:when|what (?:year|date|day|month|decade|century)|which (?:year|date|day|month|decade|century)|how long ago)\b")
_NUMBER_RE = re.compile(r"\bhow (?:many|much|far|long|old|tall|big|large|high|deep|wide|heavy|often)\b|\bwhat (?:is the )?(?:number|percentage|population|length|height|size|age|amount|price|cost)\b")
_ENTITY_RE = re.compile(r"^(?:who|whom|whose|where)\b|\b(?:who|whom|where)\b|\b(?:which|what) (?:\w+ )?(?:city|country|state|person|company|band|film|movie|team|author|actor|actress|group|university|college|town|book|album|song|name|magazine|nationality)\b")
_OPEN_RE = re.compile(r"^(?:why|how|explain|describe|compare|summari[sz]e|what (?:are|is) the (?:difference|advantages|benefits|reasons?))\b")


def expected_type(question: str) -> AnswerType | None:
    """The answer type a question asks for; ``None`` when it cannot be told."""
    text = fold(question).strip()
    if not text:
        return None
    first = text.split(None, 1)[0]
    if first in _AUXILIARIES:
        return AnswerType.YES_NO
    if _DATE_RE.search(text):
        return AnswerType.DATE
    if _NUMBER_RE.search(text):
        return AnswerType.NUMBER
    if _OPEN_RE.search(text):
        return AnswerType.OPEN
    if _ENTITY_RE.search(text):
        return AnswerType.ENTITY
    if first in {"what", "which"}:
        return AnswerType.ENTITY
    return None


def has_type(answer: str, kind: AnswerType) -> bool:
    """Whether ``answer`` contains something of the asked-for type."""
    tokens = raw_tokens(answer)
    folded = [fold(t) for t in tokens]
    has_digit = any(any(ch.isdigit() for ch in t) for t in folded)
    if kind is AnswerType.YES_NO:
        return bool(folded) and folded[0] in {"yes", "no", "yeah", "nope", "correct", "true", "false"}
    if kind is AnswerType.NUMBER:
        return has_digit or any(t in NUMBER_WORDS or t in {"one", "dozen", "million", "billion"} for t in folded)
    if kind is AnswerType.DATE:
        return has_digit or any(t in MONTHS for t in folded)
    if kind is AnswerType.ENTITY:
        stop = wordlist("stopwords")
        return any(t[:1].isupper() and (i > 0 or folded[0] not in stop) for i, t in enumerate(tokens))
    return bool(folded)
