"""``obs traces``: the listing, its filters, JSON and colour."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from core.cli.cli_scenarios import Recorded, RunObs
from core.store.store_scenarios import TraceBuilder
from obs_core import semconv as sc
from obs_core.store import SQLiteTraceStore


def table(run_obs: RunObs, recorded: Recorded, *flags: str) -> list[str]:
    outcome = run_obs("traces", "--db", str(recorded.db), *flags)
    assert outcome.code == 0, outcome.err
    return outcome.out.splitlines()


def roots(lines: list[str]) -> list[str]:
    """The ROOT cell of each data row."""
    start = lines[0].index("ROOT")
    return [line[start:].split("  ")[0].strip() for line in lines[1:]]


def test_header_names_every_column(run_obs: RunObs, recorded: Recorded) -> None:
    header = table(run_obs, recorded)[0].split()

    assert header == ["TIME", "TRACE", "ROOT", "DURATION", "SPANS", "TOKENS", "COST", "STATUS",
                      "STEPS"]


def test_traces_are_listed_newest_first(run_obs: RunObs, recorded: Recorded) -> None:
    assert roots(table(run_obs, recorded)) == ["quick answer", "handle_request", "nightly batch"]


def test_a_row_shows_duration_spans_tokens_cost_status_and_agent_steps(
    run_obs: RunObs, recorded: Recorded
) -> None:
    row = next(line for line in table(run_obs, recorded) if "handle_request" in line)

    assert row.split()[2:] == [recorded.agent[:16], "handle_request", "500ms", "8", "360",
                               "$0.0030", "error", "3/3", "LIMIT"]


def test_columns_are_aligned(run_obs: RunObs, recorded: Recorded) -> None:
    lines = table(run_obs, recorded)
    duration_end = lines[0].index("DURATION") + len("DURATION")
    root_start = lines[0].index("ROOT")

    for line in lines[1:]:
        assert line[duration_end - 1] != " ", line  # right-aligned numbers end under the header
        assert line[root_start - 2:root_start] == "  ", line
        assert line[root_start] != " ", line


def test_since_hides_older_traces(run_obs: RunObs, recorded: Recorded) -> None:
    assert roots(table(run_obs, recorded, "--since", "1h")) == ["quick answer", "handle_request"]


def test_until_accepts_an_iso_date(run_obs: RunObs, recorded: Recorded) -> None:
    assert roots(table(run_obs, recorded, "--until", "2024-01-01")) == ["nightly batch"]


def test_errors_and_ok_split_the_listing(run_obs: RunObs, recorded: Recorded) -> None:
    assert roots(table(run_obs, recorded, "--errors")) == ["handle_request"]
    assert roots(table(run_obs, recorded, "--ok")) == ["quick answer", "nightly batch"]


def test_limit_hit_keeps_traces_whose_agent_ran_out_of_steps(
    run_obs: RunObs, recorded: Recorded
) -> None:
    assert roots(table(run_obs, recorded, "--limit-hit")) == ["handle_request"]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (("--name", "QUICK"), ["quick answer"]),
        (("--model", "gpt-4o"), ["quick answer"]),
        (("--session", "s-1"), ["handle_request"]),
        (("--pipeline-version", "v1"), ["handle_request"]),
        (("--min-duration", "400ms"), ["handle_request", "nightly batch"]),
    ],
)
def test_filters(run_obs: RunObs, recorded: Recorded, flags: tuple[str, ...],
                 expected: list[str]) -> None:
    assert roots(table(run_obs, recorded, *flags)) == expected


def test_sort_by_tokens_puts_the_largest_first(run_obs: RunObs, recorded: Recorded) -> None:
    assert roots(table(run_obs, recorded, "--sort", "tokens")) == [
        "quick answer", "handle_request", "nightly batch"]
    assert roots(table(run_obs, recorded, "--sort", "duration", "--asc")) == [
        "quick answer", "handle_request", "nightly batch"]


def test_limit_shows_fewer_rows_and_says_how_many_there_are(
    run_obs: RunObs, recorded: Recorded
) -> None:
    outcome = run_obs("traces", "--db", str(recorded.db), "--limit", "1")

    assert len(outcome.out.splitlines()) == 2
    assert "1-1 of 3 traces" in outcome.err


def test_nothing_matching_is_said_plainly(run_obs: RunObs, recorded: Recorded) -> None:
    assert table(run_obs, recorded, "--name", "no such run") == ["no traces match"]


@pytest.mark.parametrize("hostile", ["' OR 1=1 --", "%", "\"; DROP TABLE traces; --"])
def test_filter_values_are_never_sql(run_obs: RunObs, recorded: Recorded, hostile: str) -> None:
    assert table(run_obs, recorded, "--session", hostile, "--name", hostile) == ["no traces match"]
    assert len(table(run_obs, recorded)) == 4


def test_json_output_is_an_array_of_summaries(run_obs: RunObs, recorded: Recorded) -> None:
    outcome = run_obs("traces", "--db", str(recorded.db), "--json", "--errors")

    (summary,) = json.loads(outcome.out)
    assert summary["trace_id"] == recorded.agent
    assert summary["root_name"] == "handle_request"
    assert (summary["span_count"], summary["total_tokens"]) == (8, 360)
    assert summary["duration_ms"] == 500.0
    assert (summary["agent_steps"], summary["agent_limit_hit"]) == (3, True)
    assert summary["models"] == ["gpt-4o-mini"]


def test_an_unreadable_time_is_a_usage_error(run_obs: RunObs, recorded: Recorded) -> None:
    with pytest.raises(SystemExit) as exited:
        run_obs("traces", "--db", str(recorded.db), "--since", "yesterday-ish")

    assert exited.value.code == 2


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_output_has_no_colour_codes_when_not_a_terminal(
    run_obs: RunObs, recorded: Recorded
) -> None:
    assert "\x1b[" not in "\n".join(table(run_obs, recorded))


def test_a_terminal_gets_colour(monkeypatch: pytest.MonkeyPatch, recorded: Recorded) -> None:
    from obs_core.cli import main

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)

    assert main(["traces", "--db", str(recorded.db)]) == 0
    assert "\x1b[31merror" in terminal.getvalue()


def test_no_color_turns_colour_off_even_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, recorded: Recorded
) -> None:
    from obs_core.cli import main

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setenv("NO_COLOR", "1")

    assert main(["traces", "--db", str(recorded.db)]) == 0
    assert "\x1b[" not in terminal.getvalue()
    assert "error" in terminal.getvalue()


def test_evaluation_traces_show_only_with_the_evaluations_flag(
        run_obs: RunObs, tmp_path: Path) -> None:
    db = tmp_path / "traces.db"
    with SQLiteTraceStore(db) as store:
        traces = TraceBuilder(store)
        with traces.span("answer question", start_ms=0, end_ms=10):
            pass
        with traces.span("evaluate safety", start_ms=20, end_ms=21,
                         attributes={sc.OBS_SPAN_KIND: "evaluation"}):
            pass
        traces.provider.shutdown()

    listed = run_obs("traces", "--db", str(db))
    with_evaluations = run_obs("traces", "--db", str(db), "--evaluations")

    assert roots(listed.out.splitlines()) == ["answer question"]
    assert roots(with_evaluations.out.splitlines()) == ["evaluate safety", "answer question"]
