"""How the command line writes numbers, times, tables and untrusted text."""

from __future__ import annotations

import io

import pytest

from obs_core.cli._common import duration_ns, point_in_time_ns
from obs_core.cli._render import (
    ASCII_GLYPHS,
    UNICODE_GLYPHS,
    Style,
    clean,
    fmt_cost,
    fmt_duration,
    glyphs_for,
    table,
)


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (250_000, "0.25ms"),
        (12_400_000, "12ms"),
        (1_234_000_000, "1.23s"),
        (125_000_000_000, "2m05s"),
        (7_380_000_000_000, "2h03m"),
    ],
)
def test_durations_read_naturally(ns: int, text: str) -> None:
    assert fmt_duration(ns) == text


@pytest.mark.parametrize(
    ("usd", "text"), [(0.0, "-"), (0.00004, "<$0.0001"), (0.0123, "$0.0123"), (12.5, "$12.5000")]
)
def test_costs_keep_four_decimals(usd: float, text: str) -> None:
    assert fmt_cost(usd) == text


@pytest.mark.parametrize(
    ("text", "ns"),
    [("500ms", 500_000_000), ("1.5s", 1_500_000_000), ("15m", 900_000_000_000),
     ("2h", 7_200_000_000_000), ("1d", 86_400_000_000_000), ("1W", 604_800_000_000_000)],
)
def test_duration_arguments(text: str, ns: int) -> None:
    assert duration_ns(text) == ns


def test_iso_times_with_a_utc_designator_are_understood() -> None:
    assert point_in_time_ns("2024-01-01T00:00:00Z") == 1_704_067_200 * 10**9
    assert point_in_time_ns("2024-01-01T02:00:00+02:00") == 1_704_067_200 * 10**9


def test_clean_escapes_terminal_control_and_bidi_characters() -> None:
    assert clean("a\x1b[31mb\tc\nd\x7f\u202ee") == "a\\x1b[31mb\\tc\\nd\\x7f\\u202ee"


def test_clean_cuts_long_text_with_an_ellipsis() -> None:
    assert clean("abcdefghij", max_len=5) == "abcd…"


def test_clean_keeps_ordinary_unicode() -> None:
    assert clean("café 東京 ✓") == "café 東京 ✓"


def test_table_pads_before_painting_so_colour_does_not_shift_columns() -> None:
    style = Style(enabled=True)

    lines = table(["NAME", "N"], [["a", "1"], ["long name", "22"]], right_aligned=frozenset({1}),
                  paint=lambda row, col, cell: style.red(cell) if col == 0 else cell)

    plain = [line.replace("\x1b[31m", "").replace("\x1b[0m", "") for line in lines]
    assert plain == ["NAME        N", "a           1", "long name  22"]


def test_glyphs_fall_back_to_ascii_when_the_terminal_cannot_encode_box_drawing() -> None:
    ascii_stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    utf8_stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")

    assert glyphs_for(ascii_stream) == ASCII_GLYPHS
    assert glyphs_for(utf8_stream) == UNICODE_GLYPHS
