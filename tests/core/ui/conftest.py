"""Fixtures of the viewer tests: one recorded store per module and a live server over it."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.ui.ui_scenarios import Recorded, record_scenario
from obs_core.ui import UiServer, serve

Get = Callable[..., tuple[int, Any]]
"""``get(path)`` → (HTTP status, decoded JSON body)."""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    return record_scenario(tmp_path_factory.mktemp("ui") / "traces.db")


@pytest.fixture(scope="module")
def server(recorded: Recorded) -> Iterator[UiServer]:
    with serve(recorded.db, port=0) as running:
        running.start()
        yield running


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(), exc.headers.get("Content-Type", "")


@pytest.fixture
def get(server: UiServer) -> Get:
    def call(path: str, **params: str) -> tuple[int, Any]:
        query = urllib.parse.urlencode(params)
        status, body, _ = fetch(server.url.rstrip("/") + path + (f"?{query}" if query else ""))
        return status, json.loads(body)

    return call
