"""Turning arbitrary Python values into bounded, exportable OpenTelemetry attribute values.

Frameworks hand us anything: pydantic models, cyclic dicts, bytes, NaN, lone surrogates,
objects whose ``__repr__`` raises. Everything that reaches a span goes through here, so the
outcome for bad input is always the same: a value of bounded size, marked when cut.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from obs_core import _selfmetrics

AttributeValue = str | bool | int | float | list[str] | list[bool] | list[int] | list[float]

TRUNCATION_MARKER = "…[truncated]"
_INT64_MAX = 2**63 - 1
_MAX_DEPTH = 12
_MAX_ITEMS = 200


def clean_text(text: str, max_length: int) -> tuple[str, int | None]:
    """Valid UTF-8 text of at most ``max_length`` characters plus the original length if cut."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    if len(text) > max_length:
        return text[: max(0, max_length - len(TRUNCATION_MARKER))] + TRUNCATION_MARKER, len(text)
    return text, None


def to_attribute(value: Any, max_length: int) -> tuple[AttributeValue | None, int | None]:
    """An attribute value for ``value`` (``None`` means: leave the attribute out) and, when a
    string had to be cut, its original length."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, int):
        if -_INT64_MAX - 1 <= value <= _INT64_MAX:
            return value, None
        return clean_text(str(value), max_length)
    if isinstance(value, float):
        return value, None
    if isinstance(value, str):
        return clean_text(value, max_length)
    if isinstance(value, (list, tuple)):
        homogeneous = _homogeneous(value)
        if homogeneous is not None:
            return homogeneous, None
    return clean_text(to_json(value), max_length)


def _homogeneous(items: list[Any] | tuple[Any, ...]) -> AttributeValue | None:
    if len(items) > _MAX_ITEMS or not items:
        return [] if not items else None
    first = type(items[0])
    if first not in (str, bool, int, float) or any(type(i) is not first for i in items):
        return None
    if first is str:
        return [clean_text(i, 1024)[0] for i in items]
    if first is int and any(not (-_INT64_MAX - 1 <= i <= _INT64_MAX) for i in items):
        return None
    return list(items)


def to_json(value: Any, *, max_items: int = _MAX_ITEMS) -> str:
    """JSON text for any value; never raises, never recurses forever."""
    try:
        return json.dumps(to_jsonable(value, max_items=max_items), ensure_ascii=False,
                          allow_nan=False, separators=(",", ":"))
    except Exception:  # noqa: BLE001 - last resort for a value that defeats the walker
        _selfmetrics.count_drop("unserialisable_value")
        return '"<unserialisable>"'


def to_jsonable(value: Any, *, max_items: int = _MAX_ITEMS,
                text: Callable[[str], str] | None = None) -> Any:
    """A JSON-compatible copy of ``value``: cycles, depth and width bounded; foreign objects
    described rather than expanded. ``text``, when given, is applied to every string of the
    copy (values, keys and descriptions), so a caller that must also clean strings walks the
    value once instead of twice."""
    return _walk(value, 0, set(), max_items, text)


def _walk(value: Any, depth: int, seen: set[int], max_items: int,
          text: Callable[[str], str] | None) -> Any:
    if isinstance(value, str):
        return value if text is None else text(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_INT64_MAX - 1 <= value <= _INT64_MAX else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<bytes len={len(value)}>"
    if depth >= _MAX_DEPTH:
        return "<max depth>"
    ident = id(value)
    if ident in seen:
        return "<cycle>"
    seen.add(ident)
    try:
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for i, (k, v) in enumerate(value.items()):
                if i >= max_items:
                    out["…"] = f"{len(value) - max_items} more"
                    break
                key = k if isinstance(k, str) else _safe_str(k)
                out[key if text is None else text(key)] = _walk(v, depth + 1, seen, max_items,
                                                                text)
            return out
        if isinstance(value, (list, tuple, set, frozenset)):
            seq = list(value) if not isinstance(value, (list, tuple)) else value
            items = [_walk(v, depth + 1, seen, max_items, text) for v in seq[:max_items]]
            if len(seq) > max_items:
                items.append(f"… {len(seq) - max_items} more")
            return items
        dump = getattr(value, "model_dump", None)  # pydantic v2 models
        if callable(dump):
            try:
                return _walk(dump(), depth + 1, seen, max_items, text)
            except Exception:  # noqa: BLE001 - fall through to a description
                pass
        if hasattr(value, "__dataclass_fields__"):
            fields = value.__dataclass_fields__
            return {n: _walk(getattr(value, n, None), depth + 1, seen, max_items, text)
                    for n in fields}
        if _is_opaque(value):
            return f"<{type(value).__qualname__}>"
        described = _safe_str(value)
        return described if text is None else text(described)
    finally:
        seen.discard(ident)


def _is_opaque(value: Any) -> bool:
    """Iterators and generators must not be consumed: that would steal the user's data."""
    return hasattr(value, "__next__") or hasattr(value, "__anext__")


def _safe_str(value: Any) -> str:
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - objects whose __str__ raises still get described
        return f"<{type(value).__qualname__}>"
    return text if len(text) <= 4096 else text[:4096] + TRUNCATION_MARKER
