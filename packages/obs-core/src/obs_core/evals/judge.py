"""LLM-as-judge: a rubric evaluator over any judge model, and a claim-checking groundedness judge.

The judge can be a LangChain chat model, a LlamaIndex LLM or an OpenAI-compatible endpoint
(:class:`OpenAIJudgeModel`, standard library only). It is asked for JSON
(``{"score": ..., "label": ..., "explanation": ...}``); unreadable answers are asked again a
bounded number of times with backoff. Everything sent to the judge first goes through the shared
scrubber (redacted mode), and every call runs with instrumentation suppressed, so the judge's
tokens and cost appear only in ``EvalResult.details["judge"]``, never in the application's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Literal

from obs_core.evals._judge_calls import JudgeCaller, JudgeUsage, SupportsScrub, bounded
from obs_core.evals._judge_clients import (
    JudgeError,
    JudgeModel,
    JudgeReply,
    LangChainJudgeModel,
    LlamaIndexJudgeModel,
    Message,
    OpenAIJudgeModel,
    as_judge_model,
    suppressed_instrumentation,
)
from obs_core.evals._judge_parse import (
    JudgeOutputError,
    JudgeVerdict,
    first_json_object,
    parse_verdict,
)
from obs_core.evals.base import BaseEvaluator, EvalResult, EvalSample, MissingInputError
from obs_core.pricing import PriceTable

__all__ = [
    "JudgeError",
    "JudgeGroundedness",
    "JudgeModel",
    "JudgeOutputError",
    "JudgeReply",
    "JudgeVerdict",
    "LLMJudge",
    "LangChainJudgeModel",
    "LlamaIndexJudgeModel",
    "OpenAIJudgeModel",
    "as_judge_model",
    "parse_verdict",
    "suppressed_instrumentation",
]

SampleField = Literal["input", "output", "contexts"]

_SYSTEM = (
    "You are a strict evaluator. Judge the material below against the rubric. Reply with only "
    'a JSON object: {{"score": <number from {low:g} to {high:g}, higher is better>, '
    '"label": "<one word>", "explanation": "<one or two sentences>"}}.'
)


class _JudgeEvaluator(BaseEvaluator):
    """What both judges share: the model, retries, scrubbing, usage accounting and versioning."""

    base_version = "1.0"

    def __init__(
        self,
        *,
        judge: Any,
        threshold: float,
        name: str | None,
        max_retries: int,
        backoff_s: float,
        scrubber: SupportsScrub | None,
        prices: PriceTable | None,
        max_chars: int,
        sleep: Callable[[float], None] | None,
    ) -> None:
        super().__init__(threshold=threshold, name=name)
        self.model = as_judge_model(judge)
        extra = {"sleep": sleep} if sleep is not None else {}
        self._caller = JudgeCaller(
            model=self.model, max_retries=max_retries, backoff_s=backoff_s,
            prices=prices if prices is not None else PriceTable.default(), **extra,
        )
        self._scrubber = scrubber
        self.max_chars = max_chars

    @property
    def judge_model(self) -> str:
        """The judge's identity, part of cache keys next to :attr:`version`."""
        return self.model.model_id

    def _scrub(self, text: str) -> str:
        """Scrubbed, then cut to ``max_chars``: cutting first could split a value (half a card
        number, an e-mail without its domain) so that no detector recognises what is sent."""
        if self._scrubber is None:
            from obs_core.payloads import Scrubber

            self._scrubber = Scrubber()
        return bounded(self._scrubber.scrub(text), self.max_chars)

    def _usage(self) -> JudgeUsage:
        return JudgeUsage(model=self.model.model_id)

    def _ask(self, messages: Sequence[Message], parse: Callable[[str], Any], usage: JudgeUsage) -> Any:
        return self._caller.ask(messages, parse, usage)


class LLMJudge(_JudgeEvaluator):
    """Scores a sample against a free-text rubric; 1 = best.

    ``requires`` names the sample fields the rubric needs (and sends); a sample missing one
    yields a ``MissingInputError`` failure without calling the judge. ``scale`` is the score
    range the judge is told to use; scores are normalised to [0, 1].
    """

    default_name = "llm_judge"

    def __init__(
        self,
        *,
        judge: Any,
        rubric: str,
        name: str | None = None,
        threshold: float = 0.5,
        requires: Sequence[SampleField] = ("input", "output"),
        scale: tuple[float, float] = (0.0, 1.0),
        pass_label: str = "pass",
        fail_label: str = "fail",
        max_retries: int = 2,
        backoff_s: float = 0.5,
        scrubber: SupportsScrub | None = None,
        prices: PriceTable | None = None,
        max_chars: int = 20_000,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(judge=judge, threshold=threshold, name=name, max_retries=max_retries,
                         backoff_s=backoff_s, scrubber=scrubber, prices=prices,
                         max_chars=max_chars, sleep=sleep)
        if not rubric.strip():
            raise ValueError("the rubric must not be empty")
        if scale[1] <= scale[0]:
            raise ValueError("scale must be (low, high) with low < high")
        self.rubric = rubric
        self.requires = tuple(requires)
        self.scale = scale
        self.labels = (pass_label, fail_label)

    @property
    def version(self) -> str:
        digest = hashlib.sha256(
            f"{self.rubric}\x00{self.requires}\x00{self.scale}".encode()
        ).hexdigest()[:10]
        return f"{self.base_version}+{digest}"

    def _evaluate(self, sample: EvalSample) -> EvalResult:
        for needed in self.requires:
            if not _has(sample, needed):
                raise MissingInputError(f"{self.name} needs the sample's {needed}")
        usage = self._usage()
        verdict: JudgeVerdict = self._ask(
            self._messages(sample), lambda text: parse_verdict(text, scale=self.scale), usage
        )
        passed = verdict.score >= self.threshold
        return EvalResult(
            name=self.name, score=verdict.score,
            label=verdict.label or (self.labels[0] if passed else self.labels[1]),
            passed=passed, threshold=self.threshold,
            explanation=verdict.explanation or "The judge gave no explanation.",
            version=self.version, details={"judge": usage.as_details()},
        )

    def _messages(self, sample: EvalSample) -> list[Message]:
        low, high = self.scale
        parts = [f"Rubric:\n{self.rubric}"]
        if "input" in self.requires or sample.input:
            parts.append(f"Question:\n{self._scrub(sample.input)}")
        if "contexts" in self.requires or sample.contexts:
            joined = "\n---\n".join(sample.contexts)
            parts.append(f"Retrieved context:\n{self._scrub(joined)}")
        parts.append(f"Answer:\n{self._scrub(sample.output)}")
        return [
            {"role": "system", "content": _SYSTEM.format(low=low, high=high)},
            {"role": "user", "content": "\n\n".join(parts)},
        ]


_CLAIMS_PROMPT = (
    "Break the answer below into short, self-contained factual claims (resolve pronouns). "
    'Reply with only a JSON object: {"claims": ["...", "..."]}. Use an empty list when the '
    "answer states no facts.\n\nQuestion:\n{question}\n\nAnswer:\n{answer}"
)
_VERIFY_PROMPT = (
    "For each numbered claim, decide whether the context supports it. A claim the context does "
    "not state is unsupported, even if it is true. Reply with only a JSON object: "
    '{"verdicts": [{"claim": <number>, "supported": true|false, "reason": "..."}]}.'
    "\n\nContext:\n{context}\n\nClaims:\n{claims}"
)
_MAX_CLAIMS = 50
_MAX_LISTED = 3


class JudgeGroundedness(_JudgeEvaluator):
    """Groundedness by the judge: the answer is split into claims, then each claim is checked
    against the contexts. Score = supported claims / claims (1 when the answer states none)."""

    default_name = "groundedness_judge"
    pass_label = "grounded"
    fail_label = "ungrounded"

    def __init__(
        self,
        *,
        judge: Any,
        name: str | None = None,
        threshold: float = 0.75,
        max_retries: int = 2,
        backoff_s: float = 0.5,
        scrubber: SupportsScrub | None = None,
        prices: PriceTable | None = None,
        max_chars: int = 20_000,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(judge=judge, threshold=threshold, name=name, max_retries=max_retries,
                         backoff_s=backoff_s, scrubber=scrubber, prices=prices,
                         max_chars=max_chars, sleep=sleep)

    def _evaluate(self, sample: EvalSample) -> EvalResult:
        if not sample.output.strip():
            raise MissingInputError(f"{self.name} needs an answer (output)")
        if not any(c.strip() for c in sample.contexts):
            raise MissingInputError(f"{self.name} needs retrieved contexts")
        usage = self._usage()
        claims: list[str] = self._ask([{"role": "user", "content": _CLAIMS_PROMPT.replace(
            "{question}", self._scrub(sample.input)).replace("{answer}", self._scrub(sample.output))}],
            _parse_claims, usage)
        if not claims:
            result = self._result(score=1.0, explanation="The answer states no factual claims.",
                                  details={"claims": 0, "judge": usage.as_details()})
            return result
        numbered = "\n".join(f"{i}. {c}" for i, c in enumerate(claims, start=1))
        context = self._scrub("\n---\n".join(sample.contexts))
        prompt = _VERIFY_PROMPT.replace("{context}", context).replace("{claims}", numbered)
        supported: dict[int, bool] = self._ask(
            [{"role": "user", "content": prompt}], lambda t: _parse_verdicts(t, len(claims)), usage
        )
        unsupported = [claims[i - 1] for i in range(1, len(claims) + 1) if not supported[i]]
        score = 1.0 - len(unsupported) / len(claims)
        if unsupported:
            listed = "; ".join(repr(c) for c in unsupported[:_MAX_LISTED])
            more = f" and {len(unsupported) - _MAX_LISTED} more" if len(unsupported) > _MAX_LISTED else ""
            explanation = f"{len(unsupported)} of {len(claims)} claims unsupported: {listed}{more}."
        else:
            explanation = f"All {len(claims)} claims are supported by the context."
        return self._result(score=score, explanation=explanation, details={
            "claims": len(claims), "unsupported_claims": unsupported[:_MAX_CLAIMS],
            "judge": usage.as_details(),
        })


def _parse_claims(text: str) -> list[str]:
    claims = first_json_object(text).get("claims")
    if not isinstance(claims, list):
        raise JudgeOutputError("the judge's answer has no claims list")
    return [c.strip() for c in claims if isinstance(c, str) and c.strip()][:_MAX_CLAIMS]


def _parse_verdicts(text: str, count: int) -> dict[int, bool]:
    verdicts = first_json_object(text).get("verdicts")
    if not isinstance(verdicts, list):
        raise JudgeOutputError("the judge's answer has no verdicts list")
    found: dict[int, bool] = {}
    for position, item in enumerate(verdicts, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("supported"), bool):
            continue
        index = item.get("claim", position)
        index = index if isinstance(index, int) and 1 <= index <= count else position
        found[index] = item["supported"]
    if set(found) != set(range(1, count + 1)):
        raise JudgeOutputError(f"the judge judged {len(found)} of {count} claims")
    return found


def _has(sample: EvalSample, needed: SampleField) -> bool:
    if needed == "contexts":
        return any(c.strip() for c in sample.contexts)
    return bool(getattr(sample, needed).strip())
