"""The schema: numbered migrations, applied in order at start-up and by `handover init-db`, each recorded in
`schema_migrations` so that a database is only ever moved forward.

SQLite runs every migration from the first. PostgreSQL starts from a baseline, the whole schema as it stood at
migration `POSTGRESQL_BASELINE_VERSION` (`service.db.schema_postgresql`), and then runs the later migrations, each
written for both (`Migration`).
"""

from __future__ import annotations

from typing import NamedTuple


class Migration(NamedTuple):
    """One change of the schema, as SQLite and PostgreSQL each spell it."""

    sqlite: str
    postgresql: str


POSTGRESQL_BASELINE_VERSION = 23  # migrations up to this one are in PostgreSQL's baseline; later ones are `Migration`s

MIGRATIONS: list[str | Migration] = [
    # 1: people, teams, cases, handovers, the audit log
    """
    CREATE TABLE teams (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        is_auditor INTEGER NOT NULL DEFAULT 0,
        is_admin INTEGER NOT NULL DEFAULT 0,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE memberships (
        user_id INTEGER NOT NULL REFERENCES users(id),
        team_id INTEGER NOT NULL REFERENCES teams(id),
        role TEXT NOT NULL CHECK (role IN ('worker', 'manager')),
        PRIMARY KEY (user_id, team_id, role)
    );
    CREATE TABLE sibling_groups (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL
    );
    CREATE TABLE cases (
        id INTEGER PRIMARY KEY,
        reference TEXT NOT NULL UNIQUE,
        child_name TEXT NOT NULL,
        date_of_birth TEXT NOT NULL,
        sibling_group_id INTEGER REFERENCES sibling_groups(id),
        allocated_worker_id INTEGER NOT NULL REFERENCES users(id),
        allocated_team_id INTEGER NOT NULL REFERENCES teams(id),
        allocated_since TEXT NOT NULL
    );
    CREATE INDEX cases_by_worker ON cases(allocated_worker_id);
    CREATE INDEX cases_by_sibling_group ON cases(sibling_group_id);
    CREATE TABLE handovers (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        checklist_id TEXT NOT NULL,
        checklist_version INTEGER NOT NULL,
        state TEXT NOT NULL,
        author_id INTEGER NOT NULL REFERENCES users(id),
        sending_team_id INTEGER NOT NULL REFERENCES teams(id),
        receiving_team_id INTEGER NOT NULL REFERENCES teams(id),
        receiver_id INTEGER REFERENCES users(id),
        transfer_reason TEXT NOT NULL,
        started_at TEXT NOT NULL,
        submitted_at TEXT,
        endorsed_by INTEGER REFERENCES users(id),
        endorsed_at TEXT,
        acknowledged_by INTEGER REFERENCES users(id),
        acknowledged_at TEXT,
        approved_by INTEGER REFERENCES users(id),
        approved_at TEXT,
        returned_reason TEXT,
        returned_by INTEGER REFERENCES users(id),
        returned_at TEXT,
        state_since TEXT NOT NULL,
        last_activity_at TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX handovers_by_author ON handovers(author_id, state);
    CREATE INDEX handovers_by_state ON handovers(state, started_at);
    CREATE INDEX handovers_by_case ON handovers(case_id);
    CREATE UNIQUE INDEX one_open_handover_per_case ON handovers(case_id)
        WHERE state NOT IN ('closed', 'cancelled');
    CREATE TABLE sections (
        handover_id INTEGER NOT NULL REFERENCES handovers(id),
        section_id TEXT NOT NULL,
        answers TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'has_errors')),
        version INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by INTEGER NOT NULL REFERENCES users(id),
        PRIMARY KEY (handover_id, section_id)
    );
    CREATE TABLE confirmations (
        handover_id INTEGER NOT NULL REFERENCES handovers(id),
        section_id TEXT NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id),
        readback TEXT NOT NULL DEFAULT '',
        confirmed_at TEXT NOT NULL,
        PRIMARY KEY (handover_id, section_id)
    );
    CREATE TABLE disagreements (
        id INTEGER PRIMARY KEY,
        handover_id INTEGER NOT NULL REFERENCES handovers(id),
        raised_by INTEGER NOT NULL REFERENCES users(id),
        raised_at TEXT NOT NULL,
        about TEXT NOT NULL,
        with_whom TEXT NOT NULL,
        view TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'escalated', 'resolved')),
        stage TEXT NOT NULL DEFAULT '',
        stage_date TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL DEFAULT '',
        decided_by INTEGER REFERENCES users(id),
        decided_at TEXT
    );
    CREATE INDEX disagreements_by_handover ON disagreements(handover_id, status);
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor_id INTEGER,
        action TEXT NOT NULL,
        object_type TEXT NOT NULL,
        object_id INTEGER,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX audit_by_object ON audit_log(object_type, object_id, seq);
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # 2: what the auditors' report filters on, kept current at write time instead of recomputed per request
    """
    ALTER TABLE sections ADD COLUMN critical INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX handovers_by_sending_team ON handovers(sending_team_id, state);
    CREATE INDEX handovers_by_receiving_team ON handovers(receiving_team_id, state);
    CREATE INDEX handovers_open_by_start ON handovers(started_at) WHERE state NOT IN ('closed', 'cancelled');
    """,
    # 3: sign-in throttling, and forms that arrived after their session had ended
    """
    CREATE TABLE sign_in_failures (key TEXT NOT NULL, at REAL NOT NULL);
    CREATE INDEX sign_in_failures_by_key ON sign_in_failures(key, at);
    CREATE TABLE pending_drafts (
        token TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        form TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    """,
    # 4: case management systems: service accounts and their API tokens (stored hashed)
    """
    ALTER TABLE users ADD COLUMN is_service INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        token_hash TEXT NOT NULL UNIQUE,
        scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    """,
    # 5: the receiver's inbox finds their handovers without reading every endorsed one
    """
    CREATE INDEX handovers_by_receiver ON handovers(receiver_id, state);
    """,
    # 6: a manager's queue comes out of the index in the order it is shown (no sort of every waiting handover)
    """
    DROP INDEX handovers_by_sending_team;
    CREATE INDEX handovers_by_sending_team ON handovers(sending_team_id, state, state_since);
    DROP INDEX handovers_by_receiving_team;
    CREATE INDEX handovers_by_receiving_team ON handovers(receiving_team_id, state, state_since);
    """,
    # 7: a kept form is kept for a browser the service signed in, and counted per browser and per address
    """
    DELETE FROM pending_drafts;
    ALTER TABLE pending_drafts ADD COLUMN kept_for TEXT NOT NULL DEFAULT '';
    ALTER TABLE pending_drafts ADD COLUMN address TEXT NOT NULL DEFAULT '';
    CREATE INDEX pending_drafts_by_browser ON pending_drafts(kept_for);
    CREATE INDEX pending_drafts_by_address ON pending_drafts(address);
    """,
    # 8: a case reference is found whatever the case of its letters (validation.reference_key)
    """
    CREATE INDEX cases_by_reference_key ON cases(lower(reference));
    """,
    # 9: a disagreement written in the checklist is tracked like one raised on the page; each knows the stage it is at
    # and since when (a date in England), so that one past its stage's time limit shows as overdue
    """
    ALTER TABLE disagreements ADD COLUMN checklist_key TEXT NOT NULL DEFAULT '';
    ALTER TABLE disagreements ADD COLUMN next_step TEXT NOT NULL DEFAULT '';
    ALTER TABLE disagreements ADD COLUMN next_step_by TEXT NOT NULL DEFAULT '';
    ALTER TABLE disagreements ADD COLUMN stage_since TEXT NOT NULL DEFAULT '';
    UPDATE disagreements SET stage_since = CASE WHEN stage_date <> '' THEN stage_date ELSE substr(raised_at, 1, 10) END;
    """,
    # 10: the records found not up to date (core.currency.Flag, as JSON), judged at submission and again at approval,
    # with the outgoing worker's reasons: shown to everyone who signs off and filtered on in the auditors' report
    """
    ALTER TABLE handovers ADD COLUMN record_flags TEXT NOT NULL DEFAULT '[]';
    """,
    # 11: a manager named by an administrator for one step (endorse or approve) of one handover, where every manager
    # of the team was excluded from it by the separation of duties
    """
    CREATE TABLE named_managers (
        handover_id INTEGER NOT NULL REFERENCES handovers(id),
        step TEXT NOT NULL CHECK (step IN ('endorse', 'approve')),
        user_id INTEGER NOT NULL REFERENCES users(id),
        named_by INTEGER REFERENCES users(id),
        named_at TEXT NOT NULL,
        PRIMARY KEY (handover_id, step)
    );
    CREATE INDEX named_managers_by_user ON named_managers(user_id, step);
    """,
    # 12: every query a handover was returned to its outgoing worker with, and the reply they sent when they
    # resubmitted it (reply, replied_by and replied_at stay empty until then). A handover returned now gets its
    # query from the handover's own columns, so that it can be answered.
    """
    CREATE TABLE queries (
        id INTEGER PRIMARY KEY,
        handover_id INTEGER NOT NULL REFERENCES handovers(id),
        returned_by INTEGER NOT NULL REFERENCES users(id),
        returned_at TEXT NOT NULL,
        query TEXT NOT NULL,
        replied_by INTEGER REFERENCES users(id),
        replied_at TEXT,
        reply TEXT,
        CHECK ((reply IS NULL) = (replied_by IS NULL) AND (reply IS NULL) = (replied_at IS NULL))
    );
    CREATE INDEX queries_by_handover ON queries(handover_id, id);
    INSERT INTO queries (handover_id, returned_by, returned_at, query)
        SELECT id, returned_by, returned_at, returned_reason FROM handovers
        WHERE state = 'returned' AND returned_by IS NOT NULL AND returned_at IS NOT NULL
          AND returned_reason IS NOT NULL;
    """,
    # 13: joiners, movers and leavers. A person's work e-mail address; services (each with a service manager) that
    # teams belong to, and the one head of service over them all; a case held by its team's manager pending transfer
    # after its worker left; and a handover continued by a manager on behalf of the worker who started it
    """
    ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
    CREATE TABLE services (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        service_manager_id INTEGER REFERENCES users(id)
    );
    ALTER TABLE teams ADD COLUMN service_id INTEGER REFERENCES services(id);
    CREATE TABLE head_of_service (
        only_one INTEGER PRIMARY KEY CHECK (only_one = 1),
        user_id INTEGER NOT NULL REFERENCES users(id)
    );
    -- the manager who took the case on when its worker left: held pending transfer while it is still allocated to
    -- them (any later allocation, such as a handover's approval, ends it without touching this column)
    ALTER TABLE cases ADD COLUMN interim_holder_id INTEGER REFERENCES users(id);
    ALTER TABLE handovers ADD COLUMN on_behalf_of INTEGER REFERENCES users(id);
    """,
    # 14: a password reset ends the person's sessions begun before it (milliseconds since the epoch; 0: none ended)
    """
    ALTER TABLE users ADD COLUMN sessions_from_ms INTEGER NOT NULL DEFAULT 0;
    """,
    # 15: caseload transfers: a team manager's transfer of one person's caseload (who began it, whose, when) and the
    # cases on it when it began (so that those allocated elsewhere since can be counted as moved); a person's long-term
    # absence as a manager recorded it; and the leaver each case held pending transfer came from (filled in from the
    # audit trail for the cases held before this)
    """
    CREATE TABLE caseload_transfers (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES users(id),
        started_by INTEGER NOT NULL REFERENCES users(id),
        started_at TEXT NOT NULL
    );
    CREATE INDEX caseload_transfers_by_person ON caseload_transfers(person_id, id);
    CREATE TABLE caseload_cases (
        transfer_id INTEGER NOT NULL REFERENCES caseload_transfers(id),
        case_id INTEGER NOT NULL REFERENCES cases(id),
        PRIMARY KEY (transfer_id, case_id)
    );
    CREATE TABLE absences (
        user_id INTEGER PRIMARY KEY REFERENCES users(id),
        recorded_by INTEGER NOT NULL REFERENCES users(id),
        recorded_at TEXT NOT NULL
    );
    ALTER TABLE cases ADD COLUMN held_from_id INTEGER REFERENCES users(id);
    CREATE INDEX cases_by_held_from ON cases(held_from_id) WHERE held_from_id IS NOT NULL;
    UPDATE cases SET held_from_id = (
        SELECT u.id FROM audit_log a JOIN users u ON u.username = json_extract(a.details, '$.from')
        WHERE a.action = 'hold_pending_transfer' AND a.object_type = 'case' AND a.object_id = cases.id
        ORDER BY a.seq DESC LIMIT 1)
    WHERE interim_holder_id IS NOT NULL;
    """,
    # 16: correcting a child's case record: its version (a correction made from an older version is refused, so a
    # stale form does not overwrite a newer correction) and when it was last corrected (a handover's answer that
    # restates the record says why it no longer agrees)
    """
    ALTER TABLE cases ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE cases ADD COLUMN corrected_at TEXT;
    """,
    # 17: sibling-group handover: one group handover links an ordinary handover per child included (all with the same
    # author, teams, receiver and checklist), and records each child of the group left out with the reason why
    """
    CREATE TABLE group_handovers (
        id INTEGER PRIMARY KEY,
        sibling_group_id INTEGER NOT NULL REFERENCES sibling_groups(id),
        started_by INTEGER NOT NULL REFERENCES users(id),
        started_at TEXT NOT NULL
    );
    ALTER TABLE handovers ADD COLUMN group_handover_id INTEGER REFERENCES group_handovers(id);
    CREATE INDEX handovers_by_group ON handovers(group_handover_id);
    CREATE TABLE group_exclusions (
        group_handover_id INTEGER NOT NULL REFERENCES group_handovers(id),
        case_id INTEGER NOT NULL REFERENCES cases(id),
        reason TEXT NOT NULL,
        PRIMARY KEY (group_handover_id, case_id)
    );
    """,
    # sibling group, a child handed over alone: why the siblings are not moving together, given when the handover is
    # started, shown to both managers and in the report beside a group handover's children left out
    """
    CREATE TABLE sibling_apart_reasons (
        handover_id INTEGER PRIMARY KEY REFERENCES handovers(id),
        reason TEXT NOT NULL
    );
    """,
    # 19: nothing waits in silence. A person's notifications (the in-service list, with when each was read); the
    # outbox of e-mails, written in the transaction of the change that causes them and delivered by the sender, its
    # Message-ID fixed when queued so that a resend after a crash is the same message; who takes a daily digest
    # instead of one e-mail per event; and an urgent transfer the head of service authorised before sign-off
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL UNIQUE,
        user_id INTEGER REFERENCES users(id),
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL,
        body_text TEXT NOT NULL,
        body_html TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        sent_at TEXT
    );
    CREATE INDEX outbox_to_send ON outbox(next_attempt_at) WHERE sent_at IS NULL;
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        handover_id INTEGER REFERENCES handovers(id),
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at TEXT NOT NULL,
        read_at TEXT,
        -- a reminder's once-only key (kind, handover, wait and due date, person): running reminders twice adds nothing
        once_key TEXT UNIQUE,
        -- the e-mail that told the person (NULL: not yet e-mailed, or waiting for their daily digest)
        outbox_id INTEGER REFERENCES outbox(id)
    );
    CREATE INDEX notifications_by_user ON notifications(user_id, id);
    CREATE INDEX notifications_unread ON notifications(user_id) WHERE read_at IS NULL;
    ALTER TABLE users ADD COLUMN email_digest INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE handovers ADD COLUMN urgent_at TEXT;
    ALTER TABLE handovers ADD COLUMN urgent_by INTEGER REFERENCES users(id);
    ALTER TABLE handovers ADD COLUMN urgent_reason TEXT;
    """,
    # 20: an e-mail handed to the mail server whose answer the service never learned (it stopped first) may have
    # been delivered; counting such hand-overs lets the sender send it once more after a crash, and never a third time
    """
    ALTER TABLE outbox ADD COLUMN in_doubt INTEGER NOT NULL DEFAULT 0;
    """,
    # 21: the child, the family and the other agencies are told. Who in the family was told of the new worker, when
    # and how, or why not; each professional on the child's plan, from the checklist's multi-agency network, with how
    # they were told (the service's e-mail, with a signed single-use link to acknowledge it, or another way), or why
    # not, and when they acknowledged
    """
    CREATE TABLE family_notices (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        handover_id INTEGER NOT NULL REFERENCES handovers(id),
        told TEXT NOT NULL,           -- who was told ('' for a reason not told)
        method TEXT NOT NULL,         -- core.telling.FAMILY_METHODS, or 'not_told'
        told_on TEXT,                 -- date in England (ISO); NULL for a reason not told
        note TEXT NOT NULL DEFAULT '',-- the reason not told, or what was said
        told_worker_id INTEGER REFERENCES users(id), -- the new worker they were told of (NULL for a reason)
        recorded_by INTEGER NOT NULL REFERENCES users(id),
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX family_notices_by_handover ON family_notices(handover_id);
    CREATE TABLE agency_contacts (
        -- never reused: a form or an API client holding a removed professional's id must not reach another one
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        handover_id INTEGER NOT NULL REFERENCES handovers(id),
        checklist_key TEXT NOT NULL,  -- the row it came from (agency, name), so a resubmission tracks it once
        agency TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        email TEXT NOT NULL DEFAULT '',
        told_method TEXT,             -- core.telling.AGENCY_METHODS ('email': by the service); NULL: not yet told
        told_on TEXT,
        told_by INTEGER REFERENCES users(id),
        told_worker_id INTEGER REFERENCES users(id), -- the new worker they were told of
        note TEXT NOT NULL DEFAULT '',
        not_told_reason TEXT,         -- why they are not told (NULL: none recorded)
        outbox_id INTEGER REFERENCES outbox(id),
        -- the SHA-256 of the acknowledgement link's single-use secret (signed in the link): a copy of the database
        -- holds no working link
        link_hash TEXT UNIQUE,
        link_expires_at TEXT,         -- UTC
        acknowledged_at TEXT,         -- UTC, through the link or recorded by a worker
        acknowledged_how TEXT,
        UNIQUE (handover_id, checklist_key)
    );
    """,
    # 22: each child's allocation history (the data return of allocations: core.allocations): who held the case, in
    # which team, from when (UTC) until when (NULL while it is the current one), the handover that moved it and why.
    # A case has exactly one current allocation. Existing databases get what can be known: each case's opening (from
    # its `create_case` audit entry), every urgent transfer and closed handover (from the handovers), every hold
    # pending transfer after a leaver (from the audit trail), and at least its current allocation. A case's team
    # changes only by a handover, so a hold keeps the team held before it, and a case's first team is its first
    # handover's sending team; where nothing earlier is on record the first allocation is 'before_history'.
    """
    CREATE TABLE allocations (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        worker_id INTEGER NOT NULL REFERENCES users(id),
        team_id INTEGER NOT NULL REFERENCES teams(id),
        allocated_from TEXT NOT NULL,
        allocated_to TEXT,
        handover_id INTEGER REFERENCES handovers(id),
        why TEXT NOT NULL CHECK (why IN ('opened', 'imported', 'handover', 'urgent', 'held_pending_transfer',
                                         'reallocated', 'before_history'))
    );
    CREATE UNIQUE INDEX one_current_allocation_per_case ON allocations(case_id) WHERE allocated_to IS NULL;
    CREATE INDEX allocations_by_case ON allocations(case_id, allocated_from, id);
    CREATE INDEX allocations_by_team ON allocations(team_id, case_id);
    CREATE TEMP TABLE allocation_events (
        case_id INTEGER, at TEXT, worker_id INTEGER, team_id INTEGER, handover_id INTEGER, why TEXT, rank INTEGER
    );
    INSERT INTO allocation_events
        SELECT h.case_id, h.urgent_at, h.receiver_id, h.receiving_team_id, h.id, 'urgent', 2
        FROM handovers h WHERE h.urgent_at IS NOT NULL AND h.receiver_id IS NOT NULL;
    INSERT INTO allocation_events
        SELECT h.case_id, h.approved_at, COALESCE(h.receiver_id, h.acknowledged_by), h.receiving_team_id, h.id,
               'handover', 3
        FROM handovers h
        WHERE h.state = 'closed' AND h.approved_at IS NOT NULL
          AND COALESCE(h.receiver_id, h.acknowledged_by) IS NOT NULL;
    INSERT INTO allocation_events
        SELECT a.object_id, a.at, json_extract(a.details, '$.to_user_id'), NULL, NULL, 'held_pending_transfer', 2
        FROM audit_log a JOIN cases c ON c.id = a.object_id
        WHERE a.action = 'hold_pending_transfer' AND a.object_type = 'case'
          AND json_extract(a.details, '$.to_user_id') IN (SELECT id FROM users);
    -- each case's opening: when it was added (or its first move, or since it was allocated), to whom and in which team
    INSERT INTO allocation_events
        SELECT c.id,
               COALESCE(created.at, (SELECT MIN(e.at) FROM allocation_events e WHERE e.case_id = c.id),
                        c.allocated_since),
               COALESCE(
                   (SELECT CASE WHEN e.handover_id IS NOT NULL THEN COALESCE(h.on_behalf_of, h.author_id)
                                ELSE (SELECT u.id FROM audit_log a JOIN users u
                                        ON u.username = json_extract(a.details, '$.from')
                                      WHERE a.action = 'hold_pending_transfer' AND a.object_type = 'case'
                                        AND a.object_id = c.id AND a.at = e.at ORDER BY a.seq LIMIT 1) END
                    FROM allocation_events e LEFT JOIN handovers h ON h.id = e.handover_id
                    WHERE e.case_id = c.id ORDER BY e.at, e.rank LIMIT 1),
                   c.allocated_worker_id),
               COALESCE(
                   (SELECT h.sending_team_id FROM allocation_events e JOIN handovers h ON h.id = e.handover_id
                    WHERE e.case_id = c.id ORDER BY e.at, e.rank LIMIT 1),
                   c.allocated_team_id),
               NULL,
               CASE WHEN created.at IS NULL THEN 'before_history'
                    WHEN json_extract(created.details, '$.via') LIKE 'import%' THEN 'imported'
                    ELSE 'opened' END,
               1
        FROM cases c
        LEFT JOIN audit_log created ON created.seq = (
            SELECT MIN(a.seq) FROM audit_log a
            WHERE a.action = 'create_case' AND a.object_type = 'case' AND a.object_id = c.id);
    -- a hold keeps the case's team: the team of the latest move before it
    UPDATE allocation_events SET team_id = (
        SELECT e.team_id FROM allocation_events e
        WHERE e.case_id = allocation_events.case_id AND e.team_id IS NOT NULL
          AND (e.at < allocation_events.at OR (e.at = allocation_events.at AND e.rank < allocation_events.rank))
        ORDER BY e.at DESC, e.rank DESC LIMIT 1)
    WHERE team_id IS NULL;
    -- where the history does not end with the case as it is now, the case as it is now ends it
    INSERT INTO allocation_events
        SELECT c.id, MAX(c.allocated_since, (SELECT MAX(e.at) FROM allocation_events e WHERE e.case_id = c.id)),
               c.allocated_worker_id, c.allocated_team_id, NULL, 'before_history', 4
        FROM cases c
        WHERE NOT EXISTS (
            SELECT 1 FROM (SELECT e.worker_id, e.team_id FROM allocation_events e WHERE e.case_id = c.id
                           ORDER BY e.at DESC, e.rank DESC, e.rowid DESC LIMIT 1) last
            WHERE last.worker_id = c.allocated_worker_id AND last.team_id = c.allocated_team_id);
    -- a move to whoever already held the case (an urgent transfer's approval) is no move
    INSERT INTO allocations (case_id, worker_id, team_id, allocated_from, allocated_to, handover_id, why)
        SELECT case_id, worker_id, team_id, at, LEAD(at) OVER moves, handover_id, why
        FROM (SELECT e.rowid AS n, e.*,
                     LAG(e.worker_id) OVER events AS worker_before, LAG(e.team_id) OVER events AS team_before
              FROM allocation_events e
              WINDOW events AS (PARTITION BY e.case_id ORDER BY e.at, e.rank, e.rowid))
        WHERE worker_before IS NULL OR worker_before <> worker_id OR team_before <> team_id
        WINDOW moves AS (PARTITION BY case_id ORDER BY at, rank, n);
    DROP TABLE allocation_events;
    """,
    # 23: people who sign in with the council's OpenID Connect provider: the provider's stable id for them (issuer and
    # subject) names one account here; `groups_lost_at` (UTC) is when their groups stopped giving them any access,
    # while a rule keeps them in a team (they still hold cases there), so their managers see them flagged
    """
    CREATE TABLE oidc_identities (
        issuer TEXT NOT NULL,
        subject TEXT NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id),
        linked_at TEXT NOT NULL,
        groups_lost_at TEXT,
        PRIMARY KEY (issuer, subject)
    );
    CREATE INDEX oidc_identities_by_user ON oidc_identities (user_id);
    """,
    # 24: sessions in the database, so that every instance of the service sees the same ones (they were files in the
    # data folder: those are not read again, and the people they belonged to sign in once more). `expires_at` is UTC;
    # an ended session keeps its row, emptied, until then, so that it cannot be stored again (`db.sessions`)
    Migration(
        sqlite="""
        CREATE TABLE sessions (
            key TEXT PRIMARY KEY,
            value BLOB NOT NULL,
            expires_at TEXT NOT NULL,
            ended INTEGER NOT NULL DEFAULT 0 CHECK (ended IN (0, 1))
        ) WITHOUT ROWID;
        CREATE INDEX sessions_by_expiry ON sessions (expires_at);
        """,
        postgresql="""
        CREATE TABLE sessions (
            key TEXT COLLATE "C" PRIMARY KEY,
            value BYTEA NOT NULL,
            expires_at TEXT COLLATE "C" NOT NULL,
            ended BIGINT NOT NULL DEFAULT 0 CHECK (ended IN (0, 1))
        );
        CREATE INDEX sessions_by_expiry ON sessions (expires_at);
        """,
    ),
    # 25: signed audit checkpoints (`core.audit.Checkpoint`: the chain's entry `seq` had hash `hash` at `at`, UTC,
    # with its HMAC `signature`) kept in the database too, so that every instance writes them to one place and
    # `handover audit verify` finds them wherever it runs; the exported file stays the copy shipped elsewhere. One row
    # per entry: instances signing the same end of the chain at once write it once (`db.insert_audit_checkpoint`).
    # Append-only, like the log it vouches for.
    Migration(
        sqlite="""
        CREATE TABLE audit_checkpoints (
            seq INTEGER PRIMARY KEY,
            hash TEXT NOT NULL,
            at TEXT NOT NULL,
            signature TEXT NOT NULL
        );
        CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
            BEGIN SELECT RAISE(ABORT, 'the audit checkpoints are append-only'); END;
        CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
            BEGIN SELECT RAISE(ABORT, 'the audit checkpoints are append-only'); END;
        """,
        postgresql="""
        CREATE TABLE audit_checkpoints (
            seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            hash TEXT COLLATE "C" NOT NULL,
            at TEXT COLLATE "C" NOT NULL,
            signature TEXT COLLATE "C" NOT NULL
        );
        CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the audit checkpoints are append-only'; END
        $$;
        CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoints
            FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only();
        """,
    ),
    # the teams a head of service or service manager oversees are read on every request of theirs (db.people), and
    # whether a person is either on everyone's: by index, whatever the number of teams
    Migration(
        sqlite="""
        CREATE INDEX teams_by_service ON teams (service_id);
        CREATE INDEX services_by_manager ON services (service_manager_id);
        """,
        postgresql="""
        CREATE INDEX teams_by_service ON teams (service_id);
        CREATE INDEX services_by_manager ON services (service_manager_id);
        """,
    ),
    # 27: the case's handovers with their state and receiving worker, so that a worker's list of cases finds the
    # handover that brought each case to them (`db.allocated_query`) from the index alone, without reading every
    # handover row the case has had; a search by case alone reads it as before
    Migration(
        sqlite="""
        DROP INDEX handovers_by_case;
        CREATE INDEX handovers_by_case ON handovers(case_id, state, receiver_id);
        """,
        postgresql="""
        DROP INDEX handovers_by_case;
        CREATE INDEX handovers_by_case ON handovers(case_id, state, receiver_id);
        """,
    ),
]

AUDIT_CHECKPOINTS_VERSION = 1 + next(
    number
    for number, migration in enumerate(MIGRATIONS)
    if isinstance(migration, Migration) and "CREATE TABLE audit_checkpoints" in migration.sqlite
)  # the schema version from which the table is there (`db.stored_audit_checkpoints` reads an older file too)
