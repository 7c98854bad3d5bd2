"""What every controller shares: the app's state, the signed-in person, and rendering a page."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from litestar import MediaType, Request
from litestar.datastructures import FormMultiDict, State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException
from litestar.plugins.htmx import HTMXDetails
from litestar.response import Redirect, Template

from service import actions, db
from service.checklist import Checklist, latest
from service.settings import Settings

log = logging.getLogger("handover")

__all__ = ["State"]


class PageRequest(Request[Any, Any, Any]):
    """A request that tells an htmx request from a full page load (`request.htmx`), as litestar-htmx's HTMXRequest
    does, but makes the details on use instead of holding them.

    HTMXRequest keeps its details, and they keep the request: a reference cycle that holds the request, its scope
    and everything in it until the garbage collector's next full pass, which under load stalls every request in
    flight (`tests/test_memory.py`). Made on use, the details are freed with the request.
    """

    __slots__ = ()

    @property
    def htmx(self) -> HTMXDetails:
        return HTMXDetails(self)

    async def form(self) -> FormMultiDict:
        """The posted form, refusing one that is not UTF-8 (`UnicodeDecodeError`, answered by a 400 page that
        says so): the standard parser decodes a percent-escaped bad byte (`%FF`) as U+FFFD without a word, so that
        "x%FFy" would be stored as "x\ufffdy", and raw bytes past ASCII as Latin-1. It is read strictly again only
        when a U+FFFD or a raw byte is there to explain. A form holding a file is refused too (400)."""
        form = await super().form()
        files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
        if files:  # no form of the service takes a file; read as text, one would be "<its name> - <its type>"
            for upload in files:
                await upload.close()
            raise ClientException("This form takes no files")
        if self.content_type[0] != RequestEncodingType.URL_ENCODED:
            return form
        body = await self.body()
        # A browser percent-escapes every byte past ASCII; raw ones would be read as Latin-1 ("\xff" as "ÿ").
        if not body.isascii() or any(
            "\ufffd" in key or (isinstance(value, str) and "\ufffd" in value) for key, value in form.multi_items()
        ):
            parse_qsl(body.decode("ascii"), encoding="utf-8", errors="strict")
        return form


def database(request: Request[Any, Any, Any]) -> db.Database:
    return request.app.state.db  # type: ignore[no-any-return]


def checklists(request: Request[Any, Any, Any]) -> actions.Checklists:
    return request.app.state.checklists  # type: ignore[no-any-return]


def current_checklist(request: Request[Any, Any, Any]) -> Checklist:
    """The newest version of the case-transfer checklist: what a handover started now is made on."""
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
    """The handover with its answers, if this person may see it (`NotFound` otherwise)."""
    return await actions.visible(database(request).reader, checklists(request), request.user.actor, handover_id)


async def visible_handover(request: Request[Any, Any, Any], handover_id: int) -> tuple[db.Handover, Checklist]:
    """As `viewable`, for what needs only the handover's row and checklist (its answers are not loaded)."""
    handover = await actions.visible_record(database(request).reader, request.user.actor, handover_id)
    return handover, checklists(request)[(handover.checklist_id, handover.checklist_version)]


async def audit_view(request: Request[Any, Any, Any], handover_id: int, what: str) -> None:
    """Every view of a handover goes to the audit trail (unless read-auditing is switched off in settings)."""
    await actions.record_view(
        database(request), request.user.actor, handover_id, what, audit_reads=settings(request).audit_reads
    )


def back_to(url: str) -> Redirect:
    return Redirect(url, status_code=303)
