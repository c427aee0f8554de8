"""scrub_value: JSON-like values are scrubbed by content, and by key name where the key alone
says the value is a credential or a person's name."""

from __future__ import annotations

from typing import Any

import pytest

from obs_core.payloads import PlaceholderMap, Scrubber


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber()


@pytest.mark.parametrize("key", [
    "authorization", "Authorization", "api_key", "API-KEY", "apiKey", "x-api-key", "X-Api-Key",
    "password", "db_password", "secret", "client_secret", "token", "access_token", "cookie",
    "Set-Cookie", "private_key", "openai_api_key", "refresh_token",
])
def test_values_under_sensitive_keys_are_redacted_whole(scrubber: Scrubber, key: str) -> None:
    assert scrubber.scrub_value({key: "anything at all", "other": "kept"}) == {
        key: "<REDACTED>", "other": "kept"}


@pytest.mark.parametrize("key", ["max_tokens", "tokens", "token_count", "author", "keyboard",
                                 "eos_token_id", "secretary"])
def test_keys_that_only_resemble_credentials_are_not_redacted(scrubber: Scrubber, key: str) -> None:
    assert scrubber.scrub_value({key: "value"}) == {key: "value"}


def test_a_sensitive_key_redacts_nested_containers_whole(scrubber: Scrubber) -> None:
    value = {"headers": {"Cookie": {"session": "abc", "theme": "dark"}, "Accept": "*/*"}}
    assert scrubber.scrub_value(value) == {"headers": {"Cookie": "<REDACTED>", "Accept": "*/*"}}


def test_a_null_credential_stays_null(scrubber: Scrubber) -> None:
    assert scrubber.scrub_value({"password": None}) == {"password": None}


def test_the_key_list_is_configurable(scrubber: Scrubber) -> None:
    custom = Scrubber(redact_keys=["pin", "*_ssn"], redacted="***")
    assert custom.scrub_value({"pin": "1234", "user_ssn": "x", "password": "p"}) == {
        "pin": "***", "user_ssn": "***", "password": "p"}


def test_header_pairs_are_redacted_by_their_name(scrubber: Scrubber) -> None:
    headers = [("Authorization", "Basic dXNlcjpwYXNz"), ("Accept", "text/html")]
    assert scrubber.scrub_value(headers) == [("Authorization", "<REDACTED>"), ("Accept", "text/html")]


def test_person_name_keys_become_person_placeholders(scrubber: Scrubber) -> None:
    assert scrubber.scrub_value({"first_name": "qzx", "lastName": "Vrbl", "name": "search"}) == {
        "first_name": "<PERSON>", "lastName": "<PERSON>", "name": "search"}


def test_strings_are_scrubbed_by_content_at_any_depth(scrubber: Scrubber) -> None:
    value = {"messages": [{"role": "user", "content": "I'm at ana@example.com"}],
             "meta": ("ip", "203.0.113.9")}
    assert scrubber.scrub_value(value) == {
        "messages": [{"role": "user", "content": "I'm at <EMAIL>"}], "meta": ("ip", "<IP>")}


def test_numbers_booleans_and_none_pass_through(scrubber: Scrubber) -> None:
    value = {"n": 4111111111111111, "f": 1.5, "b": True, "z": None}
    assert scrubber.scrub_value(value) == value


def test_string_keys_are_scrubbed_too(scrubber: Scrubber) -> None:
    assert scrubber.scrub_value({"ana@example.com": 3}) == {"<EMAIL>": 3}


def test_keys_that_collide_after_scrubbing_are_all_kept(scrubber: Scrubber) -> None:
    scrubbed = scrubber.scrub_value({"a@example.com": 1, "b@example.com": 2})
    assert sorted(scrubbed.values()) == [1, 2]


def test_bytes_are_decoded_and_scrubbed(scrubber: Scrubber) -> None:
    assert scrubber.scrub_value([b"mail a@example.com", b"\xff\xfe"]) == ["mail <EMAIL>", "\ufffd\ufffd"]


def test_other_objects_are_scrubbed_through_str(scrubber: Scrubber) -> None:
    class Contact:
        def __str__(self) -> str:
            return "Contact(a@example.com)"

    assert scrubber.scrub_value({"c": Contact()}) == {"c": "Contact(<EMAIL>)"}


def test_an_object_whose_str_raises_becomes_a_marker(scrubber: Scrubber) -> None:
    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert scrubber.scrub_value([Hostile()]) == ["<UNREADABLE>"]


def test_nesting_beyond_max_depth_is_cut(scrubber: Scrubber) -> None:
    shallow = Scrubber(max_depth=3)
    value: Any = {"a": {"b": {"c": {"d": "deep"}}}}
    assert shallow.scrub_value(value) == {"a": {"b": {"c": "<MAX_DEPTH>"}}}


def test_very_deep_values_do_not_overflow_the_stack(scrubber: Scrubber) -> None:
    value: Any = "leaf"
    for _ in range(100_000):
        value = [value]
    result = scrubber.scrub_value(value)
    for _ in range(32):
        result = result[0]
    assert result == "<MAX_DEPTH>"


def test_cycles_are_cut_instead_of_looping(scrubber: Scrubber) -> None:
    loop: dict[str, Any] = {"name": "x"}
    loop["self"] = loop
    assert scrubber.scrub_value(loop) == {"name": "x", "self": "<CYCLE>"}


def test_a_shared_child_that_is_not_a_cycle_is_scrubbed_both_times(scrubber: Scrubber) -> None:
    child = {"mail": "a@example.com"}
    assert scrubber.scrub_value([child, child]) == [{"mail": "<EMAIL>"}, {"mail": "<EMAIL>"}]


def test_the_input_value_is_not_modified(scrubber: Scrubber) -> None:
    value = {"password": "p", "list": ["a@example.com"]}
    scrubber.scrub_value(value)
    assert value == {"password": "p", "list": ["a@example.com"]}


def test_person_keys_use_numbered_placeholders_in_a_session(scrubber: Scrubber) -> None:
    placeholders = PlaceholderMap()
    value = scrubber.scrub_value({"full_name": "Ana Ruiz", "text": "Thanks Ana Ruiz!"},
                                 placeholders=placeholders)
    assert value == {"full_name": "<PERSON_1>", "text": "Thanks <PERSON_1>!"}
