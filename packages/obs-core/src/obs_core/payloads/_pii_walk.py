"""Scrubbing JSON-like values: strings by content, everything under a sensitive key by name."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

_KEY_NOISE: Final = re.compile(r"[^0-9a-z]")

DEPTH_PLACEHOLDER: Final = "<MAX_DEPTH>"
"""Stands for a value nested deeper than ``max_depth``: dropped, never passed through raw."""
CYCLE_PLACEHOLDER: Final = "<CYCLE>"
UNREADABLE_PLACEHOLDER: Final = "<UNREADABLE>"


def normalise_key(key: str) -> str:
    """``X-Api-Key``, ``x_api_key`` and ``xApiKey`` all become ``xapikey``."""
    return _KEY_NOISE.sub("", key.lower())


class KeyMatcher:
    """Case- and separator-insensitive key names; a leading ``*`` matches as a suffix
    (``*api_key`` also covers ``openai_api_key``)."""

    def __init__(self, names: Iterable[str]) -> None:
        exact: set[str] = set()
        suffixes: set[str] = set()
        for name in names:
            normal = normalise_key(name.lstrip("*"))
            if normal:
                (suffixes if name.startswith("*") else exact).add(normal)
        self._exact = frozenset(exact)
        self._suffixes = tuple(sorted(suffixes))
        self.matches: Callable[[str], bool] = functools.lru_cache(maxsize=4096)(self._matches)

    def _matches(self, key: str) -> bool:
        normal = normalise_key(key)
        return normal in self._exact or normal.endswith(self._suffixes)


class Walker:
    """One walk over one value; holds the path of containers being visited to break cycles."""

    def __init__(self, *, scrub: Callable[[str], str], person: Callable[[str], str],
                 secret_keys: KeyMatcher, person_keys: KeyMatcher, redacted: str,
                 max_depth: int) -> None:
        self._scrub = scrub
        self._person = person
        self._secret_keys = secret_keys
        self._person_keys = person_keys
        self._redacted = redacted
        self._max_depth = max_depth
        self._active: set[int] = set()

    def walk(self, value: Any, depth: int = 0) -> Any:
        if isinstance(value, str):
            return self._scrub(value)
        if value is None or isinstance(value, (bool, int, float)):
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self._scrub(bytes(value).decode("utf-8", "replace"))
        if depth >= self._max_depth:
            return DEPTH_PLACEHOLDER
        if isinstance(value, (Mapping, list, tuple, set, frozenset)):
            ident = id(value)
            if ident in self._active:
                return CYCLE_PLACEHOLDER
            self._active.add(ident)
            try:
                return self._container(value, depth + 1)
            finally:
                self._active.discard(ident)
        try:
            text = str(value)
        except Exception:  # noqa: BLE001 - a hostile __str__ must not escape the scrubber
            return UNREADABLE_PLACEHOLDER
        return self._scrub(text)

    def _container(self, value: Any, depth: int) -> Any:
        if isinstance(value, Mapping):
            out: dict[Any, Any] = {}
            for key, item in value.items():
                new_key = self._scrub(key) if isinstance(key, str) else self.walk(key, depth)
                while new_key in out:
                    new_key = f"{new_key}~"
                out[new_key] = self._keyed(key, item, depth)
            return out
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
            return (self._scrub(value[0]), self._keyed(value[0], value[1], depth))
        items = [self.walk(item, depth) for item in value]
        if isinstance(value, list):
            return items
        if isinstance(value, tuple):
            return tuple(items)
        try:
            return type(value)(items)
        except TypeError:  # unhashable after scrubbing (a set of dicts cannot exist) or odd type
            return items

    def _keyed(self, key: Any, item: Any, depth: int) -> Any:
        if isinstance(key, str) and item is not None:
            if self._secret_keys.matches(key):
                return self._redacted
            if isinstance(item, str) and item and self._person_keys.matches(key):
                return self._person(item)
        return self.walk(item, depth)
