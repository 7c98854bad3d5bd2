"""The outgoing worker: their cases, starting a handover, filling it in section by section, and submitting it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service import actions, db
from service.checklist import Checklist, Section
from service.core import currency, validation
from service.core import groups as group_rules
from service.core.answers import SectionAnswers
from service.core.clock import ENGLAND, today
from service.core.due_dates import dues
from service.core.errors import Conflict, Invalid, NotFound, Refused
from service.core.pages import Page, page_number
from service.core.workflow import (
    Action,
    Actor,
    Facts,
    State,
    absent_refusals,
    blockers,
    refusals,
    refusals_before_the_form,
)
from service.web import drafts, forms, start_form
from service.web.context import (
    PageRequest,
    audit_view,
    back_to,
    checklists,
    current_checklist,
    database,
    page,
    viewable,
    visible_handover,
)
from service.web.guards import handover_authors_only
from service.web.layout import arrange, in_page_order
from service.web.session import retrieve_user

RESUMED = {
    "saved": "Your session had ended, so you were asked to sign in again. What you typed has been saved as a draft.",
    "conflict": "Your session had ended, and someone else changed this section in the meantime, so what you typed "
    "could not be saved. Check the saved answers below.",
    "partly": "Your session had ended, so you were asked to sign in again. What you typed has been saved as a draft, "
    "except an answer that was too long or held a hidden control character: check the answers below.",
    "refused": "Your session had ended, and what you typed could not be kept: the form did not match this section. "
    "Check the saved answers below.",
    "twice": "Your session had ended, and what you typed could not be kept: an answer was sent more than once, so "
    "which was meant could not be known. Check the saved answers below and type your changes again.",
}

AUTOSAVE_SIGNED_OUT = (
    "Not saved: you have been signed out. Select ‘Save and come back later’: you will be asked to sign in, "
    "and what you typed will then be saved."
)
AUTOSAVE_CONFLICT = (
    "Not saved automatically: someone else saved this section. Select ‘Save and continue’ to compare the versions."
)

AUTOSAVE_TOO_LONG = "An answer too long to keep was not saved: select ‘Save and continue’ to see which."
AUTOSAVE_TOO_MANY_ROWS = (
    "Some rows were not saved: a list has more than it can hold. Select ‘Save and continue’ to see which."
)
AUTOSAVE_UNKNOWN = "Not saved automatically: this form does not match the section. Reload the page."

# Where "Save and continue" goes after a section is saved, named by the form's `return` field: only this fixed value
# is honoured, so the field can never send a person to an address it names.
RETURN_TO_CHECK = "check"

TASK_STATUS = {
    "completed": ("Completed", ""),
    "in_progress": ("In progress", "govuk-tag--light-blue"),
    "has_errors": ("There is a problem", "govuk-tag--red"),  # GOV.UK task list wording
}


async def _signed_in(request: PageRequest) -> bool:
    """For the routes that check sign-in themselves, so that work posted after a session ended is not lost."""
    user = await retrieve_user(request.session, request)
    if user is not None:
        request.scope["user"] = user
    return user is not None


async def _handover_and_section(request: PageRequest, handover_id: int, section_id: str) -> tuple[db.Handover, Section]:
    handover, checklist = await visible_handover(request, handover_id)
    section = checklist.section(section_id)
    if section is None:
        raise NotFoundException("There is no such section")
    return handover, section


def _worst(statuses: list[str | None]) -> str | None:
    """A family section's status across the children's handovers (the same answers, judged against each child's
    record): a problem for one child is a problem for the family."""
    for status in (None, "has_errors", "in_progress"):
        if status in statuses:
            return status
    return "completed"


def _task(section: Section, saved: str | None, href: str | None) -> dict[str, Any]:
    """One row of a GOV.UK task list (govukTaskList's item): linked only where the person can change it."""
    if saved is None:
        status: dict[str, Any] = {"tag": {"text": "Not started", "classes": "govuk-tag--blue"}}
    elif saved == "completed":
        status = {"text": "Completed"}
    else:
        label, classes = TASK_STATUS[saved]
        status = {"tag": {"text": label, "classes": classes}}
    return {"title": {"text": section.title}, "href": href, "status": status}


def group_progress(group: actions.GroupView, *, editable: bool) -> dict[str, Any]:
    """The group's task list: each family section once, with its status across the children (linked, for the
    person who may change it, to the first child's form: saved there, it is saved for all), then each child's own
    sections with theirs; and how many of all those are completed."""
    first = group.first.handover.id
    statuses: list[str | None] = []
    family = []
    for s in group.family_sections():
        saved = _worst([m.sections[s.id].status if s.id in m.sections else None for m in group.members])
        statuses.append(saved)
        family.append(_task(s, saved, f"/handovers/{first}/sections/{s.id}" if editable else None))
    children = []
    for member in group.members:
        rows = []
        for s in group.child_sections():
            saved = member.sections[s.id].status if s.id in member.sections else None
            statuses.append(saved)
            rows.append(_task(s, saved, f"/handovers/{member.handover.id}/sections/{s.id}" if editable else None))
        children.append((member, rows))
    return {
        "family": family,
        "children": children,
        "done": sum(1 for status in statuses if status == "completed"),
        "total": len(statuses),
    }


def task_list_context(handover: db.Handover, checklist: Checklist, saved: dict[str, str]) -> dict[str, Any]:
    """Each section with its number and saved status (None: not started), and how many are completed."""
    rows = [(number, section, saved.get(section.id)) for number, section in enumerate(checklist.sections, 1)]
    done = sum(1 for status in saved.values() if status == "completed")
    return {"handover": handover, "rows": rows, "done": done, "statuses": TASK_STATUS}


DASHBOARD_PAGE = 25  # rows of each of the worker's lists on one page: a screenful or so
DASHBOARD_LISTS = {"cases": "my-cases", "handovers": "my-handovers"}  # each list's page parameter, and its heading
# The finished handovers' page (closed and cancelled: nobody's next step), off the landing page, which lists what is
# in progress; each list's page parameter and heading as there
FINISHED_PATH = "/finished"
FINISHED_LISTS = {"started": "finished-started", "received": "finished-received"}


def _list_page(path: str, lists: dict[str, str], numbers: dict[str, int], key: str, total: int) -> dict[str, Any]:
    """One of a page's lists (`lists`: each one's page parameter and heading id): which page of it is shown, how many
    pages it has, whether it needs page links (`paged`: more than one page, and this one in range) or is `missing`
    (past the end of a list that has rows), and then the links to this, the previous and the next page, or to the
    first, each keeping the other lists where they were. A list that fits on one page needs no links."""

    def link(number: int) -> str:
        pages = "&".join(f"{k}_page={number if k == key else numbers[k]}" for k in lists)
        return f"{path}?{pages}#{lists[key]}"

    shown = Page(numbers[key], DASHBOARD_PAGE, total)
    missing = total > 0 and shown.number > shown.count
    listed: dict[str, Any] = {
        "total": total, "page": shown.number, "pages": shown.count, "missing": missing,
        "paged": shown.count > 1 and not missing,
    }  # fmt: skip
    if missing:
        listed["first_page"] = link(1)
    elif listed["paged"]:
        listed |= {
            "first": shown.first, "last": min(shown.offset + DASHBOARD_PAGE, total), "here": link(shown.number),
            "previous": link(shown.number - 1) if shown.has_previous else None,
            "next": link(shown.number + 1) if shown.has_next else None,
        }  # fmt: skip
    return listed


def _page_numbers(request: Request[Any, Any, Any], lists: dict[str, str]) -> dict[str, int]:
    """Each list's page asked for in the query string (`<key>_page`): anything but a page number is the first."""
    return {key: page_number(request.query_params.get(f"{key}_page")) for key in lists}


def _offset(number: int) -> int:
    return Page(number, DASHBOARD_PAGE, 0).offset


class OutgoingController(Controller):
    """Pages for the worker who holds the case now and is handing it over."""

    include_in_schema = False

    @get("/", name="dashboard")
    async def dashboard(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        user = request.user
        if not user.can_work:  # managers, auditors and administrators hold no cases: start them where their work is
            if user.is_manager:
                return Redirect("/queue", status_code=303)
            if user.is_auditor:
                return Redirect("/audit/incomplete", status_code=303)
            if user.actor.is_admin:
                return Redirect("/admin/people", status_code=303)
        reader = database(request).reader
        numbers = _page_numbers(request, DASHBOARD_LISTS)
        cases, cases_total = await db.cases_allocated_to(reader, user.id, DASHBOARD_PAGE, _offset(numbers["cases"]))
        handovers, handovers_total = await db.handovers_by_author(
            reader, user.id, limit=DASHBOARD_PAGE, offset=_offset(numbers["handovers"])
        )
        received, _ = await actions.received_by(reader, user.actor)
        return page(
            request,
            "outgoing/dashboard.html",
            waiting=await actions.waiting_for(reader, user.actor),
            cases=cases,
            cases_list=_list_page("/", DASHBOARD_LISTS, numbers, "cases", cases_total),
            handovers=handovers,
            handovers_list=_list_page("/", DASHBOARD_LISTS, numbers, "handovers", handovers_total),
            received=received,
            dues=dues([*handovers, *received], checklists(request).values(), today()),
        )

    @get(FINISHED_PATH, name="finished_handovers", guards=[handover_authors_only])
    async def finished(self, request: Request[Any, Any, Any]) -> Template:
        """The person's finished handovers, off their landing page: the closed and cancelled ones they started, and
        the closed ones they received, most recent activity first, each list a page at a time."""
        user = request.user
        reader = database(request).reader
        numbers = _page_numbers(request, FINISHED_LISTS)
        started, started_total = await db.handovers_by_author(
            reader, user.id, finished=True, limit=DASHBOARD_PAGE, offset=_offset(numbers["started"])
        )
        received, received_total = await actions.received_by(
            reader, user.actor, finished=True, limit=DASHBOARD_PAGE, offset=_offset(numbers["received"])
        )
        return page(
            request,
            "outgoing/finished.html",
            started=started,
            started_list=_list_page(FINISHED_PATH, FINISHED_LISTS, numbers, "started", started_total),
            received=received,
            received_list=_list_page(FINISHED_PATH, FINISHED_LISTS, numbers, "received", received_total),
        )

    @get("/cases/{case_id:int}/handover", name="start_handover")
    async def start_form(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Template:
        """The start form; `?receiving_team=<id>` draws it with that team chosen and only its workers offered (the
        address the page's script asks for the workers of the team chosen)."""
        case = await self._own_case(request, case_id)
        team = request.query_params.get("receiving_team")
        if team is None:
            return await self._start_page(request, case, {}, {})
        errors = await start_form.team_errors(database(request).reader, team)
        return await self._start_page(request, case, {"receiving_team": team}, errors)

    @post("/cases/{case_id:int}/handover")
    async def start(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Template | Redirect:
        case = await self._own_case(request, case_id)
        form = await request.form()
        values = start_form.read(form)
        repeated = start_form.repeats(form, await _receiving(request, case, values, {}, group=False))
        if repeated:
            return await self._start_page(request, case, values, repeated)
        if start_form.choosing_team(form):  # without JavaScript: the team first, then its workers to choose from
            values["receiver"] = ""
            errors = await start_form.team_errors(database(request).reader, values["receiving_team"])
            return await self._start_page(request, case, values, errors)
        try:
            handover_id = await actions.start_handover(
                database(request), request.user.actor, current_checklist(request), case_id=case.id,
                receiving_team_id=start_form.team_id(values), receiver_id=start_form.receiver_id(values),
                transfer_reason=values["transfer_reason"], apart_reason=values[group_rules.APART_FIELD],
            )  # fmt: skip
        except Invalid as exc:
            return await self._start_page(request, case, values, exc.errors)
        return back_to(f"/handovers/{handover_id}")

    # ------------------------------------------------------------ a sibling group's handover

    @get("/cases/{case_id:int}/handover/group", name="start_group_handover")
    async def start_group_form(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Template:
        """The start form for the case's sibling group: every child ticked to start with."""
        case = await self._own_case(request, case_id)
        children = await self._group_of(request, case)
        values = {"children": [str(child[0]) for child in children]}
        team = request.query_params.get("receiving_team")
        errors = await start_form.team_errors(database(request).reader, team, group=True) if team is not None else {}
        return await self._group_start_page(request, case, children, values | {"receiving_team": team or ""}, errors)

    @post("/cases/{case_id:int}/handover/group")
    async def start_group(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Template | Redirect:
        case = await self._own_case(request, case_id)
        children = await self._group_of(request, case)
        form = await request.form()
        values: dict[str, Any] = dict(start_form.read(form))
        values["children"] = [str(v) for v in form.getall("children", [])]
        values |= {f"reason-{child[0]}": str(form.get(f"reason-{child[0]}", "")) for child in children}
        repeated = start_form.repeats(
            form,
            await _receiving(request, case, values, {}, group=True),
            {f"reason-{child_id}": group_rules.left_out_label(name) for child_id, name, *_ in children},
        )
        if repeated:
            return await self._group_start_page(request, case, children, values, repeated)
        if start_form.choosing_team(form):
            values["receiver"] = ""
            errors = await start_form.team_errors(database(request).reader, values["receiving_team"], group=True)
            return await self._group_start_page(request, case, children, values, errors)
        included = [child[0] for child in children if str(child[0]) in values["children"]]
        try:
            group_id = await actions.start_group_handover(
                database(request), request.user.actor, current_checklist(request), case_id=case.id,
                included=included,
                left_out={child[0]: values[f"reason-{child[0]}"] for child in children if child[0] not in included},
                receiving_team_id=start_form.team_id(values), receiver_id=start_form.receiver_id(values),
                transfer_reason=values["transfer_reason"],
            )  # fmt: skip
        except Invalid as exc:
            return await self._group_start_page(request, case, children, values, exc.errors)
        return back_to(f"/groups/{group_id}")

    async def _group_of(self, request: Request[Any, Any, Any], case: db.Case) -> list[tuple[int, str, str, int, int]]:
        if case.sibling_group_id is None:
            raise NotFound(f"sibling group of case {case.id}")
        return await db.cases_in_sibling_group(database(request).reader, case.sibling_group_id)

    async def _group_start_page(
        self,
        request: Request[Any, Any, Any],
        case: db.Case,
        children: list[tuple[int, str, str, int, int]],
        values: dict[str, Any],
        errors: dict[str, str],
    ) -> Template:
        receiving = await _receiving(request, case, values, errors, group=True)
        # the form asks which children (and why any is left out) before the team, worker and reason it shares with a
        # single child's start form: its error summary lists them so
        first = ["children", *(f"reason-{child[0]}" for child in children)]
        errors = {key: errors[key] for key in first if key in errors} | errors
        return page(
            request,
            "outgoing/group_start.html",
            status_code=400 if errors else 200,
            case=case,
            children=children,
            receiving=receiving,
            values=values,
            errors=errors,
            reason_max=group_rules.EXCLUSION_REASON_MAX,
            left_out_label=group_rules.left_out_label,
        )

    @get("/groups/{group_id:int}", name="group_handover")
    async def group_overview(self, request: Request[Any, Any, Any], group_id: FromPath[int]) -> Template:
        """The group's task list: progress for the family's sections and for each child's, the children left out
        and why, and each child's handover."""
        group = await _visible_group(request, group_id)
        editable = not refusals(Action.EDIT, group.first.facts, request.user.actor)
        for member in group.members:
            await audit_view(request, member.handover.id, "group task list")
        return page(
            request,
            "outgoing/group.html",
            group=group,
            editable=editable,
            waits=blockers(group.first.facts),
            dues=dues([member.handover for member in group.members], checklists(request).values(), today()),
            **group_progress(group, editable=editable),
        )

    @get("/groups/{group_id:int}/check", name="group_check_answers")
    async def group_check(self, request: Request[Any, Any, Any], group_id: FromPath[int]) -> Template | Redirect:
        group = await _visible_group(request, group_id)
        if refusals(Action.EDIT, group.first.facts, request.user.actor):
            return back_to(f"/groups/{group_id}")
        for member in group.members:
            await audit_view(request, member.handover.id, "group check answers")
        return await self._group_check_page(request, group, 200)

    async def _group_check_page(
        self,
        request: Request[Any, Any, Any],
        group: actions.GroupView,
        status_code: int,
        *,
        reply: str = "",
        errors: dict[str, str] | None = None,
        reasons: dict[str, str] | None = None,
        refused: list[str] | None = None,
    ) -> Template:
        """The family's answers once, then each child's; what stops the submission under each; the records not up to
        date for each child, each with a box for why; and the submit button (with the reply, for a returned group)."""
        on = today()
        problems = {m.handover.id: list(m.problems) for m in group.members}
        family_ids = {s.id for s in group.family_sections()}
        to_do = group_rules.group_things_to_do([member.problems for member in group.members], family_ids)
        # each refusal about a part of the page (the family's sections, a child's) links to that part's heading;
        # one about the person or the group's state links nowhere
        parts = {group_rules.family_label("family"): "#family"} | {
            m.handover.child_name: f"#child-{m.handover.id}" for m in group.members
        }
        refused_items = [
            {"text": reason}
            | next(({"href": href} for part, href in parts.items() if reason.startswith(f"{part}: ")), {})
            for reason in refused or []
        ]
        stale = [(m, item) for m in group.members for item in currency.stale_items(m.checklist, m.all_answers(), on)]
        return page(
            request,
            "outgoing/group_check.html",
            status_code=status_code,
            group=group,
            problems=problems,
            to_do=to_do.family + sum(to_do.children),
            refused_items=refused_items,
            family_ids=family_ids,
            stale=stale,
            stale_key=actions.stale_key,
            query=await _open_query(request, group.first.handover),
            reply=reply,
            errors=errors or {},
            reasons=reasons or {},
            refused=refused or [],
            reason_max=currency.STALE_REASON_MAX,
        )

    @post("/groups/{group_id:int}/submit")
    async def group_submit(self, request: Request[Any, Any, Any], group_id: FromPath[int]) -> Template | Redirect:
        group = await _visible_group(request, group_id)
        form = await request.form()
        # the page has a box for a reply only to a returned handover's query: one sent otherwise is not the person's
        reply = str(form.get("reply", "")) if group.first.handover.state == State.RETURNED else ""
        on = today()
        reasons = {
            actions.stale_key(m.handover.id, item.key): str(
                form.get(f"stale-{actions.stale_key(m.handover.id, item.key)}", "")
            )
            for m in group.members
            for item in currency.stale_items(m.checklist, m.all_answers(), on)
        }
        try:
            forms.refuse_repeats(form, _submit_fields(group.first.handover.state))
            await actions.act(
                database(request), checklists(request), request.user.actor, group.first.handover.id, Action.SUBMIT,
                forms.form_number(form.get("handover_version", "")) or 0, reply=reply, stale_reasons=reasons,
            )  # fmt: skip
        except (Invalid, Refused) as exc:
            if isinstance(exc, Invalid):
                _refuse_first(Action.SUBMIT, group.first.facts, request.user.actor)
            if refusals(Action.EDIT, group.first.facts, request.user.actor):
                raise  # the refusal alone: the group's check page (every child's answers) is its author's
            if isinstance(exc, Invalid):
                return await self._group_check_page(
                    request, group, 400, reply=reply, errors=exc.errors, reasons=reasons
                )
            return await self._group_check_page(request, group, 409, reply=reply, reasons=reasons, refused=exc.reasons)
        return back_to(f"/handovers/{group.first.handover.id}/done/submit")

    async def _own_case(self, request: Request[Any, Any, Any], case_id: int) -> db.Case:
        case = await db.case_by_id(database(request).reader, case_id)
        if case is None or case.allocated_worker_id != request.user.id:
            raise NotFound(f"case {case_id}")
        absent = absent_refusals(request.user.actor)
        if absent:  # said before a form is filled in, not only when it is sent
            raise Refused(absent)
        return case

    async def _start_page(
        self, request: Request[Any, Any, Any], case: db.Case, values: dict[str, str], errors: dict[str, str]
    ) -> Template:
        """The start form: the receiver is chosen among the workers of the team chosen (none until a team is); for a
        child of a sibling group, with the box for why the siblings are not moving together."""
        receiving = await _receiving(request, case, values, errors, group=False)
        return page(
            request,
            "outgoing/start.html",
            status_code=400 if errors else 200,
            case=case,
            receiving=receiving,
            errors=errors,
        )

    @get("/handovers/{handover_id:int}", name="handover")
    async def overview(self, request: PageRequest, handover_id: FromPath[int]) -> Template | Redirect:
        handover, checklist = await visible_handover(request, handover_id)
        if refusals(Action.EDIT, actions.parties_and_state(handover), request.user.actor):
            return back_to(f"/handovers/{handover_id}/view")
        if handover.group_handover_id is not None:  # a child of a sibling group: the group's task list is theirs
            return back_to(f"/groups/{handover.group_handover_id}")
        section_statuses = await db.section_statuses(database(request).reader, handover_id)
        await audit_view(request, handover_id, "task list")
        return page(
            request,
            "outgoing/task_list.html",
            query=await _open_query(request, handover),
            **task_list_context(handover, checklist, section_statuses),
        )

    @get("/handovers/{handover_id:int}/sections/{section_id:str}", name="section")
    async def section_form(
        self, request: PageRequest, handover_id: FromPath[int], section_id: FromPath[str]
    ) -> Template | Redirect:
        view = await viewable(request, handover_id)
        if refusals(Action.EDIT, view.facts, request.user.actor):
            return back_to(f"/handovers/{handover_id}/view")
        section = view.checklist.section(section_id)
        if section is None:
            raise NotFoundException("There is no such section")
        record = view.sections.get(section_id)
        errors = {}
        if record is not None and record.status == "has_errors":
            errors = actions.section_status(section, record.answers, finished=True, child=view.child)[1]
        await audit_view(request, handover_id, f"section {section_id}")
        answers = view.answers(section_id) if record else forms.from_case_record(section, view.child)
        return self._section_page(
            request,
            view,
            section_id,
            forms.with_minimum_rows(section, answers),
            record.version if record else 0,
            errors,
        )

    @post("/handovers/{handover_id:int}/sections/{section_id:str}", exclude_from_auth=True)
    async def save_section(
        self, request: PageRequest, handover_id: FromPath[int], section_id: FromPath[str]
    ) -> Template | Redirect | Response[Any]:
        # Signed-in is checked here rather than by the middleware so that a form arriving after its session ended
        # can be kept and saved once its author signs in again, instead of being lost.
        if not await _signed_in(request):
            return await drafts.keep(request) or drafts.to_sign_in(request)
        handover, section = await _handover_and_section(request, handover_id, section_id)
        form = await request.form()
        answers = forms.parse_section(section, form)
        base_version = forms.form_number(form.get("version", "")) or 0
        button = str(form.get("button", "continue"))
        returning = form.get("return") == RETURN_TO_CHECK
        repeated = forms.repeated_answers(section, form)
        changed_rows = None if repeated else forms.apply_row_button(section, answers, button)
        if repeated or changed_rows is not None:
            # the form drawn again without saving: only for its author, who may change the answers now (anyone else
            # is told why not, as a save would tell them)
            view = await viewable(request, handover_id)
            _refuse_first(Action.EDIT, view.facts, request.user.actor)
            if changed_rows is None:  # a crafted form: nothing is saved, and the page says which questions
                return self._section_page(
                    request, view, section_id, answers, base_version, repeated, status_code=400, returning=returning
                )
            # Adding or removing a row only redraws the form; nothing is saved until the person saves.
            return self._section_page(request, view, section_id, changed_rows, base_version, {}, returning=returning)
        try:
            _, messages = await actions.save_section(
                database(request),
                checklists(request),
                request.user.actor,
                handover_id,
                section_id,
                answers,
                base_version,
                finished=button != "draft",
                loaded=handover,
                keep_what_fits=True,
            )
        except Conflict:
            return await self._conflict_page(request, handover_id, section_id, answers, returning=returning)
        except Invalid as exc:  # answers to questions the section does not have: nothing is saved
            view = await viewable(request, handover_id)
            return self._section_page(
                request, view, section_id, answers, base_version, exc.errors, status_code=400, returning=returning
            )
        # What could not be kept (an answer too long, rows past the limit) is said on the page, draft or not, with
        # what was typed shown again; everything else was saved.
        shown = messages | forms.rows_not_kept(section, form)
        if shown:
            saved = await actions.load(database(request).reader, checklists(request), handover_id)
            assert saved is not None
            version = saved.sections[section_id].version
            return self._section_page(request, saved, section_id, answers, version, shown, returning=returning)
        group = handover.group_handover_id
        if returning and button != "draft":  # the check answers pattern: back to the answers after a change
            return back_to(f"/groups/{group}/check" if group else f"/handovers/{handover_id}/check")
        return back_to(f"/groups/{group}" if group else f"/handovers/{handover_id}")

    @post("/handovers/{handover_id:int}/sections/{section_id:str}/autosave", exclude_from_auth=True)
    async def autosave(self, request: PageRequest, handover_id: FromPath[int], section_id: FromPath[str]) -> Template:
        """Save a draft of the section while the person types (htmx, debounced); answers with a status line."""
        if not await _signed_in(request):
            return page(request, "outgoing/_autosaved.html", save_problem=AUTOSAVE_SIGNED_OUT)
        handover, section = await _handover_and_section(request, handover_id, section_id)
        form = await request.form()
        answers = forms.parse_section(section, form)
        if forms.repeated_answers(section, form):
            return page(request, "outgoing/_autosaved.html", save_problem=AUTOSAVE_UNKNOWN)
        try:
            version, not_kept = await actions.save_section(
                database(request), checklists(request), request.user.actor, handover_id, section_id,
                answers, forms.form_number(form.get("version", "")) or 0, finished=False,
                loaded=handover, keep_what_fits=True,
            )  # fmt: skip
        except Conflict:
            return page(request, "outgoing/_autosaved.html", save_problem=AUTOSAVE_CONFLICT)
        except Invalid:
            return page(request, "outgoing/_autosaved.html", save_problem=AUTOSAVE_UNKNOWN)
        saved_at = datetime.now(ENGLAND).strftime("%H:%M")
        problem = AUTOSAVE_TOO_LONG if not_kept else ""  # a draft's messages are only what could not be kept
        if forms.rows_not_kept(section, form):
            problem = AUTOSAVE_TOO_MANY_ROWS
        return page(request, "outgoing/_autosaved.html", saved_at=saved_at, version=version, save_problem=problem)

    def _section_page(
        self,
        request: PageRequest,
        view: actions.HandoverView,
        section_id: str,
        answers: SectionAnswers,
        version: int,
        errors: dict[str, str],
        *,
        status_code: int = 200,
        conflict: SectionAnswers | None = None,
        returning: bool = False,
    ) -> Template:
        """The section's form; `returning`: it was opened from "check your answers", and goes back there once saved
        (also when the address says `?return=check`)."""
        section = view.checklist.section(section_id)
        assert section is not None
        template = "outgoing/_section_form.html" if request.htmx else "outgoing/section.html"
        items = arrange(section.fields, section.groups)
        return page(
            request,
            template,
            status_code=status_code,
            view=view,
            section=section,
            layout=items,
            answers=answers,
            version=version,
            errors=in_page_order(items, errors),
            conflict=conflict,
            returning=returning or request.query_params.get("return") == RETURN_TO_CHECK,
            return_value=RETURN_TO_CHECK,
            flash=RESUMED.get(request.query_params.get("resumed", ""), ""),
        )

    async def _conflict_page(
        self, request: PageRequest, handover_id: int, section_id: str, typed: SectionAnswers, *, returning: bool
    ) -> Template:
        """Someone saved in between: show what they saved and keep what this person typed, to choose from."""
        current = await actions.load(database(request).reader, checklists(request), handover_id)
        assert current is not None
        saved = current.sections[section_id]
        return self._section_page(
            request,
            current,
            section_id,
            typed,
            saved.version,
            {},
            status_code=409,
            conflict=saved.answers,
            returning=returning,
        )

    @get("/handovers/{handover_id:int}/check", name="check_answers")
    async def check_answers(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Template | Redirect:
        view = await viewable(request, handover_id)
        if refusals(Action.EDIT, view.facts, request.user.actor):
            return back_to(f"/handovers/{handover_id}/view")
        if view.handover.group_handover_id is not None:  # a sibling group's answers are checked together
            return back_to(f"/groups/{view.handover.group_handover_id}/check")
        await audit_view(request, handover_id, "check answers")
        # What stops the submission is shown under each section from the start (the check answers pattern), not only
        # after "Submit handover" is pressed; the error summary is kept for a refused submission.
        return await self._check_page(request, view, list(view.problems), status_code=200)

    async def _check_page(
        self,
        request: Request[Any, Any, Any],
        view: actions.HandoverView,
        problems: list[Any],
        status_code: int,
        *,
        reply: str = "",
        errors: dict[str, str] | None = None,
        reasons: dict[str, str] | None = None,
    ) -> Template:
        """The answers, any records not up to date (each with a box for why, holding `reasons` as typed), and the
        submit button; for a returned handover, its query and the box for the reply, holding `reply` as typed.
        `errors`: messages about the reply ("reply") and the reasons ("stale-<key>")."""
        by_section: dict[str, list[Any]] = {}
        for problem in problems:
            if problem.input_id:  # a section not started says so in its own place, with a link to start it
                by_section.setdefault(problem.section_id, []).append(problem)
        return page(
            request,
            "outgoing/check.html",
            status_code=status_code,
            view=view,
            problems=problems,
            problems_by_section=by_section,
            refused=status_code == 409,
            query=await _open_query(request, view.handover),
            reply=reply,
            errors=errors or {},
            stale=currency.stale_items(view.checklist, view.all_answers(), today()),
            reasons=reasons or {},
            reason_max=currency.STALE_REASON_MAX,
        )

    @post("/handovers/{handover_id:int}/submit")
    async def submit(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Template | Redirect:
        view = await viewable(request, handover_id)
        form = await request.form()
        # the page has a box for a reply only to a returned handover's query: one sent otherwise is not the person's
        reply = str(form.get("reply", "")) if view.handover.state == State.RETURNED else ""
        reasons = {
            item.key: str(form.get(f"stale-{item.key}", ""))
            for item in currency.stale_items(view.checklist, view.all_answers(), today())
        }
        problems = list(view.problems)
        if problems and not refusals(Action.EDIT, view.facts, request.user.actor):
            # everything that stops the submission is said at once, the reply's message too
            answering = view.facts.state == State.RETURNED
            errors = validation.reply_errors(reply, answering=answering)
            return await self._check_page(request, view, problems, 409, reply=reply, errors=errors, reasons=reasons)
        try:
            forms.refuse_repeats(form, _submit_fields(view.handover.state))
            await actions.act(
                database(request), checklists(request), request.user.actor, handover_id, Action.SUBMIT,
                forms.form_number(form.get("handover_version", "")) or 0, reply=reply, stale_reasons=reasons,
            )  # fmt: skip
        except Invalid as exc:
            _refuse_first(Action.SUBMIT, view.facts, request.user.actor)
            return await self._check_page(request, view, problems, 400, reply=reply, errors=exc.errors, reasons=reasons)
        return back_to(f"/handovers/{handover_id}/done/submit")  # the confirmation page says where it went


def _submit_fields(state: str) -> tuple[str, ...]:
    """The single answers of a submission's form: its version, and the reply to the query of a returned handover,
    the only state whose page has a box for one (a reply sent otherwise is ignored, not judged)."""
    return ("handover_version", "reply") if state == State.RETURNED else ("handover_version",)


def _refuse_first(action: Action, facts: Facts, actor: Actor) -> None:
    """`Refused` when the person may not take the step on the handover as it is: said rather than a form's messages
    (a field sent twice is found before the action is asked), whose page they should not be given."""
    ahead = refusals_before_the_form(action, facts, actor)
    if ahead:
        raise Refused(ahead)


async def _visible_group(request: Request[Any, Any, Any], group_id: int) -> actions.GroupView:
    """The sibling group's handover, if this person may see every child's handover in it (`NotFound` otherwise)."""
    return await actions.visible_group(database(request).reader, checklists(request), request.user.actor, group_id)


async def _receiving(
    request: Request[Any, Any, Any], case: db.Case, values: dict[str, Any], errors: dict[str, str], *, group: bool
) -> dict[str, Any]:
    """The shared start fields of the worker's own start form, for one child or (`group`) the child's sibling group:
    a child of a sibling group handed over alone is asked why the siblings are not moving together."""
    return await start_form.fields(
        database(request).reader,
        values=values,
        errors=errors,
        address=f"/cases/{case.id}/handover" + ("/group" if group else ""),
        not_offered={request.user.id},
        team_label=f"Which team {'are the cases' if group else 'is the case'} moving to?",
        receiver_hint="The children stay together with one worker."
        if group
        else "If nobody is named yet, any worker in the team can take the case on.",
        reason_hint="For example: step-up to the child protection team after the strategy meeting.",
        what="children" if group else "case",
        apart=not group and case.sibling_group_id is not None,
    )


async def _open_query(request: Request[Any, Any, Any], handover: db.Handover) -> db.Query | None:
    """The query a returned handover waits on an answer to; None for a handover that is not returned."""
    if handover.state != State.RETURNED:
        return None
    queries = await db.queries_of(database(request).reader, handover.id)
    return queries[-1] if queries and queries[-1].reply is None else None
