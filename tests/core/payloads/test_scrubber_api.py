"""The Scrubber's public contract: findings, placeholders, sessions and user extensions."""

from __future__ import annotations

import itertools
import re

import pytest

from obs_core import _selfmetrics
from obs_core.payloads import Finding, PiiKind, PlaceholderMap, Scrubber

TEXT = "Mail ana@example.com or bob@example.com, then ana@example.com again."


def test_find_reports_kind_and_offsets_of_each_finding() -> None:
    [finding] = Scrubber().find("x ana@example.com y")
    assert (finding.kind, finding.start, finding.end, finding.value) == (
        "EMAIL", 2, 17, "ana@example.com")


def test_a_findings_repr_never_shows_the_value() -> None:
    [finding] = Scrubber().find("x ana@example.com y")
    assert "ana@example.com" not in repr(finding)
    assert "ana@example.com" not in str([finding])


def test_findings_are_sorted_and_do_not_overlap() -> None:
    found = Scrubber().find("Card 4111 1111 1111 1111, mail a@b.co, phone +44 20 7946 0958")
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))


def test_plain_placeholders_name_the_kind() -> None:
    assert Scrubber().scrub(TEXT) == "Mail <EMAIL> or <EMAIL>, then <EMAIL> again."


def test_numbered_placeholders_repeat_for_the_same_value() -> None:
    scrubbed = Scrubber().scrub(TEXT, placeholders=PlaceholderMap())
    assert scrubbed == "Mail <EMAIL_1> or <EMAIL_2>, then <EMAIL_1> again."


def test_numbering_ignores_case_for_emails_and_formatting_for_numbers() -> None:
    session = Scrubber().session()
    first = session.scrub("ANA@Example.com, +44 20 7946 0958")
    second = session.scrub("ana@example.com, +442079460958")
    assert first == second == "<EMAIL_1>, <PHONE_1>"


def test_a_session_keeps_numbering_across_texts_and_values() -> None:
    session = Scrubber().session()
    session.scrub("from bob@example.com")
    value = session.scrub_value({"cc": ["ana@example.com", "bob@example.com"]})
    assert value == {"cc": ["<EMAIL_2>", "<EMAIL_1>"]}


def test_separate_sessions_number_independently() -> None:
    scrubber = Scrubber()
    scrubber.session().scrub("a@example.com")
    assert scrubber.session().scrub("b@example.com") == "<EMAIL_1>"


def test_a_placeholder_map_counts_distinct_values_per_kind() -> None:
    placeholders = PlaceholderMap()
    Scrubber().scrub(TEXT, placeholders=placeholders)
    assert placeholders.counts() == {"EMAIL": 2}


def test_custom_placeholder_templates_are_used() -> None:
    scrubber = Scrubber(placeholder="[{kind}]", numbered_placeholder="[{kind}#{index}]")
    assert scrubber.scrub("a@example.com") == "[EMAIL]"
    assert scrubber.scrub("a@example.com", placeholders=PlaceholderMap()) == "[EMAIL#1]"


def test_a_custom_pattern_adds_a_kind() -> None:
    scrubber = Scrubber(patterns={"EMPLOYEE_ID": r"\bEMP-\d{6}\b"})
    assert scrubber.scrub("badge EMP-004211 issued") == "badge <EMPLOYEE_ID> issued"


def test_a_custom_pattern_with_a_value_group_replaces_only_that_group() -> None:
    scrubber = Scrubber(patterns={"ACCOUNT": re.compile(r"acct:(?P<value>\d+)")})
    assert scrubber.scrub("acct:99812 ok") == "acct:<ACCOUNT> ok"


def test_a_disabled_kind_is_not_detected() -> None:
    scrubber = Scrubber(disable=[PiiKind.EMAIL])
    assert scrubber.scrub("a@example.com 4111 1111 1111 1111") == "a@example.com <CARD>"


def test_kinds_selects_only_those_detectors() -> None:
    scrubber = Scrubber(kinds=[PiiKind.CARD])
    assert scrubber.kinds == frozenset({"CARD"})
    assert scrubber.scrub("a@example.com 4111 1111 1111 1111") == "a@example.com <CARD>"


def test_an_unknown_kind_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="unknown detector kinds"):
        Scrubber(disable=["EMAILS"])


def test_an_invalid_custom_kind_name_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="must be a name"):
        Scrubber(patterns={"employee id": r"\d+"})


def test_a_bad_placeholder_template_fails_at_construction() -> None:
    with pytest.raises(KeyError):
        Scrubber(placeholder="<{type}>")


def test_allowed_values_are_kept_case_insensitively() -> None:
    scrubber = Scrubber(allow=["Support@Acme.example"])
    assert scrubber.scrub("mail support@acme.example or ana@example.com") == (
        "mail support@acme.example or <EMAIL>")


def test_allow_patterns_must_match_the_whole_value() -> None:
    scrubber = Scrubber(allow_patterns=[r".*@acme\.example"])
    assert scrubber.scrub("x@acme.example y@acme.example.org") == "x@acme.example <EMAIL>"


def test_the_findings_hook_can_drop_and_add_findings() -> None:
    def hook(text: str, findings: list[Finding]) -> list[Finding]:
        kept = [f for f in findings if f.kind != "EMAIL"]
        start = text.index("Project Falcon")
        return [*kept, Finding(kind="CODENAME", start=start, end=start + 14)]

    scrubber = Scrubber(on_findings=hook)
    assert scrubber.scrub("a@example.com on Project Falcon") == "a@example.com on <CODENAME>"


def test_the_hook_receives_the_text_that_was_searched() -> None:
    seen: list[str] = []

    def hook(text: str, findings: list[Finding]) -> list[Finding]:
        seen.append(text)
        return findings

    Scrubber(on_findings=hook).scrub("hello")
    assert seen == ["hello"]


@pytest.mark.lenient
def test_a_failing_hook_falls_back_to_the_built_in_findings() -> None:
    def hook(text: str, findings: list[Finding]) -> list[Finding]:
        raise RuntimeError("user bug")

    scrubber = Scrubber(on_findings=hook)
    assert scrubber.scrub("a@example.com") == "<EMAIL>"
    assert _selfmetrics.snapshot()["internal_errors"] == {"payloads.scrubber.on_findings": 1}


def test_hook_findings_outside_the_text_are_clipped() -> None:
    def hook(text: str, findings: list[Finding]) -> list[Finding]:
        return [Finding(kind="X", start=-5, end=3), Finding(kind="Y", start=8, end=99)]

    assert Scrubber(on_findings=hook).scrub("abcdefghij") == "<X>defgh<Y>"


@pytest.mark.lenient
def test_a_detector_failure_withholds_the_whole_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str) -> list[Finding]:
        raise RuntimeError("detector bug")

    monkeypatch.setattr("obs_core.payloads.scrubber.find_emails", broken)
    assert Scrubber().scrub("a@example.com and more") == "<REDACTED>"
    assert _selfmetrics.snapshot()["internal_errors"] == {"payloads.scrubber": 1}


def test_a_detector_failure_is_raised_under_the_test_suite(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str) -> list[Finding]:
        raise RuntimeError("detector bug")

    monkeypatch.setattr("obs_core.payloads.scrubber.find_emails", broken)
    with pytest.raises(RuntimeError, match="detector bug"):
        Scrubber().scrub("a@example.com")


def test_presidio_requested_but_missing_falls_back_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("obs_core.payloads._pii_presidio.PresidioDetector.available",
                        staticmethod(lambda: False))
    scrubber = Scrubber(use_presidio=True)
    assert scrubber.scrub("a@example.com") == "<EMAIL>"
    assert "presidio_analyzer is not installed" in caplog.text


def test_presidio_findings_are_merged_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    class Result:
        def __init__(self, entity_type: str, start: int, end: int, score: float) -> None:
            self.entity_type, self.start, self.end, self.score = entity_type, start, end, score

    class Engine:
        def analyze(self, *, text: str, language: str, entities: list[str]) -> list[Result]:
            start = text.index("Qzxv")
            return [Result("PERSON", start, start + 4, 0.85), Result("PERSON", 0, 3, 0.2)]

    class FakeModule:
        AnalyzerEngine = Engine

    monkeypatch.setattr("obs_core.payloads._pii_presidio.PresidioDetector.available",
                        staticmethod(lambda: True))
    monkeypatch.setattr("obs_core.payloads._pii_presidio.importlib.import_module",
                        lambda name: FakeModule)
    assert Scrubber(use_presidio=True).scrub("the Qzxv report") == "the <PERSON> report"
