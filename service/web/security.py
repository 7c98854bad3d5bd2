"""A second line against cross-site requests, beside Litestar's CSRF tokens: browsers say where a request came from
(Fetch Metadata, Origin), and an unsafe request from another site is refused before it reaches any handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from litestar import MediaType, Response
from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REFUSAL = b"This request came from another site, so it was refused. Nothing was changed."


def _is_cross_site(headers: dict[bytes, bytes]) -> bool:
    fetch_site = headers.get(b"sec-fetch-site", b"").decode("latin-1").lower()
    if fetch_site:
        return fetch_site not in ("same-origin", "none")
    origin = headers.get(b"origin", b"").decode("latin-1")
    if origin and origin != "null":
        # the Host header alone: X-Forwarded-Host is whatever the client says unless a proxy rewrites it; a proxy in
        # front of the service passes the browser's Host on (docs/operations.md, "TLS")
        host = headers.get(b"host", b"").decode("latin-1")
        return urlsplit(origin).netloc.lower() != host.lower()
    return origin == "null"


def same_origin_only(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        unsafe = scope["type"] == ScopeType.HTTP and scope.get("method", "GET") not in SAFE_METHODS
        if unsafe and _is_cross_site(dict(scope["headers"])):
            response = Response(REFUSAL, status_code=403, media_type=MediaType.TEXT)
            await response.to_asgi_response(app=None, request=None)(scope, receive, send)  # type: ignore[arg-type]
            return
        await app(scope, receive, send)

    return middleware


def headers_on_every_response(headers: dict[str, str]) -> Callable[[Message, Scope], Awaitable[None]]:
    """Security headers on every response, static files and error pages included (a before-send hook, so it also
    sees responses for routes that do not exist); a handler may set its own."""
    extra = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    async def add_headers(message: Message, scope: Scope) -> None:  # async: Litestar runs a sync hook on a thread
        if message["type"] == "http.response.start":
            present = {name.lower() for name, _ in message.get("headers", [])}
            message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in present)]

    return add_headers


NAME_MAX_BYTES = 255  # the longest file name the file systems the service runs on allow


def _has_control_character(path: str) -> bool:
    return any(ord(character) < 32 or ord(character) == 127 for character in path)


def one_address_per_record(app: ASGIApp) -> ASGIApp:
    """Answer 404 for any address but the one way of writing it: ids are written in ASCII digits, without a sign,
    space or leading zero (the router reads an id with Python's `int`, which also takes "+1", " 1", "01" and "１",
    so `/handovers/１/view` would show handover 1), and no address holds a control character or a name longer than
    a file system allows (which the static files' handler met as an error, not as a file that is not there).
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            path = scope["path"]
            params = scope.get("path_params") or {}
            template = scope.get("path_template") or ""
            if _has_control_character(path) or any(len(name.encode()) > NAME_MAX_BYTES for name in path.split("/")):
                raise NotFoundException()
            # ids and names only: a file path (the static files') may be written more than one way
            plain = all(isinstance(v, int) or (isinstance(v, str) and "/" not in v) for v in params.values())
            if template and params and plain:
                written = template.format_map({name: str(value) for name, value in params.items()})
                if written.rstrip("/") != path.rstrip("/"):
                    raise NotFoundException()
        await app(scope, receive, send)

    return middleware
