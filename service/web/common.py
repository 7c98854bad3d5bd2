"""What every controller shares: the app's state, rendering a page, loading a handover the person may see."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.plugins.htmx import HTMXDetails, HTMXRequest
from litestar.response import Redirect, Template

from service import actions, db
from service.checklist import Checklist, latest
from service.core.workflow import Refused, may_view
from service.settings import Settings

log = logging.getLogger("handover")

__all__ = ["State"]


class PageRequest(HTMXRequest):
    """HTMXRequest without its reference cycle (request -> details -> request).

    A cycle keeps the request, its scope and everything in it alive until the garbage collector's next full pass;
    at hundreds of requests a second those passes took tens of milliseconds each. Made on use, the details are
    freed with the request.
    """

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        Request.__init__(self, *args, **kwargs)

    @property
    def htmx(self) -> HTMXDetails:  # type: ignore[override]
        return HTMXDetails(self)


def database(request: Request[Any, Any, Any]) -> db.Database:
    return request.app.state.db  # type: ignore[no-any-return]


def checklists(request: Request[Any, Any, Any]) -> actions.Checklists:
    return request.app.state.checklists  # type: ignore[no-any-return]


def current_checklist(request: Request[Any, Any, Any]) -> Checklist:
    return latest(checklists(request), "case-transfer")


def settings(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def signed_in_user(request: Request[Any, Any, Any]) -> Any:
    return request.scope.get("user")


def page(request: Request[Any, Any, Any], template: str, *, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template_name=template,
        context={"user": signed_in_user(request), **context},
        status_code=status_code,
        media_type=MediaType.HTML,  # every page is HTML: said once rather than guessed from the file name each time
    )


async def viewable(request: Request[Any, Any, Any], handover_id: int) -> actions.HandoverView:
    """The handover, if this person may see it; otherwise 404, so nobody learns that it exists."""
    view = await actions.load(database(request).reader, checklists(request), handover_id)
    if view is None or not may_view(view.facts, request.user.actor):
        raise NotFoundException("There is no handover here that you can see")
    return view


async def visible_handover(request: Request[Any, Any, Any], handover_id: int) -> tuple[db.Handover, Checklist]:
    """As `viewable`, for what needs only the handover's row and checklist (its answers are not loaded)."""
    handover = await db.handover_by_id(database(request).reader, handover_id)
    if handover is None or not may_view(actions.parties_and_state(handover), request.user.actor):
        raise NotFoundException("There is no handover here that you can see")
    return handover, checklists(request)[(handover.checklist_id, handover.checklist_version)]


async def audit_view(request: Request[Any, Any, Any], handover_id: int, what: str) -> None:
    """Every view of a handover goes to the audit trail (unless read-auditing is switched off in settings)."""
    if settings(request).audit_reads:
        await actions.record_view(database(request), request.user.actor, handover_id, what)


def back_to(url: str) -> Redirect:
    return Redirect(url, status_code=303)


# ---------------------------------------------------------------- error pages


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/")


def json_error(code: str, message: str, status: int, details: list[tuple[str, str]] | None = None) -> Response[Any]:
    """The API's one error shape: a code, a message, and per-field details."""
    body = {"code": code, "message": message, "details": [{"field": f, "message": m} for f, m in details or []]}
    return Response(body, status_code=status)


def refused_page(request: Request[Any, Any, Any], exc: Refused) -> Response[Any]:
    if _wants_json(request):
        return json_error("refused", "The state machine refused this", 409, [("", reason) for reason in exc.reasons])
    return page(request, "errors/refused.html", status_code=409, reasons=exc.reasons, referer=_referer(request))


def conflict_page(request: Request[Any, Any, Any], exc: db.Conflict) -> Response[Any]:
    if _wants_json(request):
        return json_error("conflict", "Someone else changed this first: load it again and retry", 409)
    return page(request, "errors/conflict.html", status_code=409, referer=_referer(request))


def not_found_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if _wants_json(request):
        return json_error("not_found", "Not found", 404)
    return page(request, "errors/not_found.html", status_code=404)


def sign_in_redirect(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    if _wants_json(request):
        return json_error("unauthorised", str(exc.detail), 401)
    if request.headers.get("hx-request"):
        return Response("", status_code=401, headers={"HX-Redirect": "/sign-in"})
    return Redirect("/sign-in", status_code=303)


def http_error_page(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if _wants_json(request):
        extra = exc.extra if isinstance(exc.extra, list) else []
        details = [(str(e.get("key", "")), str(e.get("message", ""))) for e in extra if isinstance(e, dict)]
        code = {400: "bad_request", 403: "forbidden", 405: "method_not_allowed", 413: "too_large"}.get(status, "error")
        return json_error(code, str(exc.detail), status, details)
    return page(request, "errors/error.html", status_code=status, status=status, detail=_plain_detail(status))


def storage_error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The disk is full, the file is read-only, or another process holds the lock: nothing was half-written
    (every change is one transaction), and the next request tries again by itself."""
    log.error("storage unavailable on %s %s: %s", request.method, request.url.path, exc)
    if _wants_json(request):
        return json_error("storage_unavailable", "Try again shortly", 503)
    return page(request, "errors/storage.html", status_code=503, referer=_referer(request))


def server_error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _wants_json(request):
        return json_error("server_error", "Something went wrong", 500)
    return Response(
        "Sorry, something went wrong. Nothing you saved before this page has been lost. Try again in a moment.",
        status_code=500,
        media_type=MediaType.TEXT,
    )


def _plain_detail(status: int) -> str:
    return {
        400: "The information sent could not be read. Go back, check it and try again.",
        403: "You cannot do this. If you submitted a form, go back, reload the page and try again.",
        405: "This page cannot be used in that way.",
        413: "What you sent is too large. Shorten it and try again.",
        429: "Too many attempts. Wait a few minutes and try again.",
    }.get(status, "Sorry, there is a problem with the service.")


def _referer(request: Request[Any, Any, Any]) -> str:
    referer = request.headers.get("referer", "")
    base = str(request.base_url).rstrip("/")
    return referer if referer.startswith(base) else "/"


def invalid_api_body(request: Request[Any, Any, Any], exc: Any) -> Response[Any]:
    return json_error("invalid", "Some fields are not valid", 422, list(exc.errors.items()))
