"""The service as its own process, the way it runs in production (`handover serve`), for the tests that need a real
server: a crash, a container's start, two instances, the browser.

A port is chosen free and handed to the server, so another process (the other test pass runs beside this one) may take
it first; the server then fails to bind and exits while the other one answers. `wait_until_ready` therefore waits
until *this* process is the one listening, found with psutil, as well as until /readyz answers; and `start` tries
another port when the server stopped before it was ready."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

HANDOVER = Path(sys.executable).with_name("handover")


def free_port() -> int:
    """A TCP port on loopback nobody is listening on at the moment of asking."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def production(data: Path, secret: str, **more: str) -> Callable[[int], dict[str, str]]:
    """The environment of a production instance keeping its data in `data`, for `start`: this process's environment,
    the settings production refuses to start without, and `more` (HANDOVER_SMTP_HOST="…", say)."""

    def for_port(port: int) -> dict[str, str]:
        return {
            **os.environ,
            "HANDOVER_MODE": "production",
            "HANDOVER_DATA_DIR": str(data),
            "HANDOVER_SECRET_KEY": secret,
            "HANDOVER_HOST": "127.0.0.1",
            "HANDOVER_PORT": str(port),
            "HANDOVER_COUNCIL_NAME": "Riverford City Council",
            "HANDOVER_CONTACT_EMAIL": "help@riverford.example",
            "HANDOVER_DPO_EMAIL": "dpo@riverford.example",
            "HANDOVER_STATEMENT_DATE": "2026-11-20",
            **more,
        }

    return for_port


def serve(env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    """`handover serve` with this environment; its output goes to `log`, or nowhere."""
    if log is None:
        return subprocess.Popen([HANDOVER, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(log, "ab") as out:
        return subprocess.Popen([HANDOVER, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)


def listens_on(process: subprocess.Popen[bytes], port: int) -> bool:
    """Whether this process (not some other one) holds the listening socket on `port`."""
    try:
        connections = psutil.Process(process.pid).net_connections(kind="tcp")
    except psutil.NoSuchProcess:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in connections)


class NotReady(AssertionError):
    """The server exited, or did not answer ready within the time allowed."""


def _check(process: subprocess.Popen[bytes], base: str, log: Path | None) -> None:
    if process.poll() is not None:
        said = f":\n{log.read_text(errors='replace')}" if log is not None and log.exists() else ""
        raise NotReady(f"the server for {base} stopped (exit {process.returncode}){said}")


def _ready_here(process: subprocess.Popen[bytes], base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
            answered = response.status == 200
    except OSError:
        return False
    port = int(base.rsplit(":", 1)[1])
    return answered and listens_on(process, port)


def wait_until_ready(process: subprocess.Popen[bytes], base: str, seconds: float = 60, log: Path | None = None) -> None:
    """Until `process` itself answers ready on `base` ("http://127.0.0.1:PORT"). Raises NotReady if it stops first
    (a port taken by another process ends it this way) or takes longer than `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _check(process, base, log)
        if _ready_here(process, base):
            return
        time.sleep(0.05)
    raise NotReady(f"the server for {base} did not become ready within {seconds:g} s")


async def until_ready(
    process: subprocess.Popen[bytes], base: str, seconds: float = 60, log: Path | None = None
) -> None:
    """`wait_until_ready` for an async test: the waiting is done in a thread."""
    await asyncio.to_thread(wait_until_ready, process, base, seconds, log)


@dataclass(frozen=True)
class Served:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start(
    env_for_port: Callable[[int], dict[str, str]], seconds: float = 60, log: Path | None = None, attempts: int = 3
) -> Served:
    """`handover serve` on a free port, with the environment `env_for_port(port)` gives, ready. A server that stops
    before it is ready (its port taken meanwhile) is started again on another port, up to `attempts` times in all;
    then NotReady, with what the last one wrote to `log`."""
    for attempt in range(1, attempts + 1):
        port = free_port()
        process = serve(env_for_port(port), log)
        try:
            wait_until_ready(process, f"http://127.0.0.1:{port}", seconds, log)
        except NotReady:
            exited = process.poll() is not None
            stop(process)
            if not exited or attempt == attempts:
                raise
            continue
        return Served(process, port)
    raise AssertionError("unreachable")


async def started(
    env_for_port: Callable[[int], dict[str, str]], seconds: float = 60, log: Path | None = None
) -> Served:
    """`start` for an async test."""
    return await asyncio.to_thread(start, env_for_port, seconds, log)


def stop(process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `seconds`."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
