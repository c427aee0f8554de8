"""Hostile input: the scrubber never raises on a string, always returns UTF-8-encodable text, and
takes linear time on adversarial megabyte inputs (no catastrophic backtracking)."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obs_core.payloads import Scrubber

MB = 1_000_000
TIME_BOUND_S = 20.0
"""Generous on purpose: measured worst case is about 3 s on a loaded 2-core machine; a
quadratic pattern would take minutes to hours on these inputs."""


def _repeat(unit: str) -> str:
    return (unit * (MB // len(unit) + 1))[:MB]


ADVERSARIAL = {
    "local part without an at sign": "a" * (MB - 1) + "@",
    "alternating at signs": _repeat("a@"),
    "digit groups": _repeat("12 "),
    "double colons": _repeat("::"),
    "capitalised words": _repeat("Ab "),
    "given names": _repeat("Sarah "),
    "token prefixes": _repeat("sk-"),
    "assignments": _repeat("password="),
    "private key headers": _repeat("-----BEGIN PRIVATE KEY-----"),
    "random punctuation soup": "".join(
        random.Random(7).choice("abcXYZ019 .-_:@/+=()\n\"'") for _ in range(MB)),
}


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber()


@pytest.mark.slow
@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_adversarial_megabyte_inputs_finish_in_bounded_time(scrubber: Scrubber, text: str) -> None:
    started = time.perf_counter()
    result = scrubber.scrub(text)
    elapsed = time.perf_counter() - started
    assert isinstance(result, str)
    assert elapsed < TIME_BOUND_S


def test_lone_surrogates_become_replacement_characters(scrubber: Scrubber) -> None:
    scrubbed = scrubber.scrub("mail \ud800a@example.com\udfff")
    assert scrubbed == "mail \ufffd<EMAIL>\ufffd"
    scrubbed.encode("utf-8")


def test_finding_offsets_refer_to_the_cleaned_text(scrubber: Scrubber) -> None:
    [finding] = scrubber.find("\udc80 a@example.com")
    assert (finding.start, finding.end) == (2, 15)


def test_surrogate_escaped_bytes_are_scrubbed(scrubber: Scrubber) -> None:
    decoded = b"\xffuser a@example.com \xfe".decode("utf-8", "surrogateescape")
    assert scrubber.scrub(decoded) == "\ufffduser <EMAIL> \ufffd"


def test_binary_looking_text_is_handled(scrubber: Scrubber) -> None:
    blob = bytes(range(256)).decode("latin-1") * 64
    assert len(scrubber.scrub(blob)) > 0


def test_a_non_string_argument_is_converted_instead_of_raising(scrubber: Scrubber) -> None:
    assert scrubber.scrub(12345) == "12345"  # type: ignore[arg-type]


def test_text_with_lowercase_expanding_letters_keeps_offsets(scrubber: Scrubber) -> None:
    """``"İ".lower()`` is two code points; offsets must still line up."""
    assert scrubber.scrub("İİİ password=hunter2 a@example.com") == (
        "İİİ password=<SECRET> <EMAIL>")


def test_empty_text_is_returned_unchanged(scrubber: Scrubber) -> None:
    assert scrubber.scrub("") == ""


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_never_raises_and_always_encodes(text: str) -> None:
    result = Scrubber().scrub(text)
    result.encode("utf-8")


_PLANTS = st.sampled_from(["a@example.com", "4111 1111 1111 1111", "+44 20 7946 0958",
                           "DE89 3704 0044 0532 0130 00", "123-45-6789", "203.0.113.42"])
_FILLER = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Nd", "L")), max_size=30)


@settings(max_examples=200, deadline=None)
@given(_FILLER, _PLANTS, _FILLER)
def test_a_planted_value_between_arbitrary_separators_is_always_removed(
    before: str, planted: str, after: str,
) -> None:
    """Fillers exclude letters and digits, which could legitimately extend the value into
    something else (a longer number, a longer address)."""
    scrubbed = Scrubber().scrub(f"{before} {planted} {after}")
    assert planted not in scrubbed
