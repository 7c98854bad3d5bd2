"""Schemathesis against the live app: every API operation, generated requests, no 5xx, every response matches the
OpenAPI document that Litestar generates."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from service import db
from service.core.tokens import token_hash
from tests import live_service
from tests.conftest import seed
from tests.helpers import handover_in

SECRET = "s" * 40
TOKEN = "hov_" + secrets.token_urlsafe(24)


async def prepare(folder: Path) -> None:
    database = db.SqliteDatabase(folder / "handover.db")
    await database.open()
    world = await seed(database)
    for number, state in enumerate(["draft", "submitted", "endorsed", "acknowledged"], start=1):
        await handover_in(database, world, state, f"c{number}")
    async with database.transaction() as conn:
        account = await db.create_user(conn, "svc_all", "All-seeing system", "!", is_auditor=True, is_admin=True,
                                       is_service=True)  # fmt: skip
        for team in world.teams.values():
            await db.add_membership(conn, account, team, "worker")
            await db.add_membership(conn, account, team, "manager")
        await db.create_api_token(conn, account, token_hash(TOKEN), "write")
    await database.close()


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("schemathesis")
    asyncio.run(prepare(folder))
    served = live_service.start(live_service.production(folder, SECRET))
    try:
        yield served.base
    finally:
        live_service.stop(served.process)


@pytest.fixture(scope="module")
def live_schema(live_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{live_url}/schema/openapi.json")


def test_every_operation_matches_its_schema_and_never_fails(live_schema: Any) -> None:
    operations = [result.ok() for result in live_schema.get_all_operations()]
    assert len(operations) == 19  # the handover's PDF copy is the thirteenth; who has been told, six more
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: Any) -> None:
            # A schema-valid body may still break a business rule (a worker who is not in the named team): that is a
            # 422 with field details, so "positive data must be accepted" does not apply to this API.
            case.call_and_validate(
                headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=[checks.positive_data_acceptance]
            )

        check()
