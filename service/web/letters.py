"""The letter telling the family, or the child, of their new social worker: the form, the printable letter, and the
letter as a PDF.

Who may write one, and what the letter says, are asked of `actions.letters` and `core.letters`, never decided here.
The letter is not stored: posting the form writes it again from the handover and the council's texts, and each time
it is produced the audit trail records it (`actions.letters.produce_letter`). The PDF is the same letter
(`letters/_letter.html`), converted in the document worker (`service.documents`); a conversion that fails answers 503
and is marked in the trail as not given.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from litestar.response import Template

from service import documents
from service.actions import letters as letter_actions
from service.actions.documents import document_not_made
from service.core import letters as rules
from service.core.clock import today
from service.core.dates import join_date
from service.core.errors import Invalid
from service.web.context import audit_view, checklists, database, log, page, settings
from service.web.forms import sent_more_than_once

DATE_BOXES = ("day", "month", "year")
PDF = "application/pdf"
# Stylesheets the PDF is laid out with (paths under service/static), as the handover's own PDF copy is
PDF_STYLESHEETS = ("govuk/govuk-frontend-6.6.0.min.css", "app.css")


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
        answer = await _produce(request, handover_id, "page")
        if isinstance(answer, Template):
            return answer
        produced, form = answer
        return page(request, "letters/letter.html", view=produced.page.view, letter=produced.letter, form=form)

    @post("/handovers/{handover_id:int}/letters/pdf")
    async def download(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Response[Any]:
        """The letter as a PDF to download (`letter-<which letter>-<the child's reference>.pdf`), from the same form,
        checked again; the form with its errors otherwise, and a 503 page when the document could not be made."""
        answer = await _produce(request, handover_id, "pdf")
        if isinstance(answer, Template):
            return answer
        produced = answer[0]
        view, letter = produced.page.view, produced.letter
        engine = request.app.template_engine
        try:
            if engine is None:  # never: the app is made with its templates (service.app.create_app)
                raise documents.DocumentUnavailable("the app has no template engine")
            html = engine.get_template("letters/letter_document.html").render(view=view, letter=letter)
            pdf = await documents.render_pdf(html, title=letter.title, language="en-GB", stylesheets=PDF_STYLESHEETS)
        except documents.DocumentUnavailable as exc:
            log.error("no PDF of a letter for handover %s: %s", handover_id, exc)
            await document_not_made(database(request), request.user.actor, handover_id, produced.entry.entry.seq,
                                    str(exc))  # fmt: skip
            return page(
                request, "handover/document_unavailable.html", status_code=503, handover_id=handover_id,
                message=documents.UNAVAILABLE,
            )  # fmt: skip
        # the family's and the child's letters are two files: each named by which it is
        filename = f"letter-{_file_safe(produced.letter.kind)}-{_file_safe(view.handover.case_reference)}.pdf"
        disposition = f'attachment; filename="{filename}"'
        return Response(pdf, status_code=200, media_type=PDF, headers={"Content-Disposition": disposition})


async def _produce(
    request: Request[Any, Any, Any], handover_id: int, output: str
) -> tuple[letter_actions.ProducedLetter, rules.LetterForm] | Template:
    """The letter the posted form asks for, produced (and audited) as `output`, with the form as posted; or the form
    again with its errors by the field, what was typed kept (400)."""
    posted = await request.form()
    form = letter_form(posted)
    repeated = sent_more_than_once(posted, rules.SINGLE_ANSWERS)
    if repeated:
        return await _form_page(request, handover_id, form=form, errors=repeated, status_code=400)
    try:
        produced = await letter_actions.produce_letter(
            database(request), checklists(request), request.user.actor, handover_id, form, output=output,
            council=settings(request).council_name,
        )  # fmt: skip
    except Invalid as exc:
        return await _form_page(request, handover_id, form=form, errors=exc.errors, status_code=400)
    return produced, form


def _file_safe(reference: str) -> str:
    """A case reference as part of a file name: letters, digits and hyphens only (a reference is the council's own
    text, and a quote or a path separator in a header's file name would break it)."""
    kept = re.sub(r"[^A-Za-z0-9]+", "-", reference).strip("-")
    return kept or "child"
