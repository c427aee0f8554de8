"""Evaluators: scores for answer quality, safety and hallucination, as values.

Every evaluator takes an :class:`EvalSample` and returns an :class:`EvalResult` (score in
[0, 1], 1 = best, with label, pass/fail, explanation and version) or, if it could not score,
an :class:`EvalFailure` record; it never raises into the caller. ``aevaluate`` is the async twin.

The evaluators here run offline with no model; the similarity-based ones accept any
:class:`Embedder` (LangChain, LlamaIndex, an OpenAI-compatible endpoint, or the bundled local
sentence model from the ``local-embeddings`` extra).
"""

from __future__ import annotations

from obs_core.evals.base import (
    BaseEvaluator,
    EvalFailure,
    EvalOutcome,
    EvalResult,
    EvalSample,
    Evaluator,
    MissingInputError,
    TokenLogprob,
)
from obs_core.evals.conciseness import Conciseness
from obs_core.evals.confidence import LogprobConfidence
from obs_core.evals.consistency import SemanticConsistency
from obs_core.evals.embedders import (
    Embedder,
    HashingEmbedder,
    LangChainEmbedder,
    LlamaIndexEmbedder,
    LocalMiniLMEmbedder,
    OpenAIEmbedder,
    embedder_id,
)
from obs_core.evals.groundedness import Groundedness
from obs_core.evals.judge import (
    JudgeGroundedness,
    JudgeModel,
    JudgeReply,
    LLMJudge,
    OpenAIJudgeModel,
)
from obs_core.evals.quality import DetectionQuality, auroc, measure_detection
from obs_core.evals.relevance import Relevance
from obs_core.evals.safety import Safety
from obs_core.evals.verdict import HallucinationDetector, HallucinationVerdict, LayerFlag

__all__ = [
    "BaseEvaluator",
    "Conciseness",
    "DetectionQuality",
    "Embedder",
    "EvalFailure",
    "EvalOutcome",
    "EvalResult",
    "EvalSample",
    "Evaluator",
    "Groundedness",
    "HallucinationDetector",
    "HallucinationVerdict",
    "HashingEmbedder",
    "JudgeGroundedness",
    "JudgeModel",
    "JudgeReply",
    "LLMJudge",
    "LangChainEmbedder",
    "LayerFlag",
    "LlamaIndexEmbedder",
    "LocalMiniLMEmbedder",
    "LogprobConfidence",
    "MissingInputError",
    "OpenAIEmbedder",
    "OpenAIJudgeModel",
    "Relevance",
    "Safety",
    "SemanticConsistency",
    "TokenLogprob",
    "auroc",
    "embedder_id",
    "measure_detection",
]
