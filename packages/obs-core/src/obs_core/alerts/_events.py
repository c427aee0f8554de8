"""What sinks receive: one alert starting or ending."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from obs_core.alerts._rules import Severity

AlertStatus = Literal["firing", "resolved"]


class AlertEvent(BaseModel):
    """An alert transition. Each firing is sent once; its resolution is sent once too."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str
    status: AlertStatus
    severity: Severity
    summary: str
    labels: dict[str, str] = Field(default_factory=dict)
    """What the alert is about beyond its rule (pipeline version, retriever...)."""
    value: float
    threshold: float
    samples: int
    started_at: float
    """When the condition was first seen to hold (seconds since the epoch)."""
    at: float
    """When this event was produced."""
    dedup_key: str
    """Stable for one rule and label set: sinks use it to collapse repeats."""
    description: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


def dedup_key(rule: str, labels: dict[str, str]) -> str:
    """``obs/<rule>[/k=v...]``, hashed when it would exceed PagerDuty's 255 characters."""
    parts = [f"obs/{rule}", *(f"{k}={v}" for k, v in sorted(labels.items()))]
    key = "/".join(parts)
    if len(key) <= 255:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"obs/{rule[:200]}/{digest}"
