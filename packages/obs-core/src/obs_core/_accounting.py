"""Agent accounting: what an agent's loop did, rolled up from the runs beneath it.

Kept apart from the span bookkeeping so the arithmetic can be read (and tested) on its own.
Not thread-safe by itself: the recorder calls it under its lock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from obs_core import semconv as sc
from obs_core.spans import AgentSummary, TokenUsage, ToolCallStats


@dataclass(slots=True)
class Rollup:
    """Totals over every model and tool call below a span (agents and local roots keep one)."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cache_read_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float = 0.0
    llm_calls: int = 0
    tool_calls: int = 0
    errors: int = 0

    def add_llm(self, usage: TokenUsage | None, cost: float | None) -> None:
        self.llm_calls += 1
        if usage is not None:
            self.input_tokens += usage.input_tokens
            self.output_tokens += usage.output_tokens
            self.total_tokens += usage.total
            self.cache_read_tokens += usage.cache_read_tokens
            self.reasoning_tokens += usage.reasoning_tokens
        if cost:
            self.cost_usd += cost

    def attributes(self) -> dict[str, Any]:
        return {
            sc.OBS_ROLLUP_INPUT_TOKENS: self.input_tokens,
            sc.OBS_ROLLUP_OUTPUT_TOKENS: self.output_tokens,
            sc.OBS_ROLLUP_TOTAL_TOKENS: self.total_tokens,
            sc.OBS_ROLLUP_COST_USD: round(self.cost_usd, 10),
            sc.OBS_ROLLUP_LLM_CALLS: self.llm_calls,
            sc.OBS_ROLLUP_TOOL_CALLS: self.tool_calls,
            sc.OBS_ROLLUP_ERRORS: self.errors,
        }

    def usage(self) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens, output_tokens=self.output_tokens,
            total_tokens=self.total_tokens, cache_read_tokens=self.cache_read_tokens,
            reasoning_tokens=self.reasoning_tokens,
        )


@dataclass(slots=True)
class AgentLoop:
    """One agent run's own loop: its model calls are its steps, its tool calls its actions."""

    name: str
    step_limit: int | None = None
    step_count: int = 0
    tools: dict[str, ToolCallStats] = field(default_factory=dict)
    rollup: Rollup = field(default_factory=Rollup)

    def record_tool(self, tool: str, duration_ms: float, failed: bool) -> None:
        stats = self.tools.get(tool)
        if stats is None:
            stats = self.tools[tool] = ToolCallStats()
        stats.count += 1
        stats.errors += int(failed)
        stats.total_ms += duration_ms
        stats.max_ms = max(stats.max_ms, duration_ms)

    def summary(self, *, limit_reached: bool, stop_reason: str | None) -> AgentSummary:
        return AgentSummary(
            name=self.name, step_count=self.step_count, step_limit=self.step_limit,
            max_iterations_reached=limit_reached, stop_reason=stop_reason,
            tool_calls={k: v.model_copy() for k, v in self.tools.items()},
            usage=self.rollup.usage(), cost_usd=self.rollup.cost_usd,
        )

    def attributes(self, *, limit_reached: bool, stop_reason: str | None) -> dict[str, Any]:
        attrs: dict[str, Any] = {
            sc.OBS_AGENT_STEP_COUNT: self.step_count,
            sc.OBS_AGENT_MAX_ITERATIONS_REACHED: limit_reached,
            sc.OBS_AGENT_TOOL_CALL_COUNT: sum(s.count for s in self.tools.values()),
        }
        if self.step_limit is not None:
            attrs[sc.OBS_AGENT_STEP_LIMIT] = self.step_limit
        if stop_reason:
            attrs[sc.OBS_AGENT_STOP_REASON] = stop_reason
        if self.tools:
            attrs[sc.OBS_AGENT_TOOL_CALLS] = json.dumps(
                {k: {"count": v.count, "errors": v.errors, "total_ms": round(v.total_ms, 3),
                     "max_ms": round(v.max_ms, 3)} for k, v in self.tools.items()},
                separators=(",", ":"),
            )
        attrs.update(self.rollup.attributes())
        return attrs
