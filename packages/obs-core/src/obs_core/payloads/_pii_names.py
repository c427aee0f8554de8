"""Person names, without a model: shipped name lists plus the cues people write around names.

One regex pass collects capitalised words; adjacent ones form runs ("Dr. Maria de la Cruz");
each run is then read left to right with set lookups. A run is a name when

* it starts with an unambiguous given name (``Priya``, ``Oluwaseun``), optionally followed by
  more name-like words (``Priya Raghunathan``), or preceded by a surname (``Nagy Gábor``);
* an ambiguous given name (``Will``, ``May``, ``Paris``) is followed by another name word;
* an unknown capitalised word is followed by a known surname (``Xochitl Hernandez``);
* a cue precedes it: a title (``Dr.``), a greeting (``Hi``, ``Dear``), a sign-off on the line
  before (``Regards,``), an introduction (``my name is``) or a label (``Name:``, ``From:``).

Place prefixes (``San Jose``) and organisation suffixes (``George Street``, ``Morgan Bank``)
veto a run. Ordinary capitalised words (sentence starts, months, products, cities) come from
``common_words.txt`` and never count as names on their own.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from typing import Final

from obs_core.payloads._pii_findings import Finding, PiiKind
from obs_core.payloads._pii_namelists import (
    AMBIGUOUS,
    CLASS_CACHE,
    COMMON,
    FIRST,
    INITIAL,
    NAMEISH,
    ORG_SUFFIXES,
    PLACE_PREFIXES,
    SURNAME,
    TITLE,
    UNKNOWN,
    NameLists,
    classify,
    fold,
    name_lists,
)


def _upper_class() -> str:
    """A regex class of the upper-case letters of the Latin, Greek and Cyrillic blocks."""
    chars = [chr(c) for c in range(0x41, 0x530) if chr(c).isupper()]
    ranges: list[str] = []
    start = prev = chars[0]
    for ch in [*chars[1:], "\U0010ffff"]:
        if ord(ch) == ord(prev) + 1:
            prev = ch
            continue
        ranges.append(start if start == prev else f"{start}-{prev}")
        start = prev = ch
    return "[" + "".join(ranges) + "]"


# The lookbehind sits after the first character so the regex engine can still skip ahead on the
# upper-case class; it rejects capitals inside words and tokens ("xLm4Tz").
_CAP_WORD: Final = re.compile(_upper_class() + r"(?<!\w.)[^\W\d_]*(?:['’\-][^\W\d_]+)*")
_JOINERS: Final = frozenset({
    " ", "\u00a0", " van ", " von ", " de ", " da ", " del ", " della ", " di ", " du ", " der ",
    " den ", " de la ", " van der ", " van den ", " von der ", " bin ", " binti ", " ibn ",
    " al ", " el ", " dos ", " das ", " do ", " ter ", " ten ", " y ", " e ", " le ", " la ",
})
_MAX_RUN: Final = 8
_MAX_NAME: Final = 4

_CUE: Final = re.compile(
    r"(?P<greeting>(?:\b(?:hi|hello|hey|hiya|dear|howdy|morning|thanks|thank you|thx|bonjour|hola|"
    r"hallo|ciao|salut|cheers|welcome|congrats|congratulations)[ \t]*[,!]?[ \t]*))$"
    r"|(?P<signoff>\b(?:regards|best|cheers|thanks|thank you|sincerely|yours|warmly|wishes|love|"
    r"cordialement|saludos|atentamente|salutations|gruesse|grüße)[ \t]*[,.!]?[ \t]*\r?\n"
    r"(?:[ \t]*\r?\n)?[ \t]*(?:(?:-{1,2}|—|–)[ \t]*)?)$"
    r"|(?P<dash>(?:^|\n)[ \t]*(?:-{1,2}|—|–)[ \t]*)$"
    r"|(?P<intro>\b(?:my name is|my name's|name's|i am|i'm|i’m|this is|call me|named|called|"
    r"i go by)[ \t]+)$"
    r"|(?P<label>(?:(?:(?:\b[a-z]+[ _])?name|\b(?:surname|"
    r"from|to|cc|bcc|attn|attention|contact|author|signed|customer|patient|client|user|assignee|"
    r"owner|reporter|requester|employee|candidate|applicant|recipient|sender|cardholder|"
    r"account holder|beneficiary|holder|passenger|guest|member|tenant|speaker|host|"
    r"interviewer|interviewee|driver|doctor|nurse|agent|rep))\"?[ \t]*[:=][ \t]*\"?"
    r"|\b(?:written|reported|signed|approved|created|submitted|sent|authored|reviewed|"
    r"requested|assigned) (?:by|to)[ \t]+"
    r"|\b(?:cc|ask|ping|contact|email|call|thank|tell|meet|met)[ \t]+))$",
    re.IGNORECASE,
)
_SINGLE_WORD_CUES: Final = frozenset({"greeting", "signoff", "dash", "label"})
_CUE_WORDS: Final = frozenset({
    "hi", "hello", "hey", "hiya", "dear", "howdy", "morning", "thanks", "you", "thx", "bonjour",
    "hola", "hallo", "ciao", "salut", "cheers", "welcome", "congrats", "congratulations",
    "regards", "best", "sincerely", "yours", "warmly", "wishes", "love", "cordialement", "saludos",
    "atentamente", "salutations", "gruesse", "grüße", "is", "name's", "i'm", "i’m", "am", "this",
    "me", "named", "called", "by", "name", "surname", "from", "to", "cc", "bcc", "attn",
    "attention", "contact", "author", "signed", "customer", "patient", "client", "user",
    "assignee", "owner", "reporter", "requester", "employee", "candidate", "applicant",
    "recipient", "sender", "cardholder", "holder", "beneficiary", "passenger", "guest", "member",
    "tenant", "speaker", "host", "interviewer", "interviewee", "driver", "doctor", "nurse",
    "agent", "rep", "ask", "ping", "email", "call", "thank", "tell", "meet", "met"
})
_LOWER_INTRO_MARKERS: Final = ("my name is ", "my name's ", "i'm ", "i’m ", "i am ", "call me ",
                                "this is ")
_LOWER_NAME: Final = re.compile(r"[ \t]*([a-z][a-z'\-]{1,30})(?:[ \t]+([a-z][a-z'\-]{1,30}))?")
_FOLLOW_OK: Final = frozenset(",!:;\n\r)\"'<")
_CUE_SKIP: Final = frozenset(" \t\r\n\"'=:,!.")
_CUE_DASHES: Final = frozenset("-—–")

Token = tuple[int, int, str, int]  # start, end of the name part (no possessive), word, class


def find_names(text: str, lowered: str | None = None) -> list[Finding]:
    lists = name_lists()
    spans = [m.span() for m in _CAP_WORD.finditer(text)]
    words = [text[s:e] for s, e in spans]
    known = CLASS_CACHE.get
    classes = [known(w) or classify(w, lists) for w in words]
    out: list[Finding] = []
    for run in _runs(text, spans, words, classes):
        out.extend(_names_in_run(text, run))
    if out:
        out.extend(_repeated_names(text, spans, words, classes, out))
    if lowered is not None:
        out.extend(_lowercase_intros(text, lowered, lists))
    return out


def _runs(text: str, spans: list[tuple[int, int]], words: list[str],
          classes: list[int]) -> Iterator[list[Token]]:
    """Runs of adjacent capitalised words around every word that is not a common one.

    Most capitalised words in a prompt are common (sentence starts, products, places), so the
    words are classified in bulk first and runs are only built around the rest.
    """
    last = len(spans) - 1
    covered = -1
    for k, cls in enumerate(classes):
        if cls == COMMON or k <= covered:
            continue
        a = k
        while a > covered + 1 and k - a < _MAX_RUN - 1 and _adjacent(
                text, spans, words, classes, a - 1):
            a -= 1
        b = k
        while b < last and b - a < _MAX_RUN - 1 and _adjacent(text, spans, words, classes, b):
            b += 1
        covered = b
        yield [_token(text, spans[t], words[t], classes[t]) for t in range(a, b + 1)]


def _repeated_names(text: str, spans: list[tuple[int, int]], words: list[str],
                    classes: list[int], found: list[Finding]) -> Iterator[Finding]:
    """Later mentions of a word from a full name found earlier: "Sofia Rossi ... Sofia to review".

    Only words of multi-word names count, and not at a sentence start where the word may be
    the ordinary one ("Will Turner ... Will you?").
    """
    known = {word for f in found if " " in f.value for word in f.value.split()
             if word[:1].isupper() and len(word) > 1}
    if not known:
        return
    known |= {f"{w}{s}" for w in known for s in ("'s", "’s")}
    hits = [t for t, word in enumerate(words) if word in known]
    if not hits:
        return
    taken = sorted((f.start, f.end) for f in found)
    starts = [s for s, _ in taken]
    for t in hits:
        start, word, cls = spans[t][0], words[t], classes[t]
        bare = word[:-2] if word.endswith(("'s", "’s")) else word
        if cls in (COMMON, TITLE) or _sentence_start(text, start):
            continue
        k = bisect.bisect_right(starts, start) - 1
        if k >= 0 and taken[k][1] > start:
            continue
        yield Finding(kind=PiiKind.PERSON, start=start, end=start + len(bare), value=bare)


def _sentence_start(text: str, start: int) -> bool:
    j = start - 1
    while j >= 0 and text[j] in " \t\"'(":
        j -= 1
    return j < 0 or text[j] in ".!?\n:#*-"


def _adjacent(text: str, spans: list[tuple[int, int]], words: list[str], classes: list[int],
              t: int) -> bool:
    """Whether word ``t + 1`` continues the name that word ``t`` is part of."""
    word = words[t]
    if word.endswith(("'s", "’s")):
        return False  # a possessive ends the name
    gap = text[spans[t][1]:spans[t + 1][0]]
    return gap in _JOINERS or (gap in (". ", ".") and (len(word) == 1 or classes[t] == TITLE))


def _token(text: str, span: tuple[int, int], word: str, cls: int) -> Token:
    start, end = span
    if word.endswith(("'s", "’s")):
        word, end = word[:-2], end - 2
    if len(word) == 1 and text.startswith(".", end):
        cls = INITIAL
    return (start, end, word, cls)


def _names_in_run(text: str, run: list[Token]) -> Iterator[Finding]:
    i = 0
    title_cue = False
    while i < len(run):
        cls = run[i][3]
        if cls == TITLE:
            title_cue = True
            i += 1
            continue
        if cls == COMMON:
            title_cue = False
            i += 1
            continue
        j = i + 1
        while j < len(run) and run[j][3] in NAMEISH and j - i < _MAX_NAME:
            j += 1
        classes = [t[3] for t in run[i:j]]
        if title_cue:
            accepted = True
        else:
            accepted = _accept(text, run, i, j, classes) and not _vetoed(run, i, j)
        if accepted:
            first = i
            while first > 0 and i - first < 2 and not title_cue and (
                    run[first - 1][3] == SURNAME or (
                        run[first - 1][3] == UNKNOWN
                        and not _sentence_start(text, run[first - 1][0]))):
                first -= 1
            yield Finding(kind=PiiKind.PERSON, start=run[first][0], end=run[j - 1][1],
                          value=text[run[first][0]:run[j - 1][1]])
            i = j
        else:
            i += 1
        title_cue = False


def _accept(text: str, run: list[Token], i: int, j: int, classes: list[int]) -> bool:
    head = classes[0]
    several = len(classes) >= 2
    if head == FIRST:
        return True
    if head in (AMBIGUOUS, INITIAL) and several:
        return True
    if head in (UNKNOWN, SURNAME) and several and classes[1] == SURNAME:
        return True
    cue = _cue(text, run[i][0])
    if cue is None:
        return False
    if several or head == AMBIGUOUS:
        return True
    if cue not in _SINGLE_WORD_CUES or head == INITIAL:
        return False
    end = run[j - 1][1]
    return end >= len(text) or text[end] in _FOLLOW_OK or text.startswith((". ", ".\n"), end) or (
        end + 1 == len(text) and text[end] == "."
    )


def _cue(text: str, start: int) -> str | None:
    """The kind of cue that ends right before ``start``, if any.

    The full cue pattern is costly to try at every capitalised word, so the word before
    ``start`` (skipping spaces, quotes and punctuation) is checked against the cue vocabulary
    first.
    """
    j = start - 1
    while j >= 0 and start - j <= 8 and text[j] in _CUE_SKIP:
        j -= 1
    if j < 0:
        return None
    if text[j] not in _CUE_DASHES:
        k = j
        while k > 0 and j - k < 16 and (text[k - 1].isalpha() or text[k - 1] in "'’"):
            k -= 1
        if text[k:j + 1].lower() not in _CUE_WORDS:
            return None
    m = _CUE.search(text, max(0, start - 48), start)
    return m.lastgroup if m is not None else None


def _vetoed(run: list[Token], i: int, j: int) -> bool:
    if i and fold(run[i - 1][2]) in PLACE_PREFIXES:
        return True
    return j < len(run) and fold(run[j][2]) in ORG_SUFFIXES


def _lowercase_intros(text: str, lowered: str, lists: NameLists) -> Iterator[Finding]:
    """``hi, i'm priya sharma``: chat text often drops capitals, so introductions are read in
    lower case too, accepting only words that are in the given-name list."""
    for marker in _LOWER_INTRO_MARKERS:
        k = lowered.find(marker)
        while k != -1:
            if k == 0 or not lowered[k - 1].isalnum():
                yield from _lowercase_name(text, lowered, k + len(marker), lists)
            k = lowered.find(marker, k + 1)


def _lowercase_name(text: str, lowered: str, pos: int, lists: NameLists) -> Iterator[Finding]:
    m = _LOWER_NAME.match(lowered, pos)
    if m is None or text[m.start(1)].isupper():
        return
    first = m.group(1)
    if first not in lists.first or first in lists.common:
        return
    end = m.end(1)
    second = m.group(2)
    if second and second not in lists.common and (
        second in lists.surnames or second in lists.first
    ):
        end = m.end(2)
    yield Finding(kind=PiiKind.PERSON, start=m.start(1), end=end, value=text[m.start(1):end])
