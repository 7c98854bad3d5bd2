"""The audit trail: every change, view and sign-in is recorded in a hash chain that shows any tampering."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import traceback
from pathlib import Path

import msgspec
import psycopg
import pytest
from litestar.testing import AsyncTestClient

from service import actions, audit_trail, db
from service.actions.checkpoints import AnotherKey
from service.app import create_app
from service.core.audit import GENESIS, KEPT_SINCE_REMOVED, Entry, entry_hash, sign_checkpoint
from service.db.engine import has_table
from service.db.schema import AUDIT_CHECKPOINTS_VERSION
from service.settings import Settings
from tests.conftest import PASSWORD, Site, World, seed
from tests.helpers import handover_in, latest_form, raw_connection, settings_for_tests, start

pytestmark = pytest.mark.anyio


async def actions_in_log(site: Site) -> list[str]:
    return [e.entry.action for e in await db.audit_entries(site.db.reader)]


async def test_sign_ins_succeeded_and_failed_are_recorded_without_the_password(site: Site) -> None:
    person = await site.as_user(None)
    await person.sign_in("out", "wrong password here")
    await person.sign_in("nobody-at-all", "wrong password here")
    await person.sign_in("out")
    entries = [e.entry for e in await db.audit_entries(site.db.reader)]
    assert [e.action for e in entries] == ["sign_in_failed", "sign_in_failed", "sign_in"]
    assert entries[0].details == {"username": "out"}
    assert entries[1].details == {"account": "none with the username typed"} and entries[1].actor_id is None
    assert entries[2].actor_id == site.world.users["out"]
    raw = raw_connection(site.db).execute("SELECT group_concat(details) FROM audit_log").fetchone()[0]
    assert "wrong password" not in raw and PASSWORD not in raw and "nobody-at-all" not in raw
    await person.post("/sign-out")
    assert (await actions_in_log(site))[-1] == "sign_out"


async def test_every_change_and_every_view_of_a_handover_is_recorded(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/childs-views"
    await out.get(url)
    await out.post(url, latest_form("childs-views"))
    await out.get(f"/handovers/{handover_id}/view")
    entries = [e.entry for e in await db.audit_entries(site.db.reader) if e.entry.object_type == "handover"]
    assert [(e.action, e.details.get("page") or e.details.get("section")) for e in entries] == [
        ("start", None),
        ("view", "section childs-views"),
        ("save_section", "childs-views"),
        ("view", "handover"),
    ]
    save = entries[2]
    assert save.details["old_version"] == 0 and save.details["new_version"] == 1
    assert save.actor_id == site.world.users["out"] and save.object_id == handover_id


async def test_the_timeline_is_the_audit_log(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "closed", "mia")
    timeline = await db.timeline(site.db.reader, handover_id)
    logged = [e.entry for e in await db.audit_entries(site.db.reader)
              if e.entry.object_id == handover_id and e.entry.action != "view"]  # fmt: skip
    assert [(t.seq, t.action) for t in timeline] == [(e.seq, e.action) for e in logged]
    assert [t.action for t in timeline if t.action != "confirm"][-4:] == ["submit", "endorse", "acknowledge", "approve"]


async def test_the_log_refuses_updates_and_deletes(site: Site) -> None:
    await handover_in(site.db, site.world, "draft", "mia")
    conn = raw_connection(site.db)
    for statement in ("UPDATE audit_log SET action = 'x' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 1"):
        with pytest.raises((sqlite3.IntegrityError, psycopg.errors.IntegrityError), match="append-only"):
            conn.execute(statement)
        conn.rollback()
    conn.close()


@pytest.mark.sqlite_only
async def test_a_change_and_its_audit_entry_are_one_transaction(site: Site) -> None:
    """If the audit entry cannot be written, the change it records is not made either."""
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    async with site.db.transaction() as conn:
        await conn.execute("CREATE TRIGGER no_more BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'full'); END")
    form = latest_form("childs-views")
    response = await out.post(f"/handovers/{handover_id}/sections/childs-views", form)  # fmt: skip
    assert response.status_code == 500
    assert await db.sections_of(site.db.reader, handover_id) == {}


# ---------------------------------------------------------------- tampering, as someone holding the file would


async def trail(settings: Settings, database: db.Database, world: World) -> None:
    for number, state in enumerate(["closed", "endorsed", "returned"], start=1):
        await handover_in(database, world, state, f"c{number}")
    assert await actions.write_checkpoint(database, settings) is not None


def tamper(settings: Settings, *statements: str) -> None:
    conn = raw_connection(settings)
    conn.executescript("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


@pytest.fixture
async def logged(settings: Settings, database: db.Database) -> Settings:
    await trail(settings, database, await seed(database))
    checked, problems = await audit_trail.verify(settings)
    assert problems == [] and checked > 20
    return settings


def altered(seq: int) -> str:
    return f"entry {seq} has been altered (its hash does not match its contents and chain)"


@pytest.mark.parametrize(
    ("statements", "problem"),
    [
        (['UPDATE audit_log SET details = \'{"section":"forged"}\' WHERE seq = 7'], altered(7)),
        (["UPDATE audit_log SET actor_id = 99 WHERE seq = 3"], altered(3)),
        (["DELETE FROM audit_log WHERE seq = 5"], "entry 5 is missing or out of order (found entry 6 next)"),
        (
            [
                "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 6",
                "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1006",
                "INSERT INTO audit_log SELECT 6, at, actor_id, 'approve', object_type, object_id, details,"
                " prev_hash, hash FROM audit_log WHERE seq = 5",
            ],
            altered(6),
        ),
        (
            [
                "UPDATE audit_log SET seq = -1 WHERE seq = 4",
                "UPDATE audit_log SET seq = 4 WHERE seq = 5",
                "UPDATE audit_log SET seq = 5 WHERE seq = -1",
            ],
            altered(4),
        ),
    ],
    ids=["altered-details", "altered-actor", "deleted", "inserted", "reordered"],
)
@pytest.mark.sqlite_only
async def test_tampering_with_the_file_is_detected(logged: Settings, statements: list[str], problem: str) -> None:
    tamper(logged, *statements)
    _, problems = await audit_trail.verify(logged)
    assert problems == [problem]


@pytest.mark.sqlite_only
async def test_entries_deleted_from_the_end_are_caught_by_the_signed_checkpoint(logged: Settings) -> None:
    (checkpoint,) = audit_trail.read_checkpoints(logged.checkpoint_file)
    tamper(logged, "DELETE FROM audit_log WHERE seq > 20")
    checked, problems = await audit_trail.verify(logged)
    assert checked == 20
    assert problems == [
        f"the log ends at entry 20 but a signed checkpoint in the database records entry {checkpoint.seq}: "
        "entries have been removed from the end"
    ]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("at", "'2020-01-01T00:00:00+00:00'"),
        ("actor_id", "NULL"),
        ("action", "'approve'"),
        ("object_type", "'case'"),
        ("object_id", "object_id + 1"),
        ("details", "'{}'"),
        ("prev_hash", "'" + "0" * 64 + "'"),
        ("hash", "'" + "f" * 64 + "'"),
    ],
)
@pytest.mark.sqlite_only
async def test_each_column_an_entrys_hash_covers_altered_alone_is_caught(
    logged: Settings, column: str, value: str
) -> None:
    tamper(logged, f"UPDATE audit_log SET {column} = {value} WHERE seq = 12")
    checked, problems = await audit_trail.verify(logged)
    assert (checked, problems) == (11, [altered(12)])


def rewrite_chain(settings: Settings) -> str:
    """Entry 4 forged and every hash from there recomputed, as someone holding the database could; returns the new
    hash of the last entry."""
    conn = raw_connection(settings)
    conn.executescript("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
    rows = conn.execute("SELECT seq, at, actor_id, action, object_type, object_id, details FROM audit_log ORDER BY seq")
    prev = GENESIS
    for seq, at, actor_id, action, object_type, object_id, details in rows.fetchall():
        if seq == 4:
            details = json.dumps({"forged": True})
        entry = Entry(seq=seq, at=at, actor_id=actor_id, action=action, object_type=object_type,
                      object_id=object_id, details=json.loads(details))  # fmt: skip
        digest = entry_hash(prev, entry)
        conn.execute("UPDATE audit_log SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                     (details, prev, digest, seq))  # fmt: skip
        prev = digest
    conn.commit()
    conn.close()
    return prev


@pytest.mark.sqlite_only
async def test_a_rewritten_chain_is_caught_by_the_signed_checkpoint(logged: Settings) -> None:
    rewrite_chain(logged)
    (checkpoint,) = audit_trail.read_checkpoints(logged.checkpoint_file)
    _, problems = await audit_trail.verify(logged)
    assert problems == [
        f"entry {checkpoint.seq} does not match the signed checkpoint in the database: the chain was rewritten",
        f"entry {checkpoint.seq} does not match the signed checkpoint {in_file(logged)}: the chain was rewritten",
    ]


async def test_a_forged_checkpoint_is_reported(logged: Settings) -> None:
    text = logged.checkpoint_file.read_text()
    logged.checkpoint_file.write_text(text.replace('"signature":"', '"signature":"00', 1))
    _, problems = await audit_trail.verify(logged)
    assert any("bad signature" in p for p in problems)


def in_file(settings: Settings) -> str:
    return f"in the file {settings.checkpoint_file}"


def rewrite_checkpoint(settings: Settings, **changes: object) -> None:
    """The checkpoint file with one field of its only checkpoint changed and its signature kept."""
    (line,) = settings.checkpoint_file.read_text().splitlines()
    settings.checkpoint_file.write_text(json.dumps(json.loads(line) | changes) + "\n")


@pytest.mark.sqlite_only
@pytest.mark.parametrize("field", ["seq", "hash", "at", "signature"])
async def test_a_checkpoint_with_one_field_altered_and_its_signature_kept_is_reported(
    logged: Settings, field: str
) -> None:
    (checkpoint,) = audit_trail.read_checkpoints(logged.checkpoint_file)
    changes = {"seq": checkpoint.seq - 1, "hash": "e" * 64, "at": "2020-01-01T00:00:00+00:00", "signature": ""}
    rewrite_checkpoint(logged, **{field: changes[field]})
    seq = checkpoint.seq - 1 if field == "seq" else checkpoint.seq
    _, problems = await audit_trail.verify(logged)
    disagreement = f"the checkpoint at entry {seq} {in_file(logged)} records another hash than the one in the database"
    assert problems == [f"checkpoint at entry {seq} {in_file(logged)} has a bad signature"] + (
        [disagreement] if field == "hash" else []
    )


async def test_a_checkpoint_signed_with_an_empty_key_is_reported(logged: Settings) -> None:
    (checkpoint,) = audit_trail.read_checkpoints(logged.checkpoint_file)
    forged = sign_checkpoint(b"", checkpoint.seq, "e" * 64, checkpoint.at)
    rewrite_checkpoint(logged, hash=forged.hash, signature=forged.signature)
    _, problems = await audit_trail.verify(logged)
    assert problems == [
        f"checkpoint at entry {checkpoint.seq} {in_file(logged)} has a bad signature",
        f"the checkpoint at entry {checkpoint.seq} {in_file(logged)} records another hash than the one in the database",
    ]


async def test_checkpoints_do_not_verify_under_another_secret(logged: Settings) -> None:
    (checkpoint,) = audit_trail.read_checkpoints(logged.checkpoint_file)
    other = msgspec.structs.replace(logged, secret_key="another-secret-" + "y" * 32)
    _, problems = await audit_trail.verify(other)
    assert problems == [
        f"checkpoint at entry {checkpoint.seq} in the database has a bad signature",
        f"checkpoint at entry {checkpoint.seq} {in_file(logged)} has a bad signature",
    ]


def test_the_checkpoint_key_is_derived_from_the_secret_and_is_never_the_secret_itself(tmp_path: Path) -> None:
    settings = settings_for_tests(tmp_path)
    key = audit_trail.checkpoint_key(settings)
    assert key == hashlib.sha256(b"handover audit checkpoint\x00test-secret-" + b"x" * 32).digest()
    assert len(key) == 32 and settings.secret_key.encode() not in key
    assert audit_trail.checkpoint_key(settings_for_tests(tmp_path, secret_key="test-secret-" + "z" * 32)) != key


# ---------------------------------------------------------------- checkpoints every instance writes to one place


def table_rows(settings: Settings) -> list[tuple[int, str, str, str]]:
    conn = raw_connection(settings)
    rows = conn.execute("SELECT seq, hash, at, signature FROM audit_checkpoints ORDER BY seq").fetchall()
    conn.close()
    return rows


def tamper_with_checkpoints(settings: Settings, *statements: str) -> None:
    conn = raw_connection(settings)
    conn.executescript("DROP TRIGGER audit_checkpoints_no_update; DROP TRIGGER audit_checkpoints_no_delete;")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


async def a_change(database: db.Database, number: int) -> None:
    async with database.transaction() as conn:
        await db.append_audit(conn, None, "view", "report", None, {"page": number})


@pytest.mark.sqlite_only  # reads or alters the SQLite file directly
async def test_two_instances_signing_at_once_keep_one_checkpoint_per_entry(settings: Settings) -> None:
    """Two instances of the service on one database, each changing records and signing the chain's end at the same
    moments: each entry signed is kept once, in the database and in the exported file, and the trail verifies."""
    first, second = db.SqliteDatabase(settings.database), db.SqliteDatabase(settings.database)
    await first.open()
    await second.open()
    try:
        await seed(first)
        signed = []
        for round_ in range(15):
            results = await asyncio.gather(
                a_change(first, round_),
                a_change(second, round_),
                actions.write_checkpoint(first, settings),
                actions.write_checkpoint(second, settings),
                actions.write_checkpoint(first, settings),
                actions.write_checkpoint(second, settings),
            )
            signed += [result for result in results[2:] if result is not None]
    finally:
        await first.close()
        await second.close()
    rows = table_rows(settings)
    lines = audit_trail.read_checkpoints(settings.checkpoint_file)
    assert len(rows) >= 15, "the chain's end was signed at least once a round, as it moved"
    assert sorted((c.seq, c.hash, c.at, c.signature) for c in lines) == rows, "each row once in the file, and no more"
    assert {(c.seq, c.signature) for c in signed} <= {(seq, signature) for seq, _, _, signature in rows}
    checked, problems = await audit_trail.verify(settings)
    assert problems == [] and checked == (await last_seq(settings))


async def last_seq(settings: Settings) -> int:
    async with db.open_read_only(settings.database) as conn:
        seq, _ = await db.last_audit_entry(conn)
    return seq


@pytest.mark.sqlite_only  # reads or alters the SQLite file directly
async def test_a_checkpoint_another_instance_wrote_first_stands_and_is_not_written_again(
    settings: Settings, database: db.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two instances that both find the chain's end not yet signed (PostgreSQL lets them look at the same moment) both
    sign it; the row written first stands, is what the second is given, and the second writes no line of its own."""
    await trail(settings, database, await seed(database))
    await a_change(database, 1)
    (earlier,) = audit_trail.read_checkpoints(settings.checkpoint_file)
    seq = await last_seq(settings)
    theirs = sign_checkpoint(audit_trail.checkpoint_key(settings), seq, "f" * 64, "2020-01-01T00:00:00+00:00")
    async with database.transaction() as conn:
        assert await db.insert_audit_checkpoint(conn, theirs) is True
    looked: list[int] = []

    async def not_yet_signed(conn: db.Conn) -> object:
        looked.append(1)
        return earlier if len(looked) == 1 else await latest(conn)

    latest = db.latest_audit_checkpoint
    monkeypatch.setattr(db, "latest_audit_checkpoint", not_yet_signed)
    assert await actions.write_checkpoint(database, settings) == theirs
    assert [row[0] for row in table_rows(settings)] == [earlier.seq, seq]
    assert table_rows(settings)[-1][2] == "2020-01-01T00:00:00+00:00", "the row written first stands"
    assert audit_trail.read_checkpoints(settings.checkpoint_file) == [earlier], "no line for a row not written here"


@pytest.mark.sqlite_only  # reads or alters the SQLite file directly
async def test_a_checkpoint_is_written_once_while_the_chain_stays_where_it_was(
    settings: Settings, database: db.Database
) -> None:
    await seed(database)
    assert await actions.write_checkpoint(database, settings) is None, "nothing to sign in an empty log"
    await a_change(database, 1)
    first = await actions.write_checkpoint(database, settings)
    assert first is not None
    assert await actions.write_checkpoint(database, settings) == first
    assert len(table_rows(settings)) == 1 and audit_trail.read_checkpoints(settings.checkpoint_file) == [first]


@pytest.mark.sqlite_only  # reads or alters the SQLite file directly
async def test_the_checkpoints_in_the_database_refuse_updates_and_deletes(logged: Settings) -> None:
    conn = sqlite3.connect(logged.database)
    for statement in ("UPDATE audit_checkpoints SET hash = 'x'", "DELETE FROM audit_checkpoints"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(statement)
    conn.close()


@pytest.mark.sqlite_only  # reads or alters the SQLite file directly
async def test_a_checkpoint_row_with_its_hash_altered_is_reported_by_name(logged: Settings) -> None:
    (checkpoint,) = audit_trail.read_checkpoints(logged.checkpoint_file)
    tamper_with_checkpoints(logged, f"UPDATE audit_checkpoints SET hash = '{'e' * 64}'")
    _, problems = await audit_trail.verify(logged)
    assert problems == [
        f"checkpoint at entry {checkpoint.seq} in the database has a bad signature",
        f"the checkpoint at entry {checkpoint.seq} {in_file(logged)} records another hash than the one in the database",
    ]


@pytest.mark.sqlite_only  # reads or alters the SQLite file directly
async def test_a_checkpoint_row_removed_is_reported_from_the_file(logged: Settings) -> None:
    (checkpoint,) = audit_trail.read_checkpoints(logged.checkpoint_file)
    # the database has kept checkpoints for a while (here it was upgraded in the second the checkpoint was signed,
    # and a line signed in that second may have come from the version before, which wrote the file alone)
    tamper_with_checkpoints(
        logged,
        "UPDATE schema_migrations SET applied_at = '2020-01-01T00:00:00+00:00'"
        f" WHERE version = {AUDIT_CHECKPOINTS_VERSION}",
        "DELETE FROM audit_checkpoints",
    )
    _, problems = await audit_trail.verify(logged)
    assert problems == [
        f"the checkpoint at entry {checkpoint.seq} {in_file(logged)} is missing in the database: "
        "checkpoints have been removed there"
    ]


@pytest.mark.sqlite_only  # reads or alters the SQLite file directly
async def test_an_instance_without_the_file_verifies_against_the_database(logged: Settings) -> None:
    (checkpoint,) = audit_trail.read_checkpoints(logged.checkpoint_file)
    logged.checkpoint_file.unlink()
    checked, problems = await audit_trail.verify(logged)
    assert (checked, problems) == (checkpoint.seq, [])
    tamper(logged, "DELETE FROM audit_log WHERE seq > 20")
    _, problems = await audit_trail.verify(logged)
    assert problems == [
        f"the log ends at entry 20 but a signed checkpoint in the database records entry {checkpoint.seq}: "
        "entries have been removed from the end"
    ]


@pytest.mark.sqlite_only  # reads or alters the SQLite file directly
@pytest.mark.parametrize("with_file", [True, False], ids=["with the file", "without the file"])
async def test_the_record_of_when_checkpoints_began_removed_is_reported_and_trusts_nothing_less(
    logged: Settings, with_file: bool
) -> None:
    """The table of migrations has no trigger; deleting its row for the checkpoints' table once made the database's
    checkpoints look never kept, and a log cut short after it verified as intact."""
    (checkpoint,) = audit_trail.read_checkpoints(logged.checkpoint_file)
    if not with_file:
        logged.checkpoint_file.unlink()
    tamper(logged, f"DELETE FROM schema_migrations WHERE version = {AUDIT_CHECKPOINTS_VERSION}")
    _, problems = await audit_trail.verify(logged)
    assert problems == [KEPT_SINCE_REMOVED]
    conn = raw_connection(logged)  # the log's triggers are gone already
    conn.execute("DELETE FROM audit_log WHERE seq > 20")
    conn.commit()
    conn.close()
    _, problems = await audit_trail.verify(logged)
    ends = f"the log ends at entry 20 but a signed checkpoint in the database records entry {checkpoint.seq}: "
    assert problems == [KEPT_SINCE_REMOVED, ends + "entries have been removed from the end"]


@pytest.mark.sqlite_only  # reads or alters the SQLite file directly
async def test_with_the_record_removed_a_checkpoint_removed_from_the_database_is_found_from_the_file(
    logged: Settings,
) -> None:
    (checkpoint,) = audit_trail.read_checkpoints(logged.checkpoint_file)
    tamper(logged, f"DELETE FROM schema_migrations WHERE version = {AUDIT_CHECKPOINTS_VERSION}")
    tamper_with_checkpoints(logged, "DELETE FROM audit_checkpoints")
    _, problems = await audit_trail.verify(logged)
    assert problems == [
        KEPT_SINCE_REMOVED,
        f"the checkpoint at entry {checkpoint.seq} {in_file(logged)} is missing in the database: "
        "checkpoints have been removed there",
    ]


@pytest.mark.sqlite_only  # reads or alters the SQLite file directly
async def test_entries_cut_from_the_end_are_reported_beside_a_checkpoint_with_a_bad_signature(logged: Settings) -> None:
    (checkpoint,) = audit_trail.read_checkpoints(logged.checkpoint_file)
    tamper(logged, "DELETE FROM audit_log WHERE seq > 20")
    rewrite_checkpoint(logged, signature="")
    _, problems = await audit_trail.verify(logged)
    assert problems == [
        f"checkpoint at entry {checkpoint.seq} {in_file(logged)} has a bad signature",
        f"the log ends at entry 20 but a signed checkpoint in the database records entry {checkpoint.seq}: "
        "entries have been removed from the end",
    ]


@pytest.mark.sqlite_only  # reads or alters the SQLite file directly
async def test_a_chain_rewritten_with_its_checkpoint_row_to_match_is_caught(logged: Settings) -> None:
    """Someone holding the database rewrites the chain and writes its new end's hash into the checkpoint's row: they
    cannot sign it, and the exported line still holds the hash signed before."""
    (checkpoint,) = audit_trail.read_checkpoints(logged.checkpoint_file)
    new_end = rewrite_chain(logged)
    tamper_with_checkpoints(logged, f"UPDATE audit_checkpoints SET hash = '{new_end}'")
    _, problems = await audit_trail.verify(logged)
    assert problems == [
        f"checkpoint at entry {checkpoint.seq} in the database has a bad signature",
        f"the checkpoint at entry {checkpoint.seq} {in_file(logged)} records another hash than the one in the database",
        f"entry {checkpoint.seq} does not match the signed checkpoint {in_file(logged)}: the chain was rewritten",
    ]


@pytest.mark.sqlite_only  # reads or alters the SQLite file directly
async def test_file_lines_from_before_the_database_kept_checkpoints_still_count(logged: Settings) -> None:
    """An upgraded service's file holds lines signed before the database had its table: they are not reported as
    missing there, and the chain is still checked against them."""
    key = audit_trail.checkpoint_key(logged)
    async with db.open_read_only(logged.database) as conn:
        entries = await db.audit_entries(conn)
    older = sign_checkpoint(key, 5, entries[4].hash, "2020-01-01T00:00:00+00:00")
    lines = logged.checkpoint_file.read_text()
    logged.checkpoint_file.write_text(msgspec.json.encode(older).decode() + "\n" + lines)
    assert await audit_trail.verify(logged) == (len(entries), [])
    forged = sign_checkpoint(key, 5, "e" * 64, "2020-01-01T00:00:00+00:00")
    logged.checkpoint_file.write_text(msgspec.json.encode(forged).decode() + "\n" + lines)
    _, problems = await audit_trail.verify(logged)
    assert problems == [f"entry 5 does not match the signed checkpoint {in_file(logged)}: the chain was rewritten"]


@pytest.mark.sqlite_only  # reads or alters the SQLite file directly
async def test_a_database_not_yet_upgraded_is_verified_against_the_file(logged: Settings) -> None:
    """`handover audit verify` run before the service has started on a version that keeps checkpoints in the
    database: the file's checkpoints still count."""
    conn = sqlite3.connect(logged.database)
    conn.execute("DROP TABLE audit_checkpoints")
    conn.execute("DELETE FROM schema_migrations WHERE version >= ?", (AUDIT_CHECKPOINTS_VERSION,))
    conn.commit()
    conn.close()
    (checkpoint,) = audit_trail.read_checkpoints(logged.checkpoint_file)
    assert (await audit_trail.verify(logged))[1] == []
    tamper(logged, "DELETE FROM audit_log WHERE seq > 20")
    _, problems = await audit_trail.verify(logged)
    assert problems == [
        f"the log ends at entry 20 but a signed checkpoint {in_file(logged)} records entry {checkpoint.seq}: "
        "entries have been removed from the end"
    ]


async def test_an_instance_with_another_secret_neither_starts_nor_signs(tmp_path: Path) -> None:
    """Every instance must sign with the same secret: one set up with another would sign checkpoints that make the
    trail fail verification for good, so it refuses to start and `handover audit checkpoint` signs nothing."""
    first = settings_for_tests(tmp_path, secret_key="a" * 40)
    async with db.Database.for_settings(first).opened() as database:
        world = await seed(database)
        await handover_in(database, world, "draft", "mia")
        kept = await actions.write_checkpoint(database, first)
        assert kept is not None
        await handover_in(database, world, "draft", "liam")
        other = msgspec.structs.replace(first, secret_key="b" * 40)
        with pytest.raises(AnotherKey, match=f"the latest is at entry {kept.seq}"):
            await actions.write_checkpoint(database, other)
        assert await db.latest_audit_checkpoint(database.reader) == kept, "nothing was signed"
    app = create_app(msgspec.structs.replace(first, secret_key="b" * 40))
    with pytest.raises(BaseException) as refused:  # the framework wraps what stopped its start-up
        async with AsyncTestClient(app=app):
            pass
    assert "is not the secret that signed the audit checkpoints" in "".join(traceback.format_exception(refused.value))
    async with AsyncTestClient(app=create_app(first)) as client:  # the right secret starts as before
        assert (await client.get("/readyz")).status_code == 200


async def test_the_engine_tells_a_table_that_is_there_from_one_that_is_not(database: db.Database) -> None:
    assert await has_table(database.reader, "audit_checkpoints")
    assert not await has_table(database.reader, "audit_checkpoint")


@pytest.mark.parametrize(
    "damage",
    [b'{"seq": 3, "hash": "ab', b"not json", b'{"seq": "three"}', b"[]"],
    ids=["half-written", "not JSON", "wrong types", "not an object"],
)
async def test_a_line_of_the_file_that_is_no_checkpoint_is_reported_and_the_rest_still_checked(
    logged: Settings, damage: bytes
) -> None:
    """A machine that stops while a line is appended leaves half of it; verify said so with a traceback and checked
    nothing. The next checkpoint is a line of its own."""
    (checkpoint,) = audit_trail.read_checkpoints(logged.checkpoint_file)
    with logged.checkpoint_file.open("ab") as out:
        out.write(damage)
    _, problems = await audit_trail.verify(logged)
    (problem,) = problems
    assert problem.startswith(f"line 2 {in_file(logged)} is not a checkpoint: ")
    audit_trail.append_to_file(logged.checkpoint_file, checkpoint)  # as the next checkpoint is
    lines = logged.checkpoint_file.read_bytes().splitlines()
    assert lines[1] == damage and len(audit_trail.read_checkpoints(logged.checkpoint_file)) == 2
    _, problems = await audit_trail.verify(logged)
    assert problems == [problem]
