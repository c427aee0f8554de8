"""Phrase lexicon matching that sees through simple obfuscation.

Tokens are compared whole (so "class" never matches "ass"), with simple inflections, after
undoing l33t spelling ("1d10t"), separators ("i.d.i.o.t", "i d i o t"), stretched letters
("stuuupid") and masking ("f*ck", "s#it", where a mask stands for one letter).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from obs_core.evals._text import fold

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "!": "i", "|": "l", "+": "t"})
_MASKS = "*#%"
_TOKEN_RE = re.compile(r"[^\s,;:?\"()\[\]{}<>/\\]+")
_SEPARATED_RE = re.compile(r"(?:[\w@$!*][.\-_]){2,}[\w@$!*]")
_SECTION_RE = re.compile(r"^\[(\w+)\s+([0-9.]+)(\s+targeted)?\]$")
_SUFFIXES = ("", "s", "es", "ed", "d", "ing", "er", "ers", "y")
SECOND_PERSON = frozenset({"you", "your", "youre", "yourself", "ya", "u", "ur", "yall"})
_TARGET_WINDOW = 4


@dataclass(frozen=True, kw_only=True, slots=True)
class Entry:
    category: str
    severity: float
    targeted: bool
    words: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True, kw_only=True, slots=True)
class Hit:
    entry: Entry
    matched: str
    """The text as written in the input."""
    obfuscated: bool
    severity: float
    """After targeting: half for an untargeted hit of a targeted category."""


def _normal_word(word: str) -> str:
    return fold(word).replace("'", "").strip()


def parse(text: str) -> list[Entry]:
    """Read the ``[category severity (targeted)]`` sectioned format of ``_data/safety_lexicon.txt``."""
    entries: list[Entry] = []
    category, severity, targeted = "", 0.0, False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        section = _SECTION_RE.match(line)
        if section:
            category, severity, targeted = section.group(1), float(section.group(2)), bool(section.group(3))
            continue
        if not category:
            raise ValueError(f"lexicon entry {line!r} precedes any [category severity] header")
        entries.append(Entry(category=category, severity=severity, targeted=targeted, words=tuple(_normal_word(w) for w in line.split())))
    return entries


class Lexicon:
    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = list(entries)
        self._forms: dict[str, set[str]] = {}
        self._starting: dict[str, list[Entry]] = {}
        for entry in self.entries:
            self._starting.setdefault(entry.words[0], []).append(entry)
            for word in entry.words:
                for suffix in _SUFFIXES:
                    self._forms.setdefault(word + suffix, set()).add(word)
                if word.endswith("e"):
                    for suffix in ("d", "r", "rs", "ing"):
                        self._forms.setdefault(word[:-1] + suffix if suffix == "ing" else word + suffix, set()).add(word)
        self._forms_by_length: dict[int, list[str]] = {}
        for form in self._forms:
            self._forms_by_length.setdefault(len(form), []).append(form)

    def with_terms(self, extra: Mapping[str, Iterable[str]], severities: Mapping[str, float]) -> Lexicon:
        added = [
            Entry(category=category, severity=severities.get(category, 0.7), targeted=False, words=tuple(_normal_word(w) for w in term.split()))
            for category, terms in extra.items()
            for term in terms
            if term.strip()
        ]
        return Lexicon([*self.entries, *added])

    def _bases(self, token: str) -> tuple[set[str], bool]:
        """Lexicon words a token can stand for, and whether seeing that took de-obfuscation."""
        plain = _normal_word(token)
        if plain in self._forms:
            return self._forms[plain], False
        candidates: list[str] = []
        if _SEPARATED_RE.fullmatch(plain):
            plain = re.sub(r"[.\-_]", "", plain)
            candidates.append(plain)
        if any(ch.isalpha() for ch in plain) and any(not ch.isalpha() for ch in plain):
            candidates.append(plain.translate(_LEET))
        for candidate in list(candidates) or [plain]:
            candidates.append(re.sub(r"(.)\1{2,}", r"\1", candidate))
            candidates.append(re.sub(r"(.)\1{2,}", r"\1\1", candidate))
        for candidate in candidates:
            if candidate in self._forms:
                return self._forms[candidate], True
        masked = next((c for c in [plain, *candidates] if any(m in c for m in _MASKS)), None)
        if masked is not None and sum(ch.isalpha() for ch in masked) >= 2 and masked[0].isalpha():
            pattern = re.compile("".join("[a-z]" if ch in _MASKS else re.escape(ch) for ch in masked))
            found = {base for form in self._forms_by_length.get(len(masked), ()) if pattern.fullmatch(form) for base in self._forms[form]}
            if found:
                return found, True
        return set(), False

    def scan(self, text: str) -> list[Hit]:
        spelled = _merge_spelled_out([m.group(0).strip(".!'-_") or m.group(0) for m in _TOKEN_RE.finditer(text)])
        tokens = [token for token, _ in spelled]
        resolved = [(bases, hidden or joined) for (bases, hidden), (_, joined) in zip(map(self._bases, tokens), spelled, strict=True)]
        folded = [_normal_word(t) for t in tokens]
        hits: list[Hit] = []
        seen: set[tuple[str, str]] = set()
        for i, (bases, obfuscated) in enumerate(resolved):
            for base in bases:
                for entry in self._starting.get(base, ()):
                    end = i + len(entry.words)
                    if end > len(tokens) or any(entry.words[k] not in resolved[i + k][0] for k in range(1, len(entry.words))):
                        continue
                    key = (entry.category, entry.text)
                    if key in seen:
                        continue
                    seen.add(key)
                    window = folded[max(0, i - _TARGET_WINDOW) : end + _TARGET_WINDOW]
                    aimed = not entry.targeted or any(w in SECOND_PERSON for w in window)
                    hits.append(
                        Hit(
                            entry=entry,
                            matched=" ".join(tokens[i:end]),
                            obfuscated=obfuscated or any(resolved[i + k][1] for k in range(len(entry.words))),
                            severity=entry.severity if aimed else entry.severity / 2,
                        )
                    )
        return hits


def _merge_spelled_out(tokens: list[str]) -> list[tuple[str, bool]]:
    """Join runs of three or more single characters ("i d i o t" → "idiot"), marking the joins."""
    merged: list[tuple[str, bool]] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1:
            run.append(token)
            continue
        merged.extend([("".join(run), True)] if len(run) >= 3 else [(t, False) for t in run])
        run = []
        if token:
            merged.append((token, False))
    return merged
