"""The finding record, the built-in kinds, and how overlapping findings are settled."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final


class PiiKind:
    """Names of the built-in detectors; each is also the text of its placeholder (``<EMAIL>``).

    A plain namespace of strings rather than an enum: user patterns add kinds of their own, and a
    finding's ``kind`` is always a plain ``str``.
    """

    EMAIL: Final = "EMAIL"
    PHONE: Final = "PHONE"
    CARD: Final = "CARD"
    IBAN: Final = "IBAN"
    SSN: Final = "SSN"
    IP: Final = "IP"
    SECRET: Final = "SECRET"
    PERSON: Final = "PERSON"


BUILTIN_KINDS: Final[tuple[str, ...]] = (
    PiiKind.SECRET, PiiKind.CARD, PiiKind.IBAN, PiiKind.SSN,
    PiiKind.EMAIL, PiiKind.PHONE, PiiKind.IP, PiiKind.PERSON,
)
"""Every built-in kind, most specific first: when two findings overlap, the earlier kind names
the merged span (a card number inside a labelled secret is reported as the secret)."""

_RANK: Final = {kind: rank for rank, kind in enumerate(BUILTIN_KINDS)}


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    """One piece of personal or secret data found in a text: ``text[start:end] == value``.

    ``value`` is kept for callbacks and tests but left out of ``repr`` so that logging a finding
    (or a list of them) never leaks what was found.
    """

    kind: str
    """``PiiKind`` name or a user pattern's kind."""
    start: int
    """Offset of the first character, in code points."""
    end: int
    """Offset just past the last character."""
    value: str = field(default="", repr=False)
    """The matched text. Never log it."""


def rank(kind: str) -> int:
    """Lower wins. User kinds rank before built-ins: an explicit pattern is the user's intent."""
    return _RANK.get(kind, -1)


def settle(findings: Iterable[Finding], text: str) -> list[Finding]:
    """Sorted, non-overlapping findings whose spans cover every input span.

    Overlapping or touching-inside spans are merged into their union (redacting a little more is
    the safe failure), named by the best-ranked kind among them. Spans outside ``text`` are
    clipped; empty ones are dropped.
    """
    n = len(text)
    spans = sorted(
        (max(0, f.start), min(n, f.end), f.kind) for f in findings if f.end > f.start
    )
    out: list[Finding] = []
    cur_start = cur_end = -1
    cur_kind = ""
    for start, end, kind in spans:
        if end <= start:
            continue
        if start < cur_end:
            cur_end = max(cur_end, end)
            if rank(kind) < rank(cur_kind):
                cur_kind = kind
            continue
        if cur_end > cur_start >= 0:
            out.append(Finding(kind=cur_kind, start=cur_start, end=cur_end,
                               value=text[cur_start:cur_end]))
        cur_start, cur_end, cur_kind = start, end, kind
    if cur_end > cur_start >= 0:
        out.append(Finding(kind=cur_kind, start=cur_start, end=cur_end,
                           value=text[cur_start:cur_end]))
    return out


def replace_spans(text: str, findings: Sequence[Finding], labels: Sequence[str]) -> str:
    """``text`` with each (sorted, disjoint) finding replaced by the label at the same index."""
    parts: list[str] = []
    pos = 0
    for finding, label in zip(findings, labels, strict=True):
        parts.append(text[pos:finding.start])
        parts.append(label)
        pos = finding.end
    parts.append(text[pos:])
    return "".join(parts)
