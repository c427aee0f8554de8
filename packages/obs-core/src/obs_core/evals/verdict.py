"""The hallucination verdict: three independent layers of evidence, combined with reasons.

1. **Groundedness** - the answer against the retrieved contexts (needs ``contexts``).
2. **Logprob confidence** - the model's own certainty on its facts (needs ``logprobs``).
3. **Semantic consistency** - agreement across re-samples of the prompt (needs ``samples``).

Each layer runs only when the sample carries its input. The answer is judged a hallucination
when any layer that ran flags it; every flag comes with that layer's explanation.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, ConfigDict, Field

from obs_core.evals.base import (
    BaseEvaluator,
    EvalFailure,
    EvalResult,
    EvalSample,
    MissingInputError,
)
from obs_core.evals.confidence import LogprobConfidence
from obs_core.evals.consistency import SemanticConsistency
from obs_core.evals.embedders import Embedder
from obs_core.evals.groundedness import Groundedness

__all__ = ["HallucinationDetector", "HallucinationVerdict", "LayerFlag"]


class LayerFlag(BaseModel):
    """One layer's objection to the answer."""

    model_config = ConfigDict(extra="forbid")

    layer: str
    score: float
    threshold: float
    reason: str


class HallucinationVerdict(BaseModel):
    """The combined judgement, with every layer's outcome kept for inspection."""

    model_config = ConfigDict(extra="forbid")

    hallucinated: bool
    flags: list[LayerFlag] = Field(default_factory=list)
    layers: dict[str, EvalResult | EvalFailure] = Field(default_factory=dict)
    """Outcome per layer that ran (a crashed layer is an :class:`EvalFailure`, not a flag)."""
    skipped: dict[str, str] = Field(default_factory=dict)
    """Layer name → which input the sample lacked."""

    @property
    def reasons(self) -> list[str]:
        return [f"{flag.layer}: {flag.reason}" for flag in self.flags]


def _normalised(result: EvalResult) -> float:
    """Put each layer's score on one scale where its own threshold sits at 0.5."""
    t = result.threshold
    if result.score < t:
        return 0.5 * result.score / t if t > 0 else 0.0
    return 1.0 if t >= 1.0 else 0.5 + 0.5 * (result.score - t) / (1.0 - t)


class HallucinationDetector(BaseEvaluator):
    """Runs whichever layers the sample supports and returns one verdict.

    As an evaluator its score is the lowest layer score on a common scale (each layer's
    threshold maps to 0.5), so ``passed`` is false exactly when some layer flagged; the full
    :class:`HallucinationVerdict` is in ``details``. Use :meth:`verdict` to get it typed.
    """

    default_name = "hallucination"
    base_version = "1.0"
    pass_label = "supported"
    fail_label = "hallucination"

    def __init__(
        self,
        *,
        groundedness: Groundedness | None = None,
        confidence: LogprobConfidence | None = None,
        consistency: SemanticConsistency | None = None,
        embedder: Embedder | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(threshold=0.5, name=name)
        self.groundedness = groundedness or Groundedness(embedder=embedder)
        self.confidence = confidence or LogprobConfidence()
        self.consistency = consistency or SemanticConsistency(embedder=embedder)

    @property
    def version(self) -> str:
        parts = (self.groundedness, self.confidence, self.consistency)
        return self.base_version + "[" + ";".join(f"{p.name}={p.version}" for p in parts) + "]"

    def _plan(self, sample: EvalSample) -> tuple[list[BaseEvaluator], dict[str, str]]:
        layers: list[BaseEvaluator] = []
        skipped: dict[str, str] = {}
        if any(c.strip() for c in sample.contexts):
            layers.append(self.groundedness)
        else:
            skipped[self.groundedness.name] = "no retrieved contexts"
        if sample.logprobs:
            layers.append(self.confidence)
        else:
            skipped[self.confidence.name] = "no token logprobs"
        if any(s.strip() for s in sample.samples):
            layers.append(self.consistency)
        else:
            skipped[self.consistency.name] = "no extra samples"
        return layers, skipped

    def verdict(self, sample: EvalSample) -> HallucinationVerdict:
        """Run the applicable layers; never raises (layer crashes are recorded per layer)."""
        layers, skipped = self._plan(sample)
        return _combine({layer.name: layer.evaluate(sample) for layer in layers}, skipped)

    async def averdict(self, sample: EvalSample) -> HallucinationVerdict:
        """Async twin of :meth:`verdict`; the layers run concurrently."""
        layers, skipped = self._plan(sample)
        outcomes = await asyncio.gather(*(layer.aevaluate(sample) for layer in layers))
        return _combine({layer.name: outcome for layer, outcome in zip(layers, outcomes, strict=True)}, skipped)

    def _evaluate(self, sample: EvalSample) -> EvalResult:
        return self._as_result(self.verdict(sample))

    async def _aevaluate(self, sample: EvalSample) -> EvalResult:
        return self._as_result(await self.averdict(sample))

    def _as_result(self, verdict: HallucinationVerdict) -> EvalResult:
        scored = {name: outcome for name, outcome in verdict.layers.items() if isinstance(outcome, EvalResult)}
        if not scored:
            if not verdict.layers:
                raise MissingInputError("no hallucination layer applies: the sample has no contexts, logprobs or samples")
            failed = ", ".join(f"{n} ({o.error_type})" for n, o in verdict.layers.items() if isinstance(o, EvalFailure))
            raise RuntimeError(f"every applicable layer failed: {failed}")
        score = min(_normalised(result) for result in scored.values())
        if verdict.flags:
            explanation = "Likely hallucination. " + " ".join(f"[{r}]" for r in verdict.reasons)
        else:
            explanation = f"No layer flagged the answer (checked: {', '.join(scored)})."
        return self._result(score=score, explanation=explanation, details=verdict.model_dump(mode="json"))


def _combine(outcomes: dict[str, EvalResult | EvalFailure], skipped: dict[str, str]) -> HallucinationVerdict:
    flags = [
        LayerFlag(layer=name, score=outcome.score, threshold=outcome.threshold, reason=outcome.explanation)
        for name, outcome in outcomes.items()
        if isinstance(outcome, EvalResult) and not outcome.passed
    ]
    return HallucinationVerdict(hallucinated=bool(flags), flags=flags, layers=outcomes, skipped=skipped)
