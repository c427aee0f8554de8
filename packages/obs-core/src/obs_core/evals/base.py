"""The evaluator contract: what goes in (:class:`EvalSample`), what comes out (:class:`EvalResult`
or :class:`EvalFailure`), and the one place where a crashing evaluator is turned into data.

Every evaluator, offline heuristic or model-backed judge, has a ``name``, a ``version`` (part of
any cache key: bump it whenever scores for the same sample could change) and two entry points,
``evaluate`` and its async twin ``aevaluate``. Neither ever raises into the caller.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from obs_core._selfmetrics import count_internal_error

logger = logging.getLogger("obs.evals")

__all__ = [
    "BaseEvaluator",
    "EvalFailure",
    "EvalOutcome",
    "EvalResult",
    "EvalSample",
    "Evaluator",
    "MissingInputError",
    "TokenLogprob",
]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TokenLogprob(_Record):
    """One generated token with the natural-log probability the provider reported for it."""

    token: str
    logprob: float = Field(le=0.0)
    """``log p``; providers report values ≤ 0 (rounding noise above 0 is clipped on input)."""

    @field_validator("logprob", mode="before")
    @classmethod
    def _clip_rounding(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and 0.0 < value < 1e-3:
            return 0.0
        return value


def _context_text(item: Any) -> str:
    """Accept plain strings and document-like objects (``content``, ``page_content``, ``text``)."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in ("content", "page_content", "text"):
            if isinstance(item.get(key), str):
                return str(item[key])
    for attribute in ("content", "page_content", "text"):
        value = getattr(item, attribute, None)
        if isinstance(value, str):
            return value
    raise ValueError(f"cannot read text from a context of type {type(item).__name__}")


class EvalSample(_Record):
    """One model interaction to be judged. Every field is optional; evaluators say what they need."""

    input: str = Field(default="", validation_alias=AliasChoices("input", "question"))
    """The user's question or prompt (also accepted as ``question=``)."""
    output: str = Field(default="", validation_alias=AliasChoices("output", "answer"))
    """The model's answer (also accepted as ``answer=``)."""
    contexts: list[str] = Field(default_factory=list)
    """Retrieved texts the answer should rest on; document objects are reduced to their text."""
    logprobs: list[TokenLogprob] | None = None
    """The answer's tokens with log probabilities; ``(token, logprob)`` pairs are accepted."""
    samples: list[str] = Field(default_factory=list)
    """Further answers sampled for the same prompt, for consistency checks."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Free-form identifiers (trace id, span id, dataset row) carried through untouched."""

    if TYPE_CHECKING:
        # The signature the validators accept: aliases, document objects, (token, logprob) pairs.
        def __init__(
            self,
            *,
            input: str = "",
            output: str = "",
            question: str = "",
            answer: str = "",
            contexts: Sequence[Any] | str = (),
            logprobs: Sequence[TokenLogprob | tuple[str, float]] | None = None,
            samples: Sequence[str] = (),
            metadata: dict[str, Any] = ...,
        ) -> None: ...

    @field_validator("contexts", mode="before")
    @classmethod
    def _contexts_as_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        if isinstance(value, Sequence):
            return [_context_text(item) for item in value]
        return value

    @field_validator("logprobs", mode="before")
    @classmethod
    def _pairs_as_tokens(cls, value: Any) -> Any:
        if isinstance(value, Sequence) and not isinstance(value, str):
            return [
                {"token": item[0], "logprob": item[1]} if isinstance(item, (tuple, list)) else item
                for item in value
            ]
        return value

    @property
    def question(self) -> str:
        return self.input

    @property
    def answer(self) -> str:
        return self.output


class EvalResult(_Record):
    """A score with its judgement: what was measured, how it came out, and why."""

    kind: Literal["result"] = "result"
    name: str
    """The evaluator's name, e.g. ``groundedness``."""
    score: float = Field(ge=0.0, le=1.0)
    """1 is best for every evaluator (grounded, relevant, safe, concise, confident, consistent)."""
    label: str
    """A word for the outcome, e.g. ``grounded`` / ``ungrounded``."""
    passed: bool
    """``score >= threshold``."""
    threshold: float = Field(ge=0.0, le=1.0)
    explanation: str
    """One or two sentences a person can act on; names the offending claims or terms."""
    version: str
    """The evaluator version that produced the score (part of any cache key)."""
    details: dict[str, Any] = Field(default_factory=dict)
    """Evaluator-specific numbers (JSON-serialisable) behind the score."""
    duration_ms: float | None = None


class EvalFailure(_Record):
    """An evaluator that could not produce a score. Data, not an exception."""

    kind: Literal["failure"] = "failure"
    name: str
    version: str
    error_type: str
    """The exception class name, e.g. ``MissingInputError`` or ``TimeoutError``."""
    message: str
    duration_ms: float | None = None


EvalOutcome = Annotated[EvalResult | EvalFailure, Field(discriminator="kind")]
"""What an evaluation returns; ``kind`` tells the two apart after a round trip through JSON."""


class MissingInputError(ValueError):
    """The sample lacks what the evaluator needs (contexts, logprobs, extra samples...)."""


@runtime_checkable
class Evaluator(Protocol):
    """Anything that scores samples. Implementations must never raise from either method."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    def evaluate(self, sample: EvalSample) -> EvalResult | EvalFailure: ...

    async def aevaluate(self, sample: EvalSample) -> EvalResult | EvalFailure: ...


_MAX_MESSAGE = 500


class BaseEvaluator(ABC):
    """Turns ``_evaluate`` into the safe public pair ``evaluate`` / ``aevaluate``.

    Subclasses implement ``_evaluate`` (and may override ``_aevaluate`` when they have native
    async I/O, as model-backed judges do); any ``Exception`` they raise becomes an
    :class:`EvalFailure`. Cancellation is not an ``Exception`` and still propagates.
    """

    default_name: ClassVar[str]
    base_version: ClassVar[str]
    pass_label: ClassVar[str] = "pass"
    fail_label: ClassVar[str] = "fail"
    _logged_failures: ClassVar[set[tuple[str, str]]] = set()

    def __init__(self, *, threshold: float, name: str | None = None) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within [0, 1], got {threshold}")
        self.threshold = threshold
        self._name = name or self.default_name

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        """The base version, plus the embedder's identity for evaluators that use one: a
        different embedder gives different scores, so cached results must not be shared."""
        embedder = getattr(self, "embedder", None)
        if embedder is None:
            return self.base_version
        from obs_core.evals.embedders import embedder_id

        return f"{self.base_version}+{embedder_id(embedder)}"

    @abstractmethod
    def _evaluate(self, sample: EvalSample) -> EvalResult: ...

    async def _aevaluate(self, sample: EvalSample) -> EvalResult:
        """Default async path: the sync work runs on a worker thread so the loop stays free."""
        return await asyncio.to_thread(self._evaluate, sample)

    def evaluate(self, sample: EvalSample) -> EvalResult | EvalFailure:
        started = time.perf_counter()
        try:
            result = self._evaluate(sample)
        except Exception as exc:  # noqa: BLE001 - the one place a crashing evaluator becomes data
            return self._failure(exc, started)
        return result.model_copy(update={"duration_ms": _elapsed_ms(started)})

    async def aevaluate(self, sample: EvalSample) -> EvalResult | EvalFailure:
        started = time.perf_counter()
        try:
            result = await self._aevaluate(sample)
        except Exception as exc:  # noqa: BLE001 - the one place a crashing evaluator becomes data
            return self._failure(exc, started)
        return result.model_copy(update={"duration_ms": _elapsed_ms(started)})

    def _result(self, *, score: float, explanation: str, details: dict[str, Any] | None = None) -> EvalResult:
        """Build a result with this evaluator's name, version, threshold and labels."""
        score = min(1.0, max(0.0, score))
        passed = score >= self.threshold
        return EvalResult(
            name=self.name,
            score=score,
            label=self.pass_label if passed else self.fail_label,
            passed=passed,
            threshold=self.threshold,
            explanation=explanation,
            version=self.version,
            details=details or {},
        )

    def _failure(self, exc: Exception, started: float) -> EvalFailure:
        error_type = type(exc).__name__
        key = (self.name, error_type)
        if not isinstance(exc, MissingInputError):
            count_internal_error(f"evaluator:{self.name}")
        if key not in self._logged_failures and not isinstance(exc, MissingInputError):
            self._logged_failures.add(key)
            logger.warning("evaluator %s failed with %s", self.name, error_type, exc_info=exc)
        else:
            logger.debug("evaluator %s failed with %s: %s", self.name, error_type, exc)
        return EvalFailure(
            name=self.name,
            version=self.version,
            error_type=error_type,
            message=str(exc)[:_MAX_MESSAGE],
            duration_ms=_elapsed_ms(started),
        )


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)
