"""Every change of stored records that people or auditors care about: one action each, one transaction each, with
its audit entry. Pages, the API and the command line only parse input, call one of these (or a query) and render.

- `handovers`: starting, filling in, the workflow (submit, endorse, return, acknowledge, approve, cancel),
  confirmations with read-backs, professional disagreements, and views of a handover;
- `cases`: cases and sibling groups, one at a time or imported from a CSV file;
- `people`: people and memberships, service accounts' API tokens, signing in and out, API requests;
- `drafts`: forms kept when a session had ended, saved once their author signs in again;
- `exports`: every export of the incomplete-handovers report;
- `urgent`: the head of service's urgent transfer, which moves a case before its handover is complete;
- `demo`: the demo data, made through the steps above;
- `checkpoints`: signing the audit chain's end into the database and the exported file (no audit entry of its own:
  one would move the end it records).

Bookkeeping that is not such a record (session files, sign-in throttle counters inside a sign-in) stays in the store;
`tests/test_layers.py` lists where each write lives.
"""

from __future__ import annotations

from service.actions.accounts import (
    Disabled,
    add_person,
    change_roles,
    create_service,
    disable_person,
    operator_id,
    reset_password,
    set_head_of_service,
    set_service_manager,
    set_team_service,
    vacant_posts,
)
from service.actions.allocations import record_allocations_export
from service.actions.cases import NewCase, create_case, create_sibling_group, import_cases
from service.actions.checkpoints import write_checkpoint
from service.actions.directory import ProviderSignIn, record_failed_provider_sign_in, sign_in_with_provider
from service.actions.drafts import keep_pending_draft, resume_pending_draft
from service.actions.exports import delivering, export_outcome, record_export
from service.actions.handovers import (
    Checklists,
    GroupView,
    HandoverView,
    act,
    actor_for,
    checklist_for,
    confirm_item,
    decide_disagreement,
    group_left_out,
    group_of,
    load,
    name_step_manager,
    parties_and_state,
    raise_disagreement,
    received_by,
    record_view,
    save_section,
    section_status,
    stale_key,
    start_group_handover,
    start_handover,
    step_help,
    visible,
    visible_group,
    visible_record,
    waiting_for,
)
from service.actions.people import (
    SignedIn,
    TeamRoles,
    create_person,
    issue_api_token,
    issue_personal_api_token,
    record_api_request,
    revoke_api_token,
    sign_in,
    sign_out,
)
from service.actions.records import correct_case
from service.actions.telling import (
    acknowledge_by_link,
    contact_for_link,
    email_agency,
    record_agency_not_told,
    record_agency_told,
    record_family_not_told,
    record_family_told,
)
from service.actions.urgent import authorise_urgent_transfer

__all__ = [
    "Checklists",
    "Disabled",
    "GroupView",
    "HandoverView",
    "NewCase",
    "ProviderSignIn",
    "SignedIn",
    "TeamRoles",
    "acknowledge_by_link",
    "act",
    "actor_for",
    "add_person",
    "authorise_urgent_transfer",
    "change_roles",
    "checklist_for",
    "confirm_item",
    "contact_for_link",
    "correct_case",
    "create_case",
    "create_person",
    "create_service",
    "create_sibling_group",
    "decide_disagreement",
    "delivering",
    "disable_person",
    "email_agency",
    "export_outcome",
    "group_left_out",
    "group_of",
    "import_cases",
    "issue_api_token",
    "issue_personal_api_token",
    "keep_pending_draft",
    "load",
    "name_step_manager",
    "operator_id",
    "parties_and_state",
    "raise_disagreement",
    "received_by",
    "record_agency_not_told",
    "record_agency_told",
    "record_allocations_export",
    "record_api_request",
    "record_export",
    "record_failed_provider_sign_in",
    "record_family_not_told",
    "record_family_told",
    "record_view",
    "reset_password",
    "resume_pending_draft",
    "revoke_api_token",
    "save_section",
    "section_status",
    "set_head_of_service",
    "set_service_manager",
    "set_team_service",
    "sign_in",
    "sign_in_with_provider",
    "sign_out",
    "stale_key",
    "start_group_handover",
    "start_handover",
    "step_help",
    "vacant_posts",
    "visible",
    "visible_group",
    "visible_record",
    "waiting_for",
    "write_checkpoint",
]
