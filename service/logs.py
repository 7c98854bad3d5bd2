"""Logging: one record per line (JSON in production), each carrying the id of the request it belongs to.

Nothing about a child is ever logged: requests are logged by method, route path, status and duration only, never
their query strings, forms or bodies.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

request_id: ContextVar[str] = ContextVar("request_id", default="-")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_log = logging.getLogger("handover.access")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry).decode()


def configure(json_lines: bool, level: int = logging.INFO) -> None:
    # Every request writes a line; the service's lines never show the caller, thread or process, so the standard
    # library is told not to work them out for each record (its logging HOWTO, "Optimization"), which is much of
    # the cost of a line. These are the standard library's process-wide switches: any logger in the process then
    # records "(unknown file)" for where it was called from, and ignores stack_info.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(RequestIdFilter())
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    root = logging.getLogger("handover")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


LOGGED_PATH_MAX = 200  # characters of an address that matched no route; the rest is cut
_STARTED = "handover.request"  # scope state: (request id, perf_counter at start)


def _request_started(scope: Scope) -> tuple[str, float]:
    """The request's id and start time, made once: a well-formed id from the proxy is kept."""
    state = scope.setdefault("state", {})
    started: tuple[str, float] | None = state.get(_STARTED)
    if started is None:
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        started = state[_STARTED] = (incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex, time.perf_counter())
        request_id.set(started[0])  # each request runs in its own task, so its context ends with it
    return started


def _printable(text: str, limit: int) -> str:
    """`text` with anything not printable escaped (a newline in an address could forge a log line), cut to `limit`."""
    shown = text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
    return shown if len(shown) <= limit else shown[:limit] + "…"


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Give every request an id before anything else runs, so that every line logged for it carries the id."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            _request_started(scope)
        await app(scope, receive, send)

    return middleware


async def log_response(message: Message, scope: Scope) -> None:
    """Return the request id and write the access line as the response starts (a before-send hook).

    A hook rather than the middleware, because the hook sees every response as it is sent: those made by the
    exception handlers for errors raised in other middleware (a body over the size limit, 413; a form without its
    CSRF token, 403) and for routes that do not exist. Seen from inside the middleware those were exceptions, and
    were logged as 500 without the id. `ms` is the time to the response's start (for a streamed export, to its
    first row). Async: Litestar runs a sync hook on a thread.
    """
    if message["type"] != "http.response.start" or scope["type"] != ScopeType.HTTP:
        return
    rid, started = _request_started(scope)
    message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
    if scope["path"].startswith("/static/"):
        return
    method = _printable(str(scope.get("method", "")), 20)
    route = scope.get("path_template") or _printable(scope["path"], LOGGED_PATH_MAX)
    status = message["status"]
    access_log.info(
        "%s %s %s",
        method,
        route,
        status,
        extra={"fields": {"method": method, "route": route, "status": status,
                          "ms": round((time.perf_counter() - started) * 1000, 1)}},
    )  # fmt: skip
