"""The letter telling the family, or the child, of their new social worker: reading what its form needs, and producing
it, which is audited (who wrote which letter to whom, naming which date, as a page or a PDF). The rules and messages
are `core.letters`; the texts are the council's (`service.letters`).
"""

from __future__ import annotations

import msgspec

from service import db
from service.actions.handovers import Checklists, HandoverView, visible
from service.core import letters as rules
from service.core.audit import StoredEntry
from service.core.clock import today
from service.core.dates import parse_date
from service.core.errors import Invalid, Refused
from service.core.workflow import Actor
from service.db import telling as telling_store
from service.db.audit import append_audit_stored
from service.letters import Letters


class LetterPage(msgspec.Struct, frozen=True, kw_only=True):
    """What the letter form needs: the handover, the council's letters, what the letter says from the handover, and
    how to reach the new worker as the form starts it (`core.letters.default_contact`)."""

    view: HandoverView
    letters: Letters
    facts: rules.LetterFacts
    contact: str


async def letter_page(
    conn: db.Conn, checklists: Checklists, actor: Actor, handover_id: int, council: str
) -> LetterPage:
    """The letter form for this handover, for someone who may write it (`core.letters.refusals`; `Refused` with them
    otherwise); `NotFound` for a handover they may not see. `council`: the service's council name, used when the
    letters file gives none. The joint visit is one on or after today in England."""
    view = await visible(conn, checklists, actor, handover_id)
    letters = view.checklist.letters
    reasons = rules.refusals(view.facts, actor, required=view.checklist.telling is not None and letters is not None)
    if reasons:
        raise Refused(reasons)
    assert letters is not None, "refused above"
    handover = view.handover
    assert handover.receiver_id is not None and handover.receiver is not None, "refused above"
    facts = rules.LetterFacts(
        child_name=handover.child_name,
        date_of_birth=parse_date(handover.date_of_birth),
        new_worker=handover.receiver,
        new_team=handover.receiving_team,
        outgoing_worker=handover.author,
        council=council,
        joint_visit_on=rules.joint_visit_on(letters, view.all_answers(), today()),
    )
    email = await telling_store.work_email(conn, handover.receiver_id)
    return LetterPage(
        view=view, letters=letters, facts=facts, contact=rules.default_contact(handover.receiving_team, email)
    )


class ProducedLetter(msgspec.Struct, frozen=True, kw_only=True):
    """A letter written: the form's page it was written from, the letter, and the audit entry recording it (a PDF
    that could not then be made is marked so against this entry, `actions.documents.document_not_made`)."""

    page: LetterPage
    letter: rules.Letter
    entry: StoredEntry


async def produce_letter(
    database: db.Database, checklists: Checklists, actor: Actor, handover_id: int, form: rules.LetterForm, *,
    output: str, council: str,
) -> ProducedLetter:  # fmt: skip
    """Write the letter the form asks for, dated today in England, as a printable page or a PDF (`output`, one of
    `core.letters.FORMATS`), and record it in the audit trail (`produce_letter`): which letter and letters version,
    to whom, the date the new worker is responsible from, and the format; a PDF is recorded before it is made, as
    every copy taken out of the service is (`actions.documents`). `Invalid` keyed by the form's fields
    (`core.letters.form_errors`); `Refused` and `NotFound` as `letter_page`."""
    assert output in rules.FORMATS, output
    async with database.transaction() as conn:
        page = await letter_page(conn, checklists, actor, handover_id, council)
        on = today()
        errors = rules.form_errors(form, page.letters, on)
        if errors:
            raise Invalid(errors)
        letter = rules.fill(page.letters, form, page.facts, on)
        details = {
            "letter": letter.kind,
            "letters_version": page.letters.version,
            "addressee": letter.addressee,
            "responsible_from": letter.responsible_from.isoformat(),
            "format": output,
        }
        entry = await append_audit_stored(conn, actor.user_id, "produce_letter", "handover", handover_id, details)
        return ProducedLetter(page=page, letter=letter, entry=entry)
