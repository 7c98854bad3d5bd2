"""The accessibility statement and the privacy notice: public pages (no sign-in), with the council's details from
settings."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from service.core.timing import duration_words
from service.web.context import page, settings


@get("/accessibility", name="accessibility", exclude_from_auth=True, include_in_schema=False)
async def accessibility(request: Request[Any, Any, Any]) -> Template:
    """The accessibility statement, after GOV.UK's sample statement."""
    return page(request, "statements/accessibility.html", council=settings(request))


@get("/privacy", name="privacy", exclude_from_auth=True, include_in_schema=False)
async def privacy(request: Request[Any, Any, Any]) -> Template:
    """The privacy notice: the council as controller, the lawful bases, retention, rights and complaints."""
    return page(
        request,
        "statements/privacy.html",
        council=settings(request),
        absolute=duration_words(request.app.state.absolute_timeout),
    )
