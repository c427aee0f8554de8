"""Reading a judge's answer: the first JSON object in whatever the model wrote.

Models wrap JSON in code fences, prefix it with prose or add trailing remarks; all of that is
tolerated. What is not tolerated (no object, no usable score) raises :class:`JudgeOutputError`,
which the judge answers by asking again, a bounded number of times.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["JudgeOutputError", "JudgeVerdict", "first_json_object", "parse_verdict"]

_PASS_WORDS = frozenset({"pass", "passed", "yes", "true", "good", "correct", "grounded", "supported"})
_FAIL_WORDS = frozenset({"fail", "failed", "no", "false", "bad", "incorrect", "ungrounded", "unsupported"})
_MAX_SCAN = 100_000


class JudgeOutputError(ValueError):
    """The judge's answer could not be read as the requested JSON."""


@dataclass(frozen=True, kw_only=True)
class JudgeVerdict:
    score: float
    """Normalised to [0, 1]."""
    label: str | None
    explanation: str


def first_json_object(text: str) -> dict[str, Any]:
    """The first ``{...}`` in ``text`` that parses as a JSON object."""
    decoder = json.JSONDecoder()
    scanned = text[:_MAX_SCAN]
    start = scanned.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(scanned, start)
        except json.JSONDecodeError:
            start = scanned.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value
        start = scanned.find("{", start + 1)
    raise JudgeOutputError(f"no JSON object in the judge's answer: {text[:120]!r}")


def parse_verdict(text: str, *, scale: tuple[float, float] = (0.0, 1.0)) -> JudgeVerdict:
    """``{"score": ..., "label": ..., "explanation": ...}`` → a verdict with a score in [0, 1].

    The score may be a number or a numeric string on the rubric's ``scale``; without a score, a
    clear pass/fail label stands in for 1/0.
    """
    document = first_json_object(text)
    label = document.get("label")
    label = label.strip() if isinstance(label, str) and label.strip() else None
    explanation = document.get("explanation", document.get("reason", ""))
    explanation = explanation.strip() if isinstance(explanation, str) else ""
    raw = document.get("score")
    score: float | None = None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        score = float(raw)
    elif isinstance(raw, str):
        try:
            score = float(raw.strip())
        except ValueError:
            score = None
    if score is None or not math.isfinite(score):
        word = (label or "").casefold()
        if word in _PASS_WORDS:
            return JudgeVerdict(score=1.0, label=label, explanation=explanation)
        if word in _FAIL_WORDS:
            return JudgeVerdict(score=0.0, label=label, explanation=explanation)
        raise JudgeOutputError("the judge's answer has no numeric score")
    low, high = scale
    if not low <= score <= high:
        raise JudgeOutputError(f"score {score} is outside the rubric's scale [{low}, {high}]")
    normalised = (score - low) / (high - low) if high > low else 0.0
    return JudgeVerdict(score=normalised, label=label, explanation=explanation)
