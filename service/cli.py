"""The `handover` command: run the service and look after its data."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence

from service import db
from service.checklist import ChecklistError, latest, load_all
from service.passwords import hash_password
from service.settings import Settings, SettingsError, settings_from_env


async def _init_db(settings: Settings) -> None:
    database = db.Database(settings.database, settings.synchronous)
    await database.open()
    await database.close()
    print(f"Database ready at {settings.database} (schema version {len(db.MIGRATIONS)})")


async def _demo(settings: Settings) -> None:
    from service import demo

    checklists = load_all(settings.checklists_dir)
    database = db.Database(settings.database, settings.synchronous)
    await database.open()
    try:
        loaded = await demo.load(database, checklists, latest(checklists, "case-transfer"))
    finally:
        await database.close()
    print("Demo data loaded." if loaded else "Demo data is already there; nothing changed.")
    print(f"Demo users (password {demo.DEMO_PASSWORD!r}): " + ", ".join(p[0] for p in demo.PEOPLE))


async def _create_user(settings: Settings, args: argparse.Namespace) -> None:
    password = args.password or getpass.getpass("Password (at least 12 characters): ")
    if len(password) < 12:
        raise SystemExit("The password must be at least 12 characters")
    database = db.Database(settings.database, settings.synchronous)
    await database.open()
    try:
        async with database.transaction() as conn:
            if await db.user_by_username(conn, args.username):
                raise SystemExit(f"There is already a user called {args.username!r}")
            teams = {team.name: team.id for team in await db.teams(conn)}
            user_id = await db.create_user(
                conn, args.username, args.name, hash_password(password), is_auditor=args.auditor, is_admin=args.admin
            )
            for role, names in (("worker", args.worker), ("manager", args.manager)):
                for name in names:
                    team_id = teams.get(name) or await db.create_team(conn, name)
                    teams[name] = team_id
                    await db.add_membership(conn, user_id, team_id, role)
            await db.append_audit(conn, None, "create_user", "user", user_id, {"username": args.username})
    finally:
        await database.close()
    print(f"Created user {args.username!r}")


def _serve(settings: Settings) -> None:
    import uvicorn

    from service.app import create_app

    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", proxy_headers=False)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="handover", description="Structured case-transfer handovers.")
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the web service (HANDOVER_HOST, HANDOVER_PORT)")
    commands.add_parser("init-db", help="create or upgrade the database")
    commands.add_parser("demo", help="load fictional demo data and users into an empty database")
    user = commands.add_parser("create-user", help="add a person")
    user.add_argument("username")
    user.add_argument("--name", required=True, help="full name as shown to others")
    user.add_argument("--password", help="(prompted for if not given)")
    user.add_argument("--worker", action="append", default=[], metavar="TEAM", help="a team they work in")
    user.add_argument("--manager", action="append", default=[], metavar="TEAM", help="a team they manage")
    user.add_argument("--auditor", action="store_true")
    user.add_argument("--admin", action="store_true")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = settings_from_env()
        load_all(settings.checklists_dir)  # a bad checklist definition stops every command, with its reason
    except (SettingsError, ChecklistError) as exc:
        print(f"handover: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        _serve(settings)
    elif args.command == "init-db":
        asyncio.run(_init_db(settings))
    elif args.command == "demo":
        asyncio.run(_demo(settings))
    elif args.command == "create-user":
        asyncio.run(_create_user(settings, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
