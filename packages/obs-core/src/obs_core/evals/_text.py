"""Text helpers shared by the offline evaluators: normalising, tokenising, sentence splitting.

Pure functions over strings, dependency-free, tuned for English. The evaluators compare
*normalised* tokens, so "Säuwäntzt" and "Sauwantzt", "1,200" and "1200", "named" and "name"
meet each other.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

_TOKEN_RE = re.compile(
    r"(?:[^\W\d_]\.){2,}(?![^\W\d_])"  # initialisms: U.S., e.g.
    r"|\d+(?:[.,]\d+)*(?:st|nd|rd|th|s)?\b"  # numbers, ordinals, decades
    r"|\w+(?:'\w+)*",  # words, with inner apostrophes
    re.UNICODE,
)
_NUMBER_RE = re.compile(r"^\d+(?:[.,]\d+)*(?:st|nd|rd|th|s)?$")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|(?<=[a-z0-9)\"][.!?])(?=[A-Z][a-z])|\n{2,}")
_CLAUSE_SPLIT_RE = re.compile(r";\s+|,?\s+\b(?:but|whereas|while|although|though|however)\b\s+", re.IGNORECASE)
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "inc", "ltd", "co", "corp",
     "no", "vol", "fig", "u.s", "e.g", "i.e", "mt", "ft", "gen", "col", "lt", "sgt", "rev", "jan",
     "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
)

NEGATIONS = frozenset(
    {"not", "no", "never", "neither", "nor", "none", "nobody", "nothing", "cannot", "without", "nowhere"}
)
"""Words that flip a claim; a claim that negates must find a negation where its facts are."""

NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19",
    "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
    "eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000",
    "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th", "sixth": "6th",
    "seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th",
}
"""Spelled-out numbers mapped to digits ("one" is left out: it is mostly a pronoun)."""

MONTHS = frozenset(
    {"january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"}
)


def read_data(filename: str) -> str:
    """A text file shipped in ``obs_core/evals/_data``."""
    return resources.files("obs_core.evals").joinpath("_data").joinpath(filename).read_text(encoding="utf-8")


@cache
def wordlist(name: str) -> frozenset[str]:
    """A lexicon from ``_data/<name>.txt``: one entry a line, ``#`` starts a comment."""
    text = read_data(f"{name}.txt")
    entries = (line.split("#", 1)[0].strip().lower() for line in text.splitlines())
    return frozenset(entry for entry in entries if entry)


def fold(text: str) -> str:
    """Lower-case and strip accents, so spelling variants of one name compare equal."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("’", "'").lower()


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences; tolerant of glued sentences ("1846).First for Women")."""
    pieces = _SENTENCE_END_RE.split(text)
    sentences: list[str] = []
    carry = ""
    for piece in pieces:
        chunk = (carry + " " + piece).strip() if carry else piece.strip()
        if not chunk:
            continue
        last_word = chunk.rsplit(None, 1)[-1].rstrip(".").lower() if chunk.endswith(".") else ""
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            carry = chunk
            continue
        carry = ""
        sentences.append(chunk)
    if carry:
        sentences.append(carry)
    return sentences


def split_claims(text: str) -> list[str]:
    """Split an answer into checkable claims: sentences, then contrastive clauses and ``;``."""
    claims: list[str] = []
    for sentence in split_sentences(text):
        claims.extend(part.strip() for part in _CLAUSE_SPLIT_RE.split(sentence) if part and part.strip())
    return claims


def raw_tokens(text: str) -> list[str]:
    """Word-like tokens with original casing; hyphenated words come apart, possessives drop."""
    tokens: list[str] = []
    for match in _TOKEN_RE.finditer(text.replace("’", "'")):
        token = match.group(0)
        if token.endswith(".") or (len(token) > 2 and token[1] == "." and token[0].isalpha()):
            token = token.replace(".", "")
        if token.lower().endswith("n't"):
            token = "not"
        if token.endswith(("'s", "'S")):
            token = token[:-2]
        if "'" in token and not token[0].isdigit():
            token = token.replace("'", "")
        tokens.extend(part for part in token.split("_") if part)
    return tokens


def is_number(token: str) -> bool:
    return bool(_NUMBER_RE.match(token))


def normalize_number(token: str) -> str:
    """``1,200`` → ``1200``; ``3.50`` → ``3.5``; ordinals and decades keep their suffix."""
    suffix = ""
    match = re.match(r"^([\d.,]+?)(st|nd|rd|th|s)?$", token)
    if match is None:
        return token
    digits, suffix = match.group(1), match.group(2) or ""
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", digits):
        digits = digits.replace(",", "")
    if "." in digits and re.fullmatch(r"\d+\.\d+", digits):
        digits = digits.rstrip("0").rstrip(".")
    return digits + suffix


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """A deliberately light suffix stripper: plurals, -ed, -ing, final -e.

    Light on purpose: an aggressive stemmer would let "Scottish" support "Scotland".
    """
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "ches", "shes", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


@dataclass(frozen=True, kw_only=True, slots=True)
class Term:
    """One checkable unit of a text: a content word, a number or a negation."""

    surface: str
    """As written, for explanations."""
    key: str
    """The normalised form that is compared."""
    kind: str
    """``number``, ``entity``, ``word`` or ``negation``."""
    position: int
    """Index among the text's raw tokens; adjacent terms form phrases."""


def terms(text: str) -> list[Term]:
    """The checkable terms of ``text``: function words dropped, the rest normalised and typed.

    Capitalised words not opening a sentence count as entities; spelled-out numbers become
    digits so "two titles" meets "2 titles".
    """
    stop, generic = wordlist("stopwords"), wordlist("generic_words")
    found: list[Term] = []
    sentence_start = True
    for position, token in enumerate(raw_tokens(text)):
        folded = fold(token)
        if is_number(folded):
            found.append(Term(surface=token, key=normalize_number(folded), kind="number", position=position))
        elif folded in NUMBER_WORDS:
            found.append(Term(surface=token, key=NUMBER_WORDS[folded], kind="number", position=position))
        elif folded in NEGATIONS:
            found.append(Term(surface=token, key="not", kind="negation", position=position))
        elif folded not in stop and len(folded) > 1:
            capitalised = token[:1].isupper() and not (sentence_start and folded in generic)
            kind = "entity" if capitalised or any(ch.isdigit() for ch in folded) else "word"
            found.append(Term(surface=token, key=stem(folded), kind=kind, position=position))
        sentence_start = False
    return found


def approx_tokens(text: str) -> int:
    """Model-token estimate (about four characters a token for English), never below words."""
    return max(len(text.split()), round(len(text) / 4))
