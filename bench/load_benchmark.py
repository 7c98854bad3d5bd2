"""Load benchmark: the service under concurrent signed-in users, against its own ceilings, in one run on loopback.

    .venv/bin/python -m bench.load_benchmark [--seconds 10] [--connections 50] [--handovers 20000]
        [--caseload realistic|heavy] [--cases N] [--only PHASE ...] [--profile] [--database sqlite|postgresql]
        [--instances 1|2] [--compare]

A script run by hand, not a timed test. It

1. measures the write ceiling: single-row SQLite inserts, one commit each, in WAL with synchronous=FULL;
2. seeds a database (bench/seed.py: cases, handovers in every state with their sections and confirmations, and a
   hash-chained audit log) and prints the EXPLAIN QUERY PLAN of the incomplete-handovers report's queries;
3. starts `handover serve` (production settings, one worker, JSON logs to a file, its sender delivering e-mails to a
   mail server on loopback that only counts them: `MailServer`) and signs people in, then a second server on the same
   data with HANDOVER_AUDIT_READS=false, which sits idle but for one phase, and a third with
   HANDOVER_NOTIFICATIONS=false (its steps write no notifications and no e-mails), idle but for three (neither has a
   mail server: they would deliver the main server's e-mails);
4. runs each endpoint in a phase of its own (`--connections` keep-alive connections for `--warmup` + `--seconds`):
   task list (an audited read), the same task list on the second server (reads unaudited), inbox, manager queue,
   section saves (each connection saving its own draft: validation and an audit entry), section saves while
   `handover backup` runs again and again, GET /ping while 10 sign-ins run at once, the worker's landing page, the
   auditor's report, one section's form, check your answers, the receiver's review, a complete handover's view, and
   a mix of all of them (outgoing workers, receivers reviewing, confirming and acknowledging, managers,
   auditors); then the steps that write notifications, each once on the main server and straight after on the
   third: submit (each connection's outgoing worker submitting complete drafts), endorse (a manager of the sending
   team per connection) and acknowledge (the receiving worker's review page, then the acknowledgement), one-shot:
   each handover is taken once, from sets added just before these phases (`ActionHandovers`), and the store is
   checked after each (one handover moved on per 303 to the step's confirmation page, and the notifications
   written about them); after each on the main server, the benchmark waits for its sender to deliver every e-mail
   before going on. GET /ping (an empty plain-text answer through every middleware with a signed-in user's
   cookies: the framework's ceiling) runs first and right before and after each phase a target compares with it
   (every one but the report on one connection, saves on one connection and the mix): each is compared with the
   mean of the two pings next to it, so that the speed of this machine drifting during the run does not count as
   the endpoint's;
5. prints requests per second and p50/p95/p99 latency of every endpoint, each as a ratio to its ceiling, failed
   requests by kind, the server's peak and final memory, and the targets below; writes the same figures to
   bench/results/load-<timestamp>.json.

`--no-mail-server` leaves the main server without a mail server: e-mails stay in the outbox, as in the demo.
`--only save queue` runs just those phases (and the pings around them; `--only submit endorse acknowledge` runs
those steps on both the main server and the one without notifications); `--profile` samples the server with py-spy
(`.venv/bin/pip install py-spy`; it is not a dependency) during each phase and prints the functions that held the
GIL longest, by self and inclusive share; the raw stacks stay in the working folder with `--keep`. Profiling takes
CPU from the same two cores, so its figures are for finding where time goes, not for the targets.

`--database postgresql` seeds the same SQLite file, starts a throwaway PostgreSQL server (tests/postgres_support.py)
and moves the data into it with `handover migrate-to-postgres`, as an operator would; every server then runs with
HANDOVER_DATABASE_URL, and the phase of saves during backups is left out (`handover backup` copies SQLite only).
`--instances 2` (PostgreSQL only) starts the main server twice on the one database, with the same secret, and
spreads each phase's connections over the two, round robin (the people are signed in on the first: their sessions
are in the database). These runs also print each phase's CPU seconds per process: each instance, the PostgreSQL
server's processes summed, the load client, and what other processes on the machine took; and, sampled from
pg_stat_activity, how many of the instances' connections were running a statement and how many of those were
waiting for the change lock that serialises the audit chain.

`--compare` runs the same phases (`--only`, or `COMPARE_PHASES`: the task list, inbox, queue, dashboard, section
saves and the mix) on SQLite with one instance, PostgreSQL with one and PostgreSQL with two, back to back, each on a
fresh copy of the same seeded data, and prints them side by side: requests a second, each as a ratio to GET /ping
measured next to it, PostgreSQL over SQLite for saves and page GETs as ratios of those ratios (target >= 0.5: the
machine's drift between runs is not counted), and two instances over one in requests a second (target >= 1.0). On
2 cores the instances, the database and the load client share the CPU, and audited reads and saves serialise on
the audit chain, so the two-instance figure checks that nothing serialises needlessly; it is not a scaling claim.

Targets (2 cores, one worker, `--connections 50`, synchronous=FULL), each throughput a ratio to GET /ping's measured
next to it: a section save >= 0.45; every list page (the worker's landing page, the task list, inbox, queue and the
report's first page) >= 0.35; the long pages (one section's form, check your answers, the receiver's review, a
complete handover's view) >= 0.2; the report page p99 < 100 ms (in the mixed phase, where the auditors are their
share of the connections, and on one connection); resident memory < 150 MB after the run; an audited GET >= 0.7 of
the same GET unaudited; p99/p50 <= 4 for every endpoint; GET /ping's p99 while 10 sign-ins run at most twice its p99
without them; section saves during backups >= 0.7 of their rate without them; submit, endorse and acknowledge, which
write notifications in their transaction, each keep >= 0.9 of their rate without notifications (each rate over the
GET /ping next to it: (with / ping) / (without / ping)), not judged if a connection ran out of handovers, the store
does not show what the 303s say, or the main server wrote no notifications or the third some. Latency under load is
judged open-loop by bench/open_loop.py: with closed-loop connections the mean latency is at least connections /
throughput, so the p99 at 50 connections printed here is not a target.

Only responses a browser would get on the happy path count (200 for pages; 303 to the right place for forms):
latencies and rates are of those. Every other response is counted by status, and every failed request by exception.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from bench import profile, seed
from bench.load_client import ClientPool, Plan
from bench.seed import PASSWORD, build
from bench.store import Store, placeholders
from service import db
from service.actions.demo import complete_answers
from service.actions.maintenance import ON_POSTGRESQL
from service.checklist import load_all
from service.core.clock import today
from service.core.report import ReportFilter
from service.reporting import report_terms
from service.settings import PROJECT_ROOT
from tests.helpers import form_for
from tests.postgres_support import PostgresServer, start_postgres

HANDOVER = str(Path(sys.executable).with_name("handover"))
SECRET = "load-benchmark-secret-" + "k" * 32
SIGN_INS_AT_ONCE = 10
MIX = {"outgoing": 0.6, "receiving": 0.2, "manager": 0.12}  # the auditors take the rest
WRITES = {"section save", "confirm", "submit", "endorse", "acknowledge", "sign-in"}  # commit on every request
AUDITED_READS = {"task list", "review"}  # commit an audit entry when reads are audited
UNAUDITED_TASK_LIST = "task list (reads unaudited)"
MAIN, READS_UNAUDITED, NOTIFICATIONS_OFF = "main", "reads unaudited", "notifications off"
# each server: whether it audits reads, and whether its steps write notifications; all three share the data folder
SERVERS = {MAIN: (True, True), READS_UNAUDITED: (False, True), NOTIFICATIONS_OFF: (True, False)}
# the steps that now write notifications, each timed with them and without; the state each moves a handover to
ACTIONS = {"submit": "submitted", "endorse": "endorsed", "acknowledge": "acknowledged"}
# Steps a second on this 2-core machine, notifications on (before they were written; other work loading it): submit
# 250, endorse 190-215, acknowledge 70-77 at --connections 20; 135-155, 105-180, 40-45 at 50. The sets are sized from
# these, twice over, so that no connection runs out within --seconds on a quieter machine; one that does says so.
ACTIONS_PER_SECOND = {"submit": 250.0, "endorse": 220.0, "acknowledge": 75.0}
ACTION_SETS_SPARE = 2.0
DELIVERY_WAIT_SECONDS = 300.0  # after a step's phase on the main server, for its sender to empty the outbox
MEMORY_KEYS = {MAIN: "reads_audited", READS_UNAUDITED: "reads_unaudited", NOTIFICATIONS_OFF: "notifications_off"}
# phases that cannot run on PostgreSQL, and why (printed when they are left out)
LEFT_OUT_ON_POSTGRESQL = {"save+backup": f"`handover backup` copies SQLite only: {ON_POSTGRESQL}"}
# `--compare`: the phases run on each database and number of instances (saves and the pages people read most)
# the phases of the list pages (phase: its endpoint), judged at >= 0.35 of GET /ping, and of the long pages, >= 0.2
LIST_PAGES = {
    "dashboard": "dashboard",
    "task list": "task list",
    "inbox": "inbox",
    "queue": "queue",
    "report": "report",
}
LONG_PAGES = ["section page", "check answers", "review", "view"]
COMPARE_PHASES = ["task list", "inbox", "queue", "dashboard", "save", "mixed"]
PAGE_GETS = [("task list", "task list"), ("inbox", "inbox"), ("queue", "queue"), ("dashboard", "dashboard")]
SAVES = [("save", "section save")]
ACTION_TITLES = {
    "submit": "POST submit, a complete draft each (its outgoing worker)",
    "endorse": "POST endorse, a submitted handover each (a manager of its sending team)",
    "acknowledge": "review and acknowledge, an endorsed handover each (its receiving worker)",
}


# ---------------------------------------------------------------- the ceilings and the data


def write_ceiling(folder: Path, seconds: float) -> dict[str, float]:
    """Single-row inserts, one transaction each, with the service's durability settings."""
    path = folder / "write-ceiling.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE entries (id INTEGER PRIMARY KEY, at REAL NOT NULL, details TEXT NOT NULL)")
    details = json.dumps({"section": "open-risks", "old_version": 1, "new_version": 2, "status": "completed"})
    latencies = []
    started = time.perf_counter()
    while (now := time.perf_counter()) - started < seconds:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO entries (at, details) VALUES (?, ?)", (now, details))
        conn.execute("COMMIT")
        latencies.append(time.perf_counter() - now)
    elapsed = time.perf_counter() - started
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    figures = latency_figures(sorted(latencies))
    return {"commits": len(latencies), "commits_per_second": len(latencies) / elapsed, **figures}


def describe_database(path: Path) -> dict[str, Any]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        states = dict(conn.execute("SELECT state, COUNT(*) FROM handovers GROUP BY state ORDER BY state").fetchall())
        counts = {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("cases", "handovers", "sections", "confirmations", "audit_log", "users")
        }
    return {"states": states, "rows": counts, "megabytes": path.stat().st_size / 1e6}


def query_plans(path: Path) -> dict[str, list[str]]:
    """EXPLAIN QUERY PLAN of the report page's two queries (the unfiltered report, first page), a receiver's inbox
    and a manager's queue, as the service builds them."""
    counts = report_terms(load_all(PROJECT_ROOT / "checklists"), today())
    page_sql, page_params = db.incomplete_query(ReportFilter(), None, counts)
    where, count_params = db.report._incomplete_where(ReportFilter(), None, counts)  # the WHERE of db.count_incomplete
    queries = {
        "report page (db.incomplete_page: incomplete_query + LIMIT 50 OFFSET 0)": (
            page_sql + " LIMIT ? OFFSET ?",
            [*page_params, 50, 0],
        ),
        "report total (db.count_incomplete)": ("SELECT COUNT(*) FROM handovers h" + where, count_params),
        "a receiver's inbox (db.inbox_query)": db.inbox_query(1, [1, 2]),
        "a manager's queue, first page (db.queue_query)": (
            db.queue_query("submitted", "sending_team_id", [1])[0],
            [*db.queue_query("submitted", "sending_team_id", [1])[1], 25, 0],
        ),
    }
    plans = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        for title, (sql, params) in queries.items():
            depth = {0: -1}
            lines = []
            for node, parent, _, detail in conn.execute("EXPLAIN QUERY PLAN " + sql, params):
                depth[node] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node] + detail)
            plans[title] = lines
    return plans


@dataclass
class Worker:
    """A signed-in outgoing (and receiving) worker: their own draft to fill in, and handovers sent to them."""

    username: str
    draft_id: int
    section_id: str
    received: list[int]
    cookies: dict[str, str] = field(default_factory=dict)


def choose_people(store: Store, connections: int) -> tuple[list[Worker], list[str], str]:
    """One worker per connection, each with a draft of their own (so saves never conflict); the receivers of
    endorsed handovers first, and each endorsed handover given to one connection only."""
    with store.reading() as conn:
        # a child of a sibling group would need their siblings named in the answers: the form posted is for a child
        # on their own (bench/seed.py's realistic caseload puts a third of the children in groups)
        drafts = conn.execute(
            "SELECT u.username, h.id FROM handovers h JOIN users u ON u.id = h.author_id"
            " JOIN cases c ON c.id = h.case_id WHERE h.state = 'draft' AND c.sibling_group_id IS NULL ORDER BY h.id"
        ).fetchall()
        endorsed = conn.execute(
            "SELECT u.username, h.id FROM handovers h JOIN users u ON u.id = h.receiver_id"
            " WHERE h.state = 'endorsed' ORDER BY h.id"
        ).fetchall()
        managers = [
            row[0]
            for row in conn.execute(
                "SELECT u.username FROM users u WHERE EXISTS"
                " (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.role = 'manager') ORDER BY u.id"
            ).fetchall()
        ]
        auditor = conn.execute("SELECT username FROM users WHERE is_auditor = 1 ORDER BY id").fetchone()[0]
    drafts_of: dict[str, list[int]] = {}
    for username, handover_id in drafts:
        drafts_of.setdefault(username, []).append(handover_id)
    received_by: dict[str, list[int]] = {}
    for username, handover_id in endorsed:
        received_by.setdefault(username, []).append(handover_id)
    authors = sorted(drafts_of, key=lambda name: (-len(received_by.get(name, [])), name))
    if sum(len(ids) for ids in drafts_of.values()) < connections:
        raise SystemExit(f"only {len(drafts)} draft handovers: seed more handovers or use fewer connections")
    checklist = load_all(PROJECT_ROOT / "checklists")[("case-transfer", 1)]
    sections = [section.id for section in checklist.sections]
    chosen: list[tuple[str, int]] = []
    round_number = 0
    while len(chosen) < connections:
        for username in authors:
            if round_number < len(drafts_of[username]) and len(chosen) < connections:
                chosen.append((username, drafts_of[username][round_number]))
        round_number += 1
    sharing = Counter(username for username, _ in chosen)
    seen: Counter[str] = Counter()
    workers = []
    for index, (username, draft_id) in enumerate(chosen):
        received = received_by.get(username, [])[seen[username] :: sharing[username]]
        seen[username] += 1
        workers.append(Worker(username, draft_id, sections[index % len(sections)], received))
    return workers, managers, auditor


def section_forms() -> dict[str, dict[str, Any]]:
    """A complete, valid answer to every section, as the form a browser posts (the version is added per save)."""
    checklist = load_all(PROJECT_ROOT / "checklists")[("case-transfer", 1)]
    answers = complete_answers(checklist, date.today())
    forms = {}
    for section in checklist.sections:
        form = form_for(section, answers[section.id])
        del form["version"]
        forms[section.id] = form
    return forms


def summary_form(store: Store, handover_id: int) -> dict[str, Any]:
    """The case summary's form for one draft: the child's name, date of birth and reference as on its case record
    (a save is refused otherwise)."""
    checklist = load_all(PROJECT_ROOT / "checklists")[("case-transfer", 1)]
    section = checklist.section(seed.CASE_SUMMARY)
    assert section is not None
    name, born, reference = store.row(
        "SELECT c.child_name, c.date_of_birth, c.reference FROM handovers h JOIN cases c ON c.id = h.case_id"
        " WHERE h.id = ?",
        (handover_id,),
    )
    answers = complete_answers(checklist, date.today())[seed.CASE_SUMMARY]
    form = form_for(section, seed.as_recorded(answers, name, born, reference))
    del form["version"]
    return form


def section_version(store: Store, handover_id: int, section_id: str) -> int:
    row = store.row("SELECT version FROM sections WHERE handover_id = ? AND section_id = ?", (handover_id, section_id))
    return int(row[0]) if row else 0


def without_notifications(action: str) -> str:
    """The key of an action's phase on the server started with HANDOVER_NOTIFICATIONS=false."""
    return f"{action} ({NOTIFICATIONS_OFF})"


class ActionHandovers:
    """The handovers the submit, endorse and acknowledge phases take, and the people who take them.

    They are added (`seed.add_action_sets`) and their people signed in just before the first of those phases, the
    last of the run, so that every other phase meets the same data as before: their teams, cases and open
    handovers would otherwise lengthen the auditors' report and every list of teams. Each phase takes a set of its
    own (the main server one, the server without notifications another), each connection its own handovers, so
    that nothing is taken twice; sized from `ACTIONS_PER_SECOND` for the warm-up and `--seconds`.
    """

    def __init__(self, store: Store, base_url: str, actions: set[str], connections: int, seconds: float) -> None:
        self.store = store
        self.base_url = base_url
        self.actions = actions
        self.connections = connections
        self.seconds = seconds  # warm-up, measured seconds and the client's start
        self.sets: seed.ActionSets | None = None
        self.cookies: dict[str, dict[str, str]] = {}

    def per_connection(self) -> dict[str, int]:
        return {
            action: math.ceil(ACTIONS_PER_SECOND[action] * self.seconds * ACTION_SETS_SPARE / self.connections) + 1
            if action in self.actions
            else 0
            for action in ACTIONS
        }

    def prepare(self) -> None:
        """Seed the sets and sign their people in (once)."""
        if self.sets is not None:
            return
        began = time.perf_counter()
        per_connection = self.per_connection()
        self.sets = seed.add_action_sets(self.store, self.connections, per_connection, [MAIN, NOTIFICATIONS_OFF])
        takes = {"submit": "author", "endorse": "manager", "acknowledge": "receiver"}
        usernames = [getattr(people, takes[a]) for a in ACTIONS if a in self.actions for people in self.sets.people]
        jars = asyncio.run(sign_in_all(self.base_url, usernames))
        self.cookies = dict(zip(usernames, jars, strict=True))
        print(
            "  added for the steps, per connection and server: "
            + ", ".join(f"{count} to {action}" for action, count in per_connection.items() if count)
            + f"; signed in {len(usernames)} people ({time.perf_counter() - began:.1f} s)",
            flush=True,
        )

    def taken(self, action: str, server: str) -> list[list[int]]:
        assert self.sets is not None
        return self.sets.handovers[server][action]

    def plans(self, action: str, server: str) -> Callable[[], list[Plan]]:
        def plans() -> list[Plan]:
            self.prepare()
            assert self.sets is not None
            versions = self.versions(action, server)
            built = []
            for people, handovers in zip(self.sets.people, self.taken(action, server), strict=True):
                if action == "submit":
                    to_submit = [(h, versions[h]) for h in handovers]
                    built.append(Plan("submit", self.cookies[people.author], to_submit=to_submit))
                elif action == "endorse":
                    to_endorse = [(h, versions[h]) for h in handovers]
                    built.append(Plan("endorse", self.cookies[people.manager], to_endorse=to_endorse))
                else:
                    built.append(Plan("acknowledge", self.cookies[people.receiver], to_acknowledge=list(handovers)))
            return built

        return plans

    def versions(self, action: str, server: str) -> dict[int, int]:
        """Each handover of the set with its version now, as the page holding the step's button would show it."""
        ids = [h for handovers in self.taken(action, server) for h in handovers]
        found = self.store.rows(f"SELECT id, version FROM handovers WHERE id IN ({placeholders(ids)})", ids)
        return {int(h): int(version) for h, version in found}

    def check(self, action: str, server: str, succeeded: int) -> dict[str, Any]:
        """What the store shows of a phase's set after it: how many handovers moved on (each a 303 to the step's
        confirmation page: `succeeded`), how many are still waiting, and the notifications written about them (and
        of those, the ones e-mailed)."""
        ids = [h for handovers in self.taken(action, server) for h in handovers]
        with self.store.reading() as conn:
            states = {
                state: count
                for state, count in conn.execute(
                    f"SELECT state, COUNT(*) FROM handovers WHERE id IN ({placeholders(ids)}) GROUP BY state", ids
                ).fetchall()
            }
            notifications, emailed = conn.execute(
                f"SELECT COUNT(*), COUNT(outbox_id) FROM notifications WHERE handover_id IN ({placeholders(ids)})",
                ids,
            ).fetchone()
        return {
            "moved_on": states.get(ACTIONS[action], 0),
            "still_waiting": states.get(seed.ACTION_STATES[action], 0),
            "states": states,
            "answered_303": succeeded,
            "notifications": notifications,
            "emailed": emailed,
        }


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MailServer:
    """A mail server on loopback (aiosmtpd, in a thread of this process) that takes every e-mail and keeps only a
    count: the main server's sender delivers to it, so that notifications cost what they would with a council's mail
    server (three short write transactions an e-mail, and the SMTP conversation on a worker thread)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.taken = 0
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.taken += 1
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def unsent_emails(store: Store) -> int:
    return int(store.row("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")[0])


def wait_for_delivery(store: Store, mail: MailServer, limit: float) -> dict[str, Any]:
    """After a step's phase on the main server: wait (at most `limit` seconds) until its sender has delivered every
    e-mail in the outbox, so that it is not still at work, taking CPU and the write lock, while the same step runs
    on the server without notifications."""
    unsent = unsent_emails(store)
    taken = mail.taken
    began = time.perf_counter()
    while unsent and time.perf_counter() - began < limit:
        time.sleep(0.2)
        unsent = unsent_emails(store)
    return {
        "unsent_at_the_end": unsent,
        "delivered_after_the_phase": mail.taken - taken,
        "seconds": time.perf_counter() - began,
        "delivered_in_the_run": mail.taken,
    }


class Server:
    """`handover serve` in production mode, one worker, its logs in a file. `notifications=False` starts it with
    HANDOVER_NOTIFICATIONS=false: its steps write no notifications and no e-mails. With `mail_port` its sender
    delivers the outbox's e-mails to a mail server on that loopback port; without, they stay in the outbox. With
    `database_url` it runs on that PostgreSQL database (HANDOVER_DATABASE_URL) instead of the folder's SQLite file;
    every server of a run has the same secret key, so a session made on one is good on another."""

    def __init__(
        self,
        folder: Path,
        audit_reads: bool,
        label: str,
        notifications: bool = True,
        mail_port: int | None = None,
        database_url: str = "",
    ) -> None:
        self.folder = folder
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / f"server-{label}.log"
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("HANDOVER_")}
        self.env.update(
            {
                "HANDOVER_MODE": "production",
                "HANDOVER_DATA_DIR": str(folder),
                "HANDOVER_SECRET_KEY": SECRET,
                "HANDOVER_HOST": "127.0.0.1",
                "HANDOVER_PORT": str(self.port),
                "HANDOVER_AUDIT_READS": "true" if audit_reads else "false",
                "HANDOVER_NOTIFICATIONS": "true" if notifications else "false",
                # production refuses to start without the council's own details for the legal pages
                "HANDOVER_COUNCIL_NAME": "Benchmark Borough Council",
                "HANDOVER_CONTACT_EMAIL": "help@benchmark.example",
                "HANDOVER_DPO_EMAIL": "dpo@benchmark.example",
                "HANDOVER_STATEMENT_DATE": "2026-11-20",
            }
        )
        if database_url:
            self.env["HANDOVER_DATABASE_URL"] = database_url
        if mail_port is not None:
            self.env.update(
                {
                    "HANDOVER_SMTP_HOST": "127.0.0.1",
                    "HANDOVER_SMTP_PORT": str(mail_port),
                    "HANDOVER_SMTP_TLS": "none",  # allowed in production for a mail server on this machine only
                    "HANDOVER_MAIL_FROM": "handover@benchmark.example",
                    "HANDOVER_BASE_URL": self.base_url,
                }
            )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [HANDOVER, "serve"], env=self.env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped at start-up:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"the server was not ready within 60 s:\n{self.log_path.read_text()[-3000:]}")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_mb(self) -> dict[str, float]:
        """VmHWM (peak resident) and VmRSS (resident now) of the server process."""
        status = dict(
            line.split(":", 1) for line in Path(f"/proc/{self.pid}/status").read_text().splitlines() if ":" in line
        )
        return {key: int(status[key].split()[0]) / 1024 for key in ("VmHWM", "VmRSS")}

    def reset_peak(self) -> bool:
        """Start VmHWM again from the resident size now (Linux: `5` to clear_refs), so each phase has its own peak."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def errors_logged(self) -> int:
        text = self.log_path.read_text(errors="replace")
        return text.count('"level":"ERROR"') + text.count("Traceback")

    def last_errors(self, lines: int = 12) -> list[str]:
        """The last lines of the log that say something went wrong (a traceback's end or an error record)."""
        found = [
            line[:400]
            for line in self.log_path.read_text(errors="replace").splitlines()
            if '"level":"ERROR"' in line or "Error" in line or "Traceback" in line
        ]
        return found[-lines:]


BACKEND_SAMPLE_SECONDS = 0.1


def sample_backends(url: str, measure_from: float, stop: float, into: dict[str, Any]) -> None:
    """Every `BACKEND_SAMPLE_SECONDS` from `measure_from` to `stop`, how many of the database's other connections
    are running a statement, and how many of those wait for the change lock (the advisory lock every change of
    records takes, `service.db.postgresql.CHANGE_LOCK`); the means of the samples go `into` the dict given."""
    import psycopg

    time.sleep(max(0.0, measure_from - time.perf_counter()))
    samples: list[tuple[int, int]] = []
    with psycopg.connect(url, autocommit=True) as conn:
        while time.perf_counter() < stop:
            found = conn.execute(
                "SELECT COUNT(*) FILTER (WHERE state = 'active'),"
                " COUNT(*) FILTER (WHERE wait_event_type = 'Lock' AND wait_event = 'advisory')"
                " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
            if found is not None:
                samples.append((int(found[0]), int(found[1])))
            time.sleep(BACKEND_SAMPLE_SECONDS)
    if samples:
        into["samples"] = len(samples)
        into["running_a_statement"] = sum(active for active, _ in samples) / len(samples)
        into["waiting_for_the_change_lock"] = sum(waiting for _, waiting in samples) / len(samples)


def machine_busy_seconds() -> float:
    """CPU time every core has spent on anything but idling and waiting for the disk since boot (/proc/stat)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class PostgresCpu:
    """The CPU time of a PostgreSQL server's processes together: the postmaster, every backend and helper still
    running, and (in the postmaster's children's times) those that have ended."""

    def __init__(self, data: Path) -> None:
        self.postmaster = int((data / "postmaster.pid").read_text().split()[0])

    def seconds(self) -> float:
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended while the folder was read
            pid, parent = int(stat.parent.name), int(fields[1])
            if pid == self.postmaster:
                total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
            elif parent == self.postmaster:
                total += int(fields[11]) + int(fields[12])
        return total / tick


async def sign_in_all(base_url: str, usernames: list[str], at_once: int = 4) -> list[dict[str, str]]:
    """Sign each in (a session each); the cookies a browser would then hold."""
    limit = asyncio.Semaphore(at_once)

    async def one(username: str) -> dict[str, str]:
        async with limit, httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            await client.get("/sign-in")
            token = client.cookies.get("csrftoken") or ""
            response = await client.post(
                "/sign-in", data={"username": username, "password": PASSWORD}, headers={"x-csrftoken": token}
            )
            if response.status_code != 303 or response.headers.get("location") != "/":
                raise SystemExit(f"could not sign in as {username}: {response.status_code} {response.text[:300]}")
            return {cookie.name: str(cookie.value) for cookie in client.cookies.jar if cookie.value}

    return list(await asyncio.gather(*(one(username) for username in usernames)))


# ---------------------------------------------------------------- phases


@dataclass
class Phase:
    key: str
    title: str
    plans: Callable[[], list[Plan]]  # built just before the phase runs (section versions are read then)
    backups: bool = False
    judged: bool = False  # a target compares it with GET /ping (or, over it, with another phase): see `schedule`
    ceiling: bool = False  # a GET /ping phase
    audit_reads: bool = True  # False: run against the second server, started with HANDOVER_AUDIT_READS=false
    notifications: bool = True  # False: run against the third server, started with HANDOVER_NOTIFICATIONS=false
    action: str = ""  # a step that moves handovers on ("submit", "endorse", "acknowledge"): they are checked after

    @property
    def server(self) -> str:
        """Which of the servers it runs against (`SERVERS`)."""
        if not self.notifications:
            return NOTIFICATIONS_OFF
        return MAIN if self.audit_reads else READS_UNAUDITED


def latency_figures(latencies: list[float]) -> dict[str, float]:
    """p50/p95/p99 (nearest rank) and the mean, in milliseconds, of sorted latencies in seconds."""
    if not latencies:
        return {"p50_ms": math.nan, "p95_ms": math.nan, "p99_ms": math.nan, "max_ms": math.nan, "mean_ms": math.nan}

    def rank(q: float) -> float:
        return latencies[max(0, math.ceil(q * len(latencies)) - 1)] * 1000

    return {
        "p50_ms": rank(0.50),
        "p95_ms": rank(0.95),
        "p99_ms": rank(0.99),
        "max_ms": latencies[-1] * 1000,
        "mean_ms": sum(latencies) / len(latencies) * 1000,
    }


def summarise(figures: dict[str, Any], seconds: float) -> dict[str, Any]:
    latencies = sorted(figures["latencies"])
    statuses: Counter[str] = figures["statuses"]
    unexpected: Counter[str] = figures["unexpected"]
    status_4xx = sum(n for why, n in unexpected.items() if why.startswith("4"))
    status_5xx = sum(n for why, n in unexpected.items() if why.startswith("5"))
    summary = {
        "ok": len(latencies),
        "rps": len(latencies) / seconds,
        **latency_figures(latencies),
        "status_4xx": status_4xx,
        "status_5xx": status_5xx,
        "wrong_answer": sum(unexpected.values()) - status_4xx - status_5xx,  # e.g. 200 for a save, or 303 to sign-in
        "errors": sum(figures["errors"].values()),
        "statuses": dict(statuses),
        "unexpected": dict(unexpected),
        "error_types": dict(figures["errors"]),
    }
    summary["p99_over_p50"] = summary["p99_ms"] / summary["p50_ms"] if latencies else math.nan
    return summary


def run_phase(
    pool: ClientPool,
    instances: list[Server],
    phase: Phase,
    seconds: float,
    warmup: float,
    profile_to: Path | None = None,
    postgres: PostgresCpu | None = None,
    database_url: str = "",
) -> dict[str, Any]:
    """One phase against one server, or its connections spread over several instances of it (round robin, one
    instance per connection: a person's session works on any of them). On PostgreSQL (`database_url`), what the
    instances' connections are doing is sampled during the measured window (`sample_backends`)."""
    server = instances[0]
    plans = phase.plans()
    for index, plan in enumerate(plans):
        plan.base_url = instances[index % len(instances)].base_url
    audit_reads = phase.audit_reads
    start_at = time.perf_counter() + 1.0  # time for the client processes to receive their plans
    measure_from = start_at + warmup
    stop = measure_from + seconds
    cpu: dict[str, Any] = {}
    backups: list[dict[str, Any]] = []

    sampler: list[subprocess.Popen[bytes] | None] = []

    def watch() -> None:
        time.sleep(max(0.0, measure_from - time.perf_counter()))
        cpu["machine_from"] = machine_busy_seconds()
        cpu["from"] = [instance.cpu_seconds() for instance in instances]
        cpu["postgres_from"] = postgres.seconds() if postgres else math.nan
        if profile_to is not None:
            sampler.append(profile.record(server.pid, seconds, profile_to))
        time.sleep(max(0.0, stop - time.perf_counter()))
        cpu["machine_to"] = machine_busy_seconds()
        cpu["to"] = [instance.cpu_seconds() for instance in instances]
        cpu["postgres_to"] = postgres.seconds() if postgres else math.nan

    def back_up_again_and_again() -> None:
        time.sleep(max(0.0, start_at - time.perf_counter()))
        while time.perf_counter() < stop:
            target = server.folder / "backup.db"  # removed after each: `handover backup` overwrites no earlier one
            began = time.perf_counter()
            done = subprocess.run([HANDOVER, "backup", str(target)], env=server.env, capture_output=True, check=False)
            backups.append(
                {
                    "seconds": time.perf_counter() - began,
                    "exit": done.returncode,
                    "output": done.stdout.decode(errors="replace")[-300:] if done.returncode else "",
                }
            )
            target.unlink(missing_ok=True)

    backends: dict[str, Any] = {}
    helpers = [threading.Thread(target=watch)]
    if database_url:
        helpers.append(threading.Thread(target=sample_backends, args=(database_url, measure_from, stop, backends)))
    if phase.backups:
        helpers.append(threading.Thread(target=back_up_again_and_again))
    peak_reset = server.reset_peak()
    for helper in helpers:
        helper.start()
    merged = pool.run(server.base_url, plans, start_at, measure_from, stop)
    for helper in helpers:
        helper.join()
    for running in sampler:
        if running is not None:
            running.wait(timeout=60)
    endpoints = {name: summarise(figures, seconds) for name, figures in sorted(merged["endpoints"].items())}
    for name, summary in endpoints.items():
        summary["commits_per_request"] = name in WRITES or (audit_reads and name in AUDITED_READS)
    result = {
        "key": phase.key,
        "title": phase.title,
        "connections": len(plans),
        "seconds": seconds,
        "audit_reads": audit_reads,
        "server": phase.server,
        "action": phase.action,
        "ceiling": phase.ceiling,
        "instances": len(instances),
        "server_cpu_percent": (sum(cpu["to"]) - sum(cpu["from"])) / seconds * 100,  # the instances' together
        "client_cpu_percent": merged["cpu_seconds"] / (stop - start_at) * 100,
        # CPU seconds in the measured window: each instance's, and the PostgreSQL server's processes' together; the
        # load client's from its start to the window's end (the warm-up too: its processes time only their runs)
        "cpu_seconds": {
            "instances": [after - before for before, after in zip(cpu["from"], cpu["to"], strict=True)],
            "postgresql": cpu["postgres_to"] - cpu["postgres_from"],
            "client": merged["cpu_seconds"],
            "client_window_seconds": stop - start_at,
            "machine": cpu["machine_to"] - cpu["machine_from"],  # every process on the machine: others' work too
        },
        "server_memory_mb": server.memory_mb(),  # VmHWM: the peak during this phase, if peak_reset
        "peak_reset": peak_reset,
        "ran_out_after_seconds": sorted(merged["ran_out"]),
        "client_crashes": dict(merged["crashed"]),
        "connections_cancelled": merged["cancelled"],
        "succeeded": dict(merged["succeeded"]),  # correct answers, the warm-up's too
        "endpoints": endpoints,
    }
    if backends:
        result["postgresql_backends"] = backends
    if profile_to is not None and profile_to.exists():
        result["profile"] = {"file": str(profile_to), **profile.summary(profile_to)}
    if phase.backups:
        good = [b["seconds"] for b in backups if b["exit"] == 0]
        result["backups"] = {
            "completed": len(good),
            "failed": len(backups) - len(good),
            "mean_seconds": sum(good) / len(good) if good else math.nan,
            "failures": [b["output"] for b in backups if b["exit"]][:3],
        }
    return result


def main_phases(
    workers: list[Worker],
    managers: list[dict[str, str]],
    auditors: list[dict[str, str]],
    store: Store,
    action_handovers: ActionHandovers,
) -> list[Phase]:
    forms = section_forms()
    n = len(workers)

    def gets(
        endpoint: str, path: Callable[[Worker], str] | str, sessions: list[dict[str, str]] | None = None, count: int = n
    ) -> Callable[[], list[Plan]]:
        def plans() -> list[Plan]:
            if sessions is not None:
                return [Plan("get", sessions[i % len(sessions)], steps=[(endpoint, str(path))]) for i in range(count)]
            return [
                Plan("get", w.cookies, steps=[(endpoint, path(w) if callable(path) else path)]) for w in workers[:count]
            ]

        return plans

    def received_gets(endpoint: str, page: str) -> Callable[[], list[Plan]]:
        """One page of an endorsed handover (complete, sent to the worker) on each connection, from the workers who
        received one; if too few did, their connections share them."""
        receivers = [w for w in workers if w.received]
        if not receivers:
            raise SystemExit("no worker received an endorsed handover: seed more handovers")
        return lambda: [
            Plan("get", w.cookies, steps=[(endpoint, f"/handovers/{w.received[0]}/{page}")])
            for w in (receivers[i % len(receivers)] for i in range(n))
        ]

    def save_plan(worker: Worker, persona: str = "save") -> Plan:
        return Plan(
            persona,
            worker.cookies,
            handover_id=worker.draft_id,
            section_id=worker.section_id,
            form=summary_form(store, worker.draft_id)
            if worker.section_id == seed.CASE_SUMMARY
            else forms[worker.section_id],
            version=section_version(store, worker.draft_id, worker.section_id),
        )

    def saves(count: int = n) -> Callable[[], list[Plan]]:
        return lambda: [save_plan(w) for w in workers[:count]]

    def pings_and_sign_ins() -> list[Plan]:
        pings = gets("ping", "/ping")()
        people = [w.username for w in workers[-SIGN_INS_AT_ONCE:]]
        return pings + [
            Plan("sign_in", username=people[i % len(people)], password=PASSWORD) for i in range(SIGN_INS_AT_ONCE)
        ]

    def mixed() -> list[Plan]:
        outgoing = max(1, round(n * MIX["outgoing"]))
        receiving = max(1, round(n * MIX["receiving"])) if n > 1 else 0
        manager = max(1, round(n * MIX["manager"])) if n > 2 else 0
        auditor = max(0, n - outgoing - receiving - manager)
        plans = [save_plan(w, "outgoing") for w in workers[:outgoing]]
        plans += [Plan("receiving", w.cookies, to_acknowledge=list(w.received)) for w in workers[n - receiving :]]
        plans += [Plan("get", managers[i % len(managers)], steps=[("queue", "/queue")]) for i in range(manager)]
        plans += [
            Plan("get", auditors[i % len(auditors)], steps=[("report", "/audit/incomplete")]) for i in range(auditor)
        ]
        for index, plan in enumerate(plans):
            plan.offset = index  # start each connection at a different point of its round
        return plans

    # the phases compared with GET /ping or with each other first, each between two pings (see `schedule`); the
    # task list unaudited runs straight after the audited one, so the two are compared at the same speed of machine
    return [
        Phase(
            "task list",
            "GET /handovers/{id} (task list, audited)",
            gets("task list", lambda w: f"/handovers/{w.draft_id}"),
            judged=True,
        ),
        Phase(
            UNAUDITED_TASK_LIST,
            "GET /handovers/{id}, HANDOVER_AUDIT_READS=false",
            gets("task list", lambda w: f"/handovers/{w.draft_id}"),
            judged=True,
            audit_reads=False,
        ),
        Phase("inbox", "GET /inbox", gets("inbox", "/inbox"), judged=True),
        Phase("queue", "GET /queue (managers)", gets("queue", "/queue", managers), judged=True),
        Phase("save", "POST a section (own draft each)", saves(), judged=True),
        Phase(
            "save+backup",
            "POST a section while `handover backup` runs again and again",
            saves(),
            backups=True,
            judged=True,
        ),
        Phase(
            "ping+sign-ins",
            f"GET /ping while {SIGN_INS_AT_ONCE} sign-ins run at once",
            pings_and_sign_ins,
            judged=True,
        ),
        Phase("dashboard", "GET / (the worker's landing page)", gets("dashboard", "/"), judged=True),
        Phase("report", "GET /audit/incomplete (auditors)", gets("report", "/audit/incomplete", auditors), judged=True),
        # the long pages: one section's form, check your answers, the receiver's review and a complete handover
        Phase(
            "section page",
            "GET /handovers/{id}/sections/{section} (own draft)",
            gets("section page", lambda w: f"/handovers/{w.draft_id}/sections/{w.section_id}"),
            judged=True,
        ),
        Phase(
            "check answers",
            "GET /handovers/{id}/check (own draft)",
            gets("check answers", lambda w: f"/handovers/{w.draft_id}/check"),
            judged=True,
        ),
        Phase("review", "GET /handovers/{id}/review (receivers)", received_gets("review", "review"), judged=True),
        Phase("view", "GET /handovers/{id}/view (a complete handover)", received_gets("view", "view"), judged=True),
        Phase("report x1", "GET /audit/incomplete, one connection", gets("report", "/audit/incomplete", auditors, 1)),
        Phase("save x1", "POST a section, one connection", saves(1)),
        Phase("mixed", "workers, receivers, managers and auditors together", mixed),
        # last, so that the handovers they take (added just before them) are in no other phase's lists; each with
        # notifications and straight after it without, each between pings
        *(
            Phase(
                key,
                title + ("" if notifications else ", HANDOVER_NOTIFICATIONS=false"),
                action_handovers.plans(action, MAIN if notifications else NOTIFICATIONS_OFF),
                judged=True,
                notifications=notifications,
                action=action,
            )
            for action, title in ACTION_TITLES.items()
            for notifications, key in ((True, action), (False, without_notifications(action)))
        ),
    ]


def ping_phase(workers: list[Worker], key: str = "ping") -> Phase:
    """GET /ping from every connection: the framework's ceiling on this machine."""
    plans = [Plan("get", w.cookies, steps=[("ping", "/ping")]) for w in workers]
    return Phase(key, "GET /ping: the framework's ceiling", lambda: plans, ceiling=True)


def schedule(phases: list[Phase], ping: Phase) -> list[Phase]:
    """The phases in order, starting with GET /ping, and with a ping right before and right after each phase judged
    against it (neighbours share one). A ratio is then to the ceiling measured next to it, not minutes earlier: this
    virtual machine's speed drifts by up to a fifth within one run."""
    order = [ping]
    for phase in phases:
        if phase.judged and not order[-1].ceiling:
            order.append(replace(ping, key=f"{ping.key} {sum(p.ceiling for p in order) + 1}"))
        order.append(phase)
        if phase.judged:
            order.append(replace(ping, key=f"{ping.key} {sum(p.ceiling for p in order) + 1}"))
    return order


# ---------------------------------------------------------------- reporting


def nearest_ping(phases: list[dict[str, Any]], index: int) -> dict[str, Any]:
    """GET /ping as measured next to phase `index`: the mean of the ping phases just before and just after it (the
    one there is if only one; its own figures for a ping phase). GET /ping writes nothing, so its pings serve the
    phases on the unaudited server as well."""
    phase = phases[index]
    if phase["ceiling"]:
        return {**phase["endpoints"]["ping"], "phases": [phase["key"]]}
    pings = [i for i, p in enumerate(phases) if p["ceiling"]]
    before = [i for i in pings if i < index][-1:]
    after = [i for i in pings if i > index][:1]
    around = [phases[i] for i in before + after if phases[i]["endpoints"].get("ping", {}).get("ok")]
    if not around:
        return {**endpoint([], "", ""), "phases": []}
    figures = ("rps", "p50_ms", "p95_ms", "p99_ms")
    mean = {f: sum(p["endpoints"]["ping"][f] for p in around) / len(around) for f in figures}
    return {**mean, "phases": [p["key"] for p in around]}


def add_ratios(phases: list[dict[str, Any]], ceiling: float) -> None:
    """Each endpoint against GET /ping measured next to it, and, if it commits, against the write ceiling."""
    for index, phase in enumerate(phases):
        ping = phase["ping"] = nearest_ping(phases, index)
        for summary in phase["endpoints"].values():
            summary["rps_over_ping"] = ratio(summary["rps"], ping["rps"])
            for q in ("p50", "p95", "p99"):
                summary[f"{q}_over_ping"] = ratio(summary[f"{q}_ms"], ping[f"{q}_ms"])
            summary["rps_over_write_ceiling"] = summary["rps"] / ceiling if summary["commits_per_request"] else None


def endpoint(phases: list[dict[str, Any]], key: str, name: str) -> dict[str, Any]:
    """An endpoint's figures in one phase (empty ones if not a single request of it finished)."""
    phase = next((phase for phase in phases if phase["key"] == key), None)  # None: left out with --only
    found = phase["endpoints"].get(name) if phase else None
    return found or summarise({"latencies": [], "statuses": {}, "unexpected": {}, "errors": {}}, 1.0)


def ratio(part: float, whole: float) -> float:
    return part / whole if whole and not math.isnan(whole) else math.nan


def targets(
    phases: list[dict[str, Any]], memory: dict[str, float], left_out: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The targets (see the module's docstring), each met or not; those of phases `left_out` are not judged."""
    left_out = left_out or {}
    save = endpoint(phases, "save", "section save")
    found: list[dict[str, Any]] = []
    checks = {
        ">=": lambda value, goal: value >= goal,
        "<": lambda value, goal: value < goal,
        "<=": lambda value, goal: value <= goal,
    }

    def target(text: str, value: float, comparison: str, goal: float, unit: str = "") -> None:
        met = not math.isnan(value) and checks[comparison](value, goal)
        found.append({"target": text, "value": value, "comparison": comparison, "goal": goal, "unit": unit, "met": met})

    # ratios to GET /ping are to the pings measured just before and after the phase (`nearest_ping`)
    # (a closed-loop p99 at 50 connections is printed, not judged: it measures connections / throughput; latency is
    # judged open-loop, by bench/open_loop.py)
    target("section save throughput / GET /ping", save.get("rps_over_ping", math.nan), ">=", 0.45, "x")
    for key in LIST_PAGES:
        value = endpoint(phases, key, key).get("rps_over_ping", math.nan)
        target(f"{key} (a list page) throughput / GET /ping", value, ">=", 0.35, "x")
    for key in LONG_PAGES:
        value = endpoint(phases, key, key).get("rps_over_ping", math.nan)
        target(f"{key} (a long page) throughput / GET /ping", value, ">=", 0.2, "x")
    # the report's target is judged where auditors are in a realistic share of the load, and alone; the phase with
    # every connection refreshing the report at once is a stress figure (its latency is connections x page cost)
    target("report page p99 in the mix", endpoint(phases, "mixed", "report")["p99_ms"], "<", 100, " ms")
    target("report page p99 at 1 connection", endpoint(phases, "report x1", "report")["p99_ms"], "<", 100, " ms")
    target("server resident memory after the run", memory["VmRSS"], "<", 150, " MB")
    audited = endpoint(phases, "task list", "task list")["rps"]
    unaudited = endpoint(phases, UNAUDITED_TASK_LIST, "task list")["rps"]
    target("task list throughput, reads audited / unaudited", ratio(audited, unaudited), ">=", 0.7, "x")
    found[-1]["each_over_the_pings_next_to_it"] = ratio(
        endpoint(phases, "task list", "task list").get("rps_over_ping", math.nan),
        endpoint(phases, UNAUDITED_TASK_LIST, "task list").get("rps_over_ping", math.nan),
    )
    tails = sorted(
        (
            (summary["p99_over_p50"], f"{phase['key']} / {name}")
            for phase in phases
            for name, summary in phase["endpoints"].items()
            if summary["ok"] >= 20
        ),
        reverse=True,
    )
    for tail, where in tails[:1] + [t for t in tails[1:] if t[0] > 4]:
        target(f"p99/p50 of {where}", tail, "<=", 4, "x")
    with_sign_ins = endpoint(phases, "ping+sign-ins", "ping").get("p99_over_ping", math.nan)
    target(f"GET /ping p99 with {SIGN_INS_AT_ONCE} sign-ins / without", with_sign_ins, "<=", 2, "x")
    # each over the pings next to it, so that the machine's drift between the two phases is not counted as the backups'
    if "save+backup" not in left_out:
        during_backups = endpoint(phases, "save+backup", "section save").get("rps_over_ping", math.nan)
        target(
            "section save throughput during backups / without (each over GET /ping next to it)",
            ratio(during_backups, save.get("rps_over_ping", math.nan)),
            ">=",
            0.7,
            "x",
        )
        found[-1]["in_requests_per_second"] = ratio(endpoint(phases, "save+backup", "section save")["rps"], save["rps"])
    for action in ACTIONS:
        with_them = endpoint(phases, action, action)
        without_them = endpoint(phases, without_notifications(action), action)
        target(
            f"{action} throughput with notifications / without (each over GET /ping next to it)",
            ratio(with_them.get("rps_over_ping", math.nan), without_them.get("rps_over_ping", math.nan)),
            ">=",
            0.9,
            "x",
        )
        found[-1]["in_requests_per_second"] = ratio(with_them["rps"], without_them["rps"])
        found[-1]["in_server_cpu_per_step"] = ratio(
            server_cpu_per_step(phases, without_notifications(action), action),
            server_cpu_per_step(phases, action, action),
        )
        if unsound := action_doubts(phases, action):
            found[-1]["met"] = False
            found[-1]["doubts"] = unsound
    failed = sum(
        s["status_4xx"] + s["status_5xx"] + s["wrong_answer"] + s["errors"]
        for phase in phases
        for s in phase["endpoints"].values()
    )
    target("requests that failed or got a wrong answer", failed, "<=", 0)
    return found


def server_cpu_per_step(phases: list[dict[str, Any]], key: str, name: str) -> float:
    """The server's CPU seconds in a phase's measured window over the steps answered in it: a step's cost that other
    work on the machine taking CPU between phases leaves alone, unlike its rate."""
    phase = next((phase for phase in phases if phase["key"] == key), None)
    if phase is None or not phase["endpoints"].get(name, {}).get("ok"):
        return math.nan
    return float(phase["server_cpu_percent"]) / 100 * float(phase["seconds"]) / int(phase["endpoints"][name]["ok"])


def action_doubts(phases: list[dict[str, Any]], action: str) -> list[str]:
    """Why a step's two phases would not show what notifications cost it: a connection ran out of handovers (its
    rate is a floor), the store does not show one handover moved on for each 303 to the step's confirmation page,
    or the server with notifications wrote none about its handovers, or the one without them wrote some."""
    doubts = []
    for key, notifications in ((action, True), (without_notifications(action), False)):
        phase = next((phase for phase in phases if phase["key"] == key), None)
        if phase is None:
            continue  # left out with --only: the ratio is nan, and so not met
        check = phase["database_check"]
        if phase["ran_out_after_seconds"]:
            doubts.append(f"{key}: {len(phase['ran_out_after_seconds'])} connections ran out of handovers")
        if check["moved_on"] != check["answered_303"]:
            doubts.append(f"{key}: {check['moved_on']} handovers {ACTIONS[action]}, {check['answered_303']} 303s")
        if notifications and not check["notifications"]:
            doubts.append(f"{key}: no notifications written with HANDOVER_NOTIFICATIONS on")
        if not notifications and check["notifications"]:
            doubts.append(f"{key}: {check['notifications']} notifications written with HANDOVER_NOTIFICATIONS=false")
        if phase.get("delivery", {}).get("unsent_at_the_end"):
            doubts.append(f"{key}: its e-mails were still being delivered when the phase without them began")
    return doubts


def number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return "nan" if math.isnan(value) else f"{value:,.{digits}f}"


def print_table(phases: list[dict[str, Any]]) -> None:
    header = (
        f"{'phase':<28} {'endpoint':<13} {'conn':>4} {'ok':>6} {'req/s':>7} {'/ping':>6} {'/write':>6} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'p99/ping':>8} {'p99/p50':>7} "
        f"{'4xx':>4} {'5xx':>4} {'wrong':>5} {'err':>4} {'srv cpu':>7} {'cli cpu':>7} {'peak MB':>7}"
    )
    print(header)
    print("-" * len(header))
    for phase in phases:
        for name, s in phase["endpoints"].items():
            print(
                f"{phase['key']:<28} {name:<13} {phase['connections']:>4} {s['ok']:>6} {number(s['rps']):>7} "
                f"{number(s['rps_over_ping'], 2):>6} {number(s['rps_over_write_ceiling'], 3):>6} "
                f"{number(s['p50_ms']):>7} {number(s['p95_ms']):>7} {number(s['p99_ms']):>7} "
                f"{number(s['p99_over_ping'], 2):>8} {number(s['p99_over_p50'], 2):>7} "
                f"{s['status_4xx']:>4} {s['status_5xx']:>4} {s['wrong_answer']:>5} {s['errors']:>4} "
                f"{phase['server_cpu_percent']:>6.0f}% {phase['client_cpu_percent']:>6.0f}% "
                f"{phase['server_memory_mb']['VmHWM']:>7.0f}"
            )
    pings = [p["endpoints"]["ping"]["rps"] for p in phases if p["ceiling"]]
    if len(pings) > 1:
        print(
            f"GET /ping phase by phase: {', '.join(number(rps, 0) for rps in pings)} req/s "
            f"(lowest / highest {min(pings) / max(pings):.2f})"
        )
    for phase in phases:
        notes = []
        if not phase["ceiling"]:
            ping = phase["ping"]
            notes.append(
                f"/ping columns over GET /ping {number(ping['rps'], 0)} req/s, the mean of "
                + " and ".join(ping["phases"])
            )
        for name, s in phase["endpoints"].items():
            if s["unexpected"] or s["error_types"]:
                notes.append(f"{name}: unexpected {s['unexpected']} errors {s['error_types']}")
        if ran_out := phase["ran_out_after_seconds"]:
            notes.append(
                f"{len(ran_out)} of {phase['connections']} connections ran out of handovers to act on, after "
                f"{max(0.0, ran_out[0]):.1f} to {max(0.0, ran_out[-1]):.1f} s of the window: its req/s are a floor"
            )
        if check := phase.get("database_check"):
            notes.append(
                f"in the database after it: {check['moved_on']} of its handovers {ACTIONS[phase['action']]} "
                f"({check['answered_303']} 303s to the confirmation page), {check['still_waiting']} still "
                f"{seed.ACTION_STATES[phase['action']]}; {check['notifications']} notifications about them, "
                f"{check['emailed']} e-mailed"
            )
        if delivery := phase.get("delivery"):
            notes.append(
                f"its sender delivered {delivery['delivered_after_the_phase']} more e-mails in the "
                f"{delivery['seconds']:.1f} s after it; {delivery['unsent_at_the_end']} still in the outbox"
            )
        if phase["client_crashes"] or phase["connections_cancelled"]:
            notes.append(f"client crashes {phase['client_crashes']}, cancelled {phase['connections_cancelled']}")
        if "backups" in phase:
            b = phase["backups"]
            notes.append(
                f"backups: {b['completed']} completed (mean {number(b['mean_seconds'], 2)} s), "
                f"{b['failed']} failed {b['failures']}"
            )
        for note in notes:
            print(f"  {phase['key']}: {note}")


def print_log_errors(measured: dict[str, Any]) -> None:
    """The last error lines of each server's log that has any."""
    for log, lines in measured["server_log_error_tails"].items():
        print(f"the last errors in {log}:")
        for line in lines:
            print(f"    {line}")


def print_profiles(phases: list[dict[str, Any]]) -> None:
    """Where each profiled phase spent the server's time (shares of the samples taken while it held the GIL)."""
    for phase in phases:
        if "profile" not in phase:
            continue
        found = phase["profile"]
        print(f"profile of {phase['key']!r} ({found['file']}):")
        for kind in ("self", "inclusive"):
            print(f"  {kind}: " + "; ".join(f"{name} {share:.0%}" for name, share in found[kind]))
        print()


def prepare(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The write ceiling, then the seeded database and its report query plans, printed as they are found."""
    ceiling = write_ceiling(folder, args.write_seconds)
    print(
        f"write ceiling: {ceiling['commits_per_second']:,.0f} single-row commits/s (WAL, synchronous=FULL), "
        f"p50 {ceiling['p50_ms']:.2f} ms, p99 {ceiling['p99_ms']:.2f} ms"
    )
    seeded = time.perf_counter()
    build(folder / "handover.db", args.handovers, cases=args.cases, caseload=args.caseload)
    described = describe_database(folder / "handover.db")
    print(
        f"seeded in {time.perf_counter() - seeded:.1f} s: {described['megabytes']:.0f} MB, "
        + ", ".join(f"{count:,} {table}" for table, count in described["rows"].items())
    )
    print("handovers by state: " + ", ".join(f"{state} {count:,}" for state, count in described["states"].items()))
    plans = query_plans(folder / "handover.db")
    for title, lines in plans.items():
        print(f"EXPLAIN QUERY PLAN, {title}:")
        for line in lines:
            print(f"    {line}")
    return {"write_ceiling": ceiling, "database": described, "query_plans": plans}


def measure(
    folder: Path,
    args: argparse.Namespace,
    started: float,
    store: Store | None = None,
    instances: int = 1,
    postgres: PostgresServer | None = None,
) -> dict[str, Any]:
    """Every phase, and the servers' memory.

    Up to three servers share the data folder (the database and its sessions): the main one, auditing every read and
    writing notifications; one with reads unaudited that only the unaudited task list phase drives, straight after
    the audited one, so that the two are compared at the same speed of machine; and one with notifications off
    (HANDOVER_NOTIFICATIONS=false) that only the submit, endorse and acknowledge phases without notifications drive,
    each straight after the same phase on the main server. The others sit idle otherwise; the second changes
    nothing in the database (it serves only reads that nobody audits), and the third moves on only its own set of
    handovers (`ActionHandovers`).

    `store` is where the data is (the folder's SQLite file unless given); on PostgreSQL every server runs on that
    database, and `postgres` is its server, whose processes' CPU time each phase records. With `instances` 2 the
    main server is two instances of it, each phase's connections spread over them; the people are signed in on the
    first. Phases that cannot run on PostgreSQL (`LEFT_OUT_ON_POSTGRESQL`) are left out, with the reason printed.
    """
    store = store or Store(folder / "handover.db")
    workers, manager_names, auditor_name = choose_people(store, args.connections)
    only = set(args.only or [])
    chosen_keys = only | ({UNAUDITED_TASK_LIST} if "unaudited" in only else set())
    chosen_keys |= {without_notifications(action) for action in ACTIONS if action in only}
    mail = None if args.no_mail_server else MailServer()
    main_instances = [
        Server(
            folder,
            audit_reads=True,
            label="audited" if instances == 1 else f"audited-{number + 1}",
            mail_port=mail.port if mail else None,
            database_url=store.url,
        )
        for number in range(instances)
    ]
    servers = {MAIN: main_instances[0]}
    postgres_cpu = PostgresCpu(postgres.data) if postgres is not None else None
    pool = ClientPool(args.client_processes)
    try:
        if mail is not None:
            mail.start()
        for instance in main_instances:
            instance.start()
        signing_in = time.perf_counter()
        jars = asyncio.run(sign_in_all(servers[MAIN].base_url, [worker.username for worker in workers]))
        for worker, jar in zip(workers, jars, strict=True):
            worker.cookies = jar
        managers = asyncio.run(sign_in_all(servers[MAIN].base_url, manager_names[: args.connections]))
        auditors = asyncio.run(sign_in_all(servers[MAIN].base_url, [auditor_name] * min(args.connections, 4)))
        print(
            f"signed in {len(workers)} workers, {len(managers)} managers and {len(auditors)} auditor sessions in "
            f"{time.perf_counter() - signing_in:.1f} s; {sum(len(w.received) for w in workers):,} endorsed "
            f"handovers to acknowledge; {args.client_processes} client processes",
            flush=True,
        )
        memory = {"after_setup_sign_ins": servers[MAIN].memory_mb()}
        action_handovers = ActionHandovers(
            store,
            servers[MAIN].base_url,
            {action for action in ACTIONS if not args.only or action in only},
            args.connections,
            args.warmup + args.seconds + 1.0,  # and the second the client processes are given to start
        )
        phases = main_phases(workers, managers, auditors, store, action_handovers)
        chosen = [p for p in phases if not args.only or p.key in chosen_keys]
        left_out = {}
        if store.url:
            left_out = {p.key: LEFT_OUT_ON_POSTGRESQL[p.key] for p in chosen if p.key in LEFT_OUT_ON_POSTGRESQL}
            chosen = [p for p in chosen if p.key not in left_out]
            for key, why in left_out.items():
                print(f"  left out on PostgreSQL: {key}: {why}", flush=True)
        for name, (audit_reads, notifications) in SERVERS.items():
            if name not in servers and any(phase.server == name for phase in chosen):
                label = name.replace(" ", "-")
                servers[name] = Server(
                    folder, audit_reads=audit_reads, label=label, notifications=notifications, database_url=store.url
                )
                servers[name].start()  # after the sign-ins, whose sessions it reads from the database
        order = schedule(chosen, ping_phase(workers))  # GET /ping always runs: every ratio is to it
        results = []
        for index, phase in enumerate(order):
            if any(coming.action for coming in order[index : index + 2]):
                action_handovers.prepare()  # before the ping next to the first of them, not between the two
            profile_to = folder / f"profile-{phase.key.replace(' ', '-')}.txt" if args.profile else None
            serving = main_instances if phase.server == MAIN else [servers[phase.server]]
            result = run_phase(
                pool, serving, phase, args.seconds, args.warmup, profile_to, postgres_cpu, store.url if postgres else ""
            )
            if phase.action:
                answered = result["succeeded"].get(phase.action, 0)
                result["database_check"] = action_handovers.check(phase.action, phase.server, answered)
                if mail is not None and phase.server == MAIN:
                    result["delivery"] = wait_for_delivery(store, mail, DELIVERY_WAIT_SECONDS)
            results.append(result)
            print(f"  done: {phase.key} ({time.perf_counter() - started:.0f} s)", flush=True)
        for name, server in servers.items():
            memory[MEMORY_KEYS[name]] = server.memory_mb()
        for number, instance in enumerate(main_instances[1:], start=2):
            memory[f"instance_{number}"] = instance.memory_mb()
        everyone = [*main_instances, *(server for name, server in servers.items() if name != MAIN)]
        logged_errors = sum(server.errors_logged() for server in everyone)
        errors_seen = {server.log_path.name: server.last_errors() for server in everyone if server.errors_logged()}
    finally:
        pool.close()
        for server in [*main_instances, *(server for name, server in servers.items() if name != MAIN)]:
            server.stop()
        if mail is not None:
            mail.stop()
    return {
        "database_kind": store.kind,
        "instances": instances,
        "left_out": left_out,
        "phases": results,
        "server_memory_mb": memory,
        "server_log_errors": logged_errors,
        "server_log_error_tails": errors_seen,
        "emails_delivered": mail.taken if mail is not None else None,
    }


def report(measured: dict[str, Any], prepared: dict[str, Any], args: argparse.Namespace) -> list[dict[str, Any]]:
    """The table, memory and targets; returns the targets."""
    results = measured["phases"]
    add_ratios(results, prepared["write_ceiling"]["commits_per_second"])
    print()
    print(
        f"{args.connections} connections, {args.seconds:g} s measured per phase after {args.warmup:g} s warm-up. "
        "/ping: throughput over GET /ping's; /write: over the write ceiling (endpoints that commit every request);"
    )
    print(
        "p99/ping: p99 over GET /ping's p99. Latencies and req/s are of correct answers only; 4xx, 5xx, wrong "
        "(another status or redirect) and err (no answer) count the rest. cpu: % of one core during the phase."
    )
    print()
    print_table(results)
    print()
    memory = measured["server_memory_mb"]
    peaks = {phase["key"]: phase["server_memory_mb"]["VmHWM"] for phase in results if phase["server"] == MAIN}
    highest = max(peaks, key=lambda key: peaks[key])
    without_sign_ins = max(mb for key, mb in peaks.items() if key != "ping+sign-ins")
    print(
        f"server memory, reads audited: resident after the run {memory['reads_audited']['VmRSS']:.0f} MB; peak "
        f"{peaks[highest]:.0f} MB (phase {highest!r}), {without_sign_ins:.0f} MB in the phases without sign-ins, "
        f"{memory['after_setup_sign_ins']['VmHWM']:.0f} MB while signing the users in 4 at a time (argon2id takes "
        "64 MiB for each sign-in in progress)"
    )
    if "reads_unaudited" in memory:
        print(f"server memory, reads unaudited: resident after the run {memory['reads_unaudited']['VmRSS']:.0f} MB")
    if "notifications_off" in memory:
        print(f"server memory, notifications off: resident after the run {memory['notifications_off']['VmRSS']:.0f} MB")
    print(f"errors in the servers' logs: {measured['server_log_errors']}")
    print_log_errors(measured)
    if measured["database_kind"] == "postgresql" or measured["instances"] > 1:
        print("CPU seconds in each phase's measured window, per process:")
        print_cpu(results)
    for key, why in measured["left_out"].items():
        print(f"left out on PostgreSQL: {key}: {why}")
    if measured["emails_delivered"] is not None:
        print(f"e-mails the main server delivered to the mail server on loopback: {measured['emails_delivered']}")
    if not all(phase["peak_reset"] for phase in results):
        print("(the peak could not be reset between phases here: each phase's peak is the peak so far)")
    print_profiles(results)
    found = targets(results, memory["reads_audited"], measured["left_out"])
    print()
    print("targets:")
    for item in found:
        digits = 3 if item["unit"] == "x" else 0
        print(
            f"  {'met    ' if item['met'] else 'NOT met'}  {item['target']}: {number(item['value'], digits)}"
            f"{item['unit']} (target {item['comparison']} {item['goal']:g}{item['unit']})"
        )
        if "each_over_the_pings_next_to_it" in item:
            normalised = number(item["each_over_the_pings_next_to_it"], 2)
            print(f"           (each over the GET /ping next to it: {normalised}x)")
        if "in_requests_per_second" in item:
            print(f"           (in requests a second: {number(item['in_requests_per_second'], 2)}x)")
        if "in_server_cpu_per_step" in item:
            print(
                "           (in the server's CPU time per step, without / with: "
                f"{number(item['in_server_cpu_per_step'], 2)}x)"
            )
        for doubt in item.get("doubts", []):
            print(f"           (not judged: {doubt})")
    return found


def moved_to_postgresql(folder: Path, postgres: PostgresServer, name: str) -> Store:
    """A new database `name` on `postgres` holding a copy of the seeded SQLite database, moved across as an operator
    would move theirs (`handover migrate-to-postgres`, which checks the audit chain on arrival)."""
    url = postgres.create_database(name)
    env = {key: value for key, value in os.environ.items() if not key.startswith("HANDOVER_")}
    env.update({"HANDOVER_DATA_DIR": str(folder), "HANDOVER_SECRET_KEY": SECRET, "HANDOVER_DATABASE_URL": url})
    began = time.perf_counter()
    moved = subprocess.run(
        [HANDOVER, "migrate-to-postgres", str(folder / "handover.db")],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if moved.returncode != 0:
        raise SystemExit(f"handover migrate-to-postgres failed:\n{moved.stdout}{moved.stderr}")
    print(f"moved to PostgreSQL in {time.perf_counter() - began:.1f} s: {moved.stdout.splitlines()[0]}", flush=True)
    return Store(folder / "handover.db", url)


def copied_sqlite(source: Path, folder: Path) -> Store:
    """A copy of the seeded SQLite database in a data folder of its own (SQLite's backup API)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (
        sqlite3.connect(f"file:{source}?mode=ro", uri=True) as original,
        sqlite3.connect(folder / "handover.db") as copy,
    ):
        original.backup(copy)
    return Store(folder / "handover.db")


def configuration(database: str, instances: int) -> str:
    return f"{'PostgreSQL' if database == 'postgresql' else 'SQLite'}, {instances} instance{'s'[: instances != 1]}"


def compare(folder: Path, args: argparse.Namespace, started: float, ceiling: float) -> list[dict[str, Any]]:
    """The same phases (`--only`, or `COMPARE_PHASES`) on SQLite with one instance, then PostgreSQL with one, then
    PostgreSQL with two, back to back, each on a fresh copy of the same seeded data; each run's table printed as it
    ends. Returns the runs."""
    args.only = args.only or COMPARE_PHASES
    postgres = start_postgres(folder / "postgresql")
    runs = []
    try:
        moved_to_postgresql(folder, postgres, "seeded")
        for database, instances in (("sqlite", 1), ("postgresql", 1), ("postgresql", 2)):
            label = configuration(database, instances)
            print(f"\n== {label}", flush=True)
            run_folder = folder / f"{database}-{instances}"
            run_folder.mkdir()
            name = f"run_{instances}"
            if database == "sqlite":
                store = copied_sqlite(folder / "handover.db", run_folder)
            else:
                store = Store(folder / "handover.db", postgres.create_database(name, template="seeded"))
            measured = measure(run_folder, args, started, store, instances, postgres if store.url else None)
            if store.url:
                postgres.drop_database(name)  # its pages are not left in the server's cache for the next run
            add_ratios(measured["phases"], ceiling)
            print()
            print_table(measured["phases"])
            print(f"errors in the servers' logs: {measured['server_log_errors']}")
            print_log_errors(measured)
            runs.append({"configuration": label, **measured})
    finally:
        postgres.stop()
    return runs


ALL = "all requests"  # an endpoint name standing for every endpoint of a phase together (the mixed phase's)


def compared_phases(runs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(phase, endpoint) of every phase measured in the first run, GET /ping first (the means of its phases); a
    phase of several endpoints also as all its requests together."""
    found = [("ping", "ping")]
    for phase in runs[0]["phases"]:
        if not phase["ceiling"]:
            found += [(phase["key"], name) for name in phase["endpoints"]]
            if len(phase["endpoints"]) > 1:
                found.append((phase["key"], ALL))
    return found


def run_figures(run: dict[str, Any], key: str, name: str) -> dict[str, float]:
    """req/s and its ratio to GET /ping of an endpoint in one run; for GET /ping, the mean of its phases."""
    if key == "ping":
        pings = [p["endpoints"]["ping"]["rps"] for p in run["phases"] if p["ceiling"] and "ping" in p["endpoints"]]
        return {"rps": sum(pings) / len(pings) if pings else math.nan, "rps_over_ping": 1.0}
    if name == ALL:
        phase = next((phase for phase in run["phases"] if phase["key"] == key), None)
        if phase is None:
            return {"rps": math.nan, "rps_over_ping": math.nan}
        rps = sum(summary["rps"] for summary in phase["endpoints"].values())
        return {"rps": rps, "rps_over_ping": ratio(rps, phase["ping"]["rps"])}
    found = endpoint(run["phases"], key, name)
    return {"rps": found["rps"], "rps_over_ping": found.get("rps_over_ping", math.nan)}


def comparison_targets(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """PostgreSQL with one instance over SQLite with one, for saves and page GETs (each over the GET /ping measured
    next to it, so that the machine's drift between runs is not counted as the database's: target >= 0.5); and two
    instances over one on PostgreSQL, in requests a second (target >= 1.0: nothing serialises needlessly)."""
    sqlite, one, two = runs
    ran = {phase["key"] for phase in one["phases"]}  # `--only` may leave some out: nothing to judge of those
    found = []
    for key, name in [(key, name) for key, name in SAVES + PAGE_GETS if key in ran]:
        on_sqlite, on_postgresql = run_figures(sqlite, key, name), run_figures(one, key, name)
        value = ratio(on_postgresql["rps_over_ping"], on_sqlite["rps_over_ping"])
        found.append(
            {
                "target": f"{key}: PostgreSQL / SQLite, one instance, each over GET /ping",
                "value": value,
                "goal": 0.5,
                "met": not math.isnan(value) and value >= 0.5,
                "in_requests_per_second": ratio(on_postgresql["rps"], on_sqlite["rps"]),
            }
        )
    judged = [("ping", "ping"), *SAVES, *PAGE_GETS, *(k for k in compared_phases(runs) if k == ("mixed", ALL))]
    for key, name in [(key, name) for key, name in judged if key in ran]:
        value = ratio(run_figures(two, key, name)["rps"], run_figures(one, key, name)["rps"])
        found.append(
            {
                "target": f"{key}{'' if key == name else ' / ' + name}: two instances / one on PostgreSQL, req/s",
                "value": value,
                "goal": 1.0,
                "met": not math.isnan(value) and value >= 1.0,
                # what other work on the machine took from one run and not the other moves GET /ping as well
                "each_over_the_pings_next_to_it": ratio(
                    run_figures(two, key, name)["rps_over_ping"], run_figures(one, key, name)["rps_over_ping"]
                ),
            }
        )
    return found


def print_cpu(phases: list[dict[str, Any]]) -> None:
    """CPU seconds per process in each phase's measured window (the pings but the first left out)."""
    for phase in phases:
        if phase["ceiling"] and phase["key"] != "ping":
            continue
        cpu = phase["cpu_seconds"]
        client = cpu["client"] * phase["seconds"] / cpu["client_window_seconds"]
        parts = [f"instance {i + 1} {seconds:.1f}" for i, seconds in enumerate(cpu["instances"])]
        if not math.isnan(cpu["postgresql"]):
            parts.append(f"PostgreSQL {cpu['postgresql']:.1f}")
        parts.append(f"load client {client:.1f}")
        total = sum(cpu["instances"]) + (0 if math.isnan(cpu["postgresql"]) else cpu["postgresql"]) + client
        waits = ""
        if backends := phase.get("postgresql_backends"):
            waits = (
                f"; the instances' connections running a statement {backends['running_a_statement']:.1f} on "
                f"average, {backends['waiting_for_the_change_lock']:.1f} of them waiting for the change lock"
            )
        print(
            f"    {phase['key']:<12} " + ", ".join(parts) + f"; together {total:.1f}, other processes "
            f"{max(0.0, cpu['machine'] - total):.1f}, of the {phase['seconds'] * (os.cpu_count() or 1):.0f} s "
            "the cores had" + waits
        )


def print_comparison(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs side by side, CPU seconds per process, and the comparison's targets; returns the targets."""
    print()
    print("requests a second and their ratio to GET /ping measured next to them, per configuration:")
    header = f"{'phase / endpoint':<30}" + "".join(f" {run['configuration']:>24}" for run in runs)
    header += f" {'PG/SQLite /ping':>15} {'2/1 req/s':>9} {'2/1 /ping':>9}"
    print(header)
    print("-" * len(header))
    for key, name in compared_phases(runs):
        cells = []
        for run in runs:
            figures = run_figures(run, key, name)
            cells.append(f" {number(figures['rps']):>14} req/s {number(figures['rps_over_ping'], 2):>4}")
        pg_over_sqlite = ratio(
            run_figures(runs[1], key, name)["rps_over_ping"], run_figures(runs[0], key, name)["rps_over_ping"]
        )
        two, one = run_figures(runs[2], key, name), run_figures(runs[1], key, name)
        two_over_one = ratio(two["rps"], one["rps"])
        over_ping = ratio(two["rps_over_ping"], one["rps_over_ping"])
        title = key if key == name else f"{key} / {name}"
        print(
            f"{title:<30}"
            + "".join(cells)
            + f" {number(pg_over_sqlite, 2):>15} {number(two_over_one, 2):>9} {number(over_ping, 2):>9}"
        )
    print()
    print(
        "CPU seconds in each phase's measured window, per process (the load client's share of its run scaled to the "
        "window; PostgreSQL: its server's processes summed):"
    )
    for run in runs:
        print(f"  {run['configuration']}:")
        print_cpu(run["phases"])
    found = comparison_targets(runs)
    print()
    print("targets:")
    for item in found:
        print(
            f"  {'met    ' if item['met'] else 'NOT met'}  {item['target']}: {number(item['value'], 2)}x "
            f"(target >= {item['goal']:g}x)"
        )
        if "in_requests_per_second" in item:
            print(f"           (in requests a second: {number(item['in_requests_per_second'], 2)}x)")
        if "each_over_the_pings_next_to_it" in item:
            normalised = number(item["each_over_the_pings_next_to_it"], 2)
            print(f"           (each over the GET /ping next to it: {normalised}x)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each phase")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--handovers", type=int, default=20_000)
    seed.add_seed_arguments(parser)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--write-seconds", type=float, default=3.0, help="length of the raw insert loop")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, server logs)")
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="postgresql: the seeded data moved into a throwaway PostgreSQL server (handover migrate-to-postgres)",
    )
    parser.add_argument(
        "--instances", type=int, choices=[1, 2], default=1, help="instances of the main server, connections spread"
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="SQLite with one instance, PostgreSQL with one and with two, back to back, the same phases (--only, "
        f"or {' '.join(COMPARE_PHASES)}), and the ratios between them",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="PHASE",
        help="run only these phases (e.g. save queue; 'unaudited' for the task list unaudited); GET /ping always runs",
    )
    parser.add_argument(
        "--no-mail-server",
        action="store_true",
        help="keep the main server's e-mails in its outbox (as with no mail server set) instead of delivering them",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the server with py-spy during each phase and print where the time goes (slows the server)",
    )
    args = parser.parse_args()
    seed.resolve_cases(args)
    if args.profile and profile.py_spy() is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    if args.instances == 2 and args.database == "sqlite" and not args.compare:
        raise SystemExit("--instances 2 needs --database postgresql: instances share one database only there")
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="handover-load-bench-"))
    load_before = os.getloadavg()
    print(
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"load average {load_before[0]:.2f}; working in {folder}"
    )
    if load_before[0] > 1.0:
        print(
            "WARNING: something else has been using the CPU; the figures may be lower and noisier than on a quiet "
            "machine"
        )
    prepared = prepare(folder, args)
    if args.compare:
        runs = compare(folder, args, started, prepared["write_ceiling"]["commits_per_second"])
        measured: dict[str, Any] = {"runs": runs}
        found = print_comparison(runs)
    else:
        postgres = start_postgres(folder / "postgresql") if args.database == "postgresql" else None
        try:
            store = moved_to_postgresql(folder, postgres, "handover") if postgres is not None else None
            measured = measure(folder, args, started, store, args.instances, postgres)
        finally:
            if postgres is not None:
                postgres.stop()
        found = report(measured, prepared, args)
    load_after = os.getloadavg()
    print(
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
        f"total {time.perf_counter() - started:.0f} s"
    )

    out = PROJECT_ROOT / "bench" / "results" / f"load-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "load_average_before": load_before,
        "load_average_after": load_after,
    }
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "settings": vars(args),
        **prepared,
        **measured,
        "targets": found,
    }
    out.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"written to {out.relative_to(PROJECT_ROOT)}")
    if args.keep:
        print(f"kept {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
