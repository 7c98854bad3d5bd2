"""Handovers on checklist version 4 (the first that records who has been told), brought to a state through the real
actions, with the professionals their multi-agency network lists."""

from __future__ import annotations

from typing import Any

from service.actions.demo import CASE_M_LIKE, naming_children
from service.checklist import Checklist
from tests.helpers import APART, CHECKLISTS, STEPS_TO, actor, complete, on_record, tell_everyone

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
    """A version 4 handover of `case` brought to `state` (out -> smgr -> rec -> rmgr) through the real actions; on its
    way to "closed" the family and every professional are recorded as told (`tell_everyone`)."""
    from service import actions
    from service.core.workflow import Action

    people = {name: await actor(database, world, name) for name in ("out", "smgr", "rec", "rmgr")}
    handover_id = await actions.start_handover(
        database, people["out"], V4, case_id=world.cases[case], receiving_team_id=world.teams["cp"],
        receiver_id=world.users["rec"], transfer_reason="Step-up", apart_reason=APART,
    )  # fmt: skip
    given = await on_record(database, handover_id, v4_answers(contacts))
    for section_id, section_answers in given.items():
        await actions.save_section(
            database, CHECKLISTS, people["out"], handover_id, section_id, section_answers, 0, finished=True
        )
    moves = {"submit": ("out", Action.SUBMIT), "return": ("smgr", Action.RETURN_TO_OUTGOING),
             "endorse": ("smgr", Action.ENDORSE), "acknowledge": ("rec", Action.ACKNOWLEDGE),
             "approve": ("rmgr", Action.APPROVE), "cancel": ("out", Action.CANCEL)}  # fmt: skip
    for step in STEPS_TO[state]:
        who, action = moves[step]
        view = await actions.load(database.reader, CHECKLISTS, handover_id)
        assert view is not None
        if action == Action.APPROVE:
            await tell_everyone(database, people["out"], handover_id)
        if action == Action.ACKNOWLEDGE:
            for item in view.critical_sections():
                await actions.confirm_item(
                    database, CHECKLISTS, people["rec"], handover_id, item.id, view.handover.version,
                    understood=True, readback="I take on these risks and the plan to manage them.",
                )  # fmt: skip
        await actions.act(database, CHECKLISTS, people[who], handover_id, action, view.handover.version, "Because")
    return handover_id
