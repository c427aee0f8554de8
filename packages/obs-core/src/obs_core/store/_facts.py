"""The few numbers and names a trace summary is built from, read off one span's attributes.

Pure and forgiving: attribute values come from other processes and user code, so a value of
the wrong type counts as absent instead of failing the batch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from obs_core import semconv
from obs_core.spans import SpanKind, SpanRecord

_MODEL_KINDS = frozenset({SpanKind.LLM.value, SpanKind.EMBEDDING.value})


@dataclass(frozen=True, kw_only=True)
class SpanFacts:
    is_obs_root: bool
    is_error: bool
    input_tokens: int
    """Only on model spans: agent and root spans carry roll-ups that would count twice."""
    output_tokens: int
    cost_usd: float
    model: str | None
    """The requested model, else the one the provider reported."""
    model_names: tuple[str, ...]
    """Request and response model names, for filtering by either."""
    agent_steps: int
    agent_step_limit: int | None
    agent_limit_hit: bool
    session_id: str | None
    pipeline_version: str | None


def span_facts(record: SpanRecord) -> SpanFacts:
    attrs = record.attributes
    is_model = record.kind in _MODEL_KINDS
    is_agent = record.kind == SpanKind.AGENT.value
    request_model = _as_str(attrs.get(semconv.GEN_AI_REQUEST_MODEL)) if is_model else None
    response_model = _as_str(attrs.get(semconv.GEN_AI_RESPONSE_MODEL)) if is_model else None
    names = tuple(dict.fromkeys(m for m in (request_model, response_model) if m))
    error_type = _as_str(attrs.get(semconv.ERROR_TYPE))
    return SpanFacts(
        is_obs_root=attrs.get(semconv.OBS_ROOT) is True,
        is_error=record.status == "ERROR",
        input_tokens=_as_int(attrs.get(semconv.GEN_AI_USAGE_INPUT_TOKENS)) if is_model else 0,
        output_tokens=_as_int(attrs.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS)) if is_model else 0,
        cost_usd=_as_float(attrs.get(semconv.OBS_USAGE_COST_USD)) if is_model else 0.0,
        model=request_model or response_model,
        model_names=names,
        agent_steps=_as_int(attrs.get(semconv.OBS_AGENT_STEP_COUNT)) if is_agent else 0,
        agent_step_limit=(
            _as_optional_int(attrs.get(semconv.OBS_AGENT_STEP_LIMIT)) if is_agent else None
        ),
        agent_limit_hit=(
            (is_agent and attrs.get(semconv.OBS_AGENT_MAX_ITERATIONS_REACHED) is True)
            or error_type == semconv.ERROR_AGENT_LIMIT
        ),
        session_id=_first_str(attrs, semconv.OBS_SESSION_ID, semconv.GEN_AI_CONVERSATION_ID),
        pipeline_version=_as_str(attrs.get(semconv.OBS_PIPELINE_VERSION)),
    )


def _as_int(value: Any) -> int:
    number = _as_optional_int(value)
    return 0 if number is None else number


def _as_optional_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and math.isfinite(value):
        return max(int(value), 0)
    return None


def _as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    number = float(value)
    return number if math.isfinite(number) and number > 0 else 0.0


def _as_str(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # a pipeline version given as a number
    return None


def _first_str(attrs: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        text = _as_str(attrs.get(key))
        if text is not None:
            return text
    return None
