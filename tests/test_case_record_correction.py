"""An administrator corrects a child's case record, on the admin pages and with `handover correct-case`: the rules a
new case is checked with, messages by the field, nothing saved when anything is wrong, a stale form never
overwriting a newer correction, one audit entry with the old and new values and who made it, and handovers showing
the corrected record (saying why an answer restating the old one no longer agrees)."""

from __future__ import annotations

import asyncio
import html
from pathlib import Path
from typing import Any

import pytest

from service import actions, cli, db
from service.core import case_records, validation
from service.core.case_records import Correction
from service.core.clock import today
from service.core.errors import Invalid
from service.settings import Settings
from tests.conftest import Site, seed
from tests.helpers import handover_in, settings_for_tests
from tests.test_one_rulebook import GOOD_CASE, at_run_time, bad_cases

pytestmark = pytest.mark.anyio


async def case_of(site: Site, name: str) -> db.Case:
    case = await db.case_by_id(site.db.reader, site.world.cases[name])
    assert case is not None
    return case


def form_of(case: db.Case, **changes: str) -> dict[str, str]:
    """The correction form as the page fills it from the record, with `changes` typed over it."""
    year, month, day = case.date_of_birth.split("-")
    values = {
        "child_name": case.child_name, "reference": case.reference, "date_of_birth-day": str(int(day)),
        "date_of_birth-month": str(int(month)), "date_of_birth-year": year,
        "sibling_group": str(case.sibling_group_id or ""), "version": str(case.version),
    }  # fmt: skip
    return values | changes


async def corrections(site: Site) -> list[Any]:
    """The audit entries of corrections, oldest first."""
    return [e.entry for e in await db.audit_entries(site.db.reader) if e.entry.action == "correct_case"]


async def test_an_administrator_finds_a_case_and_corrects_the_childs_name(site: Site) -> None:
    adm = await site.as_user("adm")
    found = await adm.get("/admin/cases?q=mia")
    assert found.status_code == 200 and f'href="/admin/cases/{site.world.cases["mia"]}"' in found.text
    mia = await case_of(site, "mia")
    page = await adm.get(f"/admin/cases/{mia.id}")
    assert page.status_code == 200 and 'value="Mia Test"' in page.text
    response = await adm.post(f"/admin/cases/{mia.id}", form_of(mia, child_name="Mya Test"))
    assert (response.status_code, response.headers["location"]) == (303, f"/admin/cases/{mia.id}?done=corrected")
    corrected = await case_of(site, "mia")
    assert (corrected.child_name, corrected.version) == ("Mya Test", mia.version + 1)
    assert "The case record has been corrected" in (await adm.get(response.headers["location"])).text
    [entry] = await corrections(site)
    assert entry.actor_id == site.world.users["adm"] and entry.object_id == mia.id
    assert entry.details == {"changes": {"child_name": {"old": "Mia Test", "new": "Mya Test"}}}


async def test_every_field_can_be_corrected_at_once_and_each_change_is_audited(site: Site) -> None:
    zoe = await case_of(site, "zoe")
    group = await actions.create_sibling_group(site.db, site.world.users["adm"], "Other family")
    correction = Correction(reference="T-30", child_name="Zoë Other", date_of_birth="2012-01-02",
                            sibling_group_id=group, version=zoe.version)  # fmt: skip
    await actions.correct_case(site.db, case_id=zoe.id, correction=correction, by=site.world.users["adm"])
    corrected = await case_of(site, "zoe")
    assert (corrected.reference, corrected.child_name, corrected.date_of_birth, corrected.sibling_group) == (
        "T-30",
        "Zoë Other",
        "2012-01-02",
        "Other family",
    )
    [entry] = await corrections(site)
    assert entry.details["changes"] == {
        "reference": {"old": "T-3", "new": "T-30"},
        "child_name": {"old": "Zoe Other", "new": "Zoë Other"},
        "date_of_birth": {"old": "2012-01-01", "new": "2012-01-02"},
        "sibling_group_id": {"old": None, "new": group},
    }


@pytest.mark.parametrize(("label", "bad"), bad_cases(), ids=[label for label, _ in bad_cases()])
async def test_a_correction_is_checked_by_the_rules_for_new_cases_and_nothing_is_saved(
    site: Site, label: str, bad: dict[str, str]
) -> None:
    """The same bad values the API and the import refuse, with the same message by the same field."""
    zoe = await case_of(site, "zoe")
    values = {
        "reference": zoe.reference,
        "child_name": zoe.child_name,
        "date_of_birth": zoe.date_of_birth,
    } | at_run_time(bad)
    if label.startswith("reference already used"):
        expected = {"reference": validation.REFERENCE_TAKEN}
    else:
        expected = validation.case_errors(values["reference"], values["child_name"], values["date_of_birth"], today())
    correction = Correction(**values, sibling_group_id=None, version=zoe.version)
    with pytest.raises(Invalid) as refused:
        await actions.correct_case(site.db, case_id=zoe.id, correction=correction, by=site.world.users["adm"])
    assert refused.value.errors == expected
    assert await case_of(site, "zoe") == zoe
    assert await corrections(site) == []


async def test_the_good_case_of_the_rulebook_is_accepted_as_a_correction(site: Site) -> None:
    zoe = await case_of(site, "zoe")
    correction = Correction(**GOOD_CASE, sibling_group_id=None, version=zoe.version)
    corrected = await actions.correct_case(site.db, case_id=zoe.id, correction=correction, by=None)
    assert (corrected.reference, corrected.child_name) == (GOOD_CASE["reference"], GOOD_CASE["child_name"])


async def test_the_page_shows_each_error_by_its_field_and_keeps_what_was_typed(site: Site) -> None:
    adm = await site.as_user("adm")
    mia = await case_of(site, "mia")
    typed = form_of(mia, child_name="", reference="T-2", **{"date_of_birth-month": ""})
    response = await adm.post(f"/admin/cases/{mia.id}", typed)
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert "Enter the child's name" in text and 'href="#child_name"' in text
    assert validation.REFERENCE_TAKEN in text and 'href="#reference"' in text
    assert "Date of birth must include a month" in text and 'href="#date_of_birth-month"' in text
    assert 'value="T-2"' in response.text, "what was typed is shown again to correct"
    assert await case_of(site, "mia") == mia


async def test_a_date_of_birth_in_the_future_is_refused_on_the_page(site: Site) -> None:
    adm = await site.as_user("adm")
    mia = await case_of(site, "mia")
    response = await adm.post(f"/admin/cases/{mia.id}", form_of(mia, **{"date_of_birth-year": "2999"}))
    assert response.status_code == 400 and "The date of birth must be today or in the past" in response.text
    assert await case_of(site, "mia") == mia


async def test_a_stale_form_does_not_overwrite_a_newer_correction(site: Site) -> None:
    adm = await site.as_user("adm")
    mia = await case_of(site, "mia")
    first = await adm.post(f"/admin/cases/{mia.id}", form_of(mia, child_name="Mya Test"))
    assert first.status_code == 303
    stale = await adm.post(f"/admin/cases/{mia.id}", form_of(mia, reference="T-100"))  # made from the old version
    assert stale.status_code == 400 and case_records.STALE_CORRECTION in html.unescape(stale.text)
    now = await case_of(site, "mia")
    assert (now.child_name, now.reference) == ("Mya Test", "T-1")
    assert 'value="Mya Test"' in stale.text, "the form shows the record as it is now"
    assert len(await corrections(site)) == 1


async def test_a_correction_that_changes_nothing_is_refused(site: Site) -> None:
    adm = await site.as_user("adm")
    mia = await case_of(site, "mia")
    response = await adm.post(f"/admin/cases/{mia.id}", form_of(mia))
    assert response.status_code == 400 and case_records.NOTHING_CHANGED in html.unescape(response.text)
    assert await corrections(site) == []


async def test_a_sibling_group_is_not_changed_while_a_handover_is_open(site: Site) -> None:
    await handover_in(site.db, site.world, "submitted", "mia")
    adm = await site.as_user("adm")
    mia = await case_of(site, "mia")
    response = await adm.post(f"/admin/cases/{mia.id}", form_of(mia, sibling_group=""))
    assert response.status_code == 400 and case_records.GROUP_WHILE_OPEN in html.unescape(response.text)
    assert (await case_of(site, "mia")).sibling_group_id == mia.sibling_group_id


async def test_a_handover_shows_the_corrected_record_and_says_why_an_answer_disagrees(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "draft", "mia")
    mia = await case_of(site, "mia")
    adm = await site.as_user("adm")
    assert (await adm.post(f"/admin/cases/{mia.id}", form_of(mia, child_name="Mya Test"))).status_code == 303
    out = await site.as_user("out")
    dashboard = await out.get("/")
    assert "Mya Test" in dashboard.text and "Mia Test" not in dashboard.text
    check = html.unescape((await out.get(f"/handovers/{handover_id}/check")).text)
    assert "must be as on the case record: Mya Test" in check
    assert "An administrator corrected the child's case record on" in check
    smgr = await site.as_user("smgr")
    assert "Mya Test" in (await smgr.get(f"/handovers/{handover_id}/view")).text


async def test_a_record_never_corrected_gives_the_message_without_the_note(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "draft", "mia")
    out = await site.as_user("out")
    check = html.unescape((await out.get(f"/handovers/{handover_id}/check")).text)
    assert "An administrator corrected" not in check


@pytest.mark.parametrize("username", ["out", "smgr", "rmgr", "rec", "aud"])
async def test_only_an_administrator_reaches_the_case_record_pages(site: Site, username: str) -> None:
    person = await site.as_user(username)
    mia = await case_of(site, "mia")
    for method, url in (("GET", "/admin/cases"), ("GET", "/admin/cases?q=mia"), ("GET", f"/admin/cases/{mia.id}"),
                        ("POST", f"/admin/cases/{mia.id}")):  # fmt: skip
        data = {"_csrf_token": person.csrf, **form_of(mia, child_name="X")} if method == "POST" else None
        response = await person.request(method, url, data=data)
        assert response.status_code == 403, (username, method, url)
    assert await case_of(site, "mia") == mia


async def test_an_administrator_gets_404_for_a_case_that_does_not_exist(site: Site) -> None:
    adm = await site.as_user("adm")
    assert (await adm.get("/admin/cases/99999")).status_code == 404
    assert (await adm.post("/admin/cases/99999", {"child_name": "X"})).status_code == 404


async def test_the_case_search_says_what_is_wrong_with_an_empty_search(site: Site) -> None:
    adm = await site.as_user("adm")
    response = await adm.get("/admin/cases?q=+")
    assert response.status_code == 400 and 'href="#q"' in response.text


# ---------------------------------------------------------------- the command line


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = settings_for_tests(tmp_path)
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)

    async def populate() -> None:
        async with db.Database.for_settings(settings).opened() as database:
            await seed(database)

    asyncio.run(populate())
    return settings


def stored(settings: Settings, reference: str) -> tuple[db.Case | None, list[Any]]:
    async def run() -> tuple[db.Case | None, list[Any]]:
        async with db.Database.for_settings(settings).opened() as database:
            case = await db.case_by_reference(database.reader, reference)
            entries = [e.entry for e in await db.audit_entries(database.reader) if e.entry.action == "correct_case"]
            return case, entries

    return asyncio.run(run())


def test_correct_case_on_the_command_line_changes_only_what_is_given(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["correct-case", "t-1", "--name", "Mya Test", "--date-of-birth", "2015-03-15", "--no-sibling-group"]
    assert cli.main(argv) == 0
    assert "Corrected case T-1: Mya Test, born 2015-03-15, no sibling group" in capsys.readouterr().out
    case, [entry] = stored(env, "T-1")
    assert case is not None and (case.child_name, case.sibling_group_id) == ("Mya Test", None)
    assert entry.actor_id is None and set(entry.details["changes"]) == {
        "child_name",
        "date_of_birth",
        "sibling_group_id",
    }


def test_correct_case_on_the_command_line_moves_a_child_into_a_group_by_its_name(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["correct-case", "T-3", "--sibling-group", "  test   FAMILY "]) == 0
    case, _ = stored(env, "T-3")
    assert case is not None and case.sibling_group == "Test family"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["correct-case", "NOPE-1", "--name", "X"], f"case: {case_records.NO_SUCH_CASE}"),
        (["correct-case", "T-1", "--reference", "T-2"], f"reference: {validation.REFERENCE_TAKEN}"),
        (["correct-case", "T-1", "--date-of-birth", "14/03/2015"], "date_of_birth: Enter the date of birth as a real"),
        (["correct-case", "T-1", "--sibling-group", "Nobody"], f"sibling_group: {case_records.NO_SUCH_GROUP_NAMED}"),
        (["correct-case", "T-1"], f"record: {case_records.NOTHING_CHANGED}"),
    ],
)
def test_correct_case_on_the_command_line_refuses_with_the_same_messages(
    env: Settings, argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as refused:
        cli.main(argv)
    assert message in str(refused.value.code)
    case, entries = stored(env, "T-1")
    assert case is not None and case.child_name == "Mia Test" and entries == []
