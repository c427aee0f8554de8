"""Claim-level lexical support of an answer by its retrieved contexts.

The model behind the groundedness score. Each claim of the answer is reduced to checkable terms
(content words, entities, numbers, negations) and scored three ways:

* **term support** - is each term anywhere in the contexts? Numbers and entities weigh most;
  generic words little; terms the answer copied from the question almost nothing, since
  restating the question is no evidence for the answer.
* **locality** - are the terms together in one context sentence? A claim stitched from words of
  unrelated passages ("X was founded in 1987" where 1987 belongs to Y) fails here.
* **phrase support** - do the answer's adjacent term pairs ("Hot Rod … 1987", "Lake Erie
  State Park") also stand near each other, in order, in the contexts? Only pairs of terms that
  were found are checked: a missing term is already paid for under term support.

An unsupported term counts ``UNSUPPORTED_PENALTY`` times as much as a supported one: one
fabricated number in a long sentence should sink it. The answer scores as its weakest claim.
When an answer consists only of question terms ("Which came first, A or B?" → "A"), they are
checked at full weight, since there is nothing else to check.

The constants are round values chosen on the first half of the HaluEval QA dev file; the
second half, never looked at while choosing, gives the same picture (see
``benchmarks/eval_quality.py``).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

from obs_core.evals._text import Term, split_claims, split_sentences, terms, wordlist

KIND_WEIGHT = {"number": 3.0, "entity": 2.0, "word": 1.0, "negation": 2.0}
GENERIC_FACTOR = 0.3
"""Weight multiplier for topic-neutral words ("known", "popular", "actually")."""
QUESTION_FACTOR = 0.3
"""Weight multiplier for terms the answer shares with the question."""
UNSUPPORTED_PENALTY = 4.0
FUZZY_CREDIT = 0.5
"""Credit for a morphological near-match ("Americans" ~ "America") instead of an exact one."""
PAIR_WINDOW = 3
"""Two answer terms count as a phrase in the context if at most this many tokens apart, in order."""
SHARE_TERMS, SHARE_LOCAL, SHARE_PHRASE = 0.1, 0.5, 0.4
SEMANTIC_CREDIT = 0.8
"""Most credit a plain word can get from embedding similarity when it is not found literally."""
SEMANTIC_LOW, SEMANTIC_HIGH = 0.5, 0.9
_DISCOURSE = frozenset({"yes", "no"})
_SENTENCE_GAP = 1000


@dataclass(kw_only=True)
class TermCheck:
    term: Term
    weight: float
    from_question: bool
    found: float
    """Support anywhere in the contexts, in [0, 1]."""
    local: float
    """Support in the claim's best-matching context sentence, in [0, 1]."""
    match: str | None
    """The context key that matched, for phrase checks."""


@dataclass(kw_only=True)
class ClaimReport:
    text: str
    score: float
    term_support: float
    locality: float
    phrase_support: float | None
    checks: list[TermCheck]
    broken_phrases: list[str] = field(default_factory=list)
    evidence: str | None = None
    """The context sentence that supports the claim best."""
    similarity: float | None = None

    @property
    def missing(self) -> list[str]:
        """Terms not found in any context."""
        return _unique(c.term.surface for c in self.checks if c.found < 1.0 and c.term.kind != "negation")

    @property
    def scattered(self) -> list[str]:
        """Terms present in the contexts but not in the claim's supporting sentence."""
        return _unique(c.term.surface for c in self.checks if c.found >= 1.0 and c.local < 1.0)

    @property
    def unsupported_negation(self) -> bool:
        return any(c.term.kind == "negation" and c.local < 1.0 for c in self.checks)


@lru_cache(maxsize=32)
def index_contexts(contexts: tuple[str, ...]) -> ContextIndex:
    """Indexing dominates the cost of a check; several evaluators often share one sample's contexts."""
    return ContextIndex(contexts)


class ContextIndex:
    """The contexts' sentences with their term keys, token positions and a prefix index.

    Read-only once built, so cached instances are shared safely between threads.
    """

    def __init__(self, contexts: Sequence[str]) -> None:
        self.sentences: list[str] = []
        self.sentence_keys: list[frozenset[str]] = []
        self.positions: dict[str, list[int]] = {}
        offset = 0
        for context in contexts:
            for sentence in split_sentences(context):
                found = terms(sentence)
                self.sentences.append(sentence)
                self.sentence_keys.append(frozenset(t.key for t in found))
                for t in found:
                    self.positions.setdefault(t.key, []).append(offset + t.position)
                offset += (found[-1].position if found else 0) + _SENTENCE_GAP
        self._by_prefix: dict[str, list[str]] = {}
        for key in self.positions:
            if len(key) >= 5:
                self._by_prefix.setdefault(key[:5], []).append(key)

    def lookup(self, term: Term, keys: frozenset[str] | None = None) -> tuple[float, str | None]:
        """Support of one term in all contexts (``keys=None``) or in one sentence's keys."""
        pool = self.positions if keys is None else keys
        if term.key in pool:
            return 1.0, term.key
        if term.kind in ("word", "entity") and len(term.key) >= 5:
            candidates = self._by_prefix.get(term.key[:5], ())
            for candidate in candidates:
                if (keys is None or candidate in keys) and _near_spelling(term.key, candidate):
                    return FUZZY_CREDIT, candidate
        return 0.0, None

    def adjacent(self, first: str, second: str) -> bool:
        """True if ``second`` follows ``first`` within ``PAIR_WINDOW`` tokens somewhere."""
        after = self.positions.get(second)
        if not after:
            return False
        for position in self.positions.get(first, ()):
            i = bisect.bisect_right(after, position)
            if i < len(after) and after[i] - position <= PAIR_WINDOW:
                return True
        return False

    def best_sentence(self, claim_terms: Sequence[Term], weights: Sequence[float]) -> int | None:
        """The sentence holding the largest weight of the claim's terms."""
        best, best_value = None, 0.0
        for index, keys in enumerate(self.sentence_keys):
            value = sum(w for t, w in zip(claim_terms, weights, strict=True) if t.key in keys)
            if value > best_value:
                best, best_value = index, value
        return best


def _near_spelling(a: str, b: str) -> bool:
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return common >= 0.8 * min(len(a), len(b))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def claim_terms(claim: str) -> list[Term]:
    """The claim's checkable terms, without an opening "Yes," / "No," (a verdict, not a fact)."""
    return [t for t in terms(claim) if not (t.position == 0 and t.surface.lower() in _DISCOURSE)]


def assess(
    answer: str,
    index: ContextIndex,
    *,
    question: str = "",
    similarity: Callable[[list[str]], list[float]] | None = None,
) -> list[ClaimReport]:
    """Score every claim of ``answer``.

    ``similarity`` maps the claims to their best semantic similarity with any context sentence
    (from an embedder); with it, plain words that are paraphrased rather than copied get credit.
    Numbers, entities and negations are always checked literally.
    """
    question_keys = {t.key for t in terms(question)}
    claims = [(text, found) for text in split_claims(answer) if (found := claim_terms(text))]
    similarities = similarity([text for text, _ in claims]) if similarity is not None and claims else None
    only_question = all(t.key in question_keys for _, found in claims for t in found if t.kind != "negation")
    generic = wordlist("generic_words")
    reports: list[ClaimReport] = []
    for number, (text, found) in enumerate(claims):
        weights = [_weight(t, question_keys, generic, discount=not only_question) for t in found]
        best = index.best_sentence(found, [KIND_WEIGHT[t.kind] for t in found])
        best_keys = index.sentence_keys[best] if best is not None else frozenset()
        claim_similarity = similarities[number] if similarities is not None else None
        semantic = SEMANTIC_CREDIT * _ramp(claim_similarity) if claim_similarity is not None else 0.0
        checks: list[TermCheck] = []
        for t, weight in zip(found, weights, strict=True):
            from_question = t.kind != "negation" and t.key in question_keys
            if t.kind == "negation":
                support = 1.0 if "not" in best_keys else 0.0
                checks.append(TermCheck(term=t, weight=weight, from_question=False, found=support, local=support, match=None))
                continue
            found_anywhere, match = index.lookup(t)
            local, _ = index.lookup(t, best_keys)
            if t.kind == "word":
                found_anywhere, local = max(found_anywhere, semantic), max(local, semantic)
            checks.append(
                TermCheck(term=t, weight=weight, from_question=from_question, found=found_anywhere, local=local, match=match)
            )
        phrase, broken = _phrase_support(checks, index, discount=not only_question)
        term_support = _penalised([(c.weight, c.found) for c in checks])
        locality = _penalised([(c.weight, c.local) for c in checks])
        if phrase is None:
            score = 0.5 * term_support + 0.5 * locality
        else:
            score = SHARE_TERMS * term_support + SHARE_LOCAL * locality + SHARE_PHRASE * phrase
        reports.append(
            ClaimReport(
                text=text,
                score=score,
                term_support=term_support,
                locality=locality,
                phrase_support=phrase,
                checks=checks,
                broken_phrases=broken,
                evidence=index.sentences[best] if best is not None else None,
                similarity=claim_similarity,
            )
        )
    return reports


def _weight(term: Term, question_keys: set[str], generic: frozenset[str], *, discount: bool) -> float:
    weight = KIND_WEIGHT[term.kind]
    if term.kind == "word" and term.key in generic:
        weight *= GENERIC_FACTOR
    if discount and term.kind != "negation" and term.key in question_keys:
        weight *= QUESTION_FACTOR
    return weight


def _ramp(similarity: float) -> float:
    return min(1.0, max(0.0, (similarity - SEMANTIC_LOW) / (SEMANTIC_HIGH - SEMANTIC_LOW)))


def _penalised(items: Sequence[tuple[float, float]]) -> float:
    """Weighted support where each unit of missing support costs ``UNSUPPORTED_PENALTY``."""
    supported = sum(w * s for w, s in items)
    total = sum(w * (s + UNSUPPORTED_PENALTY * (1.0 - s)) for w, s in items)
    return supported / total if total > 0 else 1.0


def _phrase_support(checks: Sequence[TermCheck], index: ContextIndex, *, discount: bool) -> tuple[float | None, list[str]]:
    supported = total = 0.0
    broken: list[str] = []
    for a, b in pairwise(checks):
        if a.term.kind == "negation" or b.term.kind == "negation":
            continue
        if b.term.position - a.term.position > 2:
            continue
        weight = 2.0 if a.term.kind != "word" or b.term.kind != "word" else 1.0
        if discount and a.from_question and b.from_question:
            weight *= QUESTION_FACTOR
        if a.match is None or b.match is None:
            continue  # a missing term is penalised once, in term support, not again here
        together = index.adjacent(a.match, b.match)
        total += weight
        if together:
            supported += weight
        else:
            broken.append(f"{a.term.surface} … {b.term.surface}")
    if total == 0.0:
        return None, broken
    return supported / total, broken
