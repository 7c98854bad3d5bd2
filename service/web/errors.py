"""How the pages answer errors: an HTML page for each, in the service's words. The API answers the same errors in
its JSON shape (`service.web.api`, whose router owns its handlers); only what fails before any route is chosen (an
unknown address, a method a route does not take) is decided here by the path, so that `/api/v1/...` keeps JSON."""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import urlsplit

import psycopg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap

from service.core.errors import Conflict, Invalid, NotFound, Refused
from service.web.api_errors import http_error, json_error
from service.web.context import log, page
from service.web.timeout import remember_ending, signed_in_url

# What Litestar's CSRF middleware says when a form arrives without its token, or with one that does not match
CSRF_FAILED = "CSRF token verification failed"

API_PREFIX = "/api/"


def refused_page(request: Request[Any, Any, Any], exc: Refused) -> Response[Any]:
    return page(request, "errors/refused.html", status_code=409, reasons=exc.reasons, referer=_referer(request))


def conflict_page(request: Request[Any, Any, Any], exc: Conflict) -> Response[Any]:
    return page(request, "errors/conflict.html", status_code=409, referer=_referer(request))


def not_found_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if request.url.path.startswith(API_PREFIX):  # no API route matched this address
        return json_error("not_found", "Not found", 404)
    return page(request, "errors/not_found.html", status_code=404)


def sign_in_redirect(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    """To the sign-in page; one that says why, when the session ended by itself rather than by signing out."""
    url = signed_in_url(request)
    response: Response[Any] = (
        Response("", status_code=401, headers={"HX-Redirect": url})
        if request.headers.get("hx-request")
        else Redirect(url, status_code=303)
    )
    remember_ending(request, response)
    return response


def forbidden_page(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """A 403 says what happened: a page this person's role does not open, an action their role may not take, or a
    form refused because its security token was missing or out of date (opened before signing in again, say)."""
    if exc.detail == CSRF_FAILED:
        cause, reason = "form_expired", ""
    else:
        cause = "page" if request.method in ("GET", "HEAD") else "action"
        reason = str(exc.detail or "").rstrip(".")  # the guard's sentence: "Only team managers can do this"
    return page(
        request, "errors/forbidden.html", status_code=403, cause=cause, reason=reason, referer=_referer(request)
    )


def http_error_page(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500:  # the framework's own faults (a misconfiguration) are faults: logged with their traceback
        log.error("server error on %s %s", request.method, request.url.path, exc_info=exc)
    if request.url.path.startswith(API_PREFIX):  # 405 and other answers given before an API route was chosen
        return http_error(request, exc)
    if status == 403:
        return forbidden_page(request, exc)
    heading, detail = _plain_detail(status)
    return page(request, "errors/error.html", status_code=status, heading=heading, detail=detail)


def invalid_page(request: Request[Any, Any, Any], exc: Invalid) -> Response[Any]:
    """Input refused by a rule that the page's own form did not catch and show by its field."""
    heading, detail = _plain_detail(400)
    return page(request, "errors/error.html", status_code=400, heading=heading, detail=detail)


UNREADABLE_FORM = (
    "The form held characters that could not be read, so nothing was saved. Go back, retype any text that was "
    "pasted from another program, and try again."
)


def unreadable_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A form that is not valid UTF-8 (refused by the form parser, even before the CSRF check has read its token)."""
    log.info("unreadable form on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    if request.url.path.startswith(API_PREFIX):
        return json_error("bad_request", "The request is not valid UTF-8", 400)
    return page(
        request, "errors/error.html", status_code=400, heading="The form could not be read", detail=UNREADABLE_FORM
    )


def storage_error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The disk is full, the file is read-only, or another process holds the lock: nothing was half-written
    (every change is one transaction), and the next request tries again by itself."""
    log.error("storage unavailable on %s %s: %s", request.method, request.url.path, exc)
    return page(request, "errors/storage.html", status_code=503, referer=_referer(request))


def server_error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        "Sorry, something went wrong. Nothing you saved before this page has been lost. Try again in a moment.",
        status_code=500,
        media_type=MediaType.TEXT,
    )


def _plain_detail(status: int) -> tuple[str, str]:
    """The heading and the sentence for an error page, by status."""
    return {
        400: ("The information sent could not be read", "Nothing has been changed. Go back, check it and try again."),
        405: ("This page cannot be used in that way", "Use the links and buttons on the service's pages."),
        413: ("What you sent is too large", "Nothing has been saved. Go back, shorten it and try again."),
        429: ("Too many attempts", "Wait a few minutes and try again."),
    }.get(status, ("Sorry, there is a problem with the service", "Try again later."))


def _referer(request: Request[Any, Any, Any]) -> str:
    """Where "Back" goes: the page the person came from, if it is one of this service's own (same scheme, host and
    port exactly: a prefix match would accept `http://host:port.evil.example/` or `http://host:port@evil.example/`)."""
    referer = request.headers.get("referer", "")
    came_from, here = urlsplit(referer), urlsplit(str(request.base_url))
    same_origin = (came_from.scheme, came_from.netloc) == (here.scheme, here.netloc) and not came_from.username
    return referer if same_origin else "/"


PAGE_ERRORS: ExceptionHandlersMap = {
    Refused: refused_page,
    Invalid: invalid_page,
    UnicodeDecodeError: unreadable_page,
    sqlite3.OperationalError: storage_error_page,
    psycopg.OperationalError: storage_error_page,  # PostgreSQL unreachable, or a statement cancelled
    Conflict: conflict_page,
    NotFound: not_found_page,
    OverflowError: not_found_page,  # an id too large for SQLite cannot name anything that exists
    NotFoundException: not_found_page,
    NotAuthorizedException: sign_in_redirect,
    HTTPException: http_error_page,
    Exception: server_error_page,
}
