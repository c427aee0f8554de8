"""How a run failed, and reading exceptions without letting them fail again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context

_SUPPRESS_KEYS = tuple(k for k in (getattr(otel_context, "_SUPPRESS_INSTRUMENTATION_KEY", None),
                                  "suppress_instrumentation") if k is not None)


def safe_message(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - an exception whose __str__ raises still gets recorded
        return f"<{type(error).__qualname__}>"


def stacktrace(error: BaseException) -> str:
    import traceback

    try:
        return "".join(traceback.format_exception(type(error), error, error.__traceback__))[-16384:]
    except Exception:  # noqa: BLE001 - same as above
        return ""


def suppressed() -> bool:
    """True inside a context where OpenTelemetry instrumentation is switched off."""
    current = otel_context.get_current()  # read once: this runs on every run start
    return any(current.get(key) for key in _SUPPRESS_KEYS)


@dataclass(slots=True)
class Failure:
    error: BaseException | str
    limit_reached: bool
    stop_reason: str | None
    attributes: dict[str, Any]

