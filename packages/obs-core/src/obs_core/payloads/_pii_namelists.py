"""The shipped name lists and how one capitalised word is classified against them.

The lists live in ``_data/`` as plain text (lower case, ASCII-folded), are read once on first
use, and are sets: classifying a word is a few hash lookups, whatever the list sizes.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Final

# Word classes.
FIRST: Final = 1
"""A given name that is not also an ordinary word: enough on its own."""
AMBIGUOUS: Final = 2
"""A given name that is also a word, place or product (Will, May, Paris, Claude)."""
SURNAME: Final = 3
"""A family name that is not an ordinary word."""
WORD_SURNAME: Final = 4
"""A family name that is also a word (Brown, Baker, King)."""
UNKNOWN: Final = 5
"""Capitalised, in no list: a name only with support from its neighbours or a cue."""
INITIAL: Final = 6
"""A single capital followed by a full stop, as in ``J. Smith``."""
TITLE: Final = 7
"""Mr, Dr, Prof...: what follows is a name."""
COMMON: Final = 8
"""An ordinary capitalised word; never part of a name."""

NAMEISH: Final = frozenset({FIRST, AMBIGUOUS, SURNAME, WORD_SURNAME, UNKNOWN, INITIAL})

TITLES: Final = frozenset({
    "mr", "mrs", "ms", "miss", "mx", "mister", "dr", "doctor", "prof", "professor", "sir", "dame",
    "lord", "lady", "madam", "madame", "mme", "mlle", "monsieur", "herr", "frau", "rev",
    "reverend", "pastor", "rabbi", "imam", "sheikh", "senor", "senora", "sra", "srta", "dott",
    "capt", "captain", "sgt", "lt", "col", "officer", "detective", "det", "inspector", "judge",
    "senator", "governor", "mayor", "ambassador", "president", "king", "queen", "prince",
    "princess", "duke", "duchess", "uncle", "aunt", "auntie",
})
PLACE_PREFIXES: Final = frozenset({
    "san", "santa", "santo", "sao", "saint", "st", "ste", "lake", "mount", "mt", "port", "fort",
    "cape", "new", "los", "las", "el", "hotel", "club", "camp", "villa", "casa", "cafe", "chez",
})
ORG_SUFFIXES: Final = frozenset({
    "street", "st", "road", "rd", "avenue", "ave", "boulevard", "blvd", "lane", "drive", "way",
    "court", "place", "square", "plaza", "park", "bridge", "station", "airport", "hospital",
    "clinic", "university", "college", "school", "academy", "institute", "museum", "library",
    "church", "cathedral", "center", "centre", "hall", "tower", "building", "foundation", "inc",
    "ltd", "llc", "corp", "corporation", "company", "co", "group", "holdings", "partners",
    "associates", "trust", "bank", "capital", "ventures", "labs", "studio", "studios", "media",
    "hotel", "restaurant", "cafe", "award", "awards", "prize", "fellowship", "scholarship",
    "memorial", "stadium", "arena", "theatre", "theater", "gallery", "line", "act", "law",
    "effect", "syndrome", "disease", "method", "theorem", "medal", "index", "cup", "trophy",
    "island", "river", "valley", "beach", "bay", "county", "city", "town", "day", "show",
})
_NAME_PREFIX: Final = re.compile(r"(?:Mc|Mac|O'|D'|De|Di|Da|Du|La|Le|Van|Von|Fitz|Al-|El-)")
_FOLD_SPECIAL: Final = str.maketrans({
    "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss", "æ": "ae", "Æ": "AE",
    "œ": "oe", "Œ": "OE", "ı": "i", "þ": "th", "Þ": "Th", "ð": "d", "’": "'",
})


@dataclass(frozen=True, kw_only=True, slots=True)
class NameLists:
    first: frozenset[str]
    surnames: frozenset[str]
    common: frozenset[str]


def _read(name: str) -> frozenset[str]:
    raw = resources.files("obs_core.payloads").joinpath("_data").joinpath(name).read_text("utf-8")
    return frozenset(
        line.strip() for line in raw.splitlines() if line.strip() and not line.startswith("#")
    )


@functools.lru_cache(maxsize=1)
def name_lists() -> NameLists:
    return NameLists(first=_read("first_names.txt"), surnames=_read("surnames.txt"),
                     common=_read("common_words.txt"))


def fold(word: str) -> str:
    """Lower case without accents, so ``José`` finds ``jose`` and ``Łukasz`` finds ``lukasz``."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.translate(_FOLD_SPECIAL))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


CLASS_CACHE: dict[str, int] = {}
"""Word -> class, filled by :func:`classify`; read directly in hot loops."""
_CACHE_LIMIT: Final = 50_000
_LONGEST_NAME_WORD: Final = 40


def classify(word: str, lists: NameLists) -> int:
    """The class of one capitalised word, ignoring a possessive ``'s``. Memoised: prompts repeat
    their vocabulary, and a dict hit is cheaper than folding and three set lookups."""
    cls = CLASS_CACHE.get(word)
    if cls is None:
        if len(word) > _LONGEST_NAME_WORD:
            return COMMON
        bare = word[:-2] if word.endswith(("'s", "’s")) else word
        cls = _classify(bare, lists) if bare else COMMON
        if len(CLASS_CACHE) >= _CACHE_LIMIT:
            CLASS_CACHE.clear()
        CLASS_CACHE[word] = cls
    return cls


def _classify(word: str, lists: NameLists) -> int:
    if len(word) == 1:
        return COMMON
    folded = fold(word)
    if folded in TITLES:
        return TITLE
    if word.isupper():
        if len(word) <= 3:  # acronyms (API, USD, CET), unless the word is a known name (DOE)
            cls = _lookup(folded, lists)
            return COMMON if cls == UNKNOWN else cls
    elif not word[1:].islower() and not _NAME_PREFIX.match(word) and "-" not in word:
        return COMMON  # CamelCase: OpenAI, LangChain, GitHub
    cls = _lookup(folded, lists)
    if cls == UNKNOWN and "-" in folded:
        parts = [p for p in folded.split("-") if p]
        classes = [_lookup(p, lists) for p in parts]
        if parts and all(c in (FIRST, AMBIGUOUS) for c in classes):
            return FIRST
        if parts and all(c != UNKNOWN and c != COMMON for c in classes):
            return SURNAME
    return cls


def _lookup(folded: str, lists: NameLists) -> int:
    common = folded in lists.common
    if folded in lists.first:
        return AMBIGUOUS if common else FIRST
    if folded in lists.surnames:
        return WORD_SURNAME if common else SURNAME
    return COMMON if common or _inflected(folded, lists.common) else UNKNOWN


def _inflected(folded: str, common: frozenset[str]) -> bool:
    """Plurals and verb forms of common words (``Returns``, ``Prices``, ``Checking``)."""
    for suffix, stems in _INFLECTIONS:
        if folded.endswith(suffix) and len(folded) > len(suffix) + 2:
            base = folded[: -len(suffix)]
            if any(base + stem in common for stem in stems):
                return True
    return False


_INFLECTIONS: Final = (
    ("s", ("",)), ("es", ("",)), ("ies", ("y",)), ("ed", ("", "e")), ("ing", ("", "e")),
    ("ly", ("",)), ("er", ("", "e")), ("ers", ("", "e")), ("ment", ("",)), ("ments", ("",)),
    ("ation", ("", "e", "ate")), ("ations", ("", "e", "ate")), ("al", ("",)), ("ity", ("",)),
)
