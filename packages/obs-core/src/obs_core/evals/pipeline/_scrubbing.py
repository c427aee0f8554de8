"""Scrubbing a sample before any evaluator sees it, token log probabilities included.

The answer's tokens spell the answer out again, a few characters at a time: an e-mail address
split over five tokens is invisible to a detector that reads each token alone. So the tokens
are joined, the joined text is searched once, and every token that overlaps a finding is
rewritten: the part inside the finding becomes the finding's placeholder in the token where it
starts, and nothing in the tokens after. The log probabilities themselves, which are what
token-level evaluators measure, stay as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from obs_core.evals.base import EvalSample, TokenLogprob

__all__ = ["SupportsScrubValue", "scrub_sample", "scrub_tokens"]

_REDACTED = "<REDACTED>"


class SupportsScrubValue(Protocol):
    """What the pipeline needs from the shared scrubber (:class:`obs_core.payloads.Scrubber`).
    A scrubber that also has ``session()`` (returning an object with ``scrub``) gets one session
    per job, so a value repeated across question, answer and contexts keeps one placeholder;
    one that also has ``find`` (where the findings are) gets only the affected tokens of an
    answer's log probabilities replaced."""

    def scrub(self, text: str) -> str: ...


def scrub_sample(sample: EvalSample, scrubber: SupportsScrubValue) -> EvalSample:
    """A copy of ``sample`` with every text an evaluator reads scrubbed."""
    scrub: Callable[[str], str] = scrubber.scrub
    update: dict[str, Any] = {
        "input": scrub(sample.input),
        "output": scrub(sample.output),
        "contexts": [scrub(c) for c in sample.contexts],
        "samples": [scrub(s) for s in sample.samples],
    }
    if sample.logprobs:
        update["logprobs"] = scrub_tokens(sample.logprobs, scrubber)
    return sample.model_copy(update=update)


def scrub_tokens(tokens: Sequence[TokenLogprob],
                 scrubber: SupportsScrubValue) -> list[TokenLogprob]:
    """``tokens`` with every token that is part of a finding in their joined text replaced.

    A scrubber without ``find`` (positions of findings) cannot say which tokens to replace:
    when it changes the joined text at all, every token is replaced.
    """
    texts = [t.token for t in tokens]
    joined = "".join(texts)
    find = getattr(scrubber, "find", None)
    if not callable(find):
        if scrubber.scrub(joined) == joined:
            return list(tokens)
        return [t.model_copy(update={"token": _REDACTED}) for t in tokens]
    findings = sorted(find(joined), key=lambda f: f.start)
    if not findings:
        return list(tokens)
    labels = _labels(scrubber, joined, findings)
    out: list[TokenLogprob] = []
    offset = 0
    first = 0  # the first finding that may still overlap a token
    for token, text in zip(tokens, texts, strict=True):
        start, end = offset, offset + len(text)
        offset = end
        while first < len(findings) and findings[first].end <= start:
            first += 1
        pieces: list[str] = []
        cursor = start
        hit = first
        while hit < len(findings) and findings[hit].start < end:
            finding = findings[hit]
            pieces.append(joined[cursor:max(cursor, finding.start)])
            # The token where a finding starts carries its placeholder, later ones nothing.
            if finding.start >= start:
                pieces.append(labels[hit])
            cursor = min(end, finding.end)
            hit += 1
        if cursor == start and not pieces:
            out.append(token)
            continue
        pieces.append(joined[cursor:end])
        out.append(token.model_copy(update={"token": "".join(pieces)}))
    return out


def _labels(scrubber: SupportsScrubValue, joined: str, findings: Sequence[Any]) -> list[str]:
    """The placeholder of each finding, as the scrubber writes it (numbered per trace when the
    scrubber is a session), read off the scrubbed text of the finding alone."""
    labels: list[str] = []
    for finding in findings:
        label = scrubber.scrub(joined[finding.start:finding.end])
        if label == joined[finding.start:finding.end]:
            # Out of its context the value no longer looks like one (a name without its
            # title): still replaced, with the kind the detector named.
            label = f"<{finding.kind}>"
        labels.append(label)
    return labels
