"""Where the embedded stores live on disk when the user says nothing."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """``$OBS_DATA_DIR``, else ``$XDG_DATA_HOME/obs``, else ``~/.local/share/obs``."""
    explicit = os.environ.get("OBS_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "obs"


def default_trace_store_path() -> Path:
    return data_dir() / "traces.db"


def default_payload_store_path() -> Path:
    return data_dir() / "payloads.db"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` readable by its owner only: stores hold prompts and answers."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
