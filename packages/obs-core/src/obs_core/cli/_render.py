"""Text output for humans: numbers, times, tables, colour and safe strings.

Everything printed comes from recorded spans, which can hold arbitrary text from prompts,
tools and users. :func:`clean` turns control characters into visible escapes so a recorded
value can never move the cursor, recolour the terminal or reorder text on screen.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TextIO

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: object, *, max_len: int | None = None) -> str:
    """One printable line: control and bidi characters shown as escapes, optionally cut."""
    value = _UNSAFE.sub(lambda m: _escape(m.group()), str(text))
    if max_len is not None and len(value) > max_len:
        value = value[: max(max_len - 1, 0)] + "…"
    return value


def _escape(char: str) -> str:
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in named:
        return named[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# --- colour ----------------------------------------------------------------------------------


def color_enabled(stream: TextIO) -> bool:
    """Colour only for a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@dataclass(frozen=True)
class Style:
    enabled: bool

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and text else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def red(self, text: str) -> str:
        return self._wrap("31", text)

    def green(self, text: str) -> str:
        return self._wrap("32", text)

    def yellow(self, text: str) -> str:
        return self._wrap("33", text)

    def cyan(self, text: str) -> str:
        return self._wrap("36", text)


@dataclass(frozen=True, kw_only=True)
class Glyphs:
    branch: str
    last: str
    pipe: str
    blank: str
    arrow: str
    dot: str


UNICODE_GLYPHS = Glyphs(branch="├─ ", last="└─ ", pipe="│  ", blank="   ", arrow="→", dot="·")
ASCII_GLYPHS = Glyphs(branch="|- ", last="`- ", pipe="|  ", blank="   ", arrow="->", dot="-")


def glyphs_for(stream: TextIO) -> Glyphs:
    """Box-drawing characters when the stream can encode them, ASCII otherwise."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "├└│→·…".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ASCII_GLYPHS
    return UNICODE_GLYPHS


# --- numbers and times -----------------------------------------------------------------------


def fmt_duration(ns: int) -> str:
    ms = ns / 1e6
    if ms < 1:
        return f"{ms:.2f}ms"
    if ms < 1000:
        return f"{ms:.0f}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.2f}s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def fmt_offset(ns: int) -> str:
    return "+" + fmt_duration(ns) if ns > 0 else "+0ms"


def fmt_tokens(count: int) -> str:
    return f"{count:,}" if count else "-"


def fmt_cost(usd: float) -> str:
    if usd <= 0:
        return "-"
    if usd < 0.0001:
        return "<$0.0001"
    return f"${usd:.4f}"


def fmt_time(ns: int) -> str:
    """Local wall-clock time, second precision."""
    return datetime.fromtimestamp(ns / 1e9).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def iso_utc(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).isoformat(timespec="microseconds")


# --- tables ----------------------------------------------------------------------------------

Paint = Callable[[int, int, str], str]
"""``paint(row, column, padded_cell)`` → the cell with colour applied (after padding, so ANSI
codes never disturb alignment)."""


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right_aligned: frozenset[int] = frozenset(),
    paint: Paint | None = None,
    header_style: Callable[[str], str] = str,
) -> list[str]:
    widths = [len(h) for h in headers]
    for row in rows:
        for col, cell in enumerate(row):
            widths[col] = max(widths[col], len(cell))

    def line(cells: Sequence[str], row_index: int | None) -> str:
        out: list[str] = []
        for col, cell in enumerate(cells):
            padded = cell.rjust(widths[col]) if col in right_aligned else cell.ljust(widths[col])
            if row_index is None:
                padded = header_style(padded)
            elif paint is not None:
                padded = paint(row_index, col, padded)
            out.append(padded)
        return "  ".join(out).rstrip()

    return [line(headers, None), *(line(row, index) for index, row in enumerate(rows))]
