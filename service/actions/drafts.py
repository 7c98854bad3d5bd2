"""No lost work when a session times out: a section form that arrives after its session ended is kept, and saved
as a draft as soon as its author signs in again (and only if they may still edit it).

Kept forms are records people care about (what a social worker typed about a child), so keeping and resuming one
are actions, each with its audit entry; a kept form lives for `KEEP_SECONDS` at most.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable

import msgspec

from service import db
from service.actions.handovers import Checklists, load, save_section
from service.checklist import Section
from service.core.answers import SectionAnswers
from service.core.errors import Conflict, Invalid, NotFound, Refused
from service.core.workflow import Action, Actor, refusals

KEEP_SECONDS = 3600  # how long a kept form waits for its author to sign in again
# Kept forms come from browsers that are not signed in, so what one browser or address can leave is bounded: a
# section form of the largest checklist section, fully written, is about 350 KB; a person has a few tabs open at most;
# an office shares one address.
KEPT_FORM_MAX_BYTES = 500_000
KEPT_PER_BROWSER = 3
KEPT_PER_ADDRESS = 20
SECTION_FORM = re.compile(r"^/handovers/(\d{1,9})/sections/([a-z0-9-]{1,100})$")

FormItems = list[tuple[str, str]]


async def keep_pending_draft(
    database: db.Database, path: str, items: FormItems, *, kept_for: str, address: str
) -> str | None:
    """Keep a section form posted to `path` by a browser whose session had ended; returns the token that names it
    (set as a cookie on that browser only), or None when it is not kept: larger than `KEPT_FORM_MAX_BYTES`, or its
    browser (`kept_for`, the mark the service gave it at sign-in) or its address already has as many kept forms as
    it may (`KEPT_PER_BROWSER`, `KEPT_PER_ADDRESS`). Kept forms older than `KEEP_SECONDS` are cleared first."""
    match = SECTION_FORM.match(path)
    form = msgspec.json.encode(items).decode()
    if match is None or len(form.encode()) > KEPT_FORM_MAX_BYTES:
        return None
    token = secrets.token_urlsafe(32)
    now = time.time()
    async with database.transaction() as conn:
        await db.clear_old_pending_drafts(conn, now - KEEP_SECONDS)
        browser, from_address = await db.pending_draft_counts(conn, kept_for, address)
        if browser >= KEPT_PER_BROWSER or from_address >= KEPT_PER_ADDRESS:
            return None
        await db.keep_pending_draft(conn, token, path, form, now, kept_for, address)
        # no person is known yet: the entry says which handover's form was kept, never what it says
        await db.append_audit(conn, None, "keep_pending_draft", "handover", int(match.group(1)), {"path": path})
    return token


async def resume_pending_draft(
    database: db.Database,
    checklists: Checklists,
    actor: Actor,
    token: str,
    parse: Callable[[Section, FormItems], tuple[SectionAnswers, int]],
) -> str | None:
    """Save the form kept under `token` as a draft for the person who has just signed in.

    `parse` turns the kept form into (answers, the section version it was typed on), as the page that posted it
    would, or raises `Invalid` for a form that page would refuse (an answer sent twice). Returns where to show the
    result ("/handovers/<id>/sections/<section>?resumed=saved", "=partly" when an answer could not be kept and the
    rest was saved, "=conflict", "=refused" or "=twice"), or None when there is nothing kept, or this person may not
    edit that handover now (someone else signed in on the same browser: their own work only).
    """
    async with database.transaction() as conn:
        pending = await db.take_pending_draft(conn, token, time.time() - KEEP_SECONDS)
        match = SECTION_FORM.match(pending[0]) if pending else None
        if match is not None:
            await db.append_audit(
                conn, actor.user_id, "take_pending_draft", "handover", int(match.group(1)), {"path": match.group(0)}
            )
    if pending is None or match is None:
        return None
    handover_id, section_id = int(match.group(1)), match.group(2)
    view = await load(database.reader, checklists, handover_id)
    section = view.checklist.section(section_id) if view else None
    if view is None or section is None or refusals(Action.EDIT, view.facts, actor):
        return None  # their own work only, on a handover its author may still change: nothing else is said
    try:
        answers, version = parse(section, msgspec.json.decode(pending[1], type=FormItems))
    except Invalid:  # the page would have refused it (an answer sent twice): nothing is saved
        return f"/handovers/{handover_id}/sections/{section_id}?resumed=twice"
    try:
        _, not_kept = await save_section(
            database, checklists, actor, handover_id, section_id, answers, version, finished=False, keep_what_fits=True
        )
    except (Refused, NotFound):
        return None
    except Conflict:
        return f"/handovers/{handover_id}/sections/{section_id}?resumed=conflict"
    except Invalid:  # answers to questions the section does not have: the form was not one of this section's
        return f"/handovers/{handover_id}/sections/{section_id}?resumed=refused"
    # an answer too long to keep, or with a hidden character, keeps its stored value; the rest is saved
    outcome = "partly" if not_kept else "saved"
    return f"/handovers/{handover_id}/sections/{section_id}?resumed={outcome}"
