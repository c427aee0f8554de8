"""Groundedness (RAG faithfulness): is every claim of the answer backed by the retrieved contexts?

Offline by default: claims are checked term by term, passage by passage and phrase by phrase
against the contexts (see :mod:`obs_core.evals._support`). With an embedder, paraphrased
ordinary words also earn credit; numbers, names and negations must still match literally.
A score below the threshold (default 0.75) flags the answer as a likely hallucination.
"""

from __future__ import annotations

from obs_core.evals._support import ClaimReport, assess, index_contexts
from obs_core.evals._vectors import cosine
from obs_core.evals.base import BaseEvaluator, EvalResult, EvalSample, MissingInputError
from obs_core.evals.embedders import Embedder

__all__ = ["Groundedness"]

_MAX_LISTED = 3


class Groundedness(BaseEvaluator):
    """Scores how well the contexts support the answer; 1 = every claim supported.

    Needs ``output`` and ``contexts``; ``input`` (the question) is optional but improves the
    score, because terms the answer merely copies from the question are not counted as evidence.
    """

    default_name = "groundedness"
    base_version = "1.0"
    pass_label = "grounded"
    fail_label = "ungrounded"

    def __init__(
        self,
        *,
        threshold: float = 0.75,
        embedder: Embedder | None = None,
        name: str | None = None,
        max_answer_chars: int = 20_000,
        max_context_chars: int = 200_000,
    ) -> None:
        super().__init__(threshold=threshold, name=name)
        self.embedder = embedder
        self.max_answer_chars = max_answer_chars
        self.max_context_chars = max_context_chars

    def _evaluate(self, sample: EvalSample) -> EvalResult:
        if not sample.output.strip():
            raise MissingInputError("groundedness needs an answer (output)")
        contexts, truncated = self._bounded_contexts(sample.contexts)
        if not contexts:
            raise MissingInputError("groundedness needs retrieved contexts")
        answer = sample.output[: self.max_answer_chars]
        truncated = truncated or len(sample.output) > self.max_answer_chars
        index = index_contexts(tuple(contexts))
        similarity = None
        if self.embedder is not None:
            embedder = self.embedder

            def similarity(claims: list[str]) -> list[float]:
                vectors = embedder.embed([*claims, *index.sentences])
                claim_vectors, sentence_vectors = vectors[: len(claims)], vectors[len(claims) :]
                return [max((cosine(c, s) for s in sentence_vectors), default=0.0) for c in claim_vectors]

        reports = assess(answer, index, question=sample.input, similarity=similarity)
        return self._build(reports, truncated=truncated)

    def _bounded_contexts(self, contexts: list[str]) -> tuple[list[str], bool]:
        kept: list[str] = []
        budget = self.max_context_chars
        for context in contexts:
            if budget <= 0:
                return kept, True
            if context.strip():
                kept.append(context[:budget])
                budget -= len(context)
        return kept, budget < 0

    def _build(self, reports: list[ClaimReport], *, truncated: bool) -> EvalResult:
        details: dict[str, object] = {
            "claims": [_claim_details(report) for report in reports],
            "unsupported_terms": list(dict.fromkeys(t for r in reports for t in r.missing)),
            "truncated": truncated,
        }
        if not reports:
            return self._result(
                score=1.0,
                explanation="The answer makes no checkable claim (only a yes/no or function words).",
                details=details,
            )
        score = min(report.score for report in reports)
        weak = [report for report in reports if report.score < self.threshold]
        if not weak:
            explanation = (
                f"All {len(reports)} claim(s) are supported by the contexts"
                f" (weakest claim scores {score:.2f})."
            )
        else:
            listed = "; ".join(_describe(report) for report in weak[:_MAX_LISTED])
            more = f"; and {len(weak) - _MAX_LISTED} more" if len(weak) > _MAX_LISTED else ""
            explanation = f"{len(weak)} of {len(reports)} claim(s) lack support: {listed}{more}."
        return self._result(score=score, explanation=explanation, details=details)


def _claim_details(report: ClaimReport) -> dict[str, object]:
    return {
        "claim": report.text,
        "score": round(report.score, 4),
        "term_support": round(report.term_support, 4),
        "locality": round(report.locality, 4),
        "phrase_support": None if report.phrase_support is None else round(report.phrase_support, 4),
        "missing_terms": report.missing,
        "scattered_terms": report.scattered,
        "broken_phrases": report.broken_phrases,
        "unsupported_negation": report.unsupported_negation,
        "evidence": report.evidence,
        "similarity": None if report.similarity is None else round(report.similarity, 4),
    }


def _describe(report: ClaimReport) -> str:
    reasons: list[str] = []
    if report.missing:
        reasons.append("not in the contexts: " + ", ".join(report.missing[:6]))
    if report.scattered:
        reasons.append("found only in other passages: " + ", ".join(report.scattered[:6]))
    if report.unsupported_negation:
        reasons.append("the negation is not in the supporting passage")
    if report.broken_phrases and not reasons:
        reasons.append("not stated together: " + ", ".join(report.broken_phrases[:3]))
    why = "; ".join(reasons) or "weak overall support"
    return f"“{_clip(report.text)}” ({why})"


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
