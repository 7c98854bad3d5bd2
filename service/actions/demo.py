"""Loading the demo: fictional teams, people for every role, cases (one a sibling group of four), and handovers in
every state.

Every name here is invented. The Ashford sibling group is modelled on the pattern in the Case M review (four
children, different fathers, harm between siblings, a CP category changed after the child who harmed left home).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from service import db
from service.actions.accounts import disable_person, set_head_of_service
from service.actions.cases import NewCase, create_case_in, create_sibling_group_in
from service.actions.handovers import (
    Checklists,
    act,
    actor_for,
    confirm_item,
    decide_disagreement,
    save_section,
    start_handover,
)
from service.actions.handovers import load as load_handover
from service.actions.people import TeamRoles, create_person_in
from service.actions.telling import email_agency, record_agency_told, record_family_told
from service.checklist import Checklist, Field, Section
from service.core.answers import SectionAnswers, Value, case_record_values, shown_fields, shown_groups
from service.core.clock import today as today_in_england
from service.core.workflow import Action
from service.db import telling as telling_store
from service.passwords import rehash

DEMO_PASSWORD = "handover-demo-2026"

TEAMS = ["Assessment Team", "Child Protection Team", "Children in Care Team", "Family Support Team"]

# username, name, {team: role}, auditor, admin
DEMO_EMAIL_DOMAIN = "@example.gov.uk"  # reserved for examples: nothing sent there reaches anyone
PEOPLE: list[tuple[str, str, dict[str, str], bool, bool]] = [
    ("alex", "Alex Morgan", {"Assessment Team": "worker"}, False, False),
    ("priya", "Priya Shah", {"Assessment Team": "worker"}, False, False),
    ("jo", "Jo Bennett", {"Child Protection Team": "worker"}, False, False),
    ("chris", "Chris Patel", {"Child Protection Team": "worker"}, False, False),
    ("morgan", "Morgan Lee", {"Children in Care Team": "worker"}, False, False),
    ("sam", "Sam Okafor", {"Assessment Team": "manager"}, False, False),
    ("taylor", "Taylor Reid", {"Child Protection Team": "manager", "Family Support Team": "manager"}, False, False),
    ("rowan", "Rowan Hughes", {"Children in Care Team": "manager"}, False, False),
    ("ruth", "Ruth Ellis", {}, True, False),
    ("admin", "Dev Adeyemi", {}, False, True),
]

# Why an Ashford child is handed over on their own, without the rest of the sibling group (shown to both managers).
DEMO_APART_REASON = (
    "The strategy meeting was about this child only; the siblings stay with the assessment team until their own "
    "assessments are finished."
)


EXAMPLE_TEXT = {
    "transfer_reason": "Step-up to the child protection team after the strategy meeting.",
    "pen_picture": "Lives with her mother and two brothers; enjoys school and is close to her younger brother.",
    "additional_needs": "None known for this child; her youngest brother has global developmental delay.",
    "assessment_type": "Child and family assessment",
    "current_plan": "Child protection plan: weekly visits, core group every six weeks, therapy for the children.",
    "views": "Says she feels safer since her brother moved out and worries about her mum.",
    "how_gathered": "Seen alone at school on the last visit, using the three houses tool.",
    "parental_factors": "Mother has anxiety and low mood; not currently in treatment.",
    "what": "Core group meeting",
    "who": "Allocated social worker",
    "owner": "Allocated social worker",
    "name": "Dr A. Khan, Riverside Surgery",
    "what_agreed": "Mother will not allow unsupervised contact between the children.",
    "family_told_how": "Told in person at a joint visit with the new worker.",
    "for_new_worker": "‘I don’t want to tell everything again. Please read what I told Alex about Liam.’",
    "role": "Designated safeguarding lead",
}

# The professionals on the demo children's plan (a checklist version that tells them: `Checklist.telling`): a GP
# whom the service e-mails, and a school whose safeguarding lead has no e-mail address here, told by phone.
DEMO_NETWORK: dict[str, Any] = {
    "gp_engaged": "yes",
    "contacts_rows": [
        {
            "agency": "gp",
            "name": "Dr A. Khan",
            "role": "GP, Riverside Surgery",
            "email": "a.khan@riverside.example.org",
        },
        {"agency": "school", "name": "Ms R. Dale", "role": "Designated safeguarding lead, Hill Primary", "email": ""},
    ],
}


def example_value(field: Field, today: date) -> Value:
    """A plausible valid answer for any field, so a section can be completed from its definition alone."""
    if field.id in EXAMPLE_TEXT:
        return EXAMPLE_TEXT[field.id][: field.max_length]
    if field.type == "checkboxes":
        return [field.options[0].value]
    if field.type == "radios":
        return field.options[0].value
    if field.type == "date":  # a date that may not be in the future is recent; any other looks ahead (a review)
        return (today - timedelta(days=3) if field.not_in_future else today + timedelta(days=14)).isoformat()
    if field.type == "textarea":
        return f"{field.label}: recorded in full for the receiving worker."[: field.max_length]
    if field.type == "email":
        return "professional@example.org"
    return "Recorded"[: field.max_length]


def _filled_row(fields: list[Field], row: dict[str, Any], today: date) -> dict[str, Value]:
    """A row of a repeatable group: `row`'s answers, examples for everything else shown (a question revealed by an
    answer in the row too, such as who "someone outside the group" is)."""
    values: dict[str, Value] = {}
    for _ in fields:
        for field in shown_fields(fields, {**values, **row}):
            values.setdefault(field.id, row.get(field.id, example_value(field, today)))
    return values | dict(row)


def filled_section(section: Section, today: date, **chosen: Any) -> SectionAnswers:
    """A complete, valid section: `chosen` answers first, examples for everything else that is shown."""
    values: dict[str, Value] = {}
    for _ in section.fields:  # repeat so answers revealed by earlier answers are filled too
        for field in shown_fields(section.fields, {**values, **chosen}):
            values.setdefault(field.id, chosen.get(field.id, example_value(field, today)))
    values.update(chosen)
    answers = SectionAnswers(values=values)
    groups = {}
    for group in shown_groups(section, answers):
        rows = chosen.get(f"{group.id}_rows", [{}] * max(group.min_rows, 1))
        groups[group.id] = [_filled_row(group.fields, row, today) for row in rows]
    return SectionAnswers(values={k: v for k, v in values.items() if not k.endswith("_rows")}, groups=groups)


def complete_answers(checklist: Checklist, today: date, **overrides: dict[str, Any]) -> dict[str, SectionAnswers]:
    """Every section filled; no professional disagreement unless `overrides` records one (each one recorded blocks
    approval until a manager resolves it)."""
    rows_at = checklist.disagreements
    section = checklist.section(rows_at.section) if rows_at else None
    group = section.group(rows_at.group) if rows_at and section else None
    if section is not None and group is not None and group.when is not None:  # the question that shows the rows
        asks = section.field(group.when.field)
        none = next((o.value for o in asks.options if o.value not in group.when.any_of), None) if asks else None
        if none is not None:
            overrides = {**overrides, section.id: {group.when.field: none, **overrides.get(section.id, {})}}
    return {s.id: filled_section(s, today, **overrides.get(s.id, {})) for s in checklist.sections}


def naming_children(checklist: Checklist, answers: dict[str, SectionAnswers]) -> dict[str, SectionAnswers]:
    """`answers` written with children's names (as `CASE_M_LIKE` is) fitted to a checklist whose rows choose the
    children of the sibling group (`options_from`): a name becomes the child of the group it names, by the start of the
    option's label, or "someone outside the group" described by the name (for a child not in the group)."""
    fitted = dict(answers)
    for section in checklist.sections:
        if section.id not in answers:
            continue
        groups = dict(answers[section.id].groups)
        for group in section.groups:
            rows = []
            for row in groups.get(group.id, []):
                row = dict(row)
                for field in group.fields:
                    value = row.get(field.id, "")
                    if not field.options_from or not isinstance(value, str) or value in field.option_values:
                        continue
                    start = value.casefold()
                    named = [o.value for o in field.options if value and o.label.casefold().startswith(start)]
                    row[field.id] = named[0] if named else "outside"
                    if not named and group.field(f"{field.id}_outside") is not None:
                        row[f"{field.id}_outside"] = value
                rows.append(row)
            groups[group.id] = rows
        fitted[section.id] = SectionAnswers(values=answers[section.id].values, groups=groups)
    return fitted


CASE_M_LIKE: dict[str, dict[str, Any]] = {
    "open-risks": {
        "has_open_risks": "yes",
        "risks_rows": [
            {
                "what": "Sexual harm by an older sibling",
                "to_whom": "Mia (10)",
                "from_whom": "Liam (17), now living with foster carers",
                "rating": "high",
                "mitigation": "Liam does not live at home; all contact is supervised by the foster carer.",
                "protective_factors": "Mia has disclosed to her teacher and trusts her.",
                "contingency": "If any unsupervised contact happens, then hold a strategy meeting the same day.",
                "owner": "Allocated social worker",
            }
        ],
    },
    "sibling-harm": {
        "sibling_harm": "yes",
        "incidents_rows": [
            {
                "child_harmed": "Mia",
                "child_who_harmed": "Liam",
                "ages": "Mia 7, Liam 13; again Mia 10, Liam 17",
                "when_happened": "2022 and again in 2025",
                "behaviour": "Repeated sexual abuse in the home; disclosed by Mia to her mother twice.",
                "disclosure_response": "Strategy meeting, s47 enquiry, CP plan under sexual abuse.",
                "hsb_assessment": "in_progress",
                "safety_plan": "No unsupervised contact; bedroom and bathroom rules agreed with carers.",
                "living_arrangements": "Liam is accommodated under section 20. The mother wants him home: no plan for "
                "return without an AIM3 assessment and a strategy meeting.",
            }
        ],
    },
    "cp-category": {
        "has_cp_plan": "yes",
        "categories": ["neglect"],
        "category_changed": "yes",
        "changes_rows": [
            {
                "previous_category": "sexual_abuse",
                "reason": "Liam left the home; conference changed the category to neglect.",
                "risk_outcome": "The source has left the home but the mother's capacity to protect is not assessed; "
                "the risk of sexual harm is reduced, not ended.",
            }
        ],
    },
    "parenting-capacity": {"pca_status": "commissioned"},
}
# Case M's unresolved disagreement, which the demo's handovers carry (and the closed one's manager resolved).
CASE_M_DISAGREEMENT: dict[str, dict[str, Any]] = {
    "disagreements": {
        "any_disagreements": "yes",
        "disagreements_rows": [
            {
                "about": "Whether the mother can protect the children from the eldest son if he returns home.",
                "with_whom": "Designated safeguarding lead, Hillside Primary School",
                "stage": "informal",
                "next_step": "Discuss at the next core group; escalate to managers if there is no agreement.",
            }
        ],
    },
}


async def load(database: db.Database, checklists: Checklists, checklist: Checklist) -> bool:
    """Load the demo data into an empty database; returns False (and changes nothing) if it has users.

    People, teams and cases are made in one transaction, through the same steps (and audit entries) as
    `handover create-user` and the case import; the handovers are then taken through the same actions people take.
    """
    password_hash = await rehash(DEMO_PASSWORD)
    async with database.transaction() as conn:
        if await db.user_by_username(conn, "alex") is not None:
            return False
        users: dict[str, int] = {}
        for username, name, roles, auditor, admin in PEOPLE:
            team_roles = TeamRoles(
                worker=[team for team, role in roles.items() if role == "worker"],
                manager=[team for team, role in roles.items() if role == "manager"],
                auditor=auditor,
                admin=admin,
            )
            users[username] = await create_person_in(conn, username, name, password_hash, team_roles, None)
            # a work address each, so that the demo's steps queue e-mails (shown on the outbox page without SMTP)
            await db.set_email(conn, users[username], f"{username}{DEMO_EMAIL_DOMAIN}")
        for team in TEAMS:  # a team nobody belongs to yet
            if await db.team_by_name(conn, team) is None:
                team_id = await db.create_team(conn, team)
                await db.append_audit(conn, None, "create_team", "team", team_id, {"name": team})
        team_ids = {team.name: team.id for team in await db.teams(conn)}
        family = await create_sibling_group_in(conn, None, "Ashford family")
        assessment, alex, priya = team_ids["Assessment Team"], users["alex"], users["priya"]
        children = [
            ("CS-10421", "Mia Ashford", "2015-03-14", alex, family),
            ("CS-10422", "Liam Ashford", "2008-06-02", alex, family),
            ("CS-10423", "Noah Ashford", "2012-11-20", alex, family),
            ("CS-10424", "Leo Ashford", "2020-01-09", alex, family),
            ("CS-20117", "Ellie Carter", "2016-08-30", alex, None),
            ("CS-20342", "Jayden Brooks", "2011-02-17", alex, None),
            ("CS-20588", "Amira Haddad", "2019-05-05", priya, None),
            ("CS-20611", "Oscar Whitfield", "2014-09-12", priya, None),
        ]
        case_ids = []
        for reference, name, born, worker, group in children:
            case = NewCase(
                reference=reference, child_name=name, date_of_birth=born, worker_id=worker, team_id=assessment,
                sibling_group_id=group,
            )  # fmt: skip
            case_ids.append(await create_case_in(conn, None, case, "demo"))
    await _demo_handovers(database, checklists, checklist, case_ids, users, team_ids)
    await _demo_leaver(database, password_hash, users, team_ids["Assessment Team"])
    # the head of service, who alone may authorise an urgent transfer, on none of the demo handovers' sides
    await set_head_of_service(database, username="rowan", by=None)
    return True


async def _demo_leaver(database: db.Database, password_hash: str, users: dict[str, int], team_id: int) -> None:
    """Casey Ward, a worker who has left: their three children are held by Sam pending transfer, for Sam to move
    one by one from Casey's caseload (Caseloads in Sam's menu)."""
    async with database.transaction() as conn:
        roles = TeamRoles(worker=["Assessment Team"])
        casey = await create_person_in(conn, "casey", "Casey Ward", password_hash, roles, None)
        for reference, name, born in [("CS-30101", "Ruby Lang", "2013-04-22"), ("CS-30102", "Tom Yates", "2017-10-03"),
                                      ("CS-30103", "Zara Khan", "2010-12-15")]:  # fmt: skip
            case = NewCase(reference=reference, child_name=name, date_of_birth=born, worker_id=casey, team_id=team_id)
            await create_case_in(conn, None, case, "demo")
    await disable_person(database, user_id=casey, by=users["admin"])


async def _demo_handovers(
    database: db.Database,
    checklists: Checklists,
    checklist: Checklist,
    case_ids: list[int],
    users: dict[str, int],
    team_ids: dict[str, int],
) -> None:
    """One handover in each state, made through the same actions people take, so the audit trail is real."""
    actors = {}
    for username, user_id in users.items():
        user = await db.user_by_id(database.reader, user_id)
        assert user is not None
        actors[username] = actor_for(user, await db.memberships(database.reader, user_id))
    today = today_in_england()
    cp_team = team_ids["Child Protection Team"]
    plans: list[tuple[int, str, int | None, list[tuple[str, Action]]]] = [
        (case_ids[0], "alex", users["jo"], [("alex", Action.SUBMIT), ("sam", Action.ENDORSE)]),  # Mia: with Jo
        (case_ids[1], "alex", None, [("alex", Action.SUBMIT)]),  # Liam: waiting for Sam
        (case_ids[4], "alex", users["jo"], []),  # Ellie: a draft
        (
            case_ids[6],
            "priya",
            users["chris"],
            [("priya", Action.SUBMIT), ("sam", Action.ENDORSE), ("chris", Action.ACKNOWLEDGE)],
        ),
        (
            case_ids[5],
            "alex",
            users["chris"],
            [
                ("alex", Action.SUBMIT),
                ("sam", Action.ENDORSE),
                ("chris", Action.ACKNOWLEDGE),
                ("taylor", Action.APPROVE),
            ],
        ),
        (
            case_ids[7],
            "priya",
            users["jo"],
            [("priya", Action.SUBMIT), ("sam", Action.RETURN_TO_OUTGOING)],
        ),
    ]
    for case_id, author, receiver, steps in plans:
        handover_id = await start_handover(
            database,
            actors[author],
            checklist,
            case_id=case_id,
            receiving_team_id=cp_team,
            receiver_id=receiver,
            transfer_reason="Step-up to child protection after the strategy meeting.",
            # kept only for a child of a sibling group (the Ashford children): why they move on their own
            apart_reason=DEMO_APART_REASON,
        )
        started = await load_handover(database.reader, checklists, handover_id)
        assert started is not None
        summary = case_record_values(checklist.sections[0], started.child)
        network = {"network": DEMO_NETWORK} if checklist.telling else {}
        answers = complete_answers(
            checklist, today, **CASE_M_LIKE, **CASE_M_DISAGREEMENT, **network, **{"case-summary": summary}
        )
        answers = naming_children(started.checklist, answers)
        sections = list(answers.items()) if steps else list(answers.items())[:4]
        for section_id, section_answers in sections:
            await save_section(
                database, checklists, actors[author], handover_id, section_id, section_answers, 0, finished=True
            )
        for who, action in steps:
            if action == Action.ACKNOWLEDGE:
                await _confirm_all(database, checklists, actors[who], handover_id)
            if action == Action.APPROVE:
                await _resolve_disagreements(database, checklists, actors[who], handover_id)
                await _tell_everyone(database, checklists, actors[author], handover_id)
            view = await load_handover(database.reader, checklists, handover_id)
            assert view is not None
            await act(
                database, checklists, actors[who], handover_id, action, view.handover.version,
                "Please add the date of the last core group." if action == Action.RETURN_TO_OUTGOING else "",
            )  # fmt: skip
        if steps and steps[-1][1] == Action.ACKNOWLEDGE and checklist.telling:
            await _email_the_professionals(database, checklists, actors[author], handover_id)


async def _tell_everyone(database: db.Database, checklists: Checklists, actor: Any, handover_id: int) -> None:
    """The family told by letter, the GP at a meeting and the school by phone, as the outgoing worker records it
    before the transfer closes (a checklist version without `[telling]`: nothing to record)."""
    view = await load_handover(database.reader, checklists, handover_id)
    assert view is not None
    if view.checklist.telling is None:
        return
    told_on = today_in_england().isoformat()
    await record_family_told(
        database, checklists, actor, handover_id, told="Ms Ashford (mother)", method="letter", told_on=told_on
    )
    for contact in await telling_store.agency_contacts_of(database.reader, handover_id):
        method = "meeting" if contact.email else "phone"  # the demo has no mail server: e-mails would wait
        await record_agency_told(database, checklists, actor, handover_id, contact.id, method=method, told_on=told_on)


async def _email_the_professionals(database: db.Database, checklists: Checklists, actor: Any, handover_id: int) -> None:
    """The outgoing worker e-mails each professional with an address: with no mail server (the demo) the e-mail waits
    in the outbox, so the handover waits on them (the auditors' report's "Waiting on agencies")."""
    for contact in await telling_store.agency_contacts_of(database.reader, handover_id):
        if contact.email:
            await email_agency(database, checklists, actor, handover_id, contact.id)


async def _confirm_all(database: db.Database, checklists: Checklists, actor: Any, handover_id: int) -> None:
    view = await load_handover(database.reader, checklists, handover_id)
    assert view is not None
    for section in view.critical_sections():
        current = await load_handover(database.reader, checklists, handover_id)
        assert current is not None
        await confirm_item(
            database, checklists, actor, handover_id, section.id, current.handover.version,
            understood=True, readback="I am taking on the risks as set out, and will visit within five working days.",
        )  # fmt: skip


async def _resolve_disagreements(database: db.Database, checklists: Checklists, actor: Any, handover_id: int) -> None:
    for disagreement in await db.disagreements_of(database.reader, handover_id):
        if disagreement.status != "resolved":
            await decide_disagreement(
                database, checklists, actor, handover_id, disagreement.id, decision="resolved",
                outcome="Agreed at the core group: the mother will be assessed with CASP-R before any return home.",
                stage="", stage_date="",
            )  # fmt: skip
