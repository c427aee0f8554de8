"""How the viewer's server protects traces: loopback by default, tokens beyond it, safe headers."""

from __future__ import annotations

import json
import os
import sqlite3
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

from core.ui.ui_scenarios import Recorded, fetch
from obs_core.cli import build_parser
from obs_core.store._schema import SCHEMA_VERSION
from obs_core.store._sqlite import SchemaTooOldError
from obs_core.ui import UiServer, is_loopback, serve


def test_page_script_and_style_are_served_from_the_package(server: UiServer) -> None:
    for path, kind in (("", "text/html"), ("static/app.js", "text/javascript"),
                       ("static/app.css", "text/css")):
        status, body, content_type = fetch(server.url + path)
        assert (status, content_type.split(";")[0]) == (200, kind)
        assert body
    page = fetch(server.url)[1].decode()
    assert 'src="/static/app.js"' in page
    assert "http://" not in page
    assert "https://" not in page


def test_responses_forbid_inline_and_foreign_scripts(server: UiServer) -> None:
    with urllib.request.urlopen(server.url, timeout=10) as response:
        policy = response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


_SCRIPTS = ("app.js", "dom.js", "list.js", "trace.js", "charts.js", "overview.js")


def test_the_page_scripts_never_insert_html(server: UiServer) -> None:
    for name in _SCRIPTS:
        status, body, content_type = fetch(server.url + "static/" + name)
        assert (status, content_type.split(";")[0]) == (200, "text/javascript"), name
        script = body.decode()
        assert "innerHTML" not in script, name
        assert "outerHTML" not in script, name
        assert "insertAdjacentHTML" not in script, name
        assert "document.write" not in script, name
        assert "eval(" not in script, name


def test_the_page_scripts_load_nothing_from_other_origins(server: UiServer) -> None:
    for name in _SCRIPTS:
        script = fetch(server.url + "static/" + name)[1].decode()
        imports = [line for line in script.splitlines() if line.startswith("import ")]
        assert all('from "/static/' in line for line in imports), name
        assert "http://" not in script.replace('"http://www.w3.org/2000/svg"', ""), name
        assert "https://" not in script, name


def test_unknown_paths_are_404(server: UiServer) -> None:
    assert fetch(server.url + "static/../../pyproject.toml")[0] == 404
    assert fetch(server.url + "static/secret.py")[0] == 404


def test_loopback_server_rejects_foreign_host_headers(server: UiServer) -> None:
    status, _, _ = fetch(server.url + "api/traces", headers={"Host": "attacker.example:80"})
    assert status == 403


def test_binding_beyond_loopback_without_a_token_is_refused(recorded: Recorded) -> None:
    with pytest.raises(ValueError, match="token"):
        serve(recorded.db, host="0.0.0.0", port=0)


def test_token_protected_server_serves_its_page_and_scripts_without_the_token(
        recorded: Recorded) -> None:
    """A browser fetches the page's script and style by plain URL; they hold no trace data."""
    with serve(recorded.db, host="127.0.0.1", port=0, token="s3cret-token") as running:
        running.start()
        base = f"http://127.0.0.1:{running.port}/"
        for path in ("", "static/app.js", "static/dom.js", "static/app.css"):
            assert fetch(base + path)[0] == 200, path
        assert fetch(base + "api/overview")[0] == 401
        assert fetch(base + "api/unknown")[0] == 401


def test_token_protected_server_answers_only_with_the_token(recorded: Recorded) -> None:
    with serve(recorded.db, host="127.0.0.1", port=0, token="s3cret-token") as running:
        running.start()
        base = f"http://127.0.0.1:{running.port}/api/traces"
        assert fetch(base)[0] == 401
        assert fetch(base + "?token=wrong")[0] == 401
        assert fetch(base + "?token=s3cret-token")[0] == 200
        assert fetch(base, headers={"X-Obs-Token": "s3cret-token"})[0] == 200
        assert running.url.endswith("/?token=s3cret-token")


@pytest.mark.parametrize(("host", "expected"), [
    ("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
    ("192.168.1.5", False), ("example.com", False)])
def test_loopback_detection(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_obs_ui_command_defaults_to_loopback(recorded: Recorded) -> None:
    args = build_parser().parse_args(["ui", "--db", str(recorded.db)])
    assert (args.host, args.port) == ("127.0.0.1", 7788)


def _downgraded_copy(recorded: Recorded, tmp_path: Path) -> Path:
    """The recorded store as the previous schema version left it (its last migration's
    index dropped, the version one lower)."""
    copy = tmp_path / "old.db"
    with closing(sqlite3.connect(recorded.db)) as source, closing(sqlite3.connect(copy)) as dest:
        source.backup(dest)
        dest.execute("DROP INDEX traces_overview")
        dest.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
        dest.commit()
    return copy


def test_a_store_from_an_older_version_is_migrated_and_served(
        recorded: Recorded, tmp_path: Path) -> None:
    old = _downgraded_copy(recorded, tmp_path)
    with serve(old, port=0) as running:
        running.start()
        status, body, _ = fetch(running.url + "api/traces")
    assert status == 200
    assert json.loads(body)["traces"]
    with closing(sqlite3.connect(old)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_an_older_store_the_viewer_cannot_write_is_refused_with_what_to_do(
        recorded: Recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = _downgraded_copy(recorded, tmp_path)
    # Another user's file: denied write access (root would be allowed by any file mode).
    monkeypatch.setattr(os, "access", lambda path, how: how != os.W_OK)
    with pytest.raises(SchemaTooOldError, match="open it once writable"):
        serve(old, port=0)
    with closing(sqlite3.connect(old)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION - 1
