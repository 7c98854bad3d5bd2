"""The `handover` command: the same actions and the same report as the web pages."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from service import cli, db
from service.app import create_app
from service.settings import Settings, SettingsError, settings_from_env
from tests.conftest import Browser, seed
from tests.helpers import handover_in, settings_for_tests

# The commands' own behaviour, checked by reading the SQLite file they write; on PostgreSQL the commands that matter
# there are driven by tests/test_migrate_to_postgres.py and tests/test_two_instances.py
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = settings_for_tests(tmp_path)
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)
    return settings


def populate(settings: Settings) -> None:
    async def run() -> None:
        database = db.Database.for_settings(settings)
        await database.open()
        world = await seed(database)
        for number, state in enumerate(["draft", "submitted", "endorsed", "closed", "returned"], start=1):
            await handover_in(database, world, state, f"c{number}")
        await database.close()

    asyncio.run(run())


def web_export(settings: Settings, query: str) -> bytes:
    async def run() -> bytes:
        async with AsyncTestClient(app=create_app(settings)) as client:
            auditor = Browser(client)
            assert (await auditor.sign_in("aud")).status_code == 303
            response = await auditor.get(f"/audit/incomplete/jsonl?{query}")
            assert response.status_code == 200
            return response.content

    return asyncio.run(run())


def test_cli_and_web_export_give_the_same_rows_for_the_same_filters(env: Settings, tmp_path: Path) -> None:
    populate(env)
    out = tmp_path / "export.jsonl"
    assert cli.main(["export", "--incomplete", "--format", "jsonl", "--state", "endorsed", "-o", str(out)]) == 0
    from_cli = [json.loads(line) for line in out.read_text().splitlines()]
    from_web = [json.loads(line) for line in web_export(env, "state=endorsed").decode().splitlines()]
    assert len(from_cli) == 1 and from_cli == from_web
    assert cli.main(["export", "--incomplete", "--format", "csv", "--sort", "newest", "-o", str(out)]) == 0
    assert len(out.read_bytes().decode("utf-8-sig").strip().split("\r\n")) == 1 + 4, "header and four open"


def test_export_refuses_bad_filters(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    populate(env)
    assert cli.main(["export", "--incomplete", "--state", "limbo"]) == 2
    assert "handover export:" in capsys.readouterr().err


def test_audit_verify_passes_then_fails_after_tampering(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    populate(env)
    assert cli.main(["audit", "checkpoint"]) == 0
    assert cli.main(["audit", "verify"]) == 0
    assert "The audit trail is intact" in capsys.readouterr().out
    conn = sqlite3.connect(env.database)
    conn.executescript("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 3;")
    conn.close()
    assert cli.main(["audit", "verify"]) == 1
    assert "entry 3 is missing" in capsys.readouterr().out


def test_audit_verify_checks_the_checkpoints_in_the_database_where_there_is_no_file(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """On an instance that did not write the checkpoint file (another instance's disk has it), the checkpoints in the
    database are still there to check the chain against, and the verification says which it used."""
    populate(env)
    assert cli.main(["audit", "checkpoint"]) == 0
    seq = int(capsys.readouterr().out.split()[-1])
    assert cli.main(["audit", "verify"]) == 0
    assert capsys.readouterr().out == (
        f"The audit trail is intact: {seq} entries, 1 signed checkpoint in the database, 1 in the file "
        f"{env.checkpoint_file}.\n"
    )
    env.checkpoint_file.unlink()
    assert cli.main(["audit", "verify"]) == 0
    assert capsys.readouterr().out == (
        f"The audit trail is intact: {seq} entries, 1 signed checkpoint in the database (no checkpoint file here: "
        f"{env.checkpoint_file}).\n"
    )
    conn = sqlite3.connect(env.database)
    conn.executescript(f"DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq > {seq - 2};")
    conn.close()
    assert cli.main(["audit", "verify"]) == 1
    assert (
        f"the log ends at entry {seq - 2} but a signed checkpoint in the database records entry {seq}"
        in capsys.readouterr().out
    )


def test_init_db_and_create_user(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["init-db"]) == 0
    args = ["create-user", "jsmith", "--name", "J Smith", "--password", "long enough pass", "--worker", "North"]
    assert cli.main(args) == 0
    with pytest.raises(SystemExit, match="already a user"):
        cli.main(args)

    async def check() -> None:
        database = db.SqliteDatabase(env.database)
        await database.open()
        user = await db.user_by_username(database.reader, "jsmith")
        assert user is not None and user.name == "J Smith"
        assert [m.role for m in await db.memberships(database.reader, user.id)] == ["worker"]
        await database.close()

    asyncio.run(check())


def test_production_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="HANDOVER_SECRET_KEY must be set"):
        settings_from_env({"HANDOVER_MODE": "production", "HANDOVER_DATA_DIR": str(tmp_path)})
    demo = settings_from_env({"HANDOVER_DATA_DIR": str(tmp_path)})
    again = settings_from_env({"HANDOVER_DATA_DIR": str(tmp_path)})
    assert demo.secret_key == again.secret_key and len(demo.secret_key) >= 32, "generated once and kept"


def test_a_bad_checklist_stops_every_command(tmp_path: Path, env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "lists"
    folder.mkdir()
    (folder / "broken.toml").write_text('id = "x"\nversion = 1\ntitle = "X"\nsections = []\n')
    monkeypatch.setenv("HANDOVER_CHECKLISTS_DIR", str(folder))
    assert cli.main(["init-db"]) == 2


def test_token_create_and_revoke(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    populate(env)
    assert cli.main(["token", "create", "--account", "cms", "--scope", "read", "--auditor"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("hov_")

    async def use(expected: int) -> None:
        async with AsyncTestClient(app=create_app(env)) as client:
            response = await client.get("/api/v1/handovers", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == expected

    asyncio.run(use(200))
    raw = sqlite3.connect(env.database).execute("SELECT token_hash FROM api_tokens").fetchone()[0]
    assert token not in raw, "tokens are stored hashed"
    assert cli.main(["token", "revoke", "1"]) == 0
    asyncio.run(use(401))
    with pytest.raises(SystemExit, match="is a person"):
        cli.main(["token", "create", "--account", "out", "--scope", "read"])


def test_import_cases_all_or_nothing(env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    populate(env)
    header = "reference,child_name,date_of_birth,worker_username,team,sibling_group\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "NEW-1,Ava New,2016-02-03,out,North Team,New family\n"
                   "T-1,Dup Ref,2016-02-03,out,North Team,\n"
                   "NEW-2,Bo New,2016-02-30,rec,North Team,New family\n")  # fmt: skip
    assert cli.main(["import", "cases", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "line 3: reference: A case with this reference already exists" in err
    assert "line 4: date_of_birth: Enter the date of birth as a real date" in err
    assert "line 4: worker_username: The allocated worker must be a social worker in the allocated team" in err
    good = tmp_path / "good.csv"
    good.write_text(header + "NEW-1,Ava New,2016-02-03,out,North Team,New family\n"
                    "NEW-2,Bo New,2017-02-03,out,North Team,New family\n")  # fmt: skip

    async def count() -> int:
        database = db.SqliteDatabase(env.database)
        await database.open()
        found = await db.case_by_reference(database.reader, "NEW-2")
        await database.close()
        return 0 if found is None else found.sibling_group_id or -1

    assert asyncio.run(count()) == 0, "nothing from the bad file was imported"
    assert cli.main(["import", "cases", str(good)]) == 0
    assert asyncio.run(count()) > 0
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("ref,name\nx,y\n")
    assert cli.main(["import", "cases", str(wrong)]) == 1


def test_a_backup_and_a_restore_are_each_in_the_audit_trail(env: Settings, tmp_path: Path) -> None:
    populate(env)
    copy = tmp_path / "copy.db"
    assert cli.main(["backup", str(copy)]) == 0
    assert cli.main(["restore", str(copy)]) == 0

    def actions_in(path: Path) -> list[str]:
        return [row[0] for row in sqlite3.connect(path).execute("SELECT action FROM audit_log ORDER BY seq")]

    assert actions_in(copy)[-1] == "backup", "the copy records that it was taken"
    assert actions_in(env.database)[-2:] == ["backup", "restore"]
    assert cli.main(["audit", "verify"]) == 0, "the restored chain still verifies"


def test_a_backup_never_overwrites_a_file_and_one_that_cannot_be_written_is_recorded_as_failed(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(env)
    earlier = tmp_path / "earlier.db"
    earlier.write_bytes(b"the last good backup")
    assert cli.main(["backup", str(earlier)]) == 1
    assert "already exists" in capsys.readouterr().out and earlier.read_bytes() == b"the last good backup"
    assert cli.main(["backup", str(earlier / "copy.db")]) == 1  # a file stands where its folder would be
    assert "could not be written" in capsys.readouterr().out
    actions = [row[0] for row in sqlite3.connect(env.database).execute("SELECT action FROM audit_log ORDER BY seq")]
    assert actions[-2:] == ["backup", "backup_failed"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["backup", ""], "give the name of a file"),
        (["backup", "a\x00b"], "cannot hold a control character"),
        (["restore", "x" * 300], "the file name is too long"),
        (["export", "--incomplete", "-o", "d/" * 2100], "the file name is too long"),
        (["import", "cases", "caf\udce9.csv"], "holds bytes that are not UTF-8 text"),
        (["create-user", "caf\udce9", "--name", "X"], "holds bytes that are not UTF-8 text"),
    ],
)
def test_file_and_text_arguments_are_refused_by_name_without_a_traceback(
    env: Settings, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err) < 1000


def test_an_export_that_cannot_be_written_is_not_recorded_and_one_that_is_records_its_delivery(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(env)
    assert cli.main(["export", "--incomplete", "-o", str(tmp_path / "missing" / "x.csv")]) == 1
    assert "nothing was exported" in capsys.readouterr().err
    assert cli.main(["export", "--incomplete", "-o", str(tmp_path / "x.csv")]) == 0
    rows = sqlite3.connect(env.database).execute("SELECT action, details FROM audit_log ORDER BY seq").fetchall()
    assert [a for a, _ in rows].count("export") == 1
    assert rows[-1][0] == "export_delivered"


@pytest.mark.parametrize("name", ["n\x1b[31m", "a\u202eb", "n" * 201])
def test_a_service_accounts_system_name_follows_the_rules_for_names(env: Settings, name: str) -> None:
    populate(env)
    with pytest.raises(SystemExit) as refused:
        cli.main(["token", "create", "--account", "svc_new", "--name", name, "--scope", "read", "--auditor"])
    assert "The system's name" in str(refused.value.code)
    count = sqlite3.connect(env.database).execute("SELECT COUNT(*) FROM users WHERE username = 'svc_new'").fetchone()
    assert count == (0,)


def test_create_user_without_a_terminal_or_a_password_says_so_and_checks_the_name_first(env: Settings) -> None:
    with pytest.raises(SystemExit) as refused:
        cli.main(["create-user", "zed", "--name", "Zed", "--worker", "North Team"])  # standard input is not a terminal
    assert "Give --password, or run this in a terminal" in str(refused.value.code)
    with pytest.raises(SystemExit) as refused:
        cli.main(["create-user", "z" * 201, "--name", "Zed"])
    assert "username" in str(refused.value.code) and "password" not in str(refused.value.code)
