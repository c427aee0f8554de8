"""Reading untrusted query parameters and span attribute values.

Query parameters arrive as text from any browser tab; anything unreadable is an
:class:`ApiError` (HTTP 400) with a message, never an exception with a traceback. Attribute
values come from spans written by any version of any exporter, so they are coerced, never
trusted to have the documented type.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"", "0", "false", "no", "off"})


class ApiError(ValueError):
    """A request the API cannot answer; ``status`` is the HTTP status to send."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def int_param(query: Mapping[str, str], name: str, *, minimum: int,
              maximum: int | None = None) -> int | None:
    text = query.get(name)
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise ApiError(f"{name} must be an integer") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ApiError(f"{name} must be {bound}")
    return value


def bool_param(query: Mapping[str, str], name: str) -> bool:
    text = query.get(name, "").lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ApiError(f"{name} must be true or false")


def as_int(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return 0


def as_float(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        return number if math.isfinite(number) else 0.0
    return 0.0


def as_str(value: object) -> str | None:
    return None if value is None else str(value)
