"""The benchmark harness still runs end to end: one workload, the baseline and one obs mode,
each in its own worker process, a tiny time budget, a results file with the tables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench")
    results, raw = out / "RESULTS.md", out / "raw.json"
    done = subprocess.run(
        [sys.executable, str(RUN), "--workloads", "lc-lcel", "--modes", "obs-minimal",
         "--rounds", "1", "--budget-s", "0.05", "--warmup", "1", "--rss-runs", "0",
         "--rss-agent-runs", "0", "--profile", "never", "--output", str(results), "--json", str(raw)],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return results.read_text(encoding="utf-8"), json.loads(raw.read_text()), done.stdout


def test_results_file_has_a_headline_row_with_the_baseline_time(
        tiny_run: tuple[str, dict[str, Any], str]) -> None:
    text, _, _ = tiny_run
    row = next(line for line in text.splitlines() if line.startswith("| lc-lcel | "))
    baseline_cell = row.split("|")[2].strip().replace(",", "")
    assert float(baseline_cell) > 0
    assert "obs-minimal overhead µs (×)" in text


def test_every_mode_ran_in_its_own_process_and_obs_emitted_spans(
        tiny_run: tuple[str, dict[str, Any], str]) -> None:
    _, raw, _ = tiny_run
    by_mode = {r["mode"]: r for r in raw["results"]}
    assert set(by_mode) == {"baseline", "obs-minimal"}
    assert all(r["status"] == "ok" and r["cpu_us"] > 0 for r in by_mode.values())
    assert by_mode["baseline"]["spans_per_run"] == 0
    assert by_mode["obs-minimal"]["spans_per_run"] >= 3  # prompt, model, parser, sequence


def test_headline_table_is_printed(tiny_run: tuple[str, dict[str, Any], str]) -> None:
    _, _, stdout = tiny_run
    assert "| workload | baseline CPU µs/run |" in stdout
    assert "| lc-lcel |" in stdout


def test_results_file_keeps_the_side_benchmark_figures(
        tiny_run: tuple[str, dict[str, Any], str]) -> None:
    text, _, _ = tiny_run
    for section in ("## Evaluation hand-off", "## Scrubber", "## Payload stores",
                    "## What the profile showed"):
        assert section in text
    assert "<!--" not in text


@pytest.mark.postgres
def test_payload_store_benchmark_reports_both_stores_against_their_targets() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_payload_store.py"), "--records", "300",
         "--rounds", "1", "--batch", "100", "--prefill", "200"],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {line.split("|")[1].strip(): line for line in done.stdout.splitlines()
            if line.startswith(("| sqlite", "| postgres"))}
    assert set(rows) == {"sqlite", "postgres"}
    assert "into a store holding 200" in done.stdout
    assert "| 5,000 |" in rows["sqlite"]
    assert "| 10,000 |" in rows["postgres"]


def test_scrubber_benchmark_times_a_4_kb_prompt_with_every_detector() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_scrubber.py"), "--rounds", "20"],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    row = next(line for line in done.stdout.splitlines()
               if line.startswith("4 KB prompt, all detectors"))
    median_us = float(row.split()[-2])
    assert median_us > 0


def test_ui_benchmark_answers_every_page_query_from_a_filled_store() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_ui_store.py"), "--traces", "300",
         "--repeats", "1"],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| query")]
    assert len(rows) == 15
    listed = next(r for r in rows if r.startswith("| trace list, newest first"))
    assert listed.rstrip(" |").endswith("50")
    overview = next(r for r in rows if r.startswith("| overview, 30 days"))
    days_charted = int(overview.rstrip(" |").rsplit("|", 1)[-1])
    # 30 days of traces touch 31 calendar days; the partial first and last may hold none.
    assert 29 <= days_charted <= 31


def test_the_bare_spans_floor_emits_a_span_for_each_run_obs_traces_on_langchain() -> None:
    """The floor is only comparable if it traces the same runs: the LCEL chain's sequence,
    prompt, model and parser, as obs does."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "_worker.py"), "lc-lcel", "bare-spans",
         "--budget-s", "0.05", "--warmup", "1"],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert figures["status"] == "ok"
    assert figures["spans_per_run"] == 4
    assert figures["app_cpu_us"] == figures["cpu_us"]  # no background thread of its own
