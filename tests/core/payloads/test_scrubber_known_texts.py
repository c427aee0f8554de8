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
