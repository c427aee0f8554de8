"""What a recorder is told to do, and the decisions that follow from its settings alone."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.trace import Span

from obs_core.pricing import PriceTable
from obs_core.runs import RunObserver
from obs_core.spans import SpanKind

__all__ = ["RecorderSettings", "observed_kinds", "scrubbers_for"]

_NO_KINDS: frozenset[SpanKind] = frozenset()


@dataclass(kw_only=True, slots=True)
class RecorderSettings:
    """How a recorder behaves. ``configure()`` builds one from arguments and environment."""

    max_attribute_length: int = 4096
    """Longer string attributes are cut and marked (``obs.truncated.<key>``)."""
    orphan_timeout_s: float = 600.0
    """A run open longer than this is ended by the sweeper with ``error.type=obs.orphaned``."""
    max_open_runs: int = 100_000
    """Bound on tracked runs; starts beyond it are dropped and counted."""
    content_on_spans: bool = False
    """Put (scrubbed) inputs and outputs on spans as attributes. Off by default."""
    scrub: Callable[[str], str] | None = None
    """Applied to every content string (and exception message) that goes onto a span."""
    scrub_value: Callable[[Any], Any] | None = None
    """Scrubs JSON-like structures leaf by leaf, with key-based redaction."""
    scrub_for_trace: Callable[[str], Any] | None = None
    """``trace_id -> scrubber`` (with ``scrub`` and ``scrub_value``) or ``None``. When set, it
    replaces ``scrub``/``scrub_value`` on spans, so placeholders are numbered per trace
    (``<EMAIL_1>`` for one address on every span of the trace, and in the payload store when
    both share sessions: :meth:`obs_core.payloads.PayloadCapture.scrubber_for_trace`)."""
    prices: PriceTable = field(default_factory=PriceTable.default)
    observers: Sequence[RunObserver] = ()
    """Told about every finished run (payload capture, evaluation hand-off)."""
    defaults: Mapping[str, str] = field(default_factory=dict)
    """Identity defaults for root runs: ``user_cohort``, ``pipeline_version``..."""
    span_listeners: Sequence[Any] = ()
    """Receive the facts of every finished span (alert engine, drift detector)."""


def observed_kinds(observers: Sequence[RunObserver]) -> frozenset[SpanKind] | None:
    """The union of the observers' ``run_kinds``; ``None`` (every kind) when one declares none."""
    kinds: set[SpanKind] = set()
    for observer in observers:
        wanted = getattr(observer, "run_kinds", None)
        if wanted is None:
            return None
        kinds.update(wanted)
    return frozenset(kinds) if kinds else _NO_KINDS


def scrubbers_for(settings: RecorderSettings, span: Span | None
                  ) -> tuple[Callable[[str], str] | None, Callable[[Any], Any] | None]:
    """``scrub`` and ``scrub_value`` for text going onto ``span`` (or into its run): the trace's
    own session when placeholders are numbered per trace, else the shared ones."""
    per_trace = settings.scrub_for_trace
    if per_trace is None or span is None:
        return settings.scrub, settings.scrub_value
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return settings.scrub, settings.scrub_value
    session = per_trace(f"{ctx.trace_id:032x}")
    if session is None:
        return settings.scrub, settings.scrub_value
    return session.scrub, session.scrub_value
