"""A handover returned with a query is answered: the outgoing worker sees who asked what and when, cannot resubmit
without a reply, and the manager deciding on the resubmission reads the query and the reply (every round of them)
above the handover, with the decision after the handover's answers."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from service import actions, db
from service.actions.demo import CASE_M_LIKE
from service.core import validation
from service.core.errors import Invalid
from service.core.workflow import Action
from service.settings import Settings
from tests.conftest import Browser, Site, seed
from tests.helpers import (
    APART,
    CHECKLIST,
    CHECKLISTS,
    act,
    actor,
    complete,
    fill_all,
    handover_in,
    on_record,
    start,
    submit,
    version_in,
)
from tests.test_api import call, error_shape, tokens

pytestmark = pytest.mark.anyio

QUERY = "Please add the date of the last core group."
REPLY = "Added to the network section: the last core group was on 3 March."


async def returned_to_out(site: Site) -> tuple[int, dict[str, Browser]]:
    """Mia's handover, submitted by out and returned by the sending manager with `QUERY`."""
    people = {name: await site.as_user(name) for name in ("out", "smgr")}
    handover_id = await start(people["out"], site.world.cases["mia"], site.world.teams["cp"], site.world.users["rec"])
    await fill_all(people["out"], handover_id)
    assert (await submit(people["out"], handover_id)).status_code == 303
    assert (await act(people["smgr"], handover_id, "return", reason=QUERY)).status_code == 303
    return handover_id, people


async def state_of(site: Site, handover_id: int) -> str:
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None
    return handover.state


def error_by_field(page: str, field: str) -> str:
    """The GOV.UK error message shown with the field `field`, without its visually hidden prefix."""
    found = re.search(rf'<p id="{field}-error" class="govuk-error-message">(.*?)</p>', page, re.DOTALL)
    assert found, f"no error message by {field}"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)).replace("Error:", "")).strip()


def typed_in(page: str, field: str) -> str:
    found = re.search(rf'<textarea[^>]*name="{field}"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert found, f"no {field} box"
    return html.unescape(found.group(1)).strip()


async def test_the_outgoing_worker_sees_who_returned_it_with_what_query_and_where_to_reply(site: Site) -> None:
    handover_id, people = await returned_to_out(site)
    task_list = (await people["out"].get(f"/handovers/{handover_id}")).text
    assert "Smgr returned this handover to you with a query" in task_list and QUERY in task_list
    check = (await people["out"].get(f"/handovers/{handover_id}/check")).text
    assert "Smgr returned the handover to you on" in check and QUERY in check
    assert '<label class="govuk-label govuk-label--s" for="reply">' in check and "Your reply to the query" in check
    assert f'maxlength="{validation.REPLY_MAX}"' in check
    assert check.index(QUERY) < check.index('name="reply"') < check.index("Submit handover")


async def test_a_returned_handover_cannot_be_resubmitted_without_a_reply_and_nothing_typed_is_lost(site: Site) -> None:
    handover_id, people = await returned_to_out(site)
    out = people["out"]
    sections_before = await db.sections_of(site.db.reader, handover_id)

    refused = await submit(out, handover_id, reply="   ")
    assert refused.status_code == 400
    assert refused.text.count("Enter your reply to the query") == 2, "in the error summary and by the box"
    assert '<a href="#reply">Enter your reply to the query</a>' in refused.text
    assert error_by_field(refused.text, "reply") == "Enter your reply to the query"
    assert "<title>Error: " in refused.text
    assert await state_of(site, handover_id) == "returned"
    assert await db.sections_of(site.db.reader, handover_id) == sections_before

    too_long = "A long reply. " * (validation.REPLY_MAX // 14 + 1)
    refused = await submit(out, handover_id, reply=too_long)
    assert refused.status_code == 400
    assert error_by_field(refused.text, "reply") == f"Your reply must be {validation.REPLY_MAX:,} characters or fewer"
    assert typed_in(refused.text, "reply") == too_long.strip(), "what was typed is shown again"
    assert await state_of(site, handover_id) == "returned"
    assert (await db.queries_of(site.db.reader, handover_id))[-1].reply is None

    assert (await submit(out, handover_id, reply=REPLY)).status_code == 303
    assert await state_of(site, handover_id) == "submitted"


async def test_what_stops_a_resubmission_is_said_at_once_with_the_reply_kept(site: Site) -> None:
    handover_id, people = await returned_to_out(site)
    out = people["out"]
    page = await out.get(f"/handovers/{handover_id}/sections/open-risks")
    emptied = {"button": "draft", "version": version_in(page.text, "version"), "has_open_risks": ""}
    assert (await out.post(f"/handovers/{handover_id}/sections/open-risks", emptied)).status_code == 303

    refused = await submit(out, handover_id, reply="")
    assert refused.status_code == 409
    assert "You cannot submit the handover yet" in refused.text and "Open risks" in refused.text
    assert error_by_field(refused.text, "reply") == "Enter your reply to the query"
    kept = await submit(out, handover_id, reply=REPLY)
    assert kept.status_code == 409 and typed_in(kept.text, "reply") == REPLY
    assert "reply-error" not in kept.text


async def test_each_reply_is_in_the_audit_trail_and_the_history(site: Site) -> None:
    handover_id, people = await returned_to_out(site)
    assert (await submit(people["out"], handover_id, reply=REPLY)).status_code == 303
    entries = [e.entry for e in await db.audit_entries(site.db.reader, limit=100_000)]
    submissions = [e for e in entries if e.action == "submit" and e.object_id == handover_id]
    assert "reply" not in submissions[0].details and submissions[-1].details["reply"] == REPLY
    history = (await people["smgr"].get(f"/handovers/{handover_id}/view")).text
    assert f"replying to the query: “{REPLY}”" in html.unescape(history)


# Migration 13 (joiners, movers and leavers), undone so that the database is as it was before migration 12
UNDO_LATER_MIGRATIONS = [
    "ALTER TABLE teams DROP COLUMN service_id",
    "DROP TABLE services",
    "DROP TABLE head_of_service",
    "ALTER TABLE users DROP COLUMN email",
    "ALTER TABLE cases DROP COLUMN interim_holder_id",
    "ALTER TABLE handovers DROP COLUMN on_behalf_of",
    "ALTER TABLE users DROP COLUMN sessions_from_ms",
    "DROP TABLE caseload_cases",
    "DROP TABLE caseload_transfers",
    "DROP TABLE absences",
    "DROP INDEX cases_by_held_from",
    "ALTER TABLE cases DROP COLUMN held_from_id",
    "ALTER TABLE cases DROP COLUMN version",  # correcting a case record
    "ALTER TABLE cases DROP COLUMN corrected_at",
    # sibling-group handovers
    "DROP INDEX handovers_by_group",
    "ALTER TABLE handovers DROP COLUMN group_handover_id",
    "DROP TABLE group_exclusions",
    "DROP TABLE group_handovers",
    "DROP TABLE sibling_apart_reasons",  # a sibling handed over alone
    # the family and the agencies told
    "DROP INDEX family_notices_by_handover",
    "DROP TABLE family_notices",
    "DROP TABLE agency_contacts",
    # notifications, the outbox, digests and urgent transfers
    "DROP INDEX notifications_by_user",
    "DROP INDEX notifications_unread",
    "DROP TABLE notifications",
    "DROP INDEX outbox_to_send",
    "DROP TABLE outbox",
    "ALTER TABLE users DROP COLUMN email_digest",
    "ALTER TABLE handovers DROP COLUMN urgent_at",
    "ALTER TABLE handovers DROP COLUMN urgent_by",
    "ALTER TABLE handovers DROP COLUMN urgent_reason",
    "DROP TABLE allocations",  # each child's allocation history
    # identities at the council's OpenID Connect provider
    "DROP INDEX oidc_identities_by_user",
    "DROP TABLE oidc_identities",
    "DROP TABLE sessions",  # sessions kept in the database
    "DROP TABLE audit_checkpoints",  # signed audit checkpoints kept in the database
    "DROP INDEX teams_by_service",  # who oversees which teams, by index
    "DROP INDEX services_by_manager",
]


@pytest.mark.sqlite_only
async def test_a_handover_returned_before_queries_were_kept_can_still_be_answered(settings: Settings) -> None:
    """A database from before the queries table: the query a returned handover waits on comes from the handover."""
    database = db.Database.for_settings(settings)
    await database.open()
    world = await seed(database)
    handover_id = await handover_in(database, world, "returned", "mia")
    number = next(n for n, script in enumerate(db.MIGRATIONS, start=1) if "CREATE TABLE queries" in script)
    async with database.transaction() as conn:
        await conn.execute("DROP TABLE queries")
        await conn.execute("DELETE FROM schema_migrations WHERE version >= ?", (number,))
        # what later migrations added goes too, so that they apply again; indexes first, as a column an index
        # covers cannot be dropped (nothing depends on an index)
        for undo in sorted(UNDO_LATER_MIGRATIONS, key=lambda statement: not statement.startswith("DROP INDEX")):
            await conn.execute(undo)
    await database.close()

    database = db.Database.for_settings(settings)
    await database.open()
    try:
        [waiting] = await db.queries_of(database.reader, handover_id)
        assert waiting.query == "Because" and waiting.returned_by == world.users["smgr"] and waiting.reply is None
        out = await actor(database, world, "out")
        view = await actions.load(database.reader, CHECKLISTS, handover_id)
        assert view is not None
        await actions.act(database, CHECKLISTS, out, handover_id, Action.SUBMIT, view.handover.version, reply=REPLY)
        assert [q.reply for q in await db.queries_of(database.reader, handover_id)] == [REPLY]
    finally:
        await database.close()


async def test_the_manager_reads_the_query_and_the_reply_before_the_handover_and_decides_after_it(site: Site) -> None:
    handover_id, people = await returned_to_out(site)
    assert (await submit(people["out"], handover_id, reply=REPLY)).status_code == 303

    page = (await people["smgr"].get(f"/handovers/{handover_id}/view")).text
    assert "Query and reply" in page and "Returned by Smgr on" in page and "Replied by" in page
    last_section = CHECKLIST.sections[-1]
    order = [
        page.index("Query and reply"),
        page.index(QUERY),
        page.index(REPLY),
        page.index('<h2 class="govuk-heading-l" id="the-handover">The handover</h2>'),
        page.index(f'<h3 class="govuk-heading-m" id="section-{last_section.id}">{last_section.title}</h3>'),
        page.index('id="history"'),  # the decision comes last, after the history
        page.index('<h2 class="govuk-heading-l">Your decision</h2>'),
        page.index("Endorse: ready to transfer"),
        page.index('name="reason"'),
    ]
    assert order == sorted(order), order
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None and handover.returned_reason is None, "the return no longer stands"


async def test_the_receiving_manager_approves_after_reading_the_handover(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia")
    rmgr = await site.as_user("rmgr")
    page = (await rmgr.get(f"/handovers/{handover_id}/view")).text
    last = CHECKLIST.sections[-1]
    last_answers = page.index(f'<h3 class="govuk-heading-m" id="section-{last.id}">{last.title}</h3>')
    assert last_answers < page.index('id="history"') < page.index("Approve transfer") < page.index('id="reason-return"')
    assert last_answers < page.index('id="reason-return-to-receiver"')


async def test_a_refused_return_on_the_managers_page_shows_its_message_by_the_box_below_the_handover(
    site: Site,
) -> None:
    handover_id = await handover_in(site.db, site.world, "submitted", "mia")
    smgr = await site.as_user("smgr")
    refused = await act(smgr, handover_id, "return", reason=" ")
    assert refused.status_code == 400
    assert '<a href="#reason-return">' in refused.text
    assert refused.text.index('<h2 class="govuk-heading-l" id="the-handover">The handover</h2>') < refused.text.index(
        'id="reason-return-error"'
    )


async def test_every_round_is_kept_and_the_latest_is_shown_first(site: Site) -> None:
    handover_id, people = await returned_to_out(site)
    out, smgr = people["out"], people["smgr"]
    assert (await submit(out, handover_id, reply=REPLY)).status_code == 303
    second_query = "The chronology still stops in January: bring it up to date."
    second_reply = "The chronology now runs to this week."
    assert (await act(smgr, handover_id, "return", reason=second_query)).status_code == 303

    task_list = (await out.get(f"/handovers/{handover_id}")).text
    assert second_query in task_list and QUERY not in task_list, "the query to answer now"
    assert (await submit(out, handover_id, reply=second_reply)).status_code == 303

    rounds = await db.queries_of(site.db.reader, handover_id)
    assert [(r.query, r.reply) for r in rounds] == [(QUERY, REPLY), (second_query, second_reply)]
    assert {r.returned_by for r in rounds} == {site.world.users["smgr"]}
    assert {r.replied_by for r in rounds} == {site.world.users["out"]}
    page = (await smgr.get(f"/handovers/{handover_id}/view")).text
    assert "Queries and replies" in page and "returned to Out 2 times" in page
    assert page.index(second_query) < page.index(second_reply) < page.index(QUERY) < page.index(REPLY)


async def returned_to_api_out(site: Site) -> int:
    """A handover started and submitted by the service account api_out (through the actions the API calls), and
    returned to it by the sending manager with `QUERY`."""
    async with site.db.transaction() as conn:
        account = await db.user_by_username(conn, "api_out")
        assert account is not None
        await conn.execute(
            "UPDATE cases SET allocated_worker_id = ? WHERE id = ?", (account.id, site.world.cases["c1"])
        )
    api_out = actions.actor_for(account, await db.memberships(site.db.reader, account.id))
    handover_id = await actions.start_handover(
        site.db, api_out, CHECKLIST, case_id=site.world.cases["c1"], receiving_team_id=site.world.teams["cp"],
        receiver_id=site.world.users["rec"], apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    for section_id, answers in (await on_record(site.db, handover_id, complete(**CASE_M_LIKE))).items():
        await actions.save_section(site.db, CHECKLISTS, api_out, handover_id, section_id, answers, 0, finished=True)
    smgr = await actor(site.db, site.world, "smgr")
    for who, action, reason in ((api_out, Action.SUBMIT, ""), (smgr, Action.RETURN_TO_OUTGOING, QUERY)):
        version = await db.handover_version(site.db.reader, handover_id)
        assert version is not None
        await actions.act(site.db, CHECKLISTS, who, handover_id, action, version, reason)
    return handover_id


async def test_the_api_needs_the_same_reply_as_the_page_and_shows_every_round(site: Site) -> None:
    issued = await tokens(site)
    handover_id = await returned_to_api_out(site)

    async def resubmit(**body: str) -> Any:
        version = await db.handover_version(site.db.reader, handover_id)
        data = {"handover_version": version, **body}
        return await call(site, issued["api_out"], "POST", f"/handovers/{handover_id}/actions/submit", data)

    on_the_page, people = await returned_to_out(site)
    page = await submit(people["out"], on_the_page, reply="")
    missing = error_shape(await resubmit(), 422, "invalid")
    assert missing["details"] == [{"field": "reply", "message": error_by_field(page.text, "reply")}]
    too_long = error_shape(await resubmit(reply="x" * (validation.REPLY_MAX + 1)), 422, "invalid")
    assert too_long["details"] == [
        {"field": "reply", "message": f"Your reply must be {validation.REPLY_MAX:,} characters or fewer"}
    ]
    assert await state_of(site, handover_id) == "returned"

    during = (await call(site, issued["api_smgr"], "GET", f"/handovers/{handover_id}")).json()
    assert [(q["query"], q["reply"], q["replied_by"]) for q in during["queries"]] == [(QUERY, None, None)]
    done = await resubmit(reply=REPLY)
    assert done.json() == {"state": "submitted"}
    body = (await call(site, issued["api_smgr"], "GET", f"/handovers/{handover_id}")).json()
    [only] = body["queries"]
    assert only["query"] == QUERY and only["returned_by"] == site.world.users["smgr"] and only["returned_at"]
    assert only["reply"] == REPLY and only["replied_by"] == body["author_id"] and only["replied_at"]


async def test_only_a_resubmission_takes_a_reply(site: Site) -> None:
    issued = await tokens(site)
    handover_id = await handover_in(site.db, site.world, "draft", "mia")
    # the page asks for a reply only to a returned handover's query: one sent with a first submission is not the
    # worker's (no page has the box), so it is neither refused nor kept; the actions and the API refuse one
    first = await submit(await site.as_user("out"), handover_id, reply="Nothing was asked yet")
    assert first.status_code == 303, first.text[:300]
    assert await state_of(site, handover_id) == "submitted"
    assert await db.queries_of(site.db.reader, handover_id) == []
    assert "Nothing was asked yet" not in str(await db.audit_entries(site.db.reader))
    # nor are two of them judged as an answer sent twice, about a box the page does not have
    twice = await handover_in(site.db, site.world, "draft", "c2")
    out = await site.as_user("out")
    page = await out.get(f"/handovers/{twice}/check")
    sent = await out.post(
        f"/handovers/{twice}/submit", {"handover_version": version_in(page.text), "reply": ["A", "B"]}
    )
    assert sent.status_code == 303 and await state_of(site, twice) == "submitted", sent.text[:300]
    handover_id = await handover_in(site.db, site.world, "draft", "c1")
    smgr = await actor(site.db, site.world, "smgr")
    with pytest.raises(Invalid) as refused:
        await actions.act(site.db, CHECKLISTS, smgr, handover_id, Action.CANCEL, 1, "Not needed", reply="A reply")
    assert refused.value.errors == {"reply": validation.NOTHING_TO_REPLY_TO}
    submitted = await handover_in(site.db, site.world, "submitted", "liam")
    version = await db.handover_version(site.db.reader, submitted)
    body = {"handover_version": version, "reason": QUERY, "reply": "A reply"}
    api = await call(site, issued["api_smgr"], "POST", f"/handovers/{submitted}/actions/return", body)
    assert error_shape(api, 422, "invalid")["details"] == [
        {"field": "reply", "message": validation.NOTHING_TO_REPLY_TO}
    ]
