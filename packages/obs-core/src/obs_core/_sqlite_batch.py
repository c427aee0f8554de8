"""Writing a batch of rows to SQLite from a background thread without a GIL convoy.

``executemany`` releases the GIL around every row's step and takes it back after. Next to an
application thread that is busy in Python, each take-back waits for the interpreter's switch
interval (5 ms), so a 256-row batch took over a second and the store writers fell behind at a
few hundred rows a second, their queues filling up to their bounds. Here the whole batch is one
JSON parameter expanded by ``json_each`` inside one statement: the GIL is released once per
batch, and there is one prepared statement per table (multi-row ``VALUES`` lists would prepare,
and cache, a large statement for every batch length).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from typing import Any

__all__ = ["insert_rows"]


def insert_rows(conn: sqlite3.Connection, head: str, rows: Sequence[Sequence[Any]],
                tail: str = "") -> None:
    """Run ``{head} SELECT ... FROM json_each(?) {tail}`` over ``rows`` in one statement.

    ``head`` is ``INSERT ... INTO table (columns)``; ``tail`` may hold an ``ON CONFLICT``
    clause. All rows have the same width; values are ``str``, ``int``, ``float`` or ``None``
    (a float that JSON cannot carry, NaN or infinite, is stored as NULL)."""
    if not rows:
        return
    width = len(rows[0])
    columns = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(width))
    payload = json.dumps([[_json_value(v) for v in row] for row in rows])
    # ``WHERE true`` keeps SQLite's parser from reading ON CONFLICT as a join constraint.
    conn.execute(f"{head} SELECT {columns} FROM json_each(?) WHERE true {tail}", (payload,))


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
