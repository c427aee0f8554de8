"""The viewer as a person sees it: headless Chromium renders the pages after their script ran.

Screenshots land in ``test-artifacts/`` for a look by eye; the assertions read the DOM.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from core.ui.ui_scenarios import HOSTILE_NAME, Recorded
from obs_core.ui import UiServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


def _chromium(tmp_path: Path, *args: str) -> str:
    if _CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    command = [
        _CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,900",
        "--virtual-time-budget=5000", *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_trace_list_and_trace_page_render_in_a_browser(
        server: UiServer, recorded: Recorded, tmp_path: Path) -> None:
    dom = _chromium(tmp_path, "--dump-dom", server.url)
    for trace_id in (recorded.agent, recorded.rag, recorded.hostile):
        assert f'data-trace-id="{trace_id}"' in dom
    assert "&lt;script&gt;alert('pwned')&lt;/script&gt;" in dom
    assert HOSTILE_NAME not in dom
    assert "LIMIT HIT" in dom

    trace_url = f"{server.url}#/trace/{recorded.agent}"
    trace_dom = _chromium(tmp_path, "--dump-dom", trace_url)
    assert trace_dom.count('class="span-row"') == 6
    assert "STEP LIMIT HIT" in trace_dom
    assert "stop reason max_iterations" in trace_dom

    _ARTIFACTS.mkdir(exist_ok=True)
    for name, url in (("ui-trace-list.png", server.url), ("ui-trace.png", trace_url)):
        target = _ARTIFACTS / name
        target.unlink(missing_ok=True)
        _chromium(tmp_path, f"--screenshot={target}", url)
        assert target.stat().st_size > 0
