"""What capture does with awkward content (huge, binary, invalid text) and with its settings:
size limits, the per-installation hash key, and the factory ``configure()`` calls."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from core.payloads.payload_factories import chat, limiter, make_capture, make_run, real_scrubber
from obs_core import ObsConfigError, self_metrics
from obs_core.payloads import (
    PayloadCapture,
    PayloadRecord,
    PayloadSettings,
    PostgresPayloadStore,
    SQLitePayloadStore,
    build_capture,
)
from obs_core.payloads._blobs import read_blob
from obs_core.payloads._hashing import load_or_create_secret
from obs_core.payloads.record import BLOB_KEY, TRUNCATED_KEY
from obs_core.runs import FinishedRun
from obs_core.spans import RetrievedDocument, SpanKind


def _capture_one(capture: PayloadCapture, store: SQLitePayloadStore,
                 run: FinishedRun) -> PayloadRecord:
    capture.on_run_end(run)
    assert capture.flush(5)
    capture.close()
    [record] = store.search(limit=2)
    return record


def test_a_payload_over_the_limit_is_cut_with_a_marker_and_its_original_size(
        store: SQLitePayloadStore) -> None:
    capture = make_capture(store, limiter=limiter(1024))
    text = "lorem ipsum " * 1000
    record = _capture_one(capture, store, make_run(inputs=chat("short"), outputs=text))
    marker = record.output[TRUNCATED_KEY]
    assert marker["original_bytes"] == len(text.encode())
    assert text.startswith(marker["preview"])
    assert 1000 <= len(marker["preview"]) <= 1024
    assert record.input == chat("short")
    assert record.truncated is True


def test_a_cut_never_splits_a_multibyte_character(store: SQLitePayloadStore) -> None:
    capture = make_capture(store, limiter=limiter(101))
    record = _capture_one(capture, store, make_run(outputs="é" * 200))
    preview = record.output[TRUNCATED_KEY]["preview"]
    assert preview == "é" * 50


def test_a_payload_over_the_limit_can_be_offloaded_to_a_private_blob(
        store: SQLitePayloadStore, tmp_path: Path) -> None:
    blob_dir = tmp_path / "blobs"
    capture = make_capture(store, limiter=limiter(256, blob_dir=blob_dir))
    big = [{"role": "user", "content": "x" * 2000}]
    record = _capture_one(capture, store, make_run(inputs=big))
    ref = record.input[BLOB_KEY]
    assert read_blob(ref["path"]) == big
    assert ref["original_bytes"] == len(json.dumps(big, separators=(",", ":")))
    assert stat.S_IMODE(blob_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(os.stat(ref["path"]).st_mode) == 0o600


def test_document_contents_are_limited_one_by_one(store: SQLitePayloadStore) -> None:
    capture = make_capture(store, limiter=limiter(100))
    docs = [RetrievedDocument(id="small", score=1.0, content="fits"),
            RetrievedDocument(id="large", score=0.5, content="y" * 500)]
    record = _capture_one(capture, store, make_run(SpanKind.RETRIEVER, inputs="q", documents=docs))
    small, large = record.documents
    assert small.content == "fits"
    assert large.content[TRUNCATED_KEY]["original_bytes"] == 500
    assert (large.id, large.score) == ("large", 0.5)


def test_bytes_are_replaced_by_a_description_never_stored(store: SQLitePayloadStore) -> None:
    capture = make_capture(store)
    record = _capture_one(capture, store, make_run(
        SpanKind.TOOL, inputs={"image": b"\x89PNG\r\n\x1a\n\xff\xfe"}, outputs=b"\x00\x01"))
    assert record.input == {"image": "<bytes len=10>"}
    assert record.output == "<bytes len=2>"


def test_text_that_is_not_valid_unicode_is_repaired_not_rejected(
        store: SQLitePayloadStore) -> None:
    capture = make_capture(store)
    broken = b"caf\xe9 au lait".decode("utf-8", "surrogateescape")  # lone surrogate inside
    record = _capture_one(capture, store, make_run(inputs=chat(broken), outputs="nul\x00byte"))
    assert record.input[1]["content"].startswith("caf")
    assert record.input[1]["content"].endswith(" au lait")
    assert record.output == "nul\ufffdbyte"
    assert self_metrics()["dropped"] == {}


def test_the_installation_secret_is_created_private_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "home" / "payload-hash.key"
    first = load_or_create_secret(key_file)
    assert load_or_create_secret(key_file) == first
    assert len(first) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_prompt_hashes_survive_a_restart_on_the_same_machine(tmp_path: Path) -> None:
    settings = PayloadSettings(store=tmp_path / "payloads.db")
    run = make_run(inputs=chat("same prompt"))
    hashes = []
    for _ in range(2):
        capture = build_capture(settings, real_scrubber())
        assert capture is not None
        hashes.append(capture.build(run).prompt_hash)  # type: ignore[union-attr]
        capture.close()
    assert hashes[0] == hashes[1] is not None
    assert (tmp_path / "payload-hash.key").is_file()


def test_a_configured_secret_overrides_the_installation_secret(tmp_path: Path) -> None:
    run = make_run(inputs=chat("same prompt"))
    captures = [build_capture(PayloadSettings(store=tmp_path / "p.db", hash_secret=secret),
                              real_scrubber()) for secret in ("a" * 16, "b" * 16)]
    hashes = {c.build(run).prompt_hash for c in captures if c is not None}  # type: ignore[union-attr]
    for c in captures:
        assert c is not None
        c.close()
    assert len(hashes) == 2
    assert not (tmp_path / "payload-hash.key").exists()


def test_capture_none_builds_nothing(tmp_path: Path) -> None:
    assert build_capture(PayloadSettings(capture="none", store=tmp_path / "p.db"), None) is None
    assert not (tmp_path / "p.db").exists()


def test_no_store_and_no_event_log_builds_nothing() -> None:
    assert build_capture(PayloadSettings(store=False), real_scrubber()) is None


def test_a_dsn_selects_the_postgres_store(tmp_path: Path) -> None:
    capture = build_capture(PayloadSettings(store="postgresql://u:pw@127.0.0.1:1/db",
                                            hash_secret="k" * 16, ttl_days=None), real_scrubber())
    assert capture is not None
    assert isinstance(capture.store, PostgresPayloadStore)
    capture.close(timeout=0.5)


@pytest.mark.parametrize("bad", [
    {"capture": "everything"},
    {"ttl_days": 0},
    {"max_payload_bytes": 10},
    {"hash_secret": "short"},
    {"oversize": "compress"},
])
def test_settings_that_cannot_work_raise_a_config_error(bad: dict[str, object]) -> None:
    with pytest.raises(ObsConfigError):
        PayloadSettings(**bad)  # type: ignore[arg-type]


def test_redacted_capture_without_a_scrubber_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ObsConfigError, match="scrubber"):
        build_capture(PayloadSettings(store=tmp_path / "p.db"), None)


def test_settings_hide_the_hash_secret_from_repr() -> None:
    assert "topsecret" not in repr(PayloadSettings(hash_secret="topsecret-0123456789"))
