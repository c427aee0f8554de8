"""Answer relevance: does the answer address the question that was asked?

With an embedder, the score follows the question-answer cosine similarity. Without one, a
lexical fallback: how many of the question's key terms the answer takes up, plus whether it
contains the kind of thing asked for (a date for "when", a name for "who", a yes/no for "is").
A short answer of the right type ("In 1889.") counts as direct even with no word in common.
"""

from __future__ import annotations

from obs_core.evals._answer_type import AnswerType, expected_type, has_type
from obs_core.evals._support import KIND_WEIGHT
from obs_core.evals._text import terms, wordlist
from obs_core.evals._vectors import cosine, ramp
from obs_core.evals.base import BaseEvaluator, EvalResult, EvalSample, MissingInputError
from obs_core.evals.embedders import Embedder

__all__ = ["Relevance"]

_QUESTION_WORDS = frozenset({"what", "which", "who", "whom", "whose", "when", "where", "why", "how", "name"})
_FULL_COVERAGE = 0.6
"""Taking up this share of the question's key terms counts as fully on topic."""
_DIRECT_SCORE = 0.85
_DIRECT_MAX_WORDS = 8
_TYPE_SHARE = 0.4


class Relevance(BaseEvaluator):
    """Scores whether the answer addresses the question; 1 = squarely on topic.

    ``low``/``high`` map the embedder's cosine similarity to [0, 1]; the defaults suit sentence
    models such as all-MiniLM-L6-v2, where unrelated texts sit near 0.1 and an answer to its
    question above 0.5.
    """

    default_name = "relevance"
    base_version = "1.0"
    pass_label = "relevant"
    fail_label = "irrelevant"

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        embedder: Embedder | None = None,
        low: float = 0.1,
        high: float = 0.5,
        name: str | None = None,
    ) -> None:
        super().__init__(threshold=threshold, name=name)
        self.embedder = embedder
        self.low = low
        self.high = high

    def _evaluate(self, sample: EvalSample) -> EvalResult:
        question, answer = sample.input.strip(), sample.output.strip()
        if not question or not answer:
            raise MissingInputError("relevance needs both a question (input) and an answer (output)")
        kind = expected_type(question)
        typed = kind not in (None, AnswerType.OPEN) and kind is not None and has_type(answer, kind)
        direct = typed and len(answer.split()) <= _DIRECT_MAX_WORDS
        coverage, missing = _coverage(question, answer)
        details: dict[str, object] = {
            "expected_type": kind.value if kind is not None else None,
            "type_matched": typed,
            "direct_answer": direct,
            "question_term_coverage": round(coverage, 4),
            "question_terms_missing": missing,
        }
        if self.embedder is not None:
            question_vector, answer_vector = self.embedder.embed([question, answer])
            similarity = cosine(question_vector, answer_vector)
            details["similarity"] = round(similarity, 4)
            score = max(ramp(similarity, low=self.low, high=self.high), _DIRECT_SCORE if direct else 0.0)
            basis = f"question-answer similarity {similarity:.2f}"
        else:
            on_topic = min(1.0, coverage / _FULL_COVERAGE)
            score = max(on_topic, _DIRECT_SCORE if direct else 0.0, _TYPE_SHARE * typed + (1 - _TYPE_SHARE) * on_topic)
            basis = f"answer takes up {coverage:.0%} of the question's key terms"
        return self._result(score=score, explanation=_explain(score >= self.threshold, basis, kind, typed, direct, missing), details=details)


def _coverage(question: str, answer: str) -> tuple[float, list[str]]:
    """Weighted share of the question's key terms that reappear in the answer."""
    generic = wordlist("generic_words")
    answer_keys = {t.key for t in terms(answer)}
    total = found = 0.0
    missing: list[str] = []
    for term in terms(question):
        if term.kind == "negation" or term.surface.lower() in _QUESTION_WORDS:
            continue
        weight = KIND_WEIGHT[term.kind] * (0.3 if term.key in generic else 1.0)
        total += weight
        if term.key in answer_keys:
            found += weight
        else:
            missing.append(term.surface)
    return (found / total if total else 0.0), list(dict.fromkeys(missing))


def _explain(
    passed: bool, basis: str, kind: AnswerType | None, typed: bool, direct: bool, missing: list[str]
) -> str:
    if direct and kind is not None:
        return f"A direct {kind.value.replace('_', '/')} answer to the question ({basis})."
    if passed:
        return f"The answer addresses the question ({basis})."
    wanted = f"; the question asks for a {kind.value.replace('_', '/')} and none is given" if kind not in (None, AnswerType.OPEN) and not typed else ""
    left_out = f"; it never mentions {', '.join(missing[:5])}" if missing else ""
    return f"The answer does not address the question ({basis}{wanted}{left_out})."
