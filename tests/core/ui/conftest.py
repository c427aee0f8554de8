"""Fixtures of the viewer tests: one recorded store per module and a live server over it."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from core.ui.ui_scenarios import Get, Recorded, fetch, record_scenario
from obs_core.payloads import SQLitePayloadStore
from obs_core.ui import UiServer, serve


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    return record_scenario(tmp_path_factory.mktemp("ui") / "traces.db")


@pytest.fixture(scope="module")
def server(recorded: Recorded) -> Iterator[UiServer]:
    with serve(recorded.db, port=0,
               payload_store=SQLitePayloadStore(recorded.payload_db)) as running:
        running.start()
        yield running


@pytest.fixture
def get(server: UiServer) -> Get:
    def call(path: str, **params: str) -> tuple[int, Any]:
        query = urllib.parse.urlencode(params)
        status, body, _ = fetch(server.url.rstrip("/") + path + (f"?{query}" if query else ""))
        return status, json.loads(body)

    return call
