"""``obs ui`` as a user runs it: a real process that prints the URL it serves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.ui.ui_scenarios import Recorded, fetch
from obs_core.cli import main


def test_obs_ui_prints_a_loopback_url_that_serves_the_store(recorded: Recorded) -> None:
    command = [sys.executable, "-m", "obs_core.cli", "ui", "--db", str(recorded.db), "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            url = line.split(" at ", 1)[1].strip()
            assert url.startswith("http://127.0.0.1:")
            assert "token" not in url
            status, body, _ = fetch(url + "api/traces")
            assert status == 200
            assert json.loads(body)["total"] == 3
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_obs_ui_shows_payloads_from_the_payload_store_it_is_given(recorded: Recorded) -> None:
    command = [sys.executable, "-m", "obs_core.cli", "ui", "--db", str(recorded.db),
               "--payload-db", str(recorded.payload_db), "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().split(" at ", 1)[1].strip()
            status, body, _ = fetch(f"{url}api/traces/{recorded.rag}")
            assert status == 200
            detail = json.loads(body)
            assert detail["payloads_state"] == "ok"
            assert any(span["payload"] for span in detail["spans"])
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_obs_ui_without_a_store_file_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ui", "--db", str(tmp_path / "missing.db"), "--port", "0"])
    assert code == 1
    assert "no trace store" in capsys.readouterr().err
