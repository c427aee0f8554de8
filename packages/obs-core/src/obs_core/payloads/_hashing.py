"""Keyed prompt hashes: stable on one installation, meaningless anywhere else.

A plain SHA-256 of a prompt can be confirmed by anyone who guesses the prompt ("did user X
ask about Y?"), which would make the hash a leak of the very content redaction removed. An
HMAC keyed with a per-installation secret keeps equal prompts equal for de-duplication and
cache analysis while making the hash useless without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from obs_core._paths import ensure_private_dir

logger = logging.getLogger("obs.payloads")

SECRET_FILE_NAME = "payload-hash.key"
_DOMAIN = b"obs.prompt_hash.v1\x00"


class PromptHasher:
    """HMAC-SHA256 over a canonical JSON form of the prompt (key order does not matter)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the prompt hash secret must be at least 16 bytes")
        self._secret = secret

    def __repr__(self) -> str:
        return "PromptHasher(<secret>)"

    def hash(self, prompt: Any) -> str | None:
        """Hex digest of ``prompt`` (already JSON-like), or ``None`` when there is no prompt."""
        if prompt is None:
            return None
        canonical = json.dumps(prompt, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                               default=str)
        message = _DOMAIN + canonical.encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()


def resolve_secret(configured: str | bytes | None, *, key_file: Path) -> bytes:
    """The configured secret, else the installation's secret in ``key_file`` (created on first
    use, ``0600``). If the file cannot be read or created, an in-memory secret keeps hashing
    working for this process only, with a warning: hashes then differ after a restart."""
    if configured is not None:
        return configured.encode("utf-8") if isinstance(configured, str) else configured
    try:
        return load_or_create_secret(key_file)
    except OSError as exc:
        logger.warning(
            "cannot read or create the prompt hash secret %s (%s); using a temporary one, so "
            "prompt hashes will not match across restarts", key_file, exc,
        )
        return secrets.token_bytes(32)


def load_or_create_secret(key_file: Path) -> bytes:
    """Read the secret, creating it atomically if absent so two processes starting together
    agree on one value and no reader ever sees a half-written file."""
    try:
        return _read(key_file)
    except FileNotFoundError:
        pass
    ensure_private_dir(key_file.parent)
    tmp = key_file.with_name(f".{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, key_file)  # fails if another process won the race: use theirs
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
    return _read(key_file)


def _read(key_file: Path) -> bytes:
    text = key_file.read_text(encoding="ascii").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise OSError(f"{key_file} does not hold a hex secret") from None
    if len(secret) < 16:
        raise OSError(f"{key_file} holds a secret shorter than 16 bytes")
    return secret
