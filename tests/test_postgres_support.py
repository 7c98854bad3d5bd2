"""The throwaway PostgreSQL server the tests on PostgreSQL use (tests/postgres_support.py): it starts in a temporary
folder, makes and copies databases, and leaves nothing behind."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg

from tests.postgres_support import postgres_bindir, start_postgres


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_server_programs_are_postgresql_15_or_later() -> None:
    bindir = postgres_bindir()
    for program in ("initdb", "pg_ctl", "postgres"):
        assert (bindir / program).is_file()


def test_a_copy_of_a_template_has_its_tables_and_the_server_leaves_nothing_behind(tmp_path: Path) -> None:
    root = tmp_path / "postgres"
    server = start_postgres(root)
    try:
        assert server.url() == f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
        assert _port_open(server.port)
        # the socket is in the server's own folder, not the system's
        assert list(root.glob(".s.PGSQL.*"))

        template_url = server.create_database("handover_template")
        assert template_url == server.url("handover_template")
        with psycopg.connect(template_url, autocommit=True) as conn:
            conn.execute("CREATE TABLE handover (id BIGINT PRIMARY KEY, title TEXT NOT NULL)")
            conn.execute("INSERT INTO handover (id, title) VALUES (%s, %s)", (1, "Transfer to North Team"))
            version = conn.execute("SHOW server_version_num").fetchone()
            assert version is not None and int(version[0]) >= 150000
            listening = conn.execute("SHOW listen_addresses").fetchone()
            assert listening == ("127.0.0.1",)
            assert conn.execute("SHOW max_connections").fetchone() == ("200",)

        copy_url = server.create_database("handover_test_1", template="handover_template")
        with psycopg.connect(copy_url, autocommit=True) as conn:
            assert conn.execute("SELECT id, title FROM handover").fetchall() == [(1, "Transfer to North Team")]
            # a copy, not the same database: a change here leaves the template as it was
            conn.execute("DELETE FROM handover")
        with psycopg.connect(template_url) as conn:
            assert conn.execute("SELECT count(*) FROM handover").fetchone() == (1,)

        # a connection still open (as a test's pool would leave it) does not stop the drop
        lingering = psycopg.connect(copy_url)
        try:
            server.drop_database("handover_test_1")
        finally:
            lingering.close()
        with psycopg.connect(server.url()) as conn:
            names = {row[0] for row in conn.execute("SELECT datname FROM pg_database").fetchall()}
        assert "handover_test_1" not in names
        assert "handover_template" in names
    finally:
        server.stop()

    assert not server.root.exists()
    assert not root.exists()
    assert not root.is_symlink()
    assert not _port_open(server.port)
    server.stop()  # a second stop does nothing
