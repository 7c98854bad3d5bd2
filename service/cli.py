"""The `handover` command: run the service and look after its data."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import pwd
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from service import actions, db
from service.actions import maintenance, notifications
from service.actions.checkpoints import AnotherKey
from service.audit_trail import checkpoint_key
from service.checklist import ChecklistError, latest, load_all
from service.core import accounts, case_records, report, validation
from service.core.errors import Invalid, NotFound
from service.core.numbers import whole_number
from service.core.workflow import Actor
from service.settings import Settings, SettingsError, settings_from_env


def _refused(command: str, exc: Invalid) -> NoReturn:
    """A refusal, as the command line says it: the messages on standard error, and exit status 1."""
    raise SystemExit("\n".join(f"handover {command}: {field}: {message}" for field, message in exc.errors.items()))


async def _init_db(settings: Settings) -> None:
    async with db.Database.for_settings(settings).opened() as database:
        pass
    print(f"Database ready at {database.description} (schema version {len(db.MIGRATIONS)})")


async def _demo(settings: Settings) -> None:
    from service.actions import demo

    checklists = load_all(settings.checklists_dir)
    async with db.Database.for_settings(settings).opened() as database:
        loaded = await demo.load(database, checklists, latest(checklists, "case-transfer"))
    print("Demo data loaded." if loaded else "Demo data is already there; nothing changed.")
    print(f"Demo users (password {demo.DEMO_PASSWORD!r}): " + ", ".join(p[0] for p in demo.PEOPLE))


def _os_user() -> str:
    """The operating-system account running this command, as the audit trail names it: the account of the process
    (not $USER, which the caller sets), or its number when the system has no name for it."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


async def _operator(database: db.Database, command: str, args: argparse.Namespace) -> int | None:
    """The administrator named with --by, whom the audit trail names as making the change (None: not named)."""
    if args.by is None:
        return None
    try:
        return await actions.operator_id(database, args.by)
    except Invalid as exc:
        _refused(command, exc)


async def _operator_actor(database: db.Database, command: str, args: argparse.Namespace) -> Actor | None:
    """The administrator named with --by, as the state machine sees them (None: not named)."""
    operator = await _operator(database, command, args)
    found = None if operator is None else await db.user_and_memberships(database.reader, operator)
    return None if found is None else actions.actor_for(*found)


def _roles(args: argparse.Namespace) -> actions.TeamRoles:
    return actions.TeamRoles(worker=args.worker, manager=args.manager, auditor=args.auditor, admin=args.admin)


async def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    # the username and name are checked before asking for a password, so a slip is said before typing one
    early = accounts.account_details_errors(args.username, args.name, "")
    early.pop("email", None)  # this older command takes no e-mail address (add-person does)
    if early:
        _refused("create-user", Invalid(early))
    if args.password:
        password = args.password
    elif not sys.stdin.isatty():
        _refused("create-user", Invalid({"password": "Give --password, or run this in a terminal to be asked"}))
    else:
        try:
            password = getpass.getpass(f"Password (at least {validation.PASSWORD_MIN} characters): ")
        except (EOFError, KeyboardInterrupt):
            _refused("create-user", Invalid({"password": "No password was given; nobody was created"}))
    async with db.Database.for_settings(settings).opened() as database:
        by = await _operator(database, "create-user", args)
        try:
            await actions.create_person(
                database, username=args.username, full_name=args.name, password=password, roles=_roles(args), by=by,
                os_user=_os_user(),
            )  # fmt: skip
        except Invalid as exc:
            _refused("create-user", exc)
    print(f"Created user {args.username!r}")
    return 0


def _new_password(command: str, given: str | None) -> str:
    """The password given with --password, or asked for in a terminal (never from a pipe without saying so)."""
    if given:
        return given
    if not sys.stdin.isatty():
        _refused(command, Invalid({"password": "Give --password, or run this in a terminal to be asked"}))
    try:
        return getpass.getpass(f"Password (at least {validation.PASSWORD_MIN} characters): ")
    except (EOFError, KeyboardInterrupt):
        _refused(command, Invalid({"password": "No password was given; nothing was changed"}))


async def _person_id(database: db.Database, command: str, username: str) -> int:
    person = await db.user_by_username(database.reader, username.strip())
    if person is None or person.is_service:
        _refused(command, Invalid({"person": accounts.NO_SUCH_PERSON}))
    return person.id


async def _add_person(settings: Settings, args: argparse.Namespace) -> int:
    early = accounts.account_details_errors(args.username, args.name, args.email)
    if early:
        _refused("add-person", Invalid(early))
    async with db.Database.for_settings(settings).opened() as database:
        by = await _operator(database, "add-person", args)  # a wrong --by is said before a password is typed
        password = _new_password("add-person", args.password)
        try:
            await actions.add_person(
                database, username=args.username, full_name=args.name, email=args.email, password=password,
                roles=_roles(args), by=by, os_user=_os_user(),
            )  # fmt: skip
        except Invalid as exc:
            _refused("add-person", exc)
    print(f"Added {args.name} ({args.username!r})")
    return 0


async def _set_roles(settings: Settings, args: argparse.Namespace) -> int:
    async with db.Database.for_settings(settings).opened() as database:
        user_id = await _person_id(database, "set-roles", args.username)
        by = await _operator(database, "set-roles", args)
        try:
            changed = await actions.change_roles(
                database, user_id=user_id, roles=_roles(args), by=by, os_user=_os_user()
            )
        except Invalid as exc:
            _refused("set-roles", exc)
    print(f"{args.username}: " + ("; ".join(changed) if changed else "nothing changed"))
    return 0


async def _reset_password(settings: Settings, args: argparse.Namespace) -> int:
    async with db.Database.for_settings(settings).opened() as database:
        user_id = await _person_id(database, "reset-password", args.username)
        by = await _operator(database, "reset-password", args)
        password = _new_password("reset-password", args.password)
        try:
            await actions.reset_password(database, user_id=user_id, password=password, by=by, os_user=_os_user())
        except Invalid as exc:
            _refused("reset-password", exc)
    print(f"The password of {args.username!r} has been reset.")
    return 0


async def _disable_user(settings: Settings, args: argparse.Namespace) -> int:
    async with db.Database.for_settings(settings).opened() as database:
        user_id = await _person_id(database, "disable-user", args.username)
        by = await _operator(database, "disable-user", args)
        try:
            outcome = await actions.disable_person(database, user_id=user_id, by=by, os_user=_os_user())
        except Invalid as exc:
            _refused("disable-user", exc)
    print(f"Disabled {outcome.name} ({args.username!r}): signed out everywhere, API tokens stopped.")
    for child, manager in outcome.cases_moved:
        print(f"  {child}: {accounts.HELD_PENDING_TRANSFER.lower()} ({manager})")
    for handover_id, manager, written_for in outcome.handovers_continued:
        print(f"  handover {handover_id}: continued by {manager} on behalf of {written_for}")
    for handover_id in outcome.handovers_released:
        print(f"  handover {handover_id}: back with the receiving team, for another worker to take on")
    for post in outcome.posts_vacated:
        print(f"  {post}: now vacant, for an administrator to fill")
    return 0


async def _correct_case(settings: Settings, args: argparse.Namespace) -> int:
    """Correct a child's case record, found by its reference: what is not given stays as it is."""
    async with db.Database.for_settings(settings).opened() as database:
        by = await _operator(database, "correct-case", args)
        case = await db.case_by_reference_key(database.reader, validation.reference_key(args.case))
        if case is None:
            _refused("correct-case", Invalid({"case": case_records.NO_SUCH_CASE}))
        group_id = case.sibling_group_id
        if args.no_sibling_group:
            group_id = None
        elif args.sibling_group is not None:
            group_id = await db.sibling_group_by_name(database.reader, validation.group_name_key(args.sibling_group))
            if group_id is None:
                _refused("correct-case", Invalid({"sibling_group": case_records.NO_SUCH_GROUP_NAMED}))
        correction = case_records.Correction(
            reference=case.reference if args.reference is None else args.reference,
            child_name=case.child_name if args.name is None else args.name,
            date_of_birth=case.date_of_birth if args.date_of_birth is None else args.date_of_birth,
            sibling_group_id=group_id,
            version=case.version,
        )
        try:
            corrected = await actions.correct_case(
                database, case_id=case.id, correction=correction, by=by, os_user=_os_user()
            )
        except Invalid as exc:
            _refused("correct-case", exc)
    group = corrected.sibling_group or "no sibling group"
    print(f"Corrected case {corrected.reference}: {corrected.child_name}, born {corrected.date_of_birth}, {group}")
    return 0


async def _service(settings: Settings, args: argparse.Namespace) -> int:
    command = f"service {args.service_command}"
    async with db.Database.for_settings(settings).opened() as database:
        by, os_user = await _operator(database, command, args), _os_user()
        try:
            if args.service_command == "create":
                await actions.create_service(
                    database, name=args.name, service_manager=args.manager or "", by=by, os_user=os_user
                )
                print(f"Service {args.name.strip()!r} created.")
            elif args.service_command == "manager":
                await actions.set_service_manager(
                    database, service=args.name, service_manager=args.manager, by=by, os_user=os_user
                )
                print(f"{args.manager} now manages {args.name.strip()!r}.")
            elif args.service_command == "add-team":
                await actions.set_team_service(database, team=args.team, service=args.name, by=by, os_user=os_user)
                print(f"{args.team} is now in {args.name.strip()!r}.")
            else:
                await actions.set_head_of_service(database, username=args.username, by=by, os_user=os_user)
                print(f"{args.username} is now the head of service.")
        except Invalid as exc:
            _refused(command, exc)
    return 0


def _serve(settings: Settings) -> None:
    import uvicorn

    from service.app import create_app

    proxies = [address.strip() for address in settings.trusted_proxies.split(",") if address.strip()]
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,  # the service logs each request itself, with its request id and without query strings
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        server_header=False,
    )


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    from service import reporting
    from service.core.clock import today
    from service.core.report import escalation_stages, parse_report_filter

    query = {"team": args.team, "side": args.side, "state": args.state, "blocker": args.blocker,
             "min_days": args.min_days, "sort": args.sort, "group": args.group, "overdue": args.overdue,
             "waited": args.waited, "waiting_for": args.waiting_for, "urgent": args.urgent,
             "disagreement_stage": args.disagreement_stage}  # fmt: skip
    checklists = load_all(settings.checklists_dir)
    async with db.Database.for_settings(settings).opened() as database:
        teams = [team.id for team in await db.teams(database.reader)]
    try:
        report_filter = parse_report_filter(query, escalation_stages(checklists.values()), teams=teams)
    except Invalid as exc:  # like a bad option: said on standard error, exit status 2
        for name, message in exc.errors.items():
            print(f"handover export: --{name.replace('_', '-')}: {message}", file=sys.stderr)
        return 2
    group_id = report_filter.sibling_group_id
    if group_id is not None:  # as the page and the API answer 404: a group not on record is a mistake, not a report
        async with db.Database.for_settings(settings).opened() as database:
            known = await db.sibling_group_exists(database.reader, group_id)
        if not known:
            message = f"{validation.NO_SUCH_SIBLING_GROUP}; nothing was exported"
            print(f"handover export: --group: {message}", file=sys.stderr)
            return 2
    try:  # the file is opened first: an export that cannot be written is not recorded as one
        out = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115 (stdout is not ours to close)
    except OSError as exc:
        print(f"handover export: cannot write that file: {exc.strerror}; nothing was exported", file=sys.stderr)
        return 1
    async with db.Database.for_settings(settings).opened() as database:
        export_id = await actions.record_export(
            database, settings, None, report_filter, args.format, "command line", _os_user()
        )
        chunks, _ = reporting.FORMATS[args.format]
        rows = reporting.all_rows(database, checklists, report_filter, today())
        try:
            async with actions.export_outcome(database, None, export_id):
                try:
                    await _write_all(rows, chunks, out)
                finally:
                    if args.output:
                        out.close()
        except BrokenPipeError:
            return _output_closed("handover export")
    return 0


async def _write_all(
    rows: AsyncIterator[Any], chunks: Callable[[AsyncIterator[Any]], AsyncIterator[bytes]], out: IO[bytes]
) -> None:
    """Write an export's chunks; the row stream and its read-only connection are closed here, before the database
    is, also when the reader stops early."""
    stream = chunks(rows)
    try:
        async for chunk in stream:
            out.write(chunk)
    finally:  # the chunks first, then the rows they read (async generators both)
        for generator in (stream, rows):
            close = getattr(generator, "aclose", None)
            if close is not None:
                await close()


def _output_closed(command: str) -> int:
    """The reader of standard output stopped before the end (`| head`): the export is recorded as not delivered
    (`export_outcome`), this says so once, and standard output goes to /dev/null so that the interpreter's last
    flush does not fail again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    print(f"{command}: the output was closed before the end; the export is recorded as not delivered", file=sys.stderr)
    return 1


async def _export_allocations(settings: Settings, args: argparse.Namespace) -> int:
    from service.core.allocations import CHUNKS, AllocationFilter
    from service.core.report import parse_report_filter

    async with db.Database.for_settings(settings).opened() as database:
        teams = [team.id for team in await db.teams(database.reader)]
    try:  # the report's own messages for its team and group filters
        asked = parse_report_filter({"team": args.team, "group": args.group}, teams=teams)
    except Invalid as exc:  # like a bad option: said on standard error, exit status 2
        for name, message in exc.errors.items():
            print(f"handover export allocations: --{name}: {message}", file=sys.stderr)
        return 2
    allocation_filter = AllocationFilter(team_id=asked.team_id, sibling_group_id=asked.sibling_group_id)
    async with db.Database.for_settings(settings).opened() as database:
        group_id = allocation_filter.sibling_group_id
        if group_id is not None and not await db.sibling_group_exists(database.reader, group_id):
            message = f"{validation.NO_SUCH_SIBLING_GROUP}; nothing was exported"
            print(f"handover export allocations: --group: {message}", file=sys.stderr)
            return 2
        try:  # the file is opened first: an export that cannot be written is not recorded as one
            out = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115 (stdout is not ours)
        except OSError as exc:
            print(f"handover export allocations: cannot write that file: {exc.strerror}; nothing was exported",
                  file=sys.stderr)  # fmt: skip
            return 1
        export_id = await actions.record_allocations_export(
            database, settings, None, allocation_filter, args.format, "command line", _os_user()
        )
        records = db.stream_allocations(database, allocation_filter)
        try:
            async with actions.export_outcome(database, None, export_id, "allocations"):
                try:
                    await _write_all(records, CHUNKS[args.format], out)
                finally:
                    if args.output:
                        out.close()
        except BrokenPipeError:
            return _output_closed("handover export allocations")
    return 0


async def _audit_verify(settings: Settings) -> int:
    """The chain against the signed checkpoints in the database and in this instance's exported file, if it has one."""
    from service.audit_trail import checkpoints_kept, verify

    checked, problems = await verify(settings)
    if problems:
        print(f"The audit trail is NOT intact ({checked} entries verified before the first problem):")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    async with db.reading_the_trail(settings) as conn:
        in_database, exported = await checkpoints_kept(conn, settings)
    count = len(in_database.checkpoints)
    kept = f"{count} signed checkpoint{'s'[: count != 1]} {in_database.where}"
    if exported is None:
        kept += f" (no checkpoint file here: {settings.checkpoint_file})"
    else:
        kept += f", {len(exported.checkpoints)} {exported.where}"
    print(f"The audit trail is intact: {checked} entries, {kept}.")
    return 0


async def _checkpoint(settings: Settings) -> int:
    async with db.Database.for_settings(settings).opened() as database:
        checkpoint = await actions.write_checkpoint(database, settings)
    print(f"Checkpoint at entry {checkpoint.seq}" if checkpoint else "The audit log is empty")
    return 0


async def _remind(settings: Settings) -> int:
    """`handover remind --now`: the reminders and daily summaries the service works out every hour, for operators
    who run them from cron instead; running it twice writes nothing twice."""
    from datetime import UTC, datetime

    from service.core.clock import today

    async with db.Database.for_settings(settings).opened() as database:
        written = await notifications.remind(database, load_all(settings.checklists_dir), today())
        summaries = await notifications.send_digests(database, datetime.now(UTC))
    summaries_words = f"{summaries} daily summar{'ies' if summaries != 1 else 'y'}"
    print(f"{written} reminder{'s'[: written != 1]} written, {summaries_words} queued")
    return 0


async def _backup(settings: Settings, target: Path) -> int:
    async with db.Database.for_settings(settings).opened() as database:
        problem = await maintenance.back_up(database, target)
    print(problem or f"Backed up {settings.database} to {target}")
    return 1 if problem else 0


async def _migrate_to_postgres(settings: Settings, source: Path) -> int:
    if not settings.database_url:
        print(
            "handover migrate-to-postgres: set HANDOVER_DATABASE_URL to the empty PostgreSQL database", file=sys.stderr
        )
        return 2
    try:
        async with db.Database.for_settings(settings).opened() as database:
            print(await maintenance.migrate_to_postgresql(source, database, checkpoint_key(settings)))
    except maintenance.MigrationRefused as exc:
        print(f"handover migrate-to-postgres: {exc}", file=sys.stderr)
        return 1
    print(f"{database.description} now holds the service's data; start the service with HANDOVER_DATABASE_URL set.")
    return 0


async def _record_restore(settings: Settings, source: Path) -> None:
    async with db.Database.for_settings(settings).opened() as database:
        await maintenance.record_restore(database, source)


def _restore(settings: Settings, source: Path) -> int:
    if settings.database_url:
        print(f"handover restore: {maintenance.ON_POSTGRESQL}; nothing was changed", file=sys.stderr)
        return 1
    problem = db.check_backup(source)
    if problem:
        print(f"handover restore: {problem}; nothing was changed", file=sys.stderr)
        return 1
    db.restore(source, settings.database)
    asyncio.run(_record_restore(settings, source))
    print(f"Restored {settings.database} from {source}.")
    if settings.checkpoint_file.exists():
        # Checkpoints signed after the backup was taken describe entries the restored database never had. They
        # are kept, renamed, as evidence; verification starts again from a checkpoint of the restored chain.
        earlier = settings.checkpoint_file.with_name(
            f"audit-checkpoints.before-restore-{db.now().replace(':', '')}.jsonl"
        )
        settings.checkpoint_file.rename(earlier)
        print(f"Earlier audit checkpoints kept in {earlier}.")
    asyncio.run(_checkpoint(settings))
    print("Start the service again.")
    return 0


async def _token_create(settings: Settings, args: argparse.Namespace) -> int:
    """A service account (made if new, with the teams and roles given) and a new API token, shown once."""
    if args.person is not None and (args.worker or args.manager or args.auditor or args.admin or args.name):
        _refused("token create", Invalid({"person": "A person's token has the person's own teams and roles"}))
    async with db.Database.for_settings(settings).opened() as database:
        try:
            if args.person is not None:
                token_id, token = await actions.issue_personal_api_token(
                    database, username=args.person, scope=args.scope
                )
            else:
                token_id, token = await actions.issue_api_token(
                    database, account=args.account, system_name=args.name or "", scope=args.scope, roles=_roles(args)
                )
        except Invalid as exc:
            _refused("token create", exc)
    holder = args.person or args.account
    print(f"Token {token_id} for {holder} ({args.scope}). It is shown only once; store it as a secret:")
    print(token)
    return 0


async def _name_manager(settings: Settings, args: argparse.Namespace) -> int:
    """Name another manager for a step of a handover (the separation of duties left nobody in the team), audited."""
    async with db.Database.for_settings(settings).opened() as database:
        by = await _operator_actor(database, "name-manager", args)
        try:
            name = await actions.name_step_manager(
                database, args.handover_id, step=args.step, manager=args.manager, by=by, os_user=_os_user()
            )
        except Invalid as exc:
            _refused("name-manager", exc)
        except NotFound:
            _refused("name-manager", Invalid({"handover": f"There is no open handover {args.handover_id}"}))
    print(f"{name} is named to {args.step} handover {args.handover_id}.")
    return 0


async def _token_revoke(settings: Settings, token_id: int) -> int:
    async with db.Database.for_settings(settings).opened() as database:
        revoked = await actions.revoke_api_token(database, token_id)
    print(f"Token {token_id} revoked." if revoked else f"There is no active token {token_id}.")
    return 0 if revoked else 1


async def _import_cases(settings: Settings, path: Path) -> int:
    async with db.Database.for_settings(settings).opened() as database:
        imported, problems = await actions.import_cases(database, path)
    if problems:
        print(f"Nothing was imported. {len(problems)} problem(s) in {path}:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"Imported {imported} case(s) from {path}.")
    return 0


PATH_MAX_BYTES = 4096  # Linux's PATH_MAX
NAME_MAX_BYTES = 255  # the longest file name a Linux file system allows


def _text_argument(text: str) -> str:
    """An argument as text: bytes that are not UTF-8 (which Python holds as lone surrogates) are refused here, as the
    web's forms refuse them, rather than failing wherever they are first written."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError("holds bytes that are not UTF-8 text") from None
    return text


def _file_argument(text: str) -> Path:
    """A file to read or write: named, UTF-8, without control characters, and within the system's length limits.
    The value is never echoed back (it may be anything at all)."""
    _text_argument(text)
    if not text.strip():
        raise argparse.ArgumentTypeError("give the name of a file")
    if any(ord(character) < 32 or ord(character) == 127 for character in text):
        raise argparse.ArgumentTypeError("a file name cannot hold a control character")
    path = Path(text)
    if len(text.encode()) > PATH_MAX_BYTES or any(len(part.encode()) > NAME_MAX_BYTES for part in path.parts):
        raise argparse.ArgumentTypeError(
            f"the file name is too long (at most {NAME_MAX_BYTES} bytes a name, {PATH_MAX_BYTES} in all)"
        )
    return path


def _id_argument(text: str) -> int:
    number = whole_number(text)
    if number is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (a whole number)")
    return number


class _Once(argparse.Action):
    """A report filter given at most once, as on the page and in the API: which of two values was meant cannot be
    known, so a second one is refused (exit 2) rather than the last silently taken."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        given: set[str] = namespace.__dict__.setdefault("_filters_given", set())
        if self.dest in given:
            parser.error(f"{option_string}: {report.FILTER_ONCE}")
        given.add(self.dest)
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)  # a flag (--overdue) stores its const


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="handover", description="Structured case-transfer handovers.")
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the web service (HANDOVER_HOST, HANDOVER_PORT)")
    commands.add_parser("init-db", help="create or upgrade the database")
    commands.add_parser("demo", help="load fictional demo data and users into an empty database")
    user = commands.add_parser("create-user", help="add a person")
    user.add_argument("username", type=_text_argument)
    user.add_argument("--name", type=_text_argument, required=True, help="full name as shown to others")
    user.add_argument("--password", type=_text_argument, help="(prompted for if not given)")
    user.add_argument("--worker", type=_text_argument, action="append", default=[], metavar="TEAM",
                      help="a team they work in")  # fmt: skip
    user.add_argument("--manager", type=_text_argument, action="append", default=[], metavar="TEAM",
                      help="a team they manage")  # fmt: skip
    user.add_argument("--auditor", action="store_true")
    user.add_argument("--admin", action="store_true")
    person = commands.add_parser("add-person", help="add a person with their work email address (teams must exist)")
    person.add_argument("username", type=_text_argument)
    person.add_argument("--name", type=_text_argument, required=True, help="full name as shown to others")
    person.add_argument("--email", type=_text_argument, required=True, help="their work email address")
    person.add_argument("--password", type=_text_argument, help="(prompted for if not given)")
    roles = commands.add_parser("set-roles", help="set a person's teams and roles (exactly those given)")
    roles.add_argument("username", type=_text_argument)
    for parsed in (person, roles):
        parsed.add_argument("--worker", type=_text_argument, action="append", default=[], metavar="TEAM",
                            help="a team they work in")  # fmt: skip
        parsed.add_argument("--manager", type=_text_argument, action="append", default=[], metavar="TEAM",
                            help="a team they manage")  # fmt: skip
        parsed.add_argument("--auditor", action="store_true")
        parsed.add_argument("--admin", action="store_true")
    reset = commands.add_parser("reset-password", help="set a new password for a person")
    reset.add_argument("username", type=_text_argument)
    reset.add_argument("--password", type=_text_argument, help="(prompted for if not given)")
    leaver = commands.add_parser(
        "disable-user", help="disable a leaver's account: their cases move to the team manager pending transfer"
    )
    leaver.add_argument("username", type=_text_argument)
    correct = commands.add_parser(
        "correct-case", help="correct a child's case record (what is not given stays as it is; audited)"
    )
    correct.add_argument("case", type=_text_argument, help="the case's reference as it is now")
    correct.add_argument("--name", type=_text_argument, help="the child's name")
    correct.add_argument("--date-of-birth", type=_text_argument, help="YYYY-MM-DD")
    correct.add_argument("--reference", type=_text_argument, help="the case's new reference")
    group = correct.add_mutually_exclusive_group()
    group.add_argument("--sibling-group", type=_text_argument, help="the name of an existing sibling group")
    group.add_argument("--no-sibling-group", action="store_true", help="take the child out of their sibling group")
    service = commands.add_parser("service", help="the services teams belong to, and the head of service")
    service_commands = service.add_subparsers(dest="service_command", required=True)
    create_service = service_commands.add_parser("create", help="add a service")
    create_service.add_argument("name", type=_text_argument)
    create_service.add_argument("--manager", type=_text_argument, help="the service manager's username")
    service_manager = service_commands.add_parser("manager", help="set who manages a service")
    service_manager.add_argument("name", type=_text_argument)
    service_manager.add_argument("manager", type=_text_argument, help="the service manager's username")
    add_team = service_commands.add_parser("add-team", help="put a team in a service")
    add_team.add_argument("name", type=_text_argument)
    add_team.add_argument("team", type=_text_argument)
    head = service_commands.add_parser("head", help="set the head of service, who oversees every service")
    head.add_argument("username", type=_text_argument)
    # who makes each change to people and services (and below, to case records and named managers): an administrator
    # named here, and always the operating-system account running the command, both in the audit trail
    for account_command in (user, person, roles, reset, leaver, create_service, service_manager, add_team, head):
        account_command.add_argument(
            "--by", type=_text_argument, metavar="USERNAME", help="the administrator making this change"
        )
    export = commands.add_parser(
        "export",
        help="export the incomplete-handovers report (CSV or JSON Lines), or each child's allocation history",
        usage="handover export --incomplete [options]\n       handover export allocations --format csv|json [options]",
        description="Two exports: the report of incomplete handovers (--incomplete, with the report's filters, below)"
        " and each child's allocation history (`handover export allocations`, its own options: see its --help).",
    )
    export.add_argument("--incomplete", action="store_true", required=True, help="handovers not closed or cancelled")
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    export.add_argument("--team", action=_Once, help="team id")
    export.add_argument(
        "--side", action=_Once, choices=["either", "sending", "receiving"], help="the team's side of the transfer"
    )
    export.add_argument("--state", action=_Once, help="draft, submitted, endorsed, returned or acknowledged")
    export.add_argument(
        "--blocker", action=_Once, help="missing_sections, returned_with_query, awaiting_endorsement, ..."
    )
    export.add_argument("--min-days", action=_Once, help="open for at least this many working days")
    export.add_argument("--sort", action=_Once, choices=["oldest", "newest", "last_activity", "state", "most_overdue"])
    export.add_argument(
        "--overdue", action=_Once, nargs=0, const="yes", help="only handovers past their due date (working days)"
    )
    export.add_argument("--group", action=_Once, help="a sibling group's id: only the children in it")
    export.add_argument(
        "--waited",
        action=_Once,
        help="waited for the current person: " + ", ".join(report.WAIT_BANDS) + " working days",
    )
    export.add_argument("--waiting-for", action=_Once, help="whom it waits on: " + ", ".join(report.WAITING_FOR_STATES))
    export.add_argument("--urgent", action=_Once, nargs=0, const="yes", help="only urgent transfers still completing")
    export.add_argument(
        "--disagreement-stage", action=_Once, help="an escalation stage: only handovers with an open disagreement at it"
    )
    export.add_argument("-o", "--output", type=_file_argument, help="write to this file instead of standard output")
    backup = commands.add_parser("backup", help="make a consistent copy of the database while it runs")
    backup.add_argument("file", type=_file_argument)
    restore = commands.add_parser("restore", help="replace the database with a backup (stop the service first)")
    restore.add_argument("file", type=_file_argument)
    move = commands.add_parser(
        "migrate-to-postgres",
        help="copy a SQLite database into the empty PostgreSQL database at HANDOVER_DATABASE_URL, audit trail and all",
    )
    move.add_argument("file", type=_file_argument, help="the SQLite database file (the service stopped)")
    token = commands.add_parser("token", help="API tokens for case management systems")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser(
        "create", help="issue a token to a service account (made if new), or to a person to act as them"
    )
    holder = create.add_mutually_exclusive_group(required=True)
    holder.add_argument("--account", type=_text_argument, help="the service account's username")
    holder.add_argument("--person", type=_text_argument, help="an enabled person's username: the token acts as them")
    create.add_argument("--name", type=_text_argument, help="the system's name, as shown in the audit trail")
    create.add_argument("--scope", choices=["read", "write"], default="read")
    create.add_argument("--worker", type=_text_argument, action="append", default=[], metavar="TEAM")
    create.add_argument("--manager", type=_text_argument, action="append", default=[], metavar="TEAM")
    create.add_argument("--auditor", action="store_true", help="may list and export handovers across teams")
    create.add_argument("--admin", action="store_true", help="may push cases and sibling groups in")
    revoke = token_commands.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("token_id", type=_id_argument)
    naming = commands.add_parser(
        "name-manager", help="name another manager for one step of a handover that no manager of the team may take"
    )
    naming.add_argument("handover_id", type=_id_argument)
    naming.add_argument("--step", choices=["endorse", "approve"], required=True)
    naming.add_argument("--manager", type=_text_argument, required=True, help="the manager's username")
    for record_command in (correct, naming):  # the same --by as the account commands above
        record_command.add_argument(
            "--by", type=_text_argument, metavar="USERNAME", help="the administrator making this change"
        )
    importer = commands.add_parser("import", help="import data")
    import_commands = importer.add_subparsers(dest="import_command", required=True)
    cases = import_commands.add_parser("cases", help="import cases from a CSV file (all rows or none)")
    cases.add_argument("file", type=_file_argument)
    audit = commands.add_parser("audit", help="the audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser("verify", help="check the hash chain against the signed checkpoints")
    audit_commands.add_parser("checkpoint", help="sign and record where the audit chain ends now")
    remind = commands.add_parser("remind", help="write the reminders due now (the service does this every hour)")
    remind.add_argument("--now", action="store_true", required=True, help="work out and write them now")
    return top


def allocations_parser() -> argparse.ArgumentParser:
    """`handover export allocations`: parsed on its own, so that `handover export --incomplete` stays as it was."""
    from service.core.allocations import FILTERS_HELP

    export = argparse.ArgumentParser(
        prog="handover export allocations",
        description="Each child's allocation history (worker, team, from, to, the handover that moved it), as CSV in"
        " Ofsted's Annex A column names or as JSON shaped like the DfE children's social care data feed's worker"
        " details. Recorded in the audit trail.",
        epilog=FILTERS_HELP,
    )
    export.add_argument("--format", action=_Once, choices=["csv", "json"], default="csv")
    export.add_argument(
        "--team", action=_Once, help="team id: the children that team has held or is transferring, whole histories"
    )
    export.add_argument("--group", action=_Once, help="a sibling group's id: only its children's histories")
    export.add_argument(
        "-o", "--output", action=_Once, type=_file_argument, help="write to this file instead of standard output"
    )
    export.set_defaults(command="export", export_what="allocations")
    return export


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:2] == ["export", "allocations"]:
        args = allocations_parser().parse_args(words[2:])
    else:
        args = parser().parse_args(words)
    try:
        settings = settings_from_env()
        load_all(settings.checklists_dir)  # a bad checklist definition stops every command, with its reason
    except (SettingsError, ChecklistError) as exc:
        print(f"handover: {exc}", file=sys.stderr)
        return 2
    # every command that takes a step writes its e-mails with the service's own links, sender and switch
    restore = notifications.use_settings(settings)
    try:
        return _run(settings, args)
    except AnotherKey as exc:  # this secret did not sign the checkpoints kept: nothing is signed with it
        print(f"handover {args.command}: {exc}", file=sys.stderr)
        return 1
    except db.database_errors(OSError) as exc:  # a file or the database the system could not use: said, not traced
        print(f"handover {args.command}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 1
    finally:
        restore()


def _run(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "serve":
        _serve(settings)
    elif args.command == "init-db":
        asyncio.run(_init_db(settings))
    elif args.command == "demo":
        asyncio.run(_demo(settings))
    elif args.command == "create-user":
        return asyncio.run(_create_user(settings, args))
    elif args.command == "add-person":
        return asyncio.run(_add_person(settings, args))
    elif args.command == "set-roles":
        return asyncio.run(_set_roles(settings, args))
    elif args.command == "reset-password":
        return asyncio.run(_reset_password(settings, args))
    elif args.command == "disable-user":
        return asyncio.run(_disable_user(settings, args))
    elif args.command == "correct-case":
        return asyncio.run(_correct_case(settings, args))
    elif args.command == "service":
        return asyncio.run(_service(settings, args))
    elif args.command == "name-manager":
        return asyncio.run(_name_manager(settings, args))
    elif args.command == "token" and args.token_command == "create":
        return asyncio.run(_token_create(settings, args))
    elif args.command == "token" and args.token_command == "revoke":
        return asyncio.run(_token_revoke(settings, args.token_id))
    elif args.command == "import":
        return asyncio.run(_import_cases(settings, args.file))
    elif args.command == "backup":
        return asyncio.run(_backup(settings, args.file))
    elif args.command == "restore":
        return _restore(settings, args.file)
    elif args.command == "migrate-to-postgres":
        return asyncio.run(_migrate_to_postgres(settings, args.file))
    elif args.command == "export" and getattr(args, "export_what", None) == "allocations":
        return asyncio.run(_export_allocations(settings, args))
    elif args.command == "export":
        return asyncio.run(_export(settings, args))
    elif args.command == "audit" and args.audit_command == "verify":
        return asyncio.run(_audit_verify(settings))
    elif args.command == "audit" and args.audit_command == "checkpoint":
        return asyncio.run(_checkpoint(settings))
    elif args.command == "remind":
        return asyncio.run(_remind(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
