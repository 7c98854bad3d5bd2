"""One blank rule for every required text; the same filters on every route; the command line's changes audited with
who made them; and a child kept in, or out of, a sibling group while the group's handover is open."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import pwd
import random
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

import service.core
from service import cli, db
from service.core import case_records, validation
from service.core.case_records import Correction
from service.core.clock import today
from service.core.currency import StaleItem
from service.core.report import REPEATED_FILTERS
from service.core.text import is_blank
from service.core.tokens import token_hash
from tests.conftest import Site
from tests.group_support import V3, add_children, member_ids, start_group
from tests.test_api import call, error_shape, tokens
from tests.test_named_managers import edge_handover

pytestmark = pytest.mark.anyio

# ---------------------------------------------------------------- the one blank rule

# Unicode's own lists of what shows nothing, written out from the Unicode Character Database
# (PropList.txt White_Space, DerivedCoreProperties.txt Default_Ignorable_Code_Point), independent of how
# `text.is_blank` decides.
WHITE_SPACE = [(0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A),
               (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000)]  # fmt: skip
DEFAULT_IGNORABLE = [(0xAD, 0xAD), (0x34F, 0x34F), (0x61C, 0x61C), (0x115F, 0x1160), (0x17B4, 0x17B5),
                     (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
                     (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
                     (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF)]  # fmt: skip
INVISIBLE = [chr(c) for start, end in WHITE_SPACE + DEFAULT_IGNORABLE for c in range(start, end + 1)]


def test_every_character_unicode_says_shows_nothing_is_blank_alone_or_repeated() -> None:
    missed = [f"U+{ord(c):04X}" for c in INVISIBLE if not (is_blank(c) and is_blank(c * 3 + " "))]
    assert missed == []
    assert is_blank("")


def test_no_letter_number_punctuation_or_symbol_is_blank() -> None:
    drawn = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c))[0] in "LNPS"]
    blank = [f"U+{ord(c):04X}" for c in drawn if is_blank(c)]
    assert blank == ["U+115F", "U+1160", "U+2800", "U+3164", "U+FFA0"], "only the fillers Unicode draws as nothing"
    assert not is_blank("\u200ba\u200b")


def blank_texts(count: int = 40) -> list[str]:
    """Blank texts of one to eight characters, drawn from everything Unicode says shows nothing."""
    rng = random.Random(22)
    return ["\u200b", "\u2060\u200b", "\u00a0", "\ufeff \u3000"] + [
        "".join(rng.choice(INVISIBLE) for _ in range(rng.randint(1, 8))) for _ in range(count)
    ]


# How each kind of argument of a rule is given, so that every text a rule checks can be replaced in turn.
ARGUMENTS: dict[str, Callable[[str], Any]] = {
    "str": lambda name: "",
    "bool": lambda name: True,  # required=True, answering=True: the text is required
    "int": lambda name: 1,
    "date": lambda name: today(),
    "list[str]": lambda name: [],
    "Iterable[str]": lambda name: [],
    "Section": lambda name: V3.sections[0],
}
# Arguments that are not a person's text: the rule's own words, keys and the choices it is given.
NOT_TEXT = {"key", "missing", "what", "existing"}
QUOTED = {"groups.exclusion_errors(child_name)"}  # the name on the case record, quoted in the message
# Rules that judge something other than free text: a password's characters (a password of spaces is a password,
# NIST SP 800-63B), a username's characters (whether one is given is `text_errors`', walked through
# account_details_errors), choices from a list, checklist stage values, and query string names.
NOT_FREE_TEXT = {
    "username_errors", "username_clash_errors", "password_errors", "new_account_errors", "new_person_errors",
    "repeated_filter_errors", "escalation_stage_errors", "escalation_date_errors", "overdue_before", "roles_chosen",
}  # fmt: skip


def every_text_rule() -> list[tuple[str, Callable[..., dict[str, str]], dict[str, Any], str]]:
    """Every rule in `service.core` that returns messages by field, with arguments, and each text argument in turn:
    found by walking the modules, so a new rule is covered without being listed here."""
    found = []
    for module_info in pkgutil.iter_modules(service.core.__path__):
        module = importlib.import_module(f"service.core.{module_info.name}")
        for name, function in vars(module).items():
            if not inspect.isfunction(function) or function.__module__ != module.__name__ or name.startswith("_"):
                continue
            signature = inspect.signature(function)
            if signature.return_annotation != "dict[str, str]" or name in NOT_FREE_TEXT:
                continue
            kinds = {p.name: str(p.annotation) for p in signature.parameters.values()}
            if not all(kind in ARGUMENTS for kind in kinds.values()):
                continue  # given below: a correction, the reasons for stale records
            arguments = {p: ARGUMENTS[kind](p) for p, kind in kinds.items()}
            for parameter, kind in kinds.items():
                label = f"{module_info.name}.{name}({parameter})"
                if kind == "str" and parameter not in NOT_TEXT and label not in QUOTED:
                    found.append((label, function, arguments, parameter))
    return found


RULES = every_text_rule()


def test_the_rules_walked_include_every_required_text_named_in_the_review() -> None:
    names = {label for label, *_ in RULES}
    review = {
        "groups.apart_errors(reason)",
        "groups.exclusion_errors(reason)",
        "validation.transfer_reason_errors(reason)",
        "validation.workflow_reason_errors(reason)",
        "validation.reply_errors(reply)",
        "validation.confirmation_errors(readback)",
        "accounts.service_name_errors(name)",
    }
    assert review <= names
    assert len(RULES) >= 20


@pytest.mark.parametrize(("label", "rule", "arguments", "parameter"), RULES, ids=[r[0] for r in RULES])
def test_a_blank_text_gets_the_same_message_as_an_empty_one_in_every_rule(
    label: str, rule: Callable[..., dict[str, str]], arguments: dict[str, Any], parameter: str
) -> None:
    for filled in ("", "Text"):  # the other texts empty, then given
        given = {p: (filled if value == "" else value) for p, value in arguments.items()}
        empty = rule(**(given | {parameter: ""}))
        for blank in blank_texts():
            assert rule(**(given | {parameter: blank})) == empty, (label, blank.encode("unicode_escape"))


def test_a_corrected_case_record_and_the_reasons_for_stale_records_follow_the_same_rule() -> None:
    def correction(**changed: str) -> dict[str, str]:
        fields = {"reference": "T-1", "child_name": "Mia Test", "date_of_birth": "2015-03-14"} | changed
        return case_records.correction_errors(Correction(**fields, sibling_group_id=None, version=1))

    from service.core.currency import reason_errors

    stale = [StaleItem(key="visit", section_id="s", input_id="i", message="The last visit is old")]
    for blank in blank_texts():
        assert correction(child_name=blank) == correction(child_name="")
        assert correction(reference=blank) == correction(reference="")
        assert reason_errors(stale, {"visit": blank}) == reason_errors(stale, {})


def test_a_required_checklist_answer_of_invisible_characters_is_not_an_answer() -> None:
    from service.core.answers import _filled

    assert all(not _filled(blank) and not _filled([blank, ""]) for blank in blank_texts())
    assert _filled("a\u200b")


async def test_the_pages_and_the_api_refuse_invisible_reasons(site: Site) -> None:
    """The review's cases end to end: a reason to hand a child over apart from their siblings (page and API), and a
    reason to return a handover."""
    issued = await tokens(site)
    async with site.db.transaction() as conn:  # Liam, Mia's brother, is api_out's: the API starts his handover
        user = await db.user_by_username(conn, "api_out")
        assert user is not None
        await db.reallocate_case(conn, site.world.cases["liam"], user.id, site.world.teams["north"])
    out = await site.as_user("out")
    for blank in ("\u200b", "\u2060\u200b", "\u00ad\u180e"):
        page = await out.post(
            f"/cases/{site.world.cases['mia']}/handover",
            {"receiving_team": str(site.world.teams["cp"]), "receiver": "", "transfer_reason": "Step-up",
             "apart_reason": blank},
        )  # fmt: skip
        assert page.status_code == 400 and "Enter why the siblings are not moving together" in page.text
        body = {"receiving_team_id": site.world.teams["cp"], "transfer_reason": blank, "apart_reason": blank}
        url = f"/cases/{site.world.cases['liam']}/handovers"
        refused = error_shape(await call(site, issued["api_out"], "POST", url, body), 422)
        fields = {d["field"] for d in refused["details"]}
        assert {"transfer_reason", "apart_reason"} <= fields


# ---------------------------------------------------------------- the same filters everywhere


async def test_the_api_refuses_a_repeated_filter_as_the_page_does(site: Site) -> None:
    issued = await tokens(site)
    group = (await db.case_by_id(site.db.reader, site.world.cases["mia"])).sibling_group_id  # type: ignore[union-attr]
    for url in (f"/handovers?group={group}&group={group}", "/handovers?state=draft&state=submitted",
                "/exports/incomplete?team=1&team=2&format=csv"):  # fmt: skip
        body = error_shape(await call(site, issued["svc_aud"], "GET", url), 400, "bad_request")
        assert body["message"] == REPEATED_FILTERS
        assert body["details"] == [{"field": url.split("?")[1].split("=")[0], "message": "Choose this filter once"}]
    assert (await call(site, issued["svc_aud"], "GET", f"/handovers?group={group}")).status_code == 200
    error_shape(await call(site, issued["svc_aud"], "GET", "/handovers?group=99"), 404, "not_found")
    auditor = await site.as_user("aud")
    assert (await auditor.get(f"/audit/incomplete?group={group}&group={group}")).status_code == 400
    redirected = await auditor.get(f"/audit/incomplete/csv?group={group}&group=1")
    assert redirected.status_code == 303 and "/audit/incomplete?" in redirected.headers["location"]


async def test_the_api_handover_shows_its_group_and_the_children_left_out_with_why(site: Site) -> None:
    await add_children(site.db, site.world, ["Ava Ward", "Ben Ward", "Cal Ward"])
    group_id = await start_group(site.db, site.world, "ava", left_out={"cal": "Cal stays with his grandmother"})
    ava, ben = await member_ids(site.db, group_id)
    async with site.db.transaction() as conn:
        await db.create_api_token(conn, site.world.users["out"], token_hash("hov_out_token_for_tests"), "read")
    shown = (await call(site, "hov_out_token_for_tests", "GET", f"/handovers/{ava}")).json()
    assert shown["sibling_group"] == "Ward family"
    assert shown["group"] == {
        "id": group_id,
        "sibling_group_id": (await db.case_by_id(site.db.reader, site.world.cases["ava"])).sibling_group_id,  # type: ignore[union-attr]
        "sibling_group": "Ward family",
        "handover_ids": [ava, ben],
        "left_out": [{"case_id": site.world.cases["cal"], "child_name": "Cal Ward", "case_reference": "W-3",
                      "reason": "Cal stays with his grandmother"}],
    }  # fmt: skip
    assert shown["apart_from_siblings"] == []
    # a child handed over alone: the siblings staying behind, with why
    out = await site.as_user("out")
    response = await out.post(
        f"/cases/{site.world.cases['mia']}/handover",
        {"receiving_team": str(site.world.teams["cp"]), "receiver": "", "transfer_reason": "Step-up",
         "apart_reason": "Liam is settled where he is"},
    )  # fmt: skip
    assert response.status_code == 303
    alone = int(response.headers["location"].split("/")[2])
    shown = (await call(site, "hov_out_token_for_tests", "GET", f"/handovers/{alone}")).json()
    assert shown["group"] is None and shown["sibling_group"] == "Test family"
    assert [(c["child_name"], c["reason"]) for c in shown["apart_from_siblings"]] == [
        ("Liam Test", "Liam is settled where he is")
    ]
    schema = (await site.client.get("/schema/openapi.json")).json()
    fields = schema["components"]["schemas"]["HandoverOut"]["properties"]
    assert {"sibling_group", "group", "apart_from_siblings"} <= set(fields)
    assert "reason" in json.dumps(schema["components"]["schemas"]["ChildLeftOut"])


# ---------------------------------------------------------------- the command line


@pytest.fixture
def env(site: Site, monkeypatch: pytest.MonkeyPatch) -> Site:
    settings = site.app.state.settings
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HANDOVER_DATABASE_URL", settings.database_url)  # empty: SQLite, in the folder
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)
    return site


def os_user() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


async def entries(site: Site, action: str) -> list[Any]:
    return [e.entry for e in await db.audit_entries(site.db.reader, limit=1000) if e.entry.action == action]


async def test_export_of_a_group_not_on_record_exits_non_zero_and_says_why(
    env: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "kept.csv"
    out.write_text("an earlier export")
    code = await anyio.to_thread.run_sync(cli.main, ["export", "--incomplete", "--group", "99", "-o", str(out)])
    assert code == 2
    assert f"--group: {validation.NO_SUCH_SIBLING_GROUP}; nothing was exported" in capsys.readouterr().err
    assert out.read_text() == "an earlier export", "nothing is written over"
    assert await entries(env, "export") == []
    group = (await db.case_by_id(env.db.reader, env.world.cases["mia"])).sibling_group_id  # type: ignore[union-attr]
    assert await anyio.to_thread.run_sync(cli.main, ["export", "--incomplete", "--group", str(group)]) == 0


async def test_correct_case_names_the_administrator_and_the_operating_system_account(
    env: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    for blank in ("\u200b", "\u2060\u200b", "\u3000"):  # a blank name given on the command line is refused too
        with pytest.raises(SystemExit) as refused:
            await anyio.to_thread.run_sync(cli.main, ["correct-case", "T-3", "--name", blank, "--by", "adm"])
        assert "child_name: Enter the child's name" in str(refused.value.code)
    command = ["correct-case", "T-3", "--name", "Zoe Others"]
    with pytest.raises(SystemExit) as refused:
        await anyio.to_thread.run_sync(cli.main, [*command, "--by", "out"])
    assert "by:" in str(refused.value.code)
    assert await anyio.to_thread.run_sync(cli.main, [*command, "--by", "adm"]) == 0
    [entry] = await entries(env, "correct_case")
    assert entry.actor_id == env.world.users["adm"] and entry.details["os_user"] == os_user()
    assert await anyio.to_thread.run_sync(cli.main, ["correct-case", "T-3", "--name", "Zoe Other"]) == 0
    assert (await entries(env, "correct_case"))[-1].details["os_user"] == os_user(), "named even without --by"


async def test_name_manager_names_the_administrator_and_the_operating_system_account(env: Site) -> None:
    handover_id = await edge_handover(env)
    command = ["name-manager", str(handover_id), "--step", "approve", "--manager", "rmgr2"]
    with pytest.raises(SystemExit):
        await anyio.to_thread.run_sync(cli.main, [*command, "--by", "nobody"])
    assert await anyio.to_thread.run_sync(cli.main, [*command, "--by", "adm"]) == 0
    [entry] = await entries(env, "name_manager")
    assert entry.actor_id == env.world.users["adm"]
    assert entry.details["os_user"] == os_user() and entry.details["by"] == "an administrator"


# ---------------------------------------------------------------- a sibling group with an open handover


async def test_a_child_cannot_join_or_leave_a_group_while_its_handover_is_open(
    env: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    await add_children(env.db, env.world, ["Ava Dee", "Ben Dee"], group_name="Dee family")
    group_id = await start_group(env.db, env.world, "ava")
    joining = ["correct-case", "T-3", "--sibling-group", "Dee family", "--by", "adm"]
    with pytest.raises(SystemExit) as refused:
        await anyio.to_thread.run_sync(cli.main, joining)
    said = case_records.group_handover_open("Zoe Other", "Dee family", joining=True)
    assert f"sibling_group: {said}" in str(refused.value.code)
    zoe = await db.case_by_id(env.db.reader, env.world.cases["zoe"])
    assert zoe is not None and zoe.sibling_group_id is None and await entries(env, "correct_case") == []
    # the page says it by the field
    admin = await env.as_user("adm")
    dee = (await db.case_by_id(env.db.reader, env.world.cases["ava"])).sibling_group_id  # type: ignore[union-attr]
    page = await admin.post(
        f"/admin/cases/{zoe.id}",
        {"reference": "T-3", "child_name": "Zoe Other", "date_of_birth-day": "1", "date_of_birth-month": "1",
         "date_of_birth-year": "2012", "sibling_group": str(dee), "version": str(zoe.version)},
    )  # fmt: skip
    assert page.status_code == 400 and "Zoe Other cannot join Dee family while the group" in page.text
    # a child who is not part of the group's handover cannot leave the group either; once cancelled, both can
    async with env.db.transaction() as conn:
        await db.create_case(conn, "D-9", "Cy Dee", "2013-01-01", env.world.users["out"], env.world.teams["north"], dee)
    with pytest.raises(SystemExit) as refused:
        await anyio.to_thread.run_sync(cli.main, ["correct-case", "D-9", "--no-sibling-group"])
    assert case_records.group_handover_open("Cy Dee", "Dee family", joining=False) in str(refused.value.code)
    async with env.db.transaction() as conn:
        for handover_id in await member_ids(env.db, group_id):
            await conn.execute("UPDATE handovers SET state = 'cancelled' WHERE id = ?", (handover_id,))
    assert await anyio.to_thread.run_sync(cli.main, joining) == 0
    assert await anyio.to_thread.run_sync(cli.main, ["correct-case", "D-9", "--no-sibling-group"]) == 0


def _export_filter_options() -> dict[str, tuple[list[str], str]]:
    """Each filter option of `handover export` (read from the parser, so a filter added later is covered) with the
    words after it that it accepts (none for a flag) and the value it stores."""
    export = cli.parser()._subparsers._group_actions[0].choices["export"]  # type: ignore[union-attr]
    options = {}
    for action in export._actions:
        if isinstance(action, cli._Once) and action.nargs == 0:
            options[action.option_strings[-1]] = ([], str(action.const))
        elif isinstance(action, cli._Once):
            value = str(action.choices[0]) if action.choices else "1"
            options[action.option_strings[-1]] = ([value], value)
    return options


def test_every_export_filter_given_twice_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    from service.core.report import FILTER_ONCE

    options = _export_filter_options()
    assert {"--team", "--state", "--group", "--side", "--sort", "--blocker", "--min-days", "--overdue"} <= set(options)
    for option, (words, value) in options.items():
        with pytest.raises(SystemExit) as refused:
            cli.parser().parse_args(["export", "--incomplete", option, *words, option, *words])
        assert refused.value.code == 2
        assert f"{option}: {FILTER_ONCE}" in capsys.readouterr().err
        once = cli.parser().parse_args(["export", "--incomplete", option, *words])
        assert getattr(once, option.removeprefix("--").replace("-", "_")) == value
