"""What every start form shares (a worker's own, a sibling group's, and a manager's from a caseload): reading the
receiving team, worker and reasons typed, and what the form needs to draw them (`components/start_fields.html`)."""

from __future__ import annotations

from typing import Any

from service import db
from service.actions.handovers import receiving_team_problem
from service.core import groups as group_rules
from service.web import forms

# The start form's "Continue" (without JavaScript): it redraws the form with the team chosen, and starts nothing.
CHOOSE_TEAM = "choose-team"
FIELDS = ("receiving_team", "receiver", "transfer_reason", group_rules.APART_FIELD)


# The labels of the questions every start form asks (`components/start_fields.html`), which its messages name too
RECEIVER_LABEL = "Receiving worker, if known"
REASON_LABEL = "Reason for the transfer"


def read(form: Any) -> dict[str, str]:
    """The start form's own answers as typed (each "" when not sent)."""
    return {key: str(form.get(key, "")) for key in FIELDS}


def repeats(form: Any, drawn: dict[str, Any], others: dict[str, str] | None = None) -> dict[str, str]:
    """The start form's single answers sent more than once (no page sends that; which was meant cannot be known, so
    nothing is started), each with its message, keyed by field: of the questions the form draws (`drawn`, as `fields`
    gives it: the worker only once a receiving team is chosen, why the siblings stay only for a child of a sibling
    group handed over alone); `others`: more of the form's single answers (a sibling group's reason for each child
    left out), name: label."""
    labels = {"receiving_team": drawn["team_label"]}
    if drawn["team"] is not None:
        labels["receiver"] = RECEIVER_LABEL
    labels["transfer_reason"] = REASON_LABEL
    if drawn["apart"] is not None:
        labels[drawn["apart"]["field"]] = drawn["apart"]["label"]
    return forms.sent_more_than_once(form, (others or {}) | labels)


def choosing_team(form: Any) -> bool:
    """Whether the form was sent by "Continue" to choose the team first (without JavaScript): nothing starts."""
    return bool(form.get("button") == CHOOSE_TEAM)


def receiver_id(values: dict[str, str]) -> int | None:
    """The receiving worker chosen: None for "not known yet" (an empty choice); anything else that is not an id names
    nobody (0), and is refused by the start rules."""
    return (forms.form_number(values["receiver"]) or 0) if values["receiver"].strip() else None


def team_id(values: dict[str, Any]) -> int | None:
    return forms.form_number(str(values.get("receiving_team", "")))


async def team_errors(reader: db.Conn, chosen: str, *, group: bool = False) -> dict[str, str]:
    """The message for a team chosen by "Continue" (or the page's script) that may not receive the case, or a
    sibling group's cases (`group`)."""
    wanted = forms.form_number(chosen)
    if wanted in {team.id for team in await db.receiving_teams(reader)}:
        return {}
    return {"receiving_team": await receiving_team_problem(reader, wanted, group=group)}


async def fields(
    reader: db.Conn,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    address: str,
    not_offered: set[int],
    team_label: str,
    receiver_hint: str,
    reason_hint: str,
    what: str = "case",
    apart: bool = False,
) -> dict[str, Any]:
    """What `receiving_fields` draws: only the teams with a worker to take the case on (`db.receiving_teams`), the
    workers of the team chosen but those in `not_offered`, and, with `apart`, the box for why a child of a sibling
    group is handed over without their siblings."""
    teams = await db.receiving_teams(reader)
    chosen = next((team for team in teams if str(team.id) == str(values.get("receiving_team", "")).strip()), None)
    workers = [] if chosen is None else await db.team_workers(reader, chosen.id)
    return {
        "values": values,
        "errors": errors,
        "teams": teams,
        "team": chosen,
        "workers": [(worker_id, name) for worker_id, name in workers if worker_id not in not_offered],
        "address": address,
        "choose_team": CHOOSE_TEAM,
        "team_label": team_label,
        "receiver_hint": receiver_hint,
        "reason_hint": reason_hint,
        "receiver_label": RECEIVER_LABEL,
        "reason_label": REASON_LABEL,
        "what": what,
        "apart": {
            "field": group_rules.APART_FIELD,
            "label": group_rules.APART_LABEL,
            "hint": group_rules.APART_HINT,
            "limit": group_rules.APART_REASON_MAX,
        }
        if apart
        else None,
    }
