"""A throwaway PostgreSQL server for the tests: `initdb` in a temporary folder, started with `pg_ctl` on 127.0.0.1 and
a free port, with trust authentication on loopback only, stopped and removed afterwards.

`scripts/postgres_setup.sh` installs PostgreSQL 15 or later (Debian's `postgresql` package) when it is missing; no
cluster of the system's is used or started. Each test gets a database of its own quickly by copying a migrated
template: `server.create_database(name, template=...)`.

initdb and postgres refuse to run as root: under root they run as the `postgres` system user that Debian's package
creates (the server's folder is given to it), otherwise as the current user.
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

MIN_VERSION = 15  # the oldest PostgreSQL the service supports
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
SYSTEM_USER = "postgres"  # created by Debian's postgresql package
START_TIMEOUT_SECONDS = 60
SETUP_HINT = "bash scripts/postgres_setup.sh installs it"


def _major_version(postgres: Path) -> int | None:
    """The major version of a `postgres` program ("postgres (PostgreSQL) 15.14 (Debian ...)" gives 15)."""
    result = subprocess.run([str(postgres), "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"\)\s*(\d+)", result.stdout)
    return int(found.group(1)) if found else None


def _has_server_programs(directory: Path) -> bool:
    return all(os.access(directory / program, os.X_OK) for program in SERVER_PROGRAMS)


def postgres_bindir() -> Path:
    """The folder holding initdb, pg_ctl and postgres of PostgreSQL 15 or later: Debian's
    `/usr/lib/postgresql/<version>/bin` (the newest), else the folder of `postgres` on PATH.

    Raises RuntimeError, saying what is missing and how to install it, when there is none.
    """
    debian = [path for path in Path("/usr/lib/postgresql").glob("*/bin") if path.parent.name.isdigit()]
    for directory in sorted(debian, key=lambda path: int(path.parent.name), reverse=True):
        if int(directory.parent.name) >= MIN_VERSION and _has_server_programs(directory):
            return directory
    on_path = shutil.which("postgres")
    if on_path is not None:
        directory = Path(on_path).resolve().parent
        version = _major_version(directory / "postgres")
        if _has_server_programs(directory) and version is not None and version >= MIN_VERSION:
            return directory
    raise RuntimeError(
        f"PostgreSQL {MIN_VERSION} or later is not installed (initdb, pg_ctl and postgres were looked for in "
        f"/usr/lib/postgresql/*/bin and on PATH); {SETUP_HINT}"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user() -> list[str]:
    """The prefix that runs a program as the server's user: `postgres` under root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("running as root, the test server needs runuser (util-linux) to start as postgres")
    return [runuser, "-u", SYSTEM_USER, "--"]


def _server_folder(root: Path) -> Path:
    """The folder the server lives in: `root` itself, or under root a new folder in the system's temporary directory.

    Under root the server runs as the postgres user, which cannot reach pytest's temporary folders: pytest keeps
    `pytest-of-root` closed to other users and closes it again whenever any test session starts, so opening it would
    hold only until the next one. `root`, if it does not exist or is an empty folder, then becomes a symbolic link to
    the server's folder, so its log is still found beside the test's other files.
    """
    if os.geteuid() != 0:
        root.mkdir(parents=True, exist_ok=True)
        return root.resolve()  # the server runs in its data folder: a relative socket folder would move with it
    try:
        user = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise RuntimeError(
            f"running as root, the test server runs as the {SYSTEM_USER} system user, which does not exist; "
            f"{SETUP_HINT} (Debian's package creates it)"
        ) from None
    # short: the socket's path (folder + "/.s.PGSQL.<port>") must fit in 107 bytes
    folder = Path(tempfile.mkdtemp(prefix=f"handover-postgres-{root.name[:20]}-"))
    os.chown(folder, user.pw_uid, user.pw_gid)
    if root.is_dir() and not root.is_symlink() and not any(root.iterdir()):
        root.rmdir()  # an empty folder made for the server (pytest's tmp_path_factory.mktemp) becomes the link
    if not root.exists() and not root.is_symlink():
        root.parent.mkdir(parents=True, exist_ok=True)
        root.symlink_to(folder, target_is_directory=True)
    return folder


@dataclass
class PostgresServer:
    """A running PostgreSQL server in `root` (its data in `root/data`, its socket and its log `server.log` in `root`),
    listening on 127.0.0.1:`port` only, where the `postgres` superuser signs in without a password. `link`, under
    root, is the folder the caller asked for: a symbolic link to `root`."""

    root: Path
    port: int
    bindir: Path
    link: Path | None = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        """The connection URL for `database`: postgresql://postgres@127.0.0.1:<port>/<database>."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """Creates database `name`, a copy of database `template` when given (nobody may be connected to the
        template while it is copied), and returns its URL. Raises psycopg.Error if it exists already."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(statement)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drops database `name` if it exists, ending any connection still open to it (a test's pool)."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def stop(self) -> None:
        """Stops the server at once (`pg_ctl stop -m immediate`: nothing in it is kept) and removes its folder.
        Calling it again does nothing."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [
                    *_as_server_user(),
                    str(self.bindir / "pg_ctl"),
                    "stop",
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "-w",
                ],
                cwd=self.root,
                capture_output=True,
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)
        if self.link is not None and self.link.is_symlink():
            self.link.unlink()


def _server_options(root: Path, port: int) -> str:
    return " ".join(
        [
            "-c listen_addresses=127.0.0.1",
            f"-p {port}",
            # the unix socket stays in the server's own folder, never the system's /var/run/postgresql
            f"-c unix_socket_directories={shlex.quote(str(root))}",  # pg_ctl hands these to a shell
            "-c max_connections=200",
            # a throwaway server for tests: its data need not survive a crash of the machine, so nothing waits for
            # the disk (fsync, synchronous commit and full-page images off); never settings for a real database
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
        ]
    )


def start_postgres(root: Path) -> PostgresServer:
    """Makes a cluster in `root` (created if missing; under root, a link to a new folder in the system's temporary
    directory, see `_server_folder`) with initdb and starts it on 127.0.0.1 and a free port; returns once it accepts
    connections. The server is also stopped, and its folder removed, when the process exits.

    The cluster is UTF-8 with the C collation (text sorts by bytes, as SQLite's BINARY collation does). Raises
    RuntimeError (with initdb's or the server's own words) if PostgreSQL is missing, initdb fails, or the server
    does not start within 60 seconds.
    """
    bindir = postgres_bindir()
    as_server_user = _as_server_user()
    folder = _server_folder(root)
    link = root if folder != root and root.is_symlink() else None
    root = folder
    # trust on loopback only: the server listens on 127.0.0.1 and its own socket, and nothing else may sign in
    initdb = subprocess.run(
        [
            *as_server_user,
            str(bindir / "initdb"),
            "-D",
            str(root / "data"),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if initdb.returncode != 0:
        PostgresServer(root=root, port=0, bindir=bindir, link=link).stop()
        raise RuntimeError(f"initdb failed in {root}: {initdb.stderr.strip() or initdb.stdout.strip()}")
    (root / "data" / "pg_hba.conf").write_text(
        "# TYPE  DATABASE  USER  ADDRESS       METHOD\n"
        "local   all       all                 trust\n"
        "host    all       all   127.0.0.1/32  trust\n"
    )
    log = root / "server.log"
    # the free port is found before the server binds it, so another process may take it first: try a few
    for _attempt in range(3):
        port = _free_port()
        started = subprocess.run(
            [
                *as_server_user,
                str(bindir / "pg_ctl"),
                "start",
                "-D",
                str(root / "data"),
                "-l",
                str(log),
                "-w",
                "-t",
                str(START_TIMEOUT_SECONDS),
                "-o",
                _server_options(root, port),
            ],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        if started.returncode == 0:
            server = PostgresServer(root=root, port=port, bindir=bindir, link=link)
            atexit.register(server.stop)
            _wait_until_accepting(server)
            return server
    server_log = log.read_text(errors="replace") if log.exists() else ""
    PostgresServer(root=root, port=0, bindir=bindir, link=link).stop()
    raise RuntimeError(f"the test PostgreSQL server did not start: {started.stderr.strip()}\n{server_log}")


def _wait_until_accepting(server: PostgresServer) -> None:
    """pg_ctl -w has waited for the server to be ready; one connection over TCP proves it, as the tests will connect."""
    try:
        with psycopg.connect(server.url(), connect_timeout=START_TIMEOUT_SECONDS) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        log = server.root / "server.log"
        server_log = log.read_text(errors="replace") if log.exists() else ""
        server.stop()
        raise RuntimeError(f"the test PostgreSQL server does not accept connections: {error}\n{server_log}") from error
