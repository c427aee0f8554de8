"""The one scrubber: every text that leaves the process (spans, payload store, judge inputs,
logs) passes through a :class:`Scrubber` first.

Detection is offline and model-free: validated patterns for contact data, payment and identity
numbers, network addresses and credentials, and shipped name lists plus context cues for person
names. It is built for the hot path (a 4 KB prompt in well under a millisecond) and never
raises on a string: a detector failure is contained and the text is withheld, not leaked.

UUIDs, git SHAs, hex digests and other opaque ids are deliberately left alone: they identify
records, not people, and traces need them. Credentials are recognised by their provider prefix
or their label (``api_key=...``), not by entropy.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from obs_core import _guard
from obs_core.payloads._pii_addresses import find_emails, find_ipv6
from obs_core.payloads._pii_findings import BUILTIN_KINDS, Finding, PiiKind, replace_spans, settle
from obs_core.payloads._pii_names import find_names
from obs_core.payloads._pii_numeric import NUMERIC_KINDS, find_numeric
from obs_core.payloads._pii_placeholders import PlaceholderMap
from obs_core.payloads._pii_presidio import PresidioDetector
from obs_core.payloads._pii_secrets import find_secrets
from obs_core.payloads._pii_walk import KeyMatcher, Walker

__all__ = [
    "DEFAULT_PERSON_KEYS",
    "DEFAULT_REDACT_KEYS",
    "Finding",
    "FindingsHook",
    "PiiKind",
    "PlaceholderMap",
    "ScrubSession",
    "Scrubber",
]

logger = logging.getLogger("obs.payloads")

FindingsHook = Callable[[str, list[Finding]], list[Finding]]
"""``(text, findings) -> findings``: inspect, drop or add findings before replacement."""

DEFAULT_REDACT_KEYS: Final[tuple[str, ...]] = (
    "authorization", "proxy-authorization", "*api_key", "x-api-key", "*password", "passwd",
    "passphrase", "*secret", "token", "*access_token", "*refresh_token", "*id_token",
    "*auth_token", "*session_token", "*bearer_token", "*api_token", "*csrf_token", "cookie",
    "set-cookie", "*private_key", "*secret_key", "*client_secret", "*secret_access_key",
)
"""Dictionary keys whose values are replaced whole, whatever they contain. Matching ignores case
and ``-``/``_``/``.``/spaces; a leading ``*`` also matches keys that end with the name."""

DEFAULT_PERSON_KEYS: Final[tuple[str, ...]] = (
    "first_name", "last_name", "full_name", "given_name", "family_name", "surname",
    "middle_name", "display_name", "*customer_name", "*contact_name", "*patient_name",
    "*cardholder_name", "*account_holder", "*holder_name",
)
"""Keys whose string values are a person's name by construction (a plain ``name`` is not: it
also names tools, models and spans, so its value goes through the detectors instead)."""

_KIND_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_SURROGATES: Final = re.compile("[\ud800-\udfff]")
_ASCII_LOWER: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_FAILED_KIND: Final = "REDACTED"
_MAX_CACHED_TEXT: Final = 16_384
_MAX_PLAIN_TEXT: Final = 32
"""Texts up to this length with nothing found in them are remembered as they are."""


class Scrubber:
    """Finds and replaces personal data and secrets in text and JSON-like values.

    Build one at configuration time and share it: it is immutable after construction and
    thread-safe. Options (all keyword-only):

    ``kinds`` / ``disable``
        Built-in detectors to run (default: all of :data:`~PiiKind`) and ones to skip.
    ``patterns``
        Extra detectors, ``{kind: regex}``. A named group ``value`` limits the replacement to
        that group. User regexes are trusted to be linear.
    ``allow`` / ``allow_patterns``
        Values never replaced: exact strings (case-insensitive) or regexes matching the whole
        value (``support@mycompany.com``, ``r".*@example\\.org"``).
    ``on_findings``
        Hook ``(text, findings) -> findings`` run after detection; if it raises, the built-in
        findings are used unchanged.
    ``redact_keys`` / ``person_keys``
        Key names for :meth:`scrub_value` (see :data:`DEFAULT_REDACT_KEYS`).
    ``redacted``, ``placeholder``, ``numbered_placeholder``
        Replacement texts; the templates receive ``kind`` and ``index``.
    ``max_depth``
        Nesting depth :meth:`scrub_value` descends; deeper values become ``<MAX_DEPTH>``.
    ``use_presidio``
        Also run Microsoft Presidio when it is installed (never installed by obs).
    """

    def __init__(
        self,
        *,
        kinds: Iterable[str] | None = None,
        disable: Iterable[str] = (),
        patterns: Mapping[str, str | re.Pattern[str]] | None = None,
        allow: Iterable[str] = (),
        allow_patterns: Iterable[str | re.Pattern[str]] = (),
        on_findings: FindingsHook | None = None,
        redact_keys: Iterable[str] = DEFAULT_REDACT_KEYS,
        person_keys: Iterable[str] = DEFAULT_PERSON_KEYS,
        redacted: str = "<REDACTED>",
        placeholder: str = "<{kind}>",
        numbered_placeholder: str = "<{kind}_{index}>",
        max_depth: int = 32,
        use_presidio: bool = False,
    ) -> None:
        chosen = BUILTIN_KINDS if kinds is None else tuple(kinds)
        _check_kinds(chosen, "kinds")
        _check_kinds(tuple(disable), "disable")
        self.kinds: frozenset[str] = frozenset(chosen) - frozenset(disable)
        """The built-in detectors that run."""
        self._patterns = _compile_patterns(patterns or {})
        self._allow = frozenset(v.strip().casefold() for v in allow)
        self._allow_patterns = tuple(
            p if isinstance(p, re.Pattern) else re.compile(p) for p in allow_patterns
        )
        self._on_findings = on_findings
        self._secret_keys = KeyMatcher(redact_keys)
        self._person_keys = KeyMatcher(person_keys)
        self._redacted = redacted
        self._placeholder = placeholder
        self._numbered = numbered_placeholder
        for template in (placeholder, numbered_placeholder):
            template.format(kind="KIND", index=1)  # a bad template fails here, not mid-trace
        if max_depth < 1:
            raise ValueError("max_depth must be at least 1")
        self._max_depth = max_depth
        self._known_texts = _KnownTexts() if on_findings is None else None
        self._presidio: PresidioDetector | None = None
        if use_presidio:
            if PresidioDetector.available():
                self._presidio = PresidioDetector()
            else:
                logger.warning("use_presidio=True but presidio_analyzer is not installed; "
                               "using the built-in detectors only")

    # -- text -------------------------------------------------------------------------------

    def find(self, text: str) -> list[Finding]:
        """Sorted, non-overlapping findings in ``text`` (after surrogate clean-up, which keeps
        offsets). If detection itself fails, one finding covers the whole text."""
        clean = _clean(text)
        known = self._known_texts
        digest = known.digest(clean) if known is not None else None
        if digest is not None and known is not None:
            spans = known.get(digest)
            if spans is not None:
                return [Finding(kind=kind, start=start, end=end, value=clean[start:end])
                        for kind, start, end in spans]
        try:
            found = self._detect(clean)
            if digest is not None and known is not None:
                known.add(digest, tuple((f.kind, f.start, f.end) for f in found))
                if not found:
                    known.add_plain(clean)
            return found
        except Exception as exc:  # the scrubber must contain its own failures
            _guard.report("payloads.scrubber", exc)
            if _guard.is_strict():
                raise
            return [Finding(kind=_FAILED_KIND, start=0, end=len(clean), value=clean)]

    def scrub(self, text: str, *, placeholders: PlaceholderMap | None = None) -> str:
        """``text`` with every finding replaced by its placeholder (``<EMAIL>``, or
        ``<EMAIL_1>`` when ``placeholders`` numbers them). Lone surrogates become U+FFFD so the
        result always encodes as UTF-8."""
        raw: object = text  # callers with loose types hand in None or numbers
        known = self._known_texts
        if known is not None and known.is_plain(raw):
            return text  # a short text that held nothing (a role, a key): no scan, no copy
        clean = _clean(raw if isinstance(raw, str) else _as_text(raw))
        findings = self.find(clean)
        if not findings:
            return clean
        if findings[0].kind == _FAILED_KIND:
            return self._redacted
        labels = [self._label(f, placeholders) for f in findings]
        return replace_spans(clean, findings, labels)

    def session(self) -> ScrubSession:
        """A scrubber view with its own :class:`PlaceholderMap`: one per trace or session."""
        return ScrubSession(self, PlaceholderMap())

    # -- values -----------------------------------------------------------------------------

    def scrub_value(self, value: Any, *, placeholders: PlaceholderMap | None = None) -> Any:
        """A scrubbed copy of a JSON-like value (dicts, lists, tuples, sets, strings, numbers).

        Strings are scrubbed by content; values under a sensitive key (``authorization``,
        ``api_key``...) are replaced whole by ``redacted``; values under a person-name key
        become ``<PERSON>``. Bytes are decoded, other objects go through ``str()``. Cycles
        become ``<CYCLE>`` and nesting beyond ``max_depth`` becomes ``<MAX_DEPTH>``.
        """
        walker = Walker(
            scrub=lambda s: self.scrub(s, placeholders=placeholders),
            person=lambda s: self._label(
                Finding(kind=PiiKind.PERSON, start=0, end=len(s), value=s), placeholders),
            secret_keys=self._secret_keys, person_keys=self._person_keys,
            redacted=self._redacted, max_depth=self._max_depth,
        )
        try:
            return walker.walk(value)
        except Exception as exc:  # e.g. RecursionError from a hostile mapping
            _guard.report("payloads.scrubber", exc)
            if _guard.is_strict():
                raise
            return self._redacted

    # -- internals --------------------------------------------------------------------------

    def _label(self, finding: Finding, placeholders: PlaceholderMap | None) -> str:
        if placeholders is None:
            return self._placeholder.format(kind=finding.kind, index=0)
        index = placeholders.number(finding.kind, finding.value)
        return self._numbered.format(kind=finding.kind, index=index)

    def _detect(self, text: str) -> list[Finding]:
        kinds = self.kinds
        lowered = text.lower()
        if len(lowered) != len(text):  # a few letters lower-case to two code points
            lowered = text.translate(_ASCII_LOWER)
        found: list[Finding] = []
        if PiiKind.EMAIL in kinds and "@" in text:
            found.extend(find_emails(text))
        if kinds & NUMERIC_KINDS:
            found.extend(find_numeric(text, kinds))
        if PiiKind.IP in kinds and ":" in text:
            found.extend(find_ipv6(text))
        if PiiKind.SECRET in kinds:
            found.extend(find_secrets(text, lowered))
        if PiiKind.PERSON in kinds:
            found.extend(find_names(text, lowered))
        for kind, pattern in self._patterns:
            found.extend(_custom(text, kind, pattern))
        if self._presidio is not None:
            found.extend(self._presidio.find(text, kinds))
        if self._allow or self._allow_patterns:
            found = [f for f in found if not self._allowed(f.value)]
        settled = settle(found, text)
        if self._on_findings is None:
            return settled
        try:
            return settle(self._on_findings(text, list(settled)), text)
        except Exception as exc:  # noqa: BLE001 - a user hook must not break scrubbing
            _guard.report("payloads.scrubber.on_findings", exc)
            return settled

    def warm_up(self) -> None:
        """Load the detectors' data (the name lists) now rather than on the first text; the
        payload writer calls this when its thread starts."""
        self._detect("Warm up: Jane Doe, jane@example.org")

    def _allowed(self, value: str) -> bool:
        if value.strip().casefold() in self._allow:
            return True
        return any(p.fullmatch(value) for p in self._allow_patterns)


class _KnownTexts:
    """Where the findings are in texts seen recently, so that text repeated run after run
    (system prompts, templates, retrieved documents, roles, tool names) is scanned once.
    Detection is a pure function of the text when no ``on_findings`` hook is set, and its
    findings are always ``text[start:end]``, so only the kind and offsets are kept, under a
    keyed 128-bit digest of the text (per-process random key): the cache holds neither the
    texts nor what was found in them. The most recent ``max_entries`` texts are kept.

    The exception is short texts in which nothing was found (roles, dictionary keys, labels:
    most of the strings in a message tree). They are kept as they are, so that the next time
    they cost one set lookup instead of a digest; nothing found in them means nothing personal
    is held."""

    def __init__(self, max_entries: int = 2048, max_plain: int = 1024) -> None:
        self._key = os.urandom(16)
        self._max = max_entries
        self._spans: dict[bytes, tuple[tuple[str, int, int], ...]] = {}
        self._plain: dict[str, None] = {}
        self._max_plain = max_plain
        self._lock = threading.Lock()

    def is_plain(self, text: object) -> bool:
        return type(text) is str and text in self._plain

    def add_plain(self, text: str) -> None:
        if len(text) > _MAX_PLAIN_TEXT:
            return
        with self._lock:
            if len(self._plain) >= self._max_plain:
                del self._plain[next(iter(self._plain))]
            self._plain[text] = None

    def digest(self, text: str) -> bytes | None:
        if len(text) > _MAX_CACHED_TEXT:
            return None  # long texts are rarely repeated verbatim; hashing them is wasted work
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), key=self._key,
                               digest_size=16).digest()

    def get(self, digest: bytes) -> tuple[tuple[str, int, int], ...] | None:
        return self._spans.get(digest)

    def add(self, digest: bytes, spans: tuple[tuple[str, int, int], ...]) -> None:
        with self._lock:
            if len(self._spans) >= self._max:
                del self._spans[next(iter(self._spans))]
            self._spans[digest] = spans


class ScrubSession:
    """A :class:`Scrubber` bound to one :class:`PlaceholderMap`, so numbered placeholders stay
    consistent across every text and value of one trace or conversation."""

    def __init__(self, scrubber: Scrubber, placeholders: PlaceholderMap) -> None:
        self.scrubber = scrubber
        self.placeholders = placeholders

    def scrub(self, text: str) -> str:
        return self.scrubber.scrub(text, placeholders=self.placeholders)

    def scrub_value(self, value: Any) -> Any:
        return self.scrubber.scrub_value(value, placeholders=self.placeholders)

    def find(self, text: str) -> list[Finding]:
        return self.scrubber.find(text)


def _check_kinds(kinds: tuple[str, ...], option: str) -> None:
    unknown = sorted(set(kinds) - set(BUILTIN_KINDS))
    if unknown:
        raise ValueError(f"{option}: unknown detector kinds {unknown}; "
                         f"built-in kinds are {sorted(BUILTIN_KINDS)}")


def _compile_patterns(
    patterns: Mapping[str, str | re.Pattern[str]],
) -> tuple[tuple[str, re.Pattern[str]], ...]:
    out: list[tuple[str, re.Pattern[str]]] = []
    for kind, pattern in patterns.items():
        if not _KIND_NAME.fullmatch(kind):
            raise ValueError(f"pattern kind {kind!r} must be a name like EMPLOYEE_ID")
        out.append((kind, pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)))
    return tuple(out)


def _custom(text: str, kind: str, pattern: re.Pattern[str]) -> list[Finding]:
    group: int | str = "value" if "value" in pattern.groupindex else 0
    out: list[Finding] = []
    for m in pattern.finditer(text):
        start, end = m.span(group)
        if start < end:
            out.append(Finding(kind=kind, start=start, end=end, value=text[start:end]))
    return out


def _clean(text: str) -> str:
    """Lone surrogates (from ``surrogateescape`` decoding or broken JSON) cannot be encoded as
    UTF-8, and every exporter must encode; each becomes U+FFFD, so offsets are preserved."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text)
    return text


def _as_text(value: object) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a hostile __str__ must not escape the scrubber
        return ""
