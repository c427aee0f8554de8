"""Listing, filtering, sorting and reading traces back from the SQLite store."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from opentelemetry.trace import format_trace_id

from core.store.store_scenarios import MS, TraceBuilder, at, span_record
from obs_core import semconv as sc
from obs_core.store import SQLiteTraceStore, TraceFilter, TraceSort, TraceStatus


@dataclass(frozen=True)
class Catalog:
    agent: str
    """handle_request: 0-500 ms, error, limit hit, 360 tokens, $0.003, gpt-4o-mini, s-1, v1."""
    summary: str
    """Summarise Report: 1000-1050 ms, ok, 1200 tokens, $0.01, gpt-4o (gpt-4o-2024-08-06), s-2."""
    index: str
    """index docs: 2000-2020 ms, ok, 42 tokens, embedding model."""


@pytest.fixture
def catalog(traces: TraceBuilder) -> Catalog:
    agent = traces.agent_run(start_ms=0, session="s-1", pipeline_version="v1")
    with traces.span("Summarise Report", start_ms=1000, end_ms=1050,
                     attributes={sc.OBS_SESSION_ID: "s-2", sc.OBS_PIPELINE_VERSION: "v2"}) as s:
        traces.llm(start_ms=1001, model="gpt-4o", input_tokens=1000, output_tokens=200,
                   cost=0.01, **{sc.GEN_AI_RESPONSE_MODEL: "gpt-4o-2024-08-06"})
    with traces.span("index docs", start_ms=2000, end_ms=2020) as i, traces.span(
        "embeddings small", start_ms=2001, end_ms=2010,
        attributes={sc.OBS_SPAN_KIND: "embedding", sc.GEN_AI_REQUEST_MODEL: "small",
                    sc.GEN_AI_USAGE_INPUT_TOKENS: 42},
    ):
        pass
    return Catalog(
        agent=agent,
        summary=format_trace_id(s.get_span_context().trace_id),
        index=format_trace_id(i.get_span_context().trace_id),
    )


def ids(store: SQLiteTraceStore, **criteria: object) -> list[str]:
    return [s.trace_id for s in store.list_traces(TraceFilter.model_validate(criteria))]


def test_listing_is_newest_first_by_default(store: SQLiteTraceStore, catalog: Catalog) -> None:
    assert ids(store) == [catalog.index, catalog.summary, catalog.agent]


def test_since_and_until_bound_the_start_time(store: SQLiteTraceStore, catalog: Catalog) -> None:
    assert ids(store, since_ns=at(1000)) == [catalog.index, catalog.summary]
    assert ids(store, until_ns=at(1000)) == [catalog.agent]
    assert ids(store, since_ns=at(500), until_ns=at(1500)) == [catalog.summary]


def test_status_filter_separates_failed_traces(store: SQLiteTraceStore, catalog: Catalog) -> None:
    assert ids(store, status=TraceStatus.ERROR) == [catalog.agent]
    assert ids(store, status=TraceStatus.OK) == [catalog.index, catalog.summary]


def test_name_filter_is_a_case_insensitive_substring(
    store: SQLiteTraceStore, catalog: Catalog
) -> None:
    assert ids(store, name_contains="SUMMARISE") == [catalog.summary]
    assert ids(store, name_contains="doc") == [catalog.index]


def test_name_filter_takes_wildcard_characters_literally(
    store: SQLiteTraceStore, catalog: Catalog
) -> None:
    assert ids(store, name_contains="_") == [catalog.agent]  # only handle_request has one
    assert ids(store, name_contains="%") == []


def test_model_filter_matches_request_or_response_model_exactly(
    store: SQLiteTraceStore, catalog: Catalog
) -> None:
    assert ids(store, model="gpt-4o") == [catalog.summary]
    assert ids(store, model="gpt-4o-2024-08-06") == [catalog.summary]
    assert ids(store, model="gpt-4o-mini") == [catalog.agent]
    assert ids(store, model="gpt") == []


def test_session_and_pipeline_version_filters(store: SQLiteTraceStore, catalog: Catalog) -> None:
    assert ids(store, session_id="s-1") == [catalog.agent]
    assert ids(store, pipeline_version="v2") == [catalog.summary]


def test_limit_hit_filter_keeps_traces_whose_agent_ran_out_of_steps(
    store: SQLiteTraceStore, catalog: Catalog
) -> None:
    assert ids(store, limit_hit_only=True) == [catalog.agent]


def test_min_duration_filter(store: SQLiteTraceStore, catalog: Catalog) -> None:
    assert ids(store, min_duration_ns=50 * MS) == [catalog.summary, catalog.agent]


@pytest.mark.parametrize(
    ("sort", "descending", "expected"),
    [
        (TraceSort.DURATION, True, ["agent", "summary", "index"]),
        (TraceSort.TOKENS, True, ["summary", "agent", "index"]),
        (TraceSort.COST, False, ["index", "agent", "summary"]),
        (TraceSort.START, False, ["agent", "summary", "index"]),
    ],
)
def test_sorting(store: SQLiteTraceStore, catalog: Catalog, sort: TraceSort, descending: bool,
                 expected: list[str]) -> None:
    assert ids(store, sort=sort, descending=descending) == [getattr(catalog, n) for n in expected]


def test_limit_and_offset_page_through_the_listing(
    store: SQLiteTraceStore, catalog: Catalog
) -> None:
    assert ids(store, limit=2) == [catalog.index, catalog.summary]
    assert ids(store, limit=2, offset=2) == [catalog.agent]


def test_count_ignores_paging_but_not_filters(store: SQLiteTraceStore, catalog: Catalog) -> None:
    assert store.count_traces() == 3
    assert store.count_traces(TraceFilter(status=TraceStatus.OK, limit=1)) == 2


def test_get_trace_returns_every_span_in_start_order(
    store: SQLiteTraceStore, catalog: Catalog
) -> None:
    spans = store.get_trace(catalog.agent)

    assert [s.name for s in spans] == [
        "handle_request", "invoke_agent support", "chat gpt-4o-mini",
        "execute_tool lookup_order", "chat gpt-4o-mini", "execute_tool lookup_order",
        "chat gpt-4o-mini", "retrieval faq",
    ]
    assert spans[0].parent_span_id is None
    assert {s.parent_span_id for s in spans[2:]} == {spans[1].span_id}


def test_get_trace_keeps_status_attributes_and_events(
    store: SQLiteTraceStore, catalog: Catalog
) -> None:
    failed = next(s for s in store.get_trace(catalog.agent) if s.status == "ERROR")

    assert failed.status_message == "order service timed out"
    assert failed.attributes[sc.ERROR_TYPE] == "TimeoutError"
    assert [e["name"] for e in failed.events] == ["exception"]
    assert failed.events[0]["attributes"]["exception.type"] == "TimeoutError"
    assert failed.service_name == "support-bot"


def test_unknown_trace_has_no_spans_and_no_summary(store: SQLiteTraceStore) -> None:
    assert store.get_trace("0" * 32) == []
    assert store.get_summary("0" * 32) is None


def test_trace_ids_can_be_found_by_prefix(store: SQLiteTraceStore) -> None:
    store.write([
        span_record("abc100", "s1"), span_record("abc200", "s2"), span_record("abd300", "s3"),
    ])

    assert store.trace_ids_with_prefix("abc") == ["abc100", "abc200"]
    assert store.trace_ids_with_prefix("abd3") == ["abd300"]
    assert store.trace_ids_with_prefix("abc", limit=1) == ["abc100"]
    assert store.trace_ids_with_prefix("b") == []


HOSTILE = [
    "x' OR '1'='1",
    "t\"; DROP TABLE spans; --",
    "%_%",
    "a\\'b",
    "'); DELETE FROM traces; --",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_ids_with_sql_metacharacters_are_stored_and_read_literally(
    store: SQLiteTraceStore, hostile: str
) -> None:
    store.write([span_record("plain", "p1", name="plain")])
    store.write([span_record(hostile, hostile, name=hostile,
                             attributes={sc.OBS_SESSION_ID: hostile})])

    assert [s.span_id for s in store.get_trace(hostile)] == [hostile]
    assert store.trace_ids_with_prefix(hostile) == [hostile]
    assert store.count_traces() == 2
    assert [s.name for s in store.get_trace("plain")] == ["plain"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_filters_with_sql_metacharacters_match_literally(
    store: SQLiteTraceStore, hostile: str
) -> None:
    store.write([span_record("plain", "p1", name="plain")])

    for criteria in ({"session_id": hostile}, {"model": hostile}, {"name_contains": hostile},
                     {"pipeline_version": hostile}):
        assert ids(store, **criteria) == []
    assert store.get_summary(hostile) is None
    assert store.count_traces() == 1


def test_evaluation_result_traces_are_listed_only_when_asked(
        store: SQLiteTraceStore, traces: TraceBuilder, catalog: Catalog) -> None:
    with traces.span("evaluate groundedness", start_ms=3000, end_ms=3001,
                     attributes={sc.OBS_SPAN_KIND: "evaluation",
                                 sc.GEN_AI_OPERATION_NAME: "evaluate"}) as evaluation:
        pass
    evaluation_trace = format_trace_id(evaluation.get_span_context().trace_id)
    everything = TraceFilter(include_evaluations=True)

    assert evaluation_trace not in [t.trace_id for t in store.list_traces()]
    assert store.count_traces() == 3
    assert store.list_traces(everything)[0].trace_id == evaluation_trace
    assert store.count_traces(everything) == 4
