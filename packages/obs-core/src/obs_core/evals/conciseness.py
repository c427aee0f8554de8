"""Conciseness: how much of the answer is padding, and what that padding costs in tokens.

Counts four kinds of waste: filler (pleasantries, "it is important to note that"), repetition
(sentences that say again what an earlier one said), restating the question without adding
anything, and, for short factual questions, length far beyond what such an answer needs.
The score is the share of the answer's tokens that is not waste.
"""

from __future__ import annotations

import re
from functools import cache

from obs_core.evals._answer_type import AnswerType, expected_type
from obs_core.evals._text import approx_tokens, fold, read_data, split_sentences, terms
from obs_core.evals.base import BaseEvaluator, EvalResult, EvalSample, MissingInputError

__all__ = ["Conciseness"]

_SHORT_ANSWER_BUDGET = 40
"""Tokens a direct answer to a short factual question needs, with a sentence of support."""
_OVERLENGTH_WEIGHT = 0.5
"""Only half of the excess counts as waste: some of it may be welcome context."""
_REPEAT_OVERLAP = 0.7
_MAX_CHARS = 50_000


@cache
def _fillers() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(sentence-level, phrase-level) patterns from ``_data/filler_phrases.txt``."""
    text = read_data("filler_phrases.txt")
    sections: dict[str, list[str]] = {"sentence": [], "phrase": []}
    current = ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        elif line and current in sections:
            sections[current].append(line)

    def compile_(phrases: list[str]) -> re.Pattern[str]:
        ordered = sorted(phrases, key=len, reverse=True)
        alternatives = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in ordered)
        return re.compile(rf"(?<![\w'])(?:{alternatives})(?![\w'])")

    return compile_(sections["sentence"]), compile_(sections["phrase"])


class Conciseness(BaseEvaluator):
    """Scores how free of padding the answer is; 1 = no wasted tokens.

    ``details["wasted_tokens"]`` estimates the output tokens (about four characters each) that
    carried nothing, so cost dashboards can price the padding.
    """

    default_name = "conciseness"
    base_version = "1.0"
    pass_label = "concise"
    fail_label = "verbose"

    def __init__(self, *, threshold: float = 0.7, short_answer_budget: int = _SHORT_ANSWER_BUDGET, name: str | None = None) -> None:
        super().__init__(threshold=threshold, name=name)
        self.short_answer_budget = short_answer_budget

    def _evaluate(self, sample: EvalSample) -> EvalResult:
        answer = sample.output[:_MAX_CHARS].strip()
        if not answer:
            raise MissingInputError("conciseness needs an answer (output)")
        sentence_filler, phrase_filler = _fillers()
        question_keys = {t.key for t in terms(sample.input)}
        total = approx_tokens(answer)
        filler = repeated = restated = 0
        filler_found: list[str] = []
        repeated_found: list[str] = []
        seen: list[set[str]] = []
        for index, sentence in enumerate(split_sentences(answer)):
            folded = fold(sentence)
            cost = approx_tokens(sentence)
            keys = {t.key for t in terms(sentence)}
            whole = sentence_filler.search(folded)
            if whole:
                filler += cost
                filler_found.append(sentence)
                continue
            if any(_overlap(keys, earlier) >= _REPEAT_OVERLAP for earlier in seen):
                repeated += cost
                repeated_found.append(sentence)
                continue
            if index == 0 and len(keys) >= 3 and keys <= question_keys:
                restated += cost
                continue
            for match in phrase_filler.finditer(folded):
                filler += approx_tokens(match.group(0))
                filler_found.append(match.group(0))
            if keys:
                seen.append(keys)
        kind = expected_type(sample.input) if sample.input.strip() else None
        budget = self.short_answer_budget if kind not in (None, AnswerType.OPEN) else None
        over = 0
        if budget is not None:
            over = round(max(0, total - filler - repeated - restated - budget) * _OVERLENGTH_WEIGHT)
        wasted = min(total, filler + repeated + restated + over)
        score = 1.0 - wasted / total if total else 1.0
        waste = {"filler": filler, "repetition": repeated, "restated_question": restated, "over_length": over}
        details: dict[str, object] = {
            "total_tokens": total,
            "wasted_tokens": wasted,
            "waste": waste,
            "filler_found": filler_found,
            "repeated_sentences": repeated_found,
            "expected_tokens": budget,
            "expected_type": kind.value if kind is not None else None,
        }
        return self._result(score=score, explanation=_explain(wasted, total, waste), details=details)


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _explain(wasted: int, total: int, waste: dict[str, int]) -> str:
    if wasted == 0:
        return f"No padding found in {total} tokens."
    names = {"filler": "filler", "repetition": "repetition", "restated_question": "restating the question", "over_length": "length beyond a short answer"}
    parts = [f"{names[k]} {v}" for k, v in waste.items() if v]
    return f"About {wasted} of {total} tokens are padding ({', '.join(parts)})."
