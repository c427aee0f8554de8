"""The scrubber scans a repeated text once: later scrubs of the same text give the same result
from remembered offsets, and what it remembers holds neither the texts nor their findings."""

from __future__ import annotations

from obs_core.payloads import Scrubber
from obs_core.payloads.scrubber import Finding, PlaceholderMap

TEXT = "Please call Jane Doe at +1 415 555 0100 or write to jane.doe@example.org."


def test_a_repeated_text_is_scrubbed_the_same_way_each_time() -> None:
    scrubber = Scrubber()
    first = scrubber.scrub(TEXT)
    assert scrubber.scrub(TEXT) == first
    assert "jane.doe@example.org" not in first
    assert "555 0100" not in first


def test_repeated_findings_keep_their_values_and_offsets() -> None:
    scrubber = Scrubber()
    first = scrubber.find(TEXT)
    again = scrubber.find(TEXT)
    assert again == first
    assert all(f.value == TEXT[f.start:f.end] for f in again)


def test_numbered_placeholders_stay_consistent_when_a_text_repeats() -> None:
    scrubber = Scrubber()
    placeholders = PlaceholderMap()
    once = scrubber.scrub(TEXT, placeholders=placeholders)
    twice = scrubber.scrub(TEXT, placeholders=placeholders)
    assert once == twice
    assert "<EMAIL_1>" in once


def test_what_the_scrubber_remembers_contains_no_text() -> None:
    scrubber = Scrubber()
    scrubber.scrub(TEXT)
    remembered = repr(vars(scrubber._known_texts))
    for secret in ("Jane", "jane.doe", "555", "Please call"):
        assert secret not in remembered


def test_a_findings_hook_sees_every_scrub_of_a_repeated_text() -> None:
    calls: list[str] = []

    def hook(text: str, findings: list[Finding]) -> list[Finding]:
        calls.append(text)
        return findings

    scrubber = Scrubber(on_findings=hook)
    scrubber.scrub(TEXT)
    scrubber.scrub(TEXT)
    assert calls == [TEXT, TEXT]


def test_a_short_text_with_a_finding_is_never_remembered_as_it_is() -> None:
    scrubber = Scrubber()
    for _ in range(3):
        assert scrubber.scrub("jane@example.org") == "<EMAIL>"
    assert "jane@example.org" not in repr(vars(scrubber._known_texts))


def test_a_short_text_without_findings_comes_back_unchanged_every_time() -> None:
    scrubber = Scrubber()
    results = [scrubber.scrub("assistant") for _ in range(3)]
    assert results == ["assistant"] * 3


def test_short_plain_texts_are_remembered_within_a_bound() -> None:
    scrubber = Scrubber()
    for i in range(5_000):
        scrubber.scrub(f"label {i}")
    known = scrubber._known_texts
    assert known is not None
    assert known.is_plain("label 4999")
    assert not known.is_plain("label 0")
    assert len(known._plain) <= 1024


def test_a_plain_text_seen_before_still_counts_for_numbered_placeholders() -> None:
    scrubber = Scrubber()
    placeholders = PlaceholderMap()
    scrubber.scrub("user", placeholders=placeholders)
    assert scrubber.scrub("user", placeholders=placeholders) == "user"
    assert scrubber.scrub("write to jane@example.org", placeholders=placeholders) == (
        "write to <EMAIL_1>")
