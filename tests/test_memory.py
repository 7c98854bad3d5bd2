"""Requests are freed as soon as they finish: no reference cycles through the request or its scope.

A cycle keeps a request and everything its scope holds (the person, headers, form, rendered context) alive until
the garbage collector's next full pass, and under load those passes grow long and stall every request in flight.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.conftest import Site
from tests.helpers import CASE_M_LIKE, act, complete, fill_all, form_for, section, start, submit, version_in
from tests.test_api import call, new_case, tokens

pytestmark = pytest.mark.anyio


@contextmanager
def cyclic_garbage() -> Iterator[list[Any]]:
    """The objects that only the cycle collector could free, made inside the block."""
    gc.collect()
    found: list[Any] = []
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.extend(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def a_cycle(garbage: list[Any]) -> str:
    """One reference cycle among the server's garbage, named type by type, to say where to look."""
    ours = [thing for thing in garbage if type(thing).__module__.startswith(("litestar", "service", "jinja2"))]
    ids = {id(thing) for thing in garbage}
    for first in ours:
        came_from: dict[int, Any] = {id(first): None}
        queue = deque([first])
        while queue:
            thing = queue.popleft()
            for referent in gc.get_referents(thing):
                if referent is first:
                    path = [thing]
                    while came_from[id(path[-1])] is not None:
                        path.append(came_from[id(path[-1])])
                    return " -> ".join(_name(step) for step in reversed(path))
                if id(referent) in ids and id(referent) not in came_from:
                    came_from[id(referent)] = thing
                    queue.append(referent)
    return "no cycle found"


def _name(thing: Any) -> str:
    if isinstance(thing, dict):
        return f"dict{sorted(map(str, thing))[:6]}"
    return getattr(thing, "__qualname__", None) or type(thing).__qualname__


def served_by_us(garbage: list[Any]) -> list[str]:
    """Names of the server side's objects in the garbage (the test client's own cycles are not ours)."""
    names = []
    for thing in garbage:
        module = type(thing).__module__ or ""
        if module.startswith(("litestar", "service", "jinja2", "msgspec")):
            names.append(f"{module}.{type(thing).__qualname__}")
        elif isinstance(thing, dict) and "asgi" in thing and "type" in thing:
            names.append("an ASGI scope")
    return sorted(set(names))


async def check(name: str, request: Callable[[], Awaitable[Any]], status: int = 200) -> None:
    await request()  # the first use fills what lives as long as the app (compiled templates, statement cache)
    with cyclic_garbage() as garbage:
        response = await request()
    assert response.status_code == status, (name, response.text[:500])
    assert served_by_us(garbage) == [], f"{name}: {a_cycle(garbage)}"


async def test_requests_along_a_handover_leave_no_reference_cycles(site: Site) -> None:
    world = site.world
    out, smgr, rec, aud = [await site.as_user(name) for name in ("out", "smgr", "rec", "aud")]
    handover_id = await start(out, world.cases["mia"], world.teams["cp"], world.users["rec"])
    base = f"/handovers/{handover_id}"
    risks = section("open-risks")

    async def save() -> Any:
        page = await out.get(f"{base}/sections/open-risks")
        form = form_for(risks, complete(**CASE_M_LIKE)["open-risks"], version=int(version_in(page.text, "version")))
        return await out.post(f"{base}/sections/open-risks", form)

    await check("ping", lambda: out.get("/ping"))
    await check("dashboard", lambda: out.get("/"))
    await check("task list", lambda: out.get(base))
    await check("section page", lambda: out.get(f"{base}/sections/open-risks"))
    await check("section save", save, 303)
    await check("a save from an old page", lambda: out.post(f"{base}/sections/open-risks", {"version": "0"}), 409)
    await fill_all(out, handover_id)
    assert (await submit(out, handover_id)).status_code == 303
    await check("queue", lambda: smgr.get("/queue"))
    await check("view", lambda: smgr.get(f"{base}/view"))
    assert (await act(smgr, handover_id, "endorse")).status_code == 303
    await check("inbox", lambda: rec.get("/inbox"))
    await check("review", lambda: rec.get(f"{base}/review"))
    await check("report", lambda: aud.get("/audit/incomplete"))
    await check("report export", lambda: aud.get("/audit/incomplete/csv"))
    await check("a handover that is not there", lambda: rec.get("/handovers/999999/view"), 404)
    await check("a page for someone else", lambda: aud.get("/inbox"), 403)


async def test_api_calls_leave_no_reference_cycles(site: Site) -> None:
    issued = await tokens(site)
    handover = await call(site, issued["api_out"], "POST", f"/cases/{await new_case(site)}/handovers",
                          {"receiving_team_id": site.world.teams["cp"], "transfer_reason": "Step-up"})  # fmt: skip
    assert handover.status_code == 201, handover.text
    await check("api read", lambda: call(site, issued["api_out"], "GET", f"/handovers/{handover.json()['id']}"))
    await check("api list", lambda: call(site, issued["svc_aud"], "GET", "/handovers"))
