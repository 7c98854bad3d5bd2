"""Handovers on checklist version 4 (the first that records who has been told), brought to a state through the real
actions, with the professionals their multi-agency network lists."""

from __future__ import annotations

from typing import Any

from service.actions.demo import CASE_M_LIKE, naming_children
from service.checklist import Checklist
from tests.helpers import CHECKLISTS, complete, handover_in

V4: Checklist = CHECKLISTS[("case-transfer", 4)]

GP = {"agency": "gp", "name": "Dr Asha Khan", "role": "GP", "email": "asha.khan@surgery.example.org"}
SCHOOL = {"agency": "school", "name": "Tom Reed", "role": "Designated safeguarding lead", "email": ""}
TWO_PROFESSIONALS = [GP, SCHOOL]


def v4_answers(contacts: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Complete version 4 answers (Case M-like), the network listing `contacts` (default: a GP with an e-mail address
    and a school without one)."""
    network = {"contacts_rows": TWO_PROFESSIONALS if contacts is None else contacts}
    return naming_children(V4, complete(checklist=V4, **CASE_M_LIKE, network=network))


async def v4_handover(
    database: Any, world: Any, state: str, case: str = "c1", *, contacts: list[dict[str, str]] | None = None
) -> int:
    """A version 4 handover of `case` brought to `state` (out -> smgr -> rec -> rmgr) through the real actions
    (`handover_in`), its network listing `contacts` (default: `TWO_PROFESSIONALS`); on its way to "closed" the family
    and every professional are recorded as told (`tell_everyone`)."""
    network = {"contacts_rows": TWO_PROFESSIONALS if contacts is None else contacts}
    return await handover_in(database, world, state, case, answers={"network": network}, version=4)
