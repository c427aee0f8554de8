"""One behaviour per test for each built-in detector: what it catches, what it must leave alone."""

from __future__ import annotations

import pytest

from core.payloads.pii_corpus import AWS_SECRET_KEY, JWT, OPENAI_KEY, PRIVATE_KEY
from obs_core.payloads import Scrubber


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber()


def kinds(scrubber: Scrubber, text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.value) for f in scrubber.find(text)]


# -- e-mail ---------------------------------------------------------------------------------

def test_email_addresses_become_email_placeholders(scrubber: Scrubber) -> None:
    assert scrubber.scrub("write to ana.lopez+news@mail.example.es today") == "write to <EMAIL> today"


def test_image_names_with_an_at_sign_are_not_emails(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "use logo@2x.png and icon@3x.webp") == []


def test_decorators_and_mentions_are_not_emails(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "@app.route('/') and ping @channel") == []


# -- phone ----------------------------------------------------------------------------------

@pytest.mark.parametrize("phone", [
    "(555) 123-4567", "555-123-4567", "555.123.4567", "1-800-555-0143", "+1 415 555 0123",
    "+44 20 7946 0958", "020 7946 0958", "06 12 34 56 78", "+33 6 12 34 56 78", "07700 900123",
    "+49 (0)30 901820", "+14155550123", "+91-98765-43210",
])
def test_phone_formats_are_found(scrubber: Scrubber, phone: str) -> None:
    assert kinds(scrubber, f"call {phone} now") == [("PHONE", phone)]


@pytest.mark.parametrize("text", [
    "in 2024 we sold 1,250 units", "costs $1,299.99", "on 2024-03-15 at 10:30:00",
    "15/03/2024 and 03.15.2024", "epoch 1710498600", "v2.14.3 and 10.0.19045.3693",
    "order ORD-2024-004417", "ticket 4821345", "1 000 000 requests",
])
def test_ordinary_numbers_are_not_phones(scrubber: Scrubber, text: str) -> None:
    assert kinds(scrubber, text) == []


def test_an_unformatted_number_is_a_phone_only_when_labelled(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "Phone: 5551234567") == [("PHONE", "5551234567")]
    assert kinds(scrubber, "Order: 5551234567") == []


# -- cards ----------------------------------------------------------------------------------

@pytest.mark.parametrize("card", [
    "4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "378282246310005",
    "3782 822463 10005", "6011 1111 1111 1117", "5555555555554444",
])
def test_luhn_valid_card_numbers_are_found(scrubber: Scrubber, card: str) -> None:
    assert kinds(scrubber, f"card {card} exp 09/27") == [("CARD", card)]


def test_a_card_number_failing_luhn_is_left_alone(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "card 4111 1111 1111 1112") == []


def test_a_millisecond_timestamp_passing_luhn_is_not_a_card(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "ts=1710498600125") == []


def test_a_card_followed_by_more_digits_is_still_found(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "4111 1111 1111 1111 123") == [("CARD", "4111 1111 1111 1111")]


# -- IBAN -----------------------------------------------------------------------------------

@pytest.mark.parametrize("iban", [
    "DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "GB82 WEST 1234 5698 7654 32",
    "NL91ABNA0417164300", "FR14 2004 1010 0505 0001 3M02 606",
])
def test_ibans_with_a_valid_checksum_are_found(scrubber: Scrubber, iban: str) -> None:
    assert kinds(scrubber, f"pay to {iban} please") == [("IBAN", iban)]


def test_an_iban_with_a_wrong_checksum_is_left_alone(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "pay to DE88 3704 0044 0532 0130 00") == []


def test_a_capitalised_word_after_an_iban_is_not_swallowed(scrubber: Scrubber) -> None:
    assert scrubber.scrub("GB82 WEST 1234 5698 7654 32 EUR") == "<IBAN> EUR"


# -- SSN ------------------------------------------------------------------------------------

@pytest.mark.parametrize("ssn", ["123-45-6789", "123 45 6789", "078-05-1120"])
def test_ssns_in_valid_ranges_are_found(scrubber: Scrubber, ssn: str) -> None:
    assert kinds(scrubber, f"SSN {ssn}") == [("SSN", ssn)]


@pytest.mark.parametrize("invalid", ["000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567",
                                     "123-45-0000"])
def test_ssns_outside_the_issued_ranges_are_left_alone(scrubber: Scrubber, invalid: str) -> None:
    assert [k for k, _ in kinds(scrubber, f"id {invalid}")] != ["SSN"]


def test_mixed_separators_are_not_an_ssn(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "ref 123-45 6789") == []


# -- IP -------------------------------------------------------------------------------------

def test_ipv4_and_ipv6_addresses_are_found(scrubber: Scrubber) -> None:
    text = "from 203.0.113.42 and 2001:db8::8a2e:370:7334"
    assert kinds(scrubber, text) == [("IP", "203.0.113.42"), ("IP", "2001:db8::8a2e:370:7334")]


def test_loopback_and_unspecified_addresses_are_kept(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "bind 127.0.0.1:8080, 0.0.0.0 and [::1]") == []


def test_a_four_part_version_is_not_an_ip(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "firmware version 1.2.3.4") == []


def test_times_mac_addresses_and_cpp_scopes_are_not_ipv6(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "at 10:30:45, nic 00:1A:2B:3C:4D:5E, std::vector") == []


# -- secrets --------------------------------------------------------------------------------

def test_provider_keys_are_secrets(scrubber: Scrubber) -> None:
    assert scrubber.scrub(f"key {OPENAI_KEY} here") == "key <SECRET> here"


def test_a_jwt_needs_a_header_that_decodes_to_json(scrubber: Scrubber) -> None:
    assert kinds(scrubber, f"t={JWT}") == [("SECRET", JWT)]
    assert kinds(scrubber, "t=eyJub3QganNvbg.eyJzdWIiOiIxIn0.c2ln") == []


def test_bearer_tokens_keep_the_scheme_word(scrubber: Scrubber) -> None:
    scrubbed = scrubber.scrub("curl -H 'X: Bearer abc123def456ghi789'")
    assert scrubbed == "curl -H 'X: Bearer <SECRET>'"


def test_the_word_bearer_in_prose_is_not_a_token(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "the bearer of this letter; bearer instrument") == []


def test_labelled_aws_secret_keys_are_secrets(scrubber: Scrubber) -> None:
    assert scrubber.scrub(f"aws_secret_access_key = {AWS_SECRET_KEY}") == (
        "aws_secret_access_key = <SECRET>")


def test_an_unlabelled_forty_character_string_is_not_a_secret(scrubber: Scrubber) -> None:
    sha = "e83c5163316f89bfbde7d9ab23ca2e25604af290"
    assert kinds(scrubber, f"commit {sha}") == []


def test_assignments_redact_only_the_value(scrubber: Scrubber) -> None:
    text = 'password=hunter2 and {"client_secret": "abc-DEF-123"}'
    assert scrubber.scrub(text) == 'password=<SECRET> and {"client_secret": "<SECRET>"}'


def test_token_counts_and_key_metadata_are_not_secrets(scrubber: Scrubber) -> None:
    text = "max_tokens=1024 total_tokens: 2048 token_url=https://x.example/t secret_name=prod"
    assert kinds(scrubber, text) == []


def test_a_private_key_block_is_removed_whole(scrubber: Scrubber) -> None:
    assert scrubber.scrub(f"key:\n{PRIVATE_KEY}\nend") == "key:\n<SECRET>\nend"


def test_a_private_key_without_its_end_line_is_removed_to_the_end_of_its_body(
    scrubber: Scrubber,
) -> None:
    truncated = PRIVATE_KEY.split("-----END")[0]
    assert scrubber.scrub(f"{truncated}(cut here)") == "<SECRET>(cut here)"


def test_a_password_in_a_connection_url_is_a_secret(scrubber: Scrubber) -> None:
    scrubbed = scrubber.scrub("postgres://app:Pa55word@10.0.0.5:5432/db")
    assert scrubbed == "postgres://app:<SECRET>@<IP>:5432/db"


# -- person names ---------------------------------------------------------------------------

def test_a_known_given_name_and_its_surname_are_one_person(scrubber: Scrubber) -> None:
    assert scrubber.scrub("ask Priya Raghunathan about it") == "ask <PERSON> about it"


def test_a_title_makes_an_unknown_surname_a_person(scrubber: Scrubber) -> None:
    assert scrubber.scrub("Dr. Thornbury will call") == "Dr. <PERSON> will call"


def test_a_greeting_makes_an_unknown_single_name_a_person(scrubber: Scrubber) -> None:
    assert scrubber.scrub("Hi Xochitl, thanks!") == "Hi <PERSON>, thanks!"


def test_a_sign_off_line_makes_the_next_line_a_person(scrubber: Scrubber) -> None:
    assert scrubber.scrub("See you.\n\nRegards,\nTarquin") == "See you.\n\nRegards,\n<PERSON>"


def test_lowercase_introductions_are_read(scrubber: Scrubber) -> None:
    assert scrubber.scrub("hey, i'm priya sharma") == "hey, i'm <PERSON>"


def test_an_ambiguous_given_name_alone_is_not_a_person(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "Will the build pass? May we ship in April?") == []


def test_an_ambiguous_given_name_with_a_surname_is_a_person(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "Will Turner signed") == [("PERSON", "Will Turner")]


def test_place_prefixes_and_organisation_suffixes_veto_names(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "from San Jose to George Street via Santa Clara") == []


def test_a_possessive_is_left_outside_the_placeholder(scrubber: Scrubber) -> None:
    assert scrubber.scrub("Hannah's notes") == "<PERSON>'s notes"


def test_a_later_mention_of_a_full_name_word_is_a_person(scrubber: Scrubber) -> None:
    scrubbed = scrubber.scrub("Met Sofia Rossi today; later Sofia sent the deck.")
    assert scrubbed == "Met <PERSON> today; later <PERSON> sent the deck."


def test_product_and_city_names_are_not_people(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "Compare Claude and Gemini. Offices in Paris and Sydney.") == []


def test_camel_case_words_are_not_people(scrubber: Scrubber) -> None:
    assert kinds(scrubber, "Hi LangChain, meet OpenAI and GitHub") == []
