"""Fill a database quickly with realistic volumes for the benchmarks (not through the web layer: that is measured
separately). Every handover gets its sections, confirmations where it has reached the receiver, and audit entries
that form a valid hash chain, so the report and the audit verifier see what a busy service would hold."""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import time
from array import array
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


def add_seed_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmarks' --caseload and --cases options (with `resolve_cases` after parsing)."""
    parser.add_argument(
        "--cases", type=int, default=None,
        help="cases to seed (default: a third of the handovers on a realistic caseload, 5,000 on the heavy one)",
    )  # fmt: skip
    parser.add_argument(
        "--caseload", choices=["realistic", "heavy"], default="realistic",
        help="realistic (the default, which the targets are judged on): workers holding 10-25 children, a few 40,"
        " years of closed handovers, one case in ten with one open; heavy: 96 workers sharing every case",
    )  # fmt: skip


def resolve_cases(args: argparse.Namespace) -> None:
    """The heavy seed's 5,000 cases when none were asked for (the realistic seed works out its own)."""
    if args.cases is None and args.caseload == "heavy":
        args.cases = 5_000


def build(
    path: Path, handovers: int, cases: int | None = None, audit_per_handover: int = 3, caseload: str = "heavy"
) -> SeedFigures | None:
    """Create the schema through the service's own migrations, then bulk-insert rows in one transaction.

    `caseload="heavy"`: 96 workers in 12 teams share every case (`cases`, default one per handover), each case's
    handovers dated in the last 120 days: far heavier per person than any council. `caseload="realistic"`: see
    `build_realistic` (`cases` defaults to one per `HANDOVERS_PER_CASE` handovers); it returns its figures."""
    if caseload == "realistic":
        return build_realistic(path, handovers, cases, audit_per_handover)
    if caseload != "heavy":
        raise ValueError(f"caseload is 'heavy' or 'realistic', not {caseload!r}")
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
    return None


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


# ---------------------------------------------------------------- realistic caseloads, years of history

OPEN_STATES = ["draft", "submitted", "endorsed", "returned", "acknowledged"]
OPEN_WEIGHTS = [35, 15, 20, 10, 20]
HANDOVERS_PER_CASE = 3  # each child's case has had a few transfers over the years
OPEN_SHARE = 0.1  # at any time about one case in ten has an open handover
CLOSED_SHARE = 0.85  # of the handovers that are history; the rest were cancelled before they were sent
TEAM_SIZE = 8  # workers in a team, each team with one manager as well
HANDOVERS_A_YEAR = 200_000  # every case transfer in England: a million handovers is about five years of them
OPEN_WITHIN_DAYS = 30  # open handovers started in the last 30 calendar days
CHUNK = 5_000  # handovers (with their sections, confirmations and audit entries) inserted per batch
SIBLING_GROUP_START = 0.15  # chance that a case starts a group of 2-4 siblings: about a third of cases in groups
DAY = 86_400.0
RETURN_REASON = "Please bring the chronology up to date before this goes to the receiving team."


@dataclass(frozen=True)
class SeedFigures:
    """What a realistic seed made and how long it took (wall seconds, including the indexes and ANALYZE)."""

    seconds: float
    rows: int
    handovers: int
    cases: int
    workers: int
    teams: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def draw_caseload(rng: random.Random) -> int:
    """How many children one worker holds: about 1 in 20 about 40 (38-42), 1 in 20 new or part-time (3-9), the
    rest 10-25, most nearer the low end (triangular, mode 11). The mean is about 16, the national average for
    children's social workers (DfE, children's social work workforce statistics)."""
    roll = rng.random()
    if roll < 0.05:
        return rng.randint(38, 42)
    if roll < 0.10:
        return rng.randint(3, 9)
    return round(rng.triangular(10, 25, 11))


def caseloads_for(cases: int, rng: random.Random) -> list[int]:
    """One caseload per worker, drawn until every one of `cases` has a worker (the last worker holds what is left),
    so that more cases means more workers, not fuller caseloads."""
    loads: list[int] = []
    total = 0
    while total < cases:
        load = draw_caseload(rng)
        loads.append(load)
        total += load
    loads[-1] -= total - cases
    return loads


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


async def _migrate(path: Path) -> None:
    database = db.SqliteDatabase(path, "NORMAL")
    await database.open()
    await database.close()


class _Writer:
    """Rows gathered a chunk at a time and inserted in batches inside the seed's one transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.rows = 0
        self.pending: dict[str, list[tuple[Any, ...]]] = {}

    def add(self, sql: str, row: tuple[Any, ...]) -> None:
        self.pending.setdefault(sql, []).append(row)

    def flush(self) -> None:
        for sql, rows in self.pending.items():
            self.conn.executemany(sql, rows)
            self.rows += len(rows)
        self.pending = {}


HANDOVER_INSERT = (
    "INSERT INTO handovers (id, case_id, checklist_id, checklist_version, state, author_id, sending_team_id,"
    " receiving_team_id, receiver_id, transfer_reason, started_at, submitted_at, endorsed_by, endorsed_at,"
    " acknowledged_by, acknowledged_at, approved_by, approved_at, returned_reason, returned_by, returned_at,"
    " state_since, last_activity_at) VALUES (?, ?, 'case-transfer', 1, ?, ?, ?, ?, ?, 'Step-up', ?, ?, ?, ?, ?, ?, ?,"
    " ?, ?, ?, ?, ?, ?)"
)
SECTION_INSERT = (
    "INSERT INTO sections (handover_id, section_id, answers, status, version, updated_at, updated_by, critical)"
    " VALUES (?, ?, ?, 'completed', 1, ?, ?, ?)"
)
CONFIRMATION_INSERT = "INSERT INTO confirmations VALUES (?, ?, ?, 'Taken on as described.', ?)"
AUDIT_INSERT = "INSERT INTO audit_log VALUES (?, ?, ?, ?, 'handover', ?, ?, ?, ?)"
ALLOCATION_INSERT = (
    "INSERT INTO allocations (case_id, worker_id, team_id, allocated_from, allocated_to, handover_id, why)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def build_realistic(path: Path, handovers: int, cases: int | None = None, audit_per_handover: int = 3) -> SeedFigures:
    """A council-shaped database of `handovers` handovers, in minutes for a million.

    People: caseloads drawn by `draw_caseload` until every case (`cases`, default `handovers / HANDOVERS_PER_CASE`)
    has a worker, in teams of `TEAM_SIZE` workers and a manager, plus one auditor; all sign in with `PASSWORD`.
    Handovers are history: each case has had a few transfers (85% closed, moving the case to the receiving team's
    worker, the rest cancelled), dated over the years the volume implies (`HANDOVERS_A_YEAR`; at least 90 calendar
    days, UTC); one case in ten (`OPEN_SHARE`) has one open handover, started in the last `OPEN_WITHIN_DAYS` days, in
    every open state (`OPEN_STATES`). About a third of cases are in sibling groups of 2-4 children with the same
    worker (`SIBLING_GROUP_START`; a group straddling two caseloads keeps the first worker's children, if two), so
    that the planner's statistics on `sibling_group_id` are a council's, not all NULL. Handover ids follow their
    start dates. Each case's allocation history (`allocations`) follows its closed handovers, and its current worker
    is the last receiver. Every handover has its sections (all complete but for drafts and cancelled ones), its
    critical items confirmed where the receiver has acknowledged (every other one while endorsed), and
    `audit_per_handover` entries in one valid hash chain.

    Inserts run in one transaction, `CHUNK` handovers at a time, with the service's indexes (read from
    `sqlite_master`) dropped first and created again, with the same SQL, at the end; then ANALYZE."""
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    asyncio.run(_migrate(path))
    rng = random.Random(20261202)
    case_count = cases or max(1, round(handovers / HANDOVERS_PER_CASE))
    open_count = min(case_count, handovers, round(case_count * OPEN_SHARE))
    history = handovers - open_count

    loads = caseloads_for(case_count, rng)
    teams = (len(loads) + TEAM_SIZE - 1) // TEAM_SIZE
    password_hash = hash_password(PASSWORD)
    now = time.time()
    stamp = _iso(now)
    span = max(90.0, 365.0 * handovers / HANDOVERS_A_YEAR) * DAY
    first_day = now - span

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=MEMORY")  # WAL again at the end: the service's own setting
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    conn.execute("BEGIN")
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY rowid"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    out = _Writer(conn)

    # people: team t has workers then its manager; ids in that order
    team_of: dict[int, int] = {}
    team_workers: list[list[int]] = [[] for _ in range(teams + 1)]
    manager_of = [0] * (teams + 1)
    user_id = 0
    for team in range(1, teams + 1):
        out.add("INSERT INTO teams (id, name) VALUES (?, ?)", (team, f"Team {team}"))
        members = min(TEAM_SIZE, len(loads) - (team - 1) * TEAM_SIZE)
        for n in range(members + 1):
            user_id += 1
            role = "worker" if n < members else "manager"
            username = f"w{team}_{n}" if role == "worker" else f"m{team}"
            name = f"Worker {team}-{n}" if role == "worker" else f"Manager {team}"
            out.add(
                "INSERT INTO users (id, username, name, password_hash, created_at, email) VALUES (?, ?, ?, ?, ?, ?)",
                (user_id, username, name, password_hash, stamp, f"{username}@benchmark.example"),
            )
            out.add("INSERT INTO memberships VALUES (?, ?, ?)", (user_id, team, role))
            team_of[user_id] = team
            if role == "worker":
                team_workers[team].append(user_id)
            else:
                manager_of[team] = user_id
    out.add(
        "INSERT INTO users (id, username, name, password_hash, is_auditor, created_at) VALUES (?, 'auditor',"
        " 'Auditor', ?, 1, ?)",
        (user_id + 1, password_hash, stamp),
    )
    workers = [w for team in team_workers for w in team]

    # each case's worker now: caseloads in worker order
    current = array("i", [0]) * (case_count + 1)
    case_id = 0
    for worker, load in zip(workers, loads, strict=True):
        for _ in range(load):
            case_id += 1
            current[case_id] = worker

    # brothers and sisters: about a third of children are in a group of 2-4 on record, held by the same worker
    sibling_group = array("i", [0]) * (case_count + 1)
    groups = 0
    case_id = 1
    while case_id <= case_count:
        size = rng.randint(2, 4) if rng.random() < SIBLING_GROUP_START else 1
        members = [c for c in range(case_id, min(case_id + size, case_count + 1)) if current[c] == current[case_id]]
        if len(members) > 1:
            groups += 1
            out.add("INSERT INTO sibling_groups (id, name) VALUES (?, ?)", (groups, f"Siblings {groups}"))
            for sibling in members:
                sibling_group[sibling] = groups
        case_id += size

    def other_team(team: int) -> int:
        if teams == 1:
            return team
        other = rng.randrange(1, teams)
        return other if other < team else other + 1

    def worker_in(team: int) -> int:
        return rng.choice(team_workers[team])

    # the history, walked back from today: a closed handover moved the case to the worker holding it after it
    past_case = array("i", (rng.randrange(1, case_count + 1) for _ in range(history)))
    past_closed = bytearray(rng.random() < CLOSED_SHARE for _ in range(history))
    past_from = array("i", [0]) * history
    past_to = array("i", [0]) * history
    holder = array("i", current)
    for j in range(history - 1, -1, -1):
        case = past_case[j]
        if past_closed[j]:
            past_to[j] = holder[case]
            past_from[j] = holder[case] = worker_in(other_team(team_of[holder[case]]))
        else:
            past_from[j] = holder[case]
            past_to[j] = worker_in(other_team(team_of[holder[case]]))
    allocated_since = array("d", (first_day - rng.random() * 365 * DAY for _ in range(case_count + 1)))
    allocated_by = array("i", [0]) * (case_count + 1)  # the handover that began the current allocation (0: none)

    checklist = load_all(PROJECT_ROOT / "checklists")[("case-transfer", 1)]
    answers = complete_answers(checklist, datetime.now(UTC).date())
    encoded = {sid: msgspec.json.encode(a).decode() for sid, a in answers.items()}
    critical = {s.id for s in checklist.sections if s.critical or s.critical_when}
    section_ids = list(encoded)
    chain = _Chain(out, audit_per_handover, section_ids)

    def handover(hid: int, case: int, state: str, author: int, receiver: int, at: float, end: float) -> None:
        """One handover's row, sections, confirmations and audit entries; `at` its start, `end` when its latest
        step was taken (epoch seconds, UTC)."""
        sending, receiving = team_of[author], team_of[receiver]
        step = (end - at) / 4
        sent = state not in ("draft", "cancelled")
        endorsed = state in ("endorsed", "acknowledged", "closed")
        acknowledged = state in ("acknowledged", "closed")
        out.add(HANDOVER_INSERT, (
            hid, case, state, author, sending, receiving, receiver, _iso(at),
            _iso(at + step) if sent else None,
            manager_of[sending] if endorsed else None, _iso(at + 2 * step) if endorsed else None,
            receiver if acknowledged else None, _iso(at + 3 * step) if acknowledged else None,
            manager_of[receiving] if state == "closed" else None, _iso(end) if state == "closed" else None,
            RETURN_REASON if state == "returned" else None, manager_of[sending] if state == "returned" else None,
            _iso(end) if state == "returned" else None,
            _iso(end), _iso(end),
        ))  # fmt: skip
        done = len(section_ids) if sent else rng.randint(0, len(section_ids))
        saved = _iso(at + step / 2)
        summary = as_recorded(answers[CASE_SUMMARY], f"Child {case}", "2015-01-01", f"CS-{case:07d}")
        for index, section_id in enumerate(section_ids[:done]):
            text = msgspec.json.encode(summary).decode() if section_id == CASE_SUMMARY else encoded[section_id]
            is_critical = section_id in critical
            out.add(SECTION_INSERT, (hid, section_id, text, saved, author, int(is_critical)))
            if is_critical and (acknowledged or (endorsed and index % 2)):
                out.add(CONFIRMATION_INSERT, (hid, section_id, receiver, _iso(at + 3 * step)))
        chain.add(hid, author, saved)

    def allocation(case: int, worker: int, until: str | None) -> None:
        """The case's allocation to `worker` since the handover that began it (or since it was opened)."""
        began_by = allocated_by[case]
        why = "handover" if began_by else "opened"
        since = _iso(allocated_since[case])
        out.add(ALLOCATION_INSERT, (case, worker, team_of[worker], since, until, began_by or None, why))

    hid = 0
    window = (now - OPEN_WITHIN_DAYS * DAY - 10 * DAY) - first_day
    for j in range(history):
        hid += 1
        case = past_case[j]
        at = first_day + window * (j + rng.random()) / history
        if past_closed[j]:
            end = at + rng.uniform(3, 10) * DAY
            handover(hid, case, "closed", past_from[j], past_to[j], at, end)
            allocation(case, past_from[j], _iso(end))
            allocated_since[case], allocated_by[case] = end, hid
        else:
            handover(hid, case, "cancelled", past_from[j], past_to[j], at, at + rng.uniform(0.1, 5) * DAY)
        if hid % CHUNK == 0:
            out.flush()
    open_cases = rng.sample(range(1, case_count + 1), open_count)
    open_starts = sorted(now - rng.random() * OPEN_WITHIN_DAYS * DAY for _ in range(open_count))
    for case, at in zip(open_cases, open_starts, strict=True):
        hid += 1
        author = current[case]
        state = rng.choices(OPEN_STATES, OPEN_WEIGHTS)[0]
        handover(hid, case, state, author, worker_in(other_team(team_of[author])), at, at + (now - at) * 0.9)
        if hid % CHUNK == 0:
            out.flush()
    for case in range(1, case_count + 1):
        worker = current[case]
        out.add(
            "INSERT INTO cases (id, reference, child_name, date_of_birth, allocated_worker_id, allocated_team_id,"
            " allocated_since, sibling_group_id) VALUES (?, ?, ?, '2015-01-01', ?, ?, ?, ?)",
            (
                case,
                f"CS-{case:07d}",
                f"Child {case}",
                worker,
                team_of[worker],
                _iso(allocated_since[case]),
                sibling_group[case] or None,
            ),
        )
        allocation(case, worker, None)
        if case % (CHUNK * 4) == 0:
            out.flush()
    out.flush()
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    seconds = time.perf_counter() - started
    figures = SeedFigures(seconds, out.rows, handovers, case_count, len(workers), teams)
    print(f"seeded {handovers:,} handovers, {case_count:,} cases, {len(workers):,} workers in {teams:,} teams:"
          f" {out.rows:,} rows in {seconds:.1f} s ({figures.rows_per_second:,.0f} rows/s)")  # fmt: skip
    return figures


class _Chain:
    """The audit log as one valid hash chain, `per_handover` entries for each handover as it is written."""

    def __init__(self, out: _Writer, per_handover: int, section_ids: list[str]) -> None:
        self.out = out
        self.per_handover = per_handover
        self.section_ids = section_ids
        self.prev = GENESIS
        self.seq = 0

    def add(self, handover_id: int, actor: int, at: str) -> None:
        for n in range(self.per_handover):
            self.seq += 1
            details = {"section": self.section_ids[n % len(self.section_ids)]}
            entry = Entry(seq=self.seq, at=at, actor_id=actor, action="save_section", object_type="handover",
                          object_id=handover_id, details=details)  # fmt: skip
            digest = entry_hash(self.prev, entry)
            self.out.add(AUDIT_INSERT, (self.seq, at, actor, entry.action, handover_id,
                                        msgspec.json.encode(details).decode(), self.prev, digest))  # fmt: skip
            self.prev = digest


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
