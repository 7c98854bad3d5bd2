"""A field the API does not know, in any request body and at any depth, is refused by name: a misspelt key never
saves a section or a step without what it was meant to carry."""

from __future__ import annotations

import re
from typing import Any

import pytest

from service import db
from service.web.api_errors import UNKNOWN_FIELD_MESSAGE
from tests.conftest import Site
from tests.helpers import handover_in
from tests.test_api import call, error_shape, tokens

pytestmark = pytest.mark.anyio
UNKNOWN = "not_a_field_of_this_body"


def operations_with_bodies(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """(method, path) of every operation of the API's OpenAPI document that takes a JSON body."""
    return [
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]


async def stored(site: Site) -> tuple[Any, ...]:
    """Everything a body could change, counted: the audit trail grows with every change of stored state (and with
    every use of a token, which is not a change)."""
    row = await site.db.reader.execute_fetchall(
        "SELECT (SELECT COUNT(*) FROM audit_log WHERE action <> 'api_request'), (SELECT COUNT(*) FROM handovers),"
        " (SELECT COUNT(*) FROM cases),"
        " (SELECT COALESCE(SUM(version), 0) FROM sections), (SELECT COALESCE(SUM(version), 0) FROM handovers)"
    )
    return tuple(row[0])


@pytest.mark.parametrize("nested", [False, True], ids=["at the top", "inside the answers"])
async def test_every_body_refuses_a_field_it_does_not_know(site: Site, nested: bool) -> None:
    issued = await tokens(site)
    handover_id = await handover_in(site.db, site.world, "draft", "c1")
    schema = (await site.client.get("/schema/openapi.json")).json()
    operations = operations_with_bodies(schema)
    assert len(operations) >= 10, "every operation with a body is walked"
    ids = {"handover_id": handover_id, "case_id": site.world.cases["c1"], "section_id": "childs-views",
           "group_id": 1, "name": "submit"}  # fmt: skip
    for method, path in operations:
        url = re.sub(r"{(\w+)}", lambda m: str(ids.get(m.group(1), 1)), path.removeprefix("/api/v1"))
        body: dict[str, Any] = {UNKNOWN: "x"}
        if nested and "/sections/" in path:
            body = {"answers": {UNKNOWN: {}, "values": {}}, "base_version": 1}
        elif nested:
            continue
        before = await stored(site)
        answers = [await call(site, token, method, url, body) for token in issued.values()]
        assert all(a.status_code >= 400 for a in answers), (method, path, [a.status_code for a in answers])
        refused = [a for a in answers if a.status_code == 422]
        assert refused, f"{method} {path}: nobody was let through to the body ({[a.status_code for a in answers]})"
        field = f"answers.{UNKNOWN}" if nested else UNKNOWN
        for answer in refused:
            assert {"field": field, "message": UNKNOWN_FIELD_MESSAGE} in error_shape(answer, 422, "invalid")["details"]
        assert await stored(site) == before, f"{method} {path} stored something"
    assert await db.schema_version(site.db.reader) > 0
