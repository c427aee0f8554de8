"""Batch inserts: every row arrives, with its type, in order."""

from __future__ import annotations

import sqlite3

import pytest

from obs_core._sqlite_batch import insert_rows


@pytest.fixture
def conn() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)")
    return connection


def test_every_row_is_inserted(conn: sqlite3.Connection) -> None:
    insert_rows(conn, "INSERT INTO t (k, v)", [(f"k{i}", i) for i in range(1_000)])
    assert conn.execute("SELECT COUNT(*), SUM(v) FROM t").fetchone() == (1_000, 499_500)


def test_values_keep_their_types(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE typed (a, b, c, d, e)")
    insert_rows(conn, "INSERT INTO typed (a, b, c, d, e)",
                [('{"quoted": "json text"}', 2**62, 0.1, None, "ünï\u00e7ode")])
    assert conn.execute("SELECT a, typeof(a), b, c, typeof(c), d, e FROM typed").fetchone() == (
        '{"quoted": "json text"}', "text", 2**62, 0.1, "real", None, "ünïçode")


def test_a_float_json_cannot_carry_is_stored_as_null(conn: sqlite3.Connection) -> None:
    insert_rows(conn, "INSERT INTO t (k, v)", [("nan", float("nan")), ("inf", float("inf"))])
    assert conn.execute("SELECT k, v FROM t ORDER BY k").fetchall() == [("inf", None),
                                                                       ("nan", None)]


def test_the_tail_applies_to_every_statement(conn: sqlite3.Connection) -> None:
    insert_rows(conn, "INSERT INTO t (k, v)", [("a", 1), ("b", 2)])
    insert_rows(conn, "INSERT INTO t (k, v)", [("a", 10), ("c", 3)],
                "ON CONFLICT (k) DO UPDATE SET v = excluded.v")
    assert conn.execute("SELECT k, v FROM t ORDER BY k").fetchall() == [
        ("a", 10), ("b", 2), ("c", 3)]


def test_no_rows_runs_no_statement(conn: sqlite3.Connection) -> None:
    insert_rows(conn, "INSERT INTO nowhere (k)", [])
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)


def test_rows_of_one_batch_are_applied_in_order(conn: sqlite3.Connection) -> None:
    insert_rows(conn, "INSERT INTO t (k, v)", [("a", 1), ("a", 2)],
                "ON CONFLICT (k) DO UPDATE SET v = excluded.v")
    assert conn.execute("SELECT k, v FROM t").fetchall() == [("a", 2)]
