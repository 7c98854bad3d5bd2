"""Case records and who has read them: an administrator finds a child's case and corrects its record, and the
managers of both teams and auditors see who has viewed a handover.

Every handler parses, calls one action or query, and renders; the rules and messages are in
`service.core.case_records`, the correction in `service.actions.records`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service import actions, db
from service.core import case_records
from service.core.case_records import Correction
from service.core.clock import today
from service.core.dates import join_date
from service.core.errors import Invalid, NotFound
from service.core.pages import Page, page_number
from service.core.search import like_pattern, search_errors
from service.core.validation import in_form_order
from service.core.workflow import facts_for
from service.web.context import audit_view, back_to, database, page, visible_handover
from service.web.guards import admins_only

CASES = "/admin/cases"
# the case record correction form's questions, in its order (templates/admin/case.html)
CORRECTION_FORM_ORDER = ("child_name", "date_of_birth", "reference", "sibling_group")


def _text(form: FormMultiDict, key: str) -> str:
    value = form.get(key, "")
    return value if isinstance(value, str) else ""


def _correction(form: FormMultiDict) -> Correction:
    group = _text(form, "sibling_group")
    version = _text(form, "version")
    return Correction(
        reference=_text(form, "reference"),
        child_name=_text(form, "child_name"),
        date_of_birth=join_date(
            _text(form, "date_of_birth-day"), _text(form, "date_of_birth-month"), _text(form, "date_of_birth-year")
        ),
        sibling_group_id=int(group) if group.isascii() and group.isdigit() and len(group) < 10 else None,
        version=int(version) if version.isascii() and version.isdigit() and len(version) < 10 else 0,
    )


async def _case(request: Request[Any, Any, Any], case_id: int) -> db.Case:
    case = await db.case_by_id(database(request).reader, case_id)
    if case is None:
        raise NotFound(f"case {case_id}")
    return case


class CaseRecordsController(Controller):
    """An administrator's correction of a child's case record."""

    include_in_schema = False
    path = CASES
    guards = [admins_only]  # noqa: RUF012 (Litestar's own attribute)

    @get("", name="admin_cases")
    async def find(self, request: Request[Any, Any, Any]) -> Template:
        """The search for a case by the child's name or reference; with `q`, the cases found."""
        text = request.query_params.get("q", "")
        if "q" not in request.query_params:
            return page(request, "admin/cases.html", text="", errors={}, results=None)
        errors = search_errors(text)
        if errors:
            return page(request, "admin/cases.html", text=text[:200], errors=errors, results=None, status_code=400)
        limit = case_records.CASES_SHOWN_MAX
        found = await db.cases_matching(database(request).reader, like_pattern(text), limit + 1)
        return page(
            request, "admin/cases.html", text=text, errors={}, results=found[:limit], more=len(found) > limit,
        )  # fmt: skip

    @get("/{case_id:int}", name="admin_case")
    async def record(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Template:
        case = await _case(request, case_id)
        flash = "The case record has been corrected" if request.query_params.get("done") == "corrected" else ""
        values = Correction(
            reference=case.reference, child_name=case.child_name, date_of_birth=case.date_of_birth,
            sibling_group_id=case.sibling_group_id, version=case.version,
        )  # fmt: skip
        return await self._form(request, case, values, {}, flash=flash)

    @post("/{case_id:int}")
    async def correct(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Template | Redirect:
        case = await _case(request, case_id)
        correction = _correction(await request.form())
        try:
            await actions.correct_case(
                database(request), case_id=case_id, correction=correction, by=request.user.id, boxes=True
            )
        except Invalid as exc:
            if "record" in exc.errors and exc.errors["record"] == case_records.STALE_CORRECTION:
                case = await _case(request, case_id)  # show the record as it is now, to correct again
                correction = msgspec.structs.replace(
                    correction, version=case.version, reference=case.reference, child_name=case.child_name,
                    date_of_birth=case.date_of_birth, sibling_group_id=case.sibling_group_id,
                )  # fmt: skip
            return await self._form(request, case, correction, exc.errors, status_code=400)
        return back_to(f"{CASES}/{case_id}?done=corrected")

    async def _form(
        self,
        request: Request[Any, Any, Any],
        case: db.Case,
        values: Correction,
        errors: dict[str, str],
        *,
        flash: str = "",
        status_code: int = 200,
    ) -> Template:
        groups = await db.sibling_group_names(database(request).reader)
        errors = in_form_order(errors, CORRECTION_FORM_ORDER)  # the error summary lists them as the form asks them
        return page(
            request, "admin/case.html", case=case, values=values, errors=errors, flash=flash, groups=groups,
            status_code=status_code,
        )  # fmt: skip


class ViewersController(Controller):
    """Who has viewed a handover, read from the audit trail."""

    include_in_schema = False

    @get("/handovers/{handover_id:int}/viewers", name="handover_viewers")
    async def viewers(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Template:
        """For the managers of both teams and auditors; anyone else is told there is no such page (404)."""
        handover, checklist = await visible_handover(request, handover_id)
        if not case_records.may_see_viewers(facts_for(handover, today()), request.user.actor):
            raise NotFound(f"viewers of handover {handover_id}")
        await audit_view(request, handover_id, "viewers")
        reader = database(request).reader
        total = await db.count_viewings(reader, handover_id)
        size = case_records.VIEWERS_PAGE_SIZE
        count = Page(1, size, total).count
        number = min(page_number(request.query_params.get("page")), count)
        entries = await db.viewings(reader, handover_id, size, Page(number, size, total).offset)
        titles = {section.id: section.title for section in checklist.sections}
        rows = [_row(entry, titles) for entry in entries]
        base = f"/handovers/{handover_id}/viewers?" + urlencode({"page": ""})
        return page(
            request, "viewers.html", handover=handover, rows=rows, total=total, page_number=number, pages=count,
            base=base,
        )  # fmt: skip


class ViewerRow(msgspec.Struct, frozen=True, kw_only=True):
    who: str
    role: str
    when: str
    what: str
    step: db.TimelineEvent | None  # a step taken, worded as the timeline words it


def _row(entry: db.Viewing, titles: dict[str, str]) -> ViewerRow:
    details = msgspec.json.decode(entry.details)
    role = case_records.viewer_role(
        known=entry.actor_id is not None, is_service=entry.is_service, is_auditor=entry.is_auditor,
        is_admin=entry.is_admin, sending_manager=entry.sending_manager, receiving_manager=entry.receiving_manager,
        sending_worker=entry.sending_worker, receiving_worker=entry.receiving_worker,
    )  # fmt: skip
    step = None
    what = ""
    if entry.action == "view":
        what = case_records.page_name(str(details.get("page", "")), titles)
    else:
        step = db.TimelineEvent(seq=entry.seq, at=entry.at, actor=entry.actor, action=entry.action, details=details)
    return ViewerRow(
        who=entry.actor or "The command line",
        role=role,
        when=case_records.time_in_england(entry.at),
        what=what,
        step=step,
    )
