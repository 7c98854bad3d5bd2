"""The letter telling the family, or the child, of their new social worker: the form, and the printable letter.

Who may write one, and what the letter says, are asked of `actions.letters` and `core.letters`, never decided here.
The letter is not stored: posting the form writes it again from the handover and the council's texts, and each time
it is produced the audit trail records it (`actions.letters.produce_letter`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from litestar.response import Template

from service.actions import letters as letter_actions
from service.core import letters as rules
from service.core.clock import today
from service.core.dates import join_date
from service.core.errors import Invalid
from service.web.context import audit_view, checklists, database, page, settings
from service.web.forms import sent_more_than_once

DATE_BOXES = ("day", "month", "year")


def _text(form: FormMultiDict, key: str) -> str:
    value = form.get(key, "")
    return value if isinstance(value, str) else ""


def letter_form(form: FormMultiDict) -> rules.LetterForm:
    """The letter form as posted, the date's three boxes joined as a section's date is (`core.dates.join_date`)."""
    boxes = [_text(form, f"{rules.RESPONSIBLE_FROM_FIELD}-{box}") for box in DATE_BOXES]
    return rules.LetterForm(
        letter=_text(form, rules.LETTER_FIELD),
        addressee=_text(form, rules.ADDRESSEE_FIELD),
        responsible_from=join_date(*boxes),
        contact=_text(form, rules.CONTACT_FIELD),
    )


async def _form_page(
    request: Request[Any, Any, Any], handover_id: int, *, form: rules.LetterForm | None, errors: dict[str, str],
    status_code: int = 200,
) -> Template:  # fmt: skip
    letter_page = await letter_actions.letter_page(
        database(request).reader, checklists(request), request.user.actor, handover_id, settings(request).council_name
    )
    return page(
        request,
        "letters/form.html",
        status_code=status_code,
        letter_page=letter_page,
        view=letter_page.view,
        form=form or rules.LetterForm(contact=letter_page.contact),
        errors=errors,
        recipients=rules.RECIPIENTS,
        labels=rules.FIELD_LABELS,
        child_first_name=rules.first_name(letter_page.view.handover.child_name),
        letter_rules=rules,
        example_date=_example_date(),
    )


def _example_date() -> str:
    """A date two weeks from today, as the date boxes take it: "15 12 2026"."""
    day = today() + timedelta(days=14)
    return f"{day.day} {day.month} {day.year}"


class LettersController(Controller):
    """The letter form and the printable letter (the "Who has been told" page links here)."""

    include_in_schema = False

    @get("/handovers/{handover_id:int}/letters", name="letters")
    async def form(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Template:
        response = await _form_page(request, handover_id, form=None, errors={})
        await audit_view(request, handover_id, "letters")
        return response

    @post("/handovers/{handover_id:int}/letters")
    async def write(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Template:
        """The printable letter, for a form that holds what it needs; the form again with its errors by the field
        (and what was typed kept) otherwise."""
        posted = await request.form()
        form = letter_form(posted)
        repeated = sent_more_than_once(posted, rules.SINGLE_ANSWERS)
        if repeated:
            return await _form_page(request, handover_id, form=form, errors=repeated, status_code=400)
        try:
            letter_page, letter = await letter_actions.produce_letter(
                database(request), checklists(request), request.user.actor, handover_id, form, output="page",
                council=settings(request).council_name,
            )  # fmt: skip
        except Invalid as exc:
            return await _form_page(request, handover_id, form=form, errors=exc.errors, status_code=400)
        return page(request, "letters/letter.html", view=letter_page.view, letter=letter, form=form)
