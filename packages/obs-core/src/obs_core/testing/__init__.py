"""Test helpers for applications instrumented with obs, and for obs itself.

Two tools, both free of network and of global state:

* :class:`ScriptedOpenAIServer`, a local OpenAI-compatible HTTP server answering from a script,
  so real clients (``openai``, LangChain, LlamaIndex) run end to end offline and
  deterministically, with the token usage they are told known in advance;
* :class:`SpanCapture` / :func:`capture_spans`, in-memory tracer and meter providers with
  helpers to assert on span trees and metric points.
"""

from __future__ import annotations

from obs_core.testing._capture import SpanCapture, capture_spans
from obs_core.testing._metric_points import DataPoint
from obs_core.testing._replies import (
    GENERATION_ENDPOINTS,
    Endpoint,
    ScriptedError,
    ScriptedReply,
    ScriptedToolCall,
)
from obs_core.testing._script import RecordedRequest, ReportedUsage, Responder, echo_reply
from obs_core.testing._server import ScriptedOpenAIServer
from obs_core.testing._tokens import count_tokens, scripted_embedding, split_tokens

__all__ = [
    "GENERATION_ENDPOINTS",
    "DataPoint",
    "Endpoint",
    "RecordedRequest",
    "ReportedUsage",
    "Responder",
    "ScriptedError",
    "ScriptedOpenAIServer",
    "ScriptedReply",
    "ScriptedToolCall",
    "SpanCapture",
    "capture_spans",
    "count_tokens",
    "echo_reply",
    "scripted_embedding",
    "split_tokens",
]
