"""A command on SQLite (an export, a backup) starts without loading PostgreSQL's driver, and still says, rather than
traces, what went wrong with either database."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import psycopg

from service import db


def test_the_commands_load_no_postgresql_driver_until_one_is_used() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, service.cli; print('psycopg' in sys.modules)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert loaded.stdout.strip() == "False"


def test_the_errors_caught_are_sqlites_and_once_loaded_the_postgresql_drivers() -> None:
    assert "psycopg" in sys.modules  # imported above, as using a PostgreSQL database does
    assert db.database_errors() == (sqlite3.Error, psycopg.Error)
    assert db.database_errors(OSError) == (OSError, sqlite3.Error, psycopg.Error)
