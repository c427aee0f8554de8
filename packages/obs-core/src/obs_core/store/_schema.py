"""The SQLite schema of the local store, as an append-only list of migrations.

``PRAGMA user_version`` records how many migrations a file has had. To add a table (the
evaluations store does), append a new migration to :data:`MIGRATIONS`; never edit a released
one. A table whose rows belong to one trace and carries a ``trace_id`` column should also be
listed in :data:`TRACE_SCOPED_TABLES` so that purging a trace removes its rows.
"""

from __future__ import annotations

import re
from typing import Final

Migration = tuple[str, ...]
"""The statements of one migration, run in order inside one transaction."""

_V1_TRACES: Final[Migration] = (
    # Numeric facts come before the JSON columns so aggregating a trace's spans reads no
    # overflow pages.
    """
    CREATE TABLE spans (
        trace_id          TEXT    NOT NULL,
        span_id           TEXT    NOT NULL,
        parent_span_id    TEXT,
        name              TEXT    NOT NULL,
        kind              TEXT,
        start_time_ns     INTEGER NOT NULL,
        end_time_ns       INTEGER NOT NULL,
        status            TEXT    NOT NULL,
        is_obs_root       INTEGER NOT NULL DEFAULT 0,
        is_error          INTEGER NOT NULL DEFAULT 0,
        input_tokens      INTEGER NOT NULL DEFAULT 0,
        output_tokens     INTEGER NOT NULL DEFAULT 0,
        cost_usd          REAL    NOT NULL DEFAULT 0,
        model             TEXT,
        agent_steps       INTEGER NOT NULL DEFAULT 0,
        agent_step_limit  INTEGER,
        agent_limit_hit   INTEGER NOT NULL DEFAULT 0,
        session_id        TEXT,
        pipeline_version  TEXT,
        service_name      TEXT,
        status_message    TEXT,
        attributes        TEXT    NOT NULL,
        events            TEXT    NOT NULL,
        PRIMARY KEY (trace_id, span_id)
    )
    """,
    """
    CREATE TABLE traces (
        trace_id          TEXT    PRIMARY KEY,
        root_span_id      TEXT    NOT NULL,
        root_name         TEXT    NOT NULL,
        root_kind         TEXT,
        start_time_ns     INTEGER NOT NULL,
        end_time_ns       INTEGER NOT NULL,
        duration_ns       INTEGER NOT NULL,
        span_count        INTEGER NOT NULL,
        input_tokens      INTEGER NOT NULL,
        output_tokens     INTEGER NOT NULL,
        total_tokens      INTEGER NOT NULL,
        cost_usd          REAL    NOT NULL,
        error_count       INTEGER NOT NULL,
        status            TEXT    NOT NULL,
        agent_steps       INTEGER NOT NULL,
        agent_step_limit  INTEGER,
        agent_limit_hit   INTEGER NOT NULL,
        models            TEXT    NOT NULL,
        session_id        TEXT,
        pipeline_version  TEXT,
        service_name      TEXT
    )
    """,
    # Request and response model names per trace, for an indexed `--model` filter.
    """
    CREATE TABLE trace_models (
        trace_id TEXT NOT NULL,
        model    TEXT NOT NULL,
        PRIMARY KEY (trace_id, model)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX trace_models_by_model ON trace_models (model, trace_id)",
    "CREATE INDEX traces_by_start ON traces (start_time_ns, trace_id)",
    "CREATE INDEX traces_by_status ON traces (status, start_time_ns)",
    "CREATE INDEX traces_by_duration ON traces (duration_ns)",
    "CREATE INDEX traces_by_end ON traces (end_time_ns)",
    "CREATE INDEX traces_by_session ON traces (session_id, start_time_ns)",
    "CREATE INDEX traces_by_pipeline_version ON traces (pipeline_version, start_time_ns)",
)

_V2_EVALUATIONS: Final[Migration] = (
    # One row per evaluator outcome on one span; failed evaluations keep a NULL score/passed
    # and say why in the explanation. Written by obs_core.evals.pipeline.
    """
    CREATE TABLE evaluations (
        trace_id     TEXT    NOT NULL,
        span_id      TEXT    NOT NULL,
        evaluator    TEXT    NOT NULL,
        score        REAL,
        label        TEXT    NOT NULL,
        passed       INTEGER,
        explanation  TEXT    NOT NULL,
        version      TEXT    NOT NULL,
        judge_model  TEXT,
        created_ns   INTEGER NOT NULL,
        details      TEXT    NOT NULL
    )
    """,
    "CREATE INDEX evaluations_by_trace ON evaluations (trace_id, created_ns)",
    "CREATE INDEX evaluations_by_evaluator ON evaluations (evaluator, created_ns)",
    "CREATE INDEX evaluations_by_time ON evaluations (created_ns)",
)

_V3_OVERVIEW_INDEX: Final[Migration] = (
    # Everything the overview page aggregates per day, in start order: its queries read this
    # index alone instead of looking up every trace row of the window (4x faster at 100,000
    # traces, see benchmarks/bench_ui_store.py).
    """
    CREATE INDEX traces_overview ON traces (
        start_time_ns, root_kind, duration_ns, total_tokens, cost_usd, status, agent_limit_hit
    )
    """,
)

MIGRATIONS: Final[tuple[Migration, ...]] = (_V1_TRACES, _V2_EVALUATIONS, _V3_OVERVIEW_INDEX)
"""Every schema change ever made, oldest first; ``user_version`` = how many were applied."""

SCHEMA_VERSION: Final = len(MIGRATIONS)

TRACE_SCOPED_TABLES: Final[tuple[str, ...]] = ("spans", "trace_models", "evaluations")
"""Tables with a ``trace_id`` column whose rows are deleted with their trace (``traces`` last)."""

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
if not all(_IDENTIFIER.match(table) for table in TRACE_SCOPED_TABLES):  # pragma: no cover
    raise ValueError("TRACE_SCOPED_TABLES must hold plain table names")
