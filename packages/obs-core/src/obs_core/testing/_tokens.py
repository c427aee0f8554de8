"""Deterministic stand-ins for a tokenizer, token log-probabilities and embedding vectors.

Tests assert that the token numbers on spans equal what the model reported, so the scripted
server needs counts that are stable across runs and computable without a real tokenizer (none
may be downloaded at run time). The splitting rule is deliberately simple: a token is a word or
a single punctuation character, each carrying the whitespace before it, so the pieces of a text
always join back to the text itself (which streaming and logprobs rely on).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
import zlib
from collections.abc import Sequence
from typing import Any

_TOKEN_RE = re.compile(r"\s*\w+|\s*[^\w\s]|\s+")
_WORD_RE = re.compile(r"\w+")


def split_tokens(text: str) -> list[str]:
    """Split ``text`` into the scripted server's tokens; ``"".join`` of the result is ``text``."""
    return _TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    """How many tokens the scripted server counts (and reports in ``usage``) for ``text``."""
    return len(_TOKEN_RE.findall(text))


def default_logprob(token: str) -> float:
    """A stable pseudo log-probability in ``[-1.0, -0.001]`` for ``token``."""
    return -((zlib.crc32(token.encode("utf-8")) % 1000) + 1) / 1000


def token_logprob_entries(
    tokens: Sequence[str],
    *,
    top_logprobs: int,
    scripted: Sequence[float] | None = None,
    start: int = 0,
) -> list[dict[str, Any]]:
    """Chat-completions ``logprobs.content`` entries for ``tokens``.

    ``scripted`` values replace the pseudo log-probabilities by position, ``start`` being the
    position of ``tokens[0]`` in the whole answer (streams ask for one slice per chunk). The
    sampled token is always the first alternative, as the real API reports the most likely ones.
    """
    entries: list[dict[str, Any]] = []
    for offset, token in enumerate(tokens):
        position = start + offset
        logprob = (
            scripted[position]
            if scripted is not None and position < len(scripted)
            else default_logprob(token)
        )
        alternatives = [{"token": token, "bytes": list(token.encode("utf-8")), "logprob": logprob}]
        for rank in range(1, top_logprobs):
            alternative = f"{token}~{rank}"
            alternatives.append(
                {
                    "token": alternative,
                    "bytes": list(alternative.encode("utf-8")),
                    "logprob": logprob - rank,
                }
            )
        entries.append(
            {
                "token": token,
                "bytes": list(token.encode("utf-8")),
                "logprob": logprob,
                "top_logprobs": alternatives[:top_logprobs],
            }
        )
    return entries


def _bucket(feature: str, dimensions: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    number = int.from_bytes(digest, "little")
    return number % dimensions, (1.0 if (number >> 63) & 1 else -1.0)


def _to_float32(values: list[float]) -> list[float]:
    packed = struct.pack(f"<{len(values)}f", *values)
    return list(struct.unpack(f"<{len(values)}f", packed))


def scripted_embedding(text: str | Sequence[int], *, dimensions: int = 64) -> list[float]:
    """The unit vector the scripted server returns for one embeddings input.

    Words are feature-hashed into the vector, so texts that share words have a higher cosine
    similarity: retrieval tests can rank documents predictably. Values are rounded to float32
    so the ``float`` and ``base64`` encodings of a vector decode to exactly the same numbers.
    Token-id inputs (``list[int]``) are hashed as a whole.
    """
    if dimensions < 1:
        raise ValueError("dimensions must be at least 1")
    vector = [0.0] * dimensions
    features = (
        _WORD_RE.findall(text.lower())
        if isinstance(text, str)
        else [" ".join(str(token_id) for token_id in text)]
    )
    if not features:
        features = [f"<empty:{text!r}>"]
    for feature in features:
        index, sign = _bucket(feature, dimensions)
        vector[index] += sign
    norm = math.sqrt(sum(value * value for value in vector))
    if norm == 0.0:
        # Opposite signs cancelled out: fall back to one hashed axis so the vector stays unit.
        index, sign = _bucket("".join(features), dimensions)
        vector[index], norm = sign, 1.0
    return _to_float32([value / norm for value in vector])


def encode_base64_floats(values: Sequence[float]) -> str:
    """Little-endian float32 base64, the encoding the ``openai`` client asks for by default."""
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")
