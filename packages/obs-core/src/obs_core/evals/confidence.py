"""Logprob confidence: how sure the model was of the facts it stated.

A model that invents a date or a name tends to spread probability over alternatives exactly
there. So the score averages token log probabilities over the *factual* words only (numbers,
dates, proper nouns); fluent filler, which models always produce confidently, would hide the
doubt. The mean maps to [0, 1] as ``exp(mean)``, the geometric-mean token probability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from obs_core.evals._text import MONTHS, fold, wordlist
from obs_core.evals.base import (
    BaseEvaluator,
    EvalResult,
    EvalSample,
    MissingInputError,
    TokenLogprob,
)

__all__ = ["LogprobConfidence"]

_MAX_LISTED = 8
_SENTENCE_END = (".", "!", "?", ":", "\n")


@dataclass(kw_only=True)
class _Word:
    text: str = ""
    logprobs: list[float] = field(default_factory=list)
    sentence_start: bool = False


def _words(tokens: list[TokenLogprob]) -> list[_Word]:
    """Re-assemble provider tokens (often sub-word pieces) into words with their logprobs."""
    words: list[_Word] = []
    current = _Word(sentence_start=True)
    for token in tokens:
        piece = token.token
        starts_new = piece[:1].isspace() or not piece.strip() or not (piece.strip()[0].isalnum())
        if starts_new and current.text.strip():
            words.append(current)
            current = _Word(sentence_start=current.text.rstrip().endswith(_SENTENCE_END))
        current.text += piece
        current.logprobs.append(token.logprob)
    if current.text.strip():
        words.append(current)
    return words


def _is_factual(word: _Word) -> bool:
    text = word.text.strip().strip(".,;:!?\"'()[]")
    if not text:
        return False
    if any(ch.isdigit() for ch in text) or fold(text) in MONTHS:
        return True
    if text[:1].isupper():
        lowered = fold(text)
        return not (word.sentence_start and (lowered in wordlist("stopwords") or lowered in wordlist("generic_words")))
    return False


class LogprobConfidence(BaseEvaluator):
    """Scores the model's confidence in its factual spans; 1 = every fact generated with certainty.

    ``flag_below`` is the mean token logprob under which the answer is flagged (default -0.4,
    i.e. a geometric-mean probability of 0.67); the threshold on the score is ``exp(flag_below)``.
    Needs ``sample.logprobs``.
    """

    default_name = "logprob_confidence"
    base_version = "1.0"
    pass_label = "confident"
    fail_label = "uncertain"

    def __init__(self, *, flag_below: float = -0.4, name: str | None = None) -> None:
        if flag_below > 0:
            raise ValueError("flag_below is a log probability and must be <= 0")
        super().__init__(threshold=math.exp(flag_below), name=name)
        self.flag_below = flag_below

    def _evaluate(self, sample: EvalSample) -> EvalResult:
        if not sample.logprobs:
            raise MissingInputError("logprob confidence needs the answer's token logprobs")
        words = _words(sample.logprobs)
        factual = [w for w in words if _is_factual(w)]
        basis = "factual spans" if factual else "all tokens"
        chosen = factual or words
        values = [lp for w in chosen for lp in w.logprobs]
        mean = sum(values) / len(values)
        doubtful = sorted(
            ((w.text.strip(), sum(w.logprobs) / len(w.logprobs)) for w in chosen if min(w.logprobs) < self.flag_below),
            key=lambda item: item[1],
        )
        details: dict[str, object] = {
            "mean_logprob": round(mean, 4),
            "basis": basis,
            "factual_words": [w.text.strip() for w in factual],
            "tokens_scored": len(values),
            "low_confidence": [{"text": text, "mean_logprob": round(lp, 4), "probability": round(math.exp(lp), 4)} for text, lp in doubtful[:_MAX_LISTED]],
        }
        listed = ", ".join(f"“{text}” (p={math.exp(lp):.2f})" for text, lp in doubtful[:_MAX_LISTED])
        if mean < self.flag_below:
            explanation = f"Low confidence over {basis}: mean logprob {mean:.2f} < {self.flag_below:.2f}; least certain: {listed or 'spread over many tokens'}."
        elif doubtful:
            explanation = f"Confident overall (mean logprob {mean:.2f} over {basis}), but unsure of {listed}."
        else:
            explanation = f"Confident (mean logprob {mean:.2f} over {basis})."
        return self._result(score=math.exp(mean), explanation=explanation, details=details)
