"""The API's one error shape, `{"code", "message", "details": [{"field", "message"}]}`, for every error it answers.

The API's router registers `API_ERRORS`; the app-level handlers use `json_error` and `http_error` only for what
fails before an API route is chosen (an unknown `/api/v1/...` address, a method no route takes).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import msgspec
import psycopg
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException, ValidationException
from litestar.types import ExceptionHandlersMap

from service.core.errors import Conflict, Invalid, NotFound, Refused
from service.web.context import log


class ErrorDetail(msgspec.Struct):
    field: str
    message: str


class ErrorBody(msgspec.Struct):
    """Every API error: 400, 401, 403, 404, 409, 413, 422 and 503 all answer in this shape."""

    code: str
    message: str
    details: list[ErrorDetail] = []


def json_error(code: str, message: str, status: int, details: list[tuple[str, str]] | None = None) -> Response[Any]:
    body = ErrorBody(code, message, [ErrorDetail(field, text) for field, text in details or []])
    return Response(body, status_code=status)


_HTTP_CODES = {400: "bad_request", 401: "unauthorised", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 429: "too_many_requests"}  # fmt: skip


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    details = [(str(e.get("key", "")), str(e.get("message", ""))) for e in extra if isinstance(e, dict)]
    return json_error(_HTTP_CODES.get(exc.status_code, "error"), str(exc.detail), exc.status_code, details)


DETAIL_MAX = 200  # characters of one detail: a message quoting what was sent is cut, never the whole of it


_MISSING_FIELD = re.compile(r"missing required field `([^`]{1,100})`")
# A field the body's schema does not have: refused rather than ignored, so that a misspelt key never saves a section
# or takes a step without what it was meant to carry (every request body forbids unknown fields)
_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `([^`]{1,100})`")
UNKNOWN_FIELD_MESSAGE = "This operation has no such field: see the API's schema for the fields it takes"


def _field_of(error: dict[str, Any]) -> str:
    """The field a schema error is about: msgspec names a missing or unknown field only in its message, and the
    framework then files the error under the object holding it (the whole body is "data")."""
    key = str(error.get("key", ""))
    message = str(error.get("message", ""))
    missing = _MISSING_FIELD.search(message)
    if missing and key in ("", "data"):
        return missing.group(1)
    unknown = _UNKNOWN_FIELD.search(message)
    if unknown:
        return (unknown.group(1) if key in ("", "data") else f"{key}.{unknown.group(1)}")[:DETAIL_MAX]
    return "body" if key == "data" else key[:DETAIL_MAX]


def _message_of(error: dict[str, Any]) -> str:
    message = str(error.get("message", ""))
    if _UNKNOWN_FIELD.search(message):
        return UNKNOWN_FIELD_MESSAGE
    if str(error.get("key", "")) == "data" and not message.startswith(("Object missing", "Expected")):
        return "Send a JSON object with the fields this operation documents"  # an empty body says only "'data'"
    return message[:DETAIL_MAX]


def _schema_mismatch(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """JSON that was read but does not fit the schema (a missing field, text for an id, an id over 2,147,483,647, a
    query parameter of the wrong kind) is 422 by field, as a value the rules refuse is; 400 is for a request that
    could not be read at all (not JSON). The framework's own message repeats the whole address, query string
    included, so it is not passed on; each detail is cut to `DETAIL_MAX` characters."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    details = [(_field_of(e), _message_of(e)) for e in extra if isinstance(e, dict)]
    if details:
        return json_error("invalid", "Some fields are not valid", 422, details)
    reason = str(exc.detail)
    if reason.startswith("Validation failed for"):
        reason = "The request could not be read"
    return json_error("bad_request", reason[:DETAIL_MAX], 400)


def _refused(request: Request[Any, Any, Any], exc: Refused) -> Response[Any]:
    return json_error("refused", "The state machine refused this", 409, [("", reason) for reason in exc.reasons])


def _conflict(request: Request[Any, Any, Any], exc: Conflict) -> Response[Any]:
    return json_error("conflict", "Someone else changed this first: load it again and retry", 409)


def _not_found(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return json_error("not_found", "Not found, or not visible to this account", 404)


def _invalid(request: Request[Any, Any, Any], exc: Invalid) -> Response[Any]:
    return json_error("invalid", "Some fields are not valid", 422, list(exc.errors.items()))


def _unauthorised(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    return json_error("unauthorised", str(exc.detail), 401)


def _too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    """A body nested deeper than Python can decode: no body the API takes is nested more than a few levels."""
    return json_error("bad_request", "The request body is nested too deeply to be read", 400)


def _not_utf8(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    return json_error("bad_request", "The request is not valid UTF-8", 400)


def _storage(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("storage unavailable on %s %s: %s", request.method, request.url.path, exc)
    return json_error("storage_unavailable", "Try again shortly", 503)


def _server_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return json_error("server_error", "Something went wrong", 500)


API_ERRORS: ExceptionHandlersMap = {
    Refused: _refused,
    Invalid: _invalid,
    Conflict: _conflict,
    NotFound: _not_found,
    OverflowError: _not_found,  # an id too large for SQLite cannot name anything that exists
    NotFoundException: _not_found,
    NotAuthorizedException: _unauthorised,
    sqlite3.OperationalError: _storage,
    psycopg.OperationalError: _storage,  # PostgreSQL unreachable, or a statement cancelled
    RecursionError: _too_deep,
    UnicodeDecodeError: _not_utf8,
    ValidationException: _schema_mismatch,
    HTTPException: http_error,
    Exception: _server_error,
}
