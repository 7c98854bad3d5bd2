"""For the people who run the service: liveness, readiness, and Prometheus metrics. None of it is audited."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from litestar import MediaType, Request, Response, get
from litestar.exceptions import NotFoundException
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from service import db
from service.core.clock import date_in_england, today
from service.core.workdays import working_days_between
from service.core.workflow import State
from service.web.context import checklists, database, settings


@get("/healthz", exclude_from_auth=True, media_type=MediaType.TEXT, include_in_schema=False)
async def healthz() -> str:
    """The process is alive and answering."""
    return "ok"


# Sign-in and opening a handover write audit entries: with less room than this, people would meet errors.
READY_FREE_BYTES_MIN = 16 * 1024 * 1024


@get("/readyz", exclude_from_auth=True, include_in_schema=False)
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
    """Ready for work: the database answers and can be written (its folder has room, the file may be written), its
    schema is fully migrated, and the checklists are loaded."""
    try:
        version = await db.schema_version(database(request).reader)
    except Exception as exc:  # any failure to reach the database means not ready
        return Response({"status": "not ready", "reason": f"database: {type(exc).__name__}"}, status_code=503)
    store = database(request)
    file = store.file  # the SQLite file's room and permissions; PostgreSQL says itself whether it takes writes
    if file is not None:
        unwritable = await asyncio.to_thread(db.why_not_writable, file, READY_FREE_BYTES_MIN)
    else:
        unwritable = await store.why_not_writable()
    if unwritable:
        return Response({"status": "not ready", "reason": unwritable}, status_code=503)
    if version != len(db.MIGRATIONS):
        return Response({"status": "not ready", "reason": f"schema at {version}"}, status_code=503)
    if not checklists(request):
        return Response({"status": "not ready", "reason": "no checklists"}, status_code=503)
    return Response({"status": "ready"})


@get("/ping", media_type=MediaType.TEXT, include_in_schema=False)
async def ping() -> str:
    """For a signed-in person (or a benchmark): the shortest path through sessions, CSRF and every middleware."""
    return "pong"


@get("/metrics", exclude_from_auth=True, include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Request counts and latency by route (Litestar's Prometheus middleware), handovers by state, and the oldest
    incomplete handover's age. Only for a scraper holding the metrics token; unknown to everyone else."""
    token = settings(request).metrics_token
    offered = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(offered.encode(), token.encode()):
        raise NotFoundException()
    counts, oldest = await db.handover_counts(database(request).scanner)
    oldest_days = working_days_between(date_in_england(oldest), today()) if oldest else 0
    lines = [
        "# HELP handover_handovers Handovers by state.",
        "# TYPE handover_handovers gauge",
        *(f'handover_handovers{{state="{state.value}"}} {counts.get(state.value, 0)}' for state in State),
        "# HELP handover_oldest_incomplete_working_days Working days since the oldest incomplete handover started.",
        "# TYPE handover_oldest_incomplete_working_days gauge",
        f"handover_oldest_incomplete_working_days {oldest_days}",
    ]
    body = generate_latest(REGISTRY) + ("\n".join(lines) + "\n").encode()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
