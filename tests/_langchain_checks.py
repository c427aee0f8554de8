"""``Checks``: the assertions every LangChain integration test ends with, against what the
scripted server really sent and what obs recorded. A module of its own so that test files can
name the type (``conftest`` is ambiguous across test folders)."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan

from obs_core import semconv as sc
from obs_core.testing import ScriptedOpenAIServer, SpanCapture
from obs_langchain import ObsCallbackHandler


class Checks:
    """Assertions against what the scripted server really sent and what obs recorded."""

    def __init__(self, server: ScriptedOpenAIServer, capture: SpanCapture,
                 handler: ObsCallbackHandler) -> None:
        self.server, self.capture, self.handler = server, capture, handler

    def tokens_match_server(self, span: ReadableSpan) -> None:
        """The model span carries exactly the usage the server reported for that response
        (matched by response id; streamed answers carry none, so a stream must be the only
        response)."""
        a = span.attributes or {}
        log = self.server.usage_log
        if sc.GEN_AI_RESPONSE_ID in a:
            reported = {u.response_id: u for u in log}[str(a[sc.GEN_AI_RESPONSE_ID])]
        else:
            assert len(log) == 1
            reported = log[0]
        assert a[sc.GEN_AI_USAGE_INPUT_TOKENS] == reported.prompt_tokens
        assert a[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == reported.completion_tokens
        assert a[sc.OBS_USAGE_TOTAL_TOKENS] == reported.total_tokens
        assert a.get(sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, 0) == reported.cached_tokens
        assert a.get(sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, 0) == reported.reasoning_tokens
        assert a[sc.OBS_USAGE_SOURCE] == "provider"

    def all_closed(self, handler: ObsCallbackHandler | None = None) -> None:
        """No run is left open and every span obs started has ended."""
        assert (handler or self.handler).recorder.open_run_count == 0
        assert all(span.end_time is not None for span in self.capture.spans)

    def server_totals(self) -> tuple[int, int]:
        """Prompt and completion tokens over every response the server sent."""
        log = self.server.usage_log
        return sum(u.prompt_tokens for u in log), sum(u.completion_tokens for u in log)
