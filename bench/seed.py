"""Fill a database quickly with realistic volumes for the benchmarks (not through the web layer: that is measured
separately). Every handover gets its sections, confirmations where it has reached the receiver, and audit entries
that form a valid hash chain, so the report and the audit verifier see what a busy service would hold."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from bench.store import Connection, Store
from service import db
from service.actions.demo import complete_answers
from service.checklist import load_all
from service.core.answers import SectionAnswers
from service.core.audit import GENESIS, Entry, entry_hash
from service.core.clock import today
from service.passwords import hash_password
from service.settings import PROJECT_ROOT

STATES = ["draft", "submitted", "endorsed", "returned", "acknowledged", "closed", "cancelled"]
WEIGHTS = [30, 10, 15, 5, 10, 25, 5]
TEAMS = 12
WORKERS_PER_TEAM = 8
PASSWORD = "benchmark-password"


def build(path: Path, handovers: int, cases: int | None = None, audit_per_handover: int = 3) -> None:
    """Create the schema through the service's own migrations, then bulk-insert rows in one transaction."""
    if path.exists():
        path.unlink()

    async def migrate() -> None:
        database = db.SqliteDatabase(path, "NORMAL")
        await database.open()
        await database.close()

    asyncio.run(migrate())
    checklist = load_all(PROJECT_ROOT / "checklists")[("case-transfer", 1)]
    answers = complete_answers(checklist, datetime.now(UTC).date())
    encoded = {sid: msgspec.json.encode(a).decode() for sid, a in answers.items()}
    critical = {s.id for s in checklist.sections if s.critical or s.critical_when}
    rng = random.Random(20261127)
    cases = cases or handovers
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    password_hash = hash_password(PASSWORD)
    now = datetime.now(UTC)
    stamp = now.isoformat(timespec="seconds")
    conn.executemany("INSERT INTO teams (id, name) VALUES (?, ?)", [(t, f"Team {t}") for t in range(1, TEAMS + 1)])
    users: list[tuple[int, str, str, int, str]] = []
    for team in range(1, TEAMS + 1):
        for n in range(WORKERS_PER_TEAM):
            users.append((len(users) + 1, f"w{team}_{n}", f"Worker {team}-{n}", team, "worker"))
        users.append((len(users) + 1, f"m{team}", f"Manager {team}", team, "manager"))
    conn.executemany(
        "INSERT INTO users (id, username, name, password_hash, created_at, email) VALUES (?, ?, ?, ?, ?, ?)",
        [(u[0], u[1], u[2], password_hash, stamp, f"{u[1]}@benchmark.example") for u in users],
    )
    conn.execute(
        "INSERT INTO users (id, username, name, password_hash, is_auditor, created_at) VALUES (?, 'auditor', "
        "'Auditor', ?, 1, ?)",
        (len(users) + 1, password_hash, stamp),
    )
    conn.executemany("INSERT INTO memberships VALUES (?, ?, ?)", [(u[0], u[3], u[4]) for u in users])
    workers = [u for u in users if u[4] == "worker"]
    conn.executemany(
        "INSERT INTO cases (id, reference, child_name, date_of_birth, allocated_worker_id, allocated_team_id,"
        " allocated_since) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (c, f"CS-{c:07d}", f"Child {c}", "2015-01-01", workers[c % len(workers)][0],
             workers[c % len(workers)][3], stamp)
            for c in range(1, cases + 1)
        ],
    )  # fmt: skip
    handover_rows, section_rows, confirmation_rows = [], [], []
    used_open: set[int] = set()
    for h in range(1, handovers + 1):
        state = rng.choices(STATES, WEIGHTS)[0]
        case_id = (h - 1) % cases + 1
        if state not in ("closed", "cancelled"):
            if case_id in used_open:
                state = "closed"
            used_open.add(case_id)
        author = workers[case_id % len(workers)]
        receiving_team = (author[3] % TEAMS) + 1
        receiver = workers[(receiving_team - 1) * WORKERS_PER_TEAM + h % WORKERS_PER_TEAM]
        started = now - timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 600))
        started_text = started.isoformat(timespec="seconds")
        reached_receiver = state in ("endorsed", "acknowledged", "closed")
        handover_rows.append((
            h, case_id, "case-transfer", 1, state, author[0], author[3], receiving_team, receiver[0], "Step-up",
            started_text, None if state == "draft" else started_text,
            receiving_team * (WORKERS_PER_TEAM + 1) if reached_receiver else None,
            receiver[0] if state in ("acknowledged", "closed") else None, started_text, started_text,
        ))  # fmt: skip
        complete_count = len(encoded) if state != "draft" else rng.randint(0, len(encoded))
        for index, (section_id, text) in enumerate(encoded.items()):
            if index < complete_count:
                section_rows.append((h, section_id, text, "completed", 1, started_text, author[0],
                                     section_id in critical))  # fmt: skip
                if reached_receiver and section_id in critical and (state != "endorsed" or index % 2):
                    confirmation_rows.append((h, section_id, receiver[0], "Taken on as described.", started_text))
    conn.executemany(
        "INSERT INTO handovers (id, case_id, checklist_id, checklist_version, state, author_id, sending_team_id,"
        " receiving_team_id, receiver_id, transfer_reason, started_at, submitted_at, endorsed_by, acknowledged_by,"
        " state_since, last_activity_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        handover_rows,
    )
    conn.executemany(
        "INSERT INTO sections (handover_id, section_id, answers, status, version, updated_at, updated_by, critical)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        section_rows,
    )
    conn.executemany("INSERT INTO confirmations VALUES (?, ?, ?, ?, ?)", confirmation_rows)
    _audit(conn, handovers * audit_per_handover, handovers, stamp)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def _audit(conn: sqlite3.Connection, count: int, handovers: int, stamp: str) -> None:
    prev = GENESIS
    rows = []
    for seq in range(1, count + 1):
        entry = Entry(seq=seq, at=stamp, actor_id=1, action="save_section", object_type="handover",
                      object_id=seq % handovers + 1, details={"section": "open-risks"})  # fmt: skip
        digest = entry_hash(prev, entry)
        rows.append((seq, stamp, 1, entry.action, entry.object_type, entry.object_id, '{"section":"open-risks"}',
                     prev, digest))  # fmt: skip
        prev = digest
    conn.executemany("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


# The handovers each action phase of the load benchmark takes, one by one, and what each is in when seeded.
ACTION_STATES = {"submit": "draft", "endorse": "submitted", "acknowledge": "endorsed"}
CASE_SUMMARY = "case-summary"  # the section whose child's name, date of birth and reference must match the case


def as_recorded(summary: SectionAnswers, child_name: str, date_of_birth: str, reference: str) -> SectionAnswers:
    """The case summary's answers naming the child as their case record does (`date_of_birth` YYYY-MM-DD): a save or
    a submission is refused otherwise."""
    values = {"child_name": child_name, "date_of_birth": date_of_birth, "local_reference": reference}
    return msgspec.structs.replace(summary, values={**summary.values, **values})


@dataclass
class ActionPeople:
    """Who takes the actions on one connection's handovers: the outgoing worker who submits them, a manager of their
    team who endorses them, and the named receiving worker who acknowledges them. Each connection has its own two
    teams (sending and receiving, each with one manager, the size of team a notification goes to), so that no two
    connections take the same handover and no notification goes to a crowd a council would not have."""

    author: str
    manager: str
    receiver: str


@dataclass
class ActionSets:
    """The people of each connection, and for each set (one per server) and action, each connection's handovers."""

    people: list[ActionPeople]
    handovers: dict[str, dict[str, list[list[int]]]] = field(default_factory=dict)


def add_action_sets(store: Store, connections: int, per_connection: dict[str, int], sets: list[str]) -> ActionSets:
    """Add, to a database a server may be running on (SQLite or PostgreSQL: in one write transaction, waiting for
    the service's write lock, `Store.writing`), the
    handovers the submit, endorse and acknowledge phases take: for each of `sets` (disjoint, one per server) and
    each connection, `per_connection[action]` handovers in the state the action moves on from (`ACTION_STATES`).

    Every section is complete with answers current on today's date in England, so that a submission needs no
    reasons for stale records; submitted and endorsed handovers are as their own steps would have left them, and
    every critical item of an endorsed one is already confirmed by its receiver, so that an acknowledgement is the
    review page and the acknowledgement itself. The case summary names the child as the case record does (a
    submission is refused otherwise), and each case has one open handover (the schema's rule). Their people
    have work e-mail addresses, as a council's would, so that a notification can be e-mailed. No audit entries are
    written: a running server continues the hash chain from the last entry it finds."""
    checklist = load_all(PROJECT_ROOT / "checklists")[("case-transfer", 1)]
    answers = complete_answers(checklist, today())
    critical = {s.id for s in checklist.sections if s.critical or s.critical_when}
    with store.writing() as conn:
        return _add_action_sets(conn, answers, critical, connections, per_connection, sets)


def _add_action_sets(
    conn: Connection,
    answers: dict[str, SectionAnswers],
    critical: set[str],
    connections: int,
    per_connection: dict[str, int],
    sets: list[str],
) -> ActionSets:
    encoded = {sid: msgspec.json.encode(a).decode() for sid, a in answers.items()}
    next_id = {
        table: conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0] + 1
        for table in ("teams", "users", "cases", "handovers")
    }
    password_hash = hash_password(PASSWORD)
    now = datetime.now(UTC)
    stamp = now.isoformat(timespec="seconds")
    submitted = (now - timedelta(days=1)).isoformat(timespec="seconds")
    started = (now - timedelta(days=3)).isoformat(timespec="seconds")
    found = ActionSets(people=[])
    user_rows, team_rows, membership_rows, people_ids = [], [], [], []
    for c in range(connections):
        sending, receiving = next_id["teams"] + 2 * c, next_id["teams"] + 2 * c + 1
        team_rows += [(sending, f"Benchmark sending team {c + 1}"), (receiving, f"Benchmark receiving team {c + 1}")]
        ids = {}
        for offset, (role_name, team, role) in enumerate(
            [("send", sending, "worker"), ("endorse", sending, "manager"), ("receive", receiving, "worker"),
             ("approve", receiving, "manager")]
        ):  # fmt: skip
            user_id = next_id["users"] + 4 * c + offset
            username = f"{role_name}{c + 1}"
            user_rows.append((user_id, username, f"{role_name.title()} {c + 1}", password_hash, stamp,
                              f"{username}@benchmark.example"))  # fmt: skip
            membership_rows.append((user_id, team, role))
            ids[role_name] = user_id
        people_ids.append((ids, sending, receiving))
        found.people.append(ActionPeople(author=f"send{c + 1}", manager=f"endorse{c + 1}", receiver=f"receive{c + 1}"))
    conn.executemany("INSERT INTO teams (id, name) VALUES (?, ?)", team_rows)
    conn.executemany(
        "INSERT INTO users (id, username, name, password_hash, created_at, email) VALUES (?, ?, ?, ?, ?, ?)", user_rows
    )
    conn.executemany("INSERT INTO memberships VALUES (?, ?, ?)", membership_rows)
    case_rows: list[tuple[Any, ...]] = []
    handover_rows: list[tuple[Any, ...]] = []
    section_rows: list[tuple[Any, ...]] = []
    confirmation_rows: list[tuple[Any, ...]] = []
    handover_id = next_id["handovers"]
    for set_name in sets:
        found.handovers[set_name] = {}
        for action, state in ACTION_STATES.items():
            found.handovers[set_name][action] = []
            for ids, sending, receiving in people_ids:
                taken = []
                for _ in range(per_connection[action]):
                    case_id = next_id["cases"] + len(case_rows)
                    case_rows.append((case_id, f"BM-{case_id:07d}", f"Child {case_id}", "2015-01-01", ids["send"],
                                      sending, stamp))  # fmt: skip
                    handover_rows.append((
                        handover_id, case_id, "case-transfer", 1, state, ids["send"], sending, receiving,
                        ids["receive"], "Step-up", started, None if state == "draft" else submitted,
                        ids["endorse"] if state == "endorsed" else None, submitted if state == "endorsed" else None,
                        stamp, stamp,
                    ))  # fmt: skip
                    recorded = as_recorded(answers[CASE_SUMMARY], f"Child {case_id}", "2015-01-01", f"BM-{case_id:07d}")
                    texts = {**encoded, CASE_SUMMARY: msgspec.json.encode(recorded).decode()}
                    for section_id, text in texts.items():
                        section_rows.append((handover_id, section_id, text, "completed", 1, started, ids["send"],
                                             int(section_id in critical)))  # fmt: skip
                        if state == "endorsed" and section_id in critical:
                            confirmation_rows.append(
                                (handover_id, section_id, ids["receive"], "Taken on as described.", stamp)
                            )
                    taken.append(handover_id)
                    handover_id += 1
                found.handovers[set_name][action].append(taken)
    conn.executemany(
        "INSERT INTO cases (id, reference, child_name, date_of_birth, allocated_worker_id, allocated_team_id,"
        " allocated_since) VALUES (?, ?, ?, ?, ?, ?, ?)",
        case_rows,
    )
    conn.executemany(
        "INSERT INTO handovers (id, case_id, checklist_id, checklist_version, state, author_id, sending_team_id,"
        " receiving_team_id, receiver_id, transfer_reason, started_at, submitted_at, endorsed_by, endorsed_at,"
        " state_since, last_activity_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        handover_rows,
    )
    conn.executemany(
        "INSERT INTO sections (handover_id, section_id, answers, status, version, updated_at, updated_by, critical)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        section_rows,
    )
    conn.executemany("INSERT INTO confirmations VALUES (?, ?, ?, ?, ?)", confirmation_rows)
    return found
