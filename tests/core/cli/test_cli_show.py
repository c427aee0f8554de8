"""``obs show``: one trace as a tree, found by a full id or a unique prefix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from core.cli.cli_scenarios import Recorded, RunObs
from core.store.store_scenarios import TraceBuilder, span_record
from obs_core import semconv as sc
from obs_core.store import SQLiteTraceStore


def show(run_obs: RunObs, recorded: Recorded, trace_id: str, *flags: str) -> str:
    outcome = run_obs("show", "--db", str(recorded.db), trace_id, *flags)
    assert outcome.code == 0, outcome.err
    return outcome.out


def tree(output: str) -> list[str]:
    """The lines after the header block."""
    return output.split("\n\n", 1)[1].splitlines()


def line_of(output: str, text: str) -> str:
    return next(line for line in tree(output) if text in line)


def test_spans_are_drawn_as_a_tree_in_start_order(run_obs: RunObs, recorded: Recorded) -> None:
    lines = tree(show(run_obs, recorded, recorded.agent))
    name_column = lines[0].index("handle_request")
    span_lines = [line[name_column:] for line in lines if re.match(r"^\s*\+", line)]

    assert [line.split("  [")[0] for line in span_lines] == [
        "handle_request",
        "└─ invoke_agent support",
        "   ├─ chat gpt-4o-mini",
        "   ├─ execute_tool lookup_order",
        "   ├─ chat gpt-4o-mini",
        "   ├─ execute_tool lookup_order",
        "   ├─ chat gpt-4o-mini",
        "   └─ retrieval faq",
    ]


def test_each_span_shows_its_start_offset_and_duration(
    run_obs: RunObs, recorded: Recorded
) -> None:
    output = show(run_obs, recorded, recorded.agent)

    assert line_of(output, "handle_request").split()[:2] == ["+0ms", "500ms"]
    assert line_of(output, "invoke_agent support").split()[:2] == ["+5ms", "485ms"]
    assert line_of(output, "retrieval faq").split()[:2] == ["+400ms", "20ms"]


def test_model_calls_show_model_tokens_and_cost(run_obs: RunObs, recorded: Recorded) -> None:
    line = line_of(show(run_obs, recorded, recorded.agent), "chat gpt-4o-mini")

    assert line.endswith("[llm]  gpt-4o-mini  100→20 tok  $0.0010")


def test_a_failed_span_shows_error_type_and_message(run_obs: RunObs, recorded: Recorded) -> None:
    output = show(run_obs, recorded, recorded.agent)

    assert "[tool]  ERROR TimeoutError: order service timed out" in output


def test_agent_summary_lines_follow_the_agent_span(run_obs: RunObs, recorded: Recorded) -> None:
    lines = tree(show(run_obs, recorded, recorded.agent))
    agent = next(i for i, line in enumerate(lines) if "invoke_agent support" in line)

    assert [line.strip(" │") for line in lines[agent + 1:agent + 4]] == [
        "steps 3/3 · limit reached · stop: max_iterations",
        "tools: lookup_order 2 calls (1 failed)",
        "total: 360 tokens · $0.0030",
    ]


def test_retrieval_shows_document_count_and_scores(run_obs: RunObs, recorded: Recorded) -> None:
    output = show(run_obs, recorded, recorded.agent)

    assert "3 documents · scores 0.910 0.500 0.120" in output


def test_header_summarises_the_trace(run_obs: RunObs, recorded: Recorded) -> None:
    header = show(run_obs, recorded, recorded.agent).split("\n\n", 1)[0]

    assert f"trace        {recorded.agent}" in header
    assert "root         handle_request" in header
    assert "duration     500ms   spans 8" in header
    assert "status       ERROR (1 failed span)" in header
    assert "usage        360 tokens (in 300, out 60)   cost $0.0030" in header
    assert "agent steps  3 (limit 3)  step limit reached" in header
    assert "session      s-1" in header
    assert "pipeline     v1" in header
    assert "service      support-bot" in header


def test_a_unique_prefix_is_enough(run_obs: RunObs, recorded: Recorded) -> None:
    by_prefix = show(run_obs, recorded, recorded.quick[:6].upper())

    assert by_prefix == show(run_obs, recorded, recorded.quick)
    assert "quick answer" in by_prefix


def test_an_ambiguous_prefix_lists_the_candidates(run_obs: RunObs, recorded: Recorded) -> None:
    with SQLiteTraceStore(recorded.db) as store:
        store.write([span_record("feed01", "a"), span_record("feed02", "b")])

    outcome = run_obs("show", "--db", str(recorded.db), "feed")

    assert outcome.code == 1
    assert "matches several traces: feed01, feed02" in outcome.err


@pytest.mark.parametrize("unknown", ["0000000", "' OR '1'='1", "%"])
def test_an_unknown_id_is_an_error(run_obs: RunObs, recorded: Recorded, unknown: str) -> None:
    outcome = run_obs("show", "--db", str(recorded.db), unknown)

    assert outcome.code == 1
    assert "no trace id starts with" in outcome.err


def test_json_holds_the_summary_and_every_span(run_obs: RunObs, recorded: Recorded) -> None:
    document = json.loads(show(run_obs, recorded, recorded.agent, "--json"))

    assert document["summary"]["trace_id"] == recorded.agent
    assert len(document["spans"]) == 8
    failed = next(s for s in document["spans"] if s["status"] == "ERROR")
    assert failed["attributes"][sc.ERROR_TYPE] == "TimeoutError"
    assert failed["duration_ms"] == 10.0


def test_attrs_lists_every_attribute_under_its_span(run_obs: RunObs, recorded: Recorded) -> None:
    output = show(run_obs, recorded, recorded.agent, "--attrs")

    assert "gen_ai.agent.name = support" in output
    assert "obs.retrieval.scores = [0.91, 0.5, 0.12]" in output


def _hostile_trace(db: Path) -> str:
    with SQLiteTraceStore(db) as store:
        builder = TraceBuilder(store)
        tools = "__import__('pathlib').Path('pwned').touch()"
        with builder.span("evil\x1b[2J\u202eroot", start_ms=0, end_ms=10,
                          attributes={sc.OBS_SPAN_KIND: "agent", sc.OBS_AGENT_TOOL_CALLS: tools},
                          error=RuntimeError("line one\n\x1b]0;owned\x07")) as span:
            pass
        builder.provider.shutdown()
    return f"{span.get_span_context().trace_id:032x}"


def test_recorded_control_characters_are_printed_as_escapes(
    run_obs: RunObs, recorded: Recorded
) -> None:
    output = show(run_obs, recorded, _hostile_trace(recorded.db))

    assert "\x1b" not in output
    assert "\u202e" not in output
    assert "evil\\x1b[2J\\u202eroot" in output
    assert "line one\\n\\x1b]0;owned\\x07" in output


def test_recorded_text_is_printed_never_run(
    run_obs: RunObs, recorded: Recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    output = show(run_obs, recorded, _hostile_trace(recorded.db))

    assert "tools: __import__('pathlib').Path('pwned').touch()" in output
    assert not (tmp_path / "pwned").exists()


def test_spans_whose_parent_is_elsewhere_start_their_own_branch(
    run_obs: RunObs, recorded: Recorded
) -> None:
    with SQLiteTraceStore(recorded.db) as store:
        store.write([
            span_record("cafe01", "a", name="remote child", parent="not-here", start_ms=0),
            span_record("cafe01", "b", name="grandchild", parent="a", start_ms=1),
            span_record("cafe01", "c", name="late orphan", parent="gone", start_ms=5),
        ])

    lines = tree(show(run_obs, recorded, "cafe01"))

    column = lines[0].index("remote child")
    assert [line[column:] for line in lines] == ["remote child", "└─ grandchild", "late orphan"]


def test_a_parent_cycle_in_corrupt_data_is_drawn_once(run_obs: RunObs, recorded: Recorded) -> None:
    with SQLiteTraceStore(recorded.db) as store:
        store.write([
            span_record("c1c1e0", "x", name="x", parent="y", start_ms=0),
            span_record("c1c1e0", "y", name="y", parent="x", start_ms=1),
        ])

    lines = tree(show(run_obs, recorded, "c1c1e0"))

    column = lines[0].index("x")
    assert [line[column:] for line in lines] == ["x", "└─ y"]


def test_a_very_deep_trace_is_drawn_without_recursion_limits(
    run_obs: RunObs, recorded: Recorded
) -> None:
    depth = 1500  # deeper than the default recursion limit
    with SQLiteTraceStore(recorded.db) as store:
        store.write([
            span_record("d00d", f"s{n}", name=f"level {n}", start_ms=n,
                        parent=f"s{n - 1}" if n else None)
            for n in range(depth)
        ])

    lines = tree(show(run_obs, recorded, "d00d"))

    assert len(lines) == depth
    assert lines[-1].endswith(f"└─ level {depth - 1}")


def test_an_error_message_that_names_its_type_is_not_prefixed_twice(
    run_obs: RunObs, recorded: Recorded
) -> None:
    with SQLiteTraceStore(recorded.db) as store:
        store.write([span_record("e0e0", "a", name="tool", status="ERROR",
                                 status_message="ValueError: backend down",
                                 attributes={sc.ERROR_TYPE: "ValueError"})])

    assert line_of(show(run_obs, recorded, "e0e0"), "tool").endswith("ERROR ValueError: backend down")
