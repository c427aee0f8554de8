"""configure(): arguments over environment over defaults; bad configuration fails loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider

import obs_core
from obs_core import ObsConfigError


@pytest.fixture(autouse=True)
def _reset() -> object:
    yield
    obs_core.shutdown(timeout_s=1)


def test_unknown_capture_mode_is_a_config_error() -> None:
    with pytest.raises(ObsConfigError, match="everything"):
        obs_core.configure(tracer_provider=TracerProvider(), trace_store=False,
                           capture_content="everything")  # type: ignore[arg-type]


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBS_CAPTURE_CONTENT", "all")
    with pytest.raises(ObsConfigError, match="OBS_CAPTURE_CONTENT"):
        obs_core.configure(tracer_provider=TracerProvider(), trace_store=False)


def test_unknown_otlp_protocol_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon")
    with pytest.raises(ObsConfigError, match="OTEL_EXPORTER_OTLP_PROTOCOL"):
        obs_core.configure(tracer_provider=TracerProvider(), trace_store=False)


def test_negative_orphan_timeout_is_a_config_error() -> None:
    with pytest.raises(ObsConfigError, match="orphan_timeout_s"):
        obs_core.configure(tracer_provider=TracerProvider(), trace_store=False, orphan_timeout_s=-1)


def test_argument_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBS_CAPTURE_CONTENT", "none")
    monkeypatch.setenv("OBS_MAX_ATTRIBUTE_LENGTH", "77")
    runtime = obs_core.configure(tracer_provider=TracerProvider(), trace_store=False,
                                 capture_content="full")
    assert runtime.capture_content == "full"
    assert runtime.settings.max_attribute_length == 77


def test_trace_store_defaults_under_the_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OBS_DATA_DIR", str(tmp_path / "obs-data"))
    runtime = obs_core.configure(tracer_provider=TracerProvider())
    assert runtime.trace_store_path == tmp_path / "obs-data" / "traces.db"
    assert (tmp_path / "obs-data").stat().st_mode & 0o777 == 0o700


def test_trace_store_can_be_switched_off_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBS_TRACE_STORE", "false")
    runtime = obs_core.configure(tracer_provider=TracerProvider())
    assert runtime.trace_store_path is None


def test_message_content_stays_off_spans_by_default() -> None:
    runtime = obs_core.configure(tracer_provider=TracerProvider(), trace_store=False)
    assert runtime.settings.content_on_spans is False
    assert runtime.capture_content == "redacted"


def test_reconfiguring_replaces_exporters_on_the_same_provider(tmp_path: Path) -> None:
    provider = TracerProvider()
    first = obs_core.configure(tracer_provider=provider, trace_store=tmp_path / "a.db")
    second = obs_core.configure(tracer_provider=provider, trace_store=False)
    assert (tmp_path / "a.db").exists()
    assert first.processors == []  # flushed and shut down by the second call
    assert second.trace_store_path is None


def test_price_overrides_apply_to_cost() -> None:
    runtime = obs_core.configure(tracer_provider=TracerProvider(), trace_store=False,
                                 prices={"acme-llm": {"input": 1.0, "output": 2.0}})
    price = runtime.settings.prices.lookup("acme-llm-2026-01")
    assert price is not None
    assert (price.input, price.output) == (1.0, 2.0)


def test_invalid_price_override_is_a_config_error() -> None:
    with pytest.raises(ObsConfigError, match="prices"):
        obs_core.configure(tracer_provider=TracerProvider(), trace_store=False,
                           prices={"acme": {"input": "cheap"}})
