"""RAGAS metrics as obs evaluators, judged by any obs judge model (extra ``obs-core[ragas]``).

RAGAS asks its LLM through its own wrapper class; :func:`ragas_llm` adapts an obs judge (a
LangChain chat model, a LlamaIndex LLM or an :class:`~obs_core.evals.judge.OpenAIJudgeModel`)
to it, so the judge's calls get the same treatment as every obs judge: instrumentation
suppressed and usage accounted separately (``EvalResult.details["judge"]``). Sample text is
scrubbed before RAGAS sees it. RAGAS's usage analytics are switched off
(``RAGAS_DO_NOT_TRACK=true``) before it is imported.

Importing this module does not import RAGAS; the first evaluation does, and a missing
installation becomes an ``ImportError`` failure record naming the extra.
"""

from __future__ import annotations

import asyncio
import importlib
import math
import os
import threading
import warnings
from collections.abc import Callable
from typing import Any

from obs_core.evals._judge_calls import JudgeUsage, SupportsScrub, bounded
from obs_core.evals._judge_clients import JudgeModel, as_judge_model
from obs_core.evals.base import BaseEvaluator, EvalResult, EvalSample, MissingInputError

__all__ = ["RagasMetric", "ragas_available", "ragas_llm"]

_INSTALL_HINT = "RAGAS metrics need the ragas extra: pip install 'obs-core[ragas]'"
_METRICS = {
    "faithfulness": ("ragas.metrics._faithfulness", "Faithfulness", ("input", "output", "contexts")),
}
_adapter_lock = threading.Lock()
_adapter_class: type[Any] | None = None


def ragas_available() -> bool:
    """Whether RAGAS imports here (it fails with ``langchain-community`` 0.4 and later)."""
    try:
        _import_ragas()
    except ImportError:
        return False
    return True


def _import_ragas() -> Any:
    os.environ["RAGAS_DO_NOT_TRACK"] = "true"
    try:
        import ragas.llms.base as ragas_llms
    except ImportError as exc:
        raise ImportError(f"{_INSTALL_HINT} (and langchain-community<0.4): {exc}") from exc
    # RAGAS builds an analytics event (reading its user-id file without closing it) even with
    # tracking off; do that once here, where the leaked-file warning can be silenced.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        get_userid = getattr(importlib.import_module("ragas._analytics"), "get_userid", None)
        if callable(get_userid):
            get_userid()
    return ragas_llms


def ragas_llm(judge: Any, *, usage: JudgeUsage | None = None) -> Any:
    """A RAGAS ``BaseRagasLLM`` that asks ``judge``; usage is added to ``usage`` if given."""
    model = as_judge_model(judge)
    return _adapter()(model=model, usage=usage or JudgeUsage(model=model.model_id))


def _adapter() -> type[Any]:
    global _adapter_class
    with _adapter_lock:
        if _adapter_class is None:
            _adapter_class = _build_adapter(_import_ragas())
        return _adapter_class


def _build_adapter(ragas_llms: Any) -> type[Any]:
    class ObsJudgeLLM(ragas_llms.BaseRagasLLM):  # type: ignore[misc]
        """RAGAS's LLM interface over an obs judge model."""

        def __init__(self, *, model: JudgeModel, usage: JudgeUsage) -> None:
            super().__init__()
            self.model = model
            self.usage = usage
            self._lock = threading.Lock()

        def generate_text(self, prompt: Any, n: int = 1, temperature: float | None = 0.01,
                          stop: list[str] | None = None, callbacks: Any = None) -> Any:
            del temperature, stop, callbacks  # the judge model owns its sampling settings
            text = prompt.to_string() if hasattr(prompt, "to_string") else str(prompt)
            generations = []
            for _ in range(max(1, n)):
                reply = self.model.complete([{"role": "user", "content": text}])
                with self._lock:
                    self.usage.calls += 1
                    self.usage.input_tokens += reply.input_tokens
                    self.usage.output_tokens += reply.output_tokens
                generations.append(ragas_llms.Generation(text=reply.text))
            return ragas_llms.LLMResult(generations=[generations])

        async def agenerate_text(self, prompt: Any, n: int = 1, temperature: float | None = 0.01,
                                 stop: list[str] | None = None, callbacks: Any = None) -> Any:
            return await asyncio.to_thread(self.generate_text, prompt, n, temperature, stop,
                                           callbacks)

        def is_finished(self, response: Any) -> bool:
            del response
            return True

    return ObsJudgeLLM


class RagasMetric(BaseEvaluator):
    """One RAGAS metric scored by an obs judge: ``"faithfulness"``, or any factory taking
    ``llm=`` that returns a RAGAS single-turn metric. 1 = best, like every obs evaluator."""

    default_name = "ragas"
    base_version = "0.4"

    def __init__(
        self,
        *,
        judge: Any,
        metric: str | Callable[..., Any] = "faithfulness",
        name: str | None = None,
        threshold: float = 0.5,
        scrubber: SupportsScrub | None = None,
        max_chars: int = 20_000,
    ) -> None:
        if isinstance(metric, str):
            if metric not in _METRICS:
                raise ValueError(f"unknown RAGAS metric {metric!r}; known: {sorted(_METRICS)}")
            default = f"ragas_{metric}"
            self._needs: tuple[str, ...] = _METRICS[metric][2]
        else:
            default = f"ragas_{getattr(metric, '__name__', 'metric').lower()}"
            self._needs = ("output",)
        super().__init__(threshold=threshold, name=name or default)
        self.model = as_judge_model(judge)
        self.metric = metric
        self._scrubber = scrubber
        self.max_chars = max_chars

    @property
    def judge_model(self) -> str:
        return self.model.model_id

    @property
    def version(self) -> str:
        return f"{self.base_version}+{self.metric if isinstance(self.metric, str) else self.name}"

    def _evaluate(self, sample: EvalSample) -> EvalResult:
        return asyncio.run(self._aevaluate(sample))

    async def _aevaluate(self, sample: EvalSample) -> EvalResult:
        for needed in self._needs:
            value = sample.contexts if needed == "contexts" else getattr(sample, needed)
            if not value:
                raise MissingInputError(f"{self.name} needs the sample's {needed}")
        usage = JudgeUsage(model=self.model.model_id)
        llm = _adapter()(model=self.model, usage=usage)
        scorer = self._metric(llm)
        from ragas.dataset_schema import SingleTurnSample

        turn = SingleTurnSample(
            user_input=self._scrub(sample.input) or None,
            response=self._scrub(sample.output) or None,
            retrieved_contexts=[self._scrub(c) for c in sample.contexts] or None,
        )
        score = float(await scorer.single_turn_ascore(turn))
        if math.isnan(score):
            raise ValueError("RAGAS returned no score (NaN): the judge's answers were unusable")
        return self._result(score=score, explanation=f"RAGAS {self.name} = {score:.2f}.",
                            details={"judge": usage.as_details()})

    def _metric(self, llm: Any) -> Any:
        if not isinstance(self.metric, str):
            return self.metric(llm=llm)
        module_name, class_name, _ = _METRICS[self.metric]
        return getattr(importlib.import_module(module_name), class_name)(llm=llm)

    def _scrub(self, text: str) -> str:
        if self._scrubber is None:
            from obs_core.payloads import Scrubber

            self._scrubber = Scrubber()
        return self._scrubber.scrub(bounded(text, self.max_chars))
