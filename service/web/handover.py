"""Reading a handover, and what the managers and the receiving worker do with it.

Every button here posts the handover's version, so a stale or replayed form is refused (409) instead of acting on
a handover that has moved on. Whether the person may act is asked of the state machine, never decided here.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service import actions, db
from service.actions.urgent import urgent_panel
from service.checklist import Checklist, Option
from service.core import disagreements as disagreement_rules
from service.core import groups as group_rules
from service.core.answers import join_date
from service.core.clock import date_in_england, today
from service.core.due_dates import dues
from service.core.errors import Invalid, Refused
from service.core.next_steps import PANEL_TITLES, explains_absence, latest_step_is, what_happens_next
from service.core.pages import Page, page_number
from service.core.workdays import working_days_between
from service.core.workflow import (
    ACTION_NAMES,
    MANAGER_STEPS,
    NEEDS_REASON,
    URGENT_LABEL,
    WITH_RECEIVER,
    Action,
    Actor,
    Facts,
    State,
    blockers,
    confirm_item_refusal,
    is_owner,
    is_receiver,
    is_receiving_manager,
    is_sending_manager,
    person_refusals,
    refusals,
    refusals_before_the_form,
)
from service.db.steps import latest_step
from service.web import forms
from service.web.context import audit_view, back_to, checklists, database, page, viewable
from service.web.forms import form_number, refuse_repeats
from service.web.guards import managers_only, workers_only

DATE_PARTS = ("day", "month", "year")

# The buttons on the handover's page (submitting is the outgoing worker's, from their check-answers page).
WORKFLOW_BUTTONS = {name: action for name, action in ACTION_NAMES.items() if action != Action.SUBMIT}


def _ages(handovers: list[db.Waiting]) -> list[tuple[db.Waiting, int]]:
    """Each handover with the working days it has waited in its state."""
    now = today()
    return [(h, working_days_between(date_in_england(h.state_since), now)) for h in handovers]


def _queue_rows(handovers: list[db.Waiting], actor: Actor, *, named: bool = False) -> list[tuple[db.Waiting, int, str]]:
    """Each handover in a manager's queue with its age in working days and, where this manager may not take the step
    it waits for (they wrote it, endorsed it, or are to receive it), why: the handover's page says who can."""
    rows = []
    for handover, age in _ages(handovers):
        step = next((action for action, state in MANAGER_STEPS.values() if state == handover.state), None)
        facts = Facts(
            state=State(handover.state), author_id=handover.author_id, sending_team_id=handover.sending_team_id,
            receiving_team_id=handover.receiving_team_id, receiver_id=handover.receiver_id,
            endorsed_by=handover.endorsed_by, acknowledged_by=handover.acknowledged_by,
            # in the list of steps this manager was named for, named for the step the handover waits for
            named_endorser=actor.user_id if named and step == Action.ENDORSE else None,
            named_approver=actor.user_id if named and step == Action.APPROVE else None,
        )  # fmt: skip
        reasons = person_refusals(step, facts, actor) if step is not None else []
        rows.append((handover, age, reasons[0] if reasons else ""))
    return rows


def _back_link(handover_view: actions.HandoverView, actor: Actor) -> tuple[str, str]:
    """Back to the list this person most likely came from."""
    facts = handover_view.facts
    if is_owner(facts, actor):
        return "/", "Back to my handovers"
    if is_sending_manager(facts, actor) or is_receiving_manager(facts, actor):
        return "/queue", "Back to the manager queue"
    if is_receiver(facts, actor):
        return "/inbox", "Back to your inbox"
    return "/audit/incomplete", "Back to incomplete handovers"


# What the person's own work is called, where a confirmation page sends them back to it.
WORK_LINKS = {
    "/": "Go to your cases and handovers",
    "/queue": "Go to the manager queue",
    "/inbox": "Go to your inbox",
    "/audit/incomplete": "Go to incomplete handovers",
}


def _work_link(handover_view: actions.HandoverView, actor: Actor) -> tuple[str, str]:
    """The list of this person's own work a confirmation page links back to."""
    href, _ = _back_link(handover_view, actor)
    return href, WORK_LINKS[href]


# The steps whose buttons the handover's page may hold, and the action whose refusals say why one is not there
# (the review button is the receiving worker's way to acknowledging: it is there when they may confirm items).
STEP_BUTTONS: dict[str, tuple[Action, Action]] = {
    "endorse": (Action.ENDORSE, Action.ENDORSE),
    "review": (Action.ACKNOWLEDGE, Action.CONFIRM),
    "approve": (Action.APPROVE, Action.APPROVE),
    "return": (Action.RETURN_TO_OUTGOING, Action.RETURN_TO_OUTGOING),
    "return-to-receiver": (Action.RETURN_TO_RECEIVER, Action.RETURN_TO_RECEIVER),
}


def _why_absent(facts: Facts, actor: Actor, allowed: dict[str, bool]) -> dict[str, list[str]]:
    """For each step's button that is not on the page although the handover waits for that step and this person
    holds its role: the state machine's reasons, said where the button would be."""
    absent = {}
    for name, (step, asked) in STEP_BUTTONS.items():
        if not allowed[name] and explains_absence(step, facts, actor):
            absent[name] = refusals(asked, facts, actor, "-")
    return absent


def _linked_reasons(handover_view: actions.HandoverView, reasons: list[str]) -> list[tuple[str, str]]:
    """Each refusal with the place on the review page that deals with it ("" where none does). An item still to
    confirm is linked by its section's id, taken in the state machine's order, so two items of one title each
    link to their own place."""
    facts = handover_view.facts
    items = iter(zip(facts.unconfirmed_items, facts.unconfirmed_ids, strict=True))
    pending = next(items, None)
    linked = []
    for reason in reasons:
        if pending is not None and reason == confirm_item_refusal(pending[0]):
            linked.append((reason, f"/handovers/{handover_view.handover.id}/review#item-{pending[1]}"))
            pending = next(items, None)
        else:
            linked.append((reason, ""))
    return linked


class QueryToReceiver(msgspec.Struct, frozen=True, kw_only=True):
    """The receiving team's manager's query, when they returned the handover to the receiving worker."""

    text: str
    by: str
    at: str


async def _query_to_receiver(reader: db.Conn, handover_view: actions.HandoverView) -> QueryToReceiver | None:
    """The query a manager returned the handover to the receiving worker with, while it waits for them again (a
    return to the outgoing worker moves it out of that state, and resubmitting clears the query)."""
    handover = handover_view.handover
    if handover_view.facts.state != State.ENDORSED or not handover.returned_reason or handover.returned_at is None:
        return None
    user = await db.user_by_id(reader, handover.returned_by) if handover.returned_by is not None else None
    return QueryToReceiver(
        text=handover.returned_reason, by=user.name if user else "a manager", at=handover.returned_at
    )


SECTION_STATUS = {"completed": "Completed", "in_progress": "In progress", "has_errors": "Has errors"}


class ContentsEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A line of the handover page's contents list: where it links, what it is called, and its status."""

    anchor: str
    title: str
    status: str = ""


def _contents(handover_view: actions.HandoverView) -> list[ContentsEntry]:
    """Each section of the handover with its status: saved, and for a critical item, confirmed by the receiver."""
    critical = {section.id for section in handover_view.critical_sections()}
    reached_receiver = handover_view.facts.state in WITH_RECEIVER
    entries = []
    for section in handover_view.checklist.sections:
        record = handover_view.sections.get(section.id)
        status = SECTION_STATUS.get(record.status, "Saved") if record else "Not started"
        if section.id in critical and (reached_receiver or section.id in handover_view.confirmations):
            confirmed = section.id in handover_view.confirmations
            status += ", critical item confirmed" if confirmed else ", critical item not yet confirmed"
        entries.append(ContentsEntry(anchor=f"section-{section.id}", title=section.title, status=status))
    return entries


async def _confirmers(reader: db.Conn, handover_view: actions.HandoverView) -> dict[int, str]:
    """The names of those who confirmed the handover's critical items, by id."""
    names = {}
    for user_id in {confirmation.user_id for confirmation in handover_view.confirmations.values()}:
        user = await db.user_by_id(reader, user_id)
        names[user_id] = user.name if user else "the receiving worker"
    return names


def _titled(checklist: Checklist, events: list[db.TimelineEvent]) -> list[db.TimelineEvent]:
    """The history with each section named by its title in the checklist, not its id."""
    titles = {section.id: section.title for section in checklist.sections}
    return [
        msgspec.structs.replace(event, details={**event.details, "section": f"‘{titles[event.details['section']]}’"})
        if event.details.get("section") in titles
        else event
        for event in events
    ]


QUEUE_PAGE = 25  # longest waiting first; a manager with more than this works through them a page at a time
QUEUE_LISTS = {"endorse": ("submitted", "sending_team_id"), "approve": ("acknowledged", "receiving_team_id")}


def _queue_link(report_filter: dict[str, int], key: str, number: int) -> str:
    """The queue with one list on another page and the other list where it was."""
    pages = "&".join(f"{k}_page={number if k == key else report_filter[k]}" for k in QUEUE_LISTS)
    return f"/queue?{pages}#to-{key}"


class DisagreementShown(msgspec.Struct, frozen=True, kw_only=True):
    """A disagreement as the handover's page shows it: the stage's label, whether it is overdue at that stage, and
    the stages it could still be escalated to."""

    record: db.Disagreement
    stage: str
    overdue: disagreement_rules.Overdue | None
    stages_above: list[Option]


def _shown(checklist: Checklist, records: list[db.Disagreement]) -> list[DisagreementShown]:
    on = today()
    return [
        DisagreementShown(
            record=d,
            stage=disagreement_rules.stage_label(checklist, d.stage),
            overdue=None
            if d.status == "resolved"
            else disagreement_rules.overdue_at(checklist, d.stage, d.stage_since, on),
            stages_above=disagreement_rules.stages_above(checklist, d.stage),
        )
        for d in records
    ]


class HandoverController(Controller):
    """The read-only handover, the receiver's confirmations, and every sign-off."""

    include_in_schema = False

    @get("/handovers/{handover_id:int}/view", name="view_handover")
    async def view(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Template:
        handover_view = await viewable(request, handover_id)
        await audit_view(request, handover_id, "handover")
        return await self._view_page(request, handover_view, errors={}, values={})

    async def _view_page(
        self,
        request: Request[Any, Any, Any],
        handover_view: actions.HandoverView,
        *,
        errors: dict[str, str],
        values: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        reader = database(request).reader
        actor = request.user.actor
        facts = handover_view.facts
        # a sibling group's children move together: a step's button is there only when it can be taken for them all
        members = await actions.group_of(reader, checklists(request), handover_view)
        named = [(member.handover.child_name, member.facts) for member in members]
        allowed = {
            name: not group_rules.group_refusals(action, named, actor, "-") for name, action in WORKFLOW_BUTTONS.items()
        }
        allowed["review"] = not refusals(Action.CONFIRM, facts, actor)
        allowed["raise_disagreement"] = not refusals(Action.RAISE_DISAGREEMENT, facts, actor)
        allowed["decide_disagreement"] = not refusals(Action.RESOLVE_DISAGREEMENT, facts, actor)
        checklist = handover_view.checklist
        handover_id = handover_view.handover.id
        return page(
            request,
            "handover/view.html",
            status_code=status_code,
            view=handover_view,
            allowed=allowed,
            absent=_why_absent(facts, actor, allowed),
            blockers=blockers(facts),
            step_help=await actions.step_help(reader, handover_view, actor),
            timeline=_titled(checklist, await db.timeline(reader, handover_id)),
            queries=await db.queries_of(reader, handover_id),
            disagreements=_shown(checklist, await db.disagreements_of(reader, handover_id)),
            contents=_contents(handover_view),
            confirmed_by=await _confirmers(reader, handover_view),
            errors=errors,
            values=values,
            back=_back_link(handover_view, actor),
            left_out=await actions.group_left_out(reader, handover_view.handover),
            urgent=await urgent_panel(reader, checklists(request), actor, handover_view),
            urgent_label=URGENT_LABEL,
        )

    @get("/handovers/{handover_id:int}/done/{button:str}", name="step_done")
    async def done(
        self, request: Request[Any, Any, Any], handover_id: FromPath[int], button: FromPath[str]
    ) -> Template | Redirect:
        """The confirmation page after a step: shown only when the handover's latest step is that one, taken by this
        person; otherwise the handover's own page (a bookmarked or altered address claims nothing)."""
        action = ACTION_NAMES.get(button)
        if action is None or action not in PANEL_TITLES:
            raise NotFoundException("There is no such step")
        handover_view = await viewable(request, handover_id)
        reader = database(request).reader
        actor = request.user.actor
        step = await latest_step(reader, handover_id)
        if step is None or not latest_step_is(action, step.action, step.actor_id, actor):
            return back_to(f"/handovers/{handover_id}/view")
        help_ = await actions.step_help(reader, handover_view, actor)
        managers = [*help_.others, *([actor.name] if help_.you_can else [])] if help_ else []
        has_managers = help_.team_has_managers if help_ else True
        return page(
            request,
            "handover/confirmation.html",
            view=handover_view,
            title=PANEL_TITLES[action],
            next_steps=what_happens_next(handover_view.facts, managers, after=action, team_has_managers=has_managers),
            work=_work_link(handover_view, actor),
        )

    @post("/handovers/{handover_id:int}/{button:str}")
    async def workflow(
        self, request: Request[Any, Any, Any], handover_id: FromPath[int], button: FromPath[str]
    ) -> Template | Redirect:
        action = WORKFLOW_BUTTONS.get(button)
        if action is None:
            raise NotFoundException("There is no such action")
        handover_view = await viewable(request, handover_id)
        form = await request.form()
        # only a return or a cancellation asks for a reason on the page; any other step's form has no such box, so
        # a "reason" sent with one is not the person's and is not kept (nor refused, about a box they cannot see)
        reason = str(form.get("reason", "")) if action in NEEDS_REASON else ""
        single = ("handover_version", "reason") if action in NEEDS_REASON else ("handover_version",)
        try:
            try:
                refuse_repeats(form, single)
            except Invalid:
                # found before the action is asked: someone who may not take the step now is told that, not about
                # a box their page does not have
                ahead = refusals_before_the_form(action, handover_view.facts, request.user.actor)
                if ahead:
                    raise Refused(ahead) from None
                raise
            await actions.act(
                database(request), checklists(request), request.user.actor, handover_id, action,
                form_number(form.get("handover_version", "")) or 0, reason,
            )  # fmt: skip
        except Invalid as exc:
            errors = {f"{key}-{button}": message for key, message in exc.errors.items()}
            return await self._view_page(
                request, handover_view, errors=errors, values={button: reason}, status_code=400
            )
        except Refused as exc:
            if person_refusals(action, handover_view.facts, request.user.actor):
                # their role never takes this step: say so, not that it cannot be done yet
                return page(
                    request, "handover/not_your_step.html", status_code=409, view=handover_view, reasons=exc.reasons
                )
            if action != Action.ACKNOWLEDGE:
                raise
            # the receiver is sent back to the items still to confirm, each linked to its place on the review page
            return page(
                request,
                "receiving/cannot_acknowledge.html",
                status_code=409,
                view=handover_view,
                reasons=_linked_reasons(handover_view, exc.reasons),
            )
        return back_to(f"/handovers/{handover_id}/done/{button}")

    # ------------------------------------------------------------ the receiving worker

    @get("/handovers/{handover_id:int}/review", name="review")
    async def review(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Template | Redirect:
        handover_view = await viewable(request, handover_id)
        if refusals(Action.CONFIRM, handover_view.facts, request.user.actor):
            return back_to(f"/handovers/{handover_id}/view")
        await audit_view(request, handover_id, "review")
        return await self._review_page(request, handover_view, {}, {})

    async def _review_page(
        self,
        request: Request[Any, Any, Any],
        handover_view: actions.HandoverView,
        errors: dict[str, str],
        typed: dict[str, str],
        status_code: int = 200,
        ticked: dict[str, bool] | None = None,
    ) -> Template:
        """The receiver's review; `typed` and `ticked`: a refused confirmation's read-back and "understood" tick box
        as they were sent, by section, shown again rather than what is stored."""
        query = await _query_to_receiver(database(request).reader, handover_view)
        return page(
            request,
            "receiving/review.html",
            status_code=status_code,
            view=handover_view,
            errors=errors,
            typed=typed,
            ticked=ticked or {},
            unconfirmed=handover_view.facts.unconfirmed_ids,
            query=query,
        )

    @post("/handovers/{handover_id:int}/confirm/{section_id:str}")
    async def confirm(
        self, request: Request[Any, Any, Any], handover_id: FromPath[int], section_id: FromPath[str]
    ) -> Template | Redirect:
        handover_view = await viewable(request, handover_id)
        form = await request.form()
        readback = str(form.get("readback", ""))
        understood = form.get("understood") == "yes"
        try:
            repeated = forms.confirmation_repeats(form, section_id)
            if repeated:  # which was meant cannot be known; told first if they may not confirm at all
                if section_id not in {section.id for section in handover_view.critical_sections()}:
                    raise NotFoundException("There is no such critical item")
                ahead = refusals_before_the_form(Action.CONFIRM, handover_view.facts, request.user.actor)
                if ahead:
                    raise Refused(ahead)
                raise Invalid(repeated)
            await actions.confirm_item(
                database(request), checklists(request), request.user.actor, handover_id, section_id,
                form_number(form.get("handover_version", "")) or 0, understood=understood, readback=readback,
            )  # fmt: skip
        except Invalid as exc:
            return await self._review_page(
                request, handover_view, exc.errors, {section_id: readback}, status_code=400,
                ticked={section_id: understood},
            )  # fmt: skip
        return back_to(f"/handovers/{handover_id}/review#item-{section_id}")

    @get("/inbox", name="inbox", guards=[workers_only])
    async def inbox(self, request: Request[Any, Any, Any]) -> Template:
        actor = request.user.actor
        handovers = await db.handovers_waiting_for_receiver(
            database(request).reader, actor.user_id, sorted(actor.worker_teams)
        )
        due_dates = dues(handovers, checklists(request).values(), today())
        return page(request, "receiving/inbox.html", rows=_ages(handovers), dues=due_dates)

    # ------------------------------------------------------------ team managers

    @get("/queue", name="queue", guards=[managers_only])
    async def queue(self, request: Request[Any, Any, Any]) -> Template:
        teams = sorted(request.user.actor.manager_teams)
        numbers = {key: page_number(request.query_params.get(f"{key}_page")) for key in QUEUE_LISTS}
        lists, totals = {}, {}
        listed: list[db.Waiting] = []
        for key, (state, team_column) in QUEUE_LISTS.items():
            asked = Page(numbers[key], QUEUE_PAGE, 0)
            handovers, total = await db.handovers_for_managers(
                database(request).reader, state, team_column, teams, asked.size, asked.offset
            )
            shown = Page(asked.number, QUEUE_PAGE, total)
            listed += handovers
            totals[key] = total
            lists[key] = {
                "id": f"to-{key}", "rows": _queue_rows(handovers, request.user.actor), "total": total,
                "page": shown.number,
                "pages": shown.count, "first": shown.first,
                "here": _queue_link(numbers, key, shown.number),
                "previous": _queue_link(numbers, key, shown.number - 1) if shown.has_previous else None,
                "next": _queue_link(numbers, key, shown.number + 1) if shown.has_next else None,
            }  # fmt: skip
        # what waits for this manager is what the two lists hold, counted already
        waiting = db.WaitingCounts(to_endorse=totals["endorse"], to_approve=totals["approve"])
        named_for = await db.named_for(database(request).reader, request.user.id)
        named = _queue_rows(named_for, request.user.actor, named=True)
        return page(
            request, "managers/queue.html", waiting=waiting, to_endorse=lists["endorse"], to_approve=lists["approve"],
            named=named, dues=dues([*listed, *named_for], checklists(request).values(), today()),
        )  # fmt: skip

    # ------------------------------------------------------------ professional disagreements

    @post("/handovers/{handover_id:int}/disagreements")
    async def raise_disagreement(
        self, request: Request[Any, Any, Any], handover_id: FromPath[int]
    ) -> Template | Redirect:
        handover_view = await viewable(request, handover_id)
        form = await request.form()
        values = {key: str(form.get(key, "")) for key in ("about", "with_whom", "view")}
        try:
            refuse_repeats(form, ("about", "with_whom", "view"))
            await actions.raise_disagreement(
                database(request), checklists(request), request.user.actor, handover_id,
                about=values["about"], with_whom=values["with_whom"], view_text=values["view"],
            )  # fmt: skip
        except Invalid as exc:
            errors = {f"disagreement-{key}": message for key, message in exc.errors.items()}
            return await self._view_page(request, handover_view, errors=errors, values=values, status_code=400)
        return back_to(f"/handovers/{handover_id}/view#disagreements")

    @post("/handovers/{handover_id:int}/disagreements/{disagreement_id:int}")
    async def decide_disagreement(
        self, request: Request[Any, Any, Any], handover_id: FromPath[int], disagreement_id: FromPath[int]
    ) -> Template | Redirect:
        handover_view = await viewable(request, handover_id)
        form = await request.form()
        values: dict[str, Any] = {key: str(form.get(key, "")) for key in ("decision", "outcome", "stage")}
        stage_date = join_date(*(str(form.get(f"stage_date-{part}", "")) for part in DATE_PARTS))
        values |= {"stage_date": stage_date, "decision_for": disagreement_id}
        try:
            refuse_repeats(form, ("decision", "outcome", "stage", *(f"stage_date-{part}" for part in DATE_PARTS)))
            await actions.decide_disagreement(
                database(request), checklists(request), request.user.actor, handover_id, disagreement_id,
                decision=values["decision"], outcome=values["outcome"], stage=values["stage"], stage_date=stage_date,
            )  # fmt: skip
        except Invalid as exc:
            errors = {f"decide-{disagreement_id}-{key}": message for key, message in exc.errors.items()}
            return await self._view_page(request, handover_view, errors=errors, values=values, status_code=400)
        return back_to(f"/handovers/{handover_id}/view#disagreements")
