"""The letter to the family or the child, through HTTP: the form, its errors by the field, who may write one, the
printable letter, and its audit entry."""

from __future__ import annotations

import html
import io
import json
from datetime import date, timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from service import actions, db, documents
from service.actions import letters as letter_actions
from service.checklist import Checklist
from service.core import letters as rules
from service.core import telling
from service.core.clock import today
from service.core.errors import Refused
from service.core.validation import several_answers
from service.core.workflow import SERVICE_ACCOUNT_REFUSAL, Action
from service.web.letters import _file_safe
from tests.conftest import Browser, Site, World
from tests.helpers import APART, CHECKLISTS, actor, complete, on_record

pytestmark = pytest.mark.anyio

V4: Checklist = CHECKLISTS[("case-transfer", 4)]
V3: Checklist = CHECKLISTS[("case-transfer", 3)]
STEPS = {"draft": [], "submitted": ["submit"], "endorsed": ["submit", "endorse"]}


async def letter_handover(
    database: db.Database, world: World, state: str = "draft", case: str = "c1", *, checklist: Checklist = V4,
    receiver: bool = True, arrangements: dict[str, Any] | None = None,
) -> int:  # fmt: skip
    """A handover on `checklist` (version 4 by default, which records who was told), its sections complete, brought
    to `state` through the real actions (out -> smgr), its receiving worker named (rec) unless `receiver` is False."""
    people = {name: await actor(database, world, name) for name in ("out", "smgr")}
    handover_id = await actions.start_handover(
        database, people["out"], checklist, case_id=world.cases[case], receiving_team_id=world.teams["cp"],
        receiver_id=world.users["rec"] if receiver else None, transfer_reason="Step-up", apart_reason=APART,
    )  # fmt: skip
    overrides = {"arrangements": arrangements} if arrangements else {}
    given = await on_record(database, handover_id, complete(checklist=checklist, **overrides))
    for section_id, section_answers in given.items():
        await actions.save_section(
            database, CHECKLISTS, people["out"], handover_id, section_id, section_answers, 0, finished=True
        )
    moves = {"submit": ("out", Action.SUBMIT), "endorse": ("smgr", Action.ENDORSE)}
    for step in STEPS[state]:
        who, action = moves[step]
        view = await actions.load(database.reader, CHECKLISTS, handover_id)
        assert view is not None
        await actions.act(database, CHECKLISTS, people[who], handover_id, action, view.handover.version, "Because")
    return handover_id


def in_days(days: int) -> date:
    return today() + timedelta(days=days)


def valid_form(**changes: str) -> dict[str, str]:
    """The letter form as a browser posts it, filled in well: to the family, responsible from a week today."""
    day = in_days(7)
    form = {
        "letter": "family",
        "addressee": "Ms Ashford",
        "responsible_from-day": str(day.day),
        "responsible_from-month": str(day.month),
        "responsible_from-year": str(day.year),
        "contact": "on 01632 960 001 or by e-mail at rec@example.gov.uk",
    }
    return form | changes


def words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def text_of(response: Any) -> str:
    return html.unescape(response.text)


async def letter_entries(site: Site, handover_id: int) -> list[dict[str, Any]]:
    rows = await site.db.reader.execute_fetchall(
        "SELECT details, actor_id FROM audit_log WHERE action = 'produce_letter' AND object_id = ? ORDER BY seq",
        (handover_id,),
    )
    return [json.loads(row["details"]) | {"by": row["actor_id"]} for row in rows]


async def test_the_form_names_the_new_worker_and_starts_with_how_to_contact_them(site: Site) -> None:
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE users SET email = 'rec@example.gov.uk' WHERE username = 'rec'")
    handover_id = await letter_handover(site.db, site.world)
    person = await site.as_user("out")
    page = await person.get(f"/handovers/{handover_id}/letters")
    assert page.status_code == 200, page.text
    text = text_of(page)
    assert "Rec, Cp Team" in text
    assert 'value="by e-mail at rec@example.gov.uk or through the Cp Team"' in text
    assert f'href="/handovers/{handover_id}/telling"' in text


async def test_the_outgoing_worker_writes_the_family_a_letter_naming_the_new_worker(site: Site) -> None:
    handover_id = await letter_handover(site.db, site.world)
    person = await site.as_user("out")
    response = await person.post(f"/handovers/{handover_id}/letters", valid_form())
    assert response.status_code == 200, response.text
    text = text_of(response)
    letter = text[text.index('<article class="app-letter"') :]
    assert "Dear Ms Ashford," in letter
    assert "Rec" in letter and "Cp Team" in letter
    assert f"From {words(in_days(7))}, Child's social worker will be Rec, in the Cp Team." in letter
    assert "You can contact Rec on 01632 960 001 or by e-mail at rec@example.gov.uk." in letter
    assert words(today()) in letter, "the letter is dated"
    assert "$" not in letter
    assert "visit you together" not in letter, "no joint visit is booked"
    assert "Print this letter" in text and f'href="/handovers/{handover_id}/telling"' in text
    assert await letter_entries(site, handover_id) == [
        {"letter": "family", "letters_version": 1, "addressee": "Ms Ashford",
         "responsible_from": in_days(7).isoformat(), "format": "page", "by": site.world.users["out"]},
    ]  # fmt: skip
    history = text_of(await person.get(f"/handovers/{handover_id}/view"))
    assert "wrote a letter about the new social worker" in history, "the handover's history shows it"


async def test_the_childs_letter_is_addressed_to_them_by_first_name_in_words_for_their_age(site: Site) -> None:
    # Child 1 was born on 5 May 2016, Liam on 2 June 2008: the file's plain letter is for a child up to 11
    younger = await letter_handover(site.db, site.world, case="c1")
    older = await letter_handover(site.db, site.world, case="liam")
    person = await site.as_user("out")
    response = await person.post(f"/handovers/{younger}/letters", valid_form(letter="child", addressee=""))
    assert response.status_code == 200, response.text
    assert "Dear Child," in text_of(response) and "I have some news for you." in text_of(response)
    response = await person.post(f"/handovers/{older}/letters", valid_form(letter="child", addressee=""))
    assert response.status_code == 200, response.text
    assert "Dear Liam," in text_of(response) and "your social worker is changing" in text_of(response)
    assert [entry["letter"] for entry in await letter_entries(site, younger)] == ["child_younger"]
    assert [entry["letter"] for entry in await letter_entries(site, older)] == ["child_older"]


async def test_the_letter_gives_the_joint_visit_still_to_come(site: Site) -> None:
    visit = in_days(10)
    handover_id = await letter_handover(
        site.db, site.world, arrangements={"transfer_meeting": "joint_visit", "meeting_on": visit.isoformat()}
    )
    person = await site.as_user("out")
    form = await person.get(f"/handovers/{handover_id}/letters")
    assert words(visit) in text_of(form)
    response = await person.post(f"/handovers/{handover_id}/letters", valid_form())
    assert f"Rec and I will visit you together on {words(visit)}" in text_of(response)


# Each field of the form left out or wrong, with what the form then says by that field.
FIELD_ERRORS: dict[str, tuple[dict[str, str], str, str]] = {
    rules.LETTER_FIELD: ({"letter": ""}, "letter", "Select who the letter is to"),
    rules.ADDRESSEE_FIELD: ({"addressee": "  "}, "addressee", "Enter who the letter is to"),
    rules.RESPONSIBLE_FROM_FIELD: (
        {"responsible_from-day": "", "responsible_from-month": "", "responsible_from-year": ""},
        "responsible_from-day",
        "Enter the date from which the new worker is responsible",
    ),
    rules.CONTACT_FIELD: ({"contact": ""}, "contact", "Enter how the family can contact the new worker"),
}


def test_every_field_of_the_form_has_an_error_case() -> None:
    assert set(FIELD_ERRORS) == set(rules.FIELD_LABELS)


@pytest.mark.parametrize("field", sorted(FIELD_ERRORS))
async def test_each_field_is_refused_by_the_field_and_what_was_typed_is_kept(site: Site, field: str) -> None:
    handover_id = await letter_handover(site.db, site.world)
    person = await site.as_user("out")
    change, key, message = FIELD_ERRORS[field]
    posted = valid_form(**change)
    response = await person.post(f"/handovers/{handover_id}/letters", posted)
    assert response.status_code == 400, response.text
    text = text_of(response)
    assert f'href="#{key}">{message}' in text, "in the error summary, linked to the field"
    assert f'id="{key}-error"' in text or f'id="{field}-error"' in text, "and by the field"
    for name, value in posted.items():
        if name not in change and name != "letter":
            assert f'value="{value}"' in text, (name, "kept")
    assert await letter_entries(site, handover_id) == [], "nothing produced"


@pytest.mark.parametrize(
    ("days", "message"),
    [(-1, "must be today or in the future"), (61, "must be no more than 60 days from today")],
)
async def test_the_date_from_which_the_new_worker_is_responsible_is_soon(site: Site, days: int, message: str) -> None:
    handover_id = await letter_handover(site.db, site.world)
    person = await site.as_user("out")
    day = in_days(days)
    response = await person.post(
        f"/handovers/{handover_id}/letters",
        valid_form(**{"responsible_from-day": str(day.day), "responsible_from-month": str(day.month),
                      "responsible_from-year": str(day.year)}),
    )  # fmt: skip
    assert response.status_code == 400
    assert message in text_of(response)
    ok = await person.post(f"/handovers/{handover_id}/letters", valid_form())
    assert ok.status_code == 200


async def test_a_field_sent_twice_is_refused(site: Site) -> None:
    handover_id = await letter_handover(site.db, site.world)
    person = await site.as_user("out")
    response = await person.post(f"/handovers/{handover_id}/letters", valid_form() | {"contact": ["a", "b"]})
    assert response.status_code == 400
    assert several_answers(rules.SINGLE_ANSWERS[rules.CONTACT_FIELD]) in text_of(response)
    assert await letter_entries(site, handover_id) == []


@pytest.mark.parametrize(
    ("username", "status"),
    [("out", 200), ("smgr", 200), ("rec", 200), ("rmgr", 200), ("aud", 409), ("out2", 404), ("other", 404),
     ("omgr", 404), ("adm", 404)],
)  # fmt: skip
async def test_only_those_who_record_who_was_told_write_a_letter(site: Site, username: str, status: int) -> None:
    handover_id = await letter_handover(site.db, site.world, "endorsed")
    person = await site.as_user(username)
    assert (await person.get(f"/handovers/{handover_id}/letters")).status_code == status
    posted = await person.post(f"/handovers/{handover_id}/letters", valid_form())
    assert posted.status_code == status
    if status == 409:
        assert telling.NOT_A_PARTY in text_of(posted)
    assert len(await letter_entries(site, handover_id)) == (1 if status == 200 else 0)


async def test_anonymous_people_are_sent_to_sign_in(site: Site) -> None:
    handover_id = await letter_handover(site.db, site.world)
    person = Browser(site.client)
    assert (await person.get(f"/handovers/{handover_id}/letters")).status_code == 303
    assert (await person.post(f"/handovers/{handover_id}/letters", valid_form())).status_code in (303, 403)
    assert await letter_entries(site, handover_id) == []


async def test_a_handover_on_an_earlier_checklist_version_has_no_letter(site: Site) -> None:
    handover_id = await letter_handover(site.db, site.world, checklist=V3)
    person = await site.as_user("out")
    for response in (
        await person.get(f"/handovers/{handover_id}/letters"),
        await person.post(f"/handovers/{handover_id}/letters", valid_form()),
    ):
        assert response.status_code == 409
        assert telling.NO_TELLING in text_of(response)
    assert await letter_entries(site, handover_id) == []


async def test_no_letter_until_the_new_worker_is_named(site: Site) -> None:
    handover_id = await letter_handover(site.db, site.world, receiver=False)
    person = await site.as_user("out")
    for response in (
        await person.get(f"/handovers/{handover_id}/letters"),
        await person.post(f"/handovers/{handover_id}/letters", valid_form()),
    ):
        assert response.status_code == 409
        assert rules.NO_NEW_WORKER in text_of(response)
    assert await letter_entries(site, handover_id) == []


async def test_no_letter_for_a_cancelled_handover(site: Site) -> None:
    handover_id = await letter_handover(site.db, site.world)
    out = await actor(site.db, site.world, "out")
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    await actions.act(site.db, CHECKLISTS, out, handover_id, Action.CANCEL, view.handover.version, "Moved away")
    person = await site.as_user("out")
    response = await person.post(f"/handovers/{handover_id}/letters", valid_form())
    assert response.status_code == 409
    assert telling.NOT_OPEN in text_of(response)


async def test_a_service_account_writes_no_letter(site: Site) -> None:
    handover_id = await letter_handover(site.db, site.world)
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE users SET is_service = 1 WHERE username = 'out'")
    service = await actor(site.db, site.world, "out")
    assert service.is_service
    with pytest.raises(Refused) as refused:
        await letter_actions.produce_letter(
            site.db, CHECKLISTS, service, handover_id, rules.LetterForm(**{
                "letter": "family", "addressee": "Ms Ashford", "responsible_from": in_days(1).isoformat(),
                "contact": "on 01632 960 001",
            }), output="page", council="Example Borough Council",
        )  # fmt: skip
    assert refused.value.reasons == [SERVICE_ACCOUNT_REFUSAL]
    assert await letter_entries(site, handover_id) == []


async def test_viewing_the_form_is_audited_as_a_view(site: Site) -> None:
    handover_id = await letter_handover(site.db, site.world)
    person = await site.as_user("out")
    await person.get(f"/handovers/{handover_id}/letters")
    rows = await site.db.reader.execute_fetchall(
        "SELECT details FROM audit_log WHERE action = 'view' AND object_id = ?", (handover_id,)
    )
    assert any(json.loads(row["details"]).get("page") == "letters" for row in rows)


# ---------------------------------------------------------------- the letter as a PDF


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def test_the_letter_downloads_as_a_pdf_with_real_text(site: Site) -> None:
    visit = in_days(10)
    handover_id = await letter_handover(
        site.db, site.world, arrangements={"transfer_meeting": "joint_visit", "meeting_on": visit.isoformat()}
    )
    person = await site.as_user("out")
    page = await person.post(f"/handovers/{handover_id}/letters", valid_form())
    assert f'action="/handovers/{handover_id}/letters/pdf"' in page.text
    response = await person.post(f"/handovers/{handover_id}/letters/pdf", valid_form())
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="letter-family-C-1.pdf"'
    text = " ".join(pdf_text(response.content).split())
    for expected in ("A new social worker for Child", "Dear Ms Ashford,", "Rec", "Cp Team", words(in_days(7)),
                     words(visit), "01632 960 001", "Example Borough Council"):  # fmt: skip
        assert expected in text, (expected, text)
    assert "$" not in text
    assert PdfReader(io.BytesIO(response.content)).metadata.title == "A new social worker for Child"
    assert [entry["format"] for entry in await letter_entries(site, handover_id)] == ["page", "pdf"]


async def test_the_pdf_form_is_checked_again(site: Site) -> None:
    handover_id = await letter_handover(site.db, site.world)
    person = await site.as_user("out")
    response = await person.post(f"/handovers/{handover_id}/letters/pdf", valid_form(contact=""))
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "Enter how the family can contact the new worker" in text_of(response)
    assert await letter_entries(site, handover_id) == []


@pytest.mark.parametrize(("username", "status"), [("aud", 409), ("other", 404)])
async def test_the_pdf_is_refused_as_the_page_is(site: Site, username: str, status: int) -> None:
    handover_id = await letter_handover(site.db, site.world, "endorsed")
    person = await site.as_user(username)
    response = await person.post(f"/handovers/{handover_id}/letters/pdf", valid_form())
    assert response.status_code == status
    assert not response.content.startswith(b"%PDF")
    assert await letter_entries(site, handover_id) == []


async def test_a_pdf_that_cannot_be_made_is_said_and_marked_not_given(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> bytes:
        raise documents.DocumentUnavailable("the conversion took longer than 60 seconds")

    monkeypatch.setattr(documents, "render_pdf", broken)
    handover_id = await letter_handover(site.db, site.world)
    person = await site.as_user("out")
    response = await person.post(f"/handovers/{handover_id}/letters/pdf", valid_form())
    assert response.status_code == 503
    assert documents.UNAVAILABLE in text_of(response)
    rows = await site.db.reader.execute_fetchall(
        "SELECT seq, action, details FROM audit_log WHERE action IN ('produce_letter', 'produce_document_failed') "
        "AND object_id = ? ORDER BY seq",
        (handover_id,),
    )
    made, failed = list(rows)
    assert (made["action"], failed["action"]) == ("produce_letter", "produce_document_failed")
    assert json.loads(failed["details"]) == {
        "copy": made["seq"],
        "reason": "the conversion took longer than 60 seconds",
    }


@pytest.mark.parametrize(
    ("reference", "name"),
    [
        ("C-1", "letter-C-1.pdf"),
        ('AB/12 "x"', "letter-AB-12-x.pdf"),
        ("Ré-7", "letter-R-7.pdf"),
        ("***", "letter-child.pdf"),
    ],
)
def test_the_pdfs_file_name_holds_only_safe_characters(reference: str, name: str) -> None:
    assert f"letter-{_file_safe(reference)}.pdf" == name
