"""A second line against cross-site requests, beside Litestar's CSRF tokens: browsers say where a request came from
(Fetch Metadata, Origin), and an unsafe request from another site is refused before it reaches any handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from litestar import MediaType, Response
from litestar.enums import ScopeType
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
