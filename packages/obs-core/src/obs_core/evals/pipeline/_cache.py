"""Results already computed for the same content, by the same evaluator version and judge.

The key hashes what the evaluator sees (question, answer, contexts, logprobs, extra samples)
with the evaluator's name and version and the judge model, so a changed rubric, threshold-
affecting version bump or a different judge never reuses an old score. Trace ids are not part
of the key: the same answer in two traces is judged once.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict

from obs_core.evals.base import EvalResult, EvalSample

__all__ = ["ResultCache", "cache_key"]


def cache_key(sample: EvalSample, *, evaluator: str, version: str, judge_model: str | None) -> str:
    content = sample.model_dump(mode="json", include={"input", "output", "contexts", "logprobs", "samples"})
    blob = json.dumps([evaluator, version, judge_model or "", content], sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResultCache:
    """A bounded, thread-safe LRU of results (failures are never cached)."""

    def __init__(self, *, max_entries: int = 10_000) -> None:
        self.max_entries = max(0, max_entries)
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, EvalResult] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> EvalResult | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: str, result: EvalResult) -> None:
        if self.max_entries == 0:
            return
        with self._lock:
            self._entries[key] = result
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
