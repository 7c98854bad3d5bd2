"""What an operator meets on PostgreSQL: a URL the driver cannot read is refused without echoing it, and a database the
service cannot write to is not ready."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import SettingsError, settings_from_env
from tests.helpers import TEST_DATABASE, settings_for_tests
from tests.postgres_support import PostgresServer, start_postgres

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(TEST_DATABASE == "postgresql", reason="runs once, in the first pass, on a server of its own"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    running = start_postgres(tmp_path_factory.mktemp("postgresql"))
    yield running
    running.stop()


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("postgresql://handover:Super SecretPW9@127.0.0.1:5432/h", "SecretPW9"),
        ("postgresql://handover:Zq9@leak@127.0.0.1:5432/h", "leak"),
        ("postgresql://handover:pw@127.0.0.1:port/h", "pw@"),
    ],
)
def test_a_url_the_driver_cannot_read_is_refused_without_its_words(tmp_path: Path, url: str, secret: str) -> None:
    with pytest.raises(SettingsError, match="percent-encode") as refused:
        settings_from_env({"HANDOVER_DATA_DIR": str(tmp_path), "HANDOVER_DATABASE_URL": url})
    assert secret not in str(refused.value)


async def test_a_role_that_may_only_read_is_not_ready(tmp_path: Path, server: PostgresServer) -> None:
    url = server.create_database("readonly")
    async with AsyncTestClient(app=create_app(settings_for_tests(tmp_path, database_url=url))) as client:
        assert (await client.get("/readyz")).status_code == 200
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE ROLE reader LOGIN")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
    reading = url.replace("postgres@", "reader@")
    async with AsyncTestClient(app=create_app(settings_for_tests(tmp_path, database_url=reading))) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503 and "may not write" in ready.json()["reason"]
