"""The viewer's JSON API, over HTTP against a real store recorded by the real recorder."""

from __future__ import annotations

import json

import pytest

from core.ui.ui_scenarios import HOSTILE_NAME, Get, Recorded, fetch
from obs_core.ui import UiServer


def _ids(body: dict[str, object]) -> list[str]:
    traces = body["traces"]
    assert isinstance(traces, list)
    return [t["trace_id"] for t in traces]


def test_trace_list_is_newest_first_by_default(get: Get, recorded: Recorded) -> None:
    status, body = get("/api/traces")
    assert status == 200
    assert body["total"] == 3
    assert _ids(body) == [recorded.hostile, recorded.rag, recorded.agent]


def test_trace_list_sorts_by_duration_tokens_and_cost(get: Get, recorded: Recorded) -> None:
    assert _ids(get("/api/traces", sort="duration")[1]) == [
        recorded.hostile, recorded.agent, recorded.rag]
    assert _ids(get("/api/traces", sort="tokens", order="asc")[1]) == [
        recorded.hostile, recorded.agent, recorded.rag]
    assert _ids(get("/api/traces", sort="cost")[1])[0] == recorded.rag


def test_trace_list_paginates_with_limit_and_offset(get: Get, recorded: Recorded) -> None:
    first = get("/api/traces", limit="2")[1]
    second = get("/api/traces", limit="2", offset="2")[1]
    assert (_ids(first), _ids(second)) == ([recorded.hostile, recorded.rag], [recorded.agent])
    assert first["total"] == second["total"] == 3


def test_trace_list_filters_by_status_model_session_and_pipeline(
        get: Get, recorded: Recorded) -> None:
    assert _ids(get("/api/traces", status="ERROR")[1]) == [recorded.hostile]
    assert _ids(get("/api/traces", model="gpt-4o")[1]) == [recorded.rag]
    assert _ids(get("/api/traces", session="s-1")[1]) == [recorded.agent]
    assert _ids(get("/api/traces", pipeline_version="v1")[1]) == [recorded.rag]


def test_trace_list_filters_by_root_name_literally(get: Get, recorded: Recorded) -> None:
    assert _ids(get("/api/traces", name="RAG")[1]) == [recorded.rag]
    assert _ids(get("/api/traces", name="%")[1]) == []


def test_trace_list_filters_traces_whose_agent_hit_its_limit(get: Get, recorded: Recorded) -> None:
    status, body = get("/api/traces", limit_hit="true")
    assert status == 200
    assert _ids(body) == [recorded.agent]
    assert body["traces"][0]["agent_steps"] == body["traces"][0]["agent_step_limit"] == 3


def test_trace_list_filters_traces_flagged_as_hallucinations(
        get: Get, recorded: Recorded) -> None:
    body = get("/api/traces", hallucination="true")[1]
    assert _ids(body) == [recorded.rag]
    assert body["traces"][0]["hallucination_flagged"] is True
    everything = get("/api/traces")[1]["traces"]
    assert [t["trace_id"] for t in everything if t["hallucination_flagged"]] == [recorded.rag]


def test_trace_list_filters_by_time_range(get: Get, recorded: Recorded) -> None:
    agent_start = get("/api/traces", session="s-1")[1]["traces"][0]["start_ms"]
    body = get("/api/traces", since_ms=str(int(agent_start) + 1),
               until_ms=str(int(agent_start) + 10_000))[1]
    assert _ids(body) == [recorded.rag]


def test_unreadable_parameters_are_a_400_with_a_message(get: Get) -> None:
    for params in ({"sort": "name"}, {"limit": "x"}, {"limit": "100000"}, {"status": "maybe"},
                   {"limit_hit": "perhaps"}, {"hallucination": "maybe"}, {"offset": "-1"}):
        status, body = get("/api/traces", **params)
        assert status == 400, params
        assert body["error"]


def test_agent_span_shows_steps_limit_stop_reason_and_tool_calls(
        get: Get, recorded: Recorded) -> None:
    status, body = get(f"/api/traces/{recorded.agent}")
    assert status == 200
    root = body["spans"][0]
    assert (root["depth"], root["kind"]) == (0, "agent")
    assert root["agent"]["steps"] == 3
    assert root["agent"]["step_limit"] == 3
    assert root["agent"]["limit_hit"] is True
    assert root["agent"]["stop_reason"] == "max_iterations"
    [search] = root["agent"]["tool_calls"]
    assert (search["name"], search["count"], search["errors"]) == ("search", 2, 0)
    assert search["max_ms"] > 0


def test_trace_spans_come_in_tree_order_with_waterfall_offsets(
        get: Get, recorded: Recorded) -> None:
    spans = get(f"/api/traces/{recorded.agent}")[1]["spans"]
    assert [(s["kind"], s["depth"]) for s in spans] == [
        ("agent", 0), ("llm", 1), ("tool", 1), ("llm", 1), ("tool", 1), ("llm", 1)]
    assert [(s["offset_ms"], s["duration_ms"]) for s in spans[1:3]] == [
        (100.0, 300.0), (500.0, 200.0)]


def test_model_span_shows_model_tokens_and_cost(get: Get, recorded: Recorded) -> None:
    spans = get(f"/api/traces/{recorded.rag}")[1]["spans"]
    llm = next(s for s in spans if s["kind"] == "llm")
    assert (llm["model"], llm["input_tokens"], llm["output_tokens"]) == ("gpt-4o", 1000, 200)
    assert llm["cost_usd"] > 0


def test_retrieval_span_shows_document_ids_and_scores(get: Get, recorded: Recorded) -> None:
    spans = get(f"/api/traces/{recorded.rag}")[1]["spans"]
    retriever = next(s for s in spans if s["kind"] == "retriever")
    assert retriever["retrieval"] == {"document_ids": ["d1", "d2"], "scores": [0.9, 0.5]}


def test_failed_span_shows_its_error(get: Get, recorded: Recorded) -> None:
    spans = get(f"/api/traces/{recorded.hostile}")[1]["spans"]
    llm = next(s for s in spans if s["kind"] == "llm")
    assert (llm["status"], llm["error_type"]) == ("ERROR", "TimeoutError")
    assert "model timed out" in llm["status_message"]


def test_unknown_trace_is_a_404(get: Get) -> None:
    status, body = get("/api/traces/0123456789abcdef0123456789abcdef")
    assert status == 404
    assert "no trace" in body["error"]


def test_markup_in_span_names_is_escaped_in_the_json_body(
        server: UiServer, recorded: Recorded) -> None:
    status, raw, content_type = fetch(f"{server.url}api/traces/{recorded.hostile}")
    assert status == 200
    assert content_type.startswith("application/json")
    assert b"<script>" not in raw
    assert b"\\u003cscript\\u003e" in raw
    assert json.loads(raw)["summary"]["root_name"] == HOSTILE_NAME


def test_overview_sums_tokens_cost_errors_and_limit_hits(get: Get) -> None:
    status, body = get("/api/overview", days="2")
    assert status == 200
    assert body["trace_count"] == 3
    assert (body["error_count"], body["agent_limit_hits"]) == (1, 1)
    assert body["error_rate"] == 1 / 3
    assert sum(day["tokens"] for day in body["days"]) == 1200 + 330
    assert sum(day["cost_usd"] for day in body["days"]) > 0


def test_overview_latency_percentiles_are_observed_durations(get: Get) -> None:
    latency = get("/api/overview")[1]["latency_ms"]
    assert latency["p50"] == 3000.0
    assert latency["p95"] == latency["p99"] > 10_000


def test_overview_gives_latency_percentiles_per_day(get: Get) -> None:
    days = get("/api/overview")[1]["days"]
    if len(days) != 1:
        pytest.skip("the scenario's minute straddles midnight UTC")
    [day] = days
    assert day["latency_ms"]["p50"] == 3000.0
    assert day["latency_ms"]["p95"] == day["latency_ms"]["p99"] > 10_000
    assert day["error_rate"] == 1 / 3


def test_overview_gives_the_hallucination_rate_of_checked_traces(get: Get) -> None:
    body = get("/api/overview")[1]
    assert (body["hallucination_checked"], body["hallucination_flagged"]) == (1, 1)
    assert body["hallucination_rate"] == 1.0
    assert [d["hallucination_rate"] for d in body["days"] if d["hallucination_checked"]] == [1.0]


def test_overview_of_an_empty_window_has_no_percentiles(get: Get) -> None:
    body = get("/api/overview", since_ms="0", until_ms="1000")[1]
    assert body["trace_count"] == 0
    assert body["latency_ms"] == {"p50": None, "p95": None, "p99": None}
