"""The toolkit for integration packages (obs-langchain, obs-llamaindex, your own).

An integration translates its framework's events into :class:`Recorder` calls and nothing else;
these are the pieces it needs to do that safely. Application code does not need this module.
"""

from __future__ import annotations

from obs_core._guard import guard, guarded, is_strict, report
from obs_core._recorder import Recorder, RecorderSettings
from obs_core._selfmetrics import count_drop
from obs_core._shared_recorder import shared_recorder
from obs_core._span_attributes import error_type_of
from obs_core._values import to_json, to_jsonable
from obs_core.config import current_settings, ensure_configured
from obs_core.runs import FinishedRun, RunEnd, RunId, RunObserver, RunStart

__all__ = [
    "FinishedRun",
    "Recorder",
    "RecorderSettings",
    "RunEnd",
    "RunId",
    "RunObserver",
    "RunStart",
    "count_drop",
    "current_settings",
    "ensure_configured",
    "error_type_of",
    "guard",
    "guarded",
    "is_strict",
    "report",
    "shared_recorder",
    "to_json",
    "to_jsonable",
]
