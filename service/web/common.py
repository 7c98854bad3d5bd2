"""What every controller shares: the app's state, rendering a page, loading a handover the person may see."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.response import Redirect, Template

from service import actions, db
from service.checklist import Checklist, latest
from service.core.workflow import Refused, may_view
from service.settings import Settings

log = logging.getLogger("handover")

__all__ = ["State"]


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
    )


async def viewable(request: Request[Any, Any, Any], handover_id: int) -> actions.HandoverView:
    """The handover, if this person may see it; otherwise 404, so nobody learns that it exists."""
    view = await actions.load(database(request).reader, checklists(request), handover_id)
    if view is None or not may_view(view.facts, request.user.actor):
        raise NotFoundException("There is no handover here that you can see")
    return view


async def audit_view(request: Request[Any, Any, Any], handover_id: int, what: str) -> None:
    """Every view of a handover goes to the audit trail (unless read-auditing is switched off in settings)."""
    if settings(request).audit_reads:
        await actions.record_view(database(request), request.user.actor, handover_id, what)


def back_to(url: str) -> Redirect:
    return Redirect(url, status_code=303)


# ---------------------------------------------------------------- error pages


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/")


def refused_page(request: Request[Any, Any, Any], exc: Refused) -> Response[Any]:
    if _wants_json(request):
        return Response({"code": "refused", "message": str(exc), "details": exc.reasons}, status_code=409)
    return page(request, "errors/refused.html", status_code=409, reasons=exc.reasons, referer=_referer(request))


def conflict_page(request: Request[Any, Any, Any], exc: db.Conflict) -> Response[Any]:
    if _wants_json(request):
        return Response({"code": "conflict", "message": str(exc), "details": []}, status_code=409)
    return page(request, "errors/conflict.html", status_code=409, referer=_referer(request))


def not_found_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if _wants_json(request):
        return Response({"code": "not_found", "message": "Not found", "details": []}, status_code=404)
    return page(request, "errors/not_found.html", status_code=404)


def sign_in_redirect(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    if _wants_json(request):
        return Response({"code": "unauthorised", "message": "Sign in first", "details": []}, status_code=401)
    if request.headers.get("hx-request"):
        return Response("", status_code=401, headers={"HX-Redirect": "/sign-in"})
    return Redirect("/sign-in", status_code=303)


def http_error_page(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if _wants_json(request):
        return Response({"code": "error", "message": exc.detail, "details": []}, status_code=status)
    return page(request, "errors/error.html", status_code=status, status=status, detail=_plain_detail(status))


def storage_error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The disk is full, the file is read-only, or another process holds the lock: nothing was half-written
    (every change is one transaction), and the next request tries again by itself."""
    log.error("storage unavailable on %s %s: %s", request.method, request.url.path, exc)
    if _wants_json(request):
        return Response({"code": "storage_unavailable", "message": "Try again shortly", "details": []}, status_code=503)
    return page(request, "errors/storage.html", status_code=503, referer=_referer(request))


def server_error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _wants_json(request):
        return Response({"code": "server_error", "message": "Something went wrong", "details": []}, status_code=500)
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
