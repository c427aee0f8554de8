"""The in-memory capture shows spans as a tree and metric points as totals, without globals."""

from __future__ import annotations

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics.export import HistogramDataPoint, NumberDataPoint
from opentelemetry.sdk.resources import Resource

from obs_core import agent_run, llm_call, tool_call
from obs_core.testing import SpanCapture, capture_spans


def _nested_spans(capture: SpanCapture) -> None:
    tracer = capture.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("agent"):
        with tracer.start_as_current_span("llm"):
            pass
        with tracer.start_as_current_span("tool"), tracer.start_as_current_span("retriever"):
            pass
    with tracer.start_as_current_span("second root"):
        pass


def test_spans_are_available_as_soon_as_they_end() -> None:
    with capture_spans() as capture:
        with capture.tracer_provider.get_tracer("test").start_as_current_span("work"):
            assert capture.spans == []

        assert [span.name for span in capture.spans] == ["work"]


def test_tree_lists_spans_depth_first_in_start_order() -> None:
    with capture_spans() as capture:
        _nested_spans(capture)

        assert capture.tree() == [
            (0, "agent"),
            (1, "llm"),
            (1, "tool"),
            (2, "retriever"),
            (0, "second root"),
        ]


def test_format_tree_indents_children() -> None:
    with capture_spans() as capture:
        _nested_spans(capture)

        assert capture.format_tree() == "agent\n  llm\n  tool\n    retriever\nsecond root"


def test_format_agents_states_steps_limit_stop_reason_and_tool_calls() -> None:
    with capture_spans() as capture:
        with agent_run("planner", max_iterations=3,
                       tracer_provider=capture.tracer_provider) as agent:
            with llm_call(model="gpt-4o-mini", tracer_provider=capture.tracer_provider) as call:
                call.set_usage(input_tokens=10, output_tokens=2)
            with tool_call("search", tracer_provider=capture.tracer_provider):
                pass
            agent.finish(stop_reason="final_answer")

        first, tools = capture.format_agents().splitlines()
        assert first.startswith("invoke_agent planner [")
        assert "'step_count': 1" in first
        assert "'step_limit': 3" in first
        assert "'stop_reason': 'final_answer'" in first
        assert tools.startswith("  tools: {'search': {'count': 1, 'errors': 0")


def test_format_agents_says_so_when_no_agent_ran() -> None:
    with capture_spans() as capture:
        _nested_spans(capture)

        assert capture.format_agents() == "(no agent spans)"


def test_children_parent_and_roots_follow_span_context() -> None:
    with capture_spans() as capture:
        _nested_spans(capture)
        agent = capture.one("agent")
        tool = capture.one("tool")

        assert [s.name for s in capture.children(agent)] == ["llm", "tool"]
        assert capture.parent(tool) is agent
        assert capture.parent(agent) is None
        assert [s.name for s in capture.roots()] == ["agent", "second root"]


def test_by_name_returns_every_match_in_start_order() -> None:
    with capture_spans() as capture:
        tracer = capture.tracer_provider.get_tracer("test")
        with tracer.start_as_current_span("outer"):
            for i in range(3):
                with tracer.start_as_current_span("step") as span:
                    span.set_attribute("i", i)

        assert [s.attributes["i"] for s in capture.by_name("step") if s.attributes] == [0, 1, 2]


def test_one_fails_with_the_span_tree_when_the_name_is_not_unique() -> None:
    with capture_spans() as capture:
        tracer = capture.tracer_provider.get_tracer("test")
        for _ in range(2):
            with tracer.start_as_current_span("twice"):
                pass

        with pytest.raises(AssertionError, match=r"found 2; spans:\ntwice\ntwice"):
            capture.one("twice")
        with pytest.raises(AssertionError, match="found 0"):
            capture.one("never")


def test_capture_leaves_the_global_providers_alone() -> None:
    tracer_before = trace.get_tracer_provider()
    meter_before = metrics.get_meter_provider()

    with capture_spans() as capture:
        assert trace.get_tracer_provider() is tracer_before
        assert metrics.get_meter_provider() is meter_before
        assert capture.tracer_provider is not tracer_before


def test_two_captures_do_not_see_each_other() -> None:
    with capture_spans() as first, capture_spans() as second:
        with first.tracer_provider.get_tracer("t").start_as_current_span("a"):
            pass
        with second.tracer_provider.get_tracer("t").start_as_current_span("b"):
            pass

        assert [s.name for s in first.spans] == ["a"]
        assert [s.name for s in second.spans] == ["b"]


def test_resource_is_applied_to_spans() -> None:
    resource = Resource.create({"service.name": "checkout"})
    with capture_spans(resource=resource) as capture:
        with capture.tracer_provider.get_tracer("t").start_as_current_span("a"):
            pass

        assert capture.one("a").resource.attributes["service.name"] == "checkout"


def test_spans_ended_after_the_block_are_not_captured() -> None:
    with capture_spans() as capture:
        tracer = capture.tracer_provider.get_tracer("t")

    with tracer.start_as_current_span("late"):
        pass

    assert capture.spans == []


def test_counter_points_are_totals_per_attribute_set() -> None:
    with capture_spans() as capture:
        counter = capture.meter_provider.get_meter("t").create_counter("calls")
        counter.add(2, {"model": "a"})
        counter.add(3, {"model": "a"})
        counter.add(1, {"model": "b"})

        points = capture.metric_points("calls")

        assert all(isinstance(p, NumberDataPoint) for p in points)
        by_model = {
            p.attributes["model"]: p.value
            for p in points
            if isinstance(p, NumberDataPoint) and p.attributes
        }
        assert by_model == {"a": 5, "b": 1}


def test_reading_metrics_twice_does_not_double_count() -> None:
    with capture_spans() as capture:
        counter = capture.meter_provider.get_meter("t").create_counter("calls")
        counter.add(2)
        capture.metric_points("calls")
        counter.add(3)

        [point] = capture.metric_points("calls")

        assert isinstance(point, NumberDataPoint)
        assert point.value == 5


def test_histogram_points_total_count_sum_and_buckets() -> None:
    with capture_spans() as capture:
        histogram = capture.meter_provider.get_meter("t").create_histogram("latency")
        histogram.record(1.0)
        capture.metric_points("latency")
        histogram.record(3.0)

        [point] = capture.metric_points("latency")

        assert isinstance(point, HistogramDataPoint)
        assert (point.count, point.sum, point.min, point.max) == (2, 4.0, 1.0, 3.0)
        assert sum(point.bucket_counts) == 2


def test_gauge_points_keep_the_latest_value() -> None:
    with capture_spans() as capture:
        gauge = capture.meter_provider.get_meter("t").create_gauge("queue_depth")
        gauge.set(7)
        capture.metric_points("queue_depth")
        gauge.set(4)

        [point] = capture.metric_points("queue_depth")

        assert isinstance(point, NumberDataPoint)
        assert point.value == 4


def test_metric_names_lists_what_was_recorded() -> None:
    with capture_spans() as capture:
        meter = capture.meter_provider.get_meter("t")
        meter.create_counter("a").add(1)
        meter.create_histogram("b").record(1)

        assert sorted(capture.metric_names()) == ["a", "b"]
        assert capture.metric_points("missing") == []


def test_clear_forgets_spans_and_metric_values() -> None:
    with capture_spans() as capture:
        tracer = capture.tracer_provider.get_tracer("t")
        counter = capture.meter_provider.get_meter("t").create_counter("calls")
        with tracer.start_as_current_span("before"):
            counter.add(10)

        capture.clear()
        with tracer.start_as_current_span("after"):
            counter.add(1)

        assert [s.name for s in capture.spans] == ["after"]
        [point] = capture.metric_points("calls")
        assert isinstance(point, NumberDataPoint)
        assert point.value == 1
