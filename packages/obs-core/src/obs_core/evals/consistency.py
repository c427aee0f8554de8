"""Semantic consistency: do several samples of the same prompt say the same thing?

A model that knows an answer repeats it; one that makes it up tends to make up a different one
each time. The answer and the extra samples in ``sample.samples`` are embedded and compared
pairwise. Each pair also has to agree on its facts (numbers and names): embeddings barely
notice "built in 1889" against "built in 1925", a fact check does.
"""

from __future__ import annotations

from itertools import combinations

from obs_core.evals._text import terms
from obs_core.evals._vectors import cosine, ramp
from obs_core.evals.base import BaseEvaluator, EvalResult, EvalSample, MissingInputError
from obs_core.evals.embedders import Embedder, HashingEmbedder

__all__ = ["SemanticConsistency"]

_HASHING_RANGE = (0.1, 0.5)
"""Cosine range of the hashing fallback mapped to [0, 1]: lexical vectors of two paraphrases
("completed" / "finished") land near 0.5, unrelated texts near 0."""


def _facts(text: str) -> dict[str, str]:
    """Fact key → kind (``number`` or ``entity``)."""
    return {t.key: t.kind for t in terms(text) if t.kind in ("number", "entity")}


def fact_agreement(a: dict[str, str], b: dict[str, str], a_words: set[str], b_words: set[str]) -> float | None:
    """How far two answers agree on their facts, in [0.5, 1]; None when there is nothing to compare.

    Numbers and names are compared separately. For each kind, the share of one answer's facts
    that the other answer also mentions (anywhere, in any form), taking the more favourable
    direction: an answer that merely adds a name is no disagreement, but two answers giving
    different years (or cities) are, however much else they share. The worse kind counts,
    softened to [0.5, 1] so that a clean contradiction lands at 0.5.
    """
    agreements: list[float] = []
    for kind in ("number", "entity"):
        mine = {k for k, v in a.items() if v == kind}
        theirs = {k for k, v in b.items() if v == kind}
        if not mine or not theirs:
            continue
        echoed = max(len(mine & b_words) / len(mine), len(theirs & a_words) / len(theirs))
        agreements.append(0.5 + 0.5 * echoed)
    return min(agreements) if agreements else None


class SemanticConsistency(BaseEvaluator):
    """Scores agreement among sampled answers to one prompt; 1 = all say the same.

    The score is the mean over pairs of ``min(similarity, fact agreement)``. With a sentence
    embedder the similarity is the raw cosine (flag below 0.85). Without one, the hashing
    fallback's lexical cosine is first rescaled from ``[0.1, 0.5]``; override with ``low``/``high``.
    Needs ``output`` plus at least one entry in ``samples``.
    """

    default_name = "semantic_consistency"
    base_version = "1.0"
    pass_label = "consistent"
    fail_label = "inconsistent"

    def __init__(
        self,
        *,
        threshold: float = 0.85,
        embedder: Embedder | None = None,
        low: float | None = None,
        high: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(threshold=threshold, name=name)
        default_low, default_high = _HASHING_RANGE if embedder is None else (0.0, 1.0)
        self.embedder: Embedder = embedder if embedder is not None else HashingEmbedder()
        self.low = default_low if low is None else low
        self.high = default_high if high is None else high

    def _evaluate(self, sample: EvalSample) -> EvalResult:
        answers = [text.strip() for text in [sample.output, *sample.samples] if text.strip()]
        if len(answers) < 2:
            raise MissingInputError("semantic consistency needs the answer and at least one more sample")
        vectors = self.embedder.embed(answers)
        facts = [_facts(text) for text in answers]
        words = [{t.key for t in terms(text)} for text in answers]
        surfaces = {t.key: t.surface for text in answers for t in terms(text)}
        pairs: list[dict[str, object]] = []
        scores: list[float] = []
        per_answer: list[list[float]] = [[] for _ in answers]
        for i, j in combinations(range(len(answers)), 2):
            similarity = cosine(vectors[i], vectors[j])
            agreement = fact_agreement(facts[i], facts[j], words[i], words[j])
            pair_score = ramp(similarity, low=self.low, high=self.high)
            if agreement is not None:
                pair_score = min(pair_score, agreement)
            scores.append(pair_score)
            per_answer[i].append(pair_score)
            per_answer[j].append(pair_score)
            pairs.append({"a": i, "b": j, "cosine": round(similarity, 4), "fact_agreement": None if agreement is None else round(agreement, 4), "score": round(pair_score, 4)})
        score = sum(scores) / len(scores)
        outlier = min(range(len(answers)), key=lambda k: sum(per_answer[k]) / len(per_answer[k]))
        conflicting = [surfaces.get(key, key) for key in _conflicts(facts)]
        details: dict[str, object] = {
            "samples": len(answers),
            "pairs": pairs,
            "min_pair_score": round(min(scores), 4),
            "most_divergent": outlier,
            "conflicting_facts": conflicting,
        }
        if score >= self.threshold:
            explanation = f"{len(answers)} samples agree (mean pairwise score {score:.2f})."
        else:
            facts_note = f"; facts not shared by all samples: {', '.join(conflicting[:6])}" if conflicting else ""
            explanation = (
                f"{len(answers)} samples disagree (mean pairwise score {score:.2f} < {self.threshold:.2f});"
                f" most divergent: “{_clip(answers[outlier])}”{facts_note}."
            )
        return self._result(score=score, explanation=explanation, details=details)


def _conflicts(facts: list[dict[str, str]]) -> list[str]:
    """Facts some samples state and others (that state facts at all) do not."""
    stated = [f for f in facts if f]
    if len(stated) < 2:
        return []
    everywhere = set.intersection(*(set(f) for f in stated))
    return sorted({k for f in stated for k in f} - everywhere)


def _clip(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
