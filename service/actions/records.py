"""Correcting a child's case record: an administrator's correction of the child's name, date of birth, reference or
sibling group, checked by the rules a new case is checked with, written in one transaction with its audit entry
(the old and new values, and who made it). Handovers read the record, so they show the correction at once.

Errors raised: `Invalid` (messages by field, or `record` for the record as a whole), `NotFound`.
"""

from __future__ import annotations

from typing import Any

from service import db
from service.core import case_records, validation
from service.core.case_records import Correction
from service.core.errors import Invalid, NotFound


def _changes(case: db.Case, correction: Correction, born: str) -> dict[str, dict[str, Any]]:
    """The fields the correction changes, each with its old and new value."""
    new: dict[str, Any] = {
        "reference": correction.reference.strip(),
        "child_name": correction.child_name.strip(),
        "date_of_birth": born,
        "sibling_group_id": correction.sibling_group_id,
    }
    old: dict[str, Any] = {
        "reference": case.reference,
        "child_name": case.child_name,
        "date_of_birth": case.date_of_birth,
        "sibling_group_id": case.sibling_group_id,
    }
    return {key: {"old": old[key], "new": new[key]} for key in new if new[key] != old[key]}


async def _group_handover_refusal(conn: db.Conn, case: db.Case, group: int | None) -> str | None:
    """Why the child cannot move into the new sibling group or out of the old one now: either group has a handover
    that is not finished (None: nothing stops the move)."""
    moves = [(case.sibling_group_id, False), (group, True)] if group != case.sibling_group_id else []
    for group_id, joining in moves:
        if group_id is not None and await db.open_group_handover(conn, group_id) is not None:
            named = await db.sibling_group(conn, group_id)
            name = named[1] if named else "the sibling group"
            return case_records.group_handover_open(case.child_name, name, joining=joining)
    return None


async def correct_case(
    database: db.Database,
    *,
    case_id: int,
    correction: Correction,
    by: int | None,
    boxes: bool = False,
    os_user: str | None = None,
) -> db.Case:
    """Correct the case record, unless it changed since the correction was begun (`correction.version`); returns the
    record as corrected. Nothing is written when anything is wrong. `boxes`: the date of birth came from a form's
    three boxes (`case_records.correction_errors`). `os_user`: the operating-system account, when the command line
    makes the correction (named in the audit entry beside the administrator `by`).

    A child cannot join or leave a sibling group while the group has a handover that is not finished: they would be
    part of it, or left out of it, with no reason recorded."""
    errors = case_records.correction_errors(correction, boxes=boxes)
    async with database.transaction() as conn:
        case = await db.case_by_id(conn, case_id)
        if case is None:
            raise NotFound(f"case {case_id}")
        key = validation.reference_key(correction.reference)
        changed_reference = key != validation.reference_key(case.reference)
        if "reference" not in errors and changed_reference and await db.case_by_reference_key(conn, key):
            errors["reference"] = validation.REFERENCE_TAKEN
        group = correction.sibling_group_id
        if group is not None and await db.sibling_group(conn, group) is None:
            errors["sibling_group"] = validation.NO_SUCH_SIBLING_GROUP
        elif group != case.sibling_group_id and case.open_handover_id is not None:
            errors["sibling_group"] = case_records.GROUP_WHILE_OPEN
        elif refusal := await _group_handover_refusal(conn, case, group):
            errors["sibling_group"] = refusal
        if case.version != correction.version:
            errors = {"record": case_records.STALE_CORRECTION}
        if errors:
            raise Invalid(errors)
        born = validation.iso_date(correction.date_of_birth)
        assert born is not None, "a checked date of birth is a real date"
        changes = _changes(case, correction, born.isoformat())
        if not changes:
            raise Invalid({"record": case_records.NOTHING_CHANGED})
        written = await db.correct_case(
            conn, case_id, correction.version, reference=correction.reference.strip(),
            child_name=correction.child_name.strip(), date_of_birth=born.isoformat(), sibling_group_id=group,
        )  # fmt: skip
        if not written:  # changed between the read above and this write: not in one transaction, but said the same
            raise Invalid({"record": case_records.STALE_CORRECTION})
        details: dict[str, Any] = {"changes": changes} | ({"os_user": os_user} if os_user else {})
        await db.append_audit(conn, by, "correct_case", "case", case_id, details)
        corrected = await db.case_by_id(conn, case_id)
    assert corrected is not None
    return corrected


__all__ = ["correct_case"]
