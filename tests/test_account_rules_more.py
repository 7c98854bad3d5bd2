"""More account rules, each at every place it applies: a username that only looks like an existing one is refused
wherever a username is set; a password cannot be reset to the one the account already has; the disable page says,
before the administrator confirms, what disabling will do and what stops it (the same answer the action gives); and
the administrator's "Waiting for you" lists a handover whose manager step no manager may take."""

from __future__ import annotations

import ast
import html
from pathlib import Path

import pytest

from service import actions, db
from service.actions.accounts import disable_check
from service.actions.people import create_person_in
from service.core import accounts as rules
from service.core import identity
from service.core.errors import Invalid
from service.core.workflow import Action
from service.settings import Settings
from tests.conftest import PASSWORD_HASH, Site
from tests.helpers import CHECKLISTS, actor, handover_in
from tests.test_account_rules import GOOD_PASSWORD, Place, only_manager_of_north, user
from tests.test_account_rules import place as place

pytestmark = pytest.mark.anyio

SERVICE = Path(__file__).resolve().parent.parent / "service"

# ---------------------------------------------------------------- 1. look-alike usernames

# Every place a username is set: the administrator's page, the action behind it, both commands that add a person,
# the writes the demo loader (and anything loading people in bulk) makes, and a new service account's name.
SETTERS = ("page", "action", "add-person command", "create-user command", "demo loader", "service account")

# Beside an existing "alex": each is read as "alex" by someone scanning a list or the audit trail.
LOOK_ALIKES = ["alex.", "a1ex", "alex_", "ale-x", "a.l.e.x", "aiex", "ALEX", "ａｌｅｘ", "аlex", "аӏех", "Alex-"]
# Each refused at the places that check characters, for its characters; the rest only for looking like "alex".
OUTSIDE_CHARACTERS = {"ALEX", "ａｌｅｘ", "аlex", "аӏех", "Alex-"}
DIFFERENT = ["alexa", "alex2", "al3x", "lex", "alec"]


class Setter:
    """One place a username is set; `add` returns what the person setting it is told ("" when it is set)."""

    def __init__(self, kind: str, site: Site, place: Place) -> None:
        self.kind, self.site, self.place = kind, site, place

    async def add(self, username: str) -> str:
        name, email = "Another Person", f"another{abs(hash(username))}@example.gov.uk"
        if self.kind == "page":
            return await self.place._page(
                "/admin/people/new",
                {"username": username, "name": name, "email": email, "password": GOOD_PASSWORD, "worker": "Cp Team"},
            )
        if self.kind == "action":
            return await self.place._action(actions.add_person(
                self.site.db, username=username, full_name=name, email=email, password=GOOD_PASSWORD,
                roles=actions.TeamRoles(worker=["Cp Team"]), by=self.site.world.users["adm"],
            ))  # fmt: skip
        if self.kind == "add-person command":
            return await self.place._command(
                "add-person", username, "--name", name, "--email", email, "--password", GOOD_PASSWORD,
                "--worker", "Cp Team",
            )  # fmt: skip
        if self.kind == "create-user command":
            return await self.place._command(
                "create-user", username, "--name", name, "--password", GOOD_PASSWORD, "--worker", "Cp Team"
            )
        if self.kind == "demo loader":
            try:
                async with self.site.db.transaction() as conn:
                    roles = actions.TeamRoles(worker=["Cp Team"])
                    await create_person_in(conn, username, name, PASSWORD_HASH, roles, None)
            except Invalid as exc:
                return "\n".join(exc.errors.values())
            return ""
        return await self.place._action(
            actions.issue_api_token(
                self.site.db, account=username, system_name="Case system", scope="read", roles=actions.TeamRoles()
            )
        )


@pytest.fixture(params=SETTERS)
async def setter(
    request: pytest.FixtureRequest, site: Site, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Setter:
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HANDOVER_DATABASE_URL", settings.database_url)  # empty: SQLite, in the folder
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)
    async with site.db.transaction() as conn:
        await db.create_user(conn, "alex", "Alex Existing", "!")
    return Setter(request.param, site, Place("page", site, await site.as_user("adm")))


async def _usernames(site: Site) -> set[str]:
    return set(await db.usernames(site.db.reader))


@pytest.mark.parametrize("username", LOOK_ALIKES)
async def test_a_username_that_only_looks_like_an_existing_one_is_refused_wherever_it_is_set(
    setter: Setter, site: Site, username: str
) -> None:
    before = await _usernames(site)
    told = await setter.add(username)
    if username in OUTSIDE_CHARACTERS and setter.kind not in ("demo loader", "service account"):
        assert identity.USERNAME_CHARACTERS in told, told
    elif identity.username_key(username) == "alex":  # the same username, as it always was: it may be named
        assert "alex" in told.casefold(), told
    else:
        assert identity.USERNAME_TOO_SIMILAR in told, told
        assert identity.username_taken_message("alex") not in told, "a look-alike is not told whose it looks like"
    assert await _usernames(site) == before


@pytest.mark.parametrize("username", DIFFERENT)
async def test_a_username_that_looks_different_is_still_accepted(setter: Setter, site: Site, username: str) -> None:
    assert await setter.add(username) == ""
    assert username in await _usernames(site)


async def test_the_page_shows_the_message_by_the_username_field(site: Site) -> None:
    async with site.db.transaction() as conn:
        await db.create_user(conn, "alex", "Alex Existing", "!")
    admin = await site.as_user("adm")
    form = {"username": "a1ex", "name": "A Person", "email": "a1ex@example.gov.uk", "password": GOOD_PASSWORD}
    response = await admin.post("/admin/people/new", {**form, "worker": "Cp Team"})
    assert response.status_code == 400
    page = html.unescape(response.text)
    error = page[page.index('id="username-error"') :]
    assert error[: error.index("</p>")].strip().endswith(identity.USERNAME_TOO_SIMILAR)
    assert 'href="#username"' in page


@pytest.mark.parametrize(
    ("one", "other"),
    [("alex", "a1ex"), ("alex", "ale-x"), ("olly", "0lly"), ("bill", "b1ii"), ("sam.lee", "samlee"), ("rn", "m")],
)
def test_look_alikes_share_a_skeleton_and_either_order_is_refused(one: str, other: str) -> None:
    assert identity.username_skeleton(one) == identity.username_skeleton(other)
    assert identity.username_clash_errors(other, [one]) == {"username": identity.USERNAME_TOO_SIMILAR}
    assert identity.username_clash_errors(one, [other]) == {"username": identity.USERNAME_TOO_SIMILAR}


def test_the_same_username_is_still_named_and_a_different_one_passes() -> None:
    assert identity.username_clash_errors("Alex", ["alex"]) == {"username": identity.username_taken_message("alex")}
    assert identity.username_clash_errors("alexa", ["alex", "lexa"]) == {}


def _calls(function: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            target = node.func
            names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names


def test_every_function_that_stores_a_username_asks_the_one_rule_first() -> None:
    """The places are found in the code, so a place added later is held to the rule too: every function that calls
    `create_user` calls `username_clash_errors`, itself or through a helper in its module that does."""
    found = []
    for path in SERVICE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        checkers = {f.name for f in functions if "username_clash_errors" in _calls(f)}
        for function in functions:
            calls = _calls(function)
            if "create_user" in calls and function.name != "create_user":
                found.append(f"{path.name}:{function.name}")
                assert calls & (checkers | {"username_clash_errors"}), f"{path.name}:{function.name}"
        assert "SET username" not in path.read_text(), f"{path.name} changes a username without the rule"
    assert len(found) >= 3, found  # add_person, create_person_in, issue_api_token


# ---------------------------------------------------------------- 2. the current password is not a new one


async def test_a_password_cannot_be_reset_to_the_one_the_account_has(place: Place, site: Site) -> None:
    assert await place.reset_password("rec2", GOOD_PASSWORD) == ""
    before = (await user(site, "rec2")).password_hash
    entries = len(await db.audit_entries(site.db.reader))
    told = await place.reset_password("rec2", GOOD_PASSWORD)
    assert identity.PASSWORD_IS_CURRENT in told
    assert (await user(site, "rec2")).password_hash == before
    assert len(await db.audit_entries(site.db.reader)) == entries
    assert await place.reset_password("rec2", "quiet ferns grow tall") == ""


async def test_the_page_shows_the_reused_password_message_by_the_field(site: Site) -> None:
    admin = await site.as_user("adm")
    user_id = site.world.users["rec2"]
    assert (await admin.post(f"/admin/people/{user_id}/password", {"password": GOOD_PASSWORD})).status_code == 303
    response = await admin.post(f"/admin/people/{user_id}/password", {"password": GOOD_PASSWORD})
    assert response.status_code == 400
    page = html.unescape(response.text)
    assert 'id="password-error"' in page and identity.PASSWORD_IS_CURRENT in page


# ---------------------------------------------------------------- 3. the disable page warns before confirming


async def _disable_page(site: Site, username: str) -> str:
    admin = await site.as_user("adm")
    response = await admin.get(f"/admin/people/{site.world.users[username]}/disable")
    assert response.status_code == 200
    return html.unescape(response.text)


async def test_the_disable_page_says_what_blocks_it_before_any_post(site: Site) -> None:
    await only_manager_of_north(site)
    await handover_in(site.db, site.world, "submitted", "mia")
    page = await _disable_page(site, "smgr")
    waiting = rules.waiting_on_team(1, 0)
    assert rules.last_manager_message("Smgr", "North Team", waiting) in page
    assert "You cannot disable this account yet" in page
    assert 'action="/admin/people/' not in page, "no button that can only fail"


async def test_the_disable_page_names_a_team_left_without_a_manager(site: Site) -> None:
    page = await _disable_page(site, "omgr")  # South Team's only manager; nothing waits on it
    assert rules.sole_manager_message("Omgr", "South Team") in page
    assert "You cannot disable this account yet" not in page
    # the general sentence about "their team manager" is not said of someone who is that manager
    assert "continues with their team manager" not in page


async def test_the_disable_page_says_a_leavers_team_has_no_manager_to_hold_their_cases(site: Site) -> None:
    await actions.disable_person(site.db, user_id=site.world.users["omgr"], by=None)
    page = await _disable_page(site, "other")  # holds Zoe's case in South Team, now without a manager
    assert rules.no_manager_message("Other", "South Team") in page
    assert "You cannot disable this account yet" in page


async def test_the_disable_page_names_who_will_hold_each_case_and_continue_each_handover(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "draft", "mia")
    page = await _disable_page(site, "out")
    assert "Mia Test (T-1), North Team: held by Both" in page
    assert f"Handover {handover_id}, which Out is writing, will continue with Both acting on behalf of Out" in page


async def test_the_disable_page_says_which_posts_will_become_vacant(site: Site) -> None:
    await actions.create_service(site.db, name="Children's Services", service_manager="smgr", by=None)
    await actions.set_head_of_service(site.db, username="smgr", by=None)
    page = await _disable_page(site, "smgr")
    assert rules.post_vacated_message("service manager of Children's Services") in page
    assert rules.post_vacated_message("head of service") in page
    assert "Posts that will become vacant" in page
    other = await _disable_page(site, "smgr2")
    assert "Posts that will become vacant" not in other


@pytest.mark.parametrize("scene", ["as seeded", "north has one manager and work waits", "south has no manager"])
async def test_what_the_disable_page_says_is_what_disabling_does(site: Site, scene: str) -> None:
    """For everyone, in each scene: the page offers the button exactly when disabling goes ahead, and a refusal
    after the button says a reason the page gave first."""
    if scene == "north has one manager and work waits":
        await only_manager_of_north(site)
        await handover_in(site.db, site.world, "submitted", "mia")
    if scene == "south has no manager":
        await actions.disable_person(site.db, user_id=site.world.users["omgr"], by=None)
    admin = await site.as_user("adm")
    for username in ("out", "smgr", "smgr2", "both", "rmgr", "omgr", "other", "adm"):
        user_id = site.world.users[username]
        checked = await disable_check(site.db.reader, user_id=user_id, by=site.world.users["adm"])
        page = await _disable_page(site, username)
        assert ('action="/admin/people/' in page) == (not checked.blockers), username
        assert all(reason in page for reason in checked.blockers), username
        if checked.blockers:  # a refused POST changes nothing, so every person is judged on the same world
            was = await db.user_by_id(site.db.reader, user_id)
            response = await admin.post(f"/admin/people/{user_id}/disable")
            assert response.status_code == 400, username
            assert any(reason in html.unescape(response.text) for reason in checked.blockers), username
            assert await db.user_by_id(site.db.reader, user_id) == was, username
    # and one that may go, goes
    allowed = [n for n in ("out2", "rec2") if not (await disable_check(
        site.db.reader, user_id=site.world.users[n], by=site.world.users["adm"])).blockers]  # fmt: skip
    assert allowed
    assert (await admin.post(f"/admin/people/{site.world.users[allowed[0]]}/disable")).status_code == 200


# ---------------------------------------------------------------- 4. a manager step nobody may take


async def test_the_administrator_is_told_of_a_handover_no_manager_may_endorse(site: Site) -> None:
    """Out leaves with a draft; Smgr, North Team's only manager, continues it on their behalf and submits it: the
    endorsement must be another manager's, and North Team has none."""
    await only_manager_of_north(site)
    handover_id = await handover_in(site.db, site.world, "draft", "mia")
    await actions.disable_person(site.db, user_id=site.world.users["out"], by=None)
    smgr = await actor(site.db, site.world, "smgr")
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None and view.handover.author_id == site.world.users["smgr"]
    await actions.act(site.db, CHECKLISTS, smgr, handover_id, Action.SUBMIT, view.handover.version, "")
    admin = await site.as_user("adm")
    people = html.unescape((await admin.get("/admin/people")).text)
    message = rules.no_manager_for_step(handover_id, "Mia Test", "North Team", "endorse", "Out")
    waiting = people[people.index('id="waiting-for-you"') :]
    assert f'href="#step-{handover_id}">{message}</a>' in waiting
    assert rules.name_manager_command(handover_id, "endorse") in people
    assert "Nothing is waiting for you" not in people
    # once another manager is named for the step, it no longer waits on the administrator
    await actions.name_step_manager(site.db, handover_id, step="endorse", manager="omgr", by=None)
    people = html.unescape((await admin.get("/admin/people")).text)
    assert message not in people


async def test_a_handover_a_manager_can_endorse_is_not_listed_for_the_administrator(site: Site) -> None:
    await handover_in(site.db, site.world, "submitted", "mia")
    people = html.unescape((await (await site.as_user("adm")).get("/admin/people")).text)
    assert "has no manager who can" not in people


async def test_only_administrators_see_the_people_page_and_its_list(site: Site) -> None:
    for username in ("out", "smgr", "rmgr", "aud"):
        response = await (await site.as_user(username)).get("/admin/people")
        assert response.status_code in (403, 404), username


async def test_the_disable_page_names_each_handover_disabling_would_leave_with_no_manager_for_its_step(
    site: Site,
) -> None:
    """Smgr is North Team's only manager but Rec, who is also to receive Mia's handover: once Smgr goes, nobody
    may endorse it. The page says so before the administrator confirms, without changing anything."""
    await only_manager_of_north(site)
    async with site.db.transaction() as conn:
        await db.add_membership(conn, site.world.users["rec"], site.world.teams["north"], "manager")
    handover_id = await handover_in(site.db, site.world, "submitted", "mia")
    seq = (await db.last_audit_entry(site.db.reader))[0]
    page = await _disable_page(site, "smgr")
    message = rules.no_manager_for_step(handover_id, "Mia Test", "North Team", "endorse", None)
    assert "Handovers that will wait for you to name a manager" in page and message in page
    assert rules.name_manager_command(handover_id, "endorse") in page
    looked = {stored.entry.action for stored in await db.audit_entries(site.db.reader, after_seq=seq)}
    assert "disable_user" not in looked and looked <= {"sign_in"}, looked  # looking changes nothing
    assert not (await user(site, "smgr")).disabled
    # and it is so: once disabled, the handover waits on the administrator
    admin = await site.as_user("adm")
    assert (await admin.post(f"/admin/people/{site.world.users['smgr']}/disable")).status_code == 200
    assert message in html.unescape((await admin.get("/admin/people")).text)
    # a person whose leaving strands nothing gets no such heading
    assert "Handovers that will wait for you" not in await _disable_page(site, "out2")
